"""The public library surface: plain data in, plain data out. No printing, no exit codes.

>>> import linkscope
>>> report = linkscope.inspect(["fixtures/bin/c_hello_gcc_pie_x86_64"])
>>> report.binaries[0].libc.family.value
'glibc'
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import TYPE_CHECKING

from linkscope.errors import InputError, NotElfError, UsageError
from linkscope.inputs import Limits
from linkscope.model import BinaryFacts, Finding, Report, RuntimeRef, ScannedPackage, Severity
from linkscope.scan import Progress, complete_binaries, scan_paths

if TYPE_CHECKING:
    from linkscope.profiles.model import Target
    from linkscope.resolve import World
    from linkscope.resolve.tree import TreeReport
    from linkscope.rules.base import Context

__all__ = ["Limits", "check", "inspect", "scan"]


def scan(
    paths: Sequence[str],
    limits: Limits | None = None,
    *,
    progress: Progress | None = None,
    lean: bool = False,
    arch: str | None = None,
) -> tuple[ScannedPackage, ...]:
    """Read each path. `lean`: large shared libraries inside packages are read for a check
    verdict only (linkscope/elf/lean.py), without the facts that only `inspect` reports.
    `arch` picks the manifest of a multi-platform container image (default: x86_64)."""
    from linkscope.elf.facts import LEAN_ABOVE

    lean_above = LEAN_ABOVE if lean else None
    return scan_paths(
        paths, limits or Limits(), progress=progress, lean_above=lean_above, arch=arch
    )


def inspect(
    paths: Sequence[str], limits: Limits | None = None, *, progress: Progress | None = None
) -> Report:
    """What each ELF file under `paths` is and needs. Unreadable files inside folders and zips
    become LS001 findings; a path that is itself unusable raises an InputError."""
    packages = scan(paths, limits, progress=progress)
    for package in packages:
        _require_elf(package)
    return Report(
        binaries=tuple(b for p in packages for b in p.binaries),
        findings=tuple(unreadable_findings(packages)) + native_findings(packages),
    )


def native_findings(packages: Sequence[ScannedPackage]) -> tuple[Finding, ...]:
    """LS103 for Mach-O and PE files (inspect has no runtime: their place decides)."""
    if not any(p.natives for p in packages):
        return ()
    from linkscope.rules.native import package_findings

    return tuple(f for p in packages for f in package_findings(p, None))


def _require_elf(package: ScannedPackage) -> None:
    if package.binaries or package.problems or package.natives:
        return
    if package.kind == "file":
        raise NotElfError(f"{package.source}: not an ELF file")
    raise InputError(f"{package.source}: no ELF files found")


def unreadable_findings(packages: Sequence[ScannedPackage]) -> list[Finding]:
    problems = [problem for package in packages for problem in package.problems]
    if not problems:
        return []  # the usual case: the advice modules (and npm's) are not imported
    from linkscope.advice import UNREADABLE_FIX

    return [
        Finding(
            rule="LS001",
            severity=Severity.ERROR,
            path=problem.path,
            message=f"{problem.path}: {problem.message}",
            fix=UNREADABLE_FIX,
        )
        for problem in problems
    ]


def check(
    paths: Sequence[str],
    runtime: str = "provided.al2023",
    arch: str = "x86_64",
    *,
    layers: Sequence[str] = (),
    sysroot: str | None = None,
    fail_on: Severity = Severity.ERROR,
    ignore: Sequence[str] = (),
    strict: bool = False,
    today: datetime.date | None = None,
    limits: Limits | None = None,
    progress: Progress | None = None,
) -> Report:
    """Will each package under `paths` start on `runtime` (on `arch`)? Returns the facts, the
    findings and a verdict: "incompatible" when a finding reaches `fail_on`."""
    from linkscope.rules import Context

    _check_ignores(ignore)
    target = load_check_target(runtime, arch, sysroot)
    context = Context(today=today or datetime.date.today(), strict=strict)
    packages = scan(paths, limits, progress=progress, lean=True, arch=arch)
    for package in packages:
        _require_content(package, target.runtime.family)
    _check_image_options(packages, layers, sysroot)
    layer_packages = scan(layers, limits, progress=progress, lean=True)
    report = check_scanned(
        packages, layer_packages, target, context, fail_on=fail_on, ignore=ignore
    )
    # A finding's fix names the toolchain that built its file, which a lean read leaves out:
    # read those files in full and check again (the verdict itself never depends on it).
    lean = {b.path for b in report.binaries if not b.complete}
    about = lean.intersection(f.path for f in report.findings)
    if not about:
        return report
    limits = limits or Limits()
    # (an image is not read twice: its lean files keep their verdict, with less fix detail)
    read_again = tuple(p if p.image else complete_binaries(p, about, limits) for p in packages)
    layers_again = tuple(complete_binaries(p, about, limits) for p in layer_packages)
    if all(
        a is b for a, b in zip(read_again + layers_again, packages + layer_packages, strict=True)
    ):
        return report  # nothing was read again (an image alone): the same check would follow
    return check_scanned(read_again, layers_again, target, context, fail_on=fail_on, ignore=ignore)


def check_scanned(
    packages: Sequence[ScannedPackage],
    layer_packages: Sequence[ScannedPackage],
    target: Target,
    context: Context,
    *,
    fail_on: Severity = Severity.ERROR,
    ignore: Sequence[str] = (),
) -> Report:
    """The check itself, on packages already read (matrix reuses one scan for every runtime)."""
    worlds = [make_world(package, layer_packages, target) for package in packages]
    return check_worlds(worlds, layer_packages, target, context, fail_on=fail_on, ignore=ignore)


def make_world(
    package: ScannedPackage, layer_packages: Sequence[ScannedPackage], target: Target
) -> World:
    """The simulated filesystem for one package; a container image is its own runtime
    (DESIGN section 6), checked for the function's architecture."""
    if package.image is not None:
        from linkscope.resolve.image import build_image_world, image_target

        return build_image_world(package, image_target(package, target))
    from linkscope.resolve import build_world

    return build_world(package, layer_packages, target)


def check_worlds(
    worlds: Sequence[World],
    layer_packages: Sequence[ScannedPackage],
    target: Target,
    context: Context,
    *,
    fail_on: Severity = Severity.ERROR,
    ignore: Sequence[str] = (),
) -> Report:
    """The findings and verdict over simulated filesystems already resolved (`tree` shows
    the same resolution it judges)."""
    from linkscope.rules import evaluate

    binaries: list[BinaryFacts] = [b for layer in layer_packages for b in layer.binaries]
    findings: list[Finding] = []
    for world in worlds:
        binaries.extend(world.function[0].binaries)
        findings.extend(evaluate(world, context))  # all rules: the ignored ones are counted
    every = tuple(dict.fromkeys(findings))
    unique = tuple(f for f in every if f.rule not in ignore)
    failed = any(f.severity.rank >= fail_on.rank for f in unique)
    from linkscope.ecosystems import language_mismatch

    return Report(
        binaries=tuple(binaries),
        findings=unique,
        runtime=RuntimeRef(
            name=worlds[0].target.runtime.name if worlds else target.runtime.name,
            arch=target.arch,
        ),
        verdict="incompatible" if failed else "compatible",
        ignored=len(every) - len(unique),
        notes=language_mismatch(
            [w.function[0] for w in worlds], target.runtime.family, target.runtime.name
        ),
    )


def tree(
    paths: Sequence[str],
    runtime: str = "provided.al2023",
    arch: str = "x86_64",
    *,
    layers: Sequence[str] = (),
    sysroot: str | None = None,
    fail_on: Severity = Severity.ERROR,
    ignore: Sequence[str] = (),
    strict: bool = False,
    today: datetime.date | None = None,
    limits: Limits | None = None,
    progress: Progress | None = None,
) -> TreeReport:
    """The dependency tree of every ELF under `paths` that the runtime would load, as `check`
    resolves it, with the check's verdict (so that `linkscope tree` exits as `check` does)."""
    from linkscope.resolve.tree import TreeReport, build_trees
    from linkscope.rules import Context

    _check_ignores(ignore)
    target = load_check_target(runtime, arch, sysroot)
    context = Context(today=today or datetime.date.today(), strict=strict)
    packages = scan(paths, limits, progress=progress, arch=arch)
    for package in packages:
        _require_content(package, target.runtime.family)
    _check_image_options(packages, layers, sysroot)
    layer_packages = scan(layers, limits, progress=progress)
    worlds = [make_world(package, layer_packages, target) for package in packages]
    report = check_worlds(worlds, layer_packages, target, context, fail_on=fail_on, ignore=ignore)
    return TreeReport(report=report, trees=tuple(t for w in worlds for t in build_trees(w)))


def load_check_target(runtime: str, arch: str, sysroot: str | None) -> Target:
    from dataclasses import replace

    from linkscope.profiles import load_target
    from linkscope.profiles.sysroot import os_from_sysroot

    target = load_target(runtime, arch)
    if sysroot is None:
        return target
    return replace(target, os=os_from_sysroot(sysroot, arch), sysroot=sysroot)


def _check_image_options(
    packages: Sequence[ScannedPackage], layers: Sequence[str], sysroot: str | None
) -> None:
    if not any(p.image is not None for p in packages):
        return
    if layers:
        raise UsageError(
            "--layer: Lambda layers are not supported for functions created with container "
            "images (put the layer's files into the image, under /opt)"
        )
    if sysroot:
        raise UsageError("--sysroot: a container image is checked against itself, not a root")


# A single handler source file is a whole function for its language's runtime (no native code).
HANDLER_SOURCES = {"python": (".py",), "nodejs": (".js", ".mjs", ".cjs"), "ruby": (".rb",)}


def _require_content(package: ScannedPackage, family: str = "") -> None:
    if package.binaries or package.problems or package.scripts or package.natives:
        return
    if package.kind == "file" and package.source.endswith(HANDLER_SOURCES.get(family, ("\0",))):
        return
    if package.kind == "file":
        raise NotElfError(f"{package.source}: neither an ELF file nor a script")
    if not package.entries:
        raise InputError(f"{package.source}: empty {package.kind}")


def _check_ignores(ignore: Sequence[str]) -> None:
    from linkscope.rules import RULES_BY_ID

    unknown = [rule for rule in ignore if rule not in RULES_BY_ID]
    if unknown:
        raise UsageError(
            f"--ignore {', '.join(unknown)}: no such rule (known: {', '.join(RULES_BY_ID)})"
        )
