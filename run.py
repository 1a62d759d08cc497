#!/usr/bin/env python3
"""The project's two commands, for a fresh machine with Python 3.11+ and nothing else:

    python3 run.py demo    # set up .venv, then run the main job on embedded defaults
    python3 run.py test    # set up .venv with the test tools, then run the whole test suite

Both are idempotent: the virtual environment is created once in .venv and reinstalled only when
pyproject.toml changes. `.ci/run` calls `python3 run.py test`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
#: IB1's provenance reference library (MIT) and its one other dependency, pinned; see ensure_venv.
IB1_REFERENCE = ("ib1-provenance==0.5.3", "asn1crypto==1.5.1")


def say(message: str) -> None:
    print(f"[run.py] {message}", flush=True)


def ensure_venv(extras: str) -> None:
    """Create .venv and install the project (editable) with `extras`, unless already done for this pyproject."""
    if sys.version_info < (3, 11):
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}")
    stamp = VENV / f".installed-{extras or 'base'}"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted and PYTHON.exists():
        return
    if not PYTHON.exists():
        say(f"creating virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    spec = f".[{extras}]" if extras else "."
    say(f"installing perseus-credentials{f'[{extras}]' if extras else ''} (editable) and its dependencies")
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True, cwd=ROOT)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "-e", spec], check=True, cwd=ROOT)
    if extras == "dev":
        # IB1's reference library, only for the differential tests (tests/provenance/). Without its dependencies:
        # it pins cryptography<44, which would downgrade the whole environment; its code runs on ours.
        subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "--no-deps", *IB1_REFERENCE], check=True, cwd=ROOT)
    stamp.write_text(wanted)


def postgres_reachable(host: str = "127.0.0.1", port: int = 5432) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def try_start_postgres() -> None:
    """Start a local PostgreSQL cluster if one is installed but stopped; otherwise say why tests will skip."""
    if os.environ.get("PERSEUS_TEST_POSTGRES_URL") or postgres_reachable():
        return
    clusters = Path("/etc/postgresql")
    if shutil.which("pg_ctlcluster") and clusters.is_dir():
        for version in sorted(p.name for p in clusters.iterdir()):
            say(f"PostgreSQL is not running; starting cluster {version}/main")
            subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], check=False)
        if postgres_reachable():
            return
    say("PostgreSQL is not reachable on 127.0.0.1:5432: the PostgreSQL tests will be skipped (reason shown by pytest)")


def ensure_node_harness() -> None:
    """Install the @digitalbazaar/vc comparison harness (bench/node) when Node.js is present.

    The interoperability tests verify our credentials with an independent implementation; without Node
    they are skipped and pytest says so.
    """
    node_dir = ROOT / "bench" / "node"
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        say("Node.js is not installed: the @digitalbazaar/vc interoperability tests will be skipped")
        return
    lock = node_dir / "package-lock.json"
    stamp = node_dir / "node_modules" / ".perseus-installed"
    wanted = hashlib.sha256(lock.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted:
        return
    say("installing the @digitalbazaar/vc comparison harness (npm ci in bench/node)")
    try:
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=node_dir, check=True, timeout=900)
        stamp.write_text(wanted)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        say(f"npm ci failed ({exc}); the interoperability tests will be skipped")


def demo() -> int:
    ensure_venv("issuer")
    return subprocess.run([str(BIN / "perseus"), "demo"], cwd=ROOT).returncode


def test(args: list[str]) -> int:
    ensure_venv("dev")
    ensure_node_harness()
    try_start_postgres()
    command = [str(PYTHON), "-m", "pytest", *args]
    say("running " + " ".join(command[2:]))
    return subprocess.run(command, cwd=ROOT).returncode


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("demo", "test"):
        print(__doc__)
        return 2
    if sys.argv[1] == "demo":
        return demo()
    return test(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
