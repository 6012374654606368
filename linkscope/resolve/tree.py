"""The dependency tree of each ELF the runtime would load, as the emulated loader resolved it.

Built from the resolution the checks already use (no second search): each DT_NEEDED edge with
the provider the loader chose for that name, the folders it searched when it found none, and
the symbol versions the provider does not define. A library is expanded once per tree; later
mentions are marked as repeats, and one that leads back to an object above it as a cycle.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from linkscope.model import Report
from linkscope.resolve import Placed, Role, World
from linkscope.resolve.fs import Node
from linkscope.resolve.loader import MissingLibrary, Resolution, VersionProblem

MAX_DEPTH = 64  # deeper chains are shown to here; the loader itself stops at 2048 objects


class Mention(str, Enum):
    """How a library appears at one place in a tree."""

    FIRST = "first"  # found, and its own dependencies are listed here
    REPEAT = "repeat"  # found, and listed already above in this tree
    CYCLE = "cycle"  # found, and it is one of the objects that led here
    NOT_FOUND = "not-found"


@dataclass(frozen=True, slots=True, kw_only=True)
class Dependency:
    name: str  # the DT_NEEDED entry
    mention: Mention
    path: str | None = None  # where the loader found it in the simulated filesystem
    location: str | None = None  # how reports name it (`function.zip!lib/libfoo.so`)
    origin: str | None = None  # function, layer, language runtime, runtime, sysroot, image
    searched: tuple[str, ...] = ()  # the folders searched, in order, when not found
    unusable: tuple[str, ...] = ()  # candidates skipped: another class or machine
    failed_versions: tuple[VersionProblem, ...] = ()  # what the requester needs and it lacks
    needs: tuple[Dependency, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Interpreter:
    path: str
    found: bool
    origin: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DependencyTree:
    location: str  # the ELF, as reports name it
    path: str  # where Lambda puts it
    origin: str
    role: str
    interpreter: Interpreter | None
    needs: tuple[Dependency, ...]
    note: str = ""  # why there is nothing to resolve (static, another machine)


@dataclass(frozen=True, slots=True, kw_only=True)
class TreeReport:
    report: Report  # the check of the same resolution: its verdict is the exit code
    trees: tuple[DependencyTree, ...]


def build_trees(world: World) -> tuple[DependencyTree, ...]:
    """One tree per ELF the runtime loads itself: not the libraries that others load."""
    return tuple(_tree(item) for item in world.placed if not _loaded_by_others(item))


def _loaded_by_others(item: Placed) -> bool:
    return item.role is Role.LIBRARY and bool(item.needed_by)


def _tree(item: Placed) -> DependencyTree:
    interpreter = None
    if item.facts.interpreter:
        found = item.interpreter
        interpreter = Interpreter(
            path=item.facts.interpreter,
            found=found is not None,
            origin=None if found is None else found.origin.value,
        )
    needs: tuple[Dependency, ...] = ()
    note = ""
    if item.resolution is not None:
        needs = _Walk(item.resolution, item.interpreter).children(item.node, (item.node.file,))
    elif not item.facts.needed:
        note = "loads no libraries (" + item.facts.linkage.value + ")"
    else:
        note = f"not resolved: built for {item.facts.machine}, another machine than the runtime's"
    return DependencyTree(
        location=item.node.location,
        path=item.node.path,
        origin=item.node.origin.value,
        role=item.role.value,
        interpreter=interpreter,
        needs=needs,
        note=note,
    )


class _Walk:
    """Replays one resolution: which provider the loader chose for each name."""

    def __init__(self, resolution: Resolution, interpreter: Node | None) -> None:
        self.providers: dict[str, Node] = {}
        for node in resolution.loaded:
            self.providers.setdefault(node.path, node)
            self.providers.setdefault(node.soname, node)
        if interpreter is not None:  # ld.so answers to its file name and its soname
            self.providers.setdefault(posixpath.basename(interpreter.path), interpreter)
            self.providers.setdefault(interpreter.soname, interpreter)
        for _requester, name, provider in resolution.chosen:
            self.providers[name] = provider
        self.missing: Mapping[tuple[str, str], MissingLibrary] = {
            (m.requester, m.name): m for m in resolution.missing
        }
        self.problems: dict[tuple[str, str], list[VersionProblem]] = {}
        for problem in resolution.version_problems:
            self.problems.setdefault((problem.requester, problem.library), []).append(problem)
        self.expanded: set[str] = set()

    def children(self, node: Node, ancestors: tuple[str, ...]) -> tuple[Dependency, ...]:
        self.expanded.add(node.file)
        facts = node.facts
        if facts is None or len(ancestors) > MAX_DEPTH:
            return ()
        return tuple(self._edge(node, name, ancestors) for name in facts.needed)

    def _edge(self, requester: Node, name: str, ancestors: tuple[str, ...]) -> Dependency:
        missing = self.missing.get((requester.location, name))
        provider = None if missing is not None else self.providers.get(name)
        if provider is None:
            return Dependency(
                name=name,
                mention=Mention.NOT_FOUND,
                searched=missing.searched if missing else (),
                unusable=missing.unusable if missing else (),
            )
        if provider.file in ancestors:
            mention = Mention.CYCLE
        elif provider.file in self.expanded:
            mention = Mention.REPEAT
        else:
            mention = Mention.FIRST
        needs = (
            self.children(provider, (*ancestors, provider.file)) if mention is Mention.FIRST else ()
        )
        return Dependency(
            name=name,
            mention=mention,
            path=provider.file,  # the file itself, once symlinks (and `..` after them) are followed
            location=provider.location,
            origin=provider.origin.value,
            failed_versions=tuple(self.problems.get((requester.location, name), ())),
            needs=needs,
        )
