"""Shared test fixtures: paths to the committed binaries and their manifest."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

# readline (which pytest imports) exports the terminal's size as COLUMNS and LINES into the C
# environment, behind os.environ's back; linkscope lays text out to COLUMNS, so the command lines
# the tests start must not inherit it. Tests that want a width set it themselves.
for _name in ("COLUMNS", "LINES", "NO_COLOR"):
    os.environ.pop(_name, None)
    os.unsetenv(_name)

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
BIN = FIXTURES / "bin"


def manifest() -> list[dict[str, Any]]:
    data = json.loads((FIXTURES / "manifest.json").read_text())
    entries: list[dict[str, Any]] = data["fixtures"] if isinstance(data, dict) else data
    return entries


def fixture_path(name: str) -> Path:
    return BIN / name


@pytest.fixture(scope="session")
def fixtures_manifest() -> list[dict[str, Any]]:
    return manifest()
