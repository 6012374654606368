"""The README's command summary and the CLI cannot drift: every command and option the README
names exists, with the defaults it states, and every command the CLI has is in the README."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
import typer.main
from check_helpers import cli_main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
SUMMARY = README.split("## Command summary", 1)[1].split("```", 2)[1]


def commands() -> dict[str, click.Command]:
    cli_main()  # imports the CLI with the click deprecation warning silenced
    from linkscope.cli import app

    group = typer.main.get_command(app)
    assert isinstance(group, click.Group)
    return dict(group.commands)


def summary_options() -> dict[str, list[str]]:
    """Options listed under each command in the summary block."""
    found: dict[str, list[str]] = {}
    current = ""
    for line in SUMMARY.splitlines():
        if match := re.match(r"linkscope (\w+)", line):
            current = match.group(1)
            found[current] = re.findall(r"(--[a-z-]+)", line)
        elif line.startswith("    --") and current:
            found[current].append(line.split()[0])
    return found


def test_every_cli_command_is_in_the_readme() -> None:
    assert set(commands()) == set(summary_options())


@pytest.mark.parametrize("command", sorted(summary_options()))
def test_every_option_the_readme_names_exists(command: str) -> None:
    options = {opt for param in commands()[command].params for opt in param.opts}
    missing = [opt for opt in summary_options()[command] if opt not in options]
    assert not missing, f"README names {missing} for `linkscope {command}`"


@pytest.mark.parametrize(
    ("option", "stated"), [("--runtime", "provided.al2023"), ("--arch", "x86_64"),
                           ("--fail-on", "error")],
)  # fmt: skip
def test_the_defaults_the_readme_states(option: str, stated: str) -> None:
    assert f"{option}" in SUMMARY and f"default: {stated}" in SUMMARY
    param = next(p for p in commands()["check"].params if option in p.opts)
    default = getattr(param.default, "value", param.default)
    assert default == stated
