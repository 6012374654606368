"""The "needs" column: the highest symbol version a binary asks for per prefix, weak ones said."""

from __future__ import annotations

from linkscope.model import BinaryFacts, highest_and_strong


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
