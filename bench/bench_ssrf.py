"""Benchmark the verify endpoints against slow and refused status list URLs (issue 7 §2). Prints figures.

The finding: one 1.7 KB ``/credentials/verify`` request naming 10 slow ``statusListCredential`` URLs
held a worker for 40 s, and 16 such requests made ``/healthz`` take 30 s. This starts a real
``perseus serve`` on loopback and measures, with everything on 127.0.0.0/8 and every loop bounded:

1. **refused by default** — a credential naming 10 loopback URLs: how long the request takes and how
   many connections the listeners accepted (the policy refuses loopback: expect 0);
2. **slow but allowed** — the same 10 URLs with ``PERSEUS_STATUS_FETCH_ALLOWED_HOSTS=127.0.0.1`` (as
   if they were slow public servers), each listener answering after 60 s: one request's duration is
   bounded by ``PERSEUS_STATUS_FETCH_TIMEOUT`` (default 5 s) for all its fetches together;
3. **16 at once** — 16 such requests concurrently, and ``/healthz`` sampled meanwhile. (The thread pool
   verify shares with the rest of the service is section 3's business; this shows what the
   per-request deadline alone bounds.)

Run: ``python bench/bench_ssrf.py [--requests 16] [--urls 10]``
"""

from __future__ import annotations

import argparse
import http.server
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
from perseus.issuer.keyfile import generate_key_file
from perseus.issuer.signing import sign_document

TOKEN = "bench-token-for-every-profile"
PASSPHRASE = "bench passphrase, not a secret"
HOLD_SECONDS = 60.0  # how long a slow listener waits before answering (released at the end)


class SlowListeners:
    """``count`` HTTP listeners on 127.0.0.1 that count connections and answer only after HOLD_SECONDS."""

    def __init__(self, count: int) -> None:
        self.connections = 0
        self._lock = threading.Lock()
        self._release = threading.Event()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner._release.wait(HOLD_SECONDS)
                try:
                    self.send_response(404)
                    self.end_headers()
                except OSError:
                    pass

            def log_message(self, *args: object) -> None:
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False

            def get_request(self) -> tuple[socket.socket, object]:
                accepted = super().get_request()
                with owner._lock:
                    owner.connections += 1
                return accepted

        self._servers = [Server(("127.0.0.1", 0), Handler) for _ in range(count)]
        self.urls = [f"http://127.0.0.1:{s.server_address[1]}/status/1" for s in self._servers]
        for server in self._servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._release.set()
        for server in self._servers:
            server.shutdown()
            server.server_close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_service(data_dir: Path, **env_extra: str) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERSEUS_")}
    env.update(PERSEUS_API_TOKENS=TOKEN, PERSEUS_KEY_PASSPHRASE=PASSPHRASE, **env_extra)
    command = [sys.executable, "-m", "perseus.issuer.service", "--port", str(port), "--data-dir", str(data_dir), "--no-access-log", "--log-level", "error"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the service exited: {process.stderr.read().decode() if process.stderr else ''}")
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the service did not start within 60 s")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def slow_credential(urls: list[str]) -> dict[str, object]:
    key = generate_key_file("Ed25519")
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:0b6f6e1e-2d7c-4f59-9c1a-5b1d7c7e0001",
        "type": ["VerifiableCredential", "ExampleMeterCredential"],
        "issuer": key.controller,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:sme-42"},
        "credentialStatus": [
            {"id": f"{u}#{n}", "type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": str(n), "statusListCredential": u}
            for n, u in enumerate(urls)
        ],
    }
    return sign_document(document, key)


def timed_verify(url: str, credential: dict[str, object]) -> tuple[float, int]:
    started = time.perf_counter()
    answer = httpx.post(url + "/credentials/verify", json={"verifiableCredential": credential}, timeout=120)
    return time.perf_counter() - started, answer.status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=16, help="concurrent verify requests in scenario 3 (at most 64)")
    parser.add_argument("--urls", type=int, default=10, help="slow status URLs per credential (at most 16, the default cap)")
    args = parser.parse_args()
    requests, count = min(max(args.requests, 1), 64), min(max(args.urls, 1), 16)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} (shared)")
    listeners = SlowListeners(count)
    credential = slow_credential(listeners.urls)
    size = len(httpx.Request("POST", "http://x", json={"verifiableCredential": credential}).content)
    print(f"request: one credential naming {count} slow loopback status URLs, {size} bytes")
    try:
        with tempfile.TemporaryDirectory(prefix="perseus-ssrf-") as tmp:
            with running_service(Path(tmp) / "default") as url:
                seconds, status = timed_verify(url, credential)
                print(f"1. default policy   : HTTP {status} in {seconds * 1000:.0f} ms; listener connections {listeners.connections} (loopback refused)")
            with running_service(Path(tmp) / "allowed", PERSEUS_STATUS_FETCH_ALLOWED_HOSTS="127.0.0.1") as url:
                before = listeners.connections
                seconds, status = timed_verify(url, credential)
                print(f"2. allowed, slow    : HTTP {status} in {seconds:.2f} s (deadline 5 s for all {count} URLs); connections {listeners.connections - before}")
                health: list[float] = []
                stop = threading.Event()

                def sample() -> None:
                    for _ in range(600):  # at most 600 samples, one every 0.1 s
                        if stop.is_set():
                            return
                        started = time.perf_counter()
                        try:
                            httpx.get(url + "/healthz", timeout=60)
                        except httpx.HTTPError:
                            pass
                        health.append(time.perf_counter() - started)
                        time.sleep(0.1)

                sampler = threading.Thread(target=sample, daemon=True)
                sampler.start()
                started = time.perf_counter()
                with ThreadPoolExecutor(max_workers=requests) as pool:
                    results = list(pool.map(lambda _: timed_verify(url, credential), range(requests)))
                wall = time.perf_counter() - started
                stop.set()
                sampler.join(timeout=70)
                durations = sorted(r[0] for r in results)
                print(
                    f"3. {requests} at once      : all answered in {wall:.2f} s; per request median {statistics.median(durations):.2f} s, "
                    f"max {durations[-1]:.2f} s; statuses {sorted({r[1] for r in results})}"
                )
                if health:
                    print(f"   /healthz meanwhile: {len(health)} samples, median {statistics.median(health) * 1000:.0f} ms, max {max(health) * 1000:.0f} ms")
    finally:
        listeners.close()


if __name__ == "__main__":
    main()
