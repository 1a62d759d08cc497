"""The checks `verify_credential` runs, each failure with its own code and a sentence a person can act on."""

from __future__ import annotations

import copy
from datetime import datetime, timezone

import pytest

from perseus.issuer.keyfile import KeyFile, generate_key_file
from perseus.issuer.signing import sign_document
from perseus.verifier.proofs import ProofExpectations
from perseus.verifier.verify import verify_credential


@pytest.fixture(scope="module")
def key() -> KeyFile:
    return generate_key_file("Ed25519")


def _credential(issuer: str, **extra: object) -> dict:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "type": ["VerifiableCredential", "ExampleCredential"],
        "issuer": issuer,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:sme", "claim": "x"},
        **extra,
    }


def _codes(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [p.code for p in result.errors]


def test_verified_credential_passes_every_check(key: KeyFile) -> None:
    result = verify_credential(sign_document(_credential(key.controller), key))
    assert result.verified
    assert [c.check for c in result.checks] == ["format", "proof", "issuer", "validity"]
    assert all(c.outcome == "passed" for c in result.checks)


def test_expired_and_not_yet_valid_have_their_own_codes(key: KeyFile) -> None:
    doc = sign_document(_credential(key.controller, validUntil="2026-01-01T00:00:00Z"), key)
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    result = verify_credential(doc, now=now)
    assert not result.verified and _codes(result) == ["CREDENTIAL_EXPIRED"]
    assert "expired at 2026-01-01T00:00:00Z" in result.errors[0].detail
    early = verify_credential(doc, now=datetime(2024, 1, 1, tzinfo=timezone.utc))
    assert _codes(early) == ["CREDENTIAL_NOT_YET_VALID"]
    assert verify_credential(doc, now=datetime(2025, 6, 1, tzinfo=timezone.utc)).verified


def test_dates_without_timezone_are_malformed(key: KeyFile) -> None:
    result = verify_credential(_credential(key.controller, validFrom="2025-01-01T00:00:00"), checks="validity")
    assert "MALFORMED_VALUE_ERROR" in _codes(result)
    assert any("has no timezone" in p.detail for p in result.errors)


def test_unsigned_credential_is_not_secured(key: KeyFile) -> None:
    result = verify_credential(_credential(key.controller))
    assert "CRYPTOGRAPHIC_SECURITY_ERROR" in _codes(result)


def test_missing_issuer_and_empty_subject_are_malformed(key: KeyFile) -> None:
    doc = _credential(key.controller)
    del doc["issuer"]
    doc["credentialSubject"] = {}
    result = verify_credential(doc, checks="proof")
    details = " ".join(p.detail for p in result.errors)
    assert "no issuer" in details and "credentialSubject" in details


def test_wrong_proof_purpose(key: KeyFile) -> None:
    doc = sign_document(_credential(key.controller), key, proof_purpose="authentication")
    assert "MISMATCHED_PROOF_PURPOSE_ERROR" in _codes(verify_credential(doc))


def test_domain_and_challenge(key: KeyFile) -> None:
    doc = sign_document(_credential(key.controller), key, domain="bank.example", challenge="c-123")
    ok = ProofExpectations(domain="bank.example", challenge="c-123")
    assert verify_credential(doc, expect=ok).verified
    assert "INVALID_DOMAIN_ERROR" in _codes(verify_credential(doc, expect=ProofExpectations(domain="other.example")))
    assert "INVALID_CHALLENGE_ERROR" in _codes(verify_credential(doc, expect=ProofExpectations(challenge="c-999")))


@pytest.mark.parametrize(
    "change,code",
    [
        (lambda p: p.update(cryptosuite="rsa-2048"), "PROOF_VERIFICATION_ERROR"),
        (lambda p: p.update(type="Ed25519Signature2018"), "PROOF_VERIFICATION_ERROR"),  # a type we do not check
        # a legacy type we do check, but with a DataIntegrityProof's cryptosuite: malformed
        (lambda p: p.update(type="Ed25519Signature2020"), "MALFORMED_PROOF_ERROR"),
        (lambda p: (p.update(type="Ed25519Signature2020"), p.pop("cryptosuite")), "PROOF_VERIFICATION_ERROR"),  # signature no longer matches
        (lambda p: p.update(proofValue="uAAAA"), "MALFORMED_PROOF_ERROR"),
        (lambda p: p.pop("proofPurpose"), "MALFORMED_PROOF_ERROR"),
        (lambda p: p.update(created="yesterday"), "MALFORMED_PROOF_ERROR"),
        (lambda p: p.update(verificationMethod="did:web:example.com#key-1"), "INVALID_VERIFICATION_METHOD_URL"),
        (lambda p: p.update(verificationMethod=p["verificationMethod"].split("#")[0] + "#other"), "INVALID_VERIFICATION_METHOD_URL"),
        (lambda p: p.update(proofValue="z" + "1" * 80), "PROOF_VERIFICATION_ERROR"),
    ],
)
def test_malformed_proofs_have_specific_codes(key: KeyFile, change, code: str) -> None:  # type: ignore[no-untyped-def]
    doc = sign_document(_credential(key.controller), key)
    change(doc["proof"])
    result = verify_credential(doc)
    assert not result.verified
    assert code in _codes(result), result.report()


def test_key_of_the_wrong_type_for_the_suite(key: KeyFile) -> None:
    p256 = generate_key_file("P-256")
    doc = sign_document(_credential(p256.controller), p256)
    doc["proof"]["cryptosuite"] = "eddsa-rdfc-2022"
    result = verify_credential(doc)
    assert any("need a key of type Ed25519" in p.detail for p in result.errors)


def test_report_names_what_failed_and_what_to_do(key: KeyFile) -> None:
    other = generate_key_file("Ed25519")
    doc = sign_document(_credential(other.controller), key)
    report = verify_credential(doc).report()
    assert report.splitlines()[0] == "NOT VERIFIED"
    assert "[FAIL] issuer" in report and "--checks proof" in report


def test_verification_never_raises_for_garbage() -> None:
    for garbage in (None, 42, "text", [], {"proof": "x"}, {"@context": 5, "proof": {"type": 1}}, {"@context": ["https://nope.example"], "proof": {}}):
        result = verify_credential(copy.deepcopy(garbage))
        assert not result.verified and result.errors


@pytest.mark.parametrize(
    "extra,message",
    [
        ({"evidence": {}}, "each evidence entry must be an object with a type"),
        ({"termsOfUse": [{"id": "urn:x"}]}, "each termsOfUse entry"),
        ({"refreshService": {"id": "https://example.com/r"}}, "each refreshService entry"),
        ({"credentialSchema": {"id": "https://example.com/s"}}, "each credentialSchema entry"),
        ({"credentialSchema": {"type": "JsonSchema"}}, "credentialSchema entry must have an id"),
        ({"relatedResource": ["https://example.com/r"]}, "must be an object"),
        ({"relatedResource": [{"digestMultibase": "z1"}]}, "must have an id"),
        ({"relatedResource": [{"id": "urn:a", "digestSRI": "sha384-x"}, {"id": "urn:a", "digestSRI": "sha384-y"}]}, "repeats the id"),
        ({"relatedResource": [{"id": "urn:a"}]}, "digestSRI or a digestMultibase"),
        ({"validUntil": "2024-01-01T00:00:00Z"}, "is before validFrom"),
    ],
)
def test_data_model_rules_for_optional_properties(key: KeyFile, extra: dict, message: str) -> None:
    result = verify_credential(_credential(key.controller, **extra), checks="proof")
    assert any(message in p.detail and p.code == "MALFORMED_VALUE_ERROR" for p in result.errors), result.report()


def test_language_and_base_direction_are_signed(key: KeyFile) -> None:
    """VC 2.0 §11.1 language value objects: accepted, and the direction is covered by the signature."""
    doc = _credential(key.controller, name={"@value": "شهادة الطاقة", "@language": "ar", "@direction": "rtl"})
    signed = sign_document(doc, key)
    assert verify_credential(signed).verified
    flipped = copy.deepcopy(signed)
    flipped["name"]["@direction"] = "ltr"
    assert not verify_credential(flipped).verified
