"""The renderers' fast paths give the text of the straightforward code they replaced: the
table grid (one pass per column, single-line rows joined at once) and the needs summary (one
pass for required and weak versions)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from linkscope.model import VersionRequirement, highest_and_strong, split_version, weak_only
from linkscope.render import layout
from linkscope.render.layout import GAP, MIN_COLUMN, Cell, Style, _cell_lines, grid, wrap

# ---------------------------------------------------------------- the grid as it was written


def reference_grid(
    headers: Sequence[str],
    rows: Sequence[Sequence[str | Cell]],
    style: Style,
    *,
    shrink_first: Sequence[int] = (),
    below: Sequence[str] = (),
) -> str:
    cells = [[c if isinstance(c, Cell) else Cell(c) for c in row] for row in rows]
    floors = _floors(headers, cells)
    widths = _natural(headers, cells)
    if style.width is not None:
        budget = style.width - len(GAP) * (len(widths) - 1)
        widths = _fit(widths, floors, budget, shrink_first)
        widths = _fit(widths, floors, budget, range(len(widths)))
        widths = _fit(widths, [MIN_COLUMN] * len(widths), budget, range(len(widths)))
    lines = [_line([Cell(h) for h in headers], widths, style)]
    lines.append(GAP.join("-" * w for w in widths))
    for n, row in enumerate(cells):
        lines.append(_line(row, widths, style))
        if n < len(below) and below[n]:
            lines.extend(wrap(below[n], style.width, "  "))
    return "\n".join(lines)


def _natural(headers: Sequence[str], rows: list[list[Cell]]) -> list[int]:
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            longest = max((len(part) for part in cell.text.split("\n")), default=0)
            widths[i] = max(widths[i], longest)
    return widths


def _floors(headers: Sequence[str], rows: list[list[Cell]]) -> list[int]:
    floors = [max(len(h), MIN_COLUMN) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            words = cell.text.split(", ") if ", " in cell.text else cell.text.split()
            longest = max((len(word) + 1 for word in words), default=0)
            floors[i] = max(floors[i], min(longest, 24))
    return floors


def _fit(widths: list[int], floors: list[int], budget: int, columns: Iterable[int]) -> list[int]:
    fitted = list(widths)
    candidates = list(columns)
    while sum(fitted) > budget:
        shrinkable = [i for i in candidates if fitted[i] > floors[i]]
        if not shrinkable:
            break
        widest = max(shrinkable, key=lambda i: fitted[i])
        fitted[widest] -= 1
    return fitted


def _line(row: Sequence[Cell], widths: list[int], style: Style) -> str:
    wrapped = [_cell_lines(cell.text, width) for cell, width in zip(row, widths, strict=True)]
    height = max((len(w) for w in wrapped), default=1)
    out = []
    for n in range(height):
        parts = []
        for column, (cell, width) in enumerate(zip(row, widths, strict=True)):
            text = wrapped[column][n] if n < len(wrapped[column]) else ""
            pad = " " * (width - len(text)) if column < len(row) - 1 else ""
            parts.append(style.paint(text, cell.kind) + pad)
        out.append(GAP.join(parts).rstrip())
    return "\n".join(out)


# ---------------------------------------------------------------- properties


def _joined_words(parts: list[str]) -> str:
    return ", ".join(parts) if len(parts) > 2 else " ".join(parts)


words = st.sampled_from(
    ["x86_64", "glibc", "-", "", " ", "libc.so.6", "GLIBC 2.34", "/usr/lib/x86_64-linux-gnu/"]
)
texts = st.lists(words | st.text(alphabet="ab /!,-_.\n", max_size=30), min_size=1, max_size=4).map(
    _joined_words
)


cells = texts | st.builds(Cell, texts, st.sampled_from([None, "error", "good", "dim"]))


@st.composite
def tables(
    draw: st.DrawFn,
) -> tuple[list[str], list[list[str | Cell]], Style, list[int], list[str]]:
    count = draw(st.integers(min_value=1, max_value=5))
    headers = draw(
        st.lists(st.sampled_from(["path", "machine", "needs", "x"]), min_size=count, max_size=count)
    )
    rows = draw(st.lists(st.lists(cells, min_size=count, max_size=count), max_size=8))
    width = draw(st.none() | st.integers(min_value=1, max_value=140))
    style = Style(width=width, colour=draw(st.booleans()))
    shrink = draw(st.lists(st.integers(min_value=0, max_value=count - 1), max_size=2))
    below = draw(st.lists(texts, max_size=3))
    return headers, rows, style, shrink, below


@settings(max_examples=500, deadline=None)
@given(tables())
def test_grid_is_the_reference_grid(
    table: tuple[list[str], list[list[str | Cell]], Style, list[int], list[str]],
) -> None:
    headers, rows, style, shrink, below = table
    assert grid(headers, rows, style, shrink_first=shrink, below=below) == reference_grid(
        headers, rows, style, shrink_first=shrink, below=below
    )


@settings(max_examples=200, deadline=None)
@given(tables())
def test_natural_width_and_fits_are_the_references(
    table: tuple[list[str], list[list[str | Cell]], Style, list[int], list[str]],
) -> None:
    headers, rows, style, _shrink, _below = table
    cells = [[c if isinstance(c, Cell) else Cell(c) for c in row] for row in rows]
    natural = _natural(headers, cells)
    assert layout.natural_width(headers, rows) == sum(natural) + len(GAP) * (len(headers) - 1)
    if style.width is not None:
        floors = _floors(headers, cells)
        floors[0] = max(floors[0], min(28, natural[0]))
        expected = sum(floors) + len(GAP) * (len(headers) - 1) <= style.width
        assert layout.fits(headers, rows, style.width, first_column=28) == expected


def test_a_row_of_another_length_is_refused() -> None:
    for rows in ([["a", "b", "c"]], [["a"]]):
        try:
            grid(["h1", "h2"], rows)
        except (IndexError, ValueError):
            continue
        raise AssertionError(rows)


requirements = st.builds(
    VersionRequirement,
    library=st.just("libc.so.6"),
    version=st.sampled_from(
        ["GLIBC_2.2.5", "GLIBC_2.17", "GLIBC_2.34", "GLIBC_PRIVATE", "GLIBCXX_3.4.30", "GCC_3.0"]
    ),
    weak=st.booleans(),
    symbols=st.just(()),
)


def highest_versions(requirements: Iterable[VersionRequirement]) -> dict[str, str]:
    """The reference: the highest version per prefix, as model.py computed it before."""
    best: dict[str, tuple[int, ...]] = {}
    for requirement in requirements:
        parsed = split_version(requirement.version)
        if parsed is None:
            continue
        prefix, number = parsed
        if number > best.get(prefix, ()):
            best[prefix] = number
    return {prefix: ".".join(map(str, number)) for prefix, number in sorted(best.items())}


@settings(max_examples=300, deadline=None)
@given(st.lists(requirements, max_size=8))
def test_needs_summary_is_highest_versions(reqs: list[VersionRequirement]) -> None:
    everything, strong = highest_and_strong(reqs)
    assert everything == highest_versions(reqs)
    assert list(everything) == list(highest_versions(reqs))  # prefixes in the same order
    assert strong == highest_versions(r for r in reqs if not r.weak)
    assert weak_only(everything, strong) == {
        p: v for p, v in everything.items() if strong.get(p) != v
    }
