"""A Node.js addon's ABI from its dynamic symbols (reference: managed-runtimes 4.1, 4.2).

- `node_register_module_v<N>` exported: built against one NODE_MODULE_VERSION, loads only on
  the Node major that has it (`ERR_DLOPEN_FAILED ... compiled against a different Node.js
  version`).
- classic `NODE_MODULE` (nan): no such symbol; `node_module_register` imported, and the
  NODE_MODULE_VERSION read from the struct it registers (linkscope/elf/node_module.py), or
  unknown (a warning, never a guess).
- Node-API (`napi_register_module_v1` exported, `napi_module_register` or `napi_*` imported):
  loads on every Node whose Node-API version is at least the one it needs. What it declares
  (`node_api_module_get_api_version_v1`) above the runtime's makes Node crash at `require`
  (SIGSEGV, no message); a function it imports from a newer version than the runtime's is
  missing at its first call (addons are opened with RTLD_LAZY), unless that Node happens to
  export it early (Node 20 exports some version-10 names): a warning, not an error.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources

from linkscope.model import InterfaceSymbols

NODE_ABI_PREFIX = "node_register_module_v"
NAPI_EXPERIMENTAL = 0x7FFFFFFF  # NAPI_VERSION_EXPERIMENTAL
NODE_API_STYLE = "node-api"
NODE_ABI_STYLE = "node-abi"  # tied to one NODE_MODULE_VERSION


@dataclass(frozen=True, slots=True, kw_only=True)
class AddonAbi:
    style: str  # NODE_API_STYLE or NODE_ABI_STYLE
    module_version: int | None = None  # from node_register_module_v<N>
    declared: int | None = None  # Node-API version node_api_module_get_api_version_v1 returns
    needs: int | None = None  # highest Node-API version among its imports
    needed_by: tuple[str, ...] = ()  # the imports that need `needs`

    @property
    def label(self) -> str:
        """The `abi` of the JSON report's origin: "node-abi-108", "napi-9"."""
        if self.style == NODE_ABI_STYLE:
            return f"node-abi-{self.module_version}" if self.module_version else "node-abi"
        version = self.declared if self.declared != NAPI_EXPERIMENTAL else None
        version = version or self.needs
        return f"napi-{version}" if version else "napi"


@functools.cache
def napi_added_in() -> dict[str, int]:
    """Node-API function -> the version that added it (profiles/data/node-api.json)."""
    text = resources.files("linkscope.profiles").joinpath("data/node-api.json").read_text()
    table = json.loads(text)["added_in"]
    return {name: int(version) for version, names in table.items() for name in names}


def addon_abi(interface: InterfaceSymbols | None) -> AddonAbi | None:
    """The addon's ABI, or None for a file that shows no sign of being a Node addon."""
    if interface is None:
        return None
    for name in interface.exported:
        number = name.removeprefix(NODE_ABI_PREFIX)
        if name.startswith(NODE_ABI_PREFIX) and number.isdigit():
            return AddonAbi(style=NODE_ABI_STYLE, module_version=int(number))
    napi = [n for n in interface.imported if n.startswith(("napi_", "node_api_"))]
    registers = any(n.startswith("napi_register_module_v") for n in interface.exported)
    if not napi and not registers:
        if "node_module_register" in interface.imported:  # classic NODE_MODULE, NMV in data
            return AddonAbi(style=NODE_ABI_STYLE, module_version=interface.node_module_version)
        return None
    needs, needed_by = _highest_version(napi)
    return AddonAbi(
        style=NODE_API_STYLE,
        declared=interface.node_api_declared,
        needs=needs,
        needed_by=needed_by,
    )


def _highest_version(imports: list[str]) -> tuple[int | None, tuple[str, ...]]:
    added = napi_added_in()
    known = [(added[name], name) for name in imports if name in added]
    if not known:
        return None, ()
    top = max(version for version, _ in known)
    return top, tuple(sorted(name for version, name in known if version == top))


@dataclass(frozen=True, slots=True, kw_only=True)
class AbiProblem:
    rule: str  # "LS611" or "LS612"
    error: bool
    cause: str  # what is wrong, in a sentence fragment after the file name
    consequence: str


def _unknown_module_version(runtime: str, module_version: int) -> AbiProblem:
    """A classic NODE_MODULE addon whose node_module struct could not be read: say so."""
    return AbiProblem(
        rule="LS611",
        error=False,
        cause="registers itself with node_module_register (a NODE_MODULE or nan addon), and "
        "linkscope could not read the NODE_MODULE_VERSION it was compiled for",
        consequence=f"it loads on {runtime} only if that is {module_version}; otherwise "
        "`require` fails with ERR_DLOPEN_FAILED (`was compiled against a different Node.js "
        "version`)",
    )


def abi_problems(abi: AddonAbi, runtime: str, module_version: int, napi: int) -> list[AbiProblem]:
    """What stops (or may stop) the addon on a runtime with `module_version` and Node-API
    version `napi` (languages.json)."""
    if abi.style == NODE_ABI_STYLE:
        if abi.module_version is None:
            return [_unknown_module_version(runtime, module_version)]
        if abi.module_version == module_version:
            return []
        return [
            AbiProblem(
                rule="LS611",
                error=True,
                cause=f"was compiled for NODE_MODULE_VERSION {abi.module_version}, but "
                f"{runtime} requires NODE_MODULE_VERSION {module_version}",
                consequence="`require` fails with ERR_DLOPEN_FAILED (`was compiled against a "
                "different Node.js version`)",
            )
        ]
    problems = []
    declared = abi.declared
    if declared is not None and declared > napi:
        experimental = declared == NAPI_EXPERIMENTAL
        problems.append(
            AbiProblem(
                rule="LS612",
                error=not experimental,
                cause=(
                    "declares the experimental Node-API version"
                    if experimental
                    else f"declares Node-API version {declared}"
                )
                + f", but {runtime} has Node-API {napi}",
                consequence="Node crashes at `require` (segmentation fault, no message)"
                if not experimental
                else "it relies on experimental Node-API functions that this Node may lack",
            )
        )
    elif abi.needs is not None and abi.needs > napi:
        problems.append(
            AbiProblem(
                rule="LS612",
                error=False,
                cause=f"imports Node-API {abi.needs} functions ({', '.join(abi.needed_by)}), "
                f"but {runtime} has Node-API {napi}",
                consequence="it loads, and the process dies with `symbol lookup error` at the "
                "first call, unless this Node exports the function early",
            )
        )
    return problems
