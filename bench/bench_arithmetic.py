"""Benchmark the ``arithmetic`` check on a year of half-hourly consumption: what it adds to a verify.

Budget (issue #11): the check adds <= 10% to a year's verify. The credential is built and signed from the
project's own example year (examples/inputs/electricity_import_2023_long.csv, 17,520 readings); then:

  verify without arithmetic   verify_credential(..., checks=defaults minus "arithmetic")
  verify with arithmetic      verify_credential(...) (the defaults: arithmetic on)
  arithmetic alone            perseus.verifier.arithmetic.arithmetic_check

    python bench/bench_arithmetic.py [--repeat 5]

Prints figures (best and median seconds) and the added share, with the 1-minute load average: the
machine may be shared, so read the figures with it. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CSV = ROOT / "examples" / "inputs" / "electricity_import_2023_long.csv"
ISSUED = "2024-01-05T09:00:00Z"


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """(best, median, last result) over `repeat` runs, in seconds."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description="What the arithmetic check adds to verifying a year of half-hourly data")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from perseus.issuer.adapters import read_long
    from perseus.issuer.credentials import Metadata, build_consumption_credential
    from perseus.issuer.energy.consumption import build_consumption
    from perseus.issuer.energy.mpan import supply_point
    from perseus.issuer.keyfile import generate_key_file
    from perseus.issuer.signing import sign_document
    from perseus.verifier.arithmetic import arithmetic_check
    from perseus.verifier.dates import parse_datetime
    from perseus.verifier.loader import DocumentLoader
    from perseus.verifier.verify import DEFAULT_CHECKS, verify_credential

    loader = DocumentLoader()
    key = generate_key_file("Ed25519")
    point = supply_point("1200123456787", "electricity", "import", "SE1")
    readings = read_long(CSV.read_text(encoding="utf-8"))
    data = build_consumption(point, "did:example:sme", intervals=readings)
    built = build_consumption_credential(
        data, issuer=key.controller, metadata=Metadata("SmartMeterViaDCC"), valid_from=parse_datetime(ISSUED), loader=loader, check="none"
    )
    signed = sign_document(built, key, loader=loader, created=ISSUED)
    without = [c for c in DEFAULT_CHECKS if c != "arithmetic"]

    verify_credential(signed, loader=loader)  # warm caches (contexts, compiled code) before timing
    b0, m0, r0 = timed(lambda: verify_credential(signed, loader=loader, checks=without), args.repeat)
    b1, m1, r1 = timed(lambda: verify_credential(signed, loader=loader), args.repeat)
    b2, m2, r2 = timed(lambda: arithmetic_check(signed), args.repeat)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"a year of half-hourly readings: {len(readings)} readings, {len(signed['credentialSubject'].get('dailyTotals', []))} daily totals")
    print(f"1-minute load average at the end: {load:.2f} on {os.cpu_count()} CPUs (a shared machine slows every row)")
    print(f"{'':28} {'best s':>8} {'median s':>9}")
    print(f"{'verify without arithmetic':28} {b0:8.3f} {m0:9.3f}   verified={r0.verified}")
    print(f"{'verify with arithmetic':28} {b1:8.3f} {m1:9.3f}   verified={r1.verified}")
    print(f"{'arithmetic check alone':28} {b2:8.3f} {m2:9.3f}   outcome={r2.outcome}")
    print(f"added by arithmetic: {100 * b2 / b0:.1f}% of the best verify (check alone / verify without), "
          f"{100 * (m1 - m0) / m0:.1f}% by medians (budget: 10%)")


if __name__ == "__main__":
    main()
