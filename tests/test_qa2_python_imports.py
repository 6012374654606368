"""What the runtime's Python really imports, found by importing real wheels installed for
another Python (CPython 3.11 importing cp312 installs of PyYAML 6.0.4, simplejson 4.3.0,
MarkupSafe 3.0.4, rapidfuzz 3.13.0, aiohttp 3.14.5 and its multidict, yarl, frozenlist and
propcache, websockets, wrapt, zope.interface, pendulum, google-crc32c, pyrsistent):

- a module whose package falls back to pure Python is a warning, not an error (the function
  works, slower), and so are the ELF problems of a module the runtime's Python never imports
  (another architecture's module on arm64 is never loaded: its LS101 is information), and of
  the libraries that only such modules load;
- a tagged module in a folder no import can name (`build/lib.linux-x86_64-cpython-311/`,
  `.venv/`) gets no LS601, and its ELF problems are warnings.

The modules are the project's own (fixtures/pyext, fixtures/bin), named and laid out as those
wheels install them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from package_helpers import Item, findings, make_zip
from python_helpers import Wheel, handler, installed, pyext

from linkscope import api
from linkscope.model import Report, Severity

X86 = pyext("spam_cp311_gcc_x86_64.so")
NEW_GLIBC = pyext("spam_cp311_zig_glibc2.38_x86_64.so")
USES_LIB = Path(__file__).resolve().parent.parent / "fixtures/bin/c_uselib_gcc_x86_64"
LIBDEMO = Path(__file__).resolve().parent.parent / "fixtures/bin/lib/libdemo.so.1"
CP312 = ".cpython-312-x86_64-linux-gnu.so"


def function(tmp_path: Path, *wheels: Wheel, extra: tuple[Item, ...] = ()) -> str:
    items = [handler(), *extra] + [item for wheel in wheels for item in installed(wheel)]
    return str(make_zip(tmp_path / "fn.zip", items))


def wheel(name: str, version: str, files: dict[str, bytes | Path]) -> Wheel:
    return Wheel(name, version, ("cp312-cp312-manylinux_2_17_x86_64",), files)


def errors(report: Report) -> list[str]:
    return [f"{f.rule} {f.path}" for f in report.findings if f.severity is Severity.ERROR]


@pytest.mark.parametrize(
    ("name", "version", "module", "fallback"),
    [
        ("PyYAML", "6.0.4", "yaml/_yaml", "yaml.loader"),
        ("simplejson", "4.3.0", "simplejson/_speedups", "simplejson.scanner"),
        ("MarkupSafe", "3.0.4", "markupsafe/_speedups", "markupsafe._native"),
        ("rapidfuzz", "3.13.0", "rapidfuzz/fuzz_cpp_avx2", "rapidfuzz.fuzz_py"),
        ("rapidfuzz", "3.13.0", "rapidfuzz/distance/metrics_cpp", "rapidfuzz.distance.metrics_py"),
        ("aiohttp", "3.14.5", "aiohttp/_http_parser", "aiohttp.http_parser"),
        ("aiohttp", "3.14.5", "aiohttp/_websocket/reader_c", "aiohttp._websocket.reader_py"),
        ("multidict", "7.2.1", "multidict/_multidict", "multidict._multidict_py"),
        ("yarl", "1.25.1", "yarl/_quoting_c", "yarl._quoting_py"),
        ("frozenlist", "1.8.0", "frozenlist/_frozenlist", "frozenlist"),
        ("propcache", "0.5.4", "propcache/_helpers_c", "propcache._helpers_py"),
        ("websockets", "17.4", "websockets/speedups", "websockets.utils"),
        ("wrapt", "2.5.2", "wrapt/_wrappers", "wrapt.wrappers"),
        ("pendulum", "3.3.0", "pendulum/_pendulum", "pendulum._helpers"),
        ("google-crc32c", "1.9.0", "google_crc32c/_crc32c", "google_crc32c.python"),
        ("pyrsistent", "0.20.0", "pvectorc", "pyrsistent._pvector"),
        ("pymongo", "4.20.1", "bson/_cbson", "bson"),
        ("pymongo", "4.20.1", "pymongo/_cmessage", "pymongo.message"),
        ("cbor2", "5.9.0", "_cbor2", "cbor2._decoder"),
        ("immutables", "0.21", "immutables/_map", "immutables.map"),
    ],
)
def test_optional_speedups_for_another_python_are_warnings(
    tmp_path: Path, name: str, version: str, module: str, fallback: str
) -> None:
    top = module.split("/", maxsplit=1)[0]
    files: dict[str, bytes | Path] = {f"{module}{CP312}": X86}
    if "/" in module:
        files[f"{top}/__init__.py"] = b""
    report = api.check([function(tmp_path, wheel(name, version, files))], "python3.11")
    assert report.verdict == "compatible", errors(report)
    [finding] = findings(report, "LS601")
    assert finding.severity is Severity.WARNING
    assert f"falls back to the pure-Python `{fallback}`" in finding.message
    assert "--python-version 3.11" in finding.fix


def test_a_test_helper_nothing_imports_is_information(tmp_path: Path) -> None:
    files: dict[str, bytes | Path] = {
        "multidict/__init__.py": b"",
        f"multidict/_multidict{CP312}": X86,
        f"multidict/_testcapi{CP312}": X86,
    }
    report = api.check([function(tmp_path, wheel("multidict", "7.2.1", files))], "python3.13")
    assert report.verdict == "compatible", errors(report)
    severities = {f.path.rpartition("/")[2]: f.severity for f in findings(report, "LS601")}
    assert severities == {
        f"_multidict{CP312}": Severity.WARNING,
        f"_testcapi{CP312}": Severity.INFO,
    }


def test_a_speedup_without_fallback_is_still_an_error(tmp_path: Path) -> None:
    files: dict[str, bytes | Path] = {"ujson-like/__init__.py": b"", f"ujson{CP312}": X86}
    report = api.check([function(tmp_path, wheel("ujson", "5.10.0", files))], "python3.11")
    assert report.verdict == "incompatible"
    [finding] = findings(report, "LS601")
    assert finding.severity is Severity.ERROR and "No module named 'ujson'" in finding.message


def yaml_with_its_library() -> Wheel:
    """PyYAML's module, made to need a bundled library beside it (RUNPATH $ORIGIN/lib)."""
    return wheel(
        "PyYAML",
        "6.0.4",
        {
            "yaml/__init__.py": b"",
            f"yaml/_yaml{CP312}": USES_LIB,
            "yaml/lib/libdemo.so.1": LIBDEMO,
        },
    )


def test_another_architectures_module_with_a_fallback_is_no_error_on_arm64(
    tmp_path: Path,
) -> None:
    """python3.12 on arm64 never imports a `-x86_64-linux-gnu` module, nor what it loads."""
    report = api.check([function(tmp_path, yaml_with_its_library())], "python3.12", "arm64")
    assert report.verdict == "compatible", errors(report)
    ls101 = findings(report, "LS101")
    assert {f.path.rpartition("/")[2] for f in ls101} == {f"_yaml{CP312}", "libdemo.so.1"}
    assert all(f.severity is Severity.INFO for f in ls101)
    notes = {f.path.rpartition("/")[2]: f.message for f in ls101}
    assert (
        "It is never loaded here: this Python extension module is built for x86_64"
        in (notes[f"_yaml{CP312}"])
    )
    assert "only modules that are never imported, or optional ones" in notes["libdemo.so.1"]
    [module] = findings(report, "LS601")
    assert module.severity is Severity.WARNING and "built for x86_64" in module.message


def test_the_library_of_a_module_another_python_needs_is_not_judged_as_loaded(
    tmp_path: Path,
) -> None:
    """The same package on x86_64 python3.12 is imported: its module and library count."""
    report = api.check([function(tmp_path, yaml_with_its_library())], "python3.12")
    assert not findings(report, "LS601") and not findings(report, "LS101")


def test_a_module_in_a_build_folder_is_never_imported(tmp_path: Path) -> None:
    build = "build/lib.linux-x86_64-cpython-311"
    extra = (
        Item(f"{build}/spam{CP312.replace('312', '311')}", NEW_GLIBC),
        Item(f".venv/lib/python3.11/site-packages/spam{CP312}", X86),
    )
    report = api.check([function(tmp_path, extra=extra)], "python3.11")
    assert report.verdict == "compatible", errors(report)
    assert not findings(report, "LS601")
    [glibc] = findings(report, "LS301")
    assert glibc.severity is Severity.WARNING
    assert f"`{build}` is no Python package name" in glibc.message


def test_the_same_module_where_python_imports_it_is_an_error(tmp_path: Path) -> None:
    extra = (Item("vendor/spam.cpython-311-x86_64-linux-gnu.so", NEW_GLIBC),)
    report = api.check([function(tmp_path, extra=extra)], "python3.11")
    assert report.verdict == "incompatible"
    assert [f.severity for f in findings(report, "LS301")] == [Severity.ERROR]


@pytest.mark.parametrize(
    ("module", "severity"),
    [("numba/np/ufunc/omppool", "warning"), ("numba/np/ufunc/_internal", "error")],
)
def test_an_optional_module_whose_library_is_missing_cannot_stop_the_function(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], module: str, severity: str
) -> None:
    """numba's OpenMP threading layer needs libgomp, which the wheel does not bundle: numba
    catches the ImportError and uses its workqueue layer. Its own `_internal` has no fallback."""
    import json

    from check_helpers import TODAY, cli_main

    files: dict[str, bytes | Path] = {"numba/__init__.py": b"", f"{module}{CP312}": USES_LIB}
    fn = function(tmp_path, wheel("numba", "0.67.0", files))
    argv = ["check", fn, "--runtime", "python3.12", "--strict", "--format", "json"]
    cli_main()([*argv, "--today", TODAY.isoformat()])
    report = json.loads(capsys.readouterr().out)
    [missing] = [f for f in report["findings"] if f.get("library") == "libdemo.so.1"]
    assert missing["severity"] == severity
    if severity == "warning":
        assert "uses `numba.np.ufunc.workqueue`, another of its modules" in missing["message"]


def test_explain_says_a_fallback_package_starts_and_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from check_helpers import TODAY, cli_main

    files: dict[str, bytes | Path] = {"yaml/__init__.py": b"", f"yaml/_yaml{CP312}": X86}
    fn = function(tmp_path, wheel("PyYAML", "6.0.4", files))
    argv = ["explain", fn, "--runtime", "python3.11", "--today", TODAY.isoformat()]
    assert cli_main()(argv) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "python3.11: starts: its extension module was installed for CPython 3.12" in out
    assert "the function does not need it: its package uses a pure-Python fallback" in out


@pytest.mark.parametrize(
    "site", ["lib/python3.12/site-packages", "venv/lib/python3.12/site-packages"]
)
def test_a_layer_zipped_from_a_virtualenv_is_never_searched(tmp_path: Path, site: str) -> None:
    """`/opt/lib/python3.12/site-packages` is not on sys.path: the layer's packages must be in
    `python/` (was compatible: nothing judged them)."""
    files: dict[str, bytes | Path] = {"orjson/__init__.py": b"", f"orjson/orjson{CP312}": X86}
    layer = make_zip(tmp_path / "layer.zip", installed(wheel("orjson", "3.10.0", files), site))
    fn = make_zip(tmp_path / "fn.zip", [handler()])
    report = api.check([str(fn)], "python3.12", layers=(str(layer),))
    assert report.verdict == "incompatible"
    [finding] = findings(report, "LS602")
    assert finding.path.endswith(f"layer.zip!{site}")
    assert f"Lambda mounts it at `/opt/{site}`" in finding.message
    assert "--target python/lib/python3.12/site-packages" in finding.fix
    good = make_zip(tmp_path / "good.zip", installed(wheel("orjson", "3.10.0", files), "python"))
    assert api.check([str(fn)], "python3.12", layers=(str(good),)).verdict == "compatible"


def test_mypycs_shared_runtime_is_imported_only_by_its_compiled_modules(tmp_path: Path) -> None:
    """charset-normalizer 3.4.1 (requests' dependency) ships `md.cpython-312-...so`, `md.py`
    and mypyc's `md__mypyc.cpython-312-...so`: Python 3.11 imports md.py, and nothing imports
    md__mypyc (was an LS601 error: "incompatible" for a working function)."""
    files: dict[str, bytes | Path] = {
        "charset_normalizer/__init__.py": b"",
        "charset_normalizer/md.py": b"",
        f"charset_normalizer/md{CP312}": X86,
        f"charset_normalizer/md__mypyc{CP312}": X86,
    }
    fn = function(tmp_path, wheel("charset-normalizer", "3.4.1", files))
    report = api.check([fn], "python3.11")
    assert report.verdict == "compatible", errors(report)
    severities = {f.path.rpartition("/")[2]: f.severity for f in findings(report, "LS601")}
    assert severities == {f"md{CP312}": Severity.WARNING, f"md__mypyc{CP312}": Severity.INFO}
    [runtime] = [f for f in findings(report, "LS601") if "__mypyc" in f.path]
    assert "mypyc's runtime, imported only by the compiled modules beside it" in runtime.message
