"""Build a profile from a real root filesystem (an exported Lambda image, or any Linux root).

The result has the same shape as the bundled JSON profiles, with the exact version sets each
library defines, so `check --sysroot` and a profile written by `linkscope profile` agree.
"""

from __future__ import annotations

import os
import posixpath
from typing import Any

from linkscope.elf import facts_from_file
from linkscope.errors import InputError, LinkscopeError
from linkscope.model import BinaryFacts, split_version
from linkscope.profiles.model import LAMBDA_ARCHES, CpuBaseline, LibraryInfo, OsProfile
from linkscope.resolve import sysroot_dirs
from linkscope.resolve.fs import SysrootFs

LOADERS = {
    "x86_64": ("/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-x86-64.so.2"),
    "aarch64": ("/lib/ld-linux-aarch64.so.1", "/lib64/ld-linux-aarch64.so.1"),
}
SHELLS = ("/bin/sh", "/bin/bash", "/usr/bin/sh", "/usr/bin/bash", "/usr/bin/env", "/bin/dash")
INTERPRETERS = ("python", "python2", "python3", "perl", "node", "ruby")
MAX_LIBRARIES = 20_000
LANGUAGE_DIRS = ("/var/lang/lib",)
# The schema requires a CPU baseline; a root filesystem does not say which CPU runs it.
LAMBDA_CPU: dict[str, dict[str, Any]] = {
    "x86_64": {"x86_64_isa_level": 3},
    "arm64": {
        "arm_arch": "armv8.2-a",
        "features": ["fp16", "rcpc", "dotprod", "crypto", "lse", "crc"],
        "not_available": ["sve", "sve2", "pauth", "bti", "rng"],
    },
}


def _require_root(root: str) -> None:
    if not os.path.isdir(root):
        raise InputError(f"{root}: --sysroot must be a folder holding a root filesystem")


def os_from_sysroot(root: str, arch: str, *, scan_libraries: bool = False) -> OsProfile:
    _require_root(root)
    machine = LAMBDA_ARCHES[arch]
    fs = SysrootFs(root)
    loader = next(
        (p for p in LOADERS[machine] if fs.host_path(p) and os.path.isfile(fs.host_path(p) or "")),
        LOADERS[machine][0],
    )
    dirs = tuple(sysroot_dirs(root, machine))
    # A language image's own folder comes first on Lambda's LD_LIBRARY_PATH: part of the runtime.
    scanned = (*LANGUAGE_DIRS, *dirs)
    libraries = _scan_libraries(fs, scanned, machine) if scan_libraries else ()
    glibc = _glibc_version(fs, dirs)
    return OsProfile(
        id=f"sysroot:{os.path.abspath(root)}",
        name=f"root filesystem {root}",
        arch=arch,
        glibc=glibc or "unknown",
        loader=loader,
        library_dirs=dirs,
        libraries=libraries,
        libraries_complete=True,
        absent=frozenset(),
        shells=frozenset(s for s in SHELLS if fs.host_path(s)),
        interpreters_absent=frozenset(i for i in INTERPRETERS if not _on_path(fs, i)),
        page_size=4096,
        cpu=CpuBaseline(),
        kernel=None,
        source=f"read from {os.path.abspath(root)}",
    )


def _on_path(fs: SysrootFs, name: str) -> bool:
    return any(fs.host_path(f"{d}/{name}") for d in ("/usr/bin", "/bin", "/usr/local/bin"))


def _glibc_version(fs: SysrootFs, dirs: tuple[str, ...]) -> str | None:
    for directory in dirs:
        node = fs.lookup(posixpath.join(directory, "libc.so.6"))
        if node is not None and node.facts is not None:
            return _highest(node.facts, "GLIBC")
    return None


def _highest(facts: BinaryFacts, prefix: str) -> str | None:
    numbers = [
        n
        for p, n in (split_version(v) or ("", ()) for v in facts.version_definitions)
        if p == prefix
    ]
    return ".".join(map(str, max(numbers))) if numbers else None


def _scan_libraries(fs: SysrootFs, dirs: tuple[str, ...], machine: str) -> tuple[LibraryInfo, ...]:
    found: dict[str, LibraryInfo] = {}
    for directory in dirs:
        host = fs.host_path(directory)
        if host is None or not os.path.isdir(host):
            continue
        for name in sorted(os.listdir(host))[:MAX_LIBRARIES]:
            if ".so" not in name or name in found:
                continue
            facts = _library_facts(os.path.join(host, name), posixpath.join(directory, name))
            if facts is None or facts.machine != machine:
                continue
            real = fs.host_path(posixpath.join(directory, name)) or name
            found[name] = _library_info(name, directory, facts, os.path.basename(real))
    return tuple(found[name] for name in sorted(found))


def _library_facts(host: str, shown: str) -> BinaryFacts | None:
    if not os.path.isfile(host):
        return None
    try:
        return facts_from_file(host, display=shown)
    except (LinkscopeError, OSError):
        return None


def _library_info(name: str, directory: str, facts: BinaryFacts, real: str) -> LibraryInfo:
    best: dict[str, tuple[int, ...]] = {}
    extra = set()
    for version in facts.version_definitions:
        parsed = split_version(version)
        if parsed is None:
            extra.add(version)
        elif parsed[1] > best.get(parsed[0], ()):
            best[parsed[0]] = parsed[1]
    return LibraryInfo(
        soname=name,
        directory=directory,
        provides=tuple(sorted((p, ".".join(map(str, n))) for p, n in best.items())),
        extra_versions=frozenset(extra),
        exact_versions=frozenset(facts.version_definitions),
        # No .gnu.version_d at all: ld.so checks no requirement against it (it only warns).
        unversioned=not facts.version_definitions,
        file=real if real != name else "",
        source=f"{directory}/{name}",
    )


def profile_document(root: str, name: str, arches: tuple[str, ...]) -> dict[str, Any]:
    """The JSON document `linkscope profile` writes: the bundled OS-profile format."""
    per_arch: dict[str, Any] = {}
    first: OsProfile | None = None
    for arch in arches:
        profile = os_from_sysroot(root, arch, scan_libraries=True)
        if not any(lib.soname == "libc.so.6" for lib in profile.libraries):
            continue
        first = first or profile
        source = profile.source
        per_arch[arch] = {
            "loader": {"value": profile.loader, "source": source},
            "library_dirs": {"value": list(profile.library_dirs), "source": source},
            "libraries_complete": {"value": True, "source": source},
            "libraries": [_library_json(lib) for lib in profile.libraries],
            "absent": [],
            "page_size": {"value": 4096, "source": "assumed"},
            "cpu": {
                "value": LAMBDA_CPU[arch],
                "source": "not read from the root: Lambda's "
                "baseline (lambda-facts section 7; x86-64-v3, Graviton2 Armv8.2-a)",
            },
        }
    if first is None:
        raise InputError(f"{root}: no libc.so.6 for {', '.join(arches)} in its library folders")
    return {
        "format": 1,
        "id": name,
        "name": name,
        "glibc": {"value": first.glibc, "source": first.source},
        "kernel": {"value": None, "source": "not recorded by profile --sysroot"},
        "shells": {"value": sorted(first.shells), "source": first.source},
        "interpreters_absent": {"value": sorted(first.interpreters_absent), "source": first.source},
        "architectures": per_arch,
    }


def _library_json(lib: LibraryInfo) -> dict[str, Any]:
    return {
        "soname": lib.soname,
        "directory": lib.directory,
        "provides": dict(lib.provides),
        "extra_versions": sorted(lib.extra_versions),
        "exact_versions": sorted(lib.exact_versions or ()),
        "source": lib.source,
        **({"unversioned": True} if lib.unversioned else {}),
        **({"file": lib.file} if lib.file else {}),
    }
