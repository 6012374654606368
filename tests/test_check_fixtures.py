"""Every committed fixture checked against provided.al2, provided.al2023 and provided, on each
architecture the runtime has. The expected rule IDs are computed from fixtures/manifest.json and
the profile data (lambda-facts numbers), never from linkscope's own output."""

from __future__ import annotations

import posixpath
import shutil
from pathlib import Path
from typing import Any

import pytest
from check_helpers import BIN, PACKAGE_RULES, TODAY, fixture, manifest

from linkscope import api
from linkscope.errors import InputError
from linkscope.model import Severity, version_key
from linkscope.profiles import load_target
from linkscope.profiles.model import Target

RUNTIMES = ("provided.al2", "provided.al2023", "provided")
ERRORS = {
    "LS001",
    "LS101",
    "LS102",
    "LS201",
    "LS202",
    "LS301",
    "LS302",
    "LS303",
    "LS304",
    "LS401",
    "LS503",
}
LAMBDA_PATHS = ("$ORIGIN", "${ORIGIN}", "/var/task", "/opt", "/var/lang", "/var/runtime")


def _is_elf(entry: dict[str, Any]) -> bool:
    return bool((BIN / entry["name"]).read_bytes()[:4] == b"\x7fELF")


def _readable(entry: dict[str, Any]) -> bool:
    return entry.get("machine") is not None  # the manifest has no machine for corrupt files


def _newer(needed: str | None, have: str | None) -> bool:
    return needed is not None and have is not None and version_key(needed) > version_key(have)


def _library_rules(entry: dict[str, Any], target: Target) -> set[str]:
    rules: set[str] = set()
    interpreter = entry.get("interpreter")
    for name in entry["needed"]:
        if interpreter and name == posixpath.basename(interpreter):
            continue  # the loader answers to its own name
        if target.os.library(name) is not None:
            continue
        if name in target.os.absent or target.os.libraries_complete:
            rules.add("LS401")
        else:
            rules.add("LS402")
    return rules


def _version_rules(entry: dict[str, Any], target: Target) -> set[str]:
    rules = set()
    if _newer(entry.get("max_glibc"), target.os.glibc):
        rules.add("LS301")
    # ld's -z pack-relative-relocs asks for GLIBC_ABI_DT_RELR, which glibc has since 2.36 (NEWS)
    if "GLIBC_ABI_DT_RELR" in entry.get("glibc_named", ()) and _newer("2.36", target.os.glibc):
        rules.add("LS301")
    libstdcxx = target.os.library("libstdc++.so.6")
    if (
        "libstdc++.so.6" in entry["needed"]
        and libstdcxx is not None
        and _newer(entry.get("max_glibcxx"), libstdcxx.ceiling("GLIBCXX"))
    ):
        rules.add("LS302")
    return rules


def lone_script_rules(entry: dict[str, Any], runtime: str, arch: str) -> set[str]:
    """A script checked alone on an OS-only runtime is what Lambda starts: CRLF, or an
    interpreter that lambda-facts.md 5.3 says is absent from provided.al2 and provided.al2023
    (python, perl, node), is LS004 (AL1 had python and perl: not known either way there)."""
    shebang = entry.get("shebang")
    if shebang is None or not load_target(runtime, arch).runtime.os_only:
        return set()
    first_line = Path(fixture(entry["name"])).read_bytes().split(b"\n", 1)[0]
    absent = runtime != "provided" and any(n in shebang for n in ("python", "perl", "node"))
    return {"LS004"} if first_line.endswith(b"\r") or absent else set()


def expected_rules(entry: dict[str, Any], runtime: str, arch: str) -> set[str]:
    target = load_target(runtime, arch)
    rules: set[str] = set()
    deprecation = target.runtime.deprecation
    if deprecation is not None and deprecation <= TODAY:
        rules.add("LS501")
    for entry_path in filter(None, [entry.get("runpath")]):
        if not entry_path.startswith(LAMBDA_PATHS):
            rules.add("LS404")
    if not _readable(entry):
        return rules  # a script: nothing for the ELF rules
    if entry["machine"] != target.os.machine:
        return rules | {"LS101"}
    if entry.get("isa_needed") == "x86-64-v4":
        rules.add("LS102")
    if entry["linkage"] != "dynamic":
        return rules
    interpreter = entry.get("interpreter")
    if entry["libc"] == "musl":
        return rules | {"LS202"}
    if interpreter and interpreter != target.os.loader:
        rules.add("LS201")
    return rules | _library_rules(entry, target) | _version_rules(entry, target)


def _cases() -> list[Any]:
    cases = []
    for entry in manifest():
        if _is_elf(entry) and not _readable(entry):
            continue  # corrupt ELF: see the LS001 tests below
        if not _is_elf(entry) and not entry["name"].endswith(".sh"):
            continue  # corrupt non-ELF
        for runtime in RUNTIMES:
            for arch in load_target(runtime).runtime.architectures:
                cases.append(
                    pytest.param(entry, runtime, arch, id=f"{entry['name']}-{runtime}-{arch}")
                )
    return cases


@pytest.mark.parametrize(("entry", "runtime", "arch"), _cases())
def test_fixture(entry: dict[str, Any], runtime: str, arch: str) -> None:
    report = api.check([fixture(entry["name"])], runtime, arch, today=TODAY)
    got = {f.rule for f in report.findings if f.severity is not Severity.INFO} - PACKAGE_RULES
    want = expected_rules(entry, runtime, arch)
    assert got == want, "\n".join(
        f"{f.rule} {f.severity.value}: {f.message}" for f in report.findings
    )
    start = lone_script_rules(entry, runtime, arch)
    errors = {f.rule for f in report.findings if f.severity is Severity.ERROR}
    assert errors & {"LS004"} == start
    incompatible = bool(want & ERRORS) or bool(start)
    assert report.verdict == ("incompatible" if incompatible else "compatible")
    assert {f.path for f in report.findings if f.rule != "LS501"} <= {fixture(entry["name"])}


def test_every_fixture_is_covered() -> None:
    covered = {case.values[0]["name"] for case in _cases()}
    corrupt = {e["name"] for e in manifest() if e["name"].startswith("corrupt_")}
    # Mach-O and PE fixtures are not ELF: the ecosystem tests judge them inside packages
    other_os = {e["name"] for e in manifest() if e.get("format") in ("mach-o", "pe")}
    assert covered | corrupt | other_os == {e["name"] for e in manifest()}
    # every manifest machine that is a Lambda one is checked on a matching runtime at least once
    assert len(_cases()) == 5 * len(covered)


def test_expectations_are_not_trivial() -> None:
    """The derivation above must produce each rule it knows about somewhere."""
    seen = set()
    for case in _cases():
        seen |= expected_rules(*case.values)
    assert {
        "LS101",
        "LS102",
        "LS201",
        "LS202",
        "LS301",
        "LS302",
        "LS401",
        "LS402",
        "LS404",
        "LS501",
    } <= seen


CORRUPT = sorted(e["name"] for e in manifest() if e["name"].startswith("corrupt_"))


@pytest.mark.parametrize("name", CORRUPT)
def test_corrupt_file_named_on_the_command_line_is_an_input_error(name: str) -> None:
    with pytest.raises(InputError, match=name):
        api.check([fixture(name)], "provided.al2023", today=TODAY)


def test_corrupt_files_inside_a_folder_are_ls001(tmp_path: Path) -> None:
    for name in (*CORRUPT, "c_hello_zig_glibc2.17_x86_64"):
        shutil.copy(BIN / name, tmp_path / name)
    report = api.check([str(tmp_path)], "provided.al2023", today=TODAY)
    want = {str(tmp_path / e["name"]) for e in manifest() if e["name"] in CORRUPT and _is_elf(e)}
    assert {f.path for f in report.findings if f.rule == "LS001"} == want
    assert {f.rule for f in report.findings} - PACKAGE_RULES == {"LS001"}
    assert report.verdict == "incompatible"
