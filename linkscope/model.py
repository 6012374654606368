"""The vocabulary of linkscope: enums and frozen dataclasses for facts, findings and reports.

Everything here is plain, immutable data. Readers produce it, rules consume it, renderers print it.
The dataclasses take their equality, hash and repr from `Record` (linkscope/records.py), which
writes them once instead of compiling them for each class: the same behaviour, a faster start.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import TypeVar

from linkscope.records import Record


class ElfType(str, Enum):
    EXECUTABLE = "executable"
    PIE_EXECUTABLE = "pie-executable"
    SHARED_LIBRARY = "shared-library"
    RELOCATABLE = "relocatable"
    CORE = "core"


class Linkage(str, Enum):
    STATIC = "static"
    STATIC_PIE = "static-pie"
    DYNAMIC = "dynamic"


class LibcFamily(str, Enum):
    GLIBC = "glibc"
    MUSL = "musl"
    BIONIC = "bionic"
    UCLIBC = "uclibc"
    NONE = "none"
    UNKNOWN = "unknown"


class Confidence(str, Enum):
    CERTAIN = "certain"
    LIKELY = "likely"
    GUESS = "guess"


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 2, "warning": 1, "info": 0}[self.value]


_VERSION_RE = re.compile(r"^(?P<prefix>.+?)_(?P<number>\d+(?:\.\d+)*)$")


@functools.lru_cache(maxsize=4096)  # the same few dozen names recur in every binary
def split_version(name: str) -> tuple[str, tuple[int, ...]] | None:
    """`GLIBC_2.2.5` -> ("GLIBC", (2, 2, 5)); None for names without a number (`GLIBC_PRIVATE`)."""
    match = _VERSION_RE.match(name)
    if match is None:
        return None
    return match["prefix"], tuple(int(part) for part in match["number"].split("."))


def version_key(number: str) -> tuple[int, ...]:
    """Numeric sort key for "2.34" style numbers, so that 2.2.5 < 2.17."""
    return tuple(int(part) for part in number.split(".") if part.isdigit())


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class VersionRequirement(Record):
    """One `.gnu.version_r` entry: `library` must define `version`; `symbols` are why."""

    library: str
    version: str
    weak: bool = False
    symbols: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class LibcInfo(Record):
    family: LibcFamily
    confidence: Confidence
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class GoInfo(Record):
    version: str | None = None
    main_module: str | None = None
    dependencies: tuple[tuple[str, str], ...] = ()
    settings: tuple[tuple[str, str], ...] = ()

    def setting(self, key: str) -> str | None:
        return next((value for name, value in self.settings if name == key), None)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class RustInfo(Record):
    rustc_version: str | None = None
    crates: tuple[tuple[str, str], ...] = ()
    crates_source: str | None = None  # "cargo-auditable" or "panic-paths"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Toolchain(Record):
    """What built the binary, as far as the binary itself says."""

    language: str | None = None  # "go", "rust", "c", "c++", "zig", ...
    compilers: tuple[str, ...] = ()  # `.comment` lines
    go: GoInfo | None = None
    rust: RustInfo | None = None
    x86_isa_needed: int | None = None  # x86-64-v<N> from .note.gnu.property
    aarch64_features: tuple[str, ...] = ()  # BTI, PAC from .note.gnu.property
    min_kernel: str | None = None  # from .note.ABI-tag
    build_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class RuntimeClient(Record):
    """A Lambda Runtime API client found inside the binary."""

    name: str  # "aws-lambda-rust", "aws-lambda-go", "aws-lambda-cpp", ..., "custom"
    version: str | None = None
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class InterfaceSymbols(Record):
    """The dynamic symbols that bind a native module to a language runtime: a Node addon's
    registration exports (`node_register_module_v108`, `napi_register_module_v1`) and Node-API
    imports, a Python extension's C-API imports. Read only when the file names any of them."""

    exported: tuple[str, ...] = ()  # defined: node_register_module_v*, napi_register_module_v*
    imported: tuple[str, ...] = ()  # undefined: napi_*, node_api_*, node_module_register, Py*
    node_api_declared: int | None = None  # what node_api_module_get_api_version_v1 returns
    node_module_version: int | None = None  # a classic NODE_MODULE addon's nm_version


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Origin(Record):
    """Where a native file came from, as its packaging tool recorded it (`*.dist-info`,
    `package.json`, a gem folder, a jar, `*.deps.json`): the JSON report's `origin` key."""

    ecosystem: str  # "python", "nodejs", "ruby", "java", "dotnet"
    package: str | None = None  # "pydantic-core"
    version: str | None = None  # "2.27.2"
    tag: str | None = None  # "cp313-cp313-manylinux_2_17_x86_64" (wheel tag, npm os-cpu, ...)
    abi: str | None = None  # "cpython-3.13", "abi3-3.9", "node-abi-115", "napi-9", "ruby-3.3.0"
    installer: str | None = None  # "pip", "uv", "npm", ... when the metadata says so


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class BinaryFacts(Record):
    """Everything linkscope knows about one ELF file. Rules see only this, never the file."""

    path: str
    size: int
    elf_class: int
    endianness: str
    machine: str
    e_machine: int
    os_abi: str
    elf_type: ElfType
    entry: int
    linkage: Linkage
    interpreter: str | None = None
    arm_float_abi: str | None = None  # "hard" or "soft" for 32-bit ARM
    needed: tuple[str, ...] = ()
    rpath: tuple[str, ...] = ()
    runpath: tuple[str, ...] = ()
    soname: str | None = None
    flags: tuple[str, ...] = ()
    flags_1: tuple[str, ...] = ()
    version_requirements: tuple[VersionRequirement, ...] = ()
    version_definitions: tuple[str, ...] = ()
    libc: LibcInfo = field(
        default_factory=lambda: LibcInfo(family=LibcFamily.UNKNOWN, confidence=Confidence.GUESS)
    )
    toolchain: Toolchain = field(default_factory=Toolchain)
    runtime_client: RuntimeClient | None = None
    mode: int | None = None  # Unix mode bits when known (folders, zips made on Unix)
    interface: InterfaceSymbols | None = None  # language-runtime symbols (Node-API, CPython)
    # False: a large shared library read for a check verdict only, without the facts that only
    # `inspect` reports (compilers, Rust/Go build info; README "What check reads").
    complete: bool = field(default=True, compare=False)
    origin: Origin | None = None  # the package that put it there (set by the ecosystem stage)

    @property
    def is_shared_library(self) -> bool:
        return self.elf_type is ElfType.SHARED_LIBRARY

    @property
    def is_executable(self) -> bool:
        return self.elf_type in (ElfType.EXECUTABLE, ElfType.PIE_EXECUTABLE)

    @property
    def required_versions(self) -> dict[str, str]:
        """Highest version per prefix over every requirement (`{"GLIBC": "2.34"}`), weak ones
        included: `weak_versions` says which of these only weak requirements ask for."""
        return highest_and_strong(self.version_requirements)[0]

    @property
    def weak_versions(self) -> dict[str, str]:
        """The entries of `required_versions` that only weak requirements ask for (ld.so starts
        the program without them): `{"GLIBC": "2.34"}` when the highest GLIBC_ is weak."""
        return weak_only(*highest_and_strong(self.version_requirements))


def highest_and_strong(
    requirements: Iterable[VersionRequirement],
) -> tuple[dict[str, str], dict[str, str]]:
    """The highest version per prefix (`{"GLIBC": "2.34", "GLIBCXX": "3.4.30"}`, prefixes
    sorted) over every requirement, and over the strong (not weak) ones, in one pass: a batch
    of thousands of files renders both for each."""
    best: dict[str, tuple[int, ...]] = {}
    strong: dict[str, tuple[int, ...]] = {}
    for requirement in requirements:
        parsed = split_version(requirement.version)
        if parsed is None:
            continue
        prefix, number = parsed
        if number > best.get(prefix, ()):
            best[prefix] = number
        if not requirement.weak and number > strong.get(prefix, ()):
            strong[prefix] = number
    return _joined(best), _joined(strong)


def weak_only(everything: dict[str, str], strong: dict[str, str]) -> dict[str, str]:
    """`BinaryFacts.weak_versions` from `highest_and_strong`'s two answers."""
    return {p: v for p, v in everything.items() if strong.get(p) != v}


def _joined(best: dict[str, tuple[int, ...]]) -> dict[str, str]:
    return {prefix: ".".join(map(str, number)) for prefix, number in sorted(best.items())}


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class ScriptFacts(Record):
    """A non-ELF file that starts with `#!` (a script bootstrap or extension)."""

    path: str
    interpreter: str
    argument: str | None = None
    crlf: bool = False
    mode: int | None = None


class EntryKind(str, Enum):
    ELF = "elf"
    NATIVE = "native"  # native code that is not ELF: Mach-O, PE/COFF
    SCRIPT = "script"
    OTHER = "other"
    DIRECTORY = "directory"
    SYMLINK = "symlink"
    UNREADABLE = "unreadable"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class PackageEntry(Record):
    """One file of a deployment package, as Lambda will lay it out."""

    inner: str  # path inside the package ("bootstrap", "lib/libfoo.so")
    location: str  # as reports show it
    kind: EntryKind
    size: int
    mode: int | None = None
    symlink_target: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class NativeFile(Record):
    """Native code that is not ELF (Mach-O from a Mac, PE/COFF from Windows), from its magic
    bytes: Linux's loader rejects it with `invalid ELF header`."""

    path: str  # location, as reports show it
    inner: str
    format: str  # "mach-o", "mach-o-fat", "pe"
    os: str  # "macOS" or "Windows"
    machines: tuple[str, ...] = ()  # canonical names where known ("x86_64", "aarch64")
    file_type: str | None = None  # "bundle", "dylib", "executable", "dll", ...
    size: int = 0
    origin: Origin | None = None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class MetadataFile(Record):
    """A small packaging metadata file read from the package (`*.dist-info/WHEEL`, `RECORD`,
    `METADATA`, `package.json`, `*.deps.json`, gemspecs), decoded as UTF-8 and bounded in size."""

    inner: str
    location: str
    text: str
    truncated: bool = False


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Classification(Record):
    """What one ecosystem (linkscope/ecosystems/<name>.py) says about one package. Each
    ecosystem module subclasses this with its own facts (python.PythonPackage, ...)."""

    ecosystem: str  # "python", "nodejs", "ruby", "java", "dotnet", "os-only"
    evidence: tuple[str, ...] = ()  # why the package is for this language, in plain words
    weight: int = 0  # how strongly: handler files and installed metadata count most
    origins: tuple[tuple[str, Origin], ...] = ()  # member location -> where it came from
    loaded: tuple[str, ...] = ()  # inner paths this runtime would load as native code
    ignored: tuple[str, ...] = ()  # inner paths it never loads (another platform's module, ...)
    runtime_hint: str | None = None  # the runtime its native files were installed for


C = TypeVar("C", bound=Classification)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Ecosystems(Record):
    """Every ecosystem's classification of one package, and the language it is for."""

    language: str | None = None  # the ecosystem with the most weight; None: no sign at all
    parts: tuple[Classification, ...] = ()  # the system's, and each language's with signs

    def part(self, kind: type[C]) -> C | None:
        return next((p for p in self.parts if isinstance(p, kind)), None)

    def origin(self, location: str) -> Origin | None:
        for part in self.parts:
            for where, origin in part.origins:
                if where == location:
                    return origin
        return None

    def loaded(self) -> frozenset[str]:
        return frozenset(inner for part in self.parts for inner in part.loaded)

    def ignored(self) -> frozenset[str]:
        return frozenset(inner for part in self.parts for inner in part.ignored)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class ScannedPackage(Record):
    """A function zip, layer or folder after reading: its entries and what was read from them."""

    source: str
    kind: str  # "file", "folder", "zip"
    entries: tuple[PackageEntry, ...]
    binaries: tuple[BinaryFacts, ...]
    scripts: tuple[ScriptFacts, ...] = ()
    problems: tuple[FileProblem, ...] = ()
    zipped_size: int | None = None
    notes: tuple[str, ...] = ()
    natives: tuple[NativeFile, ...] = ()  # Mach-O and PE files
    metadata: tuple[MetadataFile, ...] = ()  # packaging metadata read for the ecosystem stage
    ecosystems: Ecosystems = field(default_factory=Ecosystems)
    image: ImageFacts | None = None  # set for a container image (kind "image")

    def binary(self, inner: str) -> BinaryFacts | None:
        location = next((e.location for e in self.entries if e.inner == inner), None)
        return next((b for b in self.binaries if b.path == location), None)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Finding(Record):
    rule: str
    severity: Severity
    path: str
    message: str
    fix: str = ""
    library: str | None = None
    version: str | None = None
    symbols: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class FileProblem(Record):
    """A file that could not be read as ELF inside a scan (reported, the scan goes on)."""

    path: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class RuntimeRef(Record):
    name: str
    arch: str


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Report(Record):
    binaries: tuple[BinaryFacts, ...]
    findings: tuple[Finding, ...] = ()
    problems: tuple[FileProblem, ...] = ()
    runtime: RuntimeRef | None = None
    verdict: str | None = None  # "compatible" | "incompatible" | None for inspect
    ignored: int = 0  # findings that --ignore left out (the table's summary line counts them)
    notes: tuple[str, ...] = ()  # warnings for stderr (e.g. --runtime names another language)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class ImageLayer(Record):
    """One layer of a container image, as its manifest describes it and as it was read."""

    digest: str  # the manifest's digest, or the docker save path when it gives none
    media_type: str | None  # None in a classic docker save (manifest.json has no media types)
    compression: str  # "tar", "gzip", "zstd" (sniffed from the bytes)
    size: int  # compressed (as stored)
    uncompressed_size: int
    hard_links: int = 0


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class IndexEntry(Record):
    media_type: str
    digest: str
    platform: str | None  # "linux/amd64", "linux/arm64/v8", "unknown/unknown"
    attestation: bool = False  # a buildx attestation manifest (vnd.docker.reference.type)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class ImageFacts(Record):
    """What a container image says about itself: the manifest Lambda would be given, the config
    (architecture, ENTRYPOINT, CMD, Env, WORKDIR) and its layers. Rules LS701-LS705 read this."""

    format: str  # "docker-save", "docker-save-oci" (Docker 25+), "oci-layout", "oci-archive"
    manifest_media_type: str | None
    config_media_type: str | None
    index_media_type: str | None = None  # set when the top level is an index or manifest list
    index: tuple[IndexEntry, ...] = ()  # the entries of that index (nested ones flattened)
    architecture: str | None = None
    variant: str | None = None
    os: str | None = None
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    env: tuple[tuple[str, str], ...] = ()
    workdir: str | None = None
    user: str | None = None
    layers: tuple[ImageLayer, ...] = ()
    # The entrypoint file (argv[0], links followed) contains Runtime API markers: a script or
    # program that speaks the Runtime API itself.
    entrypoint_speaks_api: bool = False
    entrypoint_resolved: str | None = None  # argv[0] after PATH lookup and symlinks, if found
    # The image's loader configuration: /etc/ld.so.cache (bytes, as ldconfig wrote it) and the
    # folders /etc/ld.so.conf and its includes list.
    ld_cache: bytes | None = field(default=None, repr=False)
    ld_so_conf: tuple[str, ...] = ()

    @property
    def argv(self) -> tuple[str, ...]:
        return (self.entrypoint or ()) + (self.cmd or ())

    def env_value(self, key: str) -> str | None:
        return next((value for name, value in self.env if name == key), None)

    @property
    def uncompressed_size(self) -> int:
        return sum(layer.uncompressed_size for layer in self.layers)
