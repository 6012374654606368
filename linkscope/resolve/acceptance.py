"""What ld.so does with a file it finds under a needed name: load it, pass over it and search on
(another class or machine), or refuse it and stop there, failing the whole program.

From glibc's `elf/dl-load.c` (`open_verify`, `_dl_map_object_from_fd`), in the order it checks,
and confirmed with glibc 2.36's loader (tests/test_loader_edges.py): a linker script under
`libfoo.so` is "invalid ELF header" and the search does not go on to the real library after it.
"""

from __future__ import annotations

from dataclasses import dataclass

from linkscope.model import BinaryFacts, ElfType, EntryKind
from linkscope.resolve.fs import Node

ELF_HEADER_SIZE = {32: 52, 64: 64}
LOADABLE_OS_ABI = ("sysv", "gnu")  # VALID_ELF_OSABI on Linux: ELFOSABI_SYSV, ELFOSABI_GNU


@dataclass(frozen=True, slots=True)
class Acceptance:
    load: bool
    refused: str = ""  # glibc's reason when it stops at this file; "" and not load: search on


LOAD = Acceptance(load=True)
SEARCH_ON = Acceptance(load=False)


def accept(node: Node, root: BinaryFacts) -> Acceptance:
    """ld.so's verdict on `node` for a process whose main object is `root`."""
    facts = node.facts
    if facts is None:
        return _without_facts(node, root)
    if facts.elf_class != root.elf_class:
        return SEARCH_ON  # "not fatal: 32-bit and 64-bit binaries may both run here"
    if facts.endianness != root.endianness:
        return Acceptance(False, f"ELF file data encoding not {root.endianness}-endian")
    if facts.os_abi not in LOADABLE_OS_ABI:
        return Acceptance(False, "ELF file OS ABI invalid")
    if facts.e_machine != root.e_machine:
        return SEARCH_ON
    return _by_type(facts)


def _without_facts(node: Node, root: BinaryFacts) -> Acceptance:
    if node.library is not None:
        return LOAD  # a profile's library: the runtime's own, for the runtime's architecture
    if node.kind is EntryKind.UNREADABLE:
        return Acceptance(False, "unreadable or corrupt ELF file")
    if node.size is not None and node.size < ELF_HEADER_SIZE.get(root.elf_class, 64):
        return Acceptance(False, "file too short")
    return Acceptance(False, "invalid ELF header")


def _by_type(facts: BinaryFacts) -> Acceptance:
    if facts.elf_type in (ElfType.RELOCATABLE, ElfType.CORE):
        return Acceptance(False, "only ET_DYN and ET_EXEC can be loaded")
    if facts.elf_type is ElfType.EXECUTABLE:
        return Acceptance(False, "cannot dynamically load executable")
    if "PIE" in facts.flags_1:  # DF_1_PIE, not linkscope's guess that an ET_DYN is a program
        return Acceptance(False, "cannot dynamically load position-independent executable")
    return LOAD
