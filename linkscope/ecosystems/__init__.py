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
from collections.abc import Sequence
from dataclasses import replace

from linkscope.ecosystems import system
from linkscope.ecosystems.base import Ecosystem, Need, basename
from linkscope.model import BinaryFacts, Classification, Ecosystems, NativeFile, ScannedPackage

__all__ = [
    "RUNTIME_LANGUAGES",
    "SIGNS",
    "Ecosystem",
    "Need",
    "Signs",
    "classify",
    "every_ecosystem",
    "runtime_language",
    "wants_metadata",
    "with_ecosystems",
]


class Signs:
    """What the paths of an ecosystem's members look like: a path that ends with one of `ends`,
    starts with one of `starts`, contains one of `contains` or is named one of `names` (its last
    part). Loose on purpose: a sign only decides that the module is imported and asked."""

    __slots__ = ("contains", "ends", "names", "starts")

    def __init__(
        self,
        *,
        ends: tuple[str, ...] = (),
        starts: tuple[str, ...] = (),
        contains: tuple[str, ...] = (),
        names: tuple[str, ...] = (),
    ) -> None:
        self.ends, self.starts, self.contains, self.names = ends, starts, contains, names

    def match(self, inner: str) -> bool:
        return (
            inner.endswith(self.ends)
            or inner.startswith(self.starts)
            or any(part in inner for part in self.contains)
            or basename(inner) in self.names
        )

    def anywhere(self, listing: str) -> bool:
        """Whether a path of `listing` (every path on its own line, a newline first and last)
        matches: a few searches in C however many members the package has."""
        return (
            any(f"{end}\n" in listing for end in self.ends)
            or any(f"\n{start}" in listing for start in self.starts)
            or any(part in listing for part in self.contains)
            or any(f"/{name}\n" in listing or f"\n{name}\n" in listing for name in self.names)
        )


# module name in linkscope/ecosystems/ -> the signs of its language among a package's members
SIGNS: dict[str, Signs] = {
    # extension modules, handlers, *.dist-info, a layer's python/ folder
    "python": Signs(ends=(".so", ".pyd", ".py"), starts=("python",), contains=(".dist-info/",)),
    # node_modules/, a layer's nodejs/, handlers, package.json and the installers' lock files
    "node": Signs(
        ends=(".js", ".mjs", ".cjs"),
        starts=("nodejs/",),
        contains=("node_modules",),
        names=(
            "package.json",
            "package-lock.json",
            ".package-lock.json",
            ".yarn-state.yml",
            ".yarn-integrity",
        ),
    ),
    # a bundle (vendor/bundle/ruby, a layer's ruby/gems), handlers, the Gemfile
    "ruby": Signs(
        ends=(".rb",), starts=("vendor/bundle/ruby", "ruby/"), names=("Gemfile", "Gemfile.lock")
    ),
    # jars and their members, class files, an uber jar's unpacked tree
    "jvm": Signs(
        ends=(".jar", ".class"),
        starts=("META-INF/", "org/", "com/", "net/", "io/"),
        contains=("!",),
    ),
    # *.deps.json, *.runtimeconfig.json, NuGet's runtimes/<rid>/native/
    "dotnet": Signs(ends=(".deps.json", ".runtimeconfig.json"), contains=("runtimes/",)),
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
    listing = "\n" + "\n".join(entry.inner for entry in package.entries) + "\n"
    found = [module for module, signs in SIGNS.items() if signs.anywhere(listing)]
    return (system.ECOSYSTEM, *(_load(module) for module in found))


def wants_metadata(inner: str) -> bool:
    return system.ECOSYSTEM.wants(inner) or any(
        signs.match(inner) and _load(module).wants(inner) for module, signs in SIGNS.items()
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
