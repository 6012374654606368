"""Fixes that would not fix: a manylinux wheel whose library needs a system library the runtime
lacks (rasterio 1.4.3 and fiona 1.10.1 for CPython 3.12 need libexpat.so.1, which Amazon Linux
2023's Lambda runtimes do not have: `pip install` again gets the same wheel, and
`sam build --use-container` builds where expat is installed), and a wheel pip built from an
sdist on the build machine (mysqlclient has no wheels: `linux_x86_64`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from package_helpers import findings, make_zip
from python_helpers import Wheel, handler, installed

from linkscope import api
from linkscope.model import Finding, Report

BIN = Path(__file__).resolve().parent.parent / "fixtures/bin"
USES_LIB = BIN / "c_uselib_gcc_x86_64"  # needs libdemo.so.1, which no runtime has


def function(tmp_path: Path, tag: str) -> str:
    wheel = Wheel(
        "rasterio",
        "1.4.3",
        (tag,),
        {"rasterio/__init__.py": b"", "rasterio/_base.cpython-312-x86_64-linux-gnu.so": USES_LIB},
    )
    return str(make_zip(tmp_path / "fn.zip", [handler(), *installed(wheel)]))


def missing_library(report: Report) -> list[Finding]:
    """LS401 where the runtime's library list is complete, LS402 where it is not (python3.12's
    /var/lang/lib was never listed): both give the same fix."""
    found = findings(report, "LS401") + findings(report, "LS402")
    return [f for f in found if f.library == "libdemo.so.1"]


@pytest.mark.parametrize("runtime", ["python3.12", "python3.11"])
def test_a_fitting_manylinux_wheel_is_told_to_ship_the_library(
    tmp_path: Path, runtime: str
) -> None:
    report = api.check([function(tmp_path, "cp312-cp312-manylinux_2_17_x86_64")], runtime)
    [missing] = missing_library(report)
    assert "does not bundle libdemo.so.1" in missing.fix
    assert "reinstalling gets the same wheel" in missing.fix
    assert "the function's `lib/` folder" in missing.fix
    assert "pip install -r requirements.txt" not in missing.fix
    container = "amazonlinux:2023" if runtime == "python3.12" else "amazonlinux:2"
    assert container in missing.fix


def test_a_wheel_built_from_source_is_told_to_use_a_manylinux_wheel(tmp_path: Path) -> None:
    report = api.check([function(tmp_path, "cp312-cp312-linux_x86_64")], "python3.12")
    [missing] = missing_library(report)
    assert "was built from source on the build machine" in missing.fix
    assert "--only-binary=:all:" in missing.fix and "sam build --use-container" in missing.fix
    assert "the function's `lib/` folder" in missing.fix


def test_a_wheel_too_new_for_the_runtime_keeps_the_reinstall_fix(tmp_path: Path) -> None:
    """manylinux_2_34 on python3.11 (glibc 2.26): reinstalling for the runtime's platform is
    the fix, and it is pip's."""
    report = api.check([function(tmp_path, "cp312-cp312-manylinux_2_34_x86_64")], "python3.11")
    [missing] = missing_library(report)
    assert "pip install -r requirements.txt" in missing.fix


@pytest.mark.parametrize("runtime", ["python3.9", "python3.11", "python3.12", "python3.13"])
def test_a_library_cpython_never_links_is_not_in_var_lang_lib(tmp_path: Path, runtime: str) -> None:
    """mysqlclient built from its sdist links the build machine's libmariadb.so.3: no Python
    runtime has it (/var/lang/lib is unlisted, but holds only libpython and CPython's own
    dependencies), so the function fails. It was LS402, a warning: "compatible"."""
    report = api.check([function(tmp_path, "cp312-cp312-linux_x86_64")], runtime)
    assert report.verdict == "incompatible"
    [missing] = [f for f in findings(report, "LS401") if f.library == "libdemo.so.1"]
    assert f"which {runtime} (x86_64) does not have" in missing.message
