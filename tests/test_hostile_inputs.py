"""Hostile filesystems under a folder scan (issue 7): symlink loops, unreadable files, devices
and FIFOs, very long and very deep paths, files that vanish between listing and reading, empty
files and files that are an ELF magic and nothing else.

Every case must end, with a clear per-file problem (an LS001 finding) or a one-line error: exit
code 1 or 2 (0 where nothing is wrong), never 3, never a traceback, never a hang. Each run is
under a SIGALRM watchdog, so a blocking open() of a FIFO fails the test instead of hanging it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import BIN

from linkscope import api, cli, inputs, scan
from linkscope.errors import InputError
from linkscope.inputs import files as input_files

ELF = BIN / "c_hello_gcc_pie_x86_64"
WATCHDOG_SECONDS = 20


class Hung(BaseException):
    pass


@contextlib.contextmanager
def watchdog(seconds: int = WATCHDOG_SECONDS) -> Iterator[None]:
    def expire(_signum: int, _frame: Any) -> None:
        raise Hung(f"did not finish within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with watchdog():
        code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert code != 3, f"internal error (exit 3): {err}"
    assert "Traceback" not in err + out
    if code == 2:
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("linkscope: error: "), err
    return code, out, err


def inspect_json(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, str]:
    code, out, _err = run(capsys, "inspect", "--format", "json", str(path))
    return code, out


def healthy_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "function"
    folder.mkdir()
    shutil.copyfile(ELF, folder / "bootstrap")
    (folder / "bootstrap").chmod(0o755)
    return folder


def assert_both_commands_end(capsys: pytest.CaptureFixture[str], path: Path) -> None:
    for command in ("inspect", "check"):
        code, _out, _err = run(capsys, command, str(path))
        assert code in (0, 1, 2)


# ---------------------------------------------------------------- symlinks


def test_symlink_loops_in_a_folder_are_not_followed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = healthy_folder(tmp_path)
    (folder / "a").symlink_to("b")
    (folder / "b").symlink_to("a")
    (folder / "self").symlink_to("self")
    (folder / "up").symlink_to(".")  # a directory loop: walking it would never end
    (folder / "root").symlink_to("/")  # and a way out of the package
    code, out = inspect_json(capsys, folder)
    assert code in (0, 1)
    assert "bootstrap" in out
    assert_both_commands_end(capsys, folder)


def test_a_symlink_loop_named_on_the_command_line_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    code, _out, err = run(capsys, "inspect", str(tmp_path / "a"))
    assert code == 2
    assert "a" in err


# ---------------------------------------------------------------- unreadable files


def _deny(monkeypatch: pytest.MonkeyPatch, victim: Path) -> None:
    """Make one path unreadable for linkscope even as root (chmod 000 does not stop root): every
    open() in linkscope.inputs (and its modules) of that path fails as the kernel would fail it."""
    real_open = open

    def guarded_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if os.fspath(file) == str(victim):
            raise PermissionError(13, "Permission denied", str(victim))
        return real_open(file, *args, **kwargs)

    for module in (inputs, input_files):
        monkeypatch.setattr(module, "open", guarded_open, raising=False)
    real_access = os.access
    monkeypatch.setattr(
        getattr(inputs, "os"),  # noqa: B009 - the module os as inputs uses it
        "access",
        lambda p, m: False if os.fspath(p) == str(victim) else real_access(p, m),
    )


def test_an_unreadable_file_in_a_folder_is_a_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = healthy_folder(tmp_path)
    secret = folder / "lib" / "libsecret.so"
    secret.parent.mkdir()
    shutil.copyfile(ELF, secret)
    _deny(monkeypatch, secret)
    report = api.inspect([str(folder)])
    assert [b.path for b in report.binaries] == [str(folder / "bootstrap")]
    assert [(f.rule, f.path) for f in report.findings] == [("LS001", str(secret))]
    assert "Permission denied" in report.findings[0].message
    code, _out, _err = run(capsys, "inspect", str(folder))
    assert code == 1


def test_an_unreadable_file_named_on_the_command_line_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "bootstrap"
    shutil.copyfile(ELF, target)
    _deny(monkeypatch, target)
    code, _out, err = run(capsys, "inspect", str(target))
    assert code == 2
    assert "permission denied" in err.lower()


@pytest.mark.skipif(
    os.geteuid() == 0,
    reason="root reads a chmod 000 file anyway (CI runs as "
    "root; the monkeypatched tests above cover it there)",
)
def test_a_chmod_000_file_is_a_finding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = healthy_folder(tmp_path)
    locked = folder / "locked"
    shutil.copyfile(ELF, locked)
    locked.chmod(0)
    try:
        code, _out, _err = run(capsys, "inspect", str(folder))
        assert code == 1
        code, _out, _err = run(capsys, "inspect", str(locked))
        assert code == 2
    finally:
        locked.chmod(0o644)


def test_an_unlistable_subfolder_is_a_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder linkscope cannot list (mode 000 for a non-root user, or a vanished mount): the
    files in it are unknown, which must be said, not skipped."""
    folder = healthy_folder(tmp_path)
    locked = folder / "lib"
    locked.mkdir()
    shutil.copyfile(ELF, locked / "libhidden.so")
    real_scandir = os.scandir

    def guarded_scandir(path: Any = ".") -> Any:
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(locked))
        return real_scandir(path)

    monkeypatch.setattr(getattr(inputs, "os"), "scandir", guarded_scandir)  # noqa: B009
    report = api.inspect([str(folder)])
    assert [(f.rule, f.path) for f in report.findings] == [("LS001", str(locked))]
    assert "cannot list folder" in report.findings[0].message
    code, _out, _err = run(capsys, "inspect", str(folder))
    assert code == 1


# ---------------------------------------------------------------- devices and FIFOs


def test_a_fifo_in_a_folder_does_not_block_the_scan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = healthy_folder(tmp_path)
    os.mkfifo(folder / "pipe")  # nobody writes to it: opening it for reading would block forever
    code, out = inspect_json(capsys, folder)
    assert code == 0
    assert "bootstrap" in out
    assert_both_commands_end(capsys, folder)


def test_a_fifo_named_on_the_command_line_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    os.mkfifo(tmp_path / "pipe")
    code, _out, err = run(capsys, "inspect", str(tmp_path / "pipe"))
    assert code == 2
    assert "FIFO" in err or "regular file" in err


def test_device_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, _err = run(capsys, "inspect", "/dev/null")
    assert code == 2
    code, _out, _err = run(capsys, "inspect", "/dev/zero")  # endless: must never be read
    assert code == 2
    folder = healthy_folder(tmp_path)
    (folder / "null-link").symlink_to("/dev/null")
    (folder / "zero-link").symlink_to("/dev/zero")
    with contextlib.suppress(PermissionError, OSError):  # needs CAP_MKNOD (root in CI has it)
        os.mknod(folder / "zero", 0o644 | stat.S_IFCHR, os.makedev(1, 5))
    code, out = inspect_json(capsys, folder)
    assert code == 0
    assert "bootstrap" in out
    assert_both_commands_end(capsys, folder)


# ---------------------------------------------------------------- long and deep paths


def _descend(top: Path, names: list[str]) -> int:
    """Create nested folders below `top` through directory descriptors (a path longer than
    PATH_MAX cannot be created by name) and return a descriptor of the deepest one."""
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    for name in names:
        os.mkdir(name, dir_fd=fd)
        inner = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = inner
    return fd


def _write_at(fd: int, name: str, data: bytes) -> None:
    handle = os.open(name, os.O_WRONLY | os.O_CREAT, 0o755, dir_fd=fd)
    try:
        os.write(handle, data)
    finally:
        os.close(handle)


def _remove_chain(top: Path, name: str) -> None:
    """Remove a chain of nested `name` folders below `top` without recursion (shutil.rmtree and
    pytest's own clean-up recurse once per level): hoist the chain up one level at a time."""
    link, hold = top / name, top / ".hold"
    while link.is_dir():
        link.rename(hold)
        if (hold / name).is_dir():
            (hold / name).rename(link)
        for child in hold.iterdir():
            child.unlink()
        hold.rmdir()


def test_long_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = healthy_folder(tmp_path)
    for length in (4000, 1000, 255):  # the longest name the filesystem allows
        try:
            shutil.copyfile(ELF, folder / ("n" * length))
            break
        except OSError:
            continue
    code, out = inspect_json(capsys, folder)
    assert code == 0
    assert out.count('"path"') == 2


def test_a_path_longer_than_path_max_is_reported_not_lost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = healthy_folder(tmp_path)
    fd = _descend(folder, ["x" * 200] * 30)  # 6,000 characters: past PATH_MAX (4096)
    try:
        _write_at(fd, "deep.so", ELF.read_bytes())
    finally:
        os.close(fd)
    try:
        report = api.inspect([str(folder)])
        read = [b for b in report.binaries if b.path.endswith("deep.so")]
        # Read, or reported as unreadable (the file, or the folder on its way that the kernel
        # refuses to name); never silently skipped.
        reported = [
            f
            for f in report.findings
            if f.rule == "LS001" and f.path.startswith(str(folder / ("x" * 200)))
        ]
        assert read or reported
        assert all("too long" in f.message for f in reported)
        code, _out, _err = run(capsys, "inspect", str(folder))
        assert code in (0, 1)
    finally:
        _remove_chain(folder, "x" * 200)


def test_deeply_nested_folders(tmp_path: Path) -> None:
    folder = healthy_folder(tmp_path)
    fd = _descend(folder, ["d"] * 1200)  # 2,400 characters: within PATH_MAX, deeper than recursion
    try:
        _write_at(fd, "deep.so", ELF.read_bytes())
    finally:
        os.close(fd)
    try:
        # In a child process: a RecursionError deep in a generator chain leaves unclosed scandir
        # iterators behind, whose warnings would land on some later test of this process.
        done = subprocess.run(
            [sys.executable, "-m", "linkscope", "inspect", str(folder)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode in (0, 1, 2), done.stderr
        assert "Traceback" not in done.stderr
    finally:
        _remove_chain(folder, "d")


# ---------------------------------------------------------------- files that change under the scan


def _after_listing(monkeypatch: pytest.MonkeyPatch, change: Any) -> None:
    """Run `change` after the package was listed and before its members are read."""
    real = getattr(scan, "open_package")  # noqa: B009 - as scan.py imported it

    def listed_then_changed(source: str, limits: inputs.Limits, **options: Any) -> inputs.Package:
        package: inputs.Package = real(source, limits, **options)
        change()
        return package

    monkeypatch.setattr(scan, "open_package", listed_then_changed)


def test_a_file_that_vanishes_mid_scan_is_a_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = healthy_folder(tmp_path)
    ghost = folder / "libghost.so"
    shutil.copyfile(ELF, ghost)
    _after_listing(monkeypatch, ghost.unlink)
    report = api.inspect([str(folder)])
    assert [b.path for b in report.binaries] == [str(folder / "bootstrap")]
    assert [(f.rule, f.path) for f in report.findings] == [("LS001", str(ghost))]
    shutil.copyfile(ELF, ghost)
    code, _out, _err = run(capsys, "check", str(folder))
    assert code in (1, 2)


def test_a_file_replaced_by_a_folder_mid_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = healthy_folder(tmp_path)
    changing = folder / "libchanging.so"
    shutil.copyfile(ELF, changing)

    def replace() -> None:
        changing.unlink()
        changing.mkdir()

    _after_listing(monkeypatch, replace)
    code, _out, _err = run(capsys, "inspect", str(folder))
    assert code == 1


def test_a_file_named_on_the_command_line_vanishing_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "bootstrap"
    shutil.copyfile(ELF, target)
    _after_listing(monkeypatch, target.unlink)
    with pytest.raises(InputError):
        api.inspect([str(target)])
    shutil.copyfile(ELF, target)
    code, _out, err = run(capsys, "inspect", str(target))
    assert code == 2
    assert "vanished" in err or "no such file" in err.lower()


def test_a_folder_that_vanishes_mid_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = healthy_folder(tmp_path)
    shutil.copyfile(ELF, folder / "libmore.so")
    _after_listing(monkeypatch, lambda: shutil.rmtree(folder))
    code, _out, _err = run(capsys, "inspect", str(folder))
    assert code == 1


# ---------------------------------------------------------------- tiny files


def test_an_empty_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    code, _out, err = run(capsys, "inspect", str(empty))
    assert code == 2
    assert "not an ELF" in err
    folder = healthy_folder(tmp_path)
    (folder / "empty").write_bytes(b"")
    code, _out, _err = run(capsys, "inspect", str(folder))
    assert code == 0
    empty_folder = tmp_path / "nothing"
    empty_folder.mkdir()
    code, _out, _err = run(capsys, "inspect", str(empty_folder))
    assert code == 2


@pytest.mark.parametrize("content", [b"\x7fELF", b"\x7fELF\x02\x01\x01", b"\x7fELF" + bytes(60)])
def test_an_elf_magic_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    stub = tmp_path / "stub"
    stub.write_bytes(content)
    code, _out, err = run(capsys, "inspect", str(stub))
    assert code == 2
    assert "ELF" in err
    folder = healthy_folder(tmp_path)
    (folder / "stub").write_bytes(content)
    report = api.inspect([str(folder)])
    assert [f.rule for f in report.findings] == ["LS001"]
    code, _out, _err = run(capsys, "inspect", str(folder))
    assert code == 1
    code, _out, _err = run(capsys, "check", str(folder))
    assert code in (1, 2)
