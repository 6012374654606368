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


def _with_urllib3_worker(tmp_path: Path, site: str = "") -> Path:
    """A Python function whose pip-installed urllib3 ships a `.js` worker, as urllib3 2 does
    (`urllib3/contrib/emscripten/emscripten_fetch_worker.js`)."""
    from package_helpers import make_folder
    from python_helpers import Wheel, handler, installed

    urllib3 = Wheel(
        name="urllib3",
        version="2.5.0",
        tags=("py3-none-any",),
        files={
            "urllib3/__init__.py": b"",
            "urllib3/contrib/emscripten/emscripten_fetch_worker.js": b"let Status = {};\n",
        },
        generator="hatchling 1.27.0",
    )
    return make_folder(tmp_path / "fn", [handler("lambda_function.py"), *installed(urllib3, site)])


@pytest.mark.parametrize("site", ["", "python/lib/python3.12/site-packages"])
def test_a_js_file_that_pip_installed_is_no_node_handler(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], site: str
) -> None:
    code, report = run(capsys, str(_with_urllib3_worker(tmp_path, site)), "--runtime", "nodejs22.x")
    assert code == 1 and report["verdict"] == "incompatible"
    [finding] = ls002(report)
    assert "is a Python package with no Node.js file" in finding["message"]


def test_the_urllib3_function_on_python_is_compatible(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = run(capsys, str(_with_urllib3_worker(tmp_path)), "--runtime", "python3.12")
    assert code == 0 and not ls002(report)


def test_python_files_under_node_modules_are_no_python_handler(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """node-gyp ships gyp's Python sources inside node_modules; a Node function holding them is
    still no Python function."""
    folder = tmp_path / "nodefn"
    gyp = folder / "node_modules/node-gyp/gyp/pylib/gyp"
    gyp.mkdir(parents=True)
    (gyp / "__init__.py").write_text("")
    (folder / "node_modules/node-gyp/package.json").write_text('{"name": "node-gyp"}')
    (folder / "index.mjs").write_text("export const handler = async () => 1;\n")
    (folder / "package.json").write_text('{"name": "fn", "type": "module"}')
    code, report = run(capsys, str(folder), "--runtime", "python3.12")
    assert code == 1
    [finding] = ls002(report)
    assert "is a Node.js package with no Python file" in finding["message"]
    _, node = run(capsys, str(folder), "--runtime", "nodejs22.x")
    assert not ls002(node)
