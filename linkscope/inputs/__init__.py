"""Turn what the user named into packages of members: a file, a folder, a zip, or stdin.

Nothing is extracted to disk. One module per kind of source (`files`, `zip`); this module only
tells them apart and hands out one reader per package. Zip members are read into memory one at a
time, within limits that stop zip bombs; folder files are memory-mapped.
"""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

from linkscope.elf.image import Buffer
from linkscope.errors import InputError, NotFoundError, UnreadableError, UnsupportedArchiveError
from linkscope.inputs.files import read_file, read_file_head, read_folder, read_stdin
from linkscope.inputs.model import (
    MAX_LINK_BYTES,
    STDIN,
    Limits,
    Member,
    Package,
    PackageKind,
    link_escapes,
    link_notes,
)

if TYPE_CHECKING:
    from linkscope.inputs.layers import EarlyReader
    from linkscope.inputs.zip import ZipMemberReader

__all__ = [
    "MAX_LINK_BYTES",
    "STDIN",
    "ZIP_MAGICS",
    "Limits",
    "Member",
    "Package",
    "PackageKind",
    "PackageReader",
    "link_escapes",
    "link_notes",
    "open_package",
    "read_stdin",
]

ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")


def open_package(
    source: str, limits: Limits, *, arch: str | None = None, early: EarlyReader | None = None
) -> Package:
    """`arch` (x86_64, arm64) picks the manifest of a multi-platform container image; `early`
    reads a container image's files as its layers stream by (inputs/layers.py)."""
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
        image = _image(source, limits, arch, early, folder=True)
        return image if image is not None else read_folder(source, limits)
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{source}: not a regular file, folder or zip (a device, FIFO or socket)")
    if not os.access(source, os.R_OK):
        raise UnreadableError(f"{source}: permission denied")
    if _looks_like_zip(source):
        from linkscope.inputs.zip import read_zip_package  # zipfile only when a zip is read

        return read_zip_package(source, info.st_size, limits)
    image = _image(source, limits, arch, early, folder=False)
    if image is not None:
        return image
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


def _image(
    source: str, limits: Limits, arch: str | None, early: EarlyReader | None, *, folder: bool
) -> Package | None:
    """A container image (docker save, OCI archive or layout), or None for anything else."""
    from linkscope.inputs import image_kind  # the reader (tarfile, hashlib) only for an image

    if folder:
        if not image_kind.is_image_folder(source):
            return None
        from linkscope.inputs import image

        return image.read_image_folder(source, limits, arch, early)
    if image_kind.looks_like_tar(source):
        from linkscope.inputs import image

        return image.read_image_file(source, limits, arch, early)
    if image_kind.looks_like_compressed_tar(source):
        raise UnsupportedArchiveError(
            f"{source}: a compressed tarball; linkscope reads `docker save` and OCI archive "
            "tars as written (decompress it first: `gunzip` or `zstd -d`)"
        )
    return None


def _looks_like_zip(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
    except OSError as exc:
        raise UnreadableError(f"{path}: cannot read: {exc.strerror}") from None
    return head in ZIP_MAGICS


SMALL_HEAD = 64 << 10


def _small_head(path: str, limit: int) -> bytes:
    """A file's first bytes with three system calls and no file object (the first pass reads
    the head of every file of a folder); the same errors as `read_file_head`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            data = os.read(fd, limit)
            while 0 < len(data) < limit and (more := os.read(fd, limit - len(data))):
                data += more
            return data
        finally:
            os.close(fd)
    except FileNotFoundError:
        raise NotFoundError(f"{path}: vanished while being read") from None
    except OSError as exc:
        raise UnreadableError(f"{path}: cannot read: {exc.strerror or exc}") from None


class PackageReader:
    """Keeps one package open while its members are read; members come back as buffers
    (a read-only memory map for files, bounded bytes for zip members and stdin)."""

    def __init__(self, package: Package, limits: Limits) -> None:
        self.package, self.limits = package, limits
        self._zip: ZipMemberReader | None = None
        self._content = package.content  # a container image's layers
        self._stdin: bytes | None = None

    def __enter__(self) -> PackageReader:
        if self.package.kind is PackageKind.ZIP:
            from linkscope.inputs.zip import ZipMemberReader

            self._zip = ZipMemberReader(self.package.source, self.limits)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._zip is not None:
            self._zip.close()
        if self._content is not None:
            self._content.close()

    def read(self, member: Member, limit: int | None = None) -> Buffer:
        """The member's bytes (at most `limit` bytes when given): `read_head` with a limit,
        `open_member` without one."""
        return self.open_member(member) if limit is None else self.read_head(member, limit)

    def read_head(self, member: Member, limit: int) -> bytes:
        """The member's first `limit` bytes (fewer when it is shorter): for telling kinds of
        file apart, and for small metadata files read whole."""
        if member.location == "<stdin>":
            return self._stdin_bytes()[:limit]
        if self._zip is not None:
            return self._zip.read(member, limit)
        if self._content is not None:
            return self._content.read(member, limit)
        if limit <= SMALL_HEAD:
            return _small_head(member.location, limit)
        return read_file_head(member.location, limit)

    def read_whole(self, member: Member) -> bytes:
        """All of a member, as bytes, within the per-file limit: only for files known to be
        small (metadata); ELF files go through `open_member`, which never copies a big one."""
        if member.location == "<stdin>":
            return self._stdin_bytes()
        if self._zip is not None:
            return self._zip.read(member, None)
        if self._content is not None:
            return self._content.read(member)
        return self.read_head(member, self.limits.max_member_bytes)

    def open_member(self, member: Member) -> Buffer:
        """The whole member as a random-access buffer in bounded memory: a read-only memory map
        for a file, a view that inflates as it is read for a zip member (a small one is read
        whole), the bytes read for stdin."""
        if member.location == "<stdin>":
            return self._stdin_bytes()
        if self._zip is not None:
            return self._zip.open(member)
        if self._content is not None:
            return self._content.open(member)
        return read_file(member.location, None)

    def _stdin_bytes(self) -> bytes:
        if self._stdin is None:
            self._stdin = read_stdin(self.limits)  # stdin can be read once: keep it
        return self._stdin
