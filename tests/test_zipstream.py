"""Zip members as bounded random-access views (linkscope/inputs/zipstream.py): every slice and
search equals the member's real bytes, in any order, while only a window stays in memory."""

from __future__ import annotations

import random
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from package_helpers import Item, make_zip

import linkscope.inputs.zip
from linkscope.errors import LimitExceededError
from linkscope.inputs import Limits, Member, zipstream
from linkscope.inputs.zip import ZipMemberReader
from linkscope.inputs.zipstream import MAX_RESTARTS, MemberView

HEAD_KEEP, WINDOW = 64 << 10, 32 << 10  # small, so that small members cross every boundary


@pytest.fixture
def small_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zipstream, "HEAD_KEEP", HEAD_KEEP)
    monkeypatch.setattr(zipstream, "WINDOW", WINDOW)
    monkeypatch.setattr(zipstream, "OUTPUT_CHUNK", 16 << 10)
    monkeypatch.setattr(zipstream, "SEARCH_CHUNK", 8 << 10)
    monkeypatch.setattr(linkscope.inputs.zip, "WHOLE_BELOW", 1 << 10)


def _payload(size: int, seed: int = 1) -> bytes:
    """Half random (incompressible), half repetitive, with markers to search for."""
    rng = random.Random(seed)
    blocks: list[bytes] = []
    while sum(map(len, blocks)) < size:
        blocks.append(
            rng.randbytes(4096) if rng.random() < 0.5 else bytes([rng.randrange(256)]) * 4096
        )
    data = bytearray(b"".join(blocks)[:size])
    for at in (size // 3, size - 100):
        data[at : at + 6] = b"NEEDLE"
    return bytes(data)


def _open(tmp_path: Path, data: bytes, method: int) -> tuple[ZipMemberReader, MemberView]:
    path = make_zip(tmp_path / "big.zip", [Item("lib/big.so", data)], method=method)
    reader = ZipMemberReader(str(path), Limits())
    member = Member(location=f"{path}!lib/big.so", inner="lib/big.so", size=len(data), index=0)
    view = reader.open(member)
    assert isinstance(view, MemberView)
    return reader, view


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED, zipfile.ZIP_BZIP2])
@pytest.mark.usefixtures("small_window")
def test_slices_in_any_order_equal_the_member(tmp_path: Path, method: int) -> None:
    size = HEAD_KEEP + 5 * WINDOW + 12345
    data = _payload(size)
    reader, view = _open(tmp_path, data, method)
    try:
        assert len(view) == size
        rng = random.Random(7)
        spots = [0, 100, size - 50, HEAD_KEEP - 10, HEAD_KEEP + 5, size // 2, 64]
        spots += [rng.randrange(size) for _ in range(20)]
        for start in spots:
            length = rng.choice((1, 16, 4096, 3 * WINDOW))
            assert view[start : start + length] == data[start : start + length], start
        assert view[size - 10 : size + 100] == data[size - 10 :]
        assert view[40:4000:4] == data[40:4000:4]
        assert view.find(b"NEEDLE") == data.find(b"NEEDLE")
        assert view.find(b"NEEDLE", size // 3 + 1) == data.find(b"NEEDLE", size // 3 + 1)
        assert view.find(b"absent!") == -1
        assert view.restarts <= len(spots)
    finally:
        reader.close()


def test_a_big_member_is_never_held_whole(tmp_path: Path) -> None:
    data = bytes(range(256)) * (192 << 12)  # 48 MiB that deflate compresses quickly
    data = data[: 30 << 20] + b"NEEDLE" + data[(30 << 20) + 6 :]
    reader, view = _open(tmp_path, data, zipfile.ZIP_DEFLATED)
    del data
    tracemalloc.start()
    try:
        assert view.find(b"NEEDLE", 20 << 20) > 0  # inflates past most of it
        assert view[0:4] == view[0:4]
        assert len(view[(40 << 20) : (40 << 20) + 100]) == 100
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        reader.close()
    assert peak < zipstream.HEAD_KEEP + 3 * zipstream.WINDOW + (4 << 20), peak


@pytest.mark.usefixtures("small_window")
def test_reads_out_of_order_without_end_are_refused(tmp_path: Path) -> None:
    size = HEAD_KEEP + 8 * WINDOW
    reader, view = _open(tmp_path, _payload(size), zipfile.ZIP_STORED)
    try:
        with pytest.raises(LimitExceededError, match="out of order"):
            for _ in range(MAX_RESTARTS + 2):
                view[size - 10 : size]
                view[HEAD_KEEP + 10 : HEAD_KEEP + 20]
    finally:
        reader.close()


def _damaged(tmp_path: Path, size: int) -> tuple[Path, bytes]:
    elf = Path("fixtures/bin/c_hello_gcc_pie_x86_64").read_bytes()
    data = elf + _payload(size, seed=5)
    path = make_zip(tmp_path / "bad.zip", [Item("lib/libx.so", data)])
    raw = bytearray(path.read_bytes())
    middle = 30 + len("lib/libx.so") + 2000
    raw[middle : middle + 64] = bytes(range(64))  # smash the deflate stream past the head
    path.write_bytes(bytes(raw))
    return path, data


def test_damaged_deflate_data_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    """Fuzz campaign: ISA-L raises its own IsalError (not zlib.error) on a bad block; it
    escaped as an internal error (exit 3)."""
    from linkscope.scan import scan_path

    path, _data = _damaged(tmp_path, 200 << 10)  # read whole
    package = scan_path(str(path), Limits())
    assert [p.path for p in package.problems] == [f"{path}!lib/libx.so"]


def test_damaged_deflate_data_through_a_view_is_an_input_error(tmp_path: Path) -> None:
    from linkscope.errors import InputError

    path, data = _damaged(tmp_path, 3 << 20)
    reader = ZipMemberReader(str(path), Limits())
    member = Member(location=f"{path}!lib/libx.so", inner="lib/libx.so", size=len(data), index=0)
    try:
        view = reader.open(member)
        with pytest.raises(InputError):
            view.find(b"absent from every byte of it")
    finally:
        reader.close()
