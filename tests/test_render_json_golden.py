"""Golden files for `linkscope check --format json` (tests/golden/json/), each also validated
against the report's own schema, linkscope/render/report-schema.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _golden import CASE_IDS, CASES, GOLDEN, ROOT, Case, compare, run_case

REPORT_SCHEMA = ROOT / "linkscope" / "render" / "report-schema.json"


def _validate(document: Any) -> None:
    if not REPORT_SCHEMA.exists():
        pytest.skip("linkscope/render/report-schema.json does not exist yet")
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(REPORT_SCHEMA.read_text())
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator_class(schema, format_checker=validator_class.FORMAT_CHECKER).validate(document)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_json_golden(
    case: Case, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run_case(case, "json", monkeypatch, tmp_path, capsys)
    document = json.loads(out)
    assert document["verdict"] == ("incompatible" if case.exit_code else "compatible")
    compare(case, "json", out)
    _validate(document)


@pytest.mark.parametrize("golden", sorted((GOLDEN / "json").glob("*.json")), ids=lambda p: p.stem)
def test_committed_json_goldens_match_the_schema(golden: Path) -> None:
    _validate(json.loads(golden.read_text()))


def test_schema_rejects_a_report_that_breaks_it() -> None:
    """The validation above can fail: a report with a misspelt verdict is refused."""
    jsonschema = pytest.importorskip("jsonschema")
    good = json.loads((GOLDEN / "json" / "memfd_glibc2.27_al2.json").read_text())
    _validate(good)
    bad = dict(good, verdict="maybe")
    with pytest.raises(jsonschema.ValidationError):
        _validate(bad)
