"""Build the simulated Lambda filesystem for one check and resolve every ELF in it."""

from __future__ import annotations

import glob
import os
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum

from linkscope.model import BinaryFacts, ImageFacts, ScannedPackage, version_key
from linkscope.profiles.model import Target
from linkscope.resolve.fs import EmptyFs, Node, Origin, PackageFs, ProfileFs, SysrootFs
from linkscope.resolve.ldcache import read_cache
from linkscope.resolve.loader import Loader, Resolution, SearchConfig

__all__ = ["Node", "Origin", "Placed", "Resolution", "Role", "World", "build_world"]

MULTIARCH = {"x86_64": "x86_64-linux-gnu", "aarch64": "aarch64-linux-gnu"}


class Role(str, Enum):
    BOOTSTRAP = "bootstrap"
    EXTENSION = "extension"
    EXECUTABLE = "executable"
    LIBRARY = "library"


@dataclass(frozen=True, slots=True, kw_only=True)
class Placed:
    """One ELF of the deployment, where Lambda puts it, and what loading it would find."""

    facts: BinaryFacts
    node: Node
    role: Role
    interpreter: Node | None  # None when absent from the runtime (or the binary has none)
    resolution: Resolution | None
    needed_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class World:
    target: Target
    function: tuple[ScannedPackage, ...]
    layers: tuple[ScannedPackage, ...]
    placed: tuple[Placed, ...]
    bundle: PackageFs
    system: ProfileFs | SysrootFs | EmptyFs
    # A container image: its facts, and the paths Lambda starts or loads at start (the
    # entrypoint, the extensions and what they load); None for zips, folders and files.
    image: ImageFacts | None = None
    start_paths: frozenset[str] = frozenset()

    def find(self, path: str) -> Node | None:
        """The file at `path`: the package's (function and layers) first, then the system's."""
        return self.bundle.lookup(path) or self.system.lookup(path)

    def lookup(self, path: str) -> Node | None:
        """`find`, under the name the loader's Filesystem protocol uses."""
        return self.find(path)

    def has_folder(self, path: str) -> bool:
        return self.bundle.has_folder(path) or self.system.has_folder(path)

    def system_copy(self, name: str, *, language: bool = False) -> Node | None:
        """The runtime's own copy of library `name` in its library folders (and, with
        `language`, the language runtime's /var/lang/lib), first one found."""
        folders = (*self.target.os.library_dirs, *(["/var/lang/lib"] if language else []))
        for directory in folders:
            node = self.system.lookup(posixpath.join(directory, name))
            if node is not None:
                return node
        return None


def build_world(
    function: ScannedPackage,
    layers: Sequence[ScannedPackage],
    target: Target,
) -> World:
    bundle = PackageFs()
    bundle.mount(function, _function_root(function, target), Origin.FUNCTION)
    for layer in layers:  # later layers are laid over earlier ones, as Lambda extracts them
        bundle.mount(layer, target.environment.layer_root, Origin.LAYER)
    system: ProfileFs | SysrootFs = (
        SysrootFs(target.sysroot) if target.sysroot else ProfileFs(target.os, target.runtime)
    )
    world = World(
        target=target,
        function=(function,),
        layers=tuple(layers),
        placed=(),
        bundle=bundle,
        system=system,
    )
    loader = Loader(world, _search_config(target))
    elves = [node for node in bundle.nodes.values() if node.facts is not None]
    placed = _with_users([_place(node, world, loader, target) for node in elves])
    return replace(world, placed=tuple(sorted(placed, key=lambda p: p.node.location)))


def _function_root(function: ScannedPackage, target: Target) -> str:
    """Where the function's files go. A single file checked against a sysroot that contains it
    stays where it is (so `$ORIGIN` means what it means there); otherwise /var/task."""
    task = target.environment.task_root
    if function.kind != "file" or not target.sysroot:
        return task
    real = os.path.abspath(function.source)
    root = os.path.abspath(target.sysroot)
    if real.startswith(root.rstrip("/") + "/") or root == "/":
        return "/" + posixpath.dirname(os.path.relpath(real, root))
    return task


def _search_config(target: Target) -> SearchConfig:
    machine = target.os.machine
    hwcaps = _hwcaps(target)
    if target.sysroot:
        # ld.so reads the cache that ldconfig built from etc/ld.so.conf (never the .conf
        # itself), then its built-in folders.
        cache = read_cache(target.sysroot, machine, hwcaps)
        system_dirs = tuple(default_dirs(machine))
    else:
        cache, system_dirs = None, target.os.library_dirs
    return SearchConfig(
        ld_library_path=target.environment.ld_library_path,
        system_dirs=system_dirs,
        platform=machine,
        lib="lib64",
        cwd=target.environment.task_root,
        cache=cache,
        hwcaps=hwcaps + _legacy_hwcaps(target),
    )


def _hwcaps(target: Target) -> tuple[str, ...]:
    """glibc-hwcaps subfolders (glibc >= 2.33, x86-64 only among Lambda's machines) up to the
    runtime's guaranteed ISA level: x86-64-v3 unless the profile says otherwise."""
    if target.os.machine != "x86_64" or version_key(target.os.glibc) < (2, 33):
        return ()
    level = target.os.cpu.x86_64_isa_level or 3
    return tuple(f"glibc-hwcaps/x86-64-v{n}" for n in range(level, 1, -1))


def _legacy_hwcaps(target: Target) -> tuple[str, ...]:
    """The older subfolders glibc before 2.37 also tries in every folder, after glibc-hwcaps:
    `tls`, the platform (`haswell`, which x86-64-v3 implies, since glibc 2.26) and `x86_64`,
    in the order ld.so --help lists them. `avx512_1` is left out (only some Lambda machines
    have AVX-512), as is arm64, whose legacy names this project has not checked."""
    if target.os.machine != "x86_64" or version_key(target.os.glibc) >= (2, 37):
        return ()
    if version_key(target.os.glibc) < (2, 26):
        return ("tls/x86_64", "tls", "x86_64")
    return (
        "tls/haswell/x86_64",
        "tls/haswell",
        "tls/x86_64",
        "tls",
        "haswell/x86_64",
        "haswell",
        "x86_64",
    )


def sysroot_dirs(root: str, machine: str) -> list[str]:
    """The cache's directories (etc/ld.so.conf and its includes), then the usual defaults."""
    dirs = _ld_so_conf(root, "/etc/ld.so.conf", depth=0)
    return list(dict.fromkeys(dirs + default_dirs(machine)))


def default_dirs(machine: str) -> list[str]:
    """ld.so's built-in folders: /lib64 and /usr/lib64 on Amazon Linux and Fedora, the multiarch
    ones, then /lib and /usr/lib on Debian; linkscope searches the union."""
    triplet = MULTIARCH.get(machine)
    defaults = ["/lib64", "/usr/lib64"]
    if triplet:
        defaults += [f"/lib/{triplet}", f"/usr/lib/{triplet}"]
    return [*defaults, "/lib", "/usr/lib"]


def _ld_so_conf(root: str, path: str, depth: int) -> list[str]:
    if depth > 8:
        return []
    host = os.path.join(root, path.lstrip("/"))
    try:
        with open(host, encoding="utf-8", errors="replace") as handle:
            lines = handle.read(1 << 20).splitlines()
    except OSError:
        return []
    dirs: list[str] = []
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if line.startswith("include"):
            pattern = line.split(None, 1)[1] if len(line.split(None, 1)) > 1 else ""
            if not pattern.startswith("/"):
                pattern = posixpath.join(posixpath.dirname(path), pattern)
            for match in sorted(glob.glob(os.path.join(root, pattern.lstrip("/")))):
                inner = "/" + os.path.relpath(match, root)
                dirs += _ld_so_conf(root, inner, depth + 1)
        elif line.startswith("/"):
            dirs.append(posixpath.normpath(line.split("=", 1)[0]))
    return dirs


def _role(node: Node, target: Target, bundle: PackageFs) -> Role:
    facts = node.facts
    assert facts is not None
    env = target.environment
    bootstraps = (
        posixpath.join(env.task_root, "bootstrap"),
        posixpath.join(env.layer_root, "bootstrap"),
        *env.bootstrap_search,  # a container image's entrypoint
    )
    # A `bootstrap` symlink makes its target the bootstrap: that is the file Lambda runs.
    if node.path in bootstraps or node.path in {bundle.resolve_links(b) for b in bootstraps}:
        return Role.BOOTSTRAP
    if posixpath.dirname(node.path) == env.extensions_dir:
        return Role.EXTENSION
    if facts.is_shared_library:
        return Role.LIBRARY
    return Role.EXECUTABLE if facts.is_executable else Role.LIBRARY


def _place(node: Node, fs: World, loader: Loader, target: Target) -> Placed:
    facts = node.facts
    assert facts is not None
    role = _role(node, target, fs.bundle)
    interpreter: Node | None = None
    if facts.interpreter and role is not Role.LIBRARY:
        interpreter = fs.lookup(facts.interpreter)
    elif facts.needed:
        interpreter = fs.lookup(target.os.loader)
    resolution = None
    if facts.needed and facts.machine == target.os.machine:
        resolution = loader.resolve(node, interpreter)
    return Placed(facts=facts, node=node, role=role, interpreter=interpreter, resolution=resolution)


def _with_users(placed: list[Placed]) -> list[Placed]:
    """Record who in the package loads each bundled library (directly or through another
    library). A library that something loads is judged only where it is loaded: ld.so searches
    its dependencies with the DT_RPATH of the objects that loaded it (auditwheel's vendored
    `*.libs/` rely on that), so resolving it on its own would report libraries it does find.
    Libraries that only load each other (a cycle nothing else enters) keep one resolution, from
    the first of them, so that what they need is still checked."""
    users: dict[str, set[str]] = {}
    for item in placed:
        if item.resolution is None:
            continue
        for requester, _name, provider in item.resolution.chosen:
            inside = provider.origin.bundled or provider.origin is Origin.IMAGE
            if inside and provider.location != requester:
                users.setdefault(provider.location, set()).add(requester)
    judged = _judged_alone(placed, users)
    result = []
    for item in placed:
        loaded_by = tuple(sorted(users.get(item.node.location, ())))
        resolution = item.resolution if item.node.location in judged else None
        result.append(replace(item, needed_by=loaded_by, resolution=resolution))
    return result


def _judged_alone(placed: list[Placed], users: dict[str, set[str]]) -> set[str]:
    """Locations resolved on their own: everything but libraries some other resolution covers."""
    judged = {
        p.node.location
        for p in placed
        if not (p.role is Role.LIBRARY and users.get(p.node.location))
    }
    covered = {n.location for p in placed if p.node.location in judged for n in _loaded(p)}
    for item in sorted(placed, key=lambda p: p.node.location):
        if item.node.location in judged or item.node.location in covered:
            continue
        judged.add(item.node.location)  # the first of a cycle that nothing outside it loads
        covered |= {n.location for n in _loaded(item)}
    return judged


def _loaded(item: Placed) -> tuple[Node, ...]:
    return item.resolution.loaded if item.resolution is not None else ()
