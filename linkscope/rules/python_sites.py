"""LS602 for a layer whose packages sit outside its `python/` folder: a virtualenv's
`lib/python3.X/site-packages` zipped as it is lands at /opt/lib/..., which no Python runtime
puts on sys.path."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from linkscope.advice import pip_fix
from linkscope.ecosystems.python import PythonPackage
from linkscope.model import Finding, ScannedPackage
from linkscope.profiles.languages import LanguageFacts
from linkscope.resolve import World
from linkscope.rules.base import Rule, named, need


def outside_python(
    world: World,
    package: ScannedPackage,
    part: PythonPackage,
    facts: LanguageFacts,
    rule: Rule,
) -> Iterator[Finding]:
    """A layer's site-packages outside its `python/` folder (a virtualenv's `lib/python3.X/
    site-packages` zipped as it is): /opt/lib/... is not on sys.path."""
    folders = sorted(
        {
            d.site
            for d in part.distributions
            if posixpath.basename(d.site) == "site-packages" and not d.site.startswith("python/")
        }
    )
    python = facts.python
    assert python is not None
    searched = ", ".join(p for p in python.search_paths if p.startswith("/opt"))
    for folder in folders:
        dists = sorted({d.name for d in part.distributions if d.site == folder})
        shown = ", ".join(dists[:5]) + (f" and {len(dists) - 5} more" if len(dists) > 5 else "")
        location = (
            f"{package.source}!{folder}"
            if package.kind == "zip"
            else posixpath.join(package.source, folder)
        )
        yield rule.finding(
            location,
            f"{named(location)} holds {len(dists)} distribution(s) ({shown}) outside the "
            f"layer's `python/` folder: Lambda mounts it at `/opt/{folder}`, but "
            f"{world.target.runtime.name} searches only {searched}, so nothing in it can be "
            "imported.",
            pip_fix(None, need(world), target=f"python/lib/python{facts.version}/site-packages")
            + " Zip the layer so that its packages are under `python/` (a layer's `python/` "
            "folder is searched by every Python runtime).",
        )
