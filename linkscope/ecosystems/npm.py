"""npm packages as npm, pnpm and yarn install them: `package.json` (`name`, `version`, `os`,
`cpu`, `libc`, `optionalDependencies`) and the platform packages that packages such as sharp,
esbuild and swc load at run time (reference: managed-runtimes 4.3, 4.4).

Pure functions of member paths and the texts of `package.json` files; nothing here reads files.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Lambda's platform in npm's words (process.platform, process.arch, and the libc npm detects)
NPM_CPU = {"x86_64": "x64", "arm64": "arm64"}
LINUX, GLIBC = "linux", "glibc"
OS_WORDS = {
    "linux": ("linux", None),
    "linuxmusl": ("linux", "musl"),  # sharp, better-sqlite3: @img/sharp-linuxmusl-x64
    "linuxglibc": ("linux", GLIBC),  # node-gyp-build 3: prebuilds/linuxglibc-x64/
    "darwin": ("darwin", None),
    "macos": ("darwin", None),
    "win32": ("win32", None),
    "windows": ("win32", None),
    "freebsd": ("freebsd", None),
    "openbsd": ("openbsd", None),
    "netbsd": ("netbsd", None),
    "sunos": ("sunos", None),
    "android": ("android", None),
    "aix": ("aix", None),
    "openharmony": ("openharmony", None),
}
CPU_WORDS = {"x64", "arm64", "arm", "ia32", "ppc64", "s390x", "riscv64", "loong64", "mips64el"}
CPU_ALIASES = {"arm64v8": "arm64", "armv7": "arm", "armv6": "arm", "x86": "ia32"}
LIBC_WORDS = {"gnu": GLIBC, "glibc": GLIBC, "musl": "musl", "gnueabihf": GLIBC, "msvc": None}
PORTABLE_WORDS = {"wasm32", "wasm"}  # a WebAssembly fallback runs anywhere (@img/sharp-wasm32)


@dataclass(frozen=True, slots=True, kw_only=True)
class Platform:
    """What npm compares `os`/`cpu`/`libc` with: Lambda is always linux and glibc."""

    os: str = LINUX
    cpu: str = "x64"
    libc: str = GLIBC

    @property
    def label(self) -> str:
        return f"{self.os}-{self.cpu} ({self.libc})"


def lambda_platform(arch: str) -> Platform:
    return Platform(cpu=NPM_CPU.get(arch, arch))


@dataclass(frozen=True, slots=True, kw_only=True)
class NpmPackage:
    folder: str  # the package's folder inside the function ("node_modules/sharp")
    name: str
    version: str | None = None
    os: tuple[str, ...] = ()
    cpu: tuple[str, ...] = ()
    libc: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()  # optionalDependencies names
    command: bool = False  # it declares `bin`: a command-line tool (esbuild, biome, turbo)

    @property
    def tag(self) -> str | None:
        """`os-cpu[-libc]` as the package declares it, for the report's origin."""
        parts = ["|".join(values) for values in (self.os, self.cpu, self.libc) if values]
        return "-".join(parts) or None


def parse_package_json(inner: str, text: str) -> NpmPackage | None:
    """A package.json inside node_modules; None when it is not JSON or has no name."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        return None
    version = data.get("version")
    optional = data.get("optionalDependencies")
    return NpmPackage(
        folder=posixpath.dirname(inner),
        name=data["name"],
        version=version if isinstance(version, str) else None,
        os=_strings(data.get("os")),
        cpu=_strings(data.get("cpu")),
        libc=_strings(data.get("libc")),
        optional=tuple(sorted(optional)) if isinstance(optional, dict) else (),
        command=bool(data.get("bin")) and isinstance(data.get("bin"), (str, dict)),
    )


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def allows(values: tuple[str, ...], actual: str) -> bool:
    """npm's rule for `os`, `cpu` and `libc`: empty allows all, `!x` excludes x, and any plain
    value must include `actual`."""
    if not values:
        return True
    if f"!{actual}" in values:
        return False
    plain = [v for v in values if not v.startswith("!")]
    return not plain or actual in plain


def platform_mismatch(package: NpmPackage, platform: Platform) -> str | None:
    """Why npm would not install this package for Lambda's platform ("cpu arm64"), or None."""
    for field, values, actual in (
        ("os", package.os, platform.os),
        ("cpu", package.cpu, platform.cpu),
        ("libc", package.libc, platform.libc),
    ):
        if not allows(values, actual):
            return f"{field} {', '.join(values)}"
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class NamedPlatform:
    os: str | None
    cpu: str | None
    libc: str | None
    portable: bool = False


def platform_in_name(name: str) -> NamedPlatform | None:
    """The platform a package's name says it is for: `@img/sharp-linux-x64`, `@esbuild/linux-
    arm64`, `@swc/core-linux-x64-musl`, `@img/sharp-linuxmusl-arm64`; None for other names."""
    words = name.rsplit("/", 1)[-1].lower().replace("_", "-").split("-")
    if PORTABLE_WORDS & set(words):
        return NamedPlatform(os=None, cpu=None, libc=None, portable=True)
    os_word = next((w for w in words if w in OS_WORDS), None)
    cpus = [CPU_ALIASES.get(w, w) for w in words]
    cpu = next((w for w in cpus if w in CPU_WORDS), None)
    if os_word is None or cpu is None:
        return None
    os_name, libc = OS_WORDS[os_word]
    libc = libc or next((LIBC_WORDS[w] for w in words if w in LIBC_WORDS), None)
    return NamedPlatform(os=os_name, cpu=cpu, libc=libc)


def name_fits(named: NamedPlatform, platform: Platform) -> bool:
    if named.portable:
        return True
    return (
        named.os == platform.os
        and named.cpu == platform.cpu
        and named.libc in (None, platform.libc)
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class MissingPlatform:
    """A package that loads one of its platform packages at run time, with none installed
    that fits Lambda's platform."""

    package: NpmPackage
    wanted: tuple[str, ...]  # its optional platform packages that fit the platform
    installed: tuple[str, ...]  # its platform packages that are installed (for others)


def missing_platform_packages(
    packages: Iterable[NpmPackage], platform: Platform
) -> list[MissingPlatform]:
    """Packages such as sharp, esbuild or swc whose `optionalDependencies` name several
    platform packages, none of which is installed for this platform. (A package that offers
    none for this platform is reported too: `wanted` is then empty.)"""
    everything = list(packages)
    by_name: dict[str, list[NpmPackage]] = {}
    for package in everything:
        by_name.setdefault(package.name, []).append(package)
    found = []
    for package in everything:
        named = {dep: platform_in_name(dep) for dep in package.optional}
        platformed = {dep: n for dep, n in named.items() if n is not None}
        if len(platformed) < 2:
            continue  # not a platform loader: one optional native helper at most
        fits = [d for d, n in platformed.items() if name_fits(n, platform)]
        wanted = tuple(sorted(fits, key=lambda d: (platformed[d].portable, d)))
        installed = tuple(sorted(d for d in platformed if d in by_name))
        if any(_installed_fits(p, platform) for d in wanted for p in by_name.get(d, [])):
            continue
        found.append(MissingPlatform(package=package, wanted=wanted, installed=installed))
    return found


def platform_programs(
    missing: MissingPlatform, packages: Iterable[NpmPackage], natives: Iterable[str]
) -> tuple[str, ...]:
    """The native files (`natives`: member paths) of a loader's installed platform packages
    when none of them is an addon (`*.node`) and the loader declares `bin`: the programs of a
    command-line tool such as esbuild, biome or turbo, which runs its platform's executable as
    a child process instead of loading it into Node. Empty otherwise (an addon; a package
    without `bin` such as @ffmpeg-installer/ffmpeg, whose program the function itself runs;
    or nothing installed to tell)."""
    folders = tuple(f"{p.folder}/" for p in packages if p.name in missing.installed)
    if not folders or not missing.package.command:
        return ()  # a package without `bin` runs its program for the function (ffmpeg)
    found = tuple(sorted(n for n in natives if n.startswith(folders)))
    return () if any(n.endswith(".node") for n in found) else found


def _installed_fits(package: NpmPackage, platform: Platform) -> bool:
    named = platform_in_name(package.name)
    return platform_mismatch(package, platform) is None or bool(named and named.portable)


def owning_package(inner: str, folders: Mapping[str, NpmPackage]) -> NpmPackage | None:
    """The innermost package whose folder holds `inner`."""
    folder = posixpath.dirname(inner)
    while folder:
        if folder in folders:
            return folders[folder]
        folder = posixpath.dirname(folder)
    return folders.get("")


# ---------------------------------------------------------------- node-gyp-build prebuilds


@dataclass(frozen=True, slots=True, kw_only=True)
class AddonTags:
    """node-gyp-build's tags in an addon's file name (`node.abi115.glibc.node`,
    `bcrypt.musl.node`, `node.napi.node`)."""

    runtime: str | None = None  # "node", "electron", "node-webkit"
    napi: bool = False
    abi: int | None = None
    libc: str | None = None


NODE_GYP_BUILD_3 = re.compile(r"(node|electron|node-webkit)-(napi|\d+)\.node")


def addon_tags(name: str) -> AddonTags | None:
    """The tags of an addon file name, or None when it carries none. node-gyp-build 3 names
    files `<runtime>-<modules>.node` or `<runtime>-napi.node`."""
    old_style = NODE_GYP_BUILD_3.fullmatch(name)
    if old_style is not None:
        napi = old_style[2] == "napi"
        abi = None if napi else int(old_style[2])
        return AddonTags(runtime=old_style[1], napi=napi, abi=abi)
    parts = name.split(".")[1:-1]
    runtime = next((p for p in parts if p in ("node", "electron", "node-webkit")), None)
    if name.split(".", maxsplit=1)[0] in ("node", "electron", "node-webkit"):
        runtime = name.split(".", maxsplit=1)[0]
    abi = next((int(p[3:]) for p in parts if p.startswith("abi") and p[3:].isdigit()), None)
    libc = next((p for p in parts if p in ("glibc", "musl")), None)
    tags = AddonTags(runtime=runtime, napi="napi" in parts, abi=abi, libc=libc)
    return None if tags == AddonTags() else tags


def tag_fits(tags: AddonTags, platform: Platform, module_version: int | None) -> bool:
    """Whether node-gyp-build accepts a tagged file on Lambda's Node (`module_version`:
    process.versions.modules, None when unknown: any abi tag is then accepted)."""
    if tags.runtime not in (None, "node") or tags.libc not in (None, platform.libc):
        return False
    if tags.abi is not None and not tags.napi and module_version is not None:
        return tags.abi == module_version
    return True
