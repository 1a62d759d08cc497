"""``perseus serve``: set the data directory up, say what is served, then run uvicorn.

Start-up happens in this (parent) process first — data directory, passphrase, API token, issuer
profiles, a decrypt of every key — so a mistake stops the command with one line and exit code 2
before any worker starts. Then uvicorn runs the app factory (`app.app_from_environment`) in one
process, or in ``--workers N`` processes that each open their own storage; the options given on the
command line travel to them as ``PERSEUS_*`` environment variables.
"""

from __future__ import annotations

import copy
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .protocols import ConnectionLimits, protocol_factory
from .settings import ConfigError, Settings, environment_for_workers
from .state import open_service

__all__ = ["configure_logging", "describe_service", "free_port", "log_config", "serve", "serving_in_thread", "server_options"]

log = logging.getLogger("perseus.service")
APP_FACTORY = "perseus.issuer.service.app:app_from_environment"


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging configuration plus the service's own ``perseus`` logger."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["perseus"] = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    for name in ("uvicorn", "uvicorn.error"):
        config["loggers"].setdefault(name, {})["level"] = level.upper()
    return config


def configure_logging(level: str) -> None:
    import logging.config

    logging.config.dictConfig(log_config(level))


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (for ``--port 0`` and the demo)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


# File descriptors kept free beyond the connection cap: the database, its journal, logs, the listening socket.
_SPARE_DESCRIPTORS = 64


def connection_cap(wanted: int) -> int:
    """`wanted`, lowered if need be so that that many connections fit in this process's file descriptor limit
    (each connection is one descriptor; running out would make new connections fail, unlogged)."""
    try:
        import resource

        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, OSError, ValueError):  # pragma: no cover - not on POSIX
        return wanted
    if soft == resource.RLIM_INFINITY:
        return wanted
    allowed = max(1, soft - _SPARE_DESCRIPTORS)
    if wanted > allowed:
        log.warning("max_connections lowered from %d to %d: the file descriptor limit (ulimit -n) is %d", wanted, allowed, soft)
    return min(wanted, allowed)


def server_options(settings: Settings, *, http: str = "auto") -> dict[str, Any]:
    """uvicorn options for the service's server-level limits: the guarded HTTP protocol (header and body
    read timeouts, the connection cap, problem+json for errors found before the app runs, see
    ``protocols.py``) and the keep-alive timeout. `http` is "auto" (httptools when installed) or "h11"."""
    limits = ConnectionLimits(
        header_timeout=settings.header_timeout,
        body_timeout=settings.body_timeout,
        max_connections=connection_cap(settings.max_connections),
        max_header_bytes=settings.max_header_bytes,
    )
    return {
        "http": protocol_factory(limits, http=http),
        "timeout_keep_alive": settings.keep_alive_timeout,
        "h11_max_incomplete_event_size": settings.max_header_bytes,
    }


@contextmanager
def serving_in_thread(
    app: Any, *, host: str = "127.0.0.1", port: int | None = None, start_timeout: float = 20.0, http: str = "auto"
) -> Iterator[str]:
    """Run ``app`` under a real uvicorn in a daemon thread (the demo, tests); yields its base URL.

    The server has the limits of the app's settings (`server_options`). Stops the server on exit, waiting
    at most 10 s, so a caller can never hang on it.
    """
    import uvicorn

    port = port or free_port(host)
    service = getattr(getattr(app, "state", None), "service", None)
    options = server_options(service.settings, http=http) if service is not None else {}
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="on", **options))
    thread = threading.Thread(target=server.run, name=f"perseus-service-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the issuer service did not start on {host}:{port}")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def describe_service(settings: Settings) -> list[str]:
    """Open the service once (doing any first-start set-up) and describe it in log lines."""
    state = open_service(settings)
    try:
        lines = [f"database: {state.storage.url}"]
        for record in state.profiles.all():
            lines.append(f"issuer profile {record.profile_id!r}: {record.issuer} (suites: {', '.join(record.suites)})")
        if settings.api_tokens:
            lines.append(f"API tokens: {len(state.tokens)} from PERSEUS_API_TOKENS / the config file")
        else:
            lines.append(f"API token: in {settings.token_file} (send it as 'Authorization: Bearer <token>' to issue)")
        return lines
    finally:
        state.close()


def _port_is_free(host: str, port: int) -> None:
    """Bind the port as uvicorn will (SO_REUSEADDR) and let it go: a busy port is a ConfigError, not a false "listening"."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc} (is another perseus serve running? choose --port)") from None


def serve(settings: Settings, *, ssl_certfile: str | None = None, ssl_keyfile: str | None = None) -> None:
    """Run the service until interrupted (blocks)."""
    import uvicorn

    if (ssl_certfile is None) != (ssl_keyfile is None):
        raise ConfigError("give both --ssl-certfile and --ssl-keyfile (or neither)")
    for path in (ssl_certfile, ssl_keyfile):
        if path is not None and not Path(path).is_file():
            raise ConfigError(f"TLS file {path} does not exist")
    if settings.port == 0:
        settings = settings.model_copy(update={"port": free_port(settings.host)})
    if ssl_certfile and not settings.base_url:
        settings = settings.model_copy(update={"base_url": settings.resolved_base_url.replace("http://", "https://", 1)})
    configure_logging(settings.log_level)
    for line in describe_service(settings):
        log.info("%s", line)
    _port_is_free(settings.host, settings.port)  # say "listening" (or change anything) only once the port can be bound
    os.environ.update(environment_for_workers(settings))
    if settings.verify_processes is None:
        os.environ["PERSEUS_VERIFY_PROCESSES"] = "1"  # verify outside the process that issues (verify_pool.py)
    scheme = "https" if ssl_certfile else "http"
    log.info(
        "Perseus issuer service listening on %s://%s:%d with %d worker(s); status list URLs start with %s/status/",
        scheme,
        settings.host,
        settings.port,
        settings.workers,
        settings.resolved_base_url,
    )
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        log_config=log_config(settings.log_level),
        access_log=settings.access_log,
        timeout_graceful_shutdown=5,
        server_header=False,
        **server_options(settings),
    )
