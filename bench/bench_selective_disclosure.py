"""Benchmark ecdsa-sd-2023 on Perseus consumption credentials: base proof, derivation, verification.

Selective disclosure signs every statement on its own, so its costs grow with the statement count in a
way one-signature suites do not: the issuer makes one P-256 signature per non-mandatory statement (a
month of half-hourly readings is ~9,400 statements), the base proof carries them all (64 bytes each),
and the holder's derivation and the verifier check only what is disclosed. Each row takes the October
2023 example credential (examples/credentials/) cut to N readings, signs it with a fresh P-256 key, and
derives the monthly totals (the Perseus disclosure: the half-hourly readings withheld).

Run: ``python bench/bench_selective_disclosure.py [N ...]`` (default 48 and 1,490 readings; prints
timings, best of --repeat runs; asserts nothing). The machine's load matters: print it with the results.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from perseus.issuer.keyfile import generate_key_file
from perseus.issuer.signing import sign_document
from perseus.verifier import derive_credential, verify_credential
from perseus.verifier.suites import ecdsa_sd_2023 as sd

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "credentials" / "electricity-halfhourly-2023-10.json"
SHOWN = ["/credentialSubject/monthlyTotals", "/credentialSubject/totalKwh"]


def _best(repeat: int, call: Any) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("readings", nargs="*", type=int, default=[48, 1490])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    key = generate_key_file("P-256")
    template = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    del template["proof"]
    template["issuer"] = key.controller
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'readings':>8} {'statements':>10} {'base proof':>10} {'proofValue':>10} {'derive':>8} {'verify':>8} {'derived proofValue':>18}")
    for n in args.readings:
        document = dict(template, credentialSubject=dict(template["credentialSubject"]))
        document["credentialSubject"]["intervalReadings"] = template["credentialSubject"]["intervalReadings"][:n]
        sign_time, signed = _best(args.repeat, lambda d=document: sign_document(d, key, suite="ecdsa-sd-2023"))
        statements = len(sd.parse_base_proof_value(signed["proof"]["proofValue"]).signatures)
        derive_time, shown = _best(args.repeat, lambda s=signed: derive_credential(s, SHOWN))
        verify_time, result = _best(args.repeat, lambda s=shown: verify_credential(s))
        assert result.verified, result.report()
        print(
            f"{n:>8} {statements:>10} {sign_time:>9.2f}s {len(signed['proof']['proofValue']) / 1e6:>8.2f}MB "
            f"{derive_time:>7.2f}s {verify_time:>7.2f}s {len(shown['proof']['proofValue']):>16,}ch"
        )


if __name__ == "__main__":
    main()
