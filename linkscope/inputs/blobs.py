"""Where an image's files are: the members of a `docker save` or OCI archive tar, or the files of an
OCI layout folder. Each named file is a region of one file on disk (offset, size), read in place:
nothing is extracted. Symlinks and hard links inside the outer tar (skopeo and buildah write
`<id>/layer.tar` as a link to `<diffid>.tar`) are followed within the tar."""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import tarfile
from dataclasses import dataclass
from typing import Any

from linkscope.errors import InputError, LimitExceededError, UnreadableError

MAX_JSON_BYTES = 16 << 20  # manifests, indexes and configs are kilobytes
MAX_TAR_MEMBERS = 100_000
MAX_LINK_HOPS = 40
TAR_ERRORS: tuple[type[Exception], ...] = (
    tarfile.TarError,
    EOFError,
    ValueError,
    UnicodeError,
    OverflowError,
)


@dataclass(frozen=True, slots=True)
class Region:
    """`size` bytes at `offset` in the file `host`."""

    host: str
    offset: int
    size: int


class RegionReader(io.RawIOBase):
    """A read-only, seekable view of one region of a file."""

    def __init__(self, region: Region) -> None:
        super().__init__()
        self.region = region
        self._handle = open(region.host, "rb")  # noqa: SIM115 - closed with the reader
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.region.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def read(self, size: int = -1) -> bytes:
        left = self.region.size - self._pos
        if size < 0 or size > left:
            size = max(0, left)
        if size == 0:
            return b""
        self._handle.seek(self.region.offset + self._pos)
        data = self._handle.read(size)
        self._pos += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._handle.close()
        super().close()


class BlobStore:
    """Named files of an image source (`blobs/sha256/<hex>`, `manifest.json`, `<id>/layer.tar`)."""

    def __init__(self, source: str, regions: dict[str, Region], links: dict[str, str]) -> None:
        self.source = source
        self._regions, self._links = regions, links

    def has(self, name: str) -> bool:
        return self.find(name) is not None

    def find(self, name: str) -> Region | None:
        """The region holding `name`, links followed (within the store, at most 40 hops)."""
        current = _clean(name)
        for _hop in range(MAX_LINK_HOPS):
            if current is None:
                return None
            region = self._regions.get(current)
            if region is not None:
                return region
            target = self._links.get(current)
            if target is None:
                return None
            current = _clean(posixpath.join(posixpath.dirname(current), target))
        return None

    def region(self, name: str) -> Region:
        region = self.find(name)
        if region is None:
            raise InputError(f"{self.source}: the image names {name}, which it does not contain")
        return region

    def read_bytes(self, name: str, limit: int = MAX_JSON_BYTES) -> bytes:
        region = self.region(name)
        if region.size > limit:
            raise LimitExceededError(f"{self.source}!{name}: {region.size} bytes, too large")
        with RegionReader(region) as reader:
            return reader.read(region.size)

    def read_json(self, name: str, digest: str | None = None) -> Any:
        data = self.read_bytes(name)
        if digest is not None:
            verify_digest(self.source, name, data, digest)
        try:
            return json.loads(data)
        except (ValueError, UnicodeError) as exc:
            raise InputError(f"{self.source}!{name}: not valid JSON ({exc})") from None


def verify_digest(source: str, name: str, data: bytes, digest: str) -> None:
    algorithm, _, expected = digest.partition(":")
    if algorithm not in ("sha256", "sha512"):
        raise InputError(f"{source}!{name}: unsupported digest algorithm '{algorithm}'")
    actual = hashlib.new(algorithm, data).hexdigest()
    if actual != expected:
        raise InputError(
            f"{source}!{name}: content does not match its digest {digest} (corrupt or edited)"
        )


def blob_name(digest: str) -> str:
    """`sha256:abc` -> `blobs/sha256/abc`; a digest that could climb out is refused."""
    algorithm, _, encoded = digest.partition(":")
    if not algorithm.isalnum() or not encoded or not all(c.isalnum() for c in encoded):
        raise InputError(f"malformed digest '{digest}'")
    return f"blobs/{algorithm}/{encoded}"


def _clean(name: str) -> str | None:
    parts: list[str] = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None  # climbs out of the image
            parts.pop()
            continue
        parts.append(part)
    return "/".join(parts)


def folder_store(root: str) -> BlobStore:
    """An OCI layout (or unpacked docker save) folder: every regular file under it."""
    regions: dict[str, Region] = {}
    links: dict[str, str] = {}
    count = 0
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files) + [d for d in dirs if os.path.islink(os.path.join(directory, d))]:
            host = os.path.join(directory, name)
            inner = os.path.relpath(host, root).replace(os.sep, "/")
            count += 1
            if count > MAX_TAR_MEMBERS:
                raise LimitExceededError(f"{root}: more than {MAX_TAR_MEMBERS} files")
            if os.path.islink(host):
                links[inner] = os.readlink(host)
            elif os.path.isfile(host):
                regions[inner] = Region(host, 0, os.path.getsize(host))
    return BlobStore(root, regions, links)


def tar_store(path: str) -> BlobStore:
    """The members of an uncompressed tar (docker save, OCI archive), by header only: tarfile
    seeks over each member's data, so listing a 5 GB image reads a few kilobytes."""
    regions: dict[str, Region] = {}
    links: dict[str, str] = {}
    try:
        with tarfile.open(path, mode="r:") as archive:
            for count, info in enumerate(_members(archive)):
                if count > MAX_TAR_MEMBERS:
                    raise LimitExceededError(f"{path}: more than {MAX_TAR_MEMBERS} members")
                name = _clean(info.name)
                if name is None or not name:
                    continue
                if info.isreg():
                    regions[name] = Region(path, info.offset_data, info.size)
                elif info.issym():
                    links[name] = info.linkname
                elif info.islnk():
                    links[name] = "/".join([".."] * name.count("/") + [info.linkname])
    except OSError as exc:
        raise UnreadableError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except TAR_ERRORS as exc:
        raise InputError(f"{path}: not a readable tar archive: {exc}") from None
    return BlobStore(path, regions, links)


def _members(archive: tarfile.TarFile) -> Any:
    while True:
        info = archive.next()
        if info is None:
            return
        forget_headers(archive)
        yield info


def forget_headers(archive: tarfile.TarFile) -> None:
    """tarfile keeps every header it has read; a reader that keeps its own index drops them."""
    archive.members = []  # type: ignore[attr-defined]
