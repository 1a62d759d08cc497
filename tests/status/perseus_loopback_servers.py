"""Loopback HTTP servers that count the connections they accept, for the outbound-fetch (SSRF) tests.

Each `LoopbackServer` listens on 127.0.0.1 only, counts every accepted TCP connection (before any
byte is read, so a refused fetch is one that was never even attempted: ``connections == 0``), and
answers in one of a few ways: serve a body, redirect elsewhere, wait before answering, or trickle
a body a byte at a time. Waiting is bounded (`MAX_WAIT` seconds) and released at shutdown, so no
test or thread can hang on it.
"""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

MAX_WAIT = 10.0  # the longest any handler waits, whatever a test asks


@dataclass
class Behaviour:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/vc"})
    delay: float = 0.0  # seconds before answering (bounded by MAX_WAIT, cut short at shutdown)
    trickle: int = 0  # after the headers, send this many bytes one at a time, `delay` apart


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 with a connection counter and a configurable answer."""

    def __init__(self, behaviour: Behaviour | None = None) -> None:
        self.behaviour = behaviour or Behaviour()
        self.connections = 0
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._released = threading.Event()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # http.server's naming
                with owner._lock:
                    owner.requests.append({"path": self.path, "host": self.headers.get("Host")})
                plan = owner.behaviour
                if plan.delay and not plan.trickle:
                    owner._released.wait(min(plan.delay, MAX_WAIT))
                try:
                    self.send_response(plan.status)
                    for name, value in plan.headers.items():
                        self.send_header(name, value)
                    if plan.trickle:
                        self.send_header("Content-Length", str(plan.trickle))
                        self.end_headers()
                        for _ in range(min(plan.trickle, 200)):
                            if owner._released.wait(min(plan.delay, MAX_WAIT)):
                                return
                            self.wfile.write(b" ")
                            self.wfile.flush()
                        return
                    self.send_header("Content-Length", str(len(plan.body)))
                    self.end_headers()
                    self.wfile.write(plan.body)
                except OSError:
                    pass  # the client gave up, as it should

            def log_message(self, *args: object) -> None:
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False

            def get_request(self) -> tuple[socket.socket, Any]:
                accepted = super().get_request()
                with owner._lock:
                    owner.connections += 1
                return accepted

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str = "/status/1") -> str:
        return self.base + path

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def loopback_servers(*behaviours: Behaviour) -> Iterator[list[LoopbackServer]]:
    """Start one server per behaviour; stop them all afterwards."""
    servers = [LoopbackServer(b).start() for b in behaviours]
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()


def closed_port() -> int:
    """A loopback port with nothing listening (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
