"""LS613 npm package for another platform, or the platform package that a package loads at
run time missing for this runtime; a command-line tool's program for another platform is a
warning. Facts: `package.json` files (linkscope/ecosystems/npm.py), where each package's loader
looks for its prebuilt addons (linkscope/ecosystems/node_builds.py), the members' kinds."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from linkscope.ecosystems.node import NodePackage
from linkscope.ecosystems.node_builds import (
    BuildPlace,
    NodeTarget,
    build_place,
    node_fits,
    node_target,
    platform_fits,
)
from linkscope.ecosystems.npm import (
    MissingPlatform,
    NpmPackage,
    Platform,
    lambda_platform,
    missing_platform_packages,
    platform_in_name,
    platform_mismatch,
    platform_programs,
)
from linkscope.model import EntryKind, Finding, ScannedPackage, Severity
from linkscope.packaging_fixes import npm_install_fix
from linkscope.profiles.languages import NodeFacts, language_facts
from linkscope.resolve import World
from linkscope.rules.base import Context, Rule, named, need

NATIVE_KINDS = (EntryKind.ELF, EntryKind.NATIVE)


def node_packages(world: World) -> Iterator[tuple[ScannedPackage, NodePackage]]:
    for package in (*world.function, *world.layers):
        part = package.ecosystems.part(NodePackage)
        if part is not None and (part.addons or part.packages):
            yield package, part


def check_platform_packages(world: World, ctx: Context) -> Iterator[Finding]:
    if _is_node(world) is None and not any(
        p.ecosystems.language == "nodejs" for p in world.function
    ):
        return
    platform = lambda_platform(world.target.arch)
    for package, part in node_packages(world):
        locations = {m.inner: m.location for m in package.metadata}
        natives = [e.inner for e in package.entries if e.kind in NATIVE_KINDS]
        for missing in missing_platform_packages(part.packages, platform):
            programs = platform_programs(missing, part.packages, natives)
            if programs:
                yield _missing_program(missing, programs, locations, world)
            else:
                yield _missing(missing, locations, world)
        yield from _mismatched(package, part, world)
        yield from _missing_prebuilds(package, part, world)
        yield from _never_built(package, part, world)


def json_location(package: NpmPackage, locations: dict[str, str]) -> str:
    inner = f"{package.folder}/package.json" if package.folder else "package.json"
    return locations.get(inner, inner)


def _missing_program(
    missing: MissingPlatform, programs: tuple[str, ...], locations: dict[str, str], world: World
) -> Finding:
    """A command-line tool (esbuild, biome) installed with another platform's program: its
    command cannot run on Lambda, and only a handler that runs it at run time fails."""
    package = missing.package
    path = json_location(package, locations)
    platform = lambda_platform(world.target.arch)
    return PLATFORM.finding(
        path,
        f"{named(path)}: {package.name} runs a program from its platform package, and none for "
        f"{platform.label} is installed (it would use {', '.join(missing.wanted[:3])}; "
        f"installed are {', '.join(missing.installed)}, holding `{programs[0]}`): the "
        f"`{package.name}` command cannot run on Lambda, and a handler that calls "
        f"{package.name} at run time fails (`require('{package.name}')` itself may work).",
        f"If the function runs {package.name} at run time: "
        + npm_install_fix(need(world), package.name, package.version)
        + f" If {package.name} is only a build tool, keep it out of the function: list it in "
        "devDependencies and install with `npm ci --omit=dev`.",
        severity=Severity.WARNING,
    )


def _missing(missing: MissingPlatform, locations: dict[str, str], world: World) -> Finding:
    package = missing.package
    path = json_location(package, locations)
    platform = lambda_platform(world.target.arch)
    installed = f"; installed are {', '.join(missing.installed)}" if missing.installed else ""
    if not missing.wanted:
        return PLATFORM.finding(
            path,
            f"{named(path)}: {package.name} loads a platform package at run time, and none "
            f"of its optional ones is for {platform.label}: it cannot load its native code on "
            "Lambda.",
            "Check whether this version supports Linux on this architecture; a newer one may.",
            severity=Severity.WARNING,
        )
    return PLATFORM.finding(
        path,
        f"{named(path)}: {package.name} loads a platform package at run time, and none for "
        f"{platform.label} is installed (it would use {', '.join(missing.wanted[:3])}"
        f"{installed}): `require('{package.name}')` fails on Lambda.",
        npm_install_fix(need(world), package.name, package.version),
    )


def _mismatched(package: ScannedPackage, part: NodePackage, world: World) -> Iterator[Finding]:
    """Installed packages whose os/cpu/libc exclude Lambda's platform and that carry native
    code, other than a loader's platform packages (`fsevents` from a Mac): a warning."""
    platform = lambda_platform(world.target.arch)
    holding = {a.package.folder for a in part.addons if a.package is not None}
    loaded_by = {dep for npm in part.packages for dep in npm.optional}
    locations = {m.inner: m.location for m in package.metadata}
    for npm in part.packages:
        why = platform_mismatch(npm, platform)
        if why is None or npm.folder not in holding:
            continue
        if npm.name in loaded_by:
            continue  # a loader's platform package: the loader's own finding speaks for it
        path = json_location(npm, locations)
        yield PLATFORM.finding(
            path,
            f"{named(path)}: {npm.name} is for {why} (its package.json), not for "
            f"{platform.label}: nothing on Lambda can load its native code.",
            npm_install_fix(need(world), None, None),
            severity=Severity.WARNING,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Unloadable:
    """A package whose addons are all prebuilds, none of which its loader picks on Lambda."""

    package: NpmPackage
    path: str  # its package.json, as the report names it
    places: list[BuildPlace]
    fallback: str | None  # its JavaScript fallback (bufferutil's `fallback.js`), if any
    compiles: bool  # it has a binding.gyp: npm's install compiles it where scripts run


def unloadable(
    package: ScannedPackage, part: NodePackage, platform: Platform, node: NodeTarget | None
) -> Iterator[Unloadable]:
    """Packages whose addons are all prebuilds (no `build/Release` one), none of which their
    loader picks on Lambda."""
    by_package: dict[str, list[str]] = {}
    for addon in part.addons:
        if addon.package is not None:
            by_package.setdefault(addon.package.folder, []).append(addon.inner)
    locations = {m.inner: m.location for m in package.metadata}
    inners = {e.inner for e in package.entries}
    for folder, addons in sorted(by_package.items()):
        places = [build_place(i) for i in addons]
        known = [p for p in places if p is not None]
        if len(known) < len(places):
            continue  # an addon that is no prebuild (build/Release) may be the one loaded
        if any(platform_fits(p, platform) and node_fits(p, platform, node) for p in known):
            continue
        npm = next(p for p in part.packages if p.folder == folder)
        fallback = f"{folder}/fallback.js"
        yield Unloadable(
            package=npm,
            path=json_location(npm, locations),
            places=known,
            fallback=fallback if fallback in inners else None,
            compiles=f"{folder}/binding.gyp" in inners,
        )


def unloadable_consequence(found: Unloadable) -> tuple[str, Severity]:
    """What happens at `require`, and how bad it is: an error, unless the package catches
    the failure and uses its JavaScript fallback (bufferutil, utf-8-validate)."""
    if found.fallback is not None:
        name = found.fallback.rsplit("/", 1)[-1]
        return f"it then uses its JavaScript fallback (`{name}`), which works, slower", (
            Severity.WARNING
        )
    return f"`require('{found.package.name}')` fails", Severity.ERROR


def _missing_prebuilds(
    package: ScannedPackage, part: NodePackage, world: World
) -> Iterator[Finding]:
    """Prebuilt addons (`prebuilds/<platform>-<arch>/`, `bin/<platform>-<arch>-node-<N>/`...)
    with none for Lambda's platform and no `build/Release` addon: node-gyp-build fails with
    `No native build was found`, other loaders with `Cannot find module`."""
    platform = lambda_platform(world.target.arch)
    node = node_target(world.target.runtime.name)
    for found in unloadable(package, part, platform, node):
        if any(platform_fits(p, platform) for p in found.places):
            continue  # builds for this platform, for other Node versions: LS611
        consequence, severity = unloadable_consequence(found)
        npm = found.package
        yield PLATFORM.finding(
            found.path,
            f"{named(found.path)}: {npm.name} ships prebuilt addons only for other platforms "
            f"({place_names(found.places)}), none for {platform.label}: its loader finds none "
            f"(node-gyp-build: `No native build was found`), and {consequence}.",
            _no_prebuild_fix(world, found),
            severity=severity,
        )


def _no_prebuild_fix(world: World, found: Unloadable) -> str:
    """npm's --os/--cpu flags cannot help: the prebuilds come in the package's tarball."""
    runtime, arch = world.target.runtime.name, world.target.arch
    name = found.package.name
    image = f"public.ecr.aws/sam/build-{runtime}" if runtime.startswith("nodejs") else "a Linux"
    if found.compiles:
        return (
            f"Install it on Lambda's platform so that npm runs its install script, which "
            f"compiles it (it has a binding.gyp): `sam build --use-container`, or `npm ci` in "
            f"the {image} image for {arch} (not with --ignore-scripts); a newer release of "
            f"{name} may ship a prebuild for this platform."
        )
    return f"Use a release of {name} that ships a build for Linux {arch}, or another package."


def _never_built(package: ScannedPackage, part: NodePackage, world: World) -> Iterator[Finding]:
    """A package with a binding.gyp and no addon at all (canvas, re2, node-pty, better-sqlite3
    installed with --ignore-scripts, or by pnpm 10, which runs no dependency's install script
    unless allowed): node-gyp never built it, and `require` fails with `Cannot find module
    '../build/Release/<name>.node'` (seen on Node 20.20.2 here). A warning when another
    package has it as an optional dependency (ssh2 and cpu-features), or it has a fallback."""
    inners = {e.inner for e in package.entries}
    with_addons = {a.package.folder for a in part.addons if a.package is not None}
    optional_for = {dep: npm.name for npm in part.packages for dep in npm.optional}
    loaders = {
        m.package.folder
        for m in missing_platform_packages(part.packages, lambda_platform(world.target.arch))
    }
    locations = {m.inner: m.location for m in package.metadata}
    for npm in part.packages:
        if f"{npm.folder}/binding.gyp" not in inners or npm.folder in with_addons:
            continue
        if (
            npm.folder in loaders
            or _loads_platform_packages(npm)
            or platform_mismatch(npm, lambda_platform(world.target.arch))
        ):
            continue
        path = json_location(npm, locations)
        dependent = optional_for.get(npm.name)
        fallback = f"{npm.folder}/fallback.js" in inners
        severity = Severity.WARNING if dependent or fallback else Severity.ERROR
        outcome = (
            f"{dependent} has it as an optional dependency and works without it"
            if dependent
            else "it then uses its JavaScript fallback (`fallback.js`)"
            if fallback
            else f"`require('{npm.name}')` (or its first use) fails with `Cannot find module "
            "'.../build/Release/*.node'`"
        )
        yield PLATFORM.finding(
            path,
            f"{named(path)}: {npm.name} is a native addon package (it has a binding.gyp) with "
            "no compiled addon: its install script never built it (npm --ignore-scripts, "
            f"pnpm 10 without onlyBuiltDependencies, or a failed build), and {outcome}.",
            _build_fix(world, npm.name),
            severity=severity,
        )


def _loads_platform_packages(npm: NpmPackage) -> bool:
    return sum(platform_in_name(dep) is not None for dep in npm.optional) >= 2


def _build_fix(world: World, name: str) -> str:
    runtime, arch = world.target.runtime.name, world.target.arch
    image = f"public.ecr.aws/sam/build-{runtime}" if runtime.startswith("nodejs") else "a Linux"
    return (
        f"Install where its install script runs for Lambda's platform: `sam build "
        f"--use-container`, or `npm ci` (without --ignore-scripts) in the {image} image for "
        f"{arch}; with pnpm 10, allow it in package.json's `pnpm.onlyBuiltDependencies` "
        f'(["{name}"]) and reinstall.'
    )


def place_names(places: list[BuildPlace]) -> str:
    """The folders (and tags) a package ships, Node's before Electron's."""
    for_node = [p for p in places if p.tags is None or p.tags.runtime in (None, "node")]
    names = sorted({p.label for p in for_node or places}, key=_natural)
    if len(names) > 4:
        names = [*names[:2], "...", *names[-2:]]
    return ", ".join(names)


def _natural(name: str) -> list[tuple[int, str]]:
    """`linux-x64-node-9` before `linux-x64-node-10`."""
    return [(int(part), "") if part.isdigit() else (0, part) for part in re.split(r"(\d+)", name)]


PLATFORM = Rule(
    id="LS613",
    title="npm package for another platform, or its platform package missing",
    severity=Severity.ERROR,
    help="package.json os/cpu/libc exclude Lambda's platform (linux, the function's CPU, "
    "glibc), or a package that loads a platform package at run time (sharp, esbuild, swc) has "
    "none installed for it.",
    check=check_platform_packages,
)


def _is_node(world: World) -> NodeFacts | None:
    facts = language_facts(world.target.runtime.name)
    return facts.nodejs if facts is not None else None
