"""A light HTTP/1.1 load generator for the issuer service (asyncio streams, keep-alive, no HTTP library).

Why not httpx: its client costs a few milliseconds of CPU per request (measured here ~5 ms with
1,000 queued requests), which on a 2-core machine is taken from the server being measured. This
client sends pre-built requests over persistent connections and parses only the status line and
Content-Length, ~0.1 ms per request.

Used by bench/bench_service.py (and runnable on its own)::

    python bench/loadgen.py --url http://127.0.0.1:8080 --token TOKEN --body body.json \\
        --requests 2000 --connections 16            # closed loop: as fast as the server answers
    python bench/loadgen.py ... --rate 400 --seconds 10   # open loop: 400 requests/s on a schedule

``body.json`` is an issue request whose credential id is the placeholder ``CREDENTIAL_ID``; each
request gets its own ``urn:uuid:``. Latency in open-loop mode counts from when a request was *due*,
so a server falling behind shows as queueing delay rather than as fewer requests (no coordinated
omission). Prints a JSON summary; ``--ids FILE`` writes the id of every credential answered 201.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["LoadResult", "run_load"]


@dataclass
class LoadResult:
    statuses: Counter[int] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)  # ids answered 201
    errors: Counter[str] = field(default_factory=Counter)  # connection failures by kind
    seconds: float = 0.0

    def summary(self) -> dict[str, object]:
        done = sum(self.statuses.values())
        lat = sorted(self.latencies_ms)

        def pct(p: float) -> float | None:
            return round(lat[min(len(lat) - 1, int(p / 100 * len(lat)))], 2) if lat else None

        return {
            "requests": done,
            "seconds": round(self.seconds, 3),
            "requests_per_second": round(done / self.seconds, 1) if self.seconds else None,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "connection_errors": dict(self.errors),
            "latency_ms": {"p50": pct(50), "p90": pct(90), "p99": pct(99), "max": round(lat[-1], 2) if lat else None,
                           "mean": round(statistics.fmean(lat), 2) if lat else None},
        }


class _Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        body = await self.reader.readexactly(length) if length else b""
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def _build(path: str, host: str, token: str, body: bytes) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def run_load(
    url: str,
    token: str,
    template: str,
    *,
    requests: int | None = None,
    connections: int = 16,
    rate: float | None = None,
    seconds: float | None = None,
    path: str = "/credentials/issue",
    on_ack: Callable[[int], None] | None = None,
    stop_on_error: bool = False,
) -> LoadResult:
    """Send issue requests built from ``template`` (``CREDENTIAL_ID`` replaced per request).

    Closed loop (``requests``): ``connections`` workers send back to back. Open loop (``rate`` and
    ``seconds``): requests are due every 1/rate s, sent on the first free connection.
    ``on_ack(n)`` is called after the n-th 201 (the crash test kills the server from it);
    ``stop_on_error`` ends a worker at its first connection failure (the server is gone).
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    result = LoadResult()
    total = requests if requests is not None else int((rate or 1) * (seconds or 1))
    # Requests are built before the clock starts (up to 20,000; later ones on the fly), so the
    # generator spends its CPU on the wire, not on string building, while the server is measured.
    prebuilt: list[tuple[str, bytes]] = []
    for _ in range(min(total, 20_000)):
        credential_id = f"urn:uuid:{uuid.uuid4()}"
        prebuilt.append((credential_id, _build(path, host, token, template.replace("CREDENTIAL_ID", credential_id).encode())))
    interval = 1.0 / rate if rate else 0.0
    queue: asyncio.Queue[tuple[int, float]] = asyncio.Queue()
    stop = asyncio.Event()
    started = time.perf_counter()

    async def producer() -> None:
        for number in range(total):
            due = started + number * interval
            if rate:
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            if stop.is_set():
                break
            await queue.put((number, due if rate else 0.0))
        for _ in range(connections):
            await queue.put((-1, 0.0))

    async def worker() -> None:
        connection = _Connection(host, port)
        try:
            while True:
                number, due = await queue.get()
                if number < 0 or stop.is_set():
                    return
                if number < len(prebuilt):
                    credential_id, raw = prebuilt[number]
                else:
                    credential_id = f"urn:uuid:{uuid.uuid4()}"
                    raw = _build(path, host, token, template.replace("CREDENTIAL_ID", credential_id).encode())
                sent = due or time.perf_counter()
                try:
                    status, _ = await connection.request(raw)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    result.errors[type(exc).__name__] += 1
                    connection.close()
                    if stop_on_error:
                        stop.set()
                        return  # the server is gone (the crash test): not acknowledged
                    continue
                result.latencies_ms.append((time.perf_counter() - sent) * 1000)
                result.statuses[status] += 1
                if status == 201:
                    result.acknowledged.append(credential_id)
                    if on_ack is not None:
                        on_ack(len(result.acknowledged))
        finally:
            connection.close()

    await asyncio.gather(producer(), *(worker() for _ in range(connections)))
    result.seconds = time.perf_counter() - started
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--body", required=True, help="issue request JSON with CREDENTIAL_ID as the id placeholder")
    parser.add_argument("--requests", type=int)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rate", type=float, help="open loop: requests per second")
    parser.add_argument("--seconds", type=float, help="open loop: for how long")
    parser.add_argument("--ids", help="write the ids answered 201 here, one a line")
    args = parser.parse_args()
    if args.requests is None and not (args.rate and args.seconds):
        parser.error("give --requests, or --rate and --seconds")
    template = Path(args.body).read_text(encoding="utf-8")
    result = asyncio.run(run_load(args.url, args.token, template, requests=args.requests, connections=args.connections, rate=args.rate, seconds=args.seconds))
    if args.ids:
        with open(args.ids, "w", encoding="utf-8") as handle:
            handle.writelines(i + "\n" for i in result.acknowledged)
    json.dump(result.summary(), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
