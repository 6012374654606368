"""Shared test fixtures: paths to the committed binaries and their manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

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
