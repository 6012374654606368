"""README.md keeps its promises: the exit-code table is ExitCode, the test command is the one CI
runs, and the rule table lists exactly the rule IDs of DESIGN section 7."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import ROOT

from linkscope.errors import ExitCode
from linkscope.rules import RULES_BY_ID

README = ROOT / "README.md"
CI_RUN = ROOT / ".ci" / "run"
DESIGN_CANDIDATES = (
    ROOT / "DESIGN.md",
    ROOT / "docs" / "DESIGN.md",
    ROOT.parent / "shared" / "DESIGN.md",
)


def section(markdown: str, heading: str) -> str:
    """The text under `## heading` up to the next heading of the same or higher level."""
    match = re.search(
        rf"^(#+) {re.escape(heading)}[^\n]*\n(.*?)(?=^#{{1,2}} |\Z)",
        markdown,
        re.MULTILINE | re.DOTALL,
    )
    assert match is not None, f"no section {heading!r}"
    return match.group(2)


def table_rows(text: str) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        if not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if all(set(cell) <= {"-", ":", " "} for cell in cells):
            continue
        rows.append(cells)
    return rows[1:]  # without the header row


def readme_exit_codes() -> dict[int, str]:
    rows = table_rows(section(README.read_text(), "Exit codes"))
    return {int(code): meaning for code, meaning, *_ in rows}


def test_exit_code_table_matches_the_enum() -> None:
    documented = readme_exit_codes()
    assert sorted(documented) == sorted(member.value for member in ExitCode)


@pytest.mark.parametrize(
    ("member", "words"),
    [
        pytest.param(ExitCode.OK, ("compatible",), id="ok"),
        pytest.param(ExitCode.INCOMPATIBLE, ("incompatible",), id="incompatible"),
        pytest.param(ExitCode.USAGE_OR_INPUT_ERROR, ("usage", "input"), id="usage-or-input"),
        pytest.param(ExitCode.INTERNAL_ERROR, ("internal",), id="internal"),
    ],
)
def test_each_exit_code_is_documented_for_what_it_means(
    member: ExitCode, words: tuple[str, ...]
) -> None:
    meaning = readme_exit_codes()[member.value].lower()
    for word in words:
        assert word in meaning, f"{member.name} ({member.value}): {meaning!r}"


def readme_test_command() -> str:
    text = README.read_text()
    match = re.search(r"Run the tests:\s*```(?:sh|bash)?\n(.*?)\n```", text, re.DOTALL)
    assert match is not None, "README has no 'Run the tests:' code block"
    [command] = [line for line in match.group(1).splitlines() if line.strip()]
    return command.strip()


def test_readme_test_command_is_what_ci_runs() -> None:
    command = readme_test_command()
    lines = [
        line.strip()
        for line in CI_RUN.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines[-1] == command, f"README: {command!r}\n.ci/run ends with: {lines[-1]!r}"
    assert "pytest" in command


def rule_ids(text: str) -> list[str]:
    return [row[0] for row in table_rows(text) if re.fullmatch(r"LS\d{3}", row[0])]


def design_text() -> str:
    for candidate in DESIGN_CANDIDATES:
        if candidate.exists():
            return candidate.read_text()
    pytest.skip("DESIGN.md is not available in this checkout")


def test_readme_rules_are_design_section_7() -> None:
    design = section(design_text(), "7. Rules")
    readme = section(README.read_text(), "Rules")
    expected = rule_ids(design)
    assert len(expected) >= 20
    documented = rule_ids(readme)
    # The README documents the rules that exist, in the design's order; the design may name
    # rules that are still being built (their IDs are reserved).
    assert documented == [rule for rule in expected if rule in documented]
    assert set(documented) <= set(expected), sorted(set(documented) - set(expected))


def test_readme_rules_are_the_implemented_rules() -> None:
    documented = set(rule_ids(section(README.read_text(), "Rules")))
    assert set(RULES_BY_ID) == documented, sorted(set(RULES_BY_ID) ^ documented)


def test_readme_names_the_shipped_schema() -> None:
    text = README.read_text()
    assert "linkscope/render/report-schema.json" in text
    assert (ROOT / "linkscope" / "render" / "report-schema.json").is_file()
