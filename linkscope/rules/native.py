"""LS103: native code built for another operating system (Mach-O from a Mac, PE/COFF from
Windows) where the runtime would load it. Linux's loader rejects both: `invalid ELF header`
(reference/managed-runtimes.md 5). A `.dylib` or `.dll` that nothing loads is information."""

from __future__ import annotations

from collections.abc import Iterator

from linkscope.advice import packaging_fix, pip_fix
from linkscope.ecosystems.base import Need
from linkscope.ecosystems.system import SHARED_OBJECT
from linkscope.model import Finding, NativeFile, ScannedPackage, Severity
from linkscope.resolve import World
from linkscope.rules.base import Context, Rule, named, need

FORMATS = {"mach-o": "a Mach-O", "mach-o-fat": "a universal (fat) Mach-O", "pe": "a PE/COFF"}


def check_foreign_native(world: World, ctx: Context) -> Iterator[Finding]:
    for package in (*world.function, *world.layers):
        yield from package_findings(package, need(world))


def package_findings(package: ScannedPackage, wanted: Need | None) -> Iterator[Finding]:
    """LS103 for one package; `wanted` is None for `inspect` (no runtime: generic advice)."""
    loaded = package.ecosystems.loaded()
    ignored = package.ecosystems.ignored()
    for native in package.natives:
        if native.inner in ignored:
            if wanted is None:  # inspect: no runtime rule will speak for it, so say what it is
                yield _unused(native)
            continue  # check: another ecosystem rule says why it is never loaded (LS601, ...)
        if native.inner in loaded or _loadable_name(native.inner) or package.kind == "file":
            yield _error(package, native, wanted)
        else:
            yield _unused(native)


def _loadable_name(inner: str) -> bool:
    """Named the way Linux loads native code: `*.so`, `*.so.1`, a Node `*.node` addon."""
    name = inner.rsplit("/", 1)[-1]
    return name.endswith(".node") or SHARED_OBJECT.search(name) is not None


def describe(native: NativeFile) -> str:
    kind = native.file_type or "file"
    machines = ", ".join(native.machines)
    return f"{FORMATS.get(native.format, native.format)} {kind} for {native.os} ({machines})"


def _consequence(native: NativeFile) -> str:
    name = native.inner.rsplit("/", 1)[-1]
    if native.inner in ("bootstrap",) or native.inner.startswith("extensions/"):
        return "Lambda cannot run it: `exec format error`"
    if name.endswith(".node"):
        return "`require` fails with `invalid ELF header` (ERR_DLOPEN_FAILED)"
    if name.endswith(".so") and not native.inner.startswith("lib/"):
        return "Python (or whatever loads it) fails with `invalid ELF header`"
    return "the Linux loader rejects it with `invalid ELF header`"


def _error(package: ScannedPackage, native: NativeFile, wanted: Need | None) -> Finding:
    fix = packaging_fix(native.origin, wanted)
    python = package.ecosystems.language == "python" and native.inner.endswith(".so")
    if fix is None and python and wanted is not None:
        fix = pip_fix(None, wanted)
    if fix is None:
        arch = wanted.arch if wanted is not None else "the function's architecture"
        target = f"{wanted.machine}-linux-gnu.{wanted.glibc}" if wanted else "x86_64-linux-gnu"
        fix = (
            f"Build or install it on Linux for {arch}: inside the runtime's build image "
            f"(`sam build --use-container`), or with a Linux cross compiler "
            f"(`zig cc -target {target}`)."
        )
    return FOREIGN.finding(
        native.path,
        f"{named(native.path)} is {describe(native)}, not a Linux ELF file: "
        f"{_consequence(native)}.",
        fix,
    )


def _unused(native: NativeFile) -> Finding:
    return FOREIGN.finding(
        native.path,
        f"{named(native.path)} is {describe(native)}; nothing on Lambda loads a file named "
        "like this, so it is only dead weight in the package.",
        packaging_fix(native.origin, None)
        or "Leave it out of the package (it is another platform's copy).",
        severity=Severity.INFO,
    )


FOREIGN = Rule(
    id="LS103",
    title="native code built for another operating system",
    severity=Severity.ERROR,
    help="A Mach-O (macOS) or PE/COFF (Windows) file where the runtime would load native code: "
    "a Python extension module, a Node addon, the bootstrap, an extension, lib/, a JNI "
    "library. Linux fails with `invalid ELF header`.",
    check=check_foreign_native,
)
RULES = (FOREIGN,)
