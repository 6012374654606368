"""Node.js functions as npm lays them out, with the project's own addons (fixtures/bin/eco):
LS611 (NODE_MODULE_VERSION), LS612 (Node-API), LS613 (platform packages), the origin of each
addon, and fixes in npm's words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from check_helpers import BIN, TODAY, cli_main
from eco_helpers import eco, node_function, npm_package, sharp_like
from package_helpers import Item, make_zip

from linkscope import api
from linkscope.model import Report, Severity


def check(path: Path, runtime: str, arch: str = "x86_64", layers: tuple[str, ...] = ()) -> Report:
    return api.check([str(path)], runtime, arch, layers=layers, today=TODAY)


def rules(report: Report, severity: Severity | None = None) -> set[str]:
    return {f.rule for f in report.findings if severity is None or f.severity is severity} - {
        "LS501"
    }


def addon_function(tmp_path: Path, fixture: str, name: str = "addon") -> Path:
    items = npm_package(name, "1.2.3", [("build/Release/addon.node", eco(fixture))], gypfile=True)
    return node_function(tmp_path / "function.zip", items)


@pytest.mark.parametrize(
    ("runtime", "want"),
    [("nodejs18.x", set()), ("nodejs20.x", {"LS611"}), ("nodejs22.x", {"LS611"})],
)
def test_node_module_version(tmp_path: Path, runtime: str, want: set[str]) -> None:
    """node_register_module_v108 loads on Node 18 only (verified on Node 20.20.2: 'compiled
    against a different Node.js version using NODE_MODULE_VERSION 108')."""
    report = check(addon_function(tmp_path, "node_v8_nmv108_x86_64.node"), runtime)
    assert rules(report, Severity.ERROR) == want
    assert report.verdict == ("incompatible" if want else "compatible")
    for finding in report.findings:
        if finding.rule == "LS611":
            assert "NODE_MODULE_VERSION 108" in finding.message
            assert "ERR_DLOPEN_FAILED" in finding.message
            assert "npm rebuild addon" in finding.fix


CLASSIC = {  # fixture -> its NODE_MODULE_VERSION (node.h's NODE_MODULE_X struct)
    "node_classic_nmv108_x86_64.node": 108,
    "node_classic_ctx_nmv108_x86_64.node": 108,
    "node_classic_nmv115_x86_64.node": 115,
    "node_classic_nmv108_aarch64.node": 108,
}
NMV = {"nodejs18.x": 108, "nodejs20.x": 115, "nodejs22.x": 127}


@pytest.mark.parametrize("runtime", sorted(NMV))
@pytest.mark.parametrize("fixture", sorted(CLASSIC))
def test_classic_node_module_version(tmp_path: Path, fixture: str, runtime: str) -> None:
    """NODE_MODULE (nan) addons export no node_register_module_v<N>: the NMV is read from
    their node_module struct. Node 20.20.2 here refuses the 108 builds with 'compiled against
    a different Node.js version using NODE_MODULE_VERSION 108' and loads the 115 one."""
    arch = "arm64" if fixture.endswith("aarch64.node") else "x86_64"
    report = check(addon_function(tmp_path, fixture), runtime, arch)
    binary = next(b for b in report.binaries if b.path.endswith("addon.node"))
    assert binary.origin is not None and binary.origin.abi == f"node-abi-{CLASSIC[fixture]}"
    wrong = CLASSIC[fixture] != NMV[runtime]
    assert rules(report, Severity.ERROR) == ({"LS611"} if wrong else set())
    if wrong:
        finding = next(f for f in report.findings if f.rule == "LS611")
        assert f"NODE_MODULE_VERSION {CLASSIC[fixture]}" in finding.message
        assert f"requires NODE_MODULE_VERSION {NMV[runtime]}" in finding.message


def test_node_module_version_is_not_judged_on_an_os_only_runtime(tmp_path: Path) -> None:
    report = check(addon_function(tmp_path, "node_v8_nmv108_x86_64.node"), "provided.al2023")
    assert not {"LS611", "LS612"} & rules(report)


@pytest.mark.parametrize(
    ("runtime", "want"),
    [("nodejs18.x", {"LS612"}), ("nodejs20.x", {"LS612"}), ("nodejs22.x", set())],
)
def test_declared_node_api_version(tmp_path: Path, runtime: str, want: set[str]) -> None:
    """An addon declaring Node-API 10 crashes Node 18 and 20 (Node-API 9) at require."""
    report = check(addon_function(tmp_path, "node_napi10_x86_64.node"), runtime)
    assert rules(report, Severity.ERROR) == want
    if want:
        finding = next(f for f in report.findings if f.rule == "LS612")
        assert "declares Node-API version 10" in finding.message
        assert "segmentation fault" in finding.message


def test_node_api_9_addon_runs_everywhere(tmp_path: Path) -> None:
    for runtime in ("nodejs18.x", "nodejs20.x", "nodejs22.x", "nodejs24.x"):
        report = check(addon_function(tmp_path, "node_napi9_x86_64.node"), runtime)
        assert report.verdict == "compatible", runtime
        assert not rules(report) - {"LS402"}, runtime


def test_imported_newer_node_api_function_is_a_warning(tmp_path: Path) -> None:
    """Declares 8 but imports a Node-API 10 function: loads, dies at the first call; Node 20
    exports some version-10 names early, so this is a warning, not an error."""
    report = check(addon_function(tmp_path, "node_napi8_needs10_x86_64.node"), "nodejs20.x")
    finding = next(f for f in report.findings if f.rule == "LS612")
    assert finding.severity is Severity.WARNING
    assert "node_api_create_buffer_from_arraybuffer" in finding.message
    assert report.verdict == "compatible"
    assert "LS612" not in rules(
        check(addon_function(tmp_path, "node_napi8_needs10_x86_64.node"), "nodejs22.x")
    )


def test_legacy_node_api_registration(tmp_path: Path) -> None:
    report = check(addon_function(tmp_path, "node_napi_legacy_x86_64.node"), "nodejs18.x")
    assert report.verdict == "compatible"
    binary = next(b for b in report.binaries if b.path.endswith("addon.node"))
    assert binary.origin is not None and binary.origin.abi == "napi-5"


def test_origin_of_an_addon(tmp_path: Path) -> None:
    report = check(addon_function(tmp_path, "node_v8_nmv108_x86_64.node"), "nodejs20.x")
    binary = next(b for b in report.binaries if b.path.endswith("addon.node"))
    assert binary.origin is not None
    assert (binary.origin.ecosystem, binary.origin.package, binary.origin.version) == (
        "nodejs",
        "addon",
        "1.2.3",
    )
    assert binary.origin.abi == "node-abi-108"
    assert binary.origin.installer == "npm"


# ---------------------------------------------------------------- platform packages (LS613)

X64 = ("linux", "x64", eco("node_napi9_x86_64.node"))
ARM64 = ("linux", "arm64", eco("node_napi9_aarch64.node"))
MAC = ("darwin", "arm64", eco("node_napi9_macos_arm64.node"))


@pytest.mark.parametrize(
    ("installed", "arch", "errors"),
    [
        ([X64], "x86_64", set()),
        ([ARM64], "arm64", set()),
        ([X64, ARM64], "x86_64", set()),  # supportedArchitectures with both CPUs
        ([X64, ARM64], "arm64", set()),
        ([X64], "arm64", {"LS613", "LS101"}),  # sam build for arm64 on an x86_64 machine
        ([ARM64], "x86_64", {"LS613", "LS101"}),
        ([MAC], "x86_64", {"LS613"}),  # installed on a Mac
        ([], "x86_64", {"LS613"}),  # --omit=optional
    ],
)
def test_platform_packages(
    tmp_path: Path, installed: list[tuple[str, str, Path]], arch: str, errors: set[str]
) -> None:
    report = check(node_function(tmp_path / "f.zip", sharp_like(installed)), "nodejs20.x", arch)
    assert rules(report, Severity.ERROR) == errors, [
        (f.rule, f.severity.value, f.message) for f in report.findings
    ]
    assert report.verdict == ("incompatible" if errors else "compatible")
    if "LS613" in errors:
        finding = next(
            f for f in report.findings if f.rule == "LS613" and f.severity is Severity.ERROR
        )
        assert finding.path.endswith("!node_modules/imgkit/package.json")
        cpu = {"x86_64": "x64", "arm64": "arm64"}[arch]
        assert f"@imgkit/imgkit-linux-{cpu}" in finding.message
        assert f"npm install --os=linux --cpu={cpu} --libc=glibc imgkit@0.33.5" in finding.fix
        assert "supportedArchitectures" in finding.fix


def test_other_cpu_beside_the_right_one_is_information(tmp_path: Path) -> None:
    report = check(
        node_function(tmp_path / "f.zip", sharp_like([X64, ARM64])), "nodejs20.x", "arm64"
    )
    ls101 = [f for f in report.findings if f.rule == "LS101"]
    assert ls101 and all(f.severity is Severity.INFO for f in ls101)
    assert all("never loaded here" in f.message for f in ls101)


def test_wrong_cpu_gets_an_npm_fix_not_a_compiler(tmp_path: Path) -> None:
    """The issue's case: LS101 right, fix in npm's words (not cargo lambda or zig cc)."""
    report = check(node_function(tmp_path / "f.zip", sharp_like([X64])), "nodejs20.x", "arm64")
    finding = next(f for f in report.findings if f.rule == "LS101")
    assert finding.severity is Severity.ERROR
    assert "npm ci --os=linux --cpu=arm64 --libc=glibc" in finding.fix
    assert "sam build --use-container" in finding.fix
    assert "cargo" not in finding.fix and "zig" not in finding.fix


def test_wasm_fallback_counts_as_a_platform_package(tmp_path: Path) -> None:
    items = sharp_like([])
    items += npm_package(
        "@imgkit/imgkit-wasm32", "0.33.5", [("lib/imgkit.wasm", b"\0asm")], cpu=["wasm32"]
    )
    report = check(node_function(tmp_path / "f.zip", items), "nodejs20.x")
    assert "LS613" not in rules(report, Severity.ERROR)


# ---------------------------------------------------------------- node-gyp-build prebuilds


def prebuilt(files: list[tuple[str, str]]) -> list[Item]:
    return npm_package(
        "wsutil", "4.1.0", [(f"prebuilds/{path}", eco(fixture)) for path, fixture in files]
    )


def test_prebuilds_pick_the_platform(tmp_path: Path) -> None:
    items = prebuilt(
        [
            ("linux-x64/wsutil.node", "node_napi9_x86_64.node"),
            ("linux-x64/node.napi.musl.node", "node_napi9_musl_x86_64.node"),
            ("linux-arm64/wsutil.node", "node_napi9_aarch64.node"),
            ("darwin-arm64/wsutil.node", "node_napi9_macos_arm64.node"),
        ]
    )
    for arch in ("x86_64", "arm64"):
        report = check(node_function(tmp_path / f"{arch}.zip", items), "nodejs20.x", arch)
        assert report.verdict == "compatible", [(f.rule, f.message) for f in report.findings]
        assert not rules(report, Severity.WARNING)


def test_no_prebuild_for_the_platform(tmp_path: Path) -> None:
    items = prebuilt([("darwin-arm64/wsutil.node", "node_napi9_macos_arm64.node")])
    report = check(node_function(tmp_path / "f.zip", items), "nodejs20.x")
    finding = next(f for f in report.findings if f.rule == "LS613")
    assert finding.severity is Severity.ERROR
    assert "No native build was found" in finding.message


# ---------------------------------------------------------------- layers


def test_layer_folder_for_another_node_major(tmp_path: Path) -> None:
    layer = make_zip(
        tmp_path / "layer.zip",
        npm_package(
            "addon",
            "1.0.0",
            [("build/Release/addon.node", eco("node_napi9_x86_64.node"))],
            "nodejs/node18/",
        ),
    )
    function = make_zip(tmp_path / "f.zip", [Item("index.js", b"exports.handler=1", 0o644)])
    report = check(function, "nodejs20.x", layers=(str(layer),))
    finding = next(f for f in report.findings if f.rule == "LS611")
    assert finding.severity is Severity.WARNING
    assert "nodejs/node18/node_modules" in finding.message
    assert "nodejs/node20/node_modules" in finding.fix
    assert "LS611" not in rules(check(function, "nodejs18.x", layers=(str(layer),)))


def test_json_origin(tmp_path: Path) -> None:
    zipped = node_function(tmp_path / "f.zip", sharp_like([X64]))
    code = cli_main()(
        [
            "check",
            str(zipped),
            "--runtime",
            "nodejs20.x",
            "--format",
            "json",
            "--output",
            str(tmp_path / "r.json"),
        ]
    )
    assert code == 0
    document = json.loads((tmp_path / "r.json").read_text())
    binary = next(b for b in document["binaries"] if b["path"].endswith(".node"))
    assert binary["origin"]["package"] == "@imgkit/imgkit-linux-x64"
    assert binary["origin"]["tag"] == "linux-x64-glibc"
    assert binary["origin"]["abi"] == "napi-9"


def test_a_loaded_addon_is_essential(tmp_path: Path) -> None:
    """An arm64 addon stops an x86_64 function even beside good addons: Node loads it by
    itself, though nothing in the package needs it (not a spare library)."""
    items = npm_package(
        "good", "1.0.0", [("build/Release/good.node", eco("node_napi9_x86_64.node"))]
    )
    items += npm_package(
        "other", "2.0.0", [("build/Release/other.node", eco("node_napi9_aarch64.node"))]
    )
    report = check(node_function(tmp_path / "f.zip", items), "nodejs20.x")
    finding = next(f for f in report.findings if f.rule == "LS101")
    assert finding.severity is Severity.ERROR
    assert finding.path.endswith("other/build/Release/other.node")
    assert report.verdict == "incompatible"


def test_addon_needing_a_newer_glibc(tmp_path: Path) -> None:
    items = npm_package(
        "newlibc",
        "2.0.0",
        [("build/Release/newlibc.node", eco("node_napi9_glibc2.38_x86_64.node"))],
    )
    report = check(node_function(tmp_path / "f.zip", items), "nodejs20.x")
    finding = next(f for f in report.findings if f.rule == "LS301")
    assert finding.severity is Severity.ERROR
    assert "strlcpy" in finding.message
    assert "public.ecr.aws/sam/build-nodejs20.x" in finding.fix  # compiled: install there


def test_addon_compiled_on_a_mac(tmp_path: Path) -> None:
    """kelektiv/node.bcrypt.js#505: build/Release/*.node compiled on a Mac, `invalid ELF
    header`. npm's --os/--cpu flags would not change it: the fix is to install on Linux."""
    items = npm_package("snappyish", "7.2.2", [("build/Release/binding.node", eco(MAC[2].name))])
    report = check(node_function(tmp_path / "f.zip", items), "nodejs20.x")
    finding = next(f for f in report.findings if f.rule == "LS103")
    assert finding.severity is Severity.ERROR
    assert "sam build --use-container" in finding.fix
    assert "public.ecr.aws/sam/build-nodejs20.x" in finding.fix
    assert "npm ci --os" not in finding.fix


def test_pnpm_layout(tmp_path: Path) -> None:
    """pnpm keeps packages in node_modules/.pnpm/<name>@<version>/node_modules/<name>/."""
    store = "node_modules/.pnpm/"
    items = [
        Item(f"{store}{i.name.removeprefix('node_modules/')}", i.data, i.mode)
        for i in sharp_like([MAC])
    ]
    items = [
        Item(i.name.replace(store, f"{store}pkg@0.33.5/node_modules/", 1), i.data, i.mode)
        for i in items
    ]
    report = check(node_function(tmp_path / "f.zip", items), "nodejs20.x")
    finding = next(f for f in report.findings if f.rule == "LS613")
    assert finding.severity is Severity.ERROR
    assert finding.path.endswith("node_modules/.pnpm/pkg@0.33.5/node_modules/imgkit/package.json")


# ---------------------------------------------------------------- one build per Node version

C108, C115 = eco("node_classic_nmv108_x86_64.node"), eco("node_classic_nmv115_x86_64.node")
PER_NODE_LAYOUTS = {
    # deasync: bin/<platform>-<arch>-node-<major>/ (its index.js picks the runtime's major)
    "deasync": [
        ("bin/linux-x64-node-18/deasync.node", C108),
        ("bin/linux-x64-node-20/deasync.node", C115),
        ("bin/linux-x64-node-0.10/deasync.node", C108),
        ("bin/darwin-arm64-node-20/deasync.node", MAC[2]),
        ("bin/win32-x64-node-20/deasync.node", eco("dotnet_native_x86_64.dll")),
    ],
    # fibers, node-sass: bin/<platform>-<arch>-<modules>[-<libc>]/
    "fibers": [
        ("bin/linux-x64-108-glibc/fibers.node", C108),
        ("bin/linux-x64-115-glibc/fibers.node", C115),
        ("bin/linux-x64-115-musl/fibers.node", eco("node_napi9_musl_x86_64.node")),
        ("bin/darwin-arm64-115/fibers.node", MAC[2]),
    ],
    # node-gyp-build 3 (@datadog/native-iast-taint-tracking): prebuilds/<os><libc>-<arch>/
    "taint": [
        ("prebuilds/linuxglibc-x64/node-108.node", C108),
        ("prebuilds/linuxglibc-x64/node-115.node", C115),
        ("prebuilds/linuxmusl-x64/node-115.node", eco("node_napi9_musl_x86_64.node")),
        ("prebuilds/darwin-arm64/node-115.node", MAC[2]),
    ],
    # uWebSockets.js (from GitHub): uws_<platform>_<arch>_<modules>.node beside its loader
    "uws": [
        ("uws_linux_x64_108.node", C108),
        ("uws_linux_x64_115.node", C115),
        ("uws_linux_arm64_115.node", eco("node_classic_nmv108_aarch64.node")),
        ("uws_darwin_arm64_115.node", MAC[2]),
    ],
    # node-pre-gyp's {node_abi}-{platform}-{arch}
    "pregyp": [
        ("lib/binding/node-v108-linux-x64/binding.node", C108),
        ("lib/binding/node-v115-linux-x64/binding.node", C115),
        ("lib/binding/node-v115-darwin-arm64/binding.node", MAC[2]),
    ],
}


@pytest.mark.parametrize("layout", sorted(PER_NODE_LAYOUTS))
@pytest.mark.parametrize("runtime", ["nodejs18.x", "nodejs20.x"])
def test_the_loader_picks_the_build_for_the_runtime(
    tmp_path: Path, layout: str, runtime: str
) -> None:
    """Classic addons, one per Node version (and other platforms'): the loader loads the one
    for the runtime's Node, so the others are no errors (deasync 0.1.32, fibers 5, dd-trace's
    taint tracking 4.2.1 on Node 20.20.2 here: each loads the file for its Node)."""
    items = npm_package(layout, "1.0.0", PER_NODE_LAYOUTS[layout])
    report = check(node_function(tmp_path / "f.zip", items), runtime)
    assert report.verdict == "compatible", [(f.rule, f.path, f.message) for f in report.findings]
    assert not rules(report, Severity.WARNING)


@pytest.mark.parametrize("layout", sorted(PER_NODE_LAYOUTS))
def test_no_build_for_the_runtime_node(tmp_path: Path, layout: str) -> None:
    """None for Node 22: one LS611 on the package (deasync 0.1.15 and fibers 5.0.3 on Node
    20.20.2 here: `Could not locate the bindings file`, `Missing binary`)."""
    items = npm_package(layout, "1.0.0", PER_NODE_LAYOUTS[layout])
    report = check(node_function(tmp_path / "f.zip", items), "nodejs22.x")
    errors = [f for f in report.findings if f.severity is Severity.ERROR]
    assert [(f.rule, f.path.rsplit("!", 1)[1]) for f in errors] == [
        ("LS611", f"node_modules/{layout}/package.json")
    ]
    assert "none for nodejs22.x (Node 22, NODE_MODULE_VERSION 127)" in errors[0].message
    assert f"npm rebuild {layout}" in errors[0].fix


def test_no_build_for_the_function_cpu(tmp_path: Path) -> None:
    """deasync on arm64: no linux-arm64 folder, nothing built in build/Release: LS613; the x64
    builds are information. With a build/Release addon (npm ran its install script) it is
    that one that loads."""
    items = npm_package("deasync", "1.0.0", PER_NODE_LAYOUTS["deasync"])
    report = check(node_function(tmp_path / "f.zip", items), "nodejs20.x", "arm64")
    errors = [f for f in report.findings if f.severity is Severity.ERROR]
    assert [f.rule for f in errors] == ["LS613"], [(f.rule, f.message) for f in errors]
    assert "none for linux-arm64 (glibc)" in errors[0].message
    built = [*PER_NODE_LAYOUTS["deasync"], ("build/Release/deasync.node", ARM64[2])]
    items = npm_package("deasync", "1.0.0", built)
    report = check(node_function(tmp_path / "g.zip", items), "nodejs20.x", "arm64")
    assert report.verdict == "compatible", [(f.rule, f.message) for f in report.findings]


# ---------------------------------------------------------------- command-line tools (esbuild)


def cli_tool(os_name: str, cpu: str, program: Path) -> list[Item]:
    """A loader like esbuild or biome: its platform packages hold an executable (`bin/<tool>`)
    that it runs as a child process, not an addon."""
    offered = [f"@clitool/{o}-{c}" for o in ("linux", "darwin") for c in ("x64", "arm64")]
    items = npm_package(
        "clitool",
        "0.25.0",
        [("bin/clitool", b"#!/usr/bin/env node\nrequire('../lib/main.js')\n")],
        bin={"clitool": "bin/clitool"},
        optionalDependencies={name: "0.25.0" for name in offered},
    )
    items += npm_package(
        f"@clitool/{os_name}-{cpu}", "0.25.0", [("bin/clitool", program)], os=[os_name], cpu=[cpu]
    )
    return items


@pytest.mark.parametrize(
    ("os_name", "cpu", "program"),
    [
        ("darwin", "arm64", MAC[2]),  # node_modules from a Mac (a Mach-O file)
        ("linux", "arm64", BIN / "c_hello_zig_glibc2.17_aarch64"),  # built for arm64
    ],
)
def test_a_cli_tool_for_another_platform_is_a_warning(
    tmp_path: Path, os_name: str, cpu: str, program: Path
) -> None:
    """esbuild 0.25.0 installed on a Mac, on Node 20.20.2 here: `require('esbuild')` works,
    `transformSync` throws `You installed esbuild for another platform`. Its program runs as a
    child process; only a handler that calls it at run time fails: a warning."""
    report = check(node_function(tmp_path / "f.zip", cli_tool(os_name, cpu, program)), "nodejs20.x")
    assert report.verdict == "compatible", [(f.rule, f.message) for f in report.findings]
    [finding] = [f for f in report.findings if f.rule == "LS613"]
    assert finding.severity is Severity.WARNING
    assert finding.path.endswith("node_modules/clitool/package.json")
    assert "the `clitool` command cannot run on Lambda" in finding.message
    assert f"@clitool/{os_name}-{cpu}" in finding.message
    assert "npm install --os=linux --cpu=x64 --libc=glibc clitool@0.25.0" in finding.fix
    assert "--omit=dev" in finding.fix
    others = [f for f in report.findings if f.rule in ("LS101", "LS103")]
    assert all(f.severity is Severity.INFO for f in others)


def test_a_program_the_function_runs_stays_an_error(tmp_path: Path) -> None:
    """@ffmpeg-installer/ffmpeg 1.1.0 declares no `bin`: it hands its platform package's
    program to the function (`require(...).path`), which runs it on Lambda."""
    items = [
        Item(i.name, i.data.replace(b'"bin"', b'"files"'), i.mode)
        if isinstance(i.data, bytes) and i.name == "node_modules/clitool/package.json"
        else i
        for i in cli_tool("darwin", "arm64", MAC[2])
    ]
    report = check(node_function(tmp_path / "f.zip", items), "nodejs20.x")
    [finding] = [f for f in report.findings if f.rule == "LS613"]
    assert finding.severity is Severity.ERROR


def test_an_addon_platform_package_for_another_platform_stays_an_error(tmp_path: Path) -> None:
    """swc, rollup, sharp: the platform package holds an addon that `require` loads."""
    items = cli_tool("darwin", "arm64", MAC[2])
    items.append(
        Item("node_modules/@clitool/darwin-arm64/clitool.node", MAC[2].read_bytes(), 0o644)
    )
    report = check(node_function(tmp_path / "f.zip", items), "nodejs20.x")
    [finding] = [f for f in report.findings if f.rule == "LS613"]
    assert finding.severity is Severity.ERROR


@pytest.mark.parametrize("fallback", [True, False])
def test_no_prebuild_but_a_javascript_fallback(tmp_path: Path, fallback: bool) -> None:
    """bufferutil 4.0.9 and utf-8-validate 6.0.5 ship no linux-arm64 prebuild; their index.js
    catches node-gyp-build's error and uses fallback.js: a warning. Without one it is an error,
    and npm's --cpu flag would not help: the fix is to let the install script compile it."""
    files: list[tuple[str, Path | bytes]] = [
        ("prebuilds/linux-x64/wsutil.node", eco("node_napi9_x86_64.node")),
        ("binding.gyp", b"{'targets': [{'target_name': 'wsutil'}]}\n"),
    ]
    if fallback:
        files.append(("fallback.js", b"module.exports = { mask() {} };\n"))
    items = npm_package("wsutil", "4.0.9", files)
    report = check(node_function(tmp_path / "f.zip", items), "nodejs20.x", "arm64")
    [finding] = [f for f in report.findings if f.rule == "LS613"]
    assert finding.severity is (Severity.WARNING if fallback else Severity.ERROR)
    assert ("JavaScript fallback (`fallback.js`)" in finding.message) is fallback
    assert "compiles it (it has a binding.gyp)" in finding.fix
    assert "--cpu" not in finding.fix
    assert report.verdict == ("compatible" if fallback else "incompatible")


@pytest.mark.parametrize("optional", [False, True])
def test_an_addon_package_never_built(tmp_path: Path, optional: bool) -> None:
    """canvas 3.1.0, re2 1.22.1, node-pty 1.0.0 installed with --ignore-scripts: a binding.gyp
    and no addon; on Node 20.20.2 here `require` fails with `Cannot find module
    '../build/Release/canvas.node'`. cpu-features, ssh2's optional dependency: ssh2 loads."""
    items = npm_package(
        "paint",
        "3.1.0",
        [
            ("binding.gyp", b"{'targets': [{'target_name': 'paint'}]}\n"),
            ("lib/bindings.js", b"module.exports = require('../build/Release/paint.node');\n"),
        ],
    )
    if optional:
        items += npm_package("sshish", "1.16.0", [], optionalDependencies={"paint": "3.1.0"})
    report = check(node_function(tmp_path / "f.zip", items), "nodejs20.x")
    [finding] = [f for f in report.findings if f.rule == "LS613"]
    assert finding.path.endswith("node_modules/paint/package.json")
    assert finding.severity is (Severity.WARNING if optional else Severity.ERROR)
    assert "its install script never built it" in finding.message
    assert ("sshish has it as an optional dependency" in finding.message) is optional
    assert "onlyBuiltDependencies" in finding.fix and "--use-container" in finding.fix
    built = [
        *items,
        Item("node_modules/paint/build/Release/paint.node", X64[2].read_bytes(), 0o755),
    ]
    assert "LS613" not in rules(check(node_function(tmp_path / "g.zip", built), "nodejs20.x"))


def test_a_library_in_another_platforms_prebuild_folder(tmp_path: Path) -> None:
    """sodium-native 2.4.9 ships `prebuilds/linux-arm/libsodium.so.23` for its arm addons: on
    x86_64 only the linux-x64 folder is used, so that library is information, not a warning."""
    items = prebuilt(
        [
            ("linux-x64/wsutil.node", "node_napi9_x86_64.node"),
            ("linux-arm64/wsutil.node", "node_napi9_aarch64.node"),
            ("linux-arm64/libwsutil.so.1", "dotnet_native_aarch64.so"),
        ]
    )
    report = check(node_function(tmp_path / "f.zip", items), "nodejs20.x")
    assert report.verdict == "compatible"
    assert not rules(report, Severity.WARNING), [(f.rule, f.message) for f in report.findings]
    [library] = [f for f in report.findings if f.path.endswith("libwsutil.so.1")]
    assert library.severity is Severity.INFO and "another platform's prebuilds" in library.message
