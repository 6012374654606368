"""Findings that repeat, shown once: the same rule, file, library and fix with several versions
becomes one entry that lists the versions and their symbols together; the same rule and fix on
several files of one distribution (84 LS601 modules of a site-packages built for another Python)
becomes one entry that names the first file and counts the others. Only the reports people
read group; JSON and SARIF keep one finding per version and file."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from linkscope.model import BinaryFacts, Finding, Severity, split_version
from linkscope.render.json_report import sort_findings

SYMBOLS_PER_VERSION = 3
FILES_NAMED = 3  # of a distribution's files that share a finding, the ones listed by name


class VersionedSymbols(Protocol):
    """A version and the symbols that need it (a finding, or a loader's version problem)."""

    @property
    def version(self) -> str | None: ...
    @property
    def symbols(self) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class FindingGroup:
    rule: str
    severity: Severity
    path: str
    message: str
    fix: str
    findings: tuple[Finding, ...]


def group_findings(
    findings: Sequence[Finding], distributions: Mapping[str, str] | None = None
) -> list[FindingGroup]:
    """In report order (path, rule); a group sits where its first finding would.
    `distributions` maps a file's path to the distribution that installed it ("numpy 2.2.6"):
    findings of one rule and fix on that distribution's files are shown as one."""
    groups: dict[tuple[str, ...], list[Finding]] = {}
    for finding in sort_findings(tuple(findings)):
        groups.setdefault(_key(finding), []).append(finding)
    merged = [_group(members) for members in groups.values()]
    return _by_distribution(merged, distributions) if distributions else merged


def distributions_of(binaries: Sequence[BinaryFacts]) -> dict[str, str]:
    """Each file's distribution as its origin names it ("numpy 2.2.6"), where one does."""
    return {
        b.path: f"{b.origin.package} {b.origin.version or ''}".rstrip()
        for b in binaries
        if b.origin is not None and b.origin.package is not None
    }


def _key(f: Finding) -> tuple[str, ...]:
    if f.version is None or f.library is None:
        return (f.path, f.rule, f.severity.value, f.message, f.fix)
    return (f.path, f.rule, f.severity.value, f.library, f.fix)


def _group(members: list[Finding]) -> FindingGroup:
    ordered = sorted(members, key=_version_order)
    top = ordered[-1]
    message = top.message if len(ordered) == 1 else _merged_message(top, ordered)
    return FindingGroup(
        rule=top.rule,
        severity=top.severity,
        path=top.path,
        message=message,
        fix=top.fix,
        findings=tuple(ordered),
    )


def _by_distribution(
    groups: list[FindingGroup], distributions: Mapping[str, str]
) -> list[FindingGroup]:
    """Per-file groups of one rule, severity and fix on files of one distribution, as one."""
    joined: dict[tuple[str, ...], list[FindingGroup]] = {}
    for group in groups:
        owner = distributions.get(group.path)
        key = (
            (group.rule, group.severity.value, group.fix, owner)
            if owner is not None and group.fix
            else (group.path, group.rule, group.severity.value, group.message, group.fix)
        )
        joined.setdefault(key, []).append(group)
    return [
        members[0] if len(members) == 1 else _files_group(members, distributions)
        for members in joined.values()
    ]


def _files_group(members: list[FindingGroup], distributions: Mapping[str, str]) -> FindingGroup:
    first = members[0]
    others = [g.path.rpartition("!")[2] for g in members[1:]]
    named = ", ".join(f"`{p}`" for p in others[:FILES_NAMED])
    more = len(others) - FILES_NAMED
    listed = named + (f" and {more} more" if more > 0 else "")
    files = "file" if len(others) == 1 else "files"
    return FindingGroup(
        rule=first.rule,
        severity=first.severity,
        path=first.path,
        message=f"{first.message} The same holds for {len(others)} more {files} of "
        f"{distributions[first.path]}: {listed}.",
        fix=first.fix,
        findings=tuple(f for g in members for f in g.findings),
    )


def _version_order(f: Finding) -> tuple[str, tuple[int, ...], str]:
    parsed = split_version(f.version or "")
    return (parsed[0], parsed[1], "") if parsed else ("~", (), f.version or "")


def versions_text(requirements: Sequence[Finding] | Sequence[VersionedSymbols]) -> str:
    """`GLIBC_2.28 (statx), 2.30 (gettid), 2.34 (__libc_start_main, ...)`: the prefix once."""
    parts = []
    previous = None
    for item in requirements:
        version = item.version or ""
        parsed = split_version(version)
        prefix = parsed[0] if parsed else None
        shown = version[len(prefix) + 1 :] if prefix is not None and prefix == previous else version
        previous = prefix
        symbols = ", ".join(item.symbols[:SYMBOLS_PER_VERSION])
        more = len(item.symbols) - SYMBOLS_PER_VERSION
        if more > 0:
            symbols += f" +{more}"
        parts.append(f"{shown} ({symbols})" if symbols else shown)
    return ", ".join(parts)


def _merged_message(top: Finding, ordered: list[Finding]) -> str:
    """The highest version's message with its "needs X from L because of S" phrase replaced by
    every version and its symbols; if a rule words it otherwise, the others are appended."""
    phrase = re.compile(
        re.escape(f"needs {top.version} from {top.library}") + r"(?: because of .*?)?(?=, but |: )"
    )
    listed = versions_text(ordered)
    merged, count = phrase.subn(lambda _m: f"needs {listed} from {top.library}", top.message, 1)
    if count:
        return merged
    return f"{top.message} (all versions: {listed})"
