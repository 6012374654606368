"""The rule catalogue: stable IDs (SARIF rule IDs and `--ignore` handles), one module a family."""

from __future__ import annotations

from collections.abc import Iterable

from linkscope.model import Finding
from linkscope.resolve import World
from linkscope.rules import (
    arch,
    image_start,
    libc,
    libraries,
    lifecycle,
    native,
    unreadable,
    versions,
)
from linkscope.rules import client as client_rules
from linkscope.rules import node as node_rules
from linkscope.rules import package as package_rules
from linkscope.rules import python as python_rules
from linkscope.rules import ruby as ruby_rules
from linkscope.rules.base import Context, Rule

ALL_RULES: tuple[Rule, ...] = tuple(
    sorted(
        (
            *unreadable.RULES,
            *arch.RULES,
            *native.RULES,
            *libc.RULES,
            *versions.RULES,
            *libraries.RULES,
            *lifecycle.RULES,
            *client_rules.RULES,
            *package_rules.RULES,
            *python_rules.RULES,
            *node_rules.RULES,
            *ruby_rules.RULES,
            *image_start.RULES,
        ),
        key=lambda rule: rule.id,
    )
)
RULES_BY_ID = {rule.id: rule for rule in ALL_RULES}

__all__ = ["ALL_RULES", "RULES_BY_ID", "Context", "Rule", "evaluate"]


def evaluate(world: World, ctx: Context, ignore: Iterable[str] = ()) -> tuple[Finding, ...]:
    skipped = set(ignore)
    findings: list[Finding] = []
    seen: set[tuple[str, str, str | None, str | None, str]] = set()
    for rule in ALL_RULES:
        if rule.id in skipped:
            continue
        for finding in rule.check(world, ctx):
            key = (finding.rule, finding.path, finding.library, finding.version, finding.message)
            if key not in seen:
                seen.add(key)
                findings.append(finding)
    from linkscope.rules.spares import adjust  # other platforms' copies are information

    return tuple(adjust(findings, world))
