"""Turn what the user named into packages of members: a file, a folder, a zip, or stdin.

Nothing is extracted to disk. Zip members are read into memory one at a time, within limits that
stop zip bombs; folder files are memory-mapped. Each member keeps its location
(`function.zip!lib/libfoo.so`), its path inside the package, its Unix mode bits when known, its
size, and whether it is a symlink.
"""

from __future__ import annotations

import mmap
import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from linkscope.elf.image import Buffer
from linkscope.errors import (
    InputError,
    LimitExceededError,
    NotFoundError,
    UnreadableError,
    UnsupportedArchiveError,
)

if TYPE_CHECKING:
    import zipfile

STDIN = "-"
MAX_LINK_BYTES = 4096  # a symlink member's data is its target; PATH_MAX is 4096 on Linux
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Bounds on what one run will read, so that hostile input cannot exhaust memory. Users can
    raise them with `--limit KEY=VALUE` (file-size, total-size, ratio, files)."""

    max_member_bytes: int = 1 << 30  # one file inside a zip (Lambda allows 250 MB unzipped)
    max_total_bytes: int = 4 << 30  # all members of one archive, uncompressed
    max_ratio: int = 200  # uncompressed / compressed, per member above 1 MiB
    max_members: int = 100_000
    max_stdin_bytes: int = 1 << 30


class PackageKind(str, Enum):
    FILE = "file"
    FOLDER = "folder"
    ZIP = "zip"


@dataclass(frozen=True, slots=True, kw_only=True)
class Member:
    location: str  # what reports show: "bootstrap", "dist/bootstrap", "fn.zip!lib/libfoo.so"
    inner: str  # path inside the package, "/"-separated, no leading "/"
    size: int
    mode: int | None = None  # permission bits (None: unknown, e.g. a zip made on Windows)
    symlink_target: str | None = None
    is_dir: bool = False
    problem: str | None = None  # why it cannot be read (unreadable, encrypted, too large...)
    index: int | None = None  # position in the zip's central directory (duplicate names differ)


@dataclass(frozen=True, slots=True, kw_only=True)
class Package:
    source: str  # what the user typed
    kind: PackageKind
    members: tuple[Member, ...]
    zipped_size: int | None = None  # size of the zip file itself
    notes: tuple[str, ...] = field(default=())  # archive-level warnings (duplicates, ...)


def open_package(source: str, limits: Limits) -> Package:
    if source == STDIN:
        return Package(
            source=source,
            kind=PackageKind.FILE,
            members=(Member(location="<stdin>", inner="<stdin>", size=-1),),
        )
    try:
        info = os.stat(source)
    except FileNotFoundError:
        raise NotFoundError(f"{source}: no such file or directory") from None
    except OSError as exc:
        raise UnreadableError(f"{source}: cannot read: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        return _folder(source, limits)
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{source}: not a regular file, folder or zip (a device, FIFO or socket)")
    if not os.access(source, os.R_OK):
        raise UnreadableError(f"{source}: permission denied")
    if _looks_like_zip(source):
        from linkscope.zipinputs import read_zip_package  # zipfile only when a zip is read

        return read_zip_package(source, info.st_size, limits)
    if source.lower().endswith(".zip"):
        raise UnsupportedArchiveError(
            f"{source}: named .zip but is not a zip archive (it does not start with 'PK')"
        )
    name = os.path.basename(source)
    return Package(
        source=source,
        kind=PackageKind.FILE,
        members=(
            Member(location=source, inner=name, size=info.st_size, mode=stat.S_IMODE(info.st_mode)),
        ),
    )


def _looks_like_zip(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
    except OSError as exc:
        raise UnreadableError(f"{path}: cannot read: {exc.strerror}") from None
    return head in ZIP_MAGICS


# ---------------------------------------------------------------- folders


def _folder(root: str, limits: Limits) -> Package:
    members = []
    for member in _walk(root, root):
        members.append(member)
        if len(members) > limits.max_members:
            raise LimitExceededError(
                f"{root}: more than {limits.max_members} files (raise it with --limit files=N)"
            )
    members.sort(key=lambda m: m.inner)
    return Package(
        source=root,
        kind=PackageKind.FOLDER,
        members=tuple(members),
        notes=tuple(link_notes(members)),
    )


def _walk(root: str, top: str) -> Iterator[Member]:
    """Depth-first, in name order, with an explicit stack: a folder nested thousands of levels
    deep must not exhaust Python's recursion limit."""
    stack: list[Iterator[os.DirEntry[str]]] = []
    listing = _listing(root, top)
    if isinstance(listing, Member):
        yield listing
        return
    stack.append(iter(listing))
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        inner = os.path.relpath(entry.path, root).replace(os.sep, "/")
        member = _folder_member(entry, inner)
        if member is None:
            continue
        yield member
        if member.is_dir and member.symlink_target is None and member.problem is None:
            children = _listing(root, entry.path)
            if isinstance(children, Member):
                yield children
            else:
                stack.append(iter(children))


def _listing(root: str, top: str) -> list[os.DirEntry[str]] | Member:
    try:
        with os.scandir(top) as entries:
            return sorted(entries, key=lambda e: e.name)
    except OSError as exc:
        inner = os.path.relpath(top, root).replace(os.sep, "/")
        return Member(
            location=top,
            inner=inner,
            size=0,
            is_dir=True,
            problem=f"cannot list folder: {exc.strerror}",
        )


def _folder_member(entry: os.DirEntry[str], inner: str) -> Member | None:
    try:
        info = entry.stat(follow_symlinks=False)
    except OSError as exc:  # vanished or unreadable since the listing
        return Member(
            location=entry.path, inner=inner, size=0, problem=f"cannot read: {exc.strerror}"
        )
    mode = stat.S_IMODE(info.st_mode)
    if stat.S_ISLNK(info.st_mode):
        try:
            target = os.readlink(entry.path)
        except OSError as exc:
            return Member(
                location=entry.path,
                inner=inner,
                size=0,
                problem=f"cannot read link: {exc.strerror}",
            )
        return Member(location=entry.path, inner=inner, size=0, mode=mode, symlink_target=target)
    if stat.S_ISDIR(info.st_mode):
        return Member(location=entry.path, inner=inner, size=0, mode=mode, is_dir=True)
    if not stat.S_ISREG(info.st_mode):
        return None  # devices, FIFOs and sockets are never opened: a FIFO would block forever
    return Member(location=entry.path, inner=inner, size=info.st_size, mode=mode)


class PackageReader:
    """Keeps one package open while its members are read; members come back as buffers
    (a read-only memory map for files, bounded bytes for zip members and stdin)."""

    def __init__(self, package: Package, limits: Limits) -> None:
        self.package, self.limits = package, limits
        self._archive: zipfile.ZipFile | None = None
        self._infos: list[zipfile.ZipInfo] = []
        self._stdin: bytes | None = None

    def __enter__(self) -> PackageReader:
        if self.package.kind is PackageKind.ZIP:
            import zipfile

            from linkscope.zipinputs import ZIP_OR_OS_ERRORS

            try:
                self._archive = zipfile.ZipFile(self.package.source)
            except ZIP_OR_OS_ERRORS as exc:
                raise UnsupportedArchiveError(f"{self.package.source}: {exc}") from None
            self._infos = self._archive.infolist()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._archive is not None:
            self._archive.close()

    def read(self, member: Member, limit: int | None = None) -> Buffer:
        """The member's bytes (at most `limit` bytes when given)."""
        if member.location == "<stdin>":
            if self._stdin is None:
                self._stdin = read_stdin(self.limits)  # stdin can be read once: keep it
            return self._stdin[: limit if limit is not None else None]
        if self._archive is not None:
            return self._read_zip(member, limit)
        return _read_file(member.location, limit)

    def _read_zip(self, member: Member, limit: int | None) -> bytes:
        assert self._archive is not None
        index = member.index
        infos = self._infos
        if index is None or index >= len(infos) or infos[index].filename.strip("/") != member.inner:
            raise UnsupportedArchiveError(f"{member.location}: member vanished (the zip changed)")
        info = self._infos[index]
        cap = min(info.file_size, self.limits.max_member_bytes)
        want = cap + 1 if limit is None else min(limit, cap + 1)
        from linkscope.zipinputs import ZIP_OR_OS_ERRORS

        try:
            with self._archive.open(info) as stream:
                data = stream.read(want)
        except ZIP_OR_OS_ERRORS as exc:
            raise UnsupportedArchiveError(f"{member.location}: cannot read member: {exc}") from None
        if limit is None and len(data) > cap:
            raise LimitExceededError(f"{member.location}: member is larger than it declares")
        return data


def _read_file(path: str, limit: int | None) -> Buffer:
    try:
        with open(path, "rb") as handle:
            if limit is not None:
                return handle.read(limit)
            size = os.fstat(handle.fileno()).st_size
            if size == 0:
                return b""
            return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except FileNotFoundError:
        raise NotFoundError(f"{path}: vanished while being read") from None
    except OSError as exc:
        raise UnreadableError(f"{path}: cannot read: {exc.strerror or exc}") from None


def read_stdin(limits: Limits) -> bytes:
    data = sys.stdin.buffer.read(limits.max_stdin_bytes + 1)
    if len(data) > limits.max_stdin_bytes:
        raise LimitExceededError(f"<stdin>: more than {limits.max_stdin_bytes} bytes")
    return data


def link_notes(members: list[Member]) -> list[str]:
    # Absolute targets are left to the checks: /var/task/bin/app is inside the function once
    # Lambda has placed it, /etc/passwd is not; only the simulated filesystem can tell.
    return [
        f"{m.location}: a symlink to {m.symlink_target}, which climbs out of the package: "
        "not followed"
        for m in members
        if m.symlink_target
        and not m.symlink_target.startswith("/")
        and link_escapes(m.inner, m.symlink_target)
    ]


def link_escapes(inner: str, target: str) -> bool:
    """Whether a symlink at `inner` (inside a package) points outside the package: an absolute
    target, or one whose `..` climbs above the package root."""
    if target.startswith("/"):
        return True
    depth = len(inner.split("/")) - 1
    for part in target.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False
