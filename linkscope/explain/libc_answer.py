"""The answer to the question linkscope started from: is the C library inside this binary or
loaded at start, from where, and what that means on Amazon Linux (glibc, no musl)."""

from __future__ import annotations

from linkscope.explain import Statement
from linkscope.model import BinaryFacts, LibcFamily, Linkage, split_version, version_key
from linkscope.profiles.model import Target

SHOWN_SYMBOLS = 3
SHOWN_VERSIONS = 5
OLDEST_LAMBDA_GLIBC = "2.17"  # provided (Amazon Linux 2018.03), the oldest OS-only runtime


def c_library(facts: BinaryFacts, target: Target) -> Statement:
    family = facts.libc.family
    because = [e for e in facts.libc.evidence]
    calls_no_libc = facts.linkage is Linkage.DYNAMIC and not facts.needed
    if family is LibcFamily.GLIBC and calls_no_libc and facts.interpreter:
        text = _no_libc(facts)  # a Go PIE: glibc's loader starts it, no libc.so.6 is loaded
        because = [*facts.libc.evidence, "no DT_NEEDED"]
    elif family is LibcFamily.GLIBC and facts.linkage is Linkage.DYNAMIC:
        text, extra = _glibc_dynamic(facts, target)
        because = _dynamic_because(facts) + extra
    elif family is LibcFamily.MUSL and facts.linkage is Linkage.DYNAMIC:
        text = _musl_dynamic(facts)
        because = _dynamic_because(facts)
    elif family in (LibcFamily.MUSL, LibcFamily.GLIBC, LibcFamily.UCLIBC, LibcFamily.BIONIC):
        text = _static_libc(facts)
    elif family is LibcFamily.NONE:
        text = _no_libc(facts)
    else:
        text = "The C library could not be identified from the binary" + (
            f"; it needs {', '.join(facts.needed)} at start." if facts.needed else "."
        )
    if facts.libc.confidence.value != "certain":
        because.append(f"confidence: {facts.libc.confidence.value}")
    return Statement(
        topic="c-library", title="C library", text=text, because=tuple(dict.fromkeys(because))
    )


def _dynamic_because(facts: BinaryFacts) -> list[str]:
    out = [f"interpreter {facts.interpreter}"] if facts.interpreter else ["no interpreter"]
    if facts.needed:
        out.append(f"DT_NEEDED {', '.join(facts.needed)}")
    return out


def glibc_versions(facts: BinaryFacts, prefix: str = "GLIBC") -> list[tuple[str, tuple[str, ...]]]:
    """(version, symbols) for every `prefix_` requirement, newest first."""
    found: dict[str, set[str]] = {}
    for req in facts.version_requirements:
        parsed = split_version(req.version)
        if parsed is not None and parsed[0] == prefix:
            found.setdefault(req.version, set()).update(req.symbols)
    order = sorted(found, key=lambda v: split_version(v)[1], reverse=True)  # type: ignore[index]
    return [(v, tuple(sorted(found[v]))) for v in order]


def version_list(versions: list[tuple[str, tuple[str, ...]]]) -> str:
    def one(version: str, symbols: tuple[str, ...]) -> str:
        if not symbols:
            return version
        shown = ", ".join(symbols[:SHOWN_SYMBOLS])
        more = len(symbols) - SHOWN_SYMBOLS
        return f"{version} ({shown}{f' and {more} more' if more > 0 else ''})"

    return "; ".join(one(v, s) for v, s in versions)


def _glibc_dynamic(facts: BinaryFacts, target: Target) -> tuple[str, list[str]]:
    libc = next((lib for lib in target.os.libraries if lib.soname == "libc.so.6"), None)
    where = libc.path if libc else "the runtime's /lib64"
    loader = facts.interpreter or target.os.loader
    versions = glibc_versions(facts)
    text = (
        f"glibc is not inside it: it is loaded at start from {where} by the dynamic loader "
        f"{loader} (on {target.runtime.name} both are the runtime's own copies)."
    )
    if facts.toolchain.go is not None and facts.toolchain.go.setting("CGO_ENABLED") == "1":
        text += " It needs glibc because cgo was on (CGO_ENABLED=1)."
    if versions:
        newest = versions[0][0].removeprefix("GLIBC_")
        shown = version_list(versions[:SHOWN_VERSIONS]) + (
            f"; and {len(versions) - SHOWN_VERSIONS} older"
            if len(versions) > SHOWN_VERSIONS
            else ""
        )
        text += (
            f" It runs only where the runtime's glibc is at least {newest}, the newest "
            f"version it needs: {shown}."
        )
        if version_key(newest) <= version_key(OLDEST_LAMBDA_GLIBC):
            text += (
                f" Every Lambda runtime has that (the oldest, provided, has glibc "
                f"{OLDEST_LAMBDA_GLIBC})."
            )
        else:
            text += (
                " glibc versions its symbols, and a program linked against a newer glibc "
                "records the newer versions; the loader then refuses to start it on an "
                f'older one ("version `GLIBC_{newest}\' not found").'
            )
    extra = (
        [f".gnu.version_r: {', '.join(v for v, _ in versions)} from libc.so.6"] if versions else []
    )
    return text, extra


def _musl_dynamic(facts: BinaryFacts) -> str:
    loader = facts.interpreter or next((n for n in facts.needed if "musl" in n), "libc.so")
    text = (
        f"musl is linked dynamically, not inside the binary: it asks for musl's loader "
        f"{loader} (which is also musl's C library) at start. Amazon Linux uses glibc, not "
        f'musl, and has no {loader}: Lambda cannot start it ("fork/exec ...: no such file '
        'or directory").'
    )
    if _python_extension(facts):
        # the runtime's CPython loads it into its own process, which runs on glibc
        return text + (
            " As a Python extension module it is loaded by the runtime's CPython, which uses "
            "glibc, so it must be built against glibc too (linking musl statically would not "
            "help): install the manylinux wheel instead of the musllinux one."
        )
    return text + " Linked statically, musl would be inside the binary and it would run."


def _python_extension(facts: BinaryFacts) -> bool:
    name = facts.path.rsplit("/", 1)[-1]
    imported = facts.interface.imported if facts.interface else ()
    return facts.is_shared_library and (
        ".cpython-" in name
        or name.endswith(".abi3.so")
        or any(s.startswith("Py") for s in imported)
    )


def _static_libc(facts: BinaryFacts) -> str:
    name = facts.libc.family.value
    text = (
        f"{name} is linked statically, inside the executable: nothing is loaded at start "
        "(no program interpreter, no shared libraries)."
    )
    if facts.linkage is Linkage.STATIC_PIE:
        text += (
            " As a static-pie it applies its own relocations at start, so it needs no "
            "loader either."
        )
    if facts.libc.family is LibcFamily.MUSL:
        text += (
            " Amazon Linux uses glibc, not musl; this binary runs there because it needs "
            "no C library from the system at all."
        )
    elif facts.libc.family is LibcFamily.GLIBC:
        kernel = facts.toolchain.min_kernel
        text += (
            " It does not depend on the runtime's glibc version"
            + (f"; it declares a minimum kernel of Linux {kernel}" if kernel else "")
            + ". If the program looks up users or host names (getpwnam, getaddrinfo), "
            "static glibc still loads NSS modules (libnss_*.so.2) at run time, and those "
            "calls can fail."
        )
    return text


def _no_libc(facts: BinaryFacts) -> str:
    go = facts.toolchain.language == "go"
    who = "the Go runtime makes system calls itself" if go else "it makes system calls itself"
    if facts.is_shared_library or facts.soname:
        return "It links no C library: it has no DT_NEEDED entry at all."
    if facts.interpreter:
        return (
            f"There is no C library at all: {who}, and it needs no shared library. As a PIE it "
            f"still names glibc's loader {facts.interpreter} as its interpreter, so the "
            "kernel starts it through that loader, which every Amazon Linux runtime has "
            "(where it is missing, for example on Alpine, it cannot start)."
        )
    return (
        f"There is no C library at all: {who}, and nothing is loaded at start. It runs on "
        "any Linux of its architecture, whether its C library is glibc or musl."
    )
