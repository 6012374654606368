"""What every runtime loads, whatever the language: the `bootstrap` (function root or a
layer's), `extensions/*` (a layer's extensions), and shared objects in `lib/` (on
LD_LIBRARY_PATH as /var/task/lib and /opt/lib) and `bin/` (on PATH as /opt/bin). A package with
a root `bootstrap` is for an OS-only runtime (provided.*)."""

from __future__ import annotations

import re

from linkscope.ecosystems.base import Ecosystem, basename
from linkscope.model import Classification, ScannedPackage

NAME = "os-only"
SHARED_OBJECT = re.compile(r"\.so(\.[0-9]+)*$")  # what ld.so opens by soname: libfoo.so.1


def loaded_by_system(inner: str) -> bool:
    """Whether Lambda runs or ld.so may open this file, by where it is and how it is named."""
    parts = inner.split("/")
    if inner == "bootstrap" or (len(parts) == 2 and parts[0] == "extensions"):
        return True
    if parts[0] == "bin" and len(parts) == 2:
        return True
    return parts[0] == "lib" and SHARED_OBJECT.search(basename(inner)) is not None


def classify(package: ScannedPackage) -> Classification:
    inners = [e.inner for e in package.entries]
    evidence: list[str] = []
    weight = 0
    if package.kind != "file" and "bootstrap" in inners:
        evidence.append("a `bootstrap` at its root")
        weight = 6
    extensions = [i for i in inners if i.startswith("extensions/") and i.count("/") == 1]
    if extensions:
        evidence.append(f"{len(extensions)} file(s) in extensions/ (a layer's extensions)")
    natives = [n.inner for n in package.natives] + [
        e.inner for e in package.entries if e.kind.value == "elf"
    ]
    return Classification(
        ecosystem=NAME,
        evidence=tuple(evidence),
        weight=weight,
        loaded=tuple(sorted(i for i in natives if loaded_by_system(i))),
    )


def _wants(inner: str) -> bool:
    return False


ECOSYSTEM = Ecosystem(name=NAME, wants=_wants, classify=classify)
