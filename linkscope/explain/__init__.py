"""`linkscope explain`: the plain-language answer for one binary (DESIGN section 8).

What it is; whether its C library is inside it or loaded at start, and from where; what that
means on each OS-only Lambda runtime; the runtime client; and, for every problem, the fix for the
toolchain that built it. Every statement carries the facts it rests on (`because`).

`explain()` is pure: it reads the path once, checks it against each runtime in memory, and returns
frozen data. `render_explanation()` turns that data into text, JSON or Markdown.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from linkscope.model import RuntimeClient

__all__ = [
    "BinaryExplanation",
    "Explanation",
    "Problem",
    "RuntimeLine",
    "Statement",
    "explain",
    "render_explanation",
]

# The OS-only runtimes every explanation answers for, newest first (the question is always
# "will my bootstrap start", and these are the runtimes that run a bootstrap).
OS_ONLY_RUNTIMES = ("provided.al2023", "provided.al2", "provided")


@dataclass(frozen=True, slots=True, kw_only=True)
class Statement:
    """One answer: `topic` names the question, `text` answers it, `because` lists the facts."""

    topic: str  # "what", "toolchain", "c-library", "c++-library", "cpu", "client"
    title: str
    text: str
    because: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RuntimeLine:
    """What the binary's build means on one runtime: does it start, and why (not)."""

    runtime: str
    arch: str
    os: str | None
    starts: bool | None  # None: the runtime does not exist on this architecture
    status: str  # "supported", "deprecated", ... (lifecycle on the given day)
    text: str
    because: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """A finding (or a group of findings about one library on one runtime) and its fix."""

    rule: str
    severity: str
    runtime: str
    text: str
    fix: str
    because: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class BinaryExplanation:
    path: str
    statements: tuple[Statement, ...]
    runtimes: tuple[RuntimeLine, ...]
    problems: tuple[Problem, ...]
    toolchain: dict[str, object]  # structured fingerprint (language, builder, compilers, go, rust)
    client: RuntimeClient | None

    def statement(self, topic: str) -> Statement | None:
        return next((s for s in self.statements if s.topic == topic), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Explanation:
    path: str
    runtime: str
    arch: str
    today: datetime.date
    binaries: tuple[BinaryExplanation, ...]
    notes: tuple[str, ...] = ()
    # the package as its language's runtimes see it (explain/package.py): what it is for, one
    # line per runtime of that language, and problems about no single ELF file
    language: Statement | None = None
    package_runtimes: tuple[RuntimeLine, ...] = ()
    package_problems: tuple[Problem, ...] = ()
    # no finding of error severity on the requested runtime (what `check` would say)
    requested_starts: bool = True
    nothing_to_start: bool = False  # no ELF file, script or handler file in the package


def explain(
    path: str,
    runtime: str = "provided.al2023",
    arch: str = "x86_64",
    *,
    layers: Sequence[str] = (),
    today: datetime.date | None = None,
) -> Explanation:
    """Explain every ELF file under `path` (a file, folder or zip) for `runtime` on `arch`, and
    for each OS-only runtime besides."""
    from linkscope.explain.build import build_explanation

    return build_explanation(
        path, runtime, arch, layers=tuple(layers), today=today or datetime.date.today()
    )


def render_explanation(explanation: Explanation, fmt: str, width: int | None = None) -> str:
    """`width`: the terminal's, for text; prose never runs wider than 100 columns."""
    from linkscope.explain.render import render

    return render(explanation, fmt, width)
