"""LS701 manifest Lambda refuses, LS702 another architecture, LS705 over Lambda's limits (and
content under /tmp): the rules about a container image as a whole (reference
container-images.md sections 0, 1 and 2.3)."""

from __future__ import annotations

from collections.abc import Iterator

from linkscope.model import EntryKind, Finding, ImageFacts, ImageLayer, Severity
from linkscope.resolve import World
from linkscope.rules.base import Context, Rule, named

ACCEPTED_MANIFESTS = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
ACCEPTED_CONFIGS = (
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
)
GZIP_LAYERS = (
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
)
UNDOCUMENTED_LAYERS = (  # OCI types Lambda's documentation neither lists nor refuses
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+zstd",
)
REFUSED = (
    "`The image manifest, config or layer media type for the source image ... is not supported.`"
)
BUILDX_FIX = (
    "Build a single-platform image without attestations: `docker buildx build --platform "
    "linux/amd64 --provenance=false --sbom=false` (or set BUILDX_NO_DEFAULT_ATTESTATIONS=1), "
    "or point the function at the platform manifest's digest (`repo@sha256:...`)."
)
# Lambda's architecture names and the OCI config's (image-spec config.md, GOARCH values).
OCI_ARCH = {"amd64": "x86_64", "arm64": "arm64"}
ELF_ARCH = {"x86_64": "x86_64", "aarch64": "arm64"}
MAX_IMAGE_BYTES = 10 << 30  # "Container image code package size: 10 GB" (DOCS-2022 limits)
TMP = "/tmp/"


def image_of(world: World) -> ImageFacts | None:
    return world.image


def source(world: World) -> str:
    return world.function[0].source


def check_manifest(world: World, ctx: Context) -> Iterator[Finding]:
    image = image_of(world)
    if image is None:
        return
    where = named(source(world))
    if image.index_media_type is not None:
        yield _index_finding(world, image)
    if (
        image.manifest_media_type is not None
        and image.manifest_media_type not in ACCEPTED_MANIFESTS
    ):
        yield MANIFEST.finding(
            source(world),
            f"{where} has a manifest of media type {image.manifest_media_type}; Lambda accepts "
            f"only Docker V2 schema 2 and OCI image manifests and refuses it: {REFUSED}",
            "Rebuild it with a current Docker, buildah or buildx.",
        )
    if image.config_media_type is not None and image.config_media_type not in ACCEPTED_CONFIGS:
        yield MANIFEST.finding(
            source(world),
            f"{where} has a config of media type {image.config_media_type}, not an image config: "
            f"Lambda refuses it: {REFUSED}",
            "Push a container image, not an OCI artifact.",
        )
    if not image.format.startswith("docker-save"):  # `docker push` re-compresses those layers
        yield from _layer_findings(world, image)


def _index_finding(world: World, image: ImageFacts) -> Finding:
    platforms = [e.platform or "no platform" for e in image.index if not e.attestation]
    attestations = sum(1 for e in image.index if e.attestation)
    held = f"{len(platforms)} image(s) ({', '.join(platforms)})"
    if attestations:
        held += f" and {attestations} attestation manifest(s) (unknown/unknown)"
    return MANIFEST.finding(
        source(world),
        f"{named(source(world))} is an image index ({image.index_media_type}) holding {held}: "
        "Lambda accepts only a single image manifest, even for one platform, and refuses it: "
        + REFUSED
        + (" buildx adds provenance attestations by default (0.10+)." if attestations else ""),
        BUILDX_FIX,
    )


def _layer_findings(world: World, image: ImageFacts) -> Iterator[Finding]:
    for layer in image.layers:
        media = layer.media_type
        if media is None or media in GZIP_LAYERS:
            continue
        yield _layer_finding(world, layer, media)


def _layer_finding(world: World, layer: ImageLayer, media: str) -> Finding:
    where = f"{named(source(world))} layer {layer.digest}"
    fix = (
        "Push gzip layers: `skopeo copy --dest-compress-format gzip`, buildx "
        "`-o type=image,compression=gzip,force-compression=true`, or `buildah push "
        "--compression-format gzip`."
    )
    if media in UNDOCUMENTED_LAYERS:
        return MANIFEST.finding(
            source(world),
            f"{where} has media type {media}; Lambda documents no layer types, and users report "
            "only gzip layers working: if the deploy fails with `InvalidImage: ImageLayerFailure: "
            "UnsupportedImageLayerDetected`, this is why.",
            fix,
            severity=Severity.WARNING,
        )
    return MANIFEST.finding(
        source(world),
        f"{where} has media type {media}, which Lambda refuses (`InvalidImage: ImageLayerFailure: "
        "UnsupportedImageLayerDetected`, or the unsupported media type error).",
        fix,
    )


def _config_arch(image: ImageFacts) -> str | None:
    if image.architecture is None:
        return None
    return OCI_ARCH.get(image.architecture, image.architecture)


def check_architecture(world: World, ctx: Context) -> Iterator[Finding]:
    image = image_of(world)
    if image is None:
        return
    want, where = world.target.arch, named(source(world))
    if image.os is not None and image.os != "linux":
        yield ARCH.finding(
            source(world),
            f"{where} is built for {image.os}; Lambda runs only Linux images.",
            "Build a Linux image (`--platform linux/amd64` or `linux/arm64`).",
        )
    config = _config_arch(image)
    machine = entry_machine(world)
    fix = (
        f"Rebuild it for the function (`docker buildx build --platform "
        f"linux/{'amd64' if want == 'x86_64' else 'arm64'}`), or set the function's "
        f"architecture to {machine or config}."
    )
    failure = (
        "Lambda accepts it and then fails at start with `exec format error` "
        "(Runtime.InvalidEntrypoint)."
    )
    if machine is not None and machine != want:
        also = f" (its config says {image.architecture})" if config not in (None, machine) else ""
        yield ARCH.finding(
            source(world),
            f"{where}'s entrypoint {image.entrypoint_resolved} is built for {machine}{also}, but "
            f"the function runs on {want}: {failure}",
            fix,
        )
    elif config is not None and config != want:
        yield ARCH.finding(
            source(world),
            f"{where}'s config says architecture {image.architecture}, but the function runs on "
            f"{want}: {failure}",
            fix,
            severity=Severity.ERROR if machine is None else Severity.WARNING,
        )


def entry_machine(world: World) -> str | None:
    """The Lambda architecture of the ELF that the kernel starts: the entrypoint, or the
    interpreter of a script entrypoint (what really decides, whatever the config says)."""
    for item in world.placed:
        if item.node.path in world.target.environment.bootstrap_search:
            return ELF_ARCH.get(item.facts.machine, item.facts.machine)
    starts = [p for p in world.placed if p.node.path in world.start_paths and p.facts.is_executable]
    return ELF_ARCH.get(starts[0].facts.machine, starts[0].facts.machine) if starts else None


def check_limits(world: World, ctx: Context) -> Iterator[Finding]:
    image = image_of(world)
    if image is None:
        return
    size = image.uncompressed_size
    if size > MAX_IMAGE_BYTES:
        yield LIMITS.finding(
            source(world),
            f"{named(source(world))} is {size / (1 << 30):.1f} GB uncompressed; Lambda allows "
            "container images up to 10 GB: the create or update is refused.",
            "Make the image smaller: a slimmer base image, multi-stage builds, no build tools or "
            "caches in the final stage.",
        )
    under_tmp = [
        e.inner
        for e in world.function[0].entries
        if ("/" + e.inner).startswith(TMP) and e.kind is not EntryKind.DIRECTORY
    ]
    if under_tmp:
        shown = ", ".join("/" + p for p in under_tmp[:3]) + (" ..." if len(under_tmp) > 3 else "")
        yield LIMITS.finding(
            source(world),
            f"{named(source(world))} has {len(under_tmp)} file(s) under /tmp ({shown}): Lambda "
            "gives the function an empty, writable /tmp, so they are not there at start.",
            "Put them elsewhere (the filesystem is read-only except /tmp): under /var/task or "
            "/opt, and copy them to /tmp at start if they must be written.",
            severity=Severity.WARNING,
        )


MANIFEST = Rule(
    id="LS701",
    title="container image manifest Lambda does not accept",
    severity=Severity.ERROR,
    help="Lambda takes one image manifest (Docker V2 schema 2 or OCI): an image index "
    "(multi-platform, or buildx attestations) or other media types are refused.",
    check=check_manifest,
)
ARCH = Rule(
    id="LS702",
    title="container image built for another architecture than the function's",
    severity=Severity.ERROR,
    help="The entrypoint's ELF machine (and the config's architecture) must be the function's; "
    "Lambda does not check at deploy, the start fails with `exec format error`.",
    check=check_architecture,
)
LIMITS = Rule(
    id="LS705",
    title="container image over Lambda's limits",
    severity=Severity.ERROR,
    help="10 GB uncompressed; the filesystem is read-only and /tmp starts empty.",
    check=check_limits,
)
