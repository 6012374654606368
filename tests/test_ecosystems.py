"""The ecosystem stage: native non-ELF files told by their magic, `*.dist-info` read as pip
writes it, each native file's origin (and the JSON `origin` key), the language a package is for,
and the per-runtime language data."""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import ROOT
from package_helpers import Item, findings, make_zip
from python_helpers import Wheel, handler, installed, pyext, pyext_manifest

from linkscope import api
from linkscope.inputs.native import native_kind
from linkscope.model import Severity
from linkscope.profiles.languages import language_facts, load_languages, stable_abi
from linkscope.render.json_report import report_to_dict

CLASS_JAVA8 = b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + bytes(40)  # javac --release 8 writes 52
CLASS_JAVA17 = b"\xca\xfe\xba\xbe\x00\x00\x00\x3d" + bytes(40)


def test_pyext_fixtures_are_what_the_manifest_says() -> None:
    import hashlib

    for entry in pyext_manifest():
        data = pyext(entry["name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["name"]


@pytest.mark.parametrize(
    ("name", "fmt", "machines", "file_type"),
    [
        ("spam_macos_arm64.so", "mach-o", ("aarch64",), "dylib"),
        ("spam_macos_x86_64.so", "mach-o", ("x86_64",), "dylib"),
        ("spam_macos_universal2.so", "mach-o-fat", ("x86_64", "aarch64"), "binary"),
        ("spam_win_amd64.pyd", "pe", ("x86_64",), "dll"),
    ],
)
def test_native_kind_of_real_builds(
    name: str, fmt: str, machines: tuple[str, ...], file_type: str
) -> None:
    kind = native_kind(pyext(name).read_bytes()[:4096])
    assert kind is not None
    assert (kind.format, kind.machines, kind.file_type) == (fmt, machines, file_type)
    assert kind.os == ("Windows" if fmt == "pe" else "macOS")


def test_big_endian_thin_mach_o() -> None:
    """PowerPC Macs stored the header big-endian (MH_MAGIC as fe ed fa ce)."""
    head = b"\xfe\xed\xfa\xce" + struct.pack(">iiI", 18, 0, 8) + bytes(16)
    kind = native_kind(head)
    assert kind is not None and kind.machines == ("ppc",) and kind.file_type == "bundle"


@pytest.mark.parametrize("head", [CLASS_JAVA8, CLASS_JAVA17])
def test_java_class_files_are_not_fat_mach_o(head: bytes) -> None:
    """Both start with 0xCAFEBABE; a class file's version (major >= 45) is no arch count."""
    assert native_kind(head) is None


def test_not_native() -> None:
    assert native_kind(b"MZ\x90\x00" + bytes(200)) is None  # MZ without a PE header
    assert native_kind(b"\xcf\xfa\xed\xfe" + bytes(12)) is None  # no known CPU type
    assert native_kind(b"hello") is None


def _pydantic(tmp_path: Path, tag: str, module: str) -> Path:
    wheel = Wheel(
        "pydantic-core",
        "2.27.2",
        (tag,),
        {
            "pydantic_core/__init__.py": b"from ._pydantic_core import *\n",
            f"pydantic_core/{module}": pyext("spam_cp311_gcc_x86_64.so"),
        },
    )
    return make_zip(tmp_path / "fn.zip", [handler(), *installed(wheel)])


def test_origin_from_record_and_wheel_tags(tmp_path: Path) -> None:
    module = "_pydantic_core.cpython-313-x86_64-linux-gnu.so"
    path = _pydantic(tmp_path, "cp313-cp313-manylinux_2_17_x86_64", module)
    report = api.inspect([str(path)])
    [binary] = report.binaries
    origin = binary.origin
    assert origin is not None
    assert (origin.ecosystem, origin.package, origin.version) == (
        "python",
        "pydantic-core",
        "2.27.2",
    )
    assert origin.tag == "cp313-cp313-manylinux_2_17_x86_64"
    assert origin.abi == "cpython-3.13" and origin.installer == "pip"
    data = report_to_dict(report)["binaries"][0]["origin"]
    assert data == {
        "ecosystem": "python",
        "package": "pydantic-core",
        "version": "2.27.2",
        "tag": "cp313-cp313-manylinux_2_17_x86_64",
        "abi": "cpython-3.13",
    }


def test_wheel_tags_in_compressed_form(tmp_path: Path) -> None:
    wheel = Wheel(
        "numpy",
        "2.2.6",
        ("cp312-cp312-manylinux_2_17_x86_64", "cp312-cp312-manylinux2014_x86_64"),
        {
            "numpy/_core/_multiarray_umath.cpython-312-x86_64-linux-gnu.so": pyext(
                "spam_cp311_gcc_x86_64.so"
            )
        },
    )
    path = make_zip(tmp_path / "fn.zip", [handler(), *installed(wheel)])
    [binary] = api.inspect([str(path)]).binaries
    assert binary.origin is not None
    assert binary.origin.tag == "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64"


def test_no_origin_without_metadata(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "fn.zip", [Item("lib/spam.so", pyext("spam_cp311_gcc_x86_64.so"))])
    [binary] = api.inspect([str(path)]).binaries
    assert binary.origin is None
    assert report_to_dict(api.inspect([str(path)]))["binaries"][0]["origin"] is None


def test_language_of_a_python_function(tmp_path: Path) -> None:
    path = _pydantic(
        tmp_path,
        "cp312-cp312-manylinux_2_17_x86_64",
        "_pydantic_core.cpython-312-x86_64-linux-gnu.so",
    )
    [package] = api.scan([str(path)])
    assert package.ecosystems.language == "python"


def test_language_of_a_bootstrap_function(tmp_path: Path) -> None:
    path = make_zip(
        tmp_path / "fn.zip", [Item("bootstrap", ROOT / "fixtures/bin/go_bootstrap_x86_64")]
    )
    [package] = api.scan([str(path)])
    assert package.ecosystems.language == "os-only"


def test_warning_when_the_runtime_is_for_another_language(tmp_path: Path) -> None:
    path = _pydantic(
        tmp_path,
        "cp312-cp312-manylinux_2_17_x86_64",
        "_pydantic_core.cpython-312-x86_64-linux-gnu.so",
    )
    report = api.check([str(path)], "provided.al2023")
    [note] = report.notes
    assert "looks like a Python package" in note and "--runtime python3.12" in note
    assert not api.check([str(path)], "python3.12").notes


def test_inspect_of_a_zip_with_only_a_mach_o_extension(tmp_path: Path) -> None:
    """Before: `no ELF files found`. Now: LS103, naming macOS."""
    wheel = Wheel(
        "bcrypt",
        "4.2.1",
        ("cp39-abi3-macosx_10_12_universal2",),
        {"bcrypt/_bcrypt.abi3.so": pyext("spam_macos_universal2.so")},
    )
    path = make_zip(tmp_path / "fn.zip", [handler(), *installed(wheel)])
    report = api.inspect([str(path)])
    [finding] = findings(report, "LS103")
    assert finding.severity is Severity.ERROR and "macOS" in finding.message
    assert "universal (fat) Mach-O binary for macOS (x86_64, aarch64)" in finding.message
    assert "bcrypt 4.2.1 was installed from `cp39-abi3-macosx_10_12_universal2`" in finding.fix


def test_languages_data_matches_its_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    data = json.loads((ROOT / "linkscope/profiles/data/languages.json").read_text())
    schema = json.loads((ROOT / "linkscope/profiles/languages-schema.json").read_text())
    jsonschema.validate(data, schema)
    assert all(entry["source"] for entry in data["runtimes"])


def test_language_facts_from_the_reference() -> None:
    py312 = language_facts("python3.12")
    assert py312 is not None and py312.python is not None
    assert py312.python.suffixes("x86_64") == (
        ".cpython-312-x86_64-linux-gnu.so",
        ".abi3.so",
        ".so",
    )
    assert py312.python.suffixes("arm64")[0] == ".cpython-312-aarch64-linux-gnu.so"
    assert py312.python.platforms("x86_64")[0] == "manylinux_2_34_x86_64"
    py311 = language_facts("python3.11")
    assert py311 is not None and py311.python is not None
    assert py311.python.platforms("arm64") == ("manylinux2014_aarch64",)
    node20 = language_facts("nodejs20.x")
    assert node20 is not None and node20.nodejs is not None
    assert (node20.nodejs.node_module_version, node20.nodejs.napi_version) == (115, 9)
    ruby = language_facts("ruby3.3")
    assert ruby is not None and ruby.ruby is not None and ruby.ruby.abi == "3.3.0"
    java = language_facts("java21")
    assert java is not None and java.java is not None and java.java.class_file_major == 65
    assert language_facts("provided.al2023") is None
    assert {"python", "nodejs", "ruby", "java", "dotnet"} == {
        f.language for f in load_languages().values()
    }


def test_every_language_runtime_exists_in_the_runtime_profiles() -> None:
    from linkscope.profiles import runtime_named

    for name, facts in load_languages().items():
        assert runtime_named(name).family == facts.language.replace("nodejs", "nodejs"), name


def test_stable_abi_table() -> None:
    table = stable_abi()
    assert table.added["PyType_GetName"] == (3, 11)
    assert table.added["PyType_FromMetaclass"] == (3, 12)
    assert table.absent_before["_Py_IncRef"] == (3, 10)
