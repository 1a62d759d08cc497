"""Resource limits of the service (issue 7 §3 and the server-level errors of §4): the verification gate
(503 + Retry-After past it), the document budget on verify bodies, header and body read timeouts, the
connection and request caps, problem+json for errors uvicorn itself produces, HEAD wherever GET is.

Every socket here is on 127.0.0.1 with a bounded timeout; no assertion is about how long anything took.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient
from perseus.issuer.service import ServiceState, create_app, load_settings, open_service
from perseus.issuer.service import verifying as verifying_module
from perseus.issuer.service.admission import VerifyGate
from perseus.issuer.service.problems import ServiceError
from perseus.issuer.service.server import connection_cap, serving_in_thread
from perseus_service_fixtures import AUTH, TOKEN, assert_problem, clean_env, example_credential, make_service  # noqa: F401 - fixtures

PROTOCOLS = ["auto", "h11"]  # auto is httptools (uvicorn[standard] installs it)


@pytest.fixture
def limited(tmp_path: Path, clean_env: None) -> Iterator[ServiceState]:
    state = make_service(
        tmp_path / "data",
        f"sqlite:///{tmp_path / 'perseus.db'}",
        header_timeout=0.5,
        body_timeout=0.5,
        max_connections=4,
        verify_concurrency=1,
        verify_queue=0,
        verify_max_values=2000,
        max_requests=8,
    )
    try:
        yield state
    finally:
        state.close()


def raw_exchange(url: str, data: bytes, *, wait: float = 10.0) -> bytes:
    """Send `data` on a new connection and read until the server closes it (at most `wait` seconds)."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    received = b""
    with socket.create_connection((host, int(port)), timeout=wait) as sock:
        if data:
            try:
                sock.sendall(data)
            except (BrokenPipeError, ConnectionResetError):  # the server answered and closed before reading it all
                pass
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:  # closed with our bytes unread: closed all the same
                return received
            except TimeoutError:
                break
            if not chunk:
                return received
            received += chunk
    raise AssertionError(f"the server did not close the connection within {wait} s; received {received[:200]!r}")


def parse_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    return status, headers, body


def assert_raw_problem(raw: bytes, status: int, code: str) -> dict[str, str]:
    got, headers, body = parse_response(raw)
    assert got == status, raw[:300]
    assert headers["content-type"] == "application/problem+json"
    problem = orjson.loads(body)
    assert (problem["status"], problem["code"]) == (status, code)
    assert len(problem["detail"]) > 10 and problem["type"].startswith("https://")
    assert int(headers["content-length"]) == len(body)
    return headers


# -- errors the HTTP server produces itself -------------------------------------------------------------


@pytest.mark.parametrize("http", PROTOCOLS)
@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"GET /heal thz HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /credentials/verify HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n",
    ],
    ids=["negative-content-length", "space-in-path", "bad-content-length", "header-without-colon", "tls-on-plain-port"],
)
def test_malformed_requests_get_problem_json(limited: ServiceState, http: str, request_bytes: bytes) -> None:
    with serving_in_thread(create_app(state=limited), http=http) as url:
        assert_raw_problem(raw_exchange(url, request_bytes), 400, "MALFORMED_HTTP_REQUEST")
        assert httpx.get(url + "/healthz").status_code == 200  # the server carries on


@pytest.mark.parametrize("http", PROTOCOLS)
def test_head_is_answered_wherever_get_is(limited: ServiceState, http: str) -> None:
    with serving_in_thread(create_app(state=limited), http=http) as url:
        for path in ("/healthz", "/issuers", "/openapi.json", "/"):
            got = httpx.get(url + path)
            head = httpx.head(url + path)
            assert head.status_code == got.status_code == 200, path
            assert head.content == b""
            assert head.headers["content-type"] == got.headers["content-type"]
            assert head.headers["content-length"] == str(len(got.content))
        missing = httpx.head(url + "/no-such-thing")
        assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
        post_only = httpx.head(url + "/presentations/verify")  # no GET here either: the same 405 as GET
        assert post_only.status_code == httpx.get(url + "/presentations/verify").status_code == 405
        assert post_only.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("http", PROTOCOLS)
def test_oversized_headers_are_refused(limited: ServiceState, http: str) -> None:
    with serving_in_thread(create_app(state=limited), http=http) as url:
        huge = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-Filler-%d: %s\r\n" % (i, b"v" * 1000) for i in range(300)) + b"\r\n"  # 300 KB: more than one read
        got, headers, _ = parse_response(raw_exchange(url, huge))
        assert got in (400, 431) and headers["content-type"] == "application/problem+json"
        if http == "auto":
            assert got == 431
        assert httpx.get(url + "/healthz").status_code == 200


# -- read timeouts ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("http", PROTOCOLS)
def test_half_sent_headers_are_answered_408_and_closed(limited: ServiceState, http: str) -> None:
    with serving_in_thread(create_app(state=limited), http=http) as url:
        raw = raw_exchange(url, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        assert_raw_problem(raw, 408, "REQUEST_TIMEOUT")


@pytest.mark.parametrize("http", PROTOCOLS)
def test_a_connection_that_sends_nothing_is_closed(limited: ServiceState, http: str) -> None:
    with serving_in_thread(create_app(state=limited), http=http) as url:
        assert raw_exchange(url, b"") == b""


@pytest.mark.parametrize("http", PROTOCOLS)
def test_a_body_that_stops_arriving_is_closed(limited: ServiceState, http: str) -> None:
    with serving_in_thread(create_app(state=limited), http=http) as url:
        head = b"POST /credentials/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        assert raw_exchange(url, head + b'{"verifiableCredential": ') == b""
        assert httpx.get(url + "/healthz").status_code == 200


@pytest.mark.parametrize("http", PROTOCOLS)
def test_keep_alive_requests_each_get_their_own_header_deadline(limited: ServiceState, http: str) -> None:
    with serving_in_thread(create_app(state=limited), http=http) as url:
        first = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        raw = raw_exchange(url, first + b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        assert raw.startswith(b"HTTP/1.1 200")
        assert b"HTTP/1.1 408" in raw


# -- the connection cap ------------------------------------------------------------------------------------


@pytest.mark.parametrize("http", PROTOCOLS)
def test_connections_past_the_cap_get_503_and_the_server_recovers(tmp_path: Path, clean_env: None, http: str) -> None:
    # Idle connections must outlive the test's steps here: a long header timeout.
    state = make_service(tmp_path / "data", f"sqlite:///{tmp_path / 'perseus.db'}", header_timeout=60, max_connections=4)
    with serving_in_thread(create_app(state=state), http=http) as url:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        idle = [socket.create_connection((host, int(port)), timeout=5) for _ in range(4)]
        try:
            raw = raw_exchange(url, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            headers = assert_raw_problem(raw, 503, "SERVICE_UNAVAILABLE")
            assert headers["retry-after"] == "1"
        finally:
            for sock in idle:
                sock.close()
        _wait_until(lambda: _healthy(url))
    state.close()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _wait_until(condition: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.02)


def test_connection_cap_fits_the_descriptor_limit() -> None:
    resource = pytest.importorskip("resource")
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        pytest.skip("no descriptor limit")
    assert connection_cap(10**9) < soft
    assert connection_cap(1) == 1


# -- the verification gate -------------------------------------------------------------------------------


@pytest.fixture
def blocked_verify(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Verification that waits until the test sets the event (bounded: 30 s), to hold a slot."""
    release = threading.Event()
    real = verifying_module.verify_credential_request

    def slow(state: Any, document: Any, options: Any) -> Any:
        release.wait(30)
        return real(state, document, options)

    monkeypatch.setattr(verifying_module, "verify_credential_request", slow)
    yield release
    release.set()


def test_verify_past_the_gate_is_503_with_retry_after(limited: ServiceState, blocked_verify: threading.Event) -> None:
    app = create_app(state=limited)
    with TestClient(app, raise_server_exceptions=False) as client:
        results: list[httpx.Response] = []
        first = threading.Thread(target=lambda: results.append(client.post("/credentials/verify", json={"verifiableCredential": example_credential("did:example:x")})))
        first.start()
        try:
            busy = _while_verifying(app, client, blocked_verify)
        finally:
            blocked_verify.set()
            first.join(30)
        problem = assert_problem(busy, 503, "VERIFIER_BUSY")
        assert int(busy.headers["retry-after"]) >= 1 and "PERSEUS_VERIFY_CONCURRENCY" in problem["detail"]
        assert results and results[0].status_code == 400  # unsigned: not verified, but answered
        assert app.state.verify_gate.running == 0
        assert client.post("/credentials/verify", json={"verifiableCredential": example_credential("did:example:x")}).status_code == 400


def _while_verifying(app: Any, client: TestClient, release: threading.Event) -> httpx.Response:
    """With one verification holding the gate: a second is refused, a presentation too, health is not."""
    _wait_until(lambda: app.state.verify_gate.running == 1)
    busy = client.post("/credentials/verify", json={"verifiableCredential": example_credential("did:example:x")})
    presentation = client.post("/presentations/verify", json={"verifiablePresentation": {}})
    assert_problem(presentation, 503, "VERIFIER_BUSY")
    # health (and issuing) are not behind the verification gate
    assert client.get("/healthz").status_code == 200
    return busy


def test_requests_past_max_requests_are_503(tmp_path: Path, clean_env: None, blocked_verify: threading.Event) -> None:
    state = make_service(tmp_path / "data", f"sqlite:///{tmp_path / 'perseus.db'}", max_requests=1)
    try:
        app = create_app(state=state)
        with TestClient(app, raise_server_exceptions=False) as client:
            first = threading.Thread(target=lambda: client.post("/credentials/verify", json={"verifiableCredential": {}}))
            first.start()
            try:
                _wait_until(lambda: app.state.verify_gate.running == 1)
                response = client.get("/healthz")
            finally:
                blocked_verify.set()
                first.join(30)
            assert_problem(response, 503, "SERVICE_UNAVAILABLE")
            assert response.headers["retry-after"] == "1"
            assert client.get("/healthz").status_code == 200
    finally:
        state.close()


def test_verify_bodies_beyond_the_document_budget_are_refused_before_parsing(limited: ServiceState) -> None:
    with TestClient(create_app(state=limited), raise_server_exceptions=False) as client:
        tiny_nodes = b'{"verifiableCredential": {"credentialSubject": [' + b",".join([b"{}"] * 3000) + b"]}}"
        response = client.post("/credentials/verify", content=tiny_nodes, headers={"Content-Type": "application/json"})
        body = assert_problem(response, 400, "DOCUMENT_TOO_LARGE")
        assert "PERSEUS_VERIFY_MAX_VALUES" in body["detail"]
        deep = b'{"verifiableCredential": ' + b"[" * 200 + b"]" * 200 + b"}"
        assert_problem(client.post("/credentials/verify", content=deep, headers={"Content-Type": "application/json"}), 400, "PARSING_ERROR")
        # Within the byte estimate but beyond the expansion budget (a long string): a failed format check.
        credential = example_credential("did:example:x")
        credential["credentialSubject"]["name"] = "n" * 1_100_000
        result = client.post("/credentials/verify", json={"verifiableCredential": credential})
        assert result.status_code == 400 and result.json()["verified"] is False
        assert "STRING_TOO_LONG" in result.text


# -- the gate itself ------------------------------------------------------------------------------------------


def test_gate_queues_in_order_then_refuses() -> None:
    async def scenario() -> list[str]:
        gate = VerifyGate(concurrency=1, queue=1, queue_timeout=30, max_inflight_bytes=1000)
        events: list[str] = []
        release = asyncio.Event()

        async def holder() -> None:
            async with gate.slot(10):
                events.append("first running")
                await release.wait()
            events.append("first done")

        async def waiter() -> None:
            async with gate.slot(10):
                events.append("second running")

        first = asyncio.create_task(holder())
        await asyncio.sleep(0)
        second = asyncio.create_task(waiter())
        await asyncio.sleep(0)
        try:
            async with gate.slot(10):
                events.append("third running")
        except ServiceError as exc:
            events.append(f"third refused {exc.http_status} {exc.headers['Retry-After']}")
        release.set()
        await asyncio.wait_for(asyncio.gather(first, second), 10)
        assert (gate.running, gate.inflight_bytes) == (0, 0)
        return events

    events = asyncio.run(scenario())
    assert events == ["first running", "third refused 503 15", "first done", "second running"]


def test_gate_weighs_bodies_and_lets_one_oversized_body_run_alone() -> None:
    async def scenario() -> None:
        gate = VerifyGate(concurrency=4, queue=4, queue_timeout=0, max_inflight_bytes=100)
        async with gate.slot(80):
            with pytest.raises(ServiceError):  # 80 + 30 > 100, and no waiting (queue_timeout 0)
                async with gate.slot(30):
                    pass
            async with gate.slot(20):
                assert (gate.running, gate.inflight_bytes) == (2, 100)
        async with gate.slot(10_000):  # larger than the whole budget: runs, alone
            assert gate.inflight_bytes == 100
            with pytest.raises(ServiceError):
                async with gate.slot(1):
                    pass
        assert (gate.running, gate.inflight_bytes) == (0, 0)

    asyncio.run(scenario())


def test_a_waiter_that_gives_up_frees_its_place() -> None:
    async def scenario() -> None:
        gate = VerifyGate(concurrency=1, queue=1, queue_timeout=30, max_inflight_bytes=1000)
        release = asyncio.Event()

        async def holder() -> None:
            async with gate.slot(1):
                await release.wait()

        first = asyncio.create_task(holder())
        await asyncio.sleep(0)

        async def waiter() -> None:
            async with gate.slot(1):
                pass

        second = asyncio.create_task(waiter())
        await asyncio.sleep(0)
        second.cancel()  # the client went away while waiting
        with pytest.raises(asyncio.CancelledError):
            await second
        assert len(gate._waiting) == 0
        release.set()
        await asyncio.wait_for(first, 10)
        assert (gate.running, gate.inflight_bytes) == (0, 0)

    asyncio.run(scenario())


# -- verification in a worker process ----------------------------------------------------------------------


def test_verification_in_a_worker_process(tmp_path: Path, clean_env: None) -> None:
    import os
    import signal

    # The worker opens the service from its settings, with the configured key store (not the tests' cheap one).
    settings = load_settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'p.db'}", api_tokens=(TOKEN,), verify_processes=1)
    pooled = open_service(settings)
    try:
        with TestClient(create_app(state=pooled)) as client:
            assert client.app.state.verify_pool is not None
            signed = client.post("/credentials/issue", json={"credential": example_credential(pooled.profiles.all()[0].issuer)}, headers=AUTH)
            assert signed.status_code == 201, signed.text
            credential = signed.json()["verifiableCredential"]
            good = client.post("/credentials/verify", json={"verifiableCredential": credential})
            assert good.status_code == 200 and good.json()["verified"] is True, good.text
            tampered = client.post("/credentials/verify", json={"verifiableCredential": {**credential, "validFrom": "2024-01-01T00:00:00Z"}})
            assert tampered.status_code == 400 and tampered.json()["verified"] is False
            assert_problem(client.post("/credentials/verify", content=b"{not json", headers={"Content-Type": "application/json"}), 400, "PARSING_ERROR")
            # A worker that dies fails at most one request (503 + Retry-After); the next gets a new worker.
            pool = client.app.state.verify_pool
            for pid in list(pool._executor._processes):
                os.kill(pid, signal.SIGKILL)
            answers = [client.post("/credentials/verify", json={"verifiableCredential": credential}) for _ in range(2)]
            assert answers[-1].status_code == 200, answers[-1].text
            for answer in answers[:-1]:
                assert answer.status_code == 200 or answer.headers.get("retry-after")
    finally:
        pooled.close()


# -- settings ------------------------------------------------------------------------------------------------


def test_limit_settings_come_from_the_environment_and_are_checked(monkeypatch: pytest.MonkeyPatch, clean_env: None) -> None:
    from perseus.issuer.service.protocols import ConnectionLimits
    from perseus.issuer.service.server import server_options
    from perseus.issuer.service.settings import ConfigError

    monkeypatch.setenv("PERSEUS_HEADER_TIMEOUT", "2.5")
    monkeypatch.setenv("PERSEUS_VERIFY_CONCURRENCY", "3")
    monkeypatch.setenv("PERSEUS_MAX_CONNECTIONS", "50")
    settings = load_settings()
    assert (settings.header_timeout, settings.verify_concurrency, settings.max_connections) == (2.5, 3, 50)
    options = server_options(settings, http="h11")
    assert options["http"].keywords["limits"] == ConnectionLimits(header_timeout=2.5, body_timeout=60.0, max_connections=50, max_header_bytes=65536)
    assert options["timeout_keep_alive"] == settings.keep_alive_timeout
    for name, bad in (("header_timeout", 0), ("verify_concurrency", 0), ("max_connections", -1), ("verify_max_values", 10), ("verify_processes", -1)):
        with pytest.raises(ConfigError, match=name):
            load_settings(**{name: bad})
