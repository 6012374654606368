"""Assemble an Explanation: read the path once, check it against each runtime in memory, and turn
facts and findings into statements, runtime lines and problems with their fixes."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import asdict, replace

from linkscope.api import _require_content, check_scanned, scan
from linkscope.elf.toolchain import compilers_of, guess_builder
from linkscope.explain import (
    OS_ONLY_RUNTIMES,
    BinaryExplanation,
    Explanation,
    Problem,
    RuntimeLine,
    Statement,
    libc_answer,
)
from linkscope.explain import package as pk
from linkscope.explain import statements as st
from linkscope.model import BinaryFacts, Finding, LibcFamily, Linkage, ScannedPackage, Severity
from linkscope.profiles import load_target, runtime_named
from linkscope.profiles.model import Target
from linkscope.rules.base import Context

LAMBDA_ARCH = {"x86_64": "x86_64", "aarch64": "arm64"}
VERSION_RULES = ("LS301", "LS302", "LS303", "LS304")
LIFECYCLE = "LS501"
CLIENTS = {
    "aws-lambda-rust": "the Rust runtime client (crate lambda_runtime)",
    "aws-lambda-go": "aws-lambda-go, AWS's Go runtime client",
    "aws-lambda-cpp": "aws-lambda-cpp, AWS's C++ runtime client",
    "aws-lambda-dotnet": "Amazon.Lambda.RuntimeSupport, AWS's .NET runtime client",
    "aws-lambda-java": "AWS's Java runtime interface client",
    "swift-aws-lambda-runtime": "swift-aws-lambda-runtime, the Swift runtime client",
    "custom": "a hand-rolled Runtime API client: it reads AWS_LAMBDA_RUNTIME_API and calls "
    "/2018-06-01/runtime/invocation/ itself, without AWS's client libraries",
    "extensions-api": "a Lambda Extensions API client (it registers as an extension)",
}


def build_explanation(
    path: str, runtime: str, arch: str, *, layers: Sequence[str], today: datetime.date
) -> Explanation:
    requested = load_target(runtime, arch)  # unknown runtime or architecture: a UsageError
    packages = scan([path], arch=arch)
    for package in packages:
        _require_content(package, package.ecosystems.language or "")  # a lone handler file
    if packages[0].image is not None:  # the image is its own runtime
        from linkscope.explain.image import explain_image

        return explain_image(packages[0], requested, arch, today)
    layer_packages = scan(layers)
    language = next((p.ecosystems.language for p in packages), None)
    others = pk.language_runtimes(language, arch, today) or OS_ONLY_RUNTIMES
    handler_note = pk.lone_handler_note(packages, requested, others)
    if handler_note:  # a lone handler runs on its language's runtimes only, as check says
        requested, others = load_target(others[0], arch), others[1:]
    checks = _checks(packages, layer_packages, requested, arch, today, others)
    binaries = tuple(
        _binary(facts, requested, checks, today)
        for package in packages
        for facts in sorted(package.binaries, key=lambda b: b.path)
    )
    paths = {b.path for p in packages for b in p.binaries}
    managed = language in pk.MANAGED
    return Explanation(
        path=path,
        runtime=requested.runtime.name,
        arch=arch,
        today=today,
        binaries=binaries,
        notes=(*handler_note, *_notes(packages), *pk.nothing_found_note(packages, path)),
        language=pk.language_statement(packages),
        package_runtimes=tuple(
            pk.package_line(packages, name, target, findings, today)
            for name, target, findings in checks
        )
        if managed
        else (),
        package_problems=_package_problems(checks, paths)
        + pk.empty_package_problems(packages, checks[0]),
        nothing_to_start=pk.has_nothing_to_start(packages),
        requested_starts=not any(f.severity is Severity.ERROR for f in checks[0][2]),
    )


def _package_problems(checks: list[Checked], binaries: set[str]) -> tuple[Problem, ...]:
    problems = [
        p for name, _t, findings in checks for p in pk.package_problems(findings, binaries, name)
    ]
    return _merge(problems)


Checked = tuple[str, Target | None, tuple[Finding, ...]]


def _checks(
    packages: Sequence[ScannedPackage],
    layers: Sequence[ScannedPackage],
    requested: Target,
    arch: str,
    today: datetime.date,
    others: Sequence[str] = OS_ONLY_RUNTIMES,
) -> list[Checked]:
    context = Context(today=today)
    names = dict.fromkeys((requested.runtime.name, *others))
    out: list[Checked] = []
    for name in names:
        if arch not in runtime_named(name).architectures:
            out.append((name, None, ()))
            continue
        target = requested if name == requested.runtime.name else load_target(name, arch)
        report = check_scanned(packages, layers, target, context)
        out.append((name, target, report.findings))
    return out


def _binary(
    facts: BinaryFacts, requested: Target, checks: list[Checked], today: datetime.date
) -> BinaryExplanation:
    statements = [
        st.what_it_is(facts),
        st.toolchain_statement(facts),
        libc_answer.c_library(facts, requested),
    ]
    for extra in (st.cxx_library(facts, requested), st.cpu_statement(facts)):
        if extra is not None:
            statements.append(extra)
    statements.append(client_statement(facts))
    lines: list[RuntimeLine] = []
    problems: list[Problem] = []
    for name, target, findings in checks:
        mine = tuple(f for f in findings if f.path == facts.path or f.rule == LIFECYCLE)
        lines.append(_runtime_line(facts, name, target, mine, requested.arch, today))
        if target is not None:
            problems.extend(_problems(facts, target, mine, requested=target is requested))
    return BinaryExplanation(
        path=facts.path,
        statements=tuple(statements),
        runtimes=tuple(lines),
        problems=_merge(problems),
        toolchain=fingerprint(facts),
        client=facts.runtime_client,
    )


def _merge(problems: list[Problem]) -> tuple[Problem, ...]:
    """The same problem with the same fix on several runtimes is listed once, naming them all."""
    merged: dict[tuple[str, str, str, str], list[Problem]] = {}
    for p in problems:
        merged.setdefault((p.rule, p.severity, p.text, p.fix), []).append(p)
    return tuple(
        replace(group[0], runtime=", ".join(p.runtime for p in group)) for group in merged.values()
    )


def client_statement(facts: BinaryFacts) -> Statement:
    client = facts.runtime_client
    if client is None:
        if facts.is_shared_library:
            text = (
                "It is a shared library, which Lambda does not run itself; it contains no "
                "Lambda Runtime API client."
            )
        else:
            text = (
                "It contains no Lambda Runtime API client. Deployed as a bootstrap it would "
                "start and then never ask for an invocation: the invoke times out, or "
                "fails with Runtime.ExitError when the program exits (LS502)."
            )
        because = (
            "no AWS_LAMBDA_RUNTIME_API, no /runtime/invocation/, no known client user "
            "agent in its data sections",
        )
        return Statement(topic="client", title="Runtime API client", text=text, because=because)
    what = CLIENTS.get(client.name, client.name)
    text = f"It contains {what}" + (f", version {client.version}" if client.version else "") + "."
    if client.name == "aws-lambda-go":
        if any("lambda.norpc" in e for e in client.evidence):
            text += (
                " It was built with -tags lambda.norpc: only the Runtime API, as provided.* "
                "runtimes use."
            )
        elif any("_LAMBDA_SERVER_PORT" in e for e in client.evidence):
            text += (
                " It still carries the go1.x RPC mode (build with -tags lambda.norpc to "
                "drop it on provided.* runtimes)."
            )
    if facts.is_shared_library:
        text += " It is a shared library: the program that loads it runs the client."
    return Statement(topic="client", title="Runtime API client", text=text, because=client.evidence)


def _runtime_line(
    facts: BinaryFacts,
    name: str,
    target: Target | None,
    findings: tuple[Finding, ...],
    arch: str,
    today: datetime.date,
) -> RuntimeLine:
    runtime = runtime_named(name)
    if target is None:
        return RuntimeLine(
            runtime=name,
            arch=arch,
            os=None,
            starts=None,
            status="unavailable",
            text=f"{name} does not run on {arch} (only {', '.join(runtime.architectures)}).",
        )
    status = runtime.status(today)
    blocking = [f for f in findings if f.rule != LIFECYCLE]
    errors = [f for f in blocking if f.severity is Severity.ERROR]
    warnings = [f for f in blocking if f.severity is Severity.WARNING]
    os_text = f"{target.os.name}, glibc {target.os.glibc}"
    if errors:
        text = f"Does not start: {_reasons(errors).rstrip('.')}."
    elif warnings:
        text = f"Starts, with warnings: {_reasons(warnings).rstrip('.')}."
    else:
        text = f"Starts: {_why_it_starts(facts, target)}."
    because = [f"{f.rule}: {f.message}" for f in findings if f.rule == LIFECYCLE]
    return RuntimeLine(
        runtime=name,
        arch=arch,
        os=os_text,
        starts=not errors,
        status=status,
        text=text,
        because=tuple(because),
        rules=tuple(dict.fromkeys(f.rule for f in blocking)),
    )


def _reasons(findings: list[Finding]) -> str:
    groups: dict[tuple[str, str | None], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.rule, f.library if f.rule in VERSION_RULES else f.message), []).append(
            f
        )
    parts = []
    for (rule, _), group in groups.items():
        if rule in VERSION_RULES:
            versions = sorted({f.version or "" for f in group}, key=_vkey)
            parts.append(f"{rule} needs {versions[-1]} from {group[0].library}")
        else:
            parts.append(f"{rule} {_first_clause(group[0].message)}")
    return "; ".join(parts)


def _vkey(version: str) -> tuple[int, ...]:
    from linkscope.model import split_version

    parsed = split_version(version)
    return parsed[1] if parsed else ()


def _first_clause(message: str) -> str:
    text = (
        message.split(": Lambda fails", maxsplit=1)[0]
        .split(": it will", maxsplit=1)[0]
        .split(": loading", maxsplit=1)[0]
    )
    # Drop the leading `path` the message starts with: the line is about this binary already.
    if text.startswith("`") and "` " in text:
        text = text.split("` ", 1)[1]
    return text


def _why_it_starts(facts: BinaryFacts, target: Target) -> str:
    family = facts.libc.family
    if facts.linkage in (Linkage.STATIC, Linkage.STATIC_PIE):
        return "it needs nothing from the system (no loader, no libraries)"
    if facts.interpreter and not facts.needed and family in (LibcFamily.NONE, LibcFamily.GLIBC):
        return f"its interpreter {facts.interpreter} is there and it needs no libraries"
    versions = libc_answer.glibc_versions(facts)
    parts = []
    if versions:
        parts.append(
            f"it needs glibc {versions[0][0].removeprefix('GLIBC_')} and the runtime "
            f"has {target.os.glibc}"
        )
    cxx = libc_answer.glibc_versions(facts, "GLIBCXX")
    lib = next((x for x in target.os.libraries if x.soname == "libstdc++.so.6"), None)
    if cxx and lib and lib.ceiling("GLIBCXX"):
        parts.append(
            f"it needs {cxx[0][0]} and the runtime's libstdc++ has GLIBCXX_{lib.ceiling('GLIBCXX')}"
        )
    if facts.needed:
        parts.append(f"{', '.join(facts.needed)} found")
    return "; ".join(parts) or "nothing it needs is missing"


def _problems(
    facts: BinaryFacts, target: Target, findings: tuple[Finding, ...], *, requested: bool
) -> list[Problem]:
    name = target.runtime.name
    out: list[Problem] = []
    grouped: dict[tuple[str, str | None], list[Finding]] = {}
    for f in findings:
        if f.rule == LIFECYCLE and not requested:
            continue
        if f.rule in VERSION_RULES and f.library:
            grouped.setdefault((f.rule, f.library), []).append(f)
            continue
        out.append(
            Problem(rule=f.rule, severity=f.severity.value, runtime=name, text=f.message, fix=f.fix)
        )
    for (rule, library), group in grouped.items():
        out.append(_version_problem(rule, library or "", group, target))
    return sorted(out, key=lambda p: (p.rule, p.text))


def _version_problem(rule: str, library: str, group: list[Finding], target: Target) -> Problem:
    from linkscope.model import split_version

    ordered = sorted(group, key=lambda f: _vkey(f.version or ""), reverse=True)
    listed = libc_answer.version_list([(f.version or "", f.symbols) for f in ordered])
    prefix = (split_version(ordered[0].version or "") or ("", ()))[0]
    lib = next((x for x in target.os.libraries if x.soname == library), None)
    ceiling = lib.ceiling(prefix) if lib and prefix else None
    has = (
        f"{target.runtime.name}'s {library} goes up to {prefix}_{ceiling}"
        if ceiling
        else f"{target.runtime.name}'s {library} does not define them"
    )
    text = (
        f"On {target.runtime.name} it needs {listed} from {library}, but {has}: it fails to "
        f'start with "version `{ordered[0].version}\' not found".'
    )
    because = (
        f".gnu.version_r: {', '.join(f.version or '' for f in ordered)} from {library}",
        f"{target.runtime.name}: {library} up to {prefix}_{ceiling}"
        if ceiling
        else f"{target.runtime.name}: no {library} that defines them",
    )
    return Problem(
        rule=rule,
        severity=ordered[0].severity.value,
        runtime=target.runtime.name,
        text=text,
        fix=ordered[0].fix,
        because=because,
    )


def fingerprint(facts: BinaryFacts) -> dict[str, object]:
    tc = facts.toolchain
    builder = guess_builder(facts)
    return {
        "language": tc.language,
        "builder": None if builder is None else asdict(builder),
        "compilers": [asdict(c) for c in compilers_of(facts)],
        "go": None
        if tc.go is None
        else {
            "version": tc.go.version,
            "main_module": tc.go.main_module,
            "dependencies": [list(d) for d in tc.go.dependencies],
            "settings": {k: v for k, v in tc.go.settings},
        },
        "rust": None
        if tc.rust is None
        else {
            "rustc_version": tc.rust.rustc_version,
            "crates": [list(c) for c in tc.rust.crates],
            "crates_source": tc.rust.crates_source,
        },
        "x86_isa_needed": tc.x86_isa_needed,
        "aarch64_features": list(tc.aarch64_features),
        "min_kernel": tc.min_kernel,
        "build_id": tc.build_id,
    }


def _notes(packages: Sequence[ScannedPackage]) -> tuple[str, ...]:
    notes = [
        f"{s.path} is a script ({s.interpreter}); explain describes ELF files: run "
        "`linkscope check` for scripts."
        for p in packages
        for s in p.scripts
    ]
    notes += [f"{p.path}: {p.message}" for package in packages for p in package.problems]
    return tuple(notes)
