"""Command-line option values that need more than typer's parsing, and the report renderer
choice. Pure: no typer, no printing; bad values raise UsageError (exit 2)."""

from __future__ import annotations

import datetime
import sys
from typing import TYPE_CHECKING

from linkscope.errors import UsageError
from linkscope.render import OutputFormat

if sys.version_info >= (3, 11):
    from typing import assert_never
else:  # pragma: no cover - Python 3.10
    from typing_extensions import assert_never

if TYPE_CHECKING:
    from linkscope.inputs import Limits
    from linkscope.model import Report
    from linkscope.render.layout import Style
    from linkscope.resolve.tree import TreeReport


LIMIT_KEYS = {
    "file-size": "max_member_bytes",
    "total-size": "max_total_bytes",
    "ratio": "max_ratio",
    "files": "max_members",
}


SIZE_SUFFIXES = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_limits(values: list[str] | None) -> Limits:
    """`--limit file-size=2G --limit ratio=500` as Limits (sizes take K, M, G, T suffixes)."""
    from dataclasses import replace

    from linkscope.inputs import Limits

    limits = Limits()
    for value in values or ():
        key, _, number = value.partition("=")
        field = LIMIT_KEYS.get(key.strip())
        if field is None or not number:
            raise UsageError(
                f"--limit {value}: expected KEY=VALUE with KEY one of {', '.join(LIMIT_KEYS)}"
            )
        amount = parse_amount(number.strip(), allow_suffix=key.endswith("size"))
        limits = replace(limits, **{field: amount})
        if field == "max_member_bytes":
            limits = replace(limits, max_stdin_bytes=amount)
    return limits


def parse_amount(text: str, *, allow_suffix: bool) -> int:
    scale = SIZE_SUFFIXES.get(text[-1:].upper(), 1) if allow_suffix else 1
    digits = text[:-1] if scale != 1 else text
    if not digits.isdigit() or int(digits) <= 0:
        raise UsageError(
            f"--limit: '{text}' is not a positive whole number"
            + (" (with an optional K, M, G or T)" if allow_suffix else "")
        )
    return int(digits) * scale


def parse_date(value: str | None) -> datetime.date | None:
    if value is None:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--today {value}: not a date (YYYY-MM-DD)") from None


def format_pairs(
    formats: list[OutputFormat] | None, outputs: list[str] | None
) -> list[tuple[OutputFormat, str | None]]:
    formats = formats or [OutputFormat.TABLE]
    outputs = outputs or []
    if len(outputs) > len(formats):
        raise UsageError("more --output than --format options: give one --format per --output")
    if len(formats) > 1 and len(outputs) < len(formats) - 1:
        raise UsageError(
            "with several --format options, give an --output for each (one may go to stdout)"
        )
    return [(fmt, outputs[i] if i < len(outputs) else None) for i, fmt in enumerate(formats)]


def render_report(
    report: Report,
    output_format: OutputFormat,
    *,
    symbols: bool = False,
    style: Style | None = None,
    show_all: bool = False,
) -> str:
    if output_format is OutputFormat.JSON:
        from linkscope.render import json_report

        return str(json_report.render(report))
    if output_format is OutputFormat.TABLE:
        from linkscope.render import table
        from linkscope.render.layout import PLAIN

        return table.render(report, symbols=symbols, style=style or PLAIN, show_all=show_all)
    if output_format is OutputFormat.SARIF:
        from linkscope.render import sarif

        return str(sarif.render(report))
    if output_format is OutputFormat.MARKDOWN:
        from linkscope.render import markdown

        return str(markdown.render(report))
    assert_never(output_format)


def render_tree(trees: TreeReport, output_format: OutputFormat, style: Style) -> str:
    from linkscope.render import tree

    if output_format is OutputFormat.TABLE:
        return tree.render_text(trees, style)
    if output_format is OutputFormat.JSON:
        return tree.render_json(trees)
    raise UsageError(
        f"tree has no {output_format.value} output: use --format table or json "
        "(`linkscope check` writes SARIF and Markdown)"
    )
