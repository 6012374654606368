"""What every kind of input becomes: a package of members, each with its location
(`function.zip!lib/libfoo.so`), its path inside the package, mode bits, size and symlink target;
and the limits that bound how much one run reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Protocol

from linkscope.records import Record

if TYPE_CHECKING:
    from linkscope.elf.image import Buffer
    from linkscope.model import ImageFacts

STDIN = "-"
MAX_LINK_BYTES = 4096  # a symlink member's data is its target; PATH_MAX is 4096 on Linux


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Limits(Record):
    """Bounds on what one run will read, so that hostile input cannot exhaust memory. Users can
    raise them with `--limit KEY=VALUE` (file-size, total-size, ratio, files)."""

    max_member_bytes: int = 1 << 30  # one file inside a zip (Lambda allows 250 MB unzipped)
    max_total_bytes: int = 4 << 30  # all members of one archive, uncompressed
    # uncompressed / compressed, per member above 1 MiB. Deflate cannot exceed about 1032:1, so
    # this trips only on members that are almost all zeros; real libraries reach 240:1 (pillow's
    # vendored libXau), and members are streamed through a bounded window, so a high ratio costs
    # time, not memory.
    max_ratio: int = 1000
    max_members: int = 100_000
    max_stdin_bytes: int = 1 << 30
    # A container image's layers, uncompressed (Lambda allows 10 GB: LS705 must see past it).
    max_image_bytes: int = 32 << 30


class PackageKind(str, Enum):
    FILE = "file"
    FOLDER = "folder"
    ZIP = "zip"
    IMAGE = "image"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Member(Record):
    location: str  # what reports show: "bootstrap", "dist/bootstrap", "fn.zip!lib/libfoo.so"
    inner: str  # path inside the package, "/"-separated, no leading "/"
    size: int
    mode: int | None = None  # permission bits (None: unknown, e.g. a zip made on Windows)
    symlink_target: str | None = None
    is_dir: bool = False
    problem: str | None = None  # why it cannot be read (unreadable, encrypted, too large...)
    index: int | None = None  # position in the zip's central directory (duplicate names differ)


class MemberSource(Protocol):
    """An open source of member bytes that a package carries (a container image's layers)."""

    def read(self, member: Member, limit: int | None = None) -> bytes: ...

    def open(self, member: Member) -> Buffer: ...  # the whole member, in bounded memory

    def early(self, member: Member) -> object: ...  # what was read from it as its layer streamed

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Package(Record):
    source: str  # what the user typed
    kind: PackageKind
    members: tuple[Member, ...]
    zipped_size: int | None = None  # size of the zip file itself
    notes: tuple[str, ...] = field(default=())  # archive-level warnings (duplicates, ...)
    image: ImageFacts | None = None  # a container image's manifest and config facts
    content: MemberSource | None = None  # where an image's member bytes are read from


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


class HeadNotNeeded:
    """What an EarlyReader (inputs/layers.py) takes from a file it needs nothing more of: its
    first bytes are not kept (a read of them later reads the layer again). Defined here, not in
    layers.py, so that the scan can name it without importing the image reader (tarfile,
    hashlib, the layer streams) for every input."""
