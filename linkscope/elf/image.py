"""A bounded, read-only view of an ELF file's bytes.

Every read is checked against the end of the file, so a hostile offset becomes a CorruptElfError
instead of an IndexError, a huge allocation or a hang.
"""

from __future__ import annotations

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


def make_layouts(is64: bool, little: bool) -> Layouts:
    e = "<" if little else ">"
    if is64:
        return Layouts(
            header=struct.Struct(e + "HHIQQQIHHHHHH"),
            phdr=struct.Struct(e + "IIQQQQQQ"),  # type flags offset vaddr paddr filesz memsz align
            shdr=struct.Struct(e + "IIQQQQIIQQ"),
            dyn=struct.Struct(e + "qQ"),
            sym=struct.Struct(e + "IBBHQQ"),  # name info other shndx value size
            u16=struct.Struct(e + "H"),
            u32=struct.Struct(e + "I"),
            verneed=struct.Struct(e + "HHIII"),
            vernaux=struct.Struct(e + "IHHII"),
            verdef=struct.Struct(e + "HHHHIII"),
            verdaux=struct.Struct(e + "II"),
            note=struct.Struct(e + "III"),
            word=struct.Struct(e + "Q"),
        )
    return Layouts(
        header=struct.Struct(e + "HHIIIIIHHHHHH"),
        phdr=struct.Struct(e + "IIIIIIII"),  # type offset vaddr paddr filesz memsz flags align
        shdr=struct.Struct(e + "IIIIIIIIII"),
        dyn=struct.Struct(e + "iI"),
        sym=struct.Struct(e + "IIIBBH"),  # name value size info other shndx
        u16=struct.Struct(e + "H"),
        u32=struct.Struct(e + "I"),
        verneed=struct.Struct(e + "HHIII"),
        vernaux=struct.Struct(e + "IHHII"),
        verdef=struct.Struct(e + "HHHHIII"),
        verdaux=struct.Struct(e + "II"),
        note=struct.Struct(e + "III"),
        word=struct.Struct(e + "I"),
    )


class Image:
    """The file's bytes plus bounds-checked accessors."""

    __slots__ = ("data", "size", "what")

    def __init__(self, data: Buffer, what: str) -> None:
        self.data = data
        self.size = len(data)
        self.what = what

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
        return layout.unpack_from(self.data, offset)  # type: ignore[arg-type]

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
