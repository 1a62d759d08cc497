"""The VC API service with VC-JOSE-COSE: issue as an EnvelopedVerifiableCredential, verify one (alone or in a presentation)."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "service"))

from jwcrypto import jwk, jws  # noqa: E402
from perseus.issuer.keyfile import generate_key_file  # noqa: E402
from perseus.verifier.jose import data_url_token, enveloped_credential, parse_jwt  # noqa: E402
from perseus_service_fixtures import (  # noqa: E402, F401 - fixtures
    VC_V2,
    assert_problem,
    clean_env,
    example_credential,
    issue,
    issued,
    set_status,
    shared_client,
    shared_service,
    verify,
)

JWT = {"envelope": "application/vc+jwt"}


@pytest.fixture
def service_db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'perseus.db'}"


@pytest.fixture(scope="module")
def client(shared_client: Any) -> Any:
    return shared_client


@pytest.fixture(scope="module")
def issuer_did(shared_service: Any) -> str:
    return str(shared_service.profiles.all()[0].issuer)


def codes(response: Any) -> set[str]:
    return {e["code"] for e in response.json()["errors"]}


def test_issue_as_vc_jwt_then_verify_then_revoke(client: Any, issuer_did: str) -> None:
    credential = example_credential(issuer_did)
    envelope = issued(client, credential, options=JWT)
    assert envelope["type"] == "EnvelopedVerifiableCredential" and envelope["id"].startswith("data:application/vc+jwt,")
    parsed = parse_jwt(data_url_token(envelope["id"]))
    assert parsed.header["typ"] == "vc+jwt" and parsed.header["kid"].startswith(issuer_did)
    payload = parsed.payload
    assert payload["issuer"] == issuer_did and payload["credentialSubject"] == credential["credentialSubject"]
    assert {e["statusPurpose"] for e in payload["credentialStatus"]} == {"revocation", "suspension"}
    answer = verify(client, envelope)
    assert answer.status_code == 200, answer.text
    assert answer.json()["verified"] is True
    assert {c["check"]: c["outcome"] for c in answer.json()["checks"]}["status"] == "passed"  # read from its own lists
    assert set_status(client, credential["id"], "revocation").status_code == 200
    revoked = verify(client, envelope)
    assert revoked.status_code == 400 and "CREDENTIAL_REVOKED" in codes(revoked)


def test_envelope_option_refusals(client: Any, issuer_did: str) -> None:
    assert_problem(issue(client, example_credential(issuer_did), options={**JWT, "cryptosuite": "eddsa-rdfc-2022"}), 400)
    assert_problem(issue(client, example_credential(issuer_did), options={"envelope": "application/vc+cose"}), 400)


def test_tampered_envelope_is_400(client: Any, issuer_did: str) -> None:
    envelope = issued(client, example_credential(issuer_did), options=JWT)
    header, payload, signature = data_url_token(envelope["id"]).split(".")
    changed = parse_jwt(data_url_token(envelope["id"])).payload
    changed["credentialSubject"]["name"] = "Mallory Ltd"
    body = base64.urlsafe_b64encode(json.dumps(changed).encode()).rstrip(b"=").decode()
    answer = verify(client, {**envelope, "id": f"data:application/vc+jwt,{header}.{body}.{signature}"})
    assert answer.status_code == 400 and "PROOF_VERIFICATION_ERROR" in codes(answer)
    assert verify(client, {**envelope, "id": "data:application/json,{}"}).status_code == 400
    assert verify(client, {**envelope, "@context": "https://example.com/"}).status_code == 400
    # properties beside the JWT are not secured by it: refused, never reported as verified
    for extra in ({"issuer": "did:example:mallory"}, {"credentialSubject": {"name": "Mallory"}}, {"proof": {}}):
        answer = verify(client, {**envelope, **extra})
        assert answer.status_code == 400 and "outside what its JWT secures" in answer.text


def test_a_jwt_naming_the_services_did_signed_by_another_key_is_refused(client: Any, issuer_did: str) -> None:
    mallory = generate_key_file("Ed25519")
    token = jws.JWS(json.dumps(example_credential(issuer_did)).encode())
    token.add_signature(jwk.JWK(**mallory.secret_key.to_jwk()), alg="EdDSA", protected=json.dumps({"alg": "EdDSA", "kid": mallory.id, "typ": "vc+jwt"}))
    answer = verify(client, enveloped_credential(token.serialize(compact=True)))
    assert answer.status_code == 400 and "ISSUER_MISMATCH" in codes(answer)


def test_a_presentation_with_an_enveloped_credential(client: Any, issuer_did: str) -> None:
    envelope = issued(client, example_credential(issuer_did), options=JWT)
    vp = {"@context": [VC_V2], "type": ["VerifiablePresentation"], "verifiableCredential": [envelope]}
    answer = client.post("/presentations/verify", json={"verifiablePresentation": vp})
    assert answer.status_code == 200, answer.text
    broken = {**vp, "verifiableCredential": [{**envelope, "id": envelope["id"][:-4] + "AAAA"}]}
    assert client.post("/presentations/verify", json={"verifiablePresentation": broken}).status_code == 400


def test_an_enveloped_presentation(client: Any, issuer_did: str) -> None:
    holder = generate_key_file("P-256")
    envelope = issued(client, example_credential(issuer_did), options=JWT)
    vp = {"@context": [VC_V2], "type": ["VerifiablePresentation"], "holder": holder.controller, "verifiableCredential": [envelope],
          "nonce": "n-123", "aud": "bank.example"}
    token = jws.JWS(json.dumps(vp).encode())
    token.add_signature(jwk.JWK(**holder.secret_key.to_jwk()), alg="ES256", protected=json.dumps({"alg": "ES256", "kid": holder.id, "typ": "vp+jwt"}))
    enveloped_vp = enveloped_credential(token.serialize(compact=True), "application/vp+jwt")
    assert enveloped_vp["type"] == "EnvelopedVerifiablePresentation"

    def post(document: Any, **options: Any) -> Any:
        return client.post("/presentations/verify", json={"verifiablePresentation": document, "options": options})

    answer = post(enveloped_vp, challenge="n-123", domain="bank.example")
    assert answer.status_code == 200, answer.text
    assert {c["check"] for c in answer.json()["checks"]} >= {"format", "presentationProof", "holder"}
    assert "INVALID_CHALLENGE_ERROR" in codes(post(enveloped_vp, challenge="other"))
    assert post({**enveloped_vp, "holder": "did:example:x"}).status_code == 400  # outside the JWT
    assert post({**enveloped_vp, "id": enveloped_vp["id"].replace("vp+jwt", "vc+jwt", 1)}).status_code == 400
    # a credential inside that does not verify fails the presentation
    bad = {**vp, "verifiableCredential": [{**envelope, "id": envelope["id"][:-4] + "AAAA"}]}
    token = jws.JWS(json.dumps(bad).encode())
    token.add_signature(jwk.JWK(**holder.secret_key.to_jwk()), alg="ES256", protected=json.dumps({"alg": "ES256", "kid": holder.id, "typ": "vp+jwt"}))
    assert post(enveloped_credential(token.serialize(compact=True), "application/vp+jwt")).status_code == 400
