"""Statements about one binary from its facts alone: what it is, what built it, its C++ library,
its CPU needs (the C library has its own module, libc_answer). Each carries the facts it rests
on."""

from __future__ import annotations

from linkscope.elf.toolchain import compilers_of, guess_builder
from linkscope.explain import Statement
from linkscope.explain.libc_answer import glibc_versions, version_list
from linkscope.model import BinaryFacts, ElfType, Linkage
from linkscope.profiles.model import Target

MACHINES = {
    "x86_64": "x86-64",
    "aarch64": "arm64 (AArch64)",
    "i386": "32-bit x86",
    "arm": "32-bit ARM",
}
LANGUAGES = {"go": "Go", "rust": "Rust", "c": "C", "c++": "C++"}
SHOWN_SYMBOLS = 3
SHOWN_CRATES = 8


def what_it_is(facts: BinaryFacts) -> Statement:
    machine = MACHINES.get(facts.machine, facts.machine)
    kind = {
        ElfType.EXECUTABLE: "executable",
        ElfType.PIE_EXECUTABLE: "position-independent executable (PIE)",
        ElfType.SHARED_LIBRARY: "shared library",
    }.get(facts.elf_type, facts.elf_type.value)
    because = [
        f"ELF{facts.elf_class} {facts.endianness}-endian, machine {facts.machine}",
        f"ELF type {facts.elf_type.value}",
    ]
    if facts.linkage is Linkage.STATIC:
        linkage = "statically linked: the kernel maps it and jumps to it, nothing else is loaded"
        because.append("no PT_INTERP, no PT_DYNAMIC")
    elif facts.linkage is Linkage.STATIC_PIE:
        linkage = (
            "a static-pie: statically linked and position-independent, it relocates "
            "itself at start without any loader"
        )
        because.append(
            "PT_DYNAMIC but no PT_INTERP and no DT_NEEDED"
            + (", FLAGS_1 PIE" if "PIE" in facts.flags_1 else "")
        )
    elif facts.interpreter:
        linkage = f"dynamically linked: the kernel starts it through {facts.interpreter}"
        because.append(f"PT_INTERP {facts.interpreter}")
        if facts.needed:
            because.append(f"DT_NEEDED {', '.join(facts.needed)}")
    else:
        linkage = (
            "dynamically linked: a program loads it"
            if facts.needed or facts.soname
            else ("dynamically linked")
        )
        if facts.soname:
            because.append(f"SONAME {facts.soname}")
        if facts.needed:
            because.append(f"DT_NEEDED {', '.join(facts.needed)}")
    language = LANGUAGES.get(facts.toolchain.language or "", "")
    article = "An" if machine[0] in "aeiouAEIOUx" else "A"
    lead = f"{article} {machine} {kind}" + (f" written in {language}" if language else "")
    return Statement(
        topic="what", title="What it is", text=f"{lead}, {linkage}.", because=tuple(because)
    )


def toolchain_statement(facts: BinaryFacts) -> Statement:
    tc = facts.toolchain
    builder = guess_builder(facts)
    because: list[str] = list(builder.evidence) if builder else []
    built = ""
    if builder is not None:
        built = f"built with {builder.name}" + ("" if builder.certain else " (likely)")
    if tc.go is not None:
        text = _go_text(facts)
        because = _go_because(facts)
    elif tc.rust is not None:
        text = _rust_text(facts, built)
    elif built:
        text = built[0].upper() + built[1:]
    else:
        text = "The binary does not say what built it"
        because.append("no .comment, no Go build info, no Rust markers")
    named = [c for c in compilers_of(facts) if not (tc.rust and c.name == "rustc")]
    if named:
        listed = ", ".join(
            f"{c.name} {c.version}" + (f" ({c.vendor})" if c.vendor else "") for c in named
        )
        text += (
            f"; .comment{' also' if tc.rust else ''} names {listed} (the compilers and "
            "linker of the program, its startup files and static libraries)"
        )
    return Statement(
        topic="toolchain", title="Built by", text=text + ".", because=tuple(dict.fromkeys(because))
    )


def _go_text(facts: BinaryFacts) -> str:
    go = facts.toolchain.go
    assert go is not None
    text = f"Go {go.version.removeprefix('go') if go.version else '(version not recorded)'}"
    if go.main_module:
        text += f", main package {go.main_module}"
    settings = [
        f"{k}={go.setting(k)}"
        for k in ("CGO_ENABLED", "GOARCH", "GOAMD64", "GOARM64", "-tags")
        if go.setting(k)
    ]
    if settings:
        text += f", built with {' '.join(settings)}"
    if go.dependencies:
        shown = ", ".join(f"{m} {v}" for m, v in go.dependencies[:SHOWN_CRATES])
        more = len(go.dependencies) - SHOWN_CRATES
        text += f"; {len(go.dependencies)} module dependencies: {shown}" + (
            f" and {more} more" if more > 0 else ""
        )
    elif go.main_module:
        text += "; no module dependencies recorded (a GOPATH-mode build, or standard library only)"
    else:
        text += "; its build information was removed, only the runtime's version string remains"
    return text


def _go_because(facts: BinaryFacts) -> list[str]:
    go = facts.toolchain.go
    assert go is not None
    if not go.main_module:
        return [f"runtime version string {go.version}"] if go.version else []
    keys = ("CGO_ENABLED", "GOARCH", "GOAMD64", "-tags")
    return [
        ", ".join(
            [
                f"Go build info: {go.version}",
                *(f"{k}={go.setting(k)}" for k in keys if go.setting(k)),
            ]
        )
    ]


def _rust_text(facts: BinaryFacts, built: str) -> str:
    rust = facts.toolchain.rust
    assert rust is not None
    text = (
        f"Rust, rustc {rust.rustc_version}"
        if rust.rustc_version
        else "Rust (rustc version not recorded)"
    )
    text += f", {built}" if built else ""
    if rust.crates:
        shown = ", ".join(f"{n} {v}" for n, v in rust.crates[:SHOWN_CRATES])
        more = len(rust.crates) - SHOWN_CRATES
        source = {
            "cargo-auditable": "cargo-auditable's .dep-v0",
            "panic-paths": "registry paths in panic messages",
        }.get(rust.crates_source or "", "")
        text += f"; {len(rust.crates)} crates (from {source}): {shown}" + (
            f" and {more} more" if more > 0 else ""
        )
    return text


def cxx_library(facts: BinaryFacts, target: Target) -> Statement | None:
    if facts.toolchain.language != "c++":
        return None
    needed = next((n for n in facts.needed if n.startswith(("libstdc++", "libc++"))), None)
    if needed is None:
        return Statement(
            topic="c++-library",
            title="C++ library",
            text=(
                "The C++ standard library is linked statically, inside the binary (zig c++ "
                "links LLVM libc++ this way): no libstdc++ is needed at start, so the "
                "runtime's GCC version does not matter."
            )
            if any(c.name == "clang" for c in compilers_of(facts))
            else (
                "The C++ standard library is linked statically, inside the binary: no libstdc++ "
                "is needed at start."
            ),
            because=(
                "no libstdc++ or libc++ in DT_NEEDED",
                "no GLIBCXX_ or CXXABI_ requirements",
                "C++ runtime messages in .rodata",
            ),
        )
    lib = next((x for x in target.os.libraries if x.soname == needed), None)
    versions = glibc_versions(facts, "GLIBCXX")
    ceiling = lib.ceiling("GLIBCXX") if lib else None
    text = (
        f"The C++ standard library {needed} is loaded at start"
        + (f" from {lib.path}" if lib else "")
        + "."
    )
    if versions:
        text += (
            f" It needs up to {versions[0][0]}: {version_list(versions[:3])}"
            + (" and older" if len(versions) > 3 else "")
            + "; "
            + (
                f"{target.runtime.name}'s libstdc++ goes up to GLIBCXX_{ceiling}."
                if ceiling
                else "linkscope does not know the runtime's libstdc++ level."
            )
        )
    return Statement(
        topic="c++-library",
        title="C++ library",
        text=text,
        because=(f"DT_NEEDED {needed}", *(f"requires {v}" for v, _ in versions[:1])),
    )


def cpu_statement(facts: BinaryFacts) -> Statement | None:
    tc = facts.toolchain
    if tc.x86_isa_needed and tc.x86_isa_needed > 1:
        level = tc.x86_isa_needed
        return Statement(
            topic="cpu",
            title="CPU",
            text=(
                f"It declares that it needs x86-64-v{level}; glibc 2.33 and newer refuse to "
                "load it on a CPU below that level."
                + (
                    " Lambda's x86_64 CPUs are documented up to x86-64-v3 (AVX2), not v4 (AVX-512)."
                    if level > 3
                    else ""
                )
            ),
            because=(f".note.gnu.property: x86 ISA needed x86-64-v{level}",),
        )
    if tc.aarch64_features:
        return Statement(
            topic="cpu",
            title="CPU",
            text=(
                f"It is built with AArch64 {' and '.join(tc.aarch64_features)} protection; "
                "CPUs without the feature run it as plain code."
            ),
            because=(f".note.gnu.property: AArch64 feature {', '.join(tc.aarch64_features)}",),
        )
    return None
