"""Build deployment packages (function zips, layers, folders) from the fixtures, the way users'
tools do: `zip` on Linux (mode bits), Windows tools (no mode bits), symlinks stored by `zip -y`."""

from __future__ import annotations

import stat
import struct
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from conftest import BIN

HOST_LIBSTDCXX = Path("/usr/lib/x86_64-linux-gnu/libstdc++.so.6")


@dataclass(frozen=True)
class Item:
    """One member: `data` is bytes, or a Path to a file whose bytes are used."""

    name: str
    data: bytes | Path = b""
    mode: int | None = 0o755  # None: made on Windows (create_system 0, no Unix bits)
    link: str | None = None  # a symlink to this target
    directory: bool = False

    def payload(self) -> bytes:
        if self.link is not None:
            return self.link.encode()
        return self.data.read_bytes() if isinstance(self.data, Path) else self.data


def fixture(name: str) -> Path:
    return BIN / name


def make_zip(path: Path, items: Iterable[Item], *, method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as archive:
        for item in items:
            archive.writestr(info_for(item, method), item.payload())
    return path


def info_for(item: Item, method: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    name = item.name + ("/" if item.directory and not item.name.endswith("/") else "")
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.compress_type = method
    if item.mode is None:
        info.create_system = 0  # MS-DOS/Windows: external_attr holds DOS attributes only
        info.external_attr = 0x10 if item.directory else 0x20  # FILE_ATTRIBUTE_ARCHIVE
        return info
    info.create_system = 3
    kind = (
        stat.S_IFLNK if item.link is not None else stat.S_IFDIR if item.directory else stat.S_IFREG
    )
    info.external_attr = (kind | item.mode) << 16
    if item.directory:
        info.external_attr |= 0x10
    return info


def make_folder(root: Path, items: Iterable[Item]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for item in items:
        target = root / item.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if item.directory:
            target.mkdir(exist_ok=True)
        elif item.link is not None:
            target.symlink_to(item.link)
        else:
            target.write_bytes(item.payload())
            if item.mode is not None:
                target.chmod(item.mode)
    return root


def go_function(path: Path, *, mode: int | None = 0o755) -> Path:
    return make_zip(path, [Item("bootstrap", fixture("go_bootstrap_x86_64"), mode)])


def rules_of(report: object) -> set[str]:
    return {f.rule for f in report.findings}  # type: ignore[attr-defined]


def findings(report: object, rule: str) -> list:  # type: ignore[type-arg]
    return [f for f in report.findings if f.rule == rule]  # type: ignore[attr-defined]


def cli_main() -> Callable[[Sequence[str] | None], int]:
    from check_helpers import cli_main as typed

    return typed()


def patch_sizes(
    path: Path, name: str, *, file_size: int | None = None, flag_bits: int | None = None
) -> None:
    """Rewrite one member's header fields in place (local and central), as a hostile tool
    would: a declared size that lies, or an encryption flag."""
    data = bytearray(path.read_bytes())
    encoded = name.encode()
    layouts = ((b"PK\x01\x02", 46, 28, 24, 8), (b"PK\x03\x04", 30, 26, 22, 6))
    for signature, name_at, length_at, size_at, flag_at in layouts:
        start = 0
        while (at := data.find(signature, start)) >= 0:
            length = struct.unpack_from("<H", data, at + length_at)[0]
            if bytes(data[at + name_at : at + name_at + length]) == encoded:
                if file_size is not None:
                    struct.pack_into("<I", data, at + size_at, file_size)
                if flag_bits is not None:
                    struct.pack_into("<H", data, at + flag_at, flag_bits)
            start = at + 4
    path.write_bytes(bytes(data))
