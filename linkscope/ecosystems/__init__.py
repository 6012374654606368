"""The ecosystem stage: pure classification of a package's members by language ecosystem.

Each ecosystem is one module (`system.py` for what every runtime loads, `python.py`, and
`node.py`, `ruby.py`, `jvm.py`, `dotnet.py` as they come) exposing an `ECOSYSTEM` entry:

- `wants(inner) -> bool`: which small metadata files the scan should read for it (by path
  inside the package: `x.dist-info/RECORD`, `package.json`, ...). The scan hands them over as
  `ScannedPackage.metadata` (bounded in size, decoded as UTF-8).
- `classify(package) -> Classification`: a frozen dataclass, usually a subclass with the
  ecosystem's own facts (`python.PythonPackage`). Its `evidence` and `weight` say how strongly
  the package is for this language; `origins` map native files (by location) to the package
  that put them there (the JSON report's `origin`); `loaded` lists what this runtime would load
  as native code (LS103 judges Mach-O and PE there); `ignored` what it never loads.

Advice in the words of the tool that put a file there is registered in linkscope/advice.py
(`PACKAGING_ADVICE`: ecosystem name -> function of the file's `Origin` and the runtime's `Need`).

A language module is imported only for a package with a member that shows its signs (`SIGNS`
below: cheap tests of a member's path), so inspecting one program imports none of them (start-up
time, DESIGN section 2). A package without any sign of a language gets no part for it: its
classification would be empty (tests/test_ecosystem_registry.py checks both).

To add an ecosystem: write the module, add its name and the signs of its members (every path
its `wants` or `classify` looks at) to `SIGNS` below. Nothing here reads files: the scan calls
`wants_metadata` and `with_ecosystems`; rules read `ScannedPackage.ecosystems`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import replace

from linkscope.ecosystems import system
from linkscope.ecosystems.base import Ecosystem, Need, basename
from linkscope.model import BinaryFacts, Classification, Ecosystems, NativeFile, ScannedPackage

__all__ = [
    "RUNTIME_LANGUAGES",
    "SIGNS",
    "Ecosystem",
    "Need",
    "classify",
    "every_ecosystem",
    "runtime_language",
    "wants_metadata",
    "with_ecosystems",
]


def _python_sign(inner: str) -> bool:
    # extension modules, handlers, *.dist-info, a layer's python/ folder
    return (
        inner.endswith((".so", ".pyd", ".py"))
        or inner.startswith("python")
        or (".dist-info/" in inner)
    )


NODE_FILES = ("package.json", "package-lock.json", ".package-lock.json")
NODE_FILES_YARN = (".yarn-state.yml", ".yarn-integrity")


def _node_sign(inner: str) -> bool:
    # node_modules/, a layer's nodejs/, handlers, package.json and the installers' lock files
    return (
        "node_modules" in inner
        or inner.startswith("nodejs/")
        or inner.endswith((".js", ".mjs", ".cjs"))
        or basename(inner) in (*NODE_FILES, *NODE_FILES_YARN)
    )


def _ruby_sign(inner: str) -> bool:
    # a bundle (vendor/bundle/ruby, a layer's ruby/gems), handlers, the Gemfile
    return (
        inner.startswith(("vendor/bundle/ruby", "ruby/"))
        or inner.endswith(".rb")
        or inner in ("Gemfile", "Gemfile.lock")
    )


def _jvm_sign(inner: str) -> bool:
    # jars and their members, class files, an uber jar's unpacked tree
    return (
        "!" in inner
        or inner.endswith((".jar", ".class"))
        or inner.startswith(("META-INF/", "org/", "com/", "net/", "io/"))
    )


def _dotnet_sign(inner: str) -> bool:
    # *.deps.json, *.runtimeconfig.json, NuGet's runtimes/<rid>/native/
    return inner.endswith((".deps.json", ".runtimeconfig.json")) or "runtimes/" in inner


# module name in linkscope/ecosystems/ -> whether a member's path is a sign of its language
SIGNS: dict[str, Callable[[str], bool]] = {
    "python": _python_sign,
    "node": _node_sign,
    "ruby": _ruby_sign,
    "jvm": _jvm_sign,
    "dotnet": _dotnet_sign,
}


# runtimes.json `family` -> the language a package for it holds
RUNTIME_LANGUAGES = {
    "python": "python",
    "nodejs": "nodejs",
    "ruby": "ruby",
    "java": "java",
    "dotnet": "dotnet",
    "provided": "os-only",
    "go": "os-only",
}
LANGUAGE_NAMES = {
    "python": "Python",
    "nodejs": "Node.js",
    "ruby": "Ruby",
    "java": "Java",
    "dotnet": ".NET",
    "os-only": "OS-only (a bootstrap)",
}


def _load(module: str) -> Ecosystem:
    ecosystem: Ecosystem = importlib.import_module(f"linkscope.ecosystems.{module}").ECOSYSTEM
    return ecosystem


def every_ecosystem() -> tuple[Ecosystem, ...]:
    """Every ecosystem, each language module imported."""
    return (system.ECOSYSTEM, *(_load(module) for module in SIGNS))


def _present(package: ScannedPackage) -> tuple[Ecosystem, ...]:
    """The system ecosystem, and each language with a sign among the package's members."""
    left = list(SIGNS.items())
    found: set[str] = set()
    for entry in package.entries:
        hits = [module for module, sign in left if sign(entry.inner)]
        if hits:
            found.update(hits)
            left = [(module, sign) for module, sign in left if module not in found]
            if not left:
                break
    return (system.ECOSYSTEM, *(_load(module) for module in SIGNS if module in found))


def wants_metadata(inner: str) -> bool:
    return system.ECOSYSTEM.wants(inner) or any(
        sign(inner) and _load(module).wants(inner) for module, sign in SIGNS.items()
    )


def classify(package: ScannedPackage) -> Ecosystems:
    parts: tuple[Classification, ...] = tuple(e.classify(package) for e in _present(package))
    best = max(parts, key=lambda part: part.weight, default=None)
    language = best.ecosystem if best is not None and best.weight > 0 else None
    return Ecosystems(language=language, parts=parts)


def with_ecosystems(package: ScannedPackage) -> ScannedPackage:
    """The package with its classification, and each native file's origin filled in."""
    ecosystems = classify(package)
    origins = {where: origin for part in ecosystems.parts for where, origin in part.origins}
    if not origins:
        return replace(package, ecosystems=ecosystems)
    binaries: list[BinaryFacts] = [
        replace(b, origin=origins[b.path]) if b.path in origins else b for b in package.binaries
    ]
    natives: list[NativeFile] = [
        replace(n, origin=origins[n.path]) if n.path in origins else n for n in package.natives
    ]
    return replace(package, ecosystems=ecosystems, binaries=tuple(binaries), natives=tuple(natives))


def runtime_language(family: str) -> str:
    return RUNTIME_LANGUAGES.get(family, "os-only")


def language_name(language: str) -> str:
    return LANGUAGE_NAMES.get(language, language)


def language_mismatch(
    packages: Sequence[ScannedPackage], family: str, runtime: str
) -> tuple[str, ...]:
    """A warning per package whose members say it is for another language than `runtime`'s
    (a Python function checked against provided.al2023, a Node layer under python3.12)."""
    want = runtime_language(family)
    notes = []
    for package in packages:
        have = package.ecosystems.language
        if package.kind in ("file", "image") or have is None or have == want:
            continue
        part = next(p for p in package.ecosystems.parts if p.ecosystem == have)
        suggestion = part.runtime_hint or suggested_runtime(have)
        notes.append(
            f"{package.source} looks like {'an' if have == 'os-only' else 'a'} "
            f"{language_name(have)} package "
            f"({'; '.join(part.evidence)}), but {runtime} is "
            + ("an OS-only runtime" if want == "os-only" else f"a {language_name(want)} runtime")
            + (f": check it with --runtime {suggestion}" if suggestion else "")
            + " (`linkscope matrix` tries every runtime)."
        )
    return tuple(notes)


def suggested_runtime(language: str) -> str | None:
    from linkscope.model import version_key
    from linkscope.profiles.languages import runtimes_for

    if language == "os-only":
        return "provided.al2023"
    candidates = runtimes_for(language)
    if not candidates:
        return None
    return max(candidates, key=lambda facts: version_key(facts.version)).runtime
