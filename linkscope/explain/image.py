"""`explain` for a container image: the image is the runtime, so there is one answer (for the
function's architecture), about the programs Lambda starts: the entrypoint and what it loads."""

from __future__ import annotations

import datetime

from linkscope.explain import BinaryExplanation, Explanation, RuntimeLine
from linkscope.model import BinaryFacts, Finding, ScannedPackage, Severity
from linkscope.profiles.model import Target


def explain_image(
    package: ScannedPackage, requested: Target, arch: str, today: datetime.date
) -> Explanation:
    from linkscope.api import check_scanned
    from linkscope.explain import build
    from linkscope.resolve.image import image_target
    from linkscope.rules.base import Context

    image = package.image
    assert image is not None
    target = image_target(package, requested)
    report = check_scanned([package], [], requested, Context(today=today))
    chosen = _started(package)
    binaries = []
    whole = tuple(f for f in report.findings if f.path == package.source)  # LS70x, about it all
    for facts in chosen:
        mine = tuple(f for f in report.findings if f.path == facts.path)
        base = build._binary(facts, target, [], today)
        binaries.append(
            BinaryExplanation(
                path=base.path,
                statements=base.statements,
                runtimes=(_line(facts, target, mine + whole, arch),),
                problems=build._merge(build._problems(facts, target, mine, requested=True)),
                toolchain=base.toolchain,
                client=base.client,
            )
        )
    notes = [
        f"{f.rule} ({f.severity.value}): {f.message} Fix: {f.fix}"
        for f in report.findings
        if f.path == package.source
    ]
    return Explanation(
        path=package.source,
        runtime="image",
        arch=arch,
        today=today,
        binaries=tuple(binaries),
        notes=(*notes, *(f"{p.path}: {p.message}" for p in package.problems)),
    )


def _started(package: ScannedPackage) -> list[BinaryFacts]:
    """The entrypoint's ELF (the program Lambda starts), or every ELF when it is a script."""
    image = package.image
    assert image is not None
    entry = image.entrypoint_resolved
    found = [b for b in package.binaries if entry and b.path.endswith("!" + entry)]
    return found or sorted(package.binaries, key=lambda b: b.path)


def _line(
    facts: BinaryFacts, target: Target, findings: tuple[Finding, ...], arch: str
) -> RuntimeLine:
    from linkscope.explain.build import _reasons

    errors = [f for f in findings if f.severity is Severity.ERROR]
    warnings = [f for f in findings if f.severity is Severity.WARNING]
    if errors:
        text = f"Does not start: {_reasons(errors).rstrip('.')}."
    elif warnings:
        text = f"Starts, with warnings: {_reasons(warnings).rstrip('.')}."
    else:
        text = "Starts: its loader, libraries and symbol versions are all in the image."
    return RuntimeLine(
        runtime="image",
        arch=arch,
        os=f"{target.os.name}, glibc {target.os.glibc}",
        starts=not errors,
        status="supported",
        text=text,
        rules=tuple(dict.fromkeys(f.rule for f in findings)),
    )
