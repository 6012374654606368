"""The JSON report's writer gives exactly `json.dumps(value, indent=2)`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from linkscope.render.indented_json import dumps

GOLDEN = Path(__file__).resolve().parent / "golden"

leaves = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
values = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=5)
        | st.lists(st.text(), max_size=5)
        | st.dictionaries(st.text(), children, max_size=5)
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(values)
def test_same_text_as_json_dumps(value: Any) -> None:
    assert dumps(value) == json.dumps(value, indent=2)


def test_same_text_on_every_committed_json_report() -> None:
    documents = sorted(GOLDEN.rglob("*.json"))
    assert documents
    for path in documents:
        value = json.loads(path.read_text())
        assert dumps(value) == json.dumps(value, indent=2), path


def test_values_json_would_convert_are_left_to_json() -> None:
    value = {1: (1.5, float("nan")), "k": [True, None, "é\n"]}
    assert dumps(value) == json.dumps(value, indent=2)
