"""Java: native libraries that jars carry for `System.loadLibrary` (JNI), one per operating
system and architecture (reference: managed-runtimes 7). The library the JVM would pick for
the function (Linux, its architecture, glibc) is judged; the others are information. A library
offered for Linux but not for the function's architecture (leveldbjni on arm64) is a finding.

Pure functions of member paths (`lib/x.jar!org/sqlite/native/Linux/aarch64/libsqlitejdbc.so`,
`META-INF/native/libnetty_transport_native_epoll_x86_64.so`); nothing here reads files.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from linkscope.ecosystems.base import Ecosystem
from linkscope.model import Classification, EntryKind, Origin, ScannedPackage

NATIVE_SUFFIXES = (".so", ".dylib", ".jnilib", ".dll", ".a")
OS_NAMES = {
    "linux": "linux",
    "linux64": "linux",
    "linux32": "linux",
    "darwin": "macos",
    "mac": "macos",
    "macos": "macos",
    "osx": "macos",
    "windows": "windows",
    "windows64": "windows",
    "windows32": "windows",
    "win": "windows",
    "win32": "windows",
    "win64": "windows",
    "freebsd": "freebsd",
    "android": "android",
    "aix": "aix",
    "sunos": "sunos",
}
ARCH_NAMES = {
    "x86_64": "x86_64",
    "amd64": "x86_64",
    "x64": "x86_64",
    "x86-64": "x86_64",
    "linux64": "x86_64",  # leveldbjni, rocksdb: `linux64` means x86_64
    "windows64": "x86_64",
    "win64": "x86_64",
    "aarch64": "aarch64",
    "aarch_64": "aarch64",  # os-maven-plugin's classifier spelling (netty)
    "arm64": "aarch64",
    "x86": "i386",
    "i386": "i386",
    "i686": "i386",
    "x86_32": "i386",
    "arm": "arm",
    "armv7": "arm",
    "armhf": "arm",
    "ppc64le": "ppc64le",
    "ppc64": "ppc64",
    "s390x": "s390x",
    "riscv64": "riscv64",
    "loongarch64": "loongarch64",
}
WORD = re.compile(r"[a-z0-9]+(?:[_-](?:64|32|86))?")


@dataclass(frozen=True, slots=True, kw_only=True)
class JniTarget:
    """What a native library's path inside a jar says it is for."""

    os: str | None  # "linux", "macos", "windows", ... (None: the path does not say)
    arch: str | None  # ELF machine name ("x86_64", "aarch64", ...)
    musl: bool = False
    group: str = ""  # the jar and library name shared by every platform's copy


def is_jni_library(inner: str) -> bool:
    return inner.lower().endswith(NATIVE_SUFFIXES) and not inner.endswith("/")


def in_java_place(inner: str) -> bool:
    """Inside a jar, or a jar's tree unpacked at the function's root (an uber jar's
    `org/.../native/`, `META-INF/native/`): where the JVM's loaders find JNI libraries."""
    return "!" in inner or inner.startswith(("META-INF/", "org/", "com/", "net/", "io/"))


def jni_target(inner: str) -> JniTarget:
    """The operating system and architecture of a native library from its folder and file
    names, and its group: the same library for other platforms (`libsnappyjava`)."""
    jar, _, member = inner.rpartition("!")
    folder, name = posixpath.split(member.lower())
    words = _words(folder) + _words(name)
    os_name = next((OS_NAMES[w] for w in words if w in OS_NAMES), None)
    arch = next((ARCH_NAMES[w] for w in reversed(words) if w in ARCH_NAMES), None)
    if os_name is None and arch is not None:
        os_name = _os_from_suffix(name)
    musl = "musl" in member.lower()
    return JniTarget(os=os_name, arch=arch, musl=musl, group=f"{jar}!{_library_name(name)}")


def _words(text: str) -> list[str]:
    """Path words, keeping spellings such as `x86_64`, `aarch_64`, `linux64` whole."""
    return [w.replace("-", "_") if w != "x86-64" else "x86_64" for w in WORD.findall(text)]


def _os_from_suffix(name: str) -> str | None:
    """When no folder or word names the OS: `.dylib`/`.jnilib` are macOS's, `.dll` Windows's,
    and a `.so` whose path names an architecture is a Linux one (netty's classifier jars put
    `libnetty_transport_native_epoll_x86_64.so` straight in META-INF/native/)."""
    if name.endswith((".dylib", ".jnilib")):
        return "macos"
    if name.endswith(".dll"):
        return "windows"
    return "linux" if name.endswith(".so") else None


def _library_name(name: str) -> str:
    """`libnetty_transport_native_epoll_x86_64.so` -> `libnetty_transport_native_epoll`,
    `librocksdbjni-linux-aarch64-musl.so` -> `librocksdbjni`: the name without platform words."""
    stem = name.split(".", 1)[0]
    kept = []
    for word in re.split(r"[-_.]", stem):
        if word in OS_NAMES or word in ARCH_NAMES or word in ("aarch", "64", "musl", "linux"):
            break
        kept.append(word)
    return "_".join(kept) or stem


# Libraries whose Java side falls back to pure Java when its native copy is missing: netty's
# native transports fall back to NIO (reference: managed-runtimes 7, netty).
FALLBACK_GROUPS = ("libnetty_transport_native", "libnetty_tcnative", "libnetty_resolver_dns")


def has_fallback(group: str) -> bool:
    return group.rpartition("!")[2].startswith(FALLBACK_GROUPS)


@dataclass(frozen=True, slots=True, kw_only=True)
class JniChoice:
    picked: tuple[str, ...]  # what the JVM would load on Lambda (judged)
    spare: tuple[str, ...]  # other platforms' copies (information)
    missing: tuple[tuple[str, str], ...]  # (group, a Linux copy for another arch) with none here


def choose(inners: list[str], machine: str) -> JniChoice:
    """Per library group: the Linux glibc copy for `machine` is picked; copies for other
    platforms are spare; a group with Linux copies only for other architectures is missing.
    Files whose path names no platform are judged as they are (picked)."""
    groups: dict[str, list[tuple[str, JniTarget]]] = {}
    for inner in inners:
        target = jni_target(inner)
        groups.setdefault(target.group, []).append((inner, target))
    picked: list[str] = []
    spare: list[str] = []
    missing: list[tuple[str, str]] = []
    for group, members in sorted(groups.items()):
        fits = [i for i, t in members if t.os == "linux" and t.arch == machine and not t.musl]
        unnamed = [i for i, t in members if t.os is None and t.arch is None]
        picked += fits + unnamed
        spare += [i for i, t in members if i not in fits and i not in unnamed]
        linux_other = [i for i, t in members if t.os == "linux" and t.arch != machine]
        if not fits and linux_other and not unnamed:
            missing.append((group, linux_other[0]))
    return JniChoice(picked=tuple(picked), spare=tuple(spare), missing=tuple(missing))


# ---------------------------------------------------------------- classification

NAME = "java"
JAR_NAME = re.compile(r"^(?P<name>.+?)-(?P<version>\d[^/]*?)(?:-(?P<classifier>[a-z][^/]*))?\.jar$")


@dataclass(frozen=True, slots=True, kw_only=True)
class JavaPackage(Classification):
    jars: tuple[str, ...] = ()
    libraries: tuple[str, ...] = ()  # JNI libraries (inner paths), in jars or unpacked


def classify(package: ScannedPackage) -> JavaPackage:
    inners = [e.inner for e in package.entries if e.kind is not EntryKind.DIRECTORY]
    natives = {
        e.inner: e.location
        for e in package.entries
        if e.kind in (EntryKind.ELF, EntryKind.NATIVE) and is_jni_library(e.inner)
    }
    jars = tuple(sorted(i for i in inners if i.endswith(".jar") and "!" not in i))
    libraries = tuple(sorted(i for i in natives if in_java_place(i)))
    classes = sum(1 for i in inners if i.endswith(".class") and "!" not in i)
    evidence: list[str] = []
    weight = 0
    if classes:
        evidence.append(f"{classes} Java class file(s)")
        weight += 5
    if jars:
        evidence.append(f"{len(jars)} jar(s)")
        weight += 4
    if any(i.startswith("java/lib/") for i in jars):
        evidence.append("a layer's java/lib/ folder")
        weight += 2
    return JavaPackage(
        ecosystem=NAME,
        evidence=tuple(evidence),
        weight=weight,
        origins=tuple((natives[i], _origin(i)) for i in libraries),
        jars=jars,
        libraries=libraries,
    )


def _origin(inner: str) -> Origin:
    """The jar that carries the library (its Maven coordinates from the file name) and the
    platform its path names."""
    jar = inner.split("!", 1)[0] if "!" in inner else None
    match = JAR_NAME.match(posixpath.basename(jar)) if jar else None
    target = jni_target(inner)
    tag = "-".join(part for part in (target.os, target.arch) if part) or None
    return Origin(
        ecosystem=NAME,
        package=(match["name"] if match else posixpath.basename(jar)) if jar else None,
        version=match["version"] if match else None,
        tag=f"{tag}-musl" if tag and target.musl else tag,
    )


def _wants(inner: str) -> bool:
    return False


ECOSYSTEM = Ecosystem(name=NAME, wants=_wants, classify=classify)
