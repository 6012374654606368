"""LS703 the entrypoint Lambda cannot start, LS704 no runtime interface client (reference
container-images.md section 2): Lambda runs `ENTRYPOINT + CMD` as a non-root user that owns no
file of the image, so the program, its `#!` interpreter and the folders above them need the
permission bits for "others"."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from linkscope.model import EntryKind, Finding, ImageFacts, PackageEntry, Severity
from linkscope.resolve import Placed, World
from linkscope.rules.base import Context, Rule, named
from linkscope.rules.image import ARCH as IMAGE_ARCH
from linkscope.rules.image import LIMITS, MANIFEST, image_of, source

AWS_ENTRYPOINT = "/lambda-entrypoint.sh"
AWS_BOOTSTRAP = "/var/runtime/bootstrap"
ADAPTER = "/opt/extensions/lambda-adapter"
START_FAILS = "Lambda fails with `fork/exec {path}: {why}` (Runtime.InvalidEntrypoint)"


def entries(world: World) -> dict[str, PackageEntry]:
    return {"/" + e.inner: e for e in world.function[0].entries}


def check_entrypoint(world: World, ctx: Context) -> Iterator[Finding]:
    image = image_of(world)
    if image is None:
        return
    where, argv = named(source(world)), image.argv
    if not argv:
        yield ENTRYPOINT.finding(
            source(world),
            f"{where} has no ENTRYPOINT and no CMD: Lambda has no program to start.",
            'Add `ENTRYPOINT ["/absolute/path/to/program"]` (and CMD for its arguments), or set '
            "the function's ImageConfig EntryPoint.",
        )
        return
    program = argv[0]
    if image.entrypoint_resolved is None:
        yield ENTRYPOINT.finding(
            source(world),
            f"{where} starts `{program}`, which is not in the image"
            + ("" if program.startswith("/") else " (looked for on the config's PATH)")
            + ": "
            + START_FAILS.format(path=program, why="no such file or directory")
            + ".",
            "Point ENTRYPOINT at the program's absolute path inside the image, and check that "
            "the build copies it there (`docker run --entrypoint ls IMAGE -l PATH`).",
        )
        return
    if not program.startswith("/"):
        yield ENTRYPOINT.finding(
            source(world),
            f"{where} starts `{program}`, a relative path (found at {image.entrypoint_resolved}): "
            "Lambda asks for an absolute ENTRYPOINT, and Lambda Managed Instances refuse "
            "relative ones (`The path must be absolute, non-empty, and point to an executable "
            "file`).",
            f'Use the absolute path: `ENTRYPOINT ["{image.entrypoint_resolved}"]`.',
            severity=Severity.WARNING,
        )
    if image.entrypoint_resolved.startswith("/tmp/"):
        yield ENTRYPOINT.finding(
            source(world),
            f"{where} starts {image.entrypoint_resolved}, under /tmp, which Lambda gives the "
            "function empty: "
            + START_FAILS.format(path=program, why="no such file or directory")
            + ".",
            "Install the program outside /tmp (under /var/task, /opt or /usr/local/bin).",
        )
        return
    yield from _program(world, image, image.entrypoint_resolved)
    if image.entrypoint_resolved == AWS_ENTRYPOINT and len(argv) < 2:
        yield ENTRYPOINT.finding(
            source(world),
            f"{where} runs the AWS base image's {AWS_ENTRYPOINT} with no handler: it exits with "
            "`entrypoint requires the handler name to be the first argument`.",
            'Add the handler as CMD: `CMD ["app.handler"]` (or set ImageConfig Command).',
        )


def _program(world: World, image: ImageFacts, path: str) -> Iterator[Finding]:
    files = entries(world)
    entry = files.get(path)
    if entry is None:
        return
    where = f"{named(source(world))}'s entrypoint {path}"
    yield from _folders(world, files, path, where)
    if entry.kind is EntryKind.OTHER:
        yield ENTRYPOINT.finding(
            source(world),
            f"{where} is neither an ELF executable nor a `#!` script: "
            + START_FAILS.format(path=path, why="exec format error")
            + ".",
            "Point ENTRYPOINT at a Linux executable for the function's architecture.",
        )
        return
    yield from _mode(world, entry, path, where, script=entry.kind is EntryKind.SCRIPT)
    if entry.kind is EntryKind.SCRIPT:
        yield from _interpreter(world, files, entry, where)


def _mode(
    world: World, entry: PackageEntry, path: str, where: str, *, script: bool
) -> Iterator[Finding]:
    mode = entry.mode
    if mode is None:
        return
    wanted = 0o005 if script else 0o001
    if mode & wanted == wanted:
        return
    need = "read and execute" if script else "execute"
    yield ENTRYPOINT.finding(
        source(world),
        f"{where} has mode {mode:04o}: Lambda runs it as a non-root user that does not own "
        f"it, so it needs the {need} bit for others: "
        + START_FAILS.format(path=path, why="permission denied")
        + ".",
        f"`RUN chmod 755 {path}` in the Dockerfile (or `COPY --chmod=755`).",
    )


def _folders(
    world: World, files: dict[str, PackageEntry], path: str, where: str
) -> Iterator[Finding]:
    folder = posixpath.dirname(path)
    while folder not in ("/", ""):
        entry = files.get(folder)
        if entry is not None and entry.mode is not None and not entry.mode & 0o001:
            yield ENTRYPOINT.finding(
                source(world),
                f"{where} is in {folder}, which has mode {entry.mode:04o}: Lambda's non-root "
                "user cannot enter it: " + START_FAILS.format(path=path, why="permission denied"),
                f"`RUN chmod o+x {folder}` (folders need 755).",
            )
            return
        folder = posixpath.dirname(folder)


def _interpreter(
    world: World, files: dict[str, PackageEntry], entry: PackageEntry, where: str
) -> Iterator[Finding]:
    script = next((s for s in world.function[0].scripts if s.path == entry.location), None)
    if script is None or not script.interpreter:
        return
    program = script.interpreter
    if program == "/usr/bin/env" and script.argument:
        name = script.argument.split()[0]
        paths = [posixpath.join(d, name) for d in world.target.environment.path]
        if any(world.bundle.lookup(p) for p in paths):
            return
        program = f"{name} (on PATH, through /usr/bin/env)"
    elif world.bundle.lookup(program) is not None:
        return
    yield ENTRYPOINT.finding(
        source(world),
        f"{where} is a script for {program}, which is not in the image: "
        + START_FAILS.format(
            path=entry.location.rsplit("!", 1)[-1], why="no such file or directory"
        )
        + ".",
        "Install the interpreter in the image, or change the script's `#!` line.",
    )


def check_client(world: World, ctx: Context) -> Iterator[Finding]:
    image = image_of(world)
    if image is None or not image.argv or image.entrypoint_resolved is None:
        return  # LS703 says there is nothing to start
    found = _client(world, image)
    if found is True:
        return
    if found == "rie":
        yield CLIENT.finding(
            source(world),
            f"{named(source(world))} starts aws-lambda-rie, the Runtime Interface Emulator for "
            "local tests: it emulates the Runtime API, it does not serve Lambda's.",
            "Start the runtime interface client directly, and use the emulator only locally "
            "(AWS base images choose it only when AWS_LAMBDA_RUNTIME_API is unset).",
            severity=Severity.WARNING,
        )
        return
    yield CLIENT.finding(
        source(world),
        f"{named(source(world))} starts {image.entrypoint_resolved}, and the image has no Lambda "
        "runtime interface client (no AWS base image runtime, no awslambdaric, aws-lambda-ric, "
        "Java or Ruby client, no program that calls the Runtime API, no Lambda Web Adapter): "
        "Lambda starts it, no invocation is ever fetched, and init fails with "
        "`Runtime.ExitError` or times out." + (f" {found}" if isinstance(found, str) else ""),
        "Build FROM an AWS base image (public.ecr.aws/lambda/...), or add a runtime interface "
        'client: `pip install awslambdaric` and `ENTRYPOINT ["/usr/local/bin/python", "-m", '
        '"awslambdaric"]` `CMD ["app.handler"]`; `npm install aws-lambda-ric`; the Java, Ruby '
        "or .NET client; a Go or Rust binary built with aws-lambda-go or lambda_runtime; or "
        "the Lambda Web Adapter in /opt/extensions/lambda-adapter for a web app.",
    )


def _client(world: World, image: ImageFacts) -> bool | str:
    """True when something in the image speaks the Runtime API; "rie" for the emulator; else
    False or a sentence on what is missing."""
    paths = {e.inner for e in world.function[0].entries}
    entry = image.entrypoint_resolved or ""
    if posixpath.basename(entry) == "aws-lambda-rie":
        return "rie"
    if AWS_BOOTSTRAP.lstrip("/") in paths:
        return True  # an AWS base image: /lambda-entrypoint.sh runs /var/runtime/bootstrap
    if entry == AWS_ENTRYPOINT:
        return f"{AWS_ENTRYPOINT} runs {AWS_BOOTSTRAP}, which the image lacks."
    found = (
        image.entrypoint_speaks_api
        or world.bundle.lookup(ADAPTER) is not None
        or any(_is_client(p) for p in world.placed if p.node.path == entry)
        or bool(_language_clients(paths))
        or _script_starts_client(world, entry)
    )
    if not found and "awslambdaric" in " ".join(image.argv):
        return "The ENTRYPOINT runs `-m awslambdaric`, but awslambdaric is not installed."
    return found


def _script_starts_client(world: World, entry: str) -> bool:
    """A script entrypoint with a Runtime API program of the function's own beside it."""
    if not any(s.path.endswith("!" + entry) for s in world.function[0].scripts):
        return False
    task = world.target.environment.task_root
    return any(_is_client(p) for p in world.placed if p.node.path.startswith((task + "/", "/opt/")))


def _is_client(item: Placed) -> bool:
    client = item.facts.runtime_client
    return client is not None and client.name != "extensions-api"


def _language_clients(paths: set[str]) -> list[str]:
    """Files that only a language's runtime interface client installs."""
    found = []
    for path in sorted(paths):
        base = posixpath.basename(path)
        if (
            path.endswith(("awslambdaric/__init__.py", "awslambdaric/__main__.py"))
            or ("node_modules/aws-lambda-ric/" in path and base == "package.json")
            or (
                base.startswith("aws-lambda-java-runtime-interface-client")
                and base.endswith(".jar")
            )
            or "/gems/aws_lambda_ric-" in path
            or base == "Amazon.Lambda.RuntimeSupport.dll"
        ):
            found.append(path)
    return found


ENTRYPOINT = Rule(
    id="LS703",
    title="container image entrypoint missing, relative, or not executable by Lambda's user",
    severity=Severity.ERROR,
    help="ENTRYPOINT (or CMD) must name an absolute path in the image that a non-root user "
    "can execute, with its `#!` interpreter present.",
    check=check_entrypoint,
)
CLIENT = Rule(
    id="LS704",
    title="container image without a Lambda runtime interface client",
    severity=Severity.ERROR,
    help="The image must speak the Runtime API: an AWS base image, a runtime interface client, "
    "a program built with a Lambda runtime library, or the Lambda Web Adapter.",
    check=check_client,
)
RULES = (MANIFEST, IMAGE_ARCH, ENTRYPOINT, CLIENT, LIMITS)
