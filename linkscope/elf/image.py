"""A bounded, read-only view of an ELF file's bytes.

Every read is checked against the end of the file, so a hostile offset becomes a CorruptElfError
instead of an IndexError, a huge allocation or a hang.
"""

from __future__ import annotations

import contextlib
import mmap
import re
import struct
from dataclasses import dataclass
from typing import Protocol

from linkscope.errors import CorruptElfError

MAX_STRING = 4096  # longest name we accept (sonames, symbol names, version names, paths)


class Buffer(Protocol):
    """bytes, bytearray, memoryview and mmap all qualify."""

    def __len__(self) -> int: ...
    def __getitem__(self, index: slice, /) -> bytes: ...
    def find(self, sub: bytes, start: int = ..., end: int = ..., /) -> int: ...


@dataclass(frozen=True, slots=True)
class Layouts:
    """The struct layouts of one ELF class and byte order."""

    header: struct.Struct
    phdr: struct.Struct
    shdr: struct.Struct
    dyn: struct.Struct
    sym: struct.Struct
    u16: struct.Struct
    u32: struct.Struct
    verneed: struct.Struct
    vernaux: struct.Struct
    verdef: struct.Struct
    verdaux: struct.Struct
    note: struct.Struct
    word: struct.Struct  # pointer-sized unsigned


# struct formats per ELF class; the byte order is prefixed when a layout is built.
LAYOUT_FORMATS = {
    # field              ELF64           ELF32
    "header": ("HHIQQQIHHHHHH", "HHIIIIIHHHHHH"),
    "phdr": ("IIQQQQQQ", "IIIIIIII"),  # 64: type flags offset...; 32: type offset ... flags align
    "shdr": ("IIQQQQIIQQ", "IIIIIIIIII"),
    "dyn": ("qQ", "iI"),
    "sym": ("IBBHQQ", "IIIBBH"),  # 64: name info other shndx value size; 32: name value size ...
    "u16": ("H", "H"),
    "u32": ("I", "I"),
    "verneed": ("HHIII", "HHIII"),
    "vernaux": ("IHHII", "IHHII"),
    "verdef": ("HHHHIII", "HHHHIII"),
    "verdaux": ("II", "II"),
    "note": ("III", "III"),
    "word": ("Q", "I"),  # pointer-sized unsigned
}


def make_layouts(is64: bool, little: bool) -> Layouts:
    order = "<" if little else ">"
    column = 0 if is64 else 1
    return Layouts(
        **{name: struct.Struct(order + formats[column]) for name, formats in LAYOUT_FORMATS.items()}
    )


DIRECT = (bytes, bytearray, memoryview, mmap.mmap)  # buffers that struct can read in place


class Image:
    """The file's bytes plus bounds-checked accessors. `data` is any Buffer: bytes and memory
    maps are read in place, other buffers (a zip member inflated as it is read) through slices."""

    __slots__ = ("data", "direct", "size", "what")

    def __init__(self, data: Buffer, what: str) -> None:
        self.data = data
        self.size = len(data)
        self.what = what
        self.direct = isinstance(data, DIRECT)

    def corrupt(self, reason: str) -> CorruptElfError:
        return CorruptElfError(f"{self.what}: corrupt ELF: {reason}")

    def check(self, offset: int, length: int, what: str) -> None:
        if offset < 0 or length < 0 or offset + length > self.size:
            raise self.corrupt(
                f"{what} at offset {offset:#x} (+{length} bytes) lies outside the file "
                f"({self.size} bytes)"
            )

    def unpack(self, layout: struct.Struct, offset: int, what: str) -> tuple[int, ...]:
        self.check(offset, layout.size, what)
        if self.direct:
            return layout.unpack_from(self.data, offset)  # type: ignore[arg-type]
        return layout.unpack(self.data[offset : offset + layout.size])

    def read(self, offset: int, length: int, what: str) -> bytes:
        self.check(offset, length, what)
        return bytes(self.data[offset : offset + length])

    def cstring(self, offset: int, what: str, end: int | None = None) -> str:
        """A NUL-terminated string starting at offset, ending before `end` (a table's end)."""
        limit = self.size if end is None else min(end, self.size)
        if offset < 0 or offset >= limit:
            raise self.corrupt(f"{what}: string offset {offset:#x} is outside its table")
        stop = self.data.find(b"\0", offset, min(limit, offset + MAX_STRING))
        if stop < 0:
            raise self.corrupt(f"{what}: string at {offset:#x} is not terminated")
        return bytes(self.data[offset:stop]).decode("utf-8", "backslashreplace")

    def find(self, needle: bytes, start: int = 0, end: int | None = None) -> int:
        return self.data.find(needle, start, self.size if end is None else end)


def search(
    image: Image, pattern: re.Pattern[bytes], start: int, end: int
) -> re.Match[bytes] | None:
    """The first match of a short pattern in [start, end): one C-speed pass over a buffer read
    in place, or over chunks (overlapping by more than a match is long) of any other buffer."""
    if image.direct:
        return pattern.search(image.data, start, end)  # type: ignore[call-overload, no-any-return]
    position = start
    while position < end:
        stop = min(end, position + SCAN_CHUNK + SEARCH_OVERLAP)
        match = pattern.search(image.data[position:stop])
        if match is not None and (match.start() < SCAN_CHUNK or stop == end):
            # A match that starts in the overlap is found whole, with the bytes after it, by
            # the next chunk; before the overlap, this chunk already holds both.
            return pattern.search(image.data[position + match.start() : stop])
        position += SCAN_CHUNK
    return None


SEARCH_OVERLAP = 256
SCAN_CHUNK = 16 << 20
RELEASE_ABOVE = 64 << 20  # files this big have their pages dropped as the scan passes them
COALESCE_GAP = 64 << 10  # regions closer than this are searched as one: fewer calls


def coalesce(regions: list[tuple[int, int]], size: int) -> list[tuple[int, int]]:
    """Sorted, clipped, merged ranges; nearby ranges are joined (a few extra bytes searched
    cost less than another pass)."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted((max(0, s), min(e, size)) for s, e in regions):
        if start >= end:
            continue
        if merged and start <= merged[-1][1] + COALESCE_GAP:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def scan(image: Image, regions: list[tuple[int, int]], needles: tuple[bytes, ...]) -> set[bytes]:
    """Which needles occur in the regions. Chunked, so that a huge file's pages can be released
    behind the scan: peak memory stays bounded even for a 700 MB binary read through mmap."""
    found: set[bytes] = set()
    overlap = max((len(n) for n in needles), default=1) - 1
    release = image.size > RELEASE_ABOVE and hasattr(image.data, "madvise")
    for start, end in coalesce(regions, image.size):
        position = start
        while position < end and len(found) < len(needles):
            stop = min(end, position + SCAN_CHUNK)
            for needle in needles:
                if (
                    needle not in found
                    and image.data.find(needle, position, min(end, stop + overlap)) >= 0
                ):
                    found.add(needle)
            if release:
                _release(image, position, stop)
            position = stop
    return found


def _release(image: Image, start: int, stop: int) -> None:
    aligned = start - start % mmap.PAGESIZE
    with contextlib.suppress(OSError, ValueError):  # only an optimisation
        image.data.madvise(mmap.MADV_DONTNEED, aligned, stop - aligned)  # type: ignore[attr-defined]
