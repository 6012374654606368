"""action.yml, the composite GitHub Action: its inputs and the options its script passes must be
real `linkscope check` options (read from the CLI itself, so the two cannot drift), and its check
step is run for real with bash, as a runner would, on a bad and a good binary."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from _golden import ROOT

yaml = pytest.importorskip("yaml", reason="PyYAML is not installed (it belongs in the test extra)")
EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")


def action() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text())
    return document


def check_params() -> dict[str, Any]:
    """`linkscope check`'s click parameters by option name (`--runtime` -> param)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*Click 9\.0", category=DeprecationWarning)
        import typer.main

        from linkscope.cli import app
    group = typer.main.get_command(app)
    command = group.commands["check"]  # type: ignore[attr-defined]
    return {opt: param for param in command.params for opt in param.opts}


def step(step_id: str) -> dict[str, Any]:
    steps: list[dict[str, Any]] = action()["runs"]["steps"]
    return next(s for s in steps if s.get("id") == step_id)


def test_composite_action_with_the_documented_inputs() -> None:
    doc = action()
    assert doc["runs"]["using"] == "composite"
    for name in ("path", "runtime", "arch", "layer", "fail-on", "format", "sarif-file"):
        assert name in doc["inputs"], name
        assert doc["inputs"][name]["description"]
    assert doc["inputs"]["path"]["required"] is True
    assert "sarif-file" in doc["outputs"]


def test_script_options_are_real_check_options() -> None:
    params = check_params()
    script = step("check")["run"]
    used = set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", script))
    assert used, "the check step passes no options?"
    unknown = sorted(used - set(params))
    assert not unknown, f"action.yml passes options `linkscope check` does not have: {unknown}"
    assert {"--runtime", "--arch", "--fail-on", "--format", "--output", "--layer"} <= used


def test_input_defaults_are_what_the_cli_accepts() -> None:
    inputs = action()["inputs"]
    params = check_params()
    assert inputs["runtime"]["default"] == params["--runtime"].default
    assert inputs["arch"]["default"] == params["--arch"].default
    assert inputs["fail-on"]["default"] in params["--fail-on"].type.choices
    assert inputs["format"]["default"] in params["--format"].type.choices
    described = inputs["format"]["description"]
    for choice in params["--format"].type.choices:
        assert choice in described, f"format {choice} is not mentioned in action.yml"


def test_every_input_is_used_and_every_reference_is_declared() -> None:
    doc = action()
    text = json.dumps(doc["runs"]) + json.dumps(doc["outputs"])
    referenced = set(re.findall(r"inputs\.([a-z-]+)", text))
    assert referenced == set(doc["inputs"]), referenced ^ set(doc["inputs"])
    ids = {s.get("id") for s in doc["runs"]["steps"]}
    assert set(re.findall(r"steps\.([a-z-]+)\.", text)) <= ids
    check = step("check")
    for variable in check["env"]:
        assert f"${variable}" in check["run"] or f"${{{variable}}}" in check["run"], variable


def test_install_step_installs_from_the_action_checkout() -> None:
    install = next(s for s in action()["runs"]["steps"] if s.get("name") == "Install linkscope")
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    assert "pip install" in install["run"] and '"$ACTION_PATH"' in install["run"]
    setup = next(s for s in action()["runs"]["steps"] if "uses" in s)
    assert re.fullmatch(r"actions/setup-python@v\d+", setup["uses"])


StepRun = tuple[subprocess.CompletedProcess[str], dict[str, str], str]


def run_check_step(tmp_path: Path, inputs: dict[str, str]) -> StepRun:
    """Run the check step's script with bash as a runner would: expressions filled in, the
    GitHub files in tmp_path, and this test's linkscope first on PATH."""
    linkscope = Path(sys.executable).parent / "linkscope"
    if not linkscope.exists() or shutil.which("bash") is None:
        pytest.skip("needs bash and the linkscope script beside this Python")
    doc = action()
    values = {name: spec.get("default", "") for name, spec in doc["inputs"].items()} | inputs
    check = step("check")
    env = {
        key: EXPRESSION.sub(lambda m: values[m[1].removeprefix("inputs.")], str(value))
        for key, value in check["env"].items()
    }
    output, summary = tmp_path / "github_output", tmp_path / "step_summary"
    output.touch()
    summary.touch()
    env |= {
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_ACTIONS": "true",
        "PATH": f"{linkscope.parent}{os.pathsep}{os.environ['PATH']}",
    }
    result = subprocess.run(
        ["bash", "-e", "-c", check["run"]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        check=False,
    )
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    return result, outputs, summary.read_text()


def test_check_step_fails_a_bad_binary_and_writes_sarif_summary_and_annotations(
    tmp_path: Path,
) -> None:
    sarif_file = tmp_path / "linkscope.sarif"
    result, outputs, summary = run_check_step(
        tmp_path,
        {
            "path": "fixtures/bin/c_strlcpy_zig_glibc2.38_x86_64\nfixtures/bin/go_bootstrap_x86_64",
            "sarif-file": str(sarif_file),
        },
    )
    assert result.returncode == 1, result.stderr
    assert outputs == {"sarif-file": str(sarif_file), "exit-code": "1"}
    log = json.loads(sarif_file.read_text())
    assert log["version"] == "2.1.0"
    assert {r["ruleId"] for r in log["runs"][0]["results"]} >= {"LS301"}
    assert summary.startswith("### linkscope: **INCOMPATIBLE** on `provided.al2023`")
    assert "verdict: incompatible" in result.stdout  # the table in the log
    assert "::error file=fixtures/bin/c_strlcpy_zig_glibc2.38_x86_64,title=LS301" in result.stdout


def test_check_step_passes_a_good_binary(tmp_path: Path) -> None:
    result, outputs, summary = run_check_step(
        tmp_path,
        {
            "path": "fixtures/bin/go_bootstrap_x86_64",
            "runtime": "provided.al2",
            "summary": "false",
            "format": "json",
        },
    )
    assert result.returncode == 0, result.stderr
    assert outputs == {"exit-code": "0"}
    assert summary == ""
    report, end = json.JSONDecoder().raw_decode(result.stdout)
    assert report["verdict"] == "compatible"
    # A JSON report in the log stays one valid document: no annotations are appended to it
    # (with the table or markdown format they follow the report; see test_annotations.py).
    assert result.stdout[end:].strip() == ""


def test_check_step_reports_bad_input_as_exit_2(tmp_path: Path) -> None:
    result, outputs, _ = run_check_step(
        tmp_path, {"path": "fixtures/bin/go_bootstrap_x86_64", "runtime": "no.such.runtime"}
    )
    assert result.returncode == 2
    assert outputs == {"exit-code": "2"}
