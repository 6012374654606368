"""The simulated Lambda filesystem: the function at /var/task, layers at /opt, the language
runtime's private libraries at /var/lang/lib, and the OS libraries from a profile or a real root.

Lookups never touch the user's files again: package members are facts already read. Only a
sysroot (a real root filesystem the user points at) is read, lazily and read-only.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum

from linkscope.elf import facts_from_file
from linkscope.errors import LinkscopeError
from linkscope.model import BinaryFacts, EntryKind, ScannedPackage
from linkscope.profiles.model import LibraryInfo, OsProfile, Runtime

MAX_LINK_DEPTH = 40


class Origin(str, Enum):
    FUNCTION = "function"
    LAYER = "layer"
    LANGUAGE = "language runtime"
    SYSTEM = "runtime"
    SYSROOT = "sysroot"
    IMAGE = "image"  # a container image's own file: the image is its runtime

    @property
    def bundled(self) -> bool:
        return self in (Origin.FUNCTION, Origin.LAYER)


@dataclass(frozen=True, slots=True, kw_only=True)
class Node:
    path: str  # absolute path in the simulated filesystem
    origin: Origin
    location: str  # how reports name it (package location, or the simulated path)
    facts: BinaryFacts | None = None
    library: LibraryInfo | None = None
    kind: EntryKind = EntryKind.ELF
    # The file itself once symlinks are followed, when `path` (where the search found it, which
    # gives its `$ORIGIN`, as ld.so does) goes through a link; "" when `path` is the file.
    real: str = ""
    size: int | None = None  # bytes, when known (ld.so refuses a file shorter than an ELF header)

    @property
    def file(self) -> str:
        """What identifies the file: two paths to one file load it once, as ld.so does."""
        return self.real or self.path

    @property
    def soname(self) -> str:
        if self.facts is not None and self.facts.soname:
            return self.facts.soname
        return posixpath.basename(self.path)


class PackageFs:
    """The function package and layers, mounted where Lambda puts them."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.links: dict[str, tuple[str, str]] = {}  # path -> (target, root of its package)
        self.folders: set[str] = set()  # every folder that holds something (links not followed)
        self._by_name: dict[str, list[Node]] | None = None  # built on first `named` call

    def mount(self, package: ScannedPackage, root: str, origin: Origin) -> None:
        facts = {b.path: b for b in package.binaries}
        self._by_name = None
        root = posixpath.normpath(root)
        for entry in package.entries:
            path = posixpath.normpath(posixpath.join(root, entry.inner))
            self._add_folders(
                path if entry.kind is EntryKind.DIRECTORY else posixpath.dirname(path)
            )
            if entry.kind is EntryKind.SYMLINK and entry.symlink_target is not None:
                self.nodes.pop(path, None)  # a later layer's link replaces an earlier file
                self.links[path] = (entry.symlink_target, root)
                continue
            if entry.kind is EntryKind.DIRECTORY:
                continue
            self.links.pop(path, None)  # a later layer's file replaces an earlier link
            self.nodes[path] = Node(
                path=path,
                origin=origin,
                location=entry.location,
                facts=facts.get(entry.location),
                kind=entry.kind,
                size=entry.size,
            )

    def _add_folders(self, folder: str) -> None:
        while folder not in self.folders and folder != "/":
            self.folders.add(folder)
            folder = posixpath.dirname(folder)

    def has_folder(self, path: str) -> bool:
        resolved = self.resolve_links(path)
        return resolved is not None and resolved in self.folders

    def resolve_links(self, path: str) -> str | None:
        """Follow symlinks one component at a time, inside the package that holds each link and
        never outside it (a link to /etc/passwd or ../../x resolves to None), with a bound on
        the number of links followed (loops resolve to None)."""

        def read_link(components: list[str]) -> str | None:
            current = "/" + "/".join(components)
            link = self.links.get(current)
            if link is None:
                return None
            target, root = link
            destination = posixpath.normpath(posixpath.join(posixpath.dirname(current), target))
            if not _inside(destination, root):
                raise _Unresolvable
            return destination

        resolved = walk_links(path, read_link)
        return None if resolved is None else "/" + "/".join(resolved)

    def link_target(self, path: str) -> str | None:
        """The raw target when `path` itself is a symlink in the package."""
        link = self.links.get(posixpath.normpath(path))
        return link[0] if link else None

    def lookup(self, path: str) -> Node | None:
        """The file at `path`, named by `path` (its `$ORIGIN` is where it was found, not where
        a symlink leads), with the file's own path in `real` when they differ."""
        resolved = self.resolve_links(path)
        node = self.nodes.get(resolved) if resolved is not None else None
        found = clean_path(path)
        if node is None or found == node.path:
            return node
        return replace(node, path=found, real=node.path)

    def named(self, name: str) -> list[Node]:
        """Every node whose file name is `name`, in path order (indexed once: a package of
        thousands of files is asked this for every library it loads)."""
        if self._by_name is None:
            index: dict[str, list[Node]] = {}
            for path in sorted(self.nodes):
                index.setdefault(posixpath.basename(path), []).append(self.nodes[path])
            self._by_name = index
        return list(self._by_name.get(name, ()))


class _Unresolvable(Exception):
    """A path component is missing, or a link leads where it may not be followed."""


def clean_path(path: str) -> str:
    """`path` without empty or `.` components or a trailing slash, but with its `..` kept: the
    kernel resolves `..` after the symlink before it (`lib/../deps` where `lib` is a link is
    beside the link's target), so only a walk through the links may remove them."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    return ("/" if path.startswith("/") else "") + "/".join(parts)


def walk_links(path: str, read_link: Callable[[list[str]], str | None]) -> list[str] | None:
    """Resolve `path` one component at a time, as the kernel does (`..` goes up from where the
    links so far lead). `read_link(components)` returns a symlink's target (absolute targets
    restart from the root) or None for a plain component, or raises _Unresolvable. Returns the
    resolved components, or None (bounded: loops end as None)."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    resolved: list[str] = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        try:
            target = read_link([*resolved, part])
        except _Unresolvable:
            return None
        if target is None:
            resolved.append(part)
            continue
        hops += 1
        if hops > MAX_LINK_DEPTH:
            return None
        if target.startswith("/"):
            resolved = []
        parts = [p for p in target.split("/") if p not in ("", ".")] + parts
    return resolved


def _elf_magic(host: str) -> bool:
    try:
        with open(host, "rb") as handle:
            return handle.read(4) == b"\x7fELF"
    except OSError:
        return False


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


class ProfileFs:
    """The runtime's OS libraries and loader, as the profile knows them."""

    def __init__(self, os_profile: OsProfile, runtime: Runtime) -> None:
        self.os, self.runtime = os_profile, runtime
        self.dirs = {posixpath.normpath(d) for d in os_profile.library_dirs}
        self.libraries = {lib.soname: lib for lib in (*os_profile.libraries, *runtime.os_added)}
        self.lang = {lib.soname: lib for lib in runtime.lang_lib}

    def lookup(self, path: str) -> Node | None:
        directory, name = posixpath.split(posixpath.normpath(path))
        if directory == "/var/lang/lib" and name in self.lang:
            return Node(path=path, origin=Origin.LANGUAGE, location=path, library=self.lang[name])
        if directory in self.dirs and name in self.libraries:
            return Node(
                path=path, origin=Origin.SYSTEM, location=path, library=self.libraries[name]
            )
        if posixpath.normpath(path) == posixpath.normpath(self.os.loader):
            loader = self.libraries.get(name) or LibraryInfo(soname=name, directory=directory)
            return Node(path=path, origin=Origin.SYSTEM, location=path, library=loader)
        return None

    def has_folder(self, path: str) -> bool:
        folder = posixpath.normpath(path)
        return folder in self.dirs or folder == "/var/lang/lib"

    def known_absent(self, name: str) -> bool:
        return name in self.os.absent and name not in self.libraries

    @property
    def complete(self) -> bool:
        return self.os.libraries_complete and self.runtime.lang_lib_listed

    def unknown_part(self, name: str) -> str | None:
        """Which part of the runtime's folders no listing covers, when `name` might be there;
        None when the data answers (present, absent, or outside complete listings)."""
        if name in self.libraries or name in self.lang or self.known_absent(name):
            return None
        if not self.os.libraries_complete:
            return (
                f"linkscope's list of {self.os.name} libraries on {self.os.arch} is incomplete "
                "(no listing of that environment)"
            )
        may_hold = self.runtime.lang_lib_may_hold
        if not self.runtime.lang_lib_listed and not (may_hold and not name.startswith(may_hold)):
            return (
                f"it is not among {self.os.name}'s {self.os.arch} libraries (a complete listing), "
                f"but {self.runtime.name}'s own /var/lang/lib, first on LD_LIBRARY_PATH, "
                "has never been listed"
            )
        return None


class SysrootFs:
    """A real root filesystem (an exported Lambda image, or `/`), read lazily."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        self._cache: dict[str, Node | None] = {}
        self._folders: dict[str, bool] = {}

    def host_path(self, path: str) -> str | None:
        """Where a simulated absolute path lives on this machine, symlinks resolved inside the
        root (an absolute link target is taken relative to the root, as chroot would)."""

        def read_link(components: list[str]) -> str | None:
            candidate = os.path.join(self.root, *components)
            try:
                info = os.lstat(candidate)
                return os.readlink(candidate) if stat.S_ISLNK(info.st_mode) else None
            except OSError:
                raise _Unresolvable from None

        resolved = walk_links(path, read_link)
        return None if resolved is None else os.path.join(self.root, *resolved)

    def has_folder(self, path: str) -> bool:
        key = clean_path(path)
        if key not in self._folders:
            host = self.host_path(key)
            self._folders[key] = host is not None and os.path.isdir(host)
        return self._folders[key]

    def lookup(self, path: str) -> Node | None:
        key = clean_path(path)
        if key not in self._cache:
            self._cache[key] = self._read(key)
        return self._cache[key]

    def _read(self, path: str) -> Node | None:
        host = self.host_path(path)
        if host is None or not os.path.isfile(host):
            return None
        real = "/" + os.path.relpath(host, self.root) if host != self.root else "/"
        base = Node(
            path=path,
            origin=Origin.SYSROOT,
            location=path,
            kind=EntryKind.OTHER,
            real="" if real == path else real,
            size=os.path.getsize(host),
        )
        try:
            facts = facts_from_file(host, display=path)
        except (LinkscopeError, OSError):
            return replace(base, kind=EntryKind.UNREADABLE) if _elf_magic(host) else base
        return replace(base, facts=facts, kind=EntryKind.ELF)

    def known_absent(self, name: str) -> bool:
        return True

    @property
    def complete(self) -> bool:
        return True

    def unknown_part(self, name: str) -> str | None:
        return None  # a real root filesystem is complete by construction


class EmptyFs:
    """No runtime outside the package: a container image is its own whole filesystem."""

    def lookup(self, path: str) -> Node | None:
        return None

    def has_folder(self, path: str) -> bool:
        return False

    def known_absent(self, name: str) -> bool:
        return True

    @property
    def complete(self) -> bool:
        return True

    def unknown_part(self, name: str) -> str | None:
        return None  # the image is complete by construction
