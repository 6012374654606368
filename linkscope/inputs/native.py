"""Native code that is not ELF, told by its first bytes: Mach-O (thin, both byte orders; fat)
from a Mac and PE/COFF from Windows. Linux's loader rejects both with `invalid ELF header`,
the most common reason a Lambda import fails, so the scan records them.

Fat Mach-O and Java class files share the magic 0xCAFEBABE: the big-endian u32 after it is a
fat file's architecture count (1 to about 20, each entry with a known CPU type) and a class
file's minor/major version (major 45 or more). Only the head of the file is read.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from linkscope.records import Record

HEAD_NEEDED = 4096  # a PE header further in than the scan's first bytes is read up to here

_MACHO_THIN = {
    b"\xce\xfa\xed\xfe": ("<", 32),  # MH_MAGIC stored little-endian (x86, arm)
    b"\xcf\xfa\xed\xfe": ("<", 64),  # MH_MAGIC_64 little-endian
    b"\xfe\xed\xfa\xce": (">", 32),  # big-endian (PowerPC Macs)
    b"\xfe\xed\xfa\xcf": (">", 64),
}
_FAT = {b"\xca\xfe\xba\xbe": 20, b"\xca\xfe\xba\xbf": 32}  # fat_arch / fat_arch_64 sizes
_MAX_FAT_ARCHES = 30
_CPU_TYPES = {
    7: "i386",
    0x01000007: "x86_64",
    12: "arm",
    0x0100000C: "aarch64",
    0x0200000C: "arm64_32",
    18: "ppc",
    0x01000012: "ppc64",
}
_MACHO_FILE_TYPES = {
    1: "object",
    2: "executable",
    6: "dylib",
    8: "bundle",
    9: "dylib-stub",
    11: "kext-bundle",
}
_PE_MACHINES = {
    0x14C: "i386",
    0x8664: "x86_64",
    0xAA64: "aarch64",
    0x1C0: "arm",
    0x1C4: "arm",
    0x200: "ia64",
}


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class NativeKind(Record):
    format: str  # "mach-o", "mach-o-fat", "pe"
    os: str  # "macOS", "Windows"
    machines: tuple[str, ...]
    file_type: str | None


def native_kind(head: bytes) -> NativeKind | None:
    """What a non-ELF file's first bytes say it is, or None when it is no native code."""
    magic = head[:4]
    if magic in _MACHO_THIN:
        return _thin(head, *_MACHO_THIN[magic])
    if magic in _FAT:
        return _fat(head, _FAT[magic])
    if magic[:2] == b"MZ":
        return _pe(head)
    return None


def pe_header_offset(head: bytes) -> int | None:
    """Where an `MZ` file says its PE header is (e_lfanew), to read far enough for it."""
    if head[:2] != b"MZ" or len(head) < 0x40:
        return None
    return int(struct.unpack_from("<I", head, 0x3C)[0])


def _thin(head: bytes, order: str, bits: int) -> NativeKind | None:
    if len(head) < 16:
        return None
    cputype, _subtype, filetype = struct.unpack_from(order + "iiI", head, 4)
    machine = _CPU_TYPES.get(cputype & 0xFFFFFFFF)
    if machine is None:
        return None  # four magic bytes and garbage: not worth calling native code
    return NativeKind(
        format="mach-o",
        os="macOS",
        machines=(machine,),
        file_type=_MACHO_FILE_TYPES.get(filetype, f"type {filetype}"),
    )


def _fat(head: bytes, entry_size: int) -> NativeKind | None:
    if len(head) < 8:
        return None
    count = struct.unpack_from(">I", head, 4)[0]
    if not 1 <= count <= _MAX_FAT_ARCHES:
        return None  # a Java class file: minor/major version, major >= 45
    machines = []
    for index in range(count):
        offset = 8 + index * entry_size
        if offset + 8 > len(head):
            break
        cputype = struct.unpack_from(">I", head, offset)[0]
        machine = _CPU_TYPES.get(cputype)
        if machine is None:
            return None  # a class file with an unusual version, or random bytes
        machines.append(machine)
    if not machines:
        return None
    return NativeKind(
        format="mach-o-fat",
        os="macOS",
        machines=tuple(dict.fromkeys(machines)),
        file_type="binary",
    )


def _pe(head: bytes) -> NativeKind | None:
    offset = pe_header_offset(head)
    if offset is None or offset + 24 > len(head) or head[offset : offset + 4] != b"PE\0\0":
        return None  # a DOS program, or text that happens to start with "MZ"
    machine, _sections, _stamp, _symtab, _count, _optional, characteristics = struct.unpack_from(
        "<HHIIIHH", head, offset + 4
    )
    return NativeKind(
        format="pe",
        os="Windows",
        machines=(_PE_MACHINES.get(machine, f"pe_{machine:#x}"),),
        file_type="dll" if characteristics & 0x2000 else "executable",
    )
