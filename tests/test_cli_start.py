"""Start-up of the command line: only the command being run is built (linkscope/cli.py
`_app_for`), and what it prints is what the whole app prints."""

from __future__ import annotations

import pytest
import typer

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
