"""The package-level answer of `explain`: which language the package is for, and what that
means on each of that language's runtimes ("3 of its 41 extension modules were installed for
CPython 3.13"), with the findings that are about no single ELF file (a Mach-O module, a layer
folder the runtime never searches)."""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Sequence

from linkscope.ecosystems import language_name
from linkscope.ecosystems.python import ExtensionModule, PythonPackage
from linkscope.explain import Problem, RuntimeLine, Statement
from linkscope.model import Finding, ScannedPackage, Severity
from linkscope.profiles import load_runtimes, runtime_named
from linkscope.profiles.languages import LanguageFacts, language_facts
from linkscope.profiles.model import Target

MANAGED = ("python", "nodejs", "ruby", "java", "dotnet")


def language_runtimes(language: str | None, arch: str, today: datetime.date) -> tuple[str, ...]:
    """The supported runtimes of a managed language on `arch`, newest first (runtimes.json
    lists them so); () for OS-only packages and packages of no known language."""
    if language not in MANAGED:
        return ()
    return tuple(
        r.name
        for r in load_runtimes()
        if r.family == language
        and arch in r.architectures
        and not r.container_only
        and r.status(today) == "supported"
    )


def language_statement(packages: Sequence[ScannedPackage]) -> Statement | None:
    for package in packages:
        language = package.ecosystems.language
        if language is None or package.kind == "file":
            continue
        part = next(p for p in package.ecosystems.parts if p.ecosystem == language)
        what = (
            "a function for an OS-only runtime (it brings its own bootstrap)"
            if language == "os-only"
            else f"a {language_name(language)} function"
        )
        return Statement(
            topic="language",
            title="What the package is for",
            text=f"{package.source} is {what}.",
            because=part.evidence,
        )
    return None


def package_line(
    packages: Sequence[ScannedPackage],
    name: str,
    target: Target | None,
    findings: Sequence[Finding],
    today: datetime.date,
) -> RuntimeLine:
    """One runtime's verdict on the whole package, in the language's own terms."""
    runtime = runtime_named(name)
    if target is None:
        return RuntimeLine(
            runtime=name,
            arch="",
            os=None,
            starts=None,
            status="unavailable",
            text=f"{name} does not exist on this architecture.",
        )
    errors = [f for f in findings if f.severity is Severity.ERROR and f.rule != "LS501"]
    parts = _python_parts(packages, language_facts(name), target.arch)
    other = Counter(f.rule for f in errors if f.rule != "LS601")
    if other:
        parts.append(
            f"{sum(other.values())} other error(s) ({', '.join(sorted(other))}), listed below"
        )
    starts = not errors
    if starts and parts and "will not import" in parts[0]:
        # no LS601 error: each such module is optional (a pure-Python fallback) or a spare
        one = parts[0].endswith(" it")
        parts[0] += (
            f", but the function does not need {'it' if one else 'them'}: "
            f"{'its package uses' if one else 'their packages use'} a pure-Python fallback "
            "(slower) or another build beside it"
        )
    text = (
        "starts: " + (parts[0] if parts else "no finding stops it") + "."
        if starts
        else "FAILS: " + "; ".join(parts) + "."
    )
    return RuntimeLine(
        runtime=name,
        arch=target.arch,
        os=target.os.name,
        starts=starts,
        status=runtime.status(today),
        text=text,
        rules=tuple(sorted({f.rule for f in errors})),
    )


def _python_parts(
    packages: Sequence[ScannedPackage], facts: LanguageFacts | None, arch: str
) -> list[str]:
    if facts is None or facts.python is None:
        return []
    from linkscope.rules.python import refusal

    modules: list[ExtensionModule] = []
    for package in packages:
        part = package.ecosystems.part(PythonPackage)
        if part is not None:
            modules += [m for m in part.extensions if m.kind != "bare"]
    if not modules:
        return []
    reasons = {m.inner: refusal(m, facts, arch) for m in modules}
    importable = {(m.folder, m.module) for m in modules if reasons[m.inner] is None}
    refused = Counter(
        _short(reason)
        for m in modules
        if (reason := reasons[m.inner]) is not None and (m.folder, m.module) not in importable
    )
    total, version = len(modules), facts.version
    if not refused:
        if total == 1:
            return [f"Python {version} imports its extension module"]
        return [f"Python {version} imports all {total} of its extension modules"]
    if total == 1:
        why = next(iter(refused))
        return [f"its extension module was {why}, so Python {version} will not import it"]
    return [
        f"{count} of its {total} extension modules "
        f"{'was' if count == 1 else 'were'} {why}, so Python {version} will not import "
        f"{'it' if count == 1 else 'them'}"
        for why, count in refused.most_common()
    ]


def _short(reason: str) -> str:
    """ "built for CPython 3.13 (`...`)" -> "installed for CPython 3.13"."""
    text = reason.split(" (`", 1)[0]
    return text.replace("built for CPython", "installed for CPython", 1)


def package_problems(
    findings: Sequence[Finding], binaries: set[str], runtime: str
) -> tuple[Problem, ...]:
    return tuple(
        Problem(rule=f.rule, severity=f.severity.value, runtime=runtime, text=f.message, fix=f.fix)
        for f in findings
        if f.path not in binaries and (f.rule == "LS103" or f.rule.startswith("LS6"))
    )


def lone_handler_note(
    packages: Sequence[ScannedPackage], requested: Target, language_runtimes: Sequence[str]
) -> tuple[str, ...]:
    """A lone handler source file (lambda_function.py) is a function for its language's
    runtimes only; `check` refuses it on any other, so explain answers for those instead."""
    if len(packages) != 1 or packages[0].kind != "file" or not language_runtimes:
        return ()
    package = packages[0]
    if (
        package.binaries
        or package.scripts
        or requested.runtime.family == (package.ecosystems.language)
    ):
        return ()
    return (
        f"{package.source} is a {language_name(package.ecosystems.language or '')} handler "
        f"file: it runs on that language's runtimes, not on {requested.runtime.name}, so it is "
        f"explained for {language_runtimes[0]}.",
    )


def has_nothing_to_start(packages: Sequence[ScannedPackage]) -> bool:
    """No ELF file, script, native module or handler file anywhere: nothing Lambda would start."""
    return all(
        not (p.binaries or p.scripts or p.natives or p.problems)
        and p.image is None
        and p.ecosystems.language is None
        for p in packages
    )


def nothing_found_note(packages: Sequence[ScannedPackage], path: str) -> tuple[str, ...]:
    if not has_nothing_to_start(packages):
        return ()
    return (f"no ELF files, scripts or handler files in {path}: nothing Lambda would start.",)


def empty_package_problems(
    packages: Sequence[ScannedPackage], requested: tuple[str, Target | None, tuple[Finding, ...]]
) -> tuple[Problem, ...]:
    """With nothing in the package, the requested runtime's errors (LS002: no bootstrap) are
    the whole answer: show them as `check` does."""
    if not has_nothing_to_start(packages):
        return ()
    name, _target, findings = requested
    return tuple(
        Problem(rule=f.rule, severity=f.severity.value, runtime=name, text=f.message, fix=f.fix)
        for f in findings
        if f.severity is Severity.ERROR
    )
