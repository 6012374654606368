"""Runtime API client detection (lambda-facts section 8), and rule LS502.

Fixtures: the two hand-rolled bootstraps carry a client, every other fixture none. Known clients
are tested by writing their documented markers into a fixture's .rodata (the parser does not care
what those bytes say), and LS502 on hand-made packages.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from conftest import BIN, fixture_path, manifest

from linkscope.elf import facts_from_bytes, facts_from_file
from linkscope.elf.image import Image
from linkscope.elf.parse import parse
from linkscope.model import (
    BinaryFacts,
    ElfType,
    EntryKind,
    Linkage,
    PackageEntry,
    RuntimeClient,
    ScannedPackage,
    Severity,
)
from linkscope.profiles import load_target
from linkscope.resolve import build_world
from linkscope.rules import RULES_BY_ID, Context, evaluate

HAND_ROLLED = ("go_bootstrap_x86_64", "c_bootstrap_zig_musl_static_x86_64")
TODAY = datetime.date(2026, 11, 29)


def elf_fixtures() -> list[dict[str, Any]]:
    return [
        e
        for e in manifest()
        if e["toolchain"] not in ("script", "corrupt") and e.get("format") in (None, "elf")
    ]


@pytest.mark.parametrize("entry", elf_fixtures(), ids=lambda e: e["name"])
def test_fixture_clients(entry: dict[str, Any]) -> None:
    client = facts_from_file(str(fixture_path(entry["name"]))).runtime_client
    if entry["name"] in HAND_ROLLED:
        assert client is not None and client.name == "custom" and client.version is None
        assert any("AWS_LAMBDA_RUNTIME_API" in e for e in client.evidence)
        assert any("/runtime/invocation/" in e for e in client.evidence)
    else:
        assert client is None


def patched(base: str, *texts: bytes, section: str = ".rodata") -> BinaryFacts:
    """The fixture with `texts` written at the start of `section`, NUL-separated."""
    data = bytearray(fixture_path(base).read_bytes())
    target = parse(Image(bytes(data), base)).section(section)
    assert target is not None
    blob = b"\0".join(texts) + b"\0"
    assert len(blob) < target.size
    data[target.offset : target.offset + len(blob)] = blob
    return facts_from_bytes(bytes(data), base)


def client_of(
    *texts: bytes, base: str = "go_hello_static_x86_64", section: str = ".rodata"
) -> RuntimeClient | None:
    return patched(base, *texts, section=section).runtime_client


def test_rust_lambda_runtime_with_version() -> None:
    client = client_of(
        b"AWS_LAMBDA_RUNTIME_API", b"/2018-06-01/runtime/invocation/next", b"aws-lambda-rust/0.13.0"
    )
    assert client is not None
    assert (client.name, client.version) == ("aws-lambda-rust", "0.13.0")
    assert "user agent 'aws-lambda-rust/0.13.0'" in client.evidence


def test_cpp_client_with_version() -> None:
    client = client_of(b"AWS_LAMBDA_RUNTIME_API", b"AWS_Lambda_Cpp/0.2.10")
    assert client is not None and (client.name, client.version) == ("aws-lambda-cpp", "0.2.10")


def test_go_client_split_url_and_rpc_mode() -> None:
    # aws-lambda-go never writes "/2018-06-01/runtime/invocation/" in one piece.
    client = client_of(
        b"AWS_LAMBDA_RUNTIME_API",
        b"2018-06-01",
        b"/runtime/invocation/",
        b"aws-lambda-go/",
        b"_LAMBDA_SERVER_PORT",
    )
    assert client is not None and client.name == "aws-lambda-go"
    assert any("RPC mode" in e for e in client.evidence)
    assert any("2018-06-01" in e for e in client.evidence)


def test_go_client_from_package_path_without_user_agent() -> None:
    client = client_of(b"AWS_LAMBDA_RUNTIME_API", b"github.com/aws/aws-lambda-go/lambda")
    assert client is not None and client.name == "aws-lambda-go"
    assert not any("RPC mode" in e for e in client.evidence)


def _as_native_aot(name: str, *texts: bytes) -> RuntimeClient | None:
    """A fixture made to look like .NET Native AOT: it exports DotNetRuntimeDebugHeader (an
    equally long .dynstr name is overwritten) and carries the UTF-16 literals in .rodata."""
    data = bytearray((BIN / name).read_bytes())
    old = b"_ITM_deregisterTMCloneTable\0"
    at = data.find(old)
    assert at > 0
    data[at : at + len(old)] = b"DotNetRuntimeDebugHeader".ljust(len(old), b"\0")
    patched_path = BIN / name  # only for the path shown; the bytes are in memory
    base = facts_from_bytes(bytes(data), str(patched_path))
    assert base.runtime_client is None  # the export alone is no client
    rodata = next(s for s in parse(Image(bytes(data), name)).sections if s.name == ".rodata")
    blob = b"".join(t + b"\0\0" for t in texts)
    assert len(blob) <= rodata.size
    data[rodata.offset : rodata.offset + len(blob)] = blob
    return facts_from_bytes(bytes(data), name).runtime_client


def test_dotnet_native_aot_utf16_literals() -> None:
    client = _as_native_aot(
        "rust_hello_cargo_x86_64",
        "AWS_LAMBDA_RUNTIME_API".encode("utf-16-le"),
        "aws-lambda-dotnet/".encode("utf-16-le"),
    )
    assert client is not None and client.name == "aws-lambda-dotnet"
    assert any("UTF-16" in e for e in client.evidence)


def test_utf16_literals_alone_are_not_searched() -> None:
    # Without the Native AOT export, no UTF-16 pass runs (it would cost a third of the scan).
    client = client_of(
        "AWS_LAMBDA_RUNTIME_API".encode("utf-16-le"), "aws-lambda-dotnet/".encode("utf-16-le")
    )
    assert client is None


@pytest.mark.parametrize(
    ("agent", "name"),
    [(b"aws-lambda-java/", "aws-lambda-java"), (b"Swift-Lambda/", "swift-aws-lambda-runtime")],
)
def test_other_user_agents(agent: bytes, name: str) -> None:
    client = client_of(b"AWS_LAMBDA_RUNTIME_API", agent)
    assert client is not None and client.name == name


def test_emulator_routes_are_not_a_client() -> None:
    # cargo-lambda's emulator serves these routes; a server is not a client of the Runtime API.
    assert (
        client_of(b"AWS_LAMBDA_RUNTIME_API", b"/2018-06-01/runtime/invocation/:req_id/response")
        is None
    )


def test_extensions_api_client() -> None:
    client = client_of(b"AWS_LAMBDA_RUNTIME_API", b"/2020-01-01/extension/register")
    assert client is not None and client.name == "extensions-api"


def test_one_marker_alone_is_no_client() -> None:
    assert client_of(b"AWS_LAMBDA_RUNTIME_API") is None
    assert client_of(b"/runtime/invocation/") is None


def test_markers_in_code_are_not_searched() -> None:
    assert client_of(b"AWS_LAMBDA_RUNTIME_API", b"/runtime/invocation/", section=".text") is None


# ---- LS502 on hand-made packages ----


def elf(path: str, client: RuntimeClient | None, machine: str = "x86_64") -> BinaryFacts:
    return BinaryFacts(
        path=path,
        size=1000,
        elf_class=64,
        endianness="little",
        machine=machine,
        e_machine=62 if machine == "x86_64" else 183,
        os_abi="sysv",
        elf_type=ElfType.EXECUTABLE,
        entry=0x401000,
        linkage=Linkage.STATIC,
        runtime_client=client,
        mode=0o755,
    )


def package(*files: tuple[str, BinaryFacts], source: str = "fn.zip") -> ScannedPackage:
    entries = tuple(
        PackageEntry(inner=inner, location=f.path, kind=EntryKind.ELF, size=f.size, mode=0o755)
        for inner, f in files
    )
    return ScannedPackage(
        source=source, kind="zip", entries=entries, binaries=tuple(f for _, f in files)
    )


def ls502(
    function: ScannedPackage,
    runtime: str = "provided.al2023",
    layers: tuple[ScannedPackage, ...] = (),
) -> list[Any]:
    world = build_world(function, layers, load_target(runtime, "x86_64"))
    return [f for f in evaluate(world, Context(today=TODAY)) if f.rule == "LS502"]


CUSTOM = RuntimeClient(name="custom", evidence=("contains 'AWS_LAMBDA_RUNTIME_API'",))


def test_ls502_bootstrap_without_client_warns() -> None:
    found = ls502(package(("bootstrap", elf("fn.zip!bootstrap", None))))
    assert len(found) == 1
    assert found[0].severity is Severity.WARNING and found[0].path == "fn.zip!bootstrap"
    assert "Runtime.ExitError" in found[0].message and found[0].fix
    assert RULES_BY_ID["LS502"].severity is Severity.WARNING


def test_ls502_bootstrap_with_client_is_quiet() -> None:
    assert ls502(package(("bootstrap", elf("fn.zip!bootstrap", CUSTOM)))) == []


def test_ls502_extension_only_client_is_no_runtime_client() -> None:
    ext = RuntimeClient(name="extensions-api", evidence=())
    assert len(ls502(package(("bootstrap", elf("fn.zip!bootstrap", ext))))) == 1


def test_ls502_not_for_managed_runtimes_or_other_files() -> None:
    assert ls502(package(("bootstrap", elf("fn.zip!bootstrap", None))), runtime="python3.12") == []
    assert ls502(package(("tool", elf("fn.zip!tool", None)))) == []


def test_ls502_not_when_the_architecture_is_wrong() -> None:
    assert ls502(package(("bootstrap", elf("fn.zip!bootstrap", None, machine="aarch64")))) == []


def test_ls502_extension_in_a_layer() -> None:
    layer = package(("extensions/ext", elf("layer.zip!extensions/ext", None)), source="layer.zip")
    handler = package(("bootstrap", elf("fn.zip!bootstrap", CUSTOM)))
    found = ls502(handler, layers=(layer,))
    assert [f.path for f in found] == ["layer.zip!extensions/ext"]
    assert "Extensions API" in found[0].message
    assert ls502(handler, runtime="python3.12", layers=(layer,)) != []  # extensions run everywhere
