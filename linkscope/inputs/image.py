"""Container images as packages: a `docker save` tarball (either layout), an OCI archive or an OCI
layout folder becomes one package whose members are the files of the merged image filesystem
(`image.tar!/var/task/bootstrap`). Nothing is extracted and no daemon is asked: layer bytes stay
in the image file. Each layer is inflated once, in order, and what the scan needs from each file
is taken as it streams by (an EarlyReader); the few files read after that pass are inflated again
from a checkpoint, through a view that never holds a whole file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from linkscope.errors import InputError, LimitExceededError, UnsupportedArchiveError
from linkscope.inputs.blobs import BlobStore, folder_store, tar_store
from linkscope.inputs.docker import is_docker_save, read_docker_save
from linkscope.inputs.imageconfig import image_facts, wants_early
from linkscope.inputs.layerpipe import can_pipe
from linkscope.inputs.layers import (
    EarlyReader,
    Entry,
    LayerRead,
    Merged,
    apply_layer,
    read_changes,
    walk_files,
)
from linkscope.inputs.layerstream import LayerStream, compression_of
from linkscope.inputs.layerview import LayerFileView
from linkscope.inputs.model import HeadNotNeeded, Limits, Member, Package, PackageKind
from linkscope.inputs.oci import ImageSpec, is_oci_layout, read_oci
from linkscope.model import ImageLayer

if TYPE_CHECKING:
    from linkscope.elf.image import Buffer

SMALL_FILE = 1 << 20  # read whole after the pass; bigger files through a bounded view


def read_image_file(
    path: str, limits: Limits, arch: str | None, early: EarlyReader | None = None
) -> Package:
    store = tar_store(path)
    if is_oci_layout(store):
        fmt = "docker-save-oci" if is_docker_save(store) else "oci-archive"
        return _package(path, store, _oci_or_docker(store, fmt, arch), limits, early)
    if is_docker_save(store):
        return _package(path, store, read_docker_save(store, "docker-save", arch), limits, early)
    raise UnsupportedArchiveError(
        f"{path}: a tar archive, but not a container image (no manifest.json, no oci-layout "
        "and index.json); linkscope reads `docker save` tarballs and OCI archives"
    )


def read_image_folder(
    path: str, limits: Limits, arch: str | None, early: EarlyReader | None = None
) -> Package:
    store = folder_store(path)
    return _package(path, store, read_oci(store, "oci-layout", arch), limits, early)


def _oci_or_docker(store: BlobStore, fmt: str, arch: str | None) -> ImageSpec:
    """Docker 25+ writes both an OCI layout and manifest.json; the containerd store may leave
    blobs out of the OCI index (image-layout.md allows it), then manifest.json still works."""
    if fmt != "docker-save-oci":
        return read_oci(store, fmt, arch)
    try:
        return read_oci(store, fmt, arch)
    except InputError:
        return read_docker_save(store, fmt, arch)


@dataclass(slots=True)
class ImageContent:
    """The open image: where each merged file's bytes are, what was read from each file during
    the layers' pass, and (opened when a file is read after it) one stream per layer."""

    source: str
    entries: list[Entry]
    streams: list[LayerStream]  # the pass's streams, closed: where each layer is
    limits: Limits
    _random: dict[int, LayerStream] = field(default_factory=dict)

    def early(self, member: Member) -> object:
        """What the EarlyReader took from this file during the pass (None: nothing)."""
        assert member.index is not None
        return self.entries[member.index].early

    def read(self, member: Member, limit: int | None = None) -> bytes:
        entry = self._entry(member)
        want = entry.size if limit is None else min(limit, entry.size)
        if want <= len(entry.head):
            return entry.head[:want]
        self._check_size(member, want)
        stream = self._stream(entry.layer)
        stream.seek(entry.offset)
        data = stream.read(want)
        if len(data) < want:
            raise InputError(f"{member.location}: the layer ends inside this file (truncated)")
        return data

    def open(self, member: Member) -> Buffer:
        """The whole file as a buffer: bytes for a small one, else a view that inflates as it
        is read and keeps at most about 12 MiB of it."""
        entry = self._entry(member)
        if entry.size <= max(len(entry.head), SMALL_FILE):
            return self.read(member)
        self._check_size(member, entry.size)
        stream = self._stream(entry.layer)
        return LayerFileView(stream, entry.offset, entry.size, member.location, once=False)

    def _entry(self, member: Member) -> Entry:
        assert member.index is not None
        return self.entries[member.index]

    def _check_size(self, member: Member, want: int) -> None:
        if want > self.limits.max_member_bytes:
            raise LimitExceededError(
                f"{member.location}: {self._entry(member).size} bytes is more than "
                f"{self.limits.max_member_bytes} (raise it with --limit file-size=N)"
            )

    def _stream(self, layer: int) -> LayerStream:
        """A stream with checkpoints for reads after the pass (made on the first such read)."""
        stream = self._random.get(layer)
        if stream is None:
            first = self.streams[layer]
            stream = LayerStream(
                first.region, first.compression, first.name, first.limit, random_access=True
            )
            self._random[layer] = stream
        return stream

    def close(self) -> None:
        for stream in self._random.values():
            stream.close()


def _package(
    source: str, store: BlobStore, spec: ImageSpec, limits: Limits, early: EarlyReader | None
) -> Package:
    merged, streams, layers = _apply(source, store, spec, limits, early)
    entries: list[Entry] = []
    members: list[Member] = []
    # Members come in layer order, as the layers hold their bytes (like a zip's members in
    # archive order): reading them in turn inflates each layer once, never backwards.
    files = sorted(walk_files(merged.root), key=lambda f: (f[1].layer, f[1].offset, f[0]))
    for inner, entry in files:
        if entry.kind == "other":
            continue  # devices and FIFOs are never opened
        members.append(_member(source, inner, entry, len(entries)))
        entries.append(entry)
    content = ImageContent(source=source, entries=entries, streams=streams, limits=limits)
    facts = image_facts(spec, layers, merged.root, content)
    return Package(
        source=source,
        kind=PackageKind.IMAGE,
        members=tuple(members),
        zipped_size=sum(layer.size for layer in layers),
        notes=spec.notes,
        image=facts,
        content=content,
    )


def _member(source: str, inner: str, entry: Entry, index: int) -> Member:
    return Member(
        location=f"{source}!/{inner}",
        inner=inner,
        size=entry.size,
        mode=entry.mode,
        symlink_target=entry.target,
        is_dir=entry.kind == "dir",
        index=index,
    )


def _apply(
    source: str, store: BlobStore, spec: ImageSpec, limits: Limits, early: EarlyReader | None
) -> tuple[Merged, list[LayerStream], list[ImageLayer]]:
    """Each layer in one pass: listed, hashed, and its files given to `early` and to the image
    facts' reader as they stream by."""
    early = _KeepConfigFiles(early)
    merged = Merged()
    streams: list[LayerStream] = []
    layers: list[ImageLayer] = []
    budget = limits.max_image_bytes
    try:
        for position, ref in enumerate(spec.layers):
            region = store.region(ref.name)
            name = f"{source}!{ref.name}"
            compression = compression_of(region)
            piped = can_pipe(compression, region.size)  # inflated on the other core
            stream = LayerStream(region, compression, name, budget, piped=piped)
            streams.append(stream)
            expected = ref.digest or (ref.diff_id if stream.compression == "tar" else None)
            if expected:
                stream.start_hash(expected.partition(":")[0])
            layer = LayerRead(stream, position, early, limits.max_member_bytes)
            try:
                changes = read_changes(layer, limits.max_members)
                _verify(name, stream, expected)  # before closing: a piped layer's digest
            finally:
                stream.close()
            apply_layer(merged, changes, name, limits.max_members)
            size = region.size if stream.compression == "tar" else stream.high_water
            budget -= size
            layers.append(_layer(ref.digest or ref.name, ref.media_type, stream, size, merged))
    except BaseException:
        for stream in streams:
            stream.close()
        raise
    return merged, streams, layers


class _KeepConfigFiles:
    """The files the image facts read (ld.so.cache, ld.so.conf) are kept whole from the pass,
    besides what the scan's own EarlyReader wants."""

    def __init__(self, scan: EarlyReader | None) -> None:
        self.scan = scan

    def head_size(self, path: str, size: int) -> int:
        own = size if wants_early(path, size) else 0
        return max(own, self.scan.head_size(path, size) if self.scan is not None else 0)

    def take(self, path: str, mode: int, head: bytes, view: Callable[[], Buffer]) -> object:
        taken = self.scan.take(path, mode, head, view) if self.scan is not None else None
        if isinstance(taken, HeadNotNeeded) and wants_early(path, len(head)):
            return None  # the scan needs nothing more of it, the image facts need it whole
        return taken


def _verify(name: str, stream: LayerStream, expected: str | None) -> None:
    if expected is None:
        return
    try:
        actual = stream.finish_hash()
    except ValueError:
        return  # an algorithm hashlib lacks: nothing to compare with
    if actual is not None and actual != expected:
        raise InputError(
            f"{name}: the layer's content does not match its digest {expected} "
            "(corrupt or edited image)"
        )


def _layer(
    digest: str, media: str | None, stream: LayerStream, size: int, merged: Merged
) -> ImageLayer:
    return ImageLayer(
        digest=digest,
        media_type=media,
        compression=stream.compression,
        size=stream.region.size,
        uncompressed_size=size,
        hard_links=merged.hard_links[-1] if merged.hard_links else 0,
    )
