"""The runtime profiles built from real listings (issue 11; DESIGN section 5; al2023-libraries):
AL2023's /lib64 is a closed list on both architectures, AL2's lambci dump too, version tables
carry the date they were listed, and the language runtimes' own folders come first."""

from __future__ import annotations

import glob
import json
import os
import shutil
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from check_helpers import TODAY, cli_main, elf, library, package, req

from linkscope import api
from linkscope.model import Finding, Report, Severity
from linkscope.profiles import load_os, load_target, os_from_dict
from linkscope.profiles.sysroot import profile_document
from linkscope.rules.base import Context

ARCHES = (("x86_64", "x86_64"), ("arm64", "aarch64"))
# Not shipped on AL2023 (al2023-libraries section 5), each a real user's failure.
ABSENT_ON_AL2023 = ("libpq.so.5", "libcrypt.so.1", "libexpat.so.1", "libgomp.so.1", "libnss3.so")


def run(needed: tuple[str, ...], runtime: str, arch: str = "x86_64", **kw: object) -> Report:
    machine = dict(ARCHES)[arch]
    bootstrap = elf("bootstrap", machine=machine, needed=(*needed, "libc.so.6"), **kw)  # type: ignore[arg-type]
    return api.check_scanned(
        [package(bootstrap)], [], load_target(runtime, arch), Context(today=TODAY)
    )


def rules(report: Report, rule: str) -> list[Finding]:
    return [f for f in report.findings if f.rule == rule]


# ------------------------------------------------------------------ the listings themselves


@pytest.mark.parametrize(("arch", "count"), [("x86_64", 108), ("arm64", 107)])
def test_al2023_is_the_complete_bref_listing(arch: str, count: int) -> None:
    """108 sonames in /lib64 on x86_64, 106 on arm64 plus its loader in /lib."""
    profile = load_os("al2023", arch)
    assert profile.libraries_complete
    assert len(profile.libraries) == count
    assert all(lib.listed for lib in profile.libraries)
    libmvec = profile.library("libmvec.so.1")
    assert (libmvec is not None) == (arch == "x86_64")
    if arch == "arm64":
        loader = profile.library("ld-linux-aarch64.so.1")
        assert loader is not None and loader.directory == "/lib"
        assert "libmvec.so.1" in profile.absent


@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_al2023_version_tables_are_the_current_ones_with_their_history(arch: str) -> None:
    profile = load_os("al2023", arch)
    libstdcxx, libssl = profile.library("libstdc++.so.6"), profile.library("libssl.so.3")
    assert libstdcxx is not None and libssl is not None
    assert dict(libstdcxx.provides) == {"GLIBCXX": "3.4.33", "CXXABI": "1.3.15"}
    assert libstdcxx.since is not None and dict(libstdcxx.since.before)["GLIBCXX"] == "3.4.29"
    assert libstdcxx.file == "libstdc++.so.6.0.33"
    assert dict(libssl.provides) == {"OPENSSL": "3.5.0"} and libssl.version == "3.5.5"
    assert libssl.defines("OPENSSL_3.0.9") and libssl.defines("OPENSSL_3.5.0")
    assert libssl.defines("OPENSSL_3.6.0") is False


@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_al2_known_absent_and_present_lists_agree(arch: str) -> None:
    """lambci's dump of the live AL2 environment (fs.txt) against diff.txt's absent packages."""
    profile = load_os("al2", arch)
    present = {lib.soname for lib in profile.libraries}
    for name in ("libcrypt.so.1", "libxml2.so.2", "libcurl.so.4", "libexpat.so.1", "libuuid.so.1"):
        assert name in profile.absent and name not in present, (arch, name)
    assert not present & profile.absent
    assert profile.libraries_complete is (arch == "x86_64")  # no arm64 dump exists


# ------------------------------------------------------------------ presence: LS401 / LS402


@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
@pytest.mark.parametrize("name", [*ABSENT_ON_AL2023, "libvips-cpp.so.8.18.7", "libfoo.so.1"])
def test_outside_the_al2023_listing_is_ls401(arch: str, name: str) -> None:
    for runtime in ("provided.al2023", "nodejs22.x", "dotnet8"):
        report = run((name,), runtime, arch)
        (missing,) = rules(report, "LS401")
        assert (missing.library, missing.severity) == (name, Severity.ERROR)
        assert not rules(report, "LS402")
        assert report.verdict == "incompatible"


@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_every_listed_library_is_found(arch: str) -> None:
    profile = load_os("al2023", arch)
    loader = profile.loader.rsplit("/", 1)[-1]
    names = tuple(lib.soname for lib in profile.libraries if lib.soname != loader)
    report = run(names, "provided.al2023", arch)
    assert not rules(report, "LS401") and not rules(report, "LS402")


def test_libmvec_is_x86_64_only() -> None:
    assert not rules(run(("libmvec.so.1",), "provided.al2023", "x86_64"), "LS401")
    (missing,) = rules(run(("libmvec.so.1",), "provided.al2023", "arm64"), "LS401")
    assert missing.library == "libmvec.so.1"


def test_unlisted_language_folder_is_ls402_and_says_so() -> None:
    """python3.12's /var/lang/lib has never been listed: one of CPython's own dependencies
    outside /lib64 may be there, unless it is known absent; any other library is not
    (`lang_lib_may_hold`: CPython installs only libpython and what it links there)."""
    report = run(("libmpdec.so.3", "libfoo.so.1", "libpq.so.5"), "python3.12")
    (unknown,) = rules(report, "LS402")
    assert unknown.library == "libmpdec.so.3" and unknown.severity is Severity.WARNING
    assert "python3.12's own /var/lang/lib" in unknown.message
    assert "has never been listed" in unknown.message
    assert sorted(f.library or "" for f in rules(report, "LS401")) == ["libfoo.so.1", "libpq.so.5"]


def test_al2_arm64_is_ls402_and_names_the_unknown_part() -> None:
    (unknown,) = rules(run(("libfoo.so.1",), "provided.al2", "arm64"), "LS402")
    assert "Amazon Linux 2 libraries on arm64 is incomplete" in unknown.message
    (missing,) = rules(run(("libfoo.so.1",), "provided.al2", "x86_64"), "LS401")
    assert missing.library == "libfoo.so.1"


def test_dotnet_images_add_icu() -> None:
    assert not rules(run(("libicuuc.so.67",), "dotnet8"), "LS401")
    (missing,) = rules(run(("libicuuc.so.67",), "provided.al2023"), "LS401")
    assert missing.library == "libicuuc.so.67"


# ------------------------------------------------------------------ versions and their dates


def test_openssl_35_on_al2023_and_the_node_copy_first_on_the_path() -> None:
    """The system has OpenSSL 3.5 (2026-04); nodejs22.x's /var/lang/lib has Node's 3.3, found
    first, so OPENSSL_3.4.0 fails there although /lib64 has it."""
    need = [req("libcrypto.so.3", "OPENSSL_3.4.0", "EVP_x")]
    assert run(("libcrypto.so.3",), "provided.al2023", requirements=need).verdict == "compatible"
    report = run(("libcrypto.so.3",), "nodejs22.x", requirements=need)
    (finding,) = rules(report, "LS304")
    assert finding.severity is Severity.ERROR
    assert "/var/lang/lib/libcrypto.so.3 (nodejs22.x's own copy" in finding.message
    newer = [req("libssl.so.3", "OPENSSL_3.6.0", "SSL_new_x")]
    (too_new,) = rules(run(("libssl.so.3",), "provided.al2023", requirements=newer), "LS304")
    assert "goes up to OPENSSL_3.5.0" in too_new.message
    assert "since 2026-04-17, up to OPENSSL_3.2.0 before" in too_new.message


def test_node20_openssl_patch_versions_cannot_be_told() -> None:
    """Node 20's OpenSSL is 3.0.x of an unknown patch release: OPENSSL_3.0.9 is a warning,
    OPENSSL_3.1.0 an error."""
    patch = run(("libssl.so.3",), "nodejs20.x", requirements=[req("libssl.so.3", "OPENSSL_3.0.9")])
    (warning,) = rules(patch, "LS304")
    assert (
        warning.severity is Severity.WARNING and "possibly up to OPENSSL_3.0.x" in warning.message
    )
    minor = run(("libssl.so.3",), "nodejs20.x", requirements=[req("libssl.so.3", "OPENSSL_3.1.0")])
    assert [f.severity for f in rules(minor, "LS304")] == [Severity.ERROR]


def test_glibcxx_above_the_listing_says_since_when() -> None:
    need = [req("libstdc++.so.6", "GLIBCXX_3.4.34", "_ZSt_gcc15")]
    report = run(("libstdc++.so.6",), "provided.al2023", "arm64", requirements=need)
    (finding,) = rules(report, "LS302")
    assert finding.severity is Severity.ERROR
    assert "goes up to GLIBCXX_3.4.33 (listing of 2025-08-15" in finding.message
    assert "since 2025-08-15, up to GLIBCXX_3.4.29 before" in finding.message


# ------------------------------------------------------------------ the host's own programs


def _host(pattern: str) -> str:
    found = sorted(glob.glob(pattern))
    if not found:
        pytest.skip(
            f"{pattern} is not installed on this machine (Debian: openssl, postgresql-client)"
        )
    return found[0]


def test_debian_openssl_starts_on_al2023() -> None:
    """Debian 12's openssl needs OPENSSL_3.0.9: AL2023's OpenSSL 3.5 has it (no false error)."""
    path = _host("/usr/bin/openssl")
    for arch in ("x86_64",):
        report = api.check([path], "provided.al2023", arch, today=TODAY)
        assert not [f for f in report.findings if f.severity is Severity.ERROR], report.findings
        assert report.verdict == "compatible"
    (missing,) = rules(api.check([path], "provided.al2", today=TODAY), "LS401")[:1]
    assert missing.library in ("libssl.so.3", "libcrypto.so.3")


def test_debian_psql_needs_libpq_which_al2023_lacks() -> None:
    path = _host("/usr/lib/postgresql/*/bin/psql")
    report = api.check([path], "provided.al2023", today=TODAY)
    assert "libpq.so.5" in {f.library for f in rules(report, "LS401")}
    assert report.verdict == "incompatible"


# ------------------------------------------------------------------ runtimes --libraries


def test_runtimes_libraries_lists_what_the_runtime_has(capsys: pytest.CaptureFixture[str]) -> None:
    main = cli_main()
    assert main(["runtimes", "provided.al2023", "--libraries"]) == 0
    text = capsys.readouterr().out
    line = next(ln for ln in text.splitlines() if ln.startswith("libstdc++.so.6"))
    assert "GLIBCXX <= 3.4.33" in line and "2025-08-15" in line and "3.4.29" in line
    assert "known absent" in text and "libpq.so.5" in text
    assert main(["runtimes", "nodejs22.x", "--libraries", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    rows = document["architectures"]["arm64"]["libraries"]
    lang = [r for r in rows if r["directory"] == "/var/lang/lib" and r["soname"] == "libssl.so.3"]
    assert lang and lang[0]["versions"] == {"OPENSSL": "3.3.0"} and lang[0]["source"]
    assert document["architectures"]["arm64"]["search_order"][0] == "/var/lang/lib"
    assert main(["runtimes", "--libraries"]) == 2


# ------------------------------------------------------------------ profile --sysroot


def test_profile_from_a_sysroot_has_the_same_shape(tmp_path: Path) -> None:
    libc = _host("/lib/x86_64-linux-gnu/libc.so.6")
    root = tmp_path / "root"
    lib64 = root / "lib64"
    lib64.mkdir(parents=True)
    shutil.copy(libc, lib64 / "libc.so.6")
    zstd = glob.glob("/lib/x86_64-linux-gnu/libzstd.so.1.*") + glob.glob(
        "/usr/lib/x86_64-linux-gnu/libzstd.so.1.*"
    )
    if zstd:  # an unversioned library (no .gnu.version_d), behind a soname link
        shutil.copy(zstd[0], lib64 / os.path.basename(zstd[0]))
        (lib64 / "libzstd.so.1").symlink_to(os.path.basename(zstd[0]))
    document = profile_document(str(root), "host", ("x86_64",))
    per_arch = document["architectures"]["x86_64"]
    assert per_arch["libraries_complete"]["value"] is True
    profile = os_from_dict(document, "x86_64")
    libc_info = profile.library("libc.so.6")
    assert libc_info is not None and libc_info.defines("GLIBC_2.17")
    if zstd:
        entry = next(e for e in per_arch["libraries"] if e["soname"] == "libzstd.so.1")
        assert entry["unversioned"] is True and entry["file"] == os.path.basename(zstd[0])
        info = profile.library("libzstd.so.1")
        assert info is not None and info.defines("ZSTD_ANYTHING_1.0") is True
    errors = list(_schema().iter_errors(document))
    assert not errors, [e.message for e in errors]


def _schema() -> jsonschema.Draft202012Validator:
    text = resources.files("linkscope.profiles").joinpath("profile-schema.json").read_text()
    return jsonschema.Draft202012Validator(json.loads(text))


def test_missing_needs_of_a_shadowed_bundled_copy_are_warnings() -> None:
    """A bundled lib/libcurl.so.4 (Debian's, needing libssh2 and librtmp) that the runtime's own
    /lib64/libcurl.so.4 shadows is never loaded: its missing libraries cannot stop the function."""
    bootstrap = elf("bootstrap", needed=("libcurl.so.4", "libc.so.6"))
    bundled = library("lib/libcurl.so.4", needed=("libssh2.so.1", "librtmp.so.1", "libc.so.6"))
    target = load_target("provided.al2023", "x86_64")
    report = api.check_scanned([package(bootstrap, bundled)], [], target, Context(today=TODAY))
    missing = rules(report, "LS401")
    assert {f.library for f in missing} == {"libssh2.so.1", "librtmp.so.1"}
    assert {f.severity for f in missing} == {Severity.WARNING}
    assert "/lib64/libcurl.so.4 first" in missing[0].message
    assert report.verdict == "compatible"
    own = library("lib/libfoo.so.1", needed=("librtmp.so.1", "libc.so.6"))
    report = api.check_scanned([package(bootstrap, own)], [], target, Context(today=TODAY))
    assert {f.severity for f in rules(report, "LS401")} == {Severity.ERROR}  # not a duplicate
