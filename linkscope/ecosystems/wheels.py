"""Installed wheels: `*.dist-info` as pip and uv write them (PEP 376, PEP 427, PEP 425 tags).

`WHEEL` has one `Tag:` line per tag (`cp312-cp312-manylinux_2_17_x86_64`), `METADATA` the
`Name:` and `Version:`, `RECORD` one CSV row per installed file (relative to the site folder
that holds the `*.dist-info`), `INSTALLER` the tool (`pip`, `uv`).
"""

from __future__ import annotations

import csv
import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass

from linkscope.model import MetadataFile

DIST_INFO_FILES = ("WHEEL", "RECORD", "METADATA", "INSTALLER")
_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
_PLATFORM = re.compile(
    r"^(?P<family>manylinux|musllinux)_(?P<major>\d+)_(?P<minor>\d+)_(?P<arch>.+)$"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Distribution:
    name: str  # as METADATA says: "pydantic_core" or "pydantic-core"
    version: str | None
    tags: tuple[str, ...]  # WHEEL Tag lines, in order
    installer: str | None
    dist_info: str  # the folder inside the package
    site: str  # the folder that holds it ("" for the package root)
    files: tuple[str, ...] = ()  # RECORD paths, relative to `site`

    @property
    def tag(self) -> str | None:
        """The tags in a wheel file name's compressed form: `cp312-cp312-manylinux_2_17_x86_64.
        manylinux2014_x86_64` (PEP 425)."""
        if not self.tags:
            return None
        groups: dict[tuple[str, str], list[str]] = {}
        for tag in self.tags:
            parts = tag.split("-")
            if len(parts) == 3:
                groups.setdefault((parts[0], parts[1]), []).append(parts[2])
        return " ".join(f"{py}-{abi}-{'.'.join(p)}" for (py, abi), p in groups.items()) or None

    @property
    def abi3_minimum(self) -> tuple[int, int] | None:
        """`cp39-abi3-...` means CPython 3.9 or later (PEP 384 / PEP 425)."""
        found = [
            _cp_version(tag.split("-")[0])
            for tag in self.tags
            if tag.count("-") == 2 and tag.split("-")[1] == "abi3"
        ]
        versions = [v for v in found if v is not None]
        return min(versions) if versions else None

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.split("-")[2] for t in self.tags if t.count("-") == 2))


def platform_facts(platform: str) -> tuple[str, tuple[int, int] | None, str | None]:  # noqa: PLR0911
    """(family, libc version, arch) of a wheel platform tag: ("manylinux", (2, 17), "x86_64"),
    ("musllinux", (1, 1), "x86_64"), ("macosx", None, "arm64"), ("win", None, "amd64")."""
    if platform in ("any",):
        return "any", None, None
    legacy = platform.split("_", 1)
    if legacy[0] in _LEGACY_MANYLINUX and len(legacy) == 2:
        return "manylinux", _LEGACY_MANYLINUX[legacy[0]], legacy[1]
    match = _PLATFORM.match(platform)
    if match is not None:
        return match["family"], (int(match["major"]), int(match["minor"])), match["arch"]
    if platform.startswith("macosx_"):
        return "macosx", None, platform.split("_", 3)[-1]
    if platform.startswith("win"):
        return "win", None, platform.partition("_")[2] or "x86"
    if platform.startswith("linux_"):
        return "linux", None, platform[len("linux_") :]
    return platform, None, None


def _cp_version(python_tag: str) -> tuple[int, int] | None:
    match = re.fullmatch(r"cp(\d)(\d+)", python_tag)
    return (int(match[1]), int(match[2])) if match else None


def distributions(metadata: Sequence[MetadataFile]) -> tuple[Distribution, ...]:
    by_folder: dict[str, dict[str, str]] = {}
    for item in metadata:
        folder, _, name = item.inner.rpartition("/")
        if folder.endswith(".dist-info") and name in DIST_INFO_FILES:
            by_folder.setdefault(folder, {})[name] = item.text
    return tuple(_distribution(folder, files) for folder, files in sorted(by_folder.items()))


def _distribution(folder: str, files: dict[str, str]) -> Distribution:
    headers = _headers(files.get("METADATA", ""))
    stem = posixpath.basename(folder).removesuffix(".dist-info")
    fallback_name, _, fallback_version = stem.partition("-")
    wheel = _headers(files.get("WHEEL", ""), multi="Tag")
    return Distribution(
        name=headers.get("Name") or fallback_name,
        version=headers.get("Version") or fallback_version or None,
        tags=tuple(wheel.get("Tag", "").split("\n")) if wheel.get("Tag") else (),
        installer=files.get("INSTALLER", "").strip() or None,
        dist_info=folder,
        site=posixpath.dirname(folder),
        files=read_record(files.get("RECORD", "")),
    )


def _headers(text: str, multi: str | None = None) -> dict[str, str]:
    """RFC 822 style `Key: value` lines up to the first blank line (the METADATA body)."""
    headers: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            break
        key, sep, value = line.partition(":")
        if not sep or line[0].isspace():
            continue
        key, value = key.strip(), value.strip()
        if key == multi and key in headers:
            headers[key] += "\n" + value
        elif key not in headers:
            headers[key] = value
    return headers


def read_record(text: str) -> tuple[str, ...]:
    try:
        return tuple(row[0] for row in csv.reader(text.splitlines()) if row and row[0])
    except csv.Error:
        return ()
