"""LS002-LS005 on hand-made packages (entries and facts built here, no files read by the rules):
each rule fires on the condition it names, stays quiet on its neighbours, with the severity the
facts justify."""

from __future__ import annotations

import datetime
from dataclasses import replace

import pytest
from package_helpers import fixture

from linkscope.api import check_scanned
from linkscope.elf import facts_from_file
from linkscope.model import (
    BinaryFacts,
    EntryKind,
    PackageEntry,
    Report,
    ScannedPackage,
    ScriptFacts,
    Severity,
)
from linkscope.profiles import load_target
from linkscope.rules import RULES_BY_ID, Context

CTX = Context(today=datetime.date(2026, 11, 29))
GO = facts_from_file(str(fixture("go_bootstrap_x86_64")))
ARM = facts_from_file(str(fixture("c_hello_gcc_aarch64")))
LIB = facts_from_file(str(fixture("lib/libdemo.so.1")))
MB = 1 << 20


def elf(source: str, inner: str, facts=GO, mode: int | None = 0o755, size: int = 1000):  # type: ignore[no-untyped-def]
    location = f"{source}!{inner}"
    entry = PackageEntry(inner=inner, location=location, kind=EntryKind.ELF, size=size, mode=mode)
    return entry, replace(facts, path=location, mode=mode)


def pkg(
    source: str,
    *items: PackageEntry | tuple[PackageEntry, BinaryFacts],
    kind: str = "zip",
    zipped: int | None = 1000,
    scripts: tuple[ScriptFacts, ...] = (),
) -> ScannedPackage:
    entries = tuple(i if isinstance(i, PackageEntry) else i[0] for i in items)
    binaries = tuple(i[1] for i in items if not isinstance(i, PackageEntry))
    return ScannedPackage(
        source=source,
        kind=kind,
        entries=entries,
        binaries=binaries,
        scripts=scripts,
        zipped_size=zipped if kind == "zip" else None,
    )


def script(
    source: str,
    inner: str,
    interpreter: str,
    argument: str | None = None,
    *,
    crlf: bool = False,
    mode: int | None = 0o755,
) -> tuple[PackageEntry, ScriptFacts]:
    location = f"{source}!{inner}"
    return (
        PackageEntry(inner=inner, location=location, kind=EntryKind.SCRIPT, size=100, mode=mode),
        ScriptFacts(
            path=location, interpreter=interpreter, argument=argument, crlf=crlf, mode=mode
        ),
    )


def other(source: str, inner: str, size: int = 10, mode: int | None = 0o644) -> PackageEntry:
    return PackageEntry(
        inner=inner, location=f"{source}!{inner}", kind=EntryKind.OTHER, size=size, mode=mode
    )


def run(
    function: ScannedPackage, *layers: ScannedPackage, runtime: str = "provided.al2023"
) -> Report:
    return check_scanned([function], layers, load_target(runtime, "x86_64"), CTX)


def only(report: Report, rule: str) -> list:  # type: ignore[type-arg]
    return [f for f in report.findings if f.rule == rule]


def test_rules_are_registered() -> None:
    for rule in ("LS002", "LS003", "LS004", "LS005"):
        assert rule in RULES_BY_ID and RULES_BY_ID[rule].help


# ------------------------------------------------------------------ LS002


def test_no_bootstrap_on_os_only_runtime() -> None:
    report = run(pkg("fn.zip", elf("fn.zip", "main")))
    [finding] = only(report, "LS002")
    assert finding.severity is Severity.ERROR and finding.path == "fn.zip"
    assert (
        "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]" in finding.message
    )
    assert "--layer" in finding.fix


@pytest.mark.parametrize("runtime", ["python3.12", "nodejs20.x", "go1.x"])
def test_managed_runtimes_need_no_bootstrap(runtime: str) -> None:
    assert not only(run(pkg("fn.zip", elf("fn.zip", "main")), runtime=runtime), "LS002")


def test_a_single_file_needs_no_bootstrap() -> None:
    assert not only(run(pkg("main", elf("main", "main"), kind="file")), "LS002")


def test_bootstrap_from_a_layer_counts() -> None:
    layer = pkg("rt.zip", elf("rt.zip", "bootstrap"))
    assert not only(run(pkg("fn.zip", other("fn.zip", "index.php")), layer), "LS002")


def test_bootstrap_in_a_subfolder_is_explained() -> None:
    [finding] = only(run(pkg("fn.zip", elf("fn.zip", "dist/bootstrap"))), "LS002")
    assert "dist/bootstrap" in finding.message and "root" in finding.message


def test_bootstrap_folder_is_explained() -> None:
    [finding] = only(run(pkg("fn.zip", elf("fn.zip", "bootstrap/app"))), "LS002")
    assert "/var/task/bootstrap is a folder" in finding.message


# ------------------------------------------------------------------ LS003


@pytest.mark.parametrize(
    ("mode", "severity"),
    [(0o644, Severity.ERROR), (0o744, Severity.WARNING), (0o755, None), (0o711, None)],
)
def test_bootstrap_execute_bit(mode: int, severity: Severity | None) -> None:
    found = only(run(pkg("fn.zip", elf("fn.zip", "bootstrap", mode=mode))), "LS003")
    assert [f.severity for f in found] == ([severity] if severity else [])
    if severity is Severity.ERROR:
        assert "fork/exec /var/task/bootstrap: permission denied" in found[0].message


def test_windows_zip_bootstrap_is_an_error_once() -> None:
    found = only(
        run(
            pkg(
                "fn.zip",
                elf("fn.zip", "bootstrap", mode=None),
                elf("fn.zip", "lib/libdemo.so.1", LIB, mode=None),
            )
        ),
        "LS003",
    )
    assert [(f.path, f.severity) for f in found] == [("fn.zip!bootstrap", Severity.ERROR)]
    assert "made on Windows" in found[0].message


def test_windows_zip_other_executables_one_warning() -> None:
    found = only(
        run(
            pkg(
                "fn.zip",
                elf("fn.zip", "bootstrap", mode=None),
                elf("fn.zip", "bin/ffmpeg", mode=None),
                elf("fn.zip", "bin/ffprobe", mode=None),
            )
        ),
        "LS003",
    )
    assert sorted((f.path, f.severity.value) for f in found) == [
        ("fn.zip", "warning"),
        ("fn.zip!bootstrap", "error"),
    ]
    assert "bin/ffmpeg" in next(f.message for f in found if f.path == "fn.zip")


def test_a_folder_never_counts_as_windows() -> None:
    folder = pkg("fn", elf("fn", "bootstrap", mode=None), kind="folder")
    assert not only(run(folder), "LS003")


def test_other_executable_without_execute_bit_is_a_warning() -> None:
    found = only(
        run(pkg("fn.zip", elf("fn.zip", "bootstrap"), elf("fn.zip", "bin/tool", mode=0o644))),
        "LS003",
    )
    assert [(f.path, f.severity) for f in found] == [("fn.zip!bin/tool", Severity.WARNING)]


def test_not_world_readable() -> None:
    found = only(
        run(
            pkg(
                "fn.zip",
                elf("fn.zip", "bootstrap"),
                elf("fn.zip", "lib/libdemo.so.1", LIB, mode=0o640),
                other("fn.zip", "a.txt", mode=0o600),
                other("fn.zip", "b.txt", mode=0o600),
            )
        ),
        "LS003",
    )
    assert sorted((f.path, f.severity.value) for f in found) == [
        ("fn.zip", "warning"),
        ("fn.zip!lib/libdemo.so.1", "warning"),
    ]
    assert "2 file(s)" in next(f.message for f in found if f.path == "fn.zip")


def test_unreadable_script_bootstrap_is_an_error() -> None:
    entry, facts = script("fn.zip", "bootstrap", "/bin/sh", mode=0o711)
    [finding] = only(run(pkg("fn.zip", entry, scripts=(facts,))), "LS003")
    assert finding.severity is Severity.ERROR


def test_go1x_handler_without_mode_is_an_error() -> None:
    [finding] = only(run(pkg("fn.zip", elf("fn.zip", "main", mode=None)), runtime="go1.x"), "LS003")
    assert finding.severity is Severity.ERROR and "/var/task/main" in finding.message


# ------------------------------------------------------------------ LS004


@pytest.mark.parametrize(
    ("interpreter", "argument", "runtime", "severity"),
    [
        ("/bin/sh", None, "provided.al2023", None),
        ("/bin/bash", None, "provided.al2", None),
        ("/usr/bin/env", "bash", "provided.al2023", None),
        ("/usr/bin/env", "python3", "provided.al2023", Severity.ERROR),
        ("/usr/bin/python3", None, "provided.al2023", Severity.ERROR),
        ("/usr/bin/env", "node", "provided.al2", Severity.ERROR),
        ("/usr/bin/env", "-S python3 -u", "provided.al2023", Severity.ERROR),
        ("/usr/bin/pwsh", None, "provided.al2023", Severity.WARNING),
        ("", None, "provided.al2023", Severity.ERROR),
    ],
)
def test_shebang_interpreter(
    interpreter: str, argument: str | None, runtime: str, severity: Severity | None
) -> None:
    entry, facts = script("fn.zip", "bootstrap", interpreter, argument)
    found = only(run(pkg("fn.zip", entry, scripts=(facts,)), runtime=runtime), "LS004")
    assert [f.severity for f in found] == ([severity] if severity else [])


def test_interpreter_from_a_layer() -> None:
    entry, facts = script("fn.zip", "bootstrap", "/usr/bin/env", "php")
    layer = pkg("php.zip", elf("php.zip", "bin/php"))
    assert not only(run(pkg("fn.zip", entry, scripts=(facts,)), layer), "LS004")
    assert only(run(pkg("fn.zip", entry, scripts=(facts,))), "LS004")


def test_managed_runtime_has_its_language_on_path() -> None:
    layer_entry, facts = script("ext.zip", "extensions/agent", "/usr/bin/env", "python3")
    layer = pkg("ext.zip", layer_entry, scripts=(facts,))
    fn = pkg("fn.zip", other("fn.zip", "app.py"))
    assert not only(run(fn, layer, runtime="python3.12"), "LS004")
    assert only(run(fn, layer, runtime="nodejs20.x"), "LS004")


def test_crlf_shebang() -> None:
    entry, facts = script("fn.zip", "bootstrap", "/bin/sh", crlf=True)
    [finding] = only(run(pkg("fn.zip", entry, scripts=(facts,))), "LS004")
    assert "CRLF" in finding.message and "dos2unix" in finding.fix


@pytest.mark.parametrize(("size", "text"), [(0, "is empty"), (4096, "neither an ELF")])
def test_bootstrap_neither_elf_nor_script(size: int, text: str) -> None:
    [finding] = only(
        run(pkg("fn.zip", other("fn.zip", "bootstrap", size=size, mode=0o755))), "LS004"
    )
    assert text in finding.message and "exec format error" in finding.message


def test_scripts_elsewhere_are_not_start_files() -> None:
    entry, facts = script("fn.zip", "tools/gen.py", "/usr/bin/python3")
    assert not only(
        run(pkg("fn.zip", elf("fn.zip", "bootstrap"), entry, scripts=(facts,))), "LS004"
    )


# ------------------------------------------------------------------ LS005


def test_unzipped_total_with_layers_over_250_mb() -> None:
    fn = pkg("fn.zip", elf("fn.zip", "bootstrap", size=150 * MB))
    layer = pkg("deps.zip", other("deps.zip", "lib/big.bin", size=101 * MB))
    assert not only(run(fn), "LS005")
    [finding] = only(run(fn, layer), "LS005")
    assert finding.severity is Severity.ERROR and "251.0 MB" in finding.message


def test_zipped_over_50_mb_is_a_warning() -> None:
    [finding] = only(run(pkg("fn.zip", elf("fn.zip", "bootstrap"), zipped=51 * MB)), "LS005")
    assert finding.severity is Severity.WARNING and "S3" in finding.fix


def test_more_than_five_layers() -> None:
    layers = [pkg(f"l{i}.zip", other(f"l{i}.zip", "x")) for i in range(6)]
    fn = pkg("fn.zip", elf("fn.zip", "bootstrap"))
    assert not only(run(fn, *layers[:5]), "LS005")
    [finding] = only(run(fn, *layers), "LS005")
    assert finding.severity is Severity.ERROR and "at most 5" in finding.message


# ------------------------------------------------------------------ extensions


def test_extension_in_a_layer_is_a_start_file() -> None:
    layer = pkg("ext.zip", elf("ext.zip", "extensions/agent", mode=0o644))
    fn = pkg("fn.zip", elf("fn.zip", "bootstrap"))
    [finding] = only(run(fn, layer), "LS003")
    assert finding.severity is Severity.ERROR and "/opt/extensions/agent" in finding.message
    [arch] = only(run(fn, pkg("ext.zip", elf("ext.zip", "extensions/agent", ARM))), "LS101")
    assert arch.severity is Severity.ERROR
