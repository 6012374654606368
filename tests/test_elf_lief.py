"""LIEF as a second, independent parser (test-only: linkscope never imports it).

On every ELF fixture and a spread sample of about 100 host ELF files: interpreter, DT_NEEDED,
SONAME, RPATH/RUNPATH, version requirements (library, version, weak), version definitions and the
symbols behind each needed version.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import BIN, manifest
from test_elf_differential import host_elf_files, spread_sample

from linkscope.elf import facts_from_file
from linkscope.model import BinaryFacts

lief: Any = pytest.importorskip("lief")
lief.logging.disable()

HOST_SAMPLE = 100
MAX_HOST_FILE = 64 << 20  # LIEF reads whole files; the biggest libraries would dominate the run
VER_FLG_BASE, VER_FLG_WEAK = 0x1, 0x2


def lief_facts(path: str) -> dict[str, Any]:
    binary = lief.ELF.parse(path)
    assert binary is not None, f"LIEF could not parse {path}"
    tag = lief.ELF.DynamicEntry.TAG
    soname = binary.get(tag.SONAME)
    rpath, runpath = [], []
    for entry in binary.dynamic_entries:
        if entry.tag == tag.RPATH:
            rpath.extend(entry.paths)
        elif entry.tag == tag.RUNPATH:
            runpath.extend(entry.paths)
    verneed = sorted(
        (need.name, aux.name, bool(aux.flags & VER_FLG_WEAK))
        for need in binary.symbols_version_requirement
        for aux in need.get_auxiliary_symbols()
    )
    verdef = sorted(
        definition.auxiliary_symbols[0].name
        for definition in binary.symbols_version_definition
        if not definition.flags & VER_FLG_BASE and definition.auxiliary_symbols
    )
    needed_versions = {version for _lib, version, _weak in verneed}
    pairs = set()
    for symbol in binary.dynamic_symbols:
        if symbol.shndx != 0 or not symbol.name or not symbol.has_version:
            continue
        version = symbol.symbol_version
        if version.has_auxiliary_version:
            name = version.symbol_version_auxiliary.name
            if name in needed_versions:
                pairs.add((symbol.name, name))
    return {
        "interpreter": binary.interpreter if binary.has_interpreter else None,
        "needed": list(binary.libraries),
        "soname": None if soname is None else soname.name,
        "rpath": [p for p in rpath if p],
        "runpath": [p for p in runpath if p],
        "verneed": verneed,
        "verdef": verdef,
        "symbols": pairs,
    }


def ours(facts: BinaryFacts) -> dict[str, Any]:
    return {
        "interpreter": facts.interpreter,
        "needed": list(facts.needed),
        "soname": facts.soname,
        "rpath": list(facts.rpath),
        "runpath": list(facts.runpath),
        "verneed": sorted((r.library, r.version, r.weak) for r in facts.version_requirements),
        "verdef": sorted(facts.version_definitions),
        "symbols": {(s, r.version) for r in facts.version_requirements for s in r.symbols},
    }


def differences(path: str) -> list[str]:
    theirs = lief_facts(path)
    mine = ours(facts_from_file(path))
    out = []
    for key in mine:
        if mine[key] == theirs[key]:
            continue
        if key == "symbols":
            out.append(
                f"symbols: only linkscope={sorted(mine[key] - theirs[key])[:20]} "
                f"only LIEF={sorted(theirs[key] - mine[key])[:20]}"
            )
        else:
            out.append(f"{key}: linkscope={mine[key]!r} LIEF={theirs[key]!r}")
    return out


FIXTURES = [
    e["name"]
    for e in manifest()
    if e["machine"] is not None and not e["name"].startswith("corrupt_")
]


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_matches_lief(name: str) -> None:
    problems = differences(str(BIN / name))
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)


def test_host_sample_matches_lief() -> None:
    files = [p for p in host_elf_files() if Path(p).stat().st_size <= MAX_HOST_FILE]
    if len(files) < HOST_SAMPLE:
        pytest.skip(f"only {len(files)} host ELF files to sample")
    sample = spread_sample(files, HOST_SAMPLE)
    assert len(sample) >= HOST_SAMPLE
    failures = [
        f"{path}:\n  " + "\n  ".join(problems) for path in sample if (problems := differences(path))
    ]
    assert not failures, f"{len(failures)} of {len(sample)} differ:\n" + "\n".join(failures)


def test_lief_side_sees_the_fixture_facts() -> None:
    """LIEF really reads what we compare (an empty LIEF answer would agree with a blind reader)."""
    got = lief_facts(str(BIN / "c_uselib_gcc_x86_64"))
    assert got["needed"] == ["libdemo.so.1", "libc.so.6"]
    assert got["runpath"] == ["$ORIGIN/lib"]
    assert ("demo_mul", "LIBDEMO_2.0") in got["symbols"]
    assert lief_facts(str(BIN / "lib/libdemo.so.1"))["verdef"] == ["LIBDEMO_1.0", "LIBDEMO_2.0"]
