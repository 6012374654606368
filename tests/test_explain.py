"""`linkscope explain`: the answers are checked against the fixture manifest (what the recipe
built), and the wording is pinned by golden files in tests/golden/explain/ that were read and
checked by hand. Regenerate them with LINKSCOPE_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, manifest

from linkscope.errors import UsageError
from linkscope.explain import Explanation, explain, render_explanation
from linkscope.model import version_key
from linkscope.profiles import load_target

TODAY = datetime.date(2026, 11, 29)
GOLDEN = Path(__file__).parent / "golden" / "explain"
UPDATE = os.environ.get("LINKSCOPE_UPDATE_GOLDEN") == "1"
RUNTIMES = ("provided.al2023", "provided.al2", "provided")

CASES = {  # fixture -> what the C library answer must say
    "c_hello_zig_musl_static_x86_64": "musl is linked statically, inside the executable",
    "c_hello_zig_musl_dynamic_x86_64": "musl is linked dynamically, not inside the binary",
    "c_hello_gcc_pie_x86_64": "loaded at start from /lib64/libc.so.6 by the dynamic loader",
    "c_hello_zig_glibc2.17_x86_64": "loaded at start from /lib64/libc.so.6 by the dynamic loader",
    "c_hello_gcc_staticpie_x86_64": "glibc is linked statically, inside the executable",
    "c_hello_zig_musl_staticpie_x86_64": "musl is linked statically, inside the executable",
    "go_hello_static_x86_64": "There is no C library at all",
    "go_hello_pie_x86_64": "There is no C library at all",
    "go_bootstrap_x86_64": "There is no C library at all",
    "rust_hello_cargo_x86_64": "loaded at start from /lib64/libc.so.6 by the dynamic loader",
    "rust_hello_zigbuild_glibc2.17_x86_64": "loaded at start from /lib64/libc.so.6",
    "cxx_condvar_gxx_x86_64": "loaded at start from /lib64/libc.so.6",
    "cxx_hello_zigcxx_glibc2.17_x86_64": "loaded at start from /lib64/libc.so.6",
}
JSON_GOLDEN = ("c_hello_zig_musl_static_x86_64", "rust_hello_cargo_x86_64", "go_bootstrap_x86_64")
MARKDOWN_GOLDEN = ("cxx_condvar_gxx_x86_64",)


@pytest.fixture(autouse=True)
def _in_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # paths in the output are relative, as a user would type them


def run(name: str, arch: str = "x86_64") -> Explanation:
    return explain(f"fixtures/bin/{name}", "provided.al2023", arch, today=TODAY)


def entry(name: str) -> dict[str, Any]:
    return next(e for e in manifest() if e["name"] == name)


def compare(path: Path, actual: str) -> None:
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual)
    assert path.exists(), f"{path} missing: run with LINKSCOPE_UPDATE_GOLDEN=1 and review it"
    assert actual == path.read_text()


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_text(name: str) -> None:
    compare(GOLDEN / f"{name}.txt", render_explanation(run(name), "table"))


@pytest.mark.parametrize("name", JSON_GOLDEN)
def test_golden_json(name: str) -> None:
    rendered = render_explanation(run(name), "json")
    compare(GOLDEN / f"{name}.json", rendered)
    data = json.loads(rendered)
    assert data["runtime"] == {"name": "provided.al2023", "arch": "x86_64"}
    assert [r["runtime"] for r in data["binaries"][0]["runtimes"]] == list(RUNTIMES)


@pytest.mark.parametrize("name", MARKDOWN_GOLDEN)
def test_golden_markdown(name: str) -> None:
    compare(GOLDEN / f"{name}.md", render_explanation(run(name), "markdown"))


def test_golden_arm64_binary_on_arm64() -> None:
    expl = run("c_hello_zig_musl_static_aarch64", arch="arm64")
    compare(GOLDEN / "c_hello_zig_musl_static_aarch64.arm64.txt", render_explanation(expl, "table"))
    lines = {r.runtime: r for r in expl.binaries[0].runtimes}
    assert lines["provided"].starts is None  # AL1 has no arm64
    assert lines["provided.al2023"].starts is True


@pytest.mark.parametrize("name", sorted(CASES))
def test_c_library_answer(name: str) -> None:
    statement = run(name).binaries[0].statement("c-library")
    assert statement is not None and CASES[name] in statement.text
    assert statement.because  # every answer names the facts it rests on
    if entry(name)["libc"] == "glibc" and entry(name)["linkage"] == "dynamic":
        if entry(name)["needed"]:
            assert f"at least {entry(name)['max_glibc']}" in statement.text
        else:  # a Go PIE: glibc's loader starts it, but it loads no libc.so.6
            assert "There is no C library at all" in statement.text


def expected_start(e: dict[str, Any], runtime: str) -> bool:
    """From the recipe's own record: what the binary needs versus the runtime's data."""
    os_profile = load_target(runtime, "x86_64").os
    if e["libc"] == "musl" and e["linkage"] == "dynamic":
        return False
    if e["max_glibc"] and version_key(e["max_glibc"]) > version_key(os_profile.glibc):
        return False
    libstdcxx = next((lib for lib in os_profile.libraries if lib.soname == "libstdc++.so.6"), None)
    ceiling = libstdcxx.ceiling("GLIBCXX") if libstdcxx else None
    return not (
        e["max_glibcxx"] and ceiling and version_key(e["max_glibcxx"]) > version_key(ceiling)
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_runtime_verdicts_follow_the_recipe(name: str) -> None:
    lines = {r.runtime: r for r in run(name).binaries[0].runtimes}
    assert tuple(lines) == RUNTIMES
    for runtime in RUNTIMES:
        assert lines[runtime].starts is expected_start(entry(name), runtime), runtime


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_failure_has_a_fix(name: str) -> None:
    binary = run(name).binaries[0]
    failing = {r.runtime for r in binary.runtimes if r.starts is False}
    fixed = {
        rt
        for p in binary.problems
        if p.severity == "error" and p.fix
        for rt in p.runtime.split(", ")
    }
    assert failing <= fixed


def test_answers_differ_between_fixtures() -> None:
    texts = {}
    for name in CASES:
        body = render_explanation(run(name), "table").replace(f"fixtures/bin/{name}", "BINARY")
        texts[body] = name
    assert len(texts) == len(CASES)


def test_fixes_speak_the_toolchain() -> None:
    def fixes(name: str) -> str:
        return " ".join(p.fix for p in run(name).binaries[0].problems)

    assert "cargo lambda build" in fixes("rust_hello_cargo_x86_64")
    assert "x86_64-unknown-linux-gnu.2.26" in fixes("rust_hello_cargo_x86_64")
    assert "-static-libstdc++" in fixes("cxx_condvar_gxx_x86_64")
    assert "zig c++ -target x86_64-linux-gnu.2.26" in fixes("cxx_condvar_gxx_x86_64")
    assert "musl" in fixes("c_hello_zig_musl_dynamic_x86_64")
    assert fixes("go_hello_static_x86_64") == ""


def test_toolchain_in_json() -> None:
    data = json.loads(render_explanation(run("go_bootstrap_x86_64"), "json"))
    binary = data["binaries"][0]
    assert binary["toolchain"]["go"]["version"] == "go1.19.8"
    assert binary["toolchain"]["go"]["settings"]["CGO_ENABLED"] == "0"
    assert binary["runtime_client"]["name"] == "custom"


def test_sarif_is_refused() -> None:
    with pytest.raises(UsageError, match="SARIF"):
        render_explanation(run("go_hello_static_x86_64"), "sarif")


def test_cli_explain() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "linkscope",
            "explain",
            "fixtures/bin/c_hello_zig_musl_static_x86_64",
            "--today",
            "2026-11-29",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == (GOLDEN / "c_hello_zig_musl_static_x86_64.txt").read_text()
