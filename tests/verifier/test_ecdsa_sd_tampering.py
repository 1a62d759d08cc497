"""A derived ecdsa-sd-2023 proof refuses every alteration, each with a reason a person can act on.

The starting points are the W3C `employ` example's base and derived credentials (their signatures verify,
see test_ecdsa_sd_vectors.py); each test changes one thing a dishonest holder or a man in the middle could
change, and checks both the suite's own verdict (its message) and the verifier's report (never a raise).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import cbor2
import pytest

from perseus.verifier.errors import ProofError
from perseus.verifier.keys import PublicKey
from perseus.verifier.loader import DocumentLoader
from perseus.verifier.multibase import decode_base64url, encode_base64url
from perseus.verifier.suites import ecdsa_sd_2023 as sd
from perseus.verifier.verify import verify_credential

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
SD = VECTORS / "vc-di-ecdsa" / "TestVectors" / "ecdsa-sd-2023"


@pytest.fixture(scope="module")
def loader() -> DocumentLoader:
    citizenship = json.loads((VECTORS / "contexts" / "citizenship-v4rc1.jsonld").read_text(encoding="utf-8"))
    return DocumentLoader({"https://w3id.org/citizenship/v4rc1": citizenship})


@pytest.fixture(scope="module")
def issuer_key() -> PublicKey:
    material = json.loads((SD / "SDKeyMaterial.json").read_text(encoding="utf-8"))
    return PublicKey.from_multibase(material["baseKeyPair"]["publicKeyMultibase"])


@pytest.fixture()
def derived() -> dict[str, Any]:
    return json.loads((SD / "employ" / "derivedRevealDocument.json").read_text(encoding="utf-8"))


@pytest.fixture()
def base() -> dict[str, Any]:
    return json.loads((SD / "employ" / "addSignedSDBase.json").read_text(encoding="utf-8"))


def _refused(document: dict[str, Any], loader: DocumentLoader, issuer_key: PublicKey, *fragments: str) -> str:
    """Assert the suite refuses `document` with a message holding every fragment, and so does the verifier."""
    with pytest.raises(ProofError) as caught:
        sd.verify_derived_proof(document, document["proof"], issuer_key, loader)
    message = caught.value.message
    for fragment in fragments:
        assert fragment in message, message
    result = verify_credential(document, loader=loader, checks="proof")
    assert not result.verified
    assert any(p.check == "proof" and p.code in ("PROOF_VERIFICATION_ERROR", "MALFORMED_PROOF_ERROR") for p in result.errors), result.report()
    return message


def _with_value(document: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """`document` with its derived proof value's components replaced (re-encoded as a valid proof value)."""
    parsed = sd.parse_derived_proof_value(document["proof"]["proofValue"])
    fields = {
        "base_signature": parsed.base_signature,
        "public_key": parsed.public_key,
        "signatures": parsed.signatures,
        "label_map": parsed.label_map,
        "mandatory_indexes": parsed.mandatory_indexes,
    }
    fields.update(changes)
    out = copy.deepcopy(document)
    out["proof"]["proofValue"] = sd.serialize_derived_proof_value(sd.DerivedProofValue(**fields))
    return out


def test_the_untouched_disclosure_verifies(derived: dict[str, Any], loader: DocumentLoader, issuer_key: PublicKey) -> None:
    sd.verify_derived_proof(derived, derived["proof"], issuer_key, loader)


def test_a_changed_disclosed_value_is_refused(derived: dict[str, Any], loader: DocumentLoader, issuer_key: PublicKey) -> None:
    derived["credentialSubject"]["birthCountry"] = "Arcadia"
    message = _refused(derived, loader, issuer_key, "does not match its signature", "a disclosed value was changed")
    assert "Arcadia" in message  # names the statement


def test_a_changed_mandatory_value_is_refused(derived: dict[str, Any], loader: DocumentLoader, issuer_key: PublicKey) -> None:
    derived["validFrom"] = "2018-12-03T00:00:00Z"  # disclosed but not mandatory: covered by a statement signature
    message = _refused(derived, loader, issuer_key)
    # A changed statement may also sort elsewhere among the canonical statements, and so move a mandatory one.
    assert "a disclosed value was changed" in message or "a mandatory claim was changed" in message
    fresh = json.loads((SD / "employ" / "derivedRevealDocument.json").read_text(encoding="utf-8"))
    fresh["issuer"]["image"] = fresh["issuer"]["image"].replace("AAAA", "AAAB", 1)  # mandatory (/issuer)
    _refused(fresh, loader, issuer_key, "issuer's signature", "mandatory claim was changed or removed")


def test_a_removed_mandatory_claim_is_refused(derived: dict[str, Any], loader: DocumentLoader, issuer_key: PublicKey) -> None:
    del derived["issuer"]["image"]
    _refused(derived, loader, issuer_key, "mandatory claim removed")


def test_a_mandatory_statement_dropped_from_the_proof_is_refused(derived: dict[str, Any], loader: DocumentLoader, issuer_key: PublicKey) -> None:
    parsed = sd.parse_derived_proof_value(derived["proof"]["proofValue"])
    # Claim one mandatory statement is "non-mandatory" (with a forged extra signature slot): the hash differs.
    forged = _with_value(derived, mandatory_indexes=parsed.mandatory_indexes[:-1], signatures=parsed.signatures + [parsed.signatures[0]])
    _refused(forged, loader, issuer_key)


def test_removed_or_added_statements_are_refused(derived: dict[str, Any], loader: DocumentLoader, issuer_key: PublicKey) -> None:
    del derived["validUntil"]
    _refused(derived, loader, issuer_key, "added or removed")
    fresh = json.loads((SD / "employ" / "derivedRevealDocument.json").read_text(encoding="utf-8"))
    fresh["credentialSubject"]["givenName"] = "JOHN"  # the true value, but the holder did not get a signature for it here
    _refused(fresh, loader, issuer_key, "added or removed")


def test_a_reordered_signature_list_is_refused(derived: dict[str, Any], loader: DocumentLoader, issuer_key: PublicKey) -> None:
    signatures = sd.parse_derived_proof_value(derived["proof"]["proofValue"]).signatures
    swapped = [signatures[1], signatures[0], *signatures[2:]]
    _refused(_with_value(derived, signatures=swapped), loader, issuer_key, "statement 1 of", "signatures were reordered")


def test_a_swapped_label_map_is_refused(derived: dict[str, Any], loader: DocumentLoader, issuer_key: PublicKey) -> None:
    labels = sd.parse_derived_proof_value(derived["proof"]["proofValue"]).label_map
    swapped = {"c14n0": labels["c14n1"], "c14n1": labels["c14n0"]}
    _refused(_with_value(derived, label_map=swapped), loader, issuer_key)
    _refused(_with_value(derived, label_map={"c14n0": labels["c14n0"]}), loader, issuer_key, "no label for blank node c14n1")


def test_a_wrong_hmac_key_is_refused(base: dict[str, Any], loader: DocumentLoader, issuer_key: PublicKey) -> None:
    parsed = sd.parse_base_proof_value(base["proof"]["proofValue"])
    other = sd.BaseProofValue(parsed.base_signature, parsed.public_key, bytes(32), parsed.signatures, parsed.mandatory_pointers)
    base["proof"]["proofValue"] = sd.serialize_base_proof_value(other)
    selective = ["/validFrom", "/credentialSubject/birthCountry"]
    # The holder's own check refuses to derive from it...
    with pytest.raises(ProofError) as caught:
        sd.derive(base, selective, loader, issuer_key=issuer_key)
    assert caught.value.code == "PROOF_GENERATION_ERROR"
    assert "base proof does not verify" in caught.value.message
    with pytest.raises(ProofError):
        sd.verify_base_proof(base, base["proof"], issuer_key, loader)
    # ...and a disclosure derived without that check fails at the verifier: the labels are not the signed ones.
    revealed = sd.derive(base, selective, loader)
    message = _refused(revealed, loader, issuer_key)
    assert "does not match its signature" in message or "issuer's signature does not cover" in message


def test_altered_proof_options_are_refused(derived: dict[str, Any], loader: DocumentLoader, issuer_key: PublicKey) -> None:
    derived["proof"]["created"] = "2023-08-16T23:36:38Z"
    _refused(derived, loader, issuer_key, "proof options were altered")


def test_a_proof_by_another_issuer_key_is_refused(derived: dict[str, Any], loader: DocumentLoader) -> None:
    other = PublicKey.from_multibase(json.loads((SD / "SDKeyMaterial.json").read_text(encoding="utf-8"))["proofKeyPair"]["publicKeyMultibase"])
    with pytest.raises(ProofError, match="another key signed it"):
        sd.verify_derived_proof(derived, derived["proof"], other, loader)


def _raw_value(payload: bytes) -> str:
    return encode_base64url(payload)


@pytest.mark.parametrize(
    ("proof_value", "fragment"),
    [
        ("z3FXQ", "must start with 'u'"),
        ("u2V0B1", "impossible length"),
        (_raw_value(sd.DERIVED_HEADER + b"\xff"), "not valid CBOR"),
        (_raw_value(b"\xd9\x5d\x07" + cbor2.dumps([])), "header d9 5d 07"),
        (_raw_value(sd.DERIVED_HEADER + cbor2.dumps([b"", b"", [], {}, []])), "64 bytes"),
        (_raw_value(sd.DERIVED_HEADER + cbor2.dumps([1, 2, 3])), "5 components"),
        (_raw_value(sd.DERIVED_HEADER + cbor2.dumps(cbor2.CBORTag(4000, 5))), "CBOR tag 4000"),
        (_raw_value(sd.DERIVED_HEADER + cbor2.dumps([cbor2.CBORTag(1, 5), bytes(35), [], {}, []])), "base signature"),
        (_raw_value(sd.DERIVED_HEADER + cbor2.dumps([bytes(64), bytes(35), [], {}, []]) + b"\x00"), "bytes after"),
        (_raw_value(sd.DERIVED_HEADER + cbor2.dumps([bytes(64), bytes(35), [], {"a": bytes(32)}, []])), "label map"),
        (_raw_value(sd.DERIVED_HEADER + cbor2.dumps([bytes(64), bytes(35), [], {}, [True]])), "mandatoryIndexes"),
    ],
    ids=["base58", "truncated", "bad-cbor", "unknown-header", "short-signature", "three-components", "tagged", "date-tag", "trailing", "string-label-key", "bool-index"],
)
def test_malformed_proof_values_are_refused_with_a_reason(
    derived: dict[str, Any], loader: DocumentLoader, issuer_key: PublicKey, proof_value: str, fragment: str
) -> None:
    derived["proof"]["proofValue"] = proof_value
    with pytest.raises(ProofError) as caught:
        sd.verify_derived_proof(derived, derived["proof"], issuer_key, loader)
    assert fragment in caught.value.message
    result = verify_credential(derived, loader=loader, checks="proof")
    assert not result.verified and result.errors


def test_a_tagged_byte_string_is_read_as_bytes(derived: dict[str, Any], loader: DocumentLoader, issuer_key: PublicKey) -> None:
    """Some encoders tag byte arrays (CBOR tag 64); the reference implementation reads them as bytes, so do we."""
    data = decode_base64url(derived["proof"]["proofValue"])
    components = cbor2.loads(data[3:])
    components[0] = cbor2.CBORTag(64, components[0])
    derived["proof"]["proofValue"] = encode_base64url(data[:3] + cbor2.dumps(components))
    sd.verify_derived_proof(derived, derived["proof"], issuer_key, loader)
