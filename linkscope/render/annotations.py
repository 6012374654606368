"""GitHub Actions workflow commands (`::error file=...,title=LS301::message`), one per finding.

The CLI prints them to stdout under `GITHUB_ACTIONS=true`, after the report; GitHub shows them on
the run and on the pull request's changed files. Escaping follows GitHub's toolkit
(`@actions/core` `command.ts`): in the message `%`, CR and LF are percent-encoded; in properties
`:` and `,` are too, so that no path or message can end the command early or forge another one.
A zip member is annotated on the archive (`function.zip`), the file GitHub can show; the full
`function.zip!lib/libfoo.so` path stays in the message.
"""

from __future__ import annotations

from linkscope.model import Finding, Report, Severity
from linkscope.render.json_report import sort_findings
from linkscope.render.sarif import split_member
from linkscope.rules import RULES_BY_ID

# Every Severity has a command: tests/test_annotations.py checks each member.
_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def render(report: Report) -> str:
    return "".join(command(f) + "\n" for f in sort_findings(report.findings))


def command(finding: Finding) -> str:
    file, _member = split_member(finding.path)
    properties = f"file={escape_property(file)},title={escape_property(_title(finding))}"
    message = finding.message + (f"\nFix: {finding.fix}" if finding.fix else "")
    return f"::{_kind(finding.severity)} {properties}::{escape_data(message)}"


def _title(finding: Finding) -> str:
    rule = RULES_BY_ID.get(finding.rule)
    return f"{finding.rule} {rule.title}" if rule is not None else finding.rule


def _kind(severity: Severity) -> str:
    return _COMMANDS[severity]


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")
