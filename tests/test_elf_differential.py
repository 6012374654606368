"""Differential test: linkscope's own ELF reader against GNU readelf, field by field.

Every ELF fixture and a deterministic, spread-out sample of the host's own ELF files are read by
both; each difference is printed with both sides. GNU readelf (tests/readelf_oracle.py) is the
oracle: it shares no code with linkscope.

To run the comparison over every ELF on the host by hand (not part of the suite):

    .venv/bin/python tests/test_elf_differential.py --all
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import BIN, manifest
from readelf_oracle import READELF, ReadelfFacts, run_readelf

from linkscope.elf import facts_from_file
from linkscope.errors import InputError
from linkscope.model import BinaryFacts

HOST_ROOTS = ("/usr/bin", "/usr/lib/x86_64-linux-gnu", "/usr/lib")
HOST_SAMPLE = 320

# readelf's e_type word -> the ELF types linkscope may call it.
E_TYPES = {
    "EXEC": {"executable"},
    "DYN": {"pie-executable", "shared-library"},
    "REL": {"relocatable"},
    "CORE": {"core"},
}

# (readelf "Machine:" e_machine, ELF class, byte order) -> DESIGN section 4's canonical name.
CANONICAL = {
    (62, 64, "little"): "x86_64",
    (62, 32, "little"): "x32",
    (183, 64, "little"): "aarch64",
    (40, 32, "little"): "arm",
    (3, 32, "little"): "i386",
    (243, 64, "little"): "riscv64",
    (243, 32, "little"): "riscv32",
    (21, 64, "little"): "ppc64le",
    (21, 64, "big"): "ppc64",
    (20, 32, "big"): "ppc",
    (22, 64, "big"): "s390x",
    (258, 64, "little"): "loongarch64",
    (43, 64, "big"): "sparc64",
}

needs_readelf = pytest.mark.skipif(READELF is None, reason="GNU readelf is not installed")


def _fixture_elves() -> list[str]:
    names = []
    for entry in manifest():
        if entry["machine"] is None or entry["name"].startswith("corrupt_"):
            continue
        names.append(entry["name"])
    return names


def _walk(root: str) -> Iterator[str]:
    for directory, subdirs, files in os.walk(root):
        subdirs.sort()
        for name in sorted(files):
            yield os.path.join(directory, name)


def host_elf_files(*, every_file: bool = False) -> list[str]:
    """Regular ELF files under HOST_ROOTS, each inode once, in a stable order.

    Without `every_file`, only files that are executable or named `*.so*` are opened (that is
    about 85% of the host's ELF files for a tenth of the I/O)."""
    seen: set[tuple[int, int]] = set()
    found: list[str] = []
    for root in HOST_ROOTS:
        for path in _walk(root):
            try:
                info = os.lstat(path)
            except OSError:
                continue
            if not stat.S_ISREG(info.st_mode) or (info.st_dev, info.st_ino) in seen:
                continue
            seen.add((info.st_dev, info.st_ino))
            if not every_file and not (info.st_mode & 0o111 or ".so" in os.path.basename(path)):
                continue
            try:
                with open(path, "rb") as handle:
                    if handle.read(4) == b"\x7fELF":
                        found.append(path)
            except OSError:
                continue
    return sorted(found)


def spread_sample(paths: list[str], size: int) -> list[str]:
    """Every k-th path, so that the sample covers the whole sorted list (at least `size`)."""
    if len(paths) <= size:
        return paths
    return paths[:: len(paths) // size]


def linkscope_pairs(facts: BinaryFacts) -> set[tuple[str, str]]:
    return {(symbol, r.version) for r in facts.version_requirements for symbol in r.symbols}


def differences(facts: BinaryFacts, oracle: ReadelfFacts) -> list[str]:
    """Every field on which linkscope and readelf disagree, with both sides."""
    compared: list[tuple[str, object, object]] = [
        ("elf_class", facts.elf_class, oracle.elf_class),
        ("endianness", facts.endianness, oracle.endianness),
        ("interpreter", facts.interpreter, oracle.interpreter),
        ("needed", list(facts.needed), oracle.needed),
        ("soname", facts.soname, oracle.soname),
        ("rpath", list(facts.rpath), oracle.rpath),
        ("runpath", list(facts.runpath), oracle.runpath),
        ("flags_1", sorted(facts.flags_1), sorted(oracle.flags_1)),
        (
            "verneed",
            sorted((r.library, r.version, r.weak) for r in facts.version_requirements),
            sorted(oracle.verneed),
        ),
        ("verdef", sorted(facts.version_definitions), sorted(oracle.verdef)),
    ]
    if oracle.e_machine is not None:
        compared.append(("e_machine", facts.e_machine, oracle.e_machine))
        canonical = CANONICAL.get((oracle.e_machine, oracle.elf_class, oracle.endianness))
        if canonical is not None:
            compared.append(("machine", facts.machine, canonical))
    out = [
        f"{name}: linkscope={ours!r} readelf={theirs!r}"
        for name, ours, theirs in compared
        if ours != theirs
    ]
    if facts.elf_type.value not in E_TYPES.get(oracle.e_type, set()):
        out.append(f"elf_type: linkscope={facts.elf_type.value!r} readelf={oracle.e_type!r}")
    ours_pairs, theirs_pairs = linkscope_pairs(facts), oracle.undefined_versioned
    if ours_pairs != theirs_pairs:
        out.append(
            "undefined versioned symbols: only linkscope="
            f"{sorted(ours_pairs - theirs_pairs)[:20]} only readelf="
            f"{sorted(theirs_pairs - ours_pairs)[:20]}"
        )
    return out


def compare(path: str) -> list[str]:
    oracle = run_readelf(path)
    try:
        facts = facts_from_file(path)
    except InputError as exc:
        return [
            f"linkscope refused the file: {exc}; readelf read class={oracle.elf_class} "
            f"type={oracle.e_type} needed={oracle.needed}"
        ]
    return differences(facts, oracle)


def _report(path: str, problems: list[str]) -> str:
    return f"{path}:\n  " + "\n  ".join(problems)


@needs_readelf
@pytest.mark.parametrize("name", _fixture_elves())
def test_fixture_matches_readelf(name: str) -> None:
    problems = compare(str(BIN / name))
    assert not problems, _report(name, problems)


@pytest.fixture(scope="module")
def host_sample() -> list[str]:
    files = host_elf_files()
    if len(files) < HOST_SAMPLE:
        pytest.skip(
            f"only {len(files)} ELF files under {', '.join(HOST_ROOTS)}: need "
            f"{HOST_SAMPLE} for the host sample"
        )
    return spread_sample(files, HOST_SAMPLE)


@needs_readelf
def test_host_sample_matches_readelf(host_sample: list[str]) -> None:
    assert len(host_sample) >= 300
    failures = [_report(path, problems) for path in host_sample if (problems := compare(path))]
    assert not failures, f"{len(failures)} of {len(host_sample)} host files differ:\n" + "\n".join(
        failures
    )


@needs_readelf
def test_host_sample_is_varied(host_sample: list[str]) -> None:
    """The sample must exercise the interesting tables, or agreement proves little."""
    facts = [facts_from_file(path) for path in host_sample]
    assert sum(1 for f in facts if f.version_requirements) >= 100
    assert sum(1 for f in facts if f.soname) >= 50
    assert sum(1 for f in facts if f.version_definitions) >= 5
    assert sum(1 for f in facts if f.interpreter) >= 50


def test_differences_reports_both_sides() -> None:
    """The comparison itself can fail: a doctored oracle is caught field by field."""
    path = str(BIN / "c_uselib_gcc_x86_64")
    if READELF is None:
        pytest.skip("GNU readelf is not installed")
    oracle = run_readelf(path)
    oracle.needed = list(reversed(oracle.needed))
    oracle.runpath = ["/elsewhere"]
    oracle.undefined_versioned = set()
    problems = differences(facts_from_file(path), oracle)
    text = "\n".join(problems)
    assert (
        "needed: linkscope=['libdemo.so.1', 'libc.so.6'] readelf=['libc.so.6', 'libdemo.so.1']"
        in text
    )
    assert "runpath: linkscope=['$ORIGIN/lib'] readelf=['/elsewhere']" in text
    assert "only linkscope=" in text


def main(argv: list[str]) -> int:
    """By hand: compare every host ELF file (or the paths given) and print each difference."""
    paths = [a for a in argv if a != "--all"] or host_elf_files(every_file="--all" in argv)
    failed = 0
    for path in paths:
        problems = compare(path)
        if problems:
            failed += 1
            print(_report(path, problems), flush=True)
    print(f"{failed} of {len(paths)} files differ")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
