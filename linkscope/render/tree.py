"""`linkscope tree`: the resolved dependency trees as text (for people) or JSON (for scripts).

Text, one tree per ELF the runtime loads:

    bootstrap  /var/task/bootstrap [function]
    │ interpreter /lib64/ld-linux-x86-64.so.2 [runtime]
    ├── libdemo.so.1  /var/task/lib/libdemo.so.1 [function]
    │   └── libc.so.6  (shown above)
    ├── libssl.so.10  NOT FOUND
    │     searched: /var/task/lib, /opt/lib, /lib64, /usr/lib64
    └── libc.so.6  /lib64/libc.so.6 [runtime]
          lacks GLIBC_2.34 (__libc_start_main)

JSON (`schema_version` 1): {"schema_version", "linkscope_version", "runtime": {"name", "arch"},
"verdict", "trees": [{"path", "location", "origin", "role", "interpreter": {"path", "found",
"origin"} | null, "note", "needs": [DEP]}]}, where DEP is {"name", "status" (`found`, `repeat`,
`cycle`, `not-found`), "path", "location", "origin", "searched", "unusable", "failed_versions":
[{"version", "symbols", "known"}], "needs": [DEP]} (a repeat or cycle has no "needs" of its own:
they are listed where the library first appears).
"""

from __future__ import annotations

import json
import re
from typing import Any

from linkscope.render.layout import PLAIN, Style, wrap
from linkscope.resolve.tree import Dependency, DependencyTree, Mention, TreeReport

BRANCH, LAST, PIPE, SPACE = "├── ", "└── ", "│   ", "    "
TREE_SCHEMA_VERSION = 1


def render_text(tree_report: TreeReport, style: Style = PLAIN) -> str:
    from linkscope.render.table import summary_line

    report = tree_report.report
    parts = []
    if report.runtime is not None:
        parts.append(f"runtime: {report.runtime.name} ({report.runtime.arch})")
    parts.extend(_tree_text(tree, style) for tree in tree_report.trees)
    if not tree_report.trees:
        parts.append("no ELF files that the runtime loads")
    parts.append(summary_line(report, style, "  (`linkscope check` for the findings)"))
    return "\n\n".join(parts) + "\n"


def _tree_text(tree: DependencyTree, style: Style) -> str:
    lines = _paint(wrap(f"{tree.location}  {tree.path} [{tree.origin}]", style.width), style)
    gutter = PIPE if tree.needs else SPACE
    if tree.interpreter is not None:
        interpreter = tree.interpreter
        where = f"[{interpreter.origin}]" if interpreter.found else "NOT FOUND in the runtime"
        lines += _paint(wrap(f"interpreter {interpreter.path} {where}", style.width, gutter), style)
    if tree.note:
        lines += wrap(tree.note, style.width, gutter)
    for n, dependency in enumerate(tree.needs):
        lines += _dependency_lines(dependency, "", n == len(tree.needs) - 1, style)
    return "\n".join(lines)


def _paint(lines: list[str], style: Style) -> list[str]:
    """Colour added after wrapping, so that escape codes never count towards the width: the
    trouble in red, where a library was found dimmed."""
    if not style.colour:
        return lines
    painted = []
    for line in lines:
        text = line
        for word in ("NOT FOUND", "lacks "):
            text = text.replace(word, style.paint(word, "bad"), 1)
        painted.append(re.sub(r"\[[a-z ]+\]$", lambda m: style.paint(m[0], "dim"), text))
    return painted


def _dependency_lines(dep: Dependency, prefix: str, last: bool, style: Style) -> list[str]:
    branch = prefix + (LAST if last else BRANCH)
    below = prefix + (SPACE if last else PIPE)
    detail = below + (PIPE if dep.needs else SPACE)
    if dep.mention is Mention.NOT_FOUND:
        lines = _branch(f"{dep.name}  NOT FOUND", style, branch, detail)
        searched = ", ".join(dep.searched) or "nowhere (no folders to search)"
        lines += wrap(searched, style.width, detail, "searched: ")
        if dep.unusable:
            lines += wrap(", ".join(dep.unusable), style.width, detail, "skipped: ")
        return lines
    tail = {
        Mention.FIRST: f"{dep.path} [{dep.origin}]",
        Mention.REPEAT: "(shown above)",
        Mention.CYCLE: f"{dep.path} (a cycle: it is loaded above)",
    }[dep.mention]
    lines = _branch(f"{dep.name}  {tail}", style, branch, detail)
    if dep.failed_versions:
        lines += _paint(wrap(_lacks(dep), style.width, detail, "lacks "), style)
    for n, child in enumerate(dep.needs):
        lines += _dependency_lines(child, below, n == len(dep.needs) - 1, style)
    return lines


def _branch(text: str, style: Style, branch: str, continuation: str) -> list[str]:
    """The first line hangs from the branch; the rest continue under it."""
    lines = wrap(text, style.width, continuation)
    return _paint([branch + lines[0][len(continuation) :], *lines[1:]], style)


def _lacks(dep: Dependency) -> str:
    from linkscope.render.grouping import versions_text

    known = [p for p in dep.failed_versions if p.known]
    unknown = [p for p in dep.failed_versions if not p.known]
    text = versions_text(known)
    if unknown:
        text += ("; " if text else "") + f"not known to define {versions_text(unknown)}"
    return text


def render_json(tree_report: TreeReport) -> str:
    from linkscope import __version__

    report = tree_report.report
    document = {
        "schema_version": TREE_SCHEMA_VERSION,
        "linkscope_version": __version__,
        "runtime": None
        if report.runtime is None
        else {"name": report.runtime.name, "arch": report.runtime.arch},
        "verdict": report.verdict,
        "trees": [_tree_dict(tree) for tree in tree_report.trees],
    }
    return json.dumps(document, indent=2) + "\n"


def _tree_dict(tree: DependencyTree) -> dict[str, Any]:
    interpreter = tree.interpreter
    return {
        "path": tree.path,
        "location": tree.location,
        "origin": tree.origin,
        "role": tree.role,
        "interpreter": None
        if interpreter is None
        else {"path": interpreter.path, "found": interpreter.found, "origin": interpreter.origin},
        "note": tree.note,
        "needs": [_dependency_dict(d) for d in tree.needs],
    }


def _dependency_dict(dep: Dependency) -> dict[str, Any]:
    return {
        "name": dep.name,
        "status": "found" if dep.mention is Mention.FIRST else dep.mention.value,
        "path": dep.path,
        "location": dep.location,
        "origin": dep.origin,
        "searched": list(dep.searched),
        "unusable": list(dep.unusable),
        "failed_versions": [
            {"version": p.version, "symbols": list(p.symbols), "known": p.known}
            for p in dep.failed_versions
        ],
        "needs": [_dependency_dict(d) for d in dep.needs],
    }
