"""Explanations as plain text ("table"), JSON or Markdown. Pure functions returning strings."""

from __future__ import annotations

import json
from typing import Any

from linkscope.errors import UsageError
from linkscope.explain import BinaryExplanation, Explanation, RuntimeLine

WIDTH = 100
EXPLAIN_SCHEMA_VERSION = 1


def render(explanation: Explanation, fmt: str, width: int | None = None) -> str:
    if fmt == "json":
        return json.dumps(to_dict(explanation), indent=2) + "\n"
    if fmt == "markdown":
        return markdown(explanation)
    if fmt == "table":
        return text(explanation, min(width or WIDTH, WIDTH))
    raise UsageError(
        f"explain has no {fmt.upper() if fmt == 'sarif' else fmt} output: SARIF "
        "describes findings, not explanations; use --format json, markdown or "
        "table (or `linkscope check --format sarif` for the findings)."
    )


def to_dict(explanation: Explanation) -> dict[str, Any]:
    from linkscope import __version__

    return {
        "schema_version": EXPLAIN_SCHEMA_VERSION,
        "linkscope_version": __version__,
        "path": explanation.path,
        "runtime": {"name": explanation.runtime, "arch": explanation.arch},
        "date": explanation.today.isoformat(),
        "binaries": [_binary_dict(b) for b in explanation.binaries],
        "notes": list(explanation.notes),
        "package": _package_dict(explanation),
    }


def _package_dict(explanation: Explanation) -> dict[str, Any]:
    language = explanation.language
    return {
        "language": None
        if language is None
        else {"text": language.text, "because": list(language.because)},
        "runtimes": [
            {
                "runtime": r.runtime,
                "arch": r.arch,
                "os": r.os,
                "starts": r.starts,
                "status": r.status,
                "text": r.text,
                "rules": list(r.rules),
            }
            for r in explanation.package_runtimes
        ],
        "problems": [
            {
                "rule": p.rule,
                "severity": p.severity,
                "runtime": p.runtime,
                "text": p.text,
                "fix": p.fix,
            }
            for p in explanation.package_problems
        ],
    }


def _binary_dict(b: BinaryExplanation) -> dict[str, Any]:
    client = (
        None
        if b.client is None
        else {
            "name": b.client.name,
            "version": b.client.version,
            "evidence": list(b.client.evidence),
        }
    )
    return {
        "path": b.path,
        "statements": [
            {"topic": s.topic, "title": s.title, "text": s.text, "because": list(s.because)}
            for s in b.statements
        ],
        "runtimes": [
            {
                "runtime": r.runtime,
                "arch": r.arch,
                "os": r.os,
                "starts": r.starts,
                "status": r.status,
                "text": r.text,
                "because": list(r.because),
                "rules": list(r.rules),
            }
            for r in b.runtimes
        ],
        "problems": [
            {
                "rule": p.rule,
                "severity": p.severity,
                "runtime": p.runtime,
                "text": p.text,
                "fix": p.fix,
                "because": list(p.because),
            }
            for p in b.problems
        ],
        "toolchain": b.toolchain,
        "runtime_client": client,
    }


def _wrap(body: str, width: int, indent: str, first: str = "") -> list[str]:
    from linkscope.render.layout import wrap

    return wrap(body, width, indent, first)


def _because(facts: tuple[str, ...], width: int, indent: str) -> list[str]:
    return _wrap("; ".join(facts), width, indent, "because: ") if facts else []


def _verdict(line: RuntimeLine) -> str:
    return {True: "starts", False: "FAILS", None: "n/a"}[line.starts]


def _package_text(explanation: Explanation, width: int) -> list[str]:
    out: list[str] = []
    if explanation.language is not None:
        out += _wrap(explanation.language.text, width, "")
        out += _because(explanation.language.because, width, "  ")
    if explanation.package_runtimes:
        out.append(f"  On Lambda ({explanation.arch}, as of {explanation.today.isoformat()}):")
        for r in explanation.package_runtimes:
            status = "" if r.status in ("supported", "unavailable") else f" ({r.status})"
            out.append(f"    {r.runtime}{status}:")
            out += _wrap(r.text, width, "      ")
    for n, p in enumerate(explanation.package_problems, 1):
        if n == 1:
            out.append("  Problems of the package and fixes:")
        out.append(f"    {n}. {p.rule} ({p.severity}) on {p.runtime}:")
        out += _wrap(p.text, width, "       ")
        out += _wrap(p.fix, width, "       ", "fix: ")
    return [*out, ""] if out else []


def text(explanation: Explanation, width: int = WIDTH) -> str:
    out: list[str] = _package_text(explanation, width)
    for b in explanation.binaries:
        out += _wrap(b.path, width, "")
        for s in b.statements:
            out.append(f"  {s.title}:")
            out += _wrap(s.text, width, "    ")
            out += _because(s.because, width, "    ")
        out.append(f"  On Lambda ({explanation.arch}, as of {explanation.today.isoformat()}):")
        for r in b.runtimes:
            status = "" if r.status in ("supported", "unavailable") else f" ({r.status})"
            out.append(f"    {r.runtime}{status}:")
            out += _wrap(r.text, width, "      ")
            out += _because(r.because, width, "      ")
        if b.problems:
            out.append("  Problems and fixes:")
            for n, p in enumerate(b.problems, 1):
                out.append(f"    {n}. {p.rule} ({p.severity}) on {p.runtime}:")
                out += _wrap(p.text, width, "       ")
                out += _because(p.because, width, "       ")
                out += _wrap(p.fix, width, "       ", "fix: ")
        else:
            out.append("  Problems and fixes: none found.")
        out.append("")
    out += [f"note: {n}" for n in explanation.notes]
    return "\n".join(out).rstrip("\n") + "\n"


def markdown(explanation: Explanation) -> str:
    out: list[str] = []
    if explanation.language is not None:
        out += [f"**{explanation.language.text}**", ""]
    for r in explanation.package_runtimes:
        out.append(f"- {r.runtime}: {_cell(r.text)}")
    for p in explanation.package_problems:
        out.append(f"- **{p.rule}** ({p.severity}, {p.runtime}): {p.text} *fix:* {p.fix}")
    if explanation.package_runtimes or explanation.package_problems:
        out.append("")
    for b in explanation.binaries:
        out += [f"## `{b.path}`", ""]
        for s in b.statements:
            out.append(f"- **{s.title}:** {s.text}")
            if s.because:
                out.append(f"  <br>*because:* {'; '.join(_code(f) for f in s.because)}")
        out += [
            "",
            f"### On Lambda ({explanation.arch}, {explanation.today.isoformat()})",
            "",
            "| runtime | OS | status | starts | why |",
            "| --- | --- | --- | --- | --- |",
        ]
        for r in b.runtimes:
            out.append(
                f"| {r.runtime} | {r.os or '-'} | {r.status} | {_verdict(r)} | {_cell(r.text)} |"
            )
        out += ["", "### Problems and fixes", ""]
        if not b.problems:
            out.append("None found.")
        for n, p in enumerate(b.problems, 1):
            out.append(f"{n}. **{p.rule}** ({p.severity}, {p.runtime}): {p.text}")
            out.append(f"   - *fix:* {p.fix}")
        out.append("")
    out += [f"> note: {n}" for n in explanation.notes]
    return "\n".join(out).rstrip("\n") + "\n"


def _code(fact: str) -> str:
    return fact.replace("|", "\\|")


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")
