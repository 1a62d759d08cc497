"""``perseus serve``: the command that runs the issuer service (registered by `perseus.issuer.cli`).

Nothing heavy is imported until the command runs, so ``perseus --help`` stays fast and a machine
without the issuer's dependencies gets one line saying which to install.
"""

from __future__ import annotations

import argparse
from typing import Any

from perseus.verifier.cli import EXIT_OK, UsageError

__all__ = ["register"]


def _cmd_serve(args: argparse.Namespace) -> int:
    try:
        from .server import serve
        from .settings import load_settings
    except ImportError as exc:
        raise UsageError(
            f"the issuer service needs its dependencies ({exc.name} is missing): pip install 'perseus-credentials[issuer]'"
        ) from None
    settings = load_settings(
        host=args.host,
        port=args.port,
        data_dir=args.data_dir,
        config=args.config,
        workers=args.workers,
        base_url=args.base_url,
        database_url=args.database_url,
        access_log=False if args.no_access_log else None,
        log_level=args.log_level,
    )
    serve(settings, ssl_certfile=args.ssl_certfile, ssl_keyfile=args.ssl_keyfile)
    return EXIT_OK


def register(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help="run the issuer service (W3C VC API over HTTP)",
        description="Run the issuer service. With no options it runs on embedded defaults: SQLite, a key passphrase, an "
        "API token and an Ed25519 issuer key in ./.perseus (or $PERSEUS_DATA_DIR), all created on first start. Settings "
        "also come from a TOML file (--config) and PERSEUS_* environment variables (PERSEUS_API_TOKENS, "
        "PERSEUS_DATABASE_URL, PERSEUS_BASE_URL, PERSEUS_MAX_BODY_BYTES, PERSEUS_KEY_PASSPHRASE[_FILE], ...).",
    )
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8080; 0 picks a free one)")
    serve.add_argument("--data-dir", metavar="DIR", help="data directory (default: $PERSEUS_DATA_DIR or ./.perseus)")
    serve.add_argument("--config", metavar="FILE", help="TOML config file (default: $PERSEUS_CONFIG)")
    serve.add_argument("--workers", type=int, help="worker processes, each with its own database connections (default 1)")
    serve.add_argument("--base-url", metavar="URL", help="public URL of the service, used in status list URLs (default: http://HOST:PORT)")
    serve.add_argument("--database-url", metavar="URL", help="sqlite:///path or postgresql://host/db (default: SQLite in the data directory)")
    serve.add_argument("--ssl-certfile", metavar="FILE", help="serve HTTPS with this certificate (PEM)")
    serve.add_argument("--ssl-keyfile", metavar="FILE", help="the certificate's private key (PEM)")
    serve.add_argument("--no-access-log", action="store_true", help="do not log one line per request")
    serve.add_argument("--log-level", choices=["debug", "info", "warning", "error"], help="default info")
    serve.set_defaults(run=_cmd_serve)
