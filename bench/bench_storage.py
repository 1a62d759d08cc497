"""Benchmark the issuer's storage: what one issued credential costs the database, on SQLite and PostgreSQL.

Per issue the service makes two storage calls — ``reserve_status`` (random revocation and
suspension indices) and ``save_issued`` (the issuance log row, durable when it returns) — so that
pair is what is timed, with a ~2 KB signed tariff credential as the payload. The service target is
>= 400 issues/s with p99 <= 50 ms on this 2-core machine, signing included, so storage should stay
well under a millisecond per issue.

Scenarios, each on SQLite (default durable settings: WAL, synchronous=FULL for the save) and on
PostgreSQL (at PERSEUS_TEST_POSTGRES_URL, in a throw-away schema; skipped if unreachable):

* one thread: latency of reserve, save, and the pair (p50 / p99), and issues/s;
* 4 threads sharing one Storage (one uvicorn worker with a thread pool);
* 2 processes x 2 threads, each process with its own Storage (two workers or two replicas), as
  fast as they go, and paced at the target 400 issues/s (latency counted from when each issue
  was due, so queueing shows);
* status changes (revoke) and reading a status list for serving;
* SQLite with ?synchronous=NORMAL, to show what the per-save fsync costs.

Run: ``python bench/bench_storage.py [--issues N]`` (prints figures; asserts nothing).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from contextlib import ExitStack

from perseus.issuer.storage import open_storage
from perseus.issuer.storage.testing import postgres_test_url, postgres_unavailable_reason, temporary_schema

ISSUER = "did:web:energy.example"


def tariff_credential(credential_id: str) -> dict[str, object]:
    """Shaped like a signed small tariff credential (~2 KB of JSON)."""
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/perseus/v1"],
        "id": credential_id,
        "type": ["VerifiableCredential", "TariffCredential"],
        "issuer": ISSUER,
        "validFrom": "2025-04-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:sme-42",
            "tariff": {
                "name": "Business Fixed 12M",
                "region": "GSP group C",
                "standingCharge": {"value": "45.21", "unit": "GBX/day"},
                "unitRates": [
                    {"value": "24.50", "unit": "GBX/kWh", "validFrom": f"2025-04-{d:02d}T00:00:00Z", "validTo": f"2025-04-{d + 1:02d}T00:00:00Z"}
                    for d in range(1, 12)
                ],
            },
        },
        "credentialStatus": [
            {"id": "https://issuer.example/status/a#1", "type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": "1", "statusListCredential": "https://issuer.example/status/a"},
            {"id": "https://issuer.example/status/b#2", "type": "BitstringStatusListEntry", "statusPurpose": "suspension", "statusListIndex": "2", "statusListCredential": "https://issuer.example/status/b"},
        ],
        "proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": "2025-04-01T00:00:00Z", "verificationMethod": ISSUER + "#key-1", "proofPurpose": "assertionMethod", "proofValue": "z" + "5" * 86},
    }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def single_thread(url: str, issues: int) -> None:
    with open_storage(url) as storage:
        storage.create_profile("bench", issuer=ISSUER, suites=["eddsa-rdfc-2022"])
        body = json.dumps(tariff_credential("urn:uuid:x"))
        for n in range(50):  # warm the pool and the statement caches
            storage.save_issued(storage.reserve_status("bench", f"urn:warm:{n}"), body)
        reserve, save, pair = [], [], []
        started = time.perf_counter()
        for n in range(issues):
            t0 = time.perf_counter()
            reservation = storage.reserve_status("bench", f"urn:uuid:{n}")
            t1 = time.perf_counter()
            storage.save_issued(reservation, body)
            t2 = time.perf_counter()
            reserve.append(t1 - t0)
            save.append(t2 - t1)
            pair.append(t2 - t0)
        elapsed = time.perf_counter() - started
        print(f"  1 thread      : {issues / elapsed:8.0f} issues/s | reserve p50 {ms(statistics.median(reserve))} p99 {ms(percentile(reserve, 0.99))}"
              f" | save p50 {ms(statistics.median(save))} p99 {ms(percentile(save, 0.99))}"
              f" | both p50 {ms(statistics.median(pair))} p99 {ms(percentile(pair, 0.99))}")

        ids = [f"urn:uuid:{n}" for n in range(0, issues, max(1, issues // 200))]
        t0 = time.perf_counter()
        for credential_id in ids:
            storage.set_status(credential_id, "revocation", True)
        revoke = (time.perf_counter() - t0) / len(ids)
        list_id = storage.get_issued(ids[0]).entries[0].list_id
        t0 = time.perf_counter()
        for _ in range(200):
            storage.get_status_list(list_id)
        read = (time.perf_counter() - t0) / 200
        t0 = time.perf_counter()
        for credential_id in ids:
            storage.get_issued(credential_id)
        fetch = (time.perf_counter() - t0) / len(ids)
        print(f"  other calls   : revoke {ms(revoke)} | get_status_list (16 KB) {ms(read)} | get_issued {ms(fetch)}")


def threaded(url: str, issues: int, threads: int, rate: float | None = None) -> tuple[float, list[float]]:
    """``issues`` split over ``threads``; as fast as possible, or paced at ``rate`` issues/s in all
    (then each latency is measured from when the issue was *due*, so queueing is not hidden)."""
    with open_storage(url, pool_size=threads) as storage:
        if not any(p.profile_id == "bench" for p in storage.list_profiles()):
            storage.create_profile("bench", issuer=ISSUER, suites=["eddsa-rdfc-2022"])
        body = json.dumps(tariff_credential("urn:uuid:x"))
        latencies: list[float] = []
        lock = threading.Lock()
        barrier = threading.Barrier(threads + 1)
        prefix = f"{os.getpid()}-{time.time_ns()}"

        def work(worker: int) -> None:
            mine = []
            interval = threads / rate if rate else 0.0
            barrier.wait()
            begin = time.perf_counter() + worker * interval / threads
            for n in range(issues // threads):
                due = begin + n * interval
                pause = due - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                t0 = due if rate else time.perf_counter()
                storage.save_issued(storage.reserve_status("bench", f"urn:{prefix}:{worker}:{n}"), body)
                mine.append(time.perf_counter() - t0)
            with lock:
                latencies.extend(mine)

        pool = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
        for t in pool:
            t.start()
        barrier.wait()
        started = time.perf_counter()
        for t in pool:
            t.join()
        return time.perf_counter() - started, latencies


def _process(url: str, issues: int, threads: int, rate: float | None, start: multiprocessing.synchronize.Event, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    start.wait()
    elapsed, latencies = threaded(url, issues, threads, rate)
    out.put((elapsed, latencies))


def multi_process(url: str, issues: int, processes: int, threads: int, rate: float | None = None) -> None:
    context = multiprocessing.get_context("fork")
    start = context.Event()
    out = context.Queue()
    per_process_rate = rate / processes if rate else None
    workers = [context.Process(target=_process, args=(url, issues // processes, threads, per_process_rate, start, out)) for _ in range(processes)]
    for w in workers:
        w.start()
    time.sleep(0.5)  # let every process open its storage
    t0 = time.perf_counter()
    start.set()
    results = [out.get(timeout=600) for _ in workers]
    wall = time.perf_counter() - t0
    for w in workers:
        w.join()
    latencies = [x for _, lat in results for x in lat]
    label = f"{processes} proc x {threads} thr" + (f" paced at {rate:.0f}/s" if rate else "")
    print(f"  {label:<14}: {len(latencies) / wall:8.0f} issues/s | reserve+save p50 {ms(statistics.median(latencies))} p99 {ms(percentile(latencies, 0.99))} max {ms(max(latencies))}")


def run_engine(name: str, url: str, issues: int) -> None:
    print(f"{name}: {url}")
    single_thread(url, issues)
    elapsed, latencies = threaded(url, issues, 4)
    print(f"  4 threads     : {len(latencies) / elapsed:8.0f} issues/s | reserve+save p50 {ms(statistics.median(latencies))} p99 {ms(percentile(latencies, 0.99))}")
    multi_process(url, issues, 2, 2)
    multi_process(url, min(issues, 2000), 2, 2, rate=400.0)  # the service's target load


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=3000, help="credentials per scenario (default 3000)")
    args = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.issues} issues per scenario\n")
    with ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="perseus-bench-"))
        run_engine("SQLite (WAL, synchronous=FULL)", f"sqlite:///{folder}/full.db", args.issues)
        run_engine("SQLite (WAL, synchronous=NORMAL)", f"sqlite:///{folder}/normal.db?synchronous=NORMAL", args.issues)
        url = postgres_test_url()
        reason = postgres_unavailable_reason(url)
        if reason:
            print(f"PostgreSQL: skipped — {reason}")
        else:
            schema = stack.enter_context(temporary_schema(url, prefix="perseus_bench"))
            run_engine("PostgreSQL", f"{url}{'&' if '?' in url else '?'}schema={schema}", args.issues)
    return 0


if __name__ == "__main__":
    sys.exit(main())
