"""Native files the runtime never loads on this function's platform, though other platforms
would: another architecture's JNI library in a jar, another RID's .NET native asset, an npm
platform package for another CPU beside the right one, a prebuild for another platform. Their
problems are information, never errors (`downgrade`). A library shipped only for other
architectures is an LS101 finding (`missing_copies`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace

from linkscope.ecosystems import dotnet, jvm
from linkscope.model import EntryKind, Finding, ScannedPackage, Severity
from linkscope.resolve import World
from linkscope.rules.node_spares import node_spares

OWN_RULES = ("LS601", "LS602", "LS611", "LS612", "LS613", "LS621")


def spare_natives(world: World) -> dict[str, str]:
    """location -> why the runtime never loads it, for every package of the world."""
    spares: dict[str, str] = {}
    machine = world.target.os.machine
    for package in (*world.function, *world.layers):
        natives = _native_inners(package)
        spares |= _jvm_spares(package, natives, machine)
        spares |= _dotnet_spares(package, natives, machine)
        spares |= node_spares(package, world)
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


def adjust(findings: Iterable[Finding], world: World) -> list[Finding]:
    """Findings about spare copies become information (or warnings, where the code might still
    load the file), saying why they cannot matter; an architecture mismatch on the only Linux
    copy of a JNI or .NET library is an error (or a warning when the library falls back to pure
    Java), saying so."""
    from linkscope.rules.python_spares import python_spares

    spares = {
        k: (f"It is never loaded here: {v}.", Severity.INFO)
        for k, v in spare_natives(world).items()
    }
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
            message=f"{finding.message} {reason}",
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
