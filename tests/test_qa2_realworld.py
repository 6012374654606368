"""Opt-in real-world tier (`LINKSCOPE_REALWORLD=1`): pinned wheels from PyPI, installed as
users build functions (tests/test_realworld.py's `pip_function`), with what the QA sweep found
true of them on Lambda."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_realworld import pip_function

import linkscope
from linkscope.model import Severity

pytestmark = [
    pytest.mark.realworld,
    pytest.mark.skipif(
        os.environ.get("LINKSCOPE_REALWORLD") != "1",
        reason="downloads from PyPI: set LINKSCOPE_REALWORLD=1 to run this tier",
    ),
]


def test_rasterio_for_python312_needs_libexpat_which_al2023_lacks(tmp_path: Path) -> None:
    """rasterio's wheels leave libexpat.so.1 to the system (rasterio-wheels#136); Lambda's
    Amazon Linux 2023 runtimes have none (`Runtime.ImportModuleError: ... libexpat.so.1`)."""
    fn = pip_function(tmp_path, "rasterio==1.4.3", "manylinux2014_x86_64", "3.12")
    report = linkscope.check([str(fn)], "python3.12")
    errors = [f for f in report.findings if f.severity is Severity.ERROR]
    assert [(f.rule, f.library) for f in errors] == [("LS401", "libexpat.so.1")]
    assert "libgdal-rasterio" in errors[0].path
    assert "does not bundle libexpat.so.1" in errors[0].fix
    assert "reinstalling gets the same wheel" in errors[0].fix


@pytest.mark.parametrize(
    ("requirement", "fallback"),
    [
        ("PyYAML==6.0.2", "yaml.loader"),
        ("simplejson==3.20.1", "simplejson.scanner"),
        ("MarkupSafe==3.0.2", "markupsafe._native"),
        ("wrapt==1.17.2", "wrapt.wrappers"),
    ],
)
def test_speedups_for_python312_fall_back_on_python313(
    tmp_path: Path, requirement: str, fallback: str
) -> None:
    fn = pip_function(tmp_path, requirement, "manylinux2014_x86_64", "3.12")
    report = linkscope.check([str(fn)], "python3.13")
    assert report.verdict == "compatible"
    ls601 = [f for f in report.findings if f.rule == "LS601"]
    assert ls601 and all(f.severity is Severity.WARNING for f in ls601)
    assert any(fallback in f.message for f in ls601)


def test_a_cp312_yaml_module_on_arm64_is_never_loaded(tmp_path: Path) -> None:
    fn = pip_function(tmp_path, "PyYAML==6.0.2", "manylinux2014_x86_64", "3.12")
    report = linkscope.check([str(fn)], "python3.12", "arm64")
    assert report.verdict == "compatible"
    assert {f.severity for f in report.findings if f.rule == "LS101"} == {Severity.INFO}


def test_pillow_for_musllinux_is_refused_once_per_module(tmp_path: Path) -> None:
    """A musllinux wheel on a glibc runtime: CPython never imports its `-linux-musl` modules
    (LS601 errors), so the musl-linked libraries only they load (libfreetype and libharfbuzz
    load each other) are information, not a second error each."""
    fn = pip_function(tmp_path, "pillow==11.1.0", "musllinux_1_2_x86_64", "3.12")
    report = linkscope.check([str(fn)], "python3.12")
    assert report.verdict == "incompatible"
    errors = {f.rule for f in report.findings if f.severity is Severity.ERROR}
    assert errors == {"LS601"}
    musl = [f for f in report.findings if f.rule == "LS202"]
    assert musl and all(f.severity is Severity.INFO for f in musl)
    assert any("libharfbuzz" in f.path for f in musl)
