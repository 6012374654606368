"""Golden files for `linkscope check --format table` (tests/golden/table/)."""

from __future__ import annotations

from pathlib import Path

import pytest
from _golden import CASE_IDS, CASES, Case, compare, run_case


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_table_golden(
    case: Case, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run_case(case, "table", monkeypatch, tmp_path, capsys)
    assert f"runtime: {case.runtime} ({case.arch})" in out
    compare(case, "table", out)
