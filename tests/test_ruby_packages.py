"""Ruby functions as Bundler lays them out (`bundle config set --local path vendor/bundle`):
LS621 for a bundle or an extension built for another Ruby ABI, with the project's own Ruby 3.1
extension (fixtures/bin/eco, built against Debian's ruby3.1-dev headers)."""

from __future__ import annotations

from pathlib import Path

import pytest
from check_helpers import TODAY
from eco_helpers import eco
from package_helpers import Item, make_zip

from linkscope import api
from linkscope.model import Report, Severity

EXT = eco("ruby31_hello_ext_x86_64.so")


def bundle(tmp_path: Path, abi: str, ext_abi: str | None = None, name: str = "f.zip") -> Path:
    """A function as `bundle install` leaves it: the gem's lib/ copy and the extensions/ one."""
    ext_abi = ext_abi or abi
    root = f"vendor/bundle/ruby/{abi}"
    return make_zip(
        tmp_path / name,
        [
            Item(
                "lambda_function.rb",
                b"require 'hello_ext'\ndef handler(event:, context:) end\n",
                0o644,
            ),
            Item("Gemfile", b"source 'https://rubygems.org'\ngem 'hello_ext'\n", 0o644),
            Item(f"{root}/gems/hello_ext-0.1.0/lib/hello_ext.so", EXT, 0o755),
            Item(
                f"{root}/extensions/x86_64-linux/{ext_abi}/hello_ext-0.1.0/hello_ext.so", EXT, 0o755
            ),
            Item(
                f"{root}/specifications/hello_ext-0.1.0.gemspec", b"Gem::Specification.new\n", 0o644
            ),
        ],
    )


def ls621(report: Report) -> list[str]:
    return [f.severity.value for f in report.findings if f.rule == "LS621"]


@pytest.mark.parametrize("runtime", ["ruby3.2", "ruby3.3", "ruby3.4"])
def test_bundle_for_another_ruby(tmp_path: Path, runtime: str) -> None:
    report = api.check([str(bundle(tmp_path, "3.1.0"))], runtime, today=TODAY)
    assert ls621(report) == ["error", "error"]
    assert report.verdict == "incompatible"
    finding = next(f for f in report.findings if f.rule == "LS621")
    assert "Bundler::GemNotFound" in finding.message
    abi = runtime.removeprefix("ruby")
    assert f"vendor/bundle/ruby/{abi}.0" in finding.fix
    assert "bundle lock --add-platform x86_64-linux" in finding.fix


def test_bundle_for_the_runtime(tmp_path: Path) -> None:
    report = api.check([str(bundle(tmp_path, "3.3.0"))], "ruby3.3", today=TODAY)
    assert ls621(report) == []
    assert report.verdict == "compatible", [(f.rule, f.message) for f in report.findings]
    binary = next(b for b in report.binaries if "/extensions/" in b.path)
    assert binary.origin is not None
    assert (binary.origin.ecosystem, binary.origin.package, binary.origin.version) == (
        "ruby",
        "hello_ext",
        "0.1.0",
    )
    assert binary.origin.abi == "ruby-3.3.0" and binary.origin.tag == "x86_64-linux"


def test_extension_compiled_for_another_ruby(tmp_path: Path) -> None:
    report = api.check([str(bundle(tmp_path, "3.3.0", "3.2.0"))], "ruby3.3", today=TODAY)
    finding = next(f for f in report.findings if f.rule == "LS621")
    assert finding.severity is Severity.ERROR and "extensions/x86_64-linux/3.2.0" in finding.message


def test_precompiled_gem_without_the_runtime_minor(tmp_path: Path) -> None:
    """A fat gem (nokogiri-1.16.4-x86_64-linux) keeps one .so per Ruby minor."""

    def fat_gem(abi: str) -> Path:
        root = f"vendor/bundle/ruby/{abi}/gems/nokogiri-1.16.4-x86_64-linux/lib/nokogiri"
        return make_zip(
            tmp_path / f"{abi}.zip",
            [Item(f"{root}/{minor}/nokogiri.so", EXT, 0o755) for minor in ("3.1", "3.2", "3.3")],
        )

    report = api.check([str(fat_gem("3.4.0"))], "ruby3.4", today=TODAY)
    assert set(ls621(report)) == {"error"}
    assert "3.1, 3.2, 3.3" in next(f.message for f in report.findings if f.rule == "LS621")
    assert ls621(api.check([str(fat_gem("3.3.0"))], "ruby3.3", today=TODAY)) == []


def test_layer_gems(tmp_path: Path) -> None:
    layer = make_zip(
        tmp_path / "layer.zip",
        [Item("ruby/gems/3.2.0/extensions/x86_64-linux/3.2.0/hello_ext-0.1.0/hello_ext.so", EXT)],
    )
    function = make_zip(tmp_path / "f.zip", [Item("lambda_function.rb", b"", 0o644)])
    report = api.check([str(function)], "ruby3.3", layers=[str(layer)], today=TODAY)
    assert ls621(report) == ["error"]
    assert (
        api.check([str(function)], "ruby3.2", layers=[str(layer)], today=TODAY).verdict
        == "compatible"
    )


def test_not_judged_on_other_runtimes(tmp_path: Path) -> None:
    report = api.check([str(bundle(tmp_path, "3.1.0"))], "provided.al2023", today=TODAY)
    assert ls621(report) == []
