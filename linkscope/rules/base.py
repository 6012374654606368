"""The rule contract: a stable ID, a title, a default severity, and a check over the world."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from linkscope.ecosystems.base import Need
from linkscope.model import Finding, Severity
from linkscope.resolve import Placed, Role, World


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """What rules may look at besides the world: options that change their verdicts."""

    today: datetime.date
    strict: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    id: str
    title: str
    severity: Severity
    help: str
    check: Callable[[World, Context], Iterable[Finding]]

    def finding(
        self,
        path: str,
        message: str,
        fix: str = "",
        *,
        severity: Severity | None = None,
        library: str | None = None,
        version: str | None = None,
        symbols: tuple[str, ...] = (),
    ) -> Finding:
        return Finding(
            rule=self.id,
            severity=severity or self.severity,
            path=path,
            message=message,
            fix=fix,
            library=library,
            version=version,
            symbols=symbols,
        )


def essential(item: Placed, world: World) -> bool:
    """Files Lambda runs or loads: a problem there stops the function. A library that nothing in
    the package needs may be a spare (another platform's copy), so its problems are warnings,
    unless every binary in the package is affected. In a container image, what the entrypoint
    and the extensions run and load, the function's own code, and what a language runtime
    loads by itself."""
    if world.image is not None:
        return (
            item.node.path in world.start_paths
            or in_function_code(item.node.path, world)
            or item.node.location in loaded_natives(world)
        )
    return (
        item.role is not Role.LIBRARY
        or bool(item.needed_by)
        or len(world.placed) == 1
        or item.node.location in loaded_natives(world)
    )


_LOADED: list[tuple[World, frozenset[str]]] = []  # the last world asked about, and its answer


def loaded_natives(world: World) -> frozenset[str]:
    """Locations of the native files a language runtime loads by itself (a Node addon, a Python
    extension module, a JNI library): essential, though no other file in the package needs
    them. From the ecosystem stage's classification of each package."""
    if _LOADED and _LOADED[0][0] is world:
        return _LOADED[0][1]
    from linkscope.rules.spares import picked_natives

    found: set[str] = set(picked_natives(world))
    for package in (*world.function, *world.layers):
        loaded = package.ecosystems.loaded()
        found.update(e.location for e in package.entries if e.inner in loaded)
    _LOADED[:] = [(world, frozenset(found))]
    return _LOADED[0][1]


def unused_runtime_duplicate(location: str, world: World) -> str | None:
    """The runtime's path for a library, when `location` is a bundled copy of it that nothing in
    the package loads: a program asking for that soname gets the runtime's copy first, so the
    bundled one's own problems cannot stop the function (they are warnings)."""
    import posixpath

    item = next((p for p in world.placed if p.node.location == location), None)
    if item is None or item.role is not Role.LIBRARY or item.needed_by:
        return None
    system = world.system_copy(item.facts.soname or posixpath.basename(item.node.path))
    return system.path if system is not None else None


def system_name(world: World) -> str:
    """What provides the system's files in this check: the root filesystem given with
    `--sysroot` (its libraries are the ones searched), or the runtime the profile describes."""
    if world.target.sysroot:
        return f"the root filesystem {world.target.sysroot}"
    if world.image is not None and world.function:
        return f"the image {world.function[0].source}"
    return f"{world.target.runtime.name} ({world.target.arch})"


def image_install_hint(world: World) -> str:
    """How to add a system package to this image, by the distribution its release files name
    (a base image's package manager), or every common one when none is known."""
    if world.find("/etc/alpine-release") is not None:
        return "`apk add` the package that provides it"
    if world.find("/etc/debian_version") is not None:
        return "`apt-get install` the package that provides it"
    if world.find("/etc/system-release") is not None or world.find("/etc/redhat-release"):
        return "`dnf install` the package that provides it"
    return (
        "install the package that provides it (`dnf install` on Amazon Linux and AWS base "
        "images, `apt-get install` on Debian/Ubuntu, `apk add` on Alpine)"
    )


def image_library_dirs(world: World) -> str:
    """The image's LD_LIBRARY_PATH folders, from its config Env, for a COPY fix."""
    env = dict(world.image.env) if world.image is not None else {}
    folders = [f for f in env.get("LD_LIBRARY_PATH", "").split(":") if f]
    if folders:
        return f"a folder on the image's LD_LIBRARY_PATH ({', '.join(folders)})"
    return "/usr/lib64 or /usr/lib (the image sets no LD_LIBRARY_PATH)"


def image_library_fix(name: str, world: World) -> str:
    """LS401's fix when the system is a container image: the image itself must carry it."""
    return (
        f"In the Dockerfile, {image_install_hint(world)}, or COPY {name} (and what it needs) "
        f"into {image_library_dirs(world)}, or build FROM an AWS base image "
        "(public.ecr.aws/lambda/...); or link it statically."
    )


def need(world: World) -> Need:
    """What the runtime needs of a native file, for advice by packaging origin."""
    os_profile = world.target.os
    return Need(
        runtime=world.target.runtime.name,
        arch=world.target.arch,
        machine=os_profile.machine,
        glibc=os_profile.glibc,
        os_id=os_profile.id,
    )


def named(path: str) -> str:
    return f"`{path}`"


def symbol_list(symbols: tuple[str, ...], limit: int = 5) -> str:
    if not symbols:
        return ""
    shown = ", ".join(symbols[:limit])
    return shown + (f" and {len(symbols) - limit} more" if len(symbols) > limit else "")


def in_function_code(path: str, world: World) -> bool:
    """A path under the image's task root (LAMBDA_TASK_ROOT or WORKDIR) or /opt."""
    task = world.target.environment.task_root.rstrip("/")
    return (task not in ("", "/") and path.startswith(task + "/")) or path.startswith("/opt/")


def is_image(world: World) -> bool:
    return world.image is not None


def spare_in_image(world: World, location: str) -> bool:
    """A file of a container image that nothing Lambda starts loads: a base image's tool
    (`dpkg-deb`, `fsck.cramfs`). Its problems are warnings: the function never runs it."""
    if world.image is None:
        return False
    path = "/" + location.rsplit("!/", 1)[-1]
    return not (
        path in world.start_paths
        or in_function_code(path, world)
        or location in loaded_natives(world)
    )
