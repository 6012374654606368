"""Zip archives (function packages and layers), read as streams, never extracted: each member
keeps its location, Unix mode bits (none for a zip made on Windows), size and symlink target;
damaged, encrypted, unsafe or bomb-like members become problems, not crashes."""

from __future__ import annotations

import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import replace

from linkscope.elf.image import Buffer
from linkscope.errors import LimitExceededError, UnreadableError, UnsupportedArchiveError
from linkscope.inputs.model import MAX_LINK_BYTES, Limits, Member, Package, PackageKind, link_notes
from linkscope.inputs.zipstream import INFLATE_ERRORS, MemberView, Stream, raw_stream_opener

WHOLE_BELOW = 1 << 20  # members up to this size are read into memory whole: it is faster
LOCAL_READ = 4 << 10  # compressed bytes read with a member's local header
HEAD_LIMIT = 64 << 10  # reads up to this size are a member's head (zlib, not ISA-L)

# What Python's zipfile and its decompressors raise on damaged or unsupported archives: a hostile
# zip is input, so each becomes a clear input error, never a crash (exit 3).
ZIP_ERRORS: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    ValueError,
    EOFError,
    RuntimeError,
    NotImplementedError,
    *INFLATE_ERRORS,  # zlib's and ISA-L's
    LookupError,
    UnicodeError,
    *((zipfile.lzma.LZMAError,) if getattr(zipfile, "lzma", None) else ()),  # type: ignore[attr-defined]
)


ZIP_OR_OS_ERRORS: tuple[type[Exception], ...] = (*ZIP_ERRORS, OSError)


def read_zip_package(path: str, size: int, limits: Limits) -> Package:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            _remember(path, archive.fp, infos)
            _check_totals(path, infos, limits)
            members = [_zip_member(path, index, info, limits) for index, info in enumerate(infos)]
            members = [_with_link_target(archive, infos, m) for m in members]
    except OSError as exc:
        raise UnreadableError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except ZIP_ERRORS as exc:
        raise UnsupportedArchiveError(f"{path}: not a readable zip archive: {exc}") from None
    notes = _duplicate_notes(path, members) + link_notes(members)
    return Package(
        source=path,
        kind=PackageKind.ZIP,
        members=tuple(members),
        zipped_size=size,
        notes=tuple(notes),
    )


def _check_totals(path: str, infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    if len(infos) > limits.max_members:
        raise LimitExceededError(
            f"{path}: {len(infos)} members is more than {limits.max_members} "
            "(raise it with --limit files=N)"
        )
    declared = sum(info.file_size for info in infos)
    if declared > limits.max_total_bytes:
        raise LimitExceededError(
            f"{path}: declares {declared} bytes uncompressed, more than the limit of "
            f"{limits.max_total_bytes} (a zip bomb, or raise it with --limit total-size=SIZE)"
        )


def _duplicate_notes(path: str, members: list[Member]) -> list[str]:
    counts: dict[str, int] = {}
    for member in members:
        if not member.is_dir:
            counts[member.inner] = counts.get(member.inner, 0) + 1
    return [
        f"{path}: '{inner}' appears {count} times; Lambda keeps one copy (linkscope checks "
        "the last, which unzip leaves in place)"
        for inner, count in counts.items()
        if count > 1
    ]


def _zip_member(path: str, index: int, info: zipfile.ZipInfo, limits: Limits) -> Member:
    name = info.filename
    inner = name.lstrip("/").rstrip("/")
    location = f"{path}!{inner}"
    # Only a zip made on Unix (create_system 3) carries st_mode in the high 16 bits of
    # external_attr; a zip made on Windows (create_system 0) has none, and some Unix tools write 0.
    unix = info.create_system == 3 and (info.external_attr >> 16) != 0
    file_mode = info.external_attr >> 16 if unix else 0
    mode = stat.S_IMODE(file_mode) if unix else None
    is_dir = name.endswith("/") or stat.S_ISDIR(file_mode)
    problem = _zip_member_problem(name, info, limits)
    target = None
    if unix and stat.S_ISLNK(file_mode) and problem is None:
        target = ""  # filled in by _with_link_target: the target is the member's data
    return Member(
        location=location,
        inner=inner,
        size=info.file_size,
        mode=mode,
        symlink_target=target,
        is_dir=is_dir,
        problem=problem,
        index=index,
    )


def _with_link_target(
    archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], member: Member
) -> Member:
    """A zip symlink stores its target as the member's data: read it, at most 4 KiB."""
    if member.symlink_target != "" or member.index is None:
        return member
    info = infos[member.index]
    problem = None
    try:
        with archive.open(info) as stream:
            data = stream.read(MAX_LINK_BYTES + 1)
    except ZIP_OR_OS_ERRORS as exc:
        problem, data = f"cannot read symlink target: {exc}", b""
    if problem is None and len(data) > MAX_LINK_BYTES:
        problem = f"symlink target longer than {MAX_LINK_BYTES} bytes"
    elif problem is None and (not data or b"\0" in data):
        problem = "symlink with an empty or malformed target"
    if problem is not None:
        return replace(member, symlink_target=None, problem=problem)
    return replace(member, symlink_target=data.decode("utf-8", "replace"))


def _zip_member_problem(name: str, info: zipfile.ZipInfo, limits: Limits) -> str | None:
    climbs = ".." in name and ".." in name.replace("\\", "/").split("/")  # most names: no split
    if name.startswith(("/", "\\")) or climbs or (len(name) > 1 and name[1] == ":"):
        return "unsafe path (absolute or with '..'): Lambda would not place it inside /var/task"
    if info.flag_bits & 0x1:
        return "encrypted member: Lambda cannot read it"
    return member_size_problem(info, limits)


def member_size_problem(info: zipfile.ZipInfo, limits: Limits) -> str | None:
    """Over the per-file limit, or compressed like a bomb (for zips and the jars inside them)."""
    if info.file_size > limits.max_member_bytes:
        return (
            f"{info.file_size} bytes uncompressed, over the per-file limit of "
            f"{limits.max_member_bytes} (raise it with --limit file-size=SIZE)"
        )
    if info.file_size > 1 << 20 and info.file_size > limits.max_ratio * max(info.compress_size, 1):
        return (
            f"compression ratio {info.file_size // max(info.compress_size, 1)}:1 "
            f"looks like a zip bomb (the limit is {limits.max_ratio}:1; raise it with "
            "--limit ratio=N)"
        )
    return None


class ZipMemberReader:
    """One open zip, its members read by central-directory index: a member's first bytes, or
    the member as a bounded random-access view (zipstream.MemberView), never whole unless small."""

    def __init__(self, path: str, limits: Limits) -> None:
        self.path, self.limits = path, limits
        self._zipfile: zipfile.ZipFile | None = None  # only for the rarer compression methods
        try:
            self._fd = os.open(path, os.O_RDONLY)
            infos = _INFOS.get(_identity(path, self._fd))
            if infos is None:
                infos = self._archive().infolist()
        except ZIP_OR_OS_ERRORS as exc:
            raise UnsupportedArchiveError(f"{path}: {exc}") from None
        self._infos = infos

    def _archive(self) -> zipfile.ZipFile:
        if self._zipfile is None:
            self._zipfile = zipfile.ZipFile(self.path)
        return self._zipfile

    def close(self) -> None:
        if self._zipfile is not None:
            self._zipfile.close()
        os.close(self._fd)

    def read(self, member: Member, limit: int | None) -> bytes:
        """The member's first `limit` bytes, or all of it (bounded by the per-file limit)."""
        info = self._info(member)
        cap = min(info.file_size, self.limits.max_member_bytes)
        want = cap + 1 if limit is None else min(limit, cap + 1)
        if limit is not None and limit <= HEAD_LIMIT:
            head = self._quick_head(member, info, want)
            if head is not None:
                return head
        stream = self._stream(member, info, bulk=limit is None or limit > HEAD_LIMIT)()
        parts, got = [], 0
        while got < want:  # a stream returns what one step inflates: ask until it is done
            part = stream.read(want - got)
            if not part:
                break
            parts.append(part)
            got += len(part)
        data = b"".join(parts)
        if limit is None and len(data) > cap:
            raise LimitExceededError(f"{member.location}: member is larger than it declares")
        return data

    def _quick_head(self, member: Member, info: zipfile.ZipInfo, want: int) -> bytes | None:
        """A member's first bytes from the one read of its local header, when they are in it
        (the first pass asks this of every member: no stream objects for a 512-byte head)."""
        if info.flag_bits & 0x1 or info.compress_type not in (
            zipfile.ZIP_STORED,
            zipfile.ZIP_DEFLATED,
        ):
            return None
        try:
            _start, first = self._local_header(info)
            if info.compress_type == zipfile.ZIP_STORED:
                complete = len(first) >= want or len(first) == info.compress_size
                return first[:want] if complete else None
            inflater = zlib.decompressobj(-15)
            data = inflater.decompress(first, want)
        except ZIP_OR_OS_ERRORS as exc:
            raise UnsupportedArchiveError(f"{member.location}: cannot read member: {exc}") from None
        complete = len(data) >= want or inflater.eof or len(first) == info.compress_size
        return data if complete else None

    def open(self, member: Member) -> Buffer:
        """The whole member as a buffer: bytes when small, else a view that inflates only as
        far as it is read and keeps a bounded window in memory."""
        info = self._info(member)
        if info.file_size <= WHOLE_BELOW:
            return self.read(member, None)
        return MemberView(self._stream(member, info), info.file_size, member.location)

    def _info(self, member: Member) -> zipfile.ZipInfo:
        index = member.index
        infos = self._infos
        if index is None or index >= len(infos) or infos[index].filename.strip("/") != member.inner:
            raise UnsupportedArchiveError(f"{member.location}: member vanished (the zip changed)")
        return infos[index]

    def _stream(
        self, member: Member, info: zipfile.ZipInfo, *, bulk: bool = True
    ) -> Callable[[], Stream]:
        """How to open the member's bytes: read straight from the file for stored and deflated
        members (no zipfile layers, no CRC pass), through zipfile for the rarer methods."""
        try:
            start, first = self._local_header(info)
        except ZIP_OR_OS_ERRORS as exc:
            raise UnsupportedArchiveError(f"{member.location}: cannot read member: {exc}") from None
        direct = raw_stream_opener(
            self._fd, start, info.compress_size, info.compress_type, bulk=bulk, first=first
        )
        if direct is not None and not info.flag_bits & 0x1:
            return _guarded(direct, member.location)
        return _guarded(lambda: self._archive().open(info), member.location)

    def _local_header(self, info: zipfile.ZipInfo) -> tuple[int, bytes]:
        """Where the member's data starts, and its first compressed bytes: one read for the
        local header and the start of the data (most members are small)."""
        offset = int(info.header_offset)
        block = os.pread(self._fd, 30 + len(info.orig_filename) * 4 + LOCAL_READ, offset)
        if len(block) < 30 or block[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile("bad magic number for file header")
        name_length, extra_length = struct.unpack_from("<HH", block, 26)
        raw_name = block[30 : 30 + name_length]
        if len(raw_name) < name_length:
            raw_name = os.pread(self._fd, name_length, offset + 30)
        name = raw_name.decode("utf-8" if info.flag_bits & 0x800 else "cp437")
        if name != info.orig_filename:
            raise zipfile.BadZipFile(
                f"File name in directory {info.orig_filename!r} and header {raw_name!r} differ."
            )
        start = offset + 30 + int(name_length) + int(extra_length)
        return start, block[start - offset : start - offset + int(info.compress_size)]


# The central directory of the zip being scanned, parsed once: the reader that then reads its
# members (and the pool's workers, forked after it) find it here instead of parsing it again.
_INFOS: dict[tuple[str, int, int, int], list[zipfile.ZipInfo]] = {}


def _identity(path: str, fd: int) -> tuple[str, int, int, int]:
    info = os.fstat(fd)
    return (path, info.st_ino, info.st_size, info.st_mtime_ns)


def _remember(path: str, handle: object, infos: list[zipfile.ZipInfo]) -> None:
    fileno = getattr(handle, "fileno", None)
    if fileno is None:
        return
    _INFOS.clear()  # one archive at a time: a run over many zips keeps no old directories
    _INFOS[_identity(path, fileno())] = infos


def _guarded(opener: Callable[[], Stream], location: str) -> Callable[[], Stream]:
    """Errors of damaged data become input errors, whether raised on opening or reading."""

    def open_stream() -> Stream:
        try:
            return _GuardedStream(opener(), location)
        except ZIP_OR_OS_ERRORS as exc:
            raise UnsupportedArchiveError(f"{location}: cannot read member: {exc}") from None

    return open_stream


class _GuardedStream:
    def __init__(self, stream: Stream, location: str) -> None:
        self.stream, self.location = stream, location

    def read(self, size: int, /) -> bytes:
        try:
            return self.stream.read(size)
        except ZIP_OR_OS_ERRORS as exc:
            raise UnsupportedArchiveError(f"{self.location}: cannot read member: {exc}") from None
