"""LS611 Node addon for another Node ABI (or a package with prebuilt addons for other Node
versions only), LS612 Node-API newer than the runtime's; LS613 is in linkscope/rules/
npm_platform.py. Facts: the addons' dynamic symbols and node_module struct (linkscope/elf/
symbols.py, node_module.py), where each package's loader looks for its prebuilds
(linkscope/ecosystems/node_builds.py) and the runtime's NODE_MODULE_VERSION and Node-API
version (profiles/data/languages.json)."""

from __future__ import annotations

from collections.abc import Iterator

from linkscope.ecosystems.node import NodePackage
from linkscope.ecosystems.node_abi import AbiProblem, abi_problems, addon_abi
from linkscope.ecosystems.node_builds import node_target, platform_fits
from linkscope.ecosystems.npm import lambda_platform
from linkscope.model import Finding, ScannedPackage, Severity
from linkscope.packaging_fixes import node_rebuild_fix
from linkscope.profiles.languages import NodeFacts, language_facts
from linkscope.resolve import World
from linkscope.rules.base import Context, Rule, named
from linkscope.rules.npm_platform import (
    PLATFORM,
    node_packages,
    place_names,
    unloadable,
    unloadable_consequence,
)
from linkscope.rules.spares import spare_natives


def _node(world: World) -> NodeFacts | None:
    facts = language_facts(world.target.runtime.name)
    return facts.nodejs if facts is not None else None


def check_node_abi(world: World, ctx: Context) -> Iterator[Finding]:
    node = _node(world)
    if node is None:
        return
    runtime = world.target.runtime.name
    spares = spare_natives(world)
    for package, part in node_packages(world):
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
    for package, part in node_packages(world):
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


def _builds_for_other_nodes(
    package: ScannedPackage, part: NodePackage, world: World
) -> Iterator[Finding]:
    """Prebuilt addons for this platform, one per Node version, none for the runtime's."""
    platform = lambda_platform(world.target.arch)
    node = node_target(world.target.runtime.name)
    if node is None:
        return
    runtime = world.target.runtime.name
    for found in unloadable(package, part, platform, node):
        ours = [p for p in found.places if platform_fits(p, platform)]
        if not ours:
            continue  # none for this platform at all: LS613
        consequence, severity = unloadable_consequence(found)
        name, path = found.package.name, found.path
        yield NODE_ABI.finding(
            path,
            f"{named(path)}: {name} ships prebuilt addons for {platform.label} only for "
            f"other Node versions ({place_names(ours)}), none for {runtime} (Node "
            f"{node.major}, NODE_MODULE_VERSION {node.module_version}): its loader finds none, "
            f"and {consequence}.",
            f"Use a release of {name} that ships a build for Node {node.major} (or one "
            f"built on Node-API), or build it under Node {node.major}: `npm rebuild {name}` "
            f"in the public.ecr.aws/sam/build-{runtime} image, or `sam build --use-container`.",
            severity=severity,
        )


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
RULES = (NODE_ABI, NODE_API, PLATFORM)
