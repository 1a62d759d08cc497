"""Benchmark VC-JOSE-COSE (vc+jwt) against Data Integrity on the same credentials: sign and verify.

    python bench/bench_jose.py            # a small credential and a month of half-hourly readings, best of 5

Why: a vc+jwt signs the JSON bytes (no JSON-LD canonicalization), but `verify_jwt` still runs the
strict JSON-LD check on the payload (every term defined) — this shows what that leaves of the
difference. Rows per key type: sign_jwt / verify_jwt against sign_document (eddsa-rdfc-2022,
ecdsa-rdfc-2019) / verify_credential, each timed on its own. Prints figures; asserts nothing.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from perseus.issuer.jose_signing import sign_jwt
from perseus.issuer.keyfile import generate_key_file
from perseus.issuer.signing import sign_document
from perseus.verifier.jose import verify_jwt
from perseus.verifier.loader import DocumentLoader
from perseus.verifier.verify import verify_credential

ROOT = Path(__file__).resolve().parents[1]
MONTH = ROOT / "examples" / "credentials" / "electricity-halfhourly-2023-10.json"


def best(call: Callable[[], Any], runs: int = 5) -> float:
    """The best wall time of `runs` calls, in milliseconds (best-of: the least disturbed by other load)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return min(times)


def small(issuer: str) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "type": ["VerifiableCredential", "ExampleMeterCredential"],
        "issuer": issuer,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:sme-42", "name": "Brightwater Studio"},
    }


def main() -> None:
    loader = DocumentLoader()
    documents: list[tuple[str, Callable[[str], dict[str, Any]]]] = [("small (5 claims)", small)]
    if MONTH.exists():
        month = json.loads(MONTH.read_text(encoding="utf-8"))
        month.pop("proof", None)

        def month_as(issuer: str) -> dict[str, Any]:
            return {**month, "issuer": issuer}

        documents.append((f"a month of half-hourly readings ({MONTH.stat().st_size // 1024} KB)", month_as))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; times in ms, best of 5")
    print(f"{'document':52} {'key':8} {'sign jwt':>9} {'sign DI':>9} {'verify jwt':>11} {'verify DI':>10} {'jwt bytes':>10} {'DI bytes':>9}")
    for label, make in documents:
        for key_type in ("Ed25519", "P-256", "P-384"):
            key = generate_key_file(key_type)  # type: ignore[arg-type]
            document = make(key.controller)
            token = sign_jwt(document, key, loader=loader)
            signed = sign_document(document, key, loader=loader)
            assert verify_jwt(token, loader=loader, checks="proof,issuer,validity").verified
            figures = (
                best(lambda: sign_jwt(document, key, loader=loader)),
                best(lambda: sign_document(document, key, loader=loader)),
                best(lambda: verify_jwt(token, loader=loader, checks="proof,issuer,validity")),
                best(lambda: verify_credential(signed, loader=loader, checks="proof,issuer,validity")),
            )
            sizes = (len(token), len(json.dumps(signed, separators=(",", ":"))))
            print(f"{label:52} {key_type:8} {figures[0]:9.2f} {figures[1]:9.2f} {figures[2]:11.2f} {figures[3]:10.2f} {sizes[0]:10} {sizes[1]:9}")


if __name__ == "__main__":
    main()
