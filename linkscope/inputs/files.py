"""Files and folders on disk, and standard input. Folder files are memory-mapped, never copied;
devices, FIFOs and sockets are never opened."""

from __future__ import annotations

import mmap
import os
import stat
import sys
from collections.abc import Iterator
from operator import attrgetter

from linkscope.elf.image import Buffer
from linkscope.errors import LimitExceededError, NotFoundError, UnreadableError
from linkscope.inputs.model import Limits, Member, Package, PackageKind, link_notes


def read_folder(root: str, limits: Limits) -> Package:
    members = []
    for member in _walk(root, root):
        members.append(member)
        if len(members) > limits.max_members:
            raise LimitExceededError(
                f"{root}: more than {limits.max_members} files (raise it with --limit files=N)"
            )
    members.sort(key=attrgetter("inner"))
    return Package(
        source=root,
        kind=PackageKind.FOLDER,
        members=tuple(members),
        notes=tuple(link_notes(members)),
    )


def _walk(root: str, top: str) -> Iterator[Member]:
    """Depth-first, in name order, with an explicit stack: a folder nested thousands of levels
    deep must not exhaust Python's recursion limit. Inner paths are built from the names
    walked (what `os.path.relpath` would say, without its cost per file)."""
    stack: list[tuple[Iterator[os.DirEntry[str]], str]] = []
    listing = _listing(root, top)
    if isinstance(listing, Member):
        yield listing
        return
    stack.append((iter(listing), ""))
    while stack:
        entries, prefix = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        inner = prefix + entry.name
        member = _folder_member(entry, inner)
        if member is None:
            continue
        yield member
        if member.is_dir and member.symlink_target is None and member.problem is None:
            children = _listing(root, entry.path)
            if isinstance(children, Member):
                yield children
            else:
                stack.append((iter(children), inner + "/"))


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


def read_file(path: str, limit: int | None) -> Buffer:
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


def read_file_head(path: str, limit: int) -> bytes:
    """A file's first `limit` bytes."""
    try:
        with open(path, "rb") as handle:
            return handle.read(limit)
    except FileNotFoundError:
        raise NotFoundError(f"{path}: vanished while being read") from None
    except OSError as exc:
        raise UnreadableError(f"{path}: cannot read: {exc.strerror or exc}") from None


def read_stdin(limits: Limits) -> bytes:
    data = sys.stdin.buffer.read(limits.max_stdin_bytes + 1)
    if len(data) > limits.max_stdin_bytes:
        raise LimitExceededError(f"<stdin>: more than {limits.max_stdin_bytes} bytes")
    return data
