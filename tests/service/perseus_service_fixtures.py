"""Fixtures for the issuer service tests: a service on each database engine, HTTP clients, credentials.

Test modules import what they use (not a conftest.py, for the reason given in
tests/storage/perseus_storage_fixtures.py). The database URLs come from that module's
`fresh_database_url`: SQLite in a new file per test; PostgreSQL at PERSEUS_TEST_POSTGRES_URL in a
throw-away schema, skipped with the reason shown when the server cannot be reached.

Clients: ``client`` is httpx (Starlette's TestClient) against the ASGI app in-process;
``live_url`` is a real uvicorn on a free loopback port, for the tests that must cross a socket.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "storage"))

from perseus.issuer.keystore import PassphraseKeyStore  # noqa: E402
from perseus.issuer.service import ServiceState, create_app, load_settings, open_service  # noqa: E402
from perseus.issuer.service.server import serving_in_thread  # noqa: E402
from perseus_storage_fixtures import ENGINES, fresh_database_url  # noqa: E402

TOKEN = "test-token-for-every-profile"
PASSPHRASE = "correct horse battery staple"
BASE_URL = "https://issuer.test"
EXAMPLES_CONTEXT = "https://www.w3.org/ns/credentials/examples/v2"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def fast_keystore() -> PassphraseKeyStore:
    """The real key store with a cheap scrypt cost, so each test does not pay ~50 ms per key."""
    return PassphraseKeyStore(PASSPHRASE, scrypt_n=2**10)


def _perseus_variables() -> list[str]:
    return [name for name in os.environ if name.startswith("PERSEUS_") and name != "PERSEUS_TEST_POSTGRES_URL"]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No PERSEUS_* variable of the developer's shell leaks into a test's settings."""
    for name in _perseus_variables():
        monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def shared_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceState]:
    """One SQLite service for a whole module, for tests whose outcome does not depend on the engine
    or on a fresh database (each issues credentials under new ids): a service per test would spend
    most of the module's time migrating empty databases."""
    saved = {name: os.environ.pop(name) for name in _perseus_variables()}
    try:
        root = tmp_path_factory.mktemp("service")
        state = make_service(root / "data", f"sqlite:///{root / 'perseus.db'}")
    finally:
        os.environ.update(saved)
    try:
        yield state
    finally:
        state.close()


@pytest.fixture(scope="module")
def shared_client(shared_service: ServiceState) -> Iterator[TestClient]:
    with TestClient(create_app(state=shared_service), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(params=ENGINES)
def service_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from fresh_database_url(request.param, tmp_path)


def make_service(data_dir: Path, database_url: str, **settings: Any) -> ServiceState:
    settings.setdefault("api_tokens", (TOKEN,))
    settings.setdefault("base_url", BASE_URL)
    return open_service(load_settings(data_dir=data_dir, database_url=database_url, **settings), keystore=fast_keystore())


@pytest.fixture
def service(tmp_path: Path, service_db_url: str, clean_env: None) -> Iterator[ServiceState]:
    state = make_service(tmp_path / "data", service_db_url)
    try:
        yield state
    finally:
        state.close()


@pytest.fixture
def client(service: ServiceState) -> Iterator[TestClient]:
    with TestClient(create_app(state=service), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def issuer_did(service: ServiceState) -> str:
    return service.profiles.all()[0].issuer


@pytest.fixture
def live_url(service: ServiceState) -> Iterator[str]:
    """The same service behind a real uvicorn on 127.0.0.1 (status URLs still on BASE_URL)."""
    with serving_in_thread(create_app(state=service)) as url:
        yield url


def example_credential(issuer: str | dict[str, Any], *, credential_id: str | None = None, **extra: Any) -> dict[str, Any]:
    """A small VC 2.0 credential in the W3C examples vocabulary."""
    credential: dict[str, Any] = {
        "@context": [VC_V2, EXAMPLES_CONTEXT],
        "id": credential_id or f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", "ExampleMeterCredential"],
        "issuer": issuer,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:sme-42", "name": "Brightwater Studio"},
    }
    credential.update(extra)
    return credential


def issue(http: TestClient | httpx.Client, credential: dict[str, Any], *, options: dict[str, Any] | None = None, headers: dict[str, str] | None = None, path: str = "/credentials/issue") -> httpx.Response:
    body: dict[str, Any] = {"credential": credential}
    if options is not None:
        body["options"] = options
    return http.post(path, json=body, headers=AUTH if headers is None else headers)


def issued(http: TestClient | httpx.Client, credential: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    response = issue(http, credential, **kwargs)
    assert response.status_code == 201, response.text
    signed: dict[str, Any] = response.json()["verifiableCredential"]
    return signed


def verify(http: TestClient | httpx.Client, credential: Any, **options: Any) -> httpx.Response:
    body: dict[str, Any] = {"verifiableCredential": credential}
    if options:
        body["options"] = options
    return http.post("/credentials/verify", json=body)


def set_status(http: TestClient | httpx.Client, credential_id: str, purpose: str, value: bool = True, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"credentialId": credential_id, "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": purpose}, "status": value}
    return http.post("/credentials/status", json=body, headers=AUTH if headers is None else headers)


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is an RFC 9457 problem detail with this status (and code); returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers["content-type"]
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert isinstance(body["type"], str) and body["type"].startswith("https://")
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and len(body["detail"]) > 10
    if code is not None:
        assert body["code"] == code, body
    return body
