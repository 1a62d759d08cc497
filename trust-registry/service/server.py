"""`perseus registry serve`: the query service under uvicorn, on the registry in a home directory.

Admin tokens come from --token, else ``PERSEUS_REGISTRY_TOKENS`` (comma-separated; ``token=name`` names the
actor the audit log records), else one is generated into ``DIR/admin-token`` (0600) on first start.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from ..home import RegistryHome

__all__ = ["serve", "load_tokens"]


def load_tokens(home: RegistryHome, given: Sequence[str] | None) -> dict[str, str]:
    """token → actor name."""
    from .app import generate_token

    values = list(given or []) or [v for v in os.environ.get("PERSEUS_REGISTRY_TOKENS", "").split(",") if v.strip()]
    if not values:
        path = home.path / "admin-token"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(generate_token() + "\n")
        values = [path.read_text().strip()]
    tokens = {}
    for number, value in enumerate(values, 1):
        token, _, name = value.strip().partition("=")
        tokens[token] = name or f"admin token {number}"
    return tokens


def build_app() -> object:
    """The app for uvicorn's worker processes (``--workers N``): the home directory and tokens come from
    the environment `serve` sets, so every worker opens the same database and knows the same tokens."""
    from .app import create_app

    home = RegistryHome.at(os.environ.get("PERSEUS_REGISTRY_DIR"))
    return create_app(home.open(), tokens=load_tokens(home, None))


def serve(home: RegistryHome, *, host: str = "127.0.0.1", port: int = 8090, tokens: Sequence[str] | None = None, workers: int = 1) -> int:
    import uvicorn

    known = load_tokens(home, tokens)
    home.open(signing=True).close()  # fail here, with one sentence, if the registry or its key is unusable
    os.environ["PERSEUS_REGISTRY_DIR"] = str(home.path.resolve())
    os.environ["PERSEUS_REGISTRY_TOKENS"] = ",".join(f"{token}={name}" for token, name in known.items())
    sys.stderr.write(f"perseus registry: serving on http://{host}:{port} with {workers} worker(s)\n")
    uvicorn.run("perseus.registry.service.server:build_app", factory=True, host=host, port=port, workers=workers, log_level="warning")
    return 0
