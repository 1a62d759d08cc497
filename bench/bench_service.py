"""Benchmark the issuer service over HTTP on loopback: throughput and latency of issuing, 1,000
concurrent issues, and kill -9 during load — on SQLite and PostgreSQL. Prints figures; asserts nothing.

The goal (issue #4): issuing a small tariff credential (examples/credentials/tariff-weekend-offpeak-
fuelmix.json without its proof, ~4.8 KB of request) sustains >= 400 requests/s with p99 <= 50 ms
against one `perseus serve` on this 2-core machine, with the load generator on the same machine.

Scenarios, each against a real `perseus serve` process (``python -m perseus.issuer.service``):

1. **where the time goes** — one issue's phases timed in-process (JSON, checks, reserve, sign,
   save), to know what the HTTP figures are made of;
2. **closed loop** — wrk (Debian package ``wrk``, a C load generator; bench/loadgen.py when wrk is
   absent) at several connection counts: requests/s and latency percentiles;
3. **open loop at 400/s** — bench/loadgen.py sends on a fixed schedule and measures latency from
   when each request was *due*, so queueing shows (no coordinated omission);
4. **1,000 concurrent issues** — 1,000 connections each sending one request at once: every answer
   201, and the database holds 1,000 credentials with 1,000 distinct indices per purpose;
5. **kill -9 during load** — SIGKILL to the server's process group while 32 requests are in flight,
   then a restarted `perseus serve` must return every credential that was answered 201, with both
   status entries.

Run: ``python bench/bench_service.py [--workers 2] [--seconds 10] [--database sqlite|postgresql|both]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loadgen import run_load  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TARIFF = ROOT / "examples" / "credentials" / "tariff-weekend-offpeak-fuelmix.json"
TOKEN = "bench-token-0123456789"
PASSPHRASE = "bench passphrase, not a secret"

WRK_SCRIPT = """
local threads_made = 0
local template = io.open("%(body)s"):read("*a")
local run_id = tostring(os.time()) .. "-" .. tostring(math.floor(os.clock() * 1e6))
function setup(thread)
  threads_made = threads_made + 1
  thread:set("tag", run_id .. "-" .. threads_made)
end
local counter = 0
request = function()
  counter = counter + 1
  local body = string.gsub(template, "CREDENTIAL_ID", "urn:uuid:wrk-" .. tag .. "-" .. counter)
  return wrk.format("POST", "/credentials/issue", {["Content-Type"] = "application/json", ["Authorization"] = "Bearer %(token)s"}, body)
end
"""


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_service(data_dir: Path, database_url: str, workers: int) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERSEUS_") or k == "PERSEUS_TEST_POSTGRES_URL"}
    env.update(PERSEUS_API_TOKENS=TOKEN, PERSEUS_KEY_PASSPHRASE=PASSPHRASE, PERSEUS_DATABASE_URL=database_url)
    env.update(PERSEUS_BASE_URL=f"http://127.0.0.1:{port}")  # required on PostgreSQL
    command = [
        sys.executable, "-m", "perseus.issuer.service", "--port", str(port), "--data-dir", str(data_dir),
        "--workers", str(workers), "--no-access-log", "--log-level", "warning",
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the service exited: {process.stderr.read().decode() if process.stderr else ''}")
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the service did not start") from None
                time.sleep(0.1)
        yield url, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def issuer_of(url: str) -> str:
    with urllib.request.urlopen(url + "/issuers", timeout=10) as answer:
        return str(json.load(answer)["issuers"][0]["issuer"])


def tariff_template(did: str) -> str:
    credential = json.loads(TARIFF.read_text(encoding="utf-8"))
    credential.pop("proof", None)
    credential.pop("credentialStatus", None)
    credential["issuer"]["id"] = did
    credential["id"] = "CREDENTIAL_ID"
    return json.dumps({"credential": credential}, separators=(",", ":"))


# -- 1. where the time goes -------------------------------------------------------------------------------


def phase_breakdown(database_url: str, template: str, iterations: int = 300) -> None:
    import uuid

    import orjson
    from perseus.issuer.keystore import PassphraseKeyStore
    from perseus.issuer.service import load_settings, open_service
    from perseus.issuer.service.issuing import _with_needed_contexts, check_signable, parse_issue_request, plan_issue
    from perseus.issuer.signing import sign_document
    from perseus.issuer.status import attach_status, status_entries

    with tempfile.TemporaryDirectory(prefix="perseus-phases-") as tmp:
        state = open_service(load_settings(data_dir=tmp, database_url=database_url, api_tokens=(TOKEN,), base_url="http://127.0.0.1:8080"), keystore=PassphraseKeyStore(PASSPHRASE))
        try:
            did = state.profiles.all()[0].issuer
            raw = tariff_template(did)
            grant = state.tokens.lookup(TOKEN)
            times: dict[str, list[float]] = {k: [] for k in ("parse JSON (orjson)", "check request", "strict check before reserving", "reserve status", "add status entries", "sign (strict JSON-LD, RDFC, Ed25519)", "save issued (durable)", "serialize response")}
            for n in range(iterations + 20):
                body = raw.replace("CREDENTIAL_ID", f"urn:uuid:{uuid.uuid4()}").encode()
                marks = [time.perf_counter()]
                parsed_body = orjson.loads(body)
                marks.append(time.perf_counter())
                request = parse_issue_request(parsed_body)
                marks.append(time.perf_counter())
                check_signable(state, plan_issue(state, request, grant))
                marks.append(time.perf_counter())
                reservation = state.storage.reserve_status("default", request.credential["id"])
                marks.append(time.perf_counter())
                unsigned = attach_status(_with_needed_contexts(request.credential), status_entries(reservation, state.list_url))
                marks.append(time.perf_counter())
                signed = sign_document(unsigned, state.keys.signing_key_for(reservation), loader=state.loader)
                marks.append(time.perf_counter())
                state.storage.save_issued(reservation, signed)
                marks.append(time.perf_counter())
                orjson.dumps({"verifiableCredential": signed})
                marks.append(time.perf_counter())
                if n >= 20:
                    for key, start, end in zip(times, marks, marks[1:]):
                        times[key].append((end - start) * 1000)
        finally:
            state.close()
    total = sum(statistics.median(v) for v in times.values())
    print(f"  where one issue's time goes (in-process, median of {iterations}; {len(template)} byte request):")
    for key, values in times.items():
        median = statistics.median(values)
        print(f"    {key:38} {median:7.3f} ms  ({median / total * 100:4.1f}%)   p99 {sorted(values)[int(0.99 * len(values))]:.3f} ms")
    print(f"    {'total':38} {total:7.3f} ms  -> at most {1000 / total:.0f} issues/s per core before HTTP")


# -- 2. closed loop ------------------------------------------------------------------------------------------


def run_wrk(url: str, body_file: Path, connections: int, seconds: int) -> dict[str, object]:
    script = body_file.with_suffix(".lua")
    script.write_text(WRK_SCRIPT % {"body": str(body_file), "token": TOKEN}, encoding="utf-8")
    output = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True, text=True, timeout=seconds + 60, check=True,
    ).stdout

    def ms(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*", output)
    return {"rps": rate, "p50": ms("50"), "p90": ms("90"), "p99": ms("99"), "non2xx": int(bad.group(1)) if bad else 0, "socket_errors": errors.group(0) if errors else ""}


def closed_loop(url: str, template: str, tmp: Path, connection_counts: list[int], seconds: int) -> None:
    body_file = tmp / "issue-body.json"
    body_file.write_text(template, encoding="utf-8")
    tool = "wrk" if shutil.which("wrk") else "loadgen.py"
    print(f"  closed loop ({tool}, {seconds} s each; latency = time to answer):")
    for connections in connection_counts:
        if tool == "wrk":
            r = run_wrk(url, body_file, connections, seconds)
        else:
            result = asyncio.run(run_load(url, TOKEN, template, requests=int(400 * seconds), connections=connections))
            summary = result.summary()
            lat = summary["latency_ms"]
            r = {"rps": summary["requests_per_second"], "p50": lat["p50"], "p90": lat["p90"], "p99": lat["p99"],  # type: ignore[index]
                 "non2xx": sum(v for k, v in result.statuses.items() if k != 201), "socket_errors": dict(result.errors)}
        goal = "meets the goal" if r["rps"] >= 400 and r["p99"] <= 50 and not r["non2xx"] else "misses the goal"  # type: ignore[operator]
        print(f"    {connections:3d} connections: {r['rps']:7.1f} issues/s | p50 {r['p50']:6.1f} ms  p90 {r['p90']:6.1f} ms  p99 {r['p99']:6.1f} ms"
              f" | non-2xx {r['non2xx']} {r['socket_errors'] or ''} -> {goal}")


# -- 3. open loop ---------------------------------------------------------------------------------------------


def open_loop(url: str, template: str, rate: float, seconds: int) -> None:
    result = asyncio.run(run_load(url, TOKEN, template, rate=rate, seconds=seconds, connections=64))
    s = result.summary()
    lat = s["latency_ms"]
    goal = "meets the goal" if s["requests_per_second"] >= 0.98 * rate and lat["p99"] <= 50 and set(result.statuses) == {201} else "misses the goal"  # type: ignore[index,operator]
    print(f"  open loop at {rate:.0f}/s for {seconds} s (loadgen.py, latency from when each request was due):")
    print(f"    {s['requests_per_second']:7.1f} issues/s | p50 {lat['p50']} ms  p90 {lat['p90']} ms  p99 {lat['p99']} ms  max {lat['max']} ms"  # type: ignore[index]
          f" | statuses {s['statuses']} errors {s['connection_errors'] or 0} -> {goal}")


# -- 4. 1,000 concurrent -------------------------------------------------------------------------------------


def thousand_concurrent(url: str, template: str, database_url: str) -> None:
    from perseus.issuer.storage import open_storage
    from perseus.issuer.storage.schema import status_allocations
    from sqlalchemy import select

    before = _count_issued(database_url)
    result = asyncio.run(run_load(url, TOKEN, template, requests=1000, connections=1000))
    s = result.summary()
    ids = result.acknowledged
    with open_storage(database_url, migrate=False) as storage:
        with storage._engine.connect() as conn:
            rows = conn.execute(
                select(status_allocations.c.purpose, status_allocations.c.list_id, status_allocations.c.idx)
                .where(status_allocations.c.credential_id.in_(ids))
            ).all()
        missing = sum(1 for i in ids[:1000] if not _issued(storage, i))
        total_after = storage.count_issued()
    per_purpose: dict[str, set[tuple[str, int]]] = {}
    for purpose, list_id, index in rows:
        per_purpose.setdefault(purpose, set()).add((list_id, index))
    distinct = {p: len(v) for p, v in sorted(per_purpose.items())}
    ok = result.statuses == {201: 1000} and not result.errors and missing == 0 and all(v == 1000 for v in distinct.values()) and total_after - before == 1000
    print(f"  1,000 concurrent issues (1,000 connections at once): {s['seconds']} s, statuses {s['statuses']}, connection errors {s['connection_errors'] or 0},"
          f" p99 {s['latency_ms']['p99']} ms")  # type: ignore[index]
    print(f"    database: {total_after - before} new credentials, distinct status positions per purpose {distinct}, acknowledged but missing {missing}"
          f" -> {'OK' if ok else 'FAILED'}")


def _issued(storage, credential_id: str) -> bool:  # type: ignore[no-untyped-def]
    from perseus.issuer.storage import CredentialNotFoundError

    try:
        return len(storage.get_issued(credential_id).entries) == 2
    except CredentialNotFoundError:
        return False


def _count_issued(database_url: str) -> int:
    from perseus.issuer.storage import open_storage

    with open_storage(database_url, migrate=False) as storage:
        return storage.count_issued()


# -- 5. kill -9 ----------------------------------------------------------------------------------------------


def kill_during_load(tmp: Path, database_url: str, workers: int, kill_after: int = 500) -> None:
    data_dir = tmp / "crash"
    with running_service(data_dir, database_url, workers) as (url, process):
        template = tariff_template(issuer_of(url))
        killed_at: list[float] = []

        def on_ack(count: int) -> None:
            if count == kill_after:
                os.killpg(process.pid, signal.SIGKILL)
                killed_at.append(time.perf_counter())

        result = asyncio.run(run_load(url, TOKEN, template, requests=1_000_000, connections=32, on_ack=on_ack, stop_on_error=True))
        process.wait(timeout=15)
    acked = result.acknowledged
    failed = dict(result.errors)
    # restart the real service on the same data and ask it for every acknowledged credential
    missing: list[str] = []
    incomplete: list[str] = []
    with running_service(data_dir, database_url, 1) as (url, _):
        for credential_id in acked:
            request = urllib.request.Request(f"{url}/credentials/{urllib.request.quote(credential_id, safe='')}", headers={"Authorization": f"Bearer {TOKEN}"})
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:
                    body = json.load(answer)
            except OSError:
                missing.append(credential_id)
                continue
            purposes = sorted(e["statusPurpose"] for e in body["verifiableCredential"].get("credentialStatus", []))
            if purposes != ["revocation", "suspension"] or set(body["status"]) != {"revocation", "suspension"}:
                incomplete.append(credential_id)
    verdict = "OK: no acknowledged credential lost" if not missing and not incomplete else "FAILED"
    print(f"  kill -9 during load ({workers} worker(s), 32 requests in flight, SIGKILL at the {kill_after}th 201):")
    print(f"    {len(acked)} acknowledged (201) before the kill took effect; {sum(failed.values())} requests cut off ({failed});"
          f" after restart: {len(acked) - len(missing) - len(incomplete)} found with both status entries, {len(missing)} missing, {len(incomplete)} incomplete -> {verdict}")


# -- main ------------------------------------------------------------------------------------------------------


def databases(choice: str, stack: ExitStack, tmp: Path) -> list[tuple[str, str]]:
    out = []
    if choice in ("sqlite", "both"):
        out.append(("SQLite (WAL, synchronous=FULL)", "SQLITE"))
    if choice in ("postgresql", "both"):
        from perseus.issuer.storage.testing import postgres_test_url, postgres_unavailable_reason

        url = postgres_test_url()
        reason = postgres_unavailable_reason(url)
        if reason:
            print(f"PostgreSQL skipped: {reason}")
        else:
            out.append(("PostgreSQL", url))
    return out


@contextmanager
def fresh_database(kind: str, tmp: Path, name: str) -> Iterator[str]:
    if kind == "SQLITE":
        yield f"sqlite:///{tmp / (name + '.db')}"
        return
    from perseus.issuer.storage.testing import temporary_schema

    with temporary_schema(kind, prefix="perseus_bench") as schema:
        yield f"{kind}{'&' if '?' in kind else '?'}schema={schema}"


def main() -> int:
    parser = argparse.ArgumentParser(description="Benchmark the issuer service over HTTP on loopback.")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (default 2: one per core)")
    parser.add_argument("--seconds", type=int, default=10, help="length of each throughput run")
    parser.add_argument("--connections", default="8,16,32", help="closed-loop connection counts")
    parser.add_argument("--rate", type=float, default=400, help="open-loop request rate")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 8192)), hard))
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False).stdout.splitlines()[0] if shutil.which("wrk") else "wrk not installed"
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}; {wrk}; server: {args.workers} worker(s)")
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="perseus-bench-service-")))
        for label, kind in databases(args.database, stack, tmp):
            print(f"\n{label}")
            with fresh_database(kind, tmp, "phases") as url:
                phase_breakdown(url, tariff_template("did:example:x"))
            with fresh_database(kind, tmp, "load") as url:
                with running_service(tmp / f"load-{len(label)}", url, args.workers) as (service_url, _):
                    template = tariff_template(issuer_of(service_url))
                    asyncio.run(run_load(service_url, TOKEN, template, requests=300, connections=8))  # warm-up
                    closed_loop(service_url, template, tmp, [int(c) for c in args.connections.split(",")], args.seconds)
                    open_loop(service_url, template, args.rate, args.seconds)
                    thousand_concurrent(service_url, template, url)
            with fresh_database(kind, tmp, "crash") as url:
                kill_during_load(tmp / f"c-{len(label)}", url, args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
