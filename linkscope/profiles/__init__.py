"""Load the bundled runtime profiles (package data with sources) into frozen domain objects.

The JSON files are described by TypedDicts here and by `profile-schema.json` (validated in the
tests); the loader also checks the invariants the schema cannot express.
"""

from __future__ import annotations

import datetime
import functools
import json
from importlib import resources
from typing import Any, TypedDict

from linkscope.errors import InvalidProfileError, UnknownProfileError
from linkscope.profiles.model import (
    LAMBDA_ARCHES,
    CpuBaseline,
    DeploymentLimits,
    Drift,
    Environment,
    LibraryInfo,
    OsProfile,
    Runtime,
    Target,
)

DEFAULT_RUNTIME = "provided.al2023"
DEFAULT_ARCH = "x86_64"


class DriftFile(TypedDict, total=False):
    date: str
    before: dict[str, str] | None
    source: str


class LibraryFile(TypedDict, total=False):
    soname: str
    provides: dict[str, str]
    maybe: dict[str, str]
    unversioned: bool
    file: str
    version: str
    listed: str
    since: DriftFile
    extra_versions: list[str]
    extra_versions_complete: bool
    exact_versions: list[str]
    directory: str
    source: str
    note: str


class Fact(TypedDict, total=False):
    value: Any
    source: str
    note: str


class RuntimeFile(TypedDict, total=False):
    name: str
    os: str
    family: str
    kind: str
    architectures: list[str]
    entrypoint: str
    lang_lib: list[LibraryFile]
    lang_lib_listed: Fact
    lang_lib_may_hold: Fact
    os_added: list[LibraryFile]
    deprecation: str | None
    block_create: str | None
    block_update: str | None
    container_only: bool
    blocked: bool
    source: str
    note: str


def _data(*parts: str) -> Any:
    resource = resources.files("linkscope.profiles").joinpath("data", *parts)
    try:
        return json.loads(resource.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidProfileError(f"profile data {'/'.join(parts)} is unreadable: {exc}") from exc


@functools.lru_cache(maxsize=1)
def _runtimes_file() -> dict[str, Any]:
    data: dict[str, Any] = _data("runtimes.json")
    return data


@functools.cache
def load_os(os_id: str, arch: str) -> OsProfile:
    data = _data("os", f"{os_id}.json")
    return os_from_dict(data, arch)


def os_from_dict(data: dict[str, Any], arch: str) -> OsProfile:
    arches = data.get("architectures", {})
    if arch not in arches:
        raise UnknownProfileError(
            f"{data.get('name', data.get('id'))} has no {arch} build; it has: {', '.join(arches)}"
        )
    per_arch = arches[arch]
    library_dirs = tuple(per_arch["library_dirs"]["value"])
    libraries = tuple(_library(entry, library_dirs[0]) for entry in per_arch["libraries"])
    cpu = per_arch.get("cpu", {}).get("value", {})
    profile = OsProfile(
        id=data["id"],
        name=data["name"],
        arch=arch,
        glibc=data["glibc"]["value"],
        loader=per_arch["loader"]["value"],
        library_dirs=library_dirs,
        libraries=libraries,
        libraries_complete=bool(per_arch["libraries_complete"]["value"]),
        absent=frozenset(entry["soname"] for entry in per_arch.get("absent", [])),
        shells=frozenset(data.get("shells", {}).get("value", [])),
        interpreters_absent=frozenset(data.get("interpreters_absent", {}).get("value", [])),
        page_size=int(per_arch.get("page_size", {}).get("value", 4096)),
        cpu=CpuBaseline(
            x86_64_isa_level=cpu.get("x86_64_isa_level"),
            arm_arch=cpu.get("arm_arch"),
        ),
        kernel=data.get("kernel", {}).get("value"),
        source=data.get("source", data["glibc"].get("source", "")),
    )
    _check_os(profile)
    return profile


def _library(entry: LibraryFile, default_dir: str) -> LibraryInfo:
    exact = entry.get("exact_versions")
    return LibraryInfo(
        soname=entry["soname"],
        directory=entry.get("directory", default_dir),
        provides=tuple(sorted(entry.get("provides", {}).items())),
        extra_versions=frozenset(entry.get("extra_versions", ())),
        extra_versions_complete=bool(entry.get("extra_versions_complete", False)),
        exact_versions=None if exact is None else frozenset(exact),
        source=entry.get("source", ""),
        note=entry.get("note", ""),
        file=entry.get("file", ""),
        version=entry.get("version", ""),
        listed=entry.get("listed", ""),
        maybe=tuple(sorted(entry.get("maybe", {}).items())),
        unversioned=bool(entry.get("unversioned", False)),
        since=_drift(entry.get("since")),
    )


def _drift(entry: DriftFile | None) -> Drift | None:
    if entry is None:
        return None
    return Drift(
        date=entry["date"],
        before=tuple(sorted((entry.get("before") or {}).items())),
        source=entry.get("source", ""),
    )


def _check_os(profile: OsProfile) -> None:
    present = {lib.soname for lib in profile.libraries}
    both = present & profile.absent
    if both:
        raise InvalidProfileError(f"{profile.id}/{profile.arch}: both present and absent: {both}")
    libc = profile.library("libc.so.6")
    if libc is not None and libc.exact_versions is None and libc.ceiling("GLIBC") != profile.glibc:
        raise InvalidProfileError(f"{profile.id}/{profile.arch}: libc.so.6 disagrees with glibc")


@functools.cache
def load_runtimes() -> tuple[Runtime, ...]:
    return tuple(_runtime(entry) for entry in _runtimes_file()["runtimes"])


def _date(value: str | None) -> datetime.date | None:
    return None if value is None else datetime.date.fromisoformat(value)


def _runtime(entry: RuntimeFile) -> Runtime:
    return Runtime(
        name=entry["name"],
        os=entry["os"],
        family=entry.get("family", ""),
        kind=entry["kind"],
        architectures=tuple(entry["architectures"]),
        entrypoint=entry.get("entrypoint", "bootstrap"),
        lang_lib=tuple(_library(lib, "/var/lang/lib") for lib in entry.get("lang_lib", [])),
        lang_lib_listed=bool(entry.get("lang_lib_listed", {}).get("value", True)),
        lang_lib_source=_fact_text(entry.get("lang_lib_listed")),
        lang_lib_may_hold=tuple(entry.get("lang_lib_may_hold", {}).get("value", ())),
        os_added=tuple(_library(lib, "/usr/lib64") for lib in entry.get("os_added", [])),
        deprecation=_date(entry.get("deprecation")),
        block_create=_date(entry.get("block_create")),
        block_update=_date(entry.get("block_update")),
        container_only=bool(entry.get("container_only", False)),
        blocked=bool(entry.get("blocked", False)),
        source=entry.get("source", ""),
        note=entry.get("note", ""),
    )


def _fact_text(fact: Fact | None) -> str:
    if not fact:
        return ""
    note = fact.get("note")
    return fact.get("source", "") + (f" ({note})" if note else "")


def runtime_named(name: str) -> Runtime:
    for runtime in load_runtimes():
        if runtime.name == name:
            return runtime
    known = ", ".join(r.name for r in load_runtimes() if r.kind == "os-only")
    raise UnknownProfileError(
        f"unknown runtime '{name}'; OS-only runtimes: {known} (see `linkscope runtimes`)"
    )


def load_environment() -> Environment:
    env = _runtimes_file()["environment"]
    return Environment(
        ld_library_path=tuple(env["ld_library_path"]["value"]),
        path=tuple(env["path"]["value"]),
        task_root=env.get("task_root", "/var/task"),
        layer_root=env.get("layer_root", "/opt"),
        runtime_dir=env.get("runtime_dir", "/var/runtime"),
        bootstrap_search=tuple(env["bootstrap_search"]["value"]),
        extensions_dir=env["extensions_dir"]["value"],
    )


def load_limits() -> DeploymentLimits:
    limits = _runtimes_file()["limits"]
    return DeploymentLimits(
        zipped_bytes=int(limits["zipped_bytes"]["value"]),
        unzipped_bytes=int(limits["unzipped_bytes"]["value"]),
        layers=int(limits["layers"]["value"]),
    )


def as_of() -> str:
    return str(_runtimes_file().get("as_of", ""))


def load_target(runtime_name: str = DEFAULT_RUNTIME, arch: str = DEFAULT_ARCH) -> Target:
    if arch not in LAMBDA_ARCHES:
        raise UnknownProfileError(f"unknown architecture '{arch}'; use x86_64 or arm64")
    runtime = runtime_named(runtime_name)
    if arch not in runtime.architectures:
        raise UnknownProfileError(
            f"{runtime.name} does not run on {arch}; it supports {', '.join(runtime.architectures)}"
        )
    return Target(
        runtime=runtime,
        os=load_os(runtime.os, arch),
        environment=load_environment(),
        limits=load_limits(),
    )
