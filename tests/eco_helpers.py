"""Lay out the ecosystem fixtures the way npm, Bundler, Maven and dotnet do, inside function
zips and layers: `package.json` files as the npm registry serves them, `.package-lock.json`,
gem folders, jars (built with zipfile, stored the way `jar` stores them), `*.deps.json`."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from conftest import BIN
from package_helpers import Item, make_zip

ECO = BIN / "eco"
HANDLER = b"exports.handler = async () => require('./lib').run();\n"


def eco(name: str) -> Path:
    return ECO / name


def package_json(name: str, version: str, **fields: Any) -> bytes:
    """A package.json as npm publishes it (npm 7+ leaves it unchanged when installing)."""
    return json.dumps({"name": name, "version": version, **fields}, indent=2).encode()


def npm_package(
    name: str,
    version: str,
    files: Sequence[tuple[str, Path | bytes]],
    root: str = "",
    **fields: Any,
) -> list[Item]:
    folder = f"{root}node_modules/{name}"
    items = [Item(f"{folder}/package.json", package_json(name, version, **fields), 0o644)]
    items += [Item(f"{folder}/{path}", data, 0o755) for path, data in files]
    return items


def sharp_like(platforms: Iterable[tuple[str, str, Path]], root: str = "") -> list[Item]:
    """A loader package `imgkit` (like sharp 0.33+) with optional platform packages
    `@imgkit/imgkit-<os>-<cpu>`, and the ones given installed: (os, cpu, addon fixture)."""
    offered = [f"@imgkit/imgkit-{o}-{c}" for o in ("linux", "darwin") for c in ("x64", "arm64")]
    offered.append("@imgkit/imgkit-wasm32")
    items = npm_package(
        "imgkit",
        "0.33.5",
        [("lib/index.js", b"module.exports = require('./sharp');\n")],
        root,
        main="lib/index.js",
        optionalDependencies={name: "0.33.5" for name in offered},
    )
    for os_name, cpu, addon in platforms:
        name = f"@imgkit/imgkit-{os_name}-{cpu}"
        libc = {"libc": ["glibc"]} if os_name == "linux" else {}
        items += npm_package(
            name,
            "0.33.5",
            [(f"lib/imgkit-{os_name}-{cpu}.node", addon)],
            root,
            os=[os_name],
            cpu=[cpu],
            **libc,
        )
    return items


def node_function(path: Path, items: Iterable[Item]) -> Path:
    base = [
        Item("index.js", HANDLER, 0o644),
        Item("package.json", package_json("my-function", "1.0.0"), 0o644),
        Item("node_modules/.package-lock.json", b'{"lockfileVersion": 3}', 0o644),
    ]
    return make_zip(path, [*base, *items])


def jar(members: Iterable[tuple[str, Path | bytes]]) -> bytes:
    """A jar as `jar cf` writes it: META-INF/MANIFEST.MF first, then the entries."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("META-INF/", b"")
        archive.writestr("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\nCreated-By: 17\r\n\r\n")
        for name, data in members:
            archive.writestr(name, data.read_bytes() if isinstance(data, Path) else data)
    return buffer.getvalue()
