"""Large packages: `linkscope check` on a real Python function against `unzip -t`, `tar` and LIEF.

Run:  .venv/bin/python bench/large.py [--runs 5] [--save]

The function is built here, never committed: pinned manylinux wheels for CPython 3.12 on x86_64
(numpy, pandas, pyarrow, scipy and their pure-Python dependencies) are downloaded once by
`pip download` into a cache (`$LINKSCOPE_BENCH_CACHE`, default `~/.cache/linkscope-bench`), unpacked
into a folder as `pip install --target` lays them out, zipped (deflate level 6, sorted), tarred,
and made a container image (an OCI archive with one gzip layer, checked against `tar -tzf` on that
layer).
Each case runs every command round-robin `--runs` times (load from elsewhere hits all alike) and
reports the best and median wall time, the CPU time and the peak RSS (GNU time), and the ratios
against the reference command on the same input in the same run. It asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
WHEELS = (
    "numpy==2.2.6",
    "pandas==2.3.2",
    "pyarrow==20.0.0",
    "scipy==1.16.3",
    "python-dateutil==4.0.0",
    "pytz==2026.6",
    "tzdata==2026.6",
)
PIP_PLATFORM = ("--platform", "manylinux2014_x86_64", "--python-version", "3.12")
RUNTIME = "python3.12"
MIB = 1 << 20


def cache_dir() -> Path:
    default = Path.home() / ".cache" / "linkscope-bench"
    return Path(os.environ.get("LINKSCOPE_BENCH_CACHE", default))


def build(cache: Path) -> dict[str, Path]:
    """The wheels (downloaded once), the unpacked folder, its zip and its tar."""
    wheels = cache / "wheels"
    if not list(wheels.glob("*.whl")) or len(list(wheels.glob("*.whl"))) < len(WHEELS):
        wheels.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "download", "-q", "--no-deps"),
                *("--only-binary=:all:", *PIP_PLATFORM, "--implementation", "cp"),
                *("-d", str(wheels), *WHEELS),
            ],
            check=True,
        )
    folder, archive, tarball = cache / "function", cache / "function.zip", cache / "function.tar"
    if not folder.exists():
        staging = cache / "function.partial"
        shutil.rmtree(staging, ignore_errors=True)
        for wheel in sorted(wheels.glob("*.whl")):
            with zipfile.ZipFile(wheel) as unpack:
                unpack.extractall(staging)
        staging.rename(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    if not archive.exists():
        with zipfile.ZipFile(
            archive.with_suffix(".partial"), "w", zipfile.ZIP_DEFLATED, compresslevel=6
        ) as out:
            for path in files:
                out.write(path, path.relative_to(folder).as_posix())
        archive.with_suffix(".partial").rename(archive)
    if not tarball.exists():
        with tarfile.open(tarball.with_suffix(".partial"), "w") as out:
            for path in files:
                out.add(path, path.relative_to(folder).as_posix(), recursive=False)
        tarball.with_suffix(".partial").rename(tarball)
    image, layer = build_image(cache, folder)
    inputs = {"folder": folder, "zip": archive, "tar": tarball, "image": image, "layer": layer}
    if _has("zstandard"):
        inputs["image2"], inputs["layer2"] = build_big_image(cache, folder, layer)
    return inputs


def build_image(cache: Path, folder: Path) -> tuple[Path, Path]:
    """The function's files as a container image: an OCI archive with one gzip layer (the files
    under var/task/), and that layer alone as a .tar.gz, so `tar -tzf` reads the same bytes."""
    import gzip

    image, layer_file = cache / "function-image.oci.tar", cache / "function-layer.tar.gz"
    if image.exists() and layer_file.exists():
        return image, layer_file
    plain = _layer_tar(cache / "function-layer.tar", folder, "var/task/")
    with open(plain, "rb") as source, gzip.open(layer_file, "wb", compresslevel=6) as target:
        shutil.copyfileobj(source, target, 1 << 20)
    diff_id = _sha256(plain)
    plain.unlink()
    write_oci_archive(image, [(layer_file, "gzip", diff_id)])
    return image, layer_file


def build_big_image(cache: Path, folder: Path, gzip_layer: Path) -> tuple[Path, Path]:
    """Twice the function: its gzip layer, then the same files again under opt/copy/ in a zstd
    layer (688 MiB, 442 ELF files), and that second layer alone as a .tar.zst."""
    import gzip
    import hashlib

    import zstandard

    image, layer_file = cache / "function-image2.oci.tar", cache / "function-copy.tar.zst"
    if image.exists() and layer_file.exists():
        return image, layer_file
    plain = _layer_tar(cache / "function-copy.tar", folder, "opt/copy/")
    with open(plain, "rb") as source, open(layer_file, "wb") as target:
        zstandard.ZstdCompressor(level=3).copy_stream(source, target)
    copy_id = _sha256(plain)
    plain.unlink()
    digest = hashlib.sha256()
    with gzip.open(gzip_layer, "rb") as layer:
        while chunk := layer.read(1 << 20):
            digest.update(chunk)
    layers = [(gzip_layer, "gzip", digest.hexdigest()), (layer_file, "zstd", copy_id)]
    write_oci_archive(image, layers)
    return image, layer_file


def _layer_tar(plain: Path, folder: Path, prefix: str) -> Path:
    with tarfile.open(plain, "w") as out:
        for path in sorted(folder.rglob("*")):
            out.add(path, prefix + path.relative_to(folder).as_posix(), recursive=False)
    return plain


def write_oci_archive(image: Path, layers: list[tuple[Path, str, str]]) -> None:
    """An OCI archive of the layers (file, compression, diff_id hex), base first."""
    import hashlib

    def blob(data: bytes) -> tuple[str, bytes]:
        return hashlib.sha256(data).hexdigest(), data

    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Entrypoint": ["/usr/bin/python3", "-m", "awslambdaric"]},
            "rootfs": {"type": "layers", "diff_ids": [f"sha256:{d}" for _, _, d in layers]},
        }
    ).encode()
    digests = [_sha256(path) for path, _, _ in layers]
    config_hex, _ = blob(config)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": f"sha256:{config_hex}",
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": f"application/vnd.oci.image.layer.v1.tar+{how}",
                    "digest": f"sha256:{hexdigest}",
                    "size": path.stat().st_size,
                }
                for (path, how, _), hexdigest in zip(layers, digests, strict=True)
            ],
        }
    ).encode()
    manifest_hex, _ = blob(manifest)
    index = json.dumps(
        {
            "schemaVersion": 2,
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": f"sha256:{manifest_hex}",
                    "size": len(manifest),
                }
            ],
        }
    ).encode()
    with tarfile.open(image.with_suffix(".partial"), "w") as out:
        for name, data in (
            ("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'),
            ("index.json", index),
            (f"blobs/sha256/{config_hex}", config),
            (f"blobs/sha256/{manifest_hex}", manifest),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
        for (path, _, _), hexdigest in zip(layers, digests, strict=True):
            out.add(path, f"blobs/sha256/{hexdigest}")
    image.with_suffix(".partial").rename(image)


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def describe(inputs: dict[str, Path]) -> dict[str, object]:
    files = [p for p in inputs["folder"].rglob("*") if p.is_file()]
    elves = [p for p in files if p.read_bytes()[:4] == b"\x7fELF"]
    return {
        "wheels": list(WHEELS),
        "files": len(files),
        "elf_files": len(elves),
        "unzipped_mib": round(sum(p.stat().st_size for p in files) / MIB, 1),
        "elf_mib": round(sum(p.stat().st_size for p in elves) / MIB, 1),
        "zipped_mib": round(inputs["zip"].stat().st_size / MIB, 1),
    }


LIEF_SCRIPT = """
import sys, zipfile, lief
lief.logging.disable()
source, count = sys.argv[1], 0
def parse(data):
    global count
    binary = lief.parse(data)  # bytes (a zip member read whole) or a path
    if binary is not None:
        count += len(binary.libraries) + sum(1 for _ in binary.symbols_version_requirement)
if source.endswith(".zip"):
    with zipfile.ZipFile(source) as archive:
        for info in archive.infolist():
            with archive.open(info) as stream:
                if stream.read(4) == b"\\x7fELF":
                    parse(archive.read(info))
else:
    import os
    for folder, _dirs, names in os.walk(source):
        for name in names:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                with open(path, "rb") as handle:
                    if handle.read(4) == b"\\x7fELF":
                        parse(path)
print(count)
"""


def commands(
    inputs: dict[str, Path], linkscope: str, lief: bool
) -> dict[str, dict[str, list[str]]]:
    """Per case: the reference command first, then linkscope, then LIEF."""
    check = [linkscope, "check", "--runtime", RUNTIME, "--format", "json", "--output", os.devnull]
    python = [sys.executable, "-c", LIEF_SCRIPT]
    cases: dict[str, dict[str, list[str]]] = {
        "zip": {
            "unzip -t": ["unzip", "-tqq", str(inputs["zip"])],
            "linkscope check": [*check, str(inputs["zip"])],
        },
        "folder": {
            "tar -c (reads every byte)": [
                "sh",
                "-c",
                f"tar -cf - -C '{inputs['folder']}' . | wc -c",
            ],
            "linkscope check": [*check, str(inputs["folder"])],
        },
        "tar": {"tar -t": ["tar", "-tf", str(inputs["tar"])]},
    }
    if _image_reader():  # a plain tar is not an image: the same files as an OCI archive
        cases["image"] = {
            "tar -tzf (its gzip layer)": ["tar", "-tzf", str(inputs["layer"])],
            "linkscope check (OCI archive)": [*check, str(inputs["image"])],
        }
    if _image_reader() and "image2" in inputs:  # twice the files: a gzip and a zstd layer
        both = f"tar -tzf '{inputs['layer']}' && zstd -dc '{inputs['layer2']}' | tar -t"
        cases["image, two layers (gzip + zstd)"] = {
            "tar -t of both layers": ["sh", "-c", f"({both}) > /dev/null"],
            "linkscope check (OCI archive)": [*check, str(inputs["image2"])],
        }
    if lief:
        cases["zip"]["LIEF (zipfile + lief.parse)"] = [*python, str(inputs["zip"])]
        cases["folder"]["LIEF (lief.parse)"] = [*python, str(inputs["folder"])]
    return cases


POOL_SCRIPT = """
import sys, time
from linkscope.inputs import Limits
from linkscope.scan import scan_path
from linkscope.elf.facts import LEAN_ABOVE
source, workers = sys.argv[1], int(sys.argv[2])
scan_path(source, Limits(), workers=workers, lean_above=LEAN_ABOVE)
"""


def pool_cases(inputs: dict[str, Path]) -> dict[str, dict[str, list[str]]]:
    """check's reading stage (scan: decompression and parsing) on one core, then on two."""
    scan = [sys.executable, "-c", POOL_SCRIPT]
    return {
        f"{case}: scan on 1 core vs 2": {
            "1 worker (no pool)": [*scan, str(inputs[case]), "1"],
            "2 workers": [*scan, str(inputs[case]), "2"],
        }
        for case in ("zip", "folder")
    }


BATCH_ROOTS = ("/usr/bin", "/usr/lib/x86_64-linux-gnu")


def batch_cases(linkscope: str) -> dict[str, dict[str, list[str]]]:
    """The CLI over the host's programs and libraries (issue 14: 3,000 files/s or more)."""
    roots = [r for r in BATCH_ROOTS if os.path.isdir(r)]
    inspect = [linkscope, "inspect", *roots]
    return {
        "batch: inspect of the host's programs and libraries": {
            "inspect (table)": inspect,
            "inspect --format json": [*inspect, "--format", "json", "--output", os.devnull],
            "inspect /usr/bin/ls (cold start)": [linkscope, "inspect", "/usr/bin/ls"],
        }
    }


def batch_files() -> int:
    count = 0
    for root in BATCH_ROOTS:
        for folder, _dirs, names in os.walk(root):
            for name in names:
                path = os.path.join(folder, name)
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                with open(path, "rb") as handle:
                    count += handle.read(4) == b"\x7fELF"
    return count


def _image_reader() -> bool:
    import importlib.util

    return importlib.util.find_spec("linkscope.inputs.image") is not None


def pyc_env() -> dict[str, str]:
    """Bytecode cached outside the repository, as an installed wheel has it (this dev
    environment sets PYTHONDONTWRITEBYTECODE, which would compile every module every run)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(cache_dir() / "pyc")
    return env


def measure(cmd: list[str]) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        start = time.perf_counter()
        result = subprocess.run(
            ["/usr/bin/time", "-f", "%M %U %S", "-o", report.name, *cmd],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            check=False,
            env=pyc_env(),
        )
        wall = time.perf_counter() - start
        peak, user, system = report.read().split()[-3:]
    if result.returncode not in (0, 1):  # check exits 1 for an incompatible function
        raise SystemExit(f"{cmd[0]} failed ({result.returncode}): {result.stderr[-400:]!r}")
    return {"wall": wall, "cpu": float(user) + float(system), "peak_mib": int(peak) / 1024}


def run_cases(cases: dict[str, dict[str, list[str]]], runs: int) -> dict[str, dict[str, dict]]:
    results: dict[str, dict[str, dict]] = {}
    for case, tools in cases.items():
        samples: dict[str, list[dict[str, float]]] = {tool: [] for tool in tools}
        for cmd in tools.values():  # warm-up: page cache, .pyc
            measure(cmd)
        for _ in range(runs):
            for tool, cmd in tools.items():
                samples[tool].append(measure(cmd))
        results[case] = {tool: _summary(values) for tool, values in samples.items()}
    return results


def _summary(values: list[dict[str, float]]) -> dict[str, float]:
    walls = [v["wall"] for v in values]
    return {
        "best_s": min(walls),
        "median_s": statistics.median(walls),
        "cpu_s": min(v["cpu"] for v in values),
        "peak_mib": max(v["peak_mib"] for v in values),
    }


def print_results(results: dict[str, dict[str, dict]]) -> None:
    for case, tools in results.items():
        reference = next(iter(tools.values()))
        print(f"\n== {case}")
        print(
            f"{'command':32} {'best s':>7} {'median s':>8} {'CPU s':>6} {'peak MiB':>8}  "
            "x reference (best, median)"
        )
        for tool, value in tools.items():
            best = value["best_s"] / reference["best_s"]
            median = value["median_s"] / reference["median_s"]
            print(
                f"{tool:32} {value['best_s']:7.2f} {value['median_s']:8.2f} {value['cpu_s']:6.2f} "
                f"{value['peak_mib']:8.1f}  {best:.2f}, {median:.2f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="round-robin rounds (default 5)")
    parser.add_argument("--save", action="store_true", help="write bench/large-<date>.json")
    parser.add_argument("--no-lief", action="store_true", help="skip LIEF (slow: ~20 s a run)")
    args = parser.parse_args()
    linkscope = shutil.which("linkscope", path=str(Path(sys.executable).parent))
    if linkscope is None:
        raise SystemExit("linkscope is not installed in this Python's environment")
    inputs = build(cache_dir())
    facts = describe(inputs)
    print(json.dumps(facts))
    lief = not args.no_lief and _has("lief")
    cases = commands(inputs, linkscope, lief) | pool_cases(inputs) | batch_cases(linkscope)
    results = run_cases(cases, args.runs)
    print_results(results)
    elves = batch_files()
    for tool, value in next(v for k, v in results.items() if k.startswith("batch")).items():
        if "cold" not in tool:
            rate = elves / value["best_s"]
            print(
                f"{tool}: {elves} ELF files, {rate:,.0f} files/s (best), "
                f"{elves / value['median_s']:,.0f} (median)"
            )
    facts["batch_elf_files"] = elves
    if args.save:
        stamp = datetime.date.today().isoformat()
        out = HERE / f"large-{stamp}.json"
        out.write_text(json.dumps({"input": facts, "results": results}, indent=2) + "\n")
        print(f"\nwrote {out.name}")


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


if __name__ == "__main__":
    main()
