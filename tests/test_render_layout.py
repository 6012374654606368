"""The table renderer (render/layout.py), finding grouping (render/grouping.py) and the
table report's summary line, on hand-made data."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkscope.model import Finding, Report, RuntimeRef, Severity
from linkscope.render.grouping import group_findings, versions_text
from linkscope.render.layout import PLAIN, Cell, Style, grid, terminal_style, wrap
from linkscope.render.table import summary_line


@pytest.mark.parametrize(
    ("tty", "columns", "environ", "no_color", "expected"),
    [
        (True, 120, {}, False, Style(width=120, colour=True)),
        (True, None, {}, False, Style(width=80, colour=True)),  # size unknown: 80
        (True, 120, {"COLUMNS": "100"}, False, Style(width=100, colour=True)),
        (False, None, {}, False, Style(width=None, colour=False)),  # a pipe: no limit
        (False, None, {"COLUMNS": "90"}, False, Style(width=90, colour=False)),
        (True, 120, {"NO_COLOR": "1"}, False, Style(width=120, colour=False)),
        (True, 120, {"NO_COLOR": ""}, False, Style(width=120, colour=True)),  # empty: unset
        (True, 120, {}, True, Style(width=120, colour=False)),  # --no-color
        (True, 120, {"TERM": "dumb"}, False, Style(width=120, colour=False)),
        (True, 120, {"COLUMNS": "wide"}, False, Style(width=120, colour=True)),
    ],
)
def test_terminal_style(
    tty: bool, columns: int | None, environ: dict[str, str], no_color: bool, expected: Style
) -> None:
    style = terminal_style(is_tty=tty, terminal_columns=columns, environ=environ, no_color=no_color)
    assert style == expected


@given(
    st.lists(st.text(alphabet="abc/!,. ", min_size=1, max_size=40), min_size=1, max_size=12),
    st.integers(min_value=8, max_value=60),
)
def test_wrap_never_exceeds_the_width_and_never_loses_text(words: list[str], width: int) -> None:
    text = " ".join(words)
    lines = wrap(text, width, "  ", "fix: ")
    assert all(len(line) <= width for line in lines)
    assert "".join("".join(lines).split()) == "fix:" + "".join(text.split())


def test_grid_fits_the_width_and_wraps_lists_after_commas() -> None:
    rows = [
        ["fixtures/bin/rust_hello_cargo_x86_64", "libgcc_s.so.1, libc.so.6, libm.so.6"],
        ["short", "-"],
    ]
    text = grid(["path", "needed"], rows, Style(width=40))
    assert max(len(line) for line in text.splitlines()) <= 40
    assert "libgcc_s.so.1," in text and "libc.so.6," in text  # whole items, broken after ", "
    unlimited = grid(["path", "needed"], rows)
    assert unlimited.splitlines()[2].startswith("fixtures/bin/rust_hello_cargo_x86_64  libgcc")


def test_colour_codes_do_not_count_towards_the_width() -> None:
    rows: list[list[str | Cell]] = [[Cell("error", "error"), "x" * 30]]
    coloured = grid(["severity", "text"], rows, Style(width=50, colour=True))
    plain = grid(["severity", "text"], rows, Style(width=50, colour=False))
    assert "\x1b[1;31merror\x1b[0m" in coloured
    assert coloured.replace("\x1b[1;31m", "").replace("\x1b[0m", "") == plain
    assert "\x1b[" not in grid(["severity"], [[Cell("error", "error")]], PLAIN)


def _ls301(version: str, symbols: tuple[str, ...], path: str = "bin/app") -> Finding:
    return Finding(
        rule="LS301",
        severity=Severity.ERROR,
        path=path,
        message=f"`{path}` needs {version} from libc.so.6 because of {', '.join(symbols)}, but "
        f"/lib64/libc.so.6 (provided.al2) goes up to GLIBC_2.26: it will fail to start with "
        f'"version `{version}\' not found".',
        fix="Build for glibc 2.26.",
        library="libc.so.6",
        version=version,
        symbols=symbols,
    )


def test_versions_of_one_library_and_fix_are_grouped_in_numeric_order() -> None:
    findings = (
        _ls301("GLIBC_2.34", ("__libc_start_main",)),
        _ls301("GLIBC_2.3", ("old",)),
        _ls301("GLIBC_2.28", ("statx",)),
        _ls301("GLIBC_2.28", ("statx",), path="bin/other"),
    )
    groups = group_findings(findings)
    assert [(g.path, len(g.findings)) for g in groups] == [("bin/app", 3), ("bin/other", 1)]
    assert groups[0].message.startswith(
        "`bin/app` needs GLIBC_2.3 (old), 2.28 (statx), 2.34 (__libc_start_main) from libc.so.6, "
        "but /lib64/libc.so.6"
    )
    assert groups[1].message == findings[3].message


def test_versions_text_names_a_new_prefix_and_counts_extra_symbols() -> None:
    findings = [
        _ls301("GLIBC_2.28", ("a", "b", "c", "d", "e")),
        Finding(
            rule="LS302",
            severity=Severity.ERROR,
            path="x",
            message="m",
            version="GLIBCXX_3.4.29",
            library="libstdc++.so.6",
        ),
    ]
    assert versions_text(findings) == "GLIBC_2.28 (a, b, c +2), GLIBCXX_3.4.29"


def test_summary_line_counts_every_finding_and_the_ignored() -> None:
    report = Report(
        binaries=(),
        findings=(_ls301("GLIBC_2.28", ("statx",)), _ls301("GLIBC_2.34", ("x",))),
        runtime=RuntimeRef(name="provided.al2", arch="x86_64"),
        verdict="incompatible",
        ignored=3,
    )
    assert summary_line(report) == "incompatible: 2 errors in 1 of 1 files; 3 ignored"
    clean = Report(
        binaries=(), runtime=RuntimeRef(name="provided.al2", arch="x86_64"), verdict="compatible"
    )
    assert summary_line(clean) == "compatible: no findings in 0 files; 0 ignored"
