"""Admission control: how many verifications run at once, how many requests the server handles at once,
and the ASGI wrapper that answers HEAD wherever GET is and never lets a server-made error be text/plain.

Why verification has its own gate: ``/credentials/verify`` and ``/presentations/verify`` are open to
anyone and cost up to seconds of CPU and hundreds of megabytes for a maximum-size body, while issuing
a small credential costs milliseconds. Sharing one pool, sixteen anonymous 8 MB verifications starved
issuing (median 2.3 s instead of 27 ms) and took 3.7 GB. `VerifyGate` lets `concurrency` verifications
run, weighted by their body size so that the bodies being verified at once stay under
`max_inflight_bytes` (memory grows with the body; one body larger than that still runs, alone); up to
`queue` more wait at most `queue_timeout` seconds in arrival order; any more are answered at once with
503 and ``Retry-After`` — a client learns to come back instead of holding a connection open.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import math
from collections.abc import AsyncIterator
from typing import Any

import orjson

from .problems import PROBLEM_JSON, ServiceError, internal_error_response, problem_body

__all__ = ["GuardMiddleware", "VerifyGate"]

log = logging.getLogger("perseus.service")


class VerifyGate:
    """A weighted, bounded admission gate for verifications (see the module documentation)."""

    def __init__(self, *, concurrency: int, queue: int, queue_timeout: float, max_inflight_bytes: int) -> None:
        self.concurrency = concurrency
        self.queue = queue
        self.queue_timeout = queue_timeout
        self.max_inflight_bytes = max_inflight_bytes
        self.running = 0
        self.inflight_bytes = 0
        self._waiting: collections.deque[tuple[int, asyncio.Future[None]]] = collections.deque()

    def _fits(self, weight: int) -> bool:
        if self.running == 0:
            return True  # one request, however large, always runs when nothing else does
        return self.running < self.concurrency and self.inflight_bytes + weight <= self.max_inflight_bytes

    def _busy(self) -> ServiceError:
        retry = max(1, math.ceil(self.queue_timeout / 2)) if self.queue else 1
        return ServiceError(
            503,
            "VERIFIER_BUSY",
            f"the service is verifying as many documents as it allows ({self.running} running, {len(self._waiting)} waiting); "
            f"try again in {retry} s (PERSEUS_VERIFY_CONCURRENCY, PERSEUS_VERIFY_QUEUE)",
            headers={"Retry-After": str(retry)},
        )

    @contextlib.asynccontextmanager
    async def slot(self, size: int) -> AsyncIterator[None]:
        """Hold a verification slot for a body of `size` bytes; raises a 503 `ServiceError` when full."""
        weight = max(1, min(size, self.max_inflight_bytes))
        if not self._waiting and self._fits(weight):
            self._take(weight)
        elif len(self._waiting) >= self.queue:
            raise self._busy()
        else:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            entry = (weight, future)
            self._waiting.append(entry)
            try:
                await asyncio.wait_for(asyncio.shield(future), timeout=self.queue_timeout)
            except (asyncio.TimeoutError, asyncio.CancelledError) as exc:
                if future.done() and not future.cancelled():
                    self._release(weight)  # admitted just as we gave up: hand the slot on
                else:
                    future.cancel()
                    with contextlib.suppress(ValueError):
                        self._waiting.remove(entry)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                raise self._busy() from None
        try:
            yield
        finally:
            self._release(weight)

    def _take(self, weight: int) -> None:
        self.running += 1
        self.inflight_bytes += weight

    def _release(self, weight: int) -> None:
        self.running -= 1
        self.inflight_bytes -= weight
        while self._waiting and self._fits(self._waiting[0][0]):
            weight_next, future = self._waiting.popleft()
            if future.done():
                continue
            self._take(weight_next)
            future.set_result(None)


class GuardMiddleware:
    """The outermost ASGI layer of the service.

    * at most `max_requests` requests are handled at once; more are answered 503 problem+json with
      ``Retry-After`` (uvicorn's own ``limit_concurrency`` would answer ``text/plain``);
    * ``HEAD`` is answered wherever ``GET`` is: the request runs as a GET and the body is dropped,
      its headers (Content-Length included) kept, as RFC 9110 §9.3.2 says;
    * an exception that escapes everything inside becomes a problem+json 500 (uvicorn would answer
      ``text/plain``), unless the response had already started.
    """

    def __init__(self, app: Any, *, max_requests: int) -> None:
        self.app = app
        self.max_requests = max_requests
        self.active = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.active >= self.max_requests:
            await _send_problem(send, 503, "SERVICE_UNAVAILABLE", "the service is handling as many requests as it allows; try again shortly", {"retry-after": "1"})
            return
        head = scope["method"] == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}
        started = False

        async def guarded_send(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            elif head and message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        self.active += 1
        try:
            await self.app(scope, receive, guarded_send)
        except Exception as exc:  # noqa: BLE001 - the last line of defence: answer, log, never a traceback
            if started:
                raise
            response = internal_error_response(exc)
            await response(scope, receive, guarded_send)
        finally:
            self.active -= 1


async def _send_problem(send: Any, status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> None:
    body = orjson.dumps(problem_body(status, code, detail))
    raw = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body, "more_body": False})
