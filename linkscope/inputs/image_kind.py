"""Whether a path is a container image, from a few bytes or two file names: kept apart from
the image reader (`image.py`, which imports tarfile and hashlib) so that reading any other file
or folder does not import it."""

from __future__ import annotations

import os

TAR_MAGIC_OFFSET = 257


def looks_like_tar(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            handle.seek(TAR_MAGIC_OFFSET)
            return handle.read(5) == b"ustar"
    except OSError:
        return False


def looks_like_compressed_tar(path: str) -> bool:
    """`docker save | gzip` output: named .tar.gz/.tgz/.tar.zst and starting with the magic."""
    name = path.lower()
    if not name.endswith((".tar.gz", ".tgz", ".tar.zst", ".tar.zstd")):
        return False
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
    except OSError:
        return False
    return head.startswith((b"\x1f\x8b", b"\x28\xb5\x2f\xfd"))


def is_image_folder(path: str) -> bool:
    has = os.path.isfile
    return has(os.path.join(path, "oci-layout")) and has(os.path.join(path, "index.json"))
