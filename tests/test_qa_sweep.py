"""Acceptance findings from running linkscope over real third-party files (the QA sweep), each
kept as a regression test."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from check_helpers import TODAY, cli_main, fixture

main = cli_main()


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code = main([*argv, "--format", "json", "--today", TODAY.isoformat()])
    return code, json.loads(capsys.readouterr().out)


def perl_script(tmp_path: Path) -> Path:
    """Debian's /usr/bin/psql (pg_wrapper) when installed, else a script that starts as it does."""
    script = tmp_path / "psql"
    host = shutil.which("psql")
    if host and Path(host).read_bytes().startswith(b"#!/usr/bin/perl"):
        shutil.copyfile(host, script)
    else:
        script.write_text("#!/usr/bin/perl\n# Call a PostgreSQL client program\nexec 'psql';\n")
    return script


@pytest.mark.parametrize("runtime", ["provided.al2023", "provided.al2"])
def test_a_lone_perl_script_does_not_start_on_an_os_only_runtime(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], runtime: str
) -> None:
    # lambda-facts.md 5.3: no python, perl or node in provided.al2 or provided.al2023.
    code, report = run_json(capsys, "check", str(perl_script(tmp_path)), "--runtime", runtime)
    assert code == 1 and report["verdict"] == "incompatible"
    ls004 = [f for f in report["findings"] if f["rule"] == "LS004"]
    assert len(ls004) == 1 and "/usr/bin/perl" in ls004[0]["message"]


def test_a_lone_sh_script_starts_and_its_disk_mode_is_not_judged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "run.sh"
    script.write_text("#!/bin/sh\nexec ./app\n")
    script.chmod(0o644)
    code, report = run_json(capsys, "check", str(script))
    assert code == 0 and report["findings"] == []


def test_a_lone_perl_script_on_a_managed_runtime_is_not_started_by_its_shebang(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, report = run_json(capsys, "check", str(perl_script(tmp_path)), "--runtime", "python3.12")
    assert [f for f in report["findings"] if f["rule"] == "LS004"] == []


def test_a_bootstrap_folder_on_a_node_runtime_is_called_an_os_only_package(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    function = tmp_path / "function"
    function.mkdir()
    shutil.copy(fixture("rust_hello_cargo_x86_64"), function / "bootstrap")
    main(["check", str(function), "--runtime", "nodejs22.x", "--today", TODAY.isoformat()])
    assert "looks like an OS-only (a bootstrap) package" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "runtime"),
    [("lambda_function.py", "python3.12"), ("index.mjs", "nodejs22.x"), ("app.rb", "ruby3.3")],
)
def test_a_lone_handler_file_is_a_function_for_its_language(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, runtime: str
) -> None:
    # The console's own hello-world functions: one source file, no native code.
    handler = tmp_path / name
    handler.write_text("def handler(event, context):\n    return 1\n")
    code, report = run_json(capsys, "check", str(handler), "--runtime", runtime)
    assert code == 0 and report["verdict"] == "compatible"


def test_a_lone_handler_file_on_an_os_only_runtime_is_still_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    handler = tmp_path / "lambda_function.py"
    handler.write_text("def handler(event, context):\n    return 1\n")
    assert main(["check", str(handler), "--runtime", "provided.al2023"]) == 2
    assert "neither an ELF file nor a script" in capsys.readouterr().err


def test_the_architecture_fix_reads_an_aarch64_compiler(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = fixture("c_hello_zig_glibc2.34_x86_64")
    _, report = run_json(capsys, "check", path, "--arch", "arm64")
    fixes = [f["fix"] for f in report["findings"] if f["rule"] == "LS101"]
    assert fixes and "with an aarch64 compiler" in fixes[0]
