"""The contract every ecosystem module fulfils (see the package docstring)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from linkscope.model import Classification, ScannedPackage
from linkscope.records import Record


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Need(Record):
    """What the runtime needs of a native file, for advice: its Lambda architecture, the
    runtime's name and glibc, and the language version where it matters."""

    runtime: str  # "python3.12"
    arch: str  # Lambda's name: "x86_64" or "arm64"
    machine: str  # "x86_64" or "aarch64"
    glibc: str  # "2.34"
    os_id: str  # "al2023"

    @property
    def python(self) -> str | None:
        """The runtime's Python version ("3.12"), for python* runtimes."""
        name = self.runtime
        return name.removeprefix("python") if name.startswith("python3.") else None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Ecosystem(Record):
    name: str
    wants: Callable[[str], bool]
    classify: Callable[[ScannedPackage], Classification]


def top_folder(inner: str) -> str:
    return inner.split("/", 1)[0]


def basename(inner: str) -> str:
    return inner.rsplit("/", 1)[-1]
