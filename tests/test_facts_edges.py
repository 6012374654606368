"""Answers about one file at the edges (issue 15): the C library of a static cgo binary with
musl inside, a shared object with an entry point, weak version requirements, the 32-bit ARM
float ABI in LS101's message."""

from __future__ import annotations

import datetime
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from check_helpers import BIN, elf, package, req

from linkscope.elf import facts_from_file
from linkscope.elf.libc import LibcClues, classify
from linkscope.model import Confidence, ElfType, LibcFamily, Linkage
from linkscope.profiles import load_target
from linkscope.render.needs import needs_text
from linkscope.resolve import build_world
from linkscope.rules import arch
from linkscope.rules.base import Context

needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="builds its files with gcc")


def static_clues(*markers: bytes, go: bool) -> LibcClues:
    return LibcClues(
        linkage=Linkage.STATIC,
        interpreter=None,
        needed=(),
        requirements=(),
        abi_tag=False,
        android=False,
        go=go,
        markers=frozenset(markers),
    )


def test_static_cgo_binary_with_musl_inside_is_musl() -> None:
    """A Go program built with cgo and linked statically against musl carries musl (its
    strerror table); only a Go binary with no C library inside uses none."""
    info = classify(static_clues(b"No error information", go=True))
    assert (info.family, info.confidence) == (LibcFamily.MUSL, Confidence.LIKELY)
    assert any("cgo" in e for e in info.evidence)
    pure = classify(static_clues(go=True))
    assert (pure.family, pure.confidence) == (LibcFamily.NONE, Confidence.CERTAIN)


def _gcc(tmp_path: Path, name: str, source: str, *flags: str) -> Path:
    src = tmp_path / f"{name}.c"
    src.write_text(source)
    out = tmp_path / name
    subprocess.run(["gcc", "-o", str(out), str(src), *flags], check=True, capture_output=True)
    return out


@needs_gcc
def test_shared_object_with_an_entry_point_is_a_library(tmp_path: Path) -> None:
    """No SONAME, no DT_NEEDED, an entry point (-e): still a library, as its exported symbols
    say; a static-pie program exports nothing."""
    plugin = _gcc(
        tmp_path, "plugin.so", "int f(void){return 1;}", "-shared", "-fPIC", "-nostdlib", "-e", "f"
    )
    facts = facts_from_file(str(plugin))
    assert facts.entry != 0 and facts.soname is None and facts.needed == ()
    assert (facts.elf_type, facts.linkage) == (ElfType.SHARED_LIBRARY, Linkage.DYNAMIC)
    program = _gcc(tmp_path, "sp", "int main(void){return 0;}", "-static-pie")
    assert facts_from_file(str(program)).linkage is Linkage.STATIC_PIE


def test_weak_version_requirements_are_said() -> None:
    """`required_versions` keeps its meaning (the highest of all); `weak_versions` names those
    only weak requirements ask for, and the table's "needs" says so."""
    facts = elf(
        requirements=(
            req("libc.so.6", "GLIBC_2.17", "memcpy"),
            req("libc.so.6", "GLIBC_2.34", "__libc_start_main", weak=True),
            req("libstdc++.so.6", "GLIBCXX_3.4.30", weak=True),
            req("libgcc_s.so.1", "GCC_3.0"),
        )
    )
    assert facts.required_versions == {"GCC": "3.0", "GLIBC": "2.34", "GLIBCXX": "3.4.30"}
    assert facts.weak_versions == {"GLIBC": "2.34", "GLIBCXX": "3.4.30"}
    assert needs_text(facts) == "GCC 3.0, GLIBC 2.17 (2.34 weak), GLIBCXX 3.4.30 (weak)"
    assert elf(requirements=(req("libc.so.6", "GLIBC_2.17"),)).weak_versions == {}


def test_ls101_names_the_arm_float_abi() -> None:
    facts = replace(facts_from_file(str(BIN / "c_hello_zig_glibc2.17_arm")), path="bootstrap")
    assert facts.arm_float_abi == "hard"
    world = build_world(package(facts), [], load_target("provided.al2023", "arm64"))
    (finding,) = arch.ARCHITECTURE.check(world, Context(today=datetime.date(2026, 12, 1)))
    assert "arm (hard-float)" in finding.message
    assert "float ABI" in arch.ARCHITECTURE.help and "no 32-bit ARM" in arch.ARCHITECTURE.help
