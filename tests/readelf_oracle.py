"""GNU readelf as an independent oracle: run it, parse its text into the same structured facts
linkscope produces, so that tests compare values, not formatting."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field

READELF = shutil.which("readelf")

MACHINES = {
    "Advanced Micro Devices X86-64": 62,
    "AArch64": 183,
    "ARM": 40,
    "Intel 80386": 3,
    "PowerPC64": 21,
    "PowerPC": 20,
    "IBM S/390": 22,
    "RISC-V": 243,
    "MIPS R3000": 8,
    "LoongArch": 258,
    "Sparc v9": 43,
}


@dataclass
class ReadelfFacts:
    elf_class: int = 0
    endianness: str = ""
    e_type: str = ""
    e_machine: int | None = None
    interpreter: str | None = None
    needed: list[str] = field(default_factory=list)
    soname: str | None = None
    rpath: list[str] = field(default_factory=list)
    runpath: list[str] = field(default_factory=list)
    flags_1: list[str] = field(default_factory=list)
    has_dynamic: bool = False
    verneed: list[tuple[str, str, bool]] = field(default_factory=list)
    verdef: list[str] = field(default_factory=list)
    undefined_versioned: set[tuple[str, str]] = field(default_factory=set)


_DYN_RE = re.compile(r"^\s*0x[0-9a-f]+\s+\((\w+)\)\s+(.*)$")
_BRACKET_RE = re.compile(r"\[(.*)\]")
_VERNEED_FILE_RE = re.compile(r"^\s*0x?[0-9a-f]+:\s+Version: \d+\s+File: (\S+)\s+Cnt: \d+")
_VERNEED_NAME_RE = re.compile(r"^\s*0x[0-9a-f]+:\s+Name: (\S+)\s+Flags: (.*?)\s+Version: \d+")
_VERDEF_RE = re.compile(
    r"^\s*0x?[0-9a-f]+: Rev: \d+\s+Flags: (\S+(?: \S+)*?)\s+Index: \d+\s+Cnt: \d+\s+Name: (\S+)"
)
_SYM_RE = re.compile(
    r"^\s*\d+:\s+[0-9a-f]+\s+\S+\s+\S+\s+\S+\s+\S+\s+UND\s+(\S+?)@(\S+?)(?:\s+\(\d+\))?$"
)


def run_readelf(path: str) -> ReadelfFacts:
    assert READELF is not None
    out = subprocess.run(
        [READELF, "-hlWdV", "--dyn-syms", path],
        capture_output=True,
        text=True,
        errors="replace",
        check=False,
    ).stdout
    facts = ReadelfFacts()
    section = ""
    for line in out.splitlines():
        section = _section(line, section)
        _header(facts, line)
        if "Requesting program interpreter:" in line:
            facts.interpreter = line.split(":", 1)[1].strip().rstrip("]")
        elif line.startswith("Dynamic section at offset"):
            facts.has_dynamic = True
        elif (match := _DYN_RE.match(line)) is not None:
            _dynamic(facts, match.group(1), match.group(2))
        elif section == "verneed":
            _verneed(facts, line)
        elif section == "verdef" and (match := _VERDEF_RE.match(line)) is not None:
            if "BASE" not in match.group(1):
                facts.verdef.append(match.group(2))
        elif section == "dynsym" and (match := _SYM_RE.match(line)) is not None:
            facts.undefined_versioned.add((match.group(1), match.group(2)))
    return facts


def _section(line: str, current: str) -> str:
    if line.startswith("Version needs section"):
        return "verneed"
    if line.startswith("Version definition section"):
        return "verdef"
    if line.startswith("Version symbols section"):
        return "versym"
    if line.startswith("Symbol table '.dynsym'"):
        return "dynsym"
    if line.startswith(("Symbol table", "Program Headers", "Section to Segment")):
        return "other"
    return current


def _header(facts: ReadelfFacts, line: str) -> None:
    stripped = line.strip()
    if stripped.startswith("Class:"):
        facts.elf_class = 64 if "ELF64" in stripped else 32
    elif stripped.startswith("Data:"):
        facts.endianness = "little" if "little" in stripped else "big"
    elif stripped.startswith("Type:"):
        facts.e_type = stripped.split(":", 1)[1].split()[0]
    elif stripped.startswith("Machine:"):
        name = stripped.split(":", 1)[1].strip()
        facts.e_machine = MACHINES.get(name)


def _dynamic(facts: ReadelfFacts, tag: str, value: str) -> None:
    bracket = _BRACKET_RE.search(value)
    text = bracket.group(1) if bracket else value
    if tag == "NEEDED":
        facts.needed.append(text)
    elif tag == "SONAME":
        facts.soname = text
    elif tag == "RPATH":
        facts.rpath.extend(p for p in text.split(":") if p)
    elif tag == "RUNPATH":
        facts.runpath.extend(p for p in text.split(":") if p)
    elif tag == "FLAGS_1":
        facts.flags_1 = value.replace("Flags:", "").split()


def _verneed(facts: ReadelfFacts, line: str) -> None:
    if (match := _VERNEED_FILE_RE.match(line)) is not None:
        facts.verneed.append((match.group(1), "", False))
    elif (match := _VERNEED_NAME_RE.match(line)) is not None and facts.verneed:
        library = facts.verneed[-1][0]
        if facts.verneed[-1][1] == "":
            facts.verneed.pop()
        facts.verneed.append((library, match.group(1), "WEAK" in match.group(2)))
