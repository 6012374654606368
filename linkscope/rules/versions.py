"""LS301-LS304: symbol versions the resolved provider does not define, with the symbols that
need them (from `.gnu.version` joined with `.dynsym`, so stripped binaries name them too)."""

from __future__ import annotations

from collections.abc import Iterator

from linkscope.advice import glibc_fix, libstdcxx_fix
from linkscope.model import BinaryFacts, Finding, Severity, split_version
from linkscope.resolve import Origin, World
from linkscope.resolve.loader import VersionProblem
from linkscope.rules.base import Context, Rule, named, symbol_list, unused_runtime_duplicate

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
    if provider.origin in (Origin.SYSTEM, Origin.LANGUAGE) and provider.library is not None:
        parsed = split_version(problem.version)
        ceiling = provider.library.ceiling(parsed[0]) if parsed else None
        where = (
            "the language runtime's own copy, first on LD_LIBRARY_PATH"
            if provider.origin is Origin.LANGUAGE
            else world.target.runtime.name
        )
        if ceiling:
            return f"{provider.path} ({where}) goes up to {parsed[0]}_{ceiling}" if parsed else ""
        return f"{provider.path} ({where}) does not define it"
    return f"{provider.location} does not define it"


def _check_family(rule: Rule, world: World, ctx: Context) -> Iterator[Finding]:
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
        )


def _fix(rule: Rule, world: World, problem: VersionProblem) -> str:
    facts = _facts(world, problem.requester)
    os_profile = world.target.os
    if facts is None:
        return "Use a provider that defines this version."
    if rule.id == "LS301":
        return glibc_fix(facts, os_profile.glibc, os_profile.machine, os_profile.id)
    if rule.id in ("LS302", "LS303"):
        return libstdcxx_fix(facts, os_profile.id)
    return (
        f"Bundle a {problem.library} that defines {problem.version} and make sure it is found "
        "first (RUNPATH `$ORIGIN/lib`), or build against the runtime's version."
    )


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
