"""POST /credentials/issue through HTTP, on SQLite and PostgreSQL: what comes back, and what is recorded."""

from __future__ import annotations

import json
import uuid
from urllib.parse import unquote

from perseus.issuer.service import ServiceState
from perseus.verifier.status import parse_status_entry
from perseus.verifier.verify import verify_credential
from perseus_service_fixtures import (  # noqa: F401 - fixtures
    AUTH,
    BASE_URL,
    VC_V2,
    clean_env,
    client,
    example_credential,
    issue,
    issued,
    issuer_did,
    service,
    service_db_url,
)


def test_issue_returns_201_with_a_signed_credential_and_status_entries(client, issuer_did, service: ServiceState) -> None:
    credential = example_credential(issuer_did)
    response = issue(client, credential)
    assert response.status_code == 201, response.text
    assert response.headers["content-type"] == "application/json"
    signed = response.json()["verifiableCredential"]
    # everything submitted is kept as it was
    for key, value in credential.items():
        assert signed[key] == value
    assert isinstance(signed["proof"], dict)  # one proof object, as the VC API issuer suite checks
    assert signed["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert signed["proof"]["verificationMethod"].startswith(issuer_did + "#")
    entries = [parse_status_entry(e) for e in signed["credentialStatus"]]
    assert sorted(e.purpose for e in entries) == ["revocation", "suspension"]
    assert len({e.list_url for e in entries}) == 2  # one list per purpose
    for entry in entries:
        assert entry.list_url.startswith(BASE_URL + "/status/")
        assert 0 <= entry.index < 131_072
    # the credential verifies offline, signature and issuer binding
    result = verify_credential(signed, checks={"proof", "issuer", "validity"})
    assert result.verified, result.report()
    # and it is in the issuance log exactly as returned
    assert unquote(response.headers["location"]) == f"/credentials/{credential['id']}"
    assert service.storage.get_issued(credential["id"]).credential == signed


def test_issued_credential_can_be_read_back_with_its_status(client, issuer_did) -> None:
    signed = issued(client, example_credential(issuer_did))
    response = client.get(f"/credentials/{signed['id']}", headers=AUTH)
    assert response.status_code == 200
    body = response.json()
    assert body["verifiableCredential"] == signed
    assert body["status"] == {"revocation": False, "suspension": False}
    assert body["profile"] == "default"


def test_credential_ids_with_slashes_are_found(client, issuer_did) -> None:
    credential_id = "https://issuer.example/credentials/2025/tariff/7"
    issued(client, example_credential(issuer_did, credential_id=credential_id))
    assert client.get(f"/credentials/{credential_id}", headers=AUTH).status_code == 200


def test_issuer_may_be_an_object_with_an_id(client, issuer_did) -> None:
    signed = issued(client, example_credential({"id": issuer_did, "name": "Example Business Energy Ltd"}))
    assert signed["issuer"]["name"] == "Example Business Energy Ltd"
    assert verify_credential(signed, checks={"proof", "issuer"}).verified


def test_options_choose_the_cryptosuite_purpose_and_created(client, issuer_did) -> None:
    signed = issued(
        client,
        example_credential(issuer_did),
        options={"cryptosuite": "eddsa-jcs-2022", "created": "2025-02-03T04:05:06Z", "proofPurpose": "assertionMethod"},
    )
    assert signed["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert signed["proof"]["created"] == "2025-02-03T04:05:06Z"
    assert verify_credential(signed, checks={"proof", "issuer"}).verified


def test_a_credential_without_an_id_is_recorded_under_the_location_it_is_given(client, issuer_did, service) -> None:
    credential = example_credential(issuer_did)
    del credential["id"]
    response = issue(client, credential)
    assert response.status_code == 201
    signed = response.json()["verifiableCredential"]
    assert "id" not in signed  # the service does not invent an id into the credential
    recorded = unquote(response.headers["location"]).removeprefix("/credentials/")
    assert recorded.startswith("urn:uuid:")
    assert service.storage.get_issued(recorded).credential == signed


def test_options_credential_id_names_the_record(client, issuer_did, service) -> None:
    credential = example_credential(issuer_did)
    del credential["id"]
    wanted = f"urn:example:{uuid.uuid4()}"
    response = issue(client, credential, options={"credentialId": wanted})
    assert response.status_code == 201
    assert service.storage.get_issued(wanted).credential == response.json()["verifiableCredential"]


def test_vc_1_1_credentials_get_the_contexts_their_proof_and_status_need(client, issuer_did) -> None:
    # The VC API issuer test suite sends exactly this shape.
    credential = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential"],
        "issuer": issuer_did,
        "issuanceDate": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:key:z6MkhTNL7i2etLerDK8Acz5t528giE5KA4p75T6ka1E1D74r"},
    }
    signed = issued(client, credential)
    assert signed["@context"][0] == "https://www.w3.org/2018/credentials/v1"
    assert "https://w3id.org/security/data-integrity/v2" in signed["@context"]
    assert "https://www.w3.org/ns/credentials/status/v1" in signed["@context"]
    assert verify_credential(signed, checks={"proof", "issuer"}).verified


def test_submitted_status_entries_are_kept_beside_ours(client, issuer_did) -> None:
    theirs = {
        "id": "https://other.example/status/1#42",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "message",
        "statusListIndex": "42",
        "statusListCredential": "https://other.example/status/1",
    }
    signed = issued(client, example_credential(issuer_did, credentialStatus=theirs))
    assert signed["credentialStatus"][0] == theirs
    assert [e["statusPurpose"] for e in signed["credentialStatus"][1:]] == ["revocation", "suspension"]


def test_a_perseus_tariff_credential_is_issued(client, issuer_did) -> None:
    from perseus.issuer.demo import sample_tariff_credential

    signed = issued(client, sample_tariff_credential(issuer_did))
    assert "TariffCredential" in signed["type"]
    result = verify_credential(signed, checks={"proof", "issuer", "shape"})
    assert result.verified, result.report()


def test_the_response_body_is_the_recorded_text(client, issuer_did, service) -> None:
    # the issuance log keeps the credential byte for byte as issued (what a GET returns)
    signed = issued(client, example_credential(issuer_did, description="ünïcödé ✓"))
    record = service.storage.get_issued(signed["id"])
    assert json.loads(record.credential_json)["description"] == "ünïcödé ✓"


def test_the_per_profile_endpoint_issues_as_that_profile(client, issuer_did) -> None:
    signed = issued(client, example_credential(issuer_did), path="/issuers/default/credentials/issue")
    assert signed["issuer"] == issuer_did
    assert VC_V2 in signed["@context"]
