"""The legacy Ed25519Signature2020 suite: verified (never signed with), checked against vc-di-eddsa's vectors.

The vectors (tests/vectors/vc-di-eddsa/TestVectors/Ed25519Signature2020/, used exactly as published):
the canonical document and proof configuration, both hashes, the signature, the signed credential.
Ed25519 is deterministic, so signing the published hash data with the vector key must give the
published signature byte for byte — that pins our hash data, not just a verify that says yes.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from perseus import contexts
from perseus.issuer.keyfile import KeyFile, generate_key_file, read_key_file
from perseus.verifier.errors import ProofError
from perseus.verifier.loader import DocumentLoader
from perseus.verifier.multibase import encode_base58btc
from perseus.verifier.proofs import verify_proofs
from perseus.verifier.suites import ED25519_SIGNATURE_2020, SUITES, get_suite
from perseus.verifier.verify import verify_credential

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "vc-di-eddsa" / "TestVectors"
FOLDER = VECTORS / "Ed25519Signature2020"
CONTEXT_URL = "https://w3id.org/security/suites/ed25519-2020/v1"
WEB_DID = "did:web:legacy.example"


def text(name: str) -> str:
    return (FOLDER / name).read_text(encoding="utf-8")


def signed_vector() -> dict[str, Any]:
    return json.loads(text("signedEdSig.json"))


def test_the_bundled_context_is_the_published_one() -> None:
    # bytes of npm ed25519-signature-2020-context 1.1.0, the file w3id.org's redirect serves
    entry = contexts.find(CONTEXT_URL)
    assert entry is not None and entry.sha256 == "b9e1ab971fd8bf2c7553e0c4a9438e0b9450afde1ea1ca5b2492368b9f549588"
    assert contexts.file_sha256(entry.file) == entry.sha256
    assert "Ed25519Signature2020" in DocumentLoader()(CONTEXT_URL)["@context"]


def test_canonical_forms_hashes_and_signature_match_the_vectors() -> None:
    loader = DocumentLoader()
    signed = signed_vector()
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    config = json.loads(text("proofConfigEdSig.json"))
    canonical_document = ED25519_SIGNATURE_2020.canonicalize(unsigned, loader, "Ed25519")
    canonical_config = ED25519_SIGNATURE_2020.canonicalize(config, loader, "Ed25519")
    assert canonical_document.decode() == text("canonDocEdSig.txt")
    assert canonical_config.decode() == text("proofCanonEdSig.txt")
    assert hashlib.sha256(canonical_document).hexdigest() == text("docHashEdSig.txt").strip()
    assert hashlib.sha256(canonical_config).hexdigest() == text("proofHashEdSig.txt").strip()
    data = ED25519_SIGNATURE_2020.hash_data(canonical_config, canonical_document, "Ed25519")
    assert data.hex() == text("combinedHashEdSig.txt").strip()
    signature = read_key_file(VECTORS / "keyPair.json").secret_key.sign(data)
    assert signature.hex() == text("sigHexEdSig.txt").strip()
    assert encode_base58btc(signature) == text("sigBTC58EdSig.txt").strip() == signed["proof"]["proofValue"]


def test_the_published_credential_verifies_and_its_issuer_is_not_its_signer() -> None:
    proof_only = verify_credential(signed_vector(), checks={"proof"})
    assert proof_only.verified, proof_only.report()
    assert "Ed25519Signature2020" in proof_only.checks[1].summary
    everything = verify_credential(signed_vector())
    assert [c.check for c in everything.checks if c.outcome == "failed"] == ["issuer"]


@pytest.mark.parametrize(
    ("damage", "code"),
    [
        (lambda d: d["credentialSubject"].__setitem__("alumniOf", "Another School"), "PROOF_VERIFICATION_ERROR"),
        (lambda d: d["proof"].__setitem__("created", "2023-02-24T23:36:39Z"), "PROOF_VERIFICATION_ERROR"),
        (lambda d: d["proof"].__setitem__("proofValue", d["proof"]["proofValue"][:-1]), "PROOF_VERIFICATION_ERROR"),
        (lambda d: d["proof"].__setitem__("cryptosuite", "eddsa-rdfc-2022"), "MALFORMED_PROOF_ERROR"),
        (lambda d: d["proof"].pop("created"), "MALFORMED_PROOF_ERROR"),
        (lambda d: d["proof"].__setitem__("proofPurpose", "authentication"), "MISMATCHED_PROOF_PURPOSE_ERROR"),
        (lambda d: d["proof"].__setitem__("type", "Ed25519Signature2018"), "PROOF_VERIFICATION_ERROR"),
    ],
)
def test_a_damaged_legacy_proof_fails(damage: Any, code: str) -> None:
    document = signed_vector()
    damage(document)
    result = verify_credential(document, checks={"proof"})
    assert not result.verified
    assert code in {p.code for p in result.errors}, result.report()


def test_the_legacy_suite_never_signs() -> None:
    assert "Ed25519Signature2020" not in SUITES
    with pytest.raises(ProofError):
        get_suite("Ed25519Signature2020")


# -- verification methods: Ed25519VerificationKey2020 as well as Multikey -------------------------------------


def _web_loader(method: dict[str, Any]) -> DocumentLoader:
    document = {"id": WEB_DID, "verificationMethod": [method], "assertionMethod": [method["id"]]}
    return DocumentLoader().with_did_resolver("web", lambda did: copy.deepcopy(document))


def _legacy_sign(document: dict[str, Any], key: KeyFile, method_id: str, loader: DocumentLoader) -> dict[str, Any]:
    """A test-only Ed25519Signature2020 signer (the library has none): the vector-checked hash data, signed."""
    proof = {"type": "Ed25519Signature2020", "created": "2024-05-01T00:00:00Z", "verificationMethod": method_id, "proofPurpose": "assertionMethod"}
    canonical_config = ED25519_SIGNATURE_2020.canonicalize({**proof, "@context": document["@context"]}, loader, "Ed25519")
    canonical_document = ED25519_SIGNATURE_2020.canonicalize(document, loader, "Ed25519")
    proof["proofValue"] = encode_base58btc(key.secret_key.sign(ED25519_SIGNATURE_2020.hash_data(canonical_config, canonical_document, "Ed25519")))
    return {**document, "proof": proof}


def _credential() -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", CONTEXT_URL],
        "type": ["VerifiableCredential"],
        "issuer": WEB_DID,
        "credentialSubject": {"id": "did:example:sme-7"},
    }


@pytest.mark.parametrize("method_type", ["Ed25519VerificationKey2020", "Multikey"])
def test_a_did_web_ed25519_method_of_either_type_verifies_a_legacy_proof(method_type: str) -> None:
    key = generate_key_file("Ed25519", controller=WEB_DID)
    method = {"id": f"{WEB_DID}#key-1", "type": method_type, "controller": WEB_DID, "publicKeyMultibase": key.public_key.multibase()}
    loader = _web_loader(method)
    signed = _legacy_sign(_credential(), key, method["id"], loader)
    result = verify_credential(signed, loader=loader, checks={"proof", "issuer"})
    assert result.verified, result.report()


def test_a_legacy_proof_refuses_other_method_types_and_a_2020_key_must_be_ed25519() -> None:
    key = generate_key_file("Ed25519", controller=WEB_DID)
    method = {"id": f"{WEB_DID}#key-1", "type": "JsonWebKey2020", "controller": WEB_DID, "publicKeyMultibase": key.public_key.multibase()}
    loader = _web_loader(method)
    outcome = verify_proofs(_legacy_sign(_credential(), key, method["id"], loader), loader=loader)[0]
    assert [p.code for p in outcome.problems] == ["INVALID_VERIFICATION_METHOD"] and "Ed25519VerificationKey2020" in outcome.problems[0].detail
    p256 = generate_key_file("P-256", controller=WEB_DID)
    wrong_curve = {"id": f"{WEB_DID}#key-2", "type": "Ed25519VerificationKey2020", "controller": WEB_DID, "publicKeyMultibase": p256.public_key.multibase()}
    loader = _web_loader(wrong_curve)
    document = _legacy_sign(_credential(), key, wrong_curve["id"], loader)
    outcome = verify_proofs(document, loader=loader)[0]
    assert [p.code for p in outcome.problems] == ["INVALID_VERIFICATION_METHOD"] and "Ed25519" in outcome.problems[0].detail


def test_a_data_integrity_proof_accepts_an_ed25519verificationkey2020_method() -> None:
    from perseus.issuer.signing import sign_document

    key = generate_key_file("Ed25519", controller=WEB_DID)
    method = {"id": key.id, "type": "Ed25519VerificationKey2020", "controller": WEB_DID, "publicKeyMultibase": key.public_key.multibase()}
    loader = _web_loader(method)
    credential = {**_credential(), "@context": ["https://www.w3.org/ns/credentials/v2"]}
    signed = sign_document(credential, key, suite="eddsa-rdfc-2022", loader=loader)
    result = verify_credential(signed, loader=loader, checks={"proof", "issuer"})
    assert result.verified, result.report()
