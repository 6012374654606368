"""What linkscope knows about a Lambda runtime, as frozen data (loaded from JSON, never coded)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from linkscope.model import split_version

# Lambda's architecture names and the ELF machine each one runs.
LAMBDA_ARCHES = {"x86_64": "x86_64", "arm64": "aarch64"}


@dataclass(frozen=True, slots=True, kw_only=True)
class LibraryInfo:
    """A library the runtime provides, and the symbol versions it defines."""

    soname: str
    directory: str
    provides: tuple[tuple[str, str], ...] = ()  # highest version per prefix: ("GLIBC", "2.34")
    extra_versions: frozenset[str] = frozenset()  # unnumbered versions: GLIBC_PRIVATE
    # True when `extra_versions` is every unnumbered version the library defines, so another
    # (glibc 2.36's GLIBC_ABI_DT_RELR on a 2.34 libc) is known to be missing.
    extra_versions_complete: bool = False
    exact_versions: frozenset[str] | None = None  # the full set, when read from a real library
    source: str = ""
    note: str = ""
    file: str = ""  # the real file behind the soname in the listing (libstdc++.so.6.0.33)
    version: str = ""  # the package version the listing shows (14.2.1)
    listed: str = ""  # date of the listing (or report) these facts come from
    # Versions between `provides` and `maybe` may or may not be defined (the data cannot tell).
    maybe: tuple[tuple[str, str], ...] = ()
    unversioned: bool = False  # defines no symbol versions: ld.so checks none against it
    since: Drift | None = None

    @property
    def path(self) -> str:
        return f"{self.directory.rstrip('/')}/{self.soname}"

    def ceiling(self, prefix: str) -> str | None:
        return next((number for p, number in self.provides if p == prefix), None)

    def defines(self, version: str) -> bool | None:
        """True or False when known; None when the profile cannot tell."""
        if self.unversioned:
            return True  # ld.so checks no version against a library without .gnu.version_d
        if self.exact_versions is not None:
            return version in self.exact_versions
        if version in self.extra_versions:
            return True
        parsed = split_version(version)
        if parsed is None:
            return False if self.extra_versions_complete else None
        return self._by_number(*parsed)

    def _by_number(self, prefix: str, number: tuple[int, ...]) -> bool | None:
        ceiling = self.ceiling(prefix)
        if ceiling is not None and number <= _numbers(ceiling):
            return True
        maybe = dict(self.maybe).get(prefix)
        if maybe is not None and number[: len(_numbers(maybe))] <= _numbers(maybe):
            return None  # "3.0" covers every 3.0.x
        return None if ceiling is None else False

    def newer_than_before(self, version: str) -> bool:
        """True when `version` is defined now but was not before the runtime's last change."""
        parsed = split_version(version)
        if self.since is None or parsed is None or self.defines(version) is not True:
            return False
        before = dict(self.since.before).get(parsed[0])
        return before is not None and parsed[1] > _numbers(before)


def _numbers(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


@dataclass(frozen=True, slots=True, kw_only=True)
class Drift:
    """When the runtime last changed a library's version table, and what it had before."""

    date: str
    before: tuple[tuple[str, str], ...] = ()  # empty: the library was not there before
    source: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CpuBaseline:
    """What LS102 compares with (the profile's `cpu` data also lists features, for people)."""

    x86_64_isa_level: int | None = None
    arm_arch: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OsProfile:
    """One OS family on one architecture (for example AL2023 on arm64)."""

    id: str
    name: str
    arch: str  # Lambda's name: x86_64 or arm64
    glibc: str
    loader: str
    library_dirs: tuple[str, ...]
    libraries: tuple[LibraryInfo, ...]
    libraries_complete: bool
    absent: frozenset[str]
    shells: frozenset[str]
    interpreters_absent: frozenset[str]
    page_size: int
    cpu: CpuBaseline
    kernel: str | None
    source: str = ""

    @property
    def machine(self) -> str:
        return LAMBDA_ARCHES[self.arch]

    def library(self, soname: str) -> LibraryInfo | None:
        return next((lib for lib in self.libraries if lib.soname == soname), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Runtime:
    name: str
    os: str
    family: str
    kind: str  # "os-only" or "managed"
    architectures: tuple[str, ...]
    entrypoint: str  # "bootstrap", "handler" (go1.x) or "runtime" (managed)
    lang_lib: tuple[LibraryInfo, ...] = ()
    # Whether a listing covers the runtime's own folder (/var/lang/lib); when not, a library
    # outside the OS list may still be there.
    lang_lib_listed: bool = True
    # When /var/lang/lib is not listed: the soname prefixes it can hold (the language's own
    # library and its dependencies); () when anything may be there.
    lang_lib_may_hold: tuple[str, ...] = ()
    lang_lib_source: str = ""
    os_added: tuple[LibraryInfo, ...] = ()  # OS packages the runtime's image adds (.NET: ICU)
    deprecation: datetime.date | None = None
    block_create: datetime.date | None = None
    block_update: datetime.date | None = None
    container_only: bool = False
    blocked: bool = False  # blocked on a date the sources do not give exactly
    source: str = ""
    note: str = ""

    @property
    def os_only(self) -> bool:
        return self.kind == "os-only"

    def status(self, today: datetime.date) -> str:
        if self.blocked or (self.block_update is not None and today >= self.block_update):
            return "blocked"
        if self.block_create is not None and today >= self.block_create:
            return "deprecated, create blocked"
        if self.deprecation is not None and today >= self.deprecation:
            return "deprecated"
        return "supported"


@dataclass(frozen=True, slots=True, kw_only=True)
class Environment:
    ld_library_path: tuple[str, ...]
    path: tuple[str, ...]
    task_root: str
    layer_root: str
    runtime_dir: str
    bootstrap_search: tuple[str, ...]
    extensions_dir: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeploymentLimits:
    zipped_bytes: int
    unzipped_bytes: int
    layers: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """Everything a check runs against: the runtime, its OS on one architecture, its
    environment and limits. `sysroot` is set when the OS comes from a real root filesystem."""

    runtime: Runtime
    os: OsProfile
    environment: Environment
    limits: DeploymentLimits
    sysroot: str | None = None

    @property
    def arch(self) -> str:
        return self.os.arch
