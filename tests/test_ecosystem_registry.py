"""The lazy ecosystem registry (linkscope/ecosystems/__init__.py): a language module is imported
only for a package whose members show its signs, and skipping it never changes a classification.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import BIN, ROOT
from eco_helpers import eco, jar, sharp_like
from hypothesis import given, settings
from hypothesis import strategies as st
from package_helpers import Item, go_function, make_zip
from python_helpers import Wheel, handler, installed, pyext

from linkscope import api
from linkscope.ecosystems import SIGNS, classify, every_ecosystem, system, wants_metadata
from linkscope.model import Classification, EntryKind, MetadataFile, PackageEntry, ScannedPackage

LANGUAGE_MODULES = {f"linkscope.ecosystems.{name}" for name in SIGNS} | {
    "linkscope.ecosystems.npm",
    "linkscope.ecosystems.node_abi",
    "linkscope.ecosystems.wheels",
}


def _imported_after(code: str) -> set[str]:
    """The linkscope modules a fresh interpreter has imported after running `code`."""
    probe = (
        f"{code}\nimport sys\n"
        "names = sorted(m for m in sys.modules if m.startswith('linkscope'))\n"
        "print(__import__('json').dumps(names), file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    names: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return set(names)


def test_importing_the_cli_imports_no_core_module() -> None:
    imported = _imported_after("import linkscope.cli")
    assert "linkscope.cli" in imported
    assert not imported & {"linkscope.api", "linkscope.scan", "linkscope.ecosystems"}


def test_inspecting_a_program_imports_no_language_module() -> None:
    program = BIN / "c_hello_gcc_pie_x86_64"
    imported = _imported_after(
        f"from linkscope.cli import main\nassert main(['inspect', {str(program)!r}]) == 0"
    )
    assert "linkscope.ecosystems" in imported  # the scan did classify it
    assert not imported & LANGUAGE_MODULES, sorted(imported & LANGUAGE_MODULES)


def test_an_extension_module_imports_the_python_module_only() -> None:
    module = pyext("spam_cp311_gcc_x86_64.so")
    imported = _imported_after(f"import linkscope\nlinkscope.inspect([{str(module)!r}])")
    assert {"linkscope.ecosystems.python", "linkscope.ecosystems.wheels"} <= imported
    others = LANGUAGE_MODULES - {"linkscope.ecosystems.python", "linkscope.ecosystems.wheels"}
    assert not imported & others, sorted(imported & others)


def test_every_ecosystem_module_is_registered() -> None:
    """A module that defines an ECOSYSTEM but has no entry in SIGNS would never classify."""
    folder = ROOT / "linkscope" / "ecosystems"
    defining = {
        path.stem for path in folder.glob("*.py") if "\nECOSYSTEM = " in path.read_text("utf-8")
    }
    assert defining == {"system", *SIGNS}
    names = [e.name for e in every_ecosystem()]
    assert names == ["os-only", "python", "nodejs", "ruby", "java", "dotnet"]


# ---------------------------------------------------------------- lazy equals eager

SEGMENTS = (
    "bootstrap",
    "lib",
    "bin",
    "extensions",
    "python",
    "lib/python3.12/site-packages",
    "pkg",
    "pkg-1.0.dist-info",
    "RECORD",
    "WHEEL",
    "_speedups.cpython-312-x86_64-linux-gnu.so",
    "_speedups.cpython-313-darwin.so",
    "fast.abi3.so",
    "fast.so",
    "libfoo.so",
    "libfoo.so.1",
    "mod.pyd",
    "app.py",
    "node_modules",
    "@scope",
    ".pnpm",
    "nodejs",
    "node18",
    "prebuilds",
    "linux-x64",
    "addon.node",
    "package.json",
    ".package-lock.json",
    "package-lock.json",
    ".yarn-integrity",
    "index.js",
    "index.mjs",
    "vendor/bundle/ruby",
    "ruby/gems",
    "3.3.0",
    "gems",
    "nokogiri-1.16.0-x86_64-linux",
    "x86_64-linux",
    "handler.rb",
    "Gemfile",
    "Gemfile.lock",
    "java/lib",
    "netty-4.1.jar",
    "netty-4.1.jar!META-INF/native/libnetty_linux_x86_64.so",
    "META-INF/native",
    "org/sqlite/native/Linux/x86_64",
    "libsqlitejdbc.so",
    "libsnappy.dylib",
    "Foo.class",
    "runtimes",
    "osx-arm64",
    "native",
    "libSkia.so",
    "runtimes/linux-x64/native/libSkia.so",
    "runtimes/osx-arm64/native/libSkia.dylib",
    "com/example/Handler.class",
    "App.deps.json",
    "App.runtimeconfig.json",
    "x.dll",
    "README",
    "data.bin",
)
METADATA_TEXT = {
    "package.json": json.dumps({"name": "pkg", "version": "1.0.0", "os": ["linux"]}),
    "RECORD": "pkg/_speedups.cpython-312-x86_64-linux-gnu.so,sha256=x,1\n",
    "WHEEL": "Wheel-Version: 1.0\nTag: cp312-cp312-manylinux_2_17_x86_64\n",
    ".deps.json": json.dumps({"targets": {}, "libraries": {"Skia/1.0": {"type": "package"}}}),
}

paths = st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=5).map("/".join)
entries = st.tuples(paths, st.sampled_from(list(EntryKind)))


def _package(members: list[tuple[str, EntryKind]], kind: str) -> ScannedPackage:
    unique = dict(members)
    metadata = tuple(
        MetadataFile(inner=inner, location=f"pkg/{inner}", text=_metadata_text(inner))
        for inner, entry_kind in unique.items()
        if entry_kind is EntryKind.OTHER and wants_metadata(inner)
    )
    return ScannedPackage(
        source="pkg",
        kind=kind,
        entries=tuple(
            PackageEntry(inner=inner, location=f"pkg/{inner}", kind=entry_kind, size=1)
            for inner, entry_kind in unique.items()
        ),
        binaries=(),
        metadata=metadata,
    )


def _metadata_text(inner: str) -> str:
    return next((text for end, text in METADATA_TEXT.items() if inner.endswith(end)), "")


def _signed(package: ScannedPackage) -> set[str]:
    return {m for m, signs in SIGNS.items() if any(signs.match(e.inner) for e in package.entries)}


def _assert_lazy_equals_eager(package: ScannedPackage) -> None:
    eager = {e.name: e.classify(package) for e in every_ecosystem()}
    lazy = classify(package)
    signed = _signed(package)
    modules = dict(zip([e.name for e in every_ecosystem()], ["system", *SIGNS], strict=True))
    for name, part in eager.items():
        if modules[name] == "system" or modules[name] in signed:
            assert part in lazy.parts, name
        else:  # skipped: its classification must be the empty one
            assert part == type(part)(ecosystem=part.ecosystem), (name, part)
    assert all(isinstance(p, Classification) for p in lazy.parts)
    weights = [p for p in eager.values() if p.weight > 0]
    best = max(weights, key=lambda p: p.weight) if weights else None
    assert lazy.language == (best.ecosystem if best is not None else None)


@settings(max_examples=400, deadline=None)
@given(st.lists(entries, min_size=1, max_size=12), st.sampled_from(["zip", "folder", "file"]))
def test_a_language_without_signs_would_classify_empty(
    members: list[tuple[str, EntryKind]], kind: str
) -> None:
    _assert_lazy_equals_eager(_package(members, kind))


@settings(max_examples=300, deadline=None)
@given(paths)
def test_every_metadata_file_an_ecosystem_wants_is_a_sign(inner: str) -> None:
    for ecosystem, module in zip(every_ecosystem()[1:], SIGNS, strict=True):
        if ecosystem.wants(inner):
            assert SIGNS[module].match(inner), (module, inner)
    assert not system.ECOSYSTEM.wants(inner)


def test_real_layouts_classify_as_with_every_module(tmp_path: Path) -> None:
    """Packages as pip, npm, Bundler, Maven and dotnet lay them out (the fixtures' real
    builds inside), each alone, all in one zip, and the fixture folder itself."""
    spam = pyext("spam_cp311_gcc_x86_64.so")
    python = installed(
        Wheel(
            name="spam",
            version="1.0",
            tags=("cp311-cp311-manylinux_2_17_x86_64",),
            files={"spam.cpython-311-x86_64-linux-gnu.so": spam},
        )
    )
    node = sharp_like([("linux", "x64", eco("node_napi10_x86_64.node"))])
    ruby = [
        Item("Gemfile", b"source 'https://rubygems.org'\n", 0o644),
        Item(
            "vendor/bundle/ruby/3.3.0/gems/spam-1.0-x86_64-linux/lib/spam/3.3/spam.so", spam, 0o755
        ),
    ]
    java = [
        Item(
            "lib/app-1.0.jar",
            jar([("native/linux-x86_64/libhello.so", eco("jni_hello_x86_64.so"))]),
            0o644,
        )
    ]
    dotnet = [
        Item("App.deps.json", json.dumps({"targets": {}, "libraries": {}}).encode(), 0o644),
        Item("runtimes/linux-x64/native/libnative.so", eco("dotnet_native_x86_64.so"), 0o644),
    ]
    layouts = {"python": python, "node": node, "ruby": ruby, "java": java, "dotnet": dotnet}
    zips = [make_zip(tmp_path / f"{name}.zip", items) for name, items in layouts.items()]
    everything = [item for items in layouts.values() for item in items]
    zips.append(make_zip(tmp_path / "all.zip", [handler(), *everything]))
    zips.append(go_function(tmp_path / "go.zip"))
    packages = api.scan([*map(str, zips), str(BIN / "eco"), str(ROOT / "fixtures" / "pyext")])
    for package in packages:
        _assert_lazy_equals_eager(package)
    languages = {p.source.rsplit("/", 1)[-1]: p.ecosystems.language for p in packages}
    assert languages["python.zip"] == "python" and languages["node.zip"] == "nodejs"
    assert languages["ruby.zip"] == "ruby" and languages["go.zip"] == "os-only"
    every = next(p for p in packages if p.source.endswith("all.zip"))
    assert len(every.ecosystems.parts) == 1 + len(SIGNS)


@settings(max_examples=300, deadline=None)
@given(st.lists(paths | st.text(alphabet="ab./!_-pyjsonrut", max_size=12), max_size=10))
def test_signs_anywhere_in_a_listing_are_signs_of_one_path(inners: list[str]) -> None:
    listing = "\n" + "\n".join(inners) + "\n"
    for module, signs in SIGNS.items():
        assert signs.anywhere(listing) == any(signs.match(i) for i in inners), (module, inners)
