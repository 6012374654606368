"""Turn a parsed ELF image into BinaryFacts: the only output of the `elf` stage."""

from __future__ import annotations

from linkscope.elf import constants as c
from linkscope.elf.client import detect_client
from linkscope.elf.image import Image, scan
from linkscope.elf.libc import (
    FOREIGN_OS_ABI,
    GLIBC_MARKERS,
    MUSL_MARKERS,
    UCLIBC_MARKERS,
    LibcClues,
    classify,
)
from linkscope.elf.parse import Parsed, parse
from linkscope.elf.symbols import may_be_module, read_interface
from linkscope.elf.toolchain import detect_toolchain, is_go
from linkscope.model import BinaryFacts, Confidence, ElfType, Linkage

STATIC_MARKERS = GLIBC_MARKERS + MUSL_MARKERS + UCLIBC_MARKERS


LEAN_ABOVE = 2 << 20  # the runtime-client search skips libraries this big in any case


def facts_from_image(
    image: Image, path: str, mode: int | None = None, *, lean_above: int | None = None
) -> BinaryFacts:
    """The facts of one ELF image. With `lean_above`, a shared library bigger than that is read
    for a check verdict only (elf/lean.py): the answers the checks use are the full read's, the
    facts that only `inspect` reports are left out, and `complete` is False."""
    lean = lean_above is not None and image.size > lean_above
    parsed = parse(image, lean=lean)
    header = parsed.header
    elf_type = _elf_type(parsed)
    linkage = _linkage(parsed, elf_type)
    go = not parsed.lean and is_go(parsed)
    markers = _static_markers(parsed, linkage, go)
    toolchain = detect_toolchain(parsed, go=go)
    libc = classify(
        LibcClues(
            linkage=linkage,
            interpreter=parsed.interpreter,
            needed=parsed.needed,
            requirements=parsed.requirements,
            abi_tag=parsed.notes.abi_tag is not None,
            android=parsed.notes.android,
            go=go,
            markers=markers,
            definitions=parsed.definitions,
            soname=parsed.soname,
            comments=toolchain.compilers,
            foreign_os=parsed.notes.foreign_os or _foreign_os_abi(header.os_abi),
            relocatable=header.e_type == c.ET_REL,
            shared_object=header.e_type == c.ET_DYN,
            pie_flag=bool(parsed.flags_1 and parsed.flags_1 & c.DF_1_PIE),
        )
    )
    if parsed.lean and (linkage is not Linkage.DYNAMIC or libc.confidence is Confidence.GUESS):
        return facts_from_image(image, path, mode)  # .comment could decide the C library
    return BinaryFacts(
        path=path,
        size=image.size,
        elf_class=64 if header.is64 else 32,
        endianness="little" if header.little else "big",
        machine=parsed.machine,
        e_machine=header.e_machine,
        os_abi=c.OS_ABI.get(header.os_abi, f"osabi_{header.os_abi}"),
        elf_type=elf_type,
        entry=header.entry,
        linkage=linkage,
        interpreter=parsed.interpreter,
        arm_float_abi=_arm_float_abi(parsed),
        needed=parsed.needed,
        rpath=parsed.rpath,
        runpath=parsed.runpath,
        soname=parsed.soname,
        flags=_flag_names(parsed.flags, c.DF_FLAGS),
        flags_1=_flag_names(parsed.flags_1, c.DF_1_FLAGS),
        version_requirements=parsed.requirements,
        version_definitions=parsed.definitions,
        libc=libc,
        toolchain=toolchain,
        runtime_client=None if parsed.lean else detect_client(parsed),
        mode=mode,
        interface=read_interface(parsed) if may_be_module(path) else None,
        complete=not parsed.lean,
    )


def _elf_type(parsed: Parsed) -> ElfType:  # noqa: PLR0911 - one return per ELF type
    e_type = parsed.header.e_type
    if e_type == c.ET_EXEC:
        return ElfType.EXECUTABLE
    if e_type == c.ET_REL:
        return ElfType.RELOCATABLE
    if e_type == c.ET_CORE:
        return ElfType.CORE
    if e_type != c.ET_DYN:
        raise parsed.image.corrupt(f"unknown ELF type {e_type}")
    if parsed.flags_1 and parsed.flags_1 & c.DF_1_PIE:
        return ElfType.PIE_EXECUTABLE
    if parsed.soname is not None:
        return ElfType.SHARED_LIBRARY
    if parsed.interpreter is not None:
        return ElfType.PIE_EXECUTABLE
    if (
        not parsed.needed
        and parsed.dynamic is not None
        and parsed.header.entry != 0
        and not _has_global_dynamic_symbols(parsed)
    ):
        return ElfType.PIE_EXECUTABLE  # static-pie from a linker that does not set DF_1_PIE
    return ElfType.SHARED_LIBRARY


def _has_global_dynamic_symbols(parsed: Parsed) -> bool:
    """A library exports symbols (or imports them); a static-pie program's .dynsym holds only
    the null symbol. sh_info of .dynsym is the index of its first non-local symbol."""
    from linkscope.elf.dynamic import section_table

    dynsym = section_table(parsed.sections, c.SHT_DYNSYM)
    if dynsym is None or not dynsym.entsize:
        return False
    return dynsym.size // dynsym.entsize > dynsym.info


def _linkage(parsed: Parsed, elf_type: ElfType) -> Linkage:
    if parsed.interpreter is not None or parsed.needed or elf_type is ElfType.SHARED_LIBRARY:
        return Linkage.DYNAMIC
    if parsed.dynamic is not None and elf_type is ElfType.PIE_EXECUTABLE:
        return Linkage.STATIC_PIE
    return Linkage.STATIC


def _arm_float_abi(parsed: Parsed) -> str | None:
    if parsed.machine != "arm":
        return None
    flags = parsed.header.flags
    if flags & c.EF_ARM_ABI_FLOAT_HARD or (parsed.interpreter or "").endswith("armhf.so.3"):
        return "hard"
    if flags & c.EF_ARM_ABI_FLOAT_SOFT:
        return "soft"
    return None


def _flag_names(value: int | None, names: dict[int, str]) -> tuple[str, ...]:
    from linkscope.elf.dynamic import flag_names

    return flag_names(value, names)


def _static_markers(parsed: Parsed, linkage: Linkage, go: bool) -> frozenset[bytes]:
    """libc markers inside a static binary, searched in its data sections only. A Go binary
    built with CGO_ENABLED=0 has no C library inside, so it is not searched at all."""
    if linkage is Linkage.DYNAMIC:
        return frozenset()
    if go:
        from linkscope.elf.gobuildinfo import read_go_buildinfo

        info = read_go_buildinfo(parsed)
        if info is not None and info.setting("CGO_ENABLED") == "0":
            return frozenset()
    from linkscope.elf.client import string_regions

    return frozenset(scan(parsed.image, string_regions(parsed), STATIC_MARKERS))


def _foreign_os_abi(os_abi: int) -> str | None:
    name = c.OS_ABI.get(os_abi)
    return name.capitalize() if name in FOREIGN_OS_ABI else None
