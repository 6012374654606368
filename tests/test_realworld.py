"""Opt-in real-world tier: pinned third-party packages from PyPI, checked against known facts.

Run with `LINKSCOPE_REALWORLD=1 python -m pytest -m realworld`. The wheels are downloaded once into
a cache (`$LINKSCOPE_REALWORLD_CACHE`, default `~/.cache/linkscope-realworld`) and read from
there, inside the wheel (a wheel is a zip): nothing third-party is ever committed. The expected
facts come from the project's reference notes (fixtures.md, section 6), recorded from readelf.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import linkscope
from linkscope.model import LibcFamily, Linkage

pytestmark = [
    pytest.mark.realworld,
    pytest.mark.skipif(
        os.environ.get("LINKSCOPE_REALWORLD") != "1",
        reason="downloads from PyPI: set LINKSCOPE_REALWORLD=1 to run this tier",
    ),
]

CACHE = Path(
    os.environ.get("LINKSCOPE_REALWORLD_CACHE", Path.home() / ".cache/linkscope-realworld")
)


def wheel(requirement: str, platform: str) -> Path:
    """The cached wheel for `requirement` on `platform`, downloaded on first use."""
    target = CACHE / platform
    name = requirement.split("==", maxsplit=1)[0].replace("-", "_")
    found = sorted(target.glob(f"{name}-*.whl")) if target.exists() else []
    if not found:
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--only-binary=:all:", "--platform", platform, "--python-version", "3.11",
             "--dest", str(target), requirement],
            check=True,
        )  # fmt: skip
        found = sorted(target.glob(f"{name}-*.whl"))
    assert found, f"no wheel for {requirement} on {platform}"
    return found[0]


def member(archive: Path, suffix: str) -> str:
    with zipfile.ZipFile(archive) as zipped:
        names = [n for n in zipped.namelist() if n.endswith(suffix)]
    assert names, f"{archive.name} has no member ending in {suffix}"
    return names[0]


def facts_of(archive: Path, suffix: str) -> linkscope.model.BinaryFacts:
    report = linkscope.inspect([str(archive)])
    wanted = f"{archive}!{member(archive, suffix)}"
    return next(b for b in report.binaries if b.path == wanted)


def test_awslambdaric_manylinux_x86_64() -> None:
    archive = wheel("awslambdaric==4.2.2", "manylinux2014_x86_64")
    facts = facts_of(archive, ".so")
    assert facts.machine == "x86_64"
    assert facts.linkage is Linkage.DYNAMIC
    assert facts.libc.family is LibcFamily.GLIBC
    assert {"libstdc++.so.6", "libc.so.6"} <= set(facts.needed)
    assert facts.required_versions["GLIBC"] == "2.17"
    assert facts.required_versions["GLIBCXX"] == "3.4.19"
    assert facts.runtime_client is not None and facts.runtime_client.name == "aws-lambda-cpp"


def test_awslambdaric_musllinux_is_dynamic_musl() -> None:
    archive = wheel("awslambdaric==4.2.2", "musllinux_1_2_x86_64")
    facts = facts_of(archive, ".so")
    assert facts.libc.family is LibcFamily.MUSL
    assert "libc.musl-x86_64.so.1" in facts.needed
    report = linkscope.check([str(archive)], "python3.12")
    assert any(f.rule == "LS202" for f in report.findings)


def test_cargo_lambda_is_static_pie_rust_musl() -> None:
    archive = wheel("cargo-lambda==1.9.2", "manylinux_2_5_x86_64")
    facts = facts_of(archive, "scripts/cargo-lambda")
    assert facts.linkage is Linkage.STATIC_PIE
    assert facts.needed == ()
    assert facts.libc.family is LibcFamily.MUSL
    assert facts.toolchain.rust is not None
    assert facts.toolchain.rust.rustc_version == "1.96.1"
    # It serves the Runtime API (an emulator); it is not a client of it.
    assert facts.runtime_client is None


def test_cargo_lambda_aarch64_is_static() -> None:
    archive = wheel("cargo-lambda==1.9.2", "manylinux2014_aarch64")
    facts = facts_of(archive, "scripts/cargo-lambda")
    assert (facts.machine, facts.linkage) == ("aarch64", Linkage.STATIC)
    report = linkscope.check([str(archive)], "provided.al2023", "x86_64")
    assert any(f.rule == "LS101" for f in report.findings)
