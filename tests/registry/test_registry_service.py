"""The query service through FastAPI's TestClient: TRQP answers (signed, expiring), entities, snapshots
with ETag and Cache-Control, the admin API with bearer tokens, RFC 9457 errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from perseus.registry.service.app import create_app
from perseus.registry.storage.store import RegistrySettings, RegistryStore
from perseus.verifier.registry_snapshot import RegistryState, load_snapshot, snapshot_digest

from registry_helpers import CORE, EDP_ROLE, Party, edp, make_party, operator  # noqa: F401 (fixtures)

EDP_ID = "https://directory.core.trust.ib1.org/m/example-edp"
ADMIN = {"Authorization": "Bearer s3cret"}


@pytest.fixture
def client(tmp_path, operator: Party) -> Iterator[TestClient]:
    settings = RegistrySettings("https://registry.example/perseus", (CORE,), timedelta(days=1))
    store = RegistryStore(f"sqlite:///{tmp_path / 'r.db'}", signer=operator.secret, settings=settings)
    store.initialise(settings, actor="test")
    with TestClient(create_app(store, tokens={"s3cret": "alice"})) as c:
        yield c
    store.close()


def onboard(client: TestClient, edp: Party) -> None:
    r = client.post("/admin/entities", headers=ADMIN, json={
        "id": EDP_ID, "legalName": "Example Energy Ltd", "assuranceLevel": "Level2",
        "dids": [{"did": edp.did, "validFrom": "2023-01-01T00:00:00Z"}], "reason": "onboarding"})
    assert r.status_code == 201, r.text
    r = client.post(f"/admin/entities/{EDP_ID}/roles", headers=ADMIN, json={
        "role": "energy-data-provider", "validFrom": "2023-01-01T00:00:00Z", "reason": "membership approved"})
    assert r.status_code == 201, r.text
    assert r.json()["snapshot"] == 2


def ask(client: TestClient, entity: str, time: str | None = None, **extra) -> dict:
    body = {"entity_id": entity, "authority_id": CORE, "action": "issue", "resource": EDP_ROLE, **extra}
    if time:
        body["context"] = {"time": time}
    r = client.post("/authorization", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def test_trqp_answers_are_signed_expiring_and_time_aware(client: TestClient, operator: Party, edp: Party) -> None:
    onboard(client, edp)
    answer = ask(client, EDP_ID, "2024-05-01T00:00:00Z")
    assert answer["authorized"] is True and answer["time_requested"] == "2024-05-01T00:00:00Z"
    assert answer["context"]["snapshot"]["sequence"] == 2 and answer["expires_at"] > answer["time_evaluated"]
    # the answer is evidence: its proof verifies against the operator's key
    from perseus.verifier.proofs import verify_proofs
    from perseus.verifier.loader import DocumentLoader

    assert [o.verified for o in verify_proofs(answer, loader=DocumentLoader())] == [True]
    assert answer["proof"]["verificationMethod"].startswith(operator.did)
    by_did = ask(client, edp.did, "2024-05-01T00:00:00Z")
    assert by_did["authorized"] is True
    early = ask(client, EDP_ID, "2022-05-01T00:00:00Z")
    assert early["authorized"] is False and early["code"] == "REGISTRY_ROLE_NOT_YET_GRANTED"
    r = client.post(f"/admin/entities/{EDP_ID}/roles/status", headers=ADMIN, json={
        "role": EDP_ROLE, "status": "suspended", "from": "2024-06-01T00:00:00Z", "reason": "failed audit"})
    assert r.status_code == 200 and r.json()["snapshot"] == 3
    assert ask(client, EDP_ID, "2024-07-01T00:00:00Z")["code"] == "REGISTRY_ROLE_SUSPENDED"
    assert ask(client, EDP_ID, "2024-05-01T00:00:00Z")["authorized"] is True
    assert ask(client, "https://example.com/m/unknown")["code"] == "REGISTRY_ENTITY_NOT_FOUND"
    assert ask(client, EDP_ID, action="verify")["code"] == "REGISTRY_UNKNOWN_ACTION"


def test_snapshots_with_etag_cache_control_and_chain(client: TestClient, operator: Party, edp: Party) -> None:
    onboard(client, edp)
    latest = client.get("/snapshots/latest")
    assert latest.status_code == 200
    assert latest.headers["etag"] == f'"{snapshot_digest(latest.json())}"'
    assert "max-age=" in latest.headers["cache-control"]
    assert client.get("/snapshots/latest", headers={"If-None-Match": latest.headers["etag"]}).status_code == 304
    first = client.get("/snapshots/1")
    assert first.status_code == 200 and "immutable" in first.headers["cache-control"]
    state = RegistryState()
    for n in range(3):
        loaded = load_snapshot(client.get(f"/snapshots/{n}").text, trust_anchor=operator.did, state=state)
        assert loaded.usable, loaded.problems
        state.accept(loaded)
    assert client.get("/snapshots/99").status_code == 404
    bad = client.get("/snapshots/abc")
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem+json")


def test_entities(client: TestClient, edp: Party) -> None:
    onboard(client, edp)
    r = client.get(f"/entities/{EDP_ID}")
    assert r.status_code == 200 and r.json()["entity"]["legalName"] == "Example Energy Ltd"
    assert client.get(f"/entities/{edp.did}").json()["entity"]["id"] == EDP_ID
    missing = client.get("/entities/https://example.com/m/none")
    assert missing.status_code == 404 and missing.json()["code"] == "REGISTRY_NOT_FOUND"


def test_admin_needs_a_token_and_every_change_is_audited(client: TestClient, edp: Party) -> None:
    body = {"id": EDP_ID, "legalName": "X", "reason": "r"}
    assert client.post("/admin/entities", json=body).status_code == 401
    assert client.post("/admin/entities", json=body, headers={"Authorization": "Bearer nope"}).status_code == 403
    onboard(client, edp)
    entries = client.get("/admin/audit", headers=ADMIN).json()["entries"]
    assert [(e["actor"], e["action"], e["reason"]) for e in entries[:2]] == [("alice", "grant", "membership approved"), ("alice", "add-entity", "onboarding")]
    assert client.get("/admin/audit").status_code == 401


@pytest.mark.parametrize("path, body, status, code", [
    ("/authorization", "not json", 400, "PARSING_ERROR"),
    ("/authorization", [], 400, "PARSING_ERROR"),
    ("/authorization", {"entity_id": "x"}, 400, "PARSING_ERROR"),
    ("/authorization", {"entity_id": "x", "authority_id": CORE, "action": "issue", "resource": EDP_ROLE, "context": {"time": "yesterday"}}, 400, "PARSING_ERROR"),
    ("/admin/entities", {"id": "nope", "legalName": "X", "reason": "r"}, 400, "REGISTRY_INVALID_INPUT"),
    ("/admin/entities", {"id": EDP_ID, "legalName": "X"}, 400, "PARSING_ERROR"),
    (f"/admin/entities/{EDP_ID}/roles", {"role": "energy-data-provider", "reason": "r"}, 404, "REGISTRY_NOT_FOUND"),
    (f"/admin/entities/{EDP_ID}/roles", {"role": "no-such-role", "reason": "r"}, 400, "REGISTRY_INVALID_INPUT"),
    (f"/admin/entities/{EDP_ID}/roles/status", {"role": EDP_ROLE, "status": "paused", "reason": "r"}, 400, "PARSING_ERROR"),
    (f"/admin/entities/{EDP_ID}/keys", {"did": "did:web:x.example", "validFrom": "2024-01-01T00:00:00Z", "reason": "r"}, 404, "REGISTRY_NOT_FOUND"),
])
def test_bad_requests_are_problem_details_not_500(client: TestClient, path: str, body, status: int, code: str) -> None:
    before = client.get("/snapshots/latest").json()["sequence"]
    content = body if isinstance(body, str) else json.dumps(body)
    r = client.post(path, content=content, headers={**ADMIN, "Content-Type": "application/json"})
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["code"] == code and problem["detail"] and problem["status"] == status
    assert client.get("/snapshots/latest").json()["sequence"] == before  # nothing half-written
