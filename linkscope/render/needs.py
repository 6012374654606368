"""The "needs" column: the highest symbol version a binary asks for per prefix, weak ones said."""

from __future__ import annotations

from collections.abc import Sequence

from linkscope.model import BinaryFacts, VersionRequirement, split_version


def needs_text(b: BinaryFacts) -> str:
    """The highest version needed per prefix; one that only weak requirements ask for is shown
    as such, after the highest one the program cannot start without (`GLIBC 2.17 (2.34 weak)`)."""
    everything, strong = highest_and_strong(b.version_requirements)
    shown = []
    for prefix, version in everything.items():
        if strong.get(prefix) == version:
            shown.append(f"{prefix} {version}")
        elif prefix in strong:
            shown.append(f"{prefix} {strong[prefix]} ({version} weak)")
        else:
            shown.append(f"{prefix} {version} (weak)")
    return ", ".join(shown) or "-"


def highest_and_strong(
    requirements: Sequence[VersionRequirement],
) -> tuple[dict[str, str], dict[str, str]]:
    """`model.highest_versions` of every requirement and of the strong (not weak) ones, in one
    pass: `BinaryFacts.required_versions` and the highest each prefix needs to start (a batch of
    thousands of files renders this for each)."""
    best: dict[str, tuple[int, ...]] = {}
    strong: dict[str, tuple[int, ...]] = {}
    for requirement in requirements:
        parsed = split_version(requirement.version)
        if parsed is None:
            continue
        prefix, number = parsed
        if number > best.get(prefix, ()):
            best[prefix] = number
        if not requirement.weak and number > strong.get(prefix, ()):
            strong[prefix] = number
    return _joined(best), _joined(strong)


def weak_only(everything: dict[str, str], strong: dict[str, str]) -> dict[str, str]:
    """`BinaryFacts.weak_versions` from `highest_and_strong`'s two answers."""
    return {p: v for p, v in everything.items() if strong.get(p) != v}


def _joined(best: dict[str, tuple[int, ...]]) -> dict[str, str]:
    return {prefix: ".".join(map(str, number)) for prefix, number in sorted(best.items())}
