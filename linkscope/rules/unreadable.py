"""LS001: a file in the package that looks like ELF but cannot be read."""

from __future__ import annotations

from collections.abc import Iterator

from linkscope.advice import UNREADABLE_FIX
from linkscope.model import Finding, Severity
from linkscope.resolve import World
from linkscope.rules.base import Context, Rule


def check_unreadable(world: World, ctx: Context) -> Iterator[Finding]:
    for package in (*world.function, *world.layers):
        for note in package.notes:  # duplicates, nested zips, links leaving the package
            yield UNREADABLE.finding(package.source, f"note: {note}", severity=Severity.INFO)
        for problem in package.problems:
            yield UNREADABLE.finding(
                problem.path,
                f"`{problem.path}`: {problem.message}",
                UNREADABLE_FIX,
            )


UNREADABLE = Rule(
    id="LS001",
    title="unreadable or corrupt ELF",
    severity=Severity.ERROR,
    help="The file could not be read, or its ELF structures point outside it.",
    check=check_unreadable,
)
RULES = (UNREADABLE,)
