"""uvicorn's HTTP/1.1 protocols with read timeouts, a connection cap and problem+json errors of their own.

Why subclasses: uvicorn answers what it cannot parse (a negative Content-Length, a raw space in the
path, a malformed header) itself, before any application sees the request, with ``400 text/plain``;
it has no timeout for a request's headers or body (its keep-alive timer starts only after a response),
so a client that connects and sends nothing, or half a header, holds a connection and its file
descriptor for ever; and its ``limit_concurrency`` answers ``503 text/plain`` and counts connections,
not work. These classes keep uvicorn's parsing and flow control (httptools and h11 both) and add:

* every response the server makes itself is an RFC 9457 problem detail (``application/problem+json``,
  the same body the application uses, see ``problems.py``): 400 for an unparsable request, 408 when
  headers did not arrive in time, 503 with ``Retry-After`` past the connection cap;
* ``header_timeout``: from a connection's start (or a request's first byte) to the end of its headers.
  A connection that sent nothing is closed without a word (a browser's pre-connect); one that sent part
  of a request gets a 408;
* ``body_timeout``: from the end of the headers to the end of the body; past it the connection is closed
  and the application sees the client disconnect (its answer could not be trusted to arrive anyway);
* ``max_header_bytes``: the request line and headers together (httptools has no limit of its own and
  uvicorn keeps them all in memory; h11 gets the same number as its ``max_incomplete_event_size``):
  past it the answer is 431;
* ``max_connections``: a connection beyond it is answered 503 and closed at once, so a flood of idle
  connections cannot use up the process's file descriptors; refusals are logged once per ten seconds
  with a count, never one line each.

`ConnectionLimits` travels to uvicorn — and to its worker processes, pickled — inside a
``functools.partial`` of the protocol class (see `protocol_factory`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from dataclasses import dataclass
from typing import Any

import orjson
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .problems import PROBLEM_JSON, problem_body

__all__ = ["ConnectionLimits", "GuardedH11Protocol", "GuardedHttpToolsProtocol", "problem_bytes", "protocol_factory"]

log = logging.getLogger("perseus.service")

# How long a refused connection is kept (half-closed, reading and discarding) so its 503 can arrive.
_REFUSED_LINGER = 1.0
_MAX_LINGERING = 64
_lingering = [0]  # refused connections lingering now, in this process (one event loop per process)
_REASONS = {400: b"Bad Request", 408: b"Request Timeout", 431: b"Request Header Fields Too Large", 503: b"Service Unavailable"}


@dataclass(frozen=True)
class ConnectionLimits:
    """The server-level limits (seconds and counts); see the module documentation."""

    header_timeout: float = 10.0
    body_timeout: float = 60.0
    max_connections: int = 1000
    max_header_bytes: int = 64 * 1024


def problem_bytes(
    status: int, code: str, detail: str, *, default_headers: list[tuple[bytes, bytes]] | None = None, extra: dict[str, str] | None = None
) -> bytes:
    """A whole HTTP/1.1 response carrying a problem detail, closing the connection (written raw, for
    errors found before any request/response cycle exists)."""
    body = orjson.dumps(problem_body(status, code, detail))
    lines = [b"HTTP/1.1 %d %s\r\n" % (status, _REASONS.get(status, b"Error"))]
    for name, value in default_headers or ():
        lines.append(name + b": " + value + b"\r\n")
    for name, text in (extra or {}).items():
        lines.append(name.encode("ascii") + b": " + text.encode("ascii") + b"\r\n")
    lines.append(b"content-type: " + PROBLEM_JSON.encode("ascii") + b"\r\n")
    lines.append(b"content-length: %d\r\n" % len(body))
    lines.append(b"connection: close\r\n\r\n")
    return b"".join(lines) + body


class _RateLimitedLog:
    """One log line per `interval` seconds for a repeated event, with how many happened meanwhile."""

    def __init__(self, message: str, interval: float = 10.0) -> None:
        self.message = message
        self.interval = interval
        self.count = 0
        self.last = float("-inf")

    def hit(self, *args: Any) -> None:
        self.count += 1
        now = time.monotonic()
        if now - self.last >= self.interval:
            log.warning(self.message + " (%d since the last report)", *args, self.count)
            self.count = 0
            self.last = now


_refused = _RateLimitedLog("connection refused: %d connections are open, the most allowed (PERSEUS_MAX_CONNECTIONS)")
_slow_headers = _RateLimitedLog("connection closed: the request headers did not arrive within %s s (PERSEUS_HEADER_TIMEOUT)")
_slow_body = _RateLimitedLog("connection closed: the request body did not arrive within %s s (PERSEUS_BODY_TIMEOUT)")
_unparsable = _RateLimitedLog("refused a request that is not valid HTTP/1.1: %s")


class _Guard:
    """What both protocols add; mixed in before the uvicorn class. Phases: "idle" (before a request's
    first byte), "headers", "body", "handling" (the whole request was read)."""

    limits: ConnectionLimits
    _timer: asyncio.TimerHandle | None
    _phase: str
    _refused_connection: bool

    # provided by the uvicorn classes
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    connections: set[Any]
    server_state: Any
    cycle: Any

    # Cooperative overrides: _Guard comes before the uvicorn protocol in each subclass's MRO, so super()
    # is that protocol, and both guarded protocols share these three.
    def __init__(self, *args: Any, limits: ConnectionLimits | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        self._guard_init(limits)

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._guard_connection_made()

    def connection_lost(self, exc: Exception | None) -> None:
        self._guard_connection_lost()
        super().connection_lost(exc)  # type: ignore[misc]

    def _guard_init(self, limits: ConnectionLimits | None) -> None:
        self.limits = limits or ConnectionLimits()
        self._timer = None
        self._phase = "idle"
        self._refused_connection = False
        self._header_bytes = 0
        self._headers_too_large = False

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, self._timed_out)

    def _guard_connection_lost(self) -> None:
        self._disarm()
        if self._phase == "refused":
            self._phase = "closed"
            _lingering[0] -= 1

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _guard_connection_made(self) -> bool:
        """False when this connection is one too many (it has been answered 503 and closed)."""
        if len(self.connections) > self.limits.max_connections:
            self._refused_connection = True
            self.connections.discard(self)
            _refused.hit(self.limits.max_connections)
            self.transport.write(
                problem_bytes(
                    503,
                    "SERVICE_UNAVAILABLE",
                    "the service has as many connections open as it allows; try again shortly",
                    default_headers=self.server_state.default_headers,
                    extra={"Retry-After": "1"},
                )
            )
            # Closing with the client's request unread would reset the connection and could destroy the
            # answer in flight: end our side, discard what arrives, close shortly after.
            # At most _MAX_LINGERING at once, so that a flood cannot use descriptors this way either.
            if _lingering[0] >= _MAX_LINGERING or not self.transport.can_write_eof():
                self.transport.close()
                return False
            _lingering[0] += 1
            self.transport.write_eof()
            self._phase = "refused"
            self._arm(_REFUSED_LINGER)
            return False
        self._arm(self.limits.header_timeout)  # a connection that never sends a byte is closed too
        return True

    def _request_started(self) -> None:
        if self._phase != "headers":
            self._phase = "headers"
            self._header_bytes = 0
            self._arm(self.limits.header_timeout)

    def _headers_done(self) -> None:
        self._phase = "body"
        self._arm(self.limits.body_timeout)

    def _message_done(self) -> None:
        self._phase = "handling"
        self._disarm()

    def _timed_out(self) -> None:
        self._timer = None
        if self.transport.is_closing():
            return
        if self._phase == "headers":
            _slow_headers.hit(self.limits.header_timeout)
            self.transport.write(
                problem_bytes(
                    408,
                    "REQUEST_TIMEOUT",
                    f"the request headers did not arrive within {self.limits.header_timeout:g} s",
                    default_headers=self.server_state.default_headers,
                )
            )
        elif self._phase == "body":
            _slow_body.hit(self.limits.body_timeout)
            if self.cycle is not None and not self.cycle.response_complete:
                self.cycle.disconnected = True
                self.cycle.message_event.set()
        elif self._phase == "handling":
            return
        self.transport.close()

    def _problem_400(self) -> bytes:
        if self._headers_too_large:
            return problem_bytes(
                431,
                "REQUEST_HEADERS_TOO_LARGE",
                f"the request line and headers are larger than {self.limits.max_header_bytes} bytes, the most this service reads",
                default_headers=self.server_state.default_headers,
            )
        return problem_bytes(
            400,
            "MALFORMED_HTTP_REQUEST",
            "the request is not valid HTTP/1.1 (its request line, a header or its Content-Length is malformed); nothing was processed",
            default_headers=self.server_state.default_headers,
        )


class GuardedHttpToolsProtocol(_Guard, HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits and problem+json errors of `_Guard`."""

    def data_received(self, data: bytes) -> None:
        if self._refused_connection:
            return
        super().data_received(data)

    def on_message_begin(self) -> None:
        self._request_started()
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._count_header_bytes(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_header_bytes(len(name) + len(value) + 4)
        super().on_header(name, value)

    def _count_header_bytes(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > self.limits.max_header_bytes:
            self._headers_too_large = True
            # httptools turns an exception in a callback into a parser error: send_400_response answers 431.
            raise ValueError("request headers too large")

    def on_headers_complete(self) -> None:
        self._headers_done()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._message_done()
        super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        _unparsable.hit(msg)
        self._disarm()
        self.transport.write(self._problem_400())
        self.transport.close()


class GuardedH11Protocol(_Guard, H11Protocol):
    """uvicorn's h11 protocol with the limits and problem+json errors of `_Guard`."""

    def data_received(self, data: bytes) -> None:
        import h11

        if self._refused_connection:
            return
        if self.conn.their_state is h11.IDLE:
            self._request_started()
        super().data_received(data)
        self._follow_parser()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # A pipelined request already buffered is parsed now, without a data_received call.
        import h11

        if self.conn.their_state is h11.IDLE and self.conn.trailing_data[0]:
            self._request_started()
        self._follow_parser()

    def _follow_parser(self) -> None:
        """h11 has no callbacks: move the phase (and its timer) to wherever the parser has got to."""
        import h11

        if self.transport.is_closing():
            return
        state = self.conn.their_state
        if state is h11.SEND_BODY and self._phase == "headers":
            self._headers_done()
        elif state in (h11.DONE, h11.MUST_CLOSE) and self._phase in ("headers", "body"):
            self._message_done()

    def send_400_response(self, msg: str) -> None:
        _unparsable.hit(msg)
        self._disarm()
        self.transport.write(self._problem_400())
        self.transport.close()


def protocol_factory(limits: ConnectionLimits, *, http: str = "auto") -> Any:
    """The ``http`` argument for uvicorn: a guarded protocol class bound to `limits` (httptools when it
    is installed, as uvicorn's "auto" picks; h11 otherwise or when asked)."""
    if http == "h11":
        cls: type = GuardedH11Protocol
    else:
        try:
            import httptools  # noqa: F401
        except ImportError:  # pragma: no cover - uvicorn[standard] brings it
            cls = GuardedH11Protocol
        else:
            cls = GuardedHttpToolsProtocol
    return functools.partial(cls, limits=limits)
