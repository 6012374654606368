"""LS601: a Python extension module the runtime's Python will not import (another CPython
version, architecture or platform in its name, a free-threaded or PyPy build, a Windows `.pyd`,
an abi3 module whose minimum is above the runtime's Python). LS602: Python packages in a folder
the runtime never searches (a layer's `python/lib/python3.X/site-packages` for another X).

CPython imports a file by name only if its suffix is one of EXTENSION_SUFFIXES (languages.json;
reference/managed-runtimes.md 3.1); every other extension file is dead weight, and importing its
module fails with `No module named ...`."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from linkscope.advice import pip_fix
from linkscope.ecosystems.python import ExtensionModule, PythonPackage, site_folder
from linkscope.model import Finding, Origin, ScannedPackage, Severity
from linkscope.profiles.languages import LanguageFacts, language_facts
from linkscope.resolve import World
from linkscope.rules.base import Context, Rule, named, need
from linkscope.rules.python_abi import abi3_problem

TRIPLES = {"x86_64": "x86_64-linux-gnu", "arm64": "aarch64-linux-gnu"}


def python_facts(world: World) -> LanguageFacts | None:
    facts = language_facts(world.target.runtime.name)
    return facts if facts is not None and facts.python is not None else None


def searched_root(package: ScannedPackage, layer: bool, inner: str, version: str) -> str | None:
    """The folder on sys.path that `inner` is imported from, or None when the runtime's
    Python never looks there (a function's root; a layer's python/ or its site folder)."""
    if not layer:
        return ""
    site = site_folder(inner)
    if site is not None:
        return site[0] if site[1] == version else None
    return "python" if inner.startswith("python/") else None


def unimportable_folder(module: ExtensionModule, root: str) -> str | None:
    """The first folder between the sys.path entry and a tagged extension module that is no
    Python identifier (`build/lib.linux-x86_64-3.11`, `.venv`, `pkg-1.0.data`): no import
    statement reaches the module. None when every part is a name, and for untagged `foo.so`
    files (ctypes may load those by path)."""
    if module.kind == "bare":
        return None
    folder = module.folder
    if root and (folder == root or folder.startswith(root + "/")):
        folder = folder[len(root) :].lstrip("/")
    parts = [p for p in folder.split("/") if p]
    bad = next((i for i, part in enumerate(parts) if not part.isidentifier()), None)
    return None if bad is None else posixpath.join(root, *parts[: bad + 1])


def check_modules(world: World, ctx: Context) -> Iterator[Finding]:
    facts = python_facts(world)
    if facts is None:
        return
    for package, part, layer in python_packages(world):
        importable = {
            (m.folder, m.module)
            for m in part.extensions
            if refusal(m, facts, world.target.arch) is None
        }
        sources = {e.inner for e in package.entries if e.inner.endswith(".py")}
        for module in part.extensions:
            root = searched_root(package, layer, module.inner, facts.version)
            if root is None:
                continue  # LS602's business: nothing there is imported at all
            if unimportable_folder(module, root) is not None:
                continue  # no import names it (rules/python_spares.py says so)
            refused = refusal(module, facts, world.target.arch) is not None
            instead = _instead(package, module, root, sources) if refused else None
            yield from _judge(world, package, module, facts, root, importable, instead)


def _instead(
    package: ScannedPackage, module: ExtensionModule, root: str, sources: set[str]
) -> str | None:
    """What Python imports when this extension file is not importable: a pure-Python module
    of the same name beside it (mypyc builds ship one), a known fallback, or a folder of the same
    name (a namespace package: empty)."""
    from linkscope.profiles.languages import python_fallbacks, python_unused_modules

    base = posixpath.join(module.folder, module.module)
    if f"{base}.py" in sources or f"{base}/__init__.py" in sources:
        return f"source:the pure-Python `{base}.py`"
    dotted = dotted_name(module, root)
    fallback = python_fallbacks().get(dotted)
    if fallback is not None:
        return f"fallback:{fallback}"
    if dotted in python_unused_modules():
        return "unused:a test helper"
    if module.module.endswith("__mypyc"):
        # mypyc's shared runtime: only the package's compiled modules import it, and those
        # carry the same tag, so Python imports their .py files instead
        return "unused:mypyc's runtime, imported only by the compiled modules beside it"
    if any(e.inner.startswith(base + "/") for e in package.entries):
        return f"namespace:{base}/"
    return None


def python_packages(world: World) -> Iterator[tuple[ScannedPackage, PythonPackage, bool]]:
    """Each package with Python content, its Python part, and whether it is laid out as a
    layer: one given with --layer, or a package checked on its own that has a `python/` folder
    and no handler at its root (a layer zip checked by itself is judged as the layer it is)."""
    for package in world.function:
        part = package.ecosystems.part(PythonPackage)
        if part is not None:
            layer_like = not part.handlers and any(
                e.inner.startswith("python/") for e in package.entries
            )
            yield package, part, layer_like
    for package in world.layers:
        part = package.ecosystems.part(PythonPackage)
        if part is not None:
            yield package, part, True


def refusal(module: ExtensionModule, facts: LanguageFacts, arch: str) -> str | None:  # noqa: PLR0911
    """Why the runtime's Python never imports this file by its name, or None if it does."""
    python = facts.python
    assert python is not None
    if module.suffix in python.suffixes(arch) or module.kind in ("abi3", "bare"):
        return None
    if module.kind == "windows":
        return "built for Windows (`.pyd`)"
    if module.kind == "pypy":
        return f"built for PyPy (`{module.suffix}`)"
    platform = module.platform or ""
    version = f"{module.version[0]}.{module.version[1]}" if module.version else "?"
    if platform == "darwin" or platform.endswith("-darwin"):
        return f"built for macOS (`{module.suffix}`)"
    if platform.endswith("-linux-musl"):
        return f"built for musl libc, a musllinux wheel (`{module.suffix}`)"
    if not platform.endswith("-linux-gnu"):
        return f"built for another platform (`{module.suffix}`)"
    if module.free_threaded:
        return f"built for free-threaded CPython {version}t (`{module.suffix}`)"
    if platform != TRIPLES.get(arch):
        return f"built for {platform.split('-')[0]} (`{module.suffix}`)"
    return f"built for CPython {version} (`{module.suffix}`)"


def _judge(
    world: World,
    package: ScannedPackage,
    module: ExtensionModule,
    facts: LanguageFacts,
    root: str,
    importable: set[tuple[str, str]],
    instead: str | None = None,
) -> Iterator[Finding]:
    reason = refusal(module, facts, world.target.arch)
    dotted = dotted_name(module, root)
    origin = _origin(package, module)
    if reason is not None:
        spare = (module.folder, module.module) in importable
        if not spare and instead is not None and instead.startswith("unused:"):
            yield _unused(world, module, reason, origin, instead.split(":", 1)[1])
            return
        if not spare and instead is not None and not instead.startswith("namespace:"):
            yield _fallback(world, module, reason, dotted, origin, instead.split(":", 1)[1])
            return
        yield _not_imported(world, module, facts, reason, dotted, origin, spare, instead)
        return
    if module.kind == "abi3":
        binary = package.binary(module.inner)
        problem = abi3_problem(module, binary, facts)
        if problem is not None:
            text, certain = problem
            yield MODULE.finding(
                module.location,
                f"{named(module.location)} is a stable-ABI (abi3) extension module {text}, "
                f"but {world.target.runtime.name} runs Python {facts.version}: "
                f"`import {dotted}` fails with `undefined symbol`.{_source(origin, tag_too=False)}",
                pip_fix(origin, need(world), name_source=False),
                severity=Severity.ERROR if certain else Severity.WARNING,
            )


def _not_imported(
    world: World,
    module: ExtensionModule,
    facts: LanguageFacts,
    reason: str,
    dotted: str,
    origin: Origin | None,
    spare: bool,
    instead: str | None = None,
) -> Finding:
    python = facts.python
    assert python is not None
    suffixes = [f"`{s}`" for s in python.suffixes(world.target.arch)]
    accepted = (
        ", ".join(suffixes[:-1]) + f" and {suffixes[-1]}"
        if len(suffixes) > 1
        else "".join(suffixes)
    )
    runtime = world.target.runtime.name
    if spare:
        return MODULE.finding(
            module.location,
            f"{named(module.location)} is {reason}; {runtime} imports the other build of "
            f"`{dotted}` beside it, so this one is only dead weight.",
            "Leave it out of the package.",
            severity=Severity.INFO,
        )
    fails = f"fails with `No module named '{dotted}'`"
    if instead is not None and instead.startswith("namespace:"):
        fails = (
            f"finds the folder `{instead.split(':', 1)[1]}` beside it instead (a namespace "
            "package, e.g. of type stubs), which imports empty: the code that uses it then "
            f"fails with `cannot import name ... from '{dotted}' (unknown location)`"
        )
    return MODULE.finding(
        module.location,
        f"{named(module.location)} is a Python extension module {reason}, but {runtime} "
        f"({world.target.arch}) imports only {accepted} files: `import {dotted}` "
        f"{fails}.{_source(origin)}",
        pip_fix(origin, need(world), name_source=False),
    )


def _fallback(
    world: World,
    module: ExtensionModule,
    reason: str,
    dotted: str,
    origin: Origin | None,
    fallback: str,
) -> Finding:
    return MODULE.finding(
        module.location,
        f"{named(module.location)} is a Python extension module {reason}, which "
        f"{world.target.runtime.name} never imports; its package falls back to {fallback}, so "
        f"it works, only slower.{_source(origin)}",
        pip_fix(origin, need(world), name_source=False),
        severity=Severity.WARNING,
    )


def _unused(
    world: World, module: ExtensionModule, reason: str, origin: Origin | None, what: str
) -> Finding:
    package = f" {origin.package}" if origin is not None and origin.package else ""
    return MODULE.finding(
        module.location,
        f"{named(module.location)} is a Python extension module {reason}, which "
        f"{world.target.runtime.name} never imports; nothing in its package{package} imports "
        f"it either ({what}), so it stops nothing.{_source(origin)}",
        pip_fix(origin, need(world), name_source=False),
        severity=Severity.INFO,
    )


def dotted_name(module: ExtensionModule, root: str) -> str:
    folder = module.folder
    if root and (folder == root or folder.startswith(root + "/")):
        folder = folder[len(root) :].lstrip("/")
    parts = [p for p in folder.split("/") if p] + [module.module]
    return ".".join(parts)


def _origin(package: ScannedPackage, module: ExtensionModule) -> Origin | None:
    return package.ecosystems.origin(module.location)


def _source(origin: Origin | None, *, tag_too: bool = True) -> str:
    if origin is None or origin.package is None:
        return ""
    tag = f" (wheel tag `{origin.tag}`)" if origin.tag and tag_too else ""
    installer = f" by {origin.installer}" if origin.installer else ""
    return (
        f" It was installed{installer} from {origin.package} {origin.version or ''}".rstrip()
        + f"{tag}."
    )


def check_site_folders(world: World, ctx: Context) -> Iterator[Finding]:
    facts = python_facts(world)
    if facts is None:
        return
    for package, part, layer in python_packages(world):
        versions = {version for _folder, version in part.site_versions}
        for folder, version in part.site_versions:
            if layer and version == facts.version:
                continue
            yield _unsearched(world, package, part, folder, version, layer, facts, versions)
        if layer:
            from linkscope.rules.python_sites import outside_python

            yield from outside_python(world, package, part, facts, SITE)


def _unsearched(
    world: World,
    package: ScannedPackage,
    part: PythonPackage,
    folder: str,
    version: str,
    layer: bool,
    facts: LanguageFacts,
    versions: set[str],
) -> Finding:
    runtime = world.target.runtime.name
    dists = sorted({d.name for d in part.distributions if d.site == folder})
    shown = ", ".join(dists[:5]) + (f" and {len(dists) - 5} more" if len(dists) > 5 else "")
    holds = f"holds {len(dists)} distribution(s) ({shown})" if dists else "holds Python code"
    location = (
        f"{package.source}!{folder}"
        if package.kind == "zip"
        else posixpath.join(package.source, folder)
    )
    python = facts.python
    assert python is not None
    searched = ", ".join(p for p in python.search_paths if p.startswith("/opt"))
    if not layer:
        why = (
            "in a function package: a function's files are imported from /var/task, so "
            f"`/var/task/{folder}` is not on sys.path (that layout is for a layer)"
        )
    else:
        why = f"for Python {version}, but {runtime} searches only {searched}"
    spare = layer and facts.version in versions
    return SITE.finding(
        location,
        f"{named(location)} {holds} {why}: nothing in it can be imported.",
        "Leave it out (the layer also has a folder for this runtime's Python)."
        if spare
        else pip_fix(None, need(world), target=f"python/lib/python{facts.version}/site-packages")
        + " A layer's `python/` folder is searched by every Python runtime.",
        severity=Severity.INFO if spare else Severity.ERROR,
    )


MODULE = Rule(
    id="LS601",
    title="Python extension module the runtime's Python will not import",
    severity=Severity.ERROR,
    help="CPython imports an extension by its file name: `.cpython-3XY-<arch>-linux-gnu.so` for "
    "its own version and architecture, `.abi3.so` or `.so`. A module tagged for another CPython, "
    "architecture, musl, macOS, Windows, PyPy or a free-threaded build is never imported; an "
    "abi3 module built for a newer minimum fails with `undefined symbol`.",
    check=check_modules,
)
SITE = Rule(
    id="LS602",
    title="Python packages where the runtime never looks",
    severity=Severity.ERROR,
    help="A layer's packages must be in `python/` or `python/lib/python3.X/site-packages` for the "
    "runtime's exact 3.X; a function's at its root.",
    check=check_site_folders,
)
RULES = (MODULE, SITE)
