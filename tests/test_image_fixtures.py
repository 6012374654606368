"""The committed fixture images (fixtures/images/build.sh: umoci, skopeo and buildah from the
project's fixture binaries) in every format, with the verdict and rules each must get; where
the tools are installed, the recipe is run again and its images must be read the same way."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from image_helpers import validate_layout

from linkscope import api
from linkscope.model import Report

IMAGES = Path(__file__).resolve().parent.parent / "fixtures" / "images"
BUILT = IMAGES / "built"
# name: (verdict, {(rule, severity)}, number of ELF files)
EXPECTED: dict[str, tuple[str, set[tuple[str, str]], int]] = {
    "ok.oci": ("compatible", set(), 1),
    "ok.oci.tar": ("compatible", set(), 1),
    "ok.docker.tar": ("compatible", set(), 1),
    "ok-buildah.docker.tar": ("compatible", set(), 1),
    "ok-zstd.oci": ("compatible", {("LS701", "warning")}, 1),
    "ok-uncompressed.oci": ("compatible", {("LS701", "warning")}, 1),
    "noclient.oci.tar": ("incompatible", {("LS704", "error")}, 1),
    "noexec.oci.tar": ("incompatible", {("LS703", "error")}, 1),
    "noexec.docker.tar": ("incompatible", {("LS703", "error")}, 1),
    "arm64.oci.tar": ("incompatible", {("LS702", "error"), ("LS704", "error")}, 1),
    "noentry.oci.tar": ("incompatible", {("LS703", "error")}, 1),
    "missing.oci.tar": ("incompatible", {("LS703", "error")}, 1),
    "relative.oci.tar": ("compatible", {("LS703", "warning")}, 1),
    "script.oci.tar": ("incompatible", {("LS703", "error")}, 0),
    "glibc.oci.tar": (
        "incompatible",
        {("LS201", "error"), ("LS401", "error"), ("LS704", "error")},
        1,
    ),
    "layers.oci.tar": ("compatible", {("LS705", "warning")}, 3),
    "layers.docker.tar": ("compatible", {("LS705", "warning")}, 3),
}


def summary(report: Report) -> tuple[str, set[tuple[str, str]], int]:
    rules = {(f.rule, f.severity.value) for f in report.findings}
    return str(report.verdict), rules, len(report.binaries)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_image_verdicts(name: str) -> None:
    if name.endswith("zstd.oci"):
        pytest.importorskip("zstandard", reason="zstd layers need the zstandard package")
    assert summary(api.check([str(BUILT / name)])) == EXPECTED[name]


def test_every_built_image_is_expected() -> None:
    assert {p.name for p in BUILT.iterdir() if p.name != "layers.merged.txt"} == set(EXPECTED)


@pytest.mark.parametrize("name", ["layers.oci.tar", "layers.docker.tar"])
def test_merged_tree_is_umocis(name: str) -> None:
    """Whiteouts, an opaque whiteout and a hard link, merged as `umoci unpack` merged them."""
    [package] = api.scan([str(BUILT / name)])
    ours = sorted(e.inner for e in package.entries)
    reference = (BUILT / "layers.merged.txt").read_text().split()
    assert ours == reference


@pytest.mark.parametrize("name", ["ok.oci", "ok-zstd.oci", "ok-uncompressed.oci"])
def test_tool_written_layouts_follow_the_image_spec(name: str) -> None:
    root = BUILT / name
    files = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    assert validate_layout(files) >= 4


TOOLS = all(shutil.which(t) for t in ("umoci", "skopeo", "buildah"))


@pytest.mark.skipif(
    not TOOLS, reason="umoci, skopeo and buildah are not installed (.ci/run installs them)"
)
def test_the_recipe_rebuilds_images_that_read_the_same(tmp_path: Path) -> None:
    out = tmp_path / "built"
    done = subprocess.run(
        ["bash", str(IMAGES / "build.sh"), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for name, expected in sorted(EXPECTED.items()):
        if name.endswith("zstd.oci") and not _has_zstandard():
            continue
        assert summary(api.check([str(out / name)])) == expected, name
    assert (out / "layers.merged.txt").read_text() == (BUILT / "layers.merged.txt").read_text()


def _has_zstandard() -> bool:
    try:
        import zstandard  # noqa: F401
    except ImportError:
        return False
    return True


def test_fixture_layouts_name_one_tag_each() -> None:
    indexes = sorted(BUILT.rglob("index.json"))
    assert len(indexes) == 3
    for index in indexes:
        [entry] = json.loads(index.read_text())["manifests"]
        assert entry["annotations"]["org.opencontainers.image.ref.name"]


def test_missing_loader_and_library_speak_of_the_image() -> None:
    # The image is the system: the message names the image file and the fix is a Dockerfile
    # step, not "ship it in the package's lib/ folder or a layer" (zip advice).
    report = api.check([str(BUILT / "glibc.oci.tar")])
    by_rule = {f.rule: f for f in report.findings}
    ls201, ls401 = by_rule["LS201"], by_rule["LS401"]
    assert "which the image " in ls201.message and "glibc.oci.tar does not have:" in ls201.message
    assert "the runtime's loader" not in ls201.message
    assert "FROM an AWS base image" in ls201.fix and "dnf install" in ls201.fix
    assert "glibc.oci.tar does not have" in ls401.message
    assert "the package does not provide" not in ls401.message
    assert "lib/ folder" not in ls401.fix and "LD_LIBRARY_PATH" in ls401.fix
    assert "COPY " in ls401.fix and "apt-get install" in ls401.fix and "apk add" in ls401.fix
