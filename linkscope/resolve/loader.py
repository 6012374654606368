"""Emulate the glibc dynamic loader inside the simulated filesystem.

For each object: find every DT_NEEDED the way ld.so does (DT_RPATH of the object and its loaders
when it has no DT_RUNPATH, then LD_LIBRARY_PATH, DT_RUNPATH, the cache and default directories),
load breadth-first, then check every version requirement against what the provider defines.
"""

from __future__ import annotations

import posixpath
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from linkscope.model import BinaryFacts
from linkscope.resolve.acceptance import accept
from linkscope.resolve.fs import Node, clean_path

MAX_OBJECTS = 2048
CACHE = "(ld.so.cache)"  # stands for the cache in the list of places searched


class Filesystem(Protocol):
    def lookup(self, path: str) -> Node | None: ...

    def has_folder(self, path: str) -> bool: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchConfig:
    ld_library_path: tuple[str, ...]
    system_dirs: tuple[str, ...]  # the cache's and the default directories, in order
    platform: str  # $PLATFORM
    lib: str  # $LIB
    cwd: str = "/var/task"
    # /etc/ld.so.cache of a real root ({soname: path}), consulted after RUNPATH and before
    # system_dirs; None for a profile, whose library folders stand in for cache and defaults.
    cache: Mapping[str, str] | None = None
    # glibc-hwcaps subfolders (glibc >= 2.33) looked at first in every folder, in priority order.
    hwcaps: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class MissingLibrary:
    requester: str
    name: str
    searched: tuple[str, ...]
    unusable: tuple[str, ...] = ()  # candidates skipped (wrong class or machine)
    # Set when ld.so stopped at a file it refuses to load (and so never looked further): the
    # file (its location) and glibc's words for why, e.g. "invalid ELF header".
    refused_file: str = ""
    refused: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionProblem:
    requester: str
    library: str
    version: str
    provider: Node
    symbols: tuple[str, ...]
    known: bool  # False: the profile cannot tell whether the provider defines it


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolution:
    root: str
    loaded: tuple[Node, ...]
    missing: tuple[MissingLibrary, ...]
    version_problems: tuple[VersionProblem, ...]
    chosen: tuple[tuple[str, str, Node], ...] = ()  # (requester, needed name, provider)


@dataclass(slots=True)
class _Loaded:
    node: Node
    parent: _Loaded | None
    deps: dict[str, Node] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Found:
    node: Node | None
    searched: tuple[str, ...]
    unusable: tuple[str, ...] = ()
    refused_file: Node | None = None
    refused: str = ""

    def missing(self, requester: str, name: str) -> MissingLibrary:
        return MissingLibrary(
            requester=requester,
            name=name,
            searched=self.searched,
            unusable=self.unusable,
            refused_file=self.refused_file.location if self.refused_file else "",
            refused=self.refused,
        )


def _nodeflib(requester: _Loaded) -> bool:
    facts = requester.node.facts
    return facts is not None and "NODEFLIB" in facts.flags_1


class Loader:
    def __init__(self, filesystem: Filesystem, config: SearchConfig) -> None:
        self.fs, self.config = filesystem, config
        self._subfolders: dict[str, tuple[str, ...]] = {}

    def resolve(self, root: Node, interpreter: Node | None = None) -> Resolution:
        assert root.facts is not None
        loaded: list[_Loaded] = [_Loaded(root, None)]
        names: dict[str, _Loaded] = {root.path: loaded[0], root.file: loaded[0]}
        if root.facts.soname:
            names[root.facts.soname] = loaded[0]
        if interpreter is not None:  # ld.so is loaded first and answers to its soname
            rtld = _Loaded(interpreter, None)
            names[posixpath.basename(interpreter.path)] = rtld
            names[interpreter.soname] = rtld
            names[interpreter.file] = rtld
        missing: list[MissingLibrary] = []
        chosen: list[tuple[str, str, Node]] = []
        queue = deque(loaded)
        while queue and len(loaded) < MAX_OBJECTS:
            current = queue.popleft()
            facts = current.node.facts
            if facts is None:
                continue
            for name in facts.needed:
                known = names.get(name)
                if known is not None:
                    current.deps[name] = known.node
                    continue
                found = self._search(name, current, loaded[0])
                if found.node is None:
                    missing.append(found.missing(current.node.location, name))
                    continue
                # ld.so loads one file once, whatever path led to it (it compares device and
                # inode); a second file with the same soname is another object.
                existing = names.get(found.node.file)
                if existing is None:
                    existing = _Loaded(found.node, current)
                    loaded.append(existing)
                    queue.append(existing)
                    names[found.node.file] = existing
                    names.setdefault(found.node.soname, existing)
                names[name] = existing
                current.deps[name] = existing.node
                chosen.append((current.node.location, name, existing.node))
        problems = [p for obj in loaded for p in self._versions(obj, names)]
        return Resolution(
            root=root.location,
            loaded=tuple(o.node for o in loaded),
            missing=tuple(missing),
            version_problems=tuple(problems),
            chosen=tuple(chosen),
        )

    # ---------------------------------------------------------------- search

    def _search(self, name: str, requester: _Loaded, root: _Loaded) -> _Found:
        """Where ld.so finds `name` for `requester`, or where it gives up. A file it refuses
        (not ELF, an executable) ends the search there: ld.so reports it and stops."""
        assert root.node.facts is not None
        if "$" in name:  # ld.so expands $ORIGIN and friends in DT_NEEDED too
            name = self._expand((name,), requester.node, relative=False)[0]
        if "/" in name:
            path = name if name.startswith("/") else posixpath.join(self.config.cwd, name)
            return self._try([path], [path], [], root.node.facts) or _Found(None, (path,))
        unusable: list[str] = []
        searched: list[str] = []
        for directory in self._directories(requester, root):
            if directory in searched:
                continue
            searched.append(directory)
            candidates = self._candidates(directory, name, requester)
            found = self._try(candidates, searched, unusable, root.node.facts)
            if found is not None:
                return found
        return _Found(None, tuple(searched), tuple(unusable))

    def _try(
        self, candidates: list[str], searched: list[str], unusable: list[str], root: BinaryFacts
    ) -> _Found | None:
        for candidate in candidates:
            node = self.fs.lookup(candidate)
            if node is None:
                continue
            verdict = accept(node, root)
            if verdict.load:
                return _Found(node, tuple(searched), tuple(unusable))
            if verdict.refused:
                return _Found(None, tuple(searched), tuple(unusable), node, verdict.refused)
            unusable.append(node.location)
        return None

    def _candidates(self, directory: str, name: str, requester: _Loaded) -> list[str]:
        if directory == CACHE:  # ld.so.cache: one path per soname, hwcaps already chosen
            assert self.config.cache is not None
            path = self.config.cache.get(name)
            if path and _nodeflib(requester) and self._in_system_dir(path):
                return []  # DF_1_NODEFLIB: no cache entry from the default folders
            return [path] if path else []
        return [
            *(posixpath.join(sub, name) for sub in self._hwcaps_folders(directory)),
            posixpath.join(directory, name),
        ]

    def _hwcaps_folders(self, directory: str) -> tuple[str, ...]:
        """The hwcaps subfolders of `directory` that exist (ld.so too remembers which do not,
        rather than trying each of them for every library)."""
        if directory not in self._subfolders:
            self._subfolders[directory] = tuple(
                folder
                for sub in self.config.hwcaps
                if self.fs.has_folder(folder := posixpath.join(directory, sub))
            )
        return self._subfolders[directory]

    def _in_system_dir(self, path: str) -> bool:
        return any(path.startswith(d.rstrip("/") + "/") for d in self.config.system_dirs)

    def _directories(self, requester: _Loaded, root: _Loaded) -> list[str]:
        facts = requester.node.facts
        assert facts is not None
        dirs: list[str] = []
        if not facts.runpath:
            chain: _Loaded | None = requester
            while chain is not None:  # RPATH of the object, then of each object that loaded it
                chain_facts = chain.node.facts
                if chain_facts is not None and not chain_facts.runpath:
                    dirs.extend(self._expand(chain_facts.rpath, chain.node))
                chain = chain.parent
        # $ORIGIN in LD_LIBRARY_PATH is the main program's folder (glibc's _dl_init_paths).
        dirs.extend(self._expand(self.config.ld_library_path, root.node))
        dirs.extend(self._expand(facts.runpath, requester.node))
        dirs = [clean_path(d) for d in dirs if d]
        if self.config.cache is not None:
            dirs.append(CACHE)  # with DF_1_NODEFLIB, only its entries outside the defaults
        if not _nodeflib(requester):
            dirs.extend(clean_path(d) for d in self.config.system_dirs)
        return dirs

    def _expand(self, entries: tuple[str, ...], owner: Node, relative: bool = True) -> list[str]:
        """Substitute $ORIGIN (the folder where `owner` was found, through any symlink, as
        ld.so records it), $PLATFORM and $LIB."""
        origin = posixpath.dirname(owner.path)
        out = []
        for entry in entries:
            value = entry
            for token, replacement in (
                ("$ORIGIN", origin),
                ("$PLATFORM", self.config.platform),
                ("$LIB", self.config.lib),
            ):
                value = value.replace("${" + token[1:] + "}", replacement).replace(
                    token, replacement
                )
            if relative and not value.startswith("/"):
                value = posixpath.join(self.config.cwd, value)  # relative entries follow the cwd
            out.append(value)
        return out

    # ---------------------------------------------------------------- versions

    def _versions(self, obj: _Loaded, names: dict[str, _Loaded]) -> list[VersionProblem]:
        facts = obj.node.facts
        if facts is None:
            return []
        problems = []
        for requirement in facts.version_requirements:
            provider = obj.deps.get(requirement.library)
            if provider is None:
                known = names.get(requirement.library)
                provider = known.node if known is not None else None
            if provider is None:
                continue  # the library itself is missing: reported once, as a missing library
            defined = _defines(provider, requirement.version)
            if defined is True or requirement.weak:
                continue  # a missing weak version is only a warning in ld.so's verbose mode
            problems.append(
                VersionProblem(
                    requester=obj.node.location,
                    library=requirement.library,
                    version=requirement.version,
                    provider=provider,
                    symbols=requirement.symbols,
                    known=defined is False,
                )
            )
        return problems


def _defines(provider: Node, version: str) -> bool | None:
    if provider.facts is not None:
        definitions = provider.facts.version_definitions
        if not definitions:
            return True  # no version information: ld.so only warns
        return version in definitions
    if provider.library is not None:
        return provider.library.defines(version)
    return None
