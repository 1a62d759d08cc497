"""POST /credentials/verify and /presentations/verify: 200 when verified, 400 with the reasons when not."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from perseus.issuer.keyfile import generate_key_file
from perseus.issuer.signing import sign_document
from perseus_service_fixtures import (  # noqa: F401 - fixtures
    VC_V2,
    assert_problem,
    clean_env,
    shared_client,
    example_credential,
    issue,
    issued,
    shared_service,
    set_status,
    verify,
)


@pytest.fixture
def service_db_url(tmp_path):
    """SQLite only: what this module checks does not depend on the engine (the engine-specific
    behaviour is tested on both in test_service_issue / _status / _keys / _live / _auth_profiles)."""
    return f"sqlite:///{tmp_path / 'perseus.db'}"


@pytest.fixture(scope="module")
def service(shared_service):
    return shared_service


@pytest.fixture(scope="module")
def client(shared_client):
    return shared_client


@pytest.fixture(scope="module")
def issuer_did(shared_service):
    return shared_service.profiles.all()[0].issuer

HOLDER = generate_key_file("Ed25519")
CHALLENGE = "u-challenge-5b0f1d"
DOMAIN = "bank.example"


def result_codes(response: Any) -> set[str]:
    return {e["code"] for e in response.json()["errors"]}


def test_a_verified_credential_is_200_with_every_check(client, issuer_did) -> None:
    signed = issued(client, example_credential(issuer_did))
    answer = verify(client, signed)
    assert answer.status_code == 200
    body = answer.json()
    assert body["verified"] is True and body["errors"] == [] and body["problemDetails"] == []
    # the VC API service's default is authenticity and timeliness, but a credential naming this
    # service's own DID always gets the issuer binding too (issue 7; test_service_ssrf.py)
    assert [c["check"] for c in body["checks"]] == ["format", "proof", "issuer", "validity", "status"]
    assert body["checks"][1]["details"]["proofs"][0]["controller"] == issuer_did
    assert "credential" not in body
    assert verify(client, signed, returnCredential=True).json()["credential"] == signed
    every = verify(client, signed, checks=["proof", "issuer", "validity", "status"])
    assert every.status_code == 200
    assert [c["check"] for c in every.json()["checks"]] == ["format", "proof", "issuer", "validity", "status"]


def test_the_issuer_binding_is_checked_when_asked_and_otherwise_reported_as_a_warning(client) -> None:
    # The ECDSA spec vectors' shape: issuer https://vc.example/issuers/5678, signed by a did:key it
    # does not control. The VC API verifier service checks proofs, status and validity by default and
    # leaves the issuer rule to its caller, so: 200 with a warning; 400 when "issuer" is asked for.
    key = generate_key_file("P-256")
    signed = sign_document(example_credential("https://vc.example/issuers/5678"), key)
    default = verify(client, signed)
    assert default.status_code == 200, default.text
    body = default.json()
    assert body["verified"] is True and body["errors"] == []
    assert [w["code"] for w in body["warnings"]] == ["ISSUER_MISMATCH"] and key.controller in body["warnings"][0]["detail"]
    assert body["checks"][1]["details"]["proofs"][0]["controller"] == key.controller
    asked = verify(client, signed, checks=["proof", "issuer"])
    assert asked.status_code == 400 and result_codes(asked) == {"ISSUER_MISMATCH"}
    # the library's (and `perseus verify`'s) default keeps the binding
    from perseus.verifier.verify import verify_credential

    assert not verify_credential(signed).verified
    assert {p.code for p in verify_credential(signed).errors} == {"ISSUER_MISMATCH"}
    # a bad signature is still a 400 by default
    signed["proof"]["proofValue"] = signed["proof"]["proofValue"][:-1]
    assert verify(client, signed).status_code == 400


def test_a_legacy_ed25519signature2020_credential_verifies(client, vectors) -> None:
    # The VC API verifier suite's one valid credential: vc-di-eddsa's Ed25519Signature2020 vector.
    import json

    signed = json.loads((vectors / "vc-di-eddsa/TestVectors/Ed25519Signature2020/signedEdSig.json").read_text(encoding="utf-8"))
    answer = verify(client, signed, checks=["proof"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["checks"][1]["details"]["proofs"][0]["cryptosuite"] == "Ed25519Signature2020"
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["alumniOf"] = "Another School"
    assert verify(client, tampered, checks=["proof"]).status_code == 400


def test_a_tampered_credential_is_400_with_the_proof_error(client, issuer_did) -> None:
    tampered = issued(client, example_credential(issuer_did))
    tampered["credentialSubject"]["name"] = "Someone Else Ltd"
    answer = verify(client, tampered)
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/json"  # a result, not a problem: the request was fine
    assert answer.json()["verified"] is False
    assert "PROOF_VERIFICATION_ERROR" in result_codes(answer)


@pytest.mark.parametrize(
    "damage",
    [
        lambda c: c.pop("@context"),
        lambda c: c.pop("type"),
        lambda c: c.pop("issuer"),
        lambda c: c.pop("credentialSubject"),
        lambda c: c.pop("proof"),
        lambda c: c["proof"].pop("type"),
        lambda c: c["proof"].pop("created"),
        lambda c: c["proof"].pop("verificationMethod"),
        lambda c: c["proof"].pop("proofValue"),
        lambda c: c["proof"].pop("proofPurpose"),
        lambda c: c.__setitem__("@context", "https://www.w3.org/ns/credentials/v2x"),
        lambda c: c.__setitem__("type", [None]),
        lambda c: c.__setitem__("issuer", []),
        lambda c: c.__setitem__("credentialSubject", "did:example:1"),
        lambda c: c.__setitem__("proof", []),
        lambda c: c.__setitem__("proof", "proof"),
    ],
)
def test_what_the_vc_api_verifier_suite_breaks_is_refused(client, issuer_did, damage) -> None:
    # the W3C VC API verifier test suite expects 400 or 422 for each of these, with checks: ["proof"]
    broken = issued(client, example_credential(issuer_did))
    damage(broken)
    answer = verify(client, broken, checks=["proof"])
    assert answer.status_code == 400, answer.text
    assert answer.json()["verified"] is False


def test_checks_take_the_vc_api_names(client, issuer_did) -> None:
    signed = issued(client, example_credential(issuer_did))
    answer = verify(client, signed, checks=["proof", "credentialStatus"])
    assert answer.status_code == 200
    assert [c["check"] for c in answer.json()["checks"]] == ["format", "proof", "issuer", "status"]  # issuer: our own DID
    assert_problem(verify(client, signed, checks=["proof", "teleport"]), 400, "PARSING_ERROR")
    assert_problem(client.post("/credentials/verify", json={"verifiableCredential": signed, "options": {"checks": 5}}), 400)


def test_an_expired_credential_fails_validity(client, issuer_did) -> None:
    signed = issued(client, example_credential(issuer_did, validUntil="2025-01-02T00:00:00Z"))
    answer = verify(client, signed)
    assert answer.status_code == 400 and result_codes(answer) == {"CREDENTIAL_EXPIRED"}


def test_a_credential_from_elsewhere_with_an_unreachable_status_list_is_not_verified(client) -> None:
    # status checked online: a list that cannot be fetched is a failure, never a silent pass
    key = generate_key_file("Ed25519")
    credential = example_credential(key.controller)
    credential["credentialStatus"] = {
        "id": "http://127.0.0.1:9/lists/1#5",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "5",
        "statusListCredential": "http://127.0.0.1:9/lists/1",  # nothing listens on the discard port
    }
    answer = verify(client, sign_document(credential, key))
    assert answer.status_code == 400
    assert result_codes(answer) == {"STATUS_RETRIEVAL_ERROR"}


@pytest.mark.parametrize(
    ("body", "word"),
    [
        ({}, "verifiableCredential"),
        ({"credential": {}}, "credential"),
        ({"verifiableCredential": {}, "options": {"domain": 7}}, "domain"),
        ({"verifiableCredential": {}, "options": {"returnCredential": "yes"}}, "returnCredential"),
        ({"verifiableCredential": {}, "options": {"unknown": 1}}, "unknown"),
        ({"verifiableCredential": {}, "options": []}, "options"),
    ],
)
def test_unreadable_verify_requests_are_problems(client, body, word) -> None:
    problem = assert_problem(client.post("/credentials/verify", json=body), 400, "PARSING_ERROR")
    assert word in problem["detail"]


def test_a_non_object_credential_is_400_not_verified(client) -> None:
    answer = client.post("/credentials/verify", json={"verifiableCredential": [1, 2]})
    assert answer.status_code == 400 and answer.json()["verified"] is False


# -- presentations -------------------------------------------------------------------------------------------


def presentation(credentials: list[dict[str, Any]], *, holder: str | None = HOLDER.controller) -> dict[str, Any]:
    vp: dict[str, Any] = {"@context": [VC_V2], "type": ["VerifiablePresentation"], "verifiableCredential": credentials}
    if holder is not None:
        vp["holder"] = holder
    return vp


def signed_presentation(credentials: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
    return sign_document(presentation(credentials), HOLDER, proof_purpose="authentication", challenge=CHALLENGE, domain=DOMAIN, **kwargs)


def verify_vp(client, vp: dict[str, Any], **options: Any) -> Any:
    return client.post("/presentations/verify", json={"verifiablePresentation": vp, "options": {"challenge": CHALLENGE, "domain": DOMAIN, **options}})


def test_a_signed_presentation_with_credentials_verifies(client, issuer_did) -> None:
    credentials = [issued(client, example_credential(issuer_did)) for _ in range(2)]
    answer = verify_vp(client, signed_presentation(credentials))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["verified"] is True
    assert {c["check"]: c["outcome"] for c in body["checks"]} == {"format": "passed", "presentationProof": "passed", "holder": "passed"}
    assert [r["verified"] for r in body["credentialResults"]] == [True, True]


def test_the_presentation_proof_must_answer_the_challenge_and_domain(client, issuer_did) -> None:
    vp = signed_presentation([issued(client, example_credential(issuer_did))])
    wrong_challenge = verify_vp(client, vp, challenge="another-challenge")
    assert wrong_challenge.status_code == 400 and "INVALID_CHALLENGE_ERROR" in result_codes(wrong_challenge)
    wrong_domain = verify_vp(client, vp, domain="other.example")
    assert wrong_domain.status_code == 400 and "INVALID_DOMAIN_ERROR" in result_codes(wrong_domain)


def test_an_assertion_proof_is_not_an_authentication(client, issuer_did) -> None:
    vp = sign_document(presentation([issued(client, example_credential(issuer_did))]), HOLDER, challenge=CHALLENGE, domain=DOMAIN)
    answer = verify_vp(client, vp)
    assert answer.status_code == 400 and "MISMATCHED_PROOF_PURPOSE_ERROR" in result_codes(answer)


def test_a_presentation_signed_by_someone_other_than_its_holder_fails(client, issuer_did) -> None:
    vp = presentation([issued(client, example_credential(issuer_did))], holder="did:example:not-the-signer")
    vp = sign_document(vp, HOLDER, proof_purpose="authentication", challenge=CHALLENGE, domain=DOMAIN)
    answer = verify_vp(client, vp)
    assert answer.status_code == 400 and "ISSUER_MISMATCH" in result_codes(answer)


def test_a_revoked_credential_inside_fails_the_presentation(client, issuer_did) -> None:
    good, revoked = issued(client, example_credential(issuer_did)), issued(client, example_credential(issuer_did))
    assert set_status(client, revoked["id"], "revocation").status_code == 200
    answer = verify_vp(client, signed_presentation([good, revoked]))
    assert answer.status_code == 400
    body = answer.json()
    assert [r["verified"] for r in body["credentialResults"]] == [True, False]
    assert any(e["code"] == "CREDENTIAL_REVOKED" and e["detail"].startswith("verifiableCredential[1]") for e in body["errors"])


def test_an_unsigned_presentation_is_checked_only_without_a_challenge(client, issuer_did) -> None:
    vp = presentation([issued(client, example_credential(issuer_did))])
    with_challenge = verify_vp(client, vp)
    assert with_challenge.status_code == 400 and "CRYPTOGRAPHIC_SECURITY_ERROR" in result_codes(with_challenge)
    without = client.post("/presentations/verify", json={"presentation": vp})
    assert without.status_code == 200, without.text
    assert {c["check"]: c["outcome"] for c in without.json()["checks"]}["presentationProof"] == "skipped"


def test_a_tampered_presentation_fails(client, issuer_did) -> None:
    vp = signed_presentation([issued(client, example_credential(issuer_did))])
    tampered = copy.deepcopy(vp)
    tampered["holder"] = "did:example:mallory"
    answer = verify_vp(client, tampered)
    assert answer.status_code == 400 and "PROOF_VERIFICATION_ERROR" in result_codes(answer)


@pytest.mark.parametrize(
    "vp",
    [
        {"@context": [VC_V2], "type": ["VerifiableCredential"]},
        {"type": ["VerifiablePresentation"]},
        {"@context": [VC_V2], "type": ["VerifiablePresentation"], "verifiableCredential": ["https://credentials.example/1"]},
        {"@context": [VC_V2], "type": ["VerifiablePresentation"], "verifiableCredential": [{"@context": VC_V2, "type": "EnvelopedVerifiableCredential", "id": "data:application/vc+jwt,eyJ"}]},
    ],
    ids=["not-a-presentation", "no-context", "credential-as-url", "enveloped"],
)
def test_malformed_presentations_are_400(client, vp) -> None:
    answer = client.post("/presentations/verify", json={"verifiablePresentation": vp})
    assert answer.status_code == 400 and answer.json()["verified"] is False


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"evidence": {}}, "each evidence entry must be an object with a type"),
        ({"termsOfUse": [{"id": "urn:x"}]}, "each termsOfUse entry"),
        ({"refreshService": {"id": "https://example.com/r"}}, "each refreshService entry"),
        ({"credentialSchema": {"type": "JsonSchema"}}, "credentialSchema entry must have an id"),
        ({"relatedResource": [{"id": "urn:a"}]}, "digestSRI or a digestMultibase"),
        ({"validUntil": "2024-01-01T00:00:00Z"}, "is before validFrom"),
    ],
)
def test_data_model_rules_apply_at_issue_and_at_verify_whatever_the_checks(client, issuer_did, extra, message) -> None:
    body = assert_problem(issue(client, example_credential(issuer_did, **extra)), 400, "MALFORMED_VALUE_ERROR")
    assert message in body["detail"]
    key = generate_key_file("Ed25519")
    signed = sign_document(example_credential(key.controller, **extra), key)  # signed elsewhere, without those checks
    for checks in (["proof"], None):
        answer = verify(client, signed, checks=checks) if checks else verify(client, signed)
        assert answer.status_code == 400, answer.text
        assert any(message in e["detail"] and e["code"] == "MALFORMED_VALUE_ERROR" for e in answer.json()["errors"])
