"""`--limit KEY=VALUE`: read limits a user can raise, parsed strictly, reported when hit."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from check_helpers import cli_main
from conftest import BIN


def bomb_zip(tmp_path: Path) -> Path:
    """A Go bootstrap plus 8 MiB of zeros: a ~1030:1 member (deflate's ceiling), over the default
    1000:1 ratio."""
    path = tmp_path / "function.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        archive.writestr(info, (BIN / "go_bootstrap_x86_64").read_bytes())
        data = zipfile.ZipInfo("data.bin")
        data.external_attr = 0o644 << 16
        data.compress_type = zipfile.ZIP_DEFLATED  # a ZipInfo is stored unless told otherwise
        archive.writestr(data, b"\0" * (8 << 20))
    return path


def test_a_highly_compressible_real_library_is_no_bomb(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Real libraries compress far beyond 200:1 (pillow 13's vendored libXau: 239:1); such a member
    is read like any other, not refused as a bomb."""
    library = (BIN / "lib" / "libdemo.so.1").read_bytes()
    padded = library + b"\0" * (4 << 20) + library  # zero padding, as between a library's segments
    path = tmp_path / "function.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        archive.writestr(info, (BIN / "go_bootstrap_x86_64").read_bytes())
        archive.writestr("lib/libpadded.so", padded)
    member = zipfile.ZipFile(path).getinfo("lib/libpadded.so")
    assert 200 < member.file_size / member.compress_size < 1000
    code, out, _ = run(["check", str(path), "--format", "json"], capsys)
    assert code == 0, out
    assert not [f for f in json.loads(out)["findings"] if "bomb" in f["message"]]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli_main()(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_a_ratio_over_the_limit_is_reported_with_how_to_raise_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["check", str(bomb_zip(tmp_path)), "--format", "json"], capsys)
    findings = json.loads(out)["findings"]
    bomb = [f for f in findings if f["rule"] == "LS001"]
    assert code == 1 and len(bomb) == 1
    assert "zip bomb" in bomb[0]["message"] and "--limit ratio=" in bomb[0]["message"]


def test_raising_the_limit_reads_the_member(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["check", str(bomb_zip(tmp_path)), "--limit", "ratio=5000", "--format", "json"]
    code, out, _ = run(argv, capsys)
    assert code == 0
    assert not [f for f in json.loads(out)["findings"] if f["rule"] == "LS001"]


def test_lowering_the_file_size_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["inspect", str(bomb_zip(tmp_path)), "--limit", "ratio=5000", "--limit", "file-size=1M"]
    code, out, _ = run(argv, capsys)
    assert code == 1  # a member could not be read: LS001
    assert "over the per-file limit of 1048576" in out and "--limit file-size=" in out


@pytest.mark.parametrize("value", ["bogus=1", "ratio", "ratio=-3", "ratio=2G", "file-size=1X"])
def test_bad_limits_are_usage_errors(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["inspect", str(BIN / "go_bootstrap_x86_64"), "--limit", value], capsys)
    assert code == 2
    assert err.count("\n") == 1 and "--limit" in err
