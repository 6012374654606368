"""Which Lambda Runtime API client a binary carries, from the strings its source code contains
(lambda-facts section 8). Pure reads of the image; nothing runs.

Every search is a literal `find` over the sections that can hold string literals (never code,
symbols or debug info), and versions are read from a few bytes after a marker, so the cost is a
handful of memchr passes however big the file is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from linkscope.elf.gobuildinfo import read_go_buildinfo
from linkscope.elf.image import coalesce, scan
from linkscope.elf.parse import Parsed
from linkscope.model import GoInfo, RuntimeClient

RUNTIME_API = b"AWS_LAMBDA_RUNTIME_API"
RUNTIME_API_UTF16 = RUNTIME_API.decode().encode("utf-16-le")  # .NET Native AOT literals
INVOCATION = b"/runtime/invocation/"
API_VERSION = b"2018-06-01"
# Searching every byte of a 150 MB library for these markers would dominate the run time, and a
# shared library is not what Lambda executes: executables are always searched, libraries only up
# to this size (AWS's own Python client library is under 1 MB).
MAX_LIBRARY_SCAN = 2 << 20
# Sections that never hold string literals: skipping them halves the bytes searched.
SKIPPED_SECTIONS = (
    ".text",
    ".debug",
    ".symtab",
    ".strtab",
    ".dynsym",
    ".dynstr",
    ".rela",
    ".rel.",
    ".eh_frame",
    ".gcc_except_table",
    ".gopclntab",
    ".note",
    ".gnu.",
    ".init",
    ".fini",
    ".plt",
    ".got",
    ".hash",
    ".zdebug",
    ".comment",
    ".dep-v0",
)
VERSION_RE = re.compile(rb"\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?")
WINDOW = 48
MAX_REGIONS = 1024


@dataclass(frozen=True, slots=True)
class Agent:
    """A client library's User-Agent prefix, and whether its version follows it in the binary."""

    name: str
    prefix: bytes
    versioned: bool
    utf16: bool = False


AGENTS = (
    # Rust: concat!("aws-lambda-rust/", env!("CARGO_PKG_VERSION")) is one literal.
    Agent("aws-lambda-rust", b"aws-lambda-rust/", versioned=True),
    # Go: "aws-lambda-go/" + runtime.Version(): the version that follows is Go's, not the client's.
    Agent("aws-lambda-go", b"aws-lambda-go/", versioned=False),
    Agent("aws-lambda-cpp", b"AWS_Lambda_Cpp/", versioned=True),
    Agent("aws-lambda-dotnet", b"aws-lambda-dotnet/", versioned=False, utf16=True),
    Agent("aws-lambda-java", b"aws-lambda-java/", versioned=False),
    Agent("swift-aws-lambda-runtime", b"Swift-Lambda/", versioned=False),
)
GO_MODULE = "github.com/aws/aws-lambda-go"
GO_PACKAGE = b"github.com/aws/aws-lambda-go/lambda"
GO_RPC_PORT = b"_LAMBDA_SERVER_PORT"  # only in builds without -tags lambda.norpc
RUST_CRATES = ("lambda_runtime", "lambda_runtime_api_client", "lambda_http")
RUST_PANIC = b"Missing AWS_LAMBDA_RUNTIME_API env var"
# Route patterns of a Runtime API *server* (an emulator such as cargo-lambda's `watch`): they name
# the request id as a parameter. A client formats the id into the path instead.
SERVER_ROUTES = (b"/runtime/invocation/:", b"/runtime/invocation/{", b"/runtime/invocation/<")
EXTENSION_REGISTER = b"/extension/register"


def string_regions(parsed: Parsed) -> list[tuple[int, int]]:
    """File ranges that may hold string literals (the whole file when sections are missing)."""
    size = parsed.image.size
    regions = sorted(
        (s.offset, min(s.offset + s.size, size))
        for s in parsed.sections
        if s.sh_type != 8 and s.size and s.offset < size and not s.name.startswith(SKIPPED_SECTIONS)
    )
    # Hostile headers can make thousands of sections that each cover the whole file: search
    # overlapping ranges once, and the whole file once when the ranges are absurdly many.
    merged = coalesce(regions, size)
    return merged if 0 < len(merged) <= MAX_REGIONS else [(0, size)]


class _Strings:
    """Literal searches over the string-bearing regions of one image."""

    def __init__(self, parsed: Parsed) -> None:
        self.image = parsed.image
        self.regions = string_regions(parsed)

    def find(self, needle: bytes) -> int:
        for start, end in self.regions:
            position = self.image.find(needle, start, end)
            if position >= 0:
                return position
        return -1

    def has(self, needle: bytes) -> bool:
        return self.find(needle) >= 0

    def after(self, position: int, length: int) -> bytes:
        return self.image.read(position, max(0, min(length, self.image.size - position)), "string")


DOTNET_EXPORT = b"DotNetRuntimeDebugHeader"  # every Native AOT binary exports it for debuggers


def _looks_like_dotnet(parsed: Parsed) -> bool:
    if any("managedcode" in s.name or "dotnet" in s.name.lower() for s in parsed.sections):
        return True
    table = parsed.dynamic.strtab if parsed.dynamic is not None else None
    if table is None:
        return False
    end = table.offset + table.size if table.size >= 0 else parsed.image.size
    return parsed.image.find(DOTNET_EXPORT, table.offset, min(end, parsed.image.size)) >= 0


def _is_library(parsed: Parsed) -> bool:
    return parsed.soname is not None or (
        parsed.interpreter is None
        and parsed.header.e_type == 3
        and parsed.dynamic is not None
        and bool(parsed.needed)
    )


def detect_client(parsed: Parsed) -> RuntimeClient | None:  # noqa: PLR0911 - one per client kind
    if _is_library(parsed) and parsed.image.size > MAX_LIBRARY_SCAN:
        return None
    strings = _Strings(parsed)
    # Every client reads AWS_LAMBDA_RUNTIME_API to find the API, so its name gates the rest: a
    # binary without it costs one pass over its data, not three. The UTF-16 form (.NET keeps
    # string literals in UTF-16) is searched only in binaries that look like .NET Native AOT.
    needles = (RUNTIME_API,) + ((RUNTIME_API_UTF16,) if _looks_like_dotnet(parsed) else ())
    found = scan(parsed.image, strings.regions, needles)
    api = RUNTIME_API in found
    api16 = not api and RUNTIME_API_UTF16 in found
    if not (api or api16):
        return None
    invocation = strings.has(INVOCATION)
    evidence = []
    if api or api16:
        evidence.append(f"contains {RUNTIME_API.decode()!r}" + (" (UTF-16)" if api16 else ""))
    if invocation:
        evidence.append(f"contains {INVOCATION.decode()!r}")
    client = _by_user_agent(parsed, strings, evidence) or _go_client(parsed, strings, evidence)
    if client is None:
        client = _rust_client(parsed, strings, evidence)
    if client is not None:
        return client
    if any(strings.has(route) for route in SERVER_ROUTES):
        return None  # it serves the Runtime API (an emulator); it is not a client of it
    if api16:
        return RuntimeClient(name="aws-lambda-dotnet", evidence=tuple(evidence))
    if api and invocation:
        return RuntimeClient(name="custom", evidence=tuple(evidence))
    if api and strings.has(EXTENSION_REGISTER):
        evidence.append(f"contains {EXTENSION_REGISTER.decode()!r}")
        return RuntimeClient(name="extensions-api", evidence=tuple(evidence))
    return None  # one marker alone (an SDK reading the variable, a doc string) is no client


def _find_agent(strings: _Strings, agent: Agent) -> tuple[int, str]:
    at = strings.find(agent.prefix)
    if at >= 0 or not agent.utf16:
        return at, agent.prefix.decode()
    return strings.find(
        agent.prefix.decode().encode("utf-16-le")
    ), agent.prefix.decode() + " (UTF-16)"


def _by_user_agent(parsed: Parsed, strings: _Strings, evidence: list[str]) -> RuntimeClient | None:
    for agent in AGENTS:
        at, text = _find_agent(strings, agent)
        if at < 0:
            continue
        version = None
        if agent.versioned and not text.endswith("(UTF-16)"):
            match = VERSION_RE.match(strings.after(at + len(agent.prefix), WINDOW))
            version = match.group().decode() if match else None
        evidence.append(
            f"user agent {agent.prefix.decode() + (version or '')!r}"
            + (" (UTF-16)" if text.endswith("(UTF-16)") else "")
        )
        if agent.name == "aws-lambda-go":
            return _go_client(parsed, strings, evidence, agent_found=True)
        if agent.name == "aws-lambda-rust":
            return _rust_client(parsed, strings, evidence, agent_version=version)
        return RuntimeClient(name=agent.name, version=version, evidence=tuple(evidence))
    return None


def _go_client(
    parsed: Parsed, strings: _Strings, evidence: list[str], *, agent_found: bool = False
) -> RuntimeClient | None:
    info = _go_info(parsed)
    dep = next((v for m, v in info.dependencies if m == GO_MODULE), None) if info else None
    package = strings.has(GO_PACKAGE)
    if dep is None and not package and not agent_found:
        return None
    if dep is not None:
        evidence.append(f"Go build info: dep {GO_MODULE} {dep}")
    if package:
        evidence.append(f"contains {GO_PACKAGE.decode()!r}")
    return _go_mode(info, strings, evidence, dep)


def _go_mode(
    info: GoInfo | None, strings: _Strings, evidence: list[str], version: str | None
) -> RuntimeClient:
    tags = (info.setting("-tags") or "") if info else ""
    if "lambda.norpc" in tags.split(","):
        evidence.append("built with -tags lambda.norpc (no go1.x RPC mode)")
    elif strings.has(GO_RPC_PORT):
        evidence.append(f"contains {GO_RPC_PORT.decode()!r} (the go1.x RPC mode is compiled in)")
    if strings.has(API_VERSION):
        evidence.append(
            f"contains {API_VERSION.decode()!r} (aws-lambda-go joins it to "
            "'/runtime/invocation/' at run time)"
        )
    return RuntimeClient(name="aws-lambda-go", version=version, evidence=tuple(evidence))


def _go_info(parsed: Parsed) -> GoInfo | None:
    from linkscope.elf.toolchain import is_go

    return read_go_buildinfo(parsed) if is_go(parsed) else None


def _rust_client(
    parsed: Parsed, strings: _Strings, evidence: list[str], *, agent_version: str | None = None
) -> RuntimeClient | None:
    """lambda_runtime: its User-Agent (which a build can override), its panic text, or the crate
    in cargo-auditable data or panic paths."""
    from linkscope.elf.toolchain import auditable_crates, panic_path_crates

    agent = bool(evidence) and evidence[-1].startswith("user agent 'aws-lambda-rust/")
    panic = strings.has(RUST_PANIC)
    rust = parsed.section(".rustc") is not None or _rustc(parsed)
    if not (agent or panic or rust):
        return None
    crates = dict(auditable_crates(parsed) or panic_path_crates(parsed)) if rust else {}
    found = [(name, crates[name]) for name in RUST_CRATES if name in crates]
    if not (agent or found or panic):
        return None
    if panic:
        evidence.append(f"contains {RUST_PANIC.decode()!r}")
    evidence.extend(f"crate {name} {version}" for name, version in found)
    # The crate version names the client; the User-Agent carries the API client crate's version.
    version = next((v for n, v in found if n == "lambda_runtime"), None) or agent_version
    return RuntimeClient(name="aws-lambda-rust", version=version, evidence=tuple(evidence))


def _rustc(parsed: Parsed) -> bool:
    raw = parsed.section_bytes(".comment", limit=1 << 16) or b""
    return b"rustc version" in raw
