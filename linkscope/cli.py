"""The command line: the only module that parses argv, prints, and picks the exit code."""

from __future__ import annotations

import copy
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from linkscope import __version__
from linkscope.errors import ExitCode, LinkscopeError, UsageError
from linkscope.options import format_pairs, parse_date, parse_limits, render_report
from linkscope.render import OutputFormat

if TYPE_CHECKING:
    from linkscope.model import Report
    from linkscope.render.layout import Style
    from linkscope.scan import Progress

app = typer.Typer(
    name="linkscope",
    help="Will this binary start on AWS Lambda? Reads ELF files, zips, folders and layers "
    "without running them, and says why not.",
    add_completion=True,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

T = TypeVar("T")
_state = {"debug": False}

PathsArg = Annotated[
    list[str],
    typer.Argument(help="ELF files, folders or zips ('-' reads stdin).", show_default=False),
]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
FormatsOpt = Annotated[
    list[OutputFormat] | None,
    typer.Option(
        "--format",
        "-f",
        help="Output format: table, json, sarif or markdown. Repeat it with "
        "--output to write several reports in one run.",
        show_default="table",
    ),
]
OutputOpt = Annotated[
    str | None, typer.Option("--output", "-o", help="Write the report to FILE (atomically).")
]
OutputsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--output",
        "-o",
        help="Write the report to FILE (atomically); pairs with --format in order.",
    ),
]
NoColorOpt = Annotated[
    bool,
    typer.Option(
        "--no-color",
        help="Plain text, no colour (also with NO_COLOR set, and whenever stdout is not a "
        "terminal).",
    ),
]


def _style(no_color: bool, output: str | None = None) -> Style:
    """Width and colour for a report on stdout: COLUMNS, else the terminal's size; colour on a
    terminal only. A report written to a file gets neither."""
    from linkscope.render.layout import PLAIN, terminal_style

    if output is not None:
        return PLAIN
    is_tty = sys.stdout.isatty()
    columns = None
    if is_tty:
        try:
            columns = os.get_terminal_size(sys.stdout.fileno()).columns
        except (OSError, ValueError):
            columns = None
    return terminal_style(
        is_tty=is_tty, terminal_columns=columns, environ=os.environ, no_color=no_color
    )


def _version(value: bool) -> None:
    if value:
        typer.echo(f"linkscope {__version__}")
        raise typer.Exit(ExitCode.OK)


@app.callback()
def main_options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks of internal errors.")
    ] = False,
    version: Annotated[
        bool | None,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = None,
) -> None:
    _state["debug"] = debug


def _run(action: Callable[[], T]) -> T:
    """Map linkscope's errors to exit codes; anything unexpected is a bug (exit 3), never 1."""
    try:
        return action()
    except LinkscopeError as exc:
        typer.echo(f"linkscope: error: {exc}", err=True)
        raise typer.Exit(ExitCode.USAGE_OR_INPUT_ERROR) from None
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception as exc:
        if _state["debug"]:
            traceback.print_exc()
        where = traceback.extract_tb(exc.__traceback__)[-1]
        typer.echo(
            f"linkscope: internal error: {type(exc).__name__}: {exc} "
            f"(at {os.path.basename(where.filename)}:{where.lineno}); please report it, "
            "rerun with --debug for the traceback",
            err=True,
        )
        raise typer.Exit(ExitCode.INTERNAL_ERROR) from None


def _emit(text: str, output: str | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    if _is_special(output):  # /dev/null, /dev/stdout, a FIFO: write to it, never replace it
        try:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            raise UsageError(f"cannot write {output}: {exc.strerror}") from None
        return
    directory = os.path.dirname(os.path.abspath(output))
    temporary = os.path.join(directory, f".{os.path.basename(output)}.{os.getpid()}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, output)  # atomic: a reader never sees half a report
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror}") from None


def _is_special(path: str) -> bool:
    import stat

    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False  # absent: a new regular file


@app.command()
def inspect(
    paths: PathsArg,
    output_format: FormatsOpt = None,
    output: OutputsOpt = None,
    symbols: Annotated[
        bool, typer.Option("--symbols", help="List the symbols behind each required version.")
    ] = False,
    limit: LimitOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """What each ELF is and needs: machine, linkage, libc, interpreter, libraries, versions.

    Example: linkscope inspect target/lambda/bootstrap/bootstrap --symbols
    """

    def action() -> int:
        from linkscope import api

        pairs = format_pairs(output_format, output)
        report = api.inspect(paths, parse_limits(limit), progress=_progress())
        _emit_all(report, pairs, no_color, symbols=symbols)
        failed = any(f.severity.rank > 0 for f in report.findings)  # information never fails
        return ExitCode.INCOMPATIBLE if failed else ExitCode.OK

    raise typer.Exit(_run(action))


RuntimeOpt = Annotated[
    str,
    typer.Option("--runtime", "-r", help="Lambda runtime identifier (see `linkscope runtimes`)."),
]
ArchOpt = Annotated[
    str, typer.Option("--arch", "-a", help="Function architecture: x86_64 or arm64.")
]
LayerOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--layer", "-l", help="A layer zip or folder, mounted at /opt (repeatable, in order)."
    ),
]
SysrootOpt = Annotated[
    str | None,
    typer.Option(
        "--sysroot", help="Check against this root filesystem instead of a bundled profile."
    ),
]
LimitOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--limit",
        help="Raise (or lower) a read limit, KEY=VALUE, repeatable: file-size (one file from a "
        "zip or stdin, default 1G), total-size (a zip's uncompressed total, 4G), ratio (zip "
        "bomb compression ratio, 200), files (files in a zip or folder, 100000).",
        show_default=False,
    ),
]
TodayOpt = Annotated[
    str | None,
    typer.Option("--today", hidden=True, help="Pretend today is YYYY-MM-DD (for tests)."),
]


class FailOn(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@app.command()
def check(
    paths: PathsArg,
    runtime: RuntimeOpt = "provided.al2023",
    arch: ArchOpt = "x86_64",
    layer: LayerOpt = None,
    sysroot: SysrootOpt = None,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="Lowest severity that fails.")
    ] = FailOn.ERROR,
    ignore: Annotated[
        list[str] | None, typer.Option("--ignore", help="Rule ID to skip (repeatable), e.g. LS402.")
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="Libraries not known to be present are errors, not warnings."
        ),
    ] = False,
    output_format: FormatsOpt = None,
    output: OutputsOpt = None,
    limit: LimitOpt = None,
    today: TodayOpt = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="List every file, not only those with findings.")
    ] = False,
    no_color: NoColorOpt = False,
) -> None:
    """Will it start on a Lambda runtime? Exit 0 if compatible, 1 if not, 2 on bad input.

    Example: linkscope check function.zip --runtime provided.al2 --arch arm64 --layer deps.zip
    """

    def action() -> int:
        from linkscope import api
        from linkscope.model import Severity

        pairs = format_pairs(output_format, output)
        report = api.check(
            paths,
            runtime,
            arch,
            layers=layer or (),
            sysroot=sysroot,
            fail_on=Severity(fail_on.value),
            ignore=ignore or (),
            strict=strict,
            today=parse_date(today),
            limits=parse_limits(limit),
            progress=_progress(),
        )
        _emit_all(report, pairs, no_color, show_all=show_all)
        _annotate(report, pairs)
        for note in report.notes:
            typer.echo(f"linkscope: warning: {note}", err=True)
        return ExitCode.INCOMPATIBLE if report.verdict == "incompatible" else ExitCode.OK

    raise typer.Exit(_run(action))


@app.command()
def tree(
    paths: PathsArg,
    runtime: RuntimeOpt = "provided.al2023",
    arch: ArchOpt = "x86_64",
    layer: LayerOpt = None,
    sysroot: SysrootOpt = None,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="Lowest severity that fails.")
    ] = FailOn.ERROR,
    ignore: Annotated[
        list[str] | None, typer.Option("--ignore", help="Rule ID to skip (repeatable), e.g. LS402.")
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Libraries not known to be present are errors.")
    ] = False,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format: table or json.")
    ] = OutputFormat.TABLE,
    output: OutputOpt = None,
    limit: LimitOpt = None,
    today: TodayOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """The dependency tree as the runtime's loader would resolve it: each library, where it
    was found (function, layer, runtime), what it lacks; missing ones with the folders searched.
    Exit codes as `check`.

    Example: linkscope tree function.zip --runtime provided.al2 --layer deps.zip
    """

    def action() -> int:
        from linkscope import api
        from linkscope.model import Severity
        from linkscope.options import render_tree

        trees = api.tree(
            paths,
            runtime,
            arch,
            layers=layer or (),
            sysroot=sysroot,
            fail_on=Severity(fail_on.value),
            ignore=ignore or (),
            strict=strict,
            today=parse_date(today),
            limits=parse_limits(limit),
            progress=_progress(),
        )
        _emit(render_tree(trees, output_format, _style(no_color, output)), output)
        return ExitCode.INCOMPATIBLE if trees.report.verdict == "incompatible" else ExitCode.OK

    raise typer.Exit(_run(action))


@app.command()
def matrix(
    paths: PathsArg,
    layer: LayerOpt = None,
    include_all: Annotated[
        bool, typer.Option("--all", help="Include deprecated runtimes.")
    ] = False,
    output_format: FormatOpt = OutputFormat.TABLE,
    output: OutputOpt = None,
    today: TodayOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """One row per runtime and architecture: does it start there, and if not, the first reason.

    Exit 0 if it starts on at least one runtime, 1 if on none.
    Example: linkscope matrix target/lambda/bootstrap/bootstrap
    """

    def action() -> int:
        from linkscope.matrix import matrix_report, render_matrix

        report = matrix_report(
            paths, layers=layer or (), include_all=include_all, today=parse_date(today)
        )
        rows = report.rows
        style = _style(no_color, output)
        _emit(render_matrix(rows, output_format.value, style, report.notes), output)
        return ExitCode.OK if any(row.starts for row in rows) else ExitCode.INCOMPATIBLE

    raise typer.Exit(_run(action))


@app.command()
def runtimes(
    name: Annotated[str | None, typer.Argument(help="Show one runtime in detail.")] = None,
    output_format: FormatOpt = OutputFormat.TABLE,
    today: TodayOpt = None,
    libraries: Annotated[
        bool,
        typer.Option(
            "--libraries",
            help="List the runtime's libraries: soname, folder, symbol versions, source, date.",
        ),
    ] = False,
) -> None:
    """The known Lambda runtimes: OS, glibc, libstdc++, architectures, status, sources.

    Example: linkscope runtimes provided.al2 ; linkscope runtimes nodejs22.x --libraries
    """

    def action() -> int:
        from linkscope.runtimes_view import render_runtime, render_runtimes

        if libraries and not name:
            raise UsageError(
                "--libraries needs a runtime name: linkscope runtimes NAME --libraries"
            )
        if libraries and name:
            from linkscope.library_view import render_libraries

            _emit(render_libraries(name, output_format.value), None)
            return ExitCode.OK
        text = (
            render_runtime(name, output_format.value, parse_date(today))
            if name
            else render_runtimes(output_format.value, parse_date(today))
        )
        _emit(text, None)
        return ExitCode.OK

    raise typer.Exit(_run(action))


@app.command()
def profile(
    sysroot: Annotated[
        str,
        typer.Option(
            "--sysroot",
            help="A root filesystem, e.g. an exported public.ecr.aws/lambda/provided:al2023 image.",
        ),
    ],
    name: Annotated[str, typer.Option("--name", help="The profile's id.")] = "custom",
    arch: Annotated[
        list[str] | None, typer.Option("--arch", help="Architectures to record (default: both).")
    ] = None,
    output: OutputOpt = None,
) -> None:
    """Write a runtime profile JSON from a real root filesystem (same format as the bundled ones).

    Example: linkscope profile --sysroot ./al2023-rootfs --name al2023-image -o al2023.json
    """

    def action() -> int:
        import json

        from linkscope.profiles.sysroot import profile_document

        document = profile_document(sysroot, name, tuple(arch or ("x86_64", "arm64")))
        _emit(json.dumps(document, indent=2) + "\n", output)
        return ExitCode.OK

    raise typer.Exit(_run(action))


def _progress() -> Progress | None:
    """A progress line on stderr for long scans, only on a terminal (never in a pipe or CI log)."""
    from linkscope.scan import terminal_progress

    return terminal_progress()


def _emit_all(
    report: Report,
    pairs: list[tuple[OutputFormat, str | None]],
    no_color: bool,
    *,
    symbols: bool = False,
    show_all: bool = False,
) -> None:
    for output_format, output in pairs:
        style = _style(no_color, output)
        text = render_report(report, output_format, symbols=symbols, style=style, show_all=show_all)
        _emit(text, output)


def _annotate(report: Report, pairs: list[tuple[OutputFormat, str | None]]) -> None:
    """Under GitHub Actions, findings also become workflow annotations (`::error file=...::`).
    GitHub reads workflow commands from stdout, so they follow the report there, unless a
    machine-readable report (JSON, SARIF) is on stdout: appending to it would corrupt it."""
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return
    machine = (OutputFormat.JSON, OutputFormat.SARIF)
    if any(fmt in machine and output is None for fmt, output in pairs):
        return
    from linkscope.render import annotations

    sys.stdout.write(str(annotations.render(report)))


@app.command()
def explain(
    path: Annotated[str, typer.Argument(help="An ELF file, folder or zip.", show_default=False)],
    runtime: RuntimeOpt = "provided.al2023",
    arch: ArchOpt = "x86_64",
    layer: LayerOpt = None,
    output_format: FormatOpt = OutputFormat.TABLE,
    output: OutputOpt = None,
    today: TodayOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """The plain-language answer: what it is, whether its C library is inside it, will it run
    on each Lambda runtime, and how to fix what stops it. `--format json` gives the same content.

    Example: linkscope explain target/x86_64-unknown-linux-musl/release/bootstrap
    """

    def action() -> int:
        from linkscope.explain import explain as explain_path
        from linkscope.explain import render_explanation

        explanation = explain_path(path, runtime, arch, layers=layer or (), today=parse_date(today))
        width = _style(no_color, output).width
        _emit(render_explanation(explanation, output_format.value, width), output)
        # with nothing to explain, exit as `check` would on the requested runtime
        failed = explanation.nothing_to_start and not explanation.requested_starts
        return ExitCode.INCOMPATIBLE if failed else ExitCode.OK

    raise typer.Exit(_run(action))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI in-process and return the exit code (tests call this)."""
    args = list(argv) if argv is not None else sys.argv[1:]
    try:
        code = _app_for(args)(args=args, prog_name="linkscope", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except SystemExit as exc:
        return int(exc.code or 0)
    except Exception as exc:
        return _usage_error(exc)
    return int(code) if isinstance(code, int) else ExitCode.OK


def _app_for(args: list[str]) -> typer.Typer:
    """The app with only the command that `args` run: typer turns each command's signature into
    click parameters at every start (~2 ms a command). `--help`, completion, a mistyped command
    and anything else get the whole app, so what they print lists every command."""
    words = args[1:] if args[:1] == ["--debug"] else args
    if not words or "_LINKSCOPE_COMPLETE" in os.environ:
        return app
    chosen = [c for c in app.registered_commands if _command_name(c) == words[0]]
    if not chosen:
        return app
    one = copy.copy(app)
    one.registered_commands = chosen
    return one


def _command_name(command: typer.models.CommandInfo) -> str | None:
    if command.name is not None:
        return command.name
    return command.callback.__name__.replace("_", "-") if command.callback else None


def _usage_error(exc: Exception) -> int:
    import click

    if isinstance(exc, click.exceptions.UsageError) and type(exc).__name__ == "NoArgsIsHelpError":
        typer.echo(exc.format_message(), err=True)  # bare `linkscope`: the help, as click shows it
        return ExitCode.USAGE_OR_INPUT_ERROR
    if isinstance(exc, click.exceptions.UsageError):
        command = exc.ctx.command_path if exc.ctx is not None else "linkscope"
        typer.echo(f"linkscope: error: {exc.format_message()} (see `{command} --help`)", err=True)
        return ExitCode.USAGE_OR_INPUT_ERROR
    if isinstance(exc, click.exceptions.ClickException):
        exc.show()
        return ExitCode.USAGE_OR_INPUT_ERROR
    if isinstance(exc, click.exceptions.Abort):
        return ExitCode.USAGE_OR_INPUT_ERROR
    typer.echo(f"linkscope: internal error: {type(exc).__name__}: {exc}", err=True)
    return ExitCode.INTERNAL_ERROR


def entrypoint() -> None:
    code = main()
    _leave(code)


def _leave(code: int) -> None:
    """Exit without tearing the interpreter down: freeing every module and object one by one
    costs more than the rest of `inspect` of a small file after its imports (~35 M instructions),
    and more after a batch. Only when nothing is left to run at exit (no atexit handler, no
    other thread, no profiler or tracer that writes its results at the end) and stdout and
    stderr flush; otherwise, and on a closed pipe, sys.exit."""
    import atexit
    import threading

    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)
    watched = sys.getprofile() is not None or sys.gettrace() is not None  # cProfile, coverage
    if watched or atexit._ncallbacks() or threading.active_count() > 1:
        sys.exit(code)
    os._exit(code)
