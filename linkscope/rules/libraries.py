"""LS401 library not found, LS402 not known to be present, LS403 shadowing, LS404 build-machine
RPATH/RUNPATH."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from linkscope.advice import missing_library_fix
from linkscope.model import BinaryFacts, Finding, Severity
from linkscope.resolve import Node, Origin, World
from linkscope.resolve.loader import MissingLibrary
from linkscope.rules.base import (
    Context,
    Rule,
    image_library_fix,
    is_image,
    named,
    need,
    spare_in_image,
    system_name,
    unused_runtime_duplicate,
)

LAMBDA_PREFIXES = (
    "/var/task",
    "/opt",
    "/var/lang",
    "/var/runtime",
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
)


def _musl_libc(name: str) -> bool:
    # Explained by LS202 (dynamic musl); reporting the missing musl libc again adds nothing.
    return name == "libc.so" or name.startswith(("libc.musl-", "ld-musl-"))


def _missing(world: World) -> Iterator[MissingLibrary]:
    seen: set[tuple[str, str]] = set()
    for item in world.placed:
        if item.resolution is None:
            continue
        for missing in item.resolution.missing:
            if (missing.requester, missing.name) not in seen and not _musl_libc(missing.name):
                seen.add((missing.requester, missing.name))
                yield missing


def _unknown(world: World, missing: MissingLibrary) -> bool:
    """Not found, but linkscope's list of the runtime's libraries cannot tell. A file ld.so
    refuses is a certain failure: it stops there and never looks at the runtime's folders."""
    return not missing.refused and world.system.unknown_part(missing.name) is not None


def _elsewhere(world: World, missing: MissingLibrary) -> str:
    copies = [n.location for n in world.bundle.named(missing.name)]
    if not copies:
        return ""
    return (
        f" A copy is in the package at {', '.join(copies[:3])}, but not on the search path"
        " (the package's lib/ folder, /opt/lib, or the binary's RUNPATH)."
    )


def _refused(world: World, missing: MissingLibrary) -> Finding:
    return MISSING.finding(
        missing.requester,
        f"{named(missing.requester)} needs {missing.name}, and the first file the loader finds "
        f"under that name, {missing.refused_file}, is one it refuses ({missing.refused}): it "
        "stops there without looking further, and the function fails with `error while loading "
        f"shared libraries: {missing.name}: {missing.refused}`.",
        f"Put the real shared library at {missing.refused_file}, or remove that file (a linker "
        "script, an executable or another non-library under a library's name) so the search "
        "reaches the library.",
        library=missing.name,
    )


def check_missing(world: World, ctx: Context) -> Iterator[Finding]:
    for missing in _missing(world):
        if missing.refused:
            yield _refused(world, missing)
            continue
        if _unknown(world, missing):
            continue
        unusable = (
            f" ({', '.join(missing.unusable)} is for another architecture)"
            if missing.unusable
            else ""
        )
        what = (
            f"{named(missing.requester)} needs {missing.name}, which "
            f"{system_name(world)} does not have"
            f"{'' if is_image(world) else ' and the package does not provide'}{unusable}"
        )
        duplicate = unused_runtime_duplicate(missing.requester, world)
        if duplicate is not None:  # a bundled copy that the runtime's own copy shadows
            yield MISSING.finding(
                missing.requester,
                f"{what}. This bundled copy is not loaded by anything in the package, and a "
                f"program asking for it gets the runtime's {duplicate} first, so it cannot "
                "stop the function; it is dead weight unless something loads it by path.",
                "Remove it, or bundle what it needs too.",
                severity=Severity.WARNING,
                library=missing.name,
            )
            continue
        yield MISSING.finding(
            missing.requester,
            f"{what}: it fails with `{missing.name}: cannot open shared "
            f"object file`.{_elsewhere(world, missing)}",
            _library_fix(world, missing.name, missing.requester),
            library=missing.name,
            severity=Severity.WARNING if spare_in_image(world, missing.requester) else None,
        )


def check_unknown(world: World, ctx: Context) -> Iterator[Finding]:
    for missing in _missing(world):
        if not _unknown(world, missing):
            continue
        yield UNKNOWN.finding(
            missing.requester,
            f"{named(missing.requester)} needs {missing.name}, which the package does not "
            f"provide; {world.system.unknown_part(missing.name)}, so linkscope cannot tell "
            f"whether {world.target.runtime.name} has it.{_elsewhere(world, missing)}",
            _library_fix(world, missing.name, missing.requester)
            + " Or check against the real image with "
            "`--sysroot`.",
            severity=Severity.ERROR if ctx.strict else Severity.WARNING,
            library=missing.name,
        )


def check_shadowing(world: World, ctx: Context) -> Iterator[Finding]:
    if is_image(world):
        return  # an image has one filesystem: the search order it has is the one it runs with
    seen: set[tuple[str, str]] = set()
    for item in world.placed:
        if item.resolution is None:
            continue
        for requester, name, provider in item.resolution.chosen:
            other = _other_copy(world, name, provider)
            if other is None or (requester, name) in seen:
                continue
            seen.add((requester, name))
            if provider.origin.bundled:
                message = (
                    f"{named(requester)} loads the bundled {provider.location}, which "
                    f"shadows the runtime's own {other.path}."
                )
            else:
                source = (
                    "the language runtime"
                    if provider.origin is Origin.LANGUAGE
                    else system_name(world)
                    if world.target.sysroot
                    else "the runtime"
                )
                message = (
                    f"{named(requester)} loads {provider.path} from {source}, "
                    f"not the bundled {other.location}: "
                    f"{posixpath.dirname(provider.path)} comes first on the search path."
                )
            yield SHADOW.finding(
                requester,
                message,
                "Make the choice explicit: to use the bundled copy, link with "
                "DT_RPATH (`-Wl,-rpath,'$ORIGIN/lib' -Wl,--disable-new-dtags`: "
                "ld.so searches RPATH before LD_LIBRARY_PATH, RUNPATH after it); "
                "otherwise remove it.",
                library=name,
            )


def _other_copy(world: World, name: str, provider: Node) -> Node | None:
    if provider.origin.bundled:
        return world.system_copy(name, language=True)
    copies = [n for n in world.bundle.named(name) if n.facts is not None]
    return copies[0] if copies else None


def _on_lambda(entry: str) -> bool:
    """A RPATH/RUNPATH entry that means something on Lambda: `$ORIGIN`-relative, or inside one
    of Lambda's folders (whole folder names: /optbuild/lib and /library are not /opt, /lib)."""
    first = entry.split("/", 1)[0]
    if first in ("$ORIGIN", "${ORIGIN}"):
        return True
    path = posixpath.normpath(entry) if entry.startswith("/") else ""
    return any(path == p or path.startswith(p + "/") for p in LAMBDA_PREFIXES)


def check_build_paths(world: World, ctx: Context) -> Iterator[Finding]:
    if is_image(world):
        return  # inside an image, an absolute RUNPATH names the image's own folders
    for item in world.placed:
        facts = item.facts
        entries = [
            (kind, entry)
            for kind, values in (("RPATH", facts.rpath), ("RUNPATH", facts.runpath))
            for entry in values
        ]
        for kind, entry in entries:
            if _on_lambda(entry):
                continue
            yield BUILD_PATH.finding(
                facts.path,
                f"{named(facts.path)} has {kind} {entry}, a path from the build machine that does "
                "not exist on Lambda; libraries are not looked for there.",
                "Use `$ORIGIN`-relative paths (`-Wl,-rpath,'$ORIGIN/lib'`, or `patchelf "
                "--set-rpath '$ORIGIN/lib'`).",
            )


MISSING = Rule(
    id="LS401",
    title="needed library not found",
    severity=Severity.ERROR,
    help="Neither the runtime, the function nor its layers have the library.",
    check=check_missing,
)
UNKNOWN = Rule(
    id="LS402",
    title="needed library not known to be present",
    severity=Severity.WARNING,
    help="No listing covers where the library would be (AL2 on arm64, the /var/lang/lib of "
    "some language runtimes); --strict makes this an error.",
    check=check_unknown,
)
SHADOW = Rule(
    id="LS403",
    title="a bundled library shadows the runtime's copy (or is shadowed)",
    severity=Severity.WARNING,
    help="Two copies of one soname; the search order decides which one loads.",
    check=check_shadowing,
)
BUILD_PATH = Rule(
    id="LS404",
    title="RPATH/RUNPATH pointing outside the package",
    severity=Severity.WARNING,
    help="An absolute build-machine path in RPATH or RUNPATH.",
    check=check_build_paths,
)
RULES = (MISSING, UNKNOWN, SHADOW, BUILD_PATH)


def _requester(world: World, location: str) -> BinaryFacts | None:
    return next((p.facts for p in world.placed if p.node.location == location), None)


def _library_fix(world: World, name: str, requester: str) -> str:
    """For an image the image must carry the library; else the package's lib/ or a layer."""
    if is_image(world):
        return image_library_fix(name, world)
    return missing_library_fix(name, _requester(world, requester), need(world))
