"""Apply an image's layers in order into one merged filesystem (OCI image-spec `layer.md`), keeping
for each file only where its bytes are (layer, offset, size) and its first bytes: whiteouts
(`.wh.NAME`) and opaque whiteouts (`.wh..wh..opq`) hide lower layers' files, a later entry
replaces an earlier one, hard links share their target's bytes, symlinks are kept as links
(they are resolved on the merged tree, so chains may cross layers)."""

from __future__ import annotations

import stat
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from linkscope.errors import InputError, LimitExceededError
from linkscope.inputs.blobs import TAR_ERRORS, forget_headers
from linkscope.inputs.layerstream import LayerStream
from linkscope.inputs.layerview import LayerFileView
from linkscope.inputs.model import HeadNotNeeded  # here since scan.py imports it at start

if TYPE_CHECKING:
    from linkscope.elf.image import Buffer

HEAD_BYTES = 512
WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
AUFS_META = ".wh..wh."  # AUFS bookkeeping (.wh..wh.plnk, .wh..wh.aufs): skipped, as moby does


@dataclass(slots=True)
class Entry:
    """One path of the merged filesystem."""

    kind: str  # "file", "dir", "symlink", "other" (devices, FIFOs: never read)
    mode: int
    size: int = 0
    layer: int = -1
    offset: int = 0
    head: bytes = b""
    target: str | None = None
    uid: int = 0
    early: object = None  # what an EarlyReader took from the file while its layer streamed by


class EarlyReader(Protocol):
    """What a scan takes from each file of a layer as the layer streams by, so that the layer
    is inflated once: how many first bytes to keep (`head_size`), and anything read from the
    whole file (`take`: `view()` opens it as a buffer; None when nothing is taken)."""

    def head_size(self, path: str, size: int) -> int: ...

    def take(
        self, path: str, mode: int, head: bytes, view: Callable[[], Buffer]
    ) -> object | None: ...


@dataclass(slots=True)
class LayerRead:
    """One layer's pass: its stream, its position in the image, who reads its files early."""

    stream: LayerStream
    index: int
    early: EarlyReader | None = None
    max_file: int = 1 << 30  # bigger files are not read early (they are a problem later)


@dataclass(slots=True)
class Node:
    entry: Entry
    children: dict[str, Node] | None = None  # set for directories


@dataclass(slots=True)
class _Change:
    path: list[str]
    entry: Entry | None = None  # None for a whiteout
    link: list[str] | None = None  # a hard link's target
    opaque: bool = False


@dataclass(slots=True)
class Merged:
    root: Node = field(default_factory=lambda: Node(Entry(kind="dir", mode=0o755), children={}))
    count: int = 0
    hard_links: list[int] = field(default_factory=list)  # per layer


def split_path(name: str, layer: str, *, clamp: bool = False) -> list[str]:
    """Path components; `..` above the root is refused, or with `clamp` stays at the root (as a
    symlink target does under chroot)."""
    parts: list[str] = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts and clamp:
                continue
            if not parts:
                raise InputError(
                    f"{layer}: the entry {name!r} climbs out of the image root (Docker refuses "
                    "to unpack such a layer)"
                )
            parts.pop()
            continue
        parts.append(part)
    return parts


def read_changes(layer: LayerRead, max_entries: int) -> list[_Change]:
    """Every entry of one layer, in tar order (headers, first bytes, what `early` takes)."""
    changes: list[_Change] = []
    stream = layer.stream
    try:
        with tarfile.open(fileobj=stream, mode="r:") as archive:
            while (info := archive.next()) is not None:
                forget_headers(archive)
                if len(changes) >= max_entries:
                    raise LimitExceededError(
                        f"{stream.name}: more than {max_entries} entries "
                        "(raise it with --limit files=N)"
                    )
                change = _change(archive, info, layer)
                if change is not None:
                    changes.append(change)
    except TAR_ERRORS as exc:
        raise InputError(f"{stream.name}: not a readable tar layer: {exc}") from None
    return changes


def _change(archive: tarfile.TarFile, info: tarfile.TarInfo, layer: LayerRead) -> _Change | None:
    name = layer.stream.name
    path = split_path(info.name, name)
    if not path:
        return None
    base = path[-1]
    if base == OPAQUE:
        return _Change(path=path[:-1], opaque=True)
    if base.startswith(AUFS_META):
        return None
    if base.startswith(WHITEOUT):
        hidden = base[len(WHITEOUT) :]
        return _Change(path=[*path[:-1], hidden]) if hidden else None
    mode = stat.S_IMODE(info.mode)
    if info.islnk():
        return _Change(path=path, link=split_path(info.linkname, name))
    entry = Entry(kind="other", mode=mode, uid=info.uid)
    if info.isreg():
        entry.kind, entry.size, entry.layer, entry.offset = (
            "file",
            info.size,
            layer.index,
            info.offset_data,
        )
        if info.size:
            _read_file(archive, info, layer, "/".join(path), entry)
    elif info.isdir():
        entry.kind = "dir"
    elif info.issym():
        entry.kind, entry.target = "symlink", info.linkname
    return _Change(path=path, entry=entry)


def _read_file(
    archive: tarfile.TarFile, info: tarfile.TarInfo, layer: LayerRead, path: str, entry: Entry
) -> None:
    """The file's first bytes, and what the early reader takes from it as it streams by (not
    kept when the reader had to read behind the pass: the scan reads that file again later)."""
    early = layer.early
    keep = HEAD_BYTES if early is None else max(HEAD_BYTES, early.head_size(path, info.size))
    entry.head = _first_bytes(archive, info, layer.stream, min(info.size, keep))
    if early is None or info.size > layer.max_file or info.issparse():
        return
    stream = layer.stream
    views: list[LayerFileView] = []

    def view() -> LayerFileView:
        what = f"{stream.name}!{path}"
        views.append(LayerFileView(stream, info.offset_data, info.size, what, once=True))
        return views[-1]

    taken = early.take(path, entry.mode, entry.head, view)
    if stream.failure is not None:
        raise stream.failure  # the layer itself is damaged: not the file's problem
    if not any(v.behind for v in views):
        entry.early = taken
    if isinstance(taken, HeadNotNeeded):
        entry.head = b""


def _first_bytes(
    archive: tarfile.TarFile, info: tarfile.TarInfo, stream: LayerStream, count: int
) -> bytes:
    """A file's first bytes: read in place (tarfile's file object, made for every member, costs
    more than the read), but through it for a sparse file, whose data has holes."""
    if info.issparse():
        extracted = archive.extractfile(info)
        return extracted.read(count) if extracted else b""
    stream.seek(info.offset_data)
    return stream.read(count)


def apply_layer(merged: Merged, changes: list[_Change], layer_name: str, max_entries: int) -> None:
    """Whiteouts hide only lower layers' files, and an opaque whiteout applies before the
    layer's own entries "regardless of the ordering" (layer.md): so deletions go first."""
    for change in changes:
        if change.entry is None and change.link is None:
            _delete(merged, change)
    links = 0
    for change in changes:
        if change.link is not None:
            links += 1
            _hard_link(merged, change)
        elif change.entry is not None:
            _put(merged, change.path, change.entry)
        if merged.count > max_entries:
            raise LimitExceededError(
                f"{layer_name}: the image has more than {max_entries} files "
                "(raise it with --limit files=N)"
            )
    merged.hard_links.append(links)


def _delete(merged: Merged, change: _Change) -> None:
    parent = _walk(merged.root, change.path if change.opaque else change.path[:-1])
    if parent is None or parent.children is None:
        return
    if change.opaque:
        merged.count -= _size(parent) - 1
        parent.children = {}
    elif change.path[-1] in parent.children:
        merged.count -= _size(parent.children.pop(change.path[-1]))


def _size(node: Node) -> int:
    total, stack = 0, [node]
    while stack:
        current = stack.pop()
        total += 1
        if current.children:
            stack.extend(current.children.values())
    return total


def _walk(root: Node, path: list[str]) -> Node | None:
    node = root
    for part in path:
        if node.children is None or part not in node.children:
            return None
        node = node.children[part]
    return node


def resolve_dir(root: Node, path: list[str], hops: int = 0) -> Node | None:
    """The folder at `path`, symlinks followed inside the image root (chroot rules: an absolute
    target starts at the root, `..` stops there), at most 40 links."""
    node, done = root, list[str]()
    for part in path:
        if node.children is None or part not in node.children:
            return None
        child = node.children[part]
        if child.entry.kind == "symlink" and child.entry.target is not None:
            if hops >= 40:
                return None
            target = child.entry.target
            base = [] if target.startswith("/") else done
            parts = split_path("/".join([*base, target.lstrip("/")]), "", clamp=True)
            found = resolve_dir(root, parts, hops + 1)
            if found is None:
                return None
            child = found
            done = parts
        else:
            done = [*done, part]
        node = child
    return node if node.children is not None else None


def _put(merged: Merged, path: list[str], entry: Entry) -> None:
    parent = merged.root
    for position, part in enumerate(path[:-1]):
        assert parent.children is not None
        child = parent.children.get(part)
        if child is not None and child.entry.kind == "symlink":
            # Unpacking writes through a lower layer's link to a folder (/lib -> usr/lib).
            child = resolve_dir(merged.root, path[: position + 1]) or child
        if child is None or child.children is None:
            # A missing parent (layers need not list their folders), or a file in its place:
            # the new entry replaces it (layer.md "Changeset over existing files").
            if child is not None:
                merged.count -= _size(child) - 1
            else:
                merged.count += 1
            child = Node(Entry(kind="dir", mode=0o755), children={})
            parent.children[part] = child
        parent = child
    assert parent.children is not None
    name = path[-1]
    existing = parent.children.get(name)
    if existing is not None and existing.children is not None and entry.kind == "dir":
        existing.entry = entry  # both folders: attributes replaced, contents merged
        return
    if existing is not None:
        merged.count -= _size(existing)
    parent.children[name] = Node(entry, children={} if entry.kind == "dir" else None)
    merged.count += 1


def _hard_link(merged: Merged, change: _Change) -> None:
    assert change.link is not None
    target = _walk(merged.root, change.link)
    if target is None or target.children is not None:
        return  # a link to nothing (or to a folder): tar cannot create it either
    source = target.entry
    _put(
        merged,
        change.path,
        Entry(
            kind=source.kind,
            mode=source.mode,
            size=source.size,
            layer=source.layer,
            offset=source.offset,
            head=source.head,
            target=source.target,
            uid=source.uid,
            early=source.early,
        ),
    )


def walk_files(root: Node) -> list[tuple[str, Entry]]:
    """Every path of the merged tree ("usr/bin/env"), in sorted order, folders included."""
    out: list[tuple[str, Entry]] = []
    stack: list[tuple[str, Node]] = [("", root)]
    while stack:
        prefix, node = stack.pop()
        if node.children is None:
            continue
        for name in sorted(node.children, reverse=True):
            child = node.children[name]
            path = f"{prefix}{name}"
            stack.append((path + "/", child))
        for name in sorted(node.children):
            out.append((f"{prefix}{name}", node.children[name].entry))
    out.sort(key=lambda item: item[0])
    return out
