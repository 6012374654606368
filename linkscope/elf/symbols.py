"""The dynamic symbols that tie a native module to a language runtime: what a Node.js addon
exports to register itself and which Node-API functions it imports (and the Node-API version its
`node_api_module_get_api_version_v1` returns), and the CPython C-API functions an extension
imports. Read from `.dynsym` (works on stripped files), and only when the dynamic string table
names one of them, so that other ELF files cost one string search."""

from __future__ import annotations

import struct
import sys
from array import array
from itertools import compress

from linkscope.elf import constants as c
from linkscope.elf.dynamic import Dynamic
from linkscope.elf.headers import vaddr_to_offset
from linkscope.elf.node_module import classic_module_version
from linkscope.elf.parse import Parsed
from linkscope.elf.versions import VersionReader
from linkscope.errors import CorruptElfError, LimitExceededError
from linkscope.model import InterfaceSymbols

EXPORTS = (
    b"node_register_module_v",
    b"napi_register_module_v",
    b"node_api_module_get_api_version_v",
)
IMPORTS = (b"napi_", b"node_api_", b"node_module_register", b"Py", b"_Py")
DECLARES = "node_api_module_get_api_version_v1"
CLASSIC = "node_module_register"  # NODE_MODULE: the NODE_MODULE_VERSION is in a struct
GATE = (b"\0napi_", b"\0node_", b"Py")  # every name above contains one of these
MAX_KEPT = 4096  # names kept per file (an extension imports a few hundred C-API functions)


def may_be_module(path: str) -> bool:
    """Whether a file's name is one a runtime loads as a module: a Node addon (`*.node`) or a
    Python or Ruby extension (`*.so`; versioned `libfoo.so.1` libraries are not modules). Only
    those are searched, so that scanning a folder of system libraries costs nothing more."""
    return path.endswith((".node", ".so"))


def read_interface(parsed: Parsed) -> InterfaceSymbols | None:
    """The interface symbols, or None when the file has none (or its tables cannot be read:
    these facts are extra, and a damaged symbol table must not hide the rest of the file)."""
    if parsed.dynamic is None or parsed.dynamic.strtab is None:
        return None
    try:
        return _read(parsed, parsed.dynamic)
    except (CorruptElfError, LimitExceededError, struct.error, ValueError, IndexError):
        return None


def _read(parsed: Parsed, dynamic: Dynamic) -> InterfaceSymbols | None:
    strtab = dynamic.strtab
    assert strtab is not None
    image = parsed.image
    end = image.size if strtab.size < 0 else min(image.size, strtab.offset + strtab.size)
    # A runtime's own library defines these names; only a module that imports them matters.
    if (parsed.soname or "").startswith(("libpython", "libnode", "libruby")):
        return None
    if not any(image.find(marker, strtab.offset, end) >= 0 for marker in GATE):
        return None  # the common case: three C-speed searches, nothing copied
    prefixes = EXPORTS + IMPORTS
    reader = VersionReader(image, parsed.layouts, dynamic, parsed.segments, parsed.sections)
    names = reader.string_table()
    starts = _name_starts(names, prefixes)
    symtab = reader.table(c.DT_SYMTAB, c.SHT_DYNSYM)
    count = reader.symbol_count()
    if symtab is None or count == 0:
        return None
    layout = parsed.layouts.sym
    table = image.read(symtab.offset, count * layout.size, "dynamic symbol table")
    exported, imported = _interface(names, table, layout, starts, parsed.layouts.u32.format[0])
    if not exported and not imported:
        return None
    declared = _declared_version(parsed, exported[DECLARES]) if DECLARES in exported else None
    classic = None
    if CLASSIC in imported and not any(n.startswith(EXPORTS[0].decode()) for n in exported):
        classic = classic_module_version(parsed, symtab.offset)
    return InterfaceSymbols(
        exported=tuple(sorted(exported)),
        imported=tuple(sorted(imported)),
        node_api_declared=declared,
        node_module_version=classic,
    )


def _interface(
    names: bytes, table: bytes, layout: struct.Struct, starts: set[int], order: str
) -> tuple[dict[str, int], set[str]]:
    """The exported and imported interface symbols among those whose name starts at one of
    `starts`: the fields of every symbol are decoded at once, the names with one decode."""
    words, halves = _words("I", table, order), _words("H", table, order)
    is64 = layout.size == 24
    step, shndx_step, shndx_at = (6, 12, 3) if is64 else (4, 8, 7)
    name_of, shndx_of = words[::step], halves[shndx_at::shndx_step]
    matched = list(compress(range(len(name_of)), map(starts.__contains__, name_of)))
    if matched and matched[0] == 0:
        matched.pop(0)  # symbol 0 is the undefined null symbol
    offsets = [name_of[i] for i in matched]
    ends = [names.find(b"\0", offset, offset + 4096) for offset in offsets]
    raw = [names[o:e] if e >= 0 else b"" for o, e in zip(offsets, ends, strict=True)]
    # Names hold no NUL and a NUL ends any bad UTF-8 sequence: each decodes as it would alone.
    # A name's bytes start with a prefix exactly when its text does (the prefixes are ASCII).
    text = b"\0".join(raw).decode("utf-8", "backslashreplace").split("\0") if raw else []
    exported: dict[str, int] = {}
    imported: set[str] = set()
    for index, name_bytes, name in zip(matched, raw, text, strict=True):
        if shndx_of[index] == c.SHN_UNDEF:
            if name_bytes.startswith(IMPORTS) and len(imported) < MAX_KEPT:
                imported.add(name)
        elif name_bytes.startswith(EXPORTS):
            fields = layout.unpack_from(table, index * layout.size)
            exported[name] = _value_and_section(fields, is64)[0]
    return exported, imported


def _words(typecode: str, table: bytes, order: str) -> array[int]:
    values = array(typecode)
    values.frombytes(table[: len(table) - len(table) % values.itemsize])
    if (order == "<") != (sys.byteorder == "little"):
        values.byteswap()
    return values


def _name_starts(names: bytes, prefixes: tuple[bytes, ...]) -> set[int]:
    """String-table offsets where a name with one of the prefixes starts (C-speed finds)."""
    starts: set[int] = set()
    for prefix in prefixes:
        position = names.find(b"\0" + prefix)
        while position >= 0 and len(starts) < 16 * MAX_KEPT:
            starts.add(position + 1)
            position = names.find(b"\0" + prefix, position + 1)
    return starts


def _value_and_section(fields: tuple[int, ...], is64: bool) -> tuple[int, int]:
    # Elf64_Sym: name info other shndx value size; Elf32_Sym: name value size info other shndx
    return (fields[4], fields[3]) if is64 else (fields[1], fields[5])


def _declared_version(parsed: Parsed, address: int) -> int | None:
    """The constant that `node_api_module_get_api_version_v1` returns, from its first
    instructions: `mov $N,%eax; ret` (x86-64, after an optional endbr64 and frame setup) or
    `movz w0,#N; ret` (aarch64, after an optional `bti c`). NAPI_VERSION_EXPERIMENTAL
    (0x7fffffff) is returned as is. None when the code is anything else (an unoptimised build,
    another machine): never a guess."""
    offset = vaddr_to_offset(parsed.segments, address, 16)
    if offset is None:
        return None
    code = parsed.image.read(offset, 16, "Node-API version function")
    if parsed.header.e_machine == c.EM_X86_64:
        return _x86_64_return(code)
    if parsed.header.e_machine == c.EM_AARCH64:
        return _aarch64_return(code, parsed.header.little)
    return None


def _x86_64_return(code: bytes) -> int | None:
    code = code.removeprefix(b"\xf3\x0f\x1e\xfa")  # endbr64 (CET builds)
    framed = code.startswith(b"\x55\x48\x89\xe5")  # push %rbp; mov %rsp,%rbp (zig, -O0)
    code = code[4:] if framed else code
    epilogue = b"\x5d\xc3" if framed else b"\xc3"  # [pop %rbp;] ret
    if code[0] == 0xB8 and code[5:].startswith(epilogue):  # mov $imm32,%eax
        return int.from_bytes(code[1:5], "little")
    return None


def _aarch64_return(code: bytes, little: bool) -> int | None:
    words = struct.unpack(("<" if little else ">") + "4I", code)
    if words[0] == 0xD503245F:  # bti c
        words = words[1:]
    first, second = words[0], words[1]
    if first & 0xFFE0001F != 0x52800000:  # movz w0, #imm16
        return None
    value = (first >> 5) & 0xFFFF
    if second & 0xFFE0001F == 0x72A00000:  # movk w0, #imm16, lsl #16
        value |= ((second >> 5) & 0xFFFF) << 16
        second = words[2]
    return value if second == 0xD65F03C0 else None  # ret
