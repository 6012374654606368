"""Deployment packages built the way users build them (Python's zipfile standing in for `zip`,
Windows tools, `zip -y` symlinks, layers), checked end to end through `linkscope.api.check` and
`linkscope check` exit codes. The packaging scenarios of lambda-facts section 9 (#21-#25) each
yield the rule that explains them."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from package_helpers import (
    HOST_LIBSTDCXX,
    Item,
    cli_main,
    findings,
    fixture,
    go_function,
    make_folder,
    make_zip,
    rules_of,
)

from linkscope import api
from linkscope.inputs import Limits
from linkscope.model import Report, Severity
from linkscope.profiles import load_target
from linkscope.resolve import Node, Origin, build_world
from linkscope.scan import scan_path

TODAY = datetime.date(2026, 11, 29)
GO = fixture("go_bootstrap_x86_64")
main = cli_main()


def check(path: Path, runtime: str = "provided.al2023", layers: tuple[Path, ...] = ()) -> Report:
    return api.check([str(path)], runtime, "x86_64", layers=[str(p) for p in layers], today=TODAY)


def cli(path: Path, *args: str) -> int:
    return main(["check", str(path), "--today", str(TODAY), *args])


def errors(report) -> set[str]:  # type: ignore[no-untyped-def]
    return {f.rule for f in report.findings if f.severity is Severity.ERROR}


# ------------------------------------------------------------------ good packages


@pytest.mark.parametrize("name", ["go_bootstrap_x86_64", "c_bootstrap_zig_musl_static_x86_64"])
def test_good_function_zip(tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_zip(tmp_path / "function.zip", [Item("bootstrap", fixture(name))])
    report = check(path)
    assert report.verdict == "compatible" and not errors(report), report.findings
    assert cli(path) == 0
    assert "\r[" not in capsys.readouterr().err  # no progress line on a pipe


def test_good_script_bootstrap_with_binary(tmp_path: Path) -> None:
    path = make_zip(
        tmp_path / "fn.zip", [Item("bootstrap", fixture("bootstrap.sh")), Item("bin/app", GO)]
    )
    assert check(path).verdict == "compatible"


def test_symlinked_bootstrap(tmp_path: Path) -> None:
    path = make_zip(
        tmp_path / "fn.zip", [Item("bin/app", GO), Item("bootstrap", link="bin/app", mode=0o777)]
    )
    report = check(path)
    assert report.verdict == "compatible", report.findings
    assert cli(path) == 0


def test_symlinked_bootstrap_in_a_folder(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "fn", [Item("bin/app", GO), Item("bootstrap", link="bin/app")])
    assert check(root).verdict == "compatible"


def test_symlink_to_outside_is_not_a_bootstrap(tmp_path: Path) -> None:
    path = make_zip(
        tmp_path / "fn.zip",
        [Item("bin/app", GO), Item("bootstrap", link="/usr/local/bin/app", mode=0o777)],
    )
    [finding] = findings(check(path), "LS002")
    assert "symlink to /usr/local/bin/app" in finding.message
    assert cli(path) == 1


# ------------------------------------------------------------------ lambda-facts 9, #21-#25


def test_21_missing_execute_bit(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "fn.zip", [Item("bootstrap", GO, 0o644)])
    [finding] = findings(check(path), "LS003")
    assert finding.severity is Severity.ERROR
    assert "fork/exec /var/task/bootstrap: permission denied" in finding.message
    assert cli(path) == 1
    assert cli(path, "--ignore", "LS003") == 0


def test_21_script_without_execute_bit(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "fn.zip", [Item("bootstrap", fixture("bootstrap_noexec.sh"), 0o644)])
    assert errors(check(path)) == {"LS003"}


@pytest.mark.parametrize("runtime", ["provided.al2023", "provided.al2"])
def test_22_zip_made_on_windows(tmp_path: Path, runtime: str) -> None:
    path = make_zip(tmp_path / "fn.zip", [Item("bootstrap", GO, None)])
    report = check(path, runtime)
    assert errors(report) == {"LS003"}
    assert "made on Windows" in findings(report, "LS003")[0].message
    assert cli(path, "--runtime", runtime) == 1


def test_22_go1x_handler_from_windows(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "fn.zip", [Item("main", GO, None)])
    report = check(path, "go1.x")
    assert errors(report) == {"LS003"}
    assert "fork/exec /var/task/main: permission denied" in findings(report, "LS003")[0].message
    good = make_zip(tmp_path / "ok.zip", [Item("main", GO, 0o755)])
    assert "LS003" not in rules_of(check(good, "go1.x"))


def test_23_no_bootstrap_layer_not_attached(tmp_path: Path) -> None:
    function = make_zip(tmp_path / "fn.zip", [Item("index.php", b"<?php echo 1;", 0o644)])
    runtime_layer = make_zip(
        tmp_path / "php.zip", [Item("bootstrap", fixture("bootstrap.sh")), Item("bin/php", GO)]
    )
    [finding] = findings(check(function), "LS002")
    assert "Couldn't find valid bootstrap(s)" in finding.message and "--layer" in finding.fix
    assert cli(function) == 1
    assert check(function, layers=(runtime_layer,)).verdict == "compatible"
    assert cli(function, "--layer", str(runtime_layer)) == 0
    # On python3.12 no bootstrap is looked for; a PHP function has no Python handler either
    [no_handler] = findings(check(function, "python3.12"), "LS002")
    assert "Couldn't find valid bootstrap" not in no_handler.message
    assert "no Python file" in no_handler.message


def test_23_zipped_the_folder_not_its_contents(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "fn.zip", [Item("target/lambda/app/bootstrap", GO)])
    [finding] = findings(check(path), "LS002")
    assert "target/lambda/app/bootstrap" in finding.message


def test_24_extension_for_the_other_architecture(tmp_path: Path) -> None:
    function = go_function(tmp_path / "fn.zip")
    layer = make_zip(
        tmp_path / "apm.zip",
        [Item("extensions/apm-lambda-extension", fixture("c_hello_gcc_aarch64"))],
    )
    report = check(function, layers=(layer,))
    [finding] = findings(report, "LS101")
    assert finding.severity is Severity.ERROR
    assert finding.path == f"{layer}!extensions/apm-lambda-extension"
    assert cli(function, "--layer", str(layer)) == 1
    assert cli(function, "--layer", str(layer), "--arch", "arm64") == 1  # the Go bootstrap then


def test_24_extension_without_execute_bit(tmp_path: Path) -> None:
    layer = make_zip(tmp_path / "ext.zip", [Item("extensions/agent", GO, 0o644)])
    report = check(go_function(tmp_path / "fn.zip"), layers=(layer,))
    assert (
        "fork/exec /opt/extensions/agent: permission denied" in findings(report, "LS003")[0].message
    )


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (fixture("bootstrap_crlf.sh"), "CRLF"),
        (b"Set-StrictMode -Version Latest\r\n$handler = $env:_HANDLER\r\n", "neither an ELF"),
        (b"MZ\x90\x00" + bytes(200), "neither an ELF"),
        (b"", "is empty"),
    ],
)
def test_25_runtime_built_on_windows(tmp_path: Path, data: bytes | Path, text: str) -> None:
    function = make_zip(tmp_path / "fn.zip", [Item("handler.ps1", b"1", 0o644)])
    layer = make_zip(tmp_path / "pwsh.zip", [Item("bootstrap", data)])
    report = check(function, layers=(layer,))
    [finding] = findings(report, "LS004")
    assert finding.severity is Severity.ERROR and text in finding.message
    assert finding.path == f"{layer}!bootstrap"
    assert "/opt/bootstrap" in finding.message
    assert cli(function, "--layer", str(layer)) == 1


def test_25_macos_bootstrap_is_ls103(tmp_path: Path) -> None:
    """A Mach-O bootstrap (x86_64 MH_EXECUTE header) is native code for macOS: LS103, not the
    "neither ELF nor script" of LS004."""
    macho = b"\xcf\xfa\xed\xfe\x07\x00\x00\x01\x03\x00\x00\x00\x02\x00\x00\x00" + bytes(200)
    function = make_zip(tmp_path / "fn.zip", [Item("handler.ps1", b"1", 0o644)])
    layer = make_zip(tmp_path / "pwsh.zip", [Item("bootstrap", macho)])
    report = check(function, layers=(layer,))
    assert not findings(report, "LS004")
    [finding] = findings(report, "LS103")
    assert finding.severity is Severity.ERROR and finding.path == f"{layer}!bootstrap"
    assert "Mach-O executable for macOS (x86_64)" in finding.message
    assert "exec format error" in finding.message
    assert cli(function, "--layer", str(layer)) == 1


def test_wrong_shebang(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "fn.zip", [Item("bootstrap", fixture("bootstrap_python.sh"))])
    [finding] = findings(check(path), "LS004")
    assert "python3" in finding.message and finding.severity is Severity.ERROR
    assert cli(path) == 1


# ------------------------------------------------------------------ resolution inside packages


def provider(
    path: Path,
    binary: str,
    needed: str,
    runtime: str = "provided.al2023",
    layers: tuple[Path, ...] = (),
) -> Node:
    world = build_world(
        scan_path(str(path), Limits()),
        [scan_path(str(p), Limits()) for p in layers],
        load_target(runtime, "x86_64"),
    )
    item = next(p for p in world.placed if p.node.path == binary)
    assert item.resolution is not None
    return next(node for _req, name, node in item.resolution.chosen if name == needed)


def test_origin_inside_the_zip(tmp_path: Path) -> None:
    # bin/lib/ is on no search path but RUNPATH $ORIGIN/lib: only $ORIGIN finds it.
    path = make_zip(
        tmp_path / "fn.zip",
        [
            Item("bootstrap", fixture("bootstrap.sh")),
            Item("bin/app", fixture("c_uselib_gcc_x86_64")),
            Item("bin/lib/libdemo.so.1", fixture("lib/libdemo.so.1")),
        ],
    )
    assert (
        provider(path, "/var/task/bin/app", "libdemo.so.1").path == "/var/task/bin/lib/libdemo.so.1"
    )
    assert not {"LS401", "LS402"} & rules_of(check(path))


def test_var_task_lib(tmp_path: Path) -> None:
    path = make_zip(
        tmp_path / "fn.zip",
        [
            Item("bin/bootstrap-real", fixture("c_uselib_gcc_x86_64")),
            Item("bootstrap", fixture("bootstrap.sh")),
            Item("lib/libdemo.so.1", fixture("lib/libdemo.so.1")),
        ],
    )
    assert (
        provider(path, "/var/task/bin/bootstrap-real", "libdemo.so.1").path
        == "/var/task/lib/libdemo.so.1"
    )


def test_layer_supplies_the_missing_library(tmp_path: Path) -> None:
    function = make_zip(tmp_path / "fn.zip", [Item("bootstrap", fixture("c_uselib_gcc_x86_64"))])
    layer = make_zip(tmp_path / "deps.zip", [Item("lib/libdemo.so.1", fixture("lib/libdemo.so.1"))])
    alone = check(function)
    assert {f.library for f in alone.findings if f.rule in ("LS401", "LS402")} == {"libdemo.so.1"}
    found = provider(function, "/var/task/bootstrap", "libdemo.so.1", layers=(layer,))
    assert (found.path, found.origin) == ("/opt/lib/libdemo.so.1", Origin.LAYER)
    assert not {"LS401", "LS402"} & rules_of(check(function, layers=(layer,)))


def test_language_runtime_lib_comes_first(tmp_path: Path) -> None:
    path = make_zip(
        tmp_path / "fn.zip",
        [
            Item("bin/tool", fixture("c_ssl_gcc_x86_64")),
            Item("lib/libssl.so.3", b"not used", 0o644),
        ],
    )
    node = provider(path, "/var/task/bin/tool", "libssl.so.3", runtime="nodejs20.x")
    assert (node.path, node.origin) == ("/var/lang/lib/libssl.so.3", Origin.LANGUAGE)
    system = provider(path, "/var/task/bin/tool", "libssl.so.3")
    assert system.origin is Origin.SYSTEM and system.path.endswith("/libssl.so.3")


@pytest.mark.skipif(not HOST_LIBSTDCXX.exists(), reason="needs the host's libstdc++")
def test_bundled_libstdcxx_loses_to_the_runtimes(tmp_path: Path) -> None:
    """LD_LIBRARY_PATH has /lib64 before /var/task/lib, and glibc searches LD_LIBRARY_PATH before
    DT_RUNPATH: the runtime's libstdc++ (GLIBCXX_3.4.29 on AL2023) is the one loaded, so the
    binary's GLIBCXX_3.4.30 is not found although the zip carries a libstdc++ that has it.
    (On AL2, whose libstdc++ is GCC 7's: AL2023's has GLIBCXX_3.4.33 since 2025-08.)"""
    path = make_zip(
        tmp_path / "fn.zip",
        [
            Item("bootstrap", fixture("cxx_condvar_gxx_x86_64")),
            Item("lib/libstdc++.so.6", HOST_LIBSTDCXX, 0o644),
        ],
    )
    node = provider(path, "/var/task/bootstrap", "libstdc++.so.6")
    assert node.origin is Origin.SYSTEM
    report = check(path, "provided.al2")
    [cxx] = [f for f in findings(report, "LS302") if f.path == f"{path}!bootstrap"]
    assert (cxx.version, cxx.severity) == ("GLIBCXX_3.4.30", Severity.ERROR)
    [shadow] = findings(report, "LS403")
    assert f"not the bundled {path}!lib/libstdc++.so.6" in shadow.message
    assert cli(path, "--runtime", "provided.al2") == 1


def test_inspect_reads_every_elf_of_a_zip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_zip(
        tmp_path / "fn.zip",
        [
            Item("bootstrap", GO),
            Item("app.py", b"x", 0o644),
            Item("lib/libdemo.so.1", fixture("lib/libdemo.so.1")),
        ],
    )
    report = api.inspect([str(path)])
    assert [b.path for b in report.binaries] == [f"{path}!bootstrap", f"{path}!lib/libdemo.so.1"]
    assert main(["inspect", str(path)]) == 0


def test_hostile_archives_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = tmp_path / "function.zip"
    fake.write_bytes(b"not a zip\n")
    assert cli(fake) == 2
    cut = go_function(tmp_path / "cut.zip")
    cut.write_bytes(cut.read_bytes()[:-30])
    assert cli(cut) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "function.zip" in err


def test_hostile_member_is_a_finding(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "fn.zip", [Item("bootstrap", GO), Item("../../etc/cron.d/x", GO)])
    report = check(path)
    assert [f.path for f in findings(report, "LS001")] == [f"{path}!../../etc/cron.d/x"]
    assert cli(path) == 1
