"""What the scan reads from a container image's files while the image's layers stream by (the
EarlyReader of `inputs/layers.py`), so that each layer is inflated once: the facts of every ELF
file, the packaging metadata files whole, and which files need nothing more (their first
bytes are then not kept: 512 bytes for each of an image's files add up). The scan then takes
these for the merged image's members; a file whose early read failed, or had to read behind the
pass, is read again later the usual way (its problem, if it has one, is reported from that
read)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from linkscope.elf import facts_from_bytes, is_elf
from linkscope.elf.symbols import may_be_module
from linkscope.errors import InputError
from linkscope.inputs import ZIP_MAGICS
from linkscope.inputs.model import HeadNotNeeded
from linkscope.inputs.native import native_kind, pe_header_offset
from linkscope.model import BinaryFacts

if TYPE_CHECKING:
    from linkscope.elf.image import Buffer
    from linkscope.inputs import Member, Package

HEAD_BYTES = 512
KEPT_METADATA_BYTES = 16 << 20  # beyond it, metadata files are read again after the pass


class _PlainFile(HeadNotNeeded):
    """A file the scan reads nothing of after its first bytes: not code, not packaging
    metadata, not a zip (most of an image: sources, data)."""


PLAIN_FILE = _PlainFile()


@dataclass(frozen=True, slots=True)
class EarlyFacts:
    facts: BinaryFacts  # its path is the file's path in its layer
    lean_above: int | None


class EarlyReads:
    """ELF facts read as `scan_path` would read them (`lean_above`), and the first
    `metadata_bytes` of every file the ecosystem stage reads."""

    def __init__(self, lean_above: int | None, metadata_bytes: int) -> None:
        self.lean_above, self.metadata_bytes = lean_above, metadata_bytes
        self.kept = 0

    def head_size(self, path: str, size: int) -> int:
        from linkscope.ecosystems import wants_metadata

        if self.kept > KEPT_METADATA_BYTES or not wants_metadata(path):
            return HEAD_BYTES
        keep = min(size, self.metadata_bytes)
        self.kept += keep
        return keep

    def take(
        self, path: str, mode: int, head: bytes, view: Callable[[], Buffer]
    ) -> EarlyFacts | _PlainFile | None:
        if not is_elf(head):
            return PLAIN_FILE if _plain(path, head) else None
        try:
            facts = facts_from_bytes(view(), path, mode, lean_above=self.lean_above)
        except InputError:
            return None  # read again after the pass, which words the problem
        return EarlyFacts(facts, self.lean_above)


def _plain(path: str, head: bytes) -> bool:
    """What `scan.read_member` makes of this head: neither a script, native code (a PE file
    may need more than the head), a zip nor metadata (by its path in the layer)."""
    from linkscope.ecosystems import wants_metadata

    if head.startswith(b"#!") or head[:4] in ZIP_MAGICS or pe_header_offset(head) is not None:
        return False
    return native_kind(head) is None and not wants_metadata(path)


def is_plain(package: Package, member: Member) -> bool:
    """Whether the scan needs nothing more of the member (found in its layer's pass, and its
    path in the merged image is not one of packaging metadata either)."""
    from linkscope.ecosystems import wants_metadata

    content = package.content
    found = content.early(member) if content is not None else None
    return found is PLAIN_FILE and not wants_metadata(member.inner)


def early_facts(package: Package, member: Member, lean_above: int | None) -> BinaryFacts | None:
    """The member's facts from its layer's pass, when they are what reading it now would give:
    read the same way, and under a name that is searched for module symbols alike (a hard link
    or a write through a symlinked folder can give a file another path in the merged image)."""
    content = package.content
    found = content.early(member) if content is not None else None
    if not isinstance(found, EarlyFacts) or found.lean_above != lean_above:
        return None
    if may_be_module(found.facts.path) != may_be_module(member.location):
        return None
    return dataclasses.replace(found.facts, path=member.location)
