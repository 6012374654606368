"""The pre-commit hook, run for real: `pre-commit try-repo` installs linkscope from this source
tree into its own virtualenv and runs the `linkscope-check` hook on a throwaway repository's
`bootstrap`: a binary that needs GLIBC_2.38 must fail it, a static Go bootstrap must pass.

The hook repository is a fresh git repository holding a copy of this tree's package files (the
hook file, pyproject.toml, README.md, linkscope/), so the test sees the working tree as it is,
committed or not (try-repo on a dirty repository ignores files that are not yet tracked).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _golden import ROOT, copy_fixture

GIT_ENV = {
    "GIT_AUTHOR_NAME": "linkscope tests",
    "GIT_AUTHOR_EMAIL": "tests@linkscope.invalid",
    "GIT_COMMITTER_NAME": "linkscope tests",
    "GIT_COMMITTER_EMAIL": "tests@linkscope.invalid",
}


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, env={**os.environ, **GIT_ENV}
    )


def _hook_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "linkscope-src"
    repo.mkdir()
    for name in (".pre-commit-hooks.yaml", "pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, repo / name)
    shutil.copytree(
        ROOT / "linkscope",
        repo / "linkscope",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "hook source")
    return repo


def _try_repo(hook_repo: Path, project: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(cache), "PRE_COMMIT_COLOR": "never"}
    env.pop("GITHUB_ACTIONS", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pre_commit",
            "try-repo",
            str(hook_repo),
            "linkscope-check",
            "--files",
            "bootstrap",
            "--verbose",
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def hook_setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    if importlib.util.find_spec("pre_commit") is None:
        pytest.skip("pre-commit is not installed (it belongs in the `test` extra)")
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    base = tmp_path_factory.mktemp("precommit")
    project = base / "project"
    project.mkdir()
    _git(project, "init", "-q")
    return _hook_repo(base), project, base / "cache"


@pytest.mark.parametrize(
    ("fixture", "passes"),
    [
        ("c_strlcpy_zig_glibc2.38_x86_64", False),
        ("go_bootstrap_x86_64", True),
    ],
)
def test_linkscope_check_hook(
    fixture: str, passes: bool, hook_setup: tuple[Path, Path, Path]
) -> None:
    hook_repo, project, cache = hook_setup
    copy_fixture(fixture, project / "bootstrap")
    _git(project, "add", "bootstrap")
    result = _try_repo(hook_repo, project, cache)
    output = result.stdout + result.stderr
    assert "linkscope check" in output, output
    if passes:
        assert result.returncode == 0, output
        assert "verdict: compatible" in output, output
    else:
        assert result.returncode == 1, output
        assert "LS301" in output and "GLIBC_2.38" in output, output


def test_hook_file_matches_bootstraps_and_zips() -> None:
    yaml = pytest.importorskip("yaml")
    document = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hooks = {hook["id"]: hook for hook in document}
    check = hooks["linkscope-check"]
    assert check["entry"] == "linkscope check"
    assert check["language"] == "python"
    assert check["pass_filenames"] is True
    pattern = re.compile(check["files"])
    for name in ("bootstrap", "dist/bootstrap", "function.zip", "build/layer.zip"):
        assert pattern.search(name), name
    for name in ("bootstrap.sh", "src/bootstrap.rs", "zipper.py", "notbootstrap"):
        assert not pattern.search(name), name
    assert hooks["linkscope-inspect"]["entry"] == "linkscope inspect"
