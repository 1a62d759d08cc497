"""did:key: documents for the vector keys, verification-method dereferencing, and refusals.

Every proof configuration in the W3C vectors names its key as a did:key verification method URL;
resolving all of them (and getting back the key the vectors sign with) is the main external anchor.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import base58
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from perseus.verifier.did_key import (
    did_key_for,
    public_key_for,
    resolve_did_key,
    resolve_verification_method,
    verification_method_id,
)
from perseus.verifier.errors import DidResolutionError
from perseus.verifier.keys import KEY_TYPES, PublicKey, SecretKey

ED = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"  # vc-di-eddsa keyPair.json
P256 = "zDnaepBuvsQ8cpsWrVKw8fbpGpvPeNSjVPTWoq6cRqaYzBKVP"  # vc-di-ecdsa p256KeyPair.json
P384 = "z82LkuBieyGShVBhvtE2zoiD6Kma4tJGFtkAhxR5pfkp5QPw4LutoYWhvQCnGjdVn14kujQ"  # p384KeyPair.json


def _did_key(prefix_hex: str, payload: bytes) -> str:
    return "did:key:z" + base58.b58encode(bytes.fromhex(prefix_hex) + payload).decode()


@pytest.mark.parametrize(("multibase", "key_type"), [(ED, "Ed25519"), (P256, "P-256"), (P384, "P-384")])
def test_did_document_for_vector_keys(multibase: str, key_type: str) -> None:
    did = f"did:key:{multibase}"
    vm_id = f"{did}#{multibase}"
    assert resolve_did_key(did) == {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [
            {"id": vm_id, "type": "Multikey", "controller": did, "publicKeyMultibase": multibase}
        ],
        "authentication": [vm_id],
        "assertionMethod": [vm_id],
        "capabilityDelegation": [vm_id],
        "capabilityInvocation": [vm_id],
    }  # in particular: no keyAgreement (we do not derive X25519 keys)
    public = PublicKey.from_multibase(multibase)
    assert public.key_type == key_type
    assert did_key_for(public) == did
    assert verification_method_id(public) == vm_id
    assert public_key_for(did) == public == public_key_for(vm_id)


def test_every_vector_proof_verification_method_resolves(vectors: Path) -> None:
    configs = sorted(vectors.glob("vc-di-e*/TestVectors/**/proofConfig*.json")) + sorted(
        vectors.glob("vc-di-eddsa/TestVectors/proof-set-chain/*Config*.json")
    )
    seen = set()
    for path in configs:
        config = json.loads(path.read_text())
        url = config["verificationMethod"]
        vm = resolve_verification_method(url)
        did, _, fragment = url.partition("#")
        assert vm == {"id": url, "type": "Multikey", "controller": did, "publicKeyMultibase": fragment}, path
        seen.add(fragment)
    # keyPair.json, the four proof-set-chain keys, the P-256 and P-384 key pairs.
    assert {ED, P256, P384} <= seen and len(seen) == 7


def test_vector_secret_keys_match_the_did_keys_their_proofs_name(vectors: Path) -> None:
    pair = json.loads((vectors / "vc-di-ecdsa/TestVectors/p384KeyPair.json").read_text())
    config = json.loads(
        (vectors / "vc-di-ecdsa/TestVectors/ecdsa-rdfc-2019-p384/proofConfigECDSAP384.json").read_text()
    )
    secret = SecretKey.from_multibase(pair["secretKeyMultibase"])
    assert verification_method_id(secret.public_key) == config["verificationMethod"]


def test_documents_are_fresh_copies() -> None:
    did = f"did:key:{P256}"
    first = resolve_did_key(did)
    first["verificationMethod"][0]["publicKeyMultibase"] = "tampered"
    first["assertionMethod"].clear()
    assert resolve_did_key(did)["verificationMethod"][0]["publicKeyMultibase"] == P256
    assert resolve_did_key(did)["assertionMethod"] == [f"{did}#{P256}"]


@pytest.mark.parametrize(
    ("did", "message"),
    [
        ("did:web:example.com", "uses the did:web method; only did:key can be resolved offline"),
        ("https://example.com/issuer", "is not a DID"),
        ("did::zabc", "is not a DID"),
        ("did:KEY:" + P256, "is not a DID"),
        ("did:key:" + P256[1:], "must be a base58btc multibase value starting with 'z'"),
        ("did:key:uAAAA", "must be a base58btc multibase value starting with 'z'"),
        ("did:key:", "must be a base58btc multibase value starting with 'z'"),
        ("did:key:z0OIl", "outside the base58"),
        ("did:key:1:" + P256, "extra ':'-separated parts"),
        ("did:key:" + P256 + "/path", "has a path or query"),
        ("did:key:" + P256 + "?versionId=1", "has a path or query"),
        (_did_key("ec01", bytes(32)), r"0xec \(x25519-pub\)"),
        (_did_key("e701", b"\x02" + bytes(32)), r"0xe7 \(secp256k1-pub\)"),
        (_did_key("8224", b"\x02" + bytes(65)), r"0x1202 \(p521-pub\)"),  # varint of 0x1202
        (_did_key("ed01", bytes(33)), "Ed25519 public key is 33 bytes; expected 32"),
        (_did_key("8024", bytes(32)), "P-256 public key is 32 bytes; expected 33"),
        (_did_key("8024", b"\x04" + bytes(64)), "uncompressed point"),
        (_did_key("8026", bytes(32)), "secret key .* must never be published"),
        ("did:key:" + P256 + "#" + P256, "is a DID URL with a fragment"),
    ],
)
def test_bad_dids_are_refused_with_a_reason(did: str, message: str) -> None:
    with pytest.raises(DidResolutionError, match=message) as info:
        resolve_did_key(did)
    assert info.value.code == "INVALID_VERIFICATION_METHOD_URL"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (f"did:key:{P256}#{ED}", f"the only one in this did:key document is #{P256}"),
        (f"did:key:{P256}#key-1", "'#key-1' .* does not name a verification method"),
        (f"did:key:{P256}#", "does not name a verification method"),
        (f"did:key:{P256}", "has no fragment"),
        ("did:web:example.com#key-1", "only did:key can be resolved offline"),
        (f"did:key:{P256[:-1]}#{P256[:-1]}", "cannot resolve"),
    ],
)
def test_bad_verification_method_urls(url: str, message: str) -> None:
    with pytest.raises(DidResolutionError, match=message):
        resolve_verification_method(url)
    if "#" in url:  # public_key_for checks the fragment too
        with pytest.raises(DidResolutionError):
            public_key_for(url)


def test_non_string_input_is_a_resolution_error() -> None:
    with pytest.raises(DidResolutionError, match="must be a string"):
        resolve_did_key(None)  # type: ignore[arg-type]
    with pytest.raises(DidResolutionError, match="must be a string"):
        resolve_verification_method(42)  # type: ignore[arg-type]


def test_hostile_long_did_is_clipped_in_the_message() -> None:
    did = "did:key:z" + "2" * 100_000
    with pytest.raises(DidResolutionError) as info:
        resolve_did_key(did)
    assert len(info.value.message) < 400


@given(st.sampled_from(KEY_TYPES), st.binary(min_size=48, max_size=48))
@settings(max_examples=30, deadline=None)
def test_generated_keys_resolve_to_themselves(key_type: str, seed: bytes) -> None:
    try:
        public = SecretKey.from_raw(key_type, seed[: {"P-384": 48}.get(key_type, 32)]).public_key  # type: ignore[arg-type]
    except Exception:
        return
    document = resolve_did_key(did_key_for(public))
    vm = resolve_verification_method(verification_method_id(public))
    assert document["verificationMethod"] == [vm]
    assert PublicKey.from_multibase(vm["publicKeyMultibase"]) == public


@given(st.text(max_size=80))
@settings(max_examples=200)
def test_arbitrary_did_strings_raise_only_resolution_errors(tail: str) -> None:
    for candidate in (tail, "did:key:" + tail, "did:key:z" + tail, f"did:key:{P256}#{tail}"):
        with contextlib.suppress(DidResolutionError):
            resolve_did_key(candidate)
        with contextlib.suppress(DidResolutionError):
            resolve_verification_method(candidate)
