"""`linkscope runtimes`: what linkscope knows about each Lambda runtime, with sources."""

from __future__ import annotations

import datetime
import json
from typing import Any

from linkscope.profiles import as_of, load_os, load_runtimes, runtime_named
from linkscope.profiles.model import OsProfile, Runtime


def _status(runtime: Runtime, today: datetime.date) -> str:
    return runtime.status(today)


def _summary(runtime: Runtime, today: datetime.date) -> dict[str, Any]:
    os_profile = load_os(runtime.os, runtime.architectures[0])
    libstdcxx = os_profile.library("libstdc++.so.6")
    return {
        "name": runtime.name,
        "os": os_profile.name,
        "glibc": os_profile.glibc,
        "glibcxx": libstdcxx.ceiling("GLIBCXX") if libstdcxx else None,
        "cxxabi": libstdcxx.ceiling("CXXABI") if libstdcxx else None,
        "architectures": list(runtime.architectures),
        "kind": runtime.kind + (" (container image only)" if runtime.container_only else ""),
        "status": _status(runtime, today),
        "deprecation": _iso(runtime.deprecation),
        "block_create": _iso(runtime.block_create),
        "block_update": _iso(runtime.block_update),
    }


def _iso(value: datetime.date | None) -> str | None:
    return None if value is None else value.isoformat()


def render_runtimes(output_format: str, today: datetime.date | None) -> str:
    day = today or datetime.date.today()
    rows = [_summary(r, day) for r in load_runtimes()]
    if output_format == "json":
        return json.dumps({"as_of": as_of(), "runtimes": rows}, indent=2) + "\n"
    from linkscope.render.layout import grid

    table: list[list[str]] = [
        [
            r["name"],
            r["os"],
            r["glibc"],
            r["glibcxx"] or "-",
            ", ".join(r["architectures"]),
            r["status"],
            r["deprecation"] or "-",
            r["block_update"] or "-",
        ]
        for r in rows
    ]
    return (
        grid(
            [
                "runtime",
                "os",
                "glibc",
                "GLIBCXX",
                "arches",
                "status",
                "deprecated",
                "updates blocked",
            ],
            table,
        )
        + f"\n\nfacts as of {as_of()}; `linkscope runtimes NAME` shows sources\n"
    )


def _changes(os_profile: OsProfile) -> list[str]:
    """The version tables that moved with a runtime update, and since when (DESIGN section 5)."""
    out = []
    for lib in os_profile.libraries:
        if lib.since is None or not lib.since.before:
            continue
        now = ", ".join(f"{p}_{n}" for p, n in lib.provides)
        was = ", ".join(f"{p}_{n}" for p, n in lib.since.before)
        out.append(f"{lib.soname}: {now} since {lib.since.date} ({was} before)")
    return out


def render_runtime(name: str, output_format: str, today: datetime.date | None) -> str:
    runtime = runtime_named(name)
    day = today or datetime.date.today()
    detail = _summary(runtime, day)
    detail["source"] = runtime.source
    detail["note"] = runtime.note
    detail["os_profiles"] = {}
    for arch in runtime.architectures:
        os_profile = load_os(runtime.os, arch)
        detail["os_profiles"][arch] = {
            "loader": os_profile.loader,
            "library_dirs": list(os_profile.library_dirs),
            "libraries_known": len(os_profile.libraries),
            "library_list_complete": os_profile.libraries_complete,
            "known_absent": sorted(os_profile.absent),
            "cpu": {
                "x86_64_isa_level": os_profile.cpu.x86_64_isa_level,
                "arm_arch": os_profile.cpu.arm_arch,
            },
            "glibc_source": os_profile.source,
            "libraries_listed": sorted({lib.listed for lib in os_profile.libraries if lib.listed}),
            "version_changes": _changes(os_profile),
        }
    if not runtime.os_only:
        detail["language_folder_listed"] = runtime.lang_lib_listed
    if runtime.lang_lib:
        detail["language_runtime_libraries"] = [
            {
                "soname": lib.soname,
                "dir": lib.directory,
                "provides": dict(lib.provides),
                "source": lib.source,
            }
            for lib in runtime.lang_lib
        ]
    if output_format == "json":
        return json.dumps(detail, indent=2) + "\n"
    lines = [
        f"{key}: {value}"
        for key, value in detail.items()
        if key not in ("os_profiles", "language_runtime_libraries")
    ]
    for arch, info in detail["os_profiles"].items():
        lines.append(f"{arch}:")
        lines.extend(f"  {key}: {value}" for key, value in info.items())
    for lib in detail.get("language_runtime_libraries", []):
        lines.append(f"language runtime library: {lib}")
    return "\n".join(lines) + "\n"
