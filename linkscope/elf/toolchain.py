"""What built the binary: Go, Rust, GCC, clang, LLD, zig; from sections and notes already read.

`detect_toolchain` fills `Toolchain` while the file is open. `parse_compiler` and `guess_builder`
are pure functions of facts already read, used by `explain` to name the toolchain in words.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass
from itertools import islice

from linkscope.elf.gobuildinfo import read_go_buildinfo
from linkscope.elf.image import search
from linkscope.elf.parse import Parsed
from linkscope.model import BinaryFacts, GoInfo, RustInfo, Toolchain

GO_SECTIONS = (".go.buildinfo", ".gopclntab", ".note.go.buildid", ".data.rel.ro.gopclntab")
RUSTC_RE = re.compile(r"rustc version (\d+\.\d+\.\d+[^\s]*)")
GO_VERSION_RE = re.compile(rb"go1\.\d+(?:\.\d+)?(?:(?:rc|beta)\d+)?")
GO_VERSION_STRING_RE = re.compile(GO_VERSION_RE.pattern + rb"(?![0-9])")
REGISTRY_RE = re.compile(
    rb"registry/src/[^/\x00]{1,80}/([A-Za-z0-9_][A-Za-z0-9_\-]{0,63})-(\d+\.\d+\.\d+[A-Za-z0-9.\-+]{0,40})/"
)
MAX_DEP_SECTION = 1 << 22
# Decompressed JSON bound: real dependency lists are tens of KiB; 16 MiB of `{},` parsed to
# 400 MiB of dicts (issue 7), and nesting must not reach json's recursion limit.
MAX_DEP_JSON = 1 << 20
MAX_PANIC_PATHS = 1 << 16  # registry paths read from .rodata; real binaries have hundreds
# Where runtime.buildVersion's text is looked for when build info is absent: never the whole file.
MAX_GO_VERSION_SCAN = 64 << 20
# The C++ runtime's own messages, present when it is linked statically (nothing in DT_NEEDED):
# libc++abi (LLVM, what zig c++ links) and libstdc++'s verbose terminate handler (GCC).
CXX_RUNTIME_MARKERS = (
    b"terminate_handler unexpectedly",
    b"terminate called after throwing",
    b"pure virtual method called",
    b"__cxa_guard_acquire",
)
TERMINATE = b"terminate"  # what the first two markers start with
MAX_TERMINATE_HITS = 256
CXX_LIBRARIES = ("libstdc++.so.6", "libc++.so.1", "libc++.so", "libc++abi.so.1")


def is_go(parsed: Parsed) -> bool:
    if any(parsed.section(name) is not None for name in GO_SECTIONS):
        return True
    if parsed.notes.go_build_id is not None:
        return True
    return not parsed.sections and parsed.image.find(b"\xff Go buildinf:") >= 0


def detect_toolchain(parsed: Parsed, *, go: bool) -> Toolchain:
    compilers = _comment_lines(parsed)
    go_info = _go_info(parsed) if go else None
    rust = None if go else _rust_info(parsed, compilers)
    return Toolchain(
        language=_language(parsed, compilers, go_info is not None or go, rust),
        compilers=compilers,
        go=go_info,
        rust=rust,
        x86_isa_needed=parsed.notes.x86_isa_needed,
        aarch64_features=parsed.notes.aarch64_features,
        min_kernel=parsed.notes.abi_tag[1] if parsed.notes.abi_tag else None,
        build_id=parsed.notes.build_id,
    )


def _comment_lines(parsed: Parsed) -> tuple[str, ...]:
    raw = parsed.section_bytes(".comment", limit=1 << 16)
    if not raw:
        return ()
    lines = (part.decode("utf-8", "replace").strip() for part in raw.split(b"\0"))
    return tuple(dict.fromkeys(line for line in lines if line))


def _go_info(parsed: Parsed) -> GoInfo:
    info = read_go_buildinfo(parsed)
    if info is not None:
        return info
    # Without build info (stripped on purpose, or Go before 1.13) the runtime still names its
    # version in runtime.buildVersion, a string in .rodata (or anywhere, without sections).
    return GoInfo(version=find_go_version(parsed))


def find_go_version(parsed: Parsed) -> str | None:
    section = parsed.section(".rodata") or parsed.section(".go.buildinfo")
    start, end = (
        (section.offset, section.offset + section.size) if section else (0, parsed.image.size)
    )
    end = min(end, start + MAX_GO_VERSION_SCAN, parsed.image.size)
    # runtime.buildVersion is a Go string: not NUL-terminated, but never followed by a digit. One
    # regex pass: a loop over every "go1." took seconds on a file made of them (issue 7).
    match = search(parsed.image, GO_VERSION_STRING_RE, start, end)
    return match.group().decode() if match is not None else None


def _rust_info(parsed: Parsed, compilers: tuple[str, ...]) -> RustInfo | None:
    version = next((m.group(1) for line in compilers if (m := RUSTC_RE.search(line))), None)
    crates = auditable_crates(parsed)
    source = "cargo-auditable" if crates else None
    if not crates and (version is not None or parsed.section(".rustc") is not None):
        crates = panic_path_crates(parsed)
        source = "panic-paths" if crates else None
    if version is None and not crates:
        return None
    return RustInfo(rustc_version=version, crates=crates, crates_source=source)


def auditable_crates(parsed: Parsed) -> tuple[tuple[str, str], ...]:
    """cargo-auditable's `.dep-v0`: zlib-compressed JSON `{"packages": [{"name", "version"}]}`."""
    raw = parsed.section_bytes(".dep-v0", limit=MAX_DEP_SECTION)
    if not raw:
        return ()
    try:
        text = zlib.decompressobj().decompress(raw, MAX_DEP_JSON)
        packages = json.loads(text).get("packages", [])
        return tuple(sorted({(str(p["name"]), str(p["version"])) for p in packages}))
    except (zlib.error, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return ()


def panic_path_crates(parsed: Parsed) -> tuple[tuple[str, str], ...]:
    """Crates named by the source paths that panic messages embed
    (`registry/src/<index>/<name>-<ver>/`)."""
    rodata = parsed.section_bytes(".rodata") or b""
    # Bounded: 64 MiB of distinct hostile paths would be millions of tuples (issue 7).
    matches = islice(REGISTRY_RE.finditer(rodata), MAX_PANIC_PATHS)
    found = {(m.group(1).decode(), m.group(2).decode()) for m in matches}
    return tuple(sorted(found))


def _language(
    parsed: Parsed, compilers: tuple[str, ...], go: bool, rust: RustInfo | None
) -> str | None:
    if go:
        return "go"
    if rust is not None:
        return "rust"
    if any(name in parsed.needed for name in CXX_LIBRARIES) or any(
        r.version.startswith(("GLIBCXX_", "CXXABI_")) for r in parsed.requirements
    ):
        return "c++"
    if _static_cxx_runtime(parsed):
        return "c++"
    if any(parse_compiler(line) is not None for line in compilers):
        return "c"
    return None


def _static_cxx_runtime(parsed: Parsed) -> bool:
    section = parsed.section(".rodata")
    if section is None or section.sh_type == 8:
        return False
    end = min(section.offset + section.size, parsed.image.size)
    # Both messages start with "terminate": one pass finds its rare occurrences (none in most C
    # programs), each then compared with the two messages.
    image, markers = parsed.image, CXX_RUNTIME_MARKERS[:2]
    longest = max(map(len, markers))
    position = image.find(TERMINATE, section.offset, end)
    for _ in range(MAX_TERMINATE_HITS):
        if position < 0:
            return False
        if image.read(position, min(longest, end - position), "string").startswith(markers):
            return True
        position = image.find(TERMINATE, position + 1, end)
    # A section made of the word (hostile) costs two plain passes, not a Python loop per hit.
    return any(image.find(m, position, end) >= 0 for m in markers)


# ---- pure interpretation of facts already read (used by explain) ----


@dataclass(frozen=True, slots=True, kw_only=True)
class Compiler:
    """One `.comment` line in structured form: `GCC: (Debian 12.2.0-14) 12.2.0` ->
    name "GCC", version "12.2.0", vendor "Debian 12.2.0-14"."""

    name: str  # "GCC", "clang", "LLD", "rustc", "GNU ld", "gold", "mold"
    version: str
    vendor: str | None = None
    raw: str = ""


_COMPILER_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("GCC", re.compile(r"^GCC: \((?P<vendor>[^)]*)\) (?P<version>\d+(?:\.\d+)+)")),
    ("rustc", re.compile(r"^rustc version (?P<version>\d+\.\d+\.\d+[\w.\-]*)")),
    ("LLD", re.compile(r"^Linker: LLD (?P<version>\d+(?:\.\d+)+[\w.\-]*)")),
    (
        "clang",
        re.compile(
            r"^(?:(?P<vendor>[\w.\-]+(?: [\w.\-]+)?) )?clang version "
            r"(?P<version>\d+(?:\.\d+)+[\w.\-]*)"
        ),
    ),
    ("GNU ld", re.compile(r"^Linker: GNU ld \((?P<vendor>[^)]*)\) (?P<version>\d+(?:\.\d+)+)")),
    ("gold", re.compile(r"^GNU gold \((?P<vendor>[^)]*)\) (?P<version>\d+(?:\.\d+)+)")),
    ("mold", re.compile(r"^mold (?P<version>\d+(?:\.\d+)+)")),
)


def parse_compiler(line: str) -> Compiler | None:
    for name, pattern in _COMPILER_PATTERNS:
        match = pattern.match(line)
        if match is not None:
            vendor = match.groupdict().get("vendor")
            if name == "GCC" and vendor == "GNU":
                vendor = None
            return Compiler(name=name, version=match["version"], vendor=vendor or None, raw=line)
    return None


def compilers_of(facts: BinaryFacts) -> tuple[Compiler, ...]:
    return tuple(c for line in facts.toolchain.compilers if (c := parse_compiler(line)) is not None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Builder:
    """The toolchain in words ("zig cc", "cargo-zigbuild", "gcc", "go"), with its evidence."""

    name: str
    certain: bool
    evidence: tuple[str, ...]


def guess_builder(facts: BinaryFacts) -> Builder | None:  # noqa: PLR0911 - one return per builder
    tc = facts.toolchain
    compilers = compilers_of(facts)
    if tc.go is not None:
        why = (
            f"Go build info: {tc.go.version}"
            if tc.go.main_module
            else (f"Go runtime version string {tc.go.version}" if tc.go.version else "Go sections")
        )
        return Builder(name="go", certain=True, evidence=(why,))
    zig = _zig_evidence(facts, compilers)
    if tc.rust is not None:
        rust_why = (
            f".comment: rustc version {tc.rust.rustc_version}"
            if tc.rust.rustc_version
            else f"crates from {tc.rust.crates_source}"
        )
        if zig:
            return Builder(name="cargo-zigbuild", certain=False, evidence=(rust_why, *zig))
        return Builder(name="cargo", certain=True, evidence=(rust_why,))
    if zig:
        cxx = tc.language == "c++"
        return Builder(name="zig c++" if cxx else "zig cc", certain=False, evidence=zig)
    gcc = [c for c in compilers if c.name == "GCC"]
    clang = [c for c in compilers if c.name == "clang"]
    if facts.libc.family.value == "musl" and gcc and not clang:
        return Builder(
            name="musl-gcc", certain=False, evidence=(f".comment: {gcc[-1].raw}", "musl C library")
        )
    if clang:
        return Builder(
            name="clang++" if tc.language == "c++" else "clang",
            certain=True,
            evidence=(f".comment: {clang[0].raw}",),
        )
    if gcc:
        return Builder(
            name="g++" if tc.language == "c++" else "gcc",
            certain=True,
            evidence=(f".comment: {gcc[-1].raw}",),
        )
    return None


def _zig_evidence(facts: BinaryFacts, compilers: tuple[Compiler, ...]) -> tuple[str, ...]:
    """zig's bundled clang/LLD: `clang version X` and `Linker: LLD X` with no vendor (or zig's
    own bootstrap URL), no build-id, and on glibc zig's `.note.ABI-tag` for Linux 2.0.0."""
    clang = next((c for c in compilers if c.name == "clang"), None)
    lld = next((c for c in compilers if c.name == "LLD"), None)
    if clang is None or lld is None:
        return ()
    if "ziglang" in clang.raw or "zig-bootstrap" in clang.raw:
        return (f".comment: {clang.raw}",)
    if clang.vendor or clang.version != lld.version or "(" in clang.raw:
        return ()
    if facts.toolchain.build_id is not None:
        return ()
    evidence = [
        f".comment: clang {clang.version} and LLD {lld.version} with no vendor",
        "no build-id",
    ]
    if facts.toolchain.min_kernel == "2.0.0":
        evidence.append(".note.ABI-tag Linux 2.0.0 (zig's glibc startup files)")
    return tuple(evidence)
