"""GitHub Actions workflow commands for findings (`::error file=...,title=...::message`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _golden import ROOT, TODAY, cli_main

from linkscope.model import Finding, Report, Severity
from linkscope.render import annotations as workflow_commands

COMMAND = re.compile(
    r"^::(?P<kind>error|warning|notice) file=(?P<file>[^,:\r\n]*),"
    r"title=(?P<title>[^,:\r\n]*)::(?P<message>[^\r\n]*)$"
)


def unescape(value: str) -> str:
    for code, char in (("%3A", ":"), ("%2C", ","), ("%0A", "\n"), ("%0D", "\r"), ("%25", "%")):
        value = value.replace(code, char)
    return value


def finding(
    path: str, severity: Severity = Severity.ERROR, message: str = "broken", fix: str = ""
) -> Finding:
    return Finding(rule="LS301", severity=severity, path=path, message=message, fix=fix)


@pytest.mark.parametrize(
    ("severity", "kind"),
    [(Severity.ERROR, "error"), (Severity.WARNING, "warning"), (Severity.INFO, "notice")],
)
def test_one_command_per_finding_with_its_level(severity: Severity, kind: str) -> None:
    text = workflow_commands.render(Report(binaries=(), findings=(finding("bin/app", severity),)))
    lines = text.splitlines()
    assert len(lines) == 1
    match = COMMAND.match(lines[0])
    assert match is not None, lines[0]
    assert match["kind"] == kind
    assert match["file"] == "bin/app"
    assert unescape(match["title"]).startswith("LS301 glibc symbol versions")


def test_hostile_text_cannot_end_the_command_or_forge_another() -> None:
    path = "dir,with:odd%chars/boot\nstrap"
    message = "100% sure\r\n::error file=x::forged"
    text = workflow_commands.render(
        Report(binaries=(), findings=(finding(path, message=message, fix="a, b: c"),))
    )
    lines = text.splitlines()
    assert len(lines) == 1
    match = COMMAND.match(lines[0])
    assert match is not None, lines[0]
    assert unescape(match["file"]) == path
    assert unescape(match["message"]) == message + "\nFix: a, b: c"


def test_zip_member_is_annotated_on_the_archive() -> None:
    line = workflow_commands.command(
        finding(
            "dist/function.zip!lib/libfoo.so", message="`dist/function.zip!lib/libfoo.so` is broken"
        )
    )
    match = COMMAND.match(line)
    assert match is not None
    assert match["file"] == "dist/function.zip"
    assert "dist/function.zip!lib/libfoo.so" in match["message"]


def test_escape_functions_follow_the_toolkit() -> None:
    assert workflow_commands.escape_data("a%b\rc\nd:e,f") == "a%25b%0Dc%0Ad:e,f"
    assert workflow_commands.escape_property("a%b\rc\nd:e,f") == "a%25b%0Dc%0Ad%3Ae%2Cf"


@pytest.mark.parametrize("github_actions", [True, False])
def test_cli_prints_annotations_only_under_github_actions(
    github_actions: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    if github_actions:
        monkeypatch.setenv("GITHUB_ACTIONS", "true")
    else:
        monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    code = cli_main(
        [
            "check",
            "fixtures/bin/c_memfd_zig_glibc2.27_x86_64",
            "--runtime",
            "provided.al2",
            "--today",
            TODAY,
            "--format",
            "table",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    commands = [line for line in out.splitlines() if line.startswith("::")]
    if not github_actions:
        assert commands == []
        return
    assert commands[0].startswith(
        "::error file=fixtures/bin/c_memfd_zig_glibc2.27_x86_64,title=LS301 "
    )
    assert any(c.startswith("::warning ") for c in commands)
    assert all(COMMAND.match(c) for c in commands)
    assert out.index("::error") > out.index("LS301")  # after the report, not inside it


@pytest.mark.parametrize("output_format", ["json", "sarif"])
def test_no_annotations_mixed_into_a_machine_report_on_stdout(
    output_format: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    argv = ["check", "fixtures/bin/c_memfd_zig_glibc2.27_x86_64", "--runtime", "provided.al2",
            "--today", TODAY, "--format", output_format]  # fmt: skip
    assert cli_main(argv) == 1
    json.loads(capsys.readouterr().out)  # still one valid document: no `::error` appended


def test_no_findings_no_commands(tmp_path: Path) -> None:
    assert workflow_commands.render(Report(binaries=())) == ""
