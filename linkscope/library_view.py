"""`linkscope runtimes NAME --libraries`: every library linkscope believes the runtime has, where,
which symbol versions, and the listing each fact comes from; then the ones it knows are absent.
This is the evidence behind LS401/LS402 and the LS30x version checks."""

from __future__ import annotations

import json
from typing import Any

from linkscope.profiles import load_os, runtime_named
from linkscope.profiles.model import LibraryInfo, OsProfile, Runtime

SOURCE_WIDTH = 60


def _row(lib: LibraryInfo, where: str) -> dict[str, Any]:
    since = lib.since
    return {
        "soname": lib.soname,
        "directory": lib.directory,
        "part": where,
        "versions": dict(lib.provides),
        "maybe": dict(lib.maybe),
        "unversioned": lib.unversioned,
        "file": lib.file or None,
        "package_version": lib.version or None,
        "listed": lib.listed or None,
        "since": None
        if since is None
        else {"date": since.date, "before": dict(since.before) or None, "source": since.source},
        "source": lib.source,
        "note": lib.note or None,
    }


def _completeness(os_profile: OsProfile, runtime: Runtime) -> dict[str, Any]:
    return {
        "os_libraries": "complete listing" if os_profile.libraries_complete else "incomplete",
        "language_folder": (
            "nothing there"
            if runtime.os_only
            else ("listed" if runtime.lang_lib_listed else "never listed")
        ),
        "language_folder_source": runtime.lang_lib_source or None,
    }


def library_document(name: str) -> dict[str, Any]:
    runtime = runtime_named(name)
    arches: dict[str, Any] = {}
    for arch in runtime.architectures:
        os_profile = load_os(runtime.os, arch)
        rows = [_row(lib, "language runtime") for lib in runtime.lang_lib]
        rows += [_row(lib, "runtime image") for lib in runtime.os_added]
        rows += [_row(lib, os_profile.name) for lib in os_profile.libraries]
        present = {row["soname"] for row in rows}
        arches[arch] = {
            **_completeness(os_profile, runtime),
            "search_order": list(_search_order(runtime, os_profile)),
            "libraries": rows,
            "absent": sorted(os_profile.absent - present),
        }
    return {"runtime": runtime.name, "os": runtime.os, "architectures": arches}


def _search_order(runtime: Runtime, os_profile: OsProfile) -> tuple[str, ...]:
    lang = () if runtime.os_only else ("/var/lang/lib",)
    return (*lang, *os_profile.library_dirs)


def render_libraries(name: str, output_format: str) -> str:
    document = library_document(name)
    if output_format == "json":
        return json.dumps(document, indent=2) + "\n"
    from linkscope.render.layout import grid

    out: list[str] = []
    for arch, info in document["architectures"].items():
        out.append(
            f"{document['runtime']} ({arch}): OS libraries: {info['os_libraries']}; "
            f"/var/lang/lib: {info['language_folder']}; searched in order "
            f"{', '.join(info['search_order'])}"
        )
        table = [_table_row(row) for row in info["libraries"]]
        headers = ["soname", "folder", "symbol versions", "package", "listed", "since", "source"]
        out.append(grid(headers, table))
        out.append(f"known absent ({len(info['absent'])}): {', '.join(info['absent']) or '-'}")
        out.append("")
    out.append("`--format json` gives every source in full")
    return "\n".join(out) + "\n"


def _table_row(row: dict[str, Any]) -> list[str]:
    since = row["since"]
    since_text = "-"
    if since is not None:
        before = since["before"]
        was = ", ".join(f"{k} <= {v}" for k, v in before.items()) if before else "absent"
        since_text = f"{since['date']} (before: {was})"
    source = row["source"].split("; ")[0]
    if len(source) > SOURCE_WIDTH:
        source = source[: SOURCE_WIDTH - 3] + "..."
    versions = _versions_text(row)
    package = row["package_version"] or row["file"] or "-"
    return [
        row["soname"],
        row["directory"],
        versions,
        package,
        row["listed"] or "-",
        since_text,
        source,
    ]


def _versions_text(row: dict[str, Any]) -> str:
    if row["unversioned"]:
        return "no symbol versions"
    parts = [f"{k} <= {v}" for k, v in row["versions"].items()]
    parts += [
        f"{k} maybe <= {v}{'.x' if v.count('.') < 2 else ''}" for k, v in row["maybe"].items()
    ]
    return ", ".join(parts) or "-"
