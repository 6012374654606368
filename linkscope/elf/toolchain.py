"""What built the binary: Go, Rust, GCC, clang, LLD, zig; from sections and notes already read."""

from __future__ import annotations

import re
import zlib

from linkscope.elf.gobuildinfo import read_go_buildinfo
from linkscope.elf.parse import Parsed
from linkscope.model import GoInfo, RustInfo, Toolchain

GO_SECTIONS = (".go.buildinfo", ".gopclntab", ".note.go.buildid", ".data.rel.ro.gopclntab")
RUSTC_RE = re.compile(r"rustc version (\d+\.\d+\.\d+[^\s]*)")
GO_VERSION_RE = re.compile(rb"go1\.\d+(?:\.\d+)?(?:(?:rc|beta)\d+)?")
REGISTRY_RE = re.compile(
    rb"registry/src/[^/\x00]{1,80}/([A-Za-z0-9_][A-Za-z0-9_\-]{0,63})-(\d+\.\d+\.\d+[A-Za-z0-9.\-+]{0,40})/"
)
MAX_DEP_SECTION = 1 << 22


def is_go(parsed: Parsed) -> bool:
    if any(parsed.section(name) is not None for name in GO_SECTIONS):
        return True
    if parsed.notes.go_build_id is not None:
        return True
    return not parsed.sections and parsed.image.find(b"\xff Go buildinf:") >= 0


def detect_toolchain(parsed: Parsed, *, go: bool) -> Toolchain:
    compilers = _comment_lines(parsed)
    go_info = _go_info(parsed) if go else None
    rust = _rust_info(parsed, compilers)
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
    # Very old Go (before build info) still names its version in runtime.buildVersion.
    rodata = parsed.section_bytes(".rodata") or b""
    match = GO_VERSION_RE.search(rodata)
    return GoInfo(version=match.group().decode() if match else None)


def _rust_info(parsed: Parsed, compilers: tuple[str, ...]) -> RustInfo | None:
    version = next((m.group(1) for line in compilers if (m := RUSTC_RE.search(line))), None)
    crates = _auditable_crates(parsed)
    source = "cargo-auditable" if crates else None
    if not crates and (version is not None or parsed.section(".rustc") is not None):
        crates = _panic_path_crates(parsed)
        source = "panic-paths" if crates else None
    if version is None and not crates:
        return None
    return RustInfo(rustc_version=version, crates=crates, crates_source=source)


def _auditable_crates(parsed: Parsed) -> tuple[tuple[str, str], ...]:
    raw = parsed.section_bytes(".dep-v0", limit=MAX_DEP_SECTION)
    if not raw:
        return ()
    try:
        text = zlib.decompressobj().decompress(raw, 1 << 24)
        import json

        packages = json.loads(text).get("packages", [])
        return tuple(sorted({(str(p["name"]), str(p["version"])) for p in packages}))
    except (zlib.error, ValueError, KeyError, TypeError, AttributeError):
        return ()


def _panic_path_crates(parsed: Parsed) -> tuple[tuple[str, str], ...]:
    rodata = parsed.section_bytes(".rodata") or b""
    found = {(m.group(1).decode(), m.group(2).decode()) for m in REGISTRY_RE.finditer(rodata)}
    return tuple(sorted(found))


def _language(
    parsed: Parsed, compilers: tuple[str, ...], go: bool, rust: RustInfo | None
) -> str | None:
    if go:
        return "go"
    if rust is not None:
        return "rust"
    cxx = ("libstdc++.so.6", "libc++.so.1", "libc++.so")
    if any(name in parsed.needed for name in cxx) or any(
        r.version.startswith(("GLIBCXX_", "CXXABI_")) for r in parsed.requirements
    ):
        return "c++"
    if any("GCC:" in line or "clang" in line for line in compilers):
        return "c"
    return None
