""".NET: NuGet native assets in `runtimes/<rid>/native/` of a framework-dependent publish
without a RID, which `<app>.deps.json` maps to their packages (reference: managed-runtimes 8).
The host probes only the RID for the function (portable `linux-x64` or `linux-arm64`); the
others (`osx-*`, `win-*`, `linux-musl-*`, `linux-arm`) are information. `dotnet publish -r`
flattens the chosen RID's files into the publish root, where the usual ELF checks judge them.

Pure functions of member paths and `*.deps.json` texts; nothing here reads files.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from linkscope.ecosystems.base import Ecosystem
from linkscope.model import Classification, EntryKind, Origin, ScannedPackage

RID_PATH = re.compile(r"(?:^|/)runtimes/(?P<rid>[^/]+)/native/(?P<file>[^/]+)$")
DOTNET_ARCH = {"x86_64": "x64", "aarch64": "arm64"}


def lambda_rid(machine: str) -> str:
    """The portable RID the host uses on Lambda (Amazon.Lambda.Tools passes the same)."""
    return f"linux-{DOTNET_ARCH.get(machine, machine)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class NativeAsset:
    inner: str
    rid: str  # "linux-x64", "osx-arm64", "win-x64", "linux-musl-x64"
    file: str

    def for_lambda(self, machine: str) -> bool:
        return self.rid == lambda_rid(machine)


def native_asset(inner: str) -> NativeAsset | None:
    match = RID_PATH.search(inner)
    if match is None:
        return None
    return NativeAsset(inner=inner, rid=match["rid"], file=match["file"])


@dataclass(frozen=True, slots=True, kw_only=True)
class RidChoice:
    picked: tuple[str, ...]
    spare: tuple[str, ...]
    missing: tuple[tuple[str, str], ...]  # (file stem, a Linux copy for another arch)


def choose(assets: list[NativeAsset], machine: str) -> RidChoice:
    """The function's RID is picked; other RIDs are spare. A library shipped for Linux only
    on another architecture (linux-x64 and no linux-arm64, on arm64) is missing."""
    picked = tuple(a.inner for a in assets if a.for_lambda(machine))
    spare = tuple(a.inner for a in assets if not a.for_lambda(machine))
    have = {_stem(a.file) for a in assets if a.for_lambda(machine)}
    missing: dict[str, str] = {}
    for asset in assets:
        stem = _stem(asset.file)
        linux_glibc = asset.rid.startswith("linux-") and not asset.rid.startswith("linux-musl")
        if linux_glibc and stem not in have and not asset.for_lambda(machine):
            missing.setdefault(stem, asset.inner)
    return RidChoice(picked=picked, spare=spare, missing=tuple(sorted(missing.items())))


def _stem(file: str) -> str:
    return file.split(".", 1)[0].removeprefix("lib")


@dataclass(frozen=True, slots=True, kw_only=True)
class NugetPackage:
    name: str
    version: str
    native: tuple[tuple[str, str], ...]  # (path under runtimes/, rid) from runtimeTargets


def parse_deps_json(text: str) -> list[NugetPackage]:
    """The packages a `*.deps.json` lists, with their native runtime targets (as dotnet
    writes them: `targets` -> `<tfm>` -> `Name/Version` -> `runtimeTargets` ->
    `runtimes/<rid>/native/<file>`: {"rid": ..., "assetType": "native"})."""
    try:
        data = json.loads(text)
    except ValueError:
        return []
    targets = data.get("targets") if isinstance(data, dict) else None
    if not isinstance(targets, dict):
        return []
    found: dict[str, NugetPackage] = {}
    for libraries in targets.values():
        if not isinstance(libraries, dict):
            continue
        for key, entry in libraries.items():
            name, _, version = key.partition("/")
            runtime_targets = entry.get("runtimeTargets") if isinstance(entry, dict) else None
            if not isinstance(runtime_targets, dict) or not version:
                continue
            native = tuple(
                (path, str(info.get("rid", "")))
                for path, info in sorted(runtime_targets.items())
                if isinstance(info, dict) and info.get("assetType") == "native"
            )
            if native:
                found[key] = NugetPackage(name=name, version=version, native=native)
    return [found[key] for key in sorted(found)]


def package_of(inner: str, packages: list[NugetPackage]) -> NugetPackage | None:
    """The NuGet package whose native target is this file (by its runtimes/ path)."""
    asset = native_asset(inner)
    if asset is None:
        return None
    tail = f"runtimes/{asset.rid}/native/{asset.file}"
    return next((p for p in packages if any(path == tail for path, _ in p.native)), None)


# ---------------------------------------------------------------- classification

NAME = "dotnet"


@dataclass(frozen=True, slots=True, kw_only=True)
class DotnetPackage(Classification):
    packages: tuple[NugetPackage, ...] = ()
    assets: tuple[NativeAsset, ...] = ()


def classify(package: ScannedPackage) -> DotnetPackage:
    deps = [m for m in package.metadata if m.inner.endswith(".deps.json")]
    nugets = [p for m in deps for p in parse_deps_json(m.text)]
    natives = {
        e.inner: e.location for e in package.entries if e.kind in (EntryKind.ELF, EntryKind.NATIVE)
    }
    assets = tuple(a for inner in sorted(natives) if (a := native_asset(inner)) is not None)
    inners = {e.inner for e in package.entries}
    evidence: list[str] = []
    weight = 0
    if deps:
        evidence.append(f"{', '.join(sorted(m.inner for m in deps)[:2])}")
        weight += 6
    if any(i.endswith(".runtimeconfig.json") for i in inners):
        evidence.append("a *.runtimeconfig.json")
        weight += 2
    if assets:
        evidence.append(f"{len(assets)} native asset(s) in runtimes/<rid>/native/")
    return DotnetPackage(
        ecosystem=NAME,
        evidence=tuple(evidence),
        weight=weight,
        origins=tuple((natives[a.inner], _origin(a, nugets)) for a in assets),
        packages=tuple(nugets),
        assets=assets,
    )


def _origin(asset: NativeAsset, nugets: list[NugetPackage]) -> Origin:
    nuget = package_of(asset.inner, nugets)
    return Origin(
        ecosystem=NAME,
        package=nuget.name if nuget else None,
        version=nuget.version if nuget else None,
        tag=asset.rid,
        installer="dotnet" if nuget else None,
    )


def _wants(inner: str) -> bool:
    return inner.endswith(".deps.json") and "/" not in inner


ECOSYSTEM = Ecosystem(name=NAME, wants=_wants, classify=classify)
