"""bench/conformance's scripts refuse, with a sentence, what would make a run untrustworthy.

The harness runs third-party suites that are not in this repository; what it promises is that the
suites are the pinned commits (or it stops), that a missing tool is named, and that a run never
starts from a stale setup. These tests drive the scripts with local git repositories only (no
network, no npm): every path here ends before anything is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parents[1] / "bench" / "conformance"
SUITE = "vc-api-verifier-test-suite"
REPOS = ("w3c-ccg/vc-api-verifier-test-suite", "w3c-ccg/vc-test-suite-implementations")

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("bash", "git", "node", "npm", "tar")), reason="needs bash, git, node, npm and tar"
)


def run(script: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(HARNESS / script), *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=120, check=False
    )


def make_repo(path: Path) -> str:
    """A git repository with one commit (never one of the pins); its commit id."""
    path.mkdir(parents=True)
    git = ["git", "-C", str(path), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git[:3], "init", "-q"], check=True)
    (path / "package.json").write_text("{}")
    subprocess.run([*git, "add", "package.json"], check=True)
    subprocess.run([*git, "commit", "-qm", "not the pin"], check=True)
    return subprocess.run([*git[:3], "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()


def test_missing_clones_are_listed_with_the_commands_that_make_them(tmp_path: Path) -> None:
    result = run("setup.sh", SUITE, env={"PERSEUS_CONFORMANCE_STATE": str(tmp_path / "state"), "PERSEUS_CONFORMANCE_SOURCES": str(tmp_path / "none")})
    assert result.returncode == 2
    for repo in REPOS:
        assert f"git clone https://github.com/{repo} {tmp_path / 'none' / repo}" in result.stderr
    assert "checkout --detach 41541eeb9c31215d32403f4fe32bb441fbbf141e" in result.stderr
    assert not (tmp_path / "state" / "suites").exists()  # nothing exported or installed


def test_a_clone_not_at_its_pin_is_refused(tmp_path: Path) -> None:
    sources = tmp_path / "src"
    heads = {repo: make_repo(sources / repo) for repo in REPOS}
    result = run("setup.sh", SUITE, env={"PERSEUS_CONFORMANCE_STATE": str(tmp_path / "state"), "PERSEUS_CONFORMANCE_SOURCES": str(sources)})
    assert result.returncode == 2
    assert "not the pinned commit" in result.stderr and "the clone lacks the pinned commit" in result.stderr
    assert any(head in result.stderr for head in heads.values())
    assert not (tmp_path / "state" / "suites").exists()


def test_clone_from_a_base_without_the_pinned_commit_fails(tmp_path: Path) -> None:
    base = tmp_path / "base"
    for repo in REPOS:
        make_repo(base / repo)
    env = {"PERSEUS_CONFORMANCE_STATE": str(tmp_path / "state"), "PERSEUS_CONFORMANCE_GIT_BASE": str(base)}
    result = run("setup.sh", "--clone", SUITE, env=env)
    assert result.returncode == 2
    assert "has no commit" in result.stderr and "(the pin in lib.sh)" in result.stderr


def test_a_missing_tool_is_named(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname", "mkdir", "git", "tar"):  # no node, no npm
        (bin_dir / tool).symlink_to(shutil.which(tool))  # type: ignore[arg-type]
    result = run("setup.sh", SUITE, env={"PATH": str(bin_dir), "PERSEUS_CONFORMANCE_STATE": str(tmp_path / "state")})
    assert result.returncode == 2
    assert "'node' is not installed" in result.stderr and "Node.js" in result.stderr


def test_run_refuses_a_suite_set_up_from_another_commit_and_a_partial_update(tmp_path: Path) -> None:
    state = tmp_path / "state"
    suite = state / "suites" / SUITE
    (suite / "node_modules").mkdir(parents=True)
    (suite / "localConfig.cjs").write_text("")
    (state / "SOURCES.txt").write_text(f"{REPOS[0]} {'0' * 40} 2024-01-01T00:00:00Z suite\n")
    result = run("run.sh", SUITE, env={"PERSEUS_CONFORMANCE_STATE": str(state)})
    assert result.returncode == 2 and "not the pinned 41541eeb9c31215d32403f4fe32bb441fbbf141e" in result.stderr
    partial = run("run.sh", "--update-results", SUITE, env={"PERSEUS_CONFORMANCE_STATE": str(state), "MOCHA_GREP": "x"})
    assert partial.returncode == 2 and "partial run" in partial.stderr
    assert not list(state.glob("service.*"))  # refused before any service was started
