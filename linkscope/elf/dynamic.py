"""The dynamic section: what the loader reads to find an object's needs.

Tables are located the way the loader finds them (the dynamic segment's addresses mapped through
PT_LOAD), falling back to section headers when an address does not map.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from linkscope.elf import constants as c
from linkscope.elf.headers import Section, Segment, vaddr_to_offset
from linkscope.elf.image import Image, Layouts
from linkscope.errors import LimitExceededError

MAX_DYNAMIC_ENTRIES = 1 << 16


@dataclass(frozen=True, slots=True)
class Table:
    """A table's file offset and byte size (size may be unknown: -1)."""

    offset: int
    size: int


@dataclass(frozen=True, slots=True)
class Dynamic:
    entries: tuple[tuple[int, int], ...]
    strtab: Table | None
    by_tag: dict[int, list[int]] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        for tag, value in self.entries:  # one pass; lookups below are then dictionary hits
            self.by_tag.setdefault(tag, []).append(value)

    def values(self, tag: int) -> list[int]:
        return self.by_tag.get(tag, [])

    def first(self, tag: int) -> int | None:
        values = self.by_tag.get(tag)
        return values[0] if values else None

    def string(self, image: Image, offset: int, what: str) -> str:
        if self.strtab is None:
            raise image.corrupt(f"{what}: the dynamic string table cannot be found")
        end = self.strtab.offset + self.strtab.size if self.strtab.size >= 0 else None
        return image.cstring(self.strtab.offset + offset, what, end)


def dynamic_segment(segments: tuple[Segment, ...]) -> Segment | None:
    return next((s for s in segments if s.p_type == c.PT_DYNAMIC), None)


def read_dynamic(
    image: Image,
    layouts: Layouts,
    segment: Segment,
    segments: tuple[Segment, ...],
    sections: tuple[Section, ...],
) -> Dynamic:
    image.check(segment.offset, min(segment.filesz, layouts.dyn.size), "dynamic section")
    end = min(segment.offset + segment.filesz, image.size)
    # One read of the segment (bounded: past the limit only one more entry matters).
    end = min(end, segment.offset + (MAX_DYNAMIC_ENTRIES + 1) * layouts.dyn.size)
    block = bytes(image.data[segment.offset : end])
    whole = len(block) - len(block) % layouts.dyn.size
    entries: list[tuple[int, int]] = []
    # One C call decodes every entry; the loop only looks for the end.
    for tag, value in layouts.dyn.iter_unpack(memoryview(block)[:whole]):
        if len(entries) >= MAX_DYNAMIC_ENTRIES:
            raise LimitExceededError(
                f"{image.what}: more than {MAX_DYNAMIC_ENTRIES} dynamic entries without a DT_NULL "
                "(real binaries have a few dozen): the file is damaged or hostile"
            )
        if tag == c.DT_NULL:
            break
        entries.append((tag, value))
    tags = dict(reversed(entries))  # the first value of each tag
    strtab = locate_address(tags.get(c.DT_STRTAB), tags.get(c.DT_STRSZ), segments)
    if strtab is None:
        strtab = _section_strtab(sections, c.SHT_STRTAB, ".dynstr")
    return Dynamic(tuple(entries), strtab)


def locate(
    dynamic: Dynamic, tag: int, size: int | None, segments: tuple[Segment, ...]
) -> Table | None:
    """The table a dynamic tag points to, as a file offset."""
    return locate_address(dynamic.first(tag), size, segments)


def locate_address(
    address: int | None, size: int | None, segments: tuple[Segment, ...]
) -> Table | None:
    if address is None:
        return None
    offset = vaddr_to_offset(segments, address)
    if offset is None:
        # An address no PT_LOAD maps: the loader could not use it either.
        return None
    return Table(offset, -1 if size is None else size)


def section_table(sections: tuple[Section, ...], sh_type: int) -> Section | None:
    return next((s for s in sections if s.sh_type == sh_type), None)


def _section_strtab(sections: tuple[Section, ...], sh_type: int, name: str) -> Table | None:
    for section in sections:
        if section.sh_type == sh_type and section.name == name:
            return Table(section.offset, section.size)
    return None


def flag_names(value: int | None, names: dict[int, str]) -> tuple[str, ...]:
    if not value:
        return ()
    known = [name for bit, name in names.items() if value & bit]
    unknown = value & ~sum(names)
    if unknown:
        known.append(f"{unknown:#x}")
    return tuple(known)


def split_search_path(value: str) -> tuple[str, ...]:
    return tuple(part for part in value.split(":") if part)
