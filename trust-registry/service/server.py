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


def serve(home: RegistryHome, *, host: str = "127.0.0.1", port: int = 8090, tokens: Sequence[str] | None = None) -> int:
    import uvicorn

    from .app import create_app

    store = home.open()
    app = create_app(store, tokens=load_tokens(home, tokens))
    sys.stderr.write(f"perseus registry: serving {store.settings.registry} on http://{host}:{port} (admin token in {home.path / 'admin-token'} unless given)\n")
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        store.close()
    return 0
