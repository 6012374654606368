"""Node.js native files the runtime never loads on this function's platform and Node: another
OS's addon, a platform package for another CPU beside the right one, a prebuild for another
platform or Node version, a node-gyp-build tag the loader rejects, and a command-line tool's
program for another platform (esbuild, biome: run as a child process, never loaded). Their
problems are information (linkscope/rules/spares.py); the package-level findings (LS611 and
LS613 in linkscope/rules/node.py) say when a package finds none."""

from __future__ import annotations

import posixpath

from linkscope.ecosystems.node import NodePackage
from linkscope.ecosystems.node_builds import NodeTarget, node_target, prebuild_fits
from linkscope.ecosystems.npm import (
    Platform,
    addon_tags,
    lambda_platform,
    missing_platform_packages,
    platform_mismatch,
    platform_programs,
    tag_fits,
)
from linkscope.model import EntryKind, ScannedPackage
from linkscope.resolve import World

NATIVE_KINDS = (EntryKind.ELF, EntryKind.NATIVE)


def node_spares(package: ScannedPackage, world: World) -> dict[str, str]:
    """location -> why Node never loads it, for one package."""
    part = package.ecosystems.part(NodePackage)
    if part is None:
        return {}
    platform = lambda_platform(world.target.arch)
    node = node_target(world.target.runtime.name)
    spares = {
        a.location: "no Linux runtime loads this platform's addon"
        for a in part.addons
        if a.inner in part.ignored
    }
    return (
        spares
        | _platform_package_spares(package, part, platform)
        | _prebuild_spares(package, part, platform, node)
        | _tagged_spares(part, platform, node.module_version if node else None)
    )


def _platform_package_spares(
    package: ScannedPackage, part: NodePackage, platform: Platform
) -> dict[str, str]:
    """Another platform's packages beside the loader's right one, and a command-line tool's
    programs (which no Node loads, whatever the platform)."""
    spares: dict[str, str] = {}
    missing = missing_platform_packages(part.packages, platform)
    natives = [e for e in package.entries if e.kind in (EntryKind.ELF, EntryKind.NATIVE)]
    for npm in part.packages:
        why = platform_mismatch(npm, platform)
        if why is None or missing:
            continue
        for entry in natives:
            if entry.inner.startswith(npm.folder + "/"):
                spares[entry.location] = (
                    f"{npm.name} is for {why}; npm's loader picks the one for {platform.label}"
                )
    programs = {
        program: loader.package.name
        for loader in missing
        for program in platform_programs(loader, part.packages, (e.inner for e in natives))
    }
    spares |= {
        e.location: f"it is {programs[e.inner]}'s program for another platform, which Node "
        f"never loads (LS613 on {programs[e.inner]} says what that means)"
        for e in natives
        if e.inner in programs
    }
    return spares


def _prebuild_spares(
    package: ScannedPackage, part: NodePackage, platform: Platform, node: NodeTarget | None
) -> dict[str, str]:
    """Prebuilt addons for another platform or Node than the runtime's: the package's loader
    never picks them (LS611 or LS613 on the package says when it finds none); and the
    libraries in another platform's prebuild folder (sodium-native's
    `prebuilds/linux-arm/libsodium.so.23`), which only those addons load."""
    for_node = f" and Node {node.major}" if node is not None else ""
    spares = {
        addon.location: f"its loader looks for a build for {platform.label}{for_node} only"
        for addon in part.addons
        if prebuild_fits(addon.inner, platform, node) is False
    }
    for entry in package.entries:
        library = entry.kind in NATIVE_KINDS and not entry.inner.endswith(".node")
        library = library and "node_modules/" in f"/{entry.inner}"
        if library and prebuild_fits(entry.inner, platform) is False:
            spares[entry.location] = (
                "it sits with another platform's prebuilds, which only their addons load"
            )
    return spares


def _tagged_spares(
    part: NodePackage, platform: Platform, module_version: int | None
) -> dict[str, str]:
    """In a folder of tagged addons (`node.napi.glibc.node`, `node.abi115.musl.node`), the ones
    node-gyp-build rejects on Lambda are spares when it accepts another one there."""
    folders: dict[str, list[tuple[str, str]]] = {}
    for addon in part.addons:
        folders.setdefault(posixpath.dirname(addon.inner), []).append((addon.inner, addon.location))
    spares: dict[str, str] = {}
    for addons in folders.values():
        tags = {inner: addon_tags(posixpath.basename(inner)) for inner, _ in addons}
        fits = [i for i, t in tags.items() if t is None or tag_fits(t, platform, module_version)]
        if not fits:
            continue
        for inner, location in addons:
            if inner not in fits:
                spares[location] = f"node-gyp-build picks {posixpath.basename(fits[0])} beside it"
    return spares
