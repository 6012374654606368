"""The real loader is the oracle (DESIGN section 9, issue 3): for this machine's own ELF files, for
the fixtures that can run here, and for small root filesystems built in the test, linkscope's
resolution must name exactly the libraries and versions that glibc's `ld.so --list` says are
missing. The real loader runs in trace mode: it maps the objects but runs nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from check_helpers import BIN, HOST_LOADER, linkscope_verdict, manifest, real_loader
from loader_roots import copy_lib as _copy_lib
from loader_roots import inside, make_root, needs_chroot

from linkscope.elf import facts_from_file
from linkscope.errors import LinkscopeError

pytestmark = pytest.mark.skipif(
    not os.path.exists(HOST_LOADER), reason="needs the x86_64 glibc loader at /lib64"
)

MULTIARCH = "/usr/lib/x86_64-linux-gnu"
SAMPLE = 150


def agree(path: str, sysroot: str, chroot: str | None = None, shown: str | None = None) -> None:
    """Both loaders miss the same libraries and versions, and choose the same FILE for every
    library the real one loads."""
    real = real_loader(shown or path, chroot=chroot)
    ours = linkscope_verdict(path, sysroot)
    detail = f"{path}\nreal loader: {real}\nlinkscope: {ours}"
    assert (real.missing, real.versions) == (ours.missing, ours.versions), detail
    root = Path(sysroot)
    ours_files = {name: inside(root, found) for name, found in reversed(ours.files)}
    for name, found in real.files:
        assert ours_files.get(name) == inside(root, found), f"{name}: {detail}"
    assert {inside(root, f) for _n, f in real.files} == set(ours_files.values()), detail


# ------------------------------------------------------------------ (a) the host's own files


def _host_sample() -> list[str]:
    candidates: list[str] = []
    for folder in ("/usr/bin", MULTIARCH):
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            if folder == MULTIARCH and ".so" not in name:
                continue
            candidates.append(path)
    dynamic = []
    for path in candidates:
        try:
            facts = facts_from_file(path)
        except (LinkscopeError, OSError):
            continue
        if facts.machine == "x86_64" and facts.needed:
            dynamic.append(path)
    step = max(1, len(dynamic) // SAMPLE)
    return dynamic[::step][:SAMPLE]


HOST = _host_sample()


def test_host_sample_is_big_enough() -> None:
    assert len(HOST) >= 100, HOST


@pytest.mark.parametrize("path", HOST, ids=os.path.basename)
def test_host_file(path: str) -> None:
    agree(path, "/")


# ------------------------------------------------------------------ (b) the runnable fixtures

RUNNABLE = [
    e["name"]
    for e in manifest()
    if e.get("machine") == "x86_64"
    and e.get("libc") == "glibc"
    and e.get("needed")
    and e.get("interpreter") == HOST_LOADER
]


def test_runnable_fixtures_include_the_interesting_ones() -> None:
    assert {
        "c_strlcpy_zig_glibc2.38_x86_64",
        "c_uselib_gcc_x86_64",
        "c_ssl_gcc_x86_64",
        "c_crypt_gcc_x86_64",
        "c_curl_gcc_x86_64",
    } <= set(RUNNABLE)


@pytest.mark.parametrize("name", RUNNABLE)
def test_fixture_on_this_host(name: str) -> None:
    agree(str(BIN / name), "/")


def test_strlcpy_needs_a_glibc_newer_than_this_hosts() -> None:
    host_glibc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    if not host_glibc.startswith("glibc 2.") or int(host_glibc.split(".")[1]) >= 38:
        pytest.skip(f"host has {host_glibc}: GLIBC_2.38 is not missing here")
    path = str(BIN / "c_strlcpy_zig_glibc2.38_x86_64")
    ours = linkscope_verdict(path, "/")
    assert ours.versions == {("GLIBC_2.38", "c_strlcpy_zig_glibc2.38_x86_64")}
    agree(path, "/")


def test_uselib_finds_its_library_through_origin_from_any_working_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(BIN / "lib")
    agree("../c_uselib_gcc_x86_64", "/")
    assert linkscope_verdict("../c_uselib_gcc_x86_64", "/").missing == frozenset()


# ------------------------------------------------------------------ (c) small root filesystems


def install(root: Path, fixture_name: str, where: str) -> str:
    destination = root / where.lstrip("/")
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(BIN / fixture_name, destination)
    return str(destination)


def agree_in_root(root: Path, fixture_name: str, where: str = "/var/task/bootstrap") -> None:
    path = install(root, fixture_name, where)
    agree(path, str(root), chroot=str(root), shown=where)


def verdict_in_root(root: Path, where: str) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
    ours = linkscope_verdict(str(root / where.lstrip("/")), str(root))
    return ours.missing, ours.versions


@needs_chroot
def test_root_with_libc_only(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    for name in (
        "c_hello_gcc_pie_x86_64",
        "c_ssl_gcc_x86_64",
        "cxx_condvar_gxx_x86_64",
        "c_strlcpy_zig_glibc2.38_x86_64",
        "rust_hello_zigbuild_glibc2.17_x86_64",
    ):
        agree_in_root(root, name, f"/var/task/{name}")
    missing, _ = verdict_in_root(root, "/var/task/c_ssl_gcc_x86_64")
    assert missing == {"libssl.so.3", "libcrypto.so.3"}


@needs_chroot
def test_root_without_libcrypto(tmp_path: Path) -> None:
    """libssl.so.3 is there but its own need, libcrypto.so.3, is not."""
    root = make_root(tmp_path, ["libssl.so.3"])
    agree_in_root(root, "c_ssl_gcc_x86_64")
    assert verdict_in_root(root, "/var/task/bootstrap")[0] == {"libcrypto.so.3"}


@needs_chroot
def test_root_without_libstdcxx(tmp_path: Path) -> None:
    root = make_root(tmp_path, ["libm.so.6"])
    agree_in_root(root, "cxx_condvar_gxx_x86_64")
    assert verdict_in_root(root, "/var/task/bootstrap")[0] == {"libstdc++.so.6", "libgcc_s.so.1"}


@needs_chroot
def test_root_with_libstdcxx(tmp_path: Path) -> None:
    root = make_root(tmp_path, ["libstdc++.so.6", "libm.so.6", "libgcc_s.so.1"])
    for name in ("cxx_condvar_gxx_x86_64", "cxx_tochars_gxx_x86_64", "cxx_hello_gxx_x86_64"):
        agree_in_root(root, name, f"/var/task/{name}")
        assert verdict_in_root(root, f"/var/task/{name}") == (frozenset(), frozenset())


@needs_chroot
def test_root_with_libraries_under_usr_lib(tmp_path: Path) -> None:
    """The loader's default folders without a cache: /usr/lib/x86_64-linux-gnu, /usr/lib."""
    root = make_root(tmp_path)
    _copy_lib("libssl.so.3", root / "usr" / "lib" / "x86_64-linux-gnu")
    _copy_lib("libcrypto.so.3", root / "usr" / "lib")
    agree_in_root(root, "c_ssl_gcc_x86_64")
    assert verdict_in_root(root, "/var/task/bootstrap")[0] == frozenset()


@needs_chroot
def test_bundled_library_through_lambda_ld_library_path(tmp_path: Path) -> None:
    """/var/task/lib is on Lambda's LD_LIBRARY_PATH (the real loader gets the same value)."""
    root = make_root(tmp_path)
    _copy_lib("libcrypt.so.1", root / "var" / "task" / "lib")
    agree_in_root(root, "c_crypt_gcc_x86_64")
    assert verdict_in_root(root, "/var/task/bootstrap")[0] == frozenset()


@needs_chroot
@pytest.mark.parametrize("with_library", [True, False])
def test_origin_runpath_inside_the_root(tmp_path: Path, with_library: bool) -> None:
    """$ORIGIN is the folder of the checked file inside the root, not /var/task."""
    root = make_root(tmp_path)
    if with_library:
        (root / "app" / "bin" / "lib").mkdir(parents=True)
        shutil.copy2(BIN / "lib" / "libdemo.so.1", root / "app" / "bin" / "lib" / "libdemo.so.1")
    agree_in_root(root, "c_uselib_gcc_x86_64", "/app/bin/uselib")
    missing = verdict_in_root(root, "/app/bin/uselib")[0]
    assert missing == (frozenset() if with_library else {"libdemo.so.1"})


@needs_chroot
def test_library_of_another_architecture_is_skipped(tmp_path: Path) -> None:
    """ld.so skips a candidate of the wrong machine and keeps searching."""
    root = make_root(tmp_path)
    (root / "app" / "bin" / "lib").mkdir(parents=True)
    shutil.copy2(BIN / "c_hello_zig_glibc2.17_aarch64", root / "app/bin/lib/libdemo.so.1")
    (root / "usr" / "lib").mkdir(parents=True, exist_ok=True)
    shutil.copy2(BIN / "lib" / "libdemo.so.1", root / "usr" / "lib" / "libdemo.so.1")
    agree_in_root(root, "c_uselib_gcc_x86_64", "/app/bin/uselib")
    assert verdict_in_root(root, "/app/bin/uselib")[0] == frozenset()


@needs_chroot
def test_ld_so_conf_include_with_a_cache(tmp_path: Path) -> None:
    """A folder named by an ld.so.conf include, and the cache ldconfig builds from it."""
    if shutil.which("ldconfig") is None:
        pytest.skip("no ldconfig")
    root = make_root(tmp_path, ["libssl.so.3"])
    _copy_lib("libcrypto.so.3", root / "opt" / "vendor" / "lib")
    (root / "etc" / "ld.so.conf.d").mkdir(parents=True)
    (root / "etc" / "ld.so.conf").write_text("include /etc/ld.so.conf.d/*.conf\n")
    (root / "etc" / "ld.so.conf.d" / "vendor.conf").write_text("# vendor\n/opt/vendor/lib\n")
    subprocess.run(["ldconfig", "-r", str(root)], check=True, capture_output=True, timeout=60)
    agree_in_root(root, "c_ssl_gcc_x86_64")
    assert verdict_in_root(root, "/var/task/bootstrap")[0] == frozenset()


@needs_chroot
def test_ld_so_conf_without_a_cache_is_not_searched(tmp_path: Path) -> None:
    """ld.so reads only /etc/ld.so.cache; an ld.so.conf that ldconfig never turned into a cache
    adds nothing to the search."""
    root = make_root(tmp_path, ["libssl.so.3"])
    _copy_lib("libcrypto.so.3", root / "opt" / "vendor" / "lib")
    (root / "etc").mkdir()
    (root / "etc" / "ld.so.conf").write_text("/opt/vendor/lib\n")
    agree_in_root(root, "c_ssl_gcc_x86_64")


@needs_chroot
def test_glibc_hwcaps_subfolder(tmp_path: Path) -> None:
    """glibc >= 2.33 looks in glibc-hwcaps/x86-64-v3 and -v2 under each folder first."""
    root = make_root(tmp_path, ["libssl.so.3"])
    _copy_lib("libcrypto.so.3", root / "lib" / "x86_64-linux-gnu" / "glibc-hwcaps" / "x86-64-v2")
    agree_in_root(root, "c_ssl_gcc_x86_64")
    assert verdict_in_root(root, "/var/task/bootstrap")[0] == frozenset()


@needs_chroot
def test_symlinked_library_folders(tmp_path: Path) -> None:
    """usr/lib -> lib style links inside the root are followed inside it."""
    root = make_root(tmp_path)
    shutil.rmtree(root / "usr" / "lib")
    (root / "usr" / "lib").symlink_to("../lib")
    _copy_lib("libcrypt.so.1", root / "lib")
    agree_in_root(root, "c_crypt_gcc_x86_64")
    assert verdict_in_root(root, "/var/task/bootstrap")[0] == frozenset()


@needs_chroot
def test_old_libc_lacks_new_versions(tmp_path: Path) -> None:
    """The root's libc defines versions up to the host's glibc: strlcpy's GLIBC_2.38 is missing
    there exactly when the real loader says so."""
    root = make_root(tmp_path)
    agree_in_root(root, "c_strlcpy_zig_glibc2.38_x86_64")
    agree_in_root(root, "c_arc4random_zig_glibc2.36_x86_64", "/var/task/arc4random")


@needs_chroot
def test_function_folder_mounted_at_var_task(tmp_path: Path) -> None:
    """A folder package is mounted at /var/task; inside the root it is also at /var/task, so both
    loaders see bootstrap and lib/libdemo.so.1 at the same paths ($ORIGIN/lib RUNPATH)."""
    root = make_root(tmp_path)
    task = root / "var" / "task"
    (task / "lib").mkdir(parents=True)
    shutil.copy2(BIN / "c_uselib_gcc_x86_64", task / "bootstrap")
    shutil.copy2(BIN / "lib" / "libdemo.so.1", task / "lib" / "libdemo.so.1")
    real = real_loader("/var/task/bootstrap", chroot=str(root))
    ours = linkscope_verdict(str(task), str(root))
    assert (
        (real.missing, real.versions) == (ours.missing, ours.versions) == (frozenset(), frozenset())
    )
    (task / "lib" / "libdemo.so.1").unlink()
    real = real_loader("/var/task/bootstrap", chroot=str(root))
    ours = linkscope_verdict(str(task), str(root))
    assert (real.missing, real.versions) == (ours.missing, ours.versions), f"{real}\n{ours}"
    assert ours.missing == {"libdemo.so.1"}
