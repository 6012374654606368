"""Parse one ELF image into the raw structures that classification works from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from linkscope.elf import constants as c
from linkscope.elf.dynamic import Dynamic, dynamic_segment, read_dynamic
from linkscope.elf.headers import (
    Header,
    Section,
    Segment,
    read_header,
    read_sections,
    read_segments,
)
from linkscope.elf.image import Image, Layouts
from linkscope.elf.notes import Notes, read_notes
from linkscope.elf.versions import VersionReader, read_requirements
from linkscope.errors import LimitExceededError
from linkscope.model import VersionRequirement

MAX_INTERP = 4096
# Bounds on what the loader emulation multiplies (each needed library is searched along each
# directory, the runtime's own included). Over 3,765 real ELF files (host and third-party) the most
# seen was 21 DT_NEEDED entries and 5 RPATH/RUNPATH directories.
MAX_NEEDED = 256
MAX_SEARCH_PATHS = 64  # RPATH and RUNPATH directories together


@dataclass(frozen=True, slots=True)
class Parsed:
    """Everything read from the file, before classification."""

    image: Image
    header: Header
    layouts: Layouts
    machine: str
    segments: tuple[Segment, ...]
    sections: tuple[Section, ...]
    interpreter: str | None
    dynamic: Dynamic | None
    needed: tuple[str, ...]
    rpath: tuple[str, ...]
    runpath: tuple[str, ...]
    soname: str | None
    flags: int | None
    flags_1: int | None
    requirements: tuple[VersionRequirement, ...]
    definitions: tuple[str, ...]
    notes: Notes
    lean: bool = False  # read for a check verdict only: no section headers (see parse_lean)

    def section(self, name: str) -> Section | None:
        return next((s for s in self.sections if s.name == name), None)

    def section_bytes(self, name: str, limit: int = 1 << 26) -> bytes | None:
        """A section's contents (None when absent, NOBITS, or outside the file)."""
        section = self.section(name)
        if section is None or section.sh_type == 8 or section.size > limit:
            return None
        if section.offset + section.size > self.image.size:
            return None
        return self.image.read(section.offset, section.size, name)


def parse(image: Image, *, lean: bool = False) -> Parsed:
    """Every structure linkscope reports. With `lean`, a shared library is read the way the
    loader reads it, without its section headers (which sit at the end of the file: a zip member
    is then inflated no further than its dynamic section); anything else, or a library whose
    answers could depend on its sections, is read in full."""
    from linkscope.elf.constants import machine_name

    header, layouts = read_header(image)
    machine = machine_name(header.e_machine, header.is64, header.little)
    segments = read_segments(image, header, layouts)
    if lean:
        from linkscope.elf.lean import parse_lean

        parsed = parse_lean(image, header, layouts, machine, segments)
        if parsed is not None:
            return parsed
    sections = read_sections(image, header, layouts)
    interpreter = interpreter_path(image, segments)
    segment = dynamic_segment(segments)
    dynamic = None
    if segment is not None and segment.filesz > 0:
        dynamic = read_dynamic(image, layouts, segment, segments, sections)
    strings = dynamic_strings(image, dynamic)
    requirements: tuple[VersionRequirement, ...] = ()
    definitions: tuple[str, ...] = ()
    if dynamic is not None:
        requirements, definitions = read_versions(image, layouts, dynamic, segments, sections)
    notes = read_notes(image, layouts, segments, sections, machine)
    return Parsed(
        image=image,
        header=header,
        layouts=layouts,
        machine=machine,
        segments=segments,
        sections=sections,
        interpreter=interpreter,
        dynamic=dynamic,
        requirements=requirements,
        definitions=definitions,
        notes=notes,
        **strings,  # type: ignore[arg-type]
    )


def read_versions(
    image: Image,
    layouts: Layouts,
    dynamic: Dynamic,
    segments: tuple[Segment, ...],
    sections: tuple[Section, ...],
) -> tuple[tuple[VersionRequirement, ...], tuple[str, ...]]:
    """The version needs (with the symbols that force them) and the versions defined."""
    reader = VersionReader(image, layouts, dynamic, segments, sections)
    return read_requirements(reader), tuple(reader.definitions())


def interpreter_path(image: Image, segments: tuple[Segment, ...]) -> str | None:
    segment = next((s for s in segments if s.p_type == c.PT_INTERP), None)
    if segment is None:
        return None
    if segment.filesz == 0 or segment.filesz > MAX_INTERP:
        raise image.corrupt(f"PT_INTERP of {segment.filesz} bytes")
    raw = image.read(segment.offset, segment.filesz, "interpreter path")
    return raw.split(b"\0", 1)[0].decode("utf-8", "backslashreplace")


def dynamic_strings(image: Image, dynamic: Dynamic | None) -> dict[str, object]:
    from linkscope.elf.dynamic import split_search_path

    if dynamic is None:
        return {
            "needed": (),
            "rpath": (),
            "runpath": (),
            "soname": None,
            "flags": None,
            "flags_1": None,
        }

    def strings(tag: int, what: str) -> list[str]:
        values = dynamic.values(tag)
        _bounded(image, values, MAX_NEEDED, f"{what} entries")  # before reading any of them
        return [dynamic.string(image, value, what) for value in values]

    soname = strings(c.DT_SONAME, "SONAME")
    rpath = [p for v in strings(c.DT_RPATH, "RPATH") for p in split_search_path(v)]
    runpath = [p for v in strings(c.DT_RUNPATH, "RUNPATH") for p in split_search_path(v)]
    _bounded(image, rpath + runpath, MAX_SEARCH_PATHS, "RPATH/RUNPATH directories")
    return {
        "needed": tuple(strings(c.DT_NEEDED, "DT_NEEDED")),
        "rpath": tuple(rpath),
        "runpath": tuple(runpath),
        "soname": soname[0] if soname else None,
        "flags": dynamic.first(c.DT_FLAGS),
        "flags_1": dynamic.first(c.DT_FLAGS_1),
    }


def _bounded(image: Image, items: list[Any], limit: int, what: str) -> None:
    if len(items) > limit:
        raise LimitExceededError(
            f"{image.what}: {len(items)} {what}, more than the limit of {limit} (real binaries "
            "stay far below it): the file is damaged or hostile"
        )
