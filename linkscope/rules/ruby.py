"""LS621: Ruby native extension built for another Ruby ABI: a bundle under another
`vendor/bundle/ruby/<ABI>` folder (never on GEM_PATH), an extension compiled for another Ruby
(`extensions/<platform>/<ABI>`), a precompiled gem without a folder for the runtime's minor, or
an extension linked against another Ruby's libruby (reference: managed-runtimes 1.3, 2.4, 6)."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from linkscope.ecosystems.ruby import GemFile, RubyPackage, abi_problem
from linkscope.model import Finding, ScannedPackage, Severity
from linkscope.packaging_fixes import bundler_advice
from linkscope.profiles.languages import language_facts
from linkscope.resolve import World
from linkscope.rules.base import Context, Rule, named

LIBRUBY = re.compile(r"^libruby(?:-|\.so\.)(?P<minor>\d+\.\d+)")


def check_ruby_abi(world: World, ctx: Context) -> Iterator[Finding]:
    facts = language_facts(world.target.runtime.name)
    ruby = facts.ruby if facts is not None else None
    if ruby is None:
        return
    runtime = world.target.runtime.name
    fix = bundler_advice(runtime, world.target.arch)
    for package in (*world.function, *world.layers):
        part = package.ecosystems.part(RubyPackage)
        if part is None:
            continue
        locations = {e.inner: e.location for e in package.entries}
        for gem in part.gems:
            siblings = [g for g in part.gems if g is not gem and _same_gem(g, gem)]
            problem = abi_problem(gem, runtime, ruby.abi, siblings)
            path = locations[gem.inner]
            if problem is not None:
                yield RUBY_ABI.finding(
                    path,
                    f"{named(path)} {problem.cause}: {problem.consequence}.",
                    fix,
                    severity=Severity.ERROR if problem.error else Severity.WARNING,
                )
            else:
                yield from _libruby(package, path, runtime, ruby.abi, fix)


def _same_gem(one: GemFile, other: GemFile) -> bool:
    return (one.gem, one.version, one.platform) == (other.gem, other.version, other.platform)


def _libruby(
    package: ScannedPackage, path: str, runtime: str, abi: str, fix: str
) -> Iterator[Finding]:
    """An extension linked against libruby names the Ruby it was built for."""
    facts = next((b for b in package.binaries if b.path == path), None)
    if facts is None:
        return
    minor = ".".join(abi.split(".")[:2])
    for needed in facts.needed:
        match = LIBRUBY.match(posixpath.basename(needed))
        if match is not None and match["minor"] != minor:
            yield RUBY_ABI.finding(
                path,
                f"{named(path)} is linked against {needed}, Ruby {match['minor']}'s library, "
                f"but {runtime} is Ruby {minor}: it cannot be loaded.",
                fix,
            )


RUBY_ABI = Rule(
    id="LS621",
    title="Ruby native extension built for another Ruby ABI",
    severity=Severity.ERROR,
    help="Gems bundled under another vendor/bundle/ruby/<ABI> folder are not on GEM_PATH; an "
    "extension compiled for another Ruby minor is not found or not loadable.",
    check=check_ruby_abi,
)
RULES = (RUBY_ABI,)
