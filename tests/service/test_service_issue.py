"""POST /credentials/issue through HTTP, on SQLite and PostgreSQL: what comes back, and what is recorded."""

from __future__ import annotations

import json
import uuid
from urllib.parse import unquote

import pytest
from perseus.issuer.service import ServiceState
from perseus.verifier.status import parse_status_entry
from perseus.verifier.verify import verify_credential
from perseus_service_fixtures import (  # noqa: F401 - fixtures
    AUTH,
    BASE_URL,
    EXAMPLES_CONTEXT,
    VC_V2,
    assert_problem,
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


VC_V1 = "https://www.w3.org/2018/credentials/v1"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
STATUS_V1 = "https://www.w3.org/ns/credentials/status/v1"


def vc_1_1_credential(issuer_did: str) -> dict:
    # The VC API issuer test suite sends exactly this shape.
    return {
        "@context": [VC_V1],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential"],
        "issuer": issuer_did,
        "issuanceDate": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:key:z6MkhTNL7i2etLerDK8Acz5t528giE5KA4p75T6ka1E1D74r"},
    }


def test_vc_1_1_credentials_get_the_data_integrity_context_and_no_status_unless_asked(client, issuer_did, service: ServiceState) -> None:
    # Only contexts every VC 1.1 verifier knows: the W3C suites' loaders cannot load status/v1.
    credential = vc_1_1_credential(issuer_did)
    signed = issued(client, credential)
    assert signed["@context"] == [VC_V1, DATA_INTEGRITY_V2]
    assert "credentialStatus" not in signed
    assert verify_credential(signed, checks={"proof", "issuer"}).verified
    recorded = service.storage.get_issued(credential["id"])
    assert recorded.credential == signed and recorded.entries == () and recorded.status == {}
    # the id is taken all the same
    assert_problem(issue(client, credential), 409)


def test_vc_1_1_credentials_get_status_when_asked(client, issuer_did, service: ServiceState) -> None:
    credential = vc_1_1_credential(issuer_did)
    signed = issued(client, credential, options={"credentialStatus": {"type": "BitstringStatusListEntry"}})
    assert signed["@context"] == [VC_V1, DATA_INTEGRITY_V2, STATUS_V1]
    assert sorted(parse_status_entry(e).purpose for e in signed["credentialStatus"]) == ["revocation", "suspension"]
    assert verify_credential(signed, checks={"proof", "issuer"}).verified
    assert service.storage.get_issued(credential["id"]).status == {"revocation": False, "suspension": False}
    # VC 2.0 gets status either way; the option is accepted there too
    v2 = issued(client, example_credential(issuer_did), options={"credentialStatus": {"type": "BitstringStatusListEntry"}})
    assert len(v2["credentialStatus"]) == 2 and v2["@context"] == [VC_V2, EXAMPLES_CONTEXT]


@pytest.mark.parametrize("status_option", [{"type": "StatusList2021Entry"}, "BitstringStatusListEntry", {"type": "BitstringStatusListEntry", "statusPurpose": "x"}, {}])
def test_an_unsupported_credential_status_option_is_400(client, issuer_did, status_option) -> None:
    body = assert_problem(issue(client, vc_1_1_credential(issuer_did), options={"credentialStatus": status_option}), 400, "PARSING_ERROR")
    assert "credentialStatus" in body["detail"]


def test_a_refused_credential_leaves_nothing_behind_and_its_id_stays_free(client, issuer_did, service: ServiceState) -> None:
    # Strict JSON-LD refuses an undefined term: that must happen before status positions are reserved,
    # so the refusal writes nothing, and the same id can be issued afterwards.
    credential = vc_1_1_credential(issuer_did)
    broken = {**credential, "credentialSubject": {**credential["credentialSubject"], "undefinedTerm": "dropped"}}
    allocations = _allocation_count(service)
    for _ in range(2):
        body = assert_problem(issue(client, broken), 400)
        assert "undefinedTerm" in body["detail"]
    for suite in ("eddsa-rdfc-2022", "eddsa-jcs-2022"):
        v2 = example_credential(issuer_did, credentialSubject={"id": "did:example:sme-42", "undefinedTerm": "dropped"})
        v2["@context"] = [VC_V2]
        assert_problem(issue(client, v2, options={"cryptosuite": suite}), 400)
        assert_problem(issue(client, v2, options={"cryptosuite": suite, "credentialStatus": {"type": "BitstringStatusListEntry"}}), 400)
    assert _allocation_count(service) == allocations
    assert issued(client, credential)["id"] == credential["id"]
    # once the id is issued, the same broken credential is still a 400 (the W3C suites send exactly
    # this: a valid credential, then a broken one under the same id), never a 409
    assert_problem(issue(client, broken), 400)
    v2_ok = example_credential(issuer_did)
    issued(client, v2_ok)
    v2_broken = {**v2_ok, "credentialSubject": {"id": "did:example:sme-42", "undefinedTerm": "dropped"}, "@context": [VC_V2]}
    assert_problem(issue(client, v2_broken), 400)


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
@pytest.mark.parametrize(
    ("subject", "word"),
    [
        ({"undefinedTerm": "x"}, "undefinedTerm"),  # an undefined term
        ({"name": {"@value": "x", "url": "https://x.example"}}, "url"),  # a value JSON-LD would drop
        ({"id": "subjects/42"}, "relative"),  # a relative IRI
        ({"id": "https://exa mple.com/42"}, "relative"),  # an ill-formed IRI
        ({"name": {"@value": "x", "@language": "en US"}}, "language tag"),  # a malformed language tag
    ],
)
def test_strict_json_ld_refuses_before_anything_is_reserved(client, issuer_did, service: ServiceState, suite, subject, word) -> None:
    credential = example_credential(issuer_did, credentialSubject={"id": "did:example:sme-42", **subject})
    credential["@context"] = [VC_V2]  # no @vocab (the examples context has one): undefined terms stay undefined
    allocations = _allocation_count(service)
    body = assert_problem(issue(client, credential, options={"cryptosuite": suite}), 400)
    assert word in body["detail"]
    assert _allocation_count(service) == allocations


def _allocation_count(service: ServiceState) -> int:
    from perseus.issuer.storage.schema import status_allocations
    from sqlalchemy import func, select

    with service.storage._engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(status_allocations)).scalar_one())


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
