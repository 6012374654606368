"""Per-runtime language facts (`data/languages.json`, validated by `languages-schema.json`):
what each managed runtime's interpreter accepts. The ecosystem rules read these, never code
their own numbers.

    >>> facts = language_facts("python3.12")
    >>> facts.python.suffixes("arm64")[0]
    '.cpython-312-aarch64-linux-gnu.so'
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from linkscope.errors import InvalidProfileError


@dataclass(frozen=True, slots=True, kw_only=True)
class PythonFacts:
    soabi: str  # "cpython-312"
    free_threaded: bool
    extension_suffixes: tuple[tuple[str, tuple[str, ...]], ...]  # per Lambda arch, in order
    search_paths: tuple[str, ...]  # the folders of the function and layers on sys.path
    pip_platforms: tuple[tuple[str, tuple[str, ...]], ...]  # `pip --platform` values per arch
    uv_python_platform: tuple[tuple[str, str], ...]  # `uv --python-platform` per arch

    def suffixes(self, arch: str) -> tuple[str, ...]:
        return dict(self.extension_suffixes).get(arch, ())

    def platforms(self, arch: str) -> tuple[str, ...]:
        return dict(self.pip_platforms).get(arch, ())

    def uv_platform(self, arch: str) -> str | None:
        return dict(self.uv_python_platform).get(arch)


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeFacts:
    node_module_version: int
    napi_version: int
    search_paths: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RubyFacts:
    abi: str  # "3.3.0"
    search_paths: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class JavaFacts:
    class_file_major: int
    search_paths: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class DotnetFacts:
    target_framework: str
    runtime_version: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class LanguageFacts:
    runtime: str
    language: str  # "python", "nodejs", "ruby", "java", "dotnet"
    version: str  # "3.12", "20", "3.3", "21", "8"
    python: PythonFacts | None = None
    nodejs: NodeFacts | None = None
    ruby: RubyFacts | None = None
    java: JavaFacts | None = None
    dotnet: DotnetFacts | None = None
    source: str = ""
    note: str = ""

    @property
    def python_version(self) -> tuple[int, int] | None:
        if self.language != "python":
            return None
        major, minor = self.version.split(".")
        return int(major), int(minor)


def _per_arch(data: dict[str, list[str]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((arch, tuple(values)) for arch, values in sorted(data.items()))


def _python(data: dict[str, Any]) -> PythonFacts:
    return PythonFacts(
        soabi=data["soabi"],
        free_threaded=data["free_threaded"],
        extension_suffixes=_per_arch(data["extension_suffixes"]),
        search_paths=tuple(data["search_paths"]),
        pip_platforms=_per_arch(data["pip_platforms"]),
        uv_python_platform=tuple(sorted(data["uv_python_platform"].items())),
    )


def _entry(data: dict[str, Any]) -> LanguageFacts:
    node, ruby, java, dotnet = (data.get(k) for k in ("nodejs", "ruby", "java", "dotnet"))
    return LanguageFacts(
        runtime=data["runtime"],
        language=data["language"],
        version=data["version"],
        python=_python(data["python"]) if "python" in data else None,
        nodejs=None
        if node is None
        else NodeFacts(
            node_module_version=node["node_module_version"],
            napi_version=node["napi_version"],
            search_paths=tuple(node["search_paths"]),
        ),
        ruby=None
        if ruby is None
        else RubyFacts(abi=ruby["abi"], search_paths=tuple(ruby["search_paths"])),
        java=None
        if java is None
        else JavaFacts(
            class_file_major=java["class_file_major"], search_paths=tuple(java["search_paths"])
        ),
        dotnet=None
        if dotnet is None
        else DotnetFacts(
            target_framework=dotnet["target_framework"], runtime_version=dotnet["runtime_version"]
        ),
        source=data["source"],
        note=data.get("note", ""),
    )


@functools.lru_cache(maxsize=1)
def load_languages() -> dict[str, LanguageFacts]:
    resource = resources.files("linkscope.profiles").joinpath("data").joinpath("languages.json")
    try:
        document = json.loads(resource.read_text(encoding="utf-8"))
        return {entry["runtime"]: _entry(entry) for entry in document["runtimes"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidProfileError(f"profile data languages.json is unreadable: {exc}") from exc


@functools.lru_cache(maxsize=1)
def python_fallbacks() -> dict[str, str]:
    """Extension module -> what its package uses when the module cannot be imported, as said
    in a report: "the pure-Python `msgpack.fallback`", or "`numba.np.ufunc.workqueue`, another
    of its modules" (languages.json)."""
    resource = resources.files("linkscope.profiles").joinpath("data").joinpath("languages.json")
    try:
        document = json.loads(resource.read_text(encoding="utf-8"))
        return {
            e["module"]: f"`{e['fallback']}`, another of its modules"
            if e.get("compiled")
            else f"the pure-Python `{e['fallback']}`"
            for e in document.get("python_fallbacks", [])
        }
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidProfileError(f"profile data languages.json is unreadable: {exc}") from exc


@functools.lru_cache(maxsize=1)
def python_unused_modules() -> frozenset[str]:
    """Extension modules nothing in their package imports (languages.json)."""
    resource = resources.files("linkscope.profiles").joinpath("data").joinpath("languages.json")
    try:
        document = json.loads(resource.read_text(encoding="utf-8"))
        return frozenset(e["module"] for e in document.get("python_unused_modules", []))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidProfileError(f"profile data languages.json is unreadable: {exc}") from exc


def language_facts(runtime: str) -> LanguageFacts | None:
    """The language facts of `runtime`, or None for OS-only runtimes and languages without
    entries (go1.x, the retired runtimes)."""
    return load_languages().get(runtime)


def runtimes_for(language: str) -> tuple[LanguageFacts, ...]:
    return tuple(facts for facts in load_languages().values() if facts.language == language)


@dataclass(frozen=True, slots=True, kw_only=True)
class StableAbi:
    """When each symbol joined CPython's stable ABI (`data/stable-abi.json`)."""

    added: dict[str, tuple[int, int]]
    absent_before: dict[str, tuple[int, int]]  # libpython first exported it in that version
    exported_earlier: dict[str, tuple[int, int]]  # exported before it joined the stable ABI


def _version(text: str) -> tuple[int, int]:
    major, minor = text.split(".")
    return int(major), int(minor)


@functools.lru_cache(maxsize=1)
def stable_abi() -> StableAbi:
    resource = resources.files("linkscope.profiles").joinpath("data").joinpath("stable-abi.json")
    try:
        document = json.loads(resource.read_text(encoding="utf-8"))
        added = {
            name: _version(version)
            for version, names in document["added"].items()
            for name in names
        }
        return StableAbi(
            added=added,
            absent_before={k: _version(v) for k, v in document["absent_before"]["symbols"].items()},
            exported_earlier={
                k: _version(v) for k, v in document["exported_earlier"]["symbols"].items()
            },
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidProfileError(f"profile data stable-abi.json is unreadable: {exc}") from exc
