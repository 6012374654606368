"""LS002 on a managed runtime: a function package with nothing its language runtime could
import as the handler. Python, Node.js, Ruby, Java and .NET runtimes load the handler from the
function's code (or a layer's): a package that holds no source or compiled file of the
runtime's language (a Python function checked with nodejs20.x, an empty or data-only folder)
fails at the first invoke (Python and Node.js: `Runtime.ImportModuleError`)."""

from __future__ import annotations

from collections.abc import Iterator

from linkscope.ecosystems import language_name, runtime_language, suggested_runtime
from linkscope.model import EntryKind, Finding, ScannedPackage
from linkscope.resolve import World

# the files a language runtime can load a handler from (as the language's tools ship them)
HANDLER_FILES = {
    "python": (".py", ".pyc"),
    "nodejs": (".js", ".mjs", ".cjs"),
    "ruby": (".rb",),
    "java": (".class", ".jar"),
    "dotnet": (".dll",),
}
FAILURE = {
    "python": "`Runtime.ImportModuleError: Unable to import module`",
    "nodejs": "`Runtime.ImportModuleError: Error: Cannot find module`",
    "ruby": "a LoadError for the handler file",
    "java": "a ClassNotFoundException for the handler class",
    "dotnet": "no handler assembly found",
}


def missing_handler(world: World) -> Iterator[tuple[ScannedPackage, str]]:
    """(the function package, what it holds instead) when no file of the runtime's language is
    in the function or its layers, and the package is not a set of native files for it (a
    folder of libraries, an extracted .deb: those are checked for what they load)."""
    language = runtime_language(world.target.runtime.family)
    suffixes = HANDLER_FILES.get(language)
    function = world.function[0]
    if suffixes is None or function.kind not in ("zip", "folder") or function.image is not None:
        return
    if any(_holds(p, suffixes, language) for p in (*world.function, *world.layers)):
        return
    other = function.ecosystems.language
    if other not in (None, language) and other != "os-only":
        yield function, f"is a {language_name(other)} package with"
    elif other is None and not any(_native(p) for p in (*world.function, *world.layers)):
        yield function, "holds no code:"


def _native(package: ScannedPackage) -> bool:
    return bool(package.binaries or package.scripts or package.natives or package.problems)


def _holds(package: ScannedPackage, suffixes: tuple[str, ...], language: str) -> bool:
    """Whether the package has a file of the runtime's language outside what another language's
    installer put there: urllib3 ships a `.js` worker and node-gyp `.py` files, and neither is a
    handler the runtime could load."""
    foreign = _installed_by_others(package, language)
    return any(
        e.kind is not EntryKind.DIRECTORY
        and e.inner.endswith(suffixes)
        and not e.inner.startswith(foreign)
        and not (language != "nodejs" and _in_node_modules(e.inner))
        for e in package.entries
    )


def _in_node_modules(inner: str) -> bool:
    return inner.startswith("node_modules/") or "/node_modules/" in inner


def _installed_by_others(package: ScannedPackage, language: str) -> tuple[str, ...]:
    """The top folders (with a trailing /) that pip's RECORD files list, when the runtime is not
    Python's: a distribution's own files, never a handler of another language."""
    if language == "python":
        return ()
    folders: set[str] = set()
    for record in package.metadata:
        if not record.inner.endswith(".dist-info/RECORD"):
            continue
        site = record.inner.rsplit("/", 2)[0] + "/" if record.inner.count("/") > 1 else ""
        for line in record.text.splitlines():
            path = line.split(",", 1)[0]
            if "/" in path and not path.startswith(("../", "/")):
                top = path.split("/", 1)[0]
                if not top.endswith((".dist-info", ".data")):
                    folders.add(f"{site}{top}/")
    return tuple(sorted(folders))


def handler_findings(world: World, rule: object) -> Iterator[Finding]:
    from linkscope.rules.base import Rule, named

    assert isinstance(rule, Rule)
    language = runtime_language(world.target.runtime.family)
    runtime = world.target.runtime.name
    for function, holds in missing_handler(world):
        other = function.ecosystems.language
        part = next((p for p in function.ecosystems.parts if p.ecosystem == other), None)
        hint = part.runtime_hint if part is not None else None  # the Python its modules are for
        suggestion = hint or (suggested_runtime(other) if other else None)
        files = ", ".join(f"`{s}`" for s in HANDLER_FILES[language])
        layer = (
            "" if world.layers else " If the handler comes from a layer, pass it with `--layer`."
        )
        yield rule.finding(
            function.source,
            f"{named(function.source)} {holds} no {language_name(language)} file "
            f"({files}) for {runtime} to load the handler from, so the first invoke fails with "
            f"{FAILURE[language]}.{layer}",
            (
                f"Check it with `--runtime {suggestion}`, the runtime of its language, and deploy "
                "it there; or add"
                if suggestion
                else "Add"
            )
            + f" the {language_name(language)} handler and its dependencies at the root of the "
            "package.",
        )
