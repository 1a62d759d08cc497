"""Trust-registry benchmark: prints its figures (the issue's targets in brackets).

    python bench/bench_registry.py                 # everything
    python bench/bench_registry.py --skip-service  # in-process figures and the CLI only

1. a 10,000-entity snapshot with history: size [<= 10 MB], sign, load + verify in-process [<= 200 ms];
2. one accreditation decision in-process [<= 50 us];
3. a whole `perseus verify --registry` process versus a plain `perseus verify` [adds <= 0.3 s];
4. `POST /authorization` against `perseus registry serve` on loopback, 10,000 entities: throughput
   [>= 2,000/s] and p99 [<= 20 ms] (closed loop, bounded in requests and time).

Every loop is bounded; traffic goes only to 127.0.0.1. The machine's load average is printed with the
figures, because other work on a shared machine slows every one of them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

CORE = "https://registry.core.trust.ib1.org/trust-framework"
ROLE = "https://registry.core.trust.ib1.org/scheme/perseus/role/"


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def entities(n: int, keys: list[str]) -> list[dict]:
    """n entities, each with a retired and a current key and a role history (grant, suspension, reinstatement)."""
    out = []
    for i in range(n):
        out.append({
            "id": f"https://directory.core.trust.ib1.org/m/member-{i:05d}",
            "legalName": f"Member {i:05d} Energy Services Ltd",
            "assuranceLevel": "https://registry.core.trust.ib1.org/assurance/organisation/Level2",
            "identifiers": [
                {"type": "Did", "did": keys[2 * i], "validFrom": "2023-01-01T00:00:00Z", "validUntil": "2024-01-01T00:00:00Z"},
                {"type": "Did", "did": keys[2 * i + 1], "validFrom": "2024-01-01T00:00:00Z"},
            ],
            "roles": [
                {"framework": CORE, "role": ROLE + ("energy-data-provider" if i % 3 else "carbon-accounting-provider"),
                 "validFrom": "2023-01-01T00:00:00Z",
                 "history": [
                     {"status": "active", "from": "2023-01-01T00:00:00Z", "reason": "membership approved", "recorded": "2023-01-01T00:00:00Z"},
                     {"status": "suspended", "from": "2024-03-01T00:00:00Z", "reason": "annual assurance review overdue", "recorded": "2024-03-01T00:00:00Z"},
                     {"status": "active", "from": "2024-04-01T00:00:00Z", "reason": "review passed", "recorded": "2024-04-01T00:00:00Z"},
                 ]},
            ],
        })
    return out


def fake_did_keys(n: int) -> list[str]:
    """Distinct did:key values of real Ed25519 public keys (generating 20,000 keys takes ~1 s)."""
    from perseus.verifier.did_key import did_key_for
    from perseus.verifier.keys import SecretKey

    return [did_key_for(SecretKey.generate("Ed25519").public_key) for _ in range(n)]


def bench_snapshot(n: int) -> tuple[str, object, list[str]]:
    from perseus.verifier.accreditation import decide
    from perseus.verifier.keys import SecretKey
    from perseus.verifier.registry_snapshot import SNAPSHOT_CONTEXT, TrustAnchor, canonical_json, load_snapshot, sign_snapshot

    operator = SecretKey.generate("Ed25519")
    keys = fake_did_keys(2 * n)
    document = {"@context": SNAPSHOT_CONTEXT, "type": "TrustRegistrySnapshot", "registry": "https://registry.example/bench",
                "sequence": 1, "issued": "2026-01-01T00:00:00Z", "nextUpdate": "2036-01-01T00:00:00Z", "frameworks": [CORE],
                "entities": entities(n, keys)}
    started = time.perf_counter()
    signed = sign_snapshot(document, operator)
    sign_s = time.perf_counter() - started
    text = canonical_json(signed).decode()
    print(f"snapshot of {n:,} entities with history: {len(text.encode()) / 1e6:.2f} MB [<= 10 MB]; signed in {sign_s * 1000:.0f} ms")
    anchor = TrustAnchor((operator.public_key,))
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        snapshot = load_snapshot(text, trust_anchor=anchor)
        runs.append(time.perf_counter() - started)
        assert snapshot.usable, snapshot.problems
    print(f"load + verify in-process: median {statistics.median(runs) * 1000:.0f} ms, best {min(runs) * 1000:.0f} ms of 5 [<= 200 ms]")
    at = datetime(2024, 5, 1, tzinfo=timezone.utc)
    methods = [f"{keys[2 * i + 1]}#{keys[2 * i + 1][8:]}" for i in range(n)]
    types = ["EnergyConsumptionCredential"]
    for m in methods[:100]:  # warm the time-parsing cache as a long-running verifier would be
        decide(snapshot, m, at, credential_types=types)
    picks = [random.choice(methods) for _ in range(20_000)]
    started = time.perf_counter()
    for m in picks:
        decide(snapshot, m, at, credential_types=types)
    per = (time.perf_counter() - started) / len(picks)
    print(f"accreditation decision in-process: {per * 1e6:.1f} us each (mean of {len(picks):,}) [<= 50 us]")
    return text, operator, keys


def bench_cli(text: str, operator: object, keys: list[str], workdir: Path) -> None:
    """A whole `perseus verify` process with and without --registry (the EDP example credential, listed in the snapshot)."""
    from perseus.verifier.did_key import did_key_for

    credential = ROOT / "examples" / "credentials" / "electricity-halfhourly-2023-10.json"
    edp = json.loads((ROOT / "examples" / "keys" / "edp-example-key.json").read_text())["controller"]
    document = json.loads(text)
    document["entities"][1]["identifiers"][1]["did"] = edp  # the example EDP is member 1 (a data provider)
    document["entities"][1]["identifiers"][1]["validFrom"] = "2023-01-01T00:00:00Z"
    from perseus.verifier.registry_snapshot import canonical_json, sign_snapshot

    path = workdir / "snapshot.json"
    path.write_bytes(canonical_json(sign_snapshot({k: v for k, v in document.items() if k != "proof"}, operator)))
    anchor = did_key_for(operator.public_key)  # type: ignore[attr-defined]
    base = [sys.executable, "-m", "perseus.verifier.cli", "verify", str(credential)]

    def timed(argv: list[str]) -> float:
        started = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"perseus verify failed: {done.stdout}{done.stderr}")
        return elapsed

    plain, with_registry = [], []
    for _ in range(5):
        plain.append(timed(base))
        with_registry.append(timed(base + ["--registry", str(path), "--trust-anchor", anchor]))
    extra = statistics.median(with_registry) - statistics.median(plain)
    print(f"whole process: perseus verify {statistics.median(plain):.2f} s, with --registry (10,000 entities) "
          f"{statistics.median(with_registry):.2f} s: adds {extra:.2f} s (medians of 5) [<= 0.3 s]")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_service(n: int, workdir: Path, requests: int, connections: int, workers: int) -> None:
    from loadgen import run_load

    from perseus.registry.operator_key import generate_operator_key, write_operator_key
    from perseus.registry.storage.store import RegistrySettings, RegistryStore

    home = workdir / "registry"
    home.mkdir()
    key = generate_operator_key()
    write_operator_key(key, home / "operator-key.json")
    (home / "registry.json").write_text(json.dumps({"registry": "https://registry.example/bench", "frameworks": [CORE], "nextUpdate": "1d"}))
    settings = RegistrySettings("https://registry.example/bench", (CORE,), timedelta(days=1))
    store = RegistryStore(f"sqlite:///{(home / 'registry.db').resolve()}", signer=key, settings=settings)
    store.initialise(settings, actor="bench")
    changes = []
    for i in range(n):
        member = f"https://directory.core.trust.ib1.org/m/member-{i:05d}"
        changes.append(("entity", {"id": member, "legal_name": f"Member {i:05d} Ltd", "assurance_level": "Level2"}))
        changes.append(("grant", {"entity_id": member, "framework": CORE, "role": ROLE + "energy-data-provider",
                                  "valid_from": "2023-01-01T00:00:00Z", "valid_until": None}))
    store.apply(changes, actor="bench", reason="bench data")
    store.close()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "perseus.verifier.cli", "registry", "serve", "--dir", str(home), "--port", str(port),
                               "--token", "bench", "--workers", str(workers)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit("the registry service did not start within 60 s")
        body = json.dumps({"entity_id": "https://directory.core.trust.ib1.org/m/member-04242", "authority_id": CORE, "action": "issue",
                           "resource": ROLE + "energy-data-provider", "context": {"time": "2024-05-01T00:00:00Z"}})
        url = f"http://127.0.0.1:{port}"
        asyncio.run(run_load(url, "bench", body, requests=200, connections=4, path="/authorization"))  # warm-up
        result = asyncio.run(asyncio.wait_for(run_load(url, "bench", body, requests=requests, connections=connections, path="/authorization"), 120))
        summary = result.summary()
        latency = summary["latency_ms"]
        print(f"POST /authorization (signed answers, {n:,} entities, {workers} uvicorn worker(s), {connections} connections, {summary['requests']} requests): "
              f"{summary['requests_per_second']}/s [>= 2,000/s], p50 {latency['p50']} ms, p99 {latency['p99']} ms [<= 20 ms], statuses {summary['statuses']}")
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description="Trust-registry benchmark (prints its figures).")
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=4_000, help="POST /authorization requests (bounded)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers for the service (default 2: one per core)")
    parser.add_argument("--skip-service", action="store_true")
    parser.add_argument("--skip-cli", action="store_true")
    args = parser.parse_args()
    print(f"Perseus trust registry benchmark — {load()}")
    text, operator, keys = bench_snapshot(args.entities)
    with tempfile.TemporaryDirectory() as work:
        if not args.skip_cli:
            bench_cli(text, operator, keys, Path(work))
        if not args.skip_service:
            bench_service(args.entities, Path(work), args.requests, args.connections, args.workers)
    print(f"done — {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
