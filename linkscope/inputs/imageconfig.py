"""The image config as facts (OCI image-spec `config.md`): architecture, ENTRYPOINT, CMD, Env,
WORKDIR, and where the program Lambda starts (argv[0]) is in the merged filesystem."""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, Any

from linkscope.inputs.layers import Node, resolve_dir, split_path
from linkscope.inputs.oci import ImageSpec
from linkscope.model import ImageFacts, ImageLayer

if TYPE_CHECKING:
    from linkscope.inputs.image import ImageContent

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"  # Docker's default
API_MARKERS = (b"AWS_LAMBDA_RUNTIME_API", b"/runtime/invocation/")
MAX_SCRIPT_BYTES = 1 << 20
MAX_CACHE_BYTES = 64 << 20
KEEP_WHOLE_BYTES = 4 << 20  # the loader's files kept from the layers' pass (ld.so.cache: ~100 KB)


def wants_early(path: str, size: int) -> bool:
    """Whether a layer file is one `image_facts` reads (by its path in the layer; a file that
    reaches /etc another way is read after the pass)."""
    if size > KEEP_WHOLE_BYTES:
        return False
    return path in ("etc/ld.so.cache", "etc/ld.so.conf") or path.startswith("etc/ld.so.conf.d/")


def image_facts(
    spec: ImageSpec, layers: list[ImageLayer], root: Node, content: ImageContent
) -> ImageFacts:
    config = spec.config
    inner = config.get("config") if isinstance(config.get("config"), dict) else {}
    assert isinstance(inner, dict)
    env = _env(inner.get("Env"))
    entrypoint, cmd = _argv(inner.get("Entrypoint")), _argv(inner.get("Cmd"))
    workdir = _text(inner.get("WorkingDir"))
    argv = (entrypoint or ()) + (cmd or ())
    path_value = next((v for k, v in env if k == "PATH"), DEFAULT_PATH)
    resolved = find_program(root, argv[0], path_value, workdir) if argv else None
    return ImageFacts(
        format=spec.format,
        manifest_media_type=spec.manifest_media_type,
        config_media_type=spec.config_media_type,
        index_media_type=spec.index_media_type,
        index=spec.index,
        architecture=_text(config.get("architecture")),
        variant=_text(config.get("variant")),
        os=_text(config.get("os")),
        entrypoint=entrypoint,
        cmd=cmd,
        env=env,
        workdir=workdir,
        user=_text(inner.get("User")),
        layers=tuple(layers),
        entrypoint_speaks_api=_speaks_api(root, resolved, content),
        entrypoint_resolved=resolved,
        ld_cache=_small_file(root, "/etc/ld.so.cache", content, MAX_CACHE_BYTES),
        ld_so_conf=tuple(dict.fromkeys(_ld_so_conf(root, "/etc/ld.so.conf", content, 0))),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _argv(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return None


def _env(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list):
        return ()
    pairs = []
    for item in value:
        if isinstance(item, str) and "=" in item:
            key, _, rest = item.partition("=")
            pairs.append((key, rest))
    return tuple(pairs)


def lookup(root: Node, path: str) -> tuple[str, Node] | None:
    """The node at an absolute image path, every symlink followed (the last one too), with its
    resolved path."""
    parts = split_path(path, "", clamp=True)
    for _hop in range(40):
        parent = resolve_dir(root, parts[:-1]) if parts else None
        if not parts:
            return "/", root
        if parent is None or parent.children is None or parts[-1] not in parent.children:
            return None
        node = parent.children[parts[-1]]
        if node.entry.kind != "symlink" or node.entry.target is None:
            return "/" + "/".join(parts), node
        target = node.entry.target
        base = [] if target.startswith("/") else parts[:-1]
        parts = split_path("/".join([*base, target.lstrip("/")]), "", clamp=True)
    return None


def find_program(root: Node, program: str, path_value: str, workdir: str | None) -> str | None:
    """Where argv[0] is: an absolute path, a path relative to WORKDIR, or a name looked up on
    the config's PATH, as execvp would."""
    if "/" in program:
        where = program if program.startswith("/") else posixpath.join(workdir or "/", program)
        found = lookup(root, where)
        return found[0] if found is not None and found[1].children is None else None
    for directory in path_value.split(":"):
        if not directory.startswith("/"):
            continue
        found = lookup(root, posixpath.join(directory, program))
        if found is not None and found[1].children is None:
            return found[0]
    return None


def _speaks_api(root: Node, resolved: str | None, content: ImageContent) -> bool:
    """A script entrypoint that calls the Runtime API itself (a shell loop over curl)."""
    found = lookup(root, resolved) if resolved is not None else None
    if found is None or not found[1].entry.head.startswith(b"#!"):
        return False
    data = _small_file(root, found[0], content, MAX_SCRIPT_BYTES) or b""
    return any(marker in data for marker in API_MARKERS)


def _small_file(root: Node, path: str, content: ImageContent, limit: int) -> bytes | None:
    from linkscope.inputs.model import Member

    found = lookup(root, path)
    if found is None or found[1].entry.kind != "file" or found[1].entry.size > limit:
        return None
    entry = found[1].entry
    index = next((i for i, e in enumerate(content.entries) if e is entry), None)
    if index is None:
        return None
    member = Member(location=path, inner=path.lstrip("/"), size=entry.size, index=index)
    data = content.read(member)
    return data


def _ld_so_conf(root: Node, path: str, content: ImageContent, depth: int) -> list[str]:
    """Folders in ld.so.conf, `include` globs expanded over the merged tree (as ldconfig)."""
    import fnmatch

    text = _small_file(root, path, content, 1 << 20) if depth < 8 else None
    dirs: list[str] = []
    for raw in (text or b"").decode("utf-8", "replace").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("include"):
            pattern = line.split(None, 1)[1] if len(line.split(None, 1)) > 1 else ""
            pattern = posixpath.join(posixpath.dirname(path), pattern)
            folder = resolve_dir(root, split_path(posixpath.dirname(pattern), "", clamp=True))
            for name in sorted(folder.children or {}) if folder is not None else ():
                if fnmatch.fnmatch(name, posixpath.basename(pattern)):
                    child = posixpath.join(posixpath.dirname(pattern), name)
                    dirs += _ld_so_conf(root, child, content, depth + 1)
        elif line.startswith("/"):
            dirs.append(posixpath.normpath(line.split("=", 1)[0]))
    return dirs
