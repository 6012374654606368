"""Symbol versioning: `.gnu.version_r` (needs), `.gnu.version_d` (definitions) and the join of
`.gnu.version` with `.dynsym` that names the symbols forcing each needed version. Works on stripped
binaries: none of it uses `.symtab`."""

from __future__ import annotations

import sys
from array import array
from collections import defaultdict
from itertools import compress

from linkscope.elf import constants as c
from linkscope.elf.dynamic import Dynamic, Table, locate, section_table
from linkscope.elf.headers import Section, Segment
from linkscope.elf.image import MAX_STRING, Image, Layouts
from linkscope.errors import LimitExceededError
from linkscope.model import VersionRequirement, split_version

# Bounds on the version tables: real objects have a few dozen entries (glibc's libc.so.6 defines
# about 40 versions). Past these a file is hostile or damaged, and the limit is reported.
MAX_VERSION_ENTRIES = 4096  # in each table, and all vernaux entries together
MAX_SYMBOLS = 1 << 22
CHAIN_BLOCK = 1 << 16  # bytes of a GNU hash chain read at a time (a multiple of 4)

# Maps every byte with bit 0 set to 1, every other byte to 0 (GNU hash chain ends).
_ODD = bytes(i & 1 for i in range(256))
NATIVE_LITTLE = sys.byteorder == "little"


class VersionReader:
    def __init__(
        self,
        image: Image,
        layouts: Layouts,
        dynamic: Dynamic,
        segments: tuple[Segment, ...],
        sections: tuple[Section, ...],
    ) -> None:
        self.image, self.layouts, self.dynamic = image, layouts, dynamic
        self.segments, self.sections = segments, sections

    def table(self, tag: int, sh_type: int) -> Table | None:
        """A table found through the dynamic section, else through the section headers."""
        return self._table(tag, sh_type)

    def string_table(self) -> bytes:
        return self._string_table()

    def _table(self, tag: int, sh_type: int) -> Table | None:
        table = locate(self.dynamic, tag, None, self.segments)
        if table is not None:
            return table
        section = section_table(self.sections, sh_type)
        return None if section is None else Table(section.offset, section.size)

    def _count(self, tag: int, sh_type: int) -> int:
        count = self.dynamic.first(tag)
        if count is None:
            section = section_table(self.sections, sh_type)
            count = 0 if section is None else section.info
        return count

    def _limit(self, number: int, what: str) -> None:
        """Entry `number` of a walk: a walk may declare any count (it ends at a zero `next`), but
        one that really goes past the limit is reported, never cut short in silence."""
        if number >= MAX_VERSION_ENTRIES:
            raise LimitExceededError(
                f"{self.image.what}: more than {MAX_VERSION_ENTRIES} {what} (real binaries have "
                "a few dozen): the file is damaged or hostile"
            )

    def needs(self) -> list[tuple[str, str, bool, int]]:
        """(library, version, weak, index) for every vernaux entry, in file order."""
        table = self._table(c.DT_VERNEED, c.SHT_GNU_VERNEED)
        if table is None:
            return []
        found: list[tuple[str, str, bool, int]] = []
        offset, seen = table.offset, set()
        for number in range(self._count(c.DT_VERNEEDNUM, c.SHT_GNU_VERNEED)):
            self._limit(number, "version need entries")
            if offset in seen:
                raise self.image.corrupt("version needs form a cycle")
            seen.add(offset)
            _ver, count, file_name, aux, next_entry = self.image.unpack(
                self.layouts.verneed, offset, "version need"
            )
            library = self.dynamic.string(self.image, file_name, "version need file")
            found.extend(self._aux_needs(library, offset + aux, count))
            self._limit(len(found) - 1, "version requirements")
            if next_entry == 0:
                break
            offset += next_entry
        return found

    def _aux_needs(self, library: str, offset: int, count: int) -> list[tuple[str, str, bool, int]]:
        found = []
        for number in range(count):
            self._limit(number, "version requirements of one library")
            _hash, flags, other, name, next_aux = self.image.unpack(
                self.layouts.vernaux, offset, "version need entry"
            )
            version = self.dynamic.string(self.image, name, "version name")
            found.append((library, version, bool(flags & c.VER_FLG_WEAK), other & 0x7FFF))
            if next_aux == 0:
                break
            offset += next_aux
        return found

    def definitions(self) -> list[str]:
        """Version names this object defines, without the base (soname) entry."""
        table = self._table(c.DT_VERDEF, c.SHT_GNU_VERDEF)
        if table is None:
            return []
        names: list[str] = []
        offset, seen = table.offset, set()
        for number in range(self._count(c.DT_VERDEFNUM, c.SHT_GNU_VERDEF)):
            self._limit(number, "version definitions")
            if offset in seen:
                raise self.image.corrupt("version definitions form a cycle")
            seen.add(offset)
            _ver, flags, _ndx, count, _hash, aux, next_entry = self.image.unpack(
                self.layouts.verdef, offset, "version definition"
            )
            if count and not flags & c.VER_FLG_BASE:
                name_offset, _next = self.image.unpack(
                    self.layouts.verdaux, offset + aux, "version definition name"
                )
                names.append(self.dynamic.string(self.image, name_offset, "version name"))
            if next_entry == 0:
                break
            offset += next_entry
        return names

    def symbol_count(self) -> int:
        dynsym = section_table(self.sections, c.SHT_DYNSYM)
        if dynsym is not None and dynsym.entsize:
            return self._symbols(dynsym.size // dynsym.entsize)
        hashed = self._hash_count()
        if hashed is not None:
            return self._symbols(hashed)
        versym = section_table(self.sections, c.SHT_GNU_VERSYM)
        return 0 if versym is None else self._symbols(versym.size // 2)

    def _symbols(self, count: int) -> int:
        if count > MAX_SYMBOLS:
            raise LimitExceededError(
                f"{self.image.what}: {count} dynamic symbols, more than the limit of "
                f"{MAX_SYMBOLS} (the largest libraries have a few hundred thousand)"
            )
        return count

    def _hash_count(self) -> int | None:
        table = locate(self.dynamic, c.DT_HASH, None, self.segments)
        if table is not None:
            return self.image.unpack(self.layouts.u32, table.offset + 4, "hash table")[0]
        table = locate(self.dynamic, c.DT_GNU_HASH, None, self.segments)
        return None if table is None else self._gnu_hash_count(table.offset)

    def _gnu_hash_count(self, offset: int) -> int:
        """Symbols covered by DT_GNU_HASH: the end of the chain of the highest bucket. Read with
        array and translate (C speed): a hostile table can hold millions of buckets or words."""
        image, u32 = self.image, self.layouts.u32
        nbuckets, symoffset, bloom_size, _shift = (
            image.unpack(u32, offset + 4 * i, "GNU hash header")[0] for i in range(4)
        )
        buckets = offset + 16 + bloom_size * self.layouts.word.size
        words = array("I", image.read(buckets, nbuckets * 4, "GNU hash buckets"))
        if words.itemsize != 4:  # pragma: no cover - every CPython platform has a 4-byte "I"
            raise image.corrupt("unsupported platform for GNU hash tables")
        if (u32.format[0] == "<") != NATIVE_LITTLE:
            words.byteswap()
        top = max(words, default=0)
        if top < symoffset:
            return symoffset
        chain = buckets + nbuckets * 4 + 4 * (top - symoffset)
        end = min(image.size, chain + 4 * MAX_SYMBOLS)
        low = chain + (0 if u32.format[0] == "<" else 3)
        # The chain ends at the first word with bit 0 set: look at each word's low byte only,
        # a block at a time (chains are short; a hostile one is bounded by MAX_SYMBOLS).
        start = low
        while chain >= 0 and start < end:
            stop = min(end, start + CHAIN_BLOCK)
            position = bytes(image.data[start:stop:4]).translate(_ODD).find(1)
            if position >= 0:
                index = (start - low) // 4 + position
                if chain + 4 * index + 4 > image.size:
                    break
                return top + index + 1
            start = stop
        raise image.corrupt("GNU hash chain does not end inside the file")

    def symbols_by_version(self, indexes: set[int]) -> dict[int, list[str]]:
        """Undefined dynamic symbols grouped by the version index `.gnu.version` gives them."""
        if not indexes:
            return {}
        versym = self._table(c.DT_VERSYM, c.SHT_GNU_VERSYM)
        symtab = self._table(c.DT_SYMTAB, c.SHT_DYNSYM)
        count = self.symbol_count()
        if versym is None or symtab is None or count == 0:
            return {}
        versions = self.image.read(versym.offset, count * 2, "symbol version table")
        wanted = self._version_masks(versions, indexes)
        last = max((start + mask.rfind(1) for start, mask in wanted), default=-1)
        if last < 0:
            return {}
        entry = self.layouts.sym.size
        table = self.image.read(symtab.offset, (last + 1) * entry, "dynamic symbol table")
        names = self._string_table()
        picked = _picked(table, entry, [(s, m) for s, m in wanted if s <= last], last + 1)
        words, version_of = _array("I", table), _array("H", versions)
        if self.layouts.u16.format.startswith(">") != (sys.byteorder == "big"):
            for values in (words, version_of):
                values.byteswap()
        name_of = words[:: entry // 4]  # st_name is the first word of both layouts
        starts = [name_of[i] for i in picked]
        ends = [names.find(b"\0", start, start + MAX_STRING) for start in starts]
        if ends and min(ends) < 0:  # also a start past the table's end: find gives -1
            raise self.image.corrupt("symbol name lies outside the string table")
        # One decode for all names (they hold no NUL, and a NUL ends any bad UTF-8 sequence, so
        # each name decodes as it would alone).
        raw = b"\0".join([names[start:end] for start, end in zip(starts, ends, strict=True)])
        grouped: dict[int, list[str]] = defaultdict(list)
        if picked:
            text = raw.decode("utf-8", "backslashreplace").split("\0")
            for index, name in zip(picked, text, strict=True):
                grouped[version_of[index] & 0x7FFF].append(name)
        return grouped

    def _version_masks(self, versions: bytes, indexes: set[int]) -> list[tuple[int, bytes]]:
        """Per block of symbols holding a wanted one: its first index, and one byte per symbol,
        1 where its version index (hidden bit cleared) is wanted. Blocks keep memory bounded:
        a hostile hash table can claim millions of symbols."""
        if max(indexes) >= 256:  # never in real files: the low byte says it, the high is 0
            marks = bytearray(len(versions) // 2)
            for position in self._positions(versions, indexes):
                marks[position] = 1
            return [(0, bytes(marks))] if 1 in marks else []
        table = bytearray(256)
        for index in indexes:
            table[index] = 1
        low_first = self.layouts.u16.format[0] != ">"
        masks = []
        for start in range(0, len(versions) // 2, BLOCK):
            block = versions[2 * start : 2 * (start + BLOCK)]
            low, high = (block[0::2], block[1::2]) if low_first else (block[1::2], block[0::2])
            mask = _bits(low.translate(table)) & _bits(high.translate(_LOW_7_BITS_ZERO))
            if mask:  # a block with no wanted symbol is left out
                masks.append((start, mask.to_bytes(len(low), "little")))
        return masks

    def _string_table(self) -> bytes:
        table = self.dynamic.strtab
        if table is None:
            raise self.image.corrupt("the dynamic string table cannot be found")
        size = table.size if table.size >= 0 else self.image.size - table.offset
        size = min(size, self.image.size - table.offset)
        return self.image.read(table.offset, max(size, 0), "dynamic string table")

    def _positions(self, versions: bytes, indexes: set[int]) -> set[int]:
        """Symbol indexes whose version is one of `indexes` (C-speed search, no Python loop
        over every symbol: large libraries have 100,000 of them)."""
        if len(indexes) > 8:  # one C-speed pass instead of two finds per index
            values = array("H", versions)
            if (self.layouts.u16.format[0] == "<") != NATIVE_LITTLE:
                values.byteswap()
            hits = map(indexes.__contains__, map((0x7FFF).__and__, values))
            return set(compress(range(len(values)), hits))
        positions: set[int] = set()
        for wanted in indexes:
            for value in (wanted, wanted | 0x8000):
                needle = self.layouts.u16.pack(value)
                start = versions.find(needle)
                while start >= 0:
                    if start % 2 == 0:
                        positions.add(start // 2)
                    start = versions.find(needle, start + 1)
        return positions


def read_requirements(reader: VersionReader) -> tuple[VersionRequirement, ...]:
    needs = reader.needs()
    symbols = reader.symbols_by_version({index for *_rest, index in needs if index > 1})
    requirements = [
        VersionRequirement(
            library=library,
            version=version,
            weak=weak,
            symbols=tuple(sorted(set(symbols.get(index, ())))),
        )
        for library, version, weak, index in needs
    ]
    order = {library: position for position, (library, *_r) in reversed(list(enumerate(needs)))}
    return tuple(sorted(requirements, key=lambda r: (order[r.library], _version_sort(r.version))))


def _version_sort(version: str) -> tuple[int, tuple[int, ...], str]:
    parsed = split_version(version)
    if parsed is None:
        return (1, (), version)
    return (0, parsed[1], parsed[0])


def _array(typecode: str, data: bytes) -> array[int]:
    values = array(typecode)
    values.frombytes(data[: len(data) - len(data) % values.itemsize])
    return values


_LOW_7_BITS_ZERO = bytes(int(b & 0x7F == 0) for b in range(256))
_NONZERO = bytes(int(b != 0) for b in range(256))


def _bits(flags: bytes) -> int:
    """Bytes of 0 and 1 as one integer (byte i is bit 8*i), for C-speed AND over all of them."""
    return int.from_bytes(flags, "little")


BLOCK = 1 << 16  # symbols per mask block


def _picked(table: bytes, entry: int, wanted: list[tuple[int, bytes]], count: int) -> list[int]:
    """Indexes below `count` of the symbols that count (C-speed masks, no Python step per
    symbol: a large library has 100,000): the wanted version, undefined (st_shndx 0) and named
    (st_name not 0); in either byte order, a field is 0 when all its bytes are."""
    name_at, shndx_at = 0, (6 if entry == 24 else 14)
    picked: list[int] = []
    for start, mask in wanted:
        stop = min(start + len(mask), count)
        rows = table[start * entry : stop * entry]
        named = _any_bytes(rows, entry, range(name_at, name_at + 4))
        defined = _any_bytes(rows, entry, range(shndx_at, shndx_at + 2))
        both = _bits(mask[: stop - start]) & _bits(named) & ~_bits(defined)
        picked += compress(range(start, stop), both.to_bytes(stop - start, "little"))
    return picked


def _any_bytes(table: bytes, entry: int, offsets: range) -> bytes:
    """Per entry of `table`, 1 when any of its bytes at `offsets` is not 0."""
    flags = 0
    for offset in offsets:
        flags |= _bits(table[offset::entry].translate(_NONZERO))
    count = len(table) // entry
    return flags.to_bytes(count, "little") if count else b""
