"""OCI image layouts (a folder, an OCI archive tar, or the OCI half of a Docker 25+ `docker save`):
`oci-layout`, `index.json`, then the index followed to the image manifest for the function's
architecture, its config and its layer descriptors (OCI image-spec `image-layout.md`,
`image-index.md`, `manifest.md`). Every blob read is checked against its digest."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from linkscope.errors import InputError
from linkscope.inputs.blobs import BlobStore, blob_name
from linkscope.model import IndexEntry

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_SCHEMA1 = (
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
)
INDEXES = (OCI_INDEX, DOCKER_LIST)
MANIFESTS = (OCI_MANIFEST, DOCKER_MANIFEST)
# Lambda's architecture names and the OCI/Go GOARCH names for them (image-spec config.md).
OCI_ARCH = {"x86_64": "amd64", "arm64": "arm64"}
MAX_INDEX_DEPTH = 4
MAX_LAYERS = 1000
ATTESTATION = "attestation-manifest"


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerRef:
    name: str  # where its bytes are in the store
    digest: str | None  # digest of the stored (compressed) bytes, when the format says it
    media_type: str | None
    diff_id: str | None = None  # digest of the uncompressed tar (config rootfs.diff_ids)


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageSpec:
    """What an image's metadata says, before any layer is read."""

    format: str
    manifest_media_type: str | None
    config_media_type: str | None
    config: dict[str, Any]
    layers: tuple[LayerRef, ...]
    index_media_type: str | None = None
    index: tuple[IndexEntry, ...] = ()
    notes: tuple[str, ...] = field(default=())


def is_oci_layout(store: BlobStore) -> bool:
    return store.has("oci-layout") and store.has("index.json")


def read_oci(store: BlobStore, fmt: str, arch: str | None) -> ImageSpec:
    layout = store.read_json("oci-layout")
    if not isinstance(layout, dict) or "imageLayoutVersion" not in layout:
        raise InputError(f"{store.source}: oci-layout has no imageLayoutVersion")
    top = _as_index(store.read_json("index.json"), store.source, "index.json")
    notes: list[str] = []
    entries = _entries(top, store.source)
    chosen = _top_entry(entries, arch, notes, store.source)
    index_type: str | None = None
    flat: list[IndexEntry] = []
    if len(entries) > 1 and chosen.get("_multi"):
        index_type = top.get("mediaType") or OCI_INDEX
        flat = [_index_entry(e) for e in entries]
    descriptor = chosen
    for _depth in range(MAX_INDEX_DEPTH):
        media = _media(descriptor)
        if media not in INDEXES:
            break
        nested = _as_index(
            store.read_json(blob_name(_digest(descriptor)), _digest(descriptor)),
            store.source,
            _digest(descriptor),
        )
        index_type = index_type or nested.get("mediaType") or media
        children = _entries(nested, store.source)
        flat.extend(_index_entry(e) for e in children)
        descriptor = _pick(children, arch, notes, store.source)
    else:
        raise InputError(f"{store.source}: image indexes nested more than {MAX_INDEX_DEPTH} deep")
    return _from_manifest(store, fmt, descriptor, index_type, tuple(flat), notes)


def _from_manifest(
    store: BlobStore,
    fmt: str,
    descriptor: dict[str, Any],
    index_type: str | None,
    index: tuple[IndexEntry, ...],
    notes: list[str],
) -> ImageSpec:
    digest = _digest(descriptor)
    manifest = store.read_json(blob_name(digest), digest)
    if not isinstance(manifest, dict):
        raise InputError(f"{store.source}: manifest {digest} is not a JSON object")
    media = manifest.get("mediaType") or _media(descriptor)
    if media in DOCKER_SCHEMA1 or manifest.get("schemaVersion") == 1:
        raise InputError(
            f"{store.source}: a Docker schema 1 manifest, which Lambda does not accept "
            "(and linkscope does not read): rebuild the image with a current Docker or buildah"
        )
    config_descriptor = manifest.get("config")
    if not isinstance(config_descriptor, dict):
        raise InputError(f"{store.source}: manifest {digest} has no config")
    config_digest = _digest(config_descriptor)
    config = store.read_json(blob_name(config_digest), config_digest)
    if not isinstance(config, dict):
        raise InputError(f"{store.source}: config {config_digest} is not a JSON object")
    return ImageSpec(
        format=fmt,
        manifest_media_type=media,
        config_media_type=config_descriptor.get("mediaType"),
        config=config,
        layers=_layers(store, manifest, config, notes),
        index_media_type=index_type,
        index=index,
        notes=tuple(notes),
    )


def _layers(
    store: BlobStore, manifest: dict[str, Any], config: dict[str, Any], notes: list[str]
) -> tuple[LayerRef, ...]:
    descriptors = manifest.get("layers")
    if not isinstance(descriptors, list) or len(descriptors) > MAX_LAYERS:
        raise InputError(f"{store.source}: the manifest's layers are not a list of descriptors")
    diff_ids = _diff_ids(config)
    layers = []
    for position, descriptor in enumerate(descriptors):
        if not isinstance(descriptor, dict):
            raise InputError(f"{store.source}: layer {position} is not a descriptor")
        digest = _digest(descriptor)
        name = blob_name(digest)
        media = descriptor.get("mediaType")
        if not store.has(name) and isinstance(media, str) and _foreign(media):
            notes.append(f"layer {digest} ({media}) is not in the image: not read")
            continue
        layers.append(
            LayerRef(
                name=name,
                digest=digest,
                media_type=media if isinstance(media, str) else None,
                diff_id=diff_ids[position] if position < len(diff_ids) else None,
            )
        )
    return tuple(layers)


def _foreign(media: str) -> bool:
    return "nondistributable" in media or "foreign" in media


def _diff_ids(config: dict[str, Any]) -> list[str]:
    rootfs = config.get("rootfs")
    ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    return [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else []


def _as_index(document: Any, source: str, name: str) -> dict[str, Any]:
    if not isinstance(document, dict) or not isinstance(document.get("manifests"), list):
        raise InputError(f"{source}!{name}: not an image index (no `manifests` list)")
    return document


def _entries(index: dict[str, Any], source: str) -> list[dict[str, Any]]:
    entries = [e for e in index["manifests"] if isinstance(e, dict)]
    if not entries:
        raise InputError(f"{source}: index.json lists no image")
    return entries


def _top_entry(
    entries: list[dict[str, Any]], arch: str | None, notes: list[str], source: str
) -> dict[str, Any]:
    """index.json of a layout lists tags (each named by `org.opencontainers.image.ref.name`),
    or, as buildx and containerd write it, the platforms of one image: then it is the index
    that would be pushed."""
    if len(entries) == 1:
        return entries[0]
    names = [_annotations(e).get("org.opencontainers.image.ref.name") for e in entries]
    if None not in names and len(set(names)) == len(entries):
        # Tools append each new tag (umoci config --tag, skopeo copy): the last is the newest.
        notes.append(
            f"{source} holds {len(entries)} tagged images ({', '.join(map(str, names))}); "
            f"linkscope read the last, {names[-1]!r}"
        )
        return entries[-1]
    chosen = dict(_pick(entries, arch, notes, source))
    chosen["_multi"] = True
    return chosen


def _pick(
    entries: list[dict[str, Any]], arch: str | None, notes: list[str], source: str
) -> dict[str, Any]:
    """The manifest for the function's architecture (attestations are never picked)."""
    images = [e for e in entries if not _index_entry(e).attestation]
    if not images:
        raise InputError(f"{source}: the image index holds only attestations, no image")
    want = OCI_ARCH.get(arch or "x86_64")
    for entry in images:
        platform = entry.get("platform")
        if isinstance(platform, dict) and platform.get("architecture") == want:
            return entry
    if len(images) > 1:
        notes.append(f"{source}: no {want} image in the index; linkscope read the first")
    return images[0]


def _index_entry(entry: dict[str, Any]) -> IndexEntry:
    platform = entry.get("platform")
    text = None
    if isinstance(platform, dict):
        parts = [platform.get("os"), platform.get("architecture"), platform.get("variant")]
        text = "/".join(str(p) for p in parts if p)
    annotations = _annotations(entry)
    attestation = annotations.get("vnd.docker.reference.type") == ATTESTATION or (
        text == "unknown/unknown"
    )
    return IndexEntry(
        media_type=_media(entry) or "",
        digest=str(entry.get("digest", "")),
        platform=text,
        attestation=attestation,
    )


def _annotations(entry: dict[str, Any]) -> dict[str, Any]:
    value = entry.get("annotations")
    return value if isinstance(value, dict) else {}


def _media(descriptor: dict[str, Any]) -> str | None:
    value = descriptor.get("mediaType")
    return value if isinstance(value, str) else None


def _digest(descriptor: dict[str, Any]) -> str:
    value = descriptor.get("digest")
    if not isinstance(value, str):
        raise InputError(f"a descriptor without a digest: {str(descriptor)[:80]}")
    return value
