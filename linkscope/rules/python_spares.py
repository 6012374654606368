"""Python extension modules the runtime's Python never imports, optional ones whose package
falls back when their import fails, and the libraries only such modules load: their ELF
problems (architecture, glibc versions, missing libraries) cannot stop the function. Whether
that breaks an import is LS601's and LS602's to say (an error, or a warning when the package
falls back to pure Python)."""

from __future__ import annotations

import posixpath

from linkscope.ecosystems.python import ExtensionModule
from linkscope.model import ScannedPackage, Severity
from linkscope.profiles.languages import LanguageFacts, python_fallbacks
from linkscope.resolve import World
from linkscope.rules.python import (
    dotted_name,
    python_facts,
    python_packages,
    refusal,
    searched_root,
    unimportable_folder,
)


def python_spares(world: World) -> dict[str, tuple[str, Severity]]:
    """location -> (why the runtime's Python never loads it, the severity its problems keep)."""
    facts = python_facts(world)
    if facts is None:
        return {}
    spares: dict[str, tuple[str, Severity]] = {}
    for package, part, layer in python_packages(world):
        for module in part.extensions:
            why = _never_imported(package, module, layer, facts, world)
            if why is not None:
                spares[module.location] = why
    return spares | _libraries_of(world, spares)


def _never_imported(
    package: ScannedPackage,
    module: ExtensionModule,
    layer: bool,
    facts: LanguageFacts,
    world: World,
) -> tuple[str, Severity] | None:
    root = searched_root(package, layer, module.inner, facts.version)
    if root is None:
        folder = module.folder.partition("/site-packages")[0] or module.folder
        return (
            f"It is never loaded here: {world.target.runtime.name} never searches `{folder}`.",
            Severity.INFO,
        )
    unnamed = unimportable_folder(module, root)
    if unnamed is not None:
        return (
            f"It is never loaded here: `{unnamed}` is no Python package name, so no import "
            "reaches this module (unless the code adds its folder to sys.path).",
            Severity.WARNING,
        )
    reason = refusal(module, facts, world.target.arch)
    if reason is not None:
        return f"It is never loaded here: this Python extension module is {reason}.", Severity.INFO
    fallback = python_fallbacks().get(dotted_name(module, root))
    if fallback is not None:  # an ImportError (a missing library, glibc) is caught
        return (
            f"It cannot stop the function: `import {dotted_name(module, root)}` fails, but its "
            f"package catches the ImportError and uses {fallback} instead.",
            Severity.WARNING,
        )
    return None


def _libraries_of(
    world: World, spares: dict[str, tuple[str, Severity]]
) -> dict[str, tuple[str, Severity]]:
    """Bundled libraries that only never-imported modules load, directly or through other
    such libraries (cycles included: libfreetype and libharfbuzz load each other): those that
    nothing else the function runs or imports reaches."""
    if not spares:
        return {}
    users = _users(world)
    loads: dict[str, set[str]] = {}
    for library, loaders in users.items():
        for loader in loaders:
            loads.setdefault(loader, set()).add(library)
    live = [p.node.location for p in world.placed if p.node.location not in spares]
    live = [where for where in live if not users.get(where)]  # the roots: nothing loads them
    reached = set(live)
    while live:
        for library in loads.get(live.pop(), ()):
            if library not in reached and library not in spares:
                reached.add(library)
                live.append(library)
    warned = {where for where, (_why, severity) in spares.items() if severity is Severity.WARNING}
    return {
        library: (
            "It cannot stop the function: only modules that are never imported, or optional "
            "ones, load it.",
            Severity.WARNING if _loaded_by_any(library, users, warned) else Severity.INFO,
        )
        for library, loaders in users.items()
        if loaders and library not in reached and library not in spares
    }


def _loaded_by_any(library: str, users: dict[str, set[str]], loaders: set[str]) -> bool:
    """Whether one of `loaders` loads `library`, directly or through other libraries."""
    seen, todo = set(), [library]
    while todo:
        current = todo.pop()
        for user in users.get(current, ()):
            if user in loaders:
                return True
            if user not in seen:
                seen.add(user)
                todo.append(user)
    return False


def _users(world: World) -> dict[str, set[str]]:
    """Who loads each library: the loader's answer, or (for another architecture's files,
    which are not resolved) the files that name it in DT_NEEDED."""
    needing: dict[str, set[str]] = {}
    for other in world.placed:
        for name in other.facts.needed:
            needing.setdefault(name, set()).add(other.node.location)
    users: dict[str, set[str]] = {}
    for item in world.placed:
        if item.role.value != "library":
            continue
        location = item.node.location
        if item.needed_by:
            users[location] = set(item.needed_by)
            continue
        names = {posixpath.basename(location.rpartition("!")[2]), item.facts.soname or ""}
        users[location] = set().union(*(needing.get(n, set()) for n in names)) - {location}
    return users
