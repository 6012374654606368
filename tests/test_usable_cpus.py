"""The pool's size follows the cores this process may use (affinity, cgroup quota), not the
machine's count: under `taskset -c 0` or `docker run --cpus 1` a worker would only compete."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from linkscope import pool


def _quota_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    path = tmp_path / "cpu.max"
    path.write_text(text)
    monkeypatch.setattr(pool, "CPU_MAX", str(path))


@pytest.mark.parametrize(
    ("text", "cores"),
    [("100000 100000\n", 1), ("150000 100000\n", 2), ("50000 100000\n", 1), ("max 100000\n", None)],
)
def test_cgroup_quota(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, cores: int | None
) -> None:
    _quota_file(tmp_path, monkeypatch, text)
    assert pool._quota() == cores


def test_quota_caps_the_affinity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _quota_file(tmp_path, monkeypatch, "100000 100000\n")
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1, 2, 3})
    assert pool.usable_cpus() == 1


def test_affinity_counts_not_the_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool, "CPU_MAX", str(tmp_path / "absent"))
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {3})
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert pool.usable_cpus() == 1


def test_without_affinity_the_machine_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pool, "CPU_MAX", str(tmp_path / "absent"))
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert pool.usable_cpus() == 3
