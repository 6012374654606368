"""The scan on every core (linkscope/pool.py, scan._read_shared): forked workers classify and
read chunks of members; what they find, problems included, comes back in the members' order and
equals a scan in one process; a worker's bug, a worker that dies and Ctrl-C end the scan as
they would in one process, and no worker is left behind."""

from __future__ import annotations

import os
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from package_helpers import Item, fixture, make_folder, make_zip

from linkscope import pool
from linkscope import scan as scan_module
from linkscope.cli import main
from linkscope.errors import UnsupportedArchiveError
from linkscope.inputs import Limits, Member, Package, PackageKind, PackageReader, open_package
from linkscope.scan import chunk_members, scan_path, scan_paths

NAMES = ["c_hello_gcc_pie_x86_64", "c_uselib_gcc_x86_64", "corrupt_dynstr_offset", "bootstrap.sh"]


def function_items(count: int = 300) -> list[Item]:
    """ELF files (some corrupt), scripts, packaging metadata and plain files."""
    items = [
        Item(f"lib/{i:03d}_{NAMES[i % len(NAMES)]}", fixture(NAMES[i % len(NAMES)]))
        for i in range(count)
    ]
    items += [Item(f"pkg-{i}.dist-info/RECORD", b"pkg/__init__.py,,\n") for i in range(20)]
    items += [Item(f"data/{i:03d}.txt", b"text\n" * i) for i in range(100)]
    return items


@pytest.fixture
def parent() -> Iterator[int]:
    """This process's pid; afterwards, that no worker is left (every child was waited for)."""
    yield os.getpid()
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


def only_workers_claim(monkeypatch: pytest.MonkeyPatch, parent: int) -> None:
    """This process takes no chunk: the workers read every member (forked, they inherit it)."""
    original = pool.SharedRun.claims

    def claims(self: Any) -> Iterator[int]:
        return iter(()) if os.getpid() == parent else original(self)

    monkeypatch.setattr(pool.SharedRun, "claims", claims)


@pytest.mark.parametrize("kind", ["zip", "folder"])
@pytest.mark.parametrize("workers", [2, 3])
def test_workers_alone_read_what_one_process_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parent: int, kind: str, workers: int
) -> None:
    items = function_items()
    path = (
        make_zip(tmp_path / "f.zip", items) if kind == "zip" else make_folder(tmp_path / "f", items)
    )
    alone = scan_path(str(path), Limits(), workers=1)
    only_workers_claim(monkeypatch, parent)
    shared = scan_path(str(path), Limits(), workers=workers)
    assert shared == alone
    assert len(alone.binaries) == 150 and len(alone.problems) == 75
    assert len(alone.scripts) == 75 and len(alone.metadata) == 20
    assert [e.inner for e in shared.entries] == [e.inner for e in alone.entries]


def test_a_member_unreadable_in_a_worker_is_a_problem_of_that_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parent: int
) -> None:
    root = make_folder(tmp_path / "f", function_items())
    real_open = getattr(scan_module, "open_package")  # noqa: B009 - as scan.py imported it

    def open_then_remove(source: str, limits: Limits, **kwargs: Any) -> Package:
        package: Package = real_open(source, limits, **kwargs)
        for name in ("lib/002_corrupt_dynstr_offset", "lib/004_c_hello_gcc_pie_x86_64"):
            os.remove(root / name)
        (root / "data").chmod(0o700)
        shutil.rmtree(root / "data")
        return package

    monkeypatch.setattr(scan_module, "open_package", open_then_remove)
    only_workers_claim(monkeypatch, parent)
    package = scan_path(str(root), Limits(), workers=2)
    vanished = [p for p in package.problems if "vanished while being read" in p.message]
    assert [p.path for p in vanished[:2]] == [
        f"{root}/data/000.txt",
        f"{root}/data/001.txt",
    ]
    assert {f"{root}/lib/002_corrupt_dynstr_offset", f"{root}/lib/004_c_hello_gcc_pie_x86_64"} <= {
        p.path for p in vanished
    }
    assert len(vanished) == 102
    assert [p.path for p in package.problems] == sorted(p.path for p in package.problems)


def test_the_metadata_budget_is_the_packages_not_a_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parent: int
) -> None:
    """Metadata read past the package's budget is dropped as one process would drop it, even
    though each worker only counts its own chunks."""
    items = function_items() + [Item(f"big-{i}.dist-info/RECORD", b"x" * 5000) for i in range(40)]
    path = make_zip(tmp_path / "f.zip", items)
    monkeypatch.setattr(scan_module, "METADATA_TOTAL_BYTES", 20_000)
    alone = scan_path(str(path), Limits(), workers=1)
    only_workers_claim(monkeypatch, parent)
    shared = scan_path(str(path), Limits(), workers=2)
    assert shared == alone
    assert 20 < len(alone.metadata) < 60


def test_small_inputs_never_fork(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "fork", lambda: pytest.fail("forked"))
    path = make_zip(tmp_path / "f.zip", function_items(100)[:120])
    package = scan_path(str(path), Limits(), workers=2)
    assert len(package.binaries) == 50


def test_pool_size_thresholds() -> None:
    def package(sizes: list[int], kind: PackageKind = PackageKind.ZIP) -> Package:
        members = tuple(
            Member(location=f"f!{i}", inner=str(i), size=size) for i, size in enumerate(sizes)
        )
        return Package(source="f", kind=kind, members=members)

    pool_size = scan_module._pool_size
    few_small = package([1000] * (scan_module.PARALLEL_MIN_MEMBERS - 1))
    assert pool_size(few_small, 2) == 1
    assert pool_size(package([1000] * scan_module.PARALLEL_MIN_MEMBERS), 2) == 2
    assert pool_size(package([scan_module.PARALLEL_MIN_BYTES // 2] * 2), 4) == 2
    assert pool_size(package([scan_module.PARALLEL_MIN_BYTES * 2]), 4) == 1  # one member
    assert pool_size(package([1 << 30] * 300, PackageKind.IMAGE), 2) == 1
    assert pool_size(package([1 << 30], PackageKind.FILE), 2) == 1
    assert pool_size(package([1000] * 1000), 1) == 1
    assert pool_size(package([1000] * 200), 64) == 3  # 64 members or more for each process
    assert pool_size(package([1000] * 10_000), 8) == 8


def test_chunks_cover_every_member_once_in_order() -> None:
    sizes = [100] * 5000 + [64 << 20] + [10 << 20] * 3 + [100] * 50
    members = [Member(location=str(i), inner=str(i), size=s) for i, s in enumerate(sizes)]
    chunks = chunk_members(members, 2)
    assert [i for c in chunks for i in c] == list(range(len(members)))
    assert len(chunks) <= pool.MAX_CHUNKS
    assert range(5000, 5001) in chunks  # a big member goes alone
    assert max(len(c) for c in chunks) <= 64
    huge = [Member(location=str(i), inner=str(i), size=10) for i in range(100_000)]
    assert len(chunk_members(huge, 2)) <= pool.MAX_CHUNKS


def test_a_bug_in_a_worker_is_raised_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parent: int
) -> None:
    path = make_zip(tmp_path / "f.zip", function_items())
    real = scan_module.read_member

    def buggy(*args: Any) -> Any:
        if os.getpid() != parent:
            raise ValueError("a bug in the reader")
        return real(*args)

    monkeypatch.setattr(scan_module, "read_member", buggy)
    only_workers_claim(monkeypatch, parent)
    with pytest.raises(ValueError, match="a bug in the reader"):
        scan_path(str(path), Limits(), workers=2)
    assert main(["inspect", str(path)]) == 3


def test_an_exception_that_does_not_pickle_still_arrives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parent: int
) -> None:
    class Unpicklable(Exception):
        def __reduce__(self) -> Any:
            raise TypeError("no")

    path = make_zip(tmp_path / "f.zip", function_items())

    def buggy(*args: Any) -> Any:
        raise Unpicklable("odd")

    monkeypatch.setattr(scan_module, "read_member", buggy)
    only_workers_claim(monkeypatch, parent)
    with pytest.raises(RuntimeError, match="Unpicklable: odd"):
        scan_path(str(path), Limits(), workers=2)


def test_a_worker_that_dies_ends_the_scan_with_an_internal_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parent: int
) -> None:
    path = make_zip(tmp_path / "f.zip", function_items())

    def dies(*args: Any) -> Any:
        os._exit(9)

    monkeypatch.setattr(scan_module, "read_member", dies)
    only_workers_claim(monkeypatch, parent)
    with pytest.raises(RuntimeError, match="stopped before its last results"):
        scan_path(str(path), Limits(), workers=2)
    assert main(["inspect", str(path)]) == 3


def test_ctrl_c_stops_the_scan_and_its_workers(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    parent: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Ctrl-C while a pool runs ends the run as it does without one (the same exit code, no
    traceback), and no worker is left running."""
    path = make_zip(tmp_path / "f.zip", function_items())
    real = scan_module.read_member
    calls = [0]

    def interrupted(*args: Any) -> Any:
        calls[0] += 1
        if os.getpid() == parent and calls[0] > 40:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(scan_module, "read_member", interrupted)
    for workers in (1, 2):
        calls[0] = 0
        with pytest.raises(KeyboardInterrupt):
            scan_path(str(path), Limits(), workers=workers)
    calls[0] = 0
    pooled = main(["inspect", str(path)])
    monkeypatch.setattr(scan_module, "PARALLEL_MIN_MEMBERS", 10**9)
    calls[0] = 0
    assert main(["inspect", str(path)]) == pooled == 130
    assert "Traceback" not in capsys.readouterr().err


def test_the_pool_leaves_the_package_reader_of_this_process_alone(tmp_path: Path) -> None:
    """The workers open the zip themselves: this process's reader still reads afterwards."""
    path = make_zip(tmp_path / "f.zip", function_items())
    package = open_package(str(path), Limits())
    with PackageReader(package, Limits()) as reader:
        reads = scan_module._read_shared(package, reader, Limits(), 2, None, None)
        member = next(m for m in package.members if m.inner.endswith("bootstrap.sh"))
        assert reader.read_head(member, 2) == b"#!"
    assert len(reads) == len(package.members) == len(zipfile.ZipFile(path).infolist())


# ------------------------------------------------------------------ several paths in one run


def test_the_next_path_is_opened_while_workers_read_this_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parent: int
) -> None:
    first = make_folder(tmp_path / "a", function_items())
    second = make_zip(tmp_path / "b.zip", function_items(40))
    third = make_folder(tmp_path / "c", function_items(10))
    ahead: list[str] = []
    real = scan_module._Opened.__init__

    def spy(self: Any, source: str, *args: Any) -> None:
        ahead.append(source)
        real(self, source, *args)

    monkeypatch.setattr(scan_module._Opened, "__init__", spy)
    sources = [str(first), str(second), str(third)]
    together = scan_paths(sources, Limits(), workers=2)
    assert ahead == [str(second), str(third)]  # each opened while the one before was read
    assert together == tuple(scan_path(s, Limits(), workers=1) for s in sources)


def test_an_error_opening_the_next_path_comes_in_its_turn(tmp_path: Path) -> None:
    first = make_folder(tmp_path / "a", function_items())
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04" + b"\0" * 64)
    seen: list[tuple[int, int]] = []
    with pytest.raises(UnsupportedArchiveError) as together:
        scan_paths(
            [str(first), str(broken)], Limits(), workers=2, progress=lambda *a: seen.append(a)
        )
    with pytest.raises(UnsupportedArchiveError) as alone:
        scan_path(str(broken), Limits())
    assert str(together.value) == str(alone.value)
    assert seen[-1][0] == seen[-1][1]  # the first path was read to its end first


def test_only_folders_and_zips_are_opened_ahead(tmp_path: Path) -> None:
    image = tmp_path / "layout"
    image.mkdir()
    (image / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (image / "index.json").write_text("{}")
    plain = tmp_path / "bootstrap"
    plain.write_bytes(fixture("c_hello_gcc_pie_x86_64").read_bytes())
    assert scan_module._opens_cheaply(str(make_folder(tmp_path / "f", function_items(1))))
    assert scan_module._opens_cheaply(str(make_zip(tmp_path / "f.zip", function_items(1))))
    assert not scan_module._opens_cheaply(str(image))
    assert not scan_module._opens_cheaply(str(plain))
    assert not scan_module._opens_cheaply(str(tmp_path / "missing"))
