"""LS002 on a language runtime: a function with no file of the runtime's language cannot load
its handler (a Python function checked with nodejs22.x was "compatible" with a stderr warning;
an empty or docs-only folder on python3.12 was "compatible" with no findings), while a folder
of native libraries, a lone ELF file, or a function whose handler a layer brings is judged as
before."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from check_helpers import TODAY, cli_main

BIN = Path(__file__).resolve().parent.parent / "fixtures/bin"
main = cli_main()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object]]:
    code = main(["check", *argv, "--format", "json", "--today", TODAY.isoformat()])
    return code, json.loads(capsys.readouterr().out)


def ls002(report: dict[str, object]) -> list[dict[str, str]]:
    found = report["findings"]
    assert isinstance(found, list)
    return [f for f in found if f["rule"] == "LS002"]


def python_function(tmp_path: Path) -> Path:
    folder = tmp_path / "pyfn"
    (folder / "requests").mkdir(parents=True)
    (folder / "lambda_function.py").write_text("def lambda_handler(event, context):\n    pass\n")
    (folder / "requests/__init__.py").write_text("")
    return folder


@pytest.mark.parametrize("runtime", ["nodejs22.x", "java21", "ruby3.3", "dotnet8"])
def test_a_python_function_on_another_language_runtime_is_incompatible(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], runtime: str
) -> None:
    code, report = run(capsys, str(python_function(tmp_path)), "--runtime", runtime)
    assert code == 1 and report["verdict"] == "incompatible"
    [finding] = ls002(report)
    assert finding["severity"] == "error" and "is a Python package with no" in finding["message"]
    assert "--runtime python3." in finding["fix"]


def test_node_errors_quote_the_node_runtime(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, report = run(capsys, str(python_function(tmp_path)), "--runtime", "nodejs22.x")
    [finding] = ls002(report)
    assert "`.js`, `.mjs`, `.cjs`" in finding["message"]
    assert "Runtime.ImportModuleError: Error: Cannot find module" in finding["message"]


def test_the_same_function_on_python_is_compatible(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = run(capsys, str(python_function(tmp_path)), "--runtime", "python3.12")
    assert code == 0 and ls002(report) == []


def test_a_handler_from_a_layer_is_not_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    layer = tmp_path / "layer/nodejs/node_modules/app"
    layer.mkdir(parents=True)
    (layer / "index.js").write_text("exports.handler = async () => 1;\n")
    argv = [str(python_function(tmp_path)), "--runtime", "nodejs22.x"]
    code, report = run(capsys, *argv, "--layer", str(tmp_path / "layer"))
    assert ls002(report) == [] and code == 0


def test_a_folder_without_code_on_python_is_incompatible(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "README.md").write_text("# notes\n")
    code, report = run(capsys, str(docs), "--runtime", "python3.12")
    assert code == 1
    [finding] = ls002(report)
    assert "holds no code: no Python file" in finding["message"] and "--layer" in finding["message"]


def test_native_libraries_on_a_language_runtime_are_judged_as_before(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    libs = tmp_path / "libs/lib"
    libs.mkdir(parents=True)
    shutil.copy(BIN / "lib/libdemo.so.1", libs / "libdemo.so.1")
    code, report = run(capsys, str(tmp_path / "libs"), "--runtime", "python3.12")
    assert ls002(report) == [] and code == 0
    code, report = run(capsys, str(BIN / "c_hello_gcc_pie_x86_64"), "--runtime", "python3.12")
    assert ls002(report) == []
