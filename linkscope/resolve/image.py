"""A container image is its own runtime (DESIGN section 6): the merged image filesystem is the whole
world, and every ELF in it is resolved against the image's own loader, glibc and libraries, with
LD_LIBRARY_PATH and PATH from the config's Env, as `--sysroot` does for a folder. Lambda supplies
only the CPU and the kernel, so those come from its profile."""

from __future__ import annotations

import posixpath
from dataclasses import replace

from linkscope.model import ImageFacts, ScannedPackage
from linkscope.profiles.model import (
    LAMBDA_ARCHES,
    Environment,
    OsProfile,
    Runtime,
    Target,
)
from linkscope.resolve import (
    Placed,
    World,
    _hwcaps,
    _place,
    _with_users,
    default_dirs,
)
from linkscope.resolve.fs import EmptyFs, Origin, PackageFs
from linkscope.resolve.ldcache import parse_cache
from linkscope.resolve.loader import Loader, SearchConfig

IMAGE_RUNTIME = "image"
LOADERS = {
    "x86_64": ("/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-x86-64.so.2"),
    "aarch64": ("/lib/ld-linux-aarch64.so.1", "/lib64/ld-linux-aarch64.so.1"),
}
SHELLS = ("/bin/sh", "/bin/bash", "/usr/bin/sh", "/usr/bin/bash", "/usr/bin/env", "/bin/dash")
DEFAULT_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


def image_target(package: ScannedPackage, base: Target) -> Target:
    """The image as the runtime, for the function's architecture (`base` is Lambda's profile
    for that architecture: its CPU baseline and kernel are what the image runs on)."""
    image = package.image
    assert image is not None
    bundle = PackageFs()
    bundle.mount(package, "/", Origin.IMAGE)
    machine = LAMBDA_ARCHES[base.arch]
    dirs = tuple(dict.fromkeys((*image.ld_so_conf, *default_dirs(machine))))
    loader = next((p for p in LOADERS[machine] if bundle.lookup(p)), LOADERS[machine][0])
    os_profile = OsProfile(
        id="image",
        name=f"the image {package.source}",
        arch=base.arch,
        glibc=_glibc(bundle, dirs) or "unknown",
        loader=loader,
        library_dirs=dirs,
        libraries=(),
        libraries_complete=True,
        absent=frozenset(),
        shells=frozenset(s for s in SHELLS if bundle.lookup(s)),
        interpreters_absent=frozenset(),
        page_size=base.os.page_size,
        cpu=base.os.cpu,
        kernel=base.os.kernel,
        source=f"read from the image {package.source}",
    )
    return Target(
        runtime=Runtime(
            name=IMAGE_RUNTIME,
            os="image",
            family="",
            kind="image",
            architectures=(base.arch,),
            entrypoint="image",
            source="the container image",
        ),
        os=os_profile,
        environment=_environment(image, base.environment),
        limits=base.limits,
    )


def _environment(image: ImageFacts, base: Environment) -> Environment:
    def split(value: str | None) -> tuple[str, ...]:
        return tuple(d for d in (value or "").split(":") if d.startswith("/"))

    path = image.env_value("PATH")
    task = image.env_value("LAMBDA_TASK_ROOT") or image.workdir or base.task_root
    return Environment(
        ld_library_path=split(image.env_value("LD_LIBRARY_PATH")),
        path=split(path) if path is not None else DEFAULT_PATH,
        task_root=task,
        layer_root=base.layer_root,
        runtime_dir=image.env_value("LAMBDA_RUNTIME_DIR") or base.runtime_dir,
        bootstrap_search=(image.entrypoint_resolved,) if image.entrypoint_resolved else (),
        extensions_dir=base.extensions_dir,
    )


def _glibc(bundle: PackageFs, dirs: tuple[str, ...]) -> str | None:
    from linkscope.profiles.sysroot import _highest

    for directory in dirs:
        node = bundle.lookup(posixpath.join(directory, "libc.so.6"))
        if node is not None and node.facts is not None:
            return _highest(node.facts, "GLIBC")
    return None


def build_image_world(package: ScannedPackage, target: Target) -> World:
    image = package.image
    assert image is not None
    bundle = PackageFs()
    bundle.mount(package, "/", Origin.IMAGE)
    world = World(
        target=target,
        function=(package,),
        layers=(),
        placed=(),
        bundle=bundle,
        system=EmptyFs(),
        image=image,
    )
    machine = target.os.machine
    hwcaps = _hwcaps(target)
    cache = parse_cache(image.ld_cache, machine, hwcaps) if image.ld_cache else None
    config = SearchConfig(
        ld_library_path=target.environment.ld_library_path,
        system_dirs=tuple(default_dirs(machine)),
        platform=machine,
        lib="lib64",
        cwd=image.workdir or "/",
        cache=cache,
        hwcaps=hwcaps,
    )
    loader = Loader(world, config)
    elves = [node for node in bundle.nodes.values() if node.facts is not None]
    placed = _with_users([_place(node, world, loader, target) for node in elves])
    starts = _start_paths(placed, target, bundle, _script_interpreter(package, target))
    return replace(
        world,
        placed=tuple(sorted(placed, key=lambda p: p.node.location)),
        start_paths=starts,
    )


def _script_interpreter(package: ScannedPackage, target: Target) -> str | None:
    """The program a script entrypoint's `#!` line runs (`/usr/bin/env X`: X on PATH)."""
    starts = target.environment.bootstrap_search
    script = next((s for s in package.scripts if _image_path(s.path) in starts), None)
    if script is None:
        return None
    if script.interpreter != "/usr/bin/env":
        return script.interpreter
    words = [w for w in (script.argument or "").split() if not w.startswith("-")]
    return posixpath.join(target.environment.path[0], words[0]) if words else None


def _image_path(location: str) -> str:
    return "/" + location.rsplit("!/", 1)[-1]


def _start_paths(
    placed: list[Placed], target: Target, bundle: PackageFs, interpreter: str | None
) -> frozenset[str]:
    """What Lambda runs at start: the entrypoint (and its `#!` interpreter), the extensions,
    and every library they load."""
    starts = set(target.environment.bootstrap_search)
    if interpreter is not None:
        resolved = bundle.resolve_links(interpreter)
        starts.add(resolved or interpreter)
    extensions = target.environment.extensions_dir
    starts |= {p.node.path for p in placed if posixpath.dirname(p.node.path) == extensions}
    found = set()
    for item in placed:
        if item.node.path not in starts:
            continue
        found.add(item.node.path)
        if item.interpreter is not None:
            found.add(item.interpreter.path)
        if item.resolution is not None:
            found |= {node.path for node in item.resolution.loaded}
    return frozenset(found | {s for s in starts if bundle.lookup(s) is not None})
