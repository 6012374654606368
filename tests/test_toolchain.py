"""Toolchain fingerprints: asserted for every fixture whose toolchain the recipe knows.

Expected values come from fixtures/manifest.json (toolchain per fixture) and fixtures/README.md
("Recorded toolchain versions": go1.19.8, rustc 1.95.0, GCC 12.2.0, zig's clang/LLD 22.1.8), never
from linkscope itself.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import fixture_path, manifest

from linkscope.elf import facts_from_file
from linkscope.elf.gobuildinfo import _parse_modinfo
from linkscope.elf.image import Image
from linkscope.elf.parse import parse
from linkscope.elf.toolchain import compilers_of, find_go_version, guess_builder, parse_compiler
from linkscope.model import BinaryFacts

GO_VERSION = "go1.19.8"
RUSTC = "1.95.0"
GCC = "12.2.0"
ZIG_LLVM = "22.1.8"
ELF_TOOLCHAINS = ("zig", "zig-c++", "gcc", "g++", "musl-gcc", "go", "rustc", "cargo-zigbuild")


def known() -> list[dict[str, Any]]:
    return [
        e
        for e in manifest()
        if e["toolchain"] in ELF_TOOLCHAINS and e.get("format") in (None, "elf")
    ]


def facts(entry: dict[str, Any]) -> BinaryFacts:
    return facts_from_file(str(fixture_path(entry["name"])))


def versions(b: BinaryFacts, name: str) -> set[str]:
    return {c.version for c in compilers_of(b) if c.name == name}


@pytest.mark.parametrize("entry", known(), ids=lambda e: e["name"])
def test_fingerprint_matches_recipe(entry: dict[str, Any]) -> None:
    b = facts(entry)
    tc, builder = b.toolchain, guess_builder(b)
    kind = entry["toolchain"]
    assert builder is not None
    if kind in ("zig", "zig-c++"):
        assert versions(b, "clang") == {ZIG_LLVM} and versions(b, "LLD") == {ZIG_LLVM}
        assert builder.name == ("zig c++" if kind == "zig-c++" else "zig cc")
        assert tc.language == (
            "c++" if kind == "zig-c++" or entry["source"].endswith(".cpp") else "c"
        )
        assert tc.build_id is None
    elif kind in ("gcc", "g++", "musl-gcc"):
        assert GCC in versions(b, "GCC")
        assert builder.name == kind
        assert tc.language == ("c++" if kind == "g++" else "c")
    elif kind == "go":
        assert tc.language == "go" and tc.go is not None
        assert tc.go.version == GO_VERSION
        assert tc.go.main_module == "command-line-arguments"  # GOPATH mode, built from main.go
        assert tc.go.dependencies == ()  # GOPATH mode: no dep lines
        assert tc.go.setting("CGO_ENABLED") == ("1" if "cgo" in entry["name"] else "0")
        assert tc.go.setting("GOARCH") == {"x86_64": "amd64", "aarch64": "arm64"}[entry["machine"]]
        assert tc.go.setting("-trimpath") == "true"
        assert builder.name == "go"
    else:  # rustc, cargo-zigbuild
        assert tc.language == "rust" and tc.rust is not None
        assert tc.rust.rustc_version == RUSTC
        assert builder.name == ("cargo" if kind == "rustc" else "cargo-zigbuild")
        if kind == "cargo-zigbuild":
            assert versions(b, "clang") == {ZIG_LLVM}
    # .note.ABI-tag: glibc's own crt (gcc) says 3.2.0 on x86_64 and 3.7.0 on aarch64; zig's 2.0.0;
    # musl and Go write none.
    # crt files (and their ABI tag) come with executables, not with shared libraries
    executable = not entry.get("soname") and entry.get("elf_type") != "DYN"
    if entry["libc"] == "glibc" and kind in ("gcc", "g++") and executable:
        assert tc.min_kernel == {"x86_64": "3.2.0", "aarch64": "3.7.0"}[entry["machine"]]
    if kind in ("zig", "zig-c++", "cargo-zigbuild") and entry["libc"] == "glibc" and executable:
        assert tc.min_kernel == "2.0.0"
    if entry["libc"] in ("musl", "none"):
        assert tc.min_kernel is None


def test_every_toolchain_kind_is_covered() -> None:
    assert {e["toolchain"] for e in known()} == set(ELF_TOOLCHAINS)


def test_x86_isa_level_from_gnu_property() -> None:
    entry = next(e for e in manifest() if e.get("isa_needed"))
    level = int(entry["isa_needed"].rsplit("v", 1)[1])
    assert facts(entry).toolchain.x86_isa_needed == level
    plain = next(e for e in manifest() if e["name"] == "c_hello_gcc_pie_x86_64")
    assert facts(plain).toolchain.x86_isa_needed == 1  # baseline only


def test_go_version_fallback_reads_runtime_string() -> None:
    data = fixture_path("go_hello_static_x86_64").read_bytes()
    assert find_go_version(parse(Image(data, "go"))) == GO_VERSION


def test_go_version_fallback_when_build_info_is_removed() -> None:
    data = bytearray(fixture_path("go_hello_static_x86_64").read_bytes())
    at = data.find(b"\xff Go buildinf:")
    assert at > 0
    data[at : at + 14] = b"\x00" * 14  # as if build info had been stripped
    b = facts_from_bytes_(bytes(data))
    assert b.toolchain.go is not None
    assert b.toolchain.go.version == GO_VERSION
    assert b.toolchain.go.main_module is None


def facts_from_bytes_(data: bytes) -> BinaryFacts:
    from linkscope.elf import facts_from_bytes

    return facts_from_bytes(data, "patched")


def test_modinfo_parsing_modules_replacements_and_tags() -> None:
    text = (
        "path\texample.com/fn\nmod\texample.com/fn\t(devel)\t\n"
        "dep\tgithub.com/aws/aws-lambda-go\tv1.47.0\th1:abc=\n"
        "dep\tgolang.org/x/sys\tv0.1.0\th1:def=\n=>\t../sys\t\t\n"
        "build\t-tags=lambda.norpc\nbuild\tCGO_ENABLED=0\nbuild\tGOARCH=arm64\n"
    )
    info = _parse_modinfo("go1.22.4", text)
    assert info.version == "go1.22.4"
    assert info.main_module == "example.com/fn"
    assert info.dependencies == (
        ("github.com/aws/aws-lambda-go", "v1.47.0"),
        ("golang.org/x/sys", "v0.1.0 => ../sys"),
    )
    assert info.setting("-tags") == "lambda.norpc"
    assert info.setting("GOARCH") == "arm64"


@pytest.mark.parametrize(
    ("line", "name", "version", "vendor"),
    [
        ("GCC: (Debian 12.2.0-14+deb12u1) 12.2.0", "GCC", "12.2.0", "Debian 12.2.0-14+deb12u1"),
        ("GCC: (GNU) 10.2.1 20210130 (Red Hat 10.2.1-11)", "GCC", "10.2.1", None),
        (
            "GCC: (crosstool-NG 1.24.0.388_94b98a4) 4.8.5",
            "GCC",
            "4.8.5",
            "crosstool-NG 1.24.0.388_94b98a4",
        ),
        ("clang version 22.1.8", "clang", "22.1.8", None),
        (
            "Ubuntu clang version 18.1.8 (++20240731024944+3b5b5c1ec4a3-1~exp1~20240731145000.144)",
            "clang",
            "18.1.8",
            "Ubuntu",
        ),
        ("Linker: LLD 23.1.5 (/checkout/src/llvm-project/llvm 0a5579eb)", "LLD", "23.1.5", None),
        ("rustc version 1.96.0-nightly (f5eca4fcf 2026-04-09)", "rustc", "1.96.0-nightly", None),
        ("mold 2.4.0 (compatible with GNU ld)", "mold", "2.4.0", None),
    ],
)
def test_parse_compiler(line: str, name: str, version: str, vendor: str | None) -> None:
    parsed = parse_compiler(line)
    assert parsed is not None
    assert (parsed.name, parsed.version, parsed.vendor, parsed.raw) == (name, version, vendor, line)


def test_parse_compiler_ignores_unknown_lines() -> None:
    assert parse_compiler("Android (123) something") is None
