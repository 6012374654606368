"""The report for people, on a terminal or in a log: the files, the findings (grouped where
they repeat) and one summary line, laid out to the width of `style` (render/layout.py)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from linkscope.model import BinaryFacts, Report
from linkscope.render.layout import PLAIN, Cell, Style, fits, grid, natural_width, wrap
from linkscope.render.needs import needs_text

if TYPE_CHECKING:
    from linkscope.render.grouping import FindingGroup

MAX_SYMBOLS_SHOWN = 6
PROSE_WIDTH = 100  # messages read badly in longer lines, however wide the terminal
INSPECT_HEADERS = (
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
DROPPED_FIRST = ("client", "interpreter", "toolchain", "type")  # on a narrow terminal
CHECK_HEADERS = ("path", "machine", "linkage", "libc", "needs", "needed")
INDENT = "  "


def render(
    report: Report, *, symbols: bool = False, style: Style = PLAIN, show_all: bool = False
) -> str:
    checking = report.runtime is not None
    parts = []
    if report.runtime is not None:
        verdict = style.paint(
            str(report.verdict), "good" if report.verdict == "compatible" else "bad"
        )
        parts.append(f"runtime: {report.runtime.name} ({report.runtime.arch})  verdict: {verdict}")
    binaries = sorted(report.binaries, key=lambda b: b.path)
    if checking and not show_all:
        flagged = {f.path for f in report.findings}
        binaries = [b for b in binaries if b.path in flagged]
    if binaries:
        parts.append(_files(binaries, style, full=not checking))
    hidden = len(report.binaries) - len(binaries)
    if hidden:
        files = "file" if hidden == 1 else "files"
        parts.append(f"{hidden} {files} without findings not listed (--all lists every file)")
    if symbols:
        parts.extend(_symbols(b, style) for b in binaries if b.version_requirements)
    if report.findings:
        from linkscope.render.grouping import distributions_of, group_findings  # findings only

        groups = group_findings(report.findings, distributions_of(report.binaries))
        parts.append("\n\n".join(_finding(g, style) for g in groups))
    if checking:
        parts.append(summary_line(report, style))
    return "\n\n".join(parts) + "\n"


def summary_line(report: Report, style: Style = PLAIN, suffix: str = "") -> str:
    """`incompatible: 5 errors, 1 warning in 1 of 1 files; 0 ignored`."""
    counts = Counter(f.severity.value for f in report.findings)
    tally = ", ".join(
        f"{counts[s]} {s}{'' if counts[s] == 1 else 's'}"
        for s in ("error", "warning", "info")
        if counts[s]
    )
    named = {f.path for f in report.findings}
    files = len({b.path for b in report.binaries} | named)
    where = f"in {len(named)} of {files} files"
    verdict = style.paint(str(report.verdict), "good" if report.verdict == "compatible" else "bad")
    body = f"{tally} {where}" if tally else f"no findings in {files} {_files_word(files)}"
    return "\n".join(wrap(f"{verdict}: {body}; {report.ignored} ignored{suffix}", style.width))


def _files_word(count: int) -> str:
    return "file" if count == 1 else "files"


def _files(binaries: list[BinaryFacts], style: Style, *, full: bool) -> str:
    """One row per file. Columns that cannot fit a narrow terminal are left out, and a note
    says which; cells are wrapped, never cut."""
    headers: tuple[str, ...] = INSPECT_HEADERS if full else CHECK_HEADERS
    rows = _file_rows(binaries, headers, full=full, by_folder=False)
    if style.width is not None and natural_width(headers, rows) > style.width:
        rows = _file_rows(binaries, headers, full=full, by_folder=True)
    dropped: list[str] = []
    for column in DROPPED_FIRST:
        if fits(headers, rows, style.width, first_column=28) or column not in headers:
            continue
        index = headers.index(column)
        headers = headers[:index] + headers[index + 1 :]
        rows = [row[:index] + row[index + 1 :] for row in rows]
        dropped.append(column)
    lists = [headers.index(h) for h in ("needed", "needs", "toolchain", "client") if h in headers]
    text = grid(headers, rows, style, shrink_first=lists)
    if dropped:
        left_out = ", ".join(sorted(dropped, key=INSPECT_HEADERS.index))
        text += "\n" + "\n".join(
            wrap(f"({left_out}: not shown at this width; --format json has them)", style.width)
        )
    return text


def _file_rows(
    binaries: list[BinaryFacts], headers: tuple[str, ...], *, full: bool, by_folder: bool
) -> list[list[str | Cell]]:
    """A zip's name once with its members indented below it; on a narrow terminal, the same
    for the files of one folder."""
    rows: list[list[str | Cell]] = []
    container = None
    for b in binaries:
        outer, member = _split_path(b.path, by_folder)
        if outer is not None and outer != container:
            rows.append([outer, *([""] * (len(headers) - 1))])
        container = outer
        label = b.path if outer is None else INDENT + member
        rows.append([label, *(_row(b) if full else _check_row(b))])
    return rows


def _split_path(path: str, by_folder: bool) -> tuple[str | None, str]:
    outer, bang, member = path.partition("!")
    if bang:
        return outer, member
    folder, slash, name = path.rpartition("/")
    if by_folder and slash and folder:
        return folder + "/", name
    return None, path


def _check_row(b: BinaryFacts) -> list[str]:
    return [b.machine, b.linkage.value, _libc(b), _needs(b), ", ".join(b.needed) or "-"]


def _row(b: BinaryFacts) -> list[str]:
    client = (
        "-"
        if b.runtime_client is None
        else (
            b.runtime_client.name
            + (f" {b.runtime_client.version}" if b.runtime_client.version else "")
        )
    )
    return [
        b.machine,
        b.elf_type.value,
        b.linkage.value,
        _libc(b),
        b.interpreter or "-",
        _needs(b),
        ", ".join(b.needed) or "-",
        _built_with(b),
        client,
    ]


def _libc(b: BinaryFacts) -> str:
    confidence = b.libc.confidence.value
    return b.libc.family.value + ("" if confidence == "certain" else f" ({confidence})")


def _needs(b: BinaryFacts) -> str:
    return needs_text(b)


def _built_with(b: BinaryFacts) -> str:
    """The toolchain in a few words: the Go or rustc version, else the first compiler named."""
    from linkscope.elf.toolchain import compilers_of

    toolchain = b.toolchain
    if toolchain.go is not None:
        return toolchain.go.version or "go"
    if toolchain.rust is not None:
        return f"rustc {toolchain.rust.rustc_version}" if toolchain.rust.rustc_version else "rust"
    compilers = compilers_of(b)
    if compilers:
        return f"{compilers[0].name} {compilers[0].version}"
    return toolchain.language or "-"


def _finding(group: FindingGroup, style: Style) -> str:
    """`error LS301 path`, then the message and the fix, wrapped and indented below it."""
    severity = style.paint(group.severity.value, group.severity.value)
    head = wrap(group.path, style.width, first=f"{group.severity.value} {group.rule}  ")
    head[0] = head[0].replace(group.severity.value, severity, 1)
    prose = None if style.width is None else min(style.width, PROSE_WIDTH)
    lines = [*head, *wrap(group.message, prose, INDENT)]
    if group.fix:
        lines += wrap(group.fix, prose, INDENT, "fix: ")
    return "\n".join(lines)


def _symbols(b: BinaryFacts, style: Style) -> str:
    lines = [f"{b.path}: symbol versions"]
    for r in b.version_requirements:
        shown = ", ".join(r.symbols[:MAX_SYMBOLS_SHOWN])
        more = len(r.symbols) - MAX_SYMBOLS_SHOWN
        extra = f" (+{more} more)" if more > 0 else ""
        weak = " [weak]" if r.weak else ""
        lines += wrap(f"{r.library:<24} {r.version:<20}{weak} {shown}{extra}", style.width, INDENT)
    return "\n".join(lines)
