"""The real-world failures of lambda-facts section 9, reproduced with the committed fixtures (or,
where no fixture has the property, with hand-made facts), each yielding the right rule and a message
that says what Lambda would say. Plus the exit-code contract of `linkscope check`."""

from __future__ import annotations

import pytest
from check_helpers import TODAY, cli_main, elf, fixture, package

from linkscope import api
from linkscope.model import Finding, Report, Severity
from linkscope.profiles import load_target
from linkscope.rules import Context

main = cli_main()


def check(name: str, runtime: str, arch: str = "x86_64") -> Report:
    return api.check([fixture(name)], runtime, arch, today=TODAY)


def findings(report: Report, rule: str) -> list[Finding]:
    return [f for f in report.findings if f.rule == rule]


def version_finding(report: Report, rule: str, version: str) -> Finding:
    matches = [f for f in findings(report, rule) if f.version == version]
    assert len(matches) == 1, report.findings
    assert matches[0].severity is Severity.ERROR
    return matches[0]


# ------------------------------------------------------------------ glibc too new


@pytest.mark.parametrize(
    ("scenario", "name", "runtime", "arch", "version", "symbol"),
    [
        (
            "#1/#4 rust on al2",
            "rust_hello_cargo_x86_64",
            "provided.al2",
            "x86_64",
            "GLIBC_2.28",
            "statx",
        ),
        (
            "#1 al2 one step above",
            "c_memfd_zig_glibc2.27_x86_64",
            "provided.al2",
            "x86_64",
            "GLIBC_2.27",
            "memfd_create",
        ),
        (
            "#2/#3 ubuntu 24.04 on al2023",
            "c_strlcpy_zig_glibc2.38_x86_64",
            "provided.al2023",
            "x86_64",
            "GLIBC_2.38",
            "strlcpy",
        ),
        (
            "above al2023",
            "c_arc4random_zig_glibc2.36_aarch64",
            "provided.al2023",
            "arm64",
            "GLIBC_2.36",
            "arc4random",
        ),
        (
            "#5/#6 AL1",
            "c_getrandom_zig_glibc2.25_x86_64",
            "provided",
            "x86_64",
            "GLIBC_2.25",
            "getrandom",
        ),
        (
            "#7 2.34 on AL2 arm64",
            "c_hello_zig_glibc2.34_aarch64",
            "provided.al2",
            "arm64",
            "GLIBC_2.34",
            "__libc_start_main",
        ),
    ],
)
def test_glibc_too_new(
    scenario: str,
    name: str,
    runtime: str,
    arch: str,
    version: str,
    symbol: str,
) -> None:
    finding = version_finding(check(name, runtime, arch), "LS301", version)
    assert finding.library == "libc.so.6"
    assert symbol in finding.symbols
    assert symbol in finding.message
    assert f"version `{version}' not found" in finding.message
    glibc = load_target(runtime, arch).os.glibc
    assert f"GLIBC_{glibc}" in finding.message  # what the runtime has


def test_glibc_exactly_at_the_ceiling_passes() -> None:
    assert not findings(check("c_reallocarray_zig_glibc2.26_x86_64", "provided.al2"), "LS301")
    assert not findings(check("c_hello_zig_glibc2.34_x86_64", "provided.al2023"), "LS301")


# ------------------------------------------------------------------ libstdc++ too new


@pytest.mark.parametrize(
    ("name", "runtime", "arch", "version"),
    [
        ("cxx_condvar_gxx_x86_64", "provided.al2", "x86_64", "GLIBCXX_3.4.30"),  # #8
        ("cxx_condvar_gxx_aarch64", "provided.al2", "arm64", "GLIBCXX_3.4.30"),  # #8 (arm64)
        ("cxx_tochars_gxx_x86_64", "provided", "x86_64", "GLIBCXX_3.4.29"),  # #9 (AL1)
        ("cxx_tochars_gxx_x86_64", "provided.al2", "x86_64", "GLIBCXX_3.4.29"),
    ],
)
def test_glibcxx_too_new(name: str, runtime: str, arch: str, version: str) -> None:
    finding = version_finding(check(name, runtime, arch), "LS302", version)
    assert finding.library == "libstdc++.so.6"
    assert finding.symbols and finding.symbols[0] in finding.message
    assert f"version `{version}' not found" in finding.message


def test_glibcxx_329_is_fine_on_al2023() -> None:
    assert not findings(check("cxx_tochars_gxx_x86_64", "provided.al2023"), "LS302")


@pytest.mark.parametrize(
    ("name", "arch"), [("cxx_condvar_gxx_x86_64", "x86_64"), ("cxx_condvar_gxx_aarch64", "arm64")]
)
def test_glibcxx_330_runs_on_al2023_since_gcc14(name: str, arch: str) -> None:
    """#8 before 2025: AL2023's libstdc++ is GCC 14's since the 2025-08-15 listing (it was GCC
    11's, up to GLIBCXX_3.4.29, in 2024-05). It starts now; an info note says since when."""
    report = check(name, "provided.al2023", arch)
    assert report.verdict == "compatible"
    (note,) = findings(report, "LS302")
    assert (note.severity, note.version) == (Severity.INFO, "GLIBCXX_3.4.30")
    assert "since 2025-08-15" in note.message and "GLIBCXX_3.4.29" in note.message
    assert "_ZNSt18condition_variable" in (note.symbols or ("",))[0]


# ------------------------------------------------------------------ missing libraries


def test_libssl3_on_al2() -> None:
    """#10: a tool linked against OpenSSL 3 on AL2, which has only libssl.so.10."""
    report = check("c_ssl_gcc_x86_64", "provided.al2")
    missing = {f.library: f for f in findings(report, "LS401")}
    assert set(missing) == {"libssl.so.3", "libcrypto.so.3"}
    assert "libssl.so.3: cannot open shared object file" in missing["libssl.so.3"].message
    assert not findings(check("c_ssl_gcc_x86_64", "provided.al2023"), "LS401")


def test_libssl10_on_al2023_hand_made() -> None:
    """#11: no fixture needs libssl.so.10 (it is an AL2 library), so the facts are made here."""
    tool = elf("bootstrap", needed=("libssl.so.10", "libcrypto.so.10", "libc.so.6"))
    context = Context(today=TODAY)
    for runtime, arch in (("provided.al2023", "x86_64"), ("provided.al2023", "arm64")):
        machine = "aarch64" if arch == "arm64" else "x86_64"
        pkg = package(
            elf(
                "bootstrap",
                machine=machine,
                needed=("libssl.so.10", "libcrypto.so.10", "libc.so.6"),
            )
        )
        report = api.check_scanned([pkg], [], load_target(runtime, arch), context)
        assert {f.library for f in findings(report, "LS401")} == {"libssl.so.10", "libcrypto.so.10"}
        assert report.verdict == "incompatible"
    report = api.check_scanned([package(tool)], [], load_target("provided.al2", "x86_64"), context)
    assert not findings(report, "LS401")


@pytest.mark.parametrize("runtime", ["provided.al2", "provided.al2023"])
def test_libcrypt_missing(runtime: str) -> None:
    """#14: libcrypt.so.1 is in neither Lambda environment."""
    (finding,) = findings(check("c_crypt_gcc_x86_64", runtime), "LS401")
    assert finding.library == "libcrypt.so.1"
    assert "libcrypt.so.1: cannot open shared object file" in finding.message
    assert runtime in finding.message


def test_libcurl_is_in_al2023_and_not_in_al2() -> None:
    """AL2023's /lib64 listing has libcurl.so.4 (libcurl-minimal); live AL2 does not (diff.txt)."""
    report = check("c_curl_gcc_x86_64", "provided.al2023")
    assert not findings(report, "LS401") and not findings(report, "LS402")
    assert report.verdict == "compatible"
    strict = api.check([fixture("c_curl_gcc_x86_64")], "provided.al2023", strict=True, today=TODAY)
    assert strict.verdict == "compatible"
    (missing,) = findings(check("c_curl_gcc_x86_64", "provided.al2"), "LS401")
    assert missing.library == "libcurl.so.4"


# ------------------------------------------------------------------ musl, interpreter, arch


@pytest.mark.parametrize(
    ("name", "arch"),
    [
        ("c_hello_zig_musl_dynamic_x86_64", "x86_64"),
        ("c_hello_muslgcc_dynamic_x86_64", "x86_64"),
        ("c_hello_zig_musl_dynamic_aarch64", "arm64"),
    ],
)
@pytest.mark.parametrize("runtime", ["provided.al2", "provided.al2023"])
def test_dynamic_musl(name: str, arch: str, runtime: str) -> None:
    """#15/#16: built for a musl target but dynamically linked; Lambda has no musl loader."""
    report = check(name, runtime, arch)
    (finding,) = findings(report, "LS202")
    assert finding.severity is Severity.ERROR
    assert "musl" in finding.message and "/lib/ld-musl-" in finding.message
    assert "no such file or directory" in finding.message
    assert not findings(report, "LS401")  # the missing libc.so is LS202's story


@pytest.mark.parametrize(
    "name",
    [
        "c_hello_zig_musl_static_x86_64",
        "c_hello_muslgcc_static_x86_64",
        "c_hello_zig_musl_staticpie_x86_64",
    ],
)
def test_static_musl_runs(name: str) -> None:
    assert check(name, "provided.al2").verdict == "compatible"


@pytest.mark.parametrize(
    ("name", "runtime", "arch", "built_for"),
    [
        ("c_hello_gcc_aarch64", "provided.al2", "x86_64", "aarch64"),  # #17 M1 Mac build
        ("c_hello_zig_musl_static_aarch64", "provided.al2", "x86_64", "aarch64"),  # #18
        ("c_hello_zig_glibc2.17_aarch64", "provided.al2023", "x86_64", "aarch64"),  # #19
        ("go_bootstrap_x86_64", "provided.al2023", "arm64", "x86_64"),  # #24 other way round
        ("c_hello_zig_glibc2.17_i386", "provided.al2023", "x86_64", "i386"),  # 32-bit
        ("c_hello_zig_glibc2.17_arm", "provided.al2023", "arm64", "arm"),  # 32-bit
        ("c_hello_zig_glibc2.34_riscv64", "provided.al2023", "x86_64", "riscv64"),
    ],
)
def test_wrong_architecture(name: str, runtime: str, arch: str, built_for: str) -> None:
    report = check(name, runtime, arch)
    (finding,) = findings(report, "LS101")
    assert finding.severity is Severity.ERROR
    assert f"built for {built_for}" in finding.message
    assert "exec format error" in finding.message
    assert report.verdict == "incompatible"


def test_nixos_interpreter() -> None:
    report = check("c_hello_gcc_nixinterp_x86_64", "provided.al2023")
    (finding,) = findings(report, "LS201")
    assert "/nix/store/" in finding.message
    assert "no such file or directory" in finding.message
    assert "patchelf --set-interpreter /lib64/ld-linux-x86-64.so.2" in finding.fix


def test_avx512_binary() -> None:
    """#26: `signal: illegal instruction` from a binary that needs more than AVX2."""
    (finding,) = findings(check("c_hello_gcc_x86-64-v4_x86_64", "provided.al2023"), "LS102")
    assert "illegal instruction" in finding.message


# ------------------------------------------------------------------ exit codes


def cli(*args: str) -> int:
    return main(["check", *args, "--today", TODAY.isoformat()])


def test_exit_1_when_incompatible(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(fixture("c_hello_zig_glibc2.34_x86_64"), "--runtime", "provided.al2") == 1
    assert "LS301" in capsys.readouterr().out


def test_exit_0_when_compatible(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(fixture("c_hello_zig_glibc2.34_x86_64")) == 0  # default: provided.al2023 x86_64
    assert "compatible" in capsys.readouterr().out
    assert cli(fixture("c_hello_zig_glibc2.34_aarch64"), "--arch", "arm64") == 0


def test_fail_on_warning(capsys: pytest.CaptureFixture[str]) -> None:
    path = fixture("c_hello_gcc_buildrpath_x86_64")  # LS404 is a warning
    assert cli(path) == 0
    assert cli(path, "--fail-on", "warning") == 1
    assert cli(path, "--fail-on", "warning", "--ignore", "LS404") == 0
    capsys.readouterr()


def test_ignore_removes_a_rule(capsys: pytest.CaptureFixture[str]) -> None:
    path = fixture("c_hello_zig_glibc2.34_x86_64")
    assert cli(path, "--runtime", "provided.al2", "--ignore", "LS301") == 0
    assert "LS301" not in capsys.readouterr().out
    report = api.check([path], "provided.al2", ignore=["LS301"], today=TODAY)
    assert {f.rule for f in report.findings} == {"LS501"}


@pytest.mark.parametrize(
    "args",
    [
        ("--runtime", "provided.al2099"),  # unknown runtime
        ("--runtime", "provided", "--arch", "arm64"),  # AL1 has no arm64
        ("--arch", "ppc64le"),
        ("--ignore", "LS999"),
        ("--fail-on", "info"),
    ],
)
def test_exit_2_on_usage_errors(args: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(fixture("c_hello_zig_glibc2.17_x86_64"), *args) == 2
    capsys.readouterr()


def test_exit_2_on_bad_today_and_missing_path(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", fixture("c_hello_zig_glibc2.17_x86_64"), "--today", "2026-13-40"]) == 2
    assert "--today" in capsys.readouterr().err
    assert cli(fixture("no_such_file")) == 2
    assert cli(fixture("corrupt_trunc_phdrs")) == 2
    capsys.readouterr()
