"""ELF notes: `.note.ABI-tag` (minimum kernel), `.note.gnu.property` (ISA level, BTI/PAC),
`.note.gnu.build-id` and `.note.go.buildid`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from linkscope.elf import constants as c
from linkscope.elf.headers import Section, Segment
from linkscope.elf.image import Image, Layouts
from linkscope.errors import LimitExceededError

MAX_NOTES = 256
ABI_TAG_OS = {0: "Linux", 1: "GNU/Hurd", 2: "Solaris", 3: "FreeBSD"}
X86_FEATURES = {1: "IBT", 2: "SHSTK"}
AARCH64_FEATURES = {1: "BTI", 2: "PAC"}


@dataclass(frozen=True, slots=True)
class Notes:
    abi_tag: tuple[str, str] | None = None  # ("Linux", "3.2.0")
    build_id: str | None = None
    go_build_id: str | None = None
    x86_isa_needed: int | None = None
    x86_features: tuple[str, ...] = ()
    aarch64_features: tuple[str, ...] = ()
    android: bool = False
    foreign_os: str | None = None  # FreeBSD, NetBSD, OpenBSD: their ident notes


def read_notes(
    image: Image,
    layouts: Layouts,
    segments: tuple[Segment, ...],
    sections: tuple[Section, ...],
    machine: str,
) -> Notes:
    found: dict[str, object] = {}
    for name, n_type, desc in _iter_notes(image, layouts, segments, sections):
        _record(found, name, n_type, desc, layouts, machine)
    return Notes(**found)  # type: ignore[arg-type]


def _areas(
    segments: tuple[Segment, ...], sections: tuple[Section, ...]
) -> Iterator[tuple[int, int, int]]:
    notes = [(s.offset, s.filesz, s.align) for s in segments if s.p_type == c.PT_NOTE]
    if not notes:
        notes = [(s.offset, s.size, 4) for s in sections if s.sh_type == c.SHT_NOTE]
    seen: set[tuple[int, int]] = set()
    for offset, size, align in notes:
        if (offset, size) not in seen:
            seen.add((offset, size))
            yield offset, size, 8 if align == 8 else 4


def _iter_notes(
    image: Image, layouts: Layouts, segments: tuple[Segment, ...], sections: tuple[Section, ...]
) -> Iterator[tuple[str, int, bytes]]:
    count = 0
    for start, size, align in _areas(segments, sections):
        end = min(start + size, image.size)
        offset = start
        while offset + 12 <= end:
            count += 1
            if count > MAX_NOTES:
                raise LimitExceededError(
                    f"{image.what}: more than {MAX_NOTES} notes (real binaries have a handful): "
                    "the file is damaged or hostile"
                )
            namesz, descsz, n_type = image.unpack(layouts.note, offset, "note")
            name_at = offset + 12
            desc_at = name_at + _pad(namesz, 4)
            next_at = desc_at + _pad(descsz, align)
            if desc_at + descsz > end or namesz > 256:
                break  # a damaged note ends this area; other facts stay readable
            name = (
                bytes(image.data[name_at : name_at + namesz])
                .rstrip(b"\0")
                .decode("ascii", "replace")
            )
            yield name, n_type, bytes(image.data[desc_at : desc_at + descsz])
            offset = next_at


def _pad(size: int, align: int) -> int:
    return (size + align - 1) & ~(align - 1)


def _record(
    found: dict[str, object], name: str, n_type: int, desc: bytes, layouts: Layouts, machine: str
) -> None:
    u32 = layouts.u32
    if name == "GNU" and n_type == c.NT_GNU_ABI_TAG and len(desc) >= 16:
        os_id, major, minor, sub = (u32.unpack_from(desc, 4 * i)[0] for i in range(4))
        found["abi_tag"] = (ABI_TAG_OS.get(os_id, f"os{os_id}"), f"{major}.{minor}.{sub}")
    elif name == "GNU" and n_type == c.NT_GNU_BUILD_ID:
        found["build_id"] = desc.hex()
    elif name == "Go" and n_type == c.NT_GO_BUILDID:
        found["go_build_id"] = desc.decode("utf-8", "replace")
    elif name == "Android" and n_type == 1:
        found["android"] = True
    elif name in ("FreeBSD", "NetBSD", "OpenBSD", "DragonFly") and n_type == 1:
        found["foreign_os"] = name
    elif name == "GNU" and n_type == c.NT_GNU_PROPERTY_TYPE_0:
        _record_properties(found, desc, layouts, machine)


def _record_properties(
    found: dict[str, object], desc: bytes, layouts: Layouts, machine: str
) -> None:
    u32 = layouts.u32
    align = layouts.word.size
    offset = 0
    while offset + 8 <= len(desc):
        pr_type, datasz = u32.unpack_from(desc, offset)[0], u32.unpack_from(desc, offset + 4)[0]
        data_at = offset + 8
        if data_at + datasz > len(desc):
            break
        value = u32.unpack_from(desc, data_at)[0] if datasz >= 4 else 0
        if pr_type == c.GNU_PROPERTY_X86_ISA_1_NEEDED and machine in ("x86_64", "i386", "x32"):
            # bit 0 = baseline, bit 1 = v2, bit 2 = v3, bit 3 = v4
            found["x86_isa_needed"] = value.bit_length() if value else None
        elif pr_type == c.GNU_PROPERTY_X86_FEATURE_1_AND and machine in ("x86_64", "i386", "x32"):
            found["x86_features"] = tuple(n for bit, n in X86_FEATURES.items() if value & bit)
        elif pr_type == c.GNU_PROPERTY_AARCH64_FEATURE_1_AND and machine == "aarch64":
            found["aarch64_features"] = tuple(
                n for bit, n in AARCH64_FEATURES.items() if value & bit
            )
        offset = data_at + _pad(datasz, align)
