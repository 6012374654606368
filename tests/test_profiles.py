"""The bundled runtime profiles: schema-valid, loadable, consistent, and saying what lambda-facts
says (DESIGN section 5; lambda-facts sections 0-3)."""

from __future__ import annotations

import datetime
import json
from importlib import resources
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource

from linkscope.errors import InvalidProfileError, UnknownProfileError
from linkscope.profiles import load_os, load_runtimes, load_target, os_from_dict, runtime_named
from linkscope.profiles.model import LibraryInfo

DATA = resources.files("linkscope.profiles").joinpath("data")
SCHEMA: dict[str, Any] = json.loads(
    resources.files("linkscope.profiles").joinpath("profile-schema.json").read_text()
)
OS_IDS = sorted(
    p.name.removesuffix(".json") for p in DATA.joinpath("os").iterdir() if p.name.endswith(".json")
)
RUNTIMES: dict[str, Any] = json.loads(DATA.joinpath("runtimes.json").read_text())


def _os_data(os_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA.joinpath("os").joinpath(f"{os_id}.json").read_text())
    return data


def _validator(ref: str) -> jsonschema.Draft202012Validator:
    registry: Registry[Any] = Registry().with_resource(
        SCHEMA["$id"], Resource.from_contents(SCHEMA)
    )
    wrapper = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": f"{SCHEMA['$id']}{ref}",
    }
    return jsonschema.Draft202012Validator(wrapper, registry=registry)


def test_the_schema_itself_is_valid() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_three_os_families_are_bundled() -> None:
    assert OS_IDS == ["al1", "al2", "al2023"]


@pytest.mark.parametrize("os_id", OS_IDS)
def test_os_file_validates(os_id: str) -> None:
    errors = list(_validator("#/$defs/os_file").iter_errors(_os_data(os_id)))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_runtimes_file_validates() -> None:
    errors = list(_validator("#/$defs/runtimes_file").iter_errors(RUNTIMES))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_schema_rejects_a_fact_without_source() -> None:
    """The validation above must be able to fail: a glibc fact with no source is refused."""
    data = _os_data("al2")
    del data["glibc"]["source"]
    assert list(_validator("#/$defs/os_file").iter_errors(data))
    runtimes = json.loads(json.dumps(RUNTIMES))
    runtimes["runtimes"][0]["deprecation"] = "soon"
    assert list(_validator("#/$defs/runtimes_file").iter_errors(runtimes))


def _pairs() -> list[tuple[str, str]]:
    return [(r["name"], arch) for r in RUNTIMES["runtimes"] for arch in r["architectures"]]


@pytest.mark.parametrize(("runtime", "arch"), _pairs())
def test_every_runtime_loads_on_each_architecture(runtime: str, arch: str) -> None:
    target = load_target(runtime, arch)
    assert target.runtime.name == runtime
    assert target.arch == arch
    assert target.os.machine == {"x86_64": "x86_64", "arm64": "aarch64"}[arch]
    assert target.os.library("libc.so.6") is not None
    assert target.os.loader.startswith("/lib")


def test_runtime_on_an_architecture_it_lacks_is_refused() -> None:
    with pytest.raises(UnknownProfileError, match="provided does not run on arm64"):
        load_target("provided", "arm64")
    with pytest.raises(UnknownProfileError, match="unknown runtime"):
        load_target("provided.al2099", "x86_64")
    with pytest.raises(UnknownProfileError, match="unknown architecture"):
        load_target("provided.al2023", "aarch64")


@pytest.mark.parametrize("os_id", OS_IDS)
def test_no_soname_is_both_present_and_absent(os_id: str) -> None:
    for arch, per_arch in _os_data(os_id)["architectures"].items():
        present = {lib["soname"] for lib in per_arch["libraries"]}
        absent = {lib["soname"] for lib in per_arch["absent"]}
        assert not present & absent, (os_id, arch, present & absent)
        assert len(present) == len(per_arch["libraries"]), f"{os_id}/{arch}: duplicate soname"


@pytest.mark.parametrize("os_id", OS_IDS)
def test_libc_ceiling_is_the_glibc_version(os_id: str) -> None:
    data = _os_data(os_id)
    for arch in data["architectures"]:
        profile = load_os(os_id, arch)
        libc = profile.library("libc.so.6")
        assert libc is not None
        assert libc.ceiling("GLIBC") == profile.glibc == data["glibc"]["value"]
        loader = profile.library(profile.loader.rsplit("/", 1)[-1])
        assert loader is not None and loader.ceiling("GLIBC") == profile.glibc


def test_loader_refuses_a_libc_that_disagrees_with_glibc() -> None:
    data = _os_data("al2")
    data["glibc"]["value"] = "2.27"
    with pytest.raises(InvalidProfileError, match="disagrees"):
        os_from_dict(data, "x86_64")
    data = _os_data("al2")
    data["architectures"]["x86_64"]["absent"].append({"soname": "libc.so.6", "source": "test"})
    with pytest.raises(InvalidProfileError, match="both present and absent"):
        os_from_dict(data, "x86_64")


# lambda-facts section 0: glibc and libstdc++ per OS-only runtime.
@pytest.mark.parametrize(
    ("runtime", "glibc", "glibcxx", "cxxabi", "arches"),
    [
        ("provided.al2023", "2.34", "3.4.33", "1.3.15", ("x86_64", "arm64")),  # GCC 14 since 2025
        ("provided.al2", "2.26", "3.4.24", "1.3.11", ("x86_64", "arm64")),
        ("provided", "2.17", "3.4.24", "1.3.11", ("x86_64",)),
    ],
)
def test_os_only_runtimes_match_lambda_facts(
    runtime: str, glibc: str, glibcxx: str, cxxabi: str, arches: tuple[str, ...]
) -> None:
    assert runtime_named(runtime).architectures == arches
    for arch in arches:
        target = load_target(runtime, arch)
        assert target.os.glibc == glibc
        libstdcxx = target.os.library("libstdc++.so.6")
        assert libstdcxx is not None
        assert libstdcxx.ceiling("GLIBCXX") == glibcxx
        assert libstdcxx.ceiling("CXXABI") == cxxabi


@pytest.mark.parametrize(
    ("runtime", "dates"),
    [
        ("provided.al2023", ("2029-06-30", "2029-07-31", "2029-08-31")),
        ("provided.al2", ("2026-07-31", "2027-02-01", "2027-03-03")),
        ("provided", ("2024-01-08", "2024-02-08", "2027-03-03")),
    ],
)
def test_dates_match_lambda_facts(runtime: str, dates: tuple[str, str, str]) -> None:
    r = runtime_named(runtime)
    assert (r.deprecation, r.block_create, r.block_update) == tuple(
        datetime.date.fromisoformat(d) for d in dates
    )


def test_sonames_lambda_facts_names() -> None:
    al2 = load_os("al2", "x86_64")
    assert al2.libraries_complete  # lambda-facts 3.1: the full fs.txt dump
    assert al2.library("libssl.so.10") is not None
    assert {"libssl.so.3", "libcrypto.so.3", "libcrypt.so.1", "libcurl.so.4"} <= al2.absent
    al2023 = load_os("al2023", "x86_64")
    assert al2023.libraries_complete  # al2023-libraries 1: find /lib64 listings, both arches
    assert al2023.library("libssl.so.3") is not None
    assert {"libssl.so.10", "libcrypto.so.10", "libcrypt.so.1"} <= al2023.absent
    for os_id in OS_IDS:  # lambda-facts 3.4: no musl loader or libc on any Amazon Linux
        for arch in _os_data(os_id)["architectures"]:
            present = {lib.soname for lib in load_os(os_id, arch).libraries}
            assert not any("musl" in name for name in present), (os_id, arch)


def _facts(node: Any, where: str) -> list[str]:
    """Every {"value": ..} fact, and every library entry, without a non-empty source."""
    bad = []
    if isinstance(node, dict):
        if ("value" in node or "soname" in node) and not str(node.get("source", "")).strip():
            bad.append(where)
        for key, value in node.items():
            bad += _facts(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            bad += _facts(value, f"{where}[{i}]")
    return bad


@pytest.mark.parametrize("os_id", OS_IDS)
def test_every_os_fact_has_a_source(os_id: str) -> None:
    assert _facts(_os_data(os_id), os_id) == []


def test_every_runtime_fact_has_a_source() -> None:
    assert _facts(RUNTIMES["environment"], "environment") == []
    assert _facts(RUNTIMES["limits"], "limits") == []
    for runtime in load_runtimes():
        assert runtime.source.strip(), runtime.name


def test_source_check_can_fail() -> None:
    assert _facts({"glibc": {"value": "2.26", "source": " "}}, "x") == ["x.glibc"]


# ------------------------------------------------------------------ LibraryInfo.defines


LIBC = LibraryInfo(
    soname="libc.so.6",
    directory="/lib64",
    provides=(("GLIBC", "2.17"),),
    extra_versions=frozenset({"GLIBC_PRIVATE"}),
)


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("GLIBC_2.2.5", True),  # 2.2.5 < 2.17 numerically (not as strings)
        ("GLIBC_2.17", True),
        ("GLIBC_2.9", True),
        ("GLIBC_2.18", False),
        ("GLIBC_2.17.1", False),
        ("GLIBC_3.0", False),
        ("GLIBC_PRIVATE", True),  # via extra_versions
        ("GLIBC_ABI_DT_RELR", None),  # unnumbered and not listed: cannot tell
        ("GLIBCXX_3.4.21", None),  # unknown prefix
        ("OPENSSL_3.0.0", None),
    ],
)
def test_defines(version: str, expected: bool | None) -> None:
    assert LIBC.defines(version) is expected


def test_defines_with_exact_versions_is_exact() -> None:
    exact = LibraryInfo(
        soname="libdemo.so.1",
        directory="/lib",
        provides=(("LIBDEMO", "2.0"),),
        exact_versions=frozenset({"LIBDEMO_1.0", "LIBDEMO_2.0"}),
    )
    assert exact.defines("LIBDEMO_1.0") is True
    assert exact.defines("LIBDEMO_1.5") is False  # below the ceiling but not defined
    assert exact.defines("OTHER_1.0") is False
