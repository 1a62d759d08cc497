"""Exchange benchmark: a VC API exchange round trip on loopback, and how soon a withdrawal bites. Prints its figures.

    python bench/bench_exchange.py                # 20 round trips (at most 120 s)
    python bench/bench_exchange.py --rounds 50

1. **round trip** [target <= 150 ms on 2 cores]: create the exchange (POST /workflows/receive/exchanges), ask
   (POST {} -> presentation request), the SME's wallet presents a month of half-hourly data (1,488 readings)
   with its permission and status list, signed (authentication, challenge, domain), the CAP's service runs
   every check (proofs over RDFC, holder binding, status, permission) and keeps a receipt. Timed end to end
   from the client, and split: the wallet's signing, the HTTP call that verifies.
2. the same with the presentation **encrypted** to the CAP (JWE ECDH-ES+A256KW, A256GCM).
3. **withdrawal**: the SME withdraws, its wallet pushes the re-signed list, and the very next release from the
   EDP is refused; the time from withdrawal to the refusal is printed.

A real `perseus serve` (uvicorn, SQLite) on 127.0.0.1; every loop is bounded in count and time. The machine's
load average is printed with the figures: other work on a shared machine slows every one of them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "permission"))
MAX_SECONDS = 120.0


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores (shared machine)"


def summary(name: str, samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p90 = ms[min(len(ms) - 1, int(len(ms) * 0.9))]
    return f"{name:<46} n={len(ms):>3}  median {statistics.median(ms):7.1f} ms  p90 {p90:7.1f} ms  min {ms[0]:7.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="round trips per variant (default 20)")
    args = parser.parse_args()
    rounds = max(1, min(args.rounds, 500))

    import httpx
    from perseus.issuer.holder.wallet import Holder
    from perseus.issuer.perseus_demo import _month, _service
    from perseus.issuer.signing import sign_document
    from perseus.verifier.encryption import encrypt_for
    from permission_fixtures import terms

    os.environ.pop("PERSEUS_KEY_PASSPHRASE", None)
    token = "bench-token-" + os.urandom(8).hex()
    auth = {"Authorization": f"Bearer {token}"}
    print(f"bench_exchange: {load()}")
    with tempfile.TemporaryDirectory(prefix="perseus-bench-exchange-") as tmp:
        work = Path(tmp)
        with _service(work, "edp", token) as (edp_url, edp_app), _service(work, "cap", token) as (cap_url, cap_app), Holder.init(work / "sme") as sme:
            edp_did = edp_app.state.service.profiles.all()[0].issuer
            cap_state = cap_app.state.service
            cap_did = cap_state.profiles.all()[0].issuer
            with httpx.Client(base_url=edp_url, timeout=60) as edp, httpx.Client(base_url=cap_url, timeout=60) as cap:
                consumption = edp.post("/credentials/issue", json={"credential": _month(sme.did, edp_did)}, headers=auth).raise_for_status().json()["verifiableCredential"]
                sme.store(consumption)
                for entry in consumption["credentialStatus"]:
                    listed = edp.get("/status/" + entry["statusListCredential"].rsplit("/", 1)[1]).json()
                    cap.post("/permissions/status-lists", json=listed).raise_for_status()
                permission = sme.grant(terms(cap_did))
                received = sme.received()
                size = len(consumption["credentialSubject"]["intervalReadings"])
                print(f"presentation: 1 consumption credential ({size} half-hourly readings) + 1 permission + 1 status list\n")

                deadline = time.monotonic() + MAX_SECONDS
                for encrypted in (False, True):
                    total, signing, checking = [], [], []
                    for _ in range(rounds):
                        if time.monotonic() > deadline:
                            break
                        t0 = time.perf_counter()
                        location = cap.post("/workflows/receive/exchanges", json={"variables": {"supplyPoint": consumption["credentialSubject"]["supplyPoint"]["mpan"]}}, headers=auth).headers["Location"]
                        request = cap.post(location, json={}).json()["verifiablePresentationRequest"]
                        t1 = time.perf_counter()
                        vp = sme.present(request, credentials=received)
                        body: dict[str, Any] = {"encryptedPresentation": encrypt_for(vp, cap_did)} if encrypted else {"verifiablePresentation": vp}
                        t2 = time.perf_counter()
                        answer = cap.post(location, json=body)
                        t3 = time.perf_counter()
                        if answer.status_code != 200:
                            print(f"round trip refused: {answer.status_code} {answer.text[:300]}")
                            return 1
                        total.append(t3 - t0)
                        signing.append(t2 - t1)
                        checking.append(t3 - t2)
                    label = "encrypted" if encrypted else "plain"
                    print(summary(f"round trip ({label}), end to end", total))
                    print(summary(f"  wallet: select + sign the presentation{' + JWE' if encrypted else ''}", signing))
                    print(summary("  CAP: POST presentation (all checks + receipt)", checking))
                    print()

                # -- withdrawal enforced on the next release
                cap_key = cap_state.keys.signing_key(cap_state.settings.default_profile)

                def release() -> Any:
                    made = edp.post("/workflows/release/exchanges", json={"variables": {}}, headers=auth).headers["Location"]
                    asked = edp.post(made, json={}).json()["verifiablePresentationRequest"]
                    vp = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"], "holder": cap_did, "verifiableCredential": [permission, *sme.status_lists()]}
                    signed = sign_document(vp, cap_key, proof_purpose="authentication", challenge=asked["challenge"], domain=asked["domain"])
                    return edp.post(made, json={"verifiablePresentation": signed})

                before = release()
                t0 = time.perf_counter()
                sme.withdraw(permission["id"])
                edp.post("/permissions/status-lists", json=sme.status_lists()[0]).raise_for_status()
                after = release()
                elapsed = time.perf_counter() - t0
                print(f"release before withdrawal: HTTP {before.status_code}; after: HTTP {after.status_code} {after.json().get('code')}")
                print(f"withdrawal -> refusal of the next release: {elapsed * 1000:.0f} ms (withdraw + re-sign list + push + the refused release)")
    print(f"\nbench_exchange: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
