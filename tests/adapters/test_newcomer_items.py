"""Newcomer items that are code: --version, a busy port refused before "listening", usage lines, .gitignore."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
from pathlib import Path

import pytest
from perseus.issuer.build_cli import main
from perseus.issuer.service.server import serve
from perseus.issuer.service.settings import ConfigError, Settings

ROOT = Path(__file__).resolve().parents[2]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"perseus {version('perseus-credentials')}"


def test_a_busy_port_is_refused_before_saying_listening(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    before = dict(os.environ)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        settings = Settings(data_dir=tmp_path / "state", host="127.0.0.1", port=port)
        with caplog.at_level(logging.INFO), pytest.raises(ConfigError) as caught:
            serve(settings)
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert not any("listening" in r.getMessage() for r in caplog.records)
    assert dict(os.environ) == before  # a refused start changes nothing (serve() exports settings for its workers)


def test_account_is_shown_as_required_in_the_usage_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "consumption", "--help"]) == 0
    usage = capsys.readouterr().out.split("\n\n", 1)[0]
    assert "--account DID_OR_REF" in usage and "[--account" not in usage


def test_gitignore_covers_the_walkthrough_key_files(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    (repo / ".gitignore").write_text((ROOT / ".gitignore").read_text())
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    for name in ("edp-key.json", "supplier-key.json", ".perseus/perseus.db", "examples/keys/edp-example-key.json"):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text("{}")
    ignored = subprocess.run(["git", "-C", str(repo), "check-ignore", "edp-key.json", "supplier-key.json", ".perseus/perseus.db"],
                             capture_output=True, text=True)
    assert ignored.stdout.split() == ["edp-key.json", "supplier-key.json", ".perseus/perseus.db"]
    kept = subprocess.run(["git", "-C", str(repo), "check-ignore", "examples/keys/edp-example-key.json"], capture_output=True, text=True)
    assert kept.returncode == 1  # the project's example keys stay tracked
