"""Native files the runtime never loads on this function's platform, though other platforms
would: another architecture's JNI library in a jar, another RID's .NET native asset, an npm
platform package for another CPU beside the right one, a prebuild for another platform. Their
problems are information, never errors (`downgrade`). A library shipped only for other
architectures is an LS101 finding (`missing_copies`)."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import replace

from linkscope.ecosystems import dotnet, jvm
from linkscope.ecosystems.node import NodePackage
from linkscope.ecosystems.node_builds import node_target, prebuild_fits
from linkscope.ecosystems.npm import (
    Platform,
    addon_tags,
    lambda_platform,
    missing_platform_packages,
    platform_mismatch,
    tag_fits,
)
from linkscope.model import EntryKind, Finding, ScannedPackage, Severity
from linkscope.resolve import World

OWN_RULES = ("LS601", "LS602", "LS611", "LS612", "LS613", "LS621")


def spare_natives(world: World) -> dict[str, str]:
    """location -> why the runtime never loads it, for every package of the world."""
    spares: dict[str, str] = {}
    machine = world.target.os.machine
    for package in (*world.function, *world.layers):
        natives = _native_inners(package)
        spares |= _jvm_spares(package, natives, machine)
        spares |= _dotnet_spares(package, natives, machine)
        spares |= _node_spares(package, world, _module_version(world))
    return spares


def picked_natives(world: World) -> Iterator[str]:
    """Locations of the JNI libraries and .NET native assets the runtime picks for the
    function's architecture: the JVM or the .NET host loads them by itself."""
    machine = world.target.os.machine
    for package in (*world.function, *world.layers):
        natives = _native_inners(package)
        jni = [i for i in natives if jvm.is_jni_library(i) and jvm.in_java_place(i)]
        yield from (natives[i] for i in jvm.choose(jni, machine).picked)
        assets = [a for i in natives if (a := dotnet.native_asset(i)) is not None]
        yield from (natives[i] for i in dotnet.choose(assets, machine).picked)


def _module_version(world: World) -> int | None:
    from linkscope.profiles.languages import language_facts

    facts = language_facts(world.target.runtime.name)
    return facts.nodejs.node_module_version if facts is not None and facts.nodejs else None


def _native_inners(package: ScannedPackage) -> dict[str, str]:
    return {
        e.inner: e.location
        for e in package.entries
        if e.kind in (EntryKind.ELF, EntryKind.NATIVE, EntryKind.UNREADABLE)
    }


def _jvm_spares(package: ScannedPackage, natives: dict[str, str], machine: str) -> dict[str, str]:
    jni = [i for i in natives if jvm.is_jni_library(i) and jvm.in_java_place(i)]
    choice = jvm.choose(jni, machine)
    only = {other for _group, other in choice.missing}
    return {
        natives[i]: f"the JVM loads the Linux {machine} copy of this library, not this one"
        for i in choice.spare
        if i not in only
    }


def _dotnet_spares(
    package: ScannedPackage, natives: dict[str, str], machine: str
) -> dict[str, str]:
    assets = [a for i in natives if (a := dotnet.native_asset(i)) is not None]
    choice = dotnet.choose(assets, machine)
    rid = dotnet.lambda_rid(machine)
    only = {other for _stem, other in choice.missing}
    return {
        natives[i]: f"the .NET host probes runtimes/{rid}/, not this RID"
        for i in choice.spare
        if i not in only
    }


def _node_spares(
    package: ScannedPackage, world: World, module_version: int | None
) -> dict[str, str]:
    part = package.ecosystems.part(NodePackage)
    if part is None:
        return {}
    platform = lambda_platform(world.target.arch)
    spares = {
        a.location: "no Linux runtime loads this platform's addon"
        for a in part.addons
        if a.inner in part.ignored
    }
    satisfied = not missing_platform_packages(part.packages, platform)
    native_entries = [e for e in package.entries if e.kind in (EntryKind.ELF, EntryKind.NATIVE)]
    for npm in part.packages:
        why = platform_mismatch(npm, platform)
        if why is None or not satisfied:
            continue
        for entry in native_entries:
            if entry.inner.startswith(npm.folder + "/"):
                spares[entry.location] = (
                    f"{npm.name} is for {why}; npm's loader picks the one for {platform.label}"
                )
    return (
        spares
        | _prebuild_spares(part, world, platform)
        | _tagged_spares(part, platform, module_version)
    )


def _prebuild_spares(part: NodePackage, world: World, platform: Platform) -> dict[str, str]:
    """Prebuilt addons for another platform or Node than the runtime's: the package's loader
    never picks them (LS611 or LS613 on the package says when it finds none)."""
    node = node_target(world.target.runtime.name)
    for_node = f" and Node {node.major}" if node is not None else ""
    return {
        addon.location: f"its loader picks the build for {platform.label}{for_node}"
        for addon in part.addons
        if prebuild_fits(addon.inner, platform, node) is False
    }


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


def adjust(findings: Iterable[Finding], world: World) -> list[Finding]:
    """Findings about spare copies become information (or warnings, where the code might still
    load the file), saying why they cannot matter; an architecture mismatch on the only Linux
    copy of a JNI or .NET library is an error (or a warning when the library falls back to pure
    Java), saying so."""
    from linkscope.rules.python_spares import python_spares

    spares = {k: (v, Severity.INFO) for k, v in spare_natives(world).items()}
    spares |= python_spares(world)
    only = {location: (library, loader) for location, library, loader in missing_copies(world)}
    return [_adjusted(f, spares, only, world.target.arch) for f in findings]


def _adjusted(
    finding: Finding,
    spares: dict[str, tuple[str, Severity]],
    only: dict[str, tuple[str, str]],
    arch: str,
) -> Finding:
    spare = spares.get(finding.path)
    if spare is not None and finding.rule not in OWN_RULES:
        reason, severity = spare
        if finding.severity is Severity.INFO or (
            severity is Severity.WARNING and finding.severity is Severity.WARNING
        ):
            return finding
        return replace(
            finding,
            severity=severity,
            message=f"{finding.message} It is never loaded here: {reason}.",
        )
    if finding.rule == "LS101" and finding.path in only:
        library, loader = only[finding.path]
        return replace(
            finding,
            severity=Severity.WARNING if "falls back" in loader else Severity.ERROR,
            message=f"{finding.message} It is the only Linux copy of {library}: {loader} "
            f"finds none for {arch}.",
        )
    return finding


def missing_copies(world: World) -> Iterator[tuple[str, str, str]]:
    """(location of a copy for another architecture, library, what loads it) for JNI
    libraries and .NET native assets offered on Linux only for other architectures."""
    machine = world.target.os.machine
    for package in (*world.function, *world.layers):
        natives = _native_inners(package)
        jni = [i for i in natives if jvm.is_jni_library(i) and jvm.in_java_place(i)]
        for group, other in jvm.choose(jni, machine).missing:
            loader = "the JVM (UnsatisfiedLinkError)"
            if jvm.has_fallback(group):
                loader = "the JVM, and the library falls back to pure Java (slower)"
            yield natives[other], group.rpartition("!")[2], loader
        assets = [a for i in natives if (a := dotnet.native_asset(i)) is not None]
        for stem, other in dotnet.choose(assets, machine).missing:
            yield natives[other], stem, "the .NET host (DllNotFoundException)"
