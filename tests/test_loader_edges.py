"""The loader at its edges (issue 15): small packages built here with gcc, mounted at /var/task
in a root filesystem, where glibc's own loader (trace mode: it maps the objects and runs nothing)
says which FILE it takes for every library; linkscope must take the same files, miss the same
names and refuse the same files, and report what that means."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from check_helpers import BIN
from loader_roots import (
    assert_same_files,
    bootstrap_of,
    linkscope_choice,
    linkscope_world,
    make_root,
    needs_chroot,
    real_choice,
)

from linkscope import api
from linkscope.model import Finding
from linkscope.profiles import load_target
from linkscope.resolve import Role, build_world

pytestmark = [
    needs_chroot,
    pytest.mark.skipif(shutil.which("gcc") is None, reason="builds its packages with gcc"),
]


def cc(out: Path, source: str, *flags: str) -> Path:
    """Compile C `source` into `out` (a program, or a library with -shared)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    src = out.parent / (out.name.replace(".", "_") + ".c")
    src.write_text(source)
    subprocess.run(
        ["gcc", "-o", str(out), str(src), *flags], check=True, capture_output=True, timeout=120
    )
    src.unlink()
    return out


def lib(out: Path, body: str, *flags: str) -> Path:
    """A shared library whose SONAME is its file name unless `flags` give one."""
    named = any("-soname" in f for f in flags)
    return cc(
        out, body, "-shared", "-fPIC", *flags, *([] if named else [f"-Wl,-soname,{out.name}"])
    )


def calls(*functions: str) -> str:
    declared = "".join(f"int {f}(void);" for f in functions)
    return declared + "int main(void){return " + "+".join(f"{f}()" for f in functions) + ";}"


def findings(root: Path, package: Path, *, strict: bool = True) -> list[Finding]:
    report = api.check([str(package)], sysroot=str(root), strict=strict)
    return list(report.findings)


def rules(found: list[Finding]) -> set[str]:
    return {f.rule for f in found}


def same_as_glibc(root: Path, run: str, location: str | None = None) -> None:
    task = root / "var" / "task"
    assert_same_files(
        real_choice(root, run), linkscope_choice(root, task, location or str(root) + run)
    )


# ------------------------------------------------------------------ search order


def test_rpath_runpath_chain(tmp_path: Path) -> None:
    """DT_RPATH is inherited by what the program loads (libb is found through the program's
    RPATH), DT_RUNPATH only serves its own object (libd, beside libc, not beside libb)."""
    root = make_root(tmp_path)
    task = root / "var" / "task"
    lib(task / "r1" / "libd.so", "int d(void){return 4;}")
    lib(
        task / "r2" / "libc3.so",
        "int d(void); int c(void){return d();}",
        f"-L{task}/r1",
        "-ld",
        "-Wl,--enable-new-dtags",
        "-Wl,-rpath,$ORIGIN/../r1",
    )
    lib(
        task / "r2" / "libb.so",
        "int c(void); int b(void){return c();}",
        f"-L{task}/r2",
        "-lc3",
        f"-Wl,-rpath-link,{task}/r1",
    )
    lib(
        task / "r1" / "liba.so",
        "int b(void); int a(void){return b();}",
        f"-L{task}/r2",
        "-lb",
        f"-Wl,-rpath-link,{task}/r1:{task}/r2",
    )
    cc(
        task / "bootstrap",
        calls("a"),
        f"-L{task}/r1",
        "-la",
        "-Wl,--disable-new-dtags",
        "-Wl,-rpath,$ORIGIN/r1:$ORIGIN/r2",
        f"-Wl,-rpath-link,{task}/r1:{task}/r2",
    )
    same_as_glibc(root, "/var/task/bootstrap")
    (task / "r1" / "libd.so").rename(task / "r2" / "libd.so")  # RUNPATH $ORIGIN/../r1 misses
    same_as_glibc(root, "/var/task/bootstrap")
    assert linkscope_choice(root, task, str(task / "bootstrap")).missing == {"libd.so"}


def _symlinked_store(task: Path) -> None:
    """lib/liba.so -> ../store/pkg/liba.so, whose RUNPATH $ORIGIN/../deps is deps/ beside lib/
    (the link's folder), not beside store/pkg/."""
    lib(task / "deps" / "libb.so", "int b(void){return 2;}")
    lib(
        task / "store" / "pkg" / "liba.so",
        "int b(void); int a(void){return b();}",
        f"-L{task}/deps",
        "-lb",
        "-Wl,--enable-new-dtags",
        "-Wl,-rpath,$ORIGIN/../deps",
    )
    (task / "lib").mkdir()
    (task / "lib" / "liba.so").symlink_to("../store/pkg/liba.so")
    cc(task / "bootstrap", calls("a"), f"-L{task}/lib", "-la", f"-Wl,-rpath-link,{task}/deps")


def test_origin_of_a_library_reached_through_a_symlink(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    task = root / "var" / "task"
    _symlinked_store(task)
    same_as_glibc(root, "/var/task/bootstrap")
    assert "LS401" not in rules(findings(root, task))


def test_dotdot_after_a_symlinked_folder_is_resolved_by_the_kernel(tmp_path: Path) -> None:
    """lib -> vendor/x: liba's $ORIGIN is /var/task/lib, and `$ORIGIN/../../deps` goes up from
    vendor/x (where the link leads, as the kernel resolves `..`), to /var/task/deps; read as
    text, the path would be /deps."""
    root = make_root(tmp_path)
    task = root / "var" / "task"
    lib(task / "deps" / "libb.so", "int b(void){return 2;}")
    lib(
        task / "vendor" / "x" / "liba.so",
        "int b(void); int a(void){return b();}",
        f"-L{task}/deps",
        "-lb",
        "-Wl,--enable-new-dtags",
        "-Wl,-rpath,$ORIGIN/../../deps",
    )
    (task / "lib").symlink_to("vendor/x")
    cc(task / "bootstrap", calls("a"), f"-L{task}/lib", "-la", f"-Wl,-rpath-link,{task}/deps")
    same_as_glibc(root, "/var/task/bootstrap")
    assert "LS401" not in rules(findings(root, task))


def test_origin_through_a_symlink_in_a_zip(tmp_path: Path) -> None:
    """The same package zipped (symlinks stored as links, as `zip -y` does)."""
    root = make_root(tmp_path)
    task = root / "var" / "task"
    _symlinked_store(task)
    archive = tmp_path / "function.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for path in sorted(task.rglob("*")):
            inner = str(path.relative_to(task))
            if path.is_symlink():
                info = zipfile.ZipInfo(inner)
                info.external_attr = (0o120777 << 16) | 0x3  # S_IFLNK, made on Unix
                info.create_system = 3
                out.writestr(info, os.readlink(path))
            elif path.is_file():
                out.write(path, inner)
    assert "LS401" not in rules(findings(root, archive))


def test_origin_in_dt_needed(tmp_path: Path) -> None:
    """A DT_NEEDED of `$ORIGIN/lib/libx.so` (a library linked with that SONAME) is a path ld.so
    expands with the requester's folder and opens directly."""
    root = make_root(tmp_path)
    task = root / "var" / "task"
    lib(task / "lib" / "libx.so", "int x(void){return 0;}", "-Wl,-soname,$ORIGIN/lib/libx.so")
    cc(task / "bootstrap", calls("x"), str(task / "lib" / "libx.so"))
    same_as_glibc(root, "/var/task/bootstrap")
    assert "LS401" not in rules(findings(root, task))
    (task / "lib" / "libx.so").unlink()
    same_as_glibc(root, "/var/task/bootstrap")


# ------------------------------------------------------------------ cycles


def test_cycle_of_libraries_is_still_checked(tmp_path: Path) -> None:
    """liba and libb need each other and nothing else in the package loads them; libb also
    needs libgone.so, which nobody ships: a program loading liba would fail."""
    root = make_root(tmp_path)
    task = root / "var" / "task"
    layer = task / "lib"
    lib(layer / "libgone.so", "int g(void){return 0;}")
    lib(
        layer / "libb.so",
        "int g(void); int b(void){return g();}",
        f"-L{layer}",
        "-lgone",
        "-Wl,-soname,libb.so",
    )
    lib(layer / "liba.so", "int b(void); int a(void){return b();}", f"-L{layer}", "-lb")
    lib(
        layer / "libb.so",
        "int g(void); int a(void); int b(void){return g()+a();}",
        f"-L{layer}",
        "-lgone",
        "-la",
        "-Wl,-soname,libb.so",
    )
    (layer / "libgone.so").unlink()
    same_as_glibc(root, "/var/task/lib/liba.so", str(layer / "liba.so"))
    found = findings(root, task)
    assert [f.library for f in found if f.rule == "LS401"] == ["libgone.so"], found


# ------------------------------------------------------------------ what glibc refuses


def _refusal_root(tmp_path: Path) -> tuple[Path, Path]:
    """A program that needs libx.so; the real one is in /opt/lib, after /var/task/lib on
    Lambda's LD_LIBRARY_PATH, where each test puts something else under that name."""
    root = make_root(tmp_path)
    task = root / "var" / "task"
    real = lib(root / "opt" / "lib" / "libx.so", "int x(void){return 0;}")
    cc(task / "bootstrap", calls("x"), str(real))
    (task / "lib").mkdir()
    return root, task


@pytest.mark.parametrize(
    ("what", "reason"),
    [
        ("linker script", "invalid ELF header"),
        ("short script", "file too short"),
        ("executable", "cannot dynamically load executable"),
        ("pie", "cannot dynamically load position-independent executable"),
        ("object file", "only ET_DYN and ET_EXEC can be loaded"),
    ],
)
def test_refused_file_stops_the_search(tmp_path: Path, what: str, reason: str) -> None:
    root, task = _refusal_root(tmp_path)
    shadow = task / "lib" / "libx.so"
    if what == "linker script":
        shadow.write_text("/* GNU ld script */\n" + "OUTPUT_FORMAT(elf64-x86-64)\n" * 4)
    elif what == "short script":
        shadow.write_text("INPUT(-lx)\n")
    elif what == "executable":
        cc(shadow, calls(), "-no-pie")
    elif what == "pie":
        cc(shadow, calls(), "-pie", "-fPIE")
    else:
        cc(shadow, "int x(void){return 0;}", "-c", "-fPIC")
    real = real_choice(root, "/var/task/bootstrap")
    assert real.refused == reason, real
    same_as_glibc(root, "/var/task/bootstrap")
    found = [f for f in findings(root, task, strict=False) if f.rule == "LS401"]
    assert len(found) == 1 and reason in found[0].message, found


def test_library_of_another_class_is_passed_over(tmp_path: Path) -> None:
    """A 32-bit file is not refused: ld.so notes it and searches on (/opt/lib has libx.so)."""
    root, task = _refusal_root(tmp_path)
    shutil.copy2(BIN / "c_hello_zig_glibc2.17_i386", task / "lib" / "libx.so")
    same_as_glibc(root, "/var/task/bootstrap")
    assert "LS401" not in rules(findings(root, task))


def test_nodeflib_drops_only_the_default_folders(tmp_path: Path) -> None:
    """DF_1_NODEFLIB: no default folder and no cache entry in one, but the cache's entries in
    other folders (from ld.so.conf) still count."""
    if shutil.which("ldconfig") is None:
        pytest.skip("no ldconfig")
    root = make_root(tmp_path)
    task = root / "var" / "task"
    vendor = lib(root / "opt" / "vendor" / "libv.so", "int v(void){return 0;}")
    system = lib(root / "usr" / "lib" / "x86_64-linux-gnu" / "libs.so", "int s(void){return 0;}")
    (root / "etc").mkdir()
    (root / "etc" / "ld.so.conf").write_text("/opt/vendor\n")
    subprocess.run(["ldconfig", "-r", str(root)], check=True, capture_output=True, timeout=60)
    cc(task / "bootstrap", calls("v", "s"), str(vendor), str(system), "-Wl,-z,nodefaultlib")
    same_as_glibc(root, "/var/task/bootstrap")
    choice = linkscope_choice(root, task, str(task / "bootstrap"))
    assert choice.files["libv.so"] == "/opt/vendor/libv.so"
    assert {"libs.so", "libc.so.6"} <= choice.missing


# ------------------------------------------------------------------ glibc-hwcaps in the cache


def _supports_v3() -> bool:
    loader = "/lib64/ld-linux-x86-64.so.2"
    done = subprocess.run([loader, "--help"], capture_output=True, text=True, check=False)
    return "x86-64-v3 (supported, searched)" in done.stdout


def test_hwcaps_entry_of_the_cache_is_chosen(tmp_path: Path) -> None:
    """ldconfig -r records glibc-hwcaps/x86-64-v3/libv.so; ld.so takes it over the baseline
    copy, which lacks the version V_2 the program needs (no false LS304)."""
    if shutil.which("ldconfig") is None or not _supports_v3():
        pytest.skip("needs ldconfig and a CPU with x86-64-v3")
    root = make_root(tmp_path)
    task = root / "var" / "task"
    folder = root / "usr" / "lib" / "x86_64-linux-gnu"
    script = tmp_path / "v.map"
    script.write_text("V_1 { global: v; local: *; };\nV_2 { global: w; } V_1;\n")
    fast = lib(
        folder / "glibc-hwcaps" / "x86-64-v3" / "libv.so",
        "int v(void){return 1;} int w(void){return 2;}",
        f"-Wl,--version-script={script}",
        "-Wl,-soname,libv.so",
    )
    script.write_text("V_1 { global: v; local: *; };\n")
    lib(
        folder / "libv.so",
        "int v(void){return 1;}",
        f"-Wl,--version-script={script}",
        "-Wl,-soname,libv.so",
    )
    (root / "etc").mkdir()
    subprocess.run(["ldconfig", "-r", str(root)], check=True, capture_output=True, timeout=60)
    cc(task / "bootstrap", calls("v", "w"), str(fast))
    same_as_glibc(root, "/var/task/bootstrap")
    assert not rules(findings(root, task)) & {"LS304", "LS401"}


def _host_glibc() -> tuple[int, ...]:
    text = (os.confstr("CS_GNU_LIBC_VERSION") or "glibc 0").split()[-1]
    return tuple(int(part) for part in text.split("."))


def test_legacy_hwcaps_subfolders_before_glibc_2_37(tmp_path: Path) -> None:
    """glibc before 2.37 (AL2023 has 2.34) also tries tls/, haswell/ and x86_64/ under every
    folder, after glibc-hwcaps/: a copy in /var/task/lib/tls wins over /var/task/lib."""
    if _host_glibc() >= (2, 37):
        pytest.skip(f"this host's glibc {_host_glibc()} no longer searches legacy subfolders")
    root = make_root(tmp_path)
    task = root / "var" / "task"
    plain = lib(task / "lib" / "libx.so", "int x(void){return 1;}")
    for sub in ("tls", "x86_64"):
        lib(task / "lib" / sub / "libx.so", "int x(void){return 1;}")
    cc(task / "bootstrap", calls("x"), str(plain))
    same_as_glibc(root, "/var/task/bootstrap")
    on_lambda = build_world(api.scan([str(task)])[0], [], load_target("provided.al2023", "x86_64"))
    chosen = {
        name: provider.path
        for item in on_lambda.placed
        if item.resolution is not None
        for _requester, name, provider in item.resolution.chosen
    }
    assert chosen["libx.so"] == "/var/task/lib/tls/libx.so"
    shutil.rmtree(task / "lib" / "tls")
    same_as_glibc(root, "/var/task/bootstrap")
    assert (
        linkscope_choice(root, task, str(task / "bootstrap"))
        .files["libx.so"]
        .endswith("/lib/x86_64/libx.so")
    )


# ------------------------------------------------------------------ the bootstrap through a link


def test_symlinked_bootstrap_is_the_bootstrap(tmp_path: Path) -> None:
    """bootstrap -> bin/app: Lambda runs bin/app (its $ORIGIN is bin/, as /proc/self/exe
    says), and the bootstrap rules (LS502: no Runtime API client) apply to it."""
    root = make_root(tmp_path)
    task = root / "var" / "task"
    lib(task / "lib" / "libx.so", "int x(void){return 0;}")
    cc(
        task / "bin" / "app",
        calls("x"),
        f"-L{task}/lib",
        "-lx",
        "-Wl,--enable-new-dtags",
        "-Wl,-rpath,$ORIGIN/../lib",
    )
    (task / "bootstrap").symlink_to("bin/app")
    same_as_glibc(root, "/var/task/bin/app", str(task / "bin" / "app"))
    world = linkscope_world(root, task)
    assert bootstrap_of(world) == str(task / "bin" / "app")
    found = findings(root, task)
    assert [f.path for f in found if f.rule == "LS502"] == [str(task / "bin" / "app")], found
    assert all(p.role is not Role.BOOTSTRAP for p in world.placed if p.node.path.endswith("x.so"))
