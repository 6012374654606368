"""linkscope benchmark: throughput, peak memory and cold start, against peers on the same files.

Run:  .venv/bin/python bench/bench.py [--quick] [--profile] [--save]

Prints tables only; nothing here asserts a timing (machines are noisy). Peers that are not
installed are reported as missing, not fatal (see bench/requirements.txt). Every tool runs in its
own fresh subprocess, one at a time, over the same list of files; the page cache is warmed first.
"""

# Each tool is imported inside the worker that measures it (so import cost and memory are
# attributed to that tool alone), and the peers are benchmarked here, never used by linkscope.

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import re
import resource
import shutil
import stat
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
THROUGHPUT_ROOTS = ("/usr/bin", "/usr/lib/x86_64-linux-gnu")
BIG_ROOTS = ("/usr/bin", "/usr/lib", "/usr/local", "/opt", str(Path.home() / ".rustup"))
TARGETS = {"files_per_s": 2000, "peak_mib": 60, "cold_ms": 150}
MIB = 1024 * 1024
REPEAT_BUDGET_S = 15.0  # a tool repeats the pass (best time kept) while under this budget
PY_TOOLS = ("linkscope", "pyelftools", "pyelftools+syms", "lddtree", "lief")
NOTES = {
    "linkscope": "full BinaryFacts: headers, dynamic, verneed/verdef, symbols per version, libc, "
    "toolchain, client",
    "readelf": "`readelf -lWdV --dyn-syms` per file, one process each, output to /dev/null",
    "pyelftools": "naive: ELFFile + iter_segments (interp, DT_NEEDED/RPATH/RUNPATH/SONAME) + "
    ".gnu.version_r via get_section_by_name",
    "pyelftools+syms": "as pyelftools, plus the .dynsym x .gnu.version join (symbols per version)",
    "lddtree": "auditwheel.lddtree.ldd(path): pyelftools underneath; also opens and parses every "
    "resolved dependency (recursive), no version info",
    "lief": "lief.parse (default config) + libraries + verneed + imported symbols' versions",
}


# ---------------------------------------------------------------- per-tool extraction (workers)


def _load(tool: str):  # noqa: C901 - one small closure per tool, kept together
    """Import a tool and return `extract(path) -> int`; imports happen here, outside timing."""
    if tool == "linkscope":
        from linkscope.elf import facts_from_file

        def extract(path: str) -> int:
            facts = facts_from_file(path)
            return len(facts.needed) + sum(len(r.symbols) for r in facts.version_requirements)

        return extract
    if tool in ("pyelftools", "pyelftools+syms"):
        from elftools.elf.elffile import ELFFile

        with_symbols = tool.endswith("+syms")

        def extract(path: str) -> int:
            with open(path, "rb") as handle:
                elf = ELFFile(handle)
                found = _pyelftools_dynamic(elf)
                needs = _pyelftools_needs(elf)
                symbols = _pyelftools_symbols(elf) if with_symbols and needs else {}
                return len(found) + len(needs) + sum(map(len, symbols.values()))

        return extract
    if tool == "lddtree":
        import logging

        from auditwheel import lddtree
        from auditwheel.libc import Libc

        logging.disable(logging.CRITICAL)
        ldd = getattr(lddtree, "ldd", None) or lddtree.lddtree  # 6.x renamed lddtree() to ldd()
        base = lddtree.load_ld_paths(Libc.GLIBC)  # read ld.so.conf once, as a caller would

        def extract(path: str) -> int:
            result = ldd(Path(path), ldpaths={k: list(v) for k, v in base.items()})
            libraries = getattr(result, "libraries", None)
            return len(libraries if libraries is not None else result["libs"])

        return extract
    if tool == "lief":
        import lief

        lief.logging.disable()

        def extract(path: str) -> int:
            binary = lief.parse(path)
            if binary is None:
                raise ValueError("lief.parse returned None")
            total = len(binary.libraries)
            for need in getattr(binary, "symbols_version_requirement", ()):
                total += sum(1 for _ in need.get_auxiliary_symbols())
            for symbol in getattr(binary, "dynamic_symbols", ()):
                if symbol.imported and symbol.has_version:
                    aux = symbol.symbol_version.symbol_version_auxiliary
                    total += aux is not None and bool(aux.name)
            return total

        return extract
    if tool == "none":
        return lambda path: 0
    raise SystemExit(f"unknown tool {tool}")


def _pyelftools_dynamic(elf) -> list[str]:
    found: list[str] = []
    for segment in elf.iter_segments():
        if segment["p_type"] == "PT_INTERP":
            found.append(segment.get_interp_name())
        elif segment["p_type"] == "PT_DYNAMIC":
            for tag in segment.iter_tags():
                kind = tag.entry.d_tag
                if kind == "DT_NEEDED":
                    found.append(tag.needed)
                elif kind in ("DT_RPATH", "DT_RUNPATH", "DT_SONAME"):
                    found.append(str(tag.entry.d_val))
    return found


def _pyelftools_needs(elf) -> dict[int, str]:
    needs: dict[int, str] = {}
    section = elf.get_section_by_name(".gnu.version_r")
    if section is not None:
        for verneed, auxes in section.iter_versions():
            for aux in auxes:
                needs[aux["vna_other"] & 0x7FFF] = f"{verneed.name}:{aux.name}"
    return needs


def _pyelftools_symbols(elf) -> dict[int, list[str]]:
    """The naive .dynsym x .gnu.version join: one Python object per symbol."""
    symbols: dict[int, list[str]] = defaultdict(list)
    dynsym = elf.get_section_by_name(".dynsym")
    versym = elf.get_section_by_name(".gnu.version")
    if dynsym is None or versym is None:
        return symbols
    for sym, ver in zip(dynsym.iter_symbols(), versym.iter_symbols(), strict=False):
        index = ver["ndx"]
        if sym["st_shndx"] == "SHN_UNDEF" and isinstance(index, int):
            symbols[index & 0x7FFF].append(sym.name)
    return symbols


def worker_throughput(tool: str, listing: str, profile: bool, repeat: int) -> None:
    paths = Path(listing).read_text().splitlines()
    start = time.perf_counter()
    extract = _load(tool)
    import_s = time.perf_counter() - start
    errors: Counter[str] = Counter()
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    clock = time.perf_counter
    passes: list[float] = []
    cpu_passes: list[float] = []
    best_slowest: list[tuple[float, str]] = []
    spent = 0.0
    while not passes or (len(passes) < repeat and spent < REPEAT_BUDGET_S):
        errors.clear()
        slowest: list[tuple[float, str]] = []
        cpu_start = time.process_time()
        start = clock()
        for path in paths:
            began = clock()
            try:
                extract(path)
            except Exception as exc:  # a peer's failure is a data point, not a crash
                errors[type(exc).__name__] += 1
            slowest.append((clock() - began, path))
        passes.append(clock() - start)
        cpu_passes.append(time.process_time() - cpu_start)
        spent += passes[-1]
        if passes[-1] == min(passes):
            best_slowest = slowest
        if profiler is not None:
            break
    seconds = min(passes)
    slowest = sorted(best_slowest, reverse=True)
    report: dict[str, object] = {
        "files": len(paths),
        "seconds": seconds,
        "import_s": import_s,
        "cpu_seconds": min(cpu_passes),
        "passes": [round(p, 3) for p in passes],
        "errors": dict(errors),
        "slowest": [(round(1000 * t, 1), p) for t, p in slowest[:8]],
        "slowest_share": sum(t for t, _ in slowest[:15]) / seconds,
    }
    if profiler is not None:
        profiler.disable()
        report["profile"] = _profile_text(profiler)
    print(json.dumps(report))


def _profile_text(profiler) -> str:
    import io
    import pstats

    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(30)
    return out.getvalue()


def worker_one(tool: str, path: str, import_only: bool) -> None:
    import threading

    extract = _load(tool)
    peaks = {"RssAnon": 0, "RssFile": 0}
    done = threading.Event()

    def take() -> None:
        for key, value in _status(("RssAnon", "RssFile")).items():
            peaks[key] = max(peaks[key], value)

    def sample() -> None:  # file-backed (mmap'd) pages count in RSS but are reclaimable cache
        while not done.wait(0.005):
            take()

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    error = None
    if not import_only:
        try:
            extract(path)
        except Exception as exc:  # recorded, not raised: see above
            error = f"{type(exc).__name__}: {exc}"[:200]
    seconds = time.perf_counter() - start
    take()
    done.set()
    sampler.join()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "error": error,
                "vmhwm": _status(("VmHWM",)).get("VmHWM"),
                "anon_peak": peaks["RssAnon"],
                "file_peak": peaks["RssFile"],
            }
        )
    )


def _status(keys: tuple[str, ...]) -> dict[str, int]:
    """Fields of /proc/self/status in bytes (Linux only; empty elsewhere)."""
    found = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key = line.split(":", 1)[0]
            if key in keys:
                found[key] = int(line.split()[1]) * 1024
    except OSError:
        pass
    return found


# ---------------------------------------------------------------- helpers for the parent


def is_elf(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == b"\x7fELF"
    except OSError:
        return False


def list_elves(roots: tuple[str, ...]) -> list[str]:
    """Regular ELF files (no symlinks) under roots, in sorted order: the same list every run."""
    found = []
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(folder, name)
                if not os.path.islink(path) and os.path.isfile(path) and is_elf(path):
                    found.append(path)
    return found


def big_elves(minimum: int = 50 * MIB) -> list[tuple[int, str]]:
    found = []
    for root in BIG_ROOTS:
        for folder, _dirs, files in os.walk(root):
            for name in files:
                path = os.path.join(folder, name)
                try:
                    info = os.lstat(path)
                except OSError:
                    continue
                if info.st_size >= minimum and stat.S_ISREG(info.st_mode) and is_elf(path):
                    found.append((info.st_size, path))
    return sorted(found, reverse=True)


def warm(paths: list[str]) -> None:
    for path in paths:
        with open(path, "rb") as handle:
            while handle.read(1 << 20):
                pass


def measured(cmd: list[str], env: dict | None = None) -> tuple[float, int, int, str, str]:
    """Run cmd; return (wall seconds, peak RSS bytes, exit code, stdout, stderr).

    Peak RSS comes from GNU time's %M when /usr/bin/time exists, else from os.wait4. Not from
    this process's rusage: a child forked from this (20 MiB) Python inherits its RSS high-water
    mark across exec, which inflates every small child by the parent's size."""
    gnu_time = Path("/usr/bin/time")
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r", suffix=".rss") as rss,
    ):
        full = [str(gnu_time), "-f", "%M", "-o", rss.name, *cmd] if gnu_time.exists() else cmd
        start = time.perf_counter()
        proc = subprocess.Popen(full, stdout=out, stderr=err, env=env)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        peak = usage.ru_maxrss * 1024
        if gnu_time.exists():
            text = rss.read().strip().splitlines()
            peak = int(text[-1]) * 1024 if text and text[-1].isdigit() else peak
        out.seek(0)
        err.seek(0)
        return (
            wall,
            peak,
            proc.returncode,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
        )


def me(*args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), *args]


def last_json(text: str) -> dict:
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError(text[-500:])


def available(tool: str) -> bool:
    module = {
        "linkscope": "linkscope",
        "pyelftools": "elftools",
        "pyelftools+syms": "elftools",
        "lddtree": "auditwheel",
        "lief": "lief",
    }[tool]
    import importlib.util

    return importlib.util.find_spec(module) is not None


def ratio(ours: float, theirs: float | None) -> str:
    return f"{ours / theirs:.1f}x" if theirs else "-"


def table(headers: list[str], rows: list[list[object]]) -> str:
    cells = [[str(c) for c in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# ---------------------------------------------------------------- the three measurements


def bench_throughput(
    paths: list[str], tools: list[str], profile: bool, readelf_too: bool, repeat: int
) -> dict:
    print(f"\n== 1. Throughput: {len(paths)} ELF files under {', '.join(THROUGHPUT_ROOTS)}")
    print(f"   total size {sum(os.path.getsize(p) for p in paths) / MIB:.0f} MiB; warming cache")
    warm(paths)
    results = _python_throughput(paths, tools, profile, repeat)
    if readelf_too and shutil.which("readelf"):
        results["readelf"] = _readelf_throughput(paths, repeat)
    for result in results.values():
        if "seconds" in result:
            result["files_per_s"] = result["files"] / result["seconds"]
            result["files_per_cpu_s"] = result["files"] / max(result["cpu_seconds"], 1e-9)
    _print_throughput(results, tools)
    return results


def _python_throughput(paths: list[str], tools: list[str], profile: bool, repeat: int) -> dict:
    results: dict[str, dict] = {}
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("\n".join(paths))
    try:
        for tool in tools:
            if not available(tool):
                results[tool] = {"missing": True}
                continue
            _wall, _rss, code, out, err = measured(
                me("--worker", tool, listing.name, "--repeat", str(repeat))
            )
            if code != 0:
                results[tool] = {"failed": err[-400:]}
                continue
            results[tool] = last_json(out)
            print(f"   {tool}: passes {results[tool]['passes']} s (best kept)")
        if profile and available("linkscope"):
            _w, _r, _c, out, err = measured(me("--worker", "linkscope", listing.name, "--profile"))
            results["linkscope"]["profile"] = last_json(out).get("profile", err[-400:])
    finally:
        os.unlink(listing.name)
    return results


def _readelf_throughput(paths: list[str], repeat: int) -> dict:
    readelf = shutil.which("readelf") or "readelf"
    passes: list[float] = []
    cpu_passes: list[float] = []
    errors = 0
    while not passes or (len(passes) < repeat and sum(passes) < REPEAT_BUDGET_S):
        errors = 0
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        for path in paths:
            code = subprocess.run(
                [readelf, "-lWdV", "--dyn-syms", path],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            ).returncode
            errors += code != 0
        passes.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_passes.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    print(f"   readelf: passes {[round(p, 3) for p in passes]} s (best kept)")
    return {
        "files": len(paths),
        "seconds": min(passes),
        "cpu_seconds": min(cpu_passes),
        "passes": [round(p, 3) for p in passes],
        "errors": {"exit!=0": errors} if errors else {},
    }


def _print_throughput(results: dict, tools: list[str]) -> None:
    ours = results.get("linkscope", {}).get("files_per_s")
    ours_cpu = results.get("linkscope", {}).get("files_per_cpu_s")
    rows = []
    for tool in ["linkscope", "readelf", *[t for t in tools if t != "linkscope"]]:
        result = results.get(tool)
        if result is None:
            continue
        if "files_per_s" not in result:
            rows.append([tool, "missing" if result.get("missing") else "failed", "", "", "", ""])
            continue
        errs = ", ".join(f"{k} {v}" for k, v in sorted(result["errors"].items())) or "0"
        mine = tool == "linkscope"
        rows.append(
            [
                tool,
                f"{result['files_per_s']:,.0f}",
                f"{result['seconds']:.2f}",
                "" if mine else ratio(ours, result["files_per_s"]),
                f"{result['files_per_cpu_s']:,.0f}",
                "" if mine else ratio(ours_cpu, result["files_per_cpu_s"]),
                f"{1000 * result.get('import_s', 0):.0f}" if "import_s" in result else "-",
                errs,
            ]
        )
    print()
    print(
        table(
            [
                "tool",
                "files/s",
                "best pass s",
                "linkscope x",
                "files/CPU-s",
                "linkscope x (CPU)",
                "import ms",
                "errors",
            ],
            rows,
        )
    )
    if ours is not None:
        top = results["linkscope"]
        print(
            f"   linkscope's 15 slowest files take {100 * top['slowest_share']:.0f} % of its time;"
            " slowest (ms):"
        )
        for ms, path in top["slowest"]:
            print(f"     {ms:8.1f}  {path} ({os.path.getsize(path) / MIB:.1f} MiB)")
        verdict = "meets" if ours >= TARGETS["files_per_s"] else "MISSES"
        print(
            f"   target >= {TARGETS['files_per_s']:,} files/s: linkscope {verdict} "
            f"({ours:,.0f} files/s wall; {ours_cpu:,.0f} files per CPU-second)"
        )


def bench_memory(files: list[str], tools: list[str]) -> dict:
    results: dict[str, dict] = {}
    _w, baseline, _c, _o, _e = measured([sys.executable, "-c", "pass"])
    results["python -c pass"] = {"peak_rss": baseline}
    readelf = shutil.which("readelf")
    cli = shutil.which("linkscope", path=str(Path(sys.executable).parent)) or None
    for path in files:
        size = os.path.getsize(path)
        print(f"\n== 2. Peak memory on {path} ({size / MIB:.0f} MiB)")
        per_file: dict[str, dict] = {}
        rows = []
        for tool in ["none", *tools]:
            if tool != "none" and not available(tool):
                continue
            _w, imp_rss, _c, _o, _e = measured(me("--one", tool, path, "--import-only"))
            wall, rss, code, out, err = measured(me("--one", tool, path))
            info = last_json(out) if code == 0 else {"seconds": None, "error": err[-300:]}
            per_file[tool] = {
                "peak_rss": rss,
                "over_baseline": rss - baseline,
                "import_over_baseline": imp_rss - baseline,
                "process_wall": wall,
                "parse_s": info["seconds"],
                "error": info["error"],
                "vmhwm": info.get("vmhwm"),
                "anon_peak": info.get("anon_peak"),
                "file_peak": info.get("file_peak"),
            }
        commands = {}
        if readelf:
            commands["readelf -lWdV --dyn-syms"] = [readelf, "-lWdV", "--dyn-syms", path]
        if cli:
            commands["linkscope inspect (CLI)"] = [cli, "inspect", path]
        for name, cmd in commands.items():
            wall, rss, code, _o, err = measured(cmd)
            per_file[name] = {
                "peak_rss": rss,
                "process_wall": wall,
                "error": None if code in (0, 1, 2) else err[-300:],
            }
        for name, r in per_file.items():
            python = "over_baseline" in r
            rows.append(
                [
                    "(harness, no tool)" if name == "none" else name,
                    f"{r['peak_rss'] / MIB:.1f}",
                    f"{r['over_baseline'] / MIB:.1f}" if python else "(native)",
                    f"{r['import_over_baseline'] / MIB:.1f}" if python else "-",
                    _mib(r.get("anon_peak")),
                    _mib(r.get("file_peak")),
                    f"{1000 * r['parse_s']:.0f}" if r.get("parse_s") is not None else "-",
                    f"{1000 * r['process_wall']:.0f}",
                    r["error"] or "",
                ]
            )
        print(f"   baseline `python -c pass`: {baseline / MIB:.1f} MiB")
        print(
            table(
                [
                    "tool",
                    "peak RSS MiB",
                    "minus python",
                    "of which import",
                    "anon MiB~",
                    "file MiB~",
                    "parse ms",
                    "process ms",
                    "error",
                ],
                rows,
            )
        )
        print(
            "   anon/file: peak RssAnon / RssFile sampled every 5 ms in the process (~: a sample, "
            "may miss a short spike); file pages are the mmap'd input, reclaimable page cache"
        )
        ours = per_file.get("linkscope", {}).get("over_baseline")
        if ours is not None:
            verdict = "meets" if ours < TARGETS["peak_mib"] * MIB else "MISSES"
            print(
                f"   target < {TARGETS['peak_mib']} MiB: linkscope {verdict} ({ours / MIB:.1f} MiB "
                f"over bare python)"
            )
        results[path] = {"size": size, "tools": per_file}
    return results


def interleaved_walls(
    commands: dict[str, tuple[list[str], dict | None]], runs: int
) -> dict[str, list[tuple[float, float]]]:
    """Round-robin over the commands so that load from elsewhere hits them all alike."""
    walls: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for round_number in range(runs + 2):  # two warm-up rounds: page cache and .pyc files
        for name, (cmd, env) in commands.items():
            start = time.perf_counter()
            proc = subprocess.Popen(
                cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
            )
            _pid, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            if round_number >= 2:
                walls[name].append((time.perf_counter() - start, usage.ru_utime + usage.ru_stime))
    return walls


def _mib(value: int | None) -> str:
    return "-" if value is None else f"{value / MIB:.1f}"


def pyc_env() -> dict:
    """The environment with bytecode caching on (as after `pip install` of a wheel), the cache
    kept outside the repository."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "linkscope-bench-pyc")
    return env


def bench_cold(runs: int, target: str = "/usr/bin/ls") -> dict:
    print(f"\n== 3. Cold start of `inspect {target}` (fresh process each run; median of {runs})")
    nopyc = os.environ.get("PYTHONDONTWRITEBYTECODE")
    print(
        f"   PYTHONDONTWRITEBYTECODE={nopyc!r} here: rows marked '.pyc' use a bytecode cache "
        "outside the repo (what an installed wheel has)"
    )
    bindir = Path(sys.executable).parent
    cli = shutil.which("linkscope", path=str(bindir))
    commands: dict[str, tuple[list[str], dict | None]] = {}
    if cli:
        commands["linkscope inspect"] = ([cli, "inspect", target], None)
        commands["linkscope inspect (.pyc)"] = ([cli, "inspect", target], pyc_env())
    module = [sys.executable, "-m", "linkscope", "inspect", target]
    commands["python -m linkscope inspect (.pyc)"] = (module, pyc_env())
    commands["python -c pass"] = ([sys.executable, "-c", "pass"], None)
    commands["python -I -c pass (no site)"] = ([sys.executable, "-I", "-S", "-c", "pass"], None)
    if shutil.which("readelf"):
        commands["readelf -d"] = ([shutil.which("readelf") or "readelf", "-d", target], None)
    results = {}
    for name, samples in interleaved_walls(commands, runs).items():
        walls = [wall for wall, _cpu in samples]
        results[name] = {
            "median_s": statistics.median(walls),
            "min_s": min(walls),
            "max_s": max(walls),
            "median_cpu_s": statistics.median(cpu for _w, cpu in samples),
        }
    print(
        table(
            ["command", "median ms", "min ms", "max ms", "median CPU ms (user+sys)"],
            [
                [
                    n,
                    f"{1000 * r['median_s']:.1f}",
                    f"{1000 * r['min_s']:.1f}",
                    f"{1000 * r['max_s']:.1f}",
                    f"{1000 * r['median_cpu_s']:.1f}",
                ]
                for n, r in results.items()
            ],
        )
    )
    for name in ("linkscope inspect", "linkscope inspect (.pyc)"):
        if name not in results:
            continue
        ours = results[name]["median_s"]
        verdict = "meets" if ours * 1000 < TARGETS["cold_ms"] else "MISSES"
        print(
            f"   target < {TARGETS['cold_ms']} ms: {name} {verdict} ({1000 * ours:.0f} ms; "
            f"{1000 * (ours - results['python -c pass']['median_s']):.0f} ms above bare python)"
        )
    results["importtime"] = importtime(target)
    return results


def importtime(target: str) -> dict:
    """`python -X importtime`: the top imports by cumulative time, and self time per top package."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "linkscope", "inspect", target],
        capture_output=True,
        text=True,
        check=False,
        env=pyc_env(),
    )
    entries = []
    for line in proc.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if match:
            entries.append((int(match[2]), int(match[1]), len(match[3]) // 2, match[4]))
    top = sorted(entries, reverse=True)[:10]
    by_package: Counter[str] = Counter()
    for _cum, self_us, _depth, name in entries:
        by_package[name.split(".")[0]] += self_us
    print(
        "\n   `python -X importtime -m linkscope inspect` (.pyc cached): top 10 by cumulative time"
    )
    print(
        table(
            ["cumulative ms", "self ms", "depth", "module"],
            [[f"{c / 1000:.1f}", f"{s / 1000:.1f}", d, n] for c, s, d, n in top],
        )
    )
    print("\n   self time summed per top-level package (top 10)")
    print(
        table(
            ["package", "self ms"],
            [[n, f"{us / 1000:.1f}"] for n, us in by_package.most_common(10)],
        )
    )
    return {
        "top_cumulative": [
            {"module": n, "cumulative_us": c, "self_us": s, "depth": d} for c, s, d, n in top
        ],
        "self_by_package_us": dict(by_package.most_common(15)),
    }


# ---------------------------------------------------------------- main


def machine() -> dict:
    cpu = ""
    with contextlib.suppress(OSError):
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")), "")
    versions = {}
    for dist in ("pyelftools", "auditwheel", "lief", "typer", "tabulate"):
        try:
            from importlib.metadata import version

            versions[dist] = version(dist)
        except Exception:  # not installed
            versions[dist] = None
    git = subprocess.run(
        ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    versions["linkscope (git)"] = git or None
    readelf = shutil.which("readelf")
    if readelf:
        first = subprocess.run(
            [readelf, "--version"], capture_output=True, text=True, check=False
        ).stdout
        versions["readelf"] = first.splitlines()[0] if first else None
    return {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "loadavg_at_start": os.getloadavg(),
        "cpu": cpu,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "versions": versions,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every 10th file, 5 cold runs")
    parser.add_argument("--profile", action="store_true", help="cProfile linkscope's throughput")
    parser.add_argument("--save", action="store_true", help="write bench/results-<date>.json")
    parser.add_argument("--only", choices=["throughput", "memory", "cold"], action="append")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="passes per tool over the file set, best kept (default 3, capped by "
        f"a {REPEAT_BUDGET_S:.0f} s budget per tool)",
    )
    parser.add_argument("--tools", help=f"comma-separated subset of {','.join(PY_TOOLS)}")
    parser.add_argument("--no-readelf", action="store_true", help="skip readelf in throughput")
    parser.add_argument("--worker", metavar="TOOL", help=argparse.SUPPRESS)
    parser.add_argument("--one", metavar="TOOL", help=argparse.SUPPRESS)
    parser.add_argument("--import-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker_throughput(args.worker, args.rest[0], args.profile, args.repeat)
    if args.one:
        return worker_one(args.one, args.rest[0], args.import_only)

    run(args)
    return None


def run(args: argparse.Namespace) -> None:
    info = machine()
    print(
        f"linkscope bench {info['date']}: {info['cpus']} CPUs ({info['cpu']}), "
        f"Python {info['python']}, load average {info['loadavg_at_start']}"
    )
    print(f"   versions: {info['versions']}")
    for tool in PY_TOOLS:
        print(f"   {tool:16} {NOTES[tool]}")
    print(f"   {'readelf':16} {NOTES['readelf']}")
    parts = args.only or ["throughput", "memory", "cold"]
    tools = args.tools.split(",") if args.tools else list(PY_TOOLS)
    if "linkscope" not in tools:
        tools.insert(0, "linkscope")
    results: dict[str, object] = {"machine": info, "quick": args.quick, "notes": NOTES}
    if "throughput" in parts:
        paths = list_elves(THROUGHPUT_ROOTS)
        if args.quick:
            paths = paths[::10]
        results["throughput"] = bench_throughput(
            paths, tools, args.profile, not args.no_readelf, args.repeat
        )
        if args.profile and "profile" in results["throughput"].get("linkscope", {}):
            print("\n   cProfile of linkscope over the same files:")
            print(results["throughput"]["linkscope"]["profile"])
    if "memory" in parts:
        results["memory"] = bench_memory(memory_files(args.quick), tools)
    if "cold" in parts:
        results["cold"] = bench_cold(5 if args.quick else 15)
    results["loadavg_at_end"] = os.getloadavg()
    print(
        f"\nload average at end: {results['loadavg_at_end']} (other work on the machine skews "
        "every number; compare ratios within one run)"
    )
    if args.save:
        out = HERE / f"results-{datetime.date.today().isoformat()}.json"
        out.write_text(json.dumps(results, indent=2, default=str))
        print(f"\nwrote {out}")


def memory_files(quick: bool) -> list[str]:
    """The largest ELF found, plus librustc_driver (the file the issue names); quick: only the
    latter (or the largest when there is no Rust toolchain)."""
    big = big_elves()
    rustc = [path for _size, path in big if "librustc_driver" in path]
    if quick:
        return rustc[:1] or [path for _size, path in big[:1]]
    chosen = [big[0][1]] if big else []
    return chosen + [path for path in rustc[:1] if path not in chosen]


if __name__ == "__main__":
    main()
