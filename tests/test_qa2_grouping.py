"""The check table shows one entry per rule, fix and distribution: a site-packages installed for
another Python (numpy: 84 LS601 modules) reads as one finding that names the first module and
counts the others; JSON and SARIF keep one finding per file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from check_helpers import TODAY, cli_main
from package_helpers import make_zip
from python_helpers import Wheel, handler, installed, pyext

X86 = pyext("spam_cp311_gcc_x86_64.so")
main = cli_main()


def many_modules(tmp_path: Path) -> Path:
    """numpy-like: five cp311 modules in one wheel, one in another, for a python3.12 function."""
    suffix = ".cpython-311-x86_64-linux-gnu.so"
    numpy = Wheel(
        "numpy",
        "2.2.6",
        ("cp311-cp311-manylinux_2_17_x86_64",),
        {f"numpy/_core/_m{i}{suffix}": X86 for i in range(5)} | {"numpy/__init__.py": b""},
    )
    other = Wheel("orjson", "3.10.0", ("cp311-cp311-manylinux_2_17_x86_64",), {
        f"orjson/orjson{suffix}": X86, "orjson/__init__.py": b""
    })  # fmt: skip
    items = [handler(), *installed(numpy), *installed(other)]
    return make_zip(tmp_path / "fn.zip", items)


def test_ls601_of_one_distribution_is_one_table_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fn = str(many_modules(tmp_path))
    args = ["check", fn, "--runtime", "python3.12", "--today", TODAY.isoformat()]
    assert main(args) == 1
    table = capsys.readouterr().out
    heads = [line for line in table.splitlines() if line.startswith("error LS601")]
    assert len(heads) == 2, table
    assert "The same holds for 4 more files of numpy 2.2.6" in table
    assert "numpy/_core/_m1.cpython-311-x86_64-linux-gnu.so" in table
    assert "and 1 more." in table  # three named, the fourth counted
    assert "orjson/orjson.cpython-311" in heads[1]
    assert "6 errors in 6 of 6 files" in table  # the summary still counts every finding

    assert main([*args, "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert len([f for f in report["findings"] if f["rule"] == "LS601"]) == 6
    assert main([*args, "--format", "sarif"]) == 1
    sarif = json.loads(capsys.readouterr().out)
    assert len(sarif["runs"][0]["results"]) == 6


def test_distinct_fixes_of_one_distribution_stay_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """On arm64 the same modules get LS601 (errors) and LS101 (information: Python never
    imports them, so their machine does not matter): one entry per rule and distribution."""
    fn = str(many_modules(tmp_path))
    args = ["check", fn, "--runtime", "python3.12", "--arch", "arm64"]
    assert main([*args, "--today", TODAY.isoformat()]) == 1
    lines = capsys.readouterr().out.splitlines()
    heads = [line.split()[1] for line in lines if line.startswith(("error LS", "info LS"))]
    assert heads.count("LS601") == 2 and heads.count("LS101") == 2
