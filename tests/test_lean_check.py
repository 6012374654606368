"""check reads large shared libraries lean (linkscope/elf/lean.py: no section headers, no content
scans) and re-reads in full the files its findings are about. Nothing it reports may change:
these tests force the lean read onto every library (the threshold at 0 bytes) and compare
check's findings and verdict, and the facts the checks use, with the full read."""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

import pytest
from conftest import BIN
from package_helpers import HOST_LIBSTDCXX, Item, make_zip

import linkscope.elf.facts
from linkscope import api
from linkscope.elf import facts_from_bytes, is_elf
from linkscope.model import BinaryFacts, Report

TODAY = datetime.date(2026, 11, 29)
ELVES = sorted(p for p in BIN.rglob("*") if p.is_file() and is_elf(p.read_bytes()[:4]))
HOST_LIBRARIES = [
    Path("/usr/lib/x86_64-linux-gnu") / name
    for name in ("libstdc++.so.6", "libc.so.6", "libcrypto.so.3", "libssl.so.3", "libz.so.1")
]


def _check(paths: list[str], runtime: str, *, lean_above: int) -> Report:
    patch = pytest.MonkeyPatch()
    patch.setattr(linkscope.elf.facts, "LEAN_ABOVE", lean_above)
    try:
        return api.check(paths, runtime, today=TODAY)
    finally:
        patch.undo()


def _same_check(paths: list[str], runtime: str = "provided.al2") -> Report:
    lean = _check(paths, runtime, lean_above=0)
    full = _check(paths, runtime, lean_above=1 << 62)
    assert lean.verdict == full.verdict
    assert lean.findings == full.findings
    return lean


def test_the_threshold_is_the_one_the_client_search_uses() -> None:
    from linkscope.elf.client import MAX_LIBRARY_SCAN

    assert linkscope.elf.facts.LEAN_ABOVE == MAX_LIBRARY_SCAN


@pytest.mark.parametrize("name", [str(p.relative_to(BIN)) for p in ELVES])
def test_each_fixture_in_a_zip_checks_the_same(name: str, tmp_path: Path) -> None:
    path = make_zip(
        tmp_path / "function.zip",
        [
            Item("bootstrap", BIN / "go_bootstrap_x86_64"),
            Item(f"lib/{Path(name).name}", BIN / name),
        ],
    )
    for runtime in ("provided.al2", "provided.al2023"):
        _same_check([str(path)], runtime)


def test_a_zip_of_every_fixture_checks_the_same_and_some_are_lean(tmp_path: Path) -> None:
    items = [Item("bootstrap", BIN / "c_hello_gcc_pie_x86_64")]
    items += [Item(f"lib/{p.name}", p, mode=0o644) for p in ELVES]
    items += [Item(f"lib/{p.name}", p, mode=0o644) for p in HOST_LIBRARIES if p.exists()]
    path = make_zip(tmp_path / "function.zip", items)
    report = _same_check([str(path)])
    assert report.findings
    patch = pytest.MonkeyPatch()
    patch.setattr(linkscope.elf.facts, "LEAN_ABOVE", 0)
    try:
        (scanned,) = api.scan([str(path)], lean=True)
    finally:
        patch.undo()
    assert sum(not b.complete for b in scanned.binaries) >= 3  # the lean read did run
    # Every file a finding is about was read in full (its fix names its toolchain).
    about = {f.path for f in report.findings}
    assert all(b.complete for b in report.binaries if b.path in about)


def test_a_folder_with_host_libraries_checks_the_same(tmp_path: Path) -> None:
    if not HOST_LIBSTDCXX.exists():
        pytest.skip("no host libstdc++ to build the folder from")
    (tmp_path / "lib").mkdir()
    (tmp_path / "bootstrap").write_bytes((BIN / "cxx_tochars_gxx_x86_64").read_bytes())
    (tmp_path / "bootstrap").chmod(0o755)
    for library in HOST_LIBRARIES:
        if library.exists():
            (tmp_path / "lib" / library.name).write_bytes(library.read_bytes())
    report = _same_check([str(tmp_path)])
    assert report.verdict == "incompatible"  # this libstdc++ needs a newer glibc than al2's


def _verdict_facts(facts: BinaryFacts) -> BinaryFacts:
    """What a lean read leaves out (README: what check reads), blanked."""
    toolchain = dataclasses.replace(
        facts.toolchain, compilers=(), go=None, rust=None, language=None
    )
    return dataclasses.replace(facts, toolchain=toolchain, runtime_client=None)


@pytest.mark.parametrize("path", ELVES + [p for p in HOST_LIBRARIES if p.exists()], ids=str)
def test_lean_facts_equal_the_full_read_but_for_what_only_inspect_reports(path: Path) -> None:
    data = path.read_bytes()
    try:
        full = facts_from_bytes(data, path.name)
    except Exception:  # a corrupt fixture: the lean read must fail the same way
        with pytest.raises(Exception) as raised:
            facts_from_bytes(data, path.name, lean_above=0)
        assert "corrupt" in str(raised.value) or "not an ELF" in str(raised.value)
        return
    lean = facts_from_bytes(data, path.name, lean_above=0)
    if lean.complete:
        assert lean == full
        return
    assert full.is_shared_library
    assert _verdict_facts(lean) == _verdict_facts(full)
    assert lean.toolchain.x86_isa_needed == full.toolchain.x86_isa_needed
    assert lean.toolchain.min_kernel == full.toolchain.min_kernel
    if "libstdc++.so.6" in full.needed:  # C++ told by DT_NEEDED is kept
        assert lean.toolchain.language == full.toolchain.language == "c++"
