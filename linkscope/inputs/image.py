"""Container images as packages: a `docker save` tarball (either layout), an OCI archive or an OCI
layout folder becomes one package whose members are the files of the merged image filesystem
(`image.tar!/var/task/bootstrap`). Nothing is extracted and no daemon is asked: layer bytes stay
in the image file and are read (inflated) on demand, one member at a time."""

from __future__ import annotations

from dataclasses import dataclass

from linkscope.errors import InputError, LimitExceededError, UnsupportedArchiveError
from linkscope.inputs.blobs import BlobStore, folder_store, tar_store
from linkscope.inputs.docker import is_docker_save, read_docker_save
from linkscope.inputs.imageconfig import image_facts
from linkscope.inputs.layers import Entry, Merged, apply_layer, read_changes, walk_files
from linkscope.inputs.layerstream import LayerStream, compression_of
from linkscope.inputs.model import Limits, Member, Package, PackageKind
from linkscope.inputs.oci import ImageSpec, is_oci_layout, read_oci
from linkscope.model import ImageLayer


def read_image_file(path: str, limits: Limits, arch: str | None) -> Package:
    store = tar_store(path)
    if is_oci_layout(store):
        fmt = "docker-save-oci" if is_docker_save(store) else "oci-archive"
        return _package(path, store, _oci_or_docker(store, fmt, arch), limits)
    if is_docker_save(store):
        return _package(path, store, read_docker_save(store, "docker-save", arch), limits)
    raise UnsupportedArchiveError(
        f"{path}: a tar archive, but not a container image (no manifest.json, no oci-layout "
        "and index.json); linkscope reads `docker save` tarballs and OCI archives"
    )


def read_image_folder(path: str, limits: Limits, arch: str | None) -> Package:
    store = folder_store(path)
    return _package(path, store, read_oci(store, "oci-layout", arch), limits)


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
    """The open image: where each merged file's bytes are, and one stream per layer."""

    source: str
    entries: list[Entry]
    streams: list[LayerStream]
    limits: Limits

    def read(self, member: Member, limit: int | None = None) -> bytes:
        assert member.index is not None
        entry = self.entries[member.index]
        want = entry.size if limit is None else min(limit, entry.size)
        if want <= len(entry.head):
            return entry.head[:want]
        if want > self.limits.max_member_bytes:
            raise LimitExceededError(
                f"{member.location}: {entry.size} bytes is more than "
                f"{self.limits.max_member_bytes} (raise it with --limit file-size=N)"
            )
        stream = self.streams[entry.layer]
        stream.seek(entry.offset)
        data = stream.read(want)
        if len(data) < want:
            raise InputError(f"{member.location}: the layer ends inside this file (truncated)")
        return data

    def close(self) -> None:
        for stream in self.streams:
            stream.close()


def _package(source: str, store: BlobStore, spec: ImageSpec, limits: Limits) -> Package:
    merged, streams, layers = _apply(source, store, spec, limits)
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
    source: str, store: BlobStore, spec: ImageSpec, limits: Limits
) -> tuple[Merged, list[LayerStream], list[ImageLayer]]:
    merged = Merged()
    streams: list[LayerStream] = []
    layers: list[ImageLayer] = []
    budget = limits.max_image_bytes
    try:
        for position, ref in enumerate(spec.layers):
            region = store.region(ref.name)
            name = f"{source}!{ref.name}"
            stream = LayerStream(region, compression_of(region), name, budget)
            streams.append(stream)
            expected = ref.digest or (ref.diff_id if stream.compression == "tar" else None)
            if expected:
                stream.start_hash(expected.partition(":")[0])
            changes = read_changes(stream, position, limits.max_members)
            _verify(name, stream, expected)
            apply_layer(merged, changes, name, limits.max_members)
            size = region.size if stream.compression == "tar" else stream.high_water
            budget -= size
            layers.append(_layer(ref.digest or ref.name, ref.media_type, stream, size, merged))
    except BaseException:
        for stream in streams:
            stream.close()
        raise
    return merged, streams, layers


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
