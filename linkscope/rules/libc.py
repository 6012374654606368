"""LS201 interpreter absent, LS202 dynamic musl, LS203 a bundled libc or loader."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from linkscope.advice import musl_dynamic_fix
from linkscope.model import Finding, LibcFamily, Linkage, Severity
from linkscope.resolve import Role, World
from linkscope.rules.base import (
    Context,
    Rule,
    essential,
    image_install_hint,
    is_image,
    named,
    need,
    system_name,
)

BUNDLED_LIBC = ("libc.so.6", "libc.musl-", "ld-linux", "ld-musl-", "ld64.so")


def _is_musl_dynamic(facts: object) -> bool:
    from linkscope.model import BinaryFacts

    assert isinstance(facts, BinaryFacts)
    return facts.linkage is Linkage.DYNAMIC and facts.libc.family is LibcFamily.MUSL


def check_interpreter(world: World, ctx: Context) -> Iterator[Finding]:
    for item in world.placed:
        facts = item.facts
        if (
            not facts.interpreter
            or item.role is Role.LIBRARY
            or item.interpreter is not None
            or facts.machine != world.target.os.machine
            or _is_musl_dynamic(facts)
        ):
            continue
        nix = "/nix/store/" in facts.interpreter
        yield INTERPRETER.finding(
            facts.path,
            f"{named(facts.path)} asks for the program interpreter {facts.interpreter}, which "
            f"{system_name(world)} does not have{_loader_note(world, facts.interpreter, nix)}: "
            "Lambda fails with `fork/exec ...: no such file or directory`.",
            _interpreter_fix(world, nix),
        )


def _loader_note(world: World, interpreter: str, nix: bool) -> str:
    if nix:
        return " (a Nix store path from the build machine)"
    if world.target.os.loader == interpreter:
        return ""  # saying "the loader is X" about the X it lacks would read as a contradiction
    where = "the image's" if is_image(world) else "the runtime's"
    return f" ({where} loader is {world.target.os.loader})"


def _interpreter_fix(world: World, nix: bool) -> str:
    loader = world.target.os.loader
    if nix:
        return (
            f"Rebuild without Nix's loader (`patchelf --set-interpreter {loader}`, "
            "or build outside Nix)"
        )
    if is_image(world):
        return (
            f"In the Dockerfile, {image_install_hint(world)} (glibc provides {loader}), or build "
            "FROM an AWS base image (public.ecr.aws/lambda/...), or link statically."
        )
    return f"Link against the runtime's loader {loader}, or link statically."


def check_musl(world: World, ctx: Context) -> Iterator[Finding]:
    for item in world.placed:
        facts = item.facts
        if not _is_musl_dynamic(facts) or facts.machine != world.target.os.machine:
            continue
        if facts.interpreter and item.interpreter is not None:
            continue  # the package brings its own musl loader at that path
        loader = facts.interpreter or next((n for n in facts.needed if "musl" in n), "libc.so")
        yield MUSL.finding(
            facts.path,
            f"{named(facts.path)} is linked dynamically against musl and needs {loader} at start; "
            "Amazon Linux uses glibc and has no musl, so "
            + (
                "Lambda fails with `fork/exec ...: no such file or directory`."
                if facts.interpreter
                else f"loading it fails: `{loader}: cannot open shared object file`."
            )
            + _musl_remedy(facts.is_shared_library),
            musl_dynamic_fix(facts, need(world)),
            severity=Severity.ERROR
            if essential(item, world) or facts.is_shared_library
            else Severity.WARNING,
        )


def _musl_remedy(shared_library: bool) -> str:
    if shared_library:  # loaded into a glibc process (python, node): it cannot bring its musl
        return (
            " A library is loaded into the runtime's glibc process, so it must be built for "
            "glibc (a manylinux wheel, the glibc build of the package), not for musl."
        )
    return " A statically linked musl binary would run: it carries its C library inside."


def check_bundled_libc(world: World, ctx: Context) -> Iterator[Finding]:
    if is_image(world):
        return  # an image's libc is the runtime's libc
    for node in world.bundle.nodes.values():
        name = posixpath.basename(node.path)
        if node.facts is None or not name.startswith(BUNDLED_LIBC):
            continue
        yield BUNDLED.finding(
            node.location,
            f"{named(node.location)} is a C library or dynamic loader bundled in the package. "
            "Mixing it with the runtime's own loader or libc fails in confusing ways; it only "
            "works when every binary is started through the bundled loader "
            "(`ld-linux... --library-path`), as aws-lambda-cpp's packager does.",
            "Remove it and build for the runtime's glibc, or start the program through the "
            "bundled loader from a script bootstrap.",
        )


INTERPRETER = Rule(
    id="LS201",
    title="program interpreter absent from the runtime",
    severity=Severity.ERROR,
    help="PT_INTERP names a loader the runtime does not have (musl, Nix, 32-bit, other distros).",
    check=check_interpreter,
)
MUSL = Rule(
    id="LS202",
    title="dynamically linked against musl",
    severity=Severity.ERROR,
    help="Amazon Linux has no musl loader or libc; static musl binaries are fine.",
    check=check_musl,
)
BUNDLED = Rule(
    id="LS203",
    title="the package bundles its own libc or dynamic loader",
    severity=Severity.WARNING,
    help="A bundled libc.so.6 or ld-linux does not mix with the runtime's.",
    check=check_bundled_libc,
)
RULES = (INTERPRETER, MUSL, BUNDLED)
