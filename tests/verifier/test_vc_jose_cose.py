"""VC-JOSE-COSE (vc+jwt) in the library and the CLI: sign, verify, and every refusal with its reason.

The attacks JWT verifiers have fallen for are each a test: ``alg: none``, an HMAC keyed with the
issuer's public key, an algorithm that does not fit the key, a ``kid`` that does not resolve, an ``iss``
other than the issuer, a signature by another key, a changed payload. The checks after the signature are
the Data Integrity ones (validity, shapes, strict JSON-LD), run on the payload.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest

from perseus.issuer.keyfile import KeyFile, generate_key_file, write_key_file
from perseus.verifier.cli import main
from perseus.verifier.errors import PerseusError
from perseus.verifier.jose import MEDIA_TYPE, sign_credential_jwt, verify_credential_jwt

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "credentials"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _credential(issuer: str, **extra: Any) -> dict[str, Any]:
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:5e3a3c1e-0000-4000-8000-000000000001",
        "type": ["VerifiableCredential", "ExampleMeterCredential"],
        "issuer": issuer,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:sme-42", "name": "Brightwater Studio"},
    }
    document.update(extra)
    return document


@pytest.fixture(scope="module", params=["Ed25519", "P-256", "P-384"])
def key(request: pytest.FixtureRequest) -> KeyFile:
    return generate_key_file(request.param)


def _tampered(token: str) -> str:
    """`token` with one character in the middle of its signature changed (every bit there is significant)."""
    header, payload, signature = token.split(".")
    i = len(signature) // 2
    return f"{header}.{payload}.{signature[:i]}{'A' if signature[i] != 'A' else 'B'}{signature[i + 1:]}"


def _reason(token: str) -> str:
    result = verify_credential_jwt(token)
    assert not result.verified
    return " ".join(p.detail for p in result.errors)


def _forge(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}.{_b64(signature) if signature else 'AA'}"


def test_a_signed_credential_verifies(key: KeyFile) -> None:
    token = sign_credential_jwt(_credential(key.controller), key.secret_key, key.id)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["typ"] == "vc+jwt" and header["kid"] == key.id
    result = verify_credential_jwt(token)
    assert result.verified, result.report()
    assert [c.check for c in result.checks][:3] == ["format", "proof", "issuer"]


def test_a_changed_payload_or_another_key_is_refused(key: KeyFile) -> None:
    token = sign_credential_jwt(_credential(key.controller), key.secret_key, key.id)
    header, _, signature = token.split(".")
    altered = _b64(json.dumps(_credential(key.controller, validFrom="2020-01-01T00:00:00Z"), separators=(",", ":")).encode())
    assert "does not match" in _reason(f"{header}.{altered}.{signature}")
    other = generate_key_file(key.secret_key.key_type)
    forged = sign_credential_jwt(_credential(key.controller), other.secret_key, key.id)  # claims the issuer's kid
    assert "does not match" in _reason(forged)


def test_alg_none_and_hmac_are_refused(key: KeyFile) -> None:
    payload = _credential(key.controller)
    assert "unsigned token proves nothing" in _reason(_forge({"alg": "none", "kid": key.id, "typ": "vc+jwt"}, payload))
    # The classic confusion attack: an HMAC keyed with the public key the verifier will look up.
    header = {"alg": "HS256", "kid": key.id, "typ": "vc+jwt"}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    mac = hmac.new(key.secret_key.public_key.multibase().encode(), signing_input.encode(), hashlib.sha256).digest()
    assert "HMAC" in _reason(f"{signing_input}.{_b64(mac)}")


def test_header_problems_are_refused_with_a_reason(key: KeyFile) -> None:
    payload = _credential(key.controller)
    wrong_alg = "ES256" if key.secret_key.key_type != "P-256" else "EdDSA"
    assert "needs a" in _reason(_forge({"alg": wrong_alg, "kid": key.id, "typ": "vc+jwt"}, payload))
    assert "no kid" in _reason(_forge({"alg": "EdDSA", "typ": "vc+jwt"}, payload))
    assert "cannot be resolved offline" in _reason(_forge({"alg": "EdDSA", "kid": "did:web:issuer.example#key-1", "typ": "vc+jwt"}, payload))
    assert "typ" in _reason(_forge({"alg": "EdDSA", "kid": key.id, "typ": "vp+jwt"}, payload))
    assert "critical" in _reason(_forge({"alg": "EdDSA", "kid": key.id, "crit": ["b64"], "b64": False}, payload))
    assert "not a compact JWS" in _reason("not.a-token")
    assert "base64url-encoded JSON" in _reason("e30x.e30.AA")


def test_the_issuer_binding_and_iss(key: KeyFile) -> None:
    someone = generate_key_file(key.secret_key.key_type)
    token = sign_credential_jwt(_credential(someone.controller), key.secret_key, key.id)
    result = verify_credential_jwt(token)
    assert not result.verified and any(p.code == "ISSUER_MISMATCH" for p in result.errors)
    assert verify_credential_jwt(token, checks="proof").verified  # signatures only, as with Data Integrity
    # Registered JWT claims next to the credential: checked, then left out of the JSON-LD checks.
    alg = {"Ed25519": "EdDSA", "P-256": "ES256", "P-384": "ES384"}[key.secret_key.key_type]
    header = {"alg": alg, "kid": key.id, "typ": "vc+jwt"}
    good = _sign_raw(header, {**_credential(key.controller), "iss": key.controller, "iat": 1735689600}, key)
    assert verify_credential_jwt(good).verified, verify_credential_jwt(good).report()
    assert "iss claim" in _reason(_sign_raw(header, {**_credential(key.controller), "iss": "did:example:someone-else"}, key))
    assert "expired" in _reason(_sign_raw(header, {**_credential(key.controller), "exp": 1577836800}, key))
    assert "not valid before" in _reason(_sign_raw(header, {**_credential(key.controller), "nbf": 4102444800}, key))


def _sign_raw(header: dict[str, Any], payload: dict[str, Any], key: KeyFile) -> str:
    """A JWS made with jwcrypto directly: payloads sign_credential_jwt would not make (JWT claims)."""
    from jwcrypto import jwk, jws

    token = jws.JWS(json.dumps(payload).encode())
    token.add_signature(jwk.JWK(**key.secret_key.to_jwk()), alg=header["alg"], protected=json.dumps(header))
    return str(token.serialize(compact=True))


def test_the_credential_checks_run_on_the_payload(key: KeyFile) -> None:
    expired = sign_credential_jwt(_credential(key.controller, validUntil="2025-06-01T00:00:00Z"), key.secret_key, key.id)
    result = verify_credential_jwt(expired)
    assert not result.verified and any(p.code == "CREDENTIAL_EXPIRED" for p in result.errors)
    typo = _credential(key.controller, credentialSubject={"id": "did:example:1", "nmae": "typo"})
    typo["@context"] = typo["@context"][:1]  # without the examples context's @vocab, which would define anything
    typo["type"] = ["VerifiableCredential"]
    with pytest.raises(PerseusError, match="nmae"):
        sign_credential_jwt(typo, key.secret_key, key.id)


def test_a_perseus_credential_as_a_jwt_gets_its_shape_checked() -> None:
    key = generate_key_file("P-256")
    document = json.loads((EXAMPLES / "tariff-economy7.json").read_text(encoding="utf-8"))
    del document["proof"]
    document["issuer"] = key.controller
    token = sign_credential_jwt(document, key.secret_key, key.id)
    result = verify_credential_jwt(token, shapes=True)
    assert result.verified, result.report()
    assert {c.check: c.outcome for c in result.checks}["shape"] == "passed"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_sign_and_verify_a_jwt(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = generate_key_file("Ed25519")
    key_path = tmp_path / "key.json"
    write_key_file(key, key_path)
    source = tmp_path / "credential.json"
    source.write_text(json.dumps(_credential(key.controller)), encoding="utf-8")
    token_path = tmp_path / "credential.jwt"
    code, _, err = run(capsys, "sign", str(source), "--key", str(key_path), "--format", "jwt", "-o", str(token_path))
    assert code == 0, err
    token = token_path.read_text(encoding="utf-8").strip()
    assert token.count(".") == 2
    code, out, _ = run(capsys, "verify", str(token_path))
    assert code == 0 and "JOSE signature verified (EdDSA, vc+jwt)" in out, out
    enveloped = tmp_path / "enveloped.json"
    enveloped.write_text(json.dumps({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "EnvelopedVerifiableCredential",
                                     "id": f"data:{MEDIA_TYPE},{token}"}), encoding="utf-8")
    code, out, _ = run(capsys, "verify", str(enveloped), "--json")
    assert code == 0 and json.loads(out)["verified"] is True
    token_path.write_text(_tampered(token), encoding="utf-8")
    code, out, _ = run(capsys, "verify", str(token_path))
    assert code == 1 and "does not match" in out
    code, _, err = run(capsys, "sign", str(source), "--key", str(key_path), "--format", "jwt", "--suite", "eddsa-rdfc-2022")
    assert code == 2 and "--suite" in err


def test_the_service_verifies_an_enveloped_jwt(tmp_path: Path) -> None:
    import sys

    from starlette.testclient import TestClient

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))
    from perseus.issuer.service import create_app
    from perseus_service_fixtures import make_service

    state = make_service(tmp_path / "data", f"sqlite:///{tmp_path / 'perseus.db'}")
    key = generate_key_file("P-256")
    token = sign_credential_jwt(_credential(key.controller), key.secret_key, key.id)

    def envelope(jwt: str) -> dict[str, Any]:
        return {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "EnvelopedVerifiableCredential", "id": f"data:{MEDIA_TYPE},{jwt}"}

    try:
        with TestClient(create_app(state=state), raise_server_exceptions=False) as client:
            answer = client.post("/credentials/verify", json={"verifiableCredential": envelope(token)})
            assert answer.status_code == 200 and answer.json()["verified"] is True, answer.text
            answer = client.post("/credentials/verify", json={"verifiableCredential": envelope(_tampered(token))})
            assert answer.status_code == 400 and answer.json()["verified"] is False
            assert "JWT" in answer.text
    finally:
        state.close()
