"""`linkscope inspect` through the CLI entry point (`linkscope.cli.main`): exit codes, one-line
errors on stderr, table columns, --symbols, stdin, --version."""

from __future__ import annotations

import io
import json
import shutil
import sys
import warnings
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import BIN, manifest

from linkscope import __version__
from linkscope.errors import ExitCode

with warnings.catch_warnings():
    # typer 0.24 imports click.utils.get_binary_stream, which click 8.5 deprecates at import time.
    warnings.filterwarnings("ignore", message=r".*Click 9\.0", category=DeprecationWarning)
    from linkscope.cli import main

GOOD = BIN / "c_hello_gcc_pie_x86_64"
TABLE_COLUMNS = (
    "path",
    "machine",
    "type",
    "linkage",
    "libc",
    "interpreter",
    "needs",
    "needed",
    "toolchain",
    "client",
)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(err: str) -> None:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("linkscope: error: "), err


def test_good_file_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["inspect", str(GOOD)], capsys)
    assert code == ExitCode.OK
    assert err == ""
    assert str(GOOD) in out


def test_table_has_the_columns(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["inspect", str(BIN / "cxx_hello_gxx_x86_64")], capsys)
    assert code == 0
    header, rule, row = out.splitlines()[:3]
    assert header.split() == list(TABLE_COLUMNS)
    assert set(rule) <= {"-", " "}
    entry = next(e for e in manifest() if e["name"] == "cxx_hello_gxx_x86_64")
    for value in (
        entry["machine"],
        entry["linkage"],
        entry["libc"],
        entry["interpreter"],
        f"GLIBC {entry['max_glibc']}",
        f"GLIBCXX {entry['max_glibcxx']}",
        ", ".join(entry["needed"]),
    ):
        assert value in row, value


def test_table_marks_missing_values(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(["inspect", str(BIN / "go_hello_static_x86_64")], capsys)
    row = out.splitlines()[2].split()
    assert row[0].endswith("go_hello_static_x86_64")
    assert row[1:5] == ["x86_64", "executable", "static", "none"]
    # no interpreter, no versions, no DT_NEEDED; built by Go 1.19.8 (fixtures/README.md); no client
    assert row[5:] == ["-", "-", "-", "go1.19.8", "-"]


@pytest.mark.parametrize("output_format", ["table", "json"])
def test_symbols(output_format: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(BIN / "c_strlcpy_zig_glibc2.38_x86_64")
    code, out, _ = run(["inspect", "--symbols", "--format", output_format, path], capsys)
    assert code == 0
    if output_format == "json":
        [binary] = json.loads(out)["binaries"]
        needs = {r["version"]: r["symbols"] for r in binary["version_requirements"]}
        assert needs["GLIBC_2.38"] == ["strlcpy"]
        return
    lines = [line.split() for line in out.splitlines()]
    assert ["libc.so.6", "GLIBC_2.38", "strlcpy"] in lines
    assert ["libc.so.6", "GLIBC_2.34", "__libc_start_main"] in lines


def test_without_symbols_the_table_has_no_symbol_list(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(["inspect", str(BIN / "c_strlcpy_zig_glibc2.38_x86_64")], capsys)
    assert "strlcpy\n" not in out and " strlcpy" not in out


def test_symbols_are_truncated_with_a_count(capsys: pytest.CaptureFixture[str]) -> None:
    """Versions forced by many symbols show some of them and how many more."""
    _, out, _ = run(["inspect", "--symbols", str(BIN / "rust_hello_cargo_x86_64")], capsys)
    assert "more)" in out


def test_missing_path_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "no-such-bootstrap"
    code, out, err = run(["inspect", str(missing)], capsys)
    assert code == ExitCode.USAGE_OR_INPUT_ERROR
    assert out == ""
    assert_one_line_error(err)
    assert str(missing) in err


@pytest.mark.parametrize("name", ["bootstrap.sh", "corrupt_bad_magic", "corrupt_empty"])
def test_not_elf_exit_2(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["inspect", str(BIN / name)], capsys)
    assert code == ExitCode.USAGE_OR_INPUT_ERROR
    assert out == ""
    assert_one_line_error(err)
    assert name in err


@pytest.mark.parametrize(
    "name",
    [
        "corrupt_trunc_ehdr",
        "corrupt_trunc_phdrs",
        "corrupt_phoff_past_eof",
        "corrupt_dynstr_offset",
    ],
)
def test_corrupt_file_exit_2(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["inspect", str(BIN / name)], capsys)
    assert code == ExitCode.USAGE_OR_INPUT_ERROR
    assert out == ""
    assert_one_line_error(err)
    assert "corrupt" in err


def test_empty_file_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "bootstrap"
    empty.write_bytes(b"")
    code, _, err = run(["inspect", str(empty)], capsys)
    assert code == ExitCode.USAGE_OR_INPUT_ERROR
    assert_one_line_error(err)


def test_elf_magic_only_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stub = tmp_path / "stub"
    stub.write_bytes(b"\x7fELF")
    code, _, err = run(["inspect", str(stub)], capsys)
    assert code == ExitCode.USAGE_OR_INPUT_ERROR
    assert_one_line_error(err)


def test_directory_without_elf_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "README.txt").write_text("no binaries here\n")
    shutil.copy2(BIN / "bootstrap.sh", tmp_path / "bootstrap")
    code, out, err = run(["inspect", str(tmp_path)], capsys)
    assert code == ExitCode.USAGE_OR_INPUT_ERROR
    assert out == ""
    assert_one_line_error(err)


def test_empty_directory_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["inspect", str(tmp_path)], capsys)
    assert code == ExitCode.USAGE_OR_INPUT_ERROR
    assert_one_line_error(err)


def test_unknown_format_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["inspect", "--format", "xml", str(GOOD)], capsys)
    assert code == ExitCode.USAGE_OR_INPUT_ERROR
    assert out == ""
    assert "Traceback" not in err
    assert "xml" in err


def test_unknown_option_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["inspect", "--frobnicate", str(GOOD)], capsys)
    assert code == ExitCode.USAGE_OR_INPUT_ERROR
    assert "Traceback" not in err


def test_no_path_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["inspect"], capsys)
    assert code == ExitCode.USAGE_OR_INPUT_ERROR
    assert "Traceback" not in err


@pytest.fixture
def folder_with_corrupt(tmp_path: Path) -> Path:
    for name in (
        "c_hello_gcc_pie_x86_64",
        "go_hello_static_x86_64",
        "corrupt_phoff_past_eof",
        "bootstrap.sh",
        "corrupt_bad_magic",
    ):
        shutil.copy2(BIN / name, tmp_path / name)
    return tmp_path


@pytest.mark.parametrize("output_format", ["table", "json"])
def test_folder_with_corrupt_elf_exit_1(
    folder_with_corrupt: Path, output_format: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["inspect", "--format", output_format, str(folder_with_corrupt)], capsys)
    assert code == ExitCode.INCOMPATIBLE
    assert "Traceback" not in err
    corrupt = str(folder_with_corrupt / "corrupt_phoff_past_eof")
    if output_format == "json":
        document = json.loads(out)
        assert sorted(Path(b["path"]).name for b in document["binaries"]) == [
            "c_hello_gcc_pie_x86_64",
            "go_hello_static_x86_64",
        ]
        assert [(f["rule"], f["path"]) for f in document["findings"]] == [("LS001", corrupt)]
        return
    assert "LS001" in out
    assert corrupt in out
    assert "c_hello_gcc_pie_x86_64" in out
    assert "go_hello_static_x86_64" in out
    # bad magic is not ELF at all: not a corrupt ELF, simply not listed
    assert "corrupt_bad_magic" not in out


def test_several_paths_one_missing_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["inspect", str(GOOD), str(tmp_path / "gone")], capsys)
    assert code == ExitCode.USAGE_OR_INPUT_ERROR
    assert_one_line_error(err)


class _Stdin:
    """Enough of sys.stdin for `-`: a text face with a binary `.buffer`."""

    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)

    def read(self, *_args: object) -> str:
        raise AssertionError("linkscope must read stdin as bytes")

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise io.UnsupportedOperation("fileno")


def test_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", _Stdin(GOOD.read_bytes()))
    code, out, err = run(["inspect", "--format", "json", "-"], capsys)
    assert code == 0, err
    [binary] = json.loads(out)["binaries"]
    assert binary["path"] == "<stdin>"
    assert binary["machine"] == "x86_64"
    assert binary["needed"] == ["libc.so.6"]
    assert binary["size"] == GOOD.stat().st_size


def test_stdin_not_elf_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", _Stdin(b"#!/bin/sh\necho hi\n"))
    code, _, err = run(["inspect", "-"], capsys)
    assert code == ExitCode.USAGE_OR_INPUT_ERROR
    assert_one_line_error(err)


def test_stdin_corrupt_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", _Stdin((BIN / "corrupt_trunc_phdrs").read_bytes()))
    code, _, err = run(["inspect", "-"], capsys)
    assert code == ExitCode.USAGE_OR_INPUT_ERROR
    assert_one_line_error(err)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--version"], capsys)
    assert code == 0
    assert out.strip() == f"linkscope {__version__}"
    assert __version__[0].isdigit()


def test_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "report.json"
    code, out, _ = run(["inspect", "--format", "json", "--output", str(target), str(GOOD)], capsys)
    assert code == 0
    assert out == ""
    assert json.loads(target.read_text())["binaries"][0]["path"] == str(GOOD)
