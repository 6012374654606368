"""Plain-text layout for people: tables that fit a width, wrapped prose, and optional colour.

linkscope's own small renderer instead of tabulate: it wraps long cells rather than letting a
row run past the terminal, breaks paths at `/` and `!`, and costs nothing to import.
Colour codes are added after the layout is measured, so they never count towards a width.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from linkscope.records import Record

DEFAULT_WIDTH = 80  # a terminal whose size cannot be read
MIN_COLUMN = 6
GAP = "  "
SGR = {
    "error": "1;31",
    "warning": "33",
    "info": "36",
    "good": "32",
    "bad": "1;31",
    "dim": "2",
    "bold": "1",
}


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Style(Record):
    """How text output is laid out: `width` None means no limit (a pipe or a file)."""

    width: int | None = None
    colour: bool = False

    def paint(self, text: str, kind: str | None) -> str:
        if not self.colour or kind is None or not text:
            return text
        return f"\x1b[{SGR[kind]}m{text}\x1b[0m"


PLAIN = Style()


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Cell(Record):
    """A table cell with a colour kind (a key of SGR), applied after layout."""

    text: str
    kind: str | None = None


def terminal_style(
    *,
    is_tty: bool,
    terminal_columns: int | None,
    environ: Mapping[str, str],
    no_color: bool = False,
) -> Style:
    """The output style from the facts about stdout: COLUMNS wins, then the terminal's size,
    then 80 on a terminal of unknown size; no limit off a terminal. Colour only on a terminal,
    never with NO_COLOR set to anything (no-color.org), `--no-color` or TERM=dumb."""
    width: int | None = None
    columns = environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        width = int(columns)
    elif is_tty:
        width = terminal_columns if terminal_columns else DEFAULT_WIDTH
    colour = (
        is_tty and not no_color and not environ.get("NO_COLOR") and environ.get("TERM") != "dumb"
    )
    return Style(width=width, colour=colour)


def wrap(text: str, width: int | None, indent: str = "", first: str = "") -> list[str]:
    """Wrap prose at spaces; a word longer than the line is broken at `/`, `!` or `, `, and
    only then anywhere, so nothing is ever cut off."""
    if width is None:
        return [indent + first + text]
    room = max(width - len(indent), MIN_COLUMN)
    lines: list[str] = []
    for paragraph in text.split("\n") or [""]:
        lines.extend(_wrap_paragraph(paragraph, room, first if not lines else ""))
    return [indent + line for line in lines] or [indent + first]


def _wrap_paragraph(text: str, room: int, first: str) -> list[str]:
    """Greedy wrapping that keeps the spaces between words as written; the pieces of a word
    too long for a line continue it without a space."""
    lines: list[str] = []
    current, hang, gap = first, " " * len(first), ""
    for token in re.findall(r" +|[^ ]+", text):
        if token.startswith(" "):
            gap = token
            continue
        for n, piece in enumerate(_split_word(token, room - len(hang))):
            fresh = n or not current.strip() or current.endswith(" ")
            joiner = "" if fresh else gap or " "
            if len(current) + len(joiner) + len(piece) <= room or not current.strip():
                current += joiner + piece
            else:
                lines.append(current)
                current = hang + piece
        gap = ""
    lines.append(current)
    return [line.rstrip() for line in lines]


def _split_word(word: str, room: int) -> list[str]:
    if len(word) <= room:
        return [word]
    pieces: list[str] = []
    rest = word
    while len(rest) > room:
        cut = max(rest.rfind(mark, 0, room) for mark in "/!,")
        if cut <= 0:  # no path separator: a file name breaks after `_`, `-` or `.`
            cut = max(rest.rfind(mark, 0, room) for mark in "_-.")
        cut = cut + 1 if cut > 0 else room
        pieces.append(rest[:cut])
        rest = rest[cut:]
    return [*pieces, rest] if rest else pieces


def grid(
    headers: Sequence[str],
    rows: Sequence[Sequence[str | Cell]],
    style: Style = PLAIN,
    *,
    shrink_first: Sequence[int] = (),
    below: Sequence[str] = (),
) -> str:
    """A left-aligned table with a dashed rule under the headers, each column as narrow as
    needed to fit `style.width`: the `shrink_first` columns (lists that wrap well) give way
    first, then the widest; their cells wrap. `below[i]`, when given, is wrapped under row i."""
    texts = _texts(rows)
    kinds = [[c.kind if isinstance(c, Cell) else None for c in row] for row in rows]
    paint = style.colour and any(any(row) for row in kinds)  # else every cell is its text
    widths = _natural(headers, texts)
    if style.width is not None:
        floors = _floors(headers, texts)
        budget = style.width - len(GAP) * (len(widths) - 1)
        widths = _fit(widths, floors, budget, shrink_first)
        widths = _fit(widths, floors, budget, range(len(widths)))
        # Still too wide: below the floors, words break; only a terminal narrower than six
        # characters a column is left to wrap the rows itself.
        widths = _fit(widths, [MIN_COLUMN] * len(widths), budget, range(len(widths)))
    lines = [_line(headers, None, widths, style)]
    lines.append(GAP.join("-" * w for w in widths))
    for n, row in enumerate(texts):
        row_kinds = kinds[n] if paint and any(kinds[n]) else None
        lines.append(_line(row, row_kinds, widths, style))
        if n < len(below) and below[n]:
            lines.extend(wrap(below[n], style.width, "  "))
    return "\n".join(lines)


def _texts(rows: Sequence[Sequence[str | Cell]]) -> list[list[str]]:
    return [[c.text if isinstance(c, Cell) else c for c in row] for row in rows]


def natural_width(headers: Sequence[str], rows: Sequence[Sequence[str | Cell]]) -> int:
    """How wide the table is when no cell wraps."""
    return sum(_natural(headers, _texts(rows))) + len(GAP) * (len(headers) - 1)


def _natural(headers: Sequence[str], rows: list[list[str]]) -> list[int]:
    """Each column's widest line (a cell may hold several)."""
    widths = [len(h) for h in headers]
    for i, column in enumerate(_columns(rows, len(headers))):
        joined = "\n".join(column)
        longest = (
            max(map(len, joined.split("\n")))
            if "\n" in joined
            else max(map(len, column), default=0)
        )
        widths[i] = max(widths[i], longest)
    return widths


def _columns(rows: list[list[str]], count: int) -> list[list[str]]:
    """The rows' cells column by column (every row has one cell per header)."""
    for row in rows:
        if len(row) > count:
            raise IndexError("a row has more cells than the table has headers")
    return [[row[i] for row in rows if i < len(row)] for i in range(count)]


def fits(
    headers: Sequence[str],
    rows: Sequence[Sequence[str | Cell]],
    width: int | None,
    *,
    first_column: int = 0,
) -> bool:
    """Whether the table fits `width` with every column at its floor and the first (the name
    people look for) at least `first_column` wide, or as wide as it needs."""
    if width is None:
        return True
    texts = _texts(rows)
    floors = _floors(headers, texts)
    floors[0] = max(floors[0], min(first_column, _natural(headers, texts)[0]))
    return sum(floors) + len(GAP) * (len(headers) - 1) <= width


def _floors(headers: Sequence[str], rows: list[list[str]]) -> list[int]:
    """How narrow a column may get: its header, or its longest word (a list's longest item)
    up to 24 characters."""
    floors = [max(len(h), MIN_COLUMN) for h in headers]
    for i, column in enumerate(_columns(rows, len(headers))):
        for text in set(column):  # a column repeats few values ("x86_64", "dynamic", "-")
            words = text.split(", ") if ", " in text else text.split()
            longest = max((len(word) + 1 for word in words), default=0)
            floors[i] = max(floors[i], min(longest, 24))
    return floors


def _fit(widths: list[int], floors: list[int], budget: int, columns: Iterable[int]) -> list[int]:
    fitted = list(widths)
    candidates = list(columns)
    while sum(fitted) > budget:
        shrinkable = [i for i in candidates if fitted[i] > floors[i]]
        if not shrinkable:
            break  # narrower than every column's floor: the terminal wraps the rows
        widest = max(shrinkable, key=lambda i: fitted[i])
        fitted[widest] -= 1
    return fitted


def _line(
    row: Sequence[str], kinds: Sequence[str | None] | None, widths: list[int], style: Style
) -> str:
    """One row, its cells padded to their columns' widths; `kinds` None: no colour in it."""
    if len(row) != len(widths):
        raise ValueError("a row has another number of cells than the table has columns")
    if kinds is None and all(
        len(text) <= width and "\n" not in text for text, width in zip(row, widths, strict=True)
    ):  # the usual row: one line, nothing painted
        # the last cell's padding goes with the rstrip, as the row's own trailing spaces do
        return GAP.join(
            [text + " " * (width - len(text)) for text, width in zip(row, widths, strict=True)]
        ).rstrip()
    wrapped = [_cell_lines(text, width) for text, width in zip(row, widths, strict=True)]
    height = max((len(w) for w in wrapped), default=1)
    out = []
    last = len(row) - 1
    for n in range(height):
        parts = []
        for column, width in enumerate(widths):
            text = wrapped[column][n] if n < len(wrapped[column]) else ""
            pad = " " * (width - len(text)) if column < last else ""
            kind = kinds[column] if kinds is not None else None
            parts.append(style.paint(text, kind) + pad)
        out.append(GAP.join(parts).rstrip())
    return "\n".join(out)


def _cell_lines(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for part in text.split("\n"):
        lines.extend(_wrap_cell(part, width) if len(part) > width else [part])
    return lines


def _wrap_cell(text: str, width: int) -> list[str]:
    """Lists (`a, b, c`) break after their commas; anything else as prose. An indented cell (a
    zip's member under the zip) stays indented on every line."""
    body = text.lstrip(" ")
    indent = " " * min(len(text) - len(body), max(width - MIN_COLUMN, 0))
    room = width - len(indent)
    lines = _list_lines(body, room) if ", " in body else _wrap_paragraph(body, room, "")
    return [indent + line for line in lines]


def _list_lines(text: str, width: int) -> list[str]:
    items = text.split(", ")
    lines: list[str] = []
    current = ""
    for n, item in enumerate(items):
        piece = item + ("," if n < len(items) - 1 else "")
        candidate = f"{current} {piece}" if current else piece
        if len(candidate) <= width or not current:
            current = candidate
        else:
            lines.append(current)
            current = piece
    lines.append(current)
    return [line for chunk in lines for line in _split_word(chunk, width)]
