"""GLIBC_ABI_DT_RELR: a binary linked with `ld -z pack-relative-relocs` needs it from libc.so.6,
and glibc defines it only since 2.36 (glibc NEWS), so every Lambda OS refuses it. The fixture is
gcc-built (fixtures/build.sh); the host's own glibc 2.36+ (a sysroot of `/`) is the control."""

from __future__ import annotations

import ctypes.util
import subprocess

import pytest
from check_helpers import BIN

from linkscope import api
from linkscope.model import Severity
from linkscope.profiles.model import LibraryInfo

RELR = BIN / "c_hello_gcc_relr_x86_64"
PIE = BIN / "c_hello_gcc_pie_x86_64"  # the same program without packed relocations


def _libc(complete: bool) -> LibraryInfo:
    return LibraryInfo(
        soname="libc.so.6",
        directory="/lib64",
        provides=(("GLIBC", "2.34"),),
        extra_versions=frozenset({"GLIBC_PRIVATE"}),
        extra_versions_complete=complete,
    )


def test_complete_unnumbered_versions_refuse_others() -> None:
    assert _libc(complete=True).defines("GLIBC_ABI_DT_RELR") is False
    assert _libc(complete=True).defines("GLIBC_PRIVATE") is True
    assert _libc(complete=True).defines("GLIBC_2.34") is True
    assert _libc(complete=False).defines("GLIBC_ABI_DT_RELR") is None  # cannot tell


@pytest.mark.parametrize(
    ("runtime", "arch"),
    [("provided.al2023", "x86_64"), ("provided.al2", "x86_64"), ("provided", "x86_64")],
)
def test_relr_binary_is_an_error_on_every_lambda_os(runtime: str, arch: str) -> None:
    report = api.check([str(RELR)], runtime, arch)
    relr = [f for f in report.findings if f.rule == "LS301" and "GLIBC_ABI_DT_RELR" in f.message]
    assert len(relr) == 1
    assert relr[0].severity is Severity.ERROR
    assert "nopack-relative-relocs" in (relr[0].fix or "")
    assert report.verdict == "incompatible"


def test_same_program_without_relr_is_compatible_on_al2023() -> None:
    assert api.check([str(PIE)], "provided.al2023").verdict == "compatible"


def test_relr_against_the_hosts_glibc() -> None:
    """The control: this machine's glibc (2.36 or newer) defines the version; the real loader
    starts the program, and linkscope with the host as sysroot agrees."""
    if ctypes.util.find_library("c") is None or not RELR.exists():
        pytest.skip("no host C library to compare with")
    glibc = subprocess.run(["ldd", "--version"], capture_output=True, text=True, check=False)
    version = glibc.stdout.split("\n", 1)[0].rsplit(" ", 1)[-1]
    if tuple(int(p) for p in version.split(".")[:2]) < (2, 36):
        pytest.skip(f"host glibc {version} predates GLIBC_ABI_DT_RELR")
    ran = subprocess.run([str(RELR)], capture_output=True, text=True, check=False, timeout=10)
    assert ran.returncode == 0
    report = api.check([str(RELR)], sysroot="/")
    assert not [f for f in report.findings if "GLIBC_ABI_DT_RELR" in f.message]
