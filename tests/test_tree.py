"""`linkscope tree`: the dependency tree the emulated loader resolved (resolve/tree.py) and its
text and JSON (render/tree.py), on hand-made packages and on a real zip of fixture binaries."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from check_helpers import elf, library, package, req
from package_helpers import Item, cli_main, fixture, make_zip

from linkscope.model import Report
from linkscope.profiles import load_target
from linkscope.render.layout import Style
from linkscope.render.tree import render_json, render_text
from linkscope.resolve import build_world
from linkscope.resolve.tree import Dependency, Mention, TreeReport, build_trees


def _trees(*binaries: object, runtime: str = "provided.al2") -> TreeReport:
    world = build_world(package(*binaries), [], load_target(runtime, "x86_64"))  # type: ignore[arg-type]
    return TreeReport(report=Report(binaries=()), trees=build_trees(world))


def _by_name(deps: tuple[Dependency, ...]) -> dict[str, Dependency]:
    return {d.name: d for d in deps}


def test_each_library_with_where_it_was_found_and_what_it_lacks() -> None:
    result = _trees(
        elf(
            "bootstrap",
            needed=("libfoo.so.1", "libc.so.6"),
            requirements=[req("libc.so.6", "GLIBC_2.34", "__libc_start_main")],
        ),
        library("lib/libfoo.so.1", needed=("libbar.so.2", "libc.so.6")),
    )
    (tree,) = result.trees  # libfoo is loaded by the bootstrap: no tree of its own
    assert (tree.location, tree.path, tree.origin, tree.role) == (
        "bootstrap",
        "/var/task/bootstrap",
        "function",
        "bootstrap",
    )
    assert tree.interpreter is not None and tree.interpreter.found
    top = _by_name(tree.needs)
    foo = top["libfoo.so.1"]
    assert (foo.mention, foo.path, foo.origin) == (
        Mention.FIRST,
        "/var/task/lib/libfoo.so.1",
        "function",
    )
    below = _by_name(foo.needs)
    assert below["libbar.so.2"].mention is Mention.NOT_FOUND
    assert "/var/task/lib" in below["libbar.so.2"].searched
    assert "/lib64" in below["libbar.so.2"].searched
    libc = below["libc.so.6"]
    assert (libc.mention, libc.path, libc.origin) == (Mention.FIRST, "/lib64/libc.so.6", "runtime")
    assert top["libc.so.6"].mention is Mention.REPEAT  # listed once, under libfoo
    assert [p.version for p in top["libc.so.6"].failed_versions] == ["GLIBC_2.34"]


def test_a_cycle_is_shown_once_and_marked() -> None:
    result = _trees(
        elf("bootstrap", needed=("liba.so",)),
        library("lib/liba.so", needed=("libb.so",)),
        library("lib/libb.so", needed=("liba.so",)),
    )
    (tree,) = result.trees
    (a,) = tree.needs
    (b,) = a.needs
    (back,) = b.needs
    assert (a.mention, b.mention, back.mention) == (Mention.FIRST, Mention.FIRST, Mention.CYCLE)
    assert back.path == "/var/task/lib/liba.so" and back.needs == ()
    text = render_text(result)
    assert "liba.so  /var/task/lib/liba.so (a cycle: it is loaded above)" in text


def test_static_and_foreign_binaries_say_why_there_is_no_tree() -> None:
    result = _trees(
        elf("bootstrap", needed=(), interpreter=None),
        elf("bin/arm", machine="aarch64"),
    )
    notes = {t.location: t.note for t in result.trees}
    assert notes["bootstrap"] == "loads no libraries (static)"
    assert "another machine" in notes["bin/arm"]


def test_text_fits_the_width_and_marks_the_missing() -> None:
    result = _trees(
        elf("bootstrap", needed=("libnothere.so.1", "libc.so.6")),
    )
    text = render_text(result, Style(width=40))
    assert all(len(line) <= 40 for line in text.splitlines())
    assert "├── libnothere.so.1  NOT FOUND" in text
    assert "└── libc.so.6  /lib64/libc.so.6" in text
    assert "└── libc.so.6  /lib64/libc.so.6 [runtime]" in render_text(result, Style(width=80))
    coloured = render_text(result, Style(width=80, colour=True))
    assert "\x1b[1;31mNOT FOUND\x1b[0m" in coloured


def _ssl_zip(tmp_path: Path) -> Path:
    return make_zip(
        tmp_path / "function.zip",
        [
            Item("bootstrap", fixture("c_ssl_gcc_x86_64")),
            Item("lib/libdemo.so.1", fixture("lib/libdemo.so.1"), mode=0o644),
            Item("bin/tool", fixture("c_uselib_gcc_x86_64")),
        ],
    )


def test_cli_tree_json_marks_the_missing_library_and_where_libc_was_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _ssl_zip(tmp_path)
    monkeypatch.chdir(tmp_path)
    argv = ["tree", "function.zip", "--runtime", "provided.al2", "--format", "json"]
    code = cli_main()([*argv, "--today", "2026-11-29"])
    document = json.loads(capsys.readouterr().out)
    assert code == 1  # as check: incompatible
    assert document["schema_version"] == 1 and document["verdict"] == "incompatible"
    trees = {t["location"]: t for t in document["trees"]}
    assert set(trees) == {"function.zip!bootstrap", "function.zip!bin/tool"}
    needs = {d["name"]: d for d in trees["function.zip!bootstrap"]["needs"]}
    assert needs["libssl.so.3"]["status"] == "not-found"
    assert "/var/task/lib" in needs["libssl.so.3"]["searched"]
    libc = needs["libc.so.6"]
    assert (libc["status"], libc["path"], libc["origin"]) == (
        "found",
        "/lib64/libc.so.6",
        "runtime",
    )
    assert [v["version"] for v in libc["failed_versions"]] == ["GLIBC_2.34"]
    tool = {d["name"]: d for d in trees["function.zip!bin/tool"]["needs"]}
    demo = tool["libdemo.so.1"]
    assert (demo["path"], demo["location"], demo["origin"]) == (
        "/var/task/lib/libdemo.so.1",
        "function.zip!lib/libdemo.so.1",
        "function",
    )


def test_cli_tree_exit_codes_follow_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    run = cli_main()
    good = str(fixture("c_hello_zig_glibc2.17_x86_64"))
    assert run(["tree", good, "--runtime", "provided.al2", "--ignore", "LS501"]) == 0
    out = capsys.readouterr().out
    assert "libc.so.6  /lib64/libc.so.6 [runtime]" in out
    assert out.rstrip().endswith("for the findings)")
    assert run(["tree", good, "--format", "sarif"]) == 2
    assert "tree has no sarif output" in capsys.readouterr().err
    assert run(["tree", str(tmp_path / "absent")]) == 2


def test_tree_json_of_one_tree_is_the_same_tree_as_text() -> None:
    result = _trees(elf("bootstrap", needed=("libc.so.6",)))
    document = json.loads(render_json(result))
    (tree,) = document["trees"]
    assert [d["name"] for d in tree["needs"]] == ["libc.so.6"]
    assert tree["interpreter"] == {
        "path": "/lib64/ld-linux-x86-64.so.2",
        "found": True,
        "origin": "runtime",
    }


def test_a_library_found_through_origin_dotdot_is_shown_where_the_file_is() -> None:
    """auditwheel's layout: `$ORIGIN/../pkg.libs`; the tree names the file, not the detour."""
    result = _trees(
        library("pkg/_ext.so", needed=("libfoo-1a2b.so.1",), runpath=("$ORIGIN/../pkg.libs",)),
        library("pkg.libs/libfoo-1a2b.so.1", needed=()),
    )
    (tree,) = result.trees
    (foo,) = tree.needs
    assert (foo.mention, foo.path) == (Mention.FIRST, "/var/task/pkg.libs/libfoo-1a2b.so.1")


def test_a_library_from_a_layer_says_so(tmp_path: Path) -> None:
    layer = package(library("lib/libfoo.so.1", needed=()), source="layer")
    function = package(elf("bootstrap", needed=("libfoo.so.1",)))
    world = build_world(function, [layer], load_target("provided.al2023", "x86_64"))
    (tree,) = (t for t in build_trees(world) if t.location == "bootstrap")
    (foo,) = tree.needs
    assert (foo.path, foo.origin) == ("/opt/lib/libfoo.so.1", "layer")


def test_output_to_a_fifo_writes_into_it_and_leaves_it_a_fifo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--output /dev/null` (or a FIFO) must never be replaced by a regular file: the atomic
    write (temporary file, then rename) is only for regular files."""
    import stat
    import threading

    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    good = str(fixture("c_hello_zig_glibc2.17_x86_64"))
    code = cli_main()(["tree", good, "--format", "json", "--output", str(fifo)])
    reader.join(timeout=30)
    assert code == 0
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert json.loads(received[0])["trees"][0]["needs"][0]["name"] == "libc.so.6"
