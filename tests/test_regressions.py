"""Inputs that once crashed, hung or blew up linkscope (issue 7), and the hostile constructions
behind them. Each must now give facts or a clean LinkscopeError, quickly and in bounded memory.

- tests/regressions/*: committed inputs (each at most 64 KiB), found by bench/fuzz.py or built
  with the builders below; `known.json` lists the ones whose bug lies outside linkscope/elf
  (a strict xfail: when the bug is fixed the test fails until the entry is removed).
- The `crafted_*` tests build the larger hostile files in memory (megabytes of them would not
  belong in the repository): version chains that fan out, GNU hash chains with no end, thousands of
  sections that each cover the whole file, a .rodata full of "go1.", zlib bombs in .dep-v0,
  floods of DT_NEEDED and RPATH entries, names without a terminating NUL.
"""

from __future__ import annotations

import contextlib
import json
import signal
import struct
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import BIN

from linkscope import api, cli
from linkscope.elf import facts_from_bytes
from linkscope.elf.headers import read_header, read_sections
from linkscope.elf.image import Image
from linkscope.errors import LimitExceededError, LinkscopeError
from linkscope.model import BinaryFacts

REGRESSIONS = Path(__file__).parent / "regressions"
KNOWN: dict[str, str] = json.loads((REGRESSIONS / "known.json").read_text())
INPUTS = sorted(p for p in REGRESSIONS.iterdir() if p.suffix not in (".json", ".md"))
SECONDS = 2.0
MAX_HEAP = 64 << 20  # Python allocations of one input, at most


@contextlib.contextmanager
def bounded(seconds: float = SECONDS, heap: int | None = None) -> Iterator[None]:
    """Fail if the block takes longer than `seconds` (SIGALRM stops a real hang at 10x) or, when
    `heap` is given, allocates more than `heap` bytes at its peak (tracemalloc slows Python down
    a lot, so time and memory are measured apart)."""

    def expire(_signum: int, _frame: Any) -> None:
        raise TimeoutError(f"still running after {10 * seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, 10 * seconds)
    if heap is not None:
        tracemalloc.start()
    started = time.perf_counter()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if heap is not None else 0
        tracemalloc.stop()
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    if heap is None:
        assert elapsed < seconds, f"took {elapsed:.2f} s"
    else:
        assert peak < heap, f"allocated {peak >> 20} MiB at the peak"


def facts_or_error(data: bytes) -> BinaryFacts | LinkscopeError:
    with bounded():
        try:
            return facts_from_bytes(data, "input")
        except LinkscopeError as exc:
            return exc


# ---------------------------------------------------------------- committed inputs


def test_regression_folder_stays_small() -> None:
    sizes = {p.name: p.stat().st_size for p in INPUTS}
    assert all(size <= 64 << 10 for size in sizes.values()), sizes
    assert sum(sizes.values()) < 2 << 20
    assert set(KNOWN) <= set(sizes), "known.json names a file that is not there"


def _marks(path: Path) -> list[pytest.MarkDecorator]:
    reason = KNOWN.get(path.name)
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name, marks=_marks(p)) for p in INPUTS])
def test_regression_input(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs: tuple[Callable[[], object], ...] = (
        lambda: api.inspect([str(path)]),
        lambda: api.check([str(path)]),
    )
    for run in runs:
        for limits in ({}, {"heap": MAX_HEAP}):
            with bounded(**limits), contextlib.suppress(LinkscopeError):
                run()
    for command in ("inspect", "check"):
        code = cli.main([command, str(path)])
        _out, err = capsys.readouterr()
        assert code in (0, 1, 2), err
        assert "Traceback" not in err


# ---------------------------------------------------------------- builders

DT = {
    "NEEDED": 1,
    "HASH": 4,
    "STRTAB": 5,
    "SYMTAB": 6,
    "STRSZ": 10,
    "RPATH": 15,
    "RUNPATH": 29,
    "GNU_HASH": 0x6FFFFEF5,
    "VERSYM": 0x6FFFFFF0,
    "VERNEED": 0x6FFFFFFE,
    "VERNEEDNUM": 0x6FFFFFFF,
}


def dynamic_elf(
    dynamic: list[tuple[str, int | str]],
    blobs: dict[str, bytes],
    interp: bytes = b"/lib64/ld-linux-x86-64.so.2",
) -> bytes:
    """A minimal ELF64 x86-64 shared object: one PT_LOAD mapping the whole file at address 0 (so
    addresses are offsets), PT_DYNAMIC, PT_INTERP, no section headers. Dynamic values given as a
    blob's name point at that blob."""
    phnum, dyn_at = 3, 64 + 56 * 3
    dyn_size = 16 * (len(dynamic) + 1)
    body, where = bytearray(), {}
    for name, blob in blobs.items():
        body += bytes(-(dyn_at + dyn_size + len(body)) % 8)
        where[name] = dyn_at + dyn_size + len(body)
        body += blob
    entries = b"".join(
        struct.pack("<qQ", DT[tag], where[v] if isinstance(v, str) else v) for tag, v in dynamic
    ) + bytes(16)
    interp_at = dyn_at + dyn_size + len(body)
    size = interp_at + len(interp) + 1
    phdrs = struct.pack("<IIQQQQQQ", 1, 5, 0, 0, 0, size, size, 0x1000)
    phdrs += struct.pack("<IIQQQQQQ", 2, 6, dyn_at, dyn_at, dyn_at, dyn_size, dyn_size, 8)
    phdrs += struct.pack(
        "<IIQQQQQQ", 3, 4, interp_at, interp_at, interp_at, len(interp) + 1, len(interp) + 1, 1
    )
    header = (
        b"\x7fELF\x02\x01\x01"
        + bytes(9)
        + struct.pack("<HHIQQQIHHHHHH", 3, 62, 1, 0, 64, 0, 0, 64, 56, phnum, 64, 0, 0)
    )
    return header + phdrs + entries + bytes(body) + interp + b"\0"


def verneed_fanout(libraries: int, versions: int) -> bytes:
    """`libraries` version-need entries whose vn_aux all point at one chain of `versions` vernaux
    entries: libraries x versions requirements from a file of (libraries + versions) x 16 bytes."""
    strtab = b"\0libc.so.6\0GLIBC_2.2.5\0"
    need = b"".join(
        struct.pack("<HHIII", 1, versions, 1, 16 * (libraries - i), 16 if i < libraries - 1 else 0)
        for i in range(libraries)
    )
    aux = b"".join(
        struct.pack("<IHHII", 0, 0, 2 + i % 30000, 11, 16 if i < versions - 1 else 0)
        for i in range(versions)
    )
    return dynamic_elf(
        [
            ("STRTAB", "str"),
            ("STRSZ", len(strtab)),
            ("NEEDED", 1),
            ("VERNEED", "need"),
            ("VERNEEDNUM", libraries),
        ],
        {"str": strtab, "need": need + aux},
    )


def needed_flood(count: int, directories: int) -> bytes:
    names = [b"lib%05d.so" % i for i in range(count)]
    strtab, offsets = bytearray(b"\0"), []
    for name in names:
        offsets.append(len(strtab))
        strtab += name + b"\0"
    rpath_at = len(strtab)
    strtab += b":".join(b"/opt/d%d" % i for i in range(directories)) + b"\0"
    dynamic: list[tuple[str, int | str]] = [("STRTAB", "str"), ("STRSZ", len(strtab))]
    dynamic += [("NEEDED", offset) for offset in offsets] + [("RUNPATH", rpath_at)]
    return dynamic_elf(dynamic, {"str": bytes(strtab)})


def retarget(data: bytes, name: str, new_name: bytes, payload: bytes) -> bytes:
    """Rename section `name` (in place, in .shstrtab) and point it at `payload`, appended."""
    out = bytearray(data)
    image = Image(data, "seed")
    header, _layouts = read_header(image)
    sections = read_sections(image, header, _layouts)
    index = next(i for i, s in enumerate(sections) if s.name == name)
    base = header.shoff + index * header.shentsize
    at = sections[header.shstrndx].offset + struct.unpack_from("<I", data, base)[0]
    assert len(new_name) <= len(name)
    out[at : at + len(name) + 1] = new_name.ljust(len(name) + 1, b"\0")
    struct.pack_into("<QQ", out, base + 24, len(out), len(payload))
    return bytes(out + payload)


PIE = (BIN / "c_hello_gcc_pie_x86_64").read_bytes()


def write_inputs() -> None:
    """Regenerate the crafted files committed in tests/regressions (run by hand)."""
    made = {
        "elf_dep_v0_deep_json": retarget(
            PIE, ".comment", b".dep-v0", zlib.compress(b"[" * 200_000, 9)
        ),
        "elf_dep_v0_json_bomb": retarget(
            PIE,
            ".comment",
            b".dep-v0",
            zlib.compress(b'{"packages":[' + b"{}," * 5_000_000 + b"{}]}", 9),
        ),
        "elf_verneed_fanout": verneed_fanout(300, 300),
        "elf_needed_flood": needed_flood(2000, 8),
        "elf_runpath_flood": needed_flood(40, 3000),
    }
    for name, data in made.items():
        (REGRESSIONS / name).write_bytes(data)


# ---------------------------------------------------------------- crafted, in memory


def test_crafted_version_fanout_is_a_reported_limit() -> None:
    """4,096 x 4,096 requirements from 130 KB: took minutes and gigabytes before the total bound."""
    result = facts_or_error(verneed_fanout(4096, 4096))
    assert isinstance(result, LimitExceededError)
    assert "4096" in str(result)


def test_crafted_declared_counts_beyond_the_limit_are_harmless() -> None:
    # DT_VERNEEDNUM says 5,000 but the chain ends after one entry (vn_next = 0): not a problem.
    data = bytearray(verneed_fanout(1, 3))
    count_at = data.find(struct.pack("<qQ", DT["VERNEEDNUM"], 1))
    struct.pack_into("<Q", data, count_at + 8, 5000)
    result = facts_or_error(bytes(data))
    assert isinstance(result, BinaryFacts)
    assert len(result.version_requirements) == 3


def test_crafted_endless_gnu_hash_chain() -> None:
    """A GNU hash table whose last chain never sets its end bit: 4 million Python iterations."""
    strtab = b"\0libc.so.6\0GLIBC_2.2.5\0"
    need = struct.pack("<HHIII", 1, 1, 1, 16, 0) + struct.pack("<IHHII", 0, 0, 2, 11, 0)
    gnu_hash = struct.pack("<IIIIQI", 1, 0, 1, 6, 0, 0) + bytes(16_000_000)
    data = dynamic_elf(
        [
            ("STRTAB", "str"),
            ("STRSZ", len(strtab)),
            ("NEEDED", 1),
            ("VERNEED", "need"),
            ("VERNEEDNUM", 1),
            ("GNU_HASH", "hash"),
            ("VERSYM", "str"),
            ("SYMTAB", "str"),
        ],
        {"str": strtab, "need": need, "hash": gnu_hash},
    )
    for limits in ({}, {"heap": 16 << 20}):  # the 16 MB input is allocated before, not inside
        with bounded(**limits), contextlib.suppress(LinkscopeError):
            facts_from_bytes(data, "input")


def test_crafted_sections_that_each_cover_the_file() -> None:
    """2,000 section headers over one 1 MB range: every marker search ran 2,000 times."""
    data = bytearray((BIN / "c_hello_gcc_static_x86_64").read_bytes() + b"A" * 500_000)
    shoff, count = len(data), 2000
    total = shoff + 64 * count
    data += struct.pack("<IIQQQQIIQQ", 0, 1, 2, 0, 0, total, 0, 0, 1, 0) * count
    struct.pack_into("<Q", data, 40, shoff)
    struct.pack_into("<HHH", data, 58, 64, count, 0)
    assert isinstance(facts_or_error(bytes(data)), BinaryFacts)


def test_crafted_section_names_without_nul() -> None:
    """Section names in a 1 MB .shstrtab that has no NUL: each name scanned to the end."""
    data = bytearray(PIE)
    shoff, count = len(data) + 1_000_000, 4000
    names = b"n" * 1_000_000
    table = b"".join(
        struct.pack("<IIQQQQIIQQ", i, 1, 0, 0, 0, 16, 0, 0, 1, 0) for i in range(count)
    )
    table += struct.pack("<IIQQQQIIQQ", 0, 3, 0, 0, len(data), len(names), 0, 0, 1, 0)
    data += names + table
    struct.pack_into("<Q", data, 40, shoff)
    struct.pack_into("<HHH", data, 58, 64, count + 1, count)
    facts_or_error(bytes(data))


def test_crafted_go_version_flood() -> None:
    """A Go binary (by section name) whose .rodata is 8 MB of "go1.": each candidate was checked
    in a Python loop."""
    data = retarget(PIE, ".note.gnu.property", b".gopclntab", b"x")
    data = retarget(data, ".rodata", b".rodata", b"go1." * 2_000_000)
    with bounded():
        facts = facts_from_bytes(data, "input")
    assert facts.toolchain.language == "go"


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b"[" * 200_000, id="deep-json"),  # RecursionError: exit 3
        pytest.param(b'{"packages":[' + b"{}," * 5_000_000 + b"{}]}", id="json-bomb"),  # 400 MiB
        pytest.param(b"\0" * 50_000_000, id="zlib-bomb"),  # 50 MB from 50 KB
    ],
)
def test_crafted_dep_v0(payload: bytes) -> None:
    data = retarget(PIE, ".comment", b".dep-v0", zlib.compress(payload, 9))
    for limits in ({}, {"heap": MAX_HEAP}):
        with bounded(**limits):
            facts = facts_from_bytes(data, "input")
        assert facts.toolchain.rust is None or not facts.toolchain.rust.crates


@pytest.mark.parametrize(
    ("count", "directories", "limit"),
    [
        (65_000, 1, "DT_NEEDED"),  # check took 147 s
        (50, 400, "RPATH/RUNPATH"),  # every library searched along every directory
    ],
)
def test_crafted_needed_and_search_path_floods(count: int, directories: int, limit: str) -> None:
    data = needed_flood(count, directories)
    result = facts_or_error(data)
    assert isinstance(result, LimitExceededError)
    assert limit in str(result)


def test_crafted_needed_at_the_limits_is_checked_quickly(tmp_path: Path) -> None:
    path = tmp_path / "bootstrap"
    path.write_bytes(needed_flood(256, 64))
    with bounded():
        report = api.check([str(path)])
    assert len(report.binaries[0].needed) == 256
    assert len(report.findings) >= 256  # each missing (or unknown) library is named


def test_crafted_symbol_names_without_nul() -> None:
    """Undefined symbols whose names run into a 2 MB string table with no NUL."""
    strtab = b"\0libc.so.6\0GLIBC_2.2.5\0" + b"s" * 2_000_000
    symbols = bytes(24) + b"".join(
        struct.pack("<IBBHQQ", 30 + i, 0x12, 0, 0, 0, 0) for i in range(20_000)
    )
    versym = struct.pack("<H", 0) + struct.pack("<H", 2) * 20_000
    need = struct.pack("<HHIII", 1, 1, 1, 16, 0) + struct.pack("<IHHII", 0, 0, 2, 11, 0)
    data = dynamic_elf(
        [
            ("STRTAB", "str"),
            ("STRSZ", len(strtab)),
            ("NEEDED", 1),
            ("VERNEED", "need"),
            ("VERNEEDNUM", 1),
            ("VERSYM", "versym"),
            ("SYMTAB", "sym"),
            ("HASH", "hash"),
        ],
        {
            "str": strtab,
            "need": need,
            "versym": versym,
            "sym": symbols,
            "hash": struct.pack("<II", 1, 20_001) + bytes(8),
        },
    )
    result = facts_or_error(data)
    assert isinstance(result, LinkscopeError)


def test_crafted_many_version_indexes() -> None:
    """4,000 distinct version indexes over 1 million symbols: two searches per index."""
    strtab = b"\0libc.so.6\0GLIBC_2.2.5\0"
    aux = b"".join(
        struct.pack("<IHHII", 0, 0, 2 + i, 11, 16 if i < 3999 else 0) for i in range(4000)
    )
    need = struct.pack("<HHIII", 1, 4000, 1, 16, 0) + aux
    versym = bytes(2_000_000)  # a million symbols, none of them versioned
    data = dynamic_elf(
        [
            ("STRTAB", "str"),
            ("STRSZ", len(strtab)),
            ("NEEDED", 1),
            ("VERNEED", "need"),
            ("VERNEEDNUM", 1),
            ("VERSYM", "versym"),
            ("SYMTAB", "versym"),
            ("HASH", "hash"),
        ],
        {"str": strtab, "need": need, "versym": versym, "hash": struct.pack("<II", 1, 1_000_000)},
    )
    result = facts_or_error(data)
    assert isinstance(result, BinaryFacts)
    assert len(result.version_requirements) == 4000


@pytest.mark.parametrize("cut", [64, 64 + 56, 64 + 56 * 3, 64 + 56 * 3 + 8])
def test_crafted_truncations_through_the_cli(
    tmp_path: Path, cut: int, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bootstrap"
    path.write_bytes(verneed_fanout(2, 2)[:cut])
    assert cli.main(["inspect", str(path)]) == 2
    _out, err = capsys.readouterr()
    assert len(err.strip().splitlines()) == 1 and "corrupt ELF" in err


def test_crafted_dynamic_section_without_end_is_a_reported_limit() -> None:
    """70,000 dynamic entries and no DT_NULL: the walk stops at its bound and says so."""
    data = bytearray(dynamic_elf([("NEEDED", 0)] * 70_000, {}))
    result = facts_or_error(bytes(data))
    assert isinstance(result, LimitExceededError)
    assert "dynamic entries" in str(result)


def test_crafted_note_flood_is_a_reported_limit() -> None:
    """A PT_NOTE of 100,000 empty notes (real binaries carry a handful)."""
    data = bytearray(PIE)
    image = Image(bytes(data), "seed")
    header, _layouts = read_header(image)
    notes_at = len(data)
    data += bytes(12 * 100_000)
    for index in range(header.phnum):
        base = header.phoff + index * header.phentsize
        if struct.unpack_from("<I", data, base)[0] == 4:  # PT_NOTE: point it at the flood
            struct.pack_into("<QQQQQ", data, base + 8, notes_at, notes_at, notes_at,
                             12 * 100_000, 12 * 100_000)  # fmt: skip
    result = facts_or_error(bytes(data))
    assert isinstance(result, LimitExceededError)
    assert "notes" in str(result)
