"""SARIF 2.1.0 output: golden files, validation against the official OASIS schema, and the
contracts GitHub code scanning relies on (one rule per ID, ruleIndex, levels, relative URIs)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from _golden import CASE_IDS, CASES, GOLDEN, ROOT, Case, compare, run_case

from linkscope.model import Finding, Report, RuntimeRef, Severity
from linkscope.render import sarif
from linkscope.rules import ALL_RULES

SCHEMA = ROOT / "linkscope" / "render" / "sarif-2.1.0-schema.json"
SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
# RFC 3986 URI reference characters (unreserved, reserved, and percent-encodings).
URI_REFERENCE = re.compile(r"^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-F]{2})+$")


def validate(document: Any) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft4Validator.check_schema(schema)
    checker = jsonschema.Draft4Validator.FORMAT_CHECKER
    jsonschema.Draft4Validator(schema, format_checker=checker).validate(document)


def finding(
    path: str, rule: str = "LS301", severity: Severity = Severity.ERROR, **extra: Any
) -> Finding:
    return Finding(
        rule=rule,
        severity=severity,
        path=path,
        message=f"`{path}` is broken",
        fix="Rebuild it.",
        **extra,
    )


def report(*findings: Finding) -> Report:
    return Report(
        binaries=(),
        findings=findings,
        runtime=RuntimeRef(name="provided.al2", arch="x86_64"),
        verdict="incompatible",
    )


def test_schema_file_is_the_recorded_official_copy() -> None:
    data = SCHEMA.read_bytes()
    assert hashlib.sha256(data).hexdigest() == SCHEMA_SHA256
    schema = json.loads(data)
    assert schema["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_sarif_golden_and_valid(
    case: Case, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run_case(case, "sarif", monkeypatch, tmp_path, capsys)
    document = json.loads(out)
    validate(document)
    compare(case, "sarif", out)


def test_the_validation_can_fail() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    document = sarif.sarif_log(report(finding("bin/app")))
    validate(document)
    document["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        validate(document)


def test_one_rule_per_registered_id_with_help_and_level() -> None:
    driver = sarif.sarif_log(report())["runs"][0]["tool"]["driver"]
    ids = [rule["id"] for rule in driver["rules"]]
    assert ids == [rule.id for rule in ALL_RULES]
    assert len(set(ids)) == len(ids)
    for descriptor, rule in zip(driver["rules"], ALL_RULES, strict=True):
        assert descriptor["shortDescription"]["text"] == rule.title
        assert descriptor["fullDescription"]["text"] == rule.help
        assert descriptor["defaultConfiguration"]["level"] == sarif.level(rule.severity)
    assert driver["name"] == "linkscope"
    assert "informationUri" not in driver or "example" not in driver["informationUri"]


@pytest.mark.parametrize("severity", list(Severity))
def test_every_severity_has_a_sarif_level(severity: Severity) -> None:
    expected = {"error": "error", "warning": "warning", "info": "note"}[severity.value]
    assert sarif.level(severity) == expected


def test_results_point_at_their_rule_and_carry_the_finding() -> None:
    f = finding("bin/app", library="libc.so.6", version="GLIBC_2.38", symbols=("strlcpy",))
    log = sarif.sarif_log(report(f, finding("bin/app", rule="LS501", severity=Severity.WARNING)))
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    first = next(r for r in run["results"] if r["ruleId"] == "LS301")
    assert first["level"] == "error"
    assert first["message"]["text"] == "`bin/app` is broken\nFix: Rebuild it."
    assert first["properties"]["library"] == "libc.so.6"
    assert first["properties"]["version"] == "GLIBC_2.38"
    assert first["properties"]["symbols"] == ["strlcpy"]
    location = first["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "bin/app"
    assert location["physicalLocation"]["region"]["startLine"] == 1
    assert "logicalLocations" not in location


def test_zip_member_points_at_the_archive_and_names_the_member() -> None:
    result = sarif.sarif_log(report(finding("dist/function.zip!lib/libfoo.so")))["runs"][0][
        "results"
    ][0]
    location = result["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "dist/function.zip"
    assert location["logicalLocations"] == [
        {
            "name": "lib/libfoo.so",
            "fullyQualifiedName": "dist/function.zip!lib/libfoo.so",
            "kind": "module",
        }
    ]
    assert result["properties"]["archive"] == "dist/function.zip"
    assert result["properties"]["member"] == "lib/libfoo.so"


@pytest.mark.parametrize(
    ("path", "uri"),
    [
        ("bootstrap", "bootstrap"),
        ("./dist/bootstrap", "dist/bootstrap"),
        ("my app/boot strap", "my%20app/boot%20strap"),
        ("100%/x", "100%25/x"),
        ("a:b/bootstrap", "./a:b/bootstrap"),
        ("/abs/path/bootstrap", "file:///abs/path/bootstrap"),
        ("<stdin>", "%3Cstdin%3E"),
        ("dir/ünï", "dir/%C3%BCn%C3%AF"),
    ],
)
def test_artifact_uris_are_valid_uri_references(path: str, uri: str) -> None:
    assert sarif.artifact_uri(path) == uri
    assert URI_REFERENCE.match(uri)
    validate(sarif.sarif_log(report(finding(path))))


def test_unregistered_rule_still_gets_a_descriptor() -> None:
    log = sarif.sarif_log(report(finding("bin/app", rule="LS999")))
    run = log["runs"][0]
    result = run["results"][0]
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "LS999"
    validate(log)


def test_output_is_deterministic_and_has_no_timestamps() -> None:
    r = report(finding("b/x"), finding("a/y"), finding("a/y", rule="LS101"))
    first, second = sarif.render(r), sarif.render(r)
    assert first == second
    assert not re.search(r"Utc|[0-9]{4}-[0-9]{2}-[0-9]{2}T", first)
    uris = [
        res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for res in json.loads(first)["runs"][0]["results"]
    ]
    assert uris == ["a/y", "a/y", "b/x"]


def test_fingerprints_differ_per_finding_and_are_stable() -> None:
    a, b = finding("bin/app", version="GLIBC_2.38"), finding("bin/app", version="GLIBC_2.34")
    results = sarif.sarif_log(report(a, b))["runs"][0]["results"]
    prints = {r["partialFingerprints"]["linkscopeFinding/v1"] for r in results}
    assert len(prints) == 2
    again = sarif.sarif_log(report(b, a))["runs"][0]["results"]
    assert prints == {r["partialFingerprints"]["linkscopeFinding/v1"] for r in again}


@pytest.mark.parametrize("golden", sorted((GOLDEN / "sarif").glob("*.json")), ids=lambda p: p.stem)
def test_committed_sarif_goldens_are_valid(golden: Path) -> None:
    validate(json.loads(golden.read_text()))
