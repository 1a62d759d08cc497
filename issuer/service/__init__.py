"""The issuer service: the W3C VC API over HTTP (FastAPI), started by ``perseus serve``.

    from perseus.issuer.service import create_app, load_settings

    app = create_app(load_settings(data_dir="/var/lib/perseus"))   # an ASGI app; uvicorn runs it

Modules, edges first:

* `settings` — embedded defaults, a TOML config file and ``PERSEUS_*`` variables; API tokens;
* `state` — what one process holds (storage, keys, status list publisher) and first-start set-up;
* `app` — the endpoints; `issuing`, `verifying`, `statuses` — what they do, HTTP-free;
* `problems` — RFC 9457 problem details with the W3C error codes; `openapi` — request schemas;
* `server` — ``perseus serve`` (uvicorn, workers, TLS, logging).

FastAPI, uvicorn and httpx are the issuer's dependencies only: the verifier never imports this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import app_from_environment, create_app
    from .settings import ConfigError, ProfileConfig, Settings, TokenTable, load_settings
    from .state import ServiceState, open_service

# Loaded on first use, so that `perseus --help` and `perseus keys` do not import FastAPI.
_LAZY = {
    "app_from_environment": "app",
    "create_app": "app",
    "ConfigError": "settings",
    "ProfileConfig": "settings",
    "Settings": "settings",
    "TokenTable": "settings",
    "load_settings": "settings",
    "ServiceState": "state",
    "open_service": "state",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "ConfigError",
    "ProfileConfig",
    "ServiceState",
    "Settings",
    "TokenTable",
    "app_from_environment",
    "create_app",
    "load_settings",
    "open_service",
]
