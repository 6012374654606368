"""Which C library a binary uses, decided from facts already read (pure, no I/O).

Dynamic binaries are decided by their interpreter, DT_NEEDED and version requirements. Static ones
carry no such table, so content markers decide: glibc leaves `.note.ABI-tag` and strings such as
`GLIBC_TUNABLES`; musl's message table has `No error information`; Go has its own sections.
When nothing in the file decides, the `.comment` of the compiler that built it (a distribution's
GCC) is weak evidence, and the answer says it is a guess.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from linkscope.model import Confidence, LibcFamily, LibcInfo, Linkage, VersionRequirement

# Byte strings searched for in static binaries (and the family each one points to).
GLIBC_MARKERS = (b"GLIBC_TUNABLES", b"glibc.malloc.", b"GLIBC_PRIVATE")
MUSL_MARKERS = (b"No error information", b"ld-musl-")
UCLIBC_MARKERS = (b"uClibc",)

# The libraries glibc itself ships: only their GLIBC_* versions are evidence of glibc (a bundled
# libgcc_s in a musllinux wheel also defines GLIBC_2.0, for compatibility).
GLIBC_LIBRARY = re.compile(
    r"^(libc\.so\.6(\.1)?|libm\.so\.6(\.1)?|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|"
    r"libutil\.so\.1|libresolv\.so\.2|libnsl\.so\.1|libanl\.so\.1|libmvec\.so\.1|"
    r"libBrokenLocale\.so\.1|libthread_db\.so\.1|libnss_\w+\.so\.2|libcrypt\.so\.1|"
    r"ld-linux[\w.-]*\.so\.\d|ld64\.so\.[12]|ld\.so\.1)$"
)
# Distributions whose compilers leave their name in `.comment`, and the C library they use.
DISTRO_LIBC = (
    (re.compile(r"\((Alpine|Chimera)"), LibcFamily.MUSL),
    (
        re.compile(r"\((Debian|Ubuntu|Red Hat|GNU\)|SUSE|Fedora|Amazon|Gentoo|conda)"),
        LibcFamily.GLIBC,
    ),
    (re.compile(r"Android"), LibcFamily.BIONIC),
)
FOREIGN_OS_ABI = {"freebsd", "netbsd", "openbsd", "solaris", "hpux", "aix", "irix", "tru64"}


@dataclass(frozen=True, slots=True, kw_only=True)
class LibcClues:
    linkage: Linkage
    interpreter: str | None
    needed: tuple[str, ...]
    requirements: tuple[VersionRequirement, ...]
    abi_tag: bool
    android: bool
    go: bool
    markers: frozenset[bytes]
    definitions: tuple[str, ...] = ()  # .gnu.version_d names (ld.so and libc.so.6 define GLIBC_*)
    soname: str | None = None
    comments: tuple[str, ...] = ()  # `.comment` lines
    foreign_os: str | None = None  # "FreeBSD", "OpenBSD"... from OS/ABI or an OS note
    relocatable: bool = False
    shared_object: bool = False  # ET_DYN
    pie_flag: bool = False  # DF_1_PIE


def glibc_loader(path: str) -> bool:
    name = posixpath.basename(path)
    return name.startswith("ld-linux") or name in ("ld64.so.1", "ld64.so.2", "ld.so.1")


def classify(clues: LibcClues) -> LibcInfo:
    if clues.relocatable:
        if clues.abi_tag:  # glibc's crt1.o carries the ABI note into every program
            return _info(
                LibcFamily.GLIBC, Confidence.LIKELY, "relocatable object with .note.ABI-tag"
            )
        return _distro_guess(clues, "relocatable object (not linked yet)")
    if clues.foreign_os and (clues.linkage is Linkage.DYNAMIC or not clues.go):
        return _info(
            LibcFamily.UNKNOWN,
            Confidence.LIKELY,
            f"a {clues.foreign_os} binary: its C library is none of glibc, musl, bionic or uclibc",
        )
    if clues.linkage is Linkage.DYNAMIC:
        return _dynamic(clues)
    return _static(clues)


def _info(family: LibcFamily, confidence: Confidence, *evidence: str) -> LibcInfo:
    return LibcInfo(family=family, confidence=confidence, evidence=tuple(evidence))


def _dynamic(clues: LibcClues) -> LibcInfo:  # noqa: PLR0911 - one return per decisive clue
    decided = _by_interpreter_or_needed(clues)
    if decided is not None:
        return decided
    interp = clues.interpreter or ""
    glibc_evidence = _glibc_evidence(clues)
    if glibc_evidence:
        return _info(LibcFamily.GLIBC, Confidence.CERTAIN, *glibc_evidence)
    if clues.go and not clues.needed:
        if interp and glibc_loader(interp):
            # It calls no libc function, but cannot start without glibc's loader (it fails on
            # musl systems), so glibc is what it needs from the system.
            return _info(
                LibcFamily.GLIBC,
                Confidence.LIKELY,
                f"Go binary with no DT_NEEDED: only glibc's loader {interp} is used, to "
                "load it; the Go runtime makes system calls itself",
            )
        return _info(
            LibcFamily.NONE,
            Confidence.CERTAIN,
            "Go binary with no DT_NEEDED: the Go runtime makes system calls itself",
        )
    if "libc.so" in clues.needed:
        return _info(LibcFamily.MUSL, Confidence.LIKELY, "needs libc.so (musl's soname)")
    if interp and glibc_loader(interp):
        return _info(LibcFamily.GLIBC, Confidence.LIKELY, f"interpreter {interp}")
    if not clues.needed:
        guess = _distro_guess(clues, "no DT_NEEDED: it calls no C library function by name")
        if guess.family is not LibcFamily.UNKNOWN:
            return guess
        return _info(LibcFamily.NONE, Confidence.LIKELY, "no DT_NEEDED: links no C library")
    return _distro_guess(clues, "no C library among DT_NEEDED")


def _by_interpreter_or_needed(clues: LibcClues) -> LibcInfo | None:
    """The clues that name a non-glibc C library outright."""
    interp = clues.interpreter or ""
    interp_name = posixpath.basename(interp)
    musl_needed = next((n for n in clues.needed if n.startswith("libc.musl-")), None)
    if "ld-musl" in interp_name:
        return _info(LibcFamily.MUSL, Confidence.CERTAIN, f"interpreter {interp}")
    if musl_needed:
        return _info(LibcFamily.MUSL, Confidence.CERTAIN, f"needs {musl_needed}")
    if interp.startswith("/system/bin/linker") or clues.android:
        evidence = f"interpreter {interp}" if interp else "Android ident note"
        return _info(LibcFamily.BIONIC, Confidence.CERTAIN, evidence)
    if "ld-uClibc" in interp_name or "libc.so.0" in clues.needed:
        return _info(LibcFamily.UCLIBC, Confidence.CERTAIN, f"interpreter {interp or '-'}")
    if interp_name.startswith("klibc-"):
        return _info(
            LibcFamily.UNKNOWN,
            Confidence.CERTAIN,
            f"interpreter {interp}: klibc, a minimal C library for early boot",
        )
    return None


def _glibc_evidence(clues: LibcClues) -> list[str]:
    evidence = [f"needs {name}" for name in clues.needed if name in ("libc.so.6", "libc.so.6.1")]
    own = clues.soname is not None and GLIBC_LIBRARY.match(clues.soname) is not None
    if own and any(n.startswith("GLIBC_2") for n in clues.definitions):
        evidence.append(f"{clues.soname} defines GLIBC_ versions: it is part of glibc")
    versions = sorted(
        {
            r.version
            for r in clues.requirements
            if r.version.startswith("GLIBC_") and GLIBC_LIBRARY.match(r.library)
        }
    )
    if versions:
        evidence.append(
            f"requires {versions[-1]}"
            if len(versions) == 1
            else f"requires {len(versions)} GLIBC_ versions"
        )
    return evidence


def _distro_guess(clues: LibcClues, why: str) -> LibcInfo:
    for pattern, family in DISTRO_LIBC:
        line = next((c for c in clues.comments if pattern.search(c)), None)
        if line is not None:
            return _info(
                family,
                Confidence.GUESS,
                why,
                f"built by a {family.value} distribution's compiler: {line!r}",
            )
    return _info(LibcFamily.UNKNOWN, Confidence.GUESS, why)


def _static(clues: LibcClues) -> LibcInfo:  # noqa: PLR0911 - one return per decisive clue
    glibc = [m.decode() for m in GLIBC_MARKERS if m in clues.markers]
    musl = [m.decode() for m in MUSL_MARKERS if m in clues.markers]
    kind = clues.linkage.value
    if clues.go and musl and not glibc:  # cgo linked statically against musl: it carries it
        return _info(
            LibcFamily.MUSL,
            Confidence.LIKELY,
            f"{kind} Go binary built with cgo, with musl inside",
            *(f"contains {m!r}" for m in musl),
        )
    if clues.go and not glibc:
        return _info(
            LibcFamily.NONE,
            Confidence.CERTAIN,
            f"{kind} Go binary: the Go runtime makes system calls itself",
        )
    if b"GLIBC_TUNABLES" in clues.markers or (glibc and clues.abi_tag):
        return _info(
            LibcFamily.GLIBC,
            Confidence.CERTAIN,
            f"{kind} binary with glibc inside",
            *(f"contains {m!r}" for m in glibc),
            *(["has .note.ABI-tag"] if clues.abi_tag else []),
        )
    if musl:
        return _info(
            LibcFamily.MUSL,
            Confidence.LIKELY,
            f"{kind} binary with musl inside",
            *(f"contains {m!r}" for m in musl),
        )
    if glibc or clues.abi_tag:
        return _info(
            LibcFamily.GLIBC,
            Confidence.LIKELY,
            f"{kind} binary",
            *(f"contains {m!r}" for m in glibc),
            *(["has .note.ABI-tag (glibc's startup files add it)"] if clues.abi_tag else []),
        )
    if any(m in clues.markers for m in UCLIBC_MARKERS):
        return _info(LibcFamily.UCLIBC, Confidence.LIKELY, f"{kind} binary containing 'uClibc'")
    if clues.shared_object and not clues.pie_flag:
        # An ET_DYN without DF_1_PIE, interpreter or needs: a self-contained shared object (a
        # libc of its own such as klibc's, or a plugin built with -nostdlib), not a program.
        return _info(
            LibcFamily.UNKNOWN,
            Confidence.GUESS,
            "self-contained shared object: no C library named anywhere",
        )
    if not clues.comments:
        return _info(
            LibcFamily.UNKNOWN,
            Confidence.GUESS,
            f"{kind} binary that names no C library and no compiler (no .comment)",
        )
    if any(DISTRO_LIBC[0][0].search(c) for c in clues.comments):
        return _info(LibcFamily.MUSL, Confidence.LIKELY, f"{kind} binary built on Alpine")
    return _info(
        LibcFamily.MUSL,
        Confidence.GUESS,
        f"{kind} binary without glibc's .note.ABI-tag or strings and without Go markers;"
        " musl is the usual static C library",
    )
