"""Archives inside a package: the jars of a Java function (`lib/x.jar`, or a jar inside such a
jar), whose JNI libraries the JVM extracts and loads. Read in memory, within the same limits as
any zip (member size, compression ratio, member count, total size), never extracted to disk.

A nested member's location chains the archives: `function.zip!lib/x.jar!org/.../libfoo.so`;
its `inner` path is the same without the outer package (`lib/x.jar!org/.../libfoo.so`).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from linkscope.inputs.model import Limits
from linkscope.inputs.zip import ZIP_ERRORS, ZIP_OR_OS_ERRORS, member_size_problem

NESTED_SUFFIXES = (".jar",)
MAX_DEPTH = 2  # a jar inside a jar (Spring Boot's BOOT-INF/lib/*.jar), no deeper
HEAD = 8  # bytes read to tell ELF, Mach-O and PE from anything else


def is_nested_archive(inner: str) -> bool:
    return inner.lower().endswith(NESTED_SUFFIXES)


@dataclass(frozen=True, slots=True, kw_only=True)
class NestedMember:
    location: str
    inner: str
    size: int
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class NestedProblem:
    location: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class NestedRead:
    members: tuple[NestedMember, ...] = ()
    problems: tuple[NestedProblem, ...] = ()
    listed: int = 0  # members the archive holds (read or not)


def read_nested(
    location: str,
    inner: str,
    data: bytes,
    limits: Limits,
    wanted: Callable[[str], bool],
    depth: int = 1,
) -> NestedRead:
    """The members of the archive `data` (itself at `location`) whose names `wanted` accepts,
    with their bytes; nested archives inside it are opened too, up to MAX_DEPTH."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except ZIP_ERRORS as exc:
        return NestedRead(problems=(NestedProblem(location=location, message=_unreadable(exc)),))
    if len(infos) > limits.max_members:
        message = f"{len(infos)} members, more than {limits.max_members} (--limit files=N)"
        return NestedRead(problems=(NestedProblem(location=location, message=message),))
    members: list[NestedMember] = []
    problems: list[NestedProblem] = []
    budget = [limits.max_total_bytes]
    with archive:
        for info in infos:
            name = info.filename
            if name.endswith("/"):
                continue
            nested_archive = depth < MAX_DEPTH and is_nested_archive(name)
            if not wanted(name) and not nested_archive:
                continue
            read = _member(archive, info, f"{location}!{name}", f"{inner}!{name}", limits, budget)
            if isinstance(read, NestedProblem):
                problems.append(read)
            elif nested_archive:
                deeper = read_nested(
                    read.location, read.inner, read.data, limits, wanted, depth + 1
                )
                members += deeper.members
                problems += deeper.problems
            else:
                members.append(read)
    return NestedRead(members=tuple(members), problems=tuple(problems), listed=len(infos))


def _member(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    location: str,
    inner: str,
    limits: Limits,
    budget: list[int],
) -> NestedMember | NestedProblem:
    problem = _too_big(info, limits, budget[0])
    if problem is not None:
        return NestedProblem(location=location, message=problem)
    try:
        with archive.open(info) as stream:
            data = stream.read(info.file_size + 1)
    except ZIP_OR_OS_ERRORS as exc:
        return NestedProblem(location=location, message=_unreadable(exc))
    if len(data) > info.file_size:
        return NestedProblem(location=location, message="member is larger than it declares")
    budget[0] -= len(data)
    return NestedMember(location=location, inner=inner, size=len(data), data=data)


def _too_big(info: zipfile.ZipInfo, limits: Limits, left: int) -> str | None:
    if info.flag_bits & 0x1:
        return "encrypted member: the JVM cannot read it"
    size_problem = member_size_problem(info, limits)
    if size_problem is not None:
        return size_problem
    if info.file_size > left:
        return (
            "the archive's members add up to more than the total limit "
            "(raise it with --limit total-size=SIZE)"
        )
    return None


def _unreadable(exc: BaseException) -> str:
    return f"not a readable jar: {exc}"
