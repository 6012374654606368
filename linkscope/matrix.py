"""`linkscope matrix`: the same package checked against every runtime and architecture."""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from dataclasses import dataclass

from linkscope.api import _require_content, check_scanned, scan
from linkscope.model import ScannedPackage, Severity
from linkscope.profiles import load_runtimes, load_target
from linkscope.render.layout import PLAIN, Cell, Style, grid, natural_width, wrap
from linkscope.rules.base import Context

NOT_A_START_PROBLEM = ("LS501",)  # deprecated runtimes still run deployed functions


@dataclass(frozen=True, slots=True, kw_only=True)
class MatrixRow:
    runtime: str
    arch: str
    os: str
    starts: bool
    reason: str
    status: str
    errors: int
    warnings: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Matrix:
    rows: tuple[MatrixRow, ...]
    notes: tuple[str, ...] = ()  # said under the table: nothing found, rows left out


def build_matrix(
    paths: Sequence[str],
    *,
    layers: Sequence[str] = (),
    include_all: bool = False,
    today: datetime.date | None = None,
) -> tuple[MatrixRow, ...]:
    return matrix_report(paths, layers=layers, include_all=include_all, today=today).rows


def matrix_report(
    paths: Sequence[str],
    *,
    layers: Sequence[str] = (),
    include_all: bool = False,
    today: datetime.date | None = None,
) -> Matrix:
    """The rows, and notes that say what the rows alone leave unsaid (never a silent answer)."""
    from linkscope.explain.package import nothing_found_note

    rows = _all_rows(paths, layers, today or datetime.date.today())
    shown = tuple(r for r in rows if include_all or r.status == "supported")
    notes = nothing_found_note(scan(paths), ", ".join(paths)) + _hidden_note(rows, shown)
    return Matrix(rows=shown, notes=notes)


def _hidden_note(rows: Sequence[MatrixRow], shown: Sequence[MatrixRow]) -> tuple[str, ...]:
    hidden = [r for r in rows if r not in shown]
    if not hidden:
        return ()
    names = dict.fromkeys(r.runtime for r in hidden)
    arches: dict[str, list[str]] = {}
    for r in hidden:
        if r.starts:
            arches.setdefault(r.runtime, []).append(r.arch)
    starts = [f"{name} ({', '.join(a)})" for name, a in arches.items()]
    if len(starts) > 5:
        starts = [*starts[:5], f"{len(starts) - 5} more"]
    note = f"{len(names)} deprecated runtime{'s' * (len(names) != 1)} not shown (--all shows them)"
    if starts:
        note += f"; it would start on {', '.join(starts)}"
    return (note + ".",)


def _all_rows(
    paths: Sequence[str], layers: Sequence[str], day: datetime.date
) -> tuple[MatrixRow, ...]:
    include_all = True
    packages = scan(paths)
    language = package_language(packages)
    for package in packages:
        _require_content(package, language or "")  # a lone handler file: its language's rows
    if any(p.image is not None for p in packages):
        return _image_rows(paths, Context(today=day))
    layer_packages = scan(layers)
    context = Context(today=day)
    rows = []
    for runtime in load_runtimes():
        status = runtime.status(day)
        if runtime.container_only or (status != "supported" and not include_all):
            continue
        if language is not None and runtime.family != language:
            continue  # a Python function is judged on the Python runtimes
        for arch in runtime.architectures:
            target = load_target(runtime.name, arch)
            report = check_scanned(
                packages, layer_packages, target, context, ignore=NOT_A_START_PROBLEM
            )
            errors = [f for f in report.findings if f.severity is Severity.ERROR]
            warnings = [f for f in report.findings if f.severity is Severity.WARNING]
            reason = errors[0] if errors else (warnings[0] if warnings else None)
            rows.append(
                MatrixRow(
                    runtime=runtime.name,
                    arch=arch,
                    os=target.os.name,
                    starts=not errors,
                    reason="" if reason is None else f"{reason.rule}: {_short(reason.message)}",
                    status=status,
                    errors=len(errors),
                    warnings=len(warnings),
                )
            )
    return tuple(rows)


def package_language(packages: Sequence[ScannedPackage]) -> str | None:
    """The managed language every package is for (python, nodejs, ...), else None (all
    runtimes: an ELF file, a bootstrap, a package of no known language)."""
    languages = {p.ecosystems.language for p in packages}
    if len(languages) != 1:
        return None
    language = languages.pop()
    return language if language in ("python", "nodejs", "ruby", "java", "dotnet") else None


def _image_rows(paths: Sequence[str], context: Context) -> tuple[MatrixRow, ...]:
    """A container image is its own OS: one row per architecture (each picks its manifest)."""
    rows = []
    for arch in ("x86_64", "arm64"):
        packages = scan(paths, arch=arch)
        report = check_scanned(packages, (), load_target(arch=arch), context)
        errors = [f for f in report.findings if f.severity is Severity.ERROR]
        warnings = [f for f in report.findings if f.severity is Severity.WARNING]
        reason = errors[0] if errors else (warnings[0] if warnings else None)
        rows.append(
            MatrixRow(
                runtime="image",
                arch=arch,
                os="the image's own",
                starts=not errors,
                reason="" if reason is None else f"{reason.rule}: {_short(reason.message)}",
                status="supported",
                errors=len(errors),
                warnings=len(warnings),
            )
        )
    return tuple(rows)


def _short(message: str, limit: int = 110) -> str:
    first = message.split(": it ", maxsplit=1)[0].split(": Lambda fails", maxsplit=1)[0]
    return first if len(first) <= limit else first[: limit - 1] + "…"


def _at_word(reason: str) -> str:
    """A reason cut short (JSON keeps the cut as it is) ends at a word for people to read."""
    if not reason.endswith("…") or " " not in reason:
        return reason
    return reason[:-1].rsplit(" ", 1)[0].rstrip(" ,:;") + " …"


def render_matrix(
    rows: Sequence[MatrixRow],
    output_format: str,
    style: Style = PLAIN,
    notes: Sequence[str] = (),
) -> str:
    if output_format != "json" and notes:
        lines = [line for n in notes for line in wrap(n, style.width, "", "note: ")]
        return render_matrix(rows, output_format, style) + "".join(f"{line}\n" for line in lines)
    if output_format == "json":
        return (
            json.dumps({"schema_version": 1, "matrix": [_row_dict(r) for r in rows]}, indent=2)
            + "\n"
        )
    table: list[list[str | Cell]] = [
        [
            r.runtime,
            r.arch,
            r.os,
            Cell("yes", "good") if r.starts else Cell("NO", "bad"),
            r.status,
            _at_word(r.reason) or "-",
        ]
        for r in rows
    ]
    headers = ["runtime", "arch", "os", "starts", "status", "first reason"]
    if style.width is None or natural_width(headers, table) <= style.width:
        return grid(headers, table, style) + "\n"
    # Too narrow for the reasons beside the rows: each goes on its own lines under its row.
    reasons = [_at_word(r.reason) for r in rows]
    return grid(headers[:-1], [row[:-1] for row in table], style, below=reasons) + "\n"


def _row_dict(r: MatrixRow) -> dict[str, object]:
    return {
        "runtime": r.runtime,
        "arch": r.arch,
        "os": r.os,
        "starts": r.starts,
        "status": r.status,
        "errors": r.errors,
        "warnings": r.warnings,
        "reason": r.reason,
    }
