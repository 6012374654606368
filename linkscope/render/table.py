"""Human-readable tables (tabulate), for a terminal or a log."""

from __future__ import annotations

from linkscope.model import BinaryFacts, Report
from linkscope.render.json_report import sort_findings

MAX_SYMBOLS_SHOWN = 6


def render(report: Report, *, symbols: bool = False) -> str:
    from tabulate import tabulate  # imported here: only table output pays for it

    parts = []
    if report.runtime is not None:
        parts.append(
            f"runtime: {report.runtime.name} ({report.runtime.arch})  verdict: {report.verdict}"
        )
    if report.binaries:
        rows = [_row(b) for b in sorted(report.binaries, key=lambda b: b.path)]
        headers = [
            "path",
            "machine",
            "type",
            "linkage",
            "libc",
            "interpreter",
            "needs",
            "needed",
            "toolchain",
            "client",
        ]
        parts.append(tabulate(rows, headers=headers, tablefmt="simple"))
    if symbols:
        parts.extend(
            _symbols(b)
            for b in sorted(report.binaries, key=lambda b: b.path)
            if b.version_requirements
        )
    if report.findings:
        rows = [
            [f.severity.value, f.rule, f.path, f.message + (f"\n  fix: {f.fix}" if f.fix else "")]
            for f in sort_findings(report.findings)
        ]
        parts.append(
            tabulate(rows, headers=["severity", "rule", "path", "finding"], tablefmt="simple")
        )
    return "\n\n".join(parts) + "\n"


def _row(b: BinaryFacts) -> list[str]:
    needs = ", ".join(f"{k} {v}" for k, v in b.required_versions.items()) or "-"
    libc = b.libc.family.value + (
        "" if b.libc.confidence.value == "certain" else f" ({b.libc.confidence.value})"
    )
    client = (
        "-"
        if b.runtime_client is None
        else (
            b.runtime_client.name
            + (f" {b.runtime_client.version}" if b.runtime_client.version else "")
        )
    )
    return [
        b.path,
        b.machine,
        b.elf_type.value,
        b.linkage.value,
        libc,
        b.interpreter or "-",
        needs,
        ", ".join(b.needed) or "-",
        _built_with(b),
        client,
    ]


def _built_with(b: BinaryFacts) -> str:
    """The toolchain in a few words: the Go or rustc version, else the first compiler named."""
    from linkscope.elf.toolchain import compilers_of

    toolchain = b.toolchain
    if toolchain.go is not None:
        return toolchain.go.version or "go"
    if toolchain.rust is not None:
        return f"rustc {toolchain.rust.rustc_version}" if toolchain.rust.rustc_version else "rust"
    compilers = compilers_of(b)
    if compilers:
        return f"{compilers[0].name} {compilers[0].version}"
    return toolchain.language or "-"


def _symbols(b: BinaryFacts) -> str:
    lines = [f"{b.path}: symbol versions"]
    for r in b.version_requirements:
        shown = ", ".join(r.symbols[:MAX_SYMBOLS_SHOWN])
        more = len(r.symbols) - MAX_SYMBOLS_SHOWN
        extra = f" (+{more} more)" if more > 0 else ""
        weak = " [weak]" if r.weak else ""
        lines.append(f"  {r.library:<24} {r.version:<20}{weak} {shown}{extra}")
    return "\n".join(lines)
