"""LS611 Node addon for another Node ABI, LS612 Node-API newer than the runtime's, LS613 npm
package for another platform (or a platform package missing). Facts: the addons' dynamic
symbols (linkscope/elf/symbols.py), `package.json` files (linkscope/ecosystems/npm.py) and the
runtime's NODE_MODULE_VERSION and Node-API version (profiles/data/languages.json)."""

from __future__ import annotations

from collections.abc import Iterator

from linkscope.ecosystems.node import NodePackage
from linkscope.ecosystems.node_abi import AbiProblem, abi_problems, addon_abi
from linkscope.ecosystems.node_builds import (
    BuildPlace,
    NodeTarget,
    build_place,
    node_fits,
    node_target,
    platform_fits,
)
from linkscope.ecosystems.npm import (
    MissingPlatform,
    NpmPackage,
    Platform,
    lambda_platform,
    missing_platform_packages,
    platform_mismatch,
)
from linkscope.model import Finding, ScannedPackage, Severity
from linkscope.packaging_fixes import node_rebuild_fix, npm_install_fix
from linkscope.profiles.languages import NodeFacts, language_facts
from linkscope.resolve import World
from linkscope.rules.base import Context, Rule, named
from linkscope.rules.spares import spare_natives


def _node(world: World) -> NodeFacts | None:
    facts = language_facts(world.target.runtime.name)
    return facts.nodejs if facts is not None else None


def _packages(world: World) -> Iterator[tuple[ScannedPackage, NodePackage]]:
    for package in (*world.function, *world.layers):
        part = package.ecosystems.part(NodePackage)
        if part is not None and (part.addons or part.packages):
            yield package, part


def check_node_abi(world: World, ctx: Context) -> Iterator[Finding]:
    node = _node(world)
    if node is None:
        return
    runtime = world.target.runtime.name
    spares = spare_natives(world)
    for package, part in _packages(world):
        yield from _layer_folders(package, part, world, runtime)
        yield from _builds_for_other_nodes(package, part, world)
        for rule, problem, path in _addon_problems(package, part, node, runtime, spares):
            if rule is NODE_ABI:
                yield _finding(rule, problem, path, node_rebuild_fix(world, package, path))


def check_node_api(world: World, ctx: Context) -> Iterator[Finding]:
    node = _node(world)
    if node is None:
        return
    runtime = world.target.runtime.name
    spares = spare_natives(world)
    for package, part in _packages(world):
        for rule, problem, path in _addon_problems(package, part, node, runtime, spares):
            if rule is NODE_API:
                fix = (
                    "Use a build of the package made for Node-API "
                    f"{node.napi_version} or lower (an older release), or choose a runtime "
                    "whose Node has this Node-API version (nodejs22.x and later have 10)."
                )
                yield _finding(rule, problem, path, fix)


def _addon_problems(
    package: ScannedPackage,
    part: NodePackage,
    node: NodeFacts,
    runtime: str,
    spares: dict[str, str],
) -> Iterator[tuple[Rule, AbiProblem, str]]:
    """ABI problems of the addons Node would load (not another platform's copies)."""
    ignored = set(part.ignored)
    binaries = {b.path: b for b in package.binaries}
    for addon in part.addons:
        facts = binaries.get(addon.location)
        abi = addon_abi(facts.interface) if facts is not None else None
        if abi is None or addon.inner in ignored or addon.location in spares:
            continue
        for problem in abi_problems(abi, runtime, node.node_module_version, node.napi_version):
            yield (NODE_ABI if problem.rule == "LS611" else NODE_API), problem, addon.location


def _finding(rule: Rule, problem: AbiProblem, path: str, fix: str) -> Finding:
    return rule.finding(
        path,
        f"{named(path)} {problem.cause}: {problem.consequence}.",
        fix,
        severity=Severity.ERROR if problem.error else Severity.WARNING,
    )


def _layer_folders(
    package: ScannedPackage, part: NodePackage, world: World, runtime: str
) -> Iterator[Finding]:
    """A layer's `nodejs/nodeNN/node_modules` for another Node major is not on NODE_PATH."""
    if package not in world.layers:
        return
    major = runtime.removeprefix("nodejs").removesuffix(".x")
    for other in part.layer_majors:
        if other == major:
            continue
        folder = f"nodejs/node{other}/node_modules"
        yield NODE_ABI.finding(
            package.source,
            f"{named(package.source)} puts packages in `{folder}`, which {runtime} never "
            f"searches (its NODE_PATH has /opt/nodejs/node{major}/node_modules and "
            "/opt/nodejs/node_modules): `require` does not find them.",
            f"Move them to `nodejs/node{major}/node_modules` or `nodejs/node_modules` in the "
            "layer, installed with that Node major.",
            severity=Severity.WARNING,
        )


# ---------------------------------------------------------------- LS613


def check_platform_packages(world: World, ctx: Context) -> Iterator[Finding]:
    if _node(world) is None and not any(p.ecosystems.language == "nodejs" for p in world.function):
        return
    platform = lambda_platform(world.target.arch)
    for package, part in _packages(world):
        locations = {m.inner: m.location for m in package.metadata}
        for missing in missing_platform_packages(part.packages, platform):
            yield _missing(missing, locations, world)
        yield from _mismatched(package, part, world)
        yield from _missing_prebuilds(package, part, world)


def _json_location(package: NpmPackage, locations: dict[str, str]) -> str:
    inner = f"{package.folder}/package.json" if package.folder else "package.json"
    return locations.get(inner, inner)


def _missing(missing: MissingPlatform, locations: dict[str, str], world: World) -> Finding:
    package = missing.package
    path = _json_location(package, locations)
    platform = lambda_platform(world.target.arch)
    installed = f"; installed are {', '.join(missing.installed)}" if missing.installed else ""
    if not missing.wanted:
        return PLATFORM.finding(
            path,
            f"{named(path)}: {package.name} loads a platform package at run time, and none "
            f"of its optional ones is for {platform.label}: it cannot load its native code on "
            "Lambda.",
            "Check whether this version supports Linux on this architecture; a newer one may.",
            severity=Severity.WARNING,
        )
    return PLATFORM.finding(
        path,
        f"{named(path)}: {package.name} loads a platform package at run time, and none for "
        f"{platform.label} is installed (it would use {', '.join(missing.wanted[:3])}"
        f"{installed}): `require('{package.name}')` fails on Lambda.",
        npm_install_fix(world, package.name, package.version),
    )


def _mismatched(package: ScannedPackage, part: NodePackage, world: World) -> Iterator[Finding]:
    """Installed packages whose os/cpu/libc exclude Lambda's platform and that carry native
    code, other than a loader's platform packages (`fsevents` from a Mac): a warning."""
    platform = lambda_platform(world.target.arch)
    holding = {a.package.folder for a in part.addons if a.package is not None}
    loaded_by = {dep for npm in part.packages for dep in npm.optional}
    locations = {m.inner: m.location for m in package.metadata}
    for npm in part.packages:
        why = platform_mismatch(npm, platform)
        if why is None or npm.folder not in holding:
            continue
        if npm.name in loaded_by:
            continue  # a loader's platform package: the loader's own finding speaks for it
        path = _json_location(npm, locations)
        yield PLATFORM.finding(
            path,
            f"{named(path)}: {npm.name} is for {why} (its package.json), not for "
            f"{platform.label}: nothing on Lambda can load its native code.",
            npm_install_fix(world, None, None),
            severity=Severity.WARNING,
        )


def _unloadable(
    package: ScannedPackage, part: NodePackage, platform: Platform, node: NodeTarget | None
) -> Iterator[tuple[NpmPackage, str, list[BuildPlace]]]:
    """Packages whose addons are all prebuilds (no `build/Release` one), none of which their
    loader picks on Lambda: (package, path of its package.json, the places it ships)."""
    by_package: dict[str, list[str]] = {}
    for addon in part.addons:
        if addon.package is not None:
            by_package.setdefault(addon.package.folder, []).append(addon.inner)
    locations = {m.inner: m.location for m in package.metadata}
    for folder, inners in sorted(by_package.items()):
        places = [build_place(i) for i in inners]
        known = [p for p in places if p is not None]
        if len(known) < len(places):
            continue  # an addon that is no prebuild (build/Release) may be the one loaded
        if any(platform_fits(p, platform) and node_fits(p, platform, node) for p in known):
            continue
        npm = next(p for p in part.packages if p.folder == folder)
        yield npm, _json_location(npm, locations), known


def _missing_prebuilds(
    package: ScannedPackage, part: NodePackage, world: World
) -> Iterator[Finding]:
    """Prebuilt addons (`prebuilds/<platform>-<arch>/`, `bin/<platform>-<arch>-node-<N>/`...)
    with none for Lambda's platform and no `build/Release` addon: node-gyp-build fails with
    `No native build was found`, other loaders with `Cannot find module`."""
    platform = lambda_platform(world.target.arch)
    node = node_target(world.target.runtime.name)
    for npm, path, places in _unloadable(package, part, platform, node):
        if any(platform_fits(p, platform) for p in places):
            continue  # builds for this platform, for other Node versions: LS611
        yield PLATFORM.finding(
            path,
            f"{named(path)}: {npm.name} ships prebuilt addons only for other platforms "
            f"({_place_names(places)}), none for {platform.label}: its loader finds none "
            "(node-gyp-build: `No native build was found`).",
            npm_install_fix(world, npm.name, npm.version),
        )


def _builds_for_other_nodes(
    package: ScannedPackage, part: NodePackage, world: World
) -> Iterator[Finding]:
    """Prebuilt addons for this platform, one per Node version, none for the runtime's."""
    platform = lambda_platform(world.target.arch)
    node = node_target(world.target.runtime.name)
    if node is None:
        return
    runtime = world.target.runtime.name
    for npm, path, places in _unloadable(package, part, platform, node):
        ours = [p for p in places if platform_fits(p, platform)]
        if not ours:
            continue  # none for this platform at all: LS613
        yield NODE_ABI.finding(
            path,
            f"{named(path)}: {npm.name} ships prebuilt addons for {platform.label} only for "
            f"other Node versions ({_place_names(ours)}), none for {runtime} (Node "
            f"{node.major}, NODE_MODULE_VERSION {node.module_version}): its loader finds none, "
            f"and `require('{npm.name}')` fails.",
            f"Use a release of {npm.name} that ships a build for Node {node.major} (or one "
            f"built on Node-API), or build it under Node {node.major}: `npm rebuild {npm.name}` "
            f"in the public.ecr.aws/sam/build-{runtime} image, or `sam build --use-container`.",
        )


def _place_names(places: list[BuildPlace]) -> str:
    names = sorted({p.folder.rsplit("/", 1)[-1].removesuffix(".node") for p in places})
    return ", ".join(names[:4]) + (" ..." if len(names) > 4 else "")


NODE_ABI = Rule(
    id="LS611",
    title="Node.js addon built for another Node ABI",
    severity=Severity.ERROR,
    help="A `.node` addon that exports node_register_module_v<N>, or registers a node_module "
    "struct whose nm_version is N (NODE_MODULE, nan), loads only on the Node major with "
    "NODE_MODULE_VERSION N (`was compiled against a different Node.js version`).",
    check=check_node_abi,
)
NODE_API = Rule(
    id="LS612",
    title="Node.js addon needs a newer Node-API version than the runtime's",
    severity=Severity.ERROR,
    help="An addon declaring a Node-API version above the runtime's crashes Node at `require`; "
    "one importing newer Node-API functions dies at the first call.",
    check=check_node_api,
)
PLATFORM = Rule(
    id="LS613",
    title="npm package for another platform, or its platform package missing",
    severity=Severity.ERROR,
    help="package.json os/cpu/libc exclude Lambda's platform (linux, the function's CPU, "
    "glibc), or a package that loads a platform package at run time (sharp, esbuild, swc) has "
    "none installed for it.",
    check=check_platform_packages,
)
RULES = (NODE_ABI, NODE_API, PLATFORM)
