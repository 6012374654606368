"""The public library surface: plain data in, plain data out. No printing, no exit codes.

    >>> import linkscope
    >>> report = linkscope.inspect(["fixtures/bin/c_hello_gcc_pie_x86_64"])
    >>> report.binaries[0].libc.family.value
    'glibc'
"""

from __future__ import annotations

from collections.abc import Sequence

from linkscope.errors import InputError, NotElfError
from linkscope.inputs import Limits
from linkscope.model import Finding, Report, ScannedPackage, Severity
from linkscope.scan import scan_path

__all__ = ["Limits", "inspect", "scan"]


def scan(paths: Sequence[str], limits: Limits | None = None) -> tuple[ScannedPackage, ...]:
    return tuple(scan_path(path, limits or Limits()) for path in paths)


def inspect(paths: Sequence[str], limits: Limits | None = None) -> Report:
    """What each ELF file under `paths` is and needs. Unreadable files inside folders and zips
    become LS001 findings; a path that is itself unusable raises an InputError."""
    packages = scan(paths, limits)
    for package in packages:
        _require_elf(package)
    return Report(
        binaries=tuple(b for p in packages for b in p.binaries),
        findings=tuple(unreadable_findings(packages)),
    )


def _require_elf(package: ScannedPackage) -> None:
    if package.binaries or package.problems:
        return
    if package.kind == "file":
        raise NotElfError(f"{package.source}: not an ELF file")
    raise InputError(f"{package.source}: no ELF files found")


def unreadable_findings(packages: Sequence[ScannedPackage]) -> list[Finding]:
    return [
        Finding(
            rule="LS001",
            severity=Severity.ERROR,
            path=problem.path,
            message=f"{problem.path}: {problem.message}",
            fix="Rebuild or re-copy the file; a damaged binary cannot be loaded.",
        )
        for package in packages
        for problem in package.problems
    ]
