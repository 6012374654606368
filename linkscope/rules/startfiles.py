"""What Lambda starts from a deployment: the bootstrap it selects and the extensions, where
they are in the package, and their entries (shared by the package rules)."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from linkscope.model import EntryKind, PackageEntry, ScannedPackage
from linkscope.resolve import Node, Origin, Role, World

DENIED = "`fork/exec {path}: permission denied`"


@dataclass(frozen=True, slots=True, kw_only=True)
class StartFile:
    """A file Lambda executes: where it runs from, and the package entry that holds its bytes."""

    path: str  # where Lambda runs it: /var/task/bootstrap, /opt/extensions/x
    what: str  # "the bootstrap", "the extension", "the executable"
    node: Node
    entry: PackageEntry | None
    zipped: bool = False  # its package is a zip (where "no mode bits" means made on Windows)


def start_entries(world: World) -> dict[str, tuple[PackageEntry, bool]]:
    return {
        e.location: (e, p.kind == "zip")
        for p in (*world.function, *world.layers)
        for e in p.entries
    }


def start_file(
    entries: dict[str, tuple[PackageEntry, bool]], path: str, what: str, node: Node
) -> StartFile:
    entry, zipped = entries.get(node.location, (None, False))
    return StartFile(path=path, what=what, node=node, entry=entry, zipped=zipped)


def function_package(world: World) -> ScannedPackage:
    return world.function[0]


def bootstrap_applies(world: World) -> bool:
    return world.target.runtime.os_only and function_package(world).kind != "file"


def selected_bootstrap(world: World) -> tuple[str, Node] | None:
    """The bootstrap Lambda runs: the first search path that holds a file."""
    for path in world.target.environment.bootstrap_search:
        node = world.bundle.lookup(path)
        if node is not None:
            return path, node
    return None


def start_files(world: World) -> list[StartFile]:
    entries = start_entries(world)
    found: list[StartFile] = []
    if bootstrap_applies(world):
        chosen = selected_bootstrap(world)
        if chosen is not None:
            found.append(start_file(entries, chosen[0], "the bootstrap", chosen[1]))
    for path in extension_paths(world):
        node = world.bundle.lookup(path)
        if node is not None:
            found.append(start_file(entries, path, "the extension", node))
    if world.target.runtime.entrypoint == "handler":  # go1.x runs the Handler file itself
        for item in world.placed:
            if item.role is not Role.LIBRARY and item.node.origin is Origin.FUNCTION:
                found.append(
                    start_file(entries, item.node.path, "the handler executable", item.node)
                )
    return found


def lone_script(world: World, entries: dict[str, tuple[PackageEntry, bool]]) -> list[StartFile]:
    """A single script checked on an OS-only runtime is the program Lambda would start (its
    bootstrap): `check /usr/bin/psql` asks whether its `#!` interpreter is there. Only its
    format is checked (LS004): its mode on disk says nothing about the zip it will go in."""
    package = function_package(world)
    if not world.target.runtime.os_only or package.kind != "file" or not package.scripts:
        return []
    location = package.scripts[0].path
    nodes = [n for n in world.bundle.nodes.values() if n.location == location]
    return [start_file(entries, n.path, "the executable", n) for n in nodes[:1]]


def extension_paths(world: World) -> list[str]:
    extensions = world.target.environment.extensions_dir
    paths = set()
    for layer in world.layers:
        for entry in layer.entries:
            path = posixpath.join(world.target.environment.layer_root, entry.inner)
            if posixpath.dirname(path) == extensions and entry.kind is not EntryKind.DIRECTORY:
                paths.add(path)
    return sorted(paths)


def package_of(world: World, location: str) -> ScannedPackage | None:
    return next(
        (
            p
            for p in (*world.function, *world.layers)
            if any(e.location == location for e in p.entries)
        ),
        None,
    )
