"""The lean read of a shared library, for `check`: what the loader reads (ELF header, program
headers, PT_INTERP, the dynamic section and the tables it points to through PT_LOAD, PT_NOTE),
never the section headers. Used only where its answers equal the full read's; every case where a
section could change an answer returns None, and the file is read in full instead.

What the full read adds for a library, and `check` does not report for lean ones: `.comment`
(compilers), the Rust and Go build information, `.rodata` searches (static C++ runtime, Go
version, panic paths) and the runtime-client search (never run on libraries over 2 MiB anyway).
"""

from __future__ import annotations

from linkscope.elf import constants as c
from linkscope.elf.dynamic import dynamic_segment, read_dynamic
from linkscope.elf.headers import Header, Segment, vaddr_to_offset
from linkscope.elf.image import Image, Layouts
from linkscope.elf.notes import read_notes
from linkscope.elf.parse import Parsed, dynamic_strings, interpreter_path, read_versions


def parse_lean(
    image: Image, header: Header, layouts: Layouts, machine: str, segments: tuple[Segment, ...]
) -> Parsed | None:
    segment = dynamic_segment(segments)
    if segment is None or not _may_be_library(image, header, segments, segment):
        return None
    dynamic = read_dynamic(image, layouts, segment, segments, ())
    if dynamic.strtab is None or not _tables_located(dynamic.by_tag, segments):
        return None
    strings = dynamic_strings(image, dynamic)
    flags_1 = strings["flags_1"]
    if not strings["needed"] or (isinstance(flags_1, int) and flags_1 & c.DF_1_PIE):
        return None  # a program, or a library whose C library only .comment could hint at
    requirements, definitions = read_versions(image, layouts, dynamic, segments, ())
    notes = read_notes(image, layouts, segments, (), machine)
    if notes.go_build_id is not None:
        return None  # Go: its build information is found through sections
    return Parsed(
        image=image,
        header=header,
        layouts=layouts,
        machine=machine,
        segments=segments,
        sections=(),
        interpreter=None,
        dynamic=dynamic,
        requirements=requirements,
        definitions=definitions,
        notes=notes,
        lean=True,
        **strings,  # type: ignore[arg-type]
    )


def _may_be_library(
    image: Image, header: Header, segments: tuple[Segment, ...], dynamic: Segment
) -> bool:
    """ET_DYN with a dynamic section and no interpreter (a program has one), and notes found
    through PT_NOTE (without it they would come from section headers)."""
    if header.e_type != c.ET_DYN or dynamic.filesz == 0:
        return False
    if not any(s.p_type == c.PT_NOTE for s in segments):
        return False
    return interpreter_path(image, segments) is None


def _tables_located(tags: dict[int, list[int]], segments: tuple[Segment, ...]) -> bool:
    """The symbol join needs the symbol count (from a hash table), the symbol table, the version
    tables and their counts, all from dynamic tags that PT_LOAD maps: without one, the full read
    would look for it in the section headers."""
    if (c.DT_HASH not in tags and c.DT_GNU_HASH not in tags) or c.DT_SYMTAB not in tags:
        return False
    versioned = any(t in tags for t in (c.DT_VERNEED, c.DT_VERDEF, c.DT_VERSYM))
    if versioned and not all(t in tags for t in (c.DT_VERSYM, c.DT_SYMTAB, c.DT_VERNEED)):
        return False
    if (c.DT_VERNEED in tags) != (c.DT_VERNEEDNUM in tags):
        return False
    if (c.DT_VERDEF in tags) != (c.DT_VERDEFNUM in tags):
        return False
    addressed = (c.DT_HASH, c.DT_GNU_HASH, c.DT_SYMTAB, c.DT_VERSYM, c.DT_VERNEED, c.DT_VERDEF)
    return all(
        vaddr_to_offset(segments, tags[tag][0]) is not None for tag in addressed if tag in tags
    )
