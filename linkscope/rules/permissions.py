"""LS003: files Lambda must execute without an execute bit, and files it cannot read."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from linkscope.model import EntryKind, Finding, Severity
from linkscope.resolve import Role, World
from linkscope.rules.base import Context, Rule, named
from linkscope.rules.startfiles import DENIED, StartFile, package_of, start_files


def _windows_fix(path: str) -> str:
    return (
        "Zip on Linux or macOS after `chmod 755`, in WSL, or with a tool that sets Unix "
        "permissions (`build-lambda-zip` from aws-lambda-go, `cargo lambda build "
        f"--output-format zip`, SAM/CDK builds); {posixpath.basename(path)} must have mode "
        "755."
    )


def check_permissions(world: World, ctx: Context) -> Iterator[Finding]:
    if world.image is not None:
        yield from _image_permissions(world)
        return
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


def _other_executables(world: World, covered: set[str]) -> Iterator[Finding]:
    modeless: dict[str, list[str]] = {}
    for item in world.placed:
        entry_mode = item.facts.mode
        if item.role is Role.LIBRARY or item.node.location in covered:
            continue
        if entry_mode is None:
            package = package_of(world, item.node.location)
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


def _image_permissions(world: World) -> Iterator[Finding]:
    """In an image, what Lambda's non-root user must read: every file the entrypoint loads at
    start (an error), and the function's own files under the task root and /opt (the rest of
    a base image, /etc/shadow included, is not the function's business)."""
    from linkscope.rules.base import in_function_code

    loaded = world.start_paths
    others: list[str] = []
    for entry in world.function[0].entries:
        path = "/" + entry.inner
        if entry.mode is None or entry.mode & 0o004 or entry.kind is EntryKind.DIRECTORY:
            continue
        if entry.kind is EntryKind.SYMLINK:
            continue
        if path in loaded:
            yield PERMISSIONS.finding(
                entry.location,
                f"{named(entry.location)} is not readable by others (mode {entry.mode:04o}): "
                "Lambda runs the image as a non-root user, so loading it at start fails with "
                "`Permission denied`.",
                f"`RUN chmod o+r {path}` in the Dockerfile.",
            )
        elif in_function_code(path, world):
            others.append(entry.location)
    if others:
        yield PERMISSIONS.finding(
            world.function[0].source,
            f"{len(others)} file(s) of the function in {named(world.function[0].source)} are not "
            f"readable by others ({', '.join(others[:3])}{' ...' if len(others) > 3 else ''}): "
            "Lambda runs the image as a non-root user, so reading them fails with `Permission "
            "denied` (`[Errno 13] Permission denied: '/var/task/app.py'`).",
            "`RUN chmod -R o+rX /var/task` (or `COPY --chmod=755`) in the Dockerfile.",
            severity=Severity.WARNING,
        )


PERMISSIONS = Rule(
    id="LS003",
    title="executable without the execute bit, or not world-readable",
    severity=Severity.ERROR,
    help="Lambda runs code as a user that does not own the files: the bootstrap "
    "and extensions need mode 755, every file o+r.",
    check=check_permissions,
)
