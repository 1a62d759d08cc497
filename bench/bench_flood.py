#!/usr/bin/env python3
"""Flood benchmark (issue 7 §3): anonymous verify, partial headers and idle connections against one
`perseus serve`, on loopback only, every phase bounded in count and time.

Starts `perseus serve` (python -m perseus.issuer.service) on a free 127.0.0.1 port with a temporary data
directory and its default limits, then prints:

1. the baseline: issue latency (open loop, `--issue-rate`, 10 issues/s) and /healthz latency with nothing else running;
2. the verify flood: 16 clients each sending maximum-size verify requests (a signed credential of ~8 MB,
   the size the issue used; its signature does not match, so every verification runs to the end) back to
   back for `--seconds`, while issuing runs at 10/s and /healthz is polled 10 times a second. Prints the
   verify answers by status, issue p50/p99/max, /healthz p50/p99/max and the server's peak RSS (from
   /proc). Goals: issue p99 <= 50 ms, RSS < 1 GB, /healthz within 100 ms;
3. the partial-header flood: `--partial` connections (3,000) each sending half a request header, then
   silence: how many were answered 408 by the header timeout, 503 by the connection cap, how long until
   the last was closed, and whether a new request succeeds afterwards;
4. the idle flood: as many connections as this process's descriptor limit allows (at most `--idle`,
   20,000) sending nothing: how many were refused at the cap, how long until all were closed, whether a
   new request succeeds afterwards.

    python bench/bench_flood.py [--seconds 30] [--partial 3000] [--idle 20000] [--readings 80000]

Figures depend on the machine and its load (printed with them): the load average is shown at each phase.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_trust_core import credential  # noqa: E402 - the benchmark's half-hourly readings credential

TOKEN = "bench-flood-token-0123456789"
PASSPHRASE = "bench flood passphrase"
TARIFF = ROOT / "examples" / "credentials" / "tariff-weekend-offpeak-fuelmix.json"


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover
        return "n/a"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident memory of `pid` and its children (uvicorn workers), in MB, from /proc."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for one in pids:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


@contextmanager
def running_service(data_dir: Path, verify_processes: int | None = None) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERSEUS_")}
    env.update(PERSEUS_API_TOKENS=TOKEN, PERSEUS_KEY_PASSPHRASE=PASSPHRASE)
    if verify_processes is not None:
        env["PERSEUS_VERIFY_PROCESSES"] = str(verify_processes)
    command = [sys.executable, "-m", "perseus.issuer.service", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir),
               "--no-access-log", "--log-level", "warning"]
    log_file = open(data_dir.parent / "service.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit("the service exited: " + (data_dir.parent / "service.log").read_text())
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the service did not start") from None
                time.sleep(0.1)
        yield url, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log_file.close()


# -- a minimal HTTP/1.1 client (asyncio streams; no HTTP library: its CPU would be taken from the server) --


def build_request(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body or method == "POST":
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def exchange(port: int, raw: bytes, timeout: float = 120.0) -> tuple[int, bytes, dict[str, str]]:
    """One request on a new connection: (status, body, headers); status 0 if the connection failed."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    except (OSError, asyncio.TimeoutError):
        return 0, b"", {}
    try:
        writer.write(raw)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {n.strip().lower(): v.strip() for n, _, v in (line.partition(":") for line in lines[1:] if line)}
        length = int(headers.get("content-length", "0"))
        body = await asyncio.wait_for(reader.readexactly(length), timeout) if length else b""
        return status, body, headers
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError, IndexError):
        return 0, b"", {}
    finally:
        writer.close()


def percentiles(values: list[float]) -> str:
    if not values:
        return "none"
    ordered = sorted(values)

    def pick(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    return f"p50 {pick(50):.1f} ms, p99 {pick(99):.1f} ms, max {ordered[-1]:.1f} ms (n={len(ordered)}, mean {statistics.fmean(ordered):.1f})"


async def timed(port: int, raw: bytes, sink: list[float], statuses: Counter[int]) -> None:
    started = time.perf_counter()
    status, _, _ = await exchange(port, raw, timeout=30)
    sink.append((time.perf_counter() - started) * 1000)
    statuses[status] += 1


async def open_loop(port: int, make: Any, rate: float, seconds: float, sink: list[float], statuses: Counter[int]) -> None:
    """`rate` requests a second for `seconds`, each on schedule whatever the previous ones are doing."""
    tasks = []
    start = time.perf_counter()
    for i in range(int(rate * seconds)):
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        tasks.append(asyncio.create_task(timed(port, make(), sink, statuses)))
    await asyncio.gather(*tasks)


# -- phases ---------------------------------------------------------------------------------------------------


def issue_request_factory(did: str) -> Any:
    template = json.loads(TARIFF.read_text(encoding="utf-8"))
    template.pop("proof", None)
    template.pop("credentialStatus", None)
    template["issuer"]["id"] = did

    def make() -> bytes:
        template["id"] = f"urn:uuid:{uuid.uuid4()}"
        return build_request("POST", "/credentials/issue", json.dumps({"credential": template}).encode(), {"Authorization": f"Bearer {TOKEN}"})

    return make


def max_size_verify_body(readings: int) -> bytes:
    from perseus.issuer.keyfile import generate_key_file
    from perseus.issuer.signing import sign_document

    signer = generate_key_file("Ed25519")
    signed = sign_document(credential(signer.controller, readings), signer)
    # Another key's signature: verification does all its work (expansion, canonicalization) and then fails.
    signed["proof"]["proofValue"] = sign_document(credential(signer.controller, 1), generate_key_file("Ed25519"))["proof"]["proofValue"]
    return json.dumps({"verifiableCredential": signed}, separators=(",", ":")).encode()


async def baseline(port: int, make_issue: Any, rate: float) -> None:
    issue_ms: list[float] = []
    health_ms: list[float] = []
    statuses: Counter[int] = Counter()
    await asyncio.gather(
        open_loop(port, make_issue, rate, 5, issue_ms, statuses),
        open_loop(port, lambda: build_request("GET", "/healthz"), 10, 5, health_ms, statuses),
    )
    print(f"  issue   ({rate:g}/s, 5 s): {percentiles(issue_ms)}")
    print(f"  healthz (10/s, 5 s): {percentiles(health_ms)}   statuses {dict(statuses)}   load {load_average()}")


async def verify_flood(port: int, pid: int, make_issue: Any, body: bytes, seconds: float, rate: float) -> None:
    raw = build_request("POST", "/credentials/verify", body)
    verify_statuses: Counter[int] = Counter()
    verify_ms: list[float] = []
    retry_after: Counter[str] = Counter()
    stop = time.perf_counter() + seconds
    peak = [rss_mb(pid)]

    async def client() -> None:
        while time.perf_counter() < stop:
            started = time.perf_counter()
            status, _, headers = await exchange(port, raw, timeout=seconds + 60)
            verify_statuses[status] += 1
            if status == 503:
                retry_after[headers.get("retry-after", "none")] += 1
                await asyncio.sleep(min(float(headers.get("retry-after", "1")), 1.0))
            else:
                verify_ms.append((time.perf_counter() - started) * 1000)

    async def sample_memory() -> None:
        while time.perf_counter() < stop + 5:
            peak[0] = max(peak[0], rss_mb(pid))
            await asyncio.sleep(0.1)

    issue_ms: list[float] = []
    health_ms: list[float] = []
    issue_statuses: Counter[int] = Counter()
    health_statuses: Counter[int] = Counter()
    await asyncio.sleep(0)
    await asyncio.gather(
        *(client() for _ in range(16)),
        sample_memory(),
        open_loop(port, make_issue, rate, seconds, issue_ms, issue_statuses),
        open_loop(port, lambda: build_request("GET", "/healthz"), 10, seconds, health_ms, health_statuses),
    )
    print(f"  verify answers: {dict(verify_statuses)} (Retry-After on 503: {dict(retry_after)}); completed verifications {percentiles(verify_ms)}")
    print(f"  issue   ({rate:g}/s): {percentiles(issue_ms)}   statuses {dict(issue_statuses)}")
    print(f"  healthz (10/s): {percentiles(health_ms)}   statuses {dict(health_statuses)}")
    print(f"  server peak RSS: {peak[0]:.0f} MB   load {load_average()}")


async def connection_flood(port: int, count: int, payload: bytes, wait: float, label: str) -> None:
    """`count` connections that send `payload` (maybe nothing) and then stay silent; how they end."""
    outcomes: Counter[str] = Counter()
    closed_at: list[float] = []
    start = time.perf_counter()

    connecting = asyncio.Semaphore(200)  # connect in waves: a client loop opening 20,000 at once times itself out

    async def one() -> None:
        try:
            async with connecting:
                reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 10)
        except (OSError, asyncio.TimeoutError) as exc:
            outcomes[f"connect failed ({type(exc).__name__})"] += 1
            return
        try:
            if payload:
                writer.write(payload)
                await writer.drain()
            data = await asyncio.wait_for(reader.read(), wait)
            closed_at.append(time.perf_counter() - start)
            if data.startswith(b"HTTP/1.1 408"):
                outcomes["answered 408 (header timeout) and closed"] += 1
            elif data.startswith(b"HTTP/1.1 503"):
                outcomes["answered 503 (connection cap) and closed"] += 1
            elif not data:
                outcomes["closed without a word"] += 1
            else:
                outcomes[f"answered {data[:12]!r}"] += 1
        except asyncio.TimeoutError:
            outcomes[f"still open after {wait:.0f} s"] += 1
        except OSError as exc:
            closed_at.append(time.perf_counter() - start)
            outcomes[f"reset ({type(exc).__name__})"] += 1
        finally:
            writer.close()

    opening = asyncio.gather(*(one() for _ in range(count)))
    await asyncio.sleep(2.0)
    during = await exchange(port, build_request("GET", "/healthz"), timeout=5)
    await opening
    opened = time.perf_counter() - start
    after = await exchange(port, build_request("GET", "/healthz"), timeout=5)
    last = max(closed_at) if closed_at else float("nan")
    print(f"  {label}: {count} connections: {dict(outcomes)}")
    print(f"    all opened and ended within {opened:.1f} s; the last was closed {last:.1f} s after the first opened; a new GET /healthz during the flood: {during[0] or 'failed'}, after it: {after[0] or 'failed'}"
          f"   load {load_average()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the verify flood (max 120)")
    parser.add_argument("--verify-processes", type=int, choices=range(0, 9), metavar="N",
                        help="PERSEUS_VERIFY_PROCESSES for the service (default: its own, 1; 0 verifies in threads, for comparison)")
    parser.add_argument("--issue-rate", type=float, default=10.0, help="issues a second during the baseline and the flood")
    parser.add_argument("--readings", type=int, default=80_000, help="readings in the verify credential (80,000: ~8 MB)")
    parser.add_argument("--partial", type=int, default=3000, help="partial-header connections (max 20,000; 0 skips)")
    parser.add_argument("--idle", type=int, default=20_000, help="idle connections at most (bounded by the descriptor limit; 0 skips)")
    args = parser.parse_args()
    seconds = min(max(args.seconds, 1.0), 120.0)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # for this client only; the server keeps its own
        soft = hard
    budget = (soft if soft != resource.RLIM_INFINITY else 100_000) - 200
    partial = max(0, min(args.partial, 20_000, budget))  # 0 skips the phase
    idle = max(0, min(args.idle, 20_000, budget))
    print(f"bench_flood: {os.cpu_count()} CPUs, load average {load_average()}, Python {sys.version.split()[0]}")
    print(f"building the verify body ({args.readings} readings) ...", flush=True)
    body = max_size_verify_body(args.readings)
    print(f"  {len(body) / 1e6:.1f} MB")
    with tempfile.TemporaryDirectory(prefix="perseus-flood-") as tmp:
        data_dir = Path(tmp) / "data"
        with running_service(data_dir, args.verify_processes) as (url, process):
            port = int(url.rsplit(":", 1)[1])
            with urllib.request.urlopen(url + "/issuers", timeout=10) as answer:
                did = json.load(answer)["issuers"][0]["issuer"]
            make_issue = issue_request_factory(did)
            print(f"service {url} (pid {process.pid}), RSS at start {rss_mb(process.pid):.0f} MB")
            print("1. baseline")
            rate = min(max(args.issue_rate, 0.5), 100.0)
            asyncio.run(baseline(port, make_issue, rate))
            print(f"2. verify flood: 16 clients x {len(body) / 1e6:.1f} MB for {seconds:.0f} s, issuing at {rate:g}/s, /healthz at 10/s")
            asyncio.run(verify_flood(port, process.pid, make_issue, body, seconds, rate))
            if partial:
                print("3. partial-header flood")
                half = b"POST /credentials/issue HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty"
                asyncio.run(connection_flood(port, partial, half, 60.0, "partial headers"))
            if idle:
                print("4. idle-connection flood")
                asyncio.run(connection_flood(port, idle, b"", 60.0, "idle"))
            print(f"service RSS at the end {rss_mb(process.pid):.0f} MB; its log's last lines:")
        for line in (Path(tmp) / "service.log").read_text(errors="replace").splitlines()[-8:]:
            print("   ", line[:200])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
