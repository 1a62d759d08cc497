#!/usr/bin/env python3
"""Batch verification benchmark (issue #13): one-month half-hourly consumption credentials, many at once.

Makes N signed EnergyConsumptionCredentials of 1,440 half-hourly readings each (November 2023: 30 days,
no clock change), every one distinct (its own MPAN-free id, subject and readings), and caches them as
JSON Lines in a temporary folder (making 10,000 takes a while: it runs on every core, once). Then it
verifies all of them:

* with a plain in-process loop (read a line, parse, `verify_credential`: the baseline, no batch code);
* with `perseus verify-batch`'s process pool (`run_batch`, 2 workers by default);
* with a 2-worker Dask LocalCluster (when the `dask` extra is installed);

and prints credentials per second, per core, the speed-up over the loop, the engine overhead against
the loop per core (1 - per-core rate / loop rate), the engine's measured per-task overhead and the chunk
size it chose, and worker memory (RSS) early in the run, at its end and at its peak, sampled twice a
second. Goals: the pool and Dask each >= 1.8x the loop on 2 cores, overhead <= 10% per core, memory flat.

    python bench/bench_batch.py                 # N = 10,000 (cached after the first run)
    python bench/bench_batch.py --quick         # N = 200, for a smoke run
    python bench/bench_batch.py -n 2000 --loop-n 500 --engines pool,dask

Prints figures; asserts nothing. Load from other processes skews every figure: the load average is
printed before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

READINGS = 1440  # 30 days x 48 half-hours
START = datetime(2023, 11, 1, tzinfo=UTC)
ISSUED = datetime(2023, 12, 2, 9, 0, tzinfo=UTC)
_GENERATE_CHUNK = 25


# -- making the credentials ---------------------------------------------------------------------------

_key: Any = None


def _make(numbers: list[int], key_json: dict[str, Any]) -> list[str]:
    """Build and sign credentials `numbers` (run in a worker process); one JSON line each."""
    from perseus.issuer.credentials import Metadata, build_consumption_credential
    from perseus.issuer.energy.consumption import build_consumption
    from perseus.issuer.energy.model import EnergyUnit, IntervalReading
    from perseus.issuer.energy.mpan import supply_point
    from perseus.issuer.keyfile import KeyFile
    from perseus.issuer.signing import sign_document
    from perseus.verifier.loader import DocumentLoader

    global _key
    if _key is None:
        _key = KeyFile.from_json(key_json)
    loader = DocumentLoader()
    point = supply_point("1200123456787", "electricity", "import", "SE1")
    step = timedelta(minutes=30)
    lines = []
    for number in numbers:
        readings = [
            IntervalReading(START + i * step, START + (i + 1) * step, Decimal((i * 37 + number * 101) % 900 + 100) / 1000, EnergyUnit.KWH, "actual")
            for i in range(READINGS)
        ]
        data = build_consumption(point, f"did:example:sme-{number}", intervals=readings)
        credential = build_consumption_credential(
            data,
            issuer=_key.controller,
            metadata=Metadata("SmartMeterViaDCC"),
            valid_from=ISSUED,
            credential_id=f"urn:uuid:00000000-0000-4000-8000-{number:012d}",
            loader=loader,
            check="none",
        )
        lines.append(json.dumps(sign_document(credential, _key, loader=loader, created=ISSUED), separators=(",", ":")))
    return lines


def credentials_file(n: int, cache: Path, workers: int) -> Path:
    """N credentials as JSON Lines in `cache`, made (or completed) on `workers` processes when missing."""
    from perseus.issuer.keyfile import generate_key_file

    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"consumption-{READINGS}-x{n}.jsonl"
    key_path = cache / "issuer-key.json"
    if not key_path.exists():
        key_path.write_text(json.dumps(generate_key_file("Ed25519").to_json()), encoding="utf-8")
    key_json = json.loads(key_path.read_text(encoding="utf-8"))
    have = 0
    if path.exists():
        with path.open("rb") as handle:
            have = sum(1 for line in handle if line.endswith(b"\n"))
    if have >= n:
        return path
    print(f"making {n - have:,} signed credentials of {READINGS:,} readings in {path} (cached for later runs) ...", flush=True)
    start = time.perf_counter()
    todo = list(range(have, n))
    batches = [todo[i : i + _GENERATE_CHUNK] for i in range(0, len(todo), _GENERATE_CHUNK)]
    with ProcessPoolExecutor(workers) as pool, path.open("a", encoding="utf-8") as out:
        done = 0
        for lines in pool.map(_make, batches, [key_json] * len(batches)):  # in order: the file stays resumable
            out.write("".join(line + "\n" for line in lines))
            out.flush()
            done += len(lines)
            if sys.stderr.isatty():
                sys.stderr.write(f"\r  {done:,}/{len(todo):,}")
    if sys.stderr.isatty():
        sys.stderr.write("\r")
    print(f"  made in {time.perf_counter() - start:.0f} s", flush=True)
    return path


# -- measuring -------------------------------------------------------------------------------------------


@dataclass
class MemorySampler:
    """RSS of this process's children (the workers), sampled on a thread until stopped."""

    interval: float = 0.5
    samples: dict[int, list[float]] = field(default_factory=dict)
    cpu: dict[int, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> "MemorySampler":
        import psutil

        me = psutil.Process()

        def run() -> None:
            while not self._stop.wait(self.interval):
                for child in me.children(recursive=True):
                    try:
                        rss = child.memory_info().rss / 2**20
                        times = child.cpu_times()
                    except psutil.Error:
                        continue
                    self.samples.setdefault(child.pid, []).append(rss)
                    self.cpu[child.pid] = times.user + times.system

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def workers(self) -> list[list[float]]:
        """Sample series of the processes that did the work (the busiest `n` children)."""
        busy = sorted(self.cpu, key=lambda pid: -self.cpu[pid])
        top = self.cpu[busy[0]] if busy else 0
        return [self.samples[pid] for pid in busy if self.cpu[pid] > 0.3 * top and len(self.samples[pid]) >= 2]


def memory_line(sampler: MemorySampler) -> str:
    parts = []
    for series in sampler.workers():
        early = series[min(len(series) - 1, max(1, len(series) // 10))]
        parts.append(f"{early:.0f} -> {series[-1]:.0f} MB (peak {max(series):.0f})")
    return "; ".join(parts) or "no samples (run too short)"


def plain_loop(path: Path, n: int) -> tuple[int, float]:
    """The baseline: one process, no batch code at all."""
    from perseus.verifier.loader import DocumentLoader
    from perseus.verifier.verify import verify_credential

    loader = DocumentLoader()
    now = datetime.now(UTC)
    count = verified = 0
    start = time.perf_counter()
    with path.open("rb") as handle:
        for line in handle:
            if count >= n:
                break
            verified += verify_credential(json.loads(line), loader=loader, now=now).verified
            count += 1
    elapsed = time.perf_counter() - start
    if verified != count:
        print(f"  warning: only {verified} of {count} verified in the loop")
    return count, elapsed


def engine_run(path: Path, engine_name: str, workers: int, out_dir: Path) -> dict[str, Any]:
    from perseus.verifier.batch import BatchOptions, make_engine, run_batch
    from perseus.verifier.batch.driver import ChunkSizer, measure_overhead

    options = BatchOptions.create()
    start = time.perf_counter()
    engine = make_engine(workers, dask=(engine_name == "dask") or None)
    started = time.perf_counter() - start
    try:
        overhead = measure_overhead(engine, options)
        sizer = ChunkSizer(overhead)
        out = out_dir / f"results-{engine_name}.jsonl"
        with MemorySampler() as sampler:
            t = time.perf_counter()
            summary = run_batch([str(path)], str(out), options=options, engine=engine, sizer=sizer)
            elapsed = time.perf_counter() - t
    finally:
        engine.close()
    return {
        "count": summary.total,
        "verified": summary.outcomes["verified"],
        "elapsed": elapsed,
        "startup": started,
        "overhead_ms": overhead * 1000,
        "chunk": sizer.size(),
        "per_input_ms": (sizer.per_input or 0) * 1000,
        "memory": memory_line(sampler),
        "workers": engine.workers,
    }


def load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=10_000, help="credentials to verify (default 10,000)")
    parser.add_argument("--quick", action="store_true", help="N = 200 and a loop of 100: a smoke run")
    parser.add_argument("--loop-n", type=int, help="credentials for the plain loop (default: N)")
    parser.add_argument("--workers", type=int, default=2, help="pool processes / Dask workers (default 2)")
    parser.add_argument("--engines", default="pool,dask", help="comma-separated: pool, dask (default both)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "perseus-bench-batch", help="where the credentials are cached")
    args = parser.parse_args()
    n = 200 if args.quick else args.n
    loop_n = min(n, args.loop_n or (100 if args.quick else n))
    cores = os.cpu_count() or 1
    print(f"Python {sys.version.split()[0]}, {cores} cores, load average {load()}")
    path = credentials_file(n, args.cache, cores)
    print(f"{n:,} credentials of {READINGS:,} readings ({path.stat().st_size / 2**20:,.0f} MB of JSON Lines)")

    count, elapsed = plain_loop(path, loop_n)
    loop_rate = count / elapsed
    print(f"\n{'engine':<22} {'creds':>7} {'wall s':>8} {'creds/s':>8} {'per core':>9} {'speed-up':>9} {'overhead':>9}  task overhead, chunk")
    print(f"{'plain loop (1 core)':<22} {count:>7,} {elapsed:>8.1f} {loop_rate:>8.2f} {loop_rate:>9.2f} {'1.00x':>9} {'-':>9}")
    memories = []
    with tempfile.TemporaryDirectory() as out_dir:
        for name in [e.strip() for e in args.engines.split(",") if e.strip()]:
            if name == "dask":
                try:
                    import distributed  # noqa: F401
                except ImportError:
                    print("dask: not installed (pip install 'perseus-credentials[dask]')")
                    continue
            r = engine_run(path, name, args.workers, Path(out_dir))
            rate = r["count"] / r["elapsed"]
            per_core = rate / r["workers"]
            label = f"{'process pool' if name == 'pool' else 'Dask LocalCluster'} ({r['workers']})"
            print(
                f"{label:<22} {r['count']:>7,} {r['elapsed']:>8.1f} {rate:>8.2f} {per_core:>9.2f} {rate / loop_rate:>8.2f}x"
                f" {100 * (1 - per_core / loop_rate):>8.1f}%  {r['overhead_ms']:.2f} ms/task, {r['chunk']} per task ({r['per_input_ms']:.0f} ms each), start-up {r['startup']:.1f} s"
            )
            if r["verified"] != r["count"]:
                print(f"  warning: {r['count'] - r['verified']} not verified")
            memories.append(f"{label}: {r['memory']}")
    print("\nworker memory (RSS early -> end, peak):")
    for line in memories:
        print(f"  {line}")
    print(f"\nload average after: {load()} (other processes on this machine skew every figure)")


if __name__ == "__main__":
    main()
