"""LS601 and LS602 on packages laid out as pip installs them, from the project's own extension
modules (fixtures/pyext, built by the recipe): what Python on each runtime imports, names the
wheel that installed it and the pip/uv command that fixes it; and the layouts `sam build` and
pip make for the right runtime stay compatible."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from package_helpers import Item, findings, make_zip, rules_of
from python_helpers import Wheel, handler, installed, pyext

from linkscope import api
from linkscope.model import Report, Severity

X86 = pyext("spam_cp311_gcc_x86_64.so")
ARM = pyext("spam_cp311_zig_aarch64.so")


def function(tmp_path: Path, *wheels: Wheel, name: str = "fn.zip") -> str:
    items = [handler()] + [item for wheel in wheels for item in installed(wheel)]
    return str(make_zip(tmp_path / name, items))


def layer(tmp_path: Path, site: str, *wheels: Wheel, name: str = "layer.zip") -> str:
    items = [item for wheel in wheels for item in installed(wheel, site)]
    return str(make_zip(tmp_path / name, items))


def module_wheel(tag: str, suffix: str, data: Path = X86, name: str = "pydantic-core") -> Wheel:
    folder = name.replace("-", "_")
    return Wheel(
        name,
        "2.27.2",
        (tag,),
        {f"{folder}/__init__.py": b"", f"{folder}/_{folder}{suffix}": data},
    )


def check(path: str, runtime: str, arch: str = "x86_64", layers: tuple[str, ...] = ()) -> Report:
    return api.check([path], runtime, arch, layers=layers)


def test_cp313_module_on_python312_is_ls601(tmp_path: Path) -> None:
    wheel = module_wheel("cp313-cp313-manylinux_2_17_x86_64", ".cpython-313-x86_64-linux-gnu.so")
    report = check(function(tmp_path, wheel), "python3.12")
    assert report.verdict == "incompatible"
    [finding] = findings(report, "LS601")
    assert finding.severity is Severity.ERROR
    assert "built for CPython 3.13" in finding.message
    assert "No module named 'pydantic_core._pydantic_core'" in finding.message
    assert "pydantic-core 2.27.2 (wheel tag `cp313-cp313-manylinux_2_17_x86_64`)" in finding.message
    assert "--python-version 3.12 --only-binary=:all:" in finding.fix
    assert "--platform manylinux_2_34_x86_64 --platform manylinux_2_28_x86_64" in finding.fix
    assert "--python-platform x86_64-manylinux_2_34" in finding.fix
    assert "sam build --use-container" in finding.fix
    assert check(function(tmp_path, wheel, name="b.zip"), "python3.13").verdict == "compatible"


@pytest.mark.parametrize(
    ("suffix", "data", "why"),
    [
        (".cpython-312-aarch64-linux-gnu.so", ARM, "built for aarch64"),
        (".cpython-312-x86_64-linux-musl.so", pyext("spam_cp311_zig_musl_x86_64.so"), "musl"),
        (".cpython-312-darwin.so", pyext("spam_macos_x86_64.so"), "built for macOS"),
        (".cp312-win_amd64.pyd", pyext("spam_win_amd64.pyd"), "built for Windows"),
        (".cpython-312t-x86_64-linux-gnu.so", X86, "free-threaded CPython 3.12t"),
        (".pypy310-pp73-x86_64-linux-gnu.so", X86, "PyPy"),
    ],
)
def test_other_platforms_modules_are_never_imported(
    tmp_path: Path, suffix: str, data: Path, why: str
) -> None:
    wheel = module_wheel("cp312-cp312-manylinux_2_17_x86_64", suffix, data)
    report = check(function(tmp_path, wheel), "python3.12")
    [finding] = findings(report, "LS601")
    assert finding.severity is Severity.ERROR and why in finding.message
    assert not findings(report, "LS103")  # never dlopened: its bytes do not matter


def test_arm64_function_imports_aarch64_modules(tmp_path: Path) -> None:
    """What `sam build` assembles for python3.12 on arm64 (pip's aarch64 manylinux wheels)."""
    wheel = module_wheel(
        "cp312-cp312-manylinux_2_17_aarch64", ".cpython-312-aarch64-linux-gnu.so", ARM
    )
    path = function(tmp_path, wheel)
    assert check(path, "python3.12", "arm64").verdict == "compatible"
    assert "LS601" in rules_of(check(path, "python3.12", "x86_64"))


def test_sam_build_python312_x86_64_is_compatible(tmp_path: Path) -> None:
    wheels = (
        module_wheel("cp312-cp312-manylinux_2_17_x86_64", ".cpython-312-x86_64-linux-gnu.so"),
        Wheel(
            "cffi",
            "1.17.1",
            ("cp312-cp312-manylinux_2_17_x86_64",),
            {"_cffi_backend.cpython-312-x86_64-linux-gnu.so": X86},
        ),
        Wheel(
            "spam",
            "1.0",
            ("cp311-abi3-manylinux_2_17_x86_64",),
            {"spam/_spam.abi3.so": pyext("spam_abi3_cp311_gcc_x86_64.so")},
        ),
        Wheel("requests", "2.32.3", ("py3-none-any",), {"requests/__init__.py": b""}),
    )
    report = check(function(tmp_path, *wheels), "python3.12")
    assert report.verdict == "compatible", report.findings
    assert not report.notes


def test_a_spare_build_beside_the_imported_one_is_information(tmp_path: Path) -> None:
    """A layer built for several Pythons: the cp311 file is never used on 3.12, and harmless."""
    wheel = Wheel(
        "spam",
        "1.0",
        ("cp312-cp312-manylinux_2_17_x86_64",),
        {
            "spam/_spam.cpython-312-x86_64-linux-gnu.so": X86,
            "spam/_spam.cpython-311-x86_64-linux-gnu.so": X86,
        },
    )
    report = check(function(tmp_path, wheel), "python3.12")
    [finding] = findings(report, "LS601")
    assert finding.severity is Severity.INFO and report.verdict == "compatible"


def test_abi3_minimum_from_the_wheel_tag(tmp_path: Path) -> None:
    wheel = Wheel(
        "cryptography",
        "44.0.0",
        ("cp311-abi3-manylinux_2_28_x86_64",),
        {"cryptography/hazmat/bindings/_rust.abi3.so": pyext("spam_abi3_cp311_gcc_x86_64.so")},
    )
    path = function(tmp_path, wheel)
    [finding] = findings(check(path, "python3.10"), "LS601")
    assert finding.severity is Severity.ERROR
    assert (
        "for CPython 3.11 or later (wheel tag `cp311-abi3-manylinux_2_28_x86_64`)"
        in finding.message
    )
    assert (
        "`import cryptography.hazmat.bindings._rust` fails with `undefined symbol`"
        in finding.message
    )
    assert (
        "--python-version 3.10" in finding.fix and "--platform manylinux2014_x86_64`" in finding.fix
    )
    assert "manylinux_2_28 is too new for python3.10" in finding.fix
    assert not findings(check(path, "python3.11"), "LS601")


def test_abi3_minimum_from_imported_symbols_without_metadata(tmp_path: Path) -> None:
    """No *.dist-info (copied by hand): PyType_GetName, which libpython 3.10 lacks, says 3.11."""
    path = str(
        make_zip(
            tmp_path / "fn.zip",
            [handler(), Item("spam.abi3.so", pyext("spam_abi3_cp311_gcc_x86_64.so"))],
        )
    )
    [finding] = findings(check(path, "python3.10"), "LS601")
    assert finding.severity is Severity.ERROR
    assert "PyType_GetName (3.11)" in finding.message and "CPython 3.11 or later" in finding.message
    assert not findings(check(path, "python3.11"), "LS601")


def test_layer_site_folder_for_another_python_is_ls602(tmp_path: Path) -> None:
    deps = layer(
        tmp_path,
        "python/lib/python3.11/site-packages",
        module_wheel("cp311-cp311-manylinux_2_17_x86_64", ".cpython-311-x86_64-linux-gnu.so"),
    )
    fn = str(make_zip(tmp_path / "fn.zip", [handler()]))
    report = check(fn, "python3.12", layers=(deps,))
    [finding] = findings(report, "LS602")
    assert (
        finding.severity is Severity.ERROR
        and finding.path == f"{deps}!python/lib/python3.11/site-packages"
    )
    assert (
        "pydantic-core" in finding.message
        and "/opt/python/lib/python3.12/site-packages" in finding.message
    )
    assert "--target python/lib/python3.12/site-packages" in finding.fix
    assert not findings(report, "LS601")  # nothing there is imported, so nothing there is judged
    assert check(fn, "python3.11", layers=(deps,)).verdict == "compatible"


def test_layer_python_folder_is_searched_by_every_python(tmp_path: Path) -> None:
    deps = layer(
        tmp_path,
        "python",
        module_wheel("cp313-cp313-manylinux_2_17_x86_64", ".cpython-313-x86_64-linux-gnu.so"),
    )
    fn = str(make_zip(tmp_path / "fn.zip", [handler()]))
    report = check(fn, "python3.12", layers=(deps,))
    [finding] = findings(report, "LS601")
    assert "`import pydantic_core._pydantic_core`" in finding.message
    assert check(fn, "python3.13", layers=(deps,)).verdict == "compatible"


def test_mach_o_abi3_module_is_ls103_with_a_pip_fix(tmp_path: Path) -> None:
    wheel = Wheel(
        "bcrypt",
        "4.2.1",
        ("cp39-abi3-macosx_10_12_universal2",),
        {"bcrypt/__init__.py": b"", "bcrypt/_bcrypt.abi3.so": pyext("spam_macos_universal2.so")},
    )
    report = check(function(tmp_path, wheel), "python3.12", "arm64")
    [finding] = findings(report, "LS103")
    assert finding.severity is Severity.ERROR and "for macOS (x86_64, aarch64)" in finding.message
    assert "invalid ELF header" in finding.message
    assert (
        "bcrypt 4.2.1 was installed from the wheel `cp39-abi3-macosx_10_12_universal2`"
        in finding.fix
    )
    assert "--platform manylinux_2_34_aarch64" in finding.fix


def test_glibc_too_new_wheel_gets_a_pip_fix_not_a_compiler(tmp_path: Path) -> None:
    wheel = Wheel(
        "cryptography",
        "44.0.0",
        ("cp39-abi3-manylinux_2_34_x86_64",),
        {"cryptography/hazmat/bindings/_rust.abi3.so": pyext("spam_cp311_zig_glibc2.38_x86_64.so")},
    )
    [finding] = findings(check(function(tmp_path, wheel), "python3.11"), "LS301")
    assert (
        "cryptography 44.0.0 was installed from the wheel `cp39-abi3-manylinux_2_34_x86_64`"
        in finding.fix
    )
    assert (
        "--python-version 3.11" in finding.fix and "--platform manylinux2014_x86_64`" in finding.fix
    )
    assert "zig" not in finding.fix and "cargo" not in finding.fix


def test_arch_mismatch_of_a_wheel_file_gets_a_pip_fix(tmp_path: Path) -> None:
    wheel = Wheel("spam", "1.0", ("cp39-abi3-manylinux_2_17_aarch64",), {"spam/_spam.abi3.so": ARM})
    [finding] = findings(check(function(tmp_path, wheel), "python3.12"), "LS101")
    assert "pip install" in finding.fix and "--platform manylinux_2_34_x86_64" in finding.fix


def test_musl_wheel_file_gets_a_pip_fix(tmp_path: Path) -> None:
    wheel = Wheel(
        "spam",
        "1.0",
        ("cp39-abi3-musllinux_1_1_x86_64",),
        {"spam/_spam.abi3.so": pyext("spam_cp311_zig_musl_x86_64.so")},
    )
    [finding] = findings(check(function(tmp_path, wheel), "python3.12"), "LS202")
    assert "pip install" in finding.fix and "musllinux_1_1_x86_64" in finding.fix


def test_compiler_advice_stays_for_files_without_packaging_origin(tmp_path: Path) -> None:
    path = str(
        make_zip(
            tmp_path / "fn.zip", [Item("bootstrap", pyext("spam_cp311_zig_glibc2.38_x86_64.so"))]
        )
    )
    [finding] = findings(check(path, "provided.al2023"), "LS301")
    assert "zig cc -target x86_64-linux-gnu.2.34" in finding.fix and "pip" not in finding.fix


# ------------------------------------------------------------------ explain and matrix


def _many_modules(tmp_path: Path) -> str:
    """41 extension modules, 3 of them installed for CPython 3.13 (the issue's example)."""
    good = Wheel(
        "manymods",
        "1.0",
        ("cp312-cp312-manylinux_2_17_x86_64",),
        {f"manymods/_m{i}.cpython-312-x86_64-linux-gnu.so": X86 for i in range(38)},
    )
    bad = module_wheel("cp313-cp313-manylinux_2_17_x86_64", ".cpython-313-x86_64-linux-gnu.so")
    bad2 = Wheel(
        "msgpack",
        "1.1.0",
        ("cp313-cp313-manylinux_2_17_x86_64",),
        {
            "msgpack/_cmsgpack.cpython-313-x86_64-linux-gnu.so": X86,
            "msgpack/_packer.cpython-313-x86_64-linux-gnu.so": X86,
        },
    )
    return function(tmp_path, good, bad, bad2)


def test_explain_speaks_for_the_python_runtimes(tmp_path: Path) -> None:
    from linkscope.explain import explain

    result = explain(
        _many_modules(tmp_path), "python3.12", today=__import__("datetime").date(2026, 11, 29)
    )
    assert result.language is not None and "is a Python function" in result.language.text
    lines = {line.runtime: line for line in result.package_runtimes}
    assert set(lines) >= {"python3.12", "python3.13", "python3.11"}
    assert not any(name.startswith("provided") for name in lines)
    assert lines["python3.12"].starts is False
    assert (
        "3 of its 41 extension modules were installed for CPython 3.13" in lines["python3.12"].text
    )
    assert (
        "38 of its 41 extension modules were installed for CPython 3.12" in lines["python3.13"].text
    )


def test_matrix_lists_python_runtimes_for_a_python_function(tmp_path: Path) -> None:
    from linkscope.matrix import build_matrix

    rows = build_matrix([_many_modules(tmp_path)])
    assert rows and all(row.runtime.startswith("python") for row in rows)
    assert not any(row.starts for row in rows)  # 3.12 and 3.13 modules: no Python imports all
    bootstrap = make_zip(
        tmp_path / "boot.zip",
        [Item("bootstrap", Path(__file__).parent.parent / "fixtures/bin/go_bootstrap_x86_64")],
    )
    assert any(row.runtime.startswith("provided") for row in build_matrix([str(bootstrap)]))


def test_explain_shows_a_mach_o_module(tmp_path: Path) -> None:
    from linkscope.explain import explain, render_explanation

    wheel = Wheel(
        "bcrypt",
        "4.2.1",
        ("cp39-abi3-macosx_10_12_universal2",),
        {"bcrypt/_bcrypt.abi3.so": pyext("spam_macos_universal2.so")},
    )
    result = explain(function(tmp_path, wheel), "python3.12")
    problems = result.package_problems
    assert problems and {p.rule for p in problems} == {"LS103"}
    assert any(p.runtime == "python3.12" and "--python-version 3.12" in p.fix for p in problems)
    text = render_explanation(result, "table")
    assert "Mach-O" in text and "pip install" in text


# ------------------------------------------------------------------ what Python imports instead


def test_a_pure_python_module_beside_it_is_only_slower(tmp_path: Path) -> None:
    """mypyc-compiled packages ship `md.py` beside `md.cpython-3XY-....so`: the .py is imported."""
    wheel = Wheel(
        "charset-normalizer",
        "3.4.1",
        ("cp313-cp313-manylinux_2_17_x86_64",),
        {
            "charset_normalizer/md.cpython-313-x86_64-linux-gnu.so": X86,
            "charset_normalizer/md.py": b"def mess_ratio(text):\n    return 0.0\n",
        },
    )
    report = check(function(tmp_path, wheel), "python3.12")
    [finding] = findings(report, "LS601")
    assert finding.severity is Severity.WARNING and report.verdict == "compatible"
    assert "charset_normalizer/md.py" in finding.message and "only slower" in finding.message


def test_msgpack_falls_back_to_pure_python(tmp_path: Path) -> None:
    """reference/managed-runtimes.md 3.2: msgpack's cp312 module on 3.13 -> msgpack.fallback."""
    wheel = Wheel(
        "msgpack",
        "1.1.0",
        ("cp312-cp312-manylinux_2_17_x86_64",),
        {
            "msgpack/__init__.py": b"",
            "msgpack/fallback.py": b"",
            "msgpack/_cmsgpack.cpython-312-x86_64-linux-gnu.so": X86,
        },
    )
    [finding] = findings(check(function(tmp_path, wheel), "python3.13"), "LS601")
    assert finding.severity is Severity.WARNING and "`msgpack.fallback`" in finding.message


def test_a_stub_folder_of_the_same_name_imports_empty(tmp_path: Path) -> None:
    """pydantic-core 2.50 ships `_pydantic_core/` stubs: the import finds a namespace package."""
    wheel = Wheel(
        "pydantic-core",
        "2.50.5",
        ("cp311-cp311-manylinux_2_17_x86_64",),
        {
            "pydantic_core/__init__.py": b"",
            "pydantic_core/_pydantic_core/__init__.pyi": b"",
            "pydantic_core/_pydantic_core.cpython-311-x86_64-linux-gnu.so": X86,
        },
    )
    [finding] = findings(check(function(tmp_path, wheel), "python3.12"), "LS601")
    assert finding.severity is Severity.ERROR
    assert "namespace package" in finding.message and "(unknown location)" in finding.message


def test_uv_installed_files_get_the_uv_command_first(tmp_path: Path) -> None:
    wheel = Wheel(
        "pydantic-core",
        "2.27.2",
        ("cp313-cp313-manylinux_2_17_x86_64",),
        {
            "pydantic_core/_pydantic_core.cpython-313-x86_64-linux-gnu.so": X86,
        },
        installer="uv",
    )
    [finding] = findings(check(function(tmp_path, wheel), "python3.12"), "LS601")
    assert "installed by uv" in finding.message
    assert finding.fix.index("with uv:") < finding.fix.index("with pip:")


def test_a_layer_zip_checked_on_its_own_is_judged_as_a_layer(tmp_path: Path) -> None:
    deps = layer(
        tmp_path,
        "python/lib/python3.12/site-packages",
        module_wheel("cp312-cp312-manylinux_2_17_x86_64", ".cpython-312-x86_64-linux-gnu.so"),
    )
    assert check(deps, "python3.12").verdict == "compatible"
    report = check(deps, "python3.13")
    assert {f.rule for f in report.findings if f.severity is Severity.ERROR} == {"LS602"}


def test_a_layer_layout_inside_a_function_zip_is_ls602(tmp_path: Path) -> None:
    items = [
        handler(),
        *installed(
            module_wheel("cp312-cp312-manylinux_2_17_x86_64", ".cpython-312-x86_64-linux-gnu.so"),
            "python/lib/python3.12/site-packages",
        ),
    ]
    path = str(make_zip(tmp_path / "fn.zip", items))
    [finding] = findings(check(path, "python3.12"), "LS602")
    assert finding.severity is Severity.ERROR and "/var/task/python/lib" in finding.message


def test_inspect_names_windows_modules(tmp_path: Path) -> None:
    wheel = Wheel(
        "pydantic-core",
        "2.27.2",
        ("cp312-cp312-win_amd64",),
        {"pydantic_core/_pydantic_core.cp312-win_amd64.pyd": pyext("spam_win_amd64.pyd")},
    )
    report = api.inspect([function(tmp_path, wheel)])
    [finding] = findings(report, "LS103")
    assert (
        finding.severity is Severity.INFO and "PE/COFF dll for Windows (x86_64)" in finding.message
    )


def test_missing_library_of_a_wheel_file_gets_a_pip_fix(tmp_path: Path) -> None:
    """A module built against the build machine's OpenSSL 3 (Debian's libssl.so.3), installed
    from a `linux_x86_64` wheel: AL2 has no libssl.so.3 (LS401), and the fix is a wheel for it."""
    ssl = Path(__file__).resolve().parent.parent / "fixtures/bin/c_ssl_gcc_x86_64"
    wheel = Wheel(
        "sslmod",
        "0.1",
        ("cp311-cp311-linux_x86_64",),
        {"sslmod/_ssl.cpython-311-x86_64-linux-gnu.so": ssl},
    )
    report = check(function(tmp_path, wheel), "python3.11")
    missing = [f for f in report.findings if f.rule == "LS401"]
    assert missing and all("sslmod 0.1 was installed from the wheel" in f.fix for f in missing)
    assert all("--platform manylinux2014_x86_64`" in f.fix for f in missing)
