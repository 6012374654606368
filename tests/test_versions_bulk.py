"""The version-requirement symbols picked with byte masks (elf/versions.py) against a plain loop
over every symbol: both byte orders, both classes, hidden versions, blocks of 65,536 symbols, and
version indexes of 256 and more (the slow path)."""

from __future__ import annotations

import random

import pytest

from linkscope.elf import versions
from linkscope.elf.image import make_layouts
from linkscope.elf.versions import VersionReader

COUNT = versions.BLOCK + 4_000  # two blocks


def symbols(is64: bool, little: bool, seed: int) -> tuple[bytes, bytes, list[tuple[int, int, int]]]:
    """A symbol table and its .gnu.version: (version, st_name, st_shndx) for each symbol."""
    rng = random.Random(seed)
    layouts = make_layouts(is64, little)
    rows = [
        (
            rng.choice([0, 1, 2, 3, 4, 0x8002, 0x8003, 5, 300, 0x8000 | 300, 0x102]),
            rng.choice([0, 0, 17, 1 << 20, 0x100]),
            rng.choice([0, 0, 0, 1, 0x100, 0xFFF1]),
        )
        for _ in range(COUNT)
    ]
    table = b"".join(
        layouts.sym.pack(name, 0, 0, shndx, 0, 0)
        if is64
        else layouts.sym.pack(name, 0, 0, 0, 0, shndx)
        for _version, name, shndx in rows
    )
    version_table = b"".join(layouts.u16.pack(version) for version, _name, _shndx in rows)
    return table, version_table, rows


@pytest.mark.parametrize("is64", [True, False])
@pytest.mark.parametrize("little", [True, False])
@pytest.mark.parametrize("wanted", [{2}, {2, 3, 4}, {2, 3, 4, 5, 6, 7, 8, 9, 10}, {3, 300}])
def test_masks_pick_what_a_loop_picks(is64: bool, little: bool, wanted: set[int]) -> None:
    table, version_table, rows = symbols(is64, little, seed=len(wanted) * 4 + is64 * 2 + little)
    reader = VersionReader.__new__(VersionReader)
    reader.layouts = make_layouts(is64, little)
    masks = reader._version_masks(version_table, wanted)
    picked = versions._picked(table, reader.layouts.sym.size, masks, COUNT)
    expected = [
        i
        for i, (version, name, shndx) in enumerate(rows)
        if version & 0x7FFF in wanted and shndx == 0 and name != 0
    ]
    assert picked == expected
    assert expected  # the case is not empty
