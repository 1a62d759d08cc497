"""VC-JOSE-COSE (vc+jwt): issue with `sign_jwt`, verify with `verify_jwt`, and every refusal the allow-list promises."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jwcrypto import jwk, jws

from perseus.issuer.jose_signing import sign_jwt
from perseus.issuer.keyfile import KeyFile, generate_key_file, write_key_file
from perseus.verifier.cli import main
from perseus.verifier.errors import PerseusError, ProofError
from perseus.verifier.jose import (
    JoseError,
    data_url_token,
    enveloped_credential,
    parse_jwt,
    verify_jwt,
    verify_presentation_jwt,
)

V2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"


def credential(issuer: str, **extra: Any) -> dict[str, Any]:
    return {
        "@context": [V2, EXAMPLES],
        "id": "urn:uuid:5f1f4a4e-9a52-4a4c-9d3c-0c7f0a3e1d11",
        "type": ["VerifiableCredential", "ExampleAlumniCredential"],
        "issuer": issuer,
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:alice", "name": "Alice"},
        **extra,
    }


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(key: KeyFile, header: dict[str, Any], payload: dict[str, Any]) -> str:
    """A JWS with exactly this header, signed with `key` as jwcrypto would (for tokens `sign_jwt` refuses to make)."""
    token = jws.JWS(json.dumps(payload).encode())
    token.add_signature(jwk.JWK(**key.secret_key.to_jwk()), alg=header["alg"], protected=json.dumps(header))
    return str(token.serialize(compact=True))


def codes(result: Any) -> set[str]:
    return {p.code for p in result.errors}


@pytest.fixture(scope="module")
def ed_key() -> KeyFile:
    return generate_key_file("Ed25519")


@pytest.mark.parametrize("key_type, alg", [("Ed25519", "EdDSA"), ("P-256", "ES256"), ("P-384", "ES384")])
def test_round_trip_for_each_key_type(key_type: str, alg: str) -> None:
    key = generate_key_file(key_type)  # type: ignore[arg-type]
    token = sign_jwt(credential(key.controller), key)
    parsed = parse_jwt(token)
    assert parsed.header == {"alg": alg, "kid": key.id, "typ": "vc+jwt", "cty": "vc"}
    assert parsed.payload == credential(key.controller)  # the payload is the credential itself, no `vc` claim
    result = verify_jwt(token)
    assert result.verified, result.report()
    assert [c.check for c in result.checks] == ["format", "proof", "issuer", "validity"]


def test_fully_specified_ed25519_alg_is_accepted(ed_key: KeyFile) -> None:
    token = sign_jwt(credential(ed_key.controller), ed_key, alg="Ed25519")
    assert verify_jwt(token).verified


def test_alg_none_is_refused(ed_key: KeyFile) -> None:
    header = b64(json.dumps({"alg": "none", "kid": ed_key.id, "typ": "vc+jwt"}).encode())
    payload = b64(json.dumps(credential(ed_key.controller)).encode())
    # with an empty signature (the RFC 7519 unsecured form) it is not even a JWS we read
    assert not verify_jwt(f"{header}.{payload}.").verified
    result = verify_jwt(f"{header}.{payload}.{b64(b'x' * 64)}")
    assert not result.verified
    assert "INVALID_PROOF_CONFIGURATION" in codes(result)
    assert "unsecured" in result.report()


def test_hmac_with_the_public_key_as_secret_is_refused(ed_key: KeyFile) -> None:
    # The classic forgery: HS256 keyed with the issuer's public key, which every verifier knows.
    public = ed_key.public_key.to_jwk()
    for secret in (base64.urlsafe_b64decode(public["x"] + "=="), json.dumps(public).encode(), ed_key.public_key.multibase().encode()):
        token = jws.JWS(json.dumps(credential(ed_key.controller)).encode())
        token.add_signature(jwk.JWK(kty="oct", k=b64(secret)), alg="HS256", protected=json.dumps({"alg": "HS256", "kid": ed_key.id, "typ": "vc+jwt"}))
        result = verify_jwt(token.serialize(compact=True))
        assert not result.verified
        assert "INVALID_PROOF_CONFIGURATION" in codes(result)
        assert "HMAC" in result.report()


def test_iss_must_match_the_issuer(ed_key: KeyFile) -> None:
    header = {"alg": "EdDSA", "kid": ed_key.id, "typ": "vc+jwt"}
    right = forge(ed_key, header, {**credential(ed_key.controller), "iss": ed_key.controller})
    assert verify_jwt(right).verified
    wrong = forge(ed_key, header, {**credential(ed_key.controller), "iss": "did:example:mallory"})
    result = verify_jwt(wrong)
    assert not result.verified and "ISSUER_MISMATCH" in codes(result)
    in_header = forge(ed_key, {**header, "iss": "did:example:mallory"}, credential(ed_key.controller))
    assert "ISSUER_MISMATCH" in codes(verify_jwt(in_header))


def test_a_key_not_the_issuers_fails_the_issuer_check(ed_key: KeyFile) -> None:
    other = generate_key_file("Ed25519")
    token = forge(ed_key, {"alg": "EdDSA", "kid": ed_key.id, "typ": "vc+jwt"}, credential(other.controller))
    result = verify_jwt(token)
    assert not result.verified
    assert [c.outcome for c in result.checks if c.check in ("proof", "issuer")] == ["passed", "failed"]
    # without the issuer check (the VC API default) it is a warning, not a pass in silence
    lenient = verify_jwt(token, checks="proof,validity")
    assert lenient.verified and {w.code for w in lenient.warnings} == {"ISSUER_MISMATCH"}


def test_expired_credential_and_expired_jwt(ed_key: KeyFile) -> None:
    expired = sign_jwt(credential(ed_key.controller, validUntil="2024-06-01T00:00:00Z"), ed_key)
    result = verify_jwt(expired)
    assert not result.verified and "CREDENTIAL_EXPIRED" in codes(result)
    now = datetime(2025, 1, 1, tzinfo=UTC)
    header = {"alg": "EdDSA", "kid": ed_key.id, "typ": "vc+jwt"}
    old_exp = forge(ed_key, header, {**credential(ed_key.controller), "exp": int((now - timedelta(days=1)).timestamp())})
    assert "CREDENTIAL_EXPIRED" in codes(verify_jwt(old_exp, now=now))
    future_nbf = forge(ed_key, header, {**credential(ed_key.controller), "nbf": int((now + timedelta(days=1)).timestamp())})
    assert "CREDENTIAL_NOT_YET_VALID" in codes(verify_jwt(future_nbf, now=now))
    assert verify_jwt(old_exp, now=now - timedelta(days=2)).verified


def test_tampered_payload_fails_the_signature(ed_key: KeyFile) -> None:
    token = sign_jwt(credential(ed_key.controller), ed_key)
    header, _, signature = token.split(".")
    changed = credential(ed_key.controller)
    changed["credentialSubject"]["name"] = "Mallory"
    result = verify_jwt(f"{header}.{b64(json.dumps(changed).encode())}.{signature}")
    assert not result.verified and "PROOF_VERIFICATION_ERROR" in codes(result)
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BA")
    assert not verify_jwt(f"{header}.{token.split('.')[1]}.{flipped}").verified


def test_header_rules(ed_key: KeyFile) -> None:
    payload = credential(ed_key.controller)
    base = {"alg": "EdDSA", "kid": ed_key.id, "typ": "vc+jwt"}
    # the token may not bring its own key, nor demand headers we do not understand
    embedded = forge(ed_key, {**base, "jwk": ed_key.public_key.to_jwk()}, payload)
    assert "MALFORMED_PROOF_ERROR" in codes(verify_jwt(embedded))
    no_kid = forge(ed_key, {"alg": "EdDSA", "typ": "vc+jwt"}, payload)
    assert "INVALID_VERIFICATION_METHOD_URL" in codes(verify_jwt(no_kid))
    wrong_typ = forge(ed_key, {**base, "typ": "vp+jwt"}, payload)
    assert not verify_jwt(wrong_typ).verified
    # an ES384 header cannot be checked with the Ed25519 key its kid names
    header, body, signature = forge(ed_key, base, payload).split(".")
    es384 = b64(json.dumps({**base, "alg": "ES384"}).encode())
    result = verify_jwt(f"{es384}.{body}.{signature}")
    assert not result.verified and "INVALID_PROOF_CONFIGURATION" in codes(result)
    relative = forge(ed_key, {**base, "kid": "#" + ed_key.id.split("#")[1]}, payload)
    assert verify_jwt(relative).verified


def test_payload_gets_the_credential_checks(ed_key: KeyFile) -> None:
    # VC 1.1's context has no @vocab: an undefined term is what strict JSON-LD refuses
    v1 = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiableCredential"],
        "issuer": ed_key.controller,
        "issuanceDate": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:alice"},
    }
    assert verify_jwt(sign_jwt(v1, ed_key)).verified
    # JWT claims are claims, not JSON-LD terms: allowed beside the credential even without @vocab
    claims = {"iss": ed_key.controller, "jti": "urn:uuid:1", "iat": 1700000000, "exp": 4102444800, "sub": "did:example:alice"}
    assert verify_jwt(forge(ed_key, {"alg": "EdDSA", "kid": ed_key.id, "typ": "vc+jwt"}, {**v1, **claims})).verified
    undefined = forge(ed_key, {"alg": "EdDSA", "kid": ed_key.id, "typ": "vc+jwt"}, {**v1, "nmae": "x"})
    result = verify_jwt(undefined)
    assert not result.verified
    assert "nmae" in result.report()
    with pytest.raises(PerseusError):
        sign_jwt({**v1, "nmae": "x"}, ed_key)  # refused before signing too
    no_subject = forge(ed_key, {"alg": "EdDSA", "kid": ed_key.id, "typ": "vc+jwt"}, {k: v for k, v in v1.items() if k != "credentialSubject"})
    assert "MALFORMED_VALUE_ERROR" in codes(verify_jwt(no_subject))


def test_status_is_never_fetched_for_a_token_its_issuer_did_not_sign(ed_key: KeyFile) -> None:
    other = generate_key_file("Ed25519")
    entry = {
        "id": "https://status.example/1#5",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "5",
        "statusListCredential": "https://status.example/1",
    }
    token = forge(ed_key, {"alg": "EdDSA", "kid": ed_key.id, "typ": "vc+jwt"}, credential(other.controller, credentialStatus=entry))
    calls: list[str] = []

    def client(url: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(url)
        raise AssertionError("must not be called")

    result = verify_jwt(token, status_client=client)
    assert not result.verified and calls == []
    assert "STATUS_RETRIEVAL_ERROR" in codes(result)


def test_sign_jwt_refusals(ed_key: KeyFile) -> None:
    with pytest.raises(ProofError, match="belongs to"):
        sign_jwt(credential("did:example:someone-else"), ed_key)
    with pytest.raises(ProofError, match="cannot sign with 'ES256'"):
        sign_jwt(credential(ed_key.controller), ed_key, alg="ES256")
    with pytest.raises(ProofError, match="cannot sign with 'HS256'"):
        sign_jwt(credential(ed_key.controller), ed_key, alg="HS256")


def test_enveloped_credential_round_trip(ed_key: KeyFile) -> None:
    token = sign_jwt(credential(ed_key.controller), ed_key)
    envelope = enveloped_credential(token)
    assert envelope["type"] == "EnvelopedVerifiableCredential"
    assert data_url_token(envelope["id"]) == token
    with pytest.raises(JoseError):
        data_url_token("data:application/json," + token)


def test_vp_jwt_holder_nonce_and_aud(ed_key: KeyFile) -> None:
    inner = enveloped_credential(sign_jwt(credential(ed_key.controller), ed_key))
    vp = {"@context": [V2], "type": ["VerifiablePresentation"], "holder": ed_key.controller, "verifiableCredential": [inner],
          "nonce": "abc", "aud": "https://verifier.example"}
    token = forge(ed_key, {"alg": "EdDSA", "kid": ed_key.id, "typ": "vp+jwt"}, vp)
    assert verify_presentation_jwt(token, challenge="abc", domain="https://verifier.example").verified
    assert "INVALID_CHALLENGE_ERROR" in codes(verify_presentation_jwt(token, challenge="other"))
    assert "INVALID_DOMAIN_ERROR" in codes(verify_presentation_jwt(token, domain="https://elsewhere.example"))
    stranger = generate_key_file("Ed25519")
    not_holder = forge(stranger, {"alg": "EdDSA", "kid": stranger.id, "typ": "vp+jwt"}, vp)
    assert "ISSUER_MISMATCH" in codes(verify_presentation_jwt(not_holder))
    assert not verify_jwt(token).verified  # a presentation is not a credential


@given(st.text(max_size=300))
def test_parse_jwt_only_ever_raises_jose_error(text: str) -> None:
    try:
        parse_jwt(text)
    except JoseError:
        pass
    result = verify_jwt(text)  # never raises for any input
    assert not result.verified


@given(st.dictionaries(st.text(max_size=8), st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8)), max_size=6))
def test_arbitrary_headers_never_verify_and_never_raise(header: dict[str, Any]) -> None:
    token = f"{b64(json.dumps(header).encode())}.{b64(b'{}')}.{b64(b'sig')}"
    assert not verify_jwt(token).verified


# -- the command line ---------------------------------------------------------------------------------------


def test_cli_sign_format_jwt_then_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = generate_key_file("P-256")
    write_key_file(key, tmp_path / "key.json")
    (tmp_path / "vc.json").write_text(json.dumps(credential(key.controller)))
    assert main(["sign", str(tmp_path / "vc.json"), "--key", str(tmp_path / "key.json"), "--format", "jwt", "-o", str(tmp_path / "vc.jwt")]) == 0
    capsys.readouterr()
    assert main(["verify", str(tmp_path / "vc.jwt")]) == 0
    assert "JWS ES256 signature verified" in capsys.readouterr().out
    token = (tmp_path / "vc.jwt").read_text().strip()
    (tmp_path / "enveloped.json").write_text(json.dumps(enveloped_credential(token)))
    assert main(["verify", str(tmp_path / "enveloped.json"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["verified"] is True
    header, payload, signature = token.split(".")
    (tmp_path / "bad.jwt").write_text(f"{header}.{b64(json.dumps(credential('did:example:x')).encode())}.{signature}")
    assert main(["verify", str(tmp_path / "bad.jwt")]) == 1
    (tmp_path / "bad-envelope.json").write_text(json.dumps({**enveloped_credential(token), "id": "data:text/plain," + token}))
    assert main(["verify", str(tmp_path / "bad-envelope.json")]) == 2
    assert "media type" in capsys.readouterr().err
    assert main(["sign", str(tmp_path / "vc.json"), "--key", str(tmp_path / "key.json"), "--format", "jwt", "--challenge", "x"]) == 2


@given(st.from_regex(r"[A-Za-z0-9_-]{1,40}\.[A-Za-z0-9_-]{1,40}\.[A-Za-z0-9_-]{1,40}", fullmatch=True))
def test_data_url_round_trip(token: str) -> None:
    assert data_url_token(enveloped_credential(token)["id"]) == token
    assert data_url_token(enveloped_credential(token, "application/vp+jwt")["id"], ("application/vp+jwt",)) == token


@given(st.text(max_size=200))
def test_data_url_token_only_raises_jose_error(url: str) -> None:
    try:
        data_url_token(url)
    except JoseError:
        pass
