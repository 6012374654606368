"""Read a root filesystem's /etc/ld.so.cache, the table ld.so consults after RUNPATH and before
its default folders. ld.so never reads /etc/ld.so.conf itself: a folder listed there is searched
only through the cache that ldconfig built from it.

Format (glibc `sysdeps/generic/dl-cache.h`, "glibc-ld.so.cache1.1", written since glibc 2.2 and
alone since 2.32; it may follow an old "ld.so-1.7.0" table): a 48-byte header, `nlibs` entries of
24 bytes (flags, key, value, osversion, hwcap) whose key and value are offsets of NUL-terminated
strings counted from the start of the new header.
"""

from __future__ import annotations

import os
import posixpath
import struct

MAGIC = b"glibc-ld.so.cache1.1"
HEADER = struct.Struct("<20sIIB3xI12x")
ENTRY = struct.Struct("<iIIIQ")
MAX_BYTES = 64 << 20
# FLAG_ELF_LIBC6 with the per-architecture "required" bits (sysdeps/.../dl-cache.h).
CACHE_FLAGS = {"x86_64": 0x0303, "aarch64": 0x0A03}
HWCAP_EXTENSION = 1 << 62  # DL_CACHE_HWCAP_EXTENSION: a glibc-hwcaps/<name>/ entry


def read_cache(root: str, machine: str, hwcaps: tuple[str, ...] = ()) -> dict[str, str] | None:
    """{soname: path} for `machine` from ROOT/etc/ld.so.cache, or None when there is no
    readable cache. Entries under glibc-hwcaps/<name>/ count only for the names in `hwcaps`
    (in priority order) and win over the plain entry, as ld.so picks them first."""
    path = os.path.join(root, "etc", "ld.so.cache")
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES)
    except OSError:
        return None
    return parse_cache(data, machine, hwcaps)


def parse_cache(data: bytes, machine: str, hwcaps: tuple[str, ...] = ()) -> dict[str, str] | None:
    """{soname: path} from the bytes of an ld.so.cache (a container image's, read by inputs)."""
    start = data.find(MAGIC)
    if start < 0 or start + HEADER.size > len(data):
        return None
    _magic, nlibs, _strings, _endian, _extension = HEADER.unpack_from(data, start)
    wanted = CACHE_FLAGS.get(machine)
    if wanted is None:
        return None
    ranked: dict[str, tuple[int, str]] = {}
    for index in range(min(nlibs, (len(data) - start - HEADER.size) // ENTRY.size)):
        flags, key, value, _os, hwcap = ENTRY.unpack_from(
            data, start + HEADER.size + index * ENTRY.size
        )
        if flags not in (wanted, 1):  # 1: FLAG_ELF_LIBC6 with no architecture bits
            continue
        name, target = _string(data, start + key), _string(data, start + value)
        if not name or not target.startswith("/"):
            continue
        rank = _rank(target, hwcap, hwcaps)
        if rank is not None and (name not in ranked or rank < ranked[name][0]):
            ranked[name] = (rank, target)
    return {name: target for name, (_rank_, target) in ranked.items()}


def _rank(path: str, hwcap: int, hwcaps: tuple[str, ...]) -> int | None:
    if not hwcap & HWCAP_EXTENSION:
        return len(hwcaps)  # the plain entry comes after every usable glibc-hwcaps one
    return hwcaps.index(subdir) if (subdir := hwcaps_subdir(path)) in hwcaps else None


def hwcaps_subdir(path: str) -> str:
    """`glibc-hwcaps/x86-64-v3` for `/usr/lib64/glibc-hwcaps/x86-64-v3/libz.so.1` (the form
    the search configuration uses), "" when the path is in no glibc-hwcaps folder."""
    folder = posixpath.dirname(path)
    if posixpath.basename(posixpath.dirname(folder)) != "glibc-hwcaps":
        return ""
    return posixpath.join("glibc-hwcaps", posixpath.basename(folder))


def _string(data: bytes, offset: int) -> str:
    if not 0 <= offset < len(data):
        return ""
    end = data.find(b"\0", offset, offset + 4096)
    return data[offset:end].decode("utf-8", "replace") if end >= 0 else ""
