"""VC API exchanges end to end through the HTTP API (TestClient): receive with permission, release with permission.

Every bad input the issue lists is refused with a code, logged, and leaves no receipt.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from fastapi.testclient import TestClient
from perseus.issuer.holder.wallet import Holder
from perseus.issuer.service.app import create_app
from perseus.issuer.signing import sign_document
from perseus.verifier.dates import utc_now
from perseus.verifier.encryption import decrypt, encrypt_for

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "permission"))
from perseus_service_fixtures import AUTH, clean_env, make_service  # noqa: E402, F401
from permission_fixtures import MPAN, OTHER_MPAN, month_of_data, terms  # noqa: E402

VARIABLES = {"supplyPoint": MPAN, "periodStart": "2024-01-01T00:00:00Z", "periodEnd": "2024-02-01T00:00:00Z"}


@dataclass
class World:
    cap: TestClient
    edp: TestClient
    sme: Holder
    cap_did: str
    edp_did: str
    cap_state: Any
    edp_state: Any

    def cap_key(self) -> Any:
        return self.cap_state.keys.signing_key(self.cap_state.settings.default_profile)


@pytest.fixture
def world(tmp_path: Path, clean_env: None) -> Iterator[World]:  # noqa: F811
    cap_state = make_service(tmp_path / "cap", f"sqlite:///{tmp_path / 'cap.db'}", base_url="https://cap.test")
    edp_state = make_service(tmp_path / "edp", f"sqlite:///{tmp_path / 'edp.db'}", base_url="https://edp.test")
    with TestClient(create_app(state=cap_state), raise_server_exceptions=False) as cap, TestClient(create_app(state=edp_state), raise_server_exceptions=False) as edp, Holder.init(tmp_path / "sme") as sme:
        yield World(cap, edp, sme, cap_state.profiles.all()[0].issuer, edp_state.profiles.all()[0].issuer, cap_state, edp_state)
    cap_state.close()
    edp_state.close()


@pytest.fixture
def consumption(world: World) -> dict[str, Any]:
    """A month of the SME's consumption issued by the EDP service (through its API), and kept by the SME."""
    from perseus.issuer.keyfile import generate_key_file

    unsigned = month_of_data(world.sme.did, generate_key_file("Ed25519"))
    unsigned = {k: v for k, v in unsigned.items() if k != "proof"}
    unsigned["issuer"] = world.edp_did
    answer = world.edp.post("/credentials/issue", json={"credential": unsigned, "options": {}}, headers=AUTH)
    assert answer.status_code == 201, answer.text
    credential = answer.json()["verifiableCredential"]
    world.sme.store(credential)
    # The EDP delivers its status lists to the recipient (status URLs on https://edp.test are not fetched in tests).
    for entry in credential["credentialStatus"]:
        listed = world.edp.get("/status/" + entry["statusListCredential"].rsplit("/", 1)[1]).json()
        assert world.cap.post("/permissions/status-lists", json=listed).status_code == 200
    return credential


def start(client: TestClient, workflow: str = "receive", variables: dict[str, Any] = VARIABLES) -> tuple[str, dict[str, Any]]:
    created = client.post(f"/workflows/{workflow}/exchanges", json={"variables": variables}, headers=AUTH)
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    asked = client.post(location, json={})
    assert asked.status_code == 200, asked.text
    return location, asked.json()["verifiablePresentationRequest"]


def receipts(state: Any, location: str) -> Any:
    return state_exchanges(state).receipt(location.rsplit("/", 1)[1])


def state_exchanges(state: Any) -> Any:
    from perseus.issuer.service.exchanges import ExchangeService

    return ExchangeService(state)


# -- receiving (the CAP asks the SME) --------------------------------------------------------------------------


def test_receive_completes_with_a_receipt(world: World, consumption: dict[str, Any]) -> None:
    world.sme.grant(terms(world.cap_did))
    location, request = start(world.cap)
    assert request["domain"] == "https://cap.test" and request["challenge"]
    example_types = [q["example"]["type"] for q in request["query"][0]["credentialQuery"]]
    assert example_types == [["EnergyConsumptionCredential"], ["PermissionCredential"]]
    assert request["query"][0]["credentialQuery"][0]["example"]["credentialSubject"]["supplyPoint"] == {"mpan": MPAN}
    assert request["query"][1]["type"] == "DIDAuthentication"
    vp = world.sme.present(request, expected_domain="https://cap.test")
    done = world.cap.post(location, json={"verifiablePresentation": vp})
    assert done.status_code == 200, done.text
    receipt = done.json()["receipt"]
    assert receipt["holder"] == world.sme.did and receipt["recipient"] == world.cap_did
    assert consumption["id"] in [c["id"] for c in receipt["credentials"]]
    assert receipt["credentials"][0]["digestSRI"].startswith("sha256-")
    assert receipts(world.cap_state, location) == receipt
    # the exchange is over: a second presentation, or a new request, is out of order
    again = world.cap.post(location, json={"verifiablePresentation": vp})
    assert again.status_code == 409 and again.json()["code"] == "EXCHANGE_OUT_OF_ORDER"


def test_receive_encrypted(world: World, consumption: dict[str, Any]) -> None:
    world.sme.grant(terms(world.cap_did))
    location, request = start(world.cap)
    token = encrypt_for(world.sme.present(request), world.cap_did)
    done = world.cap.post(location, json={"encryptedPresentation": token})
    assert done.status_code == 200, done.text
    other, request2 = start(world.cap)
    refused = world.cap.post(other, json={"encryptedPresentation": token[:-4] + "AAAA"})
    assert refused.status_code == 400 and refused.json()["code"] == "ENCRYPTION_ERROR"


def test_steps_out_of_order_are_refused(world: World) -> None:
    created = world.cap.post("/workflows/receive/exchanges", json={}, headers=AUTH)
    location = created.headers["Location"]
    early = world.cap.post(location, json={"verifiablePresentation": {}})
    assert early.status_code == 409 and early.json()["code"] == "EXCHANGE_OUT_OF_ORDER"
    assert world.cap.post(location, json={}).status_code == 200
    twice = world.cap.post(location, json={})
    assert twice.status_code == 409 and twice.json()["code"] == "EXCHANGE_OUT_OF_ORDER"


def _refused(world: World, location: str, vp: Any, code: str, status: int = 400) -> None:
    answer = world.cap.post(location, json={"verifiablePresentation": vp})
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert code in {body["code"], *(e["code"] for e in body.get("errors", []))}, body
    assert receipts(world.cap_state, location) is None  # nothing recorded as shared
    events = state_exchanges(world.cap_state).events(location.rsplit("/", 1)[1])
    assert events and all(e["outcome"] == "refused" for e in events)


def test_a_presentation_for_another_exchange_is_refused(world: World, consumption: dict[str, Any]) -> None:
    world.sme.grant(terms(world.cap_did))
    _, first = start(world.cap)
    replayed = world.sme.present(first)
    second, _ = start(world.cap)
    _refused(world, second, replayed, "INVALID_CHALLENGE_ERROR")
    # and the challenge of the second exchange is spent: a correct answer now is a replay
    again = world.cap.post(second, json={"verifiablePresentation": replayed})
    assert again.status_code == 409


def test_an_expired_challenge_is_refused(world: World, consumption: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    world.sme.grant(terms(world.cap_did))
    location, request = start(world.cap)
    vp = world.sme.present(request)
    service = world.cap.app.state.exchanges
    monkeypatch.setattr(service, "clock", lambda: utc_now() + timedelta(minutes=6))
    answer = world.cap.post(location, json={"verifiablePresentation": vp})
    assert answer.status_code == 400 and answer.json()["code"] == "CHALLENGE_EXPIRED"
    assert receipts(world.cap_state, location) is None


def test_a_wrong_domain_is_refused(world: World, consumption: dict[str, Any]) -> None:
    world.sme.grant(terms(world.cap_did))
    location, request = start(world.cap)
    vp = world.sme.present({**request, "domain": "https://evil.test"})
    _refused(world, location, vp, "INVALID_DOMAIN_ERROR")


def test_a_presentation_signed_by_someone_else_is_refused(world: World, consumption: dict[str, Any]) -> None:
    world.sme.grant(terms(world.cap_did))
    location, request = start(world.cap)
    vp = world.sme.present(request)
    unsigned = {k: v for k, v in vp.items() if k != "proof"}
    forged = sign_document(unsigned, world.cap_key(), proof_purpose="authentication", challenge=request["challenge"], domain=request["domain"])
    _refused(world, location, forged, "HOLDER_MISMATCH")


@pytest.mark.parametrize(
    ("changes", "code"),
    [({"recipient": "did:web:someone-else.test"}, "PERMISSION_MISSING"), ({"supply_points": "other"}, "PERMISSION_WRONG_SUPPLY_POINT")],
)
def test_a_permission_that_does_not_cover_is_refused(world: World, consumption: dict[str, Any], changes: dict[str, Any], code: str) -> None:
    from perseus.issuer.holder.permissions import SupplyPointRef

    if changes.get("supply_points") == "other":
        changes = {"supply_points": (SupplyPointRef(OTHER_MPAN),)}
    recipient = changes.pop("recipient", world.cap_did)
    world.sme.grant(terms(recipient, **changes))
    location, request = start(world.cap)
    _refused(world, location, world.sme.present(request), code)


def test_a_withdrawn_permission_is_refused_once_the_sme_has_pushed_its_list(world: World, consumption: dict[str, Any]) -> None:
    permission = world.sme.grant(terms(world.cap_did))
    location, request = start(world.cap)
    stale = world.sme.present(request)  # stapled list: not withdrawn yet
    world.sme.withdraw(permission["id"])
    pushed = world.cap.post("/permissions/status-lists", json=world.sme.status_lists()[0])
    assert pushed.status_code == 200 and pushed.json()["kept"] is True
    # the stale list stapled to the presentation loses to the newer one the SME pushed
    _refused(world, location, stale, "PERMISSION_WITHDRAWN")


def test_a_forged_status_list_is_not_kept(world: World) -> None:
    world.sme.grant(terms(world.cap_did))
    listed = world.sme.status_lists()[0]
    encoded = listed["credentialSubject"]["encodedList"]
    middle = len(encoded) // 2
    forged = {**listed, "credentialSubject": {**listed["credentialSubject"], "encodedList": encoded[:middle] + ("B" if encoded[middle] != "B" else "C") + encoded[middle + 1 :]}}
    answer = world.cap.post("/permissions/status-lists", json=forged)
    assert answer.status_code == 400
    assert world.cap.post("/permissions/status-lists", json={"type": "nope"}).status_code == 400


def test_bad_requests_to_the_exchange_api(world: World) -> None:
    assert world.cap.post("/workflows/receive/exchanges", json={}).status_code == 401
    assert world.cap.post("/workflows/nope/exchanges", json={}, headers=AUTH).json()["code"] == "WORKFLOW_NOT_FOUND"
    bad = world.cap.post("/workflows/receive/exchanges", json={"variables": {"periodStart": "yesterday"}}, headers=AUTH)
    assert bad.status_code == 400 and bad.json()["code"] == "MALFORMED_VALUE_ERROR"
    assert world.cap.post("/workflows/receive/exchanges/0000", json={}).json()["code"] == "EXCHANGE_NOT_FOUND"
    created = world.cap.post("/workflows/receive/exchanges", json={}, headers=AUTH).headers["Location"]
    assert world.cap.post(created, json=[1]).status_code == 400
    world.cap.post(created, json={})
    assert world.cap.post(created, json={"verifiablePresentation": {}, "extra": 1}).status_code == 400
    challenge = world.cap.post("/challenges", json={})
    assert challenge.status_code == 201 and len(challenge.json()["challenge"]) >= 32


# -- releasing (the EDP releases to the CAP) -------------------------------------------------------------------


def release(world: World, permission: dict[str, Any] | None) -> Any:
    location, request = start(world.edp, "release")
    credentials = ([permission] if permission else []) + world.sme.status_lists()
    vp = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"], "holder": world.cap_did, "verifiableCredential": credentials}
    signed = sign_document(vp, world.cap_key(), proof_purpose="authentication", challenge=request["challenge"], domain=request["domain"])
    return location, world.edp.post(location, json={"verifiablePresentation": signed})


def test_the_edp_releases_only_while_a_permission_covers_and_withdrawal_bites_on_the_next_release(world: World, consumption: dict[str, Any]) -> None:
    permission = world.sme.grant(terms(world.cap_did))
    _, answer = release(world, permission)
    assert answer.status_code == 200, answer.text
    bundle = decrypt(answer.json()["encryptedPresentation"], world.cap_key().secret_key)
    assert [c["id"] for c in bundle["verifiableCredential"]] == [consumption["id"]]
    assert answer.json()["receipt"]["releasedTo"] == world.cap_did
    world.sme.withdraw(permission["id"])
    assert world.edp.post("/permissions/status-lists", json=world.sme.status_lists()[0]).json()["kept"] is True
    location, refused = release(world, permission)
    assert refused.status_code == 403 and refused.json()["code"] == "PERMISSION_WITHDRAWN", refused.text
    events = world.edp.app.state.exchanges.events(location.rsplit("/", 1)[1])
    assert events[0]["outcome"] == "refused" and events[0]["code"] == "PERMISSION_WITHDRAWN"


def test_the_edp_refuses_without_a_permission_or_for_another_recipient(world: World, consumption: dict[str, Any]) -> None:
    _, none = release(world, None)
    assert none.status_code == 403 and none.json()["code"] == "PERMISSION_MISSING", none.text
    other = world.sme.grant(terms("did:web:someone-else.test"))
    _, wrong = release(world, other)
    # a permission naming another recipient, presented by the CAP: holder binding refuses it first
    assert wrong.status_code == 400 and wrong.json()["code"] == "HOLDER_MISMATCH", wrong.text
    assert "someone-else.test" in wrong.json()["detail"]


def test_the_edp_refuses_a_recipient_the_registry_does_not_accredit(world: World, consumption: dict[str, Any], tmp_path: Path) -> None:
    from perseus.issuer.perseus_demo import _registry

    snapshot, _ = _registry(tmp_path, [("edp", "EDP", world.edp_did, "energy-data-provider")])  # the CAP is not a member
    world.edp.app.state.exchanges.registry = snapshot
    _, refused = release(world, world.sme.grant(terms(world.cap_did)))
    assert refused.status_code == 403 and refused.json()["code"] == "RECIPIENT_NOT_ACCREDITED", refused.text


def test_the_exchange_endpoints_are_documented(world: World) -> None:
    paths = world.cap.get("/openapi.json").json()["paths"]
    for path in ("/workflows/{workflow_id}/exchanges", "/workflows/{workflow_id}/exchanges/{exchange_id}", "/challenges", "/permissions/status-lists"):
        assert paths[path]["post"]["requestBody"]["content"]["application/json"]["schema"]["type"] == "object", path


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(
        st.none(), st.integers(), st.lists(st.integers(), max_size=2),
        st.dictionaries(
            st.sampled_from(["variables", "verifiablePresentation", "encryptedPresentation", "type", "@context", "holder", "proof"]),
            st.none() | st.booleans() | st.text(max_size=8) | st.lists(st.text(max_size=3), max_size=2) | st.dictionaries(st.sampled_from(["supplyPoint", "periodStart", "type", "id", "proof"]), st.text(max_size=8), max_size=3),
            max_size=3,
        ),
    ),
)
def test_no_body_makes_an_exchange_endpoint_answer_500(world: World, body: Any) -> None:
    location = world.cap.post("/workflows/receive/exchanges", json={}, headers=AUTH).headers["Location"]
    for path in ("/workflows/receive/exchanges", location, "/permissions/status-lists", "/challenges"):
        answer = world.cap.post(path, json=body, headers=AUTH)
        assert answer.status_code < 500, (path, answer.text)
    world.cap.post(location, json={})
    answer = world.cap.post(location, json=body)
    assert answer.status_code < 500, answer.text
    assert receipts(world.cap_state, location) is None
