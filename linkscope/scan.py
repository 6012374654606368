"""Read every member of a package: ELF files become BinaryFacts, `#!` files ScriptFacts, and
files that cannot be read become FileProblems (a scan never stops at one bad file)."""

from __future__ import annotations

import mmap

from linkscope.elf import facts_from_bytes, is_elf
from linkscope.errors import InputError, LinkscopeError
from linkscope.inputs import Limits, Member, Package, PackageKind, PackageReader, open_package
from linkscope.model import (
    BinaryFacts,
    EntryKind,
    FileProblem,
    PackageEntry,
    ScannedPackage,
    ScriptFacts,
)

HEAD_BYTES = 512


def scan_path(source: str, limits: Limits) -> ScannedPackage:
    package = open_package(source, limits)
    entries: list[PackageEntry] = []
    binaries: list[BinaryFacts] = []
    scripts: list[ScriptFacts] = []
    problems: list[FileProblem] = []
    with PackageReader(package, limits) as reader:
        for member in package.members:
            kind = _read_member(reader, package, member, binaries, scripts, problems)
            entries.append(
                PackageEntry(inner=member.inner, location=member.location, kind=kind,
                             size=member.size, mode=member.mode,
                             symlink_target=member.symlink_target)  # fmt: skip
            )
    return ScannedPackage(
        source=source,
        kind=package.kind.value,
        entries=tuple(entries),
        binaries=tuple(binaries),
        scripts=tuple(scripts),
        problems=tuple(problems),
        zipped_size=package.zipped_size,
        notes=package.notes,
    )


def _read_member(
    reader: PackageReader,
    package: Package,
    member: Member,
    binaries: list[BinaryFacts],
    scripts: list[ScriptFacts],
    problems: list[FileProblem],
) -> EntryKind:
    if member.is_dir:
        return EntryKind.DIRECTORY
    if member.symlink_target is not None:
        return EntryKind.SYMLINK
    if member.problem is not None:
        problems.append(FileProblem(path=member.location, message=member.problem))
        return EntryKind.UNREADABLE
    single = package.kind is PackageKind.FILE
    try:
        head = bytes(reader.read(member, HEAD_BYTES))
        if is_elf(head):
            data = reader.read(member)
            try:
                binaries.append(facts_from_bytes(data, member.location, member.mode))
            finally:
                if isinstance(data, mmap.mmap):
                    data.close()
            return EntryKind.ELF
    except InputError as exc:
        if single:
            raise  # the one file the user named: an input error, exit 2
        problems.append(FileProblem(path=member.location, message=_strip_location(exc, member)))
        return EntryKind.UNREADABLE
    except LinkscopeError:
        raise
    if head.startswith(b"#!"):
        scripts.append(parse_shebang(head, member.location, member.mode))
        return EntryKind.SCRIPT
    return EntryKind.OTHER


def _strip_location(exc: Exception, member: Member) -> str:
    text = str(exc)
    prefix = f"{member.location}: "
    return text[len(prefix):] if text.startswith(prefix) else text


def parse_shebang(head: bytes, path: str, mode: int | None) -> ScriptFacts:
    line = head[2:].split(b"\n", 1)[0]
    crlf = line.endswith(b"\r")
    words = line.rstrip(b"\r").decode("utf-8", "replace").strip().split(None, 1)
    interpreter = words[0] if words else ""
    argument = words[1].strip() if len(words) > 1 else None
    return ScriptFacts(path=path, interpreter=interpreter, argument=argument, crlf=crlf, mode=mode)
