"""LS002 no bootstrap, LS003 permissions, LS004 script bootstraps and extensions that cannot be
started, LS005 deployment size limits: the rules about the package, not about one ELF file.

"Start files" are what Lambda itself executes: the bootstrap of an OS-only runtime (the first of
/var/task/bootstrap, /opt/bootstrap that exists), every file in /opt/extensions/, and on go1.x
(which runs the Handler file, whose name linkscope is not told) every ELF executable of the
function."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from linkscope.model import EntryKind, Finding, ScannedPackage, Severity
from linkscope.resolve import World
from linkscope.rules.base import Context, Rule, is_image, named
from linkscope.rules.permissions import PERMISSIONS
from linkscope.rules.scripts import START_FORMAT
from linkscope.rules.startfiles import bootstrap_applies, function_package, selected_bootstrap


def check_bootstrap(world: World, ctx: Context) -> Iterator[Finding]:
    if not world.target.runtime.os_only and not is_image(world):
        from linkscope.rules.handlers import handler_findings

        yield from handler_findings(world, NO_BOOTSTRAP)
        return
    if not bootstrap_applies(world) or selected_bootstrap(world) is not None:
        return
    function = function_package(world)
    search = world.target.environment.bootstrap_search
    why = [_why_not(world, path) for path in search]
    hints = [w for w in why if w] + _near_misses(function)
    layer_hint = (
        ""
        if world.layers
        else " If the runtime comes from a layer (Bref, a custom "
        "runtime layer), attach the layer to the function, and pass it here with "
        "`--layer`."
    )
    yield NO_BOOTSTRAP.finding(
        function.source,
        f"{named(function.source)} has no `bootstrap` where {world.target.runtime.name} looks for "
        f"it ({', '.join(search)}): Lambda fails with `Couldn't find valid bootstrap(s): "
        f"[{' '.join(search)}]` (Runtime.InvalidEntrypoint)." + "".join(f" {h}" for h in hints),
        "Put an executable named `bootstrap` at the root of the zip (zip the folder's contents, "
        "not the folder), or in a layer's root." + layer_hint,
    )


def _why_not(world: World, path: str) -> str:
    target = world.bundle.link_target(path)
    if target is not None:
        return (
            f"{path} is a symlink to {target}, which is missing or outside the package "
            "(linkscope follows links only inside the package that holds them)."
        )
    prefix = path + "/"
    if any(p.startswith(prefix) for p in world.bundle.nodes):
        return f"{path} is a folder, not a file."
    return ""


def _near_misses(function: ScannedPackage) -> list[str]:
    names = [
        e.inner
        for e in function.entries
        if e.kind is not EntryKind.DIRECTORY
        and re.fullmatch(r"(?i)bootstrap(\.\w+)?", posixpath.basename(e.inner))
        and e.inner != "bootstrap"
    ]
    if not names:
        return []
    return [
        f"The package has {', '.join(names[:3])}: Lambda looks only for `bootstrap` at the "
        "root, named exactly so."
    ]


def check_limits(world: World, ctx: Context) -> Iterator[Finding]:
    if is_image(world):
        return  # LS705: an image has its own limits
    limits, function = world.target.limits, function_package(world)
    packages = (*world.function, *world.layers)
    total = sum(
        e.size
        for p in packages
        for e in p.entries
        if e.kind is not EntryKind.DIRECTORY and e.size > 0
    )
    if total > limits.unzipped_bytes:
        yield LIMITS.finding(
            function.source,
            f"{named(function.source)} unzips to {_mb(total)}"
            + (f" with its {len(world.layers)} layer(s)" if world.layers else "")
            + f"; Lambda allows {_mb(limits.unzipped_bytes)} unzipped, layers included: the "
            "deploy is rejected.",
            "Move large dependencies out (a container image allows 10 GB), strip binaries "
            "(`strip`, `-s`), or drop unused files.",
        )
    if len(world.layers) > limits.layers:
        yield LIMITS.finding(
            function.source,
            f"{len(world.layers)} layers are given; a function can use at most {limits.layers}.",
            "Merge layers.",
        )
    for package in packages:
        if package.zipped_size is not None and package.zipped_size > limits.zipped_bytes:
            # A warning: 50 MB is the limit for direct upload; through S3 a bigger zip deploys,
            # as long as the unzipped total fits (checked above).
            yield LIMITS.finding(
                package.source,
                f"{named(package.source)} is {_mb(package.zipped_size)} zipped; a direct upload "
                f"allows {_mb(limits.zipped_bytes)}.",
                "Upload it through S3 (`--s3-bucket`; SAM and CDK do), or make it smaller.",
                severity=Severity.WARNING,
            )


def _mb(size: int) -> str:
    return f"{size / (1 << 20):.1f} MB"


NO_BOOTSTRAP = Rule(
    id="LS002",
    title="no bootstrap where Lambda looks for it",
    severity=Severity.ERROR,
    help="OS-only runtimes run /var/task/bootstrap, else /opt/bootstrap from a layer.",
    check=check_bootstrap,
)


LIMITS = Rule(
    id="LS005",
    title="package over Lambda's size limits",
    severity=Severity.ERROR,
    help="50 MB zipped (direct upload), 250 MB unzipped with layers, 5 layers.",
    check=check_limits,
)


RULES = (NO_BOOTSTRAP, PERMISSIONS, START_FORMAT, LIMITS)
