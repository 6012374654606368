"""Each rule on hand-made facts: no files, no mocks. Facts and packages are built directly, the
world by `build_world`, and each rule's `check` is run alone (DESIGN section 9)."""

from __future__ import annotations

import datetime
from dataclasses import replace
from pathlib import Path

import pytest
from check_helpers import elf, go_toolchain, library, package, req
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkscope.api import load_check_target
from linkscope.model import (
    ElfType,
    FileProblem,
    Finding,
    LibcFamily,
    Linkage,
    ScannedPackage,
    Severity,
    Toolchain,
)
from linkscope.profiles import load_target
from linkscope.profiles.model import LibraryInfo, Target
from linkscope.resolve import build_world
from linkscope.rules import arch, libc, libraries, lifecycle, unreadable, versions
from linkscope.rules.base import Context, Rule

TODAY = datetime.date(2026, 11, 29)


def run(
    rule: Rule,
    function: ScannedPackage,
    runtime: str = "provided.al2023",
    arch_name: str = "x86_64",
    *,
    layers: tuple[ScannedPackage, ...] = (),
    today: datetime.date = TODAY,
    strict: bool = False,
    target: Target | None = None,
) -> list[Finding]:
    target = target or load_target(runtime, arch_name)
    world = build_world(function, layers, target)
    findings = list(rule.check(world, Context(today=today, strict=strict)))
    assert all(f.rule == rule.id for f in findings)
    return findings


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


# ------------------------------------------------------------------ LS001


def test_ls001_reports_each_unreadable_member() -> None:
    pkg = package(elf(), problems=(FileProblem(path="lib/libbad.so", message="corrupt ELF: x"),))
    finding = only(run(unreadable.UNREADABLE, pkg))
    assert (finding.severity, finding.path) == (Severity.ERROR, "lib/libbad.so")
    assert "corrupt ELF: x" in finding.message
    assert run(unreadable.UNREADABLE, package(elf())) == []


# ------------------------------------------------------------------ LS101 / LS102


@pytest.mark.parametrize(
    ("machine", "arch_name", "elf_class", "endianness", "words"),
    [
        ("aarch64", "x86_64", None, "little", "built for aarch64"),
        ("x86_64", "arm64", None, "little", "built for x86_64"),
        ("i386", "x86_64", None, "little", "built for i386"),
        ("arm", "arm64", None, "little", "built for arm"),
        ("x86_64", "x86_64", 32, "little", "32-bit"),  # x32
        ("aarch64", "arm64", None, "big", "big-endian"),
    ],
)
def test_ls101_architecture(
    machine: str, arch_name: str, elf_class: int | None, endianness: str, words: str
) -> None:
    bootstrap = elf(
        machine=machine, elf_class=elf_class, endianness=endianness, needed=(), interpreter=None
    )
    finding = only(run(arch.ARCHITECTURE, package(bootstrap), arch_name=arch_name))
    assert (finding.severity, finding.path) == (Severity.ERROR, "bootstrap")
    assert words in finding.message
    assert "exec format error" in finding.message


def test_ls101_matching_architecture_is_silent() -> None:
    assert run(arch.ARCHITECTURE, package(elf()), arch_name="x86_64") == []
    assert run(arch.ARCHITECTURE, package(elf(machine="aarch64")), arch_name="arm64") == []


def test_ls101_a_spare_library_of_another_architecture_is_a_warning() -> None:
    spare = library("lib/arm64/libfoo.so", machine="aarch64")
    finding = only(run(arch.ARCHITECTURE, package(elf(), spare)))
    assert (finding.severity, finding.path) == (Severity.WARNING, "lib/arm64/libfoo.so")


@pytest.mark.parametrize(
    ("toolchain", "expected"),
    [
        (Toolchain(x86_isa_needed=4), True),
        (Toolchain(x86_isa_needed=3), False),
        (Toolchain(x86_isa_needed=None), False),
        (go_toolchain(GOAMD64="v4"), True),
        (go_toolchain(GOAMD64="v3"), False),
        (go_toolchain(GOAMD64="v1", CGO_ENABLED="0"), False),
    ],
)
def test_ls102_x86_isa_level(toolchain: Toolchain, expected: bool) -> None:
    findings = run(arch.CPU, package(elf(toolchain=toolchain)))
    if not expected:
        assert findings == []
        return
    finding = only(findings)
    assert (finding.severity, finding.path) == (Severity.ERROR, "bootstrap")
    assert "x86-64-v4" in finding.message and "x86-64-v3" in finding.message


def test_ls102_goarm64_beyond_armv82() -> None:
    bootstrap = elf(machine="aarch64", toolchain=go_toolchain(GOARM64="v9.0"))
    assert "v9.0" in only(run(arch.CPU, package(bootstrap), arch_name="arm64")).message
    ok = elf(machine="aarch64", toolchain=go_toolchain(GOARM64="v8.2"))
    assert run(arch.CPU, package(ok), arch_name="arm64") == []


# ------------------------------------------------------------------ LS201 / LS202 / LS203


def test_ls201_nix_interpreter() -> None:
    nix = "/nix/store/aaaa-glibc-2.38/lib/ld-linux-x86-64.so.2"
    finding = only(run(libc.INTERPRETER, package(elf(interpreter=nix))))
    assert (finding.severity, finding.path) == (Severity.ERROR, "bootstrap")
    assert nix in finding.message and "Nix" in finding.message
    assert "no such file or directory" in finding.message
    assert run(libc.INTERPRETER, package(elf())) == []


def test_ls201_other_distribution_loader() -> None:
    finding = only(
        run(libc.INTERPRETER, package(elf(interpreter="/lib/ld-linux-x86-64.so.2")), "provided.al2")
    )
    assert "/lib64/ld-linux-x86-64.so.2" in finding.message  # names the runtime's loader


def test_ls201_interpreter_provided_by_a_layer_is_fine() -> None:
    bootstrap = elf(interpreter="/opt/lib/ld-custom.so.2")
    layer = package(library("lib/ld-custom.so.2", needed=()), source="layer")
    assert run(libc.INTERPRETER, package(bootstrap), layers=(layer,)) == []


def test_ls202_dynamic_musl_and_no_duplicate_ls401() -> None:
    musl = elf(interpreter="/lib/ld-musl-x86_64.so.1", needed=("libc.so",), libc=LibcFamily.MUSL)
    for runtime in ("provided.al2", "provided.al2023"):
        finding = only(run(libc.MUSL, package(musl), runtime))
        assert (finding.severity, finding.path) == (Severity.ERROR, "bootstrap")
        assert "musl" in finding.message and "/lib/ld-musl-x86_64.so.1" in finding.message
        assert run(libraries.MISSING, package(musl), runtime) == []
        assert run(libc.INTERPRETER, package(musl), runtime) == []  # LS202 explains it


def test_ls202_alpine_style_library() -> None:
    ext = library("lib/_cffi.so", needed=("libc.musl-x86_64.so.1",))
    ext = replace(ext, libc=replace(ext.libc, family=LibcFamily.MUSL))
    finding = only(run(libc.MUSL, package(elf(), ext), "provided.al2"))
    assert "libc.musl-x86_64.so.1" in finding.message
    assert "cannot open shared object file" in finding.message


def test_ls202_static_musl_is_fine() -> None:
    static = elf(
        interpreter=None,
        needed=(),
        libc=LibcFamily.MUSL,
        linkage=Linkage.STATIC,
        elf_type=ElfType.EXECUTABLE,
    )
    assert run(libc.MUSL, package(static)) == []


def test_ls203_bundled_libc_and_loader() -> None:
    pkg = package(
        elf(),
        library("lib/libc.so.6", needed=()),
        library("lib/ld-linux-x86-64.so.2", needed=()),
        library("lib/libz.so.1"),
    )
    findings = run(libc.BUNDLED, pkg)
    assert sorted(f.path for f in findings) == ["lib/ld-linux-x86-64.so.2", "lib/libc.so.6"]
    assert {f.severity for f in findings} == {Severity.WARNING}


# ------------------------------------------------------------------ LS301 - LS304


def test_ls301_names_the_symbols_and_the_version() -> None:
    bootstrap = elf(
        requirements=[
            req("libc.so.6", "GLIBC_2.2.5", "puts"),
            req("libc.so.6", "GLIBC_2.28", "fcntl64", "statx"),
        ]
    )
    finding = only(run(versions.GLIBC, package(bootstrap), "provided.al2"))
    assert (finding.rule, finding.severity, finding.path) == ("LS301", Severity.ERROR, "bootstrap")
    assert (finding.library, finding.version, finding.symbols) == (
        "libc.so.6",
        "GLIBC_2.28",
        ("fcntl64", "statx"),
    )
    assert "fcntl64" in finding.message and "GLIBC_2.28" in finding.message
    assert "GLIBC_2.26" in finding.message  # what the runtime goes up to
    assert run(versions.GLIBC, package(bootstrap), "provided.al2023") == []


def test_ls301_weak_requirement_is_not_an_error() -> None:
    bootstrap = elf(requirements=[req("libc.so.6", "GLIBC_2.28", "fcntl64", weak=True)])
    assert run(versions.GLIBC, package(bootstrap), "provided.al2") == []


def test_ls301_in_a_bundled_library_needed_by_the_bootstrap() -> None:
    lib = library("lib/libfoo.so.1", requirements=[req("libc.so.6", "GLIBC_2.34", "dlopen")])
    bootstrap = elf(needed=("libfoo.so.1", "libc.so.6"))
    finding = only(run(versions.GLIBC, package(bootstrap, lib), "provided.al2"))
    assert (finding.path, finding.version, finding.symbols) == (
        "lib/libfoo.so.1",
        "GLIBC_2.34",
        ("dlopen",),
    )


@pytest.mark.parametrize(
    ("version", "symbol", "runtime", "fires"),
    [
        (
            "GLIBCXX_3.4.30",
            "_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE",
            "provided.al2",
            True,
        ),
        ("GLIBCXX_3.4.29", "_ZSt8to_charsPcS_d", "provided.al2023", False),
        ("GLIBCXX_3.4.29", "_ZSt8to_charsPcS_d", "provided.al2", True),
        ("GLIBCXX_3.4.34", "_ZSt13from_gcc_15", "provided.al2023", True),
        ("CXXABI_1.3.16", "__cxa_from_gcc_15", "provided.al2023", True),
        ("CXXABI_1.3.13", "__cxa_init_primary_exception", "provided.al2023", False),
    ],
)
def test_ls302_libstdcxx(version: str, symbol: str, runtime: str, fires: bool) -> None:
    bootstrap = elf(
        needed=("libstdc++.so.6", "libc.so.6"),
        requirements=[req("libstdc++.so.6", version, symbol)],
    )
    findings = [f for f in run(versions.LIBSTDCXX, package(bootstrap), runtime) if f.severity.rank]
    if not fires:
        assert findings == []
        return
    finding = only(findings)
    assert (finding.library, finding.version, finding.symbols) == (
        "libstdc++.so.6",
        version,
        (symbol,),
    )
    assert symbol in finding.message
    assert run(versions.GLIBC, package(bootstrap), runtime) == []  # not double-reported


def test_ls303_libgcc() -> None:
    bootstrap = elf(
        needed=("libgcc_s.so.1", "libc.so.6"),
        requirements=[req("libgcc_s.so.1", "GCC_12.0.0", "__divhc3")],
    )
    finding = only(run(versions.LIBGCC, package(bootstrap), "provided.al2"))
    assert (finding.severity, finding.version, finding.symbols) == (
        Severity.ERROR,
        "GCC_12.0.0",
        ("__divhc3",),
    )
    # AL2023's libgcc_s is GCC 14's since 2025-08: GCC_12.0.0 is there now (an info note).
    note = only(run(versions.LIBGCC, package(bootstrap), "provided.al2023"))
    assert (note.severity, note.version) == (Severity.INFO, "GCC_12.0.0")
    assert "since 2025-08-15" in note.message and "GCC_7.0.0" in note.message
    ok = elf(needed=("libgcc_s.so.1",), requirements=[req("libgcc_s.so.1", "GCC_3.0", "x")])
    assert run(versions.LIBGCC, package(ok), "provided.al2023") == []


def test_ls304_openssl3_against_a_bundled_older_library_on_al2() -> None:
    need = req("libssl.so.3", "OPENSSL_3.0.0", "SSL_CTX_new_ex")
    bootstrap = elf(needed=("libssl.so.3", "libc.so.6"), requirements=[need])
    old = library("lib/libssl.so.3", definitions=("libssl.so.3", "OPENSSL_1_1_0", "OPENSSL_1_1_1"))
    finding = only(run(versions.OTHER, package(bootstrap, old), "provided.al2"))
    assert (finding.rule, finding.severity, finding.path) == ("LS304", Severity.ERROR, "bootstrap")
    assert (finding.library, finding.version, finding.symbols) == (
        "libssl.so.3",
        "OPENSSL_3.0.0",
        ("SSL_CTX_new_ex",),
    )
    assert "lib/libssl.so.3" in finding.message
    good = library("lib/libssl.so.3", definitions=("libssl.so.3", "OPENSSL_3.0.0"))
    assert run(versions.OTHER, package(bootstrap, good), "provided.al2") == []


def test_ls304_language_runtime_copy_first_on_the_path() -> None:
    """lambda-facts 9 #13: /var/lang/lib/libcrypto.so.3 (OpenSSL 3.3) lacks OPENSSL_3.4.0."""
    bootstrap = elf(
        needed=("libcrypto.so.3", "libc.so.6"),
        requirements=[req("libcrypto.so.3", "OPENSSL_3.4.0", "EVP_x")],
    )
    finding = only(run(versions.OTHER, package(bootstrap), "nodejs22.x"))
    assert "/var/lang/lib/libcrypto.so.3" in finding.message
    assert finding.version == "OPENSSL_3.4.0"


def test_ls304_unknown_version_table_is_a_warning() -> None:
    bootstrap = elf(
        needed=("libtinfo.so.6", "libc.so.6"),
        requirements=[req("libtinfo.so.6", "NCURSES6_TINFO_5.0.19991023", "cbreak")],
    )
    finding = only(run(versions.OTHER, package(bootstrap), "provided.al2023"))
    assert finding.severity is Severity.WARNING
    assert "cannot tell" in finding.message


# ------------------------------------------------------------------ LS401 - LS404


def test_ls401_libssl3_on_al2_is_missing() -> None:
    bootstrap = elf(needed=("libssl.so.3", "libcrypto.so.3", "libc.so.6"))
    findings = run(libraries.MISSING, package(bootstrap), "provided.al2")
    assert sorted(f.library or "" for f in findings) == ["libcrypto.so.3", "libssl.so.3"]
    assert all(f.severity is Severity.ERROR and f.path == "bootstrap" for f in findings)
    assert "cannot open shared object file" in findings[0].message
    assert run(libraries.UNKNOWN, package(bootstrap), "provided.al2") == []


def test_ls401_libssl10_on_al2023_is_missing() -> None:
    """lambda-facts 9 #11: a layer built on AL2 needs libssl.so.10; AL2023 has no such file."""
    tool = elf("bin/openssl", needed=("libssl.so.10", "libcrypto.so.10", "libc.so.6"))
    layer = package(tool, source="layer")
    findings = run(libraries.MISSING, package(elf()), "provided.al2023", layers=(layer,))
    assert sorted(f.library or "" for f in findings) == ["libcrypto.so.10", "libssl.so.10"]
    assert {f.path for f in findings} == {"bin/openssl"}
    assert run(libraries.MISSING, package(elf()), "provided.al2", layers=(layer,)) == []


def test_ls401_complete_profile_vs_ls402_incomplete_profile() -> None:
    bootstrap = elf(needed=("libcurl.so.4", "libunknown.so.7", "libc.so.6"))
    al2 = run(libraries.MISSING, package(bootstrap), "provided.al2")
    assert sorted(f.library or "" for f in al2) == ["libcurl.so.4", "libunknown.so.7"]
    assert run(libraries.UNKNOWN, package(bootstrap), "provided.al2") == []
    # AL2023's /lib64 is a complete listing: libcurl is there, libunknown is not.
    al2023 = run(libraries.MISSING, package(bootstrap), "provided.al2023")
    assert [f.library for f in al2023] == ["libunknown.so.7"]
    assert run(libraries.UNKNOWN, package(bootstrap), "provided.al2023") == []
    # AL2 on arm64 has no listing: LS402, and the message says which part is unknown.
    arm = elf(machine="aarch64", needed=("libunknown.so.7", "libc.so.6"))
    unknown = only(run(libraries.UNKNOWN, package(arm), "provided.al2", "arm64"))
    assert unknown.severity is Severity.WARNING
    assert "Amazon Linux 2 libraries on arm64 is incomplete" in unknown.message
    strict = run(libraries.UNKNOWN, package(arm), "provided.al2", "arm64", strict=True)
    assert {f.severity for f in strict} == {Severity.ERROR}


def test_ls401_copy_in_the_package_but_off_the_search_path() -> None:
    bootstrap = elf(needed=("libfoo.so.1", "libc.so.6"))
    finding = only(
        run(libraries.MISSING, package(bootstrap, library("vendor/libfoo.so.1")), "provided.al2")
    )
    assert "vendor/libfoo.so.1" in finding.message
    assert (
        run(libraries.MISSING, package(bootstrap, library("lib/libfoo.so.1")), "provided.al2") == []
    )


def test_ls401_wrong_architecture_copy_is_skipped_like_ld_so() -> None:
    bootstrap = elf(needed=("libfoo.so.1", "libc.so.6"))
    arm = library("lib/libfoo.so.1", machine="aarch64")
    finding = only(run(libraries.MISSING, package(bootstrap, arm), "provided.al2"))
    assert "another architecture" in finding.message


def test_ls401_transitive_need_of_a_bundled_library() -> None:
    lib = library("lib/libfoo.so.1", needed=("libbar.so.2", "libc.so.6"))
    bootstrap = elf(needed=("libfoo.so.1", "libc.so.6"))
    finding = only(run(libraries.MISSING, package(bootstrap, lib), "provided.al2"))
    assert (finding.path, finding.library) == ("lib/libfoo.so.1", "libbar.so.2")


def test_ls403_system_copy_shadows_the_bundled_one() -> None:
    """LD_LIBRARY_PATH lists /lib64 before /var/task/lib: the runtime's libstdc++ wins."""
    pkg = package(elf(needed=("libstdc++.so.6", "libc.so.6")), library("lib/libstdc++.so.6"))
    finding = only(run(libraries.SHADOW, pkg, "provided.al2"))
    assert (finding.severity, finding.path, finding.library) == (
        Severity.WARNING,
        "bootstrap",
        "libstdc++.so.6",
    )
    assert "/lib64/libstdc++.so.6" in finding.message and "not the bundled" in finding.message


def test_ls403_bundled_copy_shadows_the_system_one() -> None:
    """DT_RPATH comes before LD_LIBRARY_PATH: the bundled copy wins."""
    bootstrap = elf(needed=("libstdc++.so.6", "libc.so.6"), rpath=("$ORIGIN/lib",))
    pkg = package(bootstrap, library("lib/libstdc++.so.6"))
    finding = only(run(libraries.SHADOW, pkg, "provided.al2"))
    assert "loads the bundled lib/libstdc++.so.6" in finding.message
    assert "/lib64/libstdc++.so.6" in finding.message


def test_ls403_silent_without_a_second_copy() -> None:
    pkg = package(elf(needed=("libfoo.so.1", "libc.so.6")), library("lib/libfoo.so.1"))
    assert run(libraries.SHADOW, pkg, "provided.al2") == []


@pytest.mark.parametrize(
    ("rpath", "runpath", "flagged"),
    [
        ((), ("/srv/ci/project/lib",), ["/srv/ci/project/lib"]),
        (("/usr/local/lib",), (), ["/usr/local/lib"]),
        ((), ("$ORIGIN/lib", "${ORIGIN}/../lib"), []),
        ((), ("/opt/lib", "/var/task/lib"), []),
        ((), ("/opt", "/lib64", "/var/task/lib/"), []),
        # Folder boundaries (issue 15): these only start with the letters of Lambda's folders.
        (
            (),
            ("/optbuild/lib", "/library/x", "/var/taskrunner/lib"),
            ["/optbuild/lib", "/library/x", "/var/taskrunner/lib"],
        ),
        (("/opt/../srv/ci/lib",), (), ["/opt/../srv/ci/lib"]),
        ((), ("$ORIGINAL/lib",), ["$ORIGINAL/lib"]),
    ],
)
def test_ls404_build_machine_paths(
    rpath: tuple[str, ...], runpath: tuple[str, ...], flagged: list[str]
) -> None:
    findings = run(libraries.BUILD_PATH, package(elf(rpath=rpath, runpath=runpath)))
    assert [next(p for p in flagged if p in f.message) for f in findings] == flagged
    assert all(f.severity is Severity.WARNING for f in findings)


# ------------------------------------------------------------------ LS501 / LS503


@pytest.mark.parametrize(
    ("today", "severity"),
    [
        (datetime.date(2026, 7, 30), None),  # before deprecation
        (datetime.date(2026, 7, 31), Severity.WARNING),  # deprecated
        (datetime.date(2027, 2, 1), Severity.WARNING),  # create blocked
        (datetime.date(2027, 3, 2), Severity.WARNING),
        (datetime.date(2027, 3, 3), Severity.ERROR),  # update blocked
    ],
)
def test_ls501_dates_are_pinned(today: datetime.date, severity: Severity | None) -> None:
    findings = run(lifecycle.DEPRECATED, package(elf()), "provided.al2", today=today)
    if severity is None:
        assert findings == []
        return
    finding = only(findings)
    assert finding.severity is severity
    assert "provided.al2" in finding.message and "provided.al2023" in finding.fix


def test_ls501_current_runtime_is_silent() -> None:
    assert run(lifecycle.DEPRECATED, package(elf()), "provided.al2023") == []


def test_ls503_kernel() -> None:
    new = elf(toolchain=Toolchain(min_kernel="5.10.0"))
    finding = only(run(lifecycle.KERNEL, package(new)))
    assert (finding.severity, finding.path) == (Severity.ERROR, "bootstrap")
    assert "5.10.0" in finding.message and "4.14" in finding.message
    assert run(lifecycle.KERNEL, package(elf(toolchain=Toolchain(min_kernel="3.2.0")))) == []
    assert run(lifecycle.KERNEL, package(elf(toolchain=Toolchain(min_kernel="4.14.0")))) == []


# ------------------------------------------------------------------ property: monotonicity

ALL_RULES = (
    unreadable.UNREADABLE,
    arch.ARCHITECTURE,
    arch.CPU,
    libc.INTERPRETER,
    libc.MUSL,
    libc.BUNDLED,
    versions.GLIBC,
    versions.LIBSTDCXX,
    versions.LIBGCC,
    versions.OTHER,
    libraries.MISSING,
    libraries.UNKNOWN,
    libraries.SHADOW,
    libraries.BUILD_PATH,
    lifecycle.DEPRECATED,
    lifecycle.KERNEL,
)
POOL = tuple(f"libgen{i}.so.{i % 3}" for i in range(8))


def _keys(pkg: ScannedPackage, target: Target) -> set[tuple[str, str, str, str | None, str | None]]:
    world = build_world(pkg, (), target)
    ctx = Context(today=TODAY)
    return {
        (f.rule, f.severity.value, f.path, f.library, f.version)
        for rule in ALL_RULES
        for f in rule.check(world, ctx)
    }


@st.composite
def scenario(draw: st.DrawFn) -> tuple[ScannedPackage, Target, Target]:
    needed = draw(st.lists(st.sampled_from(POOL), unique=True, max_size=5))
    reqs = [
        req(name, f"GEN_1.{draw(st.integers(0, 5))}", "sym")
        for name in needed
        if draw(st.booleans())
    ]
    bootstrap = elf(needed=(*needed, "libc.so.6"), requirements=reqs)
    bundled_names = draw(st.lists(st.sampled_from(POOL), unique=True, max_size=3))
    bundled = [
        library(
            f"lib/{name}",
            needed=tuple(draw(st.lists(st.sampled_from(POOL), unique=True, max_size=2))),
            definitions=(name, "GEN_1.0", "GEN_1.5"),
        )
        for name in bundled_names
    ]
    target = load_target(draw(st.sampled_from(["provided.al2", "provided.al2023"])), "x86_64")
    # add libraries the package does not bundle, defining every version anyone could ask for
    added = draw(
        st.lists(
            st.sampled_from([n for n in POOL if n not in bundled_names]), unique=True, min_size=1
        )
    )
    extra = tuple(
        LibraryInfo(soname=name, directory="/lib64", provides=(("GEN", "1.9"),), source="test")
        for name in added
    )
    richer = replace(target, os=replace(target.os, libraries=target.os.libraries + extra))
    return package(bootstrap, *bundled), target, richer


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario())
def test_adding_libraries_to_a_profile_never_adds_findings(
    case: tuple[ScannedPackage, Target, Target],
) -> None:
    pkg, target, richer = case
    before, after = _keys(pkg, target), _keys(pkg, richer)
    assert after <= before, after - before


def test_messages_under_sysroot_name_the_root(tmp_path: Path) -> None:
    """With --sysroot, the libraries searched are the root's: LS401 says so, not the profile's
    runtime (issue 15)."""
    (tmp_path / "lib64").mkdir()
    target = load_check_target("provided.al2023", "x86_64", str(tmp_path))
    bootstrap = elf(needed=("libnothere.so.1",), interpreter="/lib64/ld-linux-x86-64.so.2")
    finding = only(run(libraries.MISSING, package(bootstrap), target=target))
    assert f"the root filesystem {tmp_path} does not have" in finding.message
    assert "provided.al2023" not in finding.message
