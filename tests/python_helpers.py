"""Lay out Python packages the way `pip install --target` (and uv) writes them: the package's
files, and a `<name>-<version>.dist-info` folder with METADATA, WHEEL (one `Tag:` line per
tag), INSTALLER, REQUESTED and RECORD (one `path,sha256=...,size` row per file, relative to the
site folder; RECORD itself without a hash), from the committed fixtures in fixtures/pyext/."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conftest import FIXTURES
from package_helpers import Item

PYEXT = FIXTURES / "pyext"


def pyext(name: str) -> Path:
    return PYEXT / name


def pyext_manifest() -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads((FIXTURES / "pyext.json").read_text())["fixtures"]
    return entries


@dataclass(frozen=True)
class Wheel:
    """One installed distribution: `files` maps paths (relative to the site folder) to bytes
    or to a fixture file."""

    name: str  # as the project spells it: "pydantic-core"
    version: str
    tags: tuple[str, ...]
    files: dict[str, bytes | Path] = field(default_factory=dict)
    installer: str = "pip"
    generator: str = "maturin (1.7.4)"

    @property
    def dist_info(self) -> str:
        return f"{self.name.replace('-', '_')}-{self.version}.dist-info"


def _record_row(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def installed(wheel: Wheel, site: str = "") -> list[Item]:
    """The members pip writes for `wheel` into `site` ("" for a function's root)."""
    prefix = f"{site.rstrip('/')}/" if site else ""
    payloads = {
        path: data.read_bytes() if isinstance(data, Path) else data
        for path, data in wheel.files.items()
    }
    info = wheel.dist_info
    meta = {
        f"{info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {wheel.name}\nVersion: {wheel.version}\n"
            "Requires-Python: >=3.8\n\nA package.\n"
        ).encode(),
        f"{info}/WHEEL": (
            f"Wheel-Version: 1.0\nGenerator: {wheel.generator}\nRoot-Is-Purelib: false\n"
            + "".join(f"Tag: {tag}\n" for tag in wheel.tags)
        ).encode(),
        f"{info}/INSTALLER": f"{wheel.installer}\n".encode(),
        f"{info}/REQUESTED": b"",
    }
    rows = [_record_row(p, d) for p, d in {**payloads, **meta}.items()]
    rows.append(f"{info}/RECORD,,")
    meta[f"{info}/RECORD"] = ("\n".join(rows) + "\n").encode()
    mode = {path: 0o755 if path.endswith((".so", ".pyd")) else 0o644 for path in payloads}
    return [Item(prefix + p, d, mode.get(p, 0o644)) for p, d in {**payloads, **meta}.items()]


def handler(name: str = "app.py") -> Item:
    return Item(
        name, b"import spam\n\ndef handler(event, context):\n    return spam.hello()\n", 0o644
    )
