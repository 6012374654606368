"""Classic Node.js addons (`NODE_MODULE`, nan): the NODE_MODULE_VERSION read from the
`node::node_module` struct (linkscope/elf/node_module.py), checked against what a real Node
does with the same files, and against hostile bytes."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from check_helpers import TODAY
from eco_helpers import ECO, eco, node_function, npm_package

from linkscope import api
from linkscope.elf import facts_from_bytes
from linkscope.elf.image import Image
from linkscope.elf.node_module import _bases, _relocated, _relr_slots, classic_module_version
from linkscope.elf.parse import parse
from linkscope.errors import CorruptElfError
from linkscope.model import Severity

CLASSIC_108 = eco("node_classic_nmv108_x86_64.node")


def interface_version(data: bytes) -> int | None:
    facts = facts_from_bytes(data, "addon.node")
    return facts.interface.node_module_version if facts.interface else None


def struct_offset(data: bytes) -> int:
    """File offset of the fixture's node_module struct, found as linkscope finds it."""
    parsed = parse(Image(data, "addon.node"))
    targets = _relocated(parsed, (8, 1), None)
    assert targets is not None
    [base] = list(_bases(targets))
    data_segment = next(
        s for s in parsed.segments if s.p_type == 1 and s.vaddr <= base < s.vaddr + s.filesz
    )
    return data_segment.offset + base - data_segment.vaddr


def test_the_version_comes_from_the_struct() -> None:
    """Patch nm_version: linkscope reports what is there, and nothing when it is not a
    NODE_MODULE_VERSION (0 or negative): no guess."""
    data = bytearray(CLASSIC_108.read_bytes())
    offset = struct_offset(bytes(data))
    assert int.from_bytes(data[offset : offset + 4], "little") == 108
    data[offset : offset + 4] = (99).to_bytes(4, "little")
    assert interface_version(bytes(data)) == 99
    for bad in (0, 0xFFFFFFFF):
        data[offset : offset + 4] = bad.to_bytes(4, "little")
        assert interface_version(bytes(data)) is None


def test_a_struct_that_does_not_fit_the_shape_is_not_read() -> None:
    """A non-NULL nm_dso_handle or nm_link in the file is not a node_module as NODE_MODULE_X
    writes it."""
    original = CLASSIC_108.read_bytes()
    offset = struct_offset(original)
    for field in (8, 56):
        data = bytearray(original)
        data[offset + field] = 1
        assert interface_version(bytes(data)) is None, field


def test_an_unreadable_version_is_a_warning(tmp_path: Path) -> None:
    """When the struct cannot be read, LS611 says that it cannot tell (a warning), and does
    not call the addon compatible or incompatible by a guess."""
    data = bytearray(CLASSIC_108.read_bytes())
    data[struct_offset(bytes(data)) : struct_offset(bytes(data)) + 4] = bytes(4)
    items = npm_package("nanish", "2.0.0", [("build/Release/nanish.node", bytes(data))])
    report = api.check([str(node_function(tmp_path / "f.zip", items))], "nodejs20.x", today=TODAY)
    [finding] = [f for f in report.findings if f.rule == "LS611"]
    assert finding.severity is Severity.WARNING
    assert "could not read the NODE_MODULE_VERSION" in finding.message
    assert "only if that is 115" in finding.message
    assert report.verdict == "compatible"


def test_relr_bitmaps() -> None:
    """An even RELR word is an address; an odd one marks which of the next 63 words are
    relocated (bit 1 for the first)."""
    words = [0x4000, 0b1011, 0x9000]
    data = b"".join(w.to_bytes(8, "little") for w in words)
    assert list(_relr_slots(data)) == [0x4000, 0x4008, 0x4018, 0x9000]


def test_other_machines_and_files_without_relocations() -> None:
    for name in ("node_napi9_x86_64.node", "node_v8_nmv108_x86_64.node"):
        parsed = parse(Image(eco(name).read_bytes(), name))
        assert classic_module_version(parsed, None) is None, name


def test_hostile_bytes_never_crash() -> None:
    """Mutated and truncated classic addons give facts or a corrupt-ELF error, never another
    exception; the version read is 108 or nothing."""
    original = CLASSIC_108.read_bytes()
    rng = random.Random(611)
    for _ in range(400):
        data = bytearray(original)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        cut = len(data) if rng.random() < 0.8 else rng.randrange(64, len(data))
        try:
            version = interface_version(bytes(data[:cut]))
        except CorruptElfError:
            continue
        assert version in (None, 108) or 0 < version <= 0xFFFF


# ---------------------------------------------------------------- the oracle: a real Node


def node_says(path: Path) -> tuple[str, str]:
    """("loads" | "abi" | "crash" | "error", text) for `require(path)` in a real Node."""
    script = (
        "try { require(process.argv[1]); console.log('LOADED') }"
        " catch (e) { console.log(String(e.message).replace(/\\n/g, ' ')) }"
    )
    node = shutil.which("node")
    assert node is not None
    result = subprocess.run(
        [node, "-e", script, str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    out = result.stdout.strip()
    if result.returncode < 0 or result.returncode == 139:
        return "crash", out
    if out == "LOADED":
        return "loads", out
    if "compiled against a different Node.js version" in out:
        return "abi", out
    return "error", out


def node_module_version() -> int:
    node = shutil.which("node")
    assert node is not None
    out = subprocess.run(
        [node, "-p", "JSON.stringify(process.versions)"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(json.loads(out.stdout)["modules"])


X86_ADDONS = sorted(
    p.name for p in ECO.glob("node_*x86_64.node") if p.read_bytes()[:4] == b"\x7fELF"
)


@pytest.mark.skipif(shutil.which("node") is None, reason="no node on PATH to load the addons")
@pytest.mark.parametrize("fixture", X86_ADDONS)
def test_verdict_matches_a_real_node(tmp_path: Path, fixture: str) -> None:
    """Each x86_64 addon fixture loaded by the Node on PATH, and checked by linkscope against
    the Lambda runtime with that Node's NODE_MODULE_VERSION: an ABI refusal is LS611, a crash
    at require is LS612, and an addon that loads has neither as an error."""
    runtimes = {108: "nodejs18.x", 115: "nodejs20.x", 127: "nodejs22.x", 137: "nodejs24.x"}
    runtime = runtimes.get(node_module_version())
    if runtime is None:
        pytest.skip("the Node on PATH is not a Lambda runtime's major")
    copy = tmp_path / "addon.node"
    copy.write_bytes(eco(fixture).read_bytes())
    outcome, text = node_says(copy)
    items = npm_package("addon", "1.0.0", [("build/Release/addon.node", eco(fixture))])
    report = api.check([str(node_function(tmp_path / "f.zip", items))], runtime, today=TODAY)
    errors = {f.rule for f in report.findings if f.severity is Severity.ERROR}
    assert ("LS611" in errors) == (outcome == "abi"), (outcome, text, errors)
    assert ("LS612" in errors) == (outcome == "crash"), (outcome, text, errors)
    if outcome == "loads":
        assert report.verdict == "compatible", [f.message for f in report.findings]
