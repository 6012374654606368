"""Read every member of a package: ELF files become BinaryFacts, `#!` files ScriptFacts, and
files that cannot be read become FileProblems (a scan never stops at one bad file).

One pass: the first bytes of each member tell ELF files (read whole right away), scripts,
native non-ELF code and packaging metadata apart. A large package is read on every core: forked
workers and this process take chunks of members in turn (linkscope/pool.py); each worker opens
the package itself, nothing is extracted, and the reads go back to the members' order.
"""

from __future__ import annotations

import dataclasses
import mmap
import os
import sys
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import NamedTuple, TextIO

from linkscope.early import EarlyReads, early_facts, is_plain
from linkscope.elf import facts_from_bytes, is_elf
from linkscope.errors import InputError
from linkscope.inputs import (
    ZIP_MAGICS,
    Limits,
    Member,
    Package,
    PackageKind,
    PackageReader,
    open_package,
)
from linkscope.inputs.native import HEAD_NEEDED, NativeKind, native_kind, pe_header_offset
from linkscope.model import (
    BinaryFacts,
    EntryKind,
    FileProblem,
    MetadataFile,
    NativeFile,
    PackageEntry,
    ScannedPackage,
    ScriptFacts,
)

HEAD_BYTES = 512

Progress = Callable[[int, int], None]  # (members done, members in total)


def scan_path(
    source: str,
    limits: Limits,
    *,
    progress: Progress | None = None,
    workers: int | None = None,
    lean_above: int | None = None,
    arch: str | None = None,
) -> ScannedPackage:
    """Read one file, folder or zip. `progress` is called as members are read (the pure API
    passes none; see `terminal_progress`). `workers` overrides the pool size (default: one per
    core; 1 never starts a pool). `lean_above`: shared libraries bigger than this are read for a
    check verdict only (`elf/lean.py`). `arch` picks a multi-platform image's manifest."""
    return scan_paths(
        [source], limits, progress=progress, workers=workers, lean_above=lean_above, arch=arch
    )[0]


def scan_paths(
    sources: Sequence[str],
    limits: Limits,
    *,
    progress: Progress | None = None,
    workers: int | None = None,
    lean_above: int | None = None,
    arch: str | None = None,
) -> tuple[ScannedPackage, ...]:
    """`scan_path` of each source in turn; while workers read one, this process opens the next
    when that is cheap (walks a folder, parses a zip's directory), so no core waits for it. An
    error opening it is raised when its turn comes, as if it had been opened then."""
    scanned: list[ScannedPackage] = []
    ahead: _Opened | None = None
    for position, source in enumerate(sources):
        following = sources[position + 1] if position + 1 < len(sources) else None
        package = ahead.take() if ahead is not None else _open(source, limits, arch, lean_above)
        ahead = None

        def open_next(following: str | None = following) -> None:
            nonlocal ahead
            if following is not None and _opens_cheaply(following):
                ahead = _Opened(following, limits, arch, lean_above)

        scanned.append(_scan(source, package, limits, progress, workers, lean_above, open_next))
    return tuple(scanned)


def _open(source: str, limits: Limits, arch: str | None, lean_above: int | None) -> Package:
    early = EarlyReads(lean_above, METADATA_FILE_BYTES + 1)  # an image's files, in its one pass
    return open_package(source, limits, arch=arch, early=early)


class _Opened:
    """The next source, opened ahead of its turn: its package, or the error to raise then."""

    def __init__(self, source: str, limits: Limits, arch: str | None, lean: int | None) -> None:
        self.package: Package | None = None
        self.error: Exception | None = None
        try:
            self.package = _open(source, limits, arch, lean)
        except Exception as exc:  # raised in its turn, after the scan before it
            self.error = exc

    def take(self) -> Package:
        if self.error is not None:
            raise self.error
        assert self.package is not None
        return self.package


def _opens_cheaply(source: str) -> bool:
    """A folder or a zip (opening a container image inflates its layers: that waits its turn)."""
    from linkscope.inputs import image_kind

    if os.path.isdir(source):
        return not image_kind.is_image_folder(source)
    try:
        with open(source, "rb") as handle:
            return handle.read(4) in ZIP_MAGICS
    except OSError:
        return False


def _scan(
    source: str,
    package: Package,
    limits: Limits,
    progress: Progress | None,
    workers: int | None,
    lean_above: int | None,
    while_reading: Callable[[], None],
) -> ScannedPackage:
    if package.kind is PackageKind.FILE:
        lean_above = None  # the one file named (or stdin, which cannot be read twice)
    with PackageReader(package, limits) as reader:
        count = _pool_size(package, workers)
        if count > 1:
            reads = _read_shared(
                package, reader, limits, count, lean_above, progress, while_reading
            )
        else:
            reads = _read_all(package, reader, lean_above, progress)
        found = _collect(package, reads)
        jars = _read_jars(reader, package, limits, found.nested)
    from linkscope.ecosystems import with_ecosystems

    nested = [n for n in found.nested if n not in jars.read]
    return with_ecosystems(
        ScannedPackage(
            source=source,
            kind=package.kind.value,
            entries=found.entries + jars.entries,
            binaries=found.binaries + jars.binaries,
            scripts=found.scripts,
            problems=found.problems + jars.problems,
            zipped_size=package.zipped_size,
            notes=package.notes + _nested_note(package, nested),
            natives=found.natives + jars.natives,
            metadata=found.metadata,
            image=package.image,
        )
    )


def complete_binaries(
    scanned: ScannedPackage, locations: Collection[str], limits: Limits
) -> ScannedPackage:
    """The package with its lean binaries among `locations` read again in full (check does this
    for the files its findings are about, whose fix text names the toolchain that built them)."""
    wanted = {b.path for b in scanned.binaries if not b.complete and b.path in locations}
    if not wanted:
        return scanned
    package = open_package(scanned.source, limits)
    fresh: dict[str, BinaryFacts] = {}
    with PackageReader(package, limits) as reader:
        for member in package.members:
            if member.location in wanted:
                result = read_elf(reader, package, member)
                if isinstance(result, BinaryFacts):
                    fresh[member.location] = result
    binaries = tuple(
        dataclasses.replace(fresh[b.path], origin=b.origin) if b.path in fresh else b
        for b in scanned.binaries
    )
    return dataclasses.replace(scanned, binaries=binaries)


class _Read(NamedTuple):
    """What one member turned out to be (small: a worker pickles one per member)."""

    kind: EntryKind
    problem: FileProblem | None = None
    facts: BinaryFacts | ScriptFacts | NativeFile | None = None
    metadata: MetadataFile | None = None
    metadata_bytes: int = 0  # what was read for it: the package's metadata budget counts it
    metadata_failed: bool = False  # the problem is from reading it as metadata
    nested: bool = False  # a zip archive inside the package


_OTHER = _Read(EntryKind.OTHER)


class _Budget:
    """Bytes of packaging metadata read so far (a hostile package cannot make them huge)."""

    def __init__(self) -> None:
        self.spent = 0


def read_member(
    reader: PackageReader,
    package: Package,
    member: Member,
    lean_above: int | None,
    budget: _Budget,
) -> _Read:
    """One member: its first bytes tell an ELF file (then read whole), a script, native
    non-ELF code, packaging metadata (read whole) or anything else apart."""
    known = _known_kind(member)
    if isinstance(known, FileProblem):
        return _Read(EntryKind.UNREADABLE, problem=known)
    if known is not None:
        return _Read(known)
    if is_plain(package, member):  # an image's file whose first bytes its layer's pass read
        return _OTHER
    try:
        head = reader.read_head(member, HEAD_BYTES)
        read = _read_code(reader, package, member, head, lean_above)
    except InputError as exc:
        return _problem(package, member, exc)
    if read is not None:
        return read
    return _read_other(reader, package, member, head, budget)


def _read_other(
    reader: PackageReader, package: Package, member: Member, head: bytes, budget: _Budget
) -> _Read:
    """Anything but code: packaging metadata is read (within the budget), zips noted."""
    nested = head[:4] in ZIP_MAGICS and package.kind is not PackageKind.FILE
    try:
        found = _metadata(reader, member, budget)
    except InputError as exc:
        return _problem(package, member, exc)._replace(metadata_failed=True, nested=nested)
    if found is not None:
        return _Read(EntryKind.OTHER, metadata=found[0], metadata_bytes=found[1], nested=nested)
    return _Read(EntryKind.OTHER, nested=True) if nested else _OTHER


def _read_code(
    reader: PackageReader, package: Package, member: Member, head: bytes, lean_above: int | None
) -> _Read | None:
    """An ELF file, a script or native non-ELF code; None for anything else."""
    if is_elf(head):
        facts = read_elf(reader, package, member, lean_above)
        if isinstance(facts, FileProblem):
            return _Read(EntryKind.UNREADABLE, problem=facts)
        return _Read(EntryKind.ELF, facts=facts)
    if head.startswith(b"#!"):
        return _Read(EntryKind.SCRIPT, facts=parse_shebang(head, member.location, member.mode))
    native = _native(reader, member, bytes(head))
    return _Read(EntryKind.NATIVE, facts=native) if native is not None else None


def _problem(package: Package, member: Member, exc: InputError) -> _Read:
    if package.kind is PackageKind.FILE:
        raise exc  # the one file the user named: an input error, exit 2
    problem = FileProblem(path=member.location, message=_strip_location(exc, member))
    return _Read(EntryKind.UNREADABLE, problem=problem)


@dataclass(frozen=True, slots=True)
class _Found:
    entries: tuple[PackageEntry, ...]
    binaries: tuple[BinaryFacts, ...]
    scripts: tuple[ScriptFacts, ...]
    problems: tuple[FileProblem, ...]
    natives: tuple[NativeFile, ...]
    metadata: tuple[MetadataFile, ...]
    nested: list[str]  # members that are zip archives


def _collect(package: Package, reads: Sequence[_Read]) -> _Found:
    """The members' reads, in the members' order, whichever process read them. The metadata
    budget is applied here, in that order, as one process reading them all would have: a file
    read past it is dropped (and its read error with it)."""
    entries: list[PackageEntry] = []
    binaries: list[BinaryFacts] = []
    scripts: list[ScriptFacts] = []
    problems: list[FileProblem] = []
    natives: list[NativeFile] = []
    metadata: list[MetadataFile] = []
    nested: list[str] = []
    spent = 0
    for member, original in zip(package.members, reads, strict=True):
        read = original
        if (read.metadata is not None or read.metadata_failed) and spent > METADATA_TOTAL_BYTES:
            read = _Read(EntryKind.OTHER, nested=read.nested)
        if read.metadata is not None:
            metadata.append(read.metadata)
            spent += read.metadata_bytes
        if read.problem is not None:
            problems.append(read.problem)
        elif read.nested:
            nested.append(member.inner)
        facts = read.facts
        if isinstance(facts, BinaryFacts):
            binaries.append(facts)
        elif isinstance(facts, ScriptFacts):
            scripts.append(facts)
        elif isinstance(facts, NativeFile):
            natives.append(facts)
        entries.append(_entry(member, read.kind))
    return _Found(
        entries=tuple(entries),
        binaries=tuple(binaries),
        scripts=tuple(scripts),
        problems=tuple(problems),
        natives=tuple(natives),
        metadata=tuple(metadata),
        nested=nested,
    )


def _entry(member: Member, kind: EntryKind) -> PackageEntry:
    return PackageEntry(
        inner=member.inner,
        location=member.location,
        kind=kind,
        size=member.size,
        mode=member.mode,
        symlink_target=member.symlink_target,
    )


def _native(reader: PackageReader, member: Member, head: bytes) -> NativeFile | None:
    offset = pe_header_offset(head)
    if offset is not None and len(head) < offset + 24 <= HEAD_NEEDED:
        head = reader.read_head(member, HEAD_NEEDED)
    kind = native_kind(head)
    return None if kind is None else _native_file(kind, member.location, member.inner, member.size)


def _native_file(kind: NativeKind, location: str, inner: str, size: int) -> NativeFile:
    return NativeFile(
        path=location,
        inner=inner,
        format=kind.format,
        os=kind.os,
        machines=kind.machines,
        file_type=kind.file_type,
        size=size,
    )


METADATA_FILE_BYTES = 4 << 20  # a RECORD of a large distribution is a few hundred KiB
METADATA_TOTAL_BYTES = 64 << 20


def _metadata(
    reader: PackageReader, member: Member, budget: _Budget
) -> tuple[MetadataFile, int] | None:
    from linkscope.ecosystems import wants_metadata

    if not wants_metadata(member.inner) or budget.spent > METADATA_TOTAL_BYTES:
        return None
    data = reader.read_head(member, METADATA_FILE_BYTES + 1)
    budget.spent += len(data)
    found = MetadataFile(
        inner=member.inner,
        location=member.location,
        text=data[:METADATA_FILE_BYTES].decode("utf-8", "replace"),
        truncated=len(data) > METADATA_FILE_BYTES,
    )
    return found, len(data)


def _known_kind(member: Member) -> EntryKind | FileProblem | None:
    """What a member is without reading it: already a problem (a folder that cannot be listed
    too: its files would otherwise vanish from the report), a folder, or a symlink."""
    if member.problem is not None:
        return FileProblem(path=member.location, message=member.problem)
    if member.is_dir:
        return EntryKind.DIRECTORY
    if member.symlink_target is not None:
        return EntryKind.SYMLINK
    return None


def _nested_note(package: Package, nested: list[str]) -> tuple[str, ...]:
    if not nested:
        return ()
    shown = ", ".join(nested[:5]) + (f" and {len(nested) - 5} more" if len(nested) > 5 else "")
    return (
        f"{package.source}: {len(nested)} member(s) are zip archives ({shown}); linkscope "
        "does not look inside them, and Lambda does not extract them either",
    )


# ---------------------------------------------------------------- jars inside the package


@dataclass(frozen=True, slots=True)
class JarContents:
    entries: tuple[PackageEntry, ...] = ()
    binaries: tuple[BinaryFacts, ...] = ()
    natives: tuple[NativeFile, ...] = ()  # Mach-O and PE libraries in the jars
    problems: tuple[FileProblem, ...] = ()
    read: frozenset[str] = frozenset()  # the jars opened


def _read_jars(
    reader: PackageReader, package: Package, limits: Limits, archives: list[str]
) -> JarContents:
    """The JNI libraries inside the package's jars (read in memory, never extracted): ELF ones
    become binaries at `outer!lib/x.jar!path`, Mach-O and PE ones native files."""
    if not archives:
        return JarContents()  # the usual case: no zipfile or JVM module to import at start
    from linkscope.ecosystems.jvm import is_jni_library
    from linkscope.inputs.nested import is_nested_archive, read_nested

    members = {m.inner: m for m in package.members}
    entries: list[PackageEntry] = []
    binaries: list[BinaryFacts] = []
    natives: list[NativeFile] = []
    problems: list[FileProblem] = []
    opened: set[str] = set()
    for inner in archives:
        member = members.get(inner)
        if member is None or not is_nested_archive(inner):
            continue
        try:
            buffer = reader.read(member)
            data = buffer[0 : len(buffer)]  # bytes, also from a folder's memory map
            if isinstance(buffer, mmap.mmap):
                buffer.close()
        except InputError as exc:
            problems.append(FileProblem(path=member.location, message=_strip_location(exc, member)))
            continue
        opened.add(inner)
        found = read_nested(member.location, inner, data, limits, is_jni_library)
        problems += [FileProblem(path=p.location, message=p.message) for p in found.problems]
        for item in found.members:
            kind = EntryKind.ELF if is_elf(item.data[:4]) else EntryKind.OTHER
            native = native_kind(item.data[:HEAD_NEEDED]) if kind is EntryKind.OTHER else None
            if native is not None:
                kind = EntryKind.NATIVE
                natives.append(_native_file(native, item.location, item.inner, item.size))
            if kind is EntryKind.ELF:
                result = _nested_facts(item.data, item.location)
                if isinstance(result, FileProblem):
                    problems.append(result)
                    kind = EntryKind.UNREADABLE
                else:
                    binaries.append(result)
            entries.append(
                PackageEntry(inner=item.inner, location=item.location, kind=kind, size=item.size)
            )
    return JarContents(
        entries=tuple(entries),
        binaries=tuple(binaries),
        natives=tuple(natives),
        problems=tuple(problems),
        read=frozenset(opened),
    )


def _nested_facts(data: bytes, location: str) -> BinaryFacts | FileProblem:
    try:
        return facts_from_bytes(data, location, 0o644)  # the JVM writes it out 0644 to load it
    except InputError as exc:
        text = str(exc)
        return FileProblem(path=location, message=text.removeprefix(f"{location}: "))


# ---------------------------------------------------------------- reading ELF files


def read_elf(
    reader: PackageReader, package: Package, member: Member, lean_above: int | None = None
) -> BinaryFacts | FileProblem:
    early = early_facts(package, member, lean_above)  # read as its image layer streamed by
    if early is not None:
        return early
    try:
        data = reader.open_member(member)
        try:
            return facts_from_bytes(data, member.location, member.mode, lean_above=lean_above)
        finally:
            if isinstance(data, mmap.mmap):
                data.close()
    except InputError as exc:
        if package.kind is PackageKind.FILE:
            raise
        return FileProblem(path=member.location, message=_strip_location(exc, member))


def _read_all(
    package: Package, reader: PackageReader, lean_above: int | None, progress: Progress | None
) -> list[_Read]:
    budget = _Budget()
    total = len(package.members)
    reads = []
    for member in package.members:
        reads.append(read_member(reader, package, member, lean_above, budget))
        if progress is not None:
            progress(len(reads), total)
    return reads


# ---------------------------------------------------------------- reading on every core

# A worker costs about 1.5 ms (fork, wait) plus ~30 us per result it pickles, and a member
# 10-500 us to read: below both of these, a pool costs about what it saves, or more.
PARALLEL_MIN_MEMBERS = 128
PARALLEL_MIN_BYTES = 16 << 20
MEMBERS_PER_PROCESS = 64
CHUNK_BYTES = 8 << 20  # a chunk of members holds at most this much (or one bigger member)
CHUNK_COST_PER_MEMBER = 32 << 10  # for ordering chunks: a member costs as much as 32 KiB


def _pool_size(package: Package, workers: int | None) -> int:
    """How many processes read the package: 1 (no pool) for small packages, for one file, and
    for an image (its layers are inflated by one reader, in order: workers would each inflate
    them)."""
    if package.kind not in (PackageKind.ZIP, PackageKind.FOLDER) or workers == 1:
        return 1
    from linkscope import pool

    count = workers if workers is not None else pool.usable_cpus()
    if count < 2:
        return 1

    members = package.members
    if len(members) < 2:
        return 1
    if len(members) < PARALLEL_MIN_MEMBERS and _bytes(members) < PARALLEL_MIN_BYTES:
        return 1
    # at least MEMBERS_PER_PROCESS members each: a 64-core machine forks 2 workers for 200 files
    count = min(count, max(2, len(members) // MEMBERS_PER_PROCESS))
    return count if pool.can_fork() else 1


def _bytes(members: Sequence[Member]) -> int:
    return sum(m.size for m in members if m.size > 0)


def chunk_members(members: Sequence[Member], processes: int) -> list[range]:
    """Runs of neighbouring members, small enough that the processes finish together: at least
    16 per process, and no more bytes than CHUNK_BYTES in one (a big member goes alone)."""
    from linkscope.pool import MAX_CHUNKS

    most = max(1, min(64, len(members) // (16 * processes)))
    most = max(most, -(-len(members) // (MAX_CHUNKS // 2)))
    budget = max(CHUNK_BYTES, _bytes(members) // (MAX_CHUNKS // 2))
    chunks: list[range] = []
    start, size = 0, 0
    for index, member in enumerate(members):
        grown = size + max(member.size, 0)
        if index > start and (index - start >= most or grown > budget):
            chunks.append(range(start, index))
            start, grown = index, max(member.size, 0)
        size = grown
    if start < len(members):
        chunks.append(range(start, len(members)))
    return chunks


def _read_shared(
    package: Package,
    reader: PackageReader,
    limits: Limits,
    count: int,
    lean_above: int | None,
    progress: Progress | None,
    while_reading: Callable[[], None] = lambda: None,
) -> list[_Read]:
    """`count` readers, this process and count - 1 forked workers, take chunks of members (the
    costliest first) until none is left; each classifies and reads its own chunks, and the
    reads go back to the members' order. `while_reading` runs here once the workers have
    started (opening the next source)."""
    from linkscope.pool import SharedRun

    members = package.members
    _warm(members, lean_above)
    chunks = chunk_members(members, count)
    cost = [len(c) * CHUNK_COST_PER_MEMBER + _bytes(members[c.start : c.stop]) for c in chunks]
    order = sorted(range(len(chunks)), key=lambda n: -cost[n])
    reads: list[_Read | None] = [None] * len(members)
    done = [0]

    def collect(chunk: int, results: list[_Read]) -> None:
        reads[chunks[chunk].start : chunks[chunk].stop] = results
        _tick(progress, done, len(results), len(members))

    def child_setup() -> Callable[[int], list[_Read]]:
        own = PackageReader(package, limits).__enter__()  # closed when the worker exits

        def run(chunk: int) -> list[_Read]:
            budget = _Budget()  # per chunk: the package's budget is applied by _collect
            return [
                read_member(own, package, members[i], lean_above, budget) for i in chunks[chunk]
            ]

        return run

    with SharedRun(order, workers=count - 1, child_setup=child_setup, done=collect) as shared:
        while_reading()
        for chunk in shared.claims():
            budget = _Budget()
            for index in chunks[chunk]:
                read = read_member(reader, package, members[index], lean_above, budget)
                reads[index] = read
                if read.kind is EntryKind.ELF:  # after a long read: the workers' results
                    shared.drain()
            shared.drain()
            _tick(progress, done, len(chunks[chunk]), len(members))
        shared.finish()
    return [read for read in reads if read is not None]


def _warm(members: Sequence[Member], lean_above: int | None) -> None:
    """Import before forking what reading the members imports on first use (the ecosystems
    whose files are there, the lean reader), so that the workers inherit it instead of each
    importing it again."""
    from linkscope.ecosystems import wants_metadata

    for member in members[:: max(1, len(members) // 64)]:
        wants_metadata(member.inner)
    if lean_above is not None:
        import linkscope.elf.lean  # noqa: F401


def _tick(progress: Progress | None, done: list[int], more: int, total: int) -> None:
    done[0] += more
    if progress is not None:
        progress(done[0], total)


# ---------------------------------------------------------------- helpers


def terminal_progress(stream: TextIO | None = None, interval: float = 0.1) -> Progress | None:
    """A progress callback writing `\\r[123/456] scanning...` to stderr, or None when stderr is
    not a terminal (a pipe or a file never gets progress lines)."""
    out = stream if stream is not None else sys.stderr
    if not out.isatty():
        return None
    last = [0.0]

    def show(done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - last[0] < interval:
            return
        last[0] = now
        end = "\r" + " " * 40 + "\r" if done >= total else ""
        out.write(f"\r[{done}/{total}] scanning...{end}")
        out.flush()

    return show


def _strip_location(exc: Exception, member: Member) -> str:
    text = str(exc)
    prefix = f"{member.location}: "
    return text[len(prefix) :] if text.startswith(prefix) else text


def parse_shebang(head: bytes, path: str, mode: int | None) -> ScriptFacts:
    line = head[2:].split(b"\n", 1)[0]
    crlf = line.endswith(b"\r")
    words = line.rstrip(b"\r").decode("utf-8", "replace").strip().split(None, 1)
    interpreter = words[0] if words else ""
    argument = words[1].strip() if len(words) > 1 else None
    return ScriptFacts(path=path, interpreter=interpreter, argument=argument, crlf=crlf, mode=mode)
