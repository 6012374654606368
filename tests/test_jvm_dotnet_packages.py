"""Java and .NET functions: JNI libraries inside jars (a zip inside the zip, read in memory),
as Maven-built natives lay them out, and NuGet native assets in runtimes/<rid>/native/ with the
*.deps.json dotnet writes. The copy the runtime picks for the function's architecture is
judged; the others are information."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from check_helpers import TODAY
from eco_helpers import eco, jar
from package_helpers import Item, make_zip

from linkscope import api
from linkscope.inputs import Limits
from linkscope.model import Report, Severity

JNI_X64, JNI_ARM = eco("jni_hello_x86_64.so"), eco("jni_hello_aarch64.so")
JNI_MAC = eco("jni_hello_macos_x86_64.dylib")
NATIVE = "org/example/hello/native"


def java_function(
    tmp_path: Path, members: list[tuple[str, Path | bytes]], jar_name: str = "hello-native-1.0.jar"
) -> Path:
    return make_zip(
        tmp_path / "function.zip",
        [
            Item("com/example/Handler.class", b"\xca\xfe\xba\xbe\x00\x00\x00\x41", 0o644),
            Item(f"lib/{jar_name}", jar(members), 0o644),
        ],
    )


def errors(report: Report) -> set[str]:
    return {f.rule for f in report.findings if f.severity is Severity.ERROR}


def test_jar_natives_are_read_in_memory(tmp_path: Path) -> None:
    zipped = java_function(
        tmp_path,
        [
            (f"{NATIVE}/linux-x86_64/libhello_jni.so", JNI_X64),
            (f"{NATIVE}/linux-aarch64/libhello_jni.so", JNI_ARM),
        ],
    )
    report = api.inspect([str(zipped)])
    paths = sorted(b.path for b in report.binaries)
    assert paths == [
        f"{zipped}!lib/hello-native-1.0.jar!{NATIVE}/linux-aarch64/libhello_jni.so",
        f"{zipped}!lib/hello-native-1.0.jar!{NATIVE}/linux-x86_64/libhello_jni.so",
    ]
    assert {b.machine for b in report.binaries} == {"x86_64", "aarch64"}
    origin = report.binaries[0].origin
    assert origin is not None and (origin.ecosystem, origin.package, origin.version) == (
        "java",
        "hello-native",
        "1.0",
    )


@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_the_copy_for_the_architecture_is_judged(tmp_path: Path, arch: str) -> None:
    zipped = java_function(
        tmp_path,
        [
            (f"{NATIVE}/linux-x86_64/libhello_jni.so", JNI_X64),
            (f"{NATIVE}/linux-aarch64/libhello_jni.so", JNI_ARM),
            (f"{NATIVE}/osx-x86_64/libhello_jni.dylib", JNI_MAC),
        ],
    )
    report = api.check([str(zipped)], "java21", arch, today=TODAY)
    assert report.verdict == "compatible"
    assert {f.severity for f in report.findings if f.rule != "LS501"} <= {Severity.INFO}
    other = [f for f in report.findings if f.rule == "LS101"]
    assert other and "never loaded here" in other[0].message


def test_only_an_x86_64_copy_on_arm64(tmp_path: Path) -> None:
    """leveldbjni-all 1.8 has META-INF/native/linux64 only: UnsatisfiedLinkError on arm64."""
    zipped = java_function(
        tmp_path,
        [
            ("META-INF/native/linux64/libleveldbjni.so", JNI_X64),
            ("META-INF/native/osx/libleveldbjni.jnilib", JNI_MAC),
        ],
        "leveldbjni-all-1.8.jar",
    )
    report = api.check([str(zipped)], "java21", "arm64", today=TODAY)
    assert errors(report) == {"LS101"}
    finding = next(f for f in report.findings if f.rule == "LS101")
    assert "only Linux copy of libleveldbjni" in finding.message
    assert "<classifier>linux-aarch_64</classifier>" in finding.fix
    assert api.check([str(zipped)], "java21", "x86_64", today=TODAY).verdict == "compatible"


def test_netty_classifier_for_the_other_arch_falls_back(tmp_path: Path) -> None:
    zipped = java_function(
        tmp_path,
        [("META-INF/native/libnetty_transport_native_epoll_x86_64.so", JNI_X64)],
        "netty-transport-native-epoll-4.1.96.Final-linux-x86_64.jar",
    )
    report = api.check([str(zipped)], "java21", "arm64", today=TODAY)
    finding = next(f for f in report.findings if f.rule == "LS101")
    assert finding.severity is Severity.WARNING and "pure Java" in finding.message


def test_arm64_folder_holding_x86_64_code(tmp_path: Path) -> None:
    """aws-lambda-java-libs#316: the jar's arm64 copies were x86-64 ELF."""
    zipped = java_function(
        tmp_path,
        [
            ("jni/libaws-lambda-jni.linux-x86_64.so", JNI_X64),
            ("jni/libaws-lambda-jni.linux-aarch_64.so", JNI_X64),
        ],
    )
    report = api.check([str(zipped)], "java21", "arm64", today=TODAY)
    finding = next(f for f in report.findings if f.rule == "LS101" and f.severity is Severity.ERROR)
    assert finding.path.endswith("libaws-lambda-jni.linux-aarch_64.so")


@pytest.mark.skipif(shutil.which("jar") is None, reason="the JDK's jar tool is not installed")
def test_a_jar_built_by_the_jar_tool(tmp_path: Path) -> None:
    tree = tmp_path / "classes" / NATIVE / "linux-x86_64"
    tree.mkdir(parents=True)
    shutil.copy(JNI_X64, tree / "libhello_jni.so")
    built = tmp_path / "hello-native-1.0.jar"
    subprocess.run(["jar", "cf", str(built), "-C", str(tmp_path / "classes"), "."], check=True)
    zipped = make_zip(tmp_path / "function.zip", [Item("lib/hello-native-1.0.jar", built, 0o644)])
    report = api.check([str(zipped)], "java21", "x86_64", today=TODAY)
    assert [b.path.rsplit("!", 1)[1] for b in report.binaries] == [
        f"{NATIVE}/linux-x86_64/libhello_jni.so"
    ]
    assert report.verdict == "compatible"


def test_a_damaged_jar_is_a_finding(tmp_path: Path) -> None:
    zipped = make_zip(
        tmp_path / "function.zip", [Item("lib/broken.jar", b"PK\x03\x04" + b"\0" * 40, 0o644)]
    )
    report = api.check([str(zipped)], "java21", today=TODAY)
    assert any(f.rule == "LS001" and "broken.jar" in f.path for f in report.findings)


# ---------------------------------------------------------------- .NET

DEPS = {
    "runtimeTarget": {"name": ".NETCoreApp,Version=v8.0", "signature": ""},
    "targets": {
        ".NETCoreApp,Version=v8.0": {
            "MyFunction/1.0.0": {
                "dependencies": {"Native.Hello": "2.1.0"},
                "runtime": {"MyFunction.dll": {}},
            },
            "Native.Hello/2.1.0": {
                "runtime": {"lib/net8.0/Native.Hello.dll": {"assemblyVersion": "2.1.0.0"}},
                "runtimeTargets": {
                    f"runtimes/{rid}/native/{name}": {
                        "rid": rid,
                        "assetType": "native",
                        "fileVersion": "0.0.0.0",
                    }
                    for rid, name in (
                        ("linux-x64", "libnative.so"),
                        ("linux-arm64", "libnative.so"),
                        ("osx-x64", "libnative.dylib"),
                        ("win-x64", "native.dll"),
                    )
                },
            },
        }
    },
    "libraries": {
        "Native.Hello/2.1.0": {
            "type": "package",
            "serviceable": True,
            "sha512": "sha512-",
            "path": "native.hello/2.1.0",
        }
    },
}


def dotnet_function(tmp_path: Path, rids: tuple[str, ...]) -> Path:
    files = {
        "linux-x64": ("libnative.so", eco("dotnet_native_x86_64.so")),
        "linux-arm64": ("libnative.so", eco("dotnet_native_aarch64.so")),
        "osx-x64": ("libnative.dylib", eco("dotnet_native_macos_x86_64.dylib")),
        "win-x64": ("native.dll", eco("dotnet_native_x86_64.dll")),
    }
    items = [
        Item("MyFunction.dll", b"MZ\x90\x00", 0o644),
        Item("MyFunction.deps.json", json.dumps(DEPS, indent=2).encode(), 0o644),
        Item("MyFunction.runtimeconfig.json", b'{"runtimeOptions": {"tfm": "net8.0"}}', 0o644),
    ]
    items += [Item(f"runtimes/{rid}/native/{files[rid][0]}", files[rid][1], 0o644) for rid in rids]
    return make_zip(tmp_path / "function.zip", items)


@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_dotnet_rids(tmp_path: Path, arch: str) -> None:
    zipped = dotnet_function(tmp_path, ("linux-x64", "linux-arm64", "osx-x64", "win-x64"))
    report = api.check([str(zipped)], "dotnet8", arch, today=TODAY)
    assert report.verdict == "compatible", [
        (f.rule, f.severity.value, f.message) for f in report.findings
    ]
    assert not [f for f in report.findings if f.severity is not Severity.INFO and f.rule != "LS501"]
    binary = next(b for b in report.binaries if "linux-x64" in b.path)
    assert binary.origin is not None
    assert (binary.origin.package, binary.origin.version, binary.origin.tag) == (
        "Native.Hello",
        "2.1.0",
        "linux-x64",
    )


def test_dotnet_without_the_rid_for_the_architecture(tmp_path: Path) -> None:
    zipped = dotnet_function(tmp_path, ("linux-x64", "osx-x64"))
    report = api.check([str(zipped)], "dotnet8", "arm64", today=TODAY)
    assert errors(report) == {"LS101"}
    finding = next(f for f in report.findings if f.rule == "LS101")
    assert "DllNotFoundException" in finding.message
    assert "dotnet publish -c Release -r linux-arm64" in finding.fix


def test_jar_members_are_bounded(tmp_path: Path) -> None:
    """A jar member over the ratio limit (2 MiB of zeros, about 1000:1, against a limit of
    200:1) is a zip-bomb problem (LS001), read no further; the jar's other members are still
    judged."""
    zipped = java_function(
        tmp_path,
        [
            (f"{NATIVE}/linux-x86_64/libbomb.so", b"\0" * (2 << 20)),
            (f"{NATIVE}/linux-x86_64/libhello_jni.so", JNI_X64),
        ],
    )
    report = api.check([str(zipped)], "java21", today=TODAY, limits=Limits(max_ratio=200))
    bomb = next(f for f in report.findings if f.path.endswith("libbomb.so"))
    assert bomb.rule == "LS001" and "zip bomb" in bomb.message
    assert any(b.path.endswith("libhello_jni.so") for b in report.binaries)


def test_a_jar_inside_a_jar(tmp_path: Path) -> None:
    """Spring Boot's BOOT-INF/lib/*.jar: one level of nesting inside the function's jar."""
    inner = jar([(f"{NATIVE}/linux-x86_64/libhello_jni.so", JNI_X64)])
    outer = jar([("BOOT-INF/lib/hello-native-1.0.jar", inner)])
    zipped = make_zip(tmp_path / "function.zip", [Item("lib/app-1.0.jar", outer, 0o644)])
    report = api.inspect([str(zipped)])
    assert [b.path for b in report.binaries] == [
        f"{zipped}!lib/app-1.0.jar!BOOT-INF/lib/hello-native-1.0.jar!{NATIVE}/linux-x86_64/libhello_jni.so"
    ]
