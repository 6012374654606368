"""Golden outputs of `linkscope check` on a few fixtures, shared by the per-format golden tests.

Each case runs the real CLI in-process from the repository root (so paths in the reports are
relative and the same on every machine), with `--today` pinned. Regenerate after an intended
change with `LINKSCOPE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests -k golden`, then read
the diff.
"""

from __future__ import annotations

import os
import shutil
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
TODAY = "2026-11-29"
UPDATE = os.environ.get("LINKSCOPE_UPDATE_GOLDEN") == "1"
EXTENSIONS = {"table": "txt", "json": "json", "sarif": "sarif.json", "markdown": "md"}


@dataclass(frozen=True)
class Case:
    name: str
    paths: tuple[str, ...]
    runtime: str
    exit_code: int
    arch: str = "x86_64"


CASES = (
    Case("memfd_glibc2.27_al2", ("fixtures/bin/c_memfd_zig_glibc2.27_x86_64",), "provided.al2", 1),
    Case(
        "memfd_glibc2.27_al2023",
        ("fixtures/bin/c_memfd_zig_glibc2.27_x86_64",),
        "provided.al2023",
        0,
    ),
    Case(
        "strlcpy_glibc2.38_al2023",
        ("fixtures/bin/c_strlcpy_zig_glibc2.38_x86_64",),
        "provided.al2023",
        1,
    ),
    Case(
        "musl_dynamic_al2023",
        ("fixtures/bin/c_hello_muslgcc_dynamic_x86_64",),
        "provided.al2023",
        1,
    ),
    Case("cxx_tochars_al2", ("fixtures/bin/cxx_tochars_gxx_x86_64",), "provided.al2", 1),
    Case("aarch64_on_x86_64_al2023", ("fixtures/bin/c_hello_gcc_aarch64",), "provided.al2023", 1),
    Case("function_zip_al2", ("function.zip",), "provided.al2", 1),
)
CASE_IDS = [case.name for case in CASES]


def make_function_zip(directory: Path) -> Path:
    """A deployment package with a bootstrap and a bundled library, byte-for-byte reproducible."""
    target = directory / "function.zip"
    members = (
        ("bootstrap", "c_strlcpy_zig_glibc2.38_x86_64", 0o755),
        ("lib/libdemo.so.1", "lib/libdemo.so.1", 0o644),
    )
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, fixture, mode in members:
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.create_system = 3  # Unix, so that the mode bits count
            archive.writestr(
                info,
                (ROOT / "fixtures" / "bin" / fixture).read_bytes(),
                compress_type=zipfile.ZIP_DEFLATED,
            )
    return target


def run_case(
    case: Case,
    fmt: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> str:
    """Run `linkscope check` for the case and return its stdout; assert the exit code."""
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    if "function.zip" in case.paths:
        make_function_zip(tmp_path)
        monkeypatch.chdir(tmp_path)
    else:
        monkeypatch.chdir(ROOT)
    argv = [
        "check",
        *case.paths,
        "--runtime",
        case.runtime,
        "--arch",
        case.arch,
        "--today",
        TODAY,
        "--format",
        fmt,
    ]
    capsys.readouterr()
    code = cli_main(argv)
    out = capsys.readouterr()
    assert code == case.exit_code, out.err
    return out.out


def compare(case: Case, fmt: str, actual: str) -> None:
    """Compare with tests/golden/<fmt>/<case>.<ext>; rewrite it under LINKSCOPE_UPDATE_GOLDEN=1."""
    path = GOLDEN / fmt / f"{case.name}.{EXTENSIONS[fmt]}"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"{path.relative_to(ROOT)} is missing: run with LINKSCOPE_UPDATE_GOLDEN=1")
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, (
        f"{fmt} output of {case.name} differs from "
        f"{path.relative_to(ROOT)}; if the change is intended, "
        "regenerate with LINKSCOPE_UPDATE_GOLDEN=1"
    )


def cli_main(argv: Sequence[str]) -> int:
    """`linkscope.cli.main`, imported so that click 8.5's deprecation of an API that typer 0.24
    imports (`click.utils.get_binary_stream`) does not trip `filterwarnings = error`."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*Click 9\.0", category=DeprecationWarning)
        from linkscope.cli import main
    return main(argv)


def copy_fixture(name: str, destination: Path) -> Path:
    shutil.copyfile(ROOT / "fixtures" / "bin" / name, destination)
    destination.chmod(0o755)
    return destination
