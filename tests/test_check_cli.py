"""`check`, `matrix`, `runtimes` and `profile` through the CLI entry point (`linkscope.cli.main`):
the documented JSON keys (DESIGN section 4) and what each command prints."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from check_helpers import HOST_LOADER, TODAY, cli_main, fixture

from linkscope.profiles import os_from_dict

main = cli_main()
REPORT_KEYS = {"schema_version", "linkscope_version", "runtime", "verdict", "binaries", "findings"}
FINDING_KEYS = {"rule", "severity", "path", "message", "fix"}


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code = main([*argv, "--format", "json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_check_json_report(capsys: pytest.CaptureFixture[str]) -> None:
    path = fixture("rust_hello_cargo_x86_64")
    code, report = run_json(
        capsys,
        "check",
        path,
        "--runtime",
        "provided.al2",
        "--arch",
        "x86_64",
        "--today",
        TODAY.isoformat(),
    )
    assert code == 1
    assert set(report) >= REPORT_KEYS
    assert report["schema_version"] == 1
    assert report["runtime"] == {"name": "provided.al2", "arch": "x86_64"}
    assert report["verdict"] == "incompatible"
    assert [b["path"] for b in report["binaries"]] == [path]
    for finding in report["findings"]:
        assert set(finding) >= FINDING_KEYS, finding
        assert finding["path"] == path
        assert finding["severity"] in ("error", "warning", "info")
    glibc = [f for f in report["findings"] if f["rule"] == "LS301"]
    assert {f["version"] for f in glibc} == {
        "GLIBC_2.28",
        "GLIBC_2.30",
        "GLIBC_2.32",
        "GLIBC_2.33",
        "GLIBC_2.34",
    }
    statx = next(f for f in glibc if f["version"] == "GLIBC_2.28")
    assert (statx["library"], statx["symbols"]) == ("libc.so.6", ["statx"])
    assert any(f["rule"] == "LS501" for f in report["findings"])


def test_check_json_compatible(capsys: pytest.CaptureFixture[str]) -> None:
    code, report = run_json(
        capsys, "check", fixture("c_hello_gcc_static_x86_64"), "--today", TODAY.isoformat()
    )
    assert code == 0
    assert report["runtime"] == {"name": "provided.al2023", "arch": "x86_64"}  # the defaults
    assert (report["verdict"], report["findings"]) == ("compatible", [])


def _rows(report: Any) -> dict[tuple[str, str], Any]:
    return {(row["runtime"], row["arch"]): row for row in report["matrix"]}


def test_matrix_rows(capsys: pytest.CaptureFixture[str]) -> None:
    path = fixture("c_hello_zig_glibc2.34_x86_64")
    code, report = run_json(capsys, "matrix", path, "--all", "--today", TODAY.isoformat())
    assert code == 0  # it starts somewhere
    rows = _rows(report)
    for runtime in ("provided.al2023", "provided.al2"):
        for arch in ("x86_64", "arm64"):
            assert (runtime, arch) in rows
    assert rows[("provided.al2023", "x86_64")]["starts"] is True
    assert rows[("provided.al2", "x86_64")]["starts"] is False
    assert rows[("provided.al2", "x86_64")]["reason"].startswith("LS301")
    assert rows[("provided.al2023", "arm64")]["reason"].startswith("LS101")
    assert ("provided", "arm64") not in rows  # AL1 had no arm64


def test_matrix_before_al2_deprecation_lists_it_without_all(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = fixture("c_hello_zig_glibc2.17_x86_64")
    _code, report = run_json(capsys, "matrix", path, "--today", "2026-05-01")
    rows = _rows(report)
    assert {
        ("provided.al2023", "x86_64"),
        ("provided.al2023", "arm64"),
        ("provided.al2", "x86_64"),
        ("provided.al2", "arm64"),
    } <= set(rows)
    assert rows[("provided.al2", "x86_64")]["starts"] is True


def test_matrix_starts_nowhere_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["matrix", fixture("c_hello_zig_glibc2.34_riscv64"), "--today", TODAY.isoformat()])
        == 1
    )
    capsys.readouterr()


def test_runtimes_lists_glibc(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runtimes", "--today", TODAY.isoformat()]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert "2.34" in lines["provided.al2023"].split()
    assert "2.26" in lines["provided.al2"].split()
    assert "2.17" in lines["provided"].split()


def test_runtimes_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runtimes", "provided.al2"]) == 0
    out = capsys.readouterr().out
    assert "glibc: 2.26" in out
    assert "3.4.24" in out
    assert main(["runtimes", "provided.al2099"]) == 2
    capsys.readouterr()


def _host_lib(name: str) -> Path:
    for folder in ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64"):
        path = Path(folder) / name
        if path.exists():
            return path.resolve()
    pytest.skip(f"this host has no {name}")


def test_profile_from_a_small_root(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not os.path.exists(HOST_LOADER):
        pytest.skip("needs an x86_64 glibc host")
    root = tmp_path / "root"
    libdir = root / "usr" / "lib64"
    libdir.mkdir(parents=True)
    (root / "lib64").symlink_to("usr/lib64")
    for name in ("libc.so.6", "libm.so.6", "libz.so.1"):
        shutil.copy2(_host_lib(name), libdir / name)
    shutil.copy2(Path(HOST_LOADER).resolve(), libdir / "ld-linux-x86-64.so.2")
    output = tmp_path / "mini.json"
    code = main(
        [
            "profile",
            "--sysroot",
            str(root),
            "--name",
            "mini",
            "--arch",
            "x86_64",
            "--output",
            str(output),
        ]
    )
    capsys.readouterr()
    assert code == 0
    document = json.loads(output.read_text())
    profile = os_from_dict(document, "x86_64")
    host_glibc = (os.confstr("CS_GNU_LIBC_VERSION") or "glibc ?").split()[1]
    assert profile.glibc == host_glibc
    assert profile.loader == "/lib64/ld-linux-x86-64.so.2"
    libc = profile.library("libc.so.6")
    assert libc is not None and libc.defines(f"GLIBC_{host_glibc}") is True
    assert libc.defines("GLIBC_99.0") is False
    assert {"libc.so.6", "libm.so.6", "libz.so.1"} <= {lib.soname for lib in profile.libraries}
    assert profile.libraries_complete
    assert profile.cpu.x86_64_isa_level == 3  # Lambda's baseline: the schema requires one
    with pytest.raises(Exception, match="arm64"):
        os_from_dict(document, "arm64")  # no aarch64 libc in that root: no arm64 section
    # The document has the bundled profiles' format: it validates against their schema.
    import jsonschema

    schema_path = Path(__file__).resolve().parent.parent / "linkscope/profiles/profile-schema.json"
    jsonschema.validate(document, json.loads(schema_path.read_text()))
