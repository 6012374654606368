"""Fixes in the words of the packaging tool that put a file there, for Node.js (npm, pnpm,
yarn), Ruby (Bundler), Java (Maven, Gradle) and .NET (dotnet publish), with their exact flags
(reference: managed-runtimes 9). Pure functions of the file's origin and what the runtime
needs; `linkscope.advice.PACKAGING_ADVICE` maps each ecosystem to its function here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from linkscope.ecosystems.base import Need
from linkscope.ecosystems.npm import NPM_CPU
from linkscope.model import Origin

if TYPE_CHECKING:
    from linkscope.model import ScannedPackage
    from linkscope.resolve import World

RUBY_PLATFORM = {"x86_64": "x86_64-linux", "arm64": "aarch64-linux"}
DOTNET_RID = {"x86_64": "linux-x64", "arm64": "linux-arm64"}
MAVEN_CLASSIFIER = {"x86_64": "linux-x86_64", "arm64": "linux-aarch_64"}


def npm_flags(need: Need) -> str:
    cpu = NPM_CPU.get(need.arch, need.arch)
    return f"--os=linux --cpu={cpu} --libc=glibc"


def npm_platform_advice(need: Need, what: str | None = None) -> str:
    """Reinstall for Lambda's platform: `npm install <what>` for one package, else `npm ci`."""
    cpu = NPM_CPU.get(need.arch, need.arch)
    command = f"npm install {npm_flags(need)} {what}" if what else f"npm ci {npm_flags(need)}"
    return (
        f"Install for Lambda's platform: `{command}` (npm 10.3+; give the flags to every "
        "install, or `npm ci` installs the build machine's variant again); pnpm and Yarn: "
        f"`supportedArchitectures` with os linux, cpu {cpu}, libc glibc (package.json's "
        '"pnpm", .yarnrc.yml); or `sam build --use-container`.'
    )


def npm_install_fix(need: Need, name: str | None, version: str | None) -> str:
    what = (f"{name}@{version}" if version else name) if name else None
    return npm_platform_advice(need, what)


def node_rebuild_fix(world: World, package: ScannedPackage, location: str) -> str:
    origin = next((b.origin for b in package.binaries if b.path == location), None)
    name = origin.package if origin is not None and origin.package else "the package"
    runtime = world.target.runtime.name
    major = runtime.removeprefix("nodejs").removesuffix(".x")
    return (
        f"Reinstall {name} with Node {major}, the runtime's (`npm rebuild {name}` or `npm ci` "
        f"under Node {major}, or `sam build --use-container`, which uses the {runtime} image), "
        "or use a release of it built on Node-API, which does not depend on the Node major."
    )


def npm_fix(origin: Origin, need: Need) -> str | None:
    """For any finding about a file an npm package installed (LS101, LS103, LS202, LS301...).
    A platform package or prebuild (it has a platform tag) is chosen by npm's flags; an addon
    without one was compiled (node-gyp) or downloaded for the build machine at install time,
    and only installing on Linux changes it."""
    source = ""
    if origin.package:
        version = f"@{origin.version}" if origin.version else ""
        built = f" for {origin.tag}" if origin.tag else ""
        source = f"From npm package {origin.package}{version}{built}. "
    if origin.tag:
        return source + npm_platform_advice(need)
    cpu = NPM_CPU.get(need.arch, need.arch)
    image = (
        f"public.ecr.aws/sam/build-{need.runtime}"
        if need.runtime.startswith("nodejs")
        else "a Linux build image"
    )
    return (
        f"{source}npm built or downloaded it for the build machine at install time (node-gyp, "
        f"prebuild-install): install on Linux {cpu} instead, with `sam build --use-container` "
        f"(it runs `npm install` inside {image}) or `npm ci` in such a container; npm's "
        "--os/--cpu flags choose platform packages, they do not cross-compile."
    )


def bundler_advice(runtime: str, arch: str) -> str:
    platform = RUBY_PLATFORM.get(arch, arch)
    ruby = runtime.removeprefix("ruby") if runtime.startswith("ruby") else None
    minor = (
        f"with Ruby {ruby}, the runtime's (its bundle folder is vendor/bundle/ruby/{ruby}.0)"
        if ruby
        else "with the runtime's Ruby minor"
    )
    return (
        f"Bundle for Lambda {minor}: `bundle lock --add-platform {platform}` and `bundle config "
        "set --local path vendor/bundle`, then `bundle install`; or compile the gems from source "
        "with `bundle config set force_ruby_platform true`; or build inside the runtime's image "
        "(`sam build --use-container`)."
    )


def bundler_fix(origin: Origin, need: Need) -> str | None:
    gem = f"{origin.package} {origin.version}".strip() if origin.package else "The gem"
    built = f" (platform {origin.tag})" if origin.tag else ""
    return f"{gem}{built} was installed by Bundler. " + bundler_advice(need.runtime, need.arch)


def maven_fix(origin: Origin, need: Need) -> str | None:
    classifier = MAVEN_CLASSIFIER.get(need.arch, need.arch)
    jar = origin.package or "the jar"
    return (
        f"{jar} carries this native library. Depend on the Linux build for {need.arch}: in "
        f"Maven `<classifier>{classifier}</classifier>` (not `${{os.detected.classifier}}`, which "
        "bakes in the build machine's), in Gradle `implementation(\"group:artifact:version:"
        f'{classifier}")`; or use a release of the library that bundles a Linux {need.machine} '
        "copy."
    )


def dotnet_fix(origin: Origin, need: Need) -> str | None:
    rid = DOTNET_RID.get(need.arch, need.arch)
    package = f"{origin.package} {origin.version}".strip() if origin.package else "the package"
    return (
        f"{package} (NuGet) provides this native library. Publish for Lambda: `dotnet publish "
        f"-c Release -r {rid} --self-contained false` (or `dotnet lambda package`, which passes "
        f"the RID of the function's architecture), and check that runtimes/{rid}/native/ "
        "holds a Linux build of it."
    )


def wheel_library_fix(name: str, origin: Origin, need: Need) -> str | None:
    """A library a wheel's file needs but neither bundles nor finds on the runtime: for a
    manylinux wheel that fits the runtime, reinstalling gets the same wheel (auditwheel left the
    library out, expecting the system to have it), so the library must be shipped; for a wheel
    pip built from an sdist on the build machine (`linux_x86_64`), a manylinux wheel (if the
    project publishes one) bundles it. None for other wheels: the pip fix applies."""
    if origin.ecosystem != "python" or not origin.tag:
        return None
    families = {_platform_family(p, need) for p in _wheel_platforms(origin.tag)}
    what = f"{origin.package} {origin.version or ''}".strip() if origin.package else "The wheel"
    system = {"al2023": ("Amazon Linux 2023", "amazonlinux:2023", "dnf"), "al2": (
        "Amazon Linux 2", "amazonlinux:2", "yum")}.get(need.os_id)  # fmt: skip
    copy = (
        f"copy it from {system[0]} (`{system[2]} install` the package that has it in an "
        f"`{system[1]}` container, `{system[2]} provides '*/{name}'` names it; take it from "
        "/usr/lib64)"
        if system
        else f"copy it from a system like {need.runtime}'s"
    )
    ship = (
        f"put {name} (and what it needs) in the function's `lib/` folder or a layer's `lib/` "
        f"(both are on LD_LIBRARY_PATH): {copy}"
    )
    if "fits" in families:
        return (
            f"{what}'s wheel (`{origin.tag}`) does not bundle {name}: it expects the system to "
            f"have it, and reinstalling gets the same wheel. {ship[0].upper()}{ship[1:]}; or "
            f"use a release of {origin.package or 'it'} whose wheel bundles it."
        )
    if families == {"source"}:
        from linkscope.advice import pip_fix

        return (
            f"{pip_fix(origin, need)} A `linux_*` wheel was built from source on the build "
            f"machine and linked to that machine's {name}; a manylinux wheel bundles its "
            "libraries. If the project publishes only an sdist, build it in the runtime's "
            f"build image and {ship}, or use a pure-Python alternative."
        )
    return None


def _wheel_platforms(tag: str) -> list[str]:
    """`cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64` -> its platform tags."""
    return [p for part in tag.split() for p in part.split("-", 2)[-1].split(".")]


def _platform_family(platform: str, need: Need) -> str:
    from linkscope.ecosystems.wheels import platform_facts
    from linkscope.model import version_key

    family, glibc, arch = platform_facts(platform)
    if family == "linux":
        return "source"
    if family == "manylinux" and arch == need.machine and glibc is not None:
        return "fits" if glibc <= version_key(need.glibc)[:2] else "newer"
    return family
