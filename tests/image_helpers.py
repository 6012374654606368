"""Write container images to the OCI image spec (and the docker save layouts) for the tests:
what no tool here writes (buildx attestation indexes, the Docker 25+ `docker save` layout) and
images from the host's own glibc. Every manifest, index, config and oci-layout written is valid
against the image-spec JSON schemas vendored in fixtures/images/schema (see `validate`)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "fixtures" / "images" / "schema"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER_TYPES = {
    "tar": "application/vnd.oci.image.layer.v1.tar",
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
}
ARCH = {"x86_64": "amd64", "arm64": "arm64"}

# A layer entry: ("file", path, bytes, mode), ("dir", path, mode), ("symlink", path, target),
# ("hardlink", path, target), ("whiteout", path), ("opaque", folder).
Entry = tuple[Any, ...]


def layer_tar(entries: list[Entry]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for entry in entries:
            _add(archive, entry)
    return out.getvalue()


def _add(archive: tarfile.TarFile, entry: Entry) -> None:
    kind, path = entry[0], entry[1]
    info = tarfile.TarInfo(path)
    info.mtime = 0
    data = b""
    if kind == "file":
        data, info.mode = entry[2], entry[3]
        info.size = len(data)
    elif kind == "dir":
        info.type, info.mode = tarfile.DIRTYPE, entry[2]
    elif kind in ("symlink", "hardlink"):
        info.type = tarfile.SYMTYPE if kind == "symlink" else tarfile.LNKTYPE
        info.linkname, info.mode = entry[2], 0o777
    elif kind == "whiteout":
        folder, _, name = path.rpartition("/")
        info.name = f"{folder}/.wh.{name}" if folder else f".wh.{name}"
    elif kind == "opaque":
        info.name = f"{path}/.wh..wh..opq"
    archive.addfile(info, io.BytesIO(data) if data else None)


def compress(data: bytes, how: str) -> bytes:
    if how == "gzip":
        return gzip.compress(data, mtime=0)
    if how == "zstd":
        import zstandard

        return bytes(zstandard.ZstdCompressor().compress(data))
    return data


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Blobs:
    """A content-addressed store: digest -> bytes."""

    data: dict[str, bytes] = field(default_factory=dict)

    def add(self, content: bytes, media: str, **extra: Any) -> dict[str, Any]:
        self.data[digest(content)] = content
        return {"mediaType": media, "digest": digest(content), "size": len(content), **extra}

    def add_json(self, document: Any, media: str, **extra: Any) -> dict[str, Any]:
        return self.add(json.dumps(document, sort_keys=True).encode(), media, **extra)


@dataclass
class Image:
    """One image: its layers (entry lists, base first) and config settings."""

    layers: list[list[Entry]]
    arch: str = "x86_64"
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    env: list[str] | None = None
    workdir: str | None = None
    compression: str = "gzip"
    layer_media: str | None = None  # a media type to write instead of the usual one

    def config(self, diff_ids: list[str]) -> dict[str, Any]:
        settings: dict[str, Any] = {}
        for key, value in (
            ("Entrypoint", self.entrypoint),
            ("Cmd", self.cmd),
            ("Env", self.env),
            ("WorkingDir", self.workdir),
        ):
            if value is not None:
                settings[key] = value
        return {
            "architecture": ARCH.get(self.arch, self.arch),
            "os": "linux",
            "config": settings,
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }

    def tars(self) -> list[bytes]:
        return [layer_tar(entries) for entries in self.layers]


def add_image(blobs: Blobs, image: Image) -> dict[str, Any]:
    """Store the image's layers, config and manifest; returns the manifest's descriptor."""
    tars = image.tars()
    layers = [
        blobs.add(
            compress(t, image.compression),
            image.layer_media or LAYER_TYPES[image.compression],
        )
        for t in tars
    ]
    config = blobs.add_json(image.config([digest(t) for t in tars]), OCI_CONFIG)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config,
        "layers": layers,
    }
    platform = {"architecture": ARCH.get(image.arch, image.arch), "os": "linux"}
    return blobs.add_json(manifest, OCI_MANIFEST, platform=platform)


def attestation_index(blobs: Blobs, image_descriptor: dict[str, Any]) -> dict[str, Any]:
    """What `docker buildx build` (0.10+, provenance on by default) pushes: an index holding the
    image manifest and an attestation manifest for platform unknown/unknown whose layer is an
    in-toto statement (docs.docker.com build/metadata/attestations/attestation-storage)."""
    statement = {"_type": "https://in-toto.io/Statement/v0.1", "predicateType": "provenance"}
    layer = blobs.add_json(
        statement,
        "application/vnd.in-toto+json",
        annotations={"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"},
    )
    config = blobs.add_json({"architecture": "unknown", "os": "unknown"}, OCI_CONFIG)
    attestation = blobs.add_json(
        {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config, "layers": [layer]},
        OCI_MANIFEST,
        platform={"architecture": "unknown", "os": "unknown"},
        annotations={
            "vnd.docker.reference.digest": image_descriptor["digest"],
            "vnd.docker.reference.type": "attestation-manifest",
        },
    )
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [image_descriptor, attestation],
    }
    return blobs.add_json(index, OCI_INDEX)


def multi_platform_index(blobs: Blobs, descriptors: list[dict[str, Any]]) -> dict[str, Any]:
    return blobs.add_json(
        {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors}, OCI_INDEX
    )


def layout_files(blobs: Blobs, top: dict[str, Any], tag: str = "latest") -> dict[str, bytes]:
    """The files of an OCI image layout whose index.json names `top` as `tag`."""
    entry = dict(top)
    entry.pop("platform", None)
    entry["annotations"] = {"org.opencontainers.image.ref.name": tag}
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [entry]}
    files = {
        "oci-layout": json.dumps({"imageLayoutVersion": "1.0.0"}).encode(),
        "index.json": json.dumps(index).encode(),
    }
    for key, content in blobs.data.items():
        files["blobs/sha256/" + key.removeprefix("sha256:")] = content
    return files


def write_folder(root: Path, files: dict[str, bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return root


def write_tar(path: Path, files: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    """An outer archive (docker save, OCI archive); `links` become symlink members."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as archive:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(files[name]), 0o644, 0
            archive.addfile(info, io.BytesIO(files[name]))
        for name, target in sorted((links or {}).items()):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            archive.addfile(info)
    return path


def docker_save_classic(path: Path, image: Image, *, linked: bool = False) -> Path:
    """`docker save` before Docker 25: manifest.json, <id>.json, <id>/layer.tar (uncompressed).
    With `linked`, as skopeo and buildah write it: <diffid>.tar files and <id>/layer.tar links."""
    tars = image.tars()
    config = json.dumps(image.config([digest(t) for t in tars])).encode()
    config_name = digest(config).removeprefix("sha256:") + ".json"
    files: dict[str, bytes] = {config_name: config}
    links: dict[str, str] = {}
    names = []
    for position, layer in enumerate(tars):
        hexdigest = digest(layer).removeprefix("sha256:")
        layer_id = hashlib.sha256(f"{position}{hexdigest}".encode()).hexdigest()
        if linked:
            files[f"{hexdigest}.tar"] = layer
            links[f"{layer_id}/layer.tar"] = f"../{hexdigest}.tar"
            names.append(f"{hexdigest}.tar")
        else:
            files[f"{layer_id}/layer.tar"] = layer
            files[f"{layer_id}/VERSION"] = b"1.0"
            names.append(f"{layer_id}/layer.tar")
    manifest = [{"Config": config_name, "RepoTags": ["app:latest"], "Layers": names}]
    files["manifest.json"] = json.dumps(manifest).encode()
    return write_tar(path, files, links)


def docker_save_25(path: Path, image: Image, *, drop_blob: str | None = None) -> Path:
    """`docker save` since Docker 25.0 (moby tarexport/save.go): an OCI layout with uncompressed
    layers, plus manifest.json naming the same blobs/sha256/<hex> files. `drop_blob` leaves a
    blob out, as the containerd store's export may (image-layout.md: blobs MAY be missing)."""
    blobs = Blobs()
    plain = Image(**{**image.__dict__, "compression": "tar"})
    descriptor = add_image(blobs, plain)
    files = layout_files(blobs, descriptor, "app:latest")
    manifest = json.loads(blobs.data[descriptor["digest"]])
    config_name = "blobs/sha256/" + manifest["config"]["digest"].removeprefix("sha256:")
    layer_names = [
        "blobs/sha256/" + layer["digest"].removeprefix("sha256:") for layer in manifest["layers"]
    ]
    entry = {"Config": config_name, "RepoTags": ["app:latest"], "Layers": layer_names}
    files["manifest.json"] = json.dumps([entry]).encode()
    if drop_blob is not None:
        files.pop("blobs/sha256/" + drop_blob.removeprefix("sha256:"))
    return write_tar(path, files)


def validate(document: Any, schema: str) -> None:
    """Validate against an image-spec schema (draft 4, `$ref`s resolved between the files)."""
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    registry: Registry[Any] = Registry()
    for path in SCHEMAS.glob("*.json"):
        contents = json.loads(path.read_text())
        resource = Resource.from_contents(contents, default_specification=DRAFT4)
        uri = f"https://opencontainers.org/schema/image/{path.name}"
        pairs = [(uri, resource)] + ([(contents["id"], resource)] if "id" in contents else [])
        registry = registry.with_resources(pairs)
    main = json.loads((SCHEMAS / schema).read_text())
    validator = jsonschema.Draft4Validator(
        {**main, "id": f"https://opencontainers.org/schema/image/{schema}"}, registry=registry
    )
    validator.validate(document)


def validate_layout(files: dict[str, bytes]) -> int:
    """Validate every JSON document of a layout by what it is; returns how many were checked."""
    checked = 0
    validate(json.loads(files["oci-layout"]), "image-layout-schema.json")
    validate(json.loads(files["index.json"]), "image-index-schema.json")
    checked += 2
    for name, content in files.items():
        if not name.startswith("blobs/"):
            continue
        try:
            document = json.loads(content)
        except (ValueError, UnicodeError):
            continue  # a layer
        if not isinstance(document, dict):
            continue
        media = document.get("mediaType")
        if media == OCI_MANIFEST or (media is None and "layers" in document):
            validate(document, "image-manifest-schema.json")
        elif media == OCI_INDEX or (media is None and "manifests" in document):
            validate(document, "image-index-schema.json")
        elif "rootfs" in document:
            validate(document, "config-schema.json")
        else:
            continue
        checked += 1
    return checked
