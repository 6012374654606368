"""Opt-in real-world tier: pinned third-party packages from PyPI and npm, checked against known
facts.

Run with `LINKSCOPE_REALWORLD=1 python -m pytest -m realworld`. The wheels are downloaded once into
a cache (`$LINKSCOPE_REALWORLD_CACHE`, default `~/.cache/linkscope-realworld`) and read from
there, inside the wheel (a wheel is a zip): nothing third-party is ever committed. The expected
facts come from the project's reference notes (fixtures.md, section 6), recorded from readelf.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import linkscope
from linkscope.model import LibcFamily, Linkage

pytestmark = [
    pytest.mark.realworld,
    pytest.mark.skipif(
        os.environ.get("LINKSCOPE_REALWORLD") != "1",
        reason="downloads from PyPI: set LINKSCOPE_REALWORLD=1 to run this tier",
    ),
]

CACHE = Path(
    os.environ.get("LINKSCOPE_REALWORLD_CACHE", Path.home() / ".cache/linkscope-realworld")
)


def wheel(requirement: str, platform: str) -> Path:
    """The cached wheel for `requirement` on `platform`, downloaded on first use."""
    target = CACHE / platform
    name = requirement.split("==", maxsplit=1)[0].replace("-", "_")
    found = sorted(target.glob(f"{name}-*.whl")) if target.exists() else []
    if not found:
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--only-binary=:all:", "--platform", platform, "--python-version", "3.11",
             "--dest", str(target), requirement],
            check=True,
        )  # fmt: skip
        found = sorted(target.glob(f"{name}-*.whl"))
    assert found, f"no wheel for {requirement} on {platform}"
    return found[0]


def member(archive: Path, suffix: str) -> str:
    with zipfile.ZipFile(archive) as zipped:
        names = [n for n in zipped.namelist() if n.endswith(suffix)]
    assert names, f"{archive.name} has no member ending in {suffix}"
    return names[0]


def facts_of(archive: Path, suffix: str) -> linkscope.model.BinaryFacts:
    report = linkscope.inspect([str(archive)])
    wanted = f"{archive}!{member(archive, suffix)}"
    return next(b for b in report.binaries if b.path == wanted)


def test_awslambdaric_manylinux_x86_64() -> None:
    archive = wheel("awslambdaric==4.2.2", "manylinux2014_x86_64")
    facts = facts_of(archive, ".so")
    assert facts.machine == "x86_64"
    assert facts.linkage is Linkage.DYNAMIC
    assert facts.libc.family is LibcFamily.GLIBC
    assert {"libstdc++.so.6", "libc.so.6"} <= set(facts.needed)
    assert facts.required_versions["GLIBC"] == "2.17"
    assert facts.required_versions["GLIBCXX"] == "3.4.19"
    assert facts.runtime_client is not None and facts.runtime_client.name == "aws-lambda-cpp"


def test_awslambdaric_musllinux_is_dynamic_musl() -> None:
    archive = wheel("awslambdaric==4.2.2", "musllinux_1_2_x86_64")
    facts = facts_of(archive, ".so")
    assert facts.libc.family is LibcFamily.MUSL
    assert "libc.musl-x86_64.so.1" in facts.needed
    report = linkscope.check([str(archive)], "python3.12")
    assert any(f.rule == "LS202" for f in report.findings)


def test_cargo_lambda_is_static_pie_rust_musl() -> None:
    archive = wheel("cargo-lambda==1.9.2", "manylinux_2_5_x86_64")
    facts = facts_of(archive, "scripts/cargo-lambda")
    assert facts.linkage is Linkage.STATIC_PIE
    assert facts.needed == ()
    assert facts.libc.family is LibcFamily.MUSL
    assert facts.toolchain.rust is not None
    assert facts.toolchain.rust.rustc_version == "1.96.1"
    # It serves the Runtime API (an emulator); it is not a client of it.
    assert facts.runtime_client is None


def test_cargo_lambda_aarch64_is_static() -> None:
    archive = wheel("cargo-lambda==1.9.2", "manylinux2014_aarch64")
    facts = facts_of(archive, "scripts/cargo-lambda")
    assert (facts.machine, facts.linkage) == ("aarch64", Linkage.STATIC)
    report = linkscope.check([str(archive)], "provided.al2023", "x86_64")
    assert any(f.rule == "LS101" for f in report.findings)


# -------------------------------------------------------------- npm packages, as npm installs them


def npm_function(spec: str, os_name: str, cpu: str) -> Path:
    """A function zip holding `spec` installed by npm for `os_name`/`cpu` (`npm install --os
    --cpu --libc --ignore-scripts`, as a build on that platform leaves node_modules), cached."""
    import shutil

    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    key = f"{spec.replace('/', '_').replace('@', '_')}-{os_name}-{cpu}"
    folder, zipped = CACHE / "npm" / key, CACHE / "npm" / f"{key}.zip"
    if not zipped.exists():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "package.json").write_text('{"name": "fn", "version": "1.0.0"}')
        libc = ["--libc=glibc"] if os_name == "linux" else []
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", f"--os={os_name}",
             f"--cpu={cpu}", *libc, spec],
            cwd=folder, check=True, capture_output=True,
        )  # fmt: skip
        with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("index.js", "exports.handler = async () => 1;\n")
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(folder).as_posix())
    return zipped


def errors_of(report: linkscope.model.Report) -> set[str]:
    return {f.rule for f in report.findings if f.severity.value == "error"}


def test_npm_sharp_for_the_function_platform() -> None:
    zipped = npm_function("sharp@0.33.5", "linux", "x64")
    report = linkscope.check([str(zipped)], "nodejs20.x", "x86_64")
    assert report.verdict == "compatible", [(f.rule, f.message) for f in report.findings]
    addon = next(b for b in report.binaries if b.path.endswith(".node"))
    assert addon.origin is not None and addon.origin.package == "@img/sharp-linux-x64"
    assert addon.origin.abi == "napi-9"  # sharp 0.33.5 declares Node-API 9


def test_npm_sharp_x64_packages_on_an_arm64_function() -> None:
    """sam build for arm64 on an x86_64 machine: npm installed sharp's x64 packages."""
    report = linkscope.check(
        [str(npm_function("sharp@0.33.5", "linux", "x64"))], "nodejs20.x", "arm64"
    )
    assert errors_of(report) == {"LS101", "LS613"}
    for finding in report.findings:
        if finding.rule == "LS101":
            assert "--cpu=arm64" in finding.fix and "cargo" not in finding.fix


def test_npm_sharp_installed_on_a_mac() -> None:
    report = linkscope.check([str(npm_function("sharp@0.33.5", "darwin", "arm64"))], "nodejs20.x")
    assert errors_of(report) == {"LS613"}
    finding = next(f for f in report.findings if f.rule == "LS613" and f.severity.value == "error")
    assert "@img/sharp-linux-x64" in finding.message


def test_npm_better_sqlite3_declares_node_api_10() -> None:
    """better-sqlite3 13.2.0's prebuilds declare Node-API 10: Node 18 and 20 crash at require."""
    zipped = npm_function("better-sqlite3@13.2.0", "linux", "x64")
    report = linkscope.check([str(zipped)], "nodejs20.x", "x86_64")
    assert errors_of(report) == {"LS612"}
    assert [f.path.rsplit("/", 1)[1] for f in report.findings if f.rule == "LS612"] == [
        "linux-x64.node"
    ]
    assert linkscope.check([str(zipped)], "nodejs22.x", "arm64").verdict == "compatible"


@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_npm_packages_with_every_platform_inside(arch: str) -> None:
    """bcrypt 6 (prebuilds/<platform>/bcrypt.glibc|musl.node), swc and esbuild platform
    packages: no false errors on working packages."""
    cpu = {"x86_64": "x64", "arm64": "arm64"}[arch]
    for spec in ("bcrypt@6.0.0", "@swc/core@1.11.24", "esbuild@0.25.0"):
        for runtime in ("nodejs20.x", "nodejs22.x"):
            report = linkscope.check([str(npm_function(spec, "linux", cpu))], runtime, arch)
            assert not errors_of(report), (spec, runtime, [f.message for f in report.findings])


def test_npm_tagged_addons_pick_glibc() -> None:
    """msgpackr-extract 3.0.3's linux-x64 package holds node.napi.glibc.node beside musl and
    node.abi115 builds: node-gyp-build picks the glibc Node-API one, the rest are spares. Its
    linux-arm64 package holds musl builds only (readelf: NEEDED libc.so): LS202 there is right."""
    x64 = npm_function("msgpackr-extract@3.0.3", "linux", "x64")
    for runtime in ("nodejs18.x", "nodejs20.x", "nodejs22.x"):
        assert not errors_of(linkscope.check([str(x64)], runtime, "x86_64")), runtime
    arm64 = npm_function("msgpackr-extract@3.0.3", "linux", "arm64")
    assert errors_of(linkscope.check([str(arm64)], "nodejs20.x", "arm64")) == {"LS202"}


@pytest.mark.parametrize(("os_name", "cpu"), [("linux", "arm64"), ("darwin", "arm64")])
def test_npm_esbuild_for_another_platform_is_a_warning(os_name: str, cpu: str) -> None:
    """esbuild runs its platform package's program as a child process: `require('esbuild')`
    works on Node 20.20.2 here with the darwin-arm64 package, `transformSync` throws `You
    installed esbuild for another platform`. A handler rarely runs it: a warning."""
    report = linkscope.check(
        [str(npm_function("esbuild@0.25.0", os_name, cpu))], "nodejs20.x", "x86_64"
    )
    assert not errors_of(report), [(f.rule, f.message) for f in report.findings]
    [finding] = [f for f in report.findings if f.rule == "LS613"]
    assert finding.severity.value == "warning" and "cannot run on Lambda" in finding.message


def test_npm_swc_and_rollup_from_a_mac_are_errors() -> None:
    """Their platform packages hold addons that `require` loads."""
    for spec in ("@swc/core@1.11.24", "rollup@4.40.0"):
        report = linkscope.check([str(npm_function(spec, "darwin", "arm64"))], "nodejs20.x")
        assert errors_of(report) == {"LS613"}, spec


# ------------------------------------------------ Node addons as their packages' loaders pick them
# Each verdict was compared with what Node 20.20.2 here does with `require` on the x64 install.

WORKING = (
    "sharp@0.34.2",
    "@serialport/bindings-cpp@13.0.1",
    "leveldown@6.1.1",
    "classic-level@2.0.0",
    "argon2@0.43.0",
    "bcrypt@6.0.0",
    "lightningcss@1.30.1",
    "@napi-rs/canvas@0.1.70",
    "utf-8-validate@6.0.5",
    "bufferutil@4.0.9",
    "@datadog/pprof@5.20.0",
    "@datadog/native-iast-taint-tracking@4.2.1",
    "deasync@0.1.32",
)


@pytest.mark.parametrize("spec", WORKING)
@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_npm_addons_that_load(spec: str, arch: str) -> None:
    """No error on Node 20 and 22: prebuilds for every Node-API or per-ABI loader layout
    (node-gyp-build 3 and 4, deasync's bin/<platform>-node-<major>), the others spares. deasync
    on arm64 and bufferutil/utf-8-validate on arm64 ship none for linux-arm64: LS613, an error
    for deasync (its install script would compile it), a warning where fallback.js takes over."""
    cpu = {"x86_64": "x64", "arm64": "arm64"}[arch]
    zipped = npm_function(spec, "linux", cpu)
    for runtime in ("nodejs20.x", "nodejs22.x"):
        report = linkscope.check([str(zipped)], runtime, arch)
        want = {"LS613"} if (spec.startswith("deasync") and arch == "arm64") else set()
        assert errors_of(report) == want, (spec, runtime, [f.message for f in report.findings])


def test_npm_classic_addons_read_from_their_struct() -> None:
    """deasync 0.1.15 and fibers 5.0.3 are NODE_MODULE (nan) addons with no version symbol:
    the NODE_MODULE_VERSION comes from their node_module struct, one folder per Node."""
    report = linkscope.check([str(npm_function("deasync@0.1.15", "linux", "x64"))], "nodejs20.x")
    abis = {
        b.path.rsplit("/bin/", 1)[1]: b.origin.abi
        for b in report.binaries
        if "/bin/linux-x64-" in b.path and b.origin is not None
    }
    assert abis["linux-x64-node-8/deasync.node"] == "node-abi-57"
    assert abis["linux-x64-node-10/deasync.node"] == "node-abi-64"
    assert abis["linux-x64-node-4/deasync.node"] == "node-abi-46"
    # no folder for Node 20: `Could not locate the bindings file` on Node 20.20.2 here
    errors = [f for f in report.findings if f.severity.value == "error"]
    assert [(f.rule, f.path.rsplit("!", 1)[-1].rsplit("node_modules/", 1)[1]) for f in errors] == [
        ("LS611", "deasync/package.json")
    ]
    fibers = npm_function("fibers@5.0.3", "linux", "x64")
    assert errors_of(linkscope.check([str(fibers)], "nodejs20.x")) == {"LS611"}  # `Missing binary`
    # uws 10.148.1: uws_linux_57/59/64.node (read 57, 59, 64), none for 115
    uws = linkscope.check([str(npm_function("uws@10.148.1", "linux", "x64"))], "nodejs20.x")
    assert [f.rule for f in uws.findings if f.severity.value == "error"] == ["LS611"]


@pytest.mark.parametrize(
    "spec", ["canvas@3.1.0", "re2@1.22.1", "node-pty@1.0.0", "better-sqlite3@11.10.0"]
)
def test_npm_addon_packages_installed_without_their_build(spec: str) -> None:
    """--ignore-scripts (or pnpm 10) leaves a binding.gyp and no addon: `Cannot find module
    '../build/Release/…'` (better-sqlite3: `Could not locate the bindings file` at the first
    `new Database()`) on Node 20.20.2 here."""
    report = linkscope.check([str(npm_function(spec, "linux", "x64"))], "nodejs20.x")
    assert errors_of(report) == {"LS613"}, [f.message for f in report.findings]


def test_npm_sodium_native_2_tags_match_the_struct() -> None:
    """sodium-native 2.4.9 (nan, prebuildify): `prebuilds/linux-x64/node.abi<N>.node` and
    `electron.abi<N>.node`; the NODE_MODULE_VERSION read from each struct is the one in its
    name. None for Node 20: `No native build was found ... abi=115` on Node 20.20.2 here."""
    zipped = npm_function("sodium-native@2.4.9", "linux", "x64")
    report = linkscope.check([str(zipped)], "nodejs20.x")
    tagged = [b for b in report.binaries if "/prebuilds/linux-x64/" in b.path and ".abi" in b.path]
    assert len(tagged) == 22
    for binary in tagged:
        number = binary.path.rsplit(".abi", 1)[1].removesuffix(".node")
        assert binary.origin is not None and binary.origin.abi == f"node-abi-{number}", binary.path
    assert errors_of(report) == {"LS611"}, [f.message for f in report.findings]


def test_npm_ssh2_without_cpu_features_loads() -> None:
    report = linkscope.check([str(npm_function("ssh2@1.16.0", "linux", "x64"))], "nodejs20.x")
    assert not errors_of(report)
    [finding] = [f for f in report.findings if f.rule == "LS613"]
    assert finding.severity.value == "warning" and "cpu-features" in finding.path


# ------------------------------------------------------------ Python functions as pip builds them


def pip_function(
    tmp: Path, requirement: str, platform: str, python: str, abi: str | None = None
) -> Path:
    """A function zip the way users build one: `pip download` a pinned wheel for a platform and
    Python, `pip install --target` it with a handler beside it, and zip the folder."""
    target = CACHE / f"{platform}-{abi or 'cp' + python.replace('.', '')}"
    abi_flags = ["--abi", abi] if abi else []
    name = requirement.split("==", maxsplit=1)[0].replace("-", "_")
    found = sorted(target.glob(f"{name}-*.whl")) if target.exists() else []
    if not found:
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--only-binary=:all:", "--platform", platform, "--python-version", python,
             "--implementation", "cp", *abi_flags, "--dest", str(target), requirement],
            check=True,
        )  # fmt: skip
        found = sorted(target.glob(f"{name}-*.whl"))
    assert found, f"no wheel for {requirement} on {platform}"
    folder = tmp / "package"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--only-binary=:all:", "--platform", platform, "--python-version", python,
         "--implementation", "cp", *abi_flags, "--target", str(folder), str(found[0])],
        check=True,
    )  # fmt: skip
    (folder / "app.py").write_text("def handler(event, context):\n    return 1\n")
    archive = tmp / "function.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in sorted(folder.rglob("*")):
            zipped.write(path, path.relative_to(folder))
    return archive


def rules(report: linkscope.model.Report, severity: str = "error") -> set[str]:
    return {f.rule for f in report.findings if f.severity.value == severity}


def test_pydantic_core_for_cp313_on_python312_is_ls601(tmp_path: Path) -> None:
    fn = pip_function(tmp_path, "pydantic-core==2.27.2", "manylinux2014_x86_64", "3.13")
    report = linkscope.check([str(fn)], "python3.12")
    assert report.verdict == "incompatible" and rules(report) == {"LS601"}
    [finding] = [f for f in report.findings if f.rule == "LS601"]
    assert "_pydantic_core.cpython-313-x86_64-linux-gnu.so" in finding.path
    assert "No module named 'pydantic_core._pydantic_core'" in finding.message
    assert "pydantic_core 2.27.2" in finding.message
    assert "--python-version 3.12" in finding.fix
    binary = next(b for b in report.binaries if b.path == finding.path)
    assert binary.origin is not None and binary.origin.abi == "cpython-3.13"
    assert linkscope.check([str(fn)], "python3.13").verdict == "compatible"


def test_bcrypt_macos_universal2_is_ls103(tmp_path: Path) -> None:
    fn = pip_function(tmp_path, "bcrypt==4.2.1", "macosx_10_12_universal2", "3.12")
    report = linkscope.check([str(fn)], "python3.12")
    assert rules(report) == {"LS103"}
    [finding] = [f for f in report.findings if f.rule == "LS103"]
    assert finding.path.endswith("bcrypt/_bcrypt.abi3.so") and "macOS" in finding.message
    assert "cp39-abi3-macosx_10_12_universal2" in finding.fix and "pip install" in finding.fix
    inspected = linkscope.inspect([str(fn)])  # once "no ELF files found"
    assert [f.rule for f in inspected.findings] == ["LS103"]


def test_cryptography_manylinux_2_34_on_python311_gets_a_pip_fix(tmp_path: Path) -> None:
    fn = pip_function(tmp_path, "cryptography==44.0.1", "manylinux_2_34_x86_64", "3.11")
    report = linkscope.check([str(fn)], "python3.11")
    assert rules(report) == {"LS301"}
    for finding in (f for f in report.findings if f.rule == "LS301"):
        assert "cryptography 44.0.1 was installed from the wheel" in finding.fix
        assert "--platform manylinux2014_x86_64`" in finding.fix
        assert "--python-platform x86_64-manylinux2014" in finding.fix
        assert "cargo" not in finding.fix and "zig" not in finding.fix
    assert linkscope.check([str(fn)], "python3.12").verdict == "compatible"


@pytest.mark.parametrize(
    ("platform", "arch"), [("manylinux2014_x86_64", "x86_64"), ("manylinux2014_aarch64", "arm64")]
)
@pytest.mark.parametrize("requirement", ["numpy==2.2.6", "pydantic-core==2.27.2"])
def test_right_wheels_for_python312_are_compatible(
    tmp_path: Path, requirement: str, platform: str, arch: str
) -> None:
    """What `sam build` assembles for python3.12 on either architecture: no false errors."""
    fn = pip_function(tmp_path, requirement, platform, "3.12")
    report = linkscope.check([str(fn)], "python3.12", arch)
    assert report.verdict == "compatible", [f.message for f in report.findings]
    assert not rules(report, "warning")
    assert not report.notes


def test_windows_wheels_are_never_imported(tmp_path: Path) -> None:
    fn = pip_function(tmp_path, "pydantic-core==2.27.2", "win_amd64", "3.12")
    report = linkscope.check([str(fn)], "python3.12")
    assert rules(report) == {"LS601"}
    [finding] = [f for f in report.findings if f.rule == "LS601"]
    assert (
        "built for Windows" in finding.message and "--platform manylinux_2_34_x86_64" in finding.fix
    )


def test_free_threaded_msgpack_falls_back(tmp_path: Path) -> None:
    """msgpack's cp314t module is never imported by a GIL build; msgpack.fallback is used."""
    target = tmp_path / "ft"
    target.mkdir()
    fn = pip_function(target, "msgpack==1.2.4", "manylinux_2_28_x86_64", "3.14", abi="cp314t")
    report = linkscope.check([str(fn)], "python3.14")
    assert report.verdict == "compatible"
    [finding] = [f for f in report.findings if f.rule == "LS601"]
    assert finding.severity.value == "warning" and "free-threaded CPython 3.14t" in finding.message
    assert "msgpack.fallback" in finding.message
