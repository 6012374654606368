"""The CLI as a person sees it: run in a real pseudo-terminal of 80, 100 and 120 columns, read
through a terminal emulator (pyte; tmux too where installed). No line is wider than the terminal,
colour appears on a terminal and never with NO_COLOR, --no-color or a pipe, repeated findings are
grouped, and the screens of a few fixtures are golden (tests/golden/terminal/).

Regenerate the screens after an intended change with
`LINKSCOPE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/test_terminal.py`, then read them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _golden import GOLDEN, ROOT, TODAY, UPDATE
from package_helpers import Item, cli_main, fixture, make_zip
from terminal_harness import Run, in_pipe, in_pty, in_tmux, tmux_available

RUST = "fixtures/bin/rust_hello_cargo_x86_64"
SCREENS = {
    "check_rust": ["check", "--runtime", "provided.al2", RUST, "--today", TODAY],
    "inspect_fixtures": [
        "inspect",
        RUST,
        "fixtures/bin/cxx_tochars_gxx_x86_64",
        "fixtures/bin/go_hello_static_x86_64",
    ],
    "explain_rust": ["explain", RUST, "--today", TODAY],
    "matrix_rust": ["matrix", RUST, "--today", TODAY],
    "tree_zip": ["tree", "function.zip", "--runtime", "provided.al2", "--today", TODAY],
    "check_zip": ["check", "function.zip", "--runtime", "provided.al2", "--today", TODAY],
}
COLOURED = ("check_rust", "matrix_rust", "tree_zip", "check_zip")
EXIT_CODES = {"inspect_fixtures": 0, "explain_rust": 0, "matrix_rust": 0}


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """The repository for fixture paths, plus function.zip: a bootstrap that needs OpenSSL 3
    (absent from provided.al2), a bundled library, and a tool that loads it."""
    for name in ("fixtures",):
        (tmp_path / name).symlink_to(ROOT / name)
    make_zip(
        tmp_path / "function.zip",
        [
            Item("bootstrap", fixture("c_ssl_gcc_x86_64")),
            Item("lib/libdemo.so.1", fixture("lib/libdemo.so.1"), mode=0o644),
            Item("bin/tool", fixture("c_uselib_gcc_x86_64")),
        ],
    )
    return tmp_path


def _compare_screen(name: str, columns: int, run: Run) -> None:
    path = GOLDEN / "terminal" / f"{name}.{columns}.txt"
    text = "\n".join(run.screen) + "\n"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"{path.relative_to(ROOT)} is missing: run with LINKSCOPE_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), (
        f"the {columns}-column screen of {name} differs from {path.relative_to(ROOT)}; if the "
        "change is intended, regenerate with LINKSCOPE_UPDATE_GOLDEN=1 and read the diff"
    )


def _fits(run: Run, columns: int) -> None:
    wide = [line for line in run.lines if len(line) > columns]
    assert not wide, f"{len(wide)} lines wider than {columns} columns, e.g. {wide[0]!r}"


@pytest.mark.parametrize("columns", [80, 120])
@pytest.mark.parametrize("name", list(SCREENS))
def test_screen_fits_and_matches_golden(name: str, columns: int, workdir: Path) -> None:
    run = in_pty(SCREENS[name], columns, cwd=workdir)
    assert run.code == EXIT_CODES.get(name, 1), run.raw
    _fits(run, columns)
    if name in COLOURED:
        assert run.coloured_cells > 0, "no colour on a terminal"
    _compare_screen(name, columns, run)


@pytest.mark.parametrize("name", COLOURED)
@pytest.mark.parametrize(
    ("extra", "env"),
    [([], {"NO_COLOR": "1"}), (["--no-color"], {}), ([], {"TERM": "dumb"})],
    ids=["NO_COLOR", "--no-color", "TERM=dumb"],
)
def test_no_colour_when_asked(
    name: str, extra: list[str], env: dict[str, str], workdir: Path
) -> None:
    run = in_pty([*SCREENS[name], *extra], 100, cwd=workdir, env=env)
    assert "\x1b[" not in run.raw and run.coloured_cells == 0
    _fits(run, 100)


@pytest.mark.parametrize("name", COLOURED)
def test_a_pipe_gets_plain_text_and_no_width_limit(name: str, workdir: Path) -> None:
    run = in_pipe(SCREENS[name], cwd=workdir)
    assert "\x1b[" not in run.raw
    if name != "tree_zip":  # a tree's lines are short anyway
        assert max(len(line) for line in run.lines) > 120  # nothing wrapped for a log or a file
    narrow = in_pipe(SCREENS[name], cwd=workdir, env={"COLUMNS": "70"})
    _fits(narrow, 70)  # COLUMNS is a width even off a terminal


def test_rust_check_in_100_columns_fits_and_gives_the_glibc_fix_once() -> None:
    run = in_pty(SCREENS["check_rust"], 100)
    _fits(run, 100)
    text = "\n".join(run.lines)
    assert text.count("fix: Build for glibc 2.26") == 1
    assert text.count("error LS301") == 1
    flat = " ".join(text.split())
    assert "needs GLIBC_2.28 (statx), 2.30 (gettid), 2.32 (pthread_getattr_np)" in flat
    assert "2.34 (__libc_start_main, pthread_attr_getstack) from libc.so.6" in flat
    assert run.lines[-1] == "incompatible: 5 errors, 1 warning in 1 of 1 files; 0 ignored"


def test_tree_in_100_columns_marks_the_missing_and_where_libc_is(workdir: Path) -> None:
    run = in_pty(SCREENS["tree_zip"], 100, cwd=workdir)
    _fits(run, 100)
    assert "├── libssl.so.3  NOT FOUND" in run.screen
    searched = "\n".join(run.screen).split("searched: ", 1)[1].split("├──", 1)[0]
    assert "/var/task/lib" in searched and "/lib64" in searched
    assert "└── libc.so.6  /lib64/libc.so.6 [runtime]" in run.screen
    assert "├── libdemo.so.1  /var/task/lib/libdemo.so.1 [function]" in run.screen


@pytest.mark.skipif(not tmux_available(), reason="tmux is not installed (pyte covers the rest)")
@pytest.mark.parametrize("name", ["check_rust", "tree_zip", "matrix_rust"])
def test_tmux_shows_the_same_screen_as_the_emulator(name: str, workdir: Path) -> None:
    run = in_tmux(SCREENS[name], 100, cwd=workdir)
    assert run.code == EXIT_CODES.get(name, 1)
    _fits(run, 100)
    assert run.coloured_cells > 0
    assert run.screen == in_pty(SCREENS[name], 100, cwd=workdir).screen


def test_check_lists_clean_files_only_with_all(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(workdir)
    run = cli_main()
    argv = ["check", "function.zip", "--runtime", "provided.al2", "--today", TODAY]
    assert run(argv) == 1
    default = capsys.readouterr().out
    assert "lib/libdemo.so.1" not in default.split("\n\n")[1]
    assert "1 file without findings not listed (--all lists every file)" in default
    assert run([*argv, "--all"]) == 1
    everything = capsys.readouterr().out
    assert "  lib/libdemo.so.1" in everything and "without findings" not in everything
    assert run([*argv, "--ignore", "LS501", "--ignore", "LS502"]) == 1
    assert capsys.readouterr().out.rstrip().endswith("; 2 ignored")


@pytest.mark.parametrize("columns", [None, 80])
def test_inspect_of_a_folder_keeps_one_row_per_file(
    columns: int | None, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = ("c_hello_gcc_pie_x86_64", "go_hello_static_x86_64", "cxx_tochars_gxx_x86_64")
    folder = workdir / "pkg" / "bin"
    folder.mkdir(parents=True)
    for name in names:
        (folder / name).write_bytes(fixture(name).read_bytes())
    env = {} if columns is None else {"COLUMNS": str(columns)}
    run = in_pipe(["inspect", "pkg"], cwd=workdir, env=env)
    assert run.code == 0
    firsts = [line.split()[0] for line in run.lines[2:] if line and not line.startswith(" " * 8)]
    for name in names:  # each file starts exactly one row, whatever the width
        starts = [f for f in firsts if f.startswith(name[:12]) or f.endswith("/" + name)]
        assert len(starts) == 1, run.raw
    if columns is not None:
        _fits(run, columns)
