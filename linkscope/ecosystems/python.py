"""Python: packages as pip and uv install them (`--target`, a layer's `python/` or
`python/lib/python3.X/site-packages`), read from the names of extension modules (PEP 3149)
and the `*.dist-info` beside them (`WHEEL` Tag lines, `RECORD`, `METADATA`, `INSTALLER`).

`classify(package)` returns a `PythonPackage`: its distributions, its extension modules with
the interpreter tag in their names, the site folders of a layer, and each native file's origin
(the wheel that installed it). Whether the runtime's Python imports a module is
`importable(module, facts, arch)`; rules LS601 and LS602 (linkscope/rules/python.py) judge.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from linkscope.ecosystems import wheels
from linkscope.ecosystems.base import Ecosystem, basename
from linkscope.ecosystems.wheels import Distribution
from linkscope.model import Classification, EntryKind, Origin, ScannedPackage

NAME = "python"
SITE = re.compile(r"^python/lib/python(?P<version>3\.\d+)/site-packages(?:/|$)")

_CPYTHON = re.compile(
    r"^(?P<module>[^.]+)\.cpython-(?P<version>3\d+)(?P<flags>[a-z]*)-(?P<platform>[^.]+)\.so$"
)
_PYPY = re.compile(r"^(?P<module>[^.]+)\.pypy(?P<version>\d+)-pp\d+-(?P<platform>[^.]+)\.so$")
_PYD = re.compile(
    r"^(?P<module>[^.]+)(?:\.cp(?P<version>3\d+)(?P<flags>t?)-(?P<platform>[^.]+))?\.pyd$"
)
_ABI3 = re.compile(r"^(?P<module>[^.]+)\.abi3\.so$")
_BARE = re.compile(r"^(?P<module>[A-Za-z_][A-Za-z0-9_]*)\.so$")


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtensionModule:
    """One file whose name says it is a Python extension module, and what that name says."""

    inner: str
    location: str
    module: str  # the import name's last part: "_pydantic_core"
    kind: str  # "cpython", "abi3", "bare", "pypy", "windows"
    suffix: str  # ".cpython-313-x86_64-linux-gnu.so"
    version: tuple[int, int] | None = None  # the CPython (or PyPy) version in the tag
    free_threaded: bool = False  # a `t` build (3.13t)
    platform: str | None = None  # "x86_64-linux-gnu", "x86_64-linux-musl", "darwin", "win_amd64"
    distribution: Distribution | None = None  # the wheel that installed it, from RECORD

    @property
    def folder(self) -> str:
        return posixpath.dirname(self.inner)


@dataclass(frozen=True, slots=True, kw_only=True)
class PythonPackage(Classification):
    distributions: tuple[Distribution, ...] = ()
    extensions: tuple[ExtensionModule, ...] = ()
    site_versions: tuple[tuple[str, str], ...] = ()  # (layer site folder, "3.11")
    handlers: tuple[str, ...] = ()  # .py files at the root


def module_name(inner: str, location: str) -> ExtensionModule | None:
    """The extension-module facts in a file's name, or None when it is no extension module."""
    name = basename(inner)
    if not name.endswith((".so", ".pyd")):
        return None
    for pattern, kind in ((_CPYTHON, "cpython"), (_PYPY, "pypy"), (_PYD, "windows")):
        match = pattern.match(name)
        if match is not None:
            return _tagged(inner, location, name, match, kind)
    match = _ABI3.match(name) or _BARE.match(name)
    if match is None:
        return None
    kind = "abi3" if name.endswith(".abi3.so") else "bare"
    return ExtensionModule(
        inner=inner,
        location=location,
        module=match["module"],
        kind=kind,
        suffix=name[len(match["module"]) :],
    )


def _tagged(
    inner: str, location: str, name: str, match: re.Match[str], kind: str
) -> ExtensionModule:
    digits = match.groupdict().get("version")
    version = None
    if digits:
        version = (int(digits[0]), int(digits[1:])) if kind != "pypy" else _pypy(digits)
    return ExtensionModule(
        inner=inner,
        location=location,
        module=match["module"],
        kind=kind,
        suffix=name[len(match["module"]) :],
        version=version,
        free_threaded="t" in (match.groupdict().get("flags") or ""),
        platform=match.groupdict().get("platform"),
    )


def _pypy(digits: str) -> tuple[int, int]:
    return int(digits[0]), int(digits[1:] or 0)


def site_folder(inner: str) -> tuple[str, str] | None:
    """(site folder, "3.X") for a path under a layer's `python/lib/python3.X/site-packages`."""
    match = SITE.match(inner)
    if match is None:
        return None
    return match.group(0).rstrip("/"), match["version"]


def classify(package: ScannedPackage) -> PythonPackage:
    distributions = wheels.distributions(package.metadata)
    owners = _owners(distributions, package)
    extensions = tuple(
        _with_owner(module, owners)
        for entry in package.entries
        if entry.kind not in (EntryKind.DIRECTORY, EntryKind.SYMLINK)
        and (module := module_name(entry.inner, entry.location)) is not None
        and not _vendored_library(entry.inner, module)
    )
    sites = sorted({s for e in package.entries if (s := site_folder(e.inner)) is not None})
    handlers = tuple(
        e.inner for e in package.entries if "/" not in e.inner and e.inner.endswith(".py")
    )
    evidence, weight = _evidence(package, distributions, extensions, handlers, sites)
    origins = _origins(package, owners)
    return PythonPackage(
        ecosystem=NAME,
        evidence=evidence,
        weight=weight,
        origins=origins,
        loaded=tuple(
            m.inner for m in extensions if m.kind in ("abi3", "bare", "cpython") and _linux(m)
        ),
        ignored=tuple(m.inner for m in extensions if not _linux(m)),
        distributions=distributions,
        extensions=extensions,
        site_versions=tuple(sites),
        handlers=handlers,
        runtime_hint=_runtime_hint(extensions),
    )


def _runtime_hint(extensions: tuple[ExtensionModule, ...]) -> str | None:
    """The python3.X runtime most of the version-tagged modules were built for."""
    from collections import Counter

    versions = Counter(m.version for m in extensions if m.kind == "cpython" and m.version)
    if not versions:
        return None
    (major, minor), _count = versions.most_common(1)[0]
    return f"python{major}.{minor}"


def _linux(module: ExtensionModule) -> bool:
    """Whether some Linux CPython would import a file of this name (a `-darwin` or `.pyd` one,
    never: judging its bytes would only repeat that)."""
    if module.kind in ("abi3", "bare"):
        return True
    return module.kind == "cpython" and (module.platform or "").endswith("-linux-gnu")


def _vendored_library(inner: str, module: ExtensionModule) -> bool:
    """auditwheel's `<dist>.libs/libfoo-1a2b3c4d.so` and `lib*.so` beside modules are shared
    libraries that modules load, not modules."""
    folder = posixpath.dirname(inner)
    return module.kind == "bare" and (folder.endswith(".libs") or module.module.startswith("lib"))


def _evidence(
    package: ScannedPackage,
    distributions: tuple[Distribution, ...],
    extensions: tuple[ExtensionModule, ...],
    handlers: tuple[str, ...],
    sites: list[tuple[str, str]],
) -> tuple[tuple[str, ...], int]:
    evidence: list[str] = []
    weight = 0
    if handlers:
        evidence.append(f"handler file(s) at its root: {', '.join(handlers[:3])}")
        weight += 4
    if distributions:
        evidence.append(f"{len(distributions)} installed distribution(s) (*.dist-info)")
        weight += 3
    if sites or any(e.inner == "python" or e.inner.startswith("python/") for e in package.entries):
        evidence.append("a layer's python/ folder")
        weight += 3
    if extensions and not weight:
        evidence.append(f"{len(extensions)} Python extension module(s)")
        weight += 1
    return tuple(evidence), weight


def _owners(
    distributions: tuple[Distribution, ...], package: ScannedPackage
) -> dict[str, Distribution]:
    """Which distribution's RECORD lists each native file (by path inside the package)."""
    natives = {b.path for b in package.binaries} | {n.path for n in package.natives}
    inners = {e.inner for e in package.entries if e.location in natives}
    owners: dict[str, Distribution] = {}
    for dist in distributions:
        for path in dist.files:
            inner = posixpath.normpath(posixpath.join(dist.site, path)) if dist.site else path
            if inner in inners:
                owners[inner] = dist
    return owners


def _with_owner(module: ExtensionModule, owners: dict[str, Distribution]) -> ExtensionModule:
    from dataclasses import replace

    owner = owners.get(module.inner)
    return module if owner is None else replace(module, distribution=owner)


def _origins(
    package: ScannedPackage, owners: dict[str, Distribution]
) -> tuple[tuple[str, Origin], ...]:
    origins = []
    for entry in package.entries:
        dist = owners.get(entry.inner)
        if dist is None:
            continue
        module = module_name(entry.inner, entry.location)
        origins.append(
            (
                entry.location,
                Origin(
                    ecosystem=NAME,
                    package=dist.name,
                    version=dist.version,
                    tag=dist.tag,
                    abi=None if module is None else abi_name(module, dist),
                    installer=dist.installer,
                ),
            )
        )
    return tuple(origins)


def abi_name(module: ExtensionModule, dist: Distribution | None = None) -> str | None:
    """The interpreter ABI a module needs, as the JSON `origin.abi` says it: "cpython-3.13",
    "cpython-3.13t", "abi3-3.9" (stable ABI, CPython 3.9 or later), "pypy-3.9"."""
    if module.kind in ("cpython", "windows") and module.version:
        return (
            f"cpython-{module.version[0]}.{module.version[1]}{'t' if module.free_threaded else ''}"
        )
    if module.kind == "pypy" and module.version:
        return f"pypy-{module.version[0]}.{module.version[1]}"
    if module.kind == "abi3":
        minimum = dist.abi3_minimum if dist is not None else None
        return f"abi3-{minimum[0]}.{minimum[1]}" if minimum else "abi3"
    return None


def _wants(inner: str) -> bool:
    folder, _, name = inner.rpartition("/")
    return folder.endswith(".dist-info") and name in wheels.DIST_INFO_FILES


ECOSYSTEM = Ecosystem(name=NAME, wants=_wants, classify=classify)
