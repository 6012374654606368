"""LS002 no bootstrap, LS003 permissions, LS004 script bootstraps and extensions that cannot be
started, LS005 deployment size limits: the rules about the package, not about one ELF file.

"Start files" are what Lambda itself executes: the bootstrap of an OS-only runtime (the first of
/var/task/bootstrap, /opt/bootstrap that exists), every file in /opt/extensions/, and on go1.x
(which runs the Handler file, whose name linkscope is not told) every ELF executable of the
function.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass

from linkscope.model import EntryKind, Finding, PackageEntry, ScannedPackage, ScriptFacts, Severity
from linkscope.resolve import Node, Origin, Role, World
from linkscope.rules.base import Context, Rule, named

DENIED = "`fork/exec {path}: permission denied`"
# On a managed runtime the language's own interpreter is on PATH (/var/lang/bin).
LANGUAGE_INTERPRETERS = {
    "python": ("python", "python3"),
    "nodejs": ("node",),
    "ruby": ("ruby",),
    "java": ("java",),
    "dotnet": ("dotnet",),
}
CRLF_FIX = (
    "Save it with Unix line endings (`dos2unix bootstrap`, or `sed -i 's/\\r$//' "
    "bootstrap`; in git: `bootstrap text eol=lf` in .gitattributes)."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class StartFile:
    """A file Lambda executes: where it runs from, and the package entry that holds its bytes."""

    path: str  # where Lambda runs it: /var/task/bootstrap, /opt/extensions/x
    what: str  # "the bootstrap", "the extension", "the executable"
    node: Node
    entry: PackageEntry | None
    zipped: bool = False  # its package is a zip (where "no mode bits" means made on Windows)


def _entries(world: World) -> dict[str, tuple[PackageEntry, bool]]:
    return {
        e.location: (e, p.kind == "zip")
        for p in (*world.function, *world.layers)
        for e in p.entries
    }


def _start(
    entries: dict[str, tuple[PackageEntry, bool]], path: str, what: str, node: Node
) -> StartFile:
    entry, zipped = entries.get(node.location, (None, False))
    return StartFile(path=path, what=what, node=node, entry=entry, zipped=zipped)


def _function(world: World) -> ScannedPackage:
    return world.function[0]


def _bootstrap_applies(world: World) -> bool:
    return world.target.runtime.os_only and _function(world).kind != "file"


def selected_bootstrap(world: World) -> tuple[str, Node] | None:
    """The bootstrap Lambda runs: the first search path that holds a file."""
    for path in world.target.environment.bootstrap_search:
        node = world.bundle.lookup(path)
        if node is not None:
            return path, node
    return None


def start_files(world: World) -> list[StartFile]:
    entries = _entries(world)
    found: list[StartFile] = []
    if _bootstrap_applies(world):
        chosen = selected_bootstrap(world)
        if chosen is not None:
            found.append(_start(entries, chosen[0], "the bootstrap", chosen[1]))
    for path in _extension_paths(world):
        node = world.bundle.lookup(path)
        if node is not None:
            found.append(_start(entries, path, "the extension", node))
    if world.target.runtime.entrypoint == "handler":  # go1.x runs the Handler file itself
        for item in world.placed:
            if item.role is not Role.LIBRARY and item.node.origin is Origin.FUNCTION:
                found.append(_start(entries, item.node.path, "the handler executable", item.node))
    return found


def _extension_paths(world: World) -> list[str]:
    extensions = world.target.environment.extensions_dir
    paths = set()
    for layer in world.layers:
        for entry in layer.entries:
            path = posixpath.join(world.target.environment.layer_root, entry.inner)
            if posixpath.dirname(path) == extensions and entry.kind is not EntryKind.DIRECTORY:
                paths.add(path)
    return sorted(paths)


# ---------------------------------------------------------------- LS002


def check_bootstrap(world: World, ctx: Context) -> Iterator[Finding]:
    if not _bootstrap_applies(world) or selected_bootstrap(world) is not None:
        return
    function = _function(world)
    search = world.target.environment.bootstrap_search
    why = [_why_not(world, path) for path in search]
    hints = [w for w in why if w] + _near_misses(function)
    layer_hint = (
        ""
        if world.layers
        else " If the runtime comes from a layer (Bref, a custom "
        "runtime layer), attach the layer to the function, and pass it here with "
        "`--layer`."
    )
    yield NO_BOOTSTRAP.finding(
        function.source,
        f"{named(function.source)} has no `bootstrap` where {world.target.runtime.name} looks for "
        f"it ({', '.join(search)}): Lambda fails with `Couldn't find valid bootstrap(s): "
        f"[{' '.join(search)}]` (Runtime.InvalidEntrypoint)." + "".join(f" {h}" for h in hints),
        "Put an executable named `bootstrap` at the root of the zip (zip the folder's contents, "
        "not the folder), or in a layer's root." + layer_hint,
    )


def _why_not(world: World, path: str) -> str:
    target = world.bundle.link_target(path)
    if target is not None:
        return (
            f"{path} is a symlink to {target}, which is missing or outside the package "
            "(linkscope follows links only inside the package that holds them)."
        )
    prefix = path + "/"
    if any(p.startswith(prefix) for p in world.bundle.nodes):
        return f"{path} is a folder, not a file."
    return ""


def _near_misses(function: ScannedPackage) -> list[str]:
    names = [
        e.inner
        for e in function.entries
        if e.kind is not EntryKind.DIRECTORY
        and re.fullmatch(r"(?i)bootstrap(\.\w+)?", posixpath.basename(e.inner))
        and e.inner != "bootstrap"
    ]
    if not names:
        return []
    return [
        f"The package has {', '.join(names[:3])}: Lambda looks only for `bootstrap` at the "
        "root, named exactly so."
    ]


# ---------------------------------------------------------------- LS003


def check_permissions(world: World, ctx: Context) -> Iterator[Finding]:
    covered: set[str] = set()
    for start in start_files(world):
        covered.add(start.node.location)
        finding = _start_permission(start)
        if finding is not None:
            yield finding
    yield from _other_executables(world, covered)
    yield from _unreadable(world, covered)


def _start_permission(start: StartFile) -> Finding | None:
    mode = start.entry.mode if start.entry is not None else None
    where, denied = named(start.node.location), DENIED.format(path=start.path)
    if start.entry is not None and mode is None and start.zipped:
        # No Unix mode in the zip (made on Windows, or by a tool that drops it). Lambda cannot
        # know which files should be executable and extracts them without the execute bit:
        # go1.x users saw `permission denied` after zipping on Windows (lambda-facts 9 #22,
        # aws-lambda-developer-guide#235, aws-sam-cli#1846). For a file Lambda itself must
        # execute that is a start failure, so an error, not a warning.
        return PERMISSIONS.finding(
            start.node.location,
            f"{where} ({start.what}) has no Unix permissions in the zip (it was made on Windows "
            f"or by a tool that drops them): Lambda extracts it without the execute bit and "
            f"fails with {denied}.",
            _windows_fix(start.path),
        )
    if mode is None:
        return None
    if mode & 0o111 == 0:
        return PERMISSIONS.finding(
            start.node.location,
            f"{where} ({start.what}) is not executable (mode {mode:04o}): Lambda fails with "
            f"{denied} (Runtime.InvalidEntrypoint).",
            f"`chmod 755 {posixpath.basename(start.path)}` before zipping (zip keeps the mode).",
        )
    script = start.node.kind is EntryKind.SCRIPT
    if mode & 0o001 == 0 or (script and mode & 0o004 == 0):
        # Lambda runs code as a user that does not own the files ("chmod -R o+rX .", DOCS-2022
        # troubleshooting-deployment): the bits for "others" are the ones that count. A script
        # must also be readable, since its interpreter opens it.
        return PERMISSIONS.finding(
            start.node.location,
            f"{where} ({start.what}) has mode {mode:04o}: Lambda runs it as a user that does not "
            f"own it, so it needs the execute{' and read' if script else ''} bit for others; "
            f"otherwise it fails with {denied}.",
            f"`chmod 755 {posixpath.basename(start.path)}` before zipping.",
            severity=Severity.ERROR if script and mode & 0o004 == 0 else Severity.WARNING,
        )
    return None


def _windows_fix(path: str) -> str:
    return (
        "Zip on Linux or macOS after `chmod 755`, in WSL, or with a tool that sets Unix "
        "permissions (`build-lambda-zip` from aws-lambda-go, `cargo lambda build "
        f"--output-format zip`, SAM/CDK builds); {posixpath.basename(path)} must have mode "
        "755."
    )


def _other_executables(world: World, covered: set[str]) -> Iterator[Finding]:
    modeless: dict[str, list[str]] = {}
    for item in world.placed:
        entry_mode = item.facts.mode
        if item.role is Role.LIBRARY or item.node.location in covered:
            continue
        if entry_mode is None:
            package = _package_of(world, item.node.location)
            if package is not None and package.kind == "zip":
                modeless.setdefault(package.source, []).append(item.node.location)
            continue
        if entry_mode & 0o111 == 0:
            yield PERMISSIONS.finding(
                item.node.location,
                f"{named(item.node.location)} is an executable without the execute bit (mode "
                f"{entry_mode:04o}): if your code runs it, it fails with `permission denied`.",
                f"`chmod 755 {item.node.location.rsplit('!', 1)[-1]}` before zipping.",
                severity=Severity.WARNING,
            )
    for source, locations in sorted(modeless.items()):
        shown = ", ".join(locations[:3]) + (
            f" and {len(locations) - 3} more" if len(locations) > 3 else ""
        )
        # A warning, not an error: Lambda only runs these if the function's code does.
        yield PERMISSIONS.finding(
            source,
            f"{named(source)} has no Unix permissions (made on Windows?): Lambda extracts its "
            f"files readable but not executable, so the executables in it ({shown}) fail with "
            "`permission denied` if your code runs them. Libraries and code files are fine.",
            _windows_fix("each executable"),
            severity=Severity.WARNING,
        )


def _package_of(world: World, location: str) -> ScannedPackage | None:
    return next(
        (
            p
            for p in (*world.function, *world.layers)
            if any(e.location == location for e in p.entries)
        ),
        None,
    )


def _unreadable(world: World, covered: set[str]) -> Iterator[Finding]:
    loaded = {p.node.location for p in world.placed if p.needed_by}
    others: dict[str, list[str]] = {}
    for package in (*world.function, *world.layers):
        for entry in package.entries:
            if (
                entry.mode is None
                or entry.mode & 0o004
                or entry.location in covered
                or entry.kind in (EntryKind.DIRECTORY, EntryKind.SYMLINK)
            ):
                continue
            if entry.kind not in (EntryKind.ELF, EntryKind.SCRIPT):
                others.setdefault(package.source, []).append(entry.location)
                continue
            needed = entry.location in loaded
            yield PERMISSIONS.finding(
                entry.location,
                f"{named(entry.location)} is not readable by others (mode {entry.mode:04o}): "
                "Lambda runs code as a user that does not own the files, so "
                + (
                    "loading it fails with `cannot open shared object file: Permission denied`."
                    if needed
                    else "opening or loading it fails with `Permission denied`."
                ),
                "`chmod -R o+rX .` before zipping.",
                severity=Severity.ERROR if needed else Severity.WARNING,
            )
    for source, locations in sorted(others.items()):
        yield PERMISSIONS.finding(
            source,
            f"{len(locations)} file(s) in {named(source)} are not readable by others "
            f"({', '.join(locations[:3])}{' ...' if len(locations) > 3 else ''}): Lambda runs "
            "code as a user that does not own them, so reading them fails with `Permission "
            "denied`.",
            "`chmod -R o+rX .` before zipping.",
            severity=Severity.WARNING,
        )


# ---------------------------------------------------------------- LS004


def check_start_format(world: World, ctx: Context) -> Iterator[Finding]:
    scripts = {s.path: s for p in (*world.function, *world.layers) for s in p.scripts}
    for start in start_files(world):
        if start.node.kind is EntryKind.SCRIPT and start.node.location in scripts:
            yield from _script(world, start, scripts[start.node.location])
        elif start.node.kind is EntryKind.OTHER:
            # LS004 rather than LS101: LS101 compares ELF headers with the function's
            # architecture; this file has no ELF header at all. What the kernel does with it
            # is decided by its first bytes, the same question as a script's `#!` line.
            size = start.entry.size if start.entry is not None else -1
            what = (
                "is empty"
                if size == 0
                else (
                    "is neither an ELF executable nor a script "
                    "starting with `#!` (a macOS or Windows build, "
                    "or a script without its `#!` line?)"
                )
            )
            yield START_FORMAT.finding(
                start.node.location,
                f"{named(start.node.location)} ({start.what}) {what}: Lambda fails with "
                f"`fork/exec {start.path}: exec format error`.",
                "Build a Linux executable for the function's architecture, or start the script "
                "with a `#!/bin/sh` line (Unix line endings).",
            )


def _script(world: World, start: StartFile, script: ScriptFacts) -> Iterator[Finding]:
    where = f"{named(start.node.location)} ({start.what})"
    if script.crlf:
        yield START_FORMAT.finding(
            start.node.location,
            f"{where} has Windows (CRLF) line endings: the kernel looks for an interpreter named "
            f"`{script.interpreter}\\r`, and Lambda fails with `fork/exec {start.path}: no such "
            "file or directory` (bash says `required file not found`).",
            CRLF_FIX,
        )
        return
    present, program = _interpreter(world, script)
    if present is True:
        return
    shebang = f"#!{script.interpreter}" + (f" {script.argument}" if script.argument else "")
    runtime = world.target.runtime.name
    yield START_FORMAT.finding(
        start.node.location,
        f"{where} starts with `{shebang}`, but {program or 'its interpreter'} "
        + ("is not" if present is False else "is not known to be")
        + f" on {runtime}: Lambda fails with `fork/exec {start.path}: no such file or directory`.",
        "Use `#!/bin/sh` or `#!/bin/bash`, or bundle the interpreter (in a layer's bin/, "
        "which is /opt/bin on PATH) and name it in the `#!` line.",
        severity=Severity.ERROR if present is False else Severity.WARNING,
    )


def _interpreter(world: World, script: ScriptFacts) -> tuple[bool | None, str]:
    """Whether the `#!` interpreter exists on the runtime: True, False, or None (unknown)."""
    path = script.interpreter
    if not path:
        return False, "an interpreter (the `#!` line names none)"
    if not path.startswith("/"):
        path = posixpath.join(world.target.environment.task_root, path)  # relative to the cwd
    if path == "/usr/bin/env" and _exists(world, path):
        return _on_path(world, script.argument)
    if _exists(world, path):
        return True, path
    known = _known(world, posixpath.basename(path))
    if posixpath.dirname(path) == "/var/lang/bin":
        return known, f"`{path}`"
    # An absolute path the runtime lacks: known absent (python3) or not known either way. The
    # managed runtime's own interpreter lives in /var/lang/bin, not at this path.
    return (False if known is False else None), f"`{path}`"


def _on_path(world: World, argument: str | None) -> tuple[bool | None, str]:
    """`#!/usr/bin/env X`: X must be found on the runtime's PATH."""
    words = [w for w in (argument or "").split() if not w.startswith("-")]
    if not words:
        return False, "a program for /usr/bin/env (none is named)"
    program = words[0]
    for directory in world.target.environment.path:
        if _exists(world, posixpath.join(directory, program)):
            return True, program
    return _known(world, program), f"`{program}` (looked for on PATH)"


def _exists(world: World, path: str) -> bool:
    path = posixpath.normpath(path)
    return path in world.target.os.shells or world.bundle.lookup(path) is not None


def _known(world: World, program: str) -> bool | None:
    base = re.sub(r"[\d.]+$", "", program)
    runtime = world.target.runtime
    if not runtime.os_only and base in LANGUAGE_INTERPRETERS.get(runtime.family, ()):
        return True  # the managed runtime's own interpreter, in /var/lang/bin
    absent = world.target.os.interpreters_absent
    if program in absent or base in absent:
        return False
    return None


# ---------------------------------------------------------------- LS005


def check_limits(world: World, ctx: Context) -> Iterator[Finding]:
    limits, function = world.target.limits, _function(world)
    packages = (*world.function, *world.layers)
    total = sum(
        e.size
        for p in packages
        for e in p.entries
        if e.kind is not EntryKind.DIRECTORY and e.size > 0
    )
    if total > limits.unzipped_bytes:
        yield LIMITS.finding(
            function.source,
            f"{named(function.source)} unzips to {_mb(total)}"
            + (f" with its {len(world.layers)} layer(s)" if world.layers else "")
            + f"; Lambda allows {_mb(limits.unzipped_bytes)} unzipped, layers included: the "
            "deploy is rejected.",
            "Move large dependencies out (a container image allows 10 GB), strip binaries "
            "(`strip`, `-s`), or drop unused files.",
        )
    if len(world.layers) > limits.layers:
        yield LIMITS.finding(
            function.source,
            f"{len(world.layers)} layers are given; a function can use at most {limits.layers}.",
            "Merge layers.",
        )
    for package in packages:
        if package.zipped_size is not None and package.zipped_size > limits.zipped_bytes:
            # A warning: 50 MB is the limit for direct upload; through S3 a bigger zip deploys,
            # as long as the unzipped total fits (checked above).
            yield LIMITS.finding(
                package.source,
                f"{named(package.source)} is {_mb(package.zipped_size)} zipped; a direct upload "
                f"allows {_mb(limits.zipped_bytes)}.",
                "Upload it through S3 (`--s3-bucket`; SAM and CDK do), or make it smaller.",
                severity=Severity.WARNING,
            )


def _mb(size: int) -> str:
    return f"{size / (1 << 20):.1f} MB"


NO_BOOTSTRAP = Rule(
    id="LS002",
    title="no bootstrap where Lambda looks for it",
    severity=Severity.ERROR,
    help="OS-only runtimes run /var/task/bootstrap, else /opt/bootstrap from a layer.",
    check=check_bootstrap,
)
PERMISSIONS = Rule(
    id="LS003",
    title="executable without the execute bit, or not world-readable",
    severity=Severity.ERROR,
    help="Lambda runs code as a user that does not own the files: the bootstrap "
    "and extensions need mode 755, every file o+r.",
    check=check_permissions,
)
START_FORMAT = Rule(
    id="LS004",
    title="bootstrap or extension the kernel cannot start",
    severity=Severity.ERROR,
    help="A `#!` interpreter absent from the runtime, CRLF line endings, or a "
    "file that is neither ELF nor a script.",
    check=check_start_format,
)
LIMITS = Rule(
    id="LS005",
    title="package over Lambda's size limits",
    severity=Severity.ERROR,
    help="50 MB zipped (direct upload), 250 MB unzipped with layers, 5 layers.",
    check=check_limits,
)
RULES = (NO_BOOTSTRAP, PERMISSIONS, START_FORMAT, LIMITS)
