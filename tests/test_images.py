"""Container images: every format read the same way, layers merged as the image spec says, the
image checked against itself, and Lambda's image rules (LS701-LS705). Images are written by
tests/image_helpers.py from the project's fixture binaries (and, where present, the host's own
glibc, so that dynamic programs have a real loader and C library in the image)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from image_helpers import (
    Blobs,
    Image,
    add_image,
    attestation_index,
    docker_save_25,
    docker_save_classic,
    layout_files,
    multi_platform_index,
    validate_layout,
    write_folder,
    write_tar,
)

from linkscope import api
from linkscope.cli import main
from linkscope.model import Report, Severity

BIN = Path(__file__).resolve().parent.parent / "fixtures" / "bin"
CLIENT = (BIN / "c_bootstrap_zig_musl_static_x86_64").read_bytes()  # static, Runtime API loop
HELLO = (BIN / "c_hello_zig_musl_static_x86_64").read_bytes()  # static, no client
HELLO_ARM = (BIN / "c_hello_zig_musl_static_aarch64").read_bytes()
USELIB = (BIN / "c_uselib_gcc_x86_64").read_bytes()  # needs libdemo.so.1 (RUNPATH $ORIGIN/lib)
LIBDEMO = (BIN / "lib" / "libdemo.so.1").read_bytes()
STRLCPY = (BIN / "c_strlcpy_zig_glibc2.38_x86_64").read_bytes()  # needs GLIBC_2.38
SCRIPT = (BIN / "bootstrap.sh").read_bytes()
HOST_LIBC = Path("/lib/x86_64-linux-gnu/libc.so.6")
HOST_LOADER = Path("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")
needs_host_glibc = pytest.mark.skipif(
    not (HOST_LIBC.is_file() and HOST_LOADER.is_file()),
    reason="needs an x86_64 Debian-style host glibc to put into the test image",
)

Writer = Callable[[Path, Image], Path]


def bootstrap_layer(data: bytes = CLIENT, mode: int = 0o755) -> list[tuple[object, ...]]:
    return [
        ("dir", "var", 0o755),
        ("dir", "var/task", 0o755),
        ("file", "var/task/bootstrap", data, mode),
    ]


def glibc_layer() -> list[tuple[object, ...]]:
    """The host's glibc where Debian keeps it, and the loader link where ELF files ask for it."""
    return [
        ("dir", "lib", 0o755),
        ("dir", "lib/x86_64-linux-gnu", 0o755),
        ("file", "lib/x86_64-linux-gnu/libc.so.6", HOST_LIBC.read_bytes(), 0o755),
        ("file", "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", HOST_LOADER.read_bytes(), 0o755),
        ("dir", "lib64", 0o755),
        ("symlink", "lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
    ]


def uselib_layer() -> list[tuple[object, ...]]:
    return [
        ("file", "var/task/uselib", USELIB, 0o755),
        ("dir", "var/task/lib", 0o755),
        ("file", "var/task/lib/libdemo.so.1", LIBDEMO, 0o755),
        ("dir", "opt/extensions", 0o755),
        ("file", "opt/extensions/lambda-adapter", CLIENT, 0o755),  # something that speaks the API
    ]


def oci_layout(root: Path, image: Image) -> Path:
    blobs = Blobs()
    files = layout_files(blobs, add_image(blobs, image))
    assert validate_layout(files) >= 4
    return write_folder(root / "layout", files)


def oci_archive(root: Path, image: Image) -> Path:
    blobs = Blobs()
    return write_tar(root / "oci.tar", layout_files(blobs, add_image(blobs, image)))


def docker_classic(root: Path, image: Image) -> Path:
    return docker_save_classic(root / "save.tar", image)


def docker_linked(root: Path, image: Image) -> Path:
    return docker_save_classic(root / "skopeo-save.tar", image, linked=True)


def docker_25(root: Path, image: Image) -> Path:
    return docker_save_25(root / "save25.tar", image)


WRITERS: dict[str, Writer] = {
    "oci-layout": oci_layout,
    "oci-archive": oci_archive,
    "docker-save": docker_classic,
    "docker-save-linked": docker_linked,
    "docker-save-25": docker_25,
}


def check(path: Path, arch: str = "x86_64") -> Report:
    return api.check([str(path)], arch=arch)


def rules(report: Report, severity: Severity | None = None) -> set[str]:
    return {f.rule for f in report.findings if severity is None or f.severity is severity}


# ---------------------------------------------------------------- formats


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_every_format_reads_the_same_merged_image(tmp_path: Path, fmt: str) -> None:
    image = Image(layers=[bootstrap_layer()], entrypoint=["/var/task/bootstrap"])
    report = check(WRITERS[fmt](tmp_path, image))
    assert report.verdict == "compatible", report.findings
    assert report.runtime is not None and report.runtime.name == "image"
    [binary] = report.binaries
    assert binary.path.endswith("!/var/task/bootstrap")
    assert binary.runtime_client is not None


@pytest.mark.parametrize("compression", ["tar", "gzip", "zstd"])
def test_layer_compressions(tmp_path: Path, compression: str) -> None:
    if compression == "zstd":
        pytest.importorskip("zstandard", reason="zstd layers need the zstandard package")
    image = Image(
        layers=[bootstrap_layer(), [("file", "var/task/data.txt", b"x" * 100_000, 0o644)]],
        entrypoint=["/var/task/bootstrap"],
        compression=compression,
    )
    report = check(oci_archive(tmp_path, image))
    assert rules(report, Severity.ERROR) == set()
    undocumented = {"tar", "zstd"}  # Lambda documents no layer types; users report gzip works
    assert ("LS701" in rules(report, Severity.WARNING)) is (compression in undocumented)


@needs_host_glibc
@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_dynamic_program_resolves_against_the_images_glibc(tmp_path: Path, fmt: str) -> None:
    image = Image(layers=[glibc_layer(), uselib_layer()], entrypoint=["/var/task/uselib"])
    report = check(WRITERS[fmt](tmp_path, image))
    assert report.verdict == "compatible", [f.message for f in report.findings]


# ---------------------------------------------------------------- layers applied in order


@needs_host_glibc
def test_a_library_deleted_by_a_later_layer_is_missing(tmp_path: Path) -> None:
    deleted = [("whiteout", "var/task/lib/libdemo.so.1")]
    image = Image(layers=[glibc_layer(), uselib_layer(), deleted], entrypoint=["/var/task/uselib"])
    report = check(oci_layout(tmp_path, image))
    missing = [f for f in report.findings if f.rule == "LS401"]
    assert [f.library for f in missing] == ["libdemo.so.1"]
    assert missing[0].path.endswith("!/var/task/uselib")
    assert report.verdict == "incompatible"


@needs_host_glibc
def test_an_opaque_whiteout_hides_the_lower_folder_but_not_its_own_files(tmp_path: Path) -> None:
    replaced = [("opaque", "var/task/lib"), ("file", "var/task/lib/other.so", b"x", 0o644)]
    image = Image(layers=[glibc_layer(), uselib_layer(), replaced], entrypoint=["/var/task/uselib"])
    report = check(docker_classic(tmp_path, image))
    assert [f.library for f in report.findings if f.rule == "LS401"] == ["libdemo.so.1"]
    entries = {b.path.rsplit("!", 1)[1] for b in report.binaries}
    assert "/var/task/lib/libdemo.so.1" not in entries


@needs_host_glibc
def test_a_whiteout_does_not_hide_a_file_of_its_own_layer(tmp_path: Path) -> None:
    layer = [*uselib_layer(), ("whiteout", "var/task/lib/libdemo.so.1")]
    image = Image(layers=[glibc_layer(), layer], entrypoint=["/var/task/uselib"])
    assert check(oci_archive(tmp_path, image)).verdict == "compatible"


@needs_host_glibc
def test_hard_links_and_symlinks_across_layers(tmp_path: Path) -> None:
    first = [*uselib_layer()[:2], ("dir", "var/task/lib", 0o755)]
    first += [("file", "var/task/lib/libdemo.so.1.0", LIBDEMO, 0o755)]
    first += [("hardlink", "var/task/lib/libdemo.hard", "var/task/lib/libdemo.so.1.0")]
    second: list[tuple[object, ...]] = [("symlink", "var/task/lib/libdemo.so.1", "libdemo.hard")]
    second += uselib_layer()[3:]
    image = Image(layers=[glibc_layer(), first, second], entrypoint=["/var/task/uselib"])
    report = check(docker_linked(tmp_path, image))
    assert report.verdict == "compatible", [f.message for f in report.findings]


@needs_host_glibc
def test_glibc_symbols_newer_than_the_images_glibc(tmp_path: Path) -> None:
    layer: list[tuple[object, ...]] = [("dir", "var/task", 0o755)]
    layer += [("file", "var/task/strlcpy", STRLCPY, 0o755), *uselib_layer()[3:]]
    image = Image(layers=[glibc_layer(), layer], entrypoint=["/var/task/strlcpy"])
    report = check(oci_layout(tmp_path, image))
    [finding] = [f for f in report.findings if f.rule == "LS301"]
    assert finding.version == "GLIBC_2.38" and "strlcpy" in finding.symbols
    assert finding.severity is Severity.ERROR


def test_a_glibc_program_in_an_image_without_glibc(tmp_path: Path) -> None:
    layer = [("dir", "var/task", 0o755), ("file", "var/task/uselib", USELIB, 0o755)]
    image = Image(layers=[layer], entrypoint=["/var/task/uselib"])
    report = check(oci_archive(tmp_path, image))
    assert {"LS201", "LS401"} <= rules(report, Severity.ERROR)


# ---------------------------------------------------------------- LS701 manifests


def test_buildx_attestation_index_is_refused_with_the_buildx_fix(tmp_path: Path) -> None:
    blobs = Blobs()
    manifest = add_image(
        blobs, Image(layers=[bootstrap_layer()], entrypoint=["/var/task/bootstrap"])
    )
    files = layout_files(blobs, attestation_index(blobs, manifest))
    assert validate_layout(files) >= 6
    report = check(write_tar(tmp_path / "buildx.tar", files))
    [finding] = [f for f in report.findings if f.rule == "LS701"]
    assert finding.severity is Severity.ERROR
    assert "attestation" in finding.message and "--provenance=false --sbom=false" in finding.fix
    assert len(report.binaries) == 1  # the image itself is still read and checked


def test_multi_platform_index_picks_the_functions_architecture(tmp_path: Path) -> None:
    blobs = Blobs()
    amd = add_image(blobs, Image(layers=[bootstrap_layer()], entrypoint=["/var/task/bootstrap"]))
    arm = add_image(
        blobs,
        Image(
            layers=[bootstrap_layer(HELLO_ARM)], entrypoint=["/var/task/bootstrap"], arch="arm64"
        ),
    )
    files = layout_files(blobs, multi_platform_index(blobs, [amd, arm]))
    assert validate_layout(files) >= 6
    path = write_folder(tmp_path / "multi", files)
    for arch, machine in (("x86_64", "x86_64"), ("arm64", "aarch64")):
        report = check(path, arch)
        assert [b.machine for b in report.binaries] == [machine]
        assert "LS701" in rules(report, Severity.ERROR)
        assert "LS702" not in rules(report)


def test_docker_25_save_falls_back_to_manifest_json_when_a_blob_is_missing(tmp_path: Path) -> None:
    image = Image(layers=[bootstrap_layer()], entrypoint=["/var/task/bootstrap"])
    blobs = Blobs()
    manifest_digest = add_image(blobs, replace(image, compression="tar"))["digest"]
    path = docker_save_25(tmp_path / "s.tar", image, drop_blob=manifest_digest)
    assert check(path).verdict == "compatible"


# ---------------------------------------------------------------- LS702 architecture


def test_an_arm64_image_for_an_x86_64_function(tmp_path: Path) -> None:
    image = Image(
        layers=[bootstrap_layer(HELLO_ARM)], entrypoint=["/var/task/bootstrap"], arch="arm64"
    )
    report = check(oci_archive(tmp_path, image), "x86_64")
    [finding] = [f for f in report.findings if f.rule == "LS702"]
    assert finding.severity is Severity.ERROR and "exec format error" in finding.message
    assert "LS101" not in rules(report)  # one image-level answer, not one per file


def test_the_entrypoints_machine_decides_when_the_config_lies(tmp_path: Path) -> None:
    image = Image(layers=[bootstrap_layer()], entrypoint=["/var/task/bootstrap"], arch="arm64")
    path = oci_archive(tmp_path, image)
    on_arm = [f for f in check(path, "arm64").findings if f.rule == "LS702"]
    assert on_arm and on_arm[0].severity is Severity.ERROR and "x86_64" in on_arm[0].message
    on_x86 = [f for f in check(path, "x86_64").findings if f.rule == "LS702"]
    assert [f.severity for f in on_x86] == [Severity.WARNING]  # the config is wrong, not the ELF


# ---------------------------------------------------------------- LS703 entrypoint


@pytest.mark.parametrize(
    ("entrypoint", "mode", "expected"),
    [
        (None, 0o755, "no ENTRYPOINT and no CMD"),
        (["/var/task/missing"], 0o755, "not in the image"),
        (["/var/task/bootstrap"], 0o750, "needs the execute bit for others"),
        (["./buz"], 0o755, "not in the image"),
    ],
)
def test_entrypoints_lambda_cannot_start(
    tmp_path: Path, entrypoint: list[str] | None, mode: int, expected: str
) -> None:
    image = Image(layers=[bootstrap_layer(mode=mode)], entrypoint=entrypoint)
    report = check(docker_classic(tmp_path, image))
    errors = [f for f in report.findings if f.rule == "LS703" and f.severity is Severity.ERROR]
    assert errors and expected in errors[0].message, report.findings


def test_a_relative_entrypoint_found_on_path_is_a_warning(tmp_path: Path) -> None:
    image = Image(layers=[bootstrap_layer()], cmd=["bootstrap"], env=["PATH=/usr/bin:/var/task"])
    report = check(oci_layout(tmp_path, image))
    assert [(f.rule, f.severity) for f in report.findings] == [("LS703", Severity.WARNING)]


def test_a_script_entrypoint_needs_its_interpreter(tmp_path: Path) -> None:
    image = Image(layers=[bootstrap_layer(SCRIPT)], entrypoint=["/var/task/bootstrap"])
    report = check(oci_archive(tmp_path, image))
    [finding] = [f for f in report.findings if f.rule == "LS703"]
    assert "/bin/sh" in finding.message and "not in the image" in finding.message
    assert "LS704" not in rules(report)  # the script calls the Runtime API itself (curl)


def test_aws_base_image_entrypoint_needs_a_handler(tmp_path: Path) -> None:
    layer = [("file", "lambda-entrypoint.sh", b"#!/bin/sh\nexec /var/runtime/bootstrap\n", 0o755)]
    layer += [("file", "bin/sh", HELLO, 0o755), ("file", "var/runtime/bootstrap", CLIENT, 0o755)]
    image = Image(layers=[layer], entrypoint=["/lambda-entrypoint.sh"])
    report = check(oci_archive(tmp_path, image))
    assert any("handler" in f.message for f in report.findings if f.rule == "LS703")
    with_cmd = check(oci_archive(tmp_path, replace(image, cmd=["app.handler"])))
    assert with_cmd.verdict == "compatible", with_cmd.findings


# ---------------------------------------------------------------- LS704 client, LS705 limits


def test_an_image_without_a_runtime_interface_client(tmp_path: Path) -> None:
    image = Image(layers=[bootstrap_layer(HELLO)], entrypoint=["/var/task/bootstrap"])
    report = check(oci_archive(tmp_path, image))
    [finding] = [f for f in report.findings if f.rule == "LS704"]
    assert finding.severity is Severity.ERROR and "awslambdaric" in finding.fix
    adapter = [
        ("dir", "opt/extensions", 0o755),
        ("file", "opt/extensions/lambda-adapter", CLIENT, 0o755),
    ]
    with_adapter = replace(image, layers=[bootstrap_layer(HELLO), adapter])
    assert "LS704" not in rules(check(oci_archive(tmp_path, with_adapter)))


def test_python_entrypoint_without_awslambdaric(tmp_path: Path) -> None:
    layer = [("file", "usr/bin/python3", HELLO, 0o755)]
    image = Image(
        layers=[layer], entrypoint=["/usr/bin/python3", "-m", "awslambdaric"], cmd=["app.handler"]
    )
    report = check(oci_archive(tmp_path, image))
    [finding] = [f for f in report.findings if f.rule == "LS704"]
    assert "awslambdaric is not installed" in finding.message
    ric = [("file", "usr/lib/python3/dist-packages/awslambdaric/__init__.py", b"", 0o644)]
    assert "LS704" not in rules(check(oci_archive(tmp_path, replace(image, layers=[layer, ric]))))


def test_content_under_tmp_is_a_warning(tmp_path: Path) -> None:
    tmp = [("dir", "tmp", 0o1777), ("file", "tmp/cache.db", b"data", 0o644)]
    image = Image(layers=[bootstrap_layer(), tmp], entrypoint=["/var/task/bootstrap"])
    report = check(oci_archive(tmp_path, image))
    assert [(f.rule, f.severity) for f in report.findings] == [("LS705", Severity.WARNING)]


def test_an_image_over_10_gb(tmp_path: Path) -> None:
    from linkscope.model import ImageLayer
    from linkscope.profiles import load_target
    from linkscope.resolve.image import build_image_world, image_target
    from linkscope.rules import Context
    from linkscope.rules.image import check_limits

    image = Image(layers=[bootstrap_layer()], entrypoint=["/var/task/bootstrap"])
    [package] = api.scan([str(oci_archive(tmp_path, image))])
    assert package.image is not None
    big = ImageLayer(
        digest="sha256:0", media_type=None, compression="gzip", size=1, uncompressed_size=11 << 30
    )
    package = replace(package, image=replace(package.image, layers=(big,)))
    world = build_image_world(package, image_target(package, load_target()))
    import datetime

    [finding] = check_limits(world, Context(today=datetime.date(2026, 1, 1)))
    assert finding.rule == "LS705" and "11.0 GB" in finding.message


# ---------------------------------------------------------------- LS003


def test_function_files_a_non_root_user_cannot_read(tmp_path: Path) -> None:
    layer = [*bootstrap_layer(), ("file", "var/task/app.py", b"print(1)\n", 0o600)]
    layer += [("file", "etc/shadow", b"root:*:1::::::\n", 0o640)]  # the base image's business
    image = Image(layers=[layer], entrypoint=["/var/task/bootstrap"])
    report = check(oci_archive(tmp_path, image))
    [finding] = [f for f in report.findings if f.rule == "LS003"]
    assert "app.py" in finding.message and "shadow" not in finding.message


# ---------------------------------------------------------------- the command line


def test_cli_commands_take_an_image(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = Image(layers=[bootstrap_layer(HELLO)], entrypoint=["/var/task/bootstrap"])
    path = str(oci_archive(tmp_path, image))
    assert main(["inspect", path, "--format", "json"]) == 0
    [binary] = json.loads(capsys.readouterr().out)["binaries"]
    assert binary["path"] == f"{path}!/var/task/bootstrap"
    assert main(["tree", path]) == 1  # no client: tree exits as check does
    assert "bootstrap" in capsys.readouterr().out
    assert main(["check", path, "--format", "sarif"]) == 1
    sarif = json.loads(capsys.readouterr().out)
    uris = {
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for result in sarif["runs"][0]["results"]
        for loc in result["locations"]
    }
    assert any(uri.endswith("oci.tar") for uri in uris), uris
    assert main(["matrix", path, "--format", "json"]) == 1
    rows = json.loads(capsys.readouterr().out)["matrix"]
    assert [(r["runtime"], r["arch"]) for r in rows] == [("image", "x86_64"), ("image", "arm64")]
    assert main(["explain", path]) == 0
    explained = capsys.readouterr().out
    assert "image:" in explained and "Does not start: LS704" in explained
    assert main(["check", path, "--layer", path]) == 2
    assert "not supported for functions created with container images" in capsys.readouterr().err


# ---------------------------------------------------------------- hostile images


def _hostile(tmp_path: Path, mutate: Callable[[dict[str, bytes]], None]) -> tuple[int, str]:
    blobs = Blobs()
    image = Image(layers=[bootstrap_layer()], entrypoint=["/var/task/bootstrap"])
    files = layout_files(blobs, add_image(blobs, image))
    mutate(files)
    path = write_tar(tmp_path / "hostile.tar", files)
    code = main(["check", str(path)])
    return code, ""


def _layer_name(files: dict[str, bytes]) -> str:
    return max((n for n in files if n.startswith("blobs/")), key=lambda n: len(files[n]))


@pytest.mark.parametrize(
    "mutate",
    [
        lambda f: f.__setitem__(_layer_name(f), b"not a tar at all" * 100),
        lambda f: f.__setitem__(_layer_name(f), f[_layer_name(f)][:-200]),
        lambda f: f.__setitem__("index.json", b"{not json"),
        lambda f: f.__setitem__("index.json", b'{"manifests": [{"digest": "sha256:../../x"}]}'),
        lambda f: f.pop(_layer_name(f)),
        lambda f: f.__setitem__("oci-layout", b"[]"),
    ],
    ids=[
        "layer-not-a-tar",
        "truncated-layer",
        "index-not-json",
        "digest-escapes",
        "missing-blob",
        "bad-layout",
    ],
)
def test_hostile_images_are_input_errors(
    tmp_path: Path, mutate: Callable[[dict[str, bytes]], None], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = _hostile(tmp_path, mutate)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("linkscope: error:")


def test_a_digest_that_does_not_match(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import gzip

    def swap(files: dict[str, bytes]) -> None:
        name = _layer_name(files)
        files[name] = gzip.compress(gzip.decompress(files[name]) + b"\0" * 1024, mtime=0)

    code, _ = _hostile(tmp_path, swap)
    assert code == 2 and "does not match its digest" in capsys.readouterr().err


def test_a_path_escaping_the_root(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = Image(layers=[[("file", "../../etc/evil", b"x", 0o644)]], entrypoint=["/x"])
    assert main(["check", str(docker_classic(tmp_path, image))]) == 2
    assert "climbs out of the image root" in capsys.readouterr().err


def test_a_decompression_bomb_stops_at_the_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bomb = [("file", "var/task/zeros", b"\0" * (8 << 20), 0o644)]
    image = Image(layers=[bootstrap_layer(), bomb], entrypoint=["/var/task/bootstrap"])
    path = oci_archive(tmp_path, image)
    from linkscope.errors import LimitExceededError
    from linkscope.inputs import Limits

    with pytest.raises(LimitExceededError, match="decompression bomb"):
        api.scan([str(path)], Limits(max_image_bytes=4 << 20))


def test_a_tar_that_is_not_an_image(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_tar(tmp_path / "plain.tar", {"hello.txt": b"hi"})
    assert main(["check", str(path)]) == 2
    assert "not a container image" in capsys.readouterr().err


def test_a_compressed_image_tarball(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import gzip

    image = Image(layers=[bootstrap_layer()], entrypoint=["/var/task/bootstrap"])
    plain = docker_classic(tmp_path, image)
    packed = tmp_path / "image.tar.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert main(["check", str(packed)]) == 2
    assert "decompress it first" in capsys.readouterr().err


def test_member_bytes_are_read_on_demand(tmp_path: Path) -> None:
    """A 64 MB file in a gzip layer never sits whole in memory while the image is listed."""
    import tracemalloc

    big = [("file", "var/task/model.bin", os.urandom(1 << 20) * 64, 0o644)]
    image = Image(layers=[bootstrap_layer(), big], entrypoint=["/var/task/bootstrap"])
    path = oci_archive(tmp_path, image)
    tracemalloc.start()
    report = check(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert report.verdict == "compatible"
    assert peak < 32 << 20, peak


@needs_host_glibc
def test_a_base_image_tool_that_nothing_starts_is_a_warning(tmp_path: Path) -> None:
    """A program of the image that the entrypoint never runs (a base image's dpkg-deb) with a
    missing library is a warning; the same problem in what Lambda starts is an error."""
    tool = [("dir", "usr/bin", 0o755), ("file", "usr/bin/tool", USELIB, 0o755)]
    image = Image(layers=[glibc_layer(), uselib_layer(), tool], entrypoint=["/var/task/uselib"])
    report = check(oci_archive(tmp_path, image))
    [finding] = [f for f in report.findings if f.rule == "LS401"]
    assert finding.path.endswith("!/usr/bin/tool") and finding.severity is Severity.WARNING
    assert report.verdict == "compatible"
    started = check(oci_archive(tmp_path, replace(image, entrypoint=["/usr/bin/tool"])))
    assert [f.severity for f in started.findings if f.rule == "LS401"] == [Severity.ERROR]
