"""LS004: a bootstrap or extension the kernel cannot start: a `#!` interpreter the runtime lacks,
CRLF line endings, or a file that is neither ELF nor a script."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from linkscope.model import EntryKind, Finding, ScriptFacts, Severity
from linkscope.resolve import World
from linkscope.rules.base import Context, Rule, named, system_name
from linkscope.rules.startfiles import StartFile, lone_script, start_entries, start_files

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


def check_start_format(world: World, ctx: Context) -> Iterator[Finding]:
    scripts = {s.path: s for p in (*world.function, *world.layers) for s in p.scripts}
    for start in (*start_files(world), *lone_script(world, start_entries(world))):
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
    runtime = system_name(world)
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


START_FORMAT = Rule(
    id="LS004",
    title="bootstrap or extension the kernel cannot start",
    severity=Severity.ERROR,
    help="A `#!` interpreter absent from the runtime, CRLF line endings, or a "
    "file that is neither ELF nor a script.",
    check=check_start_format,
)
