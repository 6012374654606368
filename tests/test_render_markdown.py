"""Markdown output for $GITHUB_STEP_SUMMARY and PR comments: golden files, and escaping checked by
parsing the output with a real CommonMark/GFM-tables parser (markdown-it-py, which typer's rich
brings along)."""

from __future__ import annotations

from pathlib import Path

import pytest
from _golden import CASE_IDS, CASES, Case, compare, run_case

from linkscope.model import (
    BinaryFacts,
    Confidence,
    ElfType,
    Finding,
    LibcFamily,
    LibcInfo,
    Linkage,
    Report,
    RuntimeRef,
    Severity,
    VersionRequirement,
)
from linkscope.render import markdown

NASTY_PATHS = (
    "fn.zip!lib/a|b.so",
    "weird`name`",
    "*bold* _it_ <b>x</b> [l](u)",
    "``x``",
    "a\\|b",
    "pipe | in ` code",
)


def binary(path: str) -> BinaryFacts:
    return BinaryFacts(
        path=path,
        size=1,
        elf_class=64,
        endianness="little",
        machine="x86_64",
        e_machine=62,
        os_abi="sysv",
        elf_type=ElfType.EXECUTABLE,
        entry=0,
        linkage=Linkage.DYNAMIC,
        needed=("libc.so.6",),
        version_requirements=(VersionRequirement(library="libc.so.6", version="GLIBC_2.38"),),
        libc=LibcInfo(family=LibcFamily.GLIBC, confidence=Confidence.CERTAIN),
    )


def nasty_report() -> Report:
    message = "`{}` needs GLIBC_2.38 (`strlcpy`) | version `GLIBC_2.38' not found"
    fix = "Use `zig cc -target x86_64-linux-gnu.2.26` | or *rebuild*"
    findings = tuple(
        Finding(rule="LS301", severity=Severity.ERROR, path=p, message=message.format(p), fix=fix)
        for p in NASTY_PATHS
    )
    return Report(
        binaries=tuple(binary(p) for p in NASTY_PATHS),
        findings=findings,
        runtime=RuntimeRef(name="provided.al2", arch="x86_64"),
        verdict="incompatible",
    )


def parse_tables(text: str) -> list[list[list[str]]]:
    """Every table as rows of cells, each cell's text as it would be displayed."""
    markdown_it = pytest.importorskip("markdown_it")
    tokens = markdown_it.MarkdownIt("commonmark").enable("table").parse(text)
    tables: list[list[list[str]]] = []
    row: list[str] | None = None
    for token in tokens:
        if token.type == "table_open":
            tables.append([])
        elif token.type == "tr_open":
            row = []
        elif token.type == "inline" and row is not None:
            row.append("".join(child.content for child in token.children or ()))
        elif token.type == "tr_close" and row is not None:
            tables[-1].append(row)
            row = None
    return tables


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_markdown_golden(
    case: Case, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run_case(case, "markdown", monkeypatch, tmp_path, capsys)
    verdict = "INCOMPATIBLE" if case.exit_code else "COMPATIBLE"
    assert out.startswith(f"### linkscope: **{verdict}** on `{case.runtime}`")
    compare(case, "markdown", out)


def test_nasty_paths_keep_every_table_intact_and_show_as_written() -> None:
    tables = parse_tables(markdown.render(nasty_report()))
    binaries, findings = tables
    assert binaries[0] == ["path", "machine", "linkage", "libc", "needs"]
    assert [row[0] for row in binaries[1:]] == sorted(NASTY_PATHS)
    assert all(len(row) == 5 for row in binaries)
    assert findings[0] == ["severity", "rule", "path", "message"]
    assert all(len(row) == 4 for row in findings)
    assert sorted(row[2] for row in findings[1:]) == sorted(NASTY_PATHS)
    for row in findings[1:]:
        assert row[3] == (f"{row[2]} needs GLIBC_2.38 (strlcpy) | version `GLIBC_2.38' not found")


def test_no_raw_html_or_emphasis_leaks() -> None:
    markdown_it = pytest.importorskip("markdown_it")
    parser = markdown_it.MarkdownIt("commonmark").enable("table")
    html = parser.render(markdown.render(nasty_report()))
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html
    assert "<em>" not in html.split("How to fix")[0]


def test_fixes_are_a_list_grouped_by_fix() -> None:
    text = markdown.render(nasty_report())
    fixes = text.split("#### How to fix\n\n", 1)[1].strip().splitlines()
    assert len(fixes) == 1
    assert fixes[0].startswith("- **LS301** (")
    assert fixes[0].endswith("): Use `zig cc -target x86_64-linux-gnu.2.26` \\| or \\*rebuild\\*")


@pytest.mark.parametrize(
    ("verdict", "word"), [("compatible", "COMPATIBLE"), ("incompatible", "INCOMPATIBLE")]
)
def test_verdict_line(verdict: str, word: str) -> None:
    r = Report(
        binaries=(binary("bootstrap"),),
        runtime=RuntimeRef(name="provided.al2023", arch="arm64"),
        verdict=verdict,
    )
    text = markdown.render(r)
    assert text.splitlines()[0] == f"### linkscope: **{word}** on `provided.al2023` (arm64)"
    assert "1 binary, no findings." in text
    assert "No findings." in text


def test_inspect_report_has_no_verdict() -> None:
    text = markdown.render(Report(binaries=(binary("a"), binary("b"))))
    assert text.startswith("### linkscope inspect\n\n2 binaries, no findings.")
    assert "COMPATIBLE" not in text


@pytest.mark.parametrize("value", ["plain", "a`b", "``", "`lead", "trail`", "a|b", " ", "x```y"])
def test_code_span_round_trips(value: str) -> None:
    markdown_it = pytest.importorskip("markdown_it")
    tokens = markdown_it.MarkdownIt("commonmark").parseInline(markdown.code(value, in_table=False))
    children = tokens[0].children or []
    assert [c.type for c in children] == ["code_inline"]
    assert children[0].content == value
