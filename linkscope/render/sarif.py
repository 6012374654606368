"""SARIF 2.1.0 (OASIS), for GitHub code scanning and other SARIF viewers.

One run; `tool.driver.rules[]` has one entry per rule in the registry (`ALL_RULES`), and each
finding becomes a result pointing at it by `ruleId` and `ruleIndex`. Deterministic: no timestamps,
no host paths beyond those the user gave, results in the same order as the JSON report.

Where a finding points (`artifactLocation.uri`):
- a file given on the command line or found in a folder: its path, as a relative URI reference
  (percent-encoded where needed), so that GitHub maps it to the file in the repository;
- a zip member (`function.zip!lib/libfoo.so`): the archive, `function.zip`, because a SARIF
  physical location must name a real file and GitHub only knows files in the repository; the
  member is kept in a `logicalLocations` entry (`fullyQualifiedName` is the full
  `function.zip!lib/libfoo.so`) and in the result's `properties.member`;
- an absolute path: a `file://` URI.
Every result has `region.startLine: 1`: the finding is about the whole file, and GitHub code
scanning rejects results without a start line.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any
from urllib.parse import quote

from linkscope import __version__
from linkscope.model import Finding, Report, Severity
from linkscope.render.json_report import sort_findings
from linkscope.rules import ALL_RULES

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
_ARCHIVE_MEMBER = re.compile(r"^(?P<archive>.+?\.zip)!(?P<member>.+)$", re.IGNORECASE)
# Every Severity has a level: tests/test_render_sarif.py checks each member.
_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_URI_SAFE = "/!$&'()*+,;=:@-._~"  # RFC 3986 pchar (less `%`): kept as they are


def render(report: Report) -> str:
    return json.dumps(sarif_log(report), indent=2, ensure_ascii=False) + "\n"


def sarif_log(report: Report) -> dict[str, Any]:
    rules = _rule_descriptors(report.findings)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "linkscope",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": rules,
            }
        },
        "results": [_result(f, index[f.rule]) for f in sort_findings(report.findings)],
        "columnKind": "unicodeCodePoints",
    }
    if report.runtime is not None:
        run["properties"] = {
            "runtime": report.runtime.name,
            "arch": report.runtime.arch,
            "verdict": report.verdict,
        }
    return {"$schema": SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def level(severity: Severity) -> str:
    """SARIF `level` for a severity: error, warning, or note."""
    return _LEVELS[severity]


def _rule_descriptors(findings: tuple[Finding, ...]) -> list[dict[str, Any]]:
    rules = [
        {
            "id": rule.id,
            "shortDescription": {"text": rule.title},
            "fullDescription": {"text": rule.help},
            "help": {"text": f"{rule.title}. {rule.help}"},
            "defaultConfiguration": {"level": level(rule.severity)},
            "properties": {"tags": ["aws-lambda", "elf"]},
        }
        for rule in ALL_RULES
    ]
    known = {rule.id for rule in ALL_RULES}
    for rule_id in sorted({f.rule for f in findings} - known):  # a rule not yet registered
        rules.append({"id": rule_id, "shortDescription": {"text": rule_id}})
    return rules


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    text = finding.message + (f"\nFix: {finding.fix}" if finding.fix else "")
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": level(finding.severity),
        "message": {"text": text},
        "locations": [location(finding.path)],
        "partialFingerprints": {"linkscopeFinding/v1": _fingerprint(finding)},
        "properties": _properties(finding),
    }
    return result


def location(path: str) -> dict[str, Any]:
    """A SARIF `location` for a report path (`bin/app`, `/abs/app`, `fn.zip!lib/libfoo.so`)."""
    archive, member = split_member(path)
    physical = {"artifactLocation": {"uri": artifact_uri(archive)}, "region": {"startLine": 1}}
    out: dict[str, Any] = {"physicalLocation": physical}
    if member is not None:
        out["logicalLocations"] = [{"name": member, "fullyQualifiedName": path, "kind": "module"}]
    return out


def split_member(path: str) -> tuple[str, str | None]:
    """`fn.zip!lib/libfoo.so` -> ("fn.zip", "lib/libfoo.so"); any other path -> (path, None)."""
    match = _ARCHIVE_MEMBER.match(path)
    return (match["archive"], match["member"]) if match else (path, None)


def artifact_uri(path: str) -> str:
    """A file path as a URI reference: relative stays relative, absolute becomes `file://`."""
    if path.startswith("/"):
        return "file://" + quote(path, safe=_URI_SAFE)
    relative = path[2:] if path.startswith("./") else path
    uri = quote(relative, safe=_URI_SAFE)
    # A first segment with a colon would read as a scheme (RFC 3986 section 4.2).
    return "./" + uri if ":" in uri.split("/", 1)[0] else uri


def _properties(finding: Finding) -> dict[str, Any]:
    props: dict[str, Any] = {"path": finding.path, "severity": finding.severity.value}
    archive, member = split_member(finding.path)
    if member is not None:
        props["archive"] = archive
        props["member"] = member
    if finding.fix:
        props["fix"] = finding.fix
    if finding.library is not None:
        props["library"] = finding.library
    if finding.version is not None:
        props["version"] = finding.version
    if finding.symbols:
        props["symbols"] = list(finding.symbols)
    return props


def _fingerprint(finding: Finding) -> str:
    """Stable across runs and machines: GitHub matches alerts by it instead of by source lines."""
    key = "\0".join((finding.rule, finding.path, finding.library or "", finding.version or ""))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
