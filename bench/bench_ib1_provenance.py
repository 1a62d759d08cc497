"""Benchmark verifying one 20-step IB1 provenance record (budget from issue 9: <= 50 ms).

The record has the four-party shape: an EDP's signed list (a permission, 6 monthly origins and transfers: 13
steps) nested in a CAP's (receipt, grid and gas factor origins, process, transfer, permission, receipt: 7 steps),
two signers under a throwaway P-384 root -> P-256 issuer PKI made here. Figures: our verifier in-process
(first call, median and best of N), the whole credential `provenance` check, and IB1's reference library
`ib1-provenance` on the same record when it is installed. Prints the load average: the CPU may be shared.

Run: ``python bench/bench_ib1_provenance.py [runs]`` (asserts nothing).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "provenance"))

from ib1_pki import CAP_ROLE, SIGNED_AT, cap_steps, edp_steps, make_pki, own_sign  # noqa: E402

from perseus.verifier.ib1_provenance import verify_ib1_record  # noqa: E402


def timed(label: str, fn: Callable[[], object], runs: int) -> None:
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    print(f"{label:<52} first {first * 1000:7.1f} ms   median {statistics.median(times) * 1000:7.1f} ms   best {min(times) * 1000:7.1f} ms")


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    pki = make_pki()
    edp = pki.leaf("EDP")
    cap = pki.leaf("CAP", roles=[CAP_ROLE])
    inner = own_sign(edp, edp_steps(6), at=SIGNED_AT)
    record = own_sign(cap, cap_steps(), at=SIGNED_AT + timedelta(days=2), base=inner)
    env = pki.environment()
    result = verify_ib1_record(record, env)
    assert result.verified and len(result.steps) == 20, result.summary()
    print(f"record: {len(result.steps)} steps, {len(result.signatures)} signed lists, {len(record['certificates'])} certificates")
    timed("verify_ib1_record (20 steps, 2 signers)", lambda: verify_ib1_record(record, env), runs)
    roles = env.role_urls("energy-data-provider") + env.role_urls("carbon-accounting-provider")
    timed("  ... with a required-role check", lambda: verify_ib1_record(record, env, required_roles=roles), runs)
    try:
        from ib1.provenance import Record
        from ib1.provenance.certificates import CertificatesProviderSelfContainedRecord
    except ImportError:
        print("ib1-provenance is not installed: no reference figure")
    else:
        provider = CertificatesProviderSelfContainedRecord(pki.root_pem)
        timed("ib1-provenance 0.5.x Record.verify (reference)", lambda: Record(record["ib1:provenance"], record).verify(provider), runs)
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
