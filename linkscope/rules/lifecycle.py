"""LS501 deprecated or blocked runtime, LS503 kernel newer than Lambda's."""

from __future__ import annotations

from collections.abc import Iterator

from linkscope.model import Finding, Severity, version_key
from linkscope.resolve import World
from linkscope.rules.base import Context, Rule, named


def check_deprecation(world: World, ctx: Context) -> Iterator[Finding]:
    runtime = world.target.runtime
    path = world.function[0].source if world.function else runtime.name
    if runtime.blocked or (runtime.block_update and ctx.today >= runtime.block_update):
        yield DEPRECATED.finding(
            path,
            f"{runtime.name} is blocked for function updates"
            + (f" since {runtime.block_update}" if runtime.block_update else "")
            + ": a deploy to it fails.",
            _upgrade(world),
            severity=Severity.ERROR,
        )
    elif runtime.block_create and ctx.today >= runtime.block_create:
        yield DEPRECATED.finding(
            path,
            f"{runtime.name} is deprecated and new functions cannot be created on it since "
            f"{runtime.block_create}; updates are blocked from "
            f"{runtime.block_update or 'a date AWS has not published'}.",
            _upgrade(world),
        )
    elif runtime.deprecation and ctx.today >= runtime.deprecation:
        yield DEPRECATED.finding(
            path,
            f"{runtime.name} is deprecated since {runtime.deprecation} (no more security "
            f"patches); creating functions is blocked from "
            f"{runtime.block_create or 'a date not yet published'}.",
            _upgrade(world),
        )


def _upgrade(world: World) -> str:
    family = world.target.runtime.family
    if family == "provided" or world.target.runtime.name == "go1.x":
        return "Move to provided.al2023 (glibc 2.34): `linkscope check --runtime provided.al2023`."
    return f"Move to the newest {family} runtime (`linkscope runtimes`)."


def check_kernel(world: World, ctx: Context) -> Iterator[Finding]:
    kernel = world.target.os.kernel
    if not kernel:
        return
    for item in world.placed:
        needed = item.facts.toolchain.min_kernel
        if needed and _newer_kernel(needed, kernel):
            yield KERNEL.finding(
                item.facts.path,
                f"{named(item.facts.path)} declares (in .note.ABI-tag) that it needs Linux "
                f"{needed} or newer; the newest kernel documented for Lambda is {kernel}: glibc "
                "refuses to start it with `FATAL: kernel too old`.",
                "Build with a glibc configured for an older kernel (the runtime's build image), "
                "or link statically against musl.",
            )


def _newer_kernel(needed: str, kernel: str) -> bool:
    """Compare at the profile's precision: the profile's "4.14" is any 4.14.x, so a binary that
    asks for 4.14.0 (or 4.14.5) fits, while 4.15 or 5.10.0 does not."""
    have = version_key(kernel)
    want = version_key(needed)[: len(have)]
    return want > have + (0,) * (len(want) - len(have))


DEPRECATED = Rule(
    id="LS501",
    title="deprecated runtime, or past a block date",
    severity=Severity.WARNING,
    help="AWS deprecates runtimes, then blocks creating and updating functions.",
    check=check_deprecation,
)
KERNEL = Rule(
    id="LS503",
    title="needs a newer kernel than Lambda's",
    severity=Severity.ERROR,
    help="The minimum kernel in .note.ABI-tag is above Lambda's.",
    check=check_kernel,
)
RULES = (DEPRECATED, KERNEL)
