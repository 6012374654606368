"""Node.js: functions as npm, pnpm and yarn lay them out (`node_modules/`, a layer's
`nodejs/node_modules` or `nodejs/nodeNN/node_modules`), read from `package.json` files and the
addons (`*.node`) beside them.

`classify(package)` returns a `NodePackage`: its npm packages, its addons with the package that
put each there (the report's `origin`: package, version, `os-cpu-libc` tag, Node ABI), and
what no runtime ever loads (another platform's prebuilds; a platform package for another OS).
What depends on the runtime (NODE_MODULE_VERSION, Node-API, the function's CPU, the layer's
`nodeNN` folder) is judged by the rules: LS611, LS612, LS613 (linkscope/rules/node.py).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from linkscope.ecosystems.base import Ecosystem, basename
from linkscope.ecosystems.node_abi import addon_abi
from linkscope.ecosystems.node_builds import prebuild_fits
from linkscope.ecosystems.npm import (
    NpmPackage,
    Platform,
    lambda_platform,
    owning_package,
    parse_package_json,
    platform_in_name,
)
from linkscope.model import Classification, EntryKind, Origin, ScannedPackage

NAME = "nodejs"
PACKAGE_JSON = re.compile(r"(?:^|/)node_modules/(?:@[^/]+/)?[^/@][^/]*/package\.json$")
LAYER_NODE = re.compile(r"^nodejs/(?:node(?P<major>\d+)/)?node_modules(?:/|$)")
HANDLER_SUFFIXES = (".js", ".mjs", ".cjs")


@dataclass(frozen=True, slots=True, kw_only=True)
class Addon:
    inner: str
    location: str
    package: NpmPackage | None  # the npm package whose folder holds it


@dataclass(frozen=True, slots=True, kw_only=True)
class NodePackage(Classification):
    packages: tuple[NpmPackage, ...] = ()
    addons: tuple[Addon, ...] = ()
    layer_majors: tuple[str, ...] = ()  # the NN of `nodejs/nodeNN/node_modules` folders
    installer: str | None = None  # "npm", "pnpm", "yarn" when the layout says so


def wants(inner: str) -> bool:
    return inner == "package.json" or PACKAGE_JSON.search(inner) is not None


def classify(package: ScannedPackage) -> NodePackage:
    texts = {m.inner: m.text for m in package.metadata if PACKAGE_JSON.search(m.inner)}
    npm = tuple(
        p for inner, text in sorted(texts.items()) if (p := parse_package_json(inner, text))
    )
    folders = {p.folder: p for p in npm}
    natives = tuple(
        Addon(inner=e.inner, location=e.location, package=owning_package(e.inner, folders))
        for e in package.entries
        if e.kind in (EntryKind.ELF, EntryKind.NATIVE) and "node_modules/" in f"/{e.inner}"
    )
    addons = tuple(a for a in natives if a.inner.endswith(".node"))
    installer = _installer(package)
    evidence, weight = _evidence(package, npm, addons)
    majors = sorted(
        {m["major"] for e in package.entries if (m := LAYER_NODE.match(e.inner)) and m["major"]}
    )
    return NodePackage(
        ecosystem=NAME,
        evidence=evidence,
        weight=weight,
        origins=tuple(_origin(package, native, installer) for native in natives),
        loaded=tuple(a.inner for a in addons if not _never_loaded(a)),
        ignored=tuple(a.inner for a in natives if _never_loaded(a)),
        packages=npm,
        addons=addons,
        layer_majors=tuple(majors),
        installer=installer,
    )


def _never_loaded(addon: Addon) -> bool:
    """Addons that no Linux runtime loads whatever its CPU: a prebuild for another OS, or a
    file of a platform package for another OS (`@img/sharp-darwin-arm64`)."""
    fits_any_linux = any(prebuild_fits(addon.inner, platform) for platform in _linux_platforms())
    if prebuild_fits(addon.inner, _linux_platforms()[0]) is not None and not fits_any_linux:
        return True
    package = addon.package
    if package is None:
        return False
    if package.os and "linux" not in package.os:
        return True
    named = platform_in_name(package.name)
    return named is not None and not named.portable and named.os not in (None, "linux")


def _linux_platforms() -> tuple[Platform, ...]:
    return (lambda_platform("x86_64"), lambda_platform("arm64"))


def _origin(package: ScannedPackage, addon: Addon, installer: str | None) -> tuple[str, Origin]:
    facts = next((b for b in package.binaries if b.path == addon.location), None)
    abi = addon_abi(facts.interface) if facts is not None else None
    npm = addon.package
    return addon.location, Origin(
        ecosystem=NAME,
        package=npm.name if npm else None,
        version=npm.version if npm else None,
        tag=(npm.tag if npm else None) or _prebuild_tag(addon.inner),
        abi=abi.label if abi is not None else None,
        installer=installer,
    )


def _prebuild_tag(inner: str) -> str | None:
    parts = inner.split("/")
    if "prebuilds" not in parts[:-1]:
        return None
    return parts[parts.index("prebuilds") + 1].removesuffix(".node")


def _installer(package: ScannedPackage) -> str | None:
    inners = {e.inner for e in package.entries}
    if any(i.startswith(("node_modules/.pnpm/", "nodejs/node_modules/.pnpm/")) for i in inners):
        return "pnpm"
    if any(basename(i) in (".yarn-state.yml", ".yarn-integrity") for i in inners):
        return "yarn"
    if any(basename(i) == ".package-lock.json" for i in inners) or "package-lock.json" in inners:
        return "npm"
    return None


def _evidence(
    package: ScannedPackage, npm: tuple[NpmPackage, ...], addons: tuple[Addon, ...]
) -> tuple[tuple[str, ...], int]:
    evidence: list[str] = []
    weight = 0
    inners = [e.inner for e in package.entries]
    handlers = [i for i in inners if "/" not in i and i.endswith(HANDLER_SUFFIXES)]
    if handlers:
        evidence.append(f"handler file(s) at its root: {', '.join(handlers[:3])}")
        weight += 4
    if npm:
        evidence.append(f"{len(npm)} npm package(s) in node_modules")
        weight += 5
    if "package.json" in inners:
        evidence.append("a package.json at its root")
        weight += 2
    if any(LAYER_NODE.match(i) for i in inners):
        evidence.append("a layer's nodejs/ folder")
        weight += 5
    if addons:
        evidence.append(f"{len(addons)} Node addon(s) (*.node)")
    return tuple(evidence), weight


def layer_folder(inner: str) -> str | None:
    """`nodejs/node18/node_modules` (or `nodejs/node_modules`) for a layer member inside one."""
    match = LAYER_NODE.match(inner)
    if match is None:
        return None
    return posixpath.join(
        "nodejs", f"node{match['major']}" if match["major"] else "", "node_modules"
    ).replace("//", "/")


ECOSYSTEM = Ecosystem(name=NAME, wants=wants, classify=classify)
