"""The ELF stage: bytes in, BinaryFacts out. The only package that knows the file format."""

from __future__ import annotations

import mmap
import os
import struct

from linkscope.elf.constants import ELF_MAGIC
from linkscope.elf.facts import facts_from_image
from linkscope.elf.image import Buffer, Image
from linkscope.errors import CorruptElfError, NotElfError
from linkscope.model import BinaryFacts

__all__ = ["ELF_MAGIC", "facts_from_bytes", "facts_from_file", "is_elf"]


def is_elf(head: bytes) -> bool:
    return head[:4] == ELF_MAGIC


def facts_from_bytes(
    data: Buffer, path: str, mode: int | None = None, *, lean_above: int | None = None
) -> BinaryFacts:
    if len(data) < 4 or data[0:4] != ELF_MAGIC:
        raise NotElfError(f"{path}: not an ELF file")
    try:
        return facts_from_image(Image(data, path), path, mode, lean_above=lean_above)
    except CorruptElfError:
        raise
    except (ValueError, OverflowError, IndexError, UnicodeError, struct.error) as exc:
        # The reader checks bounds before reading; anything that still slips through is a
        # malformed field, which is a property of the input, not a bug to crash on.
        raise CorruptElfError(f"{path}: corrupt ELF: {exc}") from exc


def facts_from_file(path: str, display: str | None = None) -> BinaryFacts:
    """Read one file through a read-only memory map (large libraries are never copied)."""
    shown = display or path
    with open(path, "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode & 0o7777
        size = os.fstat(handle.fileno()).st_size
        if size < 4 or handle.read(4) != ELF_MAGIC:
            raise NotElfError(f"{shown}: not an ELF file")
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            return facts_from_bytes(mapped, shown, mode)
