"""auditwheel-style vendored libraries: an extension module with DT_RPATH `$ORIGIN/../pkg.libs`
loads `libA`, which needs its sibling `libB` but has no RPATH of its own. ld.so searches libA's
dependencies with the DT_RPATH of the object that loaded it, so libB is found. linkscope must judge
libA where it is loaded, not on its own (which would report libB missing: a false error)."""

from __future__ import annotations

import datetime

from check_helpers import elf, library, package

from linkscope.model import ElfType, Severity
from linkscope.profiles import load_target
from linkscope.resolve import build_world
from linkscope.rules import Context, evaluate

TODAY = Context(today=datetime.date(2026, 11, 29))
SITE = "python/lib/python3.12/site-packages"


def extension(*, rpath: tuple[str, ...] = ("$ORIGIN/../pkg.libs",)) -> object:
    return elf(
        f"{SITE}/pkg/_native.cpython-312-x86_64-linux-gnu.so",
        elf_type=ElfType.SHARED_LIBRARY,
        interpreter=None,
        needed=("libA-1234.so.1", "libc.so.6"),
        rpath=rpath,
        soname=None,
    )


def layer(ext: object, *, with_b: bool = True) -> object:
    lib_a = library(f"{SITE}/pkg.libs/libA-1234.so.1", needed=("libB-5678.so.2", "libc.so.6"))
    members = [ext, lib_a]
    if with_b:
        members.append(library(f"{SITE}/pkg.libs/libB-5678.so.2"))
    return package(*members, kind="zip", source="layer.zip")  # type: ignore[arg-type]


def findings(ext: object, *, with_b: bool = True) -> list[tuple[str, str, str | None]]:
    world = build_world(
        package(kind="zip", source="function.zip"),
        [layer(ext, with_b=with_b)],  # type: ignore[list-item]
        load_target("python3.12", "x86_64"),
    )
    return [
        (f.rule, f.path, f.library)
        for f in evaluate(world, TODAY)
        if f.severity is not Severity.INFO
    ]


def test_siblings_found_through_the_loaders_rpath_are_not_missing() -> None:
    assert findings(extension()) == []


def test_a_sibling_that_is_really_absent_is_reported_where_it_is_needed() -> None:
    missing = findings(extension(), with_b=False)
    assert ("LS401", f"{SITE}/pkg.libs/libA-1234.so.1", "libB-5678.so.2") in missing or (
        "LS402",
        f"{SITE}/pkg.libs/libA-1234.so.1",
        "libB-5678.so.2",
    ) in missing


def test_runpath_is_not_inherited() -> None:
    # With DT_RUNPATH instead of DT_RPATH the loader does not pass it on: libB is not found.
    ext = elf(
        f"{SITE}/pkg/_native.cpython-312-x86_64-linux-gnu.so",
        elf_type=ElfType.SHARED_LIBRARY,
        interpreter=None,
        needed=("libA-1234.so.1", "libc.so.6"),
        runpath=("$ORIGIN/../pkg.libs",),
    )
    reported = {(rule, library) for rule, _path, library in findings(ext)}
    assert reported & {("LS401", "libB-5678.so.2"), ("LS402", "libB-5678.so.2")}
