"""JWE to the recipient: ECDH-ES+A256KW with A256GCM only; wrong keys, downgrades and 'none' are refused."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from hypothesis import given, settings
from hypothesis import strategies as st
from perseus.verifier.did_key import resolve_did_key
from perseus.verifier.encryption import ALG, ENC, EncryptionError, decrypt, encrypt_for, key_agreement_key, private_key_agreement_key
from perseus.verifier.keys import SecretKey
from perseus.verifier.presentation import open_presentation
from permission_fixtures import Parties, month_of_data, parties, request, terms  # noqa: F401


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _with_header(token: str, **changes: object) -> str:
    parts = token.split(".")
    header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    header.update(changes)
    header = {k: v for k, v in header.items() if v is not None}
    return ".".join([_b64(json.dumps(header).encode()), *parts[1:]])


@pytest.mark.parametrize("key_type", ["Ed25519", "P-256"])
def test_round_trip_to_a_did_key(key_type: str) -> None:
    secret = SecretKey.generate(key_type)  # type: ignore[arg-type]
    did = f"did:key:{secret.public_key.multibase()}"
    token = encrypt_for({"hello": "bank"}, did, kid=did)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert (header["alg"], header["enc"]) == (ALG, ENC)
    assert decrypt(token, secret) == {"hello": "bank"}


def test_the_x25519_key_derived_from_an_ed25519_did_matches_its_secret() -> None:
    secret = SecretKey.generate("Ed25519")
    public = key_agreement_key(f"did:key:{secret.public_key.multibase()}")
    assert isinstance(public, x25519.X25519PublicKey)
    assert private_key_agreement_key(secret).public_key().public_bytes_raw() == public.public_bytes_raw()


def test_keys_from_a_did_document_and_a_jwk() -> None:
    secret = SecretKey.generate("P-256")
    document = resolve_did_key(f"did:key:{secret.public_key.multibase()}")
    method = document["verificationMethod"][0]
    with_agreement = {**document, "keyAgreement": [method["id"]]}
    assert isinstance(key_agreement_key(with_agreement), ec.EllipticCurvePublicKey)
    with pytest.raises(EncryptionError, match="no keyAgreement"):
        key_agreement_key({k: v for k, v in document.items() if k != "keyAgreement"})
    x = x25519.X25519PrivateKey.generate()
    jwk = {"kty": "OKP", "crv": "X25519", "x": _b64(x.public_key().public_bytes_raw())}
    assert decrypt(encrypt_for({"a": 1}, jwk), x) == {"a": 1}


def test_keys_of_the_wrong_type_are_refused() -> None:
    with pytest.raises(EncryptionError, match="P-384"):
        key_agreement_key(SecretKey.generate("P-384").public_key)
    with pytest.raises(EncryptionError, match="P-384"):
        private_key_agreement_key(SecretKey.generate("P-384"))
    with pytest.raises(EncryptionError, match="secp384r1"):
        key_agreement_key(ec.generate_private_key(ec.SECP384R1()).public_key())
    with pytest.raises(EncryptionError, match="X25519 \\(OKP\\) or P-256"):
        key_agreement_key({"kty": "OKP", "crv": "Ed25519", "x": "AAAA"})
    with pytest.raises(EncryptionError, match="not a did:key"):
        key_agreement_key("did:web:bank.example")
    # encrypted to an X25519 key, opened with a P-256 key: refused before any decryption is tried
    token = encrypt_for({"a": 1}, f"did:key:{SecretKey.generate('Ed25519').public_key.multibase()}")
    with pytest.raises(EncryptionError, match="ephemeral key is OKP/X25519"):
        decrypt(token, SecretKey.generate("P-256"))


def test_a_token_for_another_recipient_does_not_open() -> None:
    token = encrypt_for({"a": 1}, f"did:key:{SecretKey.generate('Ed25519').public_key.multibase()}")
    with pytest.raises(EncryptionError, match="does not decrypt"):
        decrypt(token, SecretKey.generate("Ed25519"))


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"alg": "none"}, "'none' is refused"),
        ({"alg": "dir"}, "'dir' is refused"),
        ({"alg": "ECDH-ES+A128KW"}, "ECDH-ES\\+A128KW' is refused"),
        ({"alg": "RSA-OAEP"}, "RSA-OAEP' is refused"),
        ({"alg": "ECDH-ES"}, "'ECDH-ES' is refused"),
        ({"enc": "A128GCM"}, "A128GCM' is refused"),
        ({"enc": "A128CBC-HS256"}, "A128CBC-HS256' is refused"),
        ({"zip": "DEF"}, "compressed"),
        ({"crit": ["exp"]}, "critical"),
    ],
)
def test_algorithm_downgrades_and_none_are_refused(changes: dict[str, object], match: str) -> None:
    secret = SecretKey.generate("Ed25519")
    token = encrypt_for({"a": 1}, f"did:key:{secret.public_key.multibase()}")
    with pytest.raises(EncryptionError, match=match):
        decrypt(_with_header(token, **changes), secret)


def test_a_tampered_header_or_ciphertext_does_not_open() -> None:
    secret = SecretKey.generate("P-256")
    token = encrypt_for({"a": 1}, f"did:key:{secret.public_key.multibase()}")
    with pytest.raises(EncryptionError, match="does not decrypt"):
        decrypt(_with_header(token, kid="someone"), secret)  # the header is authenticated data
    parts = token.split(".")
    parts[3] = _b64(bytes(b ^ 1 for b in base64.urlsafe_b64decode(parts[3] + "==")))
    with pytest.raises(EncryptionError, match="does not decrypt"):
        decrypt(".".join(parts), secret)


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=200))
def test_anything_that_is_not_a_jwe_is_refused_with_a_reason(junk: str) -> None:
    with pytest.raises(EncryptionError):
        decrypt(junk, SecretKey.generate("Ed25519"))


def test_one_call_decrypts_and_verifies(parties: Parties) -> None:
    parties.holder.store(month_of_data(parties.sme, parties.edp, days=1))
    parties.holder.grant(terms(parties.cap.did))
    vp = parties.holder.present(request(parties.cap.did))
    token = encrypt_for(vp, parties.cap.did)
    secret = parties.cap_key.secret_key
    result = open_presentation(token, secret, challenge="challenge-1", domain="https://cap.example", recipient=parties.cap.did)
    assert result.verified, result.report()
    assert result.checks[0].check == "decryption"
    refused = open_presentation(token, SecretKey.generate("Ed25519"), challenge="challenge-1", domain="https://cap.example")
    assert not refused.verified and refused.errors[0].code == "ENCRYPTION_ERROR"
