"""LS301-LS304: symbol versions the resolved provider does not define, with the symbols that
need them (from `.gnu.version` joined with `.dynsym`, so stripped binaries name them too)."""

from __future__ import annotations

from collections.abc import Iterator

from linkscope.advice import glibc_fix, libstdcxx_fix, packaging_fix
from linkscope.model import BinaryFacts, Finding, Severity, VersionRequirement, split_version
from linkscope.profiles.model import LibraryInfo
from linkscope.resolve import Origin, World
from linkscope.resolve.loader import VersionProblem
from linkscope.rules.base import (
    Context,
    Rule,
    named,
    need,
    spare_in_image,
    symbol_list,
    unused_runtime_duplicate,
)

FAMILIES = {"GLIBC": "LS301", "GLIBCXX": "LS302", "CXXABI": "LS302", "GCC": "LS303"}


def _family(version: str) -> str:
    parsed = split_version(version)
    prefix = parsed[0] if parsed else version.rsplit("_", 1)[0]
    if version == "GLIBC_ABI_DT_RELR":
        return "LS301"
    return FAMILIES.get(prefix, "LS304")


def version_problems(world: World) -> Iterator[VersionProblem]:
    seen: set[tuple[str, str, str]] = set()
    for item in world.placed:
        if item.resolution is None:
            continue
        for problem in item.resolution.version_problems:
            key = (problem.requester, problem.library, problem.version)
            if key not in seen:
                seen.add(key)
                yield problem


def _facts(world: World, location: str) -> BinaryFacts | None:
    return next((p.facts for p in world.placed if p.node.location == location), None)


def _provider_text(world: World, problem: VersionProblem) -> str:
    provider = problem.provider
    library = provider.library
    if provider.origin in (Origin.SYSTEM, Origin.LANGUAGE) and library is not None:
        parsed = split_version(problem.version)
        ceiling = library.ceiling(parsed[0]) if parsed else None
        where = (
            f"{world.target.runtime.name}'s own copy, first on LD_LIBRARY_PATH"
            if provider.origin is Origin.LANGUAGE
            else world.target.runtime.name
        )
        if ceiling and parsed:
            maybe = dict(library.maybe).get(parsed[0])
            possibly = (
                f", possibly up to {parsed[0]}_{maybe}.x" if maybe and not problem.known else ""
            )
            return (
                f"{provider.path} ({where}) goes up to {parsed[0]}_{ceiling}{possibly}"
                f"{_history(library, parsed[0])}"
            )
        return f"{provider.path} ({where}) does not define it"
    return f"{provider.location} does not define it"


def _history(library: LibraryInfo, prefix: str) -> str:
    """When the runtime got this version table, so a user on an older deployment understands."""
    if prefix == "GLIBC":
        return ""  # glibc 2.34 has not moved since AL2023's launch
    text = f" (listing of {library.listed}" if library.listed else " ("
    before = dict(library.since.before).get(prefix) if library.since else None
    if library.since and before:
        text += f"{'; ' if library.listed else ''}since {library.since.date}, "
        text += f"up to {prefix}_{before} before"
    return "" if text == " (" else text + ")"


def drift_notes(rule: Rule, world: World) -> Iterator[Finding]:
    """Versions the runtime has only since its last update (libstdc++ 14 in 2025, OpenSSL 3.5
    in 2026): fine now, but not on a function pinned to an older runtime version."""
    seen: set[tuple[str, str]] = set()
    for item in world.placed:
        for requester, name, provider in item.resolution.chosen if item.resolution else ():
            library, facts = provider.library, _facts(world, requester)
            if library is None or library.since is None or facts is None:
                continue
            newer = [
                r
                for r in facts.version_requirements
                if r.library == name
                and _family(r.version) == rule.id
                and library.newer_than_before(r.version)
            ]
            if not newer or (requester, name) in seen:
                continue
            seen.add((requester, name))
            top = max(newer, key=lambda r: split_version(r.version) or ("", ()))
            yield _drift_finding(rule, world, requester, top, library)


def _drift_finding(
    rule: Rule, world: World, requester: str, need: VersionRequirement, library: LibraryInfo
) -> Finding:
    assert library.since is not None
    prefix = (split_version(need.version) or ("", ()))[0]
    before = dict(library.since.before)[prefix]
    runtime = world.target.runtime.name
    because = f" because of {symbol_list(need.symbols)}" if need.symbols else ""
    return rule.finding(
        requester,
        f"{named(requester)} needs {need.version} from {need.library}{because}, which "
        f"{runtime} has only since an update (listed since {library.since.date}; up to "
        f"{prefix}_{before} before): it starts on the current runtime, not on a function "
        "pinned to an older runtime version.",
        f"Nothing to do on the current runtime version; with runtime management pinned, move "
        f"to a version from after {library.since.date}, or build against {prefix}_{before}.",
        severity=Severity.INFO,
        library=need.library,
        version=need.version,
        symbols=need.symbols,
    )


def _check_family(rule: Rule, world: World, ctx: Context) -> Iterator[Finding]:
    yield from drift_notes(rule, world)
    for problem in version_problems(world):
        if _family(problem.version) != rule.id:
            continue
        because = f" because of {symbol_list(problem.symbols)}" if problem.symbols else ""
        what = (
            f"{named(problem.requester)} needs {problem.version} from {problem.library}"
            f"{because}, but {_provider_text(world, problem)}"
        )
        if not problem.known:
            yield rule.finding(
                problem.requester,
                f"{what}: linkscope's data about {world.target.runtime.name} cannot tell whether "
                f"{problem.library} defines {problem.version}.",
                "Check against the real image with `--sysroot`, or avoid the newer symbols.",
                severity=Severity.WARNING,
                library=problem.library,
                version=problem.version,
                symbols=problem.symbols,
            )
            continue
        duplicate = unused_runtime_duplicate(problem.requester, world)
        if duplicate is not None:
            yield rule.finding(
                problem.requester,
                f"{what}. This bundled copy is not loaded by anything in the package, and a "
                f"program asking for it gets the runtime's {duplicate} first, so it cannot "
                "stop the function; it is dead weight unless something loads it by path.",
                "Remove it, or rebuild it for the runtime.",
                severity=Severity.WARNING,
                library=problem.library,
                version=problem.version,
                symbols=problem.symbols,
            )
            continue
        yield rule.finding(
            problem.requester,
            f'{what}: it will fail to start with "version `{problem.version}\' not found".',
            _fix(rule, world, problem),
            library=problem.library,
            version=problem.version,
            symbols=problem.symbols,
            severity=Severity.WARNING if spare_in_image(world, problem.requester) else None,
        )


# The linker, not the C library, adds this requirement: it packs relative relocations as
# DT_RELR when asked to (`ld -z pack-relative-relocs`, binutils 2.38+), loaded by glibc 2.36+.
RELR_FIX = (
    "GLIBC_ABI_DT_RELR comes from linking with `-z pack-relative-relocs`: link without it "
    "(or with `-Wl,-z,nopack-relative-relocs`) and the requirement goes away."
)


def _fix(rule: Rule, world: World, problem: VersionProblem) -> str:
    facts = _facts(world, problem.requester)
    os_profile = world.target.os
    if facts is None:
        return "Use a provider that defines this version."
    if rule.id == "LS301":
        fix = glibc_fix(facts, os_profile.glibc, os_profile.machine, os_profile.id, need(world))
        return f"{RELR_FIX} {fix}" if problem.version == "GLIBC_ABI_DT_RELR" else fix
    if rule.id in ("LS302", "LS303"):
        return libstdcxx_fix(facts, os_profile.id, need(world))
    bundle = (
        f"Bundle a {problem.library} that defines {problem.version} and make sure it is found "
        "first (RUNPATH `$ORIGIN/lib`), or build against the runtime's version."
    )
    packaged = packaging_fix(facts.origin, need(world))
    return bundle if packaged is None else f"{packaged} If it still needs it: {bundle}"


def _glibc(world: World, ctx: Context) -> Iterator[Finding]:
    return _check_family(GLIBC, world, ctx)


def _libstdcxx(world: World, ctx: Context) -> Iterator[Finding]:
    return _check_family(LIBSTDCXX, world, ctx)


def _libgcc(world: World, ctx: Context) -> Iterator[Finding]:
    return _check_family(LIBGCC, world, ctx)


def _other(world: World, ctx: Context) -> Iterator[Finding]:
    return _check_family(OTHER, world, ctx)


GLIBC = Rule(
    id="LS301",
    title="glibc symbol versions newer than the runtime's glibc",
    severity=Severity.ERROR,
    help="The binary was linked against a newer glibc than the runtime has.",
    check=_glibc,
)
LIBSTDCXX = Rule(
    id="LS302",
    title="libstdc++ (GLIBCXX, CXXABI) newer than the runtime's",
    severity=Severity.ERROR,
    help="The binary was built with a newer GCC than the runtime's libstdc++.",
    check=_libstdcxx,
)
LIBGCC = Rule(
    id="LS303",
    title="libgcc_s (GCC_) newer than the runtime's",
    severity=Severity.ERROR,
    help="The binary needs unwinder or helper symbols from a newer libgcc_s.",
    check=_libgcc,
)
OTHER = Rule(
    id="LS304",
    title="a version requirement the resolved library does not provide",
    severity=Severity.ERROR,
    help="OPENSSL_3.0.0, ZLIB_1.2.9 and the like, checked against the library that "
    "would really be loaded.",
    check=_other,
)
RULES = (GLIBC, LIBSTDCXX, LIBGCC, OTHER)
