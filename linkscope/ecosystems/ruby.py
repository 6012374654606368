"""Ruby: gems as Bundler installs them (`bundle config set --local path vendor/bundle`) and as
a layer carries them (`ruby/gems/<ABI>/`), read from folder names (reference: managed-runtimes
1.3, 2.4, 6):

    vendor/bundle/ruby/<ABI>/gems/<gem>-<version>[-<platform>]/lib/.../x.so
    vendor/bundle/ruby/<ABI>/extensions/<platform>/<ABI>[-static]/<gem>-<version>/x.so
    .../gems/<gem>-<version>-<platform>/lib/<gem>/<major.minor>/x.so  (precompiled fat gems)

A bundle under another ABI folder is never on GEM_PATH (`Bundler::GemNotFound`); a fat gem
without a folder for the runtime's Ruby minor cannot `require` its extension.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from linkscope.ecosystems.base import Ecosystem
from linkscope.model import Classification, EntryKind, Origin, ScannedPackage

BUNDLE = re.compile(
    r"^(?P<root>vendor/bundle/ruby|ruby/gems)/(?:(?P<abi>\d+\.\d+\.\d+)/)?(?P<rest>.*)$"
)
GEM_DIR = re.compile(r"^(?P<name>.+?)-(?P<version>\d[^-]*)(?:-(?P<platform>.+))?$")
EXTENSIONS = re.compile(r"^extensions/(?P<platform>[^/]+)/(?P<abi>[^/]+)/(?P<gem>[^/]+)/")
FAT_MINOR = re.compile(r"/lib/[^/]+/(?P<minor>\d+\.\d+)/[^/]+\.so$")


@dataclass(frozen=True, slots=True, kw_only=True)
class GemFile:
    inner: str
    bundle_abi: str | None  # the vendor/bundle/ruby/<ABI> (or ruby/gems/<ABI>) folder
    gem: str | None = None
    version: str | None = None
    platform: str | None = None  # from the gem folder (x86_64-linux, arm64-darwin) or extensions/
    extension_abi: str | None = None  # extensions/<platform>/<ABI>[-static]
    fat_minor: str | None = None  # lib/<gem>/3.3/x.so in a precompiled gem

    @property
    def abi_label(self) -> str | None:
        """The origin's `abi`: "ruby-3.3.0"."""
        abi = self.extension_abi or self.bundle_abi
        return f"ruby-{abi}" if abi else None


def gem_file(inner: str) -> GemFile | None:
    """Where a native extension sits in a bundle; None outside one."""
    match = BUNDLE.match(inner)
    if match is None or not inner.endswith(".so"):
        return None
    abi, rest = match["abi"], match["rest"]
    extension = EXTENSIONS.match(rest)
    if extension is not None:
        name, version, _platform = _gem_dir(extension["gem"])
        return GemFile(
            inner=inner,
            bundle_abi=abi,
            gem=name,
            version=version,
            platform=extension["platform"],
            extension_abi=extension["abi"],
        )
    if not rest.startswith("gems/"):
        return GemFile(inner=inner, bundle_abi=abi)
    folder = rest.split("/", 2)[1]
    name, version, platform = _gem_dir(folder)
    fat = FAT_MINOR.search("/" + rest.split("/", 2)[2]) if rest.count("/") >= 2 else None
    return GemFile(
        inner=inner,
        bundle_abi=abi,
        gem=name,
        version=version,
        platform=platform,
        fat_minor=fat["minor"] if fat else None,
    )


def _gem_dir(folder: str) -> tuple[str, str | None, str | None]:
    match = GEM_DIR.match(folder)
    if match is None:
        return folder, None, None
    return match["name"], match["version"], match["platform"]


@dataclass(frozen=True, slots=True, kw_only=True)
class AbiProblem:
    error: bool
    cause: str
    consequence: str


def abi_problem(
    gem: GemFile, runtime: str, runtime_abi: str, siblings: list[GemFile]
) -> AbiProblem | None:
    """Why `runtime` (Ruby ABI `runtime_abi`, "3.3.0") will not load this extension, if so.
    `siblings` are the other extensions of the same gem (a fat gem's other minors)."""
    if gem.bundle_abi is not None and gem.bundle_abi != runtime_abi:
        return AbiProblem(
            error=True,
            cause=f"is installed for Ruby {gem.bundle_abi} (its bundle folder is "
            f"`{gem.bundle_abi}`), but {runtime} looks only in `{runtime_abi}` (GEM_PATH)",
            consequence="Bundler does not find the gem (`Bundler::GemNotFound`)",
        )
    ext_abi = gem.extension_abi
    if ext_abi is not None and ext_abi.removesuffix("-static") != runtime_abi:
        return AbiProblem(
            error=True,
            cause=f"was compiled for Ruby {ext_abi.removesuffix('-static')} "
            f"(extensions/{gem.platform}/{ext_abi}), but {runtime} is Ruby {runtime_abi}",
            consequence="RubyGems does not find the extension (`LoadError`)",
        )
    if ext_abi is not None and ext_abi.endswith("-static"):
        return AbiProblem(
            error=False,
            cause=f"was compiled by a static Ruby (extensions/{gem.platform}/{ext_abi}); "
            "a shared Ruby looks in the folder without `-static`",
            consequence="RubyGems may not find the extension (whether Lambda's Ruby is "
            "shared is unverified)",
        )
    minor = ".".join(runtime_abi.split(".")[:2])
    minors = {s.fat_minor for s in [gem, *siblings] if s.fat_minor}
    if gem.fat_minor is not None and minor not in minors:
        return AbiProblem(
            error=True,
            cause=f"ships its precompiled extension for Ruby {', '.join(sorted(minors))} "
            f"only, and {runtime} is Ruby {minor}",
            consequence="`require` fails with `LoadError` (cannot load such file)",
        )
    return None


# ---------------------------------------------------------------- classification

NAME = "ruby"


@dataclass(frozen=True, slots=True, kw_only=True)
class RubyPackage(Classification):
    gems: tuple[GemFile, ...] = ()  # native extensions inside a bundle or a layer's gems
    bundle_abis: tuple[str, ...] = ()  # the vendor/bundle/ruby/<ABI> (ruby/gems/<ABI>) folders


def classify(package: ScannedPackage) -> RubyPackage:
    entries = [e for e in package.entries if e.kind not in (EntryKind.DIRECTORY,)]
    natives = {e.inner: e.location for e in entries if e.kind in (EntryKind.ELF, EntryKind.NATIVE)}
    gems = tuple(g for inner in sorted(natives) if (g := gem_file(inner)) is not None)
    abis = sorted({m["abi"] for e in entries if (m := BUNDLE.match(e.inner)) and m["abi"]})
    inners = {e.inner for e in entries}
    evidence: list[str] = []
    weight = 0
    handlers = [i for i in inners if "/" not in i and i.endswith(".rb")]
    if handlers:
        evidence.append(f"handler file(s) at its root: {', '.join(sorted(handlers)[:3])}")
        weight += 4
    if {"Gemfile", "Gemfile.lock"} & inners:
        evidence.append("a Gemfile")
        weight += 3
    if abis:
        evidence.append(f"gems bundled for Ruby {', '.join(abis)}")
        weight += 5
    return RubyPackage(
        ecosystem=NAME,
        evidence=tuple(evidence),
        weight=weight,
        origins=tuple((natives[g.inner], _origin(g)) for g in gems),
        loaded=tuple(g.inner for g in gems),
        gems=gems,
        bundle_abis=tuple(abis),
    )


def _origin(gem: GemFile) -> Origin:
    return Origin(
        ecosystem=NAME,
        package=gem.gem,
        version=gem.version,
        tag=gem.platform,
        abi=gem.abi_label,
        installer="bundler" if gem.inner.startswith("vendor/bundle/") else None,
    )


def _wants(inner: str) -> bool:
    return False


ECOSYSTEM = Ecosystem(name=NAME, wants=_wants, classify=classify)
