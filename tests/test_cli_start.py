"""Start-up of the command line: only the command being run is built (linkscope/cli.py
`_app_for`), and what it prints is what the whole app prints."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from conftest import BIN, ROOT

from linkscope import cli

COMMANDS = ["inspect", "check", "tree", "matrix", "runtimes", "profile", "explain"]


def _names(app: typer.Typer) -> list[str | None]:
    return [cli._command_name(c) for c in app.registered_commands]


def test_every_command_has_a_name() -> None:
    assert _names(cli.app) == COMMANDS


@pytest.mark.parametrize(
    ("args", "built"),
    [
        (["inspect", "x"], ["inspect"]),
        (["--debug", "check", "x"], ["check"]),
        (["runtimes"], ["runtimes"]),
        ([], COMMANDS),
        (["--help"], COMMANDS),
        (["--version"], COMMANDS),
        (["inspct", "x"], COMMANDS),  # a mistyped command: the whole app suggests the right one
        (["--debug"], COMMANDS),
    ],
)
def test_only_the_command_run_is_built(args: list[str], built: list[str]) -> None:
    assert _names(cli._app_for(args)) == built
    assert _names(cli.app) == COMMANDS  # the module's app is never changed


def test_shell_completion_gets_every_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_LINKSCOPE_COMPLETE", "complete_bash")
    assert _names(cli._app_for(["inspect", "x"])) == COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_a_commands_help_is_the_whole_apps(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main([command, "--help"]) == 0
    alone = capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        cli.app(args=[command, "--help"], prog_name="linkscope")
    assert exit_info.value.code == 0
    whole = capsys.readouterr()
    assert alone.out == whole.out and "Usage: linkscope " + command in alone.out


@pytest.mark.parametrize(
    "args",
    [
        ["inspect"],
        ["inspect", "--bogus", "x"],
        ["check", "x", "--fail-on", "never"],
        ["--debug", "inspect", "--format", "yaml", "x"],
    ],
)
def test_usage_errors_are_the_whole_apps(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(args)
    alone = capsys.readouterr()
    try:
        cli.app(args=args, prog_name="linkscope", standalone_mode=False)
    except Exception as exc:
        assert cli._usage_error(exc) == code == 2
    whole = capsys.readouterr()
    assert alone.err == whole.err and alone.err


# ---------------------------------------------------------------- leaving without a teardown


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )


def test_leaving_flushes_what_was_written_and_keeps_the_exit_code() -> None:
    done = _python(
        "import sys\nfrom linkscope.cli import _leave\n"
        "sys.stdout.write('report' * 100000)\nsys.stderr.write('note')\n_leave(3)"
    )
    assert (done.returncode, len(done.stdout), done.stderr) == (3, 600000, "note")


def test_leaving_runs_exit_handlers_when_there_are_any() -> None:
    done = _python(
        "import atexit\nfrom linkscope.cli import _leave\n"
        "atexit.register(lambda: print('handler ran'))\n_leave(1)"
    )
    assert (done.returncode, done.stdout) == (1, "handler ran\n")


def test_the_command_line_process_prints_whole_reports() -> None:
    run = [sys.executable, "-m", "linkscope"]
    folder = subprocess.run(
        [*run, "inspect", str(BIN), "--format", "json"], capture_output=True, text=True, check=False
    )
    assert folder.returncode == 1  # LS103: the fixtures hold Mach-O and PE files
    assert len(json.loads(folder.stdout)["binaries"]) > 50
    musl = subprocess.run(
        [*run, "check", str(BIN / "c_hello_muslgcc_dynamic_x86_64")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert musl.returncode == 1 and "LS202" in musl.stdout
    missing = subprocess.run(
        [*run, "inspect", "/nonexistent"], capture_output=True, text=True, check=False
    )
    assert missing.returncode == 2 and missing.stderr.startswith("linkscope: error: ")


def test_a_profiled_run_still_writes_its_profile(tmp_path: Path) -> None:
    profile = tmp_path / "inspect.prof"
    program = str(BIN / "c_hello_gcc_pie_x86_64")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cProfile",
            "-o",
            str(profile),
            "-m",
            "linkscope",
            "inspect",
            program,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and "c_hello_gcc_pie_x86_64" in done.stdout
    assert profile.stat().st_size > 0


READERS = {
    "tarfile",
    "hashlib",
    "zipfile",
    "isal",
    "multiprocessing",
    "linkscope.inputs.layers",
    "linkscope.inputs.blobs",
    "linkscope.inputs.image",
    "linkscope.inputs.zip",
}


def test_inspecting_a_program_imports_no_image_or_zip_reader() -> None:
    """The readers for containers and zips (and what they import) only for such an input."""
    program = BIN / "c_hello_gcc_pie_x86_64"
    done = _python(
        "import sys\nfrom linkscope.cli import main\n"
        f"code = main(['inspect', {str(program)!r}])\n"
        "print(__import__('json').dumps(sorted(sys.modules)), file=sys.stderr)\n"
        "raise SystemExit(code)"
    )
    assert done.returncode == 0, done.stderr
    imported = set(json.loads(done.stderr.strip().splitlines()[-1]))
    assert "linkscope.scan" in imported
    assert not imported & READERS, sorted(imported & READERS)
