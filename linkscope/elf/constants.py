"""ELF constants that linkscope needs (from the System V gABI and the GNU extensions)."""

from __future__ import annotations

ELF_MAGIC = b"\x7fELF"

ET_REL, ET_EXEC, ET_DYN, ET_CORE = 1, 2, 3, 4

PT_LOAD, PT_DYNAMIC, PT_INTERP, PT_NOTE = 1, 2, 3, 4
PT_GNU_PROPERTY = 0x6474E553

SHT_STRTAB, SHT_NOTE, SHT_DYNSYM = 3, 7, 11
SHT_GNU_VERDEF, SHT_GNU_VERNEED, SHT_GNU_VERSYM = 0x6FFFFFFD, 0x6FFFFFFE, 0x6FFFFFFF
SHN_UNDEF = 0
SHN_XINDEX = 0xFFFF

DT_NULL, DT_NEEDED, DT_HASH, DT_STRTAB, DT_SYMTAB = 0, 1, 4, 5, 6
DT_STRSZ, DT_SONAME, DT_RPATH = 10, 14, 15
DT_FLAGS, DT_RUNPATH = 30, 29
DT_GNU_HASH = 0x6FFFFEF5
DT_VERSYM = 0x6FFFFFF0
DT_FLAGS_1 = 0x6FFFFFFB
DT_VERDEF, DT_VERDEFNUM = 0x6FFFFFFC, 0x6FFFFFFD
DT_VERNEED, DT_VERNEEDNUM = 0x6FFFFFFE, 0x6FFFFFFF

VER_FLG_BASE = 0x1
VER_FLG_WEAK = 0x2

NT_GNU_ABI_TAG = 1
NT_GNU_BUILD_ID = 3
NT_GNU_PROPERTY_TYPE_0 = 5
NT_GO_BUILDID = 4

GNU_PROPERTY_X86_ISA_1_NEEDED = 0xC0008002
GNU_PROPERTY_X86_FEATURE_1_AND = 0xC0000002
GNU_PROPERTY_AARCH64_FEATURE_1_AND = 0xC0000000

EF_ARM_ABI_FLOAT_SOFT = 0x200
EF_ARM_ABI_FLOAT_HARD = 0x400

DF_FLAGS = {0x1: "ORIGIN", 0x2: "SYMBOLIC", 0x4: "TEXTREL", 0x8: "BIND_NOW", 0x10: "STATIC_TLS"}
DF_1_PIE = 0x08000000
DF_1_FLAGS = {
    0x1: "NOW",
    0x2: "GLOBAL",
    0x4: "GROUP",
    0x8: "NODELETE",
    0x10: "LOADFLTR",
    0x20: "INITFIRST",
    0x40: "NOOPEN",
    0x80: "ORIGIN",
    0x100: "DIRECT",
    0x400: "INTERPOSE",
    0x800: "NODEFLIB",
    0x1000: "NODUMP",
    0x2000: "CONFALT",
    0x4000: "ENDFILTEE",
    0x8000: "DISPRELDNE",
    0x10000: "DISPRELPND",
    0x20000: "NODIRECT",
    0x40000: "IGNMULDEF",
    0x80000: "NOKSYMS",
    0x100000: "NOHDR",
    0x200000: "EDITED",
    0x400000: "NORELOC",
    0x800000: "SYMINTPOSE",
    0x1000000: "GLOBAUDIT",
    0x2000000: "SINGLETON",
    0x4000000: "STUB",
    0x8000000: "PIE",
}

OS_ABI = {
    0: "sysv",
    1: "hpux",
    2: "netbsd",
    3: "gnu",
    6: "solaris",
    7: "aix",
    8: "irix",
    9: "freebsd",
    10: "tru64",
    11: "modesto",
    12: "openbsd",
    64: "arm-aeabi",
    97: "arm",
    255: "standalone",
}

EM_386, EM_SPARC, EM_MIPS, EM_MIPS_RS3_LE = 3, 2, 8, 10
EM_PPC, EM_PPC64, EM_S390, EM_ARM = 20, 21, 22, 40
EM_SPARCV9, EM_X86_64, EM_AARCH64, EM_RISCV, EM_LOONGARCH = 43, 62, 183, 243, 258


# (e_machine, is 64-bit, is little-endian) -> canonical name; None in a key position matches any.
MACHINES: tuple[tuple[int, bool | None, bool | None, str], ...] = (
    (EM_386, None, None, "i386"),
    (EM_ARM, None, None, "arm"),
    (EM_PPC, None, None, "ppc"),
    (EM_AARCH64, True, None, "aarch64"),
    (EM_X86_64, True, None, "x86_64"),
    (EM_X86_64, False, None, "x32"),
    (EM_PPC64, True, True, "ppc64le"),
    (EM_PPC64, True, False, "ppc64"),
    (EM_S390, True, None, "s390x"),
    (EM_RISCV, True, None, "riscv64"),
    (EM_RISCV, False, None, "riscv32"),
    (EM_LOONGARCH, True, None, "loongarch64"),
    (EM_SPARCV9, True, None, "sparc64"),
)
MIPS = {
    (True, True): "mips64el",
    (True, False): "mips64",
    (False, True): "mipsel",
    (False, False): "mips",
}


def machine_name(e_machine: int, is64: bool, little: bool) -> str:
    """The canonical machine name of DESIGN section 4 (else `em_<number>`)."""
    if e_machine in (EM_MIPS, EM_MIPS_RS3_LE):
        return MIPS[(is64, little)]
    for machine, want64, want_little, name in MACHINES:
        if machine == e_machine and want64 in (None, is64) and want_little in (None, little):
            return name
    return f"em_{e_machine}"
