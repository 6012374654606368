"""Helpers for the `check` tests: hand-made facts and packages, the fixture manifest, and the
real dynamic loader (`ld.so --list`) as an oracle.

Nothing here asks linkscope what the answer should be: facts are built by hand, expectations come
from fixtures/manifest.json and the profile data, and the oracle is glibc's own loader.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from linkscope import api
from linkscope.model import (
    BinaryFacts,
    Confidence,
    ElfType,
    EntryKind,
    FileProblem,
    GoInfo,
    LibcFamily,
    LibcInfo,
    Linkage,
    PackageEntry,
    ScannedPackage,
    Toolchain,
    VersionRequirement,
)
from linkscope.profiles import load_environment
from linkscope.resolve import build_world

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
BIN = FIXTURES / "bin"
TODAY = datetime.date(2026, 11, 29)
HOST_LOADER = "/lib64/ld-linux-x86-64.so.2"

# Rules another part of the project owns (package layout, permissions, scripts, sizes, runtime
# client). The `check` tests here are about LS001 and LS101-LS503 and ignore these.
PACKAGE_RULES = frozenset({"LS002", "LS003", "LS004", "LS005", "LS502"})

MACHINES = {
    "x86_64": (62, 64),
    "aarch64": (183, 64),
    "i386": (3, 32),
    "arm": (40, 32),
    "riscv64": (243, 64),
}
LOADERS = {"x86_64": "/lib64/ld-linux-x86-64.so.2", "aarch64": "/lib/ld-linux-aarch64.so.1"}


def manifest() -> list[dict[str, Any]]:
    data = json.loads((FIXTURES / "manifest.json").read_text())
    entries: list[dict[str, Any]] = data["fixtures"] if isinstance(data, dict) else data
    return entries


def manifest_entry(name: str) -> dict[str, Any]:
    return next(e for e in manifest() if e["name"] == name)


def fixture(name: str) -> str:
    return str(BIN / name)


# ------------------------------------------------------------------ hand-made facts


def req(library: str, version: str, *symbols: str, weak: bool = False) -> VersionRequirement:
    return VersionRequirement(library=library, version=version, weak=weak, symbols=symbols)


def elf(
    path: str = "bootstrap",
    *,
    machine: str = "x86_64",
    elf_type: ElfType = ElfType.PIE_EXECUTABLE,
    linkage: Linkage | None = None,
    interpreter: str | None = "default",
    needed: Sequence[str] = ("libc.so.6",),
    requirements: Iterable[VersionRequirement] = (),
    definitions: Sequence[str] = (),
    libc: LibcFamily = LibcFamily.GLIBC,
    rpath: Sequence[str] = (),
    runpath: Sequence[str] = (),
    soname: str | None = None,
    elf_class: int | None = None,
    endianness: str = "little",
    toolchain: Toolchain | None = None,
    flags_1: Sequence[str] = (),
) -> BinaryFacts:
    """A BinaryFacts as the ELF reader would produce it, with Lambda-ish defaults."""
    e_machine, default_class = MACHINES[machine]
    if interpreter == "default":
        interpreter = None if elf_type is ElfType.SHARED_LIBRARY else LOADERS.get(machine)
    if linkage is None:
        linkage = (
            Linkage.DYNAMIC
            if (interpreter or needed or elf_type is ElfType.SHARED_LIBRARY)
            else Linkage.STATIC
        )
    return BinaryFacts(
        path=path,
        size=4096,
        elf_class=elf_class or default_class,
        endianness=endianness,
        machine=machine,
        e_machine=e_machine,
        os_abi="sysv",
        elf_type=elf_type,
        entry=0x1000,
        linkage=linkage,
        interpreter=interpreter,
        needed=tuple(needed),
        rpath=tuple(rpath),
        runpath=tuple(runpath),
        soname=soname,
        flags_1=tuple(flags_1),
        version_requirements=tuple(requirements),
        version_definitions=tuple(definitions),
        libc=LibcInfo(family=libc, confidence=Confidence.CERTAIN),
        toolchain=toolchain or Toolchain(),
        mode=0o755,
    )


def library(
    inner: str,
    *,
    soname: str | None = None,
    needed: Sequence[str] = ("libc.so.6",),
    definitions: Sequence[str] = (),
    requirements: Iterable[VersionRequirement] = (),
    machine: str = "x86_64",
    runpath: Sequence[str] = (),
) -> BinaryFacts:
    return elf(
        inner,
        elf_type=ElfType.SHARED_LIBRARY,
        needed=needed,
        definitions=definitions,
        requirements=requirements,
        soname=soname or inner.rsplit("/", 1)[-1],
        machine=machine,
        runpath=runpath,
    )


def go_toolchain(**settings: str) -> Toolchain:
    return Toolchain(language="go", go=GoInfo(version="go1.22.0", settings=tuple(settings.items())))


def package(
    *binaries: BinaryFacts,
    kind: str = "folder",
    source: str = "function",
    problems: Sequence[FileProblem] = (),
    links: dict[str, str] | None = None,
) -> ScannedPackage:
    """A scanned package whose members are the given facts; `path` of each is its inner path,
    and its location too (as a folder scan reports members relative to the folder)."""
    entries = [
        PackageEntry(inner=b.path, location=b.path, kind=EntryKind.ELF, size=b.size, mode=b.mode)
        for b in binaries
    ]
    entries += [
        PackageEntry(inner=p.path, location=p.path, kind=EntryKind.UNREADABLE, size=0)
        for p in problems
    ]
    for inner, target in (links or {}).items():
        entries.append(
            PackageEntry(
                inner=inner, location=inner, kind=EntryKind.SYMLINK, size=0, symlink_target=target
            )
        )
    return ScannedPackage(
        source=source,
        kind=kind,
        entries=tuple(entries),
        binaries=binaries,
        problems=tuple(problems),
    )


# ------------------------------------------------------------------ the real loader


NOT_FOUND = re.compile(r"^\s+(\S+) => not found\s*$", re.MULTILINE)
TRACE_LINE = re.compile(r"^\t(?:(\S+) => )?(\S+) \(0x[0-9a-f]+\)$", re.MULTILINE)
VERSION_NOT_FOUND = re.compile(r": version `([^']+)' not found \(required by ([^)]+)\)")


@dataclass(frozen=True)
class LoaderVerdict:
    missing: frozenset[str]  # sonames that were not found
    versions: frozenset[tuple[str, str]]  # (version, basename of the object that requires it)
    output: str
    # The file chosen for each library, as the loader names it (`libz.so.1 => /lib/.../libz.so.1`)
    files: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        return (
            f"missing={sorted(self.missing)} versions={sorted(self.versions)}\n"
            f"--- ld.so output ---\n{self.output}"
        )


def real_loader(path: str, chroot: str | None = None) -> LoaderVerdict:
    """What glibc's loader says in trace mode (it maps the objects but runs nothing).

    Trace mode is switched on with LD_TRACE_LOADED_OBJECTS=1, as `ldd` does: `ld.so --list` in
    glibc 2.36 stops at the first missing library ("error while loading shared libraries")
    instead of listing each as "=> not found". For a root filesystem the child chroots itself
    before it execs the loader, so the variable reaches the loader inside the root, not the
    `chroot` program."""
    # Lambda sets LD_LIBRARY_PATH, and linkscope applies it in --sysroot mode too: so does this.
    env = {
        "PATH": "/usr/bin:/bin",
        "LC_ALL": "C",
        "LD_TRACE_LOADED_OBJECTS": "1",
        "LD_LIBRARY_PATH": ":".join(load_environment().ld_library_path),
    }

    def enter_root() -> None:
        if chroot is not None:
            os.chroot(chroot)
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
    if "error while loading shared libraries" in output:
        raise AssertionError(f"the real loader stopped instead of tracing:\n{output}")
    missing = frozenset(NOT_FOUND.findall(output))
    versions = frozenset((v, os.path.basename(who)) for v, who in VERSION_NOT_FOUND.findall(output))
    files = tuple(
        (name or found, found)
        for name, found in TRACE_LINE.findall(output)
        if found.startswith("/") and not found.endswith(os.path.basename(HOST_LOADER))
    )
    return LoaderVerdict(missing=missing, versions=versions, output=output, files=files)


def linkscope_verdict(path: str, sysroot: str, runtime: str = "provided.al2023") -> LoaderVerdict:
    """linkscope's resolution of `path` against the root filesystem `sysroot`."""
    target = api.load_check_target(runtime, "x86_64", sysroot)
    (scanned,) = api.scan([path])
    world = build_world(scanned, [], target)
    missing: set[str] = set()
    versions: set[tuple[str, str]] = set()
    files: list[tuple[str, str]] = []
    lines = []
    for placed in world.placed:
        resolution = placed.resolution
        if resolution is None:
            continue
        missing |= {m.name for m in resolution.missing}
        versions |= {
            (p.version, os.path.basename(p.requester)) for p in resolution.version_problems
        }
        files += [(n, p.path) for _r, n, p in resolution.chosen]
        lines += [f"{r} needs {n} -> {p.path}" for r, n, p in resolution.chosen]
        lines += [
            f"{m.requester} needs {m.name}: searched {m.searched}" for m in resolution.missing
        ]
    return LoaderVerdict(
        missing=frozenset(missing),
        versions=frozenset(versions),
        output="\n".join(lines),
        files=tuple(files),
    )


def cli_main() -> Callable[[Sequence[str] | None], int]:
    """`linkscope.cli.main`, imported with click 8.5's import-time DeprecationWarning (raised by
    typer 0.24's `click.utils.get_binary_stream` import) silenced."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*Click 9\.0", category=DeprecationWarning)
        from linkscope.cli import main
    return main
