"""`docker save` tarballs: the classic layout (`manifest.json` naming `<id>.json` and
`<id>/layer.tar`, which skopeo and buildah write as links to `<diffid>.tar`) and, for Docker 25+
(an OCI layout in the same tar), `manifest.json` as the fallback when the OCI index names blobs
the tar lacks (moby `image/spec/v1.2.md`; `daemon/internal/image/tarexport/save.go`)."""

from __future__ import annotations

from typing import Any

from linkscope.errors import InputError
from linkscope.inputs.blobs import BlobStore
from linkscope.inputs.oci import OCI_ARCH, ImageSpec, LayerRef, _diff_ids

MAX_LAYERS = 1000


def is_docker_save(store: BlobStore) -> bool:
    return store.has("manifest.json")


def read_docker_save(store: BlobStore, fmt: str, arch: str | None) -> ImageSpec:
    document = store.read_json("manifest.json")
    if not isinstance(document, list) or not document:
        raise InputError(f"{store.source}!manifest.json: not a list of images")
    notes: list[str] = []
    entries = [e for e in document if isinstance(e, dict) and isinstance(e.get("Config"), str)]
    if not entries:
        raise InputError(f"{store.source}!manifest.json: names no image config")
    configs = [(entry, _config(store, entry["Config"])) for entry in entries]
    entry, config = _choose(configs, arch)
    if len(entries) > 1:
        tags = entry.get("RepoTags") or [entry["Config"]]
        notes.append(f"{store.source} holds {len(entries)} images; linkscope read {tags[0]}")
    names = entry.get("Layers")
    if not isinstance(names, list) or len(names) > MAX_LAYERS:
        raise InputError(f"{store.source}!manifest.json: `Layers` is not a list of paths")
    diff_ids = _diff_ids(config)
    layers = tuple(
        LayerRef(
            name=str(name),
            digest=_digest_in_name(str(name)),
            media_type=None,
            diff_id=diff_ids[i] if i < len(diff_ids) else None,
        )
        for i, name in enumerate(names)
    )
    return ImageSpec(
        format=fmt,
        manifest_media_type=None,
        config_media_type=None,
        config=config,
        layers=layers,
        notes=tuple(notes),
    )


def _config(store: BlobStore, name: str) -> dict[str, Any]:
    config = store.read_json(name, _digest_in_name(name))
    if not isinstance(config, dict):
        raise InputError(f"{store.source}!{name}: the image config is not a JSON object")
    return config


def _choose(
    configs: list[tuple[dict[str, Any], dict[str, Any]]], arch: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    want = OCI_ARCH.get(arch or "x86_64")
    for entry, config in configs:
        if config.get("architecture") == want:
            return entry, config
    return configs[0]


def _digest_in_name(name: str) -> str | None:
    """`blobs/sha256/<hex>` and `<hex>.json` name their content's sha256."""
    base = name.rsplit("/", 1)[-1].removesuffix(".json")
    named_by_digest = name.startswith("blobs/sha256/") or name.endswith(".json")
    is_hex = len(base) == 64 and all(c in "0123456789abcdef" for c in base)
    return f"sha256:{base}" if named_by_digest and is_hex else None
