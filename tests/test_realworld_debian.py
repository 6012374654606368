"""Opt-in real-world tier: Debian 12 programs and libraries, and sharp's Node.js addon, checked
against the AL2023 and AL2 profiles on both architectures (issue 11).

Run with `LINKSCOPE_REALWORLD=1 python -m pytest -m realworld`. The packages are downloaded once
(`apt-get download`, `npm pack`) into `$LINKSCOPE_REALWORLD_CACHE` (default
`~/.cache/linkscope-realworld`) and unpacked into a temporary folder: nothing third-party is
committed. arm64 .debs need `dpkg --add-architecture arm64 && apt-get update`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from linkscope import api
from linkscope.model import Finding, Report, Severity

pytestmark = [
    pytest.mark.realworld,
    pytest.mark.skipif(
        os.environ.get("LINKSCOPE_REALWORLD") != "1",
        reason="downloads from Debian and npm: set LINKSCOPE_REALWORLD=1 to run this tier",
    ),
]

CACHE = Path(
    os.environ.get("LINKSCOPE_REALWORLD_CACHE", Path.home() / ".cache/linkscope-realworld")
)
ARCHES = [("amd64", "x86_64"), ("arm64", "arm64")]


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (this tier needs a Debian host with npm)")
    return path


def deb(package: str, arch: str, into: Path) -> Path:
    """`package` for Debian `arch`, downloaded once and unpacked into `into`."""
    cache = CACHE / "debian" / arch
    found = sorted(cache.glob(f"{package}_*_{arch}.deb")) if cache.exists() else []
    if not found:
        cache.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [_tool("apt-get"), "download", "-qq", f"{package}:{arch}"],
            cwd=cache, capture_output=True, text=True, check=False,
        )  # fmt: skip
        found = sorted(cache.glob(f"{package}_*_{arch}.deb"))
        if done.returncode != 0 or not found:
            pytest.skip(f"apt-get download {package}:{arch} failed: {done.stderr.strip()[:200]}")
    target = into / f"{package}-{arch}"
    subprocess.run([_tool("dpkg-deb"), "-x", str(found[0]), str(target)], check=True)
    return target


def one(root: Path, pattern: str) -> Path:
    matches = sorted(root.glob(pattern))
    assert matches, f"{root} has no {pattern}"
    return matches[0]


def function(tmp_path: Path, name: str, bootstrap: Path, libraries: list[Path]) -> Path:
    """A function folder: `bootstrap` and lib/ with each library under its own name."""
    folder = tmp_path / name
    (folder / "lib").mkdir(parents=True)
    shutil.copy(bootstrap, folder / "bootstrap")
    for library in libraries:
        shutil.copy(library, folder / "lib" / library.name)
    return folder


def check(path: Path, runtime: str, arch: str) -> Report:
    return api.check([str(path)], runtime, arch)


def errors(report: Report, rule: str) -> list[Finding]:
    return [f for f in report.findings if f.rule == rule and f.severity is Severity.ERROR]


@pytest.mark.parametrize(("debian", "arch"), ARCHES)
def test_debian_openssl(tmp_path: Path, debian: str, arch: str) -> None:
    """Debian's openssl needs OPENSSL_3.0.9: AL2023's OpenSSL 3.5 has it; AL2 has no OpenSSL 3."""
    openssl = one(deb("openssl", debian, tmp_path), "usr/bin/openssl")
    report = check(openssl, "provided.al2023", arch)
    assert report.verdict == "compatible", report.findings
    al2 = {f.library for f in errors(check(openssl, "provided.al2", arch), "LS401")}
    assert {"libssl.so.3", "libcrypto.so.3"} <= al2  # known absent on AL2, both architectures


@pytest.mark.parametrize(("debian", "arch"), ARCHES)
def test_debian_psql_and_libpq(tmp_path: Path, debian: str, arch: str) -> None:
    psql = one(deb("postgresql-client-15", debian, tmp_path), "usr/lib/postgresql/*/bin/psql")
    alone = check(psql, "provided.al2023", arch)
    assert [f.library for f in errors(alone, "LS401")] == ["libpq.so.5"]
    libpq = one(deb("libpq5", debian, tmp_path), "usr/lib/*/libpq.so.5.*")
    shutil.copy(libpq, tmp_path / "libpq.so.5")
    folder = function(tmp_path, f"psql-{arch}", psql, [tmp_path / "libpq.so.5"])
    bundled = check(folder, "provided.al2023", arch)
    assert {f.library for f in errors(bundled, "LS401")} == {"libldap-2.5.so.0"}
    assert bundled.verdict == "incompatible"


@pytest.mark.parametrize(("debian", "arch"), ARCHES)
def test_debian_curl_uses_the_runtimes_libcurl(tmp_path: Path, debian: str, arch: str) -> None:
    curl = one(deb("curl", debian, tmp_path), "usr/bin/curl")
    assert check(curl, "provided.al2023", arch).verdict == "compatible"
    if arch == "x86_64":
        assert "libcurl.so.4" in {
            f.library for f in errors(check(curl, "provided.al2", arch), "LS401")
        }


@pytest.mark.parametrize(("debian", "arch"), ARCHES)
def test_debian_libvips_needs_what_al2023_lacks(tmp_path: Path, debian: str, arch: str) -> None:
    vips = one(deb("libvips42", debian, tmp_path), "usr/lib/*/libvips.so.42.*")
    missing = {f.library for f in errors(check(vips, "nodejs22.x", arch), "LS401")}
    assert {"libexpat.so.1", "libjpeg.so.62", "libpng16.so.16"} <= missing
    assert not missing & {"libglib-2.0.so.0", "libz.so.1", "libstdc++.so.6"}  # AL2023 has these


def npm_package(spec: str, into: Path) -> Path:
    cache = CACHE / "npm"
    name = spec.rsplit("@", 1)[0].lstrip("@").replace("/", "-")
    found = sorted(cache.glob(f"{name}-*.tgz")) if cache.exists() else []
    if not found:
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [_tool("npm"), "pack", "--silent", spec], cwd=cache, check=True, capture_output=True
        )
        found = sorted(cache.glob(f"{name}-*.tgz"))
    target = into / "node_modules" / spec.rsplit("@", 1)[0]
    target.mkdir(parents=True)
    with tarfile.open(found[0]) as archive:
        for member in archive.getmembers():
            if member.isfile() and member.name.startswith("package/"):
                member.name = member.name.removeprefix("package/")
                archive.extract(member, target, filter="data")
    return target


@pytest.mark.parametrize(("npm", "arch"), [("x64", "x86_64"), ("arm64", "arm64")])
def test_sharp_addon_without_its_libvips_package(tmp_path: Path, npm: str, arch: str) -> None:
    """sharp's addon needs libvips-cpp.so.8.18.7 from @img/sharp-libvips-*: without that package
    it cannot start (LS401, not a warning); with it, it can."""
    function_dir = tmp_path / "fn"
    function_dir.mkdir()
    (function_dir / "index.js").write_text("exports.handler = async () => 1;\n")
    npm_package(f"@img/sharp-linux-{npm}@0.35.5", function_dir)
    alone = check(function_dir, "nodejs22.x", arch)
    assert [f.library for f in errors(alone, "LS401")] == ["libvips-cpp.so.8.18.7"]
    npm_package(f"@img/sharp-libvips-linux-{npm}@1.3.4", function_dir)
    assert check(function_dir, "nodejs22.x", arch).verdict == "compatible"
