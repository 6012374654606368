"""Small root filesystems for the real-loader oracle, and what glibc's loader picks in them.

A root has the host's loader and libc laid out like Debian (lib/x86_64-linux-gnu, lib64 -> the
loader); a test adds libraries and a package at /var/task, where Lambda mounts it. The real
loader runs inside the root in trace mode (LD_TRACE_LOADED_OBJECTS=1: it maps the objects and
runs nothing) and its `name => path` lines say which FILE it chose for every library, which
tests compare with linkscope's choice.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from check_helpers import HOST_LOADER

from linkscope import api
from linkscope.profiles import load_environment
from linkscope.resolve import Role, World, build_world

MULTIARCH = "/usr/lib/x86_64-linux-gnu"
TRACE_LINE = re.compile(r"^\t(?:(\S+) => )?(\S+) \(0x[0-9a-f]+\)$", re.MULTILINE)
NOT_FOUND = re.compile(r"^\t(\S+) => not found$", re.MULTILINE)
REFUSED = re.compile(r"error while loading shared libraries: (\S+): (.+)$", re.MULTILINE)


def _can_chroot() -> str | None:
    if not os.path.exists(HOST_LOADER):
        return "needs the x86_64 glibc loader at /lib64"
    if os.geteuid() != 0:
        return "chroot needs root"
    if shutil.which("chroot") is None:
        return "no chroot command"
    return None


needs_chroot = pytest.mark.skipif(_can_chroot() is not None, reason=str(_can_chroot()))


def host_lib(name: str) -> Path:
    for folder in ("/lib/x86_64-linux-gnu", MULTIARCH, "/lib64"):
        path = Path(folder) / name
        if path.exists():
            return path
    pytest.skip(f"this host has no {name}")


def copy_lib(name: str, folder: Path) -> None:
    """Copy a host library with its symlink chain (libstdc++.so.6 -> libstdc++.so.6.0.30)."""
    source = host_lib(name)
    folder.mkdir(parents=True, exist_ok=True)
    if source.is_symlink():
        target = os.readlink(source)
        shutil.copy2(source.resolve(), folder / os.path.basename(target))
        (folder / name).symlink_to(os.path.basename(target))
    else:
        shutil.copy2(source, folder / name)


def make_root(tmp: Path, libraries: Iterable[str] = ()) -> Path:
    """A root filesystem with the host's loader and libc, plus `libraries`, laid out like Debian
    (lib/x86_64-linux-gnu, lib64 -> the loader). No ld.so.cache unless a test makes one."""
    root = tmp / "root"
    libdir = root / "lib" / "x86_64-linux-gnu"
    libdir.mkdir(parents=True)
    (root / "usr" / "lib").mkdir(parents=True)
    (root / "lib64").mkdir()
    loader = Path(HOST_LOADER).resolve()
    shutil.copy2(loader, libdir / loader.name)
    (root / "lib64" / "ld-linux-x86-64.so.2").symlink_to(f"/lib/x86_64-linux-gnu/{loader.name}")
    for name in ("libc.so.6", *libraries):
        copy_lib(name, libdir)
    chroot = shutil.which("chroot") or "chroot"
    probe = subprocess.run(
        [chroot, str(root), "/lib64/ld-linux-x86-64.so.2", "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    if probe.returncode != 0:
        pytest.skip(f"cannot run the loader in a chroot here: {probe.stderr.strip()}")
    return root


def inside(root: Path, path: str) -> str:
    """The file `path` names inside `root`, symlinks followed as chroot would (absolute targets
    from the root): two spellings of one file compare equal."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    done: list[str] = []
    for _hop in range(64):
        if not parts:
            return "/" + "/".join(done)
        part = parts.pop(0)
        if part == "..":
            done = done[:-1]
            continue
        here = root.joinpath(*done, part)
        if here.is_symlink():
            target = os.readlink(here)
            done = [] if target.startswith("/") else done
            parts = [p for p in target.split("/") if p not in ("", ".")] + parts
        else:
            done.append(part)
    raise AssertionError(f"symlink loop at {path}")


@dataclass
class Choice:
    """What one loader did: the file chosen for each name, the names not found, and the file
    it refused (glibc's reason for stopping there)."""

    files: dict[str, str] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)
    refused: str = ""  # glibc's reason, "invalid ELF header"
    output: str = ""

    def __str__(self) -> str:
        return f"files={self.files} missing={self.missing} refused={self.refused}\n{self.output}"


def real_choice(root: Path, path: str) -> Choice:
    """glibc's loader, run as `ld.so PATH` inside `root` with Lambda's LD_LIBRARY_PATH. (ld.so
    is started explicitly because the root has no /proc: without /proc/self/exe the kernel-run
    loader cannot compute the program's $ORIGIN, which Lambda's can. Started this way, the
    program's $ORIGIN is the folder of PATH, so tests pass the file the kernel would run.)"""
    env = {
        "PATH": "/usr/bin:/bin",
        "LC_ALL": "C",
        "LD_TRACE_LOADED_OBJECTS": "1",
        "LD_LIBRARY_PATH": ":".join(load_environment().ld_library_path),
    }

    def enter_root() -> None:
        os.chroot(root)
        os.chdir("/")

    done = subprocess.run(
        [HOST_LOADER, path],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env=env,
        preexec_fn=enter_root,
    )
    output = done.stdout + done.stderr
    choice = Choice(output=output, missing=set(NOT_FOUND.findall(output)))
    for name, found in TRACE_LINE.findall(output):
        if found.startswith("/") and not found.endswith("ld-linux-x86-64.so.2"):
            choice.files[name or found] = inside(root, found)
    refused = REFUSED.search(output)
    if refused:
        choice.refused = refused.group(2).strip()
    return choice


def linkscope_world(root: Path, package: Path, runtime: str = "provided.al2023") -> World:
    target = api.load_check_target(runtime, "x86_64", str(root))
    (scanned,) = api.scan([str(package)])
    return build_world(scanned, [], target)


def linkscope_choice(root: Path, package: Path, location: str) -> Choice:
    """linkscope's resolution, in `--sysroot root` mode, of the package member at `location`
    (as the scan names it), in the same terms as `real_choice`."""
    world = linkscope_world(root, package)
    item = next(p for p in world.placed if p.node.location == location)
    assert item.resolution is not None, f"{location} was not resolved on its own"
    choice = Choice()
    for _requester, name, provider in item.resolution.chosen:
        if not provider.path.endswith("ld-linux-x86-64.so.2"):
            key = provider.path if "$" in name else name
            choice.files.setdefault(key, inside(root, provider.path))
    for missing in item.resolution.missing:
        if missing.refused:
            choice.refused = missing.refused
        else:  # ld.so names a DT_NEEDED with $ORIGIN by its expansion, the path it tried
            choice.missing.add(missing.searched[0] if "$" in missing.name else missing.name)
    choice.output = "\n".join(f"{r} needs {n} -> {p.path}" for r, n, p in item.resolution.chosen)
    return choice


def bootstrap_of(world: World) -> str:
    return next(p.node.location for p in world.placed if p.role is Role.BOOTSTRAP)


def assert_same_files(real: Choice, ours: Choice) -> None:
    """Both loaders chose the same file for every library the real one loaded, found nothing
    for the same names, and refused the same way."""
    detail = f"\nreal loader: {real}\nlinkscope: {ours}"
    if real.refused:  # it stopped there and listed nothing
        assert ours.refused == real.refused, detail
        return
    for name, file in real.files.items():
        assert ours.files.get(name) == file, f"{name}{detail}"
    assert set(ours.files.values()) == set(real.files.values()), detail
    assert (ours.missing, ours.refused) == (real.missing, real.refused), detail
