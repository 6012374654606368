"""Property tests (issue 7): whatever the bytes, linkscope answers with facts or a LinkscopeError,
never another exception, within bounded time; and the CLI never exits 3 or prints a traceback.

Fast enough for the normal suite (derandomized, so CI sees the same examples every run). The long
campaign is bench/fuzz.py; the inputs it or these tests ever broke on live in tests/regressions.
"""

from __future__ import annotations

import contextlib
import io
import struct
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import pytest
from conftest import BIN
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkscope import api, cli
from linkscope.elf import facts_from_bytes
from linkscope.elf.headers import read_header, read_segments
from linkscope.elf.image import Image
from linkscope.errors import LinkscopeError
from linkscope.model import BinaryFacts

SECONDS = 2.0  # per input; real files take milliseconds
SEEDS = (
    "c_hello_gcc_pie_x86_64",  # dynamic, versioned, PIE
    "c_hello_zig_glibc2.17_arm",  # ELF32
    "c_hello_zig_glibc2.17_i386",
    "c_hello_gcc_aarch64",
    "c_hello_zig_musl_static_x86_64",  # static, no PT_DYNAMIC
    "cxx_hello_gxx_x86_64",  # GLIBCXX/CXXABI requirements
    "c_hello_gcc_staticpie_x86_64",
)
SEED_BYTES = {name: (BIN / name).read_bytes() for name in SEEDS if (BIN / name).exists()}

PROPERTY = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)


def facts_or_error(data: bytes) -> BinaryFacts | LinkscopeError:
    started = time.perf_counter()
    try:
        result: BinaryFacts | LinkscopeError = facts_from_bytes(data, "input")
    except LinkscopeError as exc:
        result = exc
    elapsed = time.perf_counter() - started
    assert elapsed < SECONDS, f"{elapsed:.2f} s on {len(data)} bytes"
    return result


def regions(data: bytes) -> list[tuple[int, int]]:
    """Byte ranges of the structures worth damaging: the ELF header, each program header, the
    section header table, and what PT_DYNAMIC, PT_INTERP and PT_NOTE point at."""
    image = Image(data, "seed")
    header, layouts = read_header(image)
    found = [(0, 64 if header.is64 else 52)]
    found += [(header.phoff + i * header.phentsize, header.phentsize) for i in range(header.phnum)]
    if header.shoff:
        found.append((header.shoff, header.shnum * header.shentsize))
    for segment in read_segments(image, header, layouts):
        if segment.p_type in (2, 3, 4):  # PT_DYNAMIC, PT_INTERP, PT_NOTE
            found.append((segment.offset, segment.filesz))
    return [(start, size) for start, size in found if size > 0 and start + size <= len(data)]


SEED_REGIONS = {name: regions(data) for name, data in SEED_BYTES.items()}


# ---------------------------------------------------------------- any bytes


@PROPERTY
@given(st.binary(max_size=4096))
def test_any_bytes(data: bytes) -> None:
    facts_or_error(data)


@PROPERTY
@given(st.binary(max_size=4096))
def test_any_bytes_behind_an_elf_magic(data: bytes) -> None:
    facts_or_error(b"\x7fELF" + data)


@st.composite
def elf_headers(draw: Any) -> bytes:
    """A plausible identification and header with arbitrary fields, then arbitrary bytes: gets
    past the magic and class checks into the table readers, in both byte orders and classes."""
    is64, little = draw(st.booleans()), draw(st.booleans())
    e = "<" if little else ">"
    size = draw(st.integers(0, 2048))
    body = draw(st.binary(min_size=size, max_size=size))
    small = st.integers(0, 0x400)
    table_offset = st.one_of(small, st.integers(0, 2**32 - 1))
    count = st.one_of(st.integers(0, 16), st.integers(0, 0xFFFF))
    fields = (
        draw(st.sampled_from((1, 2, 3, 4, 0xFE00))),
        draw(st.sampled_from((3, 40, 62, 183, 243))),
        1,
        draw(table_offset),
        draw(table_offset),
        draw(table_offset),
        0,
        64 if is64 else 52,
        draw(st.sampled_from((56 if is64 else 32, 0, 1, 0xFFFF))),
        draw(count),
        draw(st.sampled_from((64 if is64 else 40, 0, 0xFFFF))),
        draw(count),
        draw(count),
    )
    layout = e + ("HHIQQQIHHHHHH" if is64 else "HHIIIIIHHHHHH")
    ident = b"\x7fELF" + bytes([2 if is64 else 1, 1 if little else 2, 1, draw(st.integers(0, 255))])
    return bytes(ident + bytes(8) + struct.pack(layout, *fields) + body)


@PROPERTY
@given(elf_headers())
def test_plausible_headers_over_arbitrary_tables(data: bytes) -> None:
    facts_or_error(data)


# ---------------------------------------------------------------- damaged real binaries


@PROPERTY
@given(st.sampled_from(sorted(SEED_BYTES)), st.floats(0, 1))
def test_truncated_fixtures(name: str, fraction: float) -> None:
    data = SEED_BYTES[name]
    facts_or_error(data[: int(len(data) * fraction)])


@PROPERTY
@given(
    st.sampled_from(sorted(SEED_BYTES)),
    st.lists(st.tuples(st.integers(0, 2**31), st.integers(0, 255)), min_size=1, max_size=16),
)
def test_byte_smashed_fixtures(name: str, smashes: list[tuple[int, int]]) -> None:
    data = bytearray(SEED_BYTES[name])
    for position, value in smashes:
        data[position % len(data)] = value
    facts_or_error(bytes(data))


WIDTHS = st.sampled_from((1, 2, 4, 8))
VALUES = st.one_of(
    st.sampled_from((0, 1, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 2**64 - 1, 2**63)),
    st.integers(0, 2**64 - 1),
)


@PROPERTY
@given(st.sampled_from(sorted(SEED_BYTES)), st.data())
def test_structure_fields_smashed(name: str, data: st.DataObject) -> None:
    """Overwrite words inside the headers and tables that the reader trusts the least."""
    raw = bytearray(SEED_BYTES[name])
    for _ in range(data.draw(st.integers(1, 4))):
        start, size = data.draw(st.sampled_from(SEED_REGIONS[name]))
        width = data.draw(WIDTHS)
        offset = start + data.draw(st.integers(0, max(size - width, 0)))
        value = data.draw(VALUES) & ((1 << (8 * width)) - 1)
        order: Literal["little", "big"] = "little" if raw[5] == 1 else "big"
        raw[offset : offset + width] = value.to_bytes(width, order)[: len(raw) - offset]
    facts_or_error(bytes(raw))


# ---------------------------------------------------------------- through the CLI and zips


def cli_inspect(path: Path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["inspect", str(path)])
    assert time.perf_counter() - started < SECONDS
    return code, err.getvalue()


@settings(PROPERTY, max_examples=60)
@given(
    st.sampled_from(sorted(SEED_BYTES)),
    st.floats(0, 1),
    st.lists(st.tuples(st.integers(0, 2**31), st.integers(0, 255)), max_size=8),
)
def test_cli_inspect_never_exits_3(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    fraction: float,
    smashes: list[tuple[int, int]],
) -> None:
    data = bytearray(SEED_BYTES[name][: max(4, int(len(SEED_BYTES[name]) * fraction))])
    for position, value in smashes:
        data[position % len(data)] = value
    path = tmp_path_factory.mktemp("cli") / "bootstrap"
    path.write_bytes(bytes(data))
    code, err = cli_inspect(path)
    assert code in (0, 1, 2), err
    assert "Traceback" not in err
    if code == 2:
        assert len(err.strip().splitlines()) == 1, err


def small_zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data, mode, method in members:
            info = zipfile.ZipInfo(name)
            info.create_system, info.external_attr, info.compress_type = 3, mode << 16, method
            archive.writestr(info, data)
    return buffer.getvalue()


ZIP_BASE = small_zip(
    [
        ("bootstrap", SEED_BYTES["c_hello_gcc_pie_x86_64"], 0o100755, zipfile.ZIP_DEFLATED),
        (
            "lib/libc.so.6",
            SEED_BYTES["c_hello_zig_glibc2.17_i386"][:4096],
            0o100644,
            zipfile.ZIP_STORED,
        ),
        ("lib/link.so", b"libc.so.6", 0o120777, zipfile.ZIP_STORED),
    ]
)
ZIP_FIELDS = [
    (ZIP_BASE.rfind(b"PK\x05\x06") + off, width)
    for off, width in ((8, 2), (10, 2), (12, 4), (16, 4), (20, 2))
]
ZIP_FIELDS += [
    (at + off, width)
    for at in range(len(ZIP_BASE))
    if ZIP_BASE[at : at + 4] == b"PK\x01\x02"
    for off, width in ((6, 2), (8, 2), (10, 2), (20, 4), (24, 4), (28, 2), (30, 2), (42, 4))
]
ZIP_FIELDS += [
    (at + off, width)
    for at in range(len(ZIP_BASE))
    if ZIP_BASE[at : at + 4] == b"PK\x03\x04"
    for off, width in ((6, 2), (8, 2), (18, 4), (22, 4), (26, 2), (28, 2))
]


@settings(PROPERTY, max_examples=80)
@given(
    st.lists(st.tuples(st.sampled_from(ZIP_FIELDS), VALUES), min_size=1, max_size=3),
    st.lists(st.tuples(st.integers(0, 2**31), st.integers(0, 255)), max_size=4),
    st.floats(0.5, 1),
)
def test_malformed_zips(
    tmp_path_factory: pytest.TempPathFactory,
    fields: list[tuple[tuple[int, int], int]],
    smashes: list[tuple[int, int]],
    keep: float,
) -> None:
    raw = bytearray(ZIP_BASE)
    for (offset, width), value in fields:
        raw[offset : offset + width] = (value & ((1 << (8 * width)) - 1)).to_bytes(width, "little")
    for position, value in smashes:
        raw[position % len(raw)] = value
    path = tmp_path_factory.mktemp("zip") / "function.zip"
    path.write_bytes(bytes(raw[: int(len(raw) * keep)]))
    started = time.perf_counter()
    runs: tuple[Callable[[], object], ...] = (
        lambda: api.inspect([str(path)]),
        lambda: api.check([str(path)]),
    )
    for run in runs:
        with contextlib.suppress(LinkscopeError):
            run()
    assert time.perf_counter() - started < 2 * SECONDS
    code, err = cli_inspect(path)
    assert code in (0, 1, 2), err
    assert "Traceback" not in err
