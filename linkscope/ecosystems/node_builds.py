"""Where a package's own loader looks for its prebuilt addon, read from the file's path, and
whether it would pick the file on Lambda's platform and Node (reference: managed-runtimes 4.3):

- node-gyp-build 4: `prebuilds/<os>-<arch>[+<arch>]/<name>[.tags].node`, or
  `prebuilds/<os>-<arch>.node` (better-sqlite3's own loader); node-gyp-build 3:
  `prebuilds/<os>[glibc|musl]-<arch>/node-<modules>.node` or `node-napi.node`;
- one folder per Node: deasync's `bin/<os>-<arch>-node-<major>/`, fibers' and node-sass's
  `<os>-<arch>-<modules>[-<libc>]/` (process.versions.modules), node-pre-gyp's
  `node-v<modules>-<os>-[<libc>-]<arch>/` and `napi-v<N>-<os>-[<libc>-]<arch>/`.

Pure functions of member paths; what the runtime is comes in as a NodeTarget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from linkscope.ecosystems.npm import (
    CPU_ALIASES,
    CPU_WORDS,
    OS_WORDS,
    AddonTags,
    Platform,
    addon_tags,
    tag_fits,
)

PER_NODE = (
    re.compile(
        r"(?P<os>[a-z]+(?:32)?)-(?P<arch>[a-z0-9]+)-node-(?P<major>\d+)(?:\.(?P<minor>\d+))?"
    ),
    re.compile(
        r"(?P<os>[a-z]+(?:32)?)-(?P<arch>[a-z0-9]+)-(?P<modules>\d+)(?:-(?P<libc>glibc|musl))?"
    ),
    re.compile(
        r"node-v(?P<modules>\d+)-(?P<os>[a-z]+(?:32)?)-(?:(?P<libc>glibc|musl|unknown)-)?(?P<arch>[a-z0-9]+)"
    ),
    re.compile(
        r"napi-v(?P<napi>\d+)-(?P<os>[a-z]+(?:32)?)-(?:(?P<libc>glibc|musl|unknown)-)?(?P<arch>[a-z0-9]+)"
    ),
)

# uws 10 (npm) and uWebSockets.js (installed from GitHub): `uws_<platform>[_<arch>]_<modules>.node`
# beside their loader (`'./uws_' + process.platform + '_' + process.arch + '_' +
# process.versions.modules`); uws 10 names no CPU (x64 only). Only that stem: `foo_linux_64`
# elsewhere may mean anything.
PER_NODE_FILE = re.compile(
    r"uws_(?P<os>[a-z]+(?:32)?)(?:_(?P<arch>[a-z0-9]+))?_(?P<modules>\d+)\.node"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeTarget:
    """The runtime's Node: its major, process.versions.modules and Node-API version."""

    major: int
    module_version: int
    napi: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildPlace:
    """What a prebuilt addon's path says it is for."""

    folder: (
        str  # the folder that names the platform ("prebuilds/linux-x64", "bin/linux-x64-node-20")
    )
    os: str
    cpus: frozenset[str]  # empty: the path does not say (the ELF machine then decides)
    libc: str | None = None
    major: int | None = None  # deasync: node-<major>
    module_version: int | None = None  # fibers, node-pre-gyp: the NODE_MODULE_VERSION
    napi: int | None = None  # node-pre-gyp napi-v<N>
    tags: AddonTags | None = None  # node-gyp-build's file name tags

    @property
    def label(self) -> str:
        """The folder's name, with node-gyp-build's runtime and ABI tags when it has them
        (`linux-x64 node.abi72`, `linux-x64 electron.abi75`)."""
        name = self.folder.rsplit("/", 1)[-1].removesuffix(".node")
        tags = self.tags
        if tags is None or (tags.abi is None and not tags.napi):
            return name
        version = "napi" if tags.napi else f"abi{tags.abi}"
        return f"{name} {tags.runtime or 'node'}.{version}"


def node_target(runtime: str) -> NodeTarget | None:
    """The NodeTarget of a Lambda runtime name (`nodejs20.x`), None for other runtimes."""
    from linkscope.profiles.languages import language_facts

    facts = language_facts(runtime)
    major = runtime.removeprefix("nodejs").removesuffix(".x")
    if facts is None or facts.nodejs is None or not major.isdigit():
        return None
    node = facts.nodejs
    return NodeTarget(
        major=int(major), module_version=node.node_module_version, napi=node.napi_version
    )


def build_place(inner: str) -> BuildPlace | None:
    """The platform (and Node) a prebuilt addon's path names, or None for another path (a
    `build/Release` addon, a platform package's file)."""
    parts = inner.split("/")
    if "prebuilds" in parts[:-1]:
        return _prebuilds_place(parts)
    named = PER_NODE_FILE.fullmatch(parts[-1])
    if named is not None and named["os"] in OS_WORDS:
        os_name, libc = OS_WORDS[named["os"]]
        arch = CPU_ALIASES.get(named["arch"] or "", named["arch"])
        return BuildPlace(
            folder=inner.removesuffix(".node"),
            os=os_name,
            cpus=frozenset((arch,)) if arch else frozenset(),
            libc=libc,
            module_version=int(named["modules"]),
        )
    for index in range(len(parts) - 2, -1, -1):
        place = _per_node_place(parts[index], "/".join(parts[: index + 1]))
        if place is not None:
            return place
    return None


def _prebuilds_place(parts: list[str]) -> BuildPlace | None:
    position = len(parts) - 1 - parts[::-1].index("prebuilds")
    rest = parts[position + 1 :]
    tuple_name = rest[0].removesuffix(".node") if rest else ""
    os_word, _, arches = tuple_name.partition("-")
    os_name, libc = OS_WORDS.get(os_word, (None, None))
    if os_name is None or not arches:
        return None
    tags = addon_tags(rest[-1]) if len(rest) > 1 else None
    libc = libc or (tags.libc if tags else None)
    cpus = frozenset(CPU_ALIASES.get(a, a) for a in arches.split("+"))
    folder = "/".join(parts[: position + 2])
    return BuildPlace(folder=folder, os=os_name, cpus=cpus, libc=libc, tags=tags)


def _per_node_place(name: str, folder: str) -> BuildPlace | None:
    for pattern in PER_NODE:
        match = pattern.fullmatch(name)
        if match is None or match["os"] not in OS_WORDS:
            continue
        cpu = CPU_ALIASES.get(match["arch"], match["arch"])
        if cpu not in CPU_WORDS:
            continue
        os_name, libc = OS_WORDS[match["os"]]
        groups = match.groupdict()
        libc = libc or (groups.get("libc") if groups.get("libc") != "unknown" else None)
        number = {
            key: int(value)
            for key, value in groups.items()
            if key in ("major", "modules", "napi") and value
        }
        if groups.get("minor") is not None and number.get("major"):
            continue  # deasync's node-<major>.<minor>: only node-0.x exist, never a Lambda Node
        return BuildPlace(
            folder=folder,
            os=os_name,
            cpus=frozenset((cpu,)),
            libc=libc,
            major=number.get("major"),
            module_version=number.get("modules"),
            napi=number.get("napi"),
        )
    return None


def platform_fits(place: BuildPlace, platform: Platform) -> bool:
    return (
        place.os == platform.os
        and (not place.cpus or platform.cpu in place.cpus)
        and place.libc in (None, platform.libc)
    )


def node_fits(place: BuildPlace, platform: Platform, node: NodeTarget | None) -> bool:
    """Whether the runtime's Node is the one the place is for (True when `node` is unknown)."""
    if node is None:
        return True
    if place.major is not None and place.major != node.major:
        return False
    if place.module_version is not None and place.module_version != node.module_version:
        return False
    if place.napi is not None and place.napi > node.napi:
        return False
    return place.tags is None or tag_fits(place.tags, platform, node.module_version)


def prebuild_fits(inner: str, platform: Platform, node: NodeTarget | None = None) -> bool | None:
    """Whether the package's loader would pick this prebuilt addon on Lambda (for `node`, or
    any Node when None); None when the file is not a prebuild at all."""
    place = build_place(inner)
    if place is None:
        return None
    return platform_fits(place, platform) and node_fits(place, platform, node)
