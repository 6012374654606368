"""A compact Markdown report for `$GITHUB_STEP_SUMMARY` and pull-request comments.

A verdict line, a table of binaries, a table of findings and the fixes as a list. Text from the
binaries and the rules is escaped so that no path or message can break the tables: `|` is escaped
everywhere (also inside code spans, as GitHub's tables require), code spans that rules write in
their messages stay code spans, and any other Markdown character is shown as itself.
"""

from __future__ import annotations

import re
from collections import Counter

from linkscope.model import BinaryFacts, Finding, Report
from linkscope.render.json_report import sort_findings
from linkscope.render.needs import needs_text

_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&#!])")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")


def render(report: Report) -> str:
    parts = [verdict_line(report)]
    if report.binaries:
        parts.append(_binaries_table(report.binaries))
    findings = sort_findings(report.findings)
    if findings:
        parts.append("#### Findings\n\n" + _findings_table(findings))
        fixes = _fixes(findings)
        if fixes:
            parts.append("#### How to fix\n\n" + fixes)
    elif report.verdict is not None:
        parts.append("No findings.")
    return "\n\n".join(parts) + "\n"


def verdict_line(report: Report) -> str:
    counts = Counter(f.severity.value for f in report.findings)
    tally = ", ".join(_plural(counts[s], s) for s in ("error", "warning", "info") if counts[s])
    summary = f"{_plural(len(report.binaries), 'binary')}, {tally or 'no findings'}."
    if report.runtime is None or report.verdict is None:
        return f"### linkscope inspect\n\n{summary}"
    runtime = f"{code(report.runtime.name)} ({text(report.runtime.arch)})"
    return f"### linkscope: **{report.verdict.upper()}** on {runtime}\n\n{summary}"


def _binaries_table(binaries: tuple[BinaryFacts, ...]) -> str:
    rows = [
        [code(b.path), text(b.machine), text(b.linkage.value), _libc(b), _needs(b)]
        for b in sorted(binaries, key=lambda b: b.path)
    ]
    return table(["path", "machine", "linkage", "libc", "needs"], rows)


def _findings_table(findings: list[Finding]) -> str:
    """One row per finding, the versions of one library and fix together (render/grouping.py)."""
    from linkscope.render.grouping import group_findings

    rows = [
        [text(g.severity.value), text(g.rule), code(g.path), prose(g.message, path=g.path)]
        for g in group_findings(findings)
    ]
    return table(["severity", "rule", "path", "message"], rows)


def _fixes(findings: list[Finding]) -> str:
    grouped: dict[tuple[str, str], list[str]] = {}
    for f in findings:
        if f.fix:
            grouped.setdefault((f.rule, f.fix), []).append(f.path)
    lines = []
    for (rule, fix), paths in grouped.items():
        where = ", ".join(code(p, in_table=False) for p in dict.fromkeys(paths))
        lines.append(f"- **{text(rule)}** ({where}): {prose(fix, in_table=False)}")
    return "\n".join(lines)


def _libc(b: BinaryFacts) -> str:
    family = b.libc.family.value
    return text(
        family if b.libc.confidence.value == "certain" else f"{family} ({b.libc.confidence.value})"
    )


def _needs(b: BinaryFacts) -> str:
    return text(needs_text(b))


def table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines)


def text(value: str) -> str:
    """Plain text: every Markdown character shown as itself, on one line."""
    return _SPECIAL.sub(r"\\\1", _one_line(value))


def code(value: str, *, in_table: bool = True) -> str:
    """A code span that survives any content: a fence longer than any backtick run inside.
    In a table cell `|` is escaped even here (GitHub splits cells before it reads code spans)."""
    value = _one_line(value)
    if in_table:
        value = value.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * (longest + 1)
    spaced = value[:1] == value[-1:] == " " and value.strip() != ""  # CommonMark strips one
    pad = " " if value.startswith("`") or value.endswith("`") or spaced else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def prose(value: str, *, in_table: bool = True, path: str | None = None) -> str:
    """A rule's message: its `code spans` stay code, everything else is plain text. The finding's
    own path is found first, whole, so that a backtick in a file name cannot pair up wrongly."""
    value = _one_line(value)
    if path is not None and f"`{path}`" in value:
        pieces = value.split(f"`{path}`")
        joiner = code(path, in_table=in_table)
        return joiner.join(prose(piece, in_table=in_table) for piece in pieces)
    out, last = [], 0
    for match in _CODE_SPAN.finditer(value):
        out.append(text(value[last : match.start()]))
        out.append(code(match[1], in_table=in_table))
        last = match.end()
    out.append(text(value[last:]))
    return "".join(out)


def _one_line(value: str) -> str:
    return " ".join(value.split()) if "\n" in value or "\r" in value else value


def _plural(count: int, word: str) -> str:
    if count == 1:
        return f"1 {word}"
    plural = {"binary": "binaries", "info": "info"}.get(word, word + "s")
    return f"{count} {plural}"
