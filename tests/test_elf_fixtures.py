"""Every committed fixture's facts, as the recipe that built it knows them (fixtures/manifest.json),
plus targeted facts that follow from the sources and the build commands.

Expected values come from the manifest, from GNU readelf's notes (`readelf -n`) or from reasoning
about the recipe; never from linkscope's own output.
"""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import BIN, manifest
from readelf_oracle import READELF

from linkscope.api import inspect

with warnings.catch_warnings():
    # typer 0.24 imports click.utils.get_binary_stream, which click 8.5 deprecates at import time
    # (pyproject turns warnings into errors). Not linkscope's warning; silenced for this import.
    warnings.filterwarnings("ignore", message=r".*Click 9\.0", category=DeprecationWarning)
    from linkscope.cli import main
from linkscope.elf import facts_from_bytes, facts_from_file
from linkscope.errors import CorruptElfError, ExitCode, InputError, NotElfError
from linkscope.model import BinaryFacts, VersionRequirement

ENTRIES = manifest()
ELVES = [e for e in ENTRIES if e["machine"] is not None]
CORRUPT = [e for e in ENTRIES if e["name"].startswith("corrupt_")]
SCRIPTS = [e for e in ENTRIES if e.get("shebang")]
BY_NAME = {e["name"]: e for e in ENTRIES}

# Fields where linkscope and the manifest knowingly disagree (strict: the day either side changes,
# the test says so and this table must be revisited).
DISAGREEMENTS: dict[tuple[str, str], str] = {
    # libdemo.so.1 used to be here: built by gcc, but `--as-needed` dropped libc.so.6, so nothing
    # in the file names any C library; the manifest now says "none", as linkscope does.
}

_facts_cache: dict[str, BinaryFacts] = {}


def facts(name: str) -> BinaryFacts:
    if name not in _facts_cache:
        _facts_cache[name] = facts_from_file(str(BIN / name))
    return _facts_cache[name]


def _value(b: BinaryFacts, field: str) -> Any:
    getters: dict[str, Callable[[], Any]] = {
        "machine": lambda: b.machine,
        "linkage": lambda: b.linkage.value,
        "interpreter": lambda: b.interpreter,
        "libc": lambda: b.libc.family.value,
        "needed": lambda: list(b.needed),
        "max_glibc": lambda: b.required_versions.get("GLIBC"),
        "max_glibcxx": lambda: b.required_versions.get("GLIBCXX"),
    }
    return getters[field]()


FIELDS = ("machine", "linkage", "interpreter", "libc", "needed", "max_glibc", "max_glibcxx")


def _field_cases() -> list[Any]:
    cases = []
    for entry in ELVES:
        for field in FIELDS:
            marks = []
            reason = DISAGREEMENTS.get((entry["name"], field))
            if reason is not None:
                marks.append(pytest.mark.xfail(reason=reason, strict=True))
            cases.append(
                pytest.param(entry["name"], field, marks=marks, id=f"{entry['name']}-{field}")
            )
    return cases


def test_manifest_covers_every_committed_file() -> None:
    on_disk = sorted(str(p.relative_to(BIN)) for p in BIN.rglob("*") if p.is_file())
    assert on_disk == sorted(BY_NAME), "fixtures/bin and manifest.json list different files"
    assert len(ELVES) >= 40
    assert len(CORRUPT) >= 6


@pytest.mark.parametrize(("name", "field"), _field_cases())
def test_fact_matches_manifest(name: str, field: str) -> None:
    assert _value(facts(name), field) == BY_NAME[name][field]


@pytest.mark.parametrize("name", [e["name"] for e in ELVES])
def test_inspect_api_agrees_with_the_reader(name: str) -> None:
    """`linkscope.api.inspect` on the path gives the same facts as the reader (the path kept)."""
    path = str(BIN / name)
    report = inspect([path])
    assert [b.path for b in report.binaries] == [path]
    assert report.findings == ()
    assert report.binaries[0] == facts(name)


@pytest.mark.parametrize("name", [e["name"] for e in ELVES])
def test_manifest_extras(name: str) -> None:
    """The optional manifest keys: soname, runpath, isa_needed."""
    entry, got = BY_NAME[name], facts(name)
    assert got.soname == entry.get("soname")
    assert list(got.runpath) == ([entry["runpath"]] if "runpath" in entry else [])
    assert got.rpath == ()
    if "isa_needed" in entry:
        level = re.fullmatch(r"x86-64-v(\d)", entry["isa_needed"])
        assert level is not None
        assert got.toolchain.x86_isa_needed == int(level.group(1))


# --- ELF type, from the build commands -------------------------------------------------------


def expected_elf_type(entry: dict[str, Any]) -> str:
    """What the recipe's command produces (Debian's gcc and rustc default to PIE; zig and Go
    produce ET_EXEC unless asked for PIE; `-static` without `-pie` is ET_EXEC)."""
    command, toolchain = entry["command"], entry["toolchain"]
    if " -shared " in command:
        return "shared-library"
    if "-no-pie" in command:
        return "executable"
    if "-pie" in command or "-buildmode=pie" in command:
        return "pie-executable"
    if " -static " in command:
        return "executable"
    if toolchain in ("gcc", "g++", "musl-gcc", "rustc", "cargo-zigbuild"):
        return "pie-executable"
    assert toolchain in ("zig", "zig-c++", "go"), toolchain
    return "executable"


@pytest.mark.parametrize("name", [e["name"] for e in ELVES])
def test_elf_type_follows_from_the_command(name: str) -> None:
    entry = BY_NAME[name]
    expected = expected_elf_type(entry)
    assert facts(name).elf_type.value == expected
    if entry.get("elf_type") == "DYN":
        assert expected in ("pie-executable", "shared-library")


def test_elf_type_spread() -> None:
    """The three kinds the brief names are all present, and told apart."""
    assert facts("c_hello_gcc_pie_x86_64").elf_type.value == "pie-executable"
    assert facts("c_hello_gcc_nopie_x86_64").elf_type.value == "executable"
    assert facts("lib/libdemo.so.1").elf_type.value == "shared-library"
    assert facts("c_hello_gcc_staticpie_x86_64").elf_type.value == "pie-executable"
    assert facts("c_hello_gcc_static_x86_64").elf_type.value == "executable"


# --- corrupt and non-ELF files ---------------------------------------------------------------


CORRUPT_EXPECTED = {
    # Not even the magic: "not an ELF file".
    "corrupt_empty": NotElfError,
    "corrupt_bad_magic": NotElfError,
    # ELF magic, damaged structure.
    "corrupt_trunc_ehdr": CorruptElfError,
    "corrupt_trunc_phdrs": CorruptElfError,
    "corrupt_phoff_past_eof": CorruptElfError,
    "corrupt_dynstr_offset": CorruptElfError,
}


def test_every_corrupt_fixture_has_an_expectation() -> None:
    assert sorted(CORRUPT_EXPECTED) == sorted(e["name"] for e in CORRUPT)


@pytest.mark.parametrize("name", sorted(CORRUPT_EXPECTED))
def test_corrupt_fixture_raises(name: str) -> None:
    with pytest.raises(CORRUPT_EXPECTED[name]) as caught:
        facts_from_file(str(BIN / name))
    assert str(BIN / name) in str(caught.value)
    with pytest.raises(CORRUPT_EXPECTED[name]):
        facts_from_bytes((BIN / name).read_bytes(), name)


@pytest.mark.parametrize("name", sorted(CORRUPT_EXPECTED))
def test_corrupt_fixture_exit_2(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(BIN / name)]) == ExitCode.USAGE_OR_INPUT_ERROR
    captured = capsys.readouterr()
    assert captured.out == ""
    assert name in captured.err
    assert "Traceback" not in captured.err


@pytest.mark.parametrize("name", [e["name"] for e in SCRIPTS])
def test_script_is_not_elf(name: str) -> None:
    with pytest.raises(NotElfError):
        facts_from_file(str(BIN / name))
    with pytest.raises(InputError):
        inspect([str(BIN / name)])


# --- the symbols behind the versions ---------------------------------------------------------


def requirement(b: BinaryFacts, version: str) -> VersionRequirement:
    matches = [r for r in b.version_requirements if r.version == version]
    assert len(matches) == 1, f"{version}: {b.version_requirements}"
    return matches[0]


@pytest.mark.parametrize(
    ("name", "version", "symbol"),
    [
        pytest.param("c_strlcpy_zig_glibc2.38_x86_64", "GLIBC_2.38", "strlcpy", id="strlcpy"),
        pytest.param("c_memfd_zig_glibc2.27_x86_64", "GLIBC_2.27", "memfd_create", id="memfd"),
        pytest.param(
            "c_reallocarray_zig_glibc2.26_x86_64", "GLIBC_2.26", "reallocarray", id="reallocarray"
        ),
        pytest.param("c_getrandom_zig_glibc2.25_x86_64", "GLIBC_2.25", "getrandom", id="getrandom"),
        pytest.param(
            "c_arc4random_zig_glibc2.36_x86_64", "GLIBC_2.36", "arc4random", id="arc4random-x86_64"
        ),
        pytest.param(
            "c_arc4random_zig_glibc2.36_aarch64",
            "GLIBC_2.36",
            "arc4random",
            id="arc4random-aarch64",
        ),
        pytest.param(
            "c_hello_gcc_pie_x86_64", "GLIBC_2.34", "__libc_start_main", id="gcc-libc-start-main"
        ),
        pytest.param(
            "c_hello_zig_glibc2.34_x86_64",
            "GLIBC_2.34",
            "__libc_start_main",
            id="zig-libc-start-main",
        ),
    ],
)
def test_symbol_forces_the_highest_glibc(name: str, version: str, symbol: str) -> None:
    """The source calls one new function: it alone needs the highest version."""
    got = facts(name)
    req = requirement(got, version)
    assert req.library == "libc.so.6"
    assert req.symbols == (symbol,)
    assert got.required_versions["GLIBC"] == version.removeprefix("GLIBC_")


@pytest.mark.parametrize("name", ["cxx_condvar_gxx_x86_64", "cxx_condvar_gxx_aarch64"])
def test_condvar_needs_glibcxx_3_4_30_for_condition_variable_wait(name: str) -> None:
    req = requirement(facts(name), "GLIBCXX_3.4.30")
    assert req.library == "libstdc++.so.6"
    assert req.symbols, "the symbols behind GLIBCXX_3.4.30 are missing"
    assert all("condition_variable" in s for s in req.symbols), req.symbols
    # std::condition_variable::wait(std::unique_lock<std::mutex>&)
    assert "_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE" in req.symbols


def test_tochars_needs_glibcxx_3_4_29_for_to_chars() -> None:
    req = requirement(facts("cxx_tochars_gxx_x86_64"), "GLIBCXX_3.4.29")
    assert req.symbols and all("to_chars" in s for s in req.symbols), req.symbols


def test_symbols_are_found_in_stripped_binaries() -> None:
    """Every fixture is built with -s (no .symtab): the symbols come from .dynsym."""
    for entry in ELVES:
        got = facts(entry["name"])
        for req in got.version_requirements:
            marker = req.version.startswith("GLIBC_ABI_")  # DT_RELR's: no symbol binds to it
            if req.library in ("libc.so.6", "libstdc++.so.6") and not req.weak and not marker:
                assert req.symbols, f"{entry['name']}: {req.version} without symbols"


# --- shared library and its user -------------------------------------------------------------


def test_libdemo_defines_its_versions() -> None:
    lib = facts("lib/libdemo.so.1")
    assert lib.soname == "libdemo.so.1"
    assert lib.version_definitions == ("LIBDEMO_1.0", "LIBDEMO_2.0")  # src/libdemo.map
    assert lib.needed == ()
    assert lib.interpreter is None
    assert lib.linkage.value == "dynamic"  # a shared library is never static-pie
    assert lib.elf_type.value == "shared-library"


def test_uselib_needs_libdemo_versions_through_origin_runpath() -> None:
    user = facts("c_uselib_gcc_x86_64")
    assert user.runpath == ("$ORIGIN/lib",)
    assert user.rpath == ()  # --enable-new-dtags writes RUNPATH, not RPATH
    assert user.needed == ("libdemo.so.1", "libc.so.6")
    demo = {r.version: r for r in user.version_requirements if r.library == "libdemo.so.1"}
    assert sorted(demo) == ["LIBDEMO_1.0", "LIBDEMO_2.0"]
    assert demo["LIBDEMO_1.0"].symbols == ("demo_add",)
    assert demo["LIBDEMO_2.0"].symbols == ("demo_mul",)
    assert user.required_versions["LIBDEMO"] == "2.0"


# --- notes: ISA level and minimum kernel -----------------------------------------------------


def test_x86_64_v4_fixture_needs_isa_level_4() -> None:
    assert facts("c_hello_gcc_x86-64-v4_x86_64").toolchain.x86_isa_needed == 4
    assert facts("c_hello_gcc_pie_x86_64").toolchain.x86_isa_needed == 1  # baseline only


def _readelf_notes(path: Path) -> str:
    return subprocess.run(
        [READELF or "readelf", "-nW", str(path)], capture_output=True, text=True, check=False
    ).stdout


@pytest.mark.skipif(READELF is None, reason="GNU readelf is not installed")
@pytest.mark.parametrize("name", [e["name"] for e in ELVES])
def test_notes_match_readelf(name: str) -> None:
    """min_kernel from .note.ABI-tag and the x86 ISA level from .note.gnu.property."""
    notes = _readelf_notes(BIN / name)
    abi = re.search(r"OS: Linux, ABI: (\d+\.\d+\.\d+)", notes)
    got = facts(name)
    assert got.toolchain.min_kernel == (abi.group(1) if abi else None)
    isa = re.search(r"x86 ISA needed: ([^\n]*)", notes)
    levels = [int(v) for v in re.findall(r"x86-64-v(\d)", isa.group(1))] if isa else []
    expected = (max(levels) if levels else 1) if isa else None
    assert got.toolchain.x86_isa_needed == expected


@pytest.mark.parametrize(
    "name",
    [
        e["name"]
        for e in ELVES
        if e["toolchain"] in ("gcc", "g++")
        and e["libc"] == "glibc"
        and " -shared " not in e["command"]
    ],
)
def test_gcc_glibc_binaries_carry_the_kernel_floor(name: str) -> None:
    """Debian 12's glibc is configured --enable-kernel=3.2 (x86_64); aarch64's floor is 3.7."""
    expected = "3.7.0" if BY_NAME[name]["machine"] == "aarch64" else "3.2.0"
    assert facts(name).toolchain.min_kernel == expected


# --- libc detection in static binaries -------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "family"),
    [
        pytest.param("c_hello_gcc_static_x86_64", "glibc", id="glibc-static"),
        pytest.param("c_hello_gcc_staticpie_x86_64", "glibc", id="glibc-static-pie"),
        pytest.param("c_hello_muslgcc_static_x86_64", "musl", id="musl-gcc-static"),
        pytest.param("c_hello_zig_musl_static_x86_64", "musl", id="zig-musl-static"),
        pytest.param("c_hello_zig_musl_staticpie_aarch64", "musl", id="zig-musl-static-pie"),
        pytest.param("c_bootstrap_zig_musl_static_x86_64", "musl", id="zig-musl-bootstrap"),
    ],
)
def test_static_libc_is_told_apart(name: str, family: str) -> None:
    got = facts(name)
    assert got.linkage.value in ("static", "static-pie")
    assert got.interpreter is None and got.needed == ()
    assert got.libc.family.value == family
    assert got.libc.evidence, "a static verdict must say what it rests on"


def test_static_glibc_is_certain() -> None:
    """glibc static carries .note.ABI-tag and GLIBC_TUNABLES: no guessing needed."""
    info = facts("c_hello_gcc_static_x86_64").libc
    assert info.confidence.value == "certain"


@pytest.mark.parametrize("name", ["go_hello_static_x86_64", "go_bootstrap_x86_64"])
def test_go_without_cgo_links_no_libc(name: str) -> None:
    got = facts(name)
    assert got.libc.family.value == "none"
    assert got.libc.confidence.value == "certain"
    assert got.toolchain.language == "go"
    assert got.version_requirements == ()


def test_go_pie_needs_only_glibcs_loader() -> None:
    # No DT_NEEDED and no versions, but PT_INTERP is glibc's loader: it cannot start on a musl
    # system, so what it needs from the system is glibc (likely), and the evidence says why.
    got = facts("go_hello_pie_x86_64")
    assert got.needed == () and got.version_requirements == ()
    assert got.interpreter == "/lib64/ld-linux-x86-64.so.2"
    assert (got.libc.family.value, got.libc.confidence.value) == ("glibc", "likely")
    assert any("only glibc's loader" in e for e in got.libc.evidence)


def test_go_with_cgo_is_glibc() -> None:
    got = facts("go_cgo_x86_64")
    assert got.libc.family.value == "glibc"
    assert got.toolchain.language == "go"


def test_go_pie_keeps_its_interpreter_without_needed() -> None:
    got = facts("go_hello_pie_x86_64")
    assert got.interpreter == "/lib64/ld-linux-x86-64.so.2"
    assert got.needed == ()
    assert got.linkage.value == "dynamic"


# --- the rest of the header -----------------------------------------------------------------


@pytest.mark.parametrize("name", [e["name"] for e in ELVES])
def test_class_and_byte_order_follow_from_the_machine(name: str) -> None:
    machine = BY_NAME[name]["machine"]
    got = facts(name)
    assert got.elf_class == (32 if machine in ("i386", "arm") else 64)
    assert got.endianness == "little"  # every fixture target is little-endian


def test_arm_hard_float() -> None:
    assert facts("c_hello_zig_glibc2.17_arm").arm_float_abi == "hard"  # arm-linux-gnueabihf
    assert facts("c_hello_zig_glibc2.17_x86_64").arm_float_abi is None


def test_static_pie_flags() -> None:
    """DESIGN section 4: static-pie is ET_DYN with PT_DYNAMIC, no interpreter, FLAGS_1 PIE."""
    for name in ("c_hello_gcc_staticpie_x86_64", "c_hello_zig_musl_staticpie_x86_64"):
        assert "PIE" in facts(name).flags_1, name
    assert "PIE" not in facts("lib/libdemo.so.1").flags_1


def test_sizes_and_modes_match_the_manifest() -> None:
    for entry in ELVES:
        got = facts(entry["name"])
        assert got.size == entry["size"], entry["name"]
        assert got.mode is not None and got.mode & 0o444
