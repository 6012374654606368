"""Which C library a binary uses, decided from facts already read (pure, no I/O).

Dynamic binaries are decided by their interpreter, DT_NEEDED and version requirements. Static ones
carry no such table, so content markers decide: glibc leaves `.note.ABI-tag` and strings such as
`GLIBC_TUNABLES`; musl's message table has `No error information`; Go has its own sections.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass

from linkscope.model import Confidence, LibcFamily, LibcInfo, Linkage, VersionRequirement

# Byte strings searched for in static binaries (and the family each one points to).
GLIBC_MARKERS = (b"GLIBC_TUNABLES", b"glibc.malloc.", b"GLIBC_PRIVATE", b"GNU C Library")
MUSL_MARKERS = (b"No error information", b"ld-musl-")
UCLIBC_MARKERS = (b"uClibc",)


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


def glibc_loader(path: str) -> bool:
    name = posixpath.basename(path)
    return name.startswith("ld-linux") or name in ("ld64.so.1", "ld64.so.2", "ld.so.1")


def classify(clues: LibcClues) -> LibcInfo:
    if clues.linkage is Linkage.DYNAMIC:
        return _dynamic(clues)
    return _static(clues)


def _info(family: LibcFamily, confidence: Confidence, *evidence: str) -> LibcInfo:
    return LibcInfo(family=family, confidence=confidence, evidence=tuple(evidence))


def _dynamic(clues: LibcClues) -> LibcInfo:  # noqa: PLR0911 - one return per decisive clue
    interp = clues.interpreter or ""
    interp_name = posixpath.basename(interp)
    musl_needed = next((n for n in clues.needed if n.startswith("libc.musl-")), None)
    if "ld-musl" in interp_name:
        return _info(LibcFamily.MUSL, Confidence.CERTAIN, f"interpreter {interp}")
    if musl_needed:
        return _info(LibcFamily.MUSL, Confidence.CERTAIN, f"needs {musl_needed}")
    if interp.startswith("/system/bin/linker") or clues.android:
        return _info(LibcFamily.BIONIC, Confidence.CERTAIN,
                     f"interpreter {interp}" if interp else "Android ident note")  # fmt: skip
    if "ld-uClibc" in interp_name or "libc.so.0" in clues.needed:
        return _info(LibcFamily.UCLIBC, Confidence.CERTAIN, f"interpreter {interp or '-'}")
    glibc_evidence = _glibc_evidence(clues.needed, clues.requirements, clues.definitions)
    if glibc_evidence:
        return _info(LibcFamily.GLIBC, Confidence.CERTAIN, *glibc_evidence)
    if clues.go and not clues.needed:
        return _info(LibcFamily.NONE, Confidence.CERTAIN,
                     "Go binary with no DT_NEEDED: the Go runtime makes system calls itself",
                     *([f"interpreter {interp} is only used to load it"] if interp else []))  # fmt: skip
    if "libc.so" in clues.needed:
        return _info(LibcFamily.MUSL, Confidence.LIKELY, "needs libc.so (musl's soname)")
    if interp and glibc_loader(interp):
        return _info(LibcFamily.GLIBC, Confidence.LIKELY, f"interpreter {interp}")
    if not clues.needed:
        return _info(LibcFamily.NONE, Confidence.LIKELY, "no DT_NEEDED: links no C library")
    return _info(LibcFamily.UNKNOWN, Confidence.GUESS, "no libc among DT_NEEDED")


def _glibc_evidence(
    needed: Iterable[str],
    requirements: Iterable[VersionRequirement],
    definitions: Iterable[str] = (),
) -> list[str]:
    evidence = [f"needs {name}" for name in needed if name in ("libc.so.6", "libc.so.6.1")]
    if any(name.startswith("GLIBC_") and name != "GLIBC_PRIVATE" for name in definitions):
        evidence.append("defines GLIBC_ versions: part of glibc itself (ld.so, libc.so.6, libm)")
    versions = sorted({r.version for r in requirements if r.version.startswith("GLIBC_")})
    if versions:
        evidence.append(f"requires {versions[-1]}" if len(versions) == 1 else
                        f"requires {len(versions)} GLIBC_ versions")  # fmt: skip
    return evidence


def _static(clues: LibcClues) -> LibcInfo:
    glibc = [m.decode() for m in GLIBC_MARKERS if m in clues.markers]
    musl = [m.decode() for m in MUSL_MARKERS if m in clues.markers]
    kind = clues.linkage.value
    if clues.go and not glibc:
        return _info(LibcFamily.NONE, Confidence.CERTAIN,
                     f"{kind} Go binary: the Go runtime makes system calls itself")  # fmt: skip
    if b"GLIBC_TUNABLES" in clues.markers or (glibc and clues.abi_tag):
        return _info(LibcFamily.GLIBC, Confidence.CERTAIN, f"{kind} binary with glibc inside",
                     *(f"contains {m!r}" for m in glibc),
                     *(["has .note.ABI-tag"] if clues.abi_tag else []))  # fmt: skip
    if musl:
        return _info(LibcFamily.MUSL, Confidence.LIKELY, f"{kind} binary with musl inside",
                     *(f"contains {m!r}" for m in musl))  # fmt: skip
    if glibc or clues.abi_tag:
        return _info(LibcFamily.GLIBC, Confidence.LIKELY, f"{kind} binary",
                     *(f"contains {m!r}" for m in glibc),
                     *(["has .note.ABI-tag (glibc's startup files add it)"] if clues.abi_tag
                       else []))  # fmt: skip
    if any(m in clues.markers for m in UCLIBC_MARKERS):
        return _info(LibcFamily.UCLIBC, Confidence.LIKELY, f"{kind} binary containing 'uClibc'")
    return _info(LibcFamily.MUSL, Confidence.GUESS,
                 f"{kind} binary without glibc's .note.ABI-tag or strings and without Go markers;"
                 " musl is the usual static C library")  # fmt: skip
