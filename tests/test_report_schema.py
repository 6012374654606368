"""The JSON report validates against the shipped schema (linkscope/render/report-schema.json),
and is deterministic: the same input gives byte-identical output."""

from __future__ import annotations

import json
import shutil
import sys
import warnings
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import BIN, manifest

from linkscope.api import inspect
from linkscope.render import json_report

with warnings.catch_warnings():
    # typer 0.24 imports click.utils.get_binary_stream, which click 8.5 deprecates at import time.
    warnings.filterwarnings("ignore", message=r".*Click 9\.0", category=DeprecationWarning)
    from linkscope.cli import main

jsonschema = pytest.importorskip("jsonschema")

READABLE = [
    e["name"]
    for e in manifest()
    if e["machine"] is not None and not e["name"].startswith("corrupt_")
]


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    text = resources.files("linkscope.render").joinpath("report-schema.json").read_text()
    document: dict[str, Any] = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(document)
    return document


def validate(schema: dict[str, Any], document: Any) -> None:
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def cli_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["inspect", "--format", "json", *argv])
    return code, capsys.readouterr().out


def test_schema_is_draft_2020_12(schema: dict[str, Any]) -> None:
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["schema_version"] == {"const": json_report.SCHEMA_VERSION}


@pytest.mark.parametrize("name", READABLE)
def test_fixture_json_validates(
    name: str, schema: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = cli_json([str(BIN / name)], capsys)
    assert code == 0
    document = json.loads(out)
    validate(schema, document)
    assert document["runtime"] is None and document["verdict"] is None
    assert [b["path"] for b in document["binaries"]] == [str(BIN / name)]
    assert document["findings"] == []


def test_every_key_json_report_emits_is_in_the_schema(schema: dict[str, Any]) -> None:
    """additionalProperties is false throughout, so a new key in json_report fails validation;
    and every key the schema requires is emitted (the schema is not looser than the output)."""
    report = inspect([str(BIN / "go_bootstrap_x86_64"), str(BIN / "rust_hello_cargo_x86_64")])
    document = json_report.report_to_dict(report)
    validate(schema, document)
    binary = schema["$defs"]["binary"]
    for emitted in document["binaries"]:
        assert sorted(emitted) == sorted(binary["properties"]) == sorted(binary["required"])
        assert sorted(emitted["toolchain"]) == sorted(schema["$defs"]["toolchain"]["required"])


@pytest.mark.parametrize(
    ("pointer", "bad"),
    [
        pytest.param(("schema_version",), 2, id="schema-version"),
        pytest.param(("binaries", 0, "linkage"), "semi-static", id="linkage"),
        pytest.param(("binaries", 0, "elf_type"), "EXEC", id="elf-type"),
        pytest.param(("binaries", 0, "libc", "family"), "GLIBC", id="libc-family"),
        pytest.param(("binaries", 0, "libc", "confidence"), "sure", id="libc-confidence"),
        pytest.param(("binaries", 0, "machine"), "amd64", id="machine"),
        pytest.param(("binaries", 0, "needed"), "libc.so.6", id="needed-not-list"),
        pytest.param(("binaries", 0, "required_versions", "GLIBC"), 2.34, id="version-number"),
        pytest.param(("binaries", 0, "surprise"), 1, id="unknown-key"),
        pytest.param(("verdict",), "maybe", id="verdict"),
    ],
)
def test_schema_rejects_wrong_documents(
    schema: dict[str, Any], pointer: tuple[Any, ...], bad: Any
) -> None:
    document = json_report.report_to_dict(inspect([str(BIN / "c_hello_gcc_pie_x86_64")]))
    target = document
    for key in pointer[:-1]:
        target = target[key]
    target[pointer[-1]] = bad
    with pytest.raises(AssertionError):
        validate(schema, document)


@pytest.fixture
def folder_with_corrupt(tmp_path: Path) -> Path:
    for name in (
        "c_hello_gcc_pie_x86_64",
        "lib/libdemo.so.1",
        "corrupt_trunc_phdrs",
        "bootstrap.sh",
    ):
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(BIN / name, target)
    return tmp_path


def test_folder_with_corrupt_elf_validates(
    folder_with_corrupt: Path, schema: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = cli_json([str(folder_with_corrupt)], capsys)
    assert code == 1
    document = json.loads(out)
    validate(schema, document)
    paths = [b["path"] for b in document["binaries"]]
    assert len(paths) == 2
    assert any(p.endswith("c_hello_gcc_pie_x86_64") for p in paths)
    assert any(p.endswith("libdemo.so.1") for p in paths)
    [finding] = document["findings"]
    assert finding["rule"] == "LS001"
    assert finding["severity"] == "error"
    assert finding["path"].endswith("corrupt_trunc_phdrs")
    assert Path(finding["path"]).exists()


def test_check_report_validates(schema: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    """The same schema covers `check` output: a runtime, a verdict and findings with symbols."""
    code = main(
        [
            "check",
            "--format",
            "json",
            "--runtime",
            "provided.al2",
            str(BIN / "rust_hello_cargo_x86_64"),
        ]
    )
    document = json.loads(capsys.readouterr().out)
    validate(schema, document)
    assert code == 1
    assert document["runtime"] == {"name": "provided.al2", "arch": "x86_64"}
    assert document["verdict"] == "incompatible"
    assert any(f.get("symbols") for f in document["findings"])


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param([str(BIN)], id="fixtures-folder"),
        pytest.param(
            [str(BIN / "cxx_condvar_gxx_x86_64"), str(BIN / "go_bootstrap_x86_64")], id="two-files"
        ),
    ],
)
def test_output_is_deterministic(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    first = cli_json(argv, capsys)
    second = cli_json(argv, capsys)
    assert first == second
    assert first[1]


def test_binaries_are_sorted_by_path(capsys: pytest.CaptureFixture[str]) -> None:
    forward = cli_json(
        [
            str(BIN / "c_hello_gcc_pie_x86_64"),
            str(BIN / "bootstrap.sh"),
            str(BIN / "c_crypt_gcc_x86_64"),
        ],
        capsys,
    )
    # a script named on its own is not ELF: inspect refuses it
    assert forward[0] == 2
    one = cli_json([str(BIN / "c_hello_gcc_pie_x86_64"), str(BIN / "c_crypt_gcc_x86_64")], capsys)
    other = cli_json([str(BIN / "c_crypt_gcc_x86_64"), str(BIN / "c_hello_gcc_pie_x86_64")], capsys)
    assert one == other
    paths = [b["path"] for b in json.loads(one[1])["binaries"]]
    assert paths == sorted(paths)
