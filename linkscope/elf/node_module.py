"""The NODE_MODULE_VERSION of a classic Node.js addon (`NODE_MODULE(name, init)`, which nan
addons use): it exports no `node_register_module_v<N>`; node.h's NODE_MODULE_X puts a static
struct in `.data` and an ELF constructor hands it to `node_module_register`:

    struct node_module {                      offset on LP64
      int nm_version;                         0   NODE_MODULE_VERSION: the answer
      unsigned int nm_flags;                  4   0 for an addon
      void* nm_dso_handle;                    8   NULL
      const char* nm_filename;                16  __FILE__           relocated
      addon_register_func nm_register_func;   24  init (or NULL)     relocated
      addon_context_register_func ...;        32  NULL (or init)     relocated
      const char* nm_modname;                 40  "name"             relocated
      void* nm_priv;                          48
      struct node_module* nm_link;            56  NULL
    };

An addon is position independent, so its pointers are dynamic relocations (RELATIVE, packed
RELR, or a symbolic ABS64 to a global init function). The struct is found as relocated slots
of that shape whose targets are a string, code and an identifier: no guess. None when no
struct, or structs that disagree, are found; or for another machine (x86-64 and AArch64 only).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator

from linkscope.elf import constants as c
from linkscope.elf.headers import Segment, vaddr_to_offset
from linkscope.elf.parse import Parsed

DT_RELA, DT_RELASZ, DT_RELAENT = 7, 8, 9
DT_RELRSZ, DT_RELR, DT_RELRENT = 35, 36, 37
# (relative, absolute 64-bit) relocation types
RELOCATION_TYPES = {c.EM_X86_64: (8, 1), c.EM_AARCH64: (1027, 257)}
MAX_RELOCATIONS = 1 << 18  # a large C++ addon has tens of thousands; beyond: unknown
MAX_CANDIDATES = 4096
MAX_MODULE_VERSION = 0xFFFF  # Node has used 1..~150 (Electron too)
PF_X = 1
STRUCT_SIZE = 64
MODNAME = re.compile(rb"[A-Za-z_][A-Za-z0-9_]{0,255}\Z")
RELA = struct.Struct("<QQq")

Targets = dict[int, int | None]  # relocated slot -> the address it points to (None: extern)


def classic_module_version(parsed: Parsed, symtab_offset: int | None) -> int | None:
    """nm_version of the addon's node_module struct, or None when it cannot be told."""
    header = parsed.header
    types = RELOCATION_TYPES.get(header.e_machine)
    if types is None or not header.is64 or not header.little or parsed.dynamic is None:
        return None
    targets = _relocated(parsed, types, symtab_offset)
    if targets is None:
        return None
    code = _code_ranges(parsed)
    versions = {v for base in _bases(targets) if (v := _version(parsed, base, targets, code))}
    return versions.pop() if len(versions) == 1 else None


def _bases(targets: Targets) -> Iterator[int]:
    """Struct addresses where filename and modname are relocated, one of the two register
    functions is, and dso_handle and link are not."""
    seen = 0
    for slot in targets:
        base = slot - 40
        if base % 8 or base + 16 not in targets or (base + 8) in targets:
            continue
        if (base + 24 in targets or base + 32 in targets) and base + 56 not in targets:
            seen += 1
            if seen > MAX_CANDIDATES:
                return
            yield base


def _version(parsed: Parsed, base: int, targets: Targets, code: list[tuple[int, int]]) -> int:
    """The struct's nm_version if everything about it fits, else 0."""
    offset = vaddr_to_offset(parsed.segments, base, STRUCT_SIZE)
    if offset is None:
        return 0
    raw = parsed.image.read(offset, STRUCT_SIZE, "node_module struct")
    version, flags, dso = struct.unpack_from("<iIQ", raw)
    (link,) = struct.unpack_from("<Q", raw, 56)
    if not 0 < version <= MAX_MODULE_VERSION or flags > 0xFF or dso or link:
        return 0
    functions = [targets[base + i] for i in (24, 32) if base + i in targets]
    if not functions or not all(f is not None and _in(code, f) for f in functions):
        return 0
    filename = _string(parsed, targets[base + 16])
    modname = _string(parsed, targets[base + 40])
    if not filename or any(b < 0x20 or b == 0x7F for b in filename):
        return 0
    return version if modname and MODNAME.match(modname) else 0


def _string(parsed: Parsed, address: int | None) -> bytes | None:
    if address is None:
        return None
    for segment in parsed.segments:
        if (
            segment.p_type == c.PT_LOAD
            and segment.vaddr <= address < segment.vaddr + segment.filesz
        ):
            start = segment.offset + address - segment.vaddr
            end = min(start + 1024, segment.offset + segment.filesz, parsed.image.size)
            stop = parsed.image.find(b"\0", start, end)
            return parsed.image.read(start, stop - start, "string") if stop > start else None
    return None


def _in(ranges: list[tuple[int, int]], address: int) -> bool:
    return any(start <= address < end for start, end in ranges)


def _code_ranges(parsed: Parsed) -> list[tuple[int, int]]:
    """The executable PT_LOAD segments' address ranges (p_flags, which Segment omits)."""
    header = parsed.header
    ranges = []
    for index in range(min(header.phnum, 0xFFFF)):
        entry = header.phoff + index * header.phentsize
        if entry + parsed.layouts.phdr.size > parsed.image.size:
            break
        p_type, p_flags, _offset, vaddr, _paddr, filesz, _memsz, _align = parsed.image.unpack(
            parsed.layouts.phdr, entry, "program header"
        )
        if p_type == c.PT_LOAD and p_flags & PF_X:
            ranges.append((vaddr, vaddr + filesz))
    return ranges


def _relocated(parsed: Parsed, types: tuple[int, int], symtab_offset: int | None) -> Targets | None:
    """Every relocated slot of DT_RELA and DT_RELR, with what it points to; None when there
    are more than MAX_RELOCATIONS or a table cannot be read."""
    assert parsed.dynamic is not None
    dynamic = parsed.dynamic
    targets: Targets = {}
    rela = _table(parsed.segments, dynamic.first(DT_RELA), dynamic.first(DT_RELASZ))
    if rela is not None and dynamic.first(DT_RELAENT) in (None, RELA.size):
        offset, size = rela
        if size // RELA.size > MAX_RELOCATIONS:
            return None
        data = parsed.image.read(offset, size - size % RELA.size, "relocation table")
        for slot, info, addend in RELA.iter_unpack(data):
            kind = info & 0xFFFFFFFF
            if kind == types[0]:
                targets[slot] = addend
            elif kind == types[1]:
                targets[slot] = _symbol_address(parsed, symtab_offset, info >> 32, addend)
    relr = _table(parsed.segments, dynamic.first(DT_RELR), dynamic.first(DT_RELRSZ))
    if relr is not None and dynamic.first(DT_RELRENT) in (None, 8):
        offset, size = relr
        if size // 8 > MAX_RELOCATIONS // 64:
            return None
        data = parsed.image.read(offset, size - size % 8, "RELR table")
        for slot in _relr_slots(data):
            at = vaddr_to_offset(parsed.segments, slot, 8)
            if at is not None:
                targets[slot] = struct.unpack("<Q", parsed.image.read(at, 8, "RELR slot"))[0]
    return targets


def _table(
    segments: tuple[Segment, ...], address: int | None, size: int | None
) -> tuple[int, int] | None:
    if address is None or not size or size < 0:
        return None
    offset = vaddr_to_offset(segments, address, size)
    return None if offset is None else (offset, size)


def _relr_slots(data: bytes) -> Iterator[int]:
    """RELR: an even word is an address; an odd one a bitmap of the next 63 words."""
    where = 0
    for (entry,) in struct.iter_unpack("<Q", data):
        if entry & 1 == 0:
            yield entry
            where = entry + 8
            continue
        bits = entry >> 1
        for index in range(63):
            if bits >> index & 1:
                yield where + index * 8
        where += 63 * 8


def _symbol_address(parsed: Parsed, symtab: int | None, index: int, addend: int) -> int | None:
    """A symbolic relocation's target: a defined symbol's value plus the addend."""
    layout = parsed.layouts.sym
    if symtab is None or index == 0:
        return None
    at = symtab + index * layout.size
    if at + layout.size > parsed.image.size:
        return None
    _name, _info, _other, shndx, value, _size = parsed.image.unpack(layout, at, "symbol")
    return None if shndx == c.SHN_UNDEF else value + addend
