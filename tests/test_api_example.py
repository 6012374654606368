"""The Python API example of the README runs, and prints what the README says it prints.

The example is the ```python block after the `<!-- api-example -->` marker, its output the ```text
block after `<!-- api-example-output -->`, in docs/README-sections.md and, once merged, README.md.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest
from _golden import ROOT

SOURCES = [ROOT / "README.md"]


def fenced_after(text: str, marker: str, language: str) -> str | None:
    match = re.search(rf"<!-- {re.escape(marker)} -->\s*```{language}\n(.*?)\n```", text, re.S)
    return None if match is None else match[1] + "\n"


def example(path: Path) -> tuple[str, str]:
    if not path.exists():
        pytest.skip(f"{path.name} does not exist")
    text = path.read_text(encoding="utf-8")
    code = fenced_after(text, "api-example", "python")
    output = fenced_after(text, "api-example-output", "text")
    assert code is not None, f"{path.name} lost its api-example block"
    assert output is not None, f"{path.name}: API example output missing"
    return code, output


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_api_example_runs_and_prints_what_it_says(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, expected = example(path)
    monkeypatch.chdir(ROOT)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, f"{path.name}:api-example", "exec"), {"__name__": "__example__"})
    assert printed.getvalue() == expected


def test_the_comparison_can_fail() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    code = fenced_after(text, "api-example", "python")
    assert code is not None and "linkscope.check(" in code and "linkscope.inspect(" in code
    assert fenced_after("no example here", "api-example", "python") is None
