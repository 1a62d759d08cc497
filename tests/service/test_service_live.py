"""A real uvicorn on loopback: the round trip over a socket, another issuer's status fetched over HTTP,
many concurrent issues, and kill -9 of a `perseus serve` process losing no acknowledged credential."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import ssl
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
from perseus.issuer.service import create_app
from perseus.issuer.service.server import free_port, serving_in_thread
from perseus.issuer.storage import open_storage
from perseus.issuer.storage.schema import status_allocations

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from loadgen import run_load  # noqa: E402 - the benchmark's light HTTP client (httpx costs ~5 ms a request)
from perseus_service_fixtures import (  # noqa: E402, F401 - fixtures
    AUTH,
    PASSPHRASE,
    TOKEN,
    clean_env,
    example_credential,
    issued,
    issuer_did,
    live_url,
    make_service,
    service,
    service_db_url,
    set_status,
    verify,
)
from sqlalchemy import func, select


def test_round_trip_over_a_real_socket(live_url, issuer_did) -> None:
    with httpx.Client(base_url=live_url, timeout=30) as http:
        assert http.get("/healthz").json()["status"] == "ok"
        signed = issued(http, example_credential(issuer_did))
        assert verify(http, signed).status_code == 200
        assert set_status(http, signed["id"], "revocation").status_code == 200
        answer = verify(http, signed)
        assert answer.status_code == 400
        assert {e["code"] for e in answer.json()["errors"]} == {"CREDENTIAL_REVOKED"}
        assert http.get("/openapi.json").status_code == 200


def test_another_issuers_status_list_is_fetched_over_http(tmp_path: Path, service_db_url: str, clean_env) -> None:
    # Service B publishes status lists at its own (loopback) URL; service A verifies B's credentials
    # and must fetch B's list over HTTP — it is not in A's storage.
    port_b = free_port()
    b = make_service(tmp_path / "b", service_db_url, base_url=f"http://127.0.0.1:{port_b}")
    a = make_service(tmp_path / "a", f"sqlite:///{tmp_path / 'a.db'}", status_fetch_allowed_hosts=("127.0.0.1",))  # B is on loopback
    try:
        with serving_in_thread(create_app(state=b), port=port_b) as url_b, serving_in_thread(create_app(state=a)) as url_a:
            with httpx.Client(base_url=url_b, timeout=30) as at_b, httpx.Client(base_url=url_a, timeout=30) as at_a:
                signed = issued(at_b, example_credential(b.profiles.all()[0].issuer))
                assert signed["credentialStatus"][0]["statusListCredential"].startswith(url_b)
                first = verify(at_a, signed)
                assert first.status_code == 200, first.text
                assert set_status(at_b, signed["id"], "suspension").status_code == 200
                second = verify(at_a, signed)
                assert second.status_code == 400
                assert {e["code"] for e in second.json()["errors"]} == {"CREDENTIAL_SUSPENDED"}
    finally:
        a.close()
        b.close()


def _issue_many(base_url: str, did: str, count: int, connections: int) -> Counter[int]:
    """``count`` issue requests, ``connections`` at a time; the HTTP statuses counted."""
    template = json.dumps({"credential": example_credential(did, credential_id="CREDENTIAL_ID")})
    result = asyncio.run(run_load(base_url, TOKEN, template, requests=count, connections=connections))
    assert not result.errors, result.errors
    return result.statuses


def test_a_thousand_concurrent_issues_get_distinct_status_indices(tmp_path: Path, service_db_url: str, clean_env) -> None:
    # `perseus serve` in its own process (as deployed), 1,000 issue requests started at once
    count = 1000
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = _start_server(tmp_path / "data", service_db_url, port)
    try:
        _wait_healthy(url, process)
        did = httpx.get(url + "/issuers").json()["issuers"][0]["issuer"]
        statuses = _issue_many(url, did, count, connections=64)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    assert statuses == Counter({201: count})
    with open_storage(service_db_url) as check:
        assert check.count_issued() == count
        with check._engine.connect() as conn:
            rows = conn.execute(
                select(status_allocations.c.purpose, func.count(), func.count(func.distinct(status_allocations.c.list_id.concat(":").concat(status_allocations.c.idx))))
                .group_by(status_allocations.c.purpose)
            ).all()
    assert {purpose: (total, distinct) for purpose, total, distinct in rows} == {"revocation": (count, count), "suspension": (count, count)}


# -- kill -9 --------------------------------------------------------------------------------------------------


def _start_server(data_dir: Path, database_url: str, port: int, workers: int = 1) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERSEUS_") or k == "PERSEUS_TEST_POSTGRES_URL"}
    env.update(PERSEUS_API_TOKENS=TOKEN, PERSEUS_KEY_PASSPHRASE=PASSPHRASE, PERSEUS_DATABASE_URL=database_url)
    env.update(PERSEUS_BASE_URL=f"http://127.0.0.1:{port}")  # required on PostgreSQL
    command = [sys.executable, "-m", "perseus.issuer.service", "--port", str(port), "--data-dir", str(data_dir), "--workers", str(workers), "--no-access-log", "--log-level", "warning"]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the service exited: {process.stderr.read().decode() if process.stderr else ''}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise AssertionError("the service did not become healthy")


def _issue_until_killed(base_url: str, did: str, process: subprocess.Popen[bytes], kill_after: int) -> list[str]:
    """Issue with 16 requests in flight; SIGKILL the server's process group at the ``kill_after``-th 201.

    The load goes on until the connections fail, so the kill lands while requests are in flight.
    """
    template = json.dumps({"credential": example_credential(did, credential_id="CREDENTIAL_ID")})

    def on_ack(count: int) -> None:
        if count == kill_after:
            os.killpg(process.pid, signal.SIGKILL)

    result = asyncio.run(run_load(base_url, TOKEN, template, requests=100_000, connections=16, on_ack=on_ack, stop_on_error=True))
    return result.acknowledged


def test_kill_9_loses_no_acknowledged_credential(tmp_path: Path, service_db_url: str, clean_env) -> None:
    # two worker processes sharing the database, as `perseus serve --workers 2` runs on this machine
    data_dir = tmp_path / "data"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = _start_server(data_dir, service_db_url, port, workers=2)
    try:
        _wait_healthy(url, process)
        did = httpx.get(url + "/issuers").json()["issuers"][0]["issuer"]
        acknowledged = _issue_until_killed(url, did, process, kill_after=150)
        assert process.wait(timeout=10) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    assert len(acknowledged) >= 150
    with open_storage(service_db_url) as storage:  # "after restart": a fresh process opening the database
        for credential_id in acknowledged:
            record = storage.get_issued(credential_id)
            assert sorted(e.purpose for e in record.entries) == ["revocation", "suspension"]
            assert record.credential["id"] == credential_id
            assert len(record.credential["credentialStatus"]) == 2
    # and the service starts again on the same data
    process = _start_server(data_dir, service_db_url, port)
    try:
        _wait_healthy(url, process)
        assert issued(httpx.Client(base_url=url, timeout=30), example_credential(did))["issuer"] == did
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A throw-away certificate for 127.0.0.1, as the W3C suites' HTTPS runs use."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path


def test_serve_speaks_https_with_a_self_signed_certificate(tmp_path: Path, clean_env) -> None:
    cert, key = _self_signed_certificate(tmp_path)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERSEUS_")}
    env.update(PERSEUS_API_TOKENS=TOKEN, PERSEUS_KEY_PASSPHRASE=PASSPHRASE)
    command = [sys.executable, "-m", "perseus.issuer.service", "--port", str(port), "--data-dir", str(tmp_path / "d"),
               "--ssl-certfile", str(cert), "--ssl-keyfile", str(key), "--log-level", "warning"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    url = f"https://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        with httpx.Client(base_url=url, verify=ssl.create_default_context(cafile=str(cert)), timeout=5) as http:
            while True:
                assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
                try:
                    http.get("/healthz")
                    break
                except httpx.HTTPError:
                    assert time.monotonic() < deadline, "the HTTPS service did not start"
                    time.sleep(0.05)
            issuer = http.get("/issuers").json()["issuers"][0]
            assert issuer["issueEndpoint"].startswith(url)  # the base URL follows the scheme
            signed = issued(http, example_credential(issuer["issuer"]))
            assert signed["credentialStatus"][0]["statusListCredential"].startswith(url + "/status/")
            assert verify(http, signed).status_code == 200
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
