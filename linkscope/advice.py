"""How to fix what linkscope finds, in the words of the toolchain that built the binary.

Pure functions of facts: rules use them for their `fix` text and `explain` for its advice.
"""

from __future__ import annotations

from collections.abc import Callable

from linkscope.ecosystems.base import Need
from linkscope.model import BinaryFacts, Origin, version_key

RUST_TRIPLES = {"x86_64": "x86_64-unknown-linux-gnu", "aarch64": "aarch64-unknown-linux-gnu"}
RUST_MUSL = {"x86_64": "x86_64-unknown-linux-musl", "aarch64": "aarch64-unknown-linux-musl"}
ZIG_TRIPLES = {"x86_64": "x86_64-linux-gnu", "aarch64": "aarch64-linux-gnu"}
UNREADABLE_FIX = (
    "Rebuild or re-copy the file: a damaged binary cannot be loaded. If it is intact and over a "
    "read limit, raise that limit as the message says."
)
GOARCH = {"x86_64": "amd64", "aarch64": "arm64"}
LAMBDA_ARCH = {"x86_64": "x86_64", "aarch64": "arm64"}
IMAGES = {
    "al2023": "public.ecr.aws/lambda/provided:al2023",
    "al2": "public.ecr.aws/lambda/provided:al2",
    "al1": "public.ecr.aws/lambda/provided:alami",
}


def language(facts: BinaryFacts) -> str:
    return facts.toolchain.language or "c"


def glibc_fix(
    facts: BinaryFacts, glibc: str, machine: str, os_id: str, need: Need | None = None
) -> str:
    """How to need no newer glibc than `glibc` (the runtime's)."""
    packaged = packaging_fix(facts.origin, need)
    if packaged is not None:
        return packaged
    lang = language(facts)
    image = IMAGES.get(os_id, "the runtime's build image")
    if lang == "rust":
        return (
            f"Build for glibc {glibc}: `cargo lambda build --release` (it targets the runtime's "
            f"glibc), or `cargo zigbuild --release --target {RUST_TRIPLES.get(machine, machine)}"
            f".{glibc}`; or build the musl target `{RUST_MUSL.get(machine, machine)}`, which "
            "links the C library statically."
        )
    if lang == "go":
        return (
            f"Build with `CGO_ENABLED=0 GOOS=linux GOARCH={GOARCH.get(machine, machine)}` so "
            "that no C library is needed; if cgo is required, build inside "
            f'{image} or use `CC="zig cc -target {ZIG_TRIPLES.get(machine, machine)}.{glibc}"`.'
        )
    if lang == "c++":
        return (
            f"Build inside {image} (its glibc is {glibc}), or with "
            f"`zig c++ -target {ZIG_TRIPLES.get(machine, machine)}.{glibc}`."
        )
    return (
        f"Build inside {image} (its glibc is {glibc}), or with "
        f"`zig cc -target {ZIG_TRIPLES.get(machine, machine)}.{glibc}`; "
        "a newer build machine's glibc is what raised the requirement."
    )


def libstdcxx_fix(facts: BinaryFacts, os_id: str, need: Need | None = None) -> str:
    packaged = packaging_fix(facts.origin, need)
    if packaged is not None:
        return packaged
    image = IMAGES.get(os_id, "the runtime's build image")
    return (
        f"Build with the runtime's GCC (inside {image}), or link libstdc++ statically "
        "(`-static-libstdc++ -static-libgcc`). Shipping a newer libstdc++.so.6 works only with "
        "DT_RPATH (`-Wl,-rpath,'$ORIGIN/lib' -Wl,--disable-new-dtags`): Lambda's "
        "LD_LIBRARY_PATH puts /lib64 first, and ld.so searches it before DT_RUNPATH, so a "
        "bundled copy found through RUNPATH or /var/task/lib is never used."
    )


def _article(machine: str) -> str:
    """The article as the machine's name is read aloud: an x86_64, an aarch64, a riscv64."""
    return "an" if machine[:1] in "aeiox" or machine.startswith("s390") else "a"


def architecture_fix(
    facts: BinaryFacts, want_machine: str, need: Need | None = None, *, glibc: str = "2.26"
) -> str:
    """`glibc`: the runtime's own (a build for a newer one would then fail LS301)."""
    packaged = packaging_fix(facts.origin, need)
    if packaged is not None:
        return packaged
    arch = LAMBDA_ARCH.get(facts.machine)
    lang = language(facts)
    rebuild = {
        "rust": f"`cargo lambda build --release{' --arm64' if want_machine == 'aarch64' else ''}`",
        "go": f"`GOOS=linux GOARCH={GOARCH.get(want_machine, want_machine)} go build`",
    }.get(
        lang,
        f"{_article(want_machine)} {want_machine} compiler (e.g. `zig cc -target "
        f"{ZIG_TRIPLES.get(want_machine, want_machine)}.{glibc}`)",
    )
    if arch is not None:
        return (
            f"Set the function's architecture to {arch}, or rebuild for {want_machine} with "
            f"{rebuild}."
        )
    return f"Rebuild for 64-bit Linux {want_machine} with {rebuild}."


def musl_dynamic_fix(facts: BinaryFacts, need: Need | None = None) -> str:
    packaged = packaging_fix(facts.origin, need)
    if packaged is not None:
        return packaged
    lang = language(facts)
    if lang == "rust":
        return (
            "Link musl statically (the default for `*-unknown-linux-musl`: do not set "
            "`-C target-feature=-crt-static`), or build the glibc target with "
            "`cargo lambda build`."
        )
    if lang == "go":
        return "Build with `CGO_ENABLED=0` (no C library at all), or with cgo on a glibc system."
    return (
        "Link statically (`musl-gcc -static`, or `zig cc -target <arch>-linux-musl`), or build "
        "against glibc (Amazon Linux uses glibc; there is no musl on it)."
    )


def missing_library_fix(
    name: str, facts: BinaryFacts | None = None, need: Need | None = None
) -> str:
    origin = facts.origin if facts is not None else None
    if origin is not None and need is not None:
        from linkscope.packaging_fixes import wheel_library_fix

        shipped = wheel_library_fix(name, origin, need)
        if shipped is not None:
            return shipped
    packaged = packaging_fix(origin, need)
    if packaged is not None:
        return packaged
    return (
        f"Ship {name} (and what it needs) in the package's lib/ folder or a layer's lib/ "
        "(both are on LD_LIBRARY_PATH), link it statically, or build against the runtime's "
        "version of it."
    )


def runtime_client_fix(facts: BinaryFacts, *, extension: bool = False) -> str:
    """How to give a bootstrap (or extension) a Lambda API client, in its own language."""
    if extension:
        return (
            "Register with the Extensions API at start (POST "
            "http://$AWS_LAMBDA_RUNTIME_API/2020-01-01/extension/register), then loop on "
            "GET .../2020-01-01/extension/event/next; if this file only launches the real "
            "extension, check that one instead."
        )
    lang = language(facts)
    loop = (
        "or implement the loop: GET http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/"
        "invocation/next, then POST .../runtime/invocation/<request id>/response"
    )
    if lang == "rust":
        return (
            "Use the `lambda_runtime` crate (`lambda_runtime::run(service_fn(handler))` in "
            f"main) and build with `cargo lambda build --release`; {loop}."
        )
    if lang == "go":
        return (
            "Call `lambda.Start(handler)` from github.com/aws/aws-lambda-go/lambda in main, "
            f"and build with `-tags lambda.norpc` for provided.* runtimes; {loop}."
        )
    if lang == "c++":
        return f"Link aws-lambda-cpp and call `aws::lambda_runtime::run_handler(handler)`; {loop}."
    return (
        f"Implement the Runtime API loop ({loop.removeprefix('or implement the loop: ')}), or "
        "if this file only launches the real program, check that one instead."
    )


# ---------------------------------------------------------------- advice by packaging origin


def need_of(runtime: str, arch: str, machine: str, glibc: str, os_id: str) -> Need:
    return Need(runtime=runtime, arch=arch, machine=machine, glibc=glibc, os_id=os_id)


def packaging_fix(origin: Origin | None, need: Need | None) -> str | None:
    """The fix in the words of the tool that put the file there (pip, uv, npm, ...), or None
    for a file with no packaging origin (the compiler advice above applies). `need` is None
    for `inspect`, which knows no runtime."""
    if origin is None:
        return None
    if need is None:
        return _unknown_runtime_fix(origin)
    advise = PACKAGING_ADVICE.get(origin.ecosystem)
    return None if advise is None else advise(origin, need)


def _unknown_runtime_fix(origin: Origin) -> str:
    what = f"{origin.package} {origin.version or ''}".strip() if origin.package else "It"
    wheel = f" from `{origin.tag}`" if origin.tag else ""
    return (
        f"{what} was installed{wheel} by {origin.installer or 'its packaging tool'}: reinstall it "
        "for Lambda's platform; `linkscope check --runtime <runtime> --arch <arch>` gives the "
        "exact command for your runtime."
    )


def _python_version(origin: Origin | None, need: Need) -> str:
    if need.python:
        return need.python
    abi = (origin.abi if origin is not None else None) or ""
    if abi.startswith("cpython-"):
        return abi.removeprefix("cpython-").rstrip("t")
    return "3.12"


def pip_platforms(need: Need) -> tuple[tuple[str, ...], str]:
    """`pip --platform` values (one tag each: pip does not expand them) and the uv
    `--python-platform` for the runtime: from languages.json for python* runtimes, else from
    the OS's glibc."""
    from linkscope.profiles.languages import language_facts

    facts = language_facts(need.runtime)
    if facts is not None and facts.python is not None:
        uv = facts.python.uv_platform(need.arch) or f"{need.machine}-manylinux2014"
        return facts.python.platforms(need.arch), uv
    machine = need.machine
    if version_key(need.glibc) >= (2, 34):
        levels = ("manylinux_2_34", "manylinux_2_28", "manylinux2014")
        return tuple(f"{level}_{machine}" for level in levels), f"{machine}-manylinux_2_34"
    return (f"manylinux2014_{machine}",), f"{machine}-manylinux2014"


def pip_fix(
    origin: Origin | None, need: Need, target: str = "package/", *, name_source: bool = True
) -> str:
    """Reinstall for the runtime with pip or uv, flags exact (reference: managed-runtimes 9),
    the tool that installed the file first. `name_source`: start with the wheel the file came
    from (off when the message names it)."""
    python = _python_version(origin, need)
    platforms, uv_platform = pip_platforms(need)
    source = ""
    if origin is not None and origin.package and name_source:
        wheel = f" from the wheel `{origin.tag}`" if origin.tag else ""
        version = f" {origin.version}" if origin.version else ""
        source = f"{origin.package}{version} was installed{wheel}. "
    pip = _pip_command(need, python, platforms, target)
    uv = _uv_command(need, python, uv_platform, target, al2=len(platforms) == 1)
    first, second = (uv, pip) if origin is not None and origin.installer == "uv" else (pip, uv)
    return (
        f"{source}Reinstall the dependencies for {need.runtime} on {need.arch} {first}, or "
        f"{second}; or run `sam build --use-container`, which installs them inside the "
        "runtime's build image."
    )


def _pip_command(need: Need, python: str, platforms: tuple[str, ...], target: str) -> str:
    flags = " ".join(f"--platform {p}" for p in platforms)
    levels = (
        "pip's --platform matches one tag exactly, so each level is listed"
        if len(platforms) > 1
        else f"pip's --platform matches that one tag exactly: {need.runtime}'s glibc "
        f"{need.glibc} takes nothing newer"
    )
    return (
        f"with pip: `pip install -r requirements.txt --target {target} --implementation cp "
        f"--python-version {python} --only-binary=:all: {flags}` ({levels})"
    )


def _uv_command(need: Need, python: str, platform: str, target: str, *, al2: bool) -> str:
    note = (
        f" (not uv's default linux platform: manylinux_2_28 is too new for {need.runtime})"
        if al2
        else ""
    )
    return (
        f"with uv: `uv pip install -r requirements.txt --target {target} --python-version "
        f"{python} --python-platform {platform} --only-binary :all:`{note}"
    )


def _pip_fix(origin: Origin, need: Need) -> str | None:
    return pip_fix(origin, need)


# ecosystem -> advice for a file it installed; node/ruby/jvm/dotnet add theirs here
PACKAGING_ADVICE: dict[str, Callable[[Origin, Need], str | None]] = {"python": _pip_fix}


def _register_tool_fixes() -> None:
    """npm, Bundler, Maven/Gradle and dotnet fixes (linkscope/packaging_fixes.py)."""
    from linkscope.packaging_fixes import bundler_fix, dotnet_fix, maven_fix, npm_fix

    PACKAGING_ADVICE.update(
        {"nodejs": npm_fix, "ruby": bundler_fix, "java": maven_fix, "dotnet": dotnet_fix}
    )


_register_tool_fixes()
