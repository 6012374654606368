"""The rule contract: a stable ID, a title, a default severity, and a check over the world."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from linkscope.model import Finding, Severity
from linkscope.resolve import Placed, Role, World


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """What rules may look at besides the world: options that change their verdicts."""

    today: datetime.date
    strict: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    id: str
    title: str
    severity: Severity
    help: str
    check: Callable[[World, Context], Iterable[Finding]]

    def finding(self, path: str, message: str, fix: str = "", *, severity: Severity | None = None,
                library: str | None = None, version: str | None = None,
                symbols: tuple[str, ...] = ()) -> Finding:  # fmt: skip
        return Finding(rule=self.id, severity=severity or self.severity, path=path,
                       message=message, fix=fix, library=library, version=version,
                       symbols=symbols)  # fmt: skip


def essential(item: Placed, world: World) -> bool:
    """Files Lambda runs or loads: a problem there stops the function. A library that nothing in
    the package needs may be a spare (another platform's copy), so its problems are warnings,
    unless every binary in the package is affected."""
    return item.role is not Role.LIBRARY or bool(item.needed_by) or len(world.placed) == 1


def named(path: str) -> str:
    return f"`{path}`"


def symbol_list(symbols: tuple[str, ...], limit: int = 5) -> str:
    if not symbols:
        return ""
    shown = ", ".join(symbols[:limit])
    return shown + (f" and {len(symbols) - limit} more" if len(symbols) > limit else "")
