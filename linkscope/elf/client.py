"""Which Lambda Runtime API client a binary carries, from the strings its source code contains
(lambda-facts section 8). Pure reads of the image; nothing runs."""

from __future__ import annotations

import re

from linkscope.elf.parse import Parsed
from linkscope.model import RuntimeClient

RUNTIME_API = b"AWS_LAMBDA_RUNTIME_API"
RUNTIME_API_UTF16 = RUNTIME_API.decode().encode("utf-16-le")  # .NET Native AOT literals
INVOCATION = b"/runtime/invocation/"
# Searching every byte of a 150 MB library for these markers would dominate the run time, and a
# shared library is not what Lambda executes: executables are always searched, libraries only up
# to this size (AWS's own Python client library is under 1 MB).
MAX_LIBRARY_SCAN = 8 << 20
# Sections that never hold string literals: skipping them halves the bytes searched.
SKIPPED_SECTIONS = (".text", ".debug", ".symtab", ".strtab", ".dynsym", ".dynstr", ".rela",
                    ".rel.", ".eh_frame", ".gcc_except_table", ".gopclntab", ".note", ".gnu.",
                    ".init", ".fini", ".plt", ".got", ".hash", ".zdebug", ".comment")  # fmt: skip

USER_AGENTS: tuple[tuple[str, re.Pattern[bytes]], ...] = (
    ("aws-lambda-rust", re.compile(rb"aws-lambda-rust/(\d+\.\d+\.\d+[\w.\-]*)?")),
    ("aws-lambda-go", re.compile(rb"aws-lambda-go/")),
    ("aws-lambda-cpp", re.compile(rb"AWS_Lambda_Cpp/(\d+\.\d+\.\d+)?")),
    ("aws-lambda-dotnet", re.compile(rb"aws-lambda-dotnet/")),
    ("aws-lambda-java", re.compile(rb"aws-lambda-java/")),
    ("swift-aws-lambda-runtime", re.compile(rb"Swift-Lambda/")),
)
GO_MODULE = b"github.com/aws/aws-lambda-go"


def _regions(parsed: Parsed) -> list[tuple[int, int]]:
    """File ranges that may hold string literals (the whole file when sections are missing)."""
    size = parsed.image.size
    regions = [
        (s.offset, min(s.offset + s.size, size))
        for s in parsed.sections
        if s.sh_type != 8 and s.size and not s.name.startswith(SKIPPED_SECTIONS)
    ]
    return regions or [(0, size)]


def _search(parsed: Parsed, regions: list[tuple[int, int]], needle: bytes) -> bool:
    return any(parsed.image.find(needle, start, end) >= 0 for start, end in regions)


def detect_client(parsed: Parsed) -> RuntimeClient | None:
    image = parsed.image
    library = parsed.soname is not None or (parsed.interpreter is None and parsed.header.e_type == 3
                                            and parsed.dynamic is not None and parsed.needed)
    if library and image.size > MAX_LIBRARY_SCAN:
        return None
    regions = _regions(parsed)
    api = _search(parsed, regions, RUNTIME_API)
    api16 = not api and _search(parsed, regions, RUNTIME_API_UTF16)
    invocation = _search(parsed, regions, INVOCATION)
    if not (api or api16 or invocation):
        return None
    evidence = [f"contains {m!r}" for m, hit in
                ((RUNTIME_API.decode(), api or api16), (INVOCATION.decode(), invocation)) if hit]  # fmt: skip
    data = image.data
    for name, pattern in USER_AGENTS:
        match = pattern.search(data)  # type: ignore[call-overload]
        if match is not None:
            version = match.group(1).decode() if match.groups() and match.group(1) else None
            evidence.append(f"user agent {match.group().decode(errors='replace')!r}")
            return RuntimeClient(name=name, version=version, evidence=tuple(evidence))
    if image.find(GO_MODULE) >= 0:
        return RuntimeClient(name="aws-lambda-go", evidence=(*evidence, f"contains {GO_MODULE!r}"))
    if api16:
        return RuntimeClient(name="aws-lambda-dotnet", evidence=tuple(evidence))
    return RuntimeClient(name="custom", evidence=tuple(evidence))
