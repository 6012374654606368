"""The "needs" column: the highest symbol version a binary asks for per prefix, weak ones said."""

from __future__ import annotations

from linkscope.model import BinaryFacts, highest_versions


def needs_text(b: BinaryFacts) -> str:
    """The highest version needed per prefix; one that only weak requirements ask for is shown
    as such, after the highest one the program cannot start without (`GLIBC 2.17 (2.34 weak)`)."""
    # b.weak_versions and b.required_versions, from two passes instead of four (a batch of
    # thousands of files renders this for each).
    everything = highest_versions(b.version_requirements)
    strong = highest_versions(r for r in b.version_requirements if not r.weak)
    weak = {p: v for p, v in everything.items() if strong.get(p) != v}
    shown = []
    for prefix, version in everything.items():
        if prefix not in weak:
            shown.append(f"{prefix} {version}")
        elif prefix in strong:
            shown.append(f"{prefix} {strong[prefix]} ({version} weak)")
        else:
            shown.append(f"{prefix} {version} (weak)")
    return ", ".join(shown) or "-"
