"""The language-runtime symbols of native modules (Node-API, node_register_module_v<N>), read
from the committed ecosystem fixtures and compared with what GNU nm and objdump say."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from conftest import BIN

from linkscope.elf import facts_from_bytes, facts_from_file
from linkscope.elf.symbols import may_be_module

ADDONS = {
    # name: (exported, imported, declared Node-API version)
    "node_v8_nmv108_x86_64.node": (("node_register_module_v108",), ("node_module_register",), None),
    "node_napi9_x86_64.node": (
        ("napi_register_module_v1", "node_api_module_get_api_version_v1"),
        ("napi_create_function", "napi_create_string_utf8", "napi_set_named_property"),
        9,
    ),
    "node_napi10_x86_64.node": (
        ("napi_register_module_v1", "node_api_module_get_api_version_v1"),
        ("napi_create_function", "napi_create_string_utf8", "napi_set_named_property"),
        10,
    ),
    "node_napi9_aarch64.node": (  # movz w0,#9; ret
        ("napi_register_module_v1", "node_api_module_get_api_version_v1"),
        ("napi_create_function", "napi_create_string_utf8", "napi_set_named_property"),
        9,
    ),
    "node_napi9_musl_x86_64.node": (  # zig keeps the frame pointer: push %rbp; mov; pop; ret
        ("napi_register_module_v1", "node_api_module_get_api_version_v1"),
        ("napi_create_function", "napi_create_string_utf8", "napi_set_named_property"),
        9,
    ),
    "node_napi_legacy_x86_64.node": (
        (),
        ("napi_create_date", "napi_module_register", "napi_set_named_property"),
        None,
    ),
    "node_napi8_needs10_x86_64.node": (
        ("napi_register_module_v1", "node_api_module_get_api_version_v1"),
        (
            "napi_create_arraybuffer",
            "napi_set_named_property",
            "node_api_create_buffer_from_arraybuffer",
        ),
        8,
    ),
}


@pytest.mark.parametrize("name", sorted(ADDONS))
def test_addon_interface(name: str) -> None:
    interface = facts_from_file(str(BIN / "eco" / name)).interface
    assert interface is not None
    exported, imported, declared = ADDONS[name]
    assert (interface.exported, interface.imported, interface.node_api_declared) == (
        exported,
        imported,
        declared,
    )


@pytest.mark.skipif(shutil.which("nm") is None, reason="GNU nm (binutils) is not installed")
@pytest.mark.parametrize("name", sorted(ADDONS))
def test_addon_interface_matches_nm(name: str) -> None:
    path = str(BIN / "eco" / name)
    result = subprocess.run(["nm", "-D", path], check=True, capture_output=True, text=True)
    lines = result.stdout.splitlines()
    undefined = {ln.split()[-1] for ln in lines if ln.split()[-2] == "U"}
    defined = {ln.split()[-1] for ln in lines if ln.split()[-2] != "U"}
    interface = facts_from_file(path).interface
    assert interface is not None
    assert set(interface.imported) == {
        s for s in undefined if s.startswith(("napi_", "node_api_", "node_module_register"))
    }
    assert set(interface.exported) == {
        s for s in defined if s.startswith(("node_register_module_v", "napi_register_module_v"))
    } | ({"node_api_module_get_api_version_v1"} & defined)


@pytest.mark.parametrize(
    "name", ["jni_hello_x86_64.so", "dotnet_native_aarch64.so", "ruby31_hello_ext_x86_64.so"]
)
def test_other_native_libraries_have_no_node_interface(name: str) -> None:
    assert facts_from_file(str(BIN / "eco" / name)).interface is None


def test_only_module_names_are_searched() -> None:
    data = (BIN / "eco" / "node_napi9_x86_64.node").read_bytes()
    assert facts_from_bytes(data, "lib/libaddon.so.1").interface is None
    assert facts_from_bytes(data, "build/Release/addon.node").interface is not None
    assert may_be_module("x/_ext.cpython-312-x86_64-linux-gnu.so")
    assert not may_be_module("x/libssl.so.3")


def test_a_damaged_version_function_is_not_guessed() -> None:
    """Overwrite the `mov $9,%eax` of node_api_module_get_api_version_v1: the version is then
    unknown (None), never a wrong number, and the rest of the file still reads."""
    path = BIN / "eco" / "node_napi9_x86_64.node"
    data = bytearray(path.read_bytes())
    at = data.find(bytes.fromhex("b809000000c3"))
    assert at > 0
    data[at] = 0x90  # nop
    facts = facts_from_bytes(bytes(data), "addon.node")
    assert facts.interface is not None and facts.interface.node_api_declared is None
    assert facts.needed == ("libc.so.6",)
