"""The JSON report, schema version 1 (DESIGN section 4; `report-schema.json` beside this file)."""

from __future__ import annotations

from typing import Any

from linkscope import __version__
from linkscope.model import (
    BinaryFacts,
    Finding,
    Origin,
    Report,
    RuntimeClient,
    Toolchain,
    highest_and_strong,
    weak_only,
)

SCHEMA_VERSION = 1


def render(report: Report) -> str:
    from linkscope.render.indented_json import dumps  # json.dumps(indent=2), faster

    return dumps(report_to_dict(report)) + "\n"


def report_to_dict(report: Report) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "linkscope_version": __version__,
        "runtime": None
        if report.runtime is None
        else {"name": report.runtime.name, "arch": report.runtime.arch},
        "verdict": report.verdict,
        "binaries": [binary_to_dict(b) for b in sorted(report.binaries, key=lambda b: b.path)],
        "findings": [finding_to_dict(f) for f in sort_findings(report.findings)],
    }


def sort_findings(findings: tuple[Finding, ...]) -> list[Finding]:
    return sorted(
        findings, key=lambda f: (f.path, f.rule, f.library or "", f.version or "", f.message)
    )


def binary_to_dict(b: BinaryFacts) -> dict[str, Any]:
    required, strong = highest_and_strong(b.version_requirements)
    return {
        "path": b.path,
        "machine": b.machine,
        "elf_class": b.elf_class,
        "endianness": b.endianness,
        "elf_type": b.elf_type.value,
        "os_abi": b.os_abi,
        "entry": b.entry,
        "size": b.size,
        "mode": None if b.mode is None else f"{b.mode:04o}",
        "arm_float_abi": b.arm_float_abi,
        "linkage": b.linkage.value,
        "interpreter": b.interpreter,
        "libc": {
            "family": b.libc.family.value,
            "confidence": b.libc.confidence.value,
            "evidence": list(b.libc.evidence),
        },
        "needed": list(b.needed),
        "rpath": list(b.rpath),
        "runpath": list(b.runpath),
        "soname": b.soname,
        "flags": list(b.flags),
        "flags_1": list(b.flags_1),
        "required_versions": required,  # b.required_versions and b.weak_versions, in one pass
        "weak_versions": weak_only(required, strong),
        "version_requirements": [
            {"library": r.library, "version": r.version, "weak": r.weak, "symbols": list(r.symbols)}
            for r in b.version_requirements
        ],
        "version_definitions": list(b.version_definitions),
        "toolchain": toolchain_to_dict(b.toolchain),
        "runtime_client": client_to_dict(b.runtime_client),
        "origin": origin_to_dict(b.origin),
    }


def origin_to_dict(o: Origin | None) -> dict[str, Any] | None:
    if o is None:
        return None
    return {
        "ecosystem": o.ecosystem,
        "package": o.package,
        "version": o.version,
        "tag": o.tag,
        "abi": o.abi,
    }


def toolchain_to_dict(t: Toolchain) -> dict[str, Any]:
    return {
        "language": t.language,
        "compilers": list(t.compilers),
        "go": None
        if t.go is None
        else {
            "version": t.go.version,
            "main_module": t.go.main_module,
            "dependencies": [{"path": p, "version": v} for p, v in t.go.dependencies],
            "settings": dict(t.go.settings),
        },
        "rust": None
        if t.rust is None
        else {
            "rustc_version": t.rust.rustc_version,
            "crates": [{"name": n, "version": v} for n, v in t.rust.crates],
            "crates_source": t.rust.crates_source,
        },
        "x86_isa_level": t.x86_isa_needed,
        "aarch64_features": list(t.aarch64_features),
        "min_kernel": t.min_kernel,
        "build_id": t.build_id,
    }


def client_to_dict(c: RuntimeClient | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {"name": c.name, "version": c.version, "evidence": list(c.evidence)}


def finding_to_dict(f: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rule": f.rule,
        "severity": f.severity.value,
        "path": f.path,
        "message": f.message,
        "fix": f.fix,
    }
    if f.library is not None:
        out["library"] = f.library
    if f.version is not None:
        out["version"] = f.version
    if f.symbols:
        out["symbols"] = list(f.symbols)
    return out
