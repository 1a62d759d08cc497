#!/usr/bin/env python3
"""Trust-core benchmark (issue #2): eddsa-rdfc-2022 sign and verify of half-hourly reading credentials.

Prints, for N = 1, 48, 1,440 and 17,520 readings (unordered nodes, each with its own start, end, value
and quality — never an @list):
* in-process sign and verify time (best of several runs) and the verify growth factor;
* whole-process `perseus verify FILE` wall time and peak RSS;
* the same file verified by @digitalbazaar/vc 7 (jsonld.js) as a whole process, and the ratio,
  when Node and bench/node/node_modules are present (`cd bench/node && npm ci`).

Goals: verify 17,520 in <= 1 s and >= 4x faster than @digitalbazaar/vc; 17,520 costs <= 14x 1,440;
one reading signs and verifies in <= 2 ms each; peak memory at 17,520 <= 300 MB.

    python bench/bench_trust_core.py [--no-node] [--out DIR]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

from perseus.issuer.keyfile import KeyFile, generate_key_file, write_key_file
from perseus.issuer.signing import sign_document
from perseus.verifier.loader import DocumentLoader
from perseus.verifier.verify import verify_credential

ROOT = Path(__file__).resolve().parents[1]
NODE_DIR = ROOT / "bench" / "node"
SIZES = (1, 48, 1440, 17520)
VOCAB = "https://w3id.org/perseus/bench#"
CONTEXT = {
    "@protected": True,
    "MeterReadingsCredential": VOCAB + "MeterReadingsCredential",
    "readings": {"@id": VOCAB + "reading", "@container": "@set"},
    "start": {"@id": VOCAB + "start", "@type": "http://www.w3.org/2001/XMLSchema#dateTime"},
    "end": {"@id": VOCAB + "end", "@type": "http://www.w3.org/2001/XMLSchema#dateTime"},
    "kWh": {"@id": VOCAB + "kWh", "@type": "http://www.w3.org/2001/XMLSchema#decimal"},
    "quality": {"@id": VOCAB + "quality", "@type": "@vocab"},
    "actual": VOCAB + "actual",
    "estimated": VOCAB + "estimated",
}


def credential(issuer: str, n: int) -> dict[str, Any]:
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    readings = []
    for i in range(n):
        s = start + timedelta(minutes=30 * i)
        readings.append(
            {
                "start": s.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "end": (s + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "kWh": f"{0.1 + (i * 7919 % 1000) / 1000:.3f}",
                "quality": "estimated" if i % 97 == 0 else "actual",
            }
        )
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", CONTEXT],
        "id": f"urn:uuid:00000000-0000-4000-8000-{n:012d}",
        "type": ["VerifiableCredential", "MeterReadingsCredential"],
        "issuer": issuer,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:sme", "readings": readings},
    }


def best(fn: Callable[[], Any], repeat: int) -> float:
    """Best of `repeat` runs, each starting from a collected heap (so earlier runs' garbage costs nothing)."""
    times = []
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def process(command: list[str], repeat: int = 3) -> tuple[float, float]:
    """Median wall time (s) and peak RSS (MB) of running `command` as a whole process."""
    walls, peaks = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        walls.append(time.perf_counter() - t)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
        peaks.append(max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024)
    # ru_maxrss of children is the max over all children so far; run each size once in a fresh parent
    # process (below) when exact per-size peaks matter.
    return statistics.median(walls), max(peaks)


def peak_rss_of(command: list[str]) -> float:
    """Peak RSS (MB) of one run of `command`, measured by a fresh wrapper process."""
    wrapper = (
        "import resource,subprocess,sys;"
        "subprocess.run(sys.argv[1:],capture_output=True);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", wrapper, *command], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-node", action="store_true", help="skip the @digitalbazaar/vc comparison")
    parser.add_argument("--out", help="keep the signed files here (default: a temporary folder)")
    args = parser.parse_args()
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="perseus-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    key: KeyFile = generate_key_file("Ed25519")
    write_key_file(key, out / "key.json", overwrite=True)
    loader = DocumentLoader()
    perseus = shutil.which("perseus") or str(Path(sys.executable).with_name("perseus"))
    node = shutil.which("node") if not args.no_node and (NODE_DIR / "node_modules").is_dir() else None
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; python {sys.version.split()[0]}")
    print(f"{'readings':>9} {'sign ms':>9} {'verify ms':>10} {'process s':>10} {'peak MB':>8} {'node s':>7} {'x faster':>9}")
    verify_times: dict[int, float] = {}
    sign_times: dict[int, float] = {}
    for n in SIZES:
        document = credential(key.controller, n)
        repeat = 200 if n == 1 else 30 if n <= 48 else 15 if n <= 1440 else 7
        signed = sign_document(document, key, loader=loader)
        sign_s = best(lambda: sign_document(document, key, loader=loader), repeat)
        assert verify_credential(signed, loader=loader).verified
        verify_s = best(lambda: verify_credential(signed, loader=loader), repeat)
        verify_times[n] = verify_s
        sign_times[n] = sign_s
        path = out / f"readings-{n}.json"
        path.write_text(json.dumps(signed), encoding="utf-8")
        wall, _ = process([perseus, "verify", str(path)])
        peak = peak_rss_of([perseus, "verify", str(path)])
        node_col = ratio_col = "-"
        if node and n >= 1440:
            node_wall, _ = process(["node", str(NODE_DIR / "verify.mjs"), str(path)], repeat=3 if n >= 17520 else 3)
            node_col, ratio_col = f"{node_wall:.2f}", f"{node_wall / wall:.1f}"
        print(f"{n:>9,} {sign_s * 1000:>9.2f} {verify_s * 1000:>10.2f} {wall:>10.2f} {peak:>8.0f} {node_col:>7} {ratio_col:>9}")
    for what, times in (("verify", verify_times), ("sign", sign_times)):
        growth = times[17520] / times[1440]
        print(f"{what} growth 1,440 -> 17,520 readings: {growth:.1f}x for 12.2x the data (goal <= 14x)")
    print(f"signed files in {out}")


if __name__ == "__main__":
    main()
