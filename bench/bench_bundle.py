"""Benchmark `perseus verify --bundle` as a whole process (budget from issue 9: <= 2 s on 2 cores).

The bundle is a year of one SME's chain: 12 monthly half-hourly electricity consumption credentials (each
carrying the EDP's IB1 provenance record for its month: permission, origin, transfer), one tariff, one annual
emissions report linking all 13 by id and digest and carrying the CAP's own IB1 steps, and the example
registry snapshot — a folder, as a bank receives it. IB1 certificates come from a throwaway test PKI made here
(tests/provenance/ib1_pki.py); the credentials are signed with the four-party example's published example keys.

Figures: the whole process (interpreter start, imports, reading, every check), first run and median/best of N,
and the in-process `verify_bundle` time. Prints the load average: the CPU may be shared with other work.

Run: ``python bench/bench_bundle.py [runs]`` (asserts nothing; exits 1 only if the chain is not complete).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "chain"))

import chain_builder as cb  # noqa: E402

from perseus.verifier.chain import verify_bundle  # noqa: E402
from perseus.verifier.provenance_check import Ib1Options  # noqa: E402
from perseus.verifier.registry_snapshot import TrustAnchor  # noqa: E402


def build(folder: Path) -> tuple[cb.Parties, Path, int]:
    p = cb.parties()
    months = [cb.consumption(p, 2023, m) for m in range(1, 13)]
    tariff = cb.tariff()
    start, _ = cb.month_bounds(2023, 1)
    _, end = cb.month_bounds(2023, 12)
    report = cb.report(p, [*months, tariff], period=(start, end))
    for i, credential in enumerate([report, *months, tariff]):
        (folder / f"{i:02d}.json").write_text(json.dumps(credential))
    (folder / "registry.json").write_bytes(cb.snapshot())
    roots = folder.parent / "ib1-roots.pem"
    roots.write_bytes(p.pki.root_pem)
    return p, roots, sum(f.stat().st_size for f in folder.iterdir())


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description="A year's chain as one bundle: whole `perseus verify --bundle` process and in process.")
    parser.add_argument("runs", nargs="?", type=int, default=5, help="whole-process runs (default 5)")
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work) / "bundle"
        folder.mkdir()
        p, roots, size = build(folder)
        command = [sys.executable, "-m", "perseus.verifier.cli", "verify", "--bundle", str(folder),
                   "--trust-anchor", cb.trust_anchor(), "--ib1-roots", str(roots)]
        print(f"bundle: 14 credentials + registry snapshot, {size / 1e6:.1f} MB; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
        times, answer = [], ""
        for _ in range(runs + 1):
            t0 = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, timeout=120)
            times.append(time.perf_counter() - t0)
            answer = done.stdout.splitlines()[0] if done.stdout else done.stderr.strip()
        print(f"answer: {answer}")
        first, rest = times[0], times[1:]
        print(f"perseus verify --bundle (whole process)   first {first:6.2f} s   median {statistics.median(rest):6.2f} s   best {min(rest):6.2f} s   (budget 2 s)")
        t0 = time.perf_counter()
        result = verify_bundle(folder, trust_anchor=TrustAnchor.parse([cb.trust_anchor()]), ib1=Ib1Options(roots=[p.pki.root]))
        steps = sum(1 for n in result.nodes.values() if n["kind"] == "ib1-step")
        print(f"verify_bundle in process: {time.perf_counter() - t0:6.2f} s ({steps} IB1 steps, {len(result.edges)} links)")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        return 0 if result.complete else 1


if __name__ == "__main__":
    sys.exit(main())
