"""Go build information (`go version -m`), parsed from the documented `.go.buildinfo` layout.

Layout: a 32-byte header starting with the magic `\\xff Go buildinf:`, then a pointer size byte
and a flags byte. Since Go 1.18 (flag bit 1) the Go version and the module text follow as
varint-length-prefixed strings; before that, two pointers lead to Go string headers in memory.
"""

from __future__ import annotations

from typing import Literal

from linkscope.elf.headers import vaddr_to_offset
from linkscope.elf.parse import Parsed
from linkscope.model import GoInfo

MAGIC = b"\xff Go buildinf:"
MAX_TEXT = 1 << 20


def read_go_buildinfo(parsed: Parsed) -> GoInfo | None:
    start = _find_header(parsed)
    if start is None:
        return None
    image = parsed.image
    header = image.read(start, 32, "Go build info header")
    pointer_size, flags = header[14], header[15]
    if flags & 0x2:
        version, offset = _varint_string(parsed, start + 32)
        modinfo, _ = _varint_string(parsed, offset)
    else:
        big = bool(flags & 0x1)
        version = _pointer_string(parsed, start + 16, pointer_size, big)
        modinfo = _pointer_string(parsed, start + 16 + pointer_size, pointer_size, big)
    if version is None:
        return None
    return _parse_modinfo(version, _strip_sentinels(modinfo or ""))


def _find_header(parsed: Parsed) -> int | None:
    section = parsed.section(".go.buildinfo")
    if section is not None and parsed.image.find(MAGIC, section.offset, section.offset + 32) >= 0:
        return section.offset
    if parsed.sections:
        return None  # the Go linker always names the section; without it, build info was removed
    # No section headers: search the file at 16-byte alignment, as `go version` does.
    position = parsed.image.find(MAGIC)
    while position >= 0:
        if position % 16 == 0 and position + 32 <= parsed.image.size:
            return position
        position = parsed.image.find(MAGIC, position + 1)
    return None


def _varint_string(parsed: Parsed, offset: int) -> tuple[str | None, int]:
    length, shift = 0, 0
    for _ in range(10):
        byte = parsed.image.read(offset, 1, "Go build info")[0]
        offset += 1
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    if length > MAX_TEXT:
        return None, offset
    text = parsed.image.read(offset, length, "Go build info").decode("utf-8", "replace")
    return text, offset + length


def _pointer_string(parsed: Parsed, offset: int, size: int, big: bool) -> str | None:
    if size not in (4, 8):
        return None
    order: Literal["big", "little"] = "big" if big else "little"
    pointer = int.from_bytes(parsed.image.read(offset, size, "Go build info"), order)
    header_at = vaddr_to_offset(parsed.segments, pointer, 2 * size)
    if header_at is None:
        return None
    raw = parsed.image.read(header_at, 2 * size, "Go string header")
    data, length = int.from_bytes(raw[:size], order), int.from_bytes(raw[size:], order)
    data_at = vaddr_to_offset(parsed.segments, data, length)
    if data_at is None or length > MAX_TEXT:
        return None
    return parsed.image.read(data_at, length, "Go string").decode("utf-8", "replace")


def _strip_sentinels(modinfo: str) -> str:
    # The module text is framed by two 16-byte sentinels; the last line ends before the second.
    if len(modinfo) >= 33 and modinfo[-17] == "\n":
        return modinfo[16:-16]
    return modinfo


def _parse_modinfo(version: str, modinfo: str) -> GoInfo:
    main_module: str | None = None
    path: str | None = None
    dependencies: list[tuple[str, str]] = []
    settings: list[tuple[str, str]] = []
    for line in modinfo.splitlines():
        fields = line.split("\t")
        kind = fields[0]
        if kind == "path" and len(fields) > 1:
            path = fields[1]
        elif kind == "mod" and len(fields) > 1:
            main_module = fields[1]
        elif kind == "dep" and len(fields) > 2:
            dependencies.append((fields[1], fields[2]))
        elif kind == "=>" and len(fields) > 1 and dependencies:
            # A `replace` directive: the line after a dep names what was built instead.
            name, built = dependencies[-1]
            target = fields[1] + (f" {fields[2]}" if len(fields) > 2 and fields[2] else "")
            dependencies[-1] = (name, f"{built} => {target}")
        elif kind == "build" and len(fields) > 1 and "=" in fields[1]:
            key, _, value = fields[1].partition("=")
            settings.append((key, value))
    return GoInfo(
        version=version or None,
        main_module=main_module or path,
        dependencies=tuple(dependencies),
        settings=tuple(settings),
    )
