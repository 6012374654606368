"""Inputs and scanning: zips streamed (never extracted), folders walked, members keeping their
location, mode bits, size and symlinks; hostile archives reported, bounded in time and memory;
many members read on every core in a deterministic order, progress only on a terminal."""

from __future__ import annotations

import io
import os
import struct
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from package_helpers import Item, fixture, go_function, make_folder, make_zip, patch_sizes

from linkscope.errors import LimitExceededError, UnsupportedArchiveError
from linkscope.inputs import Limits, link_escapes, open_package
from linkscope.model import EntryKind, PackageEntry, ScannedPackage
from linkscope.profiles import load_target
from linkscope.resolve import build_world
from linkscope.scan import scan_path, terminal_progress

GO = fixture("go_bootstrap_x86_64")


def entry(package: ScannedPackage, inner: str) -> PackageEntry:
    matches = [e for e in package.entries if e.inner == inner]
    assert len(matches) == 1, package.entries
    return matches[0]


# ------------------------------------------------------------------ members of a zip


def test_zip_member_keeps_location_mode_and_size(tmp_path: Path) -> None:
    path = make_zip(
        tmp_path / "function.zip",
        [
            Item("bootstrap", GO, 0o755),
            Item("lib", directory=True, mode=0o755),
            Item("lib/libdemo.so.1", fixture("lib/libdemo.so.1"), 0o640),
        ],
    )
    package = scan_path(str(path), Limits())
    boot, lib = entry(package, "bootstrap"), entry(package, "lib/libdemo.so.1")
    assert boot.location == f"{path}!bootstrap"
    assert lib.location == f"{path}!lib/libdemo.so.1"
    assert (boot.mode, lib.mode) == (0o755, 0o640)
    assert boot.size == GO.stat().st_size
    assert entry(package, "lib").kind is EntryKind.DIRECTORY
    assert package.zipped_size == path.stat().st_size
    assert [b.path for b in package.binaries] == [boot.location, lib.location]
    assert package.binaries[0].mode == 0o755


def test_zip_made_on_windows_has_no_mode(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "win.zip", [Item("bootstrap", GO, None)])
    with zipfile.ZipFile(path) as archive:
        assert archive.infolist()[0].create_system == 0
    package = scan_path(str(path), Limits())
    assert entry(package, "bootstrap").mode is None
    assert entry(package, "bootstrap").kind is EntryKind.ELF


def test_zip_symlink_target_is_read_and_followed_inside(tmp_path: Path) -> None:
    path = make_zip(
        tmp_path / "link.zip", [Item("bin/app", GO), Item("bootstrap", link="bin/app", mode=0o777)]
    )
    package = scan_path(str(path), Limits())
    link = entry(package, "bootstrap")
    assert (link.kind, link.symlink_target) == (EntryKind.SYMLINK, "bin/app")
    world = build_world(package, (), load_target("provided.al2023", "x86_64"))
    node = world.bundle.lookup("/var/task/bootstrap")
    assert node is not None and node.location == f"{path}!bin/app"


@pytest.mark.parametrize("target", ["/etc/passwd", "../../etc/passwd", "../x", "lib/../../x"])
def test_symlinks_leaving_the_package_are_not_followed(tmp_path: Path, target: str) -> None:
    path = make_zip(
        tmp_path / "out.zip", [Item("bootstrap", link=target, mode=0o777), Item("x", GO)]
    )
    package = scan_path(str(path), Limits())
    assert entry(package, "bootstrap").symlink_target == target
    world = build_world(package, (), load_target("provided.al2023", "x86_64"))
    assert world.bundle.lookup("/var/task/bootstrap") is None
    if not target.startswith("/"):
        assert any("climbs out of the package" in note for note in package.notes)


def test_symlink_loop_is_bounded(tmp_path: Path) -> None:
    path = make_zip(
        tmp_path / "loop.zip", [Item("a", link="b", mode=0o777), Item("b", link="a", mode=0o777)]
    )
    world = build_world(
        scan_path(str(path), Limits()), (), load_target("provided.al2023", "x86_64")
    )
    assert world.bundle.lookup("/var/task/a") is None


def test_link_escapes() -> None:
    assert not link_escapes("lib/libfoo.so", "libfoo.so.1")
    assert not link_escapes("lib/x/libfoo.so", "../libfoo.so.1")
    assert link_escapes("lib/libfoo.so", "../../libfoo.so.1")
    assert link_escapes("bootstrap", "/usr/bin/app")


def test_overlong_symlink_target_is_a_problem_not_a_read(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "long.zip", [Item("bootstrap", link="a/" * 3000, mode=0o777)])
    package = scan_path(str(path), Limits())
    assert entry(package, "bootstrap").kind is EntryKind.UNREADABLE
    assert "longer than 4096" in package.problems[0].message


def test_folder_symlink_outside_is_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(GO.read_bytes())
    root = make_folder(
        tmp_path / "fn",
        [
            Item("bootstrap", GO),
            Item("leak", link=str(outside / "secret")),
            Item("up", link="../outside/secret"),
        ],
    )
    package = scan_path(str(root), Limits())
    assert {b.path for b in package.binaries} == {str(root / "bootstrap")}
    assert entry(package, "leak").kind is EntryKind.SYMLINK
    assert any("up: a symlink" in note for note in package.notes)


# ------------------------------------------------------------------ hostile archives


@pytest.mark.parametrize("name", ["../evil", "/abs/bootstrap", "a/../../b", "..\\..\\win"])
def test_unsafe_names_are_problems(tmp_path: Path, name: str) -> None:
    path = make_zip(tmp_path / "names.zip", [Item(name, GO), Item("bootstrap", GO)])
    package = scan_path(str(path), Limits())
    assert [p.message for p in package.problems] == [
        "unsafe path (absolute or with '..'): Lambda would not place it inside /var/task"
    ]
    assert len(package.binaries) == 1


def test_duplicate_names_each_read_and_noted(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="Duplicate name"):  # zipfile itself warns
        path = make_zip(
            tmp_path / "dup.zip",
            [Item("bootstrap", GO), Item("bootstrap", fixture("bootstrap.sh"))],
        )
    package = scan_path(str(path), Limits())
    assert [e.kind for e in package.entries] == [EntryKind.ELF, EntryKind.SCRIPT]
    assert any("'bootstrap' appears 2 times" in n for n in package.notes)
    world = build_world(package, (), load_target("provided.al2023", "x86_64"))
    node = world.bundle.lookup("/var/task/bootstrap")
    assert node is not None and node.kind is EntryKind.SCRIPT  # the last one, as unzip leaves it


def test_encrypted_member_is_a_problem(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "enc.zip", [Item("bootstrap", GO)])
    patch_sizes(path, "bootstrap", flag_bits=0x1)
    package = scan_path(str(path), Limits())
    assert [p.message for p in package.problems] == ["encrypted member: Lambda cannot read it"]


def test_truncated_central_directory_is_an_input_error(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "cut.zip", [Item("bootstrap", GO)])
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(UnsupportedArchiveError, match="not a readable zip"):
        scan_path(str(path), Limits())


def test_not_a_zip_named_zip(tmp_path: Path) -> None:
    path = tmp_path / "function.zip"
    path.write_bytes(b"this is text, not an archive\n")
    with pytest.raises(UnsupportedArchiveError, match="not a zip archive"):
        open_package(str(path), Limits())


def test_zip_inside_zip_is_noted_not_opened(tmp_path: Path) -> None:
    inner = go_function(tmp_path / "inner.zip")
    path = make_zip(tmp_path / "outer.zip", [Item("bootstrap", GO), Item("deps.zip", inner)])
    package = scan_path(str(path), Limits())
    assert entry(package, "deps.zip").kind is EntryKind.OTHER
    assert len(package.binaries) == 1
    assert any("1 member(s) are zip archives (deps.zip)" in n for n in package.notes)


def test_declared_total_over_limit_is_an_input_error(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "big.zip", [Item("a", b"x" * 1000), Item("b", b"y" * 1000)])
    with pytest.raises(LimitExceededError, match="zip bomb"):
        open_package(str(path), Limits(max_total_bytes=1500))


def test_ratio_bomb_member_is_a_problem_and_never_read(tmp_path: Path) -> None:
    path = make_zip(
        tmp_path / "ratio.zip",
        [Item("bootstrap", GO), Item("lib/bomb.so", b"\x7fELF" + bytes(8 << 20))],
    )
    package = scan_path(str(path), Limits())
    assert [p.path for p in package.problems] == [f"{path}!lib/bomb.so"]
    assert "looks like a zip bomb" in package.problems[0].message


def test_header_that_lies_about_size_is_bounded(tmp_path: Path) -> None:
    # 64 MiB of ELF-looking data that declares 4 KiB: reading stops at the declared size.
    path = make_zip(
        tmp_path / "liar.zip",
        [Item("bootstrap", GO), Item("lib/liar.so", b"\x7fELF" + bytes(64 << 20))],
    )
    patch_sizes(path, "lib/liar.so", file_size=4096)
    tracemalloc.start()
    try:
        package = scan_path(str(path), Limits())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [p.path for p in package.problems] == [f"{path}!lib/liar.so"]
    assert peak < 16 << 20, peak


@pytest.fixture(scope="module")
def gigabyte_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 1 GB member (ELF magic, then zeros) deflated to about 1 MB, written by hand: the
    same fully flushed deflate block repeated (zipfile would take seconds to compress it)."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.zip"
    chunk, count = bytes(1 << 22), 255
    head = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = head.compress(b"\x7fELF" + chunk) + head.flush(zlib.Z_FULL_FLUSH)
    repeat = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = repeat.compress(chunk) + repeat.flush(zlib.Z_FULL_FLUSH)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
    crc = zlib.crc32(b"\x7fELF" + chunk)
    for _ in range(count - 1):
        crc = zlib.crc32(chunk, crc)
    size, data = 4 + count * len(chunk), body + block * (count - 1) + tail
    name = b"bootstrap"
    date = ((2024 - 1980) << 9) | (1 << 5) | 1
    fields = struct.pack("<HHHHHIIIHH", 20, 0, 8, 0, date, crc, len(data), size, len(name), 0)
    local = b"PK\x03\x04" + fields + name
    central = (
        b"PK\x01\x02"
        + struct.pack("<H", (3 << 8) | 20)
        + fields
        + struct.pack("<HHHII", 0, 0, 0, 0o100755 << 16, 0)
        + name
    )
    end = b"PK\x05\x06" + struct.pack(
        "<HHHHIIH", 0, 0, 1, 1, len(central), len(local) + len(data), 0
    )
    path.write_bytes(local + data + central + end)
    with zipfile.ZipFile(path) as archive:  # a valid zip: the first megabytes really inflate
        assert archive.infolist()[0].file_size == size
        with archive.open("bootstrap") as stream:
            assert stream.read(1 << 23)[:4] == b"\x7fELF"
    return path


def test_gigabyte_bomb_stays_bounded(gigabyte_bomb: Path) -> None:
    assert gigabyte_bomb.stat().st_size < 8 << 20
    tracemalloc.start()
    started = time.monotonic()
    try:
        package = scan_path(str(gigabyte_bomb), Limits())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 5
    assert peak < 16 << 20, peak
    assert "zip bomb" in package.problems[0].message
    assert not package.binaries


def test_gigabyte_bomb_over_member_limit(gigabyte_bomb: Path) -> None:
    package = scan_path(str(gigabyte_bomb), Limits(max_member_bytes=1 << 29, max_ratio=10**9))
    assert "over the per-file limit" in package.problems[0].message


# ------------------------------------------------------------------ parallel scans and progress


def many_elves(tmp_path: Path, count: int = 300) -> Path:
    """A zip of `count` ELF files (some corrupt) and a bootstrap: enough members for a pool."""
    names = [
        "c_hello_zig_glibc2.34_x86_64",
        "c_hello_gcc_pie_x86_64",
        "c_uselib_gcc_x86_64",
        "c_hello_zig_glibc2.17_aarch64",
        "corrupt_dynstr_offset",
    ]
    items = [
        Item(f"lib/{i:03d}_{names[i % len(names)]}", fixture(names[i % len(names)]))
        for i in range(count)
    ]
    return make_zip(tmp_path / "many.zip", [Item("bootstrap", fixture("bootstrap.sh")), *items])


def pool_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The worker counts of the pools that scans start from now on."""
    from linkscope import pool

    started: list[int] = []
    original = pool.SharedRun.__init__

    def spy(self: Any, *args: Any, **kwargs: Any) -> None:
        started.append(kwargs["workers"])
        original(self, *args, **kwargs)

    monkeypatch.setattr(pool.SharedRun, "__init__", spy)
    return started


def test_parallel_scan_equals_sequential_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = many_elves(tmp_path)
    started = pool_runs(monkeypatch)
    sequential = scan_path(str(path), Limits(), workers=1)
    assert started == []
    parallel = scan_path(str(path), Limits(), workers=2)
    assert started == [1]  # this process and one worker
    assert parallel == sequential
    assert len(parallel.binaries) + len(parallel.problems) == 300
    assert parallel.problems  # the corrupt copies: problems from workers, in order too
    assert [b.path for b in parallel.binaries] == sorted(b.path for b in parallel.binaries)


def test_parallel_scan_of_a_folder(tmp_path: Path) -> None:
    with zipfile.ZipFile(many_elves(tmp_path)) as archive:
        items = [Item(i.filename, archive.read(i)) for i in archive.infolist()]
    root = make_folder(tmp_path / "fn", items)
    assert scan_path(str(root), Limits(), workers=2) == scan_path(str(root), Limits(), workers=1)


def test_few_elves_never_start_a_pool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started = pool_runs(monkeypatch)
    scan_path(str(go_function(tmp_path / "f.zip")), Limits(), workers=8)
    scan_path(str(many_elves(tmp_path, 100)), Limits(), workers=8)
    assert started == []


def test_progress_counts_every_member(tmp_path: Path) -> None:
    path = many_elves(tmp_path)
    seen: list[tuple[int, int]] = []
    scan_path(str(path), Limits(), progress=lambda d, t: seen.append((d, t)), workers=2)
    total = len(zipfile.ZipFile(path).infolist())
    assert seen[-1] == (total, total)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal() -> None:
    assert terminal_progress(io.StringIO()) is None
    out = FakeTerminal()
    show = terminal_progress(out, interval=0)
    assert show is not None
    show(123, 456)
    show(456, 456)
    assert "\r[123/456] scanning..." in out.getvalue()
    assert out.getvalue().endswith("\r")


def test_nothing_is_written_to_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = many_elves(tmp_path)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    before = sorted(os.listdir(tmp_path))
    scan_path(str(path), Limits(), workers=2)
    assert sorted(os.listdir(tmp_path)) == before
    assert os.listdir(scratch) == []


@pytest.mark.parametrize("target", ["../../opt/app", "/opt/app"])
def test_function_link_into_a_layer_is_not_followed(tmp_path: Path, target: str) -> None:
    """The target exists in the simulated filesystem (a layer's file), but the link leaves the
    package that holds it: it is not followed, as the brief for the package says."""
    function = make_zip(tmp_path / "fn.zip", [Item("bootstrap", link=target, mode=0o777)])
    layer = make_zip(tmp_path / "layer.zip", [Item("app", GO)])
    world = build_world(
        scan_path(str(function), Limits()),
        [scan_path(str(layer), Limits())],
        load_target("provided.al2023", "x86_64"),
    )
    assert world.bundle.lookup("/opt/app") is not None
    assert world.bundle.lookup("/var/task/bootstrap") is None


def test_absolute_link_inside_its_own_package_is_followed(tmp_path: Path) -> None:
    function = make_zip(
        tmp_path / "fn.zip",
        [Item("bin/app", GO), Item("bootstrap", link="/var/task/bin/app", mode=0o777)],
    )
    world = build_world(
        scan_path(str(function), Limits()), (), load_target("provided.al2023", "x86_64")
    )
    node = world.bundle.lookup("/var/task/bootstrap")
    assert node is not None and node.location == f"{function}!bin/app"
