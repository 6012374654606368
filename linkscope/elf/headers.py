"""ELF header, program headers and section headers, read within bounds."""

from __future__ import annotations

import struct
from typing import NamedTuple

from linkscope.elf import constants as c
from linkscope.elf.image import MAX_STRING, Image, Layouts, make_layouts
from linkscope.errors import CorruptElfError

MAX_PROGRAM_HEADERS = 4096
MAX_SECTIONS = 1 << 17


class Header(NamedTuple):
    is64: bool
    little: bool
    os_abi: int
    e_type: int
    e_machine: int
    entry: int
    phoff: int
    shoff: int
    flags: int
    phentsize: int
    phnum: int
    shentsize: int
    shnum: int
    shstrndx: int


class Segment(NamedTuple):
    p_type: int
    offset: int
    vaddr: int
    filesz: int
    memsz: int
    align: int


class Section(NamedTuple):
    name: str
    sh_type: int
    addr: int
    offset: int
    size: int
    link: int
    info: int
    entsize: int


def read_header(image: Image) -> tuple[Header, Layouts]:
    image.check(0, 16, "ELF identification")
    ident = image.read(0, 16, "ELF identification")
    if ident[:4] != c.ELF_MAGIC:
        raise image.corrupt("bad magic")
    if ident[4] not in (1, 2):
        raise image.corrupt(f"unknown ELF class {ident[4]}")
    if ident[5] not in (1, 2):
        raise image.corrupt(f"unknown byte order {ident[5]}")
    is64, little = ident[4] == 2, ident[5] == 1
    layouts = make_layouts(is64, little)
    fields = image.unpack(layouts.header, 16, "ELF header")
    (
        e_type,
        e_machine,
        _version,
        entry,
        phoff,
        shoff,
        flags,
        _ehsize,
        phentsize,
        phnum,
        shentsize,
        shnum,
        shstrndx,
    ) = fields
    header = Header(
        is64,
        little,
        ident[7],
        e_type,
        e_machine,
        entry,
        phoff,
        shoff,
        flags,
        phentsize,
        phnum,
        shentsize,
        shnum,
        shstrndx,
    )
    return header, layouts


def read_segments(image: Image, header: Header, layouts: Layouts) -> tuple[Segment, ...]:
    if header.phnum == 0 or header.phoff == 0:
        return ()
    if header.phentsize < layouts.phdr.size:
        raise image.corrupt(f"program header entries of {header.phentsize} bytes are too small")
    if header.phnum > MAX_PROGRAM_HEADERS:
        raise image.corrupt(f"{header.phnum} program headers is more than any real binary has")
    image.check(header.phoff, header.phnum * header.phentsize, "program header table")
    segments = []
    for index in range(header.phnum):
        raw = image.unpack(layouts.phdr, header.phoff + index * header.phentsize, "program header")
        if header.is64:
            p_type, _flags, offset, vaddr, _paddr, filesz, memsz, align = raw
        else:
            p_type, offset, vaddr, _paddr, filesz, memsz, _flags, align = raw
        segments.append(Segment(p_type, offset, vaddr, filesz, memsz, align))
    return tuple(segments)


def read_sections(image: Image, header: Header, layouts: Layouts) -> tuple[Section, ...]:
    """Section headers with their names. Returns () when absent or unusable: they are optional
    for running a program, so damage here must not stop the facts the loader relies on."""
    if header.shoff == 0 or header.shentsize < layouts.shdr.size:
        return ()
    count, names_index = header.shnum, header.shstrndx
    try:
        if count == 0 or names_index == c.SHN_XINDEX:
            first = image.unpack(layouts.shdr, header.shoff, "section header 0")
            count = count or first[5]  # sh_size of section 0 holds the real count
            names_index = first[6] if names_index == c.SHN_XINDEX else names_index
        if count == 0 or count > MAX_SECTIONS:
            return ()
        image.check(header.shoff, count * header.shentsize, "section header table")
        table = image.read(header.shoff, count * header.shentsize, "section header table")
        if header.shentsize == layouts.shdr.size:  # the usual case: decode all in one C call
            raw = list(layouts.shdr.iter_unpack(table))
        else:
            raw = [layouts.shdr.unpack_from(table, i * header.shentsize) for i in range(count)]
    except (CorruptElfError, struct.error):
        # Damage in the table itself only; a member that cannot be read (a damaged zip or layer
        # stream, a read behind a streaming view) is the input's error and must not pass as
        # "no sections".
        return ()
    names = b""
    if names_index < count:
        offset, length = raw[names_index][4], raw[names_index][5]
        if offset >= 0 and offset + length <= image.size and length <= 1 << 24:
            names = image.read(offset, length, "section names")
    by_offset = _names_by_offset(names)
    return tuple(
        Section(
            by_offset.get(entry[0]) or _name_at(names, entry[0]),
            entry[1],
            entry[3],
            entry[4],
            entry[5],
            entry[6],
            entry[7],
            entry[9],
        )
        for entry in raw
    )


def _names_by_offset(names: bytes) -> dict[int, str]:
    """Every NUL-terminated name of a small section-name table, by its offset (one split instead
    of one search per section)."""
    if len(names) > 1 << 16:
        return {}
    found: dict[int, str] = {}
    offset = 0
    for part in names.split(b"\0"):
        found[offset] = part.decode("utf-8", "backslashreplace")
        offset += len(part) + 1
    return found


def _name_at(names: bytes, sh_name: int) -> str:
    """A name that starts inside another (linkers share suffixes, e.g. `.rela.dyn` and `.dyn`)."""
    # Bounded: 100,000 headers each scanning a 16 MiB table without NULs would never end.
    end = names.find(b"\0", sh_name, sh_name + MAX_STRING) if sh_name < len(names) else -1
    return names[sh_name:end].decode("utf-8", "backslashreplace") if end >= 0 else ""


def vaddr_to_offset(segments: tuple[Segment, ...], vaddr: int, length: int = 1) -> int | None:
    """File offset of a virtual address, through the PT_LOAD segment that maps it."""
    for segment in segments:
        if segment.p_type != c.PT_LOAD:
            continue
        start = segment.vaddr
        if start <= vaddr and vaddr + length <= start + segment.filesz:
            return segment.offset + (vaddr - start)
    return None
