"""Read every member of a package: ELF files become BinaryFacts, `#!` files ScriptFacts, and
files that cannot be read become FileProblems (a scan never stops at one bad file).

Two passes: the first reads the first bytes of every member to sort ELF files from the rest;
the second reads the ELF files, in a process pool when there are many of them (each worker
opens the package itself and reads the members it is given by name; nothing is extracted).
"""

from __future__ import annotations

import dataclasses
import mmap
import os
import sys
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    import multiprocessing.context
    from concurrent.futures import Future

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
from linkscope.inputs.native import HEAD_NEEDED, native_kind, pe_header_offset
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
PARALLEL_MIN_ELVES = 64  # below this, starting a pool (~50 ms) costs more than it saves
SINGLE_TASKS_UP_TO = 512  # ELF files sent to workers one at a time up to this many

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
    package = open_package(source, limits, arch=arch)
    if package.kind is PackageKind.FILE:
        lean_above = None  # the one file named (or stdin, which cannot be read twice)
    total = len(package.members)
    kinds: list[EntryKind] = []
    scripts: list[ScriptFacts] = []
    problems: dict[int, FileProblem] = {}
    elves: list[int] = []
    nested: list[str] = []
    found = _Found()
    with PackageReader(package, limits) as reader:
        for index, member in enumerate(package.members):
            kind = _classify(reader, package, member, scripts, nested, found)
            if isinstance(kind, FileProblem):
                problems[index] = kind
                kind = EntryKind.UNREADABLE
            elif kind is EntryKind.ELF:
                elves.append(index)
            kinds.append(kind)
            if progress is not None and kind is not EntryKind.ELF:
                progress(index + 1 - len(elves), total)
        jars = _read_jars(reader, package, limits, nested)
        done = total - len(elves)
        results = _read_elves(
            package,
            [package.members[i] for i in elves],
            reader,
            limits,
            workers=workers,
            tick=_counter(progress, done, total),
            lean_above=lean_above,
        )
    binaries: list[BinaryFacts] = []
    for index, result in zip(elves, results, strict=True):
        if isinstance(result, BinaryFacts):
            binaries.append(result)
        else:
            problems[index] = result
            kinds[index] = EntryKind.UNREADABLE
    from linkscope.ecosystems import with_ecosystems

    entries = tuple(_entry(m, k) for m, k in zip(package.members, kinds, strict=True))
    return with_ecosystems(
        ScannedPackage(
            source=source,
            kind=package.kind.value,
            entries=entries + jars.entries,
            binaries=tuple(binaries) + jars.binaries,
            scripts=tuple(scripts),
            problems=tuple(problems[i] for i in sorted(problems)) + jars.problems,
            zipped_size=package.zipped_size,
            notes=package.notes + _nested_note(package, [n for n in nested if n not in jars.read]),
            natives=tuple(found.natives) + jars.natives,
            metadata=tuple(found.metadata),
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


class _Found:
    """What the first pass collects besides ELF files: native non-ELF code and the packaging
    metadata the ecosystem stage reads (bounded: a hostile package cannot make it huge)."""

    def __init__(self) -> None:
        self.natives: list[NativeFile] = []
        self.metadata: list[MetadataFile] = []
        self.metadata_bytes = 0


def _entry(member: Member, kind: EntryKind) -> PackageEntry:
    return PackageEntry(
        inner=member.inner,
        location=member.location,
        kind=kind,
        size=member.size,
        mode=member.mode,
        symlink_target=member.symlink_target,
    )


def _counter(progress: Progress | None, start: int, total: int) -> Progress | None:
    if progress is None:
        return None
    state = [start]

    def tick(_done: int, _total: int) -> None:
        state[0] += 1
        progress(state[0], total)

    return tick


def _classify(
    reader: PackageReader,
    package: Package,
    member: Member,
    scripts: list[ScriptFacts],
    nested: list[str],
    found: _Found,
) -> EntryKind | FileProblem:
    known = _known_kind(member)
    if known is not None:
        return known
    try:
        head = reader.read_head(member, HEAD_BYTES)
        if is_elf(head):
            return EntryKind.ELF
        if head.startswith(b"#!"):
            scripts.append(parse_shebang(head, member.location, member.mode))
            return EntryKind.SCRIPT
        if _native(reader, member, bytes(head), found):
            return EntryKind.NATIVE
        _metadata(reader, member, found)
    except InputError as exc:
        if package.kind is PackageKind.FILE:
            raise  # the one file the user named: an input error, exit 2
        return FileProblem(path=member.location, message=_strip_location(exc, member))
    if head[:4] in ZIP_MAGICS and package.kind is not PackageKind.FILE:
        nested.append(member.inner)
    return EntryKind.OTHER


def _native(reader: PackageReader, member: Member, head: bytes, found: _Found) -> bool:
    offset = pe_header_offset(head)
    if offset is not None and len(head) < offset + 24 <= HEAD_NEEDED:
        head = reader.read_head(member, HEAD_NEEDED)
    kind = native_kind(head)
    if kind is None:
        return False
    found.natives.append(
        NativeFile(
            path=member.location,
            inner=member.inner,
            format=kind.format,
            os=kind.os,
            machines=kind.machines,
            file_type=kind.file_type,
            size=member.size,
        )
    )
    return True


METADATA_FILE_BYTES = 4 << 20  # a RECORD of a large distribution is a few hundred KiB
METADATA_TOTAL_BYTES = 64 << 20


def _metadata(reader: PackageReader, member: Member, found: _Found) -> None:
    from linkscope.ecosystems import wants_metadata

    if not wants_metadata(member.inner) or found.metadata_bytes > METADATA_TOTAL_BYTES:
        return
    data = reader.read_head(member, METADATA_FILE_BYTES + 1)
    found.metadata_bytes += len(data)
    found.metadata.append(
        MetadataFile(
            inner=member.inner,
            location=member.location,
            text=data[:METADATA_FILE_BYTES].decode("utf-8", "replace"),
            truncated=len(data) > METADATA_FILE_BYTES,
        )
    )


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
                natives.append(
                    NativeFile(
                        path=item.location,
                        inner=item.inner,
                        format=native.format,
                        os=native.os,
                        machines=native.machines,
                        file_type=native.file_type,
                        size=item.size,
                    )
                )
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


def _read_elves(
    package: Package,
    members: Sequence[Member],
    reader: PackageReader,
    limits: Limits,
    *,
    workers: int | None,
    tick: Progress | None,
    lean_above: int | None = None,
) -> list[BinaryFacts | FileProblem]:
    count = workers if workers is not None else (os.cpu_count() or 1)
    count = min(count, len(members))
    # An image's layers are inflated by one reader, in order: workers would each inflate them.
    pooled = package.kind not in (PackageKind.FILE, PackageKind.IMAGE)
    if count > 1 and len(members) > PARALLEL_MIN_ELVES and pooled:
        return _read_parallel(package, members, limits, count, tick, lean_above, reader=reader)
    results = []
    for member in members:
        results.append(read_elf(reader, package, member, lean_above))
        if tick is not None:
            tick(0, 0)
    return results


def read_elf(
    reader: PackageReader, package: Package, member: Member, lean_above: int | None = None
) -> BinaryFacts | FileProblem:
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


def _pool_context() -> multiprocessing.context.BaseContext:
    import multiprocessing  # only when a pool is started: it costs ~10 ms to import

    # fork starts in milliseconds and writes nothing (forkserver binds a socket file in /tmp);
    # the scan runs before any thread exists.
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def _read_parallel(
    package: Package,
    members: Sequence[Member],
    limits: Limits,
    count: int,
    tick: Progress | None,
    lean_above: int | None,
    *,
    reader: PackageReader,
) -> list[BinaryFacts | FileProblem]:
    """`count` readers: this process and count - 1 workers. Workers take the largest files
    first and this process the smallest, so both ends meet with no core left idle and no file
    pickled that this process read itself; results go back to the members' order."""
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    order = deque(sorted(range(len(members)), key=lambda i: -members[i].size))
    chunk = 1 if len(members) <= SINGLE_TASKS_UP_TO else min(16, len(members) // (count * 8))
    results: dict[int, BinaryFacts | FileProblem] = {}
    lite = Package(source=package.source, kind=package.kind, members=())

    def done(index: int, result: BinaryFacts | FileProblem) -> None:
        results[index] = result
        if tick is not None:
            tick(0, 0)

    with ProcessPoolExecutor(
        max_workers=count - 1,
        mp_context=_pool_context(),
        initializer=_worker_open,
        initargs=(lite, limits, lean_above),
    ) as pool:
        running: list[tuple[list[int], Future[list[BinaryFacts | FileProblem]]]] = []
        while order or running:
            while order and len(running) < 2 * (count - 1):
                batch = [order.popleft() for _ in range(min(chunk, len(order)))]
                running.append((batch, pool.submit(_worker_batch, [members[i] for i in batch])))
            for batch, future in [r for r in running if r[1].done()] or (
                [] if order else running[:1]
            ):
                for index, result in zip(batch, future.result(), strict=True):
                    done(index, result)
                running.remove((batch, future))
            if order:
                index = order.pop()  # the smallest left: this process reads it
                done(index, read_elf(reader, package, members[index], lean_above))
    return [results[i] for i in range(len(members))]


_WORKER: dict[str, tuple[PackageReader, Package, int | None]] = {}  # one per worker process


def _worker_open(package: Package, limits: Limits, lean_above: int | None) -> None:
    reader = PackageReader(package, limits)
    reader.__enter__()  # kept open for the worker's life; closed when the process exits
    _WORKER["open"] = (reader, package, lean_above)


def _worker_batch(members: list[Member]) -> list[BinaryFacts | FileProblem]:
    reader, package, lean_above = _WORKER["open"]
    return [read_elf(reader, package, member, lean_above) for member in members]


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
