#!/usr/bin/env python3
"""A deterministic mutation campaign against linkscope's readers (issue 7).

    .venv/bin/python bench/fuzz.py --inputs 100000 --workers 2        # the full campaign
    .venv/bin/python bench/fuzz.py --inputs 2000                      # a quick smoke run
    .venv/bin/python bench/fuzz.py --replay 4711 --save /tmp/x.bin    # rebuild one input

Seeds: the committed fixtures (fixtures/bin), a seeded sample of the host's ELF files
(/usr/bin, /usr/lib/x86_64-linux-gnu) and, when present, third-party binaries under
the folder named by $LINKSCOPE_FUZZ_CORPUS. Third-party seeds are read in place and never
copied into the repository.

Input number N is built from `random.Random(f"{seed}:{N}")` alone, so any input can be rebuilt
with --replay N (same seeds on the same machine). Mutations: bit flips, byte smashes, smashes of
known fields (ELF header, PT_DYNAMIC/PT_INTERP/PT_NOTE/PT_LOAD program headers, dynamic entries
such as DT_STRTAB or DT_VERNEEDNUM, vn_next/vna_next chains, section headers of .dynsym,
.gnu.version, .go.buildinfo, .dep-v0, .comment, GNU hash headers, note headers, Go build info),
truncation, splices; zip damage (end-of-central-directory counts and offsets, central directory
and local header sizes, methods, flags, name lengths, the compressed data itself); folders that
mix damaged and healthy files; and random byte strings behind an ELF magic.

Each input is written to a tmpfs file and run in-process through `linkscope.api.inspect` and
`linkscope.api.check` (and, for a sample, `linkscope.cli.main` for `inspect` and `check`). The
outcome is facts, or a LinkscopeError (a clean, reported error). Anything else is a crash: its
type, message and the frame that raised it are recorded and the input saved in the crash folder.
Each input runs under a watchdog (SIGALRM): over --hang-seconds (2 s) counts as a hang (it is
timed again to rule out noise) and the input is saved; a hard limit aborts it. Memory: peak RSS
per worker (getrusage) and, on a sample, the peak Python heap of one input (tracemalloc). A worker
that dies (signal, out of memory) is reported with the input it was running and restarted.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import multiprocessing
import os
import random
import resource
import shutil
import signal
import stat
import struct
import sys
import tempfile
import time
import traceback
import tracemalloc
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from linkscope import api, cli  # noqa: E402
from linkscope.elf.dynamic import dynamic_segment  # noqa: E402
from linkscope.elf.headers import read_header, read_sections, read_segments, vaddr_to_offset  # noqa: E402
from linkscope.elf.image import Image  # noqa: E402
from linkscope.errors import LimitExceededError, LinkscopeError  # noqa: E402

HOST_DIRS = ("/usr/bin", "/usr/lib/x86_64-linux-gnu")
HOST_ALWAYS = (
    "/usr/lib/x86_64-linux-gnu/libc.so.6",
    "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
    "/usr/lib/x86_64-linux-gnu/libm.so.6",
    "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
    "/usr/lib/x86_64-linux-gnu/libcrypto.so.3",
    "/usr/lib/x86_64-linux-gnu/libz.so.1",
    "/usr/lib/x86_64-linux-gnu/libgcc_s.so.1",
)
# Third-party binaries to seed from, if the machine has some (never committed): a folder.
CORPUS = Path(os.environ.get("LINKSCOPE_FUZZ_CORPUS", "") or "/nonexistent")
MAX_SEED_BYTES = 4 << 20  # keeps the campaign's memory about the code, not about the seeds
TARGETS = (
    ("provided.al2023", "x86_64"),
    ("provided.al2023", "arm64"),
    ("provided.al2", "x86_64"),
    ("provided.al2", "arm64"),
    ("provided", "x86_64"),
    ("python3.12", "x86_64"),
    ("nodejs20.x", "arm64"),
    ("java21", "x86_64"),
)


class Hang(BaseException):
    """Raised by the watchdog; a BaseException so that no `except Exception` swallows it."""


# ---------------------------------------------------------------------------------- seeds


@dataclass
class Field:
    offset: int
    width: int
    name: str
    little: bool


@dataclass
class Seed:
    path: str
    size: int
    origin: str  # fixture | host | corpus
    fields: list[Field] = field(default_factory=list)


def _is_elf(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == b"\x7fELF"
    except OSError:
        return False


def collect_seeds(seed: int, host_count: int, corpus_count: int, seed_dir: str) -> list[Seed]:
    seeds: list[Seed] = []
    for path in sorted((ROOT / "fixtures" / "bin").iterdir()):
        if path.is_file() and _is_elf(str(path)):
            seeds.append(Seed(str(path), path.stat().st_size, "fixture"))
    host: list[str] = []
    for directory in HOST_DIRS:
        if not os.path.isdir(directory):
            continue
        for name in sorted(os.listdir(directory)):
            full = os.path.join(directory, name)
            try:
                info = os.lstat(full)
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode) and 0 < info.st_size <= MAX_SEED_BYTES and _is_elf(full):
                host.append(full)
    chosen = [p for p in HOST_ALWAYS if os.path.isfile(p) and os.path.getsize(p) <= MAX_SEED_BYTES]
    rest = [p for p in host if p not in chosen]
    chosen += random.Random(seed).sample(rest, min(host_count, len(rest)))
    seeds += [Seed(p, os.path.getsize(p), "host") for p in chosen]
    if CORPUS.is_dir() and corpus_count > 0:
        corpus = sorted(
            str(p)
            for p in CORPUS.rglob("*")
            if p.is_file()
            and not p.is_symlink()
            and p.stat().st_size <= MAX_SEED_BYTES
            and _is_elf(str(p))
        )
        corpus = random.Random(seed + 1).sample(corpus, min(corpus_count, len(corpus)))
        # Copied to a private temporary folder (never into the repository): the corpus may be
        # growing while the campaign runs, and input N must stay the same input.
        os.makedirs(seed_dir, exist_ok=True)
        for number, source in enumerate(sorted(corpus)):
            copy = os.path.join(seed_dir, f"{number:04d}-{os.path.basename(source)}")
            shutil.copyfile(source, copy)
            seeds.append(Seed(copy, os.path.getsize(copy), "corpus"))
    for s in seeds:
        s.fields = locate_fields(Path(s.path).read_bytes())
    return seeds


def locate_fields(data: bytes) -> list[Field]:  # noqa: C901, PLR0912, PLR0915 - one walk over the format
    """File offsets of the fields whose damage reaches the deepest code: found with linkscope's
    own header reader on the (healthy) seed, then walked by hand."""
    fields: list[Field] = []
    try:
        image = Image(data, "seed")
        header, layouts = read_header(image)
        segments = read_segments(image, header, layouts)
        sections = read_sections(image, header, layouts)
    except LinkscopeError:
        return fields
    is64, little = header.is64, header.little
    e = "<" if little else ">"
    word = 8 if is64 else 4

    def add(offset: int, width: int, name: str) -> None:
        if offset >= 0 and offset + width <= len(data):
            fields.append(Field(offset, width, name, little))

    add(4, 1, "EI_CLASS")
    add(5, 1, "EI_DATA")
    add(16, 2, "e_type")
    add(18, 2, "e_machine")
    if is64:
        for off, w, n in (
            (24, 8, "e_entry"),
            (32, 8, "e_phoff"),
            (40, 8, "e_shoff"),
            (48, 4, "e_flags"),
            (54, 2, "e_phentsize"),
            (56, 2, "e_phnum"),
            (58, 2, "e_shentsize"),
            (60, 2, "e_shnum"),
            (62, 2, "e_shstrndx"),
        ):
            add(off, w, n)
        ph = {
            "p_type": (0, 4),
            "p_offset": (8, 8),
            "p_vaddr": (16, 8),
            "p_filesz": (32, 8),
            "p_memsz": (40, 8),
            "p_align": (48, 8),
        }
        sh = {
            "sh_name": (0, 4),
            "sh_type": (4, 4),
            "sh_addr": (16, 8),
            "sh_offset": (24, 8),
            "sh_size": (32, 8),
            "sh_link": (40, 4),
            "sh_info": (44, 4),
            "sh_entsize": (56, 8),
        }
    else:
        for off, w, n in (
            (24, 4, "e_entry"),
            (28, 4, "e_phoff"),
            (32, 4, "e_shoff"),
            (36, 4, "e_flags"),
            (42, 2, "e_phentsize"),
            (44, 2, "e_phnum"),
            (46, 2, "e_shentsize"),
            (48, 2, "e_shnum"),
            (50, 2, "e_shstrndx"),
        ):
            add(off, w, n)
        ph = {
            "p_type": (0, 4),
            "p_offset": (4, 4),
            "p_vaddr": (8, 4),
            "p_filesz": (16, 4),
            "p_memsz": (20, 4),
            "p_align": (28, 4),
        }
        sh = {
            "sh_name": (0, 4),
            "sh_type": (4, 4),
            "sh_addr": (12, 4),
            "sh_offset": (16, 4),
            "sh_size": (20, 4),
            "sh_link": (24, 4),
            "sh_info": (28, 4),
            "sh_entsize": (36, 4),
        }
    kinds = {1: "LOAD", 2: "DYNAMIC", 3: "INTERP", 4: "NOTE", 0x6474E553: "GNU_PROPERTY"}
    for index, segment in enumerate(segments):
        kind = kinds.get(segment.p_type)
        if kind is None:
            continue
        base = header.phoff + index * header.phentsize
        for name, (off, w) in ph.items():
            add(base + off, w, f"PT_{kind}.{name}")
    interesting = (
        ".dynsym",
        ".dynstr",
        ".gnu.version",
        ".gnu.version_r",
        ".gnu.version_d",
        ".go.buildinfo",
        ".dep-v0",
        ".comment",
        ".gnu.hash",
        ".hash",
        ".rodata",
        ".dynamic",
        ".gopclntab",
        ".note.go.buildid",
        ".note.ABI-tag",
        ".note.gnu.property",
        ".note.gnu.build-id",
        ".shstrtab",
    )
    for index, section in enumerate(sections):
        if section.name in interesting or index in (header.shstrndx, 0):
            base = header.shoff + index * header.shentsize
            for name, (off, w) in sh.items():
                add(base + off, w, f"{section.name or index}.{name}")
    dyn = dynamic_segment(segments)
    dyn_values: dict[int, int] = {}
    if dyn is not None:
        entry = 2 * word
        offset, end = dyn.offset, min(dyn.offset + dyn.filesz, len(data))
        tag_names = {
            1: "DT_NEEDED",
            5: "DT_STRTAB",
            10: "DT_STRSZ",
            6: "DT_SYMTAB",
            4: "DT_HASH",
            0x6FFFFEF5: "DT_GNU_HASH",
            0x6FFFFFFE: "DT_VERNEED",
            0x6FFFFFFF: "DT_VERNEEDNUM",
            0x6FFFFFF0: "DT_VERSYM",
            0x6FFFFFFC: "DT_VERDEF",
            0x6FFFFFFD: "DT_VERDEFNUM",
            14: "DT_SONAME",
            15: "DT_RPATH",
            29: "DT_RUNPATH",
            0x6FFFFFFB: "DT_FLAGS_1",
            30: "DT_FLAGS",
        }
        fmt = struct.Struct(e + ("qQ" if is64 else "iI"))
        while offset + entry <= end:
            tag, value = fmt.unpack_from(data, offset)
            if tag == 0:
                add(offset, word, "DT_NULL.tag")
                break
            name = tag_names.get(tag)
            if name is not None:
                add(offset + word, word, f"{name}.value")
                add(offset, word, f"{name}.tag")
                dyn_values.setdefault(tag, value)
            offset += entry

    def mapped(tag: int, section_name: str) -> int | None:
        if tag in dyn_values:
            at = vaddr_to_offset(segments, dyn_values[tag])
            if at is not None:
                return at
        found = next((s for s in sections if s.name == section_name), None)
        return None if found is None else found.offset

    u16, u32 = struct.Struct(e + "H"), struct.Struct(e + "I")
    need = mapped(0x6FFFFFFE, ".gnu.version_r")
    for _ in range(64 if need is not None else 0):
        if need + 16 > len(data):
            break
        add(need + 2, 2, "vn_cnt")
        add(need + 4, 4, "vn_file")
        add(need + 8, 4, "vn_aux")
        add(need + 12, 4, "vn_next")
        count, aux, nxt = (
            u16.unpack_from(data, need + 2)[0],
            *struct.unpack_from(e + "II", data, need + 8),
        )
        at = need + aux
        for _ in range(min(count, 64)):
            if at + 16 > len(data):
                break
            add(at + 6, 2, "vna_other")
            add(at + 8, 4, "vna_name")
            add(at + 12, 4, "vna_next")
            step = u32.unpack_from(data, at + 12)[0]
            if step == 0:
                break
            at += step
        if nxt == 0:
            break
        need += nxt
    vdef = mapped(0x6FFFFFFC, ".gnu.version_d")
    for _ in range(64 if vdef is not None else 0):
        if vdef + 20 > len(data):
            break
        add(vdef + 6, 2, "vd_cnt")
        add(vdef + 12, 4, "vd_aux")
        add(vdef + 16, 4, "vd_next")
        nxt = u32.unpack_from(data, vdef + 16)[0]
        if nxt == 0:
            break
        vdef += nxt
    gnu_hash = mapped(0x6FFFFEF5, ".gnu.hash")
    if gnu_hash is not None:
        for i, name in enumerate(
            ("gnu_hash.nbuckets", "gnu_hash.symoffset", "gnu_hash.bloom_size", "gnu_hash.shift")
        ):
            add(gnu_hash + 4 * i, 4, name)
    sysv_hash = mapped(4, ".hash")
    if sysv_hash is not None:
        add(sysv_hash, 4, "hash.nbucket")
        add(sysv_hash + 4, 4, "hash.nchain")
    for segment in segments:
        if segment.p_type == 4:
            at, end = segment.offset, min(segment.offset + segment.filesz, len(data))
            while at + 12 <= end:
                namesz, descsz = struct.unpack_from(e + "II", data, at)
                add(at, 4, "note.namesz")
                add(at + 4, 4, "note.descsz")
                add(at + 8, 4, "note.type")
                at += 12 + ((namesz + 3) & ~3) + ((descsz + 3) & ~3)
    buildinfo = data.find(b"\xff Go buildinf:")
    if buildinfo >= 0:
        add(buildinfo + 14, 1, "go.ptrsize")
        add(buildinfo + 15, 1, "go.flags")
        add(buildinfo + 16, 1, "go.varint0")
        add(buildinfo + 16, word, "go.pointer0")
        add(buildinfo + 16 + word, word, "go.pointer1")
        add(buildinfo + 17, 1, "go.varint1")
    return fields


# ---------------------------------------------------------------------------------- mutators


def interesting(rng: random.Random, old: int, width: int, size: int) -> int:
    top = (1 << (8 * width)) - 1
    choices = [
        0,
        1,
        2,
        3,
        4,
        7,
        8,
        16,
        0x40,
        0x1000,
        0xFFFF,
        0x10000,
        top,
        top - 1,
        top >> 1,
        (top >> 1) + 1,
        size,
        size - 1,
        size + 1,
        max(size - rng.randrange(1, 64), 0),
        old + 1,
        old - 1,
        old + 16,
        old * 2,
        old >> 1,
        old ^ (1 << rng.randrange(8 * width)),
        rng.randrange(max(size, 1)),
        rng.getrandbits(8 * width),
        old + rng.randrange(-4096, 4096),
    ]
    return rng.choice(choices) & top


def smash_field(rng: random.Random, data: bytearray, fields: list[Field]) -> str:
    if not fields:
        return bit_flip(rng, data)
    chosen = rng.choice(fields)
    if chosen.offset + chosen.width > len(data):
        return "field-gone"
    order = "little" if chosen.little else "big"
    old = int.from_bytes(data[chosen.offset : chosen.offset + chosen.width], order)
    new = interesting(rng, old, chosen.width, len(data))
    data[chosen.offset : chosen.offset + chosen.width] = new.to_bytes(chosen.width, order)
    return f"field {chosen.name}@{chosen.offset:#x} {old:#x}->{new:#x}"


def bit_flip(rng: random.Random, data: bytearray) -> str:
    count = rng.choice((1, 1, 2, 4, 8, 32))
    for _ in range(count):
        if not data:
            break
        # Half the flips land in the first 4 KiB, where the headers live.
        limit = min(len(data), 4096) if rng.random() < 0.5 else len(data)
        position = rng.randrange(limit)
        data[position] ^= 1 << rng.randrange(8)
    return f"bitflip x{count}"


def byte_smash(rng: random.Random, data: bytearray) -> str:
    if not data:
        return "smash-empty"
    position = rng.randrange(min(len(data), 4096) if rng.random() < 0.6 else len(data))
    length = rng.choice((1, 2, 4, 8, 16, 64))
    filler = rng.choice((b"\x00", b"\xff", b"\x7f", b"\x80", None))
    chunk = bytes(rng.getrandbits(8) for _ in range(length)) if filler is None else filler * length
    data[position : position + length] = chunk[: len(data) - position]
    return f"smash {length}@{position:#x}"


def truncate(rng: random.Random, data: bytearray, fields: list[Field]) -> str:
    if rng.random() < 0.5 and fields:
        point = rng.choice(fields).offset + rng.randrange(-8, 24)  # near a structure
    else:
        point = rng.randrange(len(data) + 1)
    point = max(0, min(point, len(data)))
    del data[point:]
    return f"truncate@{point:#x}"


def splice(rng: random.Random, data: bytearray) -> str:
    if len(data) < 64:
        return "splice-small"
    length = rng.randrange(1, min(len(data) // 2, 512))
    source = rng.randrange(len(data) - length)
    target = rng.randrange(len(data) - length)
    data[target : target + length] = data[source : source + length]
    return f"splice {length} {source:#x}->{target:#x}"


def shift(rng: random.Random, data: bytearray) -> str:
    position = rng.randrange(len(data) + 1)
    if rng.random() < 0.5 and data:
        length = rng.randrange(1, 64)
        del data[position : position + length]
        return f"delete {length}@{position:#x}"
    length = rng.randrange(1, 64)
    data[position:position] = bytes(rng.getrandbits(8) for _ in range(length))
    return f"insert {length}@{position:#x}"


def mutate_elf(rng: random.Random, data: bytearray, fields: list[Field]) -> list[str]:
    steps = []
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 5))):
        roll = rng.random()
        if roll < 0.45:
            steps.append(smash_field(rng, data, fields))
        elif roll < 0.62:
            steps.append(bit_flip(rng, data))
        elif roll < 0.75:
            steps.append(byte_smash(rng, data))
        elif roll < 0.85:
            steps.append(truncate(rng, data, fields))
        elif roll < 0.93:
            steps.append(splice(rng, data))
        else:
            steps.append(shift(rng, data))
    return steps


def random_elf(rng: random.Random) -> tuple[bytearray, str]:
    """Random bytes behind an ELF identification (sometimes a plausible one)."""
    size = rng.choice((0, 1, 4, 5, 16, 52, 63, 64, 100, 300, 1000, 5000))
    body = bytearray(rng.getrandbits(8) for _ in range(size))
    head = bytearray(b"\x7fELF")
    if rng.random() < 0.7:
        head += bytes((rng.choice((1, 2)), rng.choice((1, 2)), 1, 0)) + bytes(8)
    return (head + body), f"random {len(head) + size} bytes"


# ---------------------------------------------------------------------------------- zips

ZIP_PLANS = (
    ("bootstrap", "go_bootstrap_x86_64"),
    ("bootstrap", "c_hello_gcc_pie_x86_64"),
    ("bootstrap", "bootstrap.sh"),
    ("lib/libfoo.so", "c_ssl_gcc_x86_64"),
    ("bin/app", "rust_hello_cargo_x86_64"),
    ("bootstrap", "c_hello_zig_musl_static_x86_64"),
)


def build_zip(rng: random.Random, seeds: list[Seed]) -> tuple[bytes, list[str]]:
    buffer = io.BytesIO()
    steps = []
    members = rng.sample(ZIP_PLANS, rng.randrange(1, 4))
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, fixture in members:
            path = ROOT / "fixtures" / "bin" / fixture
            if not path.exists():
                continue
            data = bytearray(path.read_bytes())
            if rng.random() < 0.3:  # a damaged ELF inside a healthy zip: an LS001 finding
                seed = next((s for s in seeds if s.path == str(path)), None)
                steps += mutate_elf(rng, data, seed.fields if seed else [])
            taken = archive.namelist()
            info = zipfile.ZipInfo(name if name not in taken else f"{name}.{len(taken)}")
            info.create_system = 3
            info.external_attr = (0o100755 if rng.random() < 0.8 else 0o120777) << 16
            info.compress_type = rng.choice((zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED))
            archive.writestr(info, bytes(data))
    return buffer.getvalue(), steps


def zip_fields(data: bytes) -> list[tuple[int, int, str]]:
    fields: list[tuple[int, int, str]] = []
    eocd = data.rfind(b"PK\x05\x06")
    if eocd < 0:
        return fields
    for off, w, n in (
        (4, 2, "eocd.disk"),
        (6, 2, "eocd.cd_disk"),
        (8, 2, "eocd.entries_disk"),
        (10, 2, "eocd.entries"),
        (12, 4, "eocd.cd_size"),
        (16, 4, "eocd.cd_offset"),
        (20, 2, "eocd.comment_len"),
    ):
        fields.append((eocd + off, w, n))
    cd = struct.unpack_from("<I", data, eocd + 16)[0]
    count = struct.unpack_from("<H", data, eocd + 10)[0]
    for _ in range(count):
        if cd + 46 > len(data) or data[cd : cd + 4] != b"PK\x01\x02":
            break
        for off, w, n in (
            (4, 2, "cd.made_by"),
            (6, 2, "cd.needed"),
            (8, 2, "cd.flags"),
            (10, 2, "cd.method"),
            (16, 4, "cd.crc"),
            (20, 4, "cd.comp_size"),
            (24, 4, "cd.size"),
            (28, 2, "cd.name_len"),
            (30, 2, "cd.extra_len"),
            (32, 2, "cd.comment_len"),
            (38, 4, "cd.external_attr"),
            (42, 4, "cd.local_offset"),
        ):
            fields.append((cd + off, w, n))
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, cd + 28)
        local = struct.unpack_from("<I", data, cd + 42)[0]
        if local + 30 <= len(data):
            for off, w, n in (
                (6, 2, "lh.flags"),
                (8, 2, "lh.method"),
                (14, 4, "lh.crc"),
                (18, 4, "lh.comp_size"),
                (22, 4, "lh.size"),
                (26, 2, "lh.name_len"),
                (28, 2, "lh.extra_len"),
            ):
                fields.append((local + off, w, n))
            fields.append((local + 30 + name_len + 64, 1, "lh.data"))  # inside compressed data
        cd += 46 + name_len + extra_len + comment_len
    return fields


def mutate_zip(rng: random.Random, data: bytearray) -> list[str]:
    steps = []
    fields = zip_fields(bytes(data))
    for _ in range(rng.choice((1, 1, 2, 3))):
        roll = rng.random()
        if roll < 0.6 and fields:
            offset, width, name = rng.choice(fields)
            if offset + width > len(data):
                continue
            old = int.from_bytes(data[offset : offset + width], "little")
            new = interesting(rng, old, width, len(data))
            data[offset : offset + width] = new.to_bytes(width, "little")
            steps.append(f"zip {name}@{offset:#x} {old:#x}->{new:#x}")
        elif roll < 0.75:
            steps.append(truncate(rng, data, []))
        elif roll < 0.9:
            steps.append(bit_flip(rng, data))
        else:
            steps.append(byte_smash(rng, data))
    return steps


# ---------------------------------------------------------------------------------- one input


@dataclass
class Case:
    index: int
    kind: str  # elf | random | zip | folder
    seed_path: str | None
    steps: list[str]
    files: dict[str, bytes]  # relative name -> bytes ("" = the input itself is this file)
    modes: dict[str, int] = field(default_factory=dict)


def make_case(index: int, base_seed: int, seeds: list[Seed]) -> Case:
    rng = random.Random(f"{base_seed}:{index}")
    roll = rng.random()
    if roll < 0.03:
        data, step = random_elf(rng)
        return Case(index, "random", None, [step], {"": bytes(data)})
    if roll < 0.11:
        raw, steps = build_zip(rng, seeds)
        data = bytearray(raw)
        steps += mutate_zip(rng, data)
        return Case(index, "zip", None, steps, {"function.zip": bytes(data)})
    seed = rng.choice(seeds)
    data = bytearray(Path(seed.path).read_bytes())
    steps = mutate_elf(rng, data, seed.fields)
    if roll < 0.14:  # a folder: the damaged file next to a healthy one, under a subfolder
        healthy = ROOT / "fixtures" / "bin" / "c_hello_gcc_pie_x86_64"
        files = {"bootstrap": bytes(data), "lib/libok.so": healthy.read_bytes()}
        return Case(index, "folder", seed.path, steps, files, {"bootstrap": 0o755})
    return Case(index, "elf", seed.path, steps, {"": bytes(data)})


def materialise(case: Case, workdir: Path) -> str:
    """Write the case under workdir and return the path to hand to linkscope."""
    if "" in case.files:
        target = workdir / "input"
        target.write_bytes(case.files[""])
        return str(target)
    if case.kind == "zip":
        target = workdir / "function.zip"
        target.write_bytes(case.files["function.zip"])
        return str(target)
    folder = workdir / "folder"
    for name, data in case.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(case.modes.get(name, 0o644))
    return str(folder)


@dataclass
class Outcome:
    results: list[str]
    crash: tuple[str, str, str, str] | None = None  # (operation, type, message, where)
    seconds: float = 0.0


def _call(operation: str, path: str, rng: random.Random) -> str:
    if operation == "inspect":
        report = api.inspect([path])
        return f"facts:{len(report.binaries)}/findings:{len(report.findings)}"
    if operation == "check":
        runtime, arch = rng.choice(TARGETS)
        report = api.check([path], runtime=runtime, arch=arch)
        return f"verdict:{report.verdict}"
    code, err = _cli(operation.split(":", 1)[1], path)
    if code == 3 or "Traceback" in err:
        raise AssertionError(f"cli exit {code}: {err.strip()[:300]}")
    return f"cli-exit:{code}"


def _cli(command: str, path: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([command, path])
    return code, err.getvalue()


def _frame(frame: traceback.FrameSummary) -> str:
    inside = frame.filename.startswith(str(ROOT))
    name = os.path.relpath(frame.filename, ROOT) if inside else os.path.basename(frame.filename)
    return f"{name}:{frame.lineno} in {frame.name}"


def run_case(case: Case, path: str, cli_sample: bool) -> Outcome:
    rng = random.Random(case.index)
    operations = ["inspect", "check"] + (["cli:inspect", "cli:check"] if cli_sample else [])
    results = []
    started = time.perf_counter()
    for operation in operations:
        try:
            results.append(f"{operation}={_call(operation, path, rng)}")
        except LinkscopeError as exc:
            results.append(f"{operation}={type(exc).__name__}")
            if isinstance(exc, LimitExceededError):
                results.append(f"limit={str(exc)[:300]}")
        except Hang:
            raise
        except BaseException as exc:
            frames = traceback.extract_tb(exc.__traceback__)
            ours = [f for f in frames if f.filename.startswith(str(ROOT / "linkscope"))]
            where = " via ".join(dict.fromkeys(_frame(f) for f in [frames[-1], *ours[-1:]]))
            return Outcome(
                results,
                (operation, type(exc).__name__, str(exc)[:500], where),
                time.perf_counter() - started,
            )
    return Outcome(results, None, time.perf_counter() - started)


# ---------------------------------------------------------------------------------- workers


def _alarm(_signum: int, _frame: object) -> None:
    raise Hang


def _save(out: Path, kind: str, case: Case, info: dict[str, object]) -> str:
    folder = out / kind
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{case.index:08d}"
    for name, data in case.files.items():
        (folder / f"{stem}{'.' + name.replace('/', '_') if name else '.bin'}").write_bytes(data)
    record = {
        "index": case.index,
        "kind": case.kind,
        "seed": case.seed_path,
        "steps": case.steps,
        **info,
    }
    (folder / f"{stem}.json").write_text(json.dumps(record, indent=1))
    return str(folder / stem)


def worker(  # noqa: C901, PLR0912, PLR0915 - one loop: build, run, time, report
    wid: int,
    indexes: range,
    args: argparse.Namespace,
    seeds: list[Seed],
    queue: multiprocessing.Queue,
    current: multiprocessing.Value,
) -> None:  # type: ignore[type-arg]
    resource.setrlimit(resource.RLIMIT_AS, (args.max_memory << 20, args.max_memory << 20))
    signal.signal(signal.SIGALRM, _alarm)
    out = Path(args.out)
    workdir = Path(tempfile.mkdtemp(prefix=f"linkscope-fuzz-{wid}-", dir=args.tmp))
    warm = ROOT / "fixtures" / "bin" / "go_bootstrap_x86_64"
    for runtime, arch in TARGETS:  # imports and profile loading are not the inputs' time
        api.check([str(warm)], runtime=runtime, arch=arch)
    stats: Counter[str] = Counter()
    slowest = (0.0, -1)
    heap_peak = 0
    done = 0

    def flush() -> None:
        nonlocal stats, done
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        queue.put(("progress", wid, done, dict(stats), slowest, heap_peak, rss))
        stats, done = Counter(), 0

    for index in indexes:
        current.value = index
        case = make_case(index, args.seed, seeds)
        for child in workdir.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        path = materialise(case, workdir)
        traced = index % args.trace_every == 0
        if traced:
            tracemalloc.start()
        signal.setitimer(signal.ITIMER_REAL, args.hard_seconds)
        try:
            outcome = run_case(case, path, cli_sample=index % args.cli_every == 0)
        except Hang:
            outcome = Outcome(["hard-timeout"], None, args.hard_seconds)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if traced:
            heap_peak = max(heap_peak, tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
        done += 1
        stats[case.kind] += 1
        for result in outcome.results:
            if result.startswith("limit="):
                queue.put(("limit", wid, index, result[6:]))
                continue
            stats[
                "outcome " + result.split("=", 1)[0] + "=" + result.split("=", 1)[1].split(":")[0]
            ] += 1
        if outcome.seconds > slowest[0]:
            slowest = (outcome.seconds, index)
        if outcome.crash is not None:
            operation, kind, message, where = outcome.crash
            saved = _save(
                out,
                "crashes",
                case,
                {"operation": operation, "type": kind, "message": message, "where": where},
            )
            queue.put(("crash", wid, index, operation, kind, message, where, saved))
        elif outcome.seconds > args.hang_seconds:
            # Time it again, alone, to tell a real hang from a noisy neighbour.
            signal.setitimer(signal.ITIMER_REAL, args.hard_seconds)
            try:
                again = run_case(case, path, cli_sample=False).seconds
            except Hang:
                again = args.hard_seconds
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            saved = _save(out, "slow", case, {"seconds": outcome.seconds, "again": again})
            queue.put(("slow", wid, index, outcome.seconds, again, saved))
        if done >= 200:
            flush()
    flush()
    shutil.rmtree(workdir, ignore_errors=True)
    queue.put(("done", wid))


# ---------------------------------------------------------------------------------- driver


def _limit_kind(message: str) -> str:
    """A LimitExceededError message without its path and numbers: what kind of limit it was."""
    text = message.split(": ", 1)[-1]
    return " ".join("N" if word.strip(",.()").isdigit() else word for word in text.split()[:8])


def select(seeds: list[Seed], args: argparse.Namespace) -> list[Seed]:
    """--origins corpus: mutate only those seeds (the zips are built from fixtures regardless)."""
    if not args.origins:
        return seeds
    wanted = set(args.origins.split(","))
    return [s for s in seeds if s.origin in wanted]


def run_campaign(args: argparse.Namespace) -> int:  # noqa: C901, PLR0912, PLR0915
    started = time.time()
    seeds = select(
        collect_seeds(args.seed, args.host_seeds, args.corpus_seeds, args.seed_dir), args
    )
    origins = Counter(s.origin for s in seeds)
    print(
        f"seeds: {len(seeds)} ({dict(origins)}), {sum(len(s.fields) for s in seeds)} known fields; "
        f"inputs {args.start}..{args.start + args.inputs - 1}, workers {args.workers}, "
        f"seed {args.seed}",
        flush=True,
    )
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    end = args.start + args.inputs
    slots: dict[int, tuple[multiprocessing.Process, object, int]] = {}

    def spawn(wid: int, first: int) -> None:
        current = ctx.Value("q", first)
        process = ctx.Process(
            target=worker,
            args=(wid, range(first, end, args.workers), args, seeds, queue, current),
            daemon=True,
        )
        process.start()
        slots[wid] = (process, current, first)

    for wid in range(args.workers):
        spawn(wid, args.start + wid)
    totals: Counter[str] = Counter()
    crashes: list[dict[str, object]] = []
    slow: list[dict[str, object]] = []
    deaths: list[dict[str, object]] = []
    limits_hit: list[dict[str, object]] = []
    done, slowest, heap_peak, rss_peak = 0, (0.0, -1), 0, 0
    finished: set[int] = set()
    last_print = time.time()
    while len(finished) < args.workers:
        try:
            message = queue.get(timeout=5)
        except Exception:
            message = None
        if message is not None:
            tag, wid = message[0], message[1]
            if tag == "progress":
                _, _, count, stats, worst, heap, rss = message
                done += count
                totals.update(stats)
                slowest = max(slowest, tuple(worst))  # type: ignore[assignment]
                heap_peak, rss_peak = max(heap_peak, heap), max(rss_peak, rss)
            elif tag == "crash":
                _, _, index, operation, kind, text, where, saved = message
                crashes.append(
                    {
                        "index": index,
                        "operation": operation,
                        "type": kind,
                        "message": text,
                        "where": where,
                        "saved": saved,
                    }
                )
                print(
                    f"CRASH #{index} {operation}: {kind}: {text[:160]} at {where} -> {saved}",
                    flush=True,
                )
            elif tag == "slow":
                _, _, index, seconds, again, saved = message
                slow.append(
                    {
                        "index": index,
                        "seconds": round(seconds, 3),
                        "again": round(again, 3),
                        "saved": saved,
                    }
                )
                print(
                    f"SLOW #{index}: {seconds:.2f} s (again {again:.2f} s) -> {saved}", flush=True
                )
            elif tag == "limit":
                limits_hit.append({"index": message[2], "message": message[3]})
            elif tag == "done":
                finished.add(wid)
        for wid, (process, current, _first) in list(slots.items()):
            if wid in finished or process.is_alive():
                continue
            process.join()
            if process.exitcode == 0:
                continue
            index = current.value  # type: ignore[attr-defined]
            deaths.append({"index": index, "exitcode": process.exitcode})
            print(f"WORKER DIED on #{index}: exit code {process.exitcode}", flush=True)
            case = make_case(index, args.seed, seeds)
            _save(Path(args.out), "deaths", case, {"exitcode": process.exitcode})
            if index + args.workers < end:
                spawn(wid, index + args.workers)
            else:
                finished.add(wid)
        if time.time() - last_print > args.progress_seconds:
            last_print = time.time()
            rate = done / max(time.time() - started, 1e-9)
            print(
                f"  {done} inputs, {len(crashes)} crashes, {len(slow)} slow, "
                f"{rate:.0f}/s, peak RSS {rss_peak / 1024:.0f} MiB",
                flush=True,
            )
    duration = time.time() - started
    hangs = [s for s in slow if s["again"] > args.hang_seconds]  # type: ignore[operator]
    summary = {
        "inputs": done,
        "seed": args.seed,
        "first_input": args.start,
        "workers": args.workers,
        "seeds": dict(origins),
        "duration_seconds": round(duration, 1),
        "inputs_per_second": round(done / duration, 1),
        "uncaught_exceptions": len(crashes),
        "crash_kinds": dict(Counter(f"{c['type']} at {c['where']}" for c in crashes)),
        "slow_first_run": len(slow),
        "hangs_over_2s": len(hangs),
        "worker_deaths": len(deaths),
        "slowest_seconds": round(slowest[0], 3),
        "slowest_input": slowest[1],
        "peak_rss_mib": round(rss_peak / 1024, 1),
        "peak_python_heap_one_input_mib": round(heap_peak / (1 << 20), 1),
        "limits_hit": dict(Counter(_limit_kind(str(h["message"])) for h in limits_hit)),
        "kinds": {k: v for k, v in sorted(totals.items()) if not k.startswith("outcome ")},
        "outcomes": {k[8:]: v for k, v in sorted(totals.items()) if k.startswith("outcome ")},
    }
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "seeds.txt").write_text(
        "".join(f"{s.origin}\t{s.size}\t{s.path}\n" for s in seeds)
    )
    (Path(args.out) / "summary.json").write_text(
        json.dumps(
            {**summary, "crashes": crashes, "slow": slow, "deaths": deaths, "limits": limits_hit},
            indent=1,
        )
    )
    print(json.dumps(summary, indent=1))
    ok = not crashes and not hangs and not deaths and rss_peak / 1024 < args.max_rss_mib
    print("RESULT:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--start", type=int, default=0, help="first input number")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2)))
    parser.add_argument("--host-seeds", type=int, default=80)
    parser.add_argument(
        "--corpus-seeds",
        type=int,
        default=200,
        help=f"seeded sample of third-party ELF files from {CORPUS}",
    )
    parser.add_argument("--origins", help="only seeds of these origins: fixture,host,corpus")
    parser.add_argument(
        "--seed-dir", default=os.path.join(tempfile.gettempdir(), "linkscope-fuzz-seeds")
    )
    parser.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "linkscope-fuzz"))
    parser.add_argument("--tmp", default="/dev/shm" if os.path.isdir("/dev/shm") else None)
    parser.add_argument("--hang-seconds", type=float, default=2.0)
    parser.add_argument("--hard-seconds", type=float, default=20.0)
    parser.add_argument("--max-memory", type=int, default=2048, help="RLIMIT_AS per worker, MiB")
    parser.add_argument("--max-rss-mib", type=float, default=200.0)
    parser.add_argument("--cli-every", type=int, default=50, help="also run the CLI on 1 in N")
    parser.add_argument("--trace-every", type=int, default=250, help="tracemalloc on 1 in N")
    parser.add_argument("--progress-seconds", type=float, default=30.0)
    parser.add_argument("--replay", type=int, help="rebuild input N and run it once")
    parser.add_argument("--save", help="with --replay: write the input here")
    args = parser.parse_args()
    if args.replay is not None:
        seeds = select(
            collect_seeds(args.seed, args.host_seeds, args.corpus_seeds, args.seed_dir), args
        )
        case = make_case(args.replay, args.seed, seeds)
        print(
            json.dumps(
                {
                    "index": case.index,
                    "kind": case.kind,
                    "seed": case.seed_path,
                    "steps": case.steps,
                },
                indent=1,
            )
        )
        workdir = Path(tempfile.mkdtemp(prefix="linkscope-replay-"))
        path = materialise(case, workdir)
        if args.save:
            shutil.copyfile(path, args.save) if os.path.isfile(path) else shutil.copytree(
                path, args.save
            )
        outcome = run_case(case, path, cli_sample=True)
        print(outcome)
        shutil.rmtree(workdir, ignore_errors=True)
        return 1 if outcome.crash else 0
    return run_campaign(args)


if __name__ == "__main__":
    sys.exit(main())
