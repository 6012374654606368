"""LS101 architecture mismatch, LS102 CPU features beyond the runtime's baseline."""

from __future__ import annotations

from collections.abc import Iterator

from linkscope.advice import architecture_fix
from linkscope.model import Finding, Severity
from linkscope.resolve import World
from linkscope.rules.base import Context, Rule, essential, is_image, named, need


def _mismatch(
    world: World, machine: str, elf_class: int, endianness: str, float_abi: str | None = None
) -> str | None:
    want = world.target.os.machine
    if machine != want:
        # 32-bit ARM: its float ABI (EF_ARM_ABI_FLOAT_HARD/SOFT in e_flags) is said, but no
        # ABI runs: Lambda has no 32-bit ARM (arm64 is AArch64 only).
        built = f"{machine} ({float_abi}-float)" if machine == "arm" and float_abi else machine
        return f"is built for {built}, but the function runs on {want} ({world.target.arch})"
    if elf_class != 64 or endianness != "little":
        return f"is a {elf_class}-bit {endianness}-endian binary; Lambda runs 64-bit little-endian"
    return None


def check_architecture(world: World, ctx: Context) -> Iterator[Finding]:
    if is_image(world):
        from linkscope.rules.image import entry_machine

        if entry_machine(world) not in (None, world.target.arch):
            return  # LS702: the whole image is for another architecture
    all_wrong = all(
        _mismatch(world, p.facts.machine, p.facts.elf_class, p.facts.endianness)
        for p in world.placed
    )
    for item in world.placed:
        facts = item.facts
        problem = _mismatch(
            world, facts.machine, facts.elf_class, facts.endianness, facts.arm_float_abi
        )
        if problem is None:
            continue
        severity = Severity.ERROR if essential(item, world) or all_wrong else Severity.WARNING
        consequence = (
            "Lambda fails with `exec format error`"
            if item.role.value != "library"
            else "it cannot be loaded"
        )
        yield ARCHITECTURE.finding(
            facts.path,
            f"{named(facts.path)} {problem}: {consequence}.",
            architecture_fix(
                facts, world.target.os.machine, need(world), glibc=world.target.os.glibc
            ),
            severity=severity,
        )


ARM_LEVELS = {
    "v8.0": 0,
    "v8.1": 1,
    "v8.2": 2,
    "v8.3": 3,
    "v8.4": 4,
    "v8.5": 5,
    "v8.6": 6,
    "v8.7": 7,
    "v8.8": 8,
    "v8.9": 9,
    "v9.0": 10,
    "v9.1": 11,
    "v9.2": 12,
}


def check_cpu(world: World, ctx: Context) -> Iterator[Finding]:
    baseline = world.target.os.cpu
    for item in world.placed:
        facts = item.facts
        level = _x86_level(facts.toolchain)
        if baseline.x86_64_isa_level and level and level > baseline.x86_64_isa_level:
            yield CPU.finding(
                facts.path,
                f"{named(facts.path)} requires x86-64-v{level} instructions (AVX-512 for v4); "
                f"Lambda guarantees only x86-64-v{baseline.x86_64_isa_level} (AVX2): glibc refuses "
                "to load it, or it stops with `signal: illegal instruction`.",
                "Build for x86-64-v3 or lower (`-march=x86-64-v3`, `GOAMD64=v3`, "
                "`-C target-cpu=haswell`), or dispatch on CPU features at run time.",
            )
        arm = _arm64_level(facts.toolchain)
        if baseline.arm_arch and arm and ARM_LEVELS.get(arm, 0) > ARM_LEVELS["v8.2"]:
            yield CPU.finding(
                facts.path,
                f"{named(facts.path)} was built for Arm {arm} (GOARM64); Lambda's arm64 baseline "
                f"is {baseline.arm_arch} (Graviton2).",
                "Build with `GOARM64=v8.2` or lower.",
            )


def _x86_level(toolchain: object) -> int | None:
    from linkscope.model import Toolchain

    assert isinstance(toolchain, Toolchain)
    level = toolchain.x86_isa_needed
    if toolchain.go is not None:
        goamd64 = toolchain.go.setting("GOAMD64")
        if goamd64 and goamd64[1:].isdigit():
            level = max(level or 0, int(goamd64[1:]))
    return level


def _arm64_level(toolchain: object) -> str | None:
    from linkscope.model import Toolchain

    assert isinstance(toolchain, Toolchain)
    if toolchain.go is None:
        return None
    value = toolchain.go.setting("GOARM64")
    return value.split(",")[0] if value else None


ARCHITECTURE = Rule(
    id="LS101",
    title="architecture does not match the function's",
    severity=Severity.ERROR,
    help="The machine, class or byte order differs from the function's architecture (x86_64 or "
    "arm64); the kernel refuses to run it (`exec format error`). A 32-bit ARM file is reported "
    "with its float ABI (hard or soft, from e_flags), though neither runs: Lambda has no "
    "32-bit ARM.",
    check=check_architecture,
)
CPU = Rule(
    id="LS102",
    title="needs CPU features beyond the runtime's baseline",
    severity=Severity.ERROR,
    help="x86-64 ISA level above v3 (AVX-512), or Arm beyond Armv8.2 (Graviton2): not "
    "guaranteed on Lambda.",
    check=check_cpu,
)
RULES = (ARCHITECTURE, CPU)
