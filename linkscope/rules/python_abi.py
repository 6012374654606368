"""The minimum CPython of a stable-ABI (abi3) module: from its wheel tag (`cp311-abi3-...`
means 3.11 or later) and from the C-API functions it imports (when each joined the stable ABI,
data/stable-abi.json). The highest such version is a lower bound: a function that joined the
stable ABI later may still be exported by an older libpython (PyBuffer_Release by 3.8), so only
symbols known to be absent before their version make a symbol-based failure certain."""

from __future__ import annotations

from linkscope.ecosystems.python import ExtensionModule
from linkscope.model import BinaryFacts
from linkscope.profiles.languages import LanguageFacts, stable_abi


def abi3_problem(
    module: ExtensionModule, binary: BinaryFacts | None, facts: LanguageFacts
) -> tuple[str, bool] | None:
    """(what it needs, certain) when the module needs a newer CPython than the runtime's."""
    runtime = facts.python_version
    if runtime is None:
        return None
    dist = module.distribution
    tagged = dist.abi3_minimum if dist is not None else None
    if tagged is not None and tagged > runtime:
        tag = next((t for t in dist.tags if "-abi3-" in t), "") if dist is not None else ""
        return f"for CPython {tagged[0]}.{tagged[1]} or later (wheel tag `{tag}`)", True
    return _by_symbols(binary, runtime)


def _by_symbols(binary: BinaryFacts | None, runtime: tuple[int, int]) -> tuple[str, bool] | None:
    if binary is None or binary.interface is None:
        return None
    table = stable_abi()
    newer = sorted(
        (version, name)
        for name in binary.interface.imported
        if (version := table.added.get(name)) is not None
        and version > runtime
        and table.exported_earlier.get(name, version) > runtime
    )
    if not newer:
        return None
    version, _name = newer[-1]
    names = ", ".join(f"{n} ({v[0]}.{v[1]})" for v, n in newer[-3:])
    certain = any(table.absent_before.get(n, (0, 0)) > runtime for _v, n in newer)
    return (
        f"that imports stable-ABI functions added after {runtime[0]}.{runtime[1]}: {names}; it "
        f"needs CPython {version[0]}.{version[1]} or later",
        certain,
    )
