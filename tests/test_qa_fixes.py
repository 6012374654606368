"""Regression tests for the QA sweep's open findings (explain/matrix never silent, lone handler
files, hidden deprecated runtimes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from check_helpers import TODAY, cli_main

main = cli_main()
NOTHING = "no ELF files, scripts or handler files in"


def text_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "readme.txt").write_text("hello\n")
    return folder


def test_explain_on_a_folder_with_nothing_to_start_says_so_and_exits_as_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = str(text_dir(tmp_path))
    assert main(["check", folder, "--today", TODAY.isoformat()]) == 1
    capsys.readouterr()
    assert main(["explain", folder, "--today", TODAY.isoformat()]) == 1
    out = capsys.readouterr().out
    assert NOTHING in out and "LS002" in out


def test_explain_on_nothing_to_start_for_python_exits_as_check_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = str(text_dir(tmp_path))
    argv = [folder, "--runtime", "python3.12", "--today", TODAY.isoformat()]
    assert main(["check", *argv]) == 1  # LS002: no Python file to load a handler from
    capsys.readouterr()
    assert main(["explain", *argv]) == 1
    out = capsys.readouterr().out
    assert NOTHING in out and "LS002" in out


def test_matrix_on_a_folder_with_nothing_to_start_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["matrix", str(text_dir(tmp_path)), "--today", TODAY.isoformat()])
    assert NOTHING in capsys.readouterr().out


@pytest.mark.parametrize(
    ("name", "family"),
    [("lambda_function.py", "python"), ("index.mjs", "nodejs"), ("app.rb", "ruby")],
)
def test_matrix_and_explain_take_a_lone_handler_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, family: str
) -> None:
    handler = tmp_path / name
    handler.write_text("def handler(event, context):\n    return 1\n")
    code = main(["matrix", str(handler), "--format", "json", "--today", TODAY.isoformat()])
    rows = json.loads(capsys.readouterr().out)["matrix"]
    assert code == 0 and rows and all(r["runtime"].startswith(family) for r in rows)
    assert all(r["starts"] for r in rows)
    assert main(["explain", str(handler), "--today", TODAY.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "provided.al2023:" not in out and f"{family}" in out


def test_matrix_says_how_many_deprecated_runtimes_it_hides(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    handler = tmp_path / "index.mjs"
    handler.write_text("export const handler = async () => 1;\n")
    main(["matrix", str(handler), "--today", TODAY.isoformat()])
    out = capsys.readouterr().out
    assert "deprecated runtimes not shown (--all shows them)" in out
    assert "it would start on nodejs20.x (x86_64, arm64)" in out
    main(["matrix", str(handler), "--all", "--today", TODAY.isoformat()])
    assert "not shown" not in capsys.readouterr().out


@pytest.mark.parametrize(
    ("runtime", "glibc"),
    [("provided", "2.17"), ("provided.al2", "2.26"), ("provided.al2023", "2.34")],
)
def test_the_architecture_fix_names_the_runtimes_own_glibc(
    capsys: pytest.CaptureFixture[str], runtime: str, glibc: str
) -> None:
    from check_helpers import fixture

    path = fixture("c_hello_zig_glibc2.17_aarch64")  # on x86_64: provided has no arm64
    argv = ["check", path, "--runtime", runtime, "--format", "json"]
    main([*argv, "--today", TODAY.isoformat()])
    findings = json.loads(capsys.readouterr().out)["findings"]
    fixes = [f["fix"] for f in findings if f["rule"] == "LS101"]
    assert fixes and f"x86_64-linux-gnu.{glibc}`" in fixes[0]


def test_explain_of_a_musl_extension_module_advises_the_manylinux_wheel(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from check_helpers import ROOT

    module = str(ROOT / "fixtures" / "pyext" / "spam_cp311_zig_musl_x86_64.so")
    main(["explain", module, "--format", "json", "--today", TODAY.isoformat()])
    out = capsys.readouterr().out
    assert "manylinux wheel" in out
    assert "Linked statically, musl would be inside the binary and it would run" not in out


def test_a_long_matrix_reason_is_cut_at_a_word() -> None:
    from linkscope.matrix import _at_word

    assert _at_word("LS611: it was compiled for NO…") == "LS611: it was compiled for …"
    assert _at_word("LS002: short") == "LS002: short"


@pytest.mark.parametrize(
    ("relative", "static_advice"),
    [
        ("fixtures/pyext/spam_cp311_zig_musl_x86_64.so", False),  # loaded by the runtime's Python
        ("fixtures/bin/c_hello_zig_musl_dynamic_x86_64", True),  # a program: static musl runs
    ],
)
def test_ls202_offers_static_musl_only_to_programs(
    relative: str, static_advice: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    from check_helpers import ROOT

    main(["check", str(ROOT / relative), "--format", "json", "--today", TODAY.isoformat()])
    findings = json.loads(capsys.readouterr().out)["findings"]
    messages = [f["message"] for f in findings if f["rule"] == "LS202"]
    assert messages
    assert ("statically linked musl binary would run" in messages[0]) is static_advice
    assert ("must be built for glibc" in messages[0]) is not static_advice
