"""The ecdsa-sd-2023 cryptosuite (W3C Data Integrity ECDSA Cryptosuites v1.0 §3.5–3.6): selective disclosure.

Why: a Perseus consumption credential holds a month (or a year) of half-hourly readings. An SME that wants
to show a bank its monthly totals should not have to hand over its whole load profile, which says when
the premises are occupied. With ecdsa-sd-2023 the issuer signs every statement on its own, and the holder
later reveals only some of them; the verifier checks each revealed statement and the issuer's signature,
and learns nothing about the withheld ones beyond their number.

The three roles, each one function:

* issuer — `create_base_proof`: statements named by ``mandatoryPointers`` are always disclosed and hashed
  together under the issuer's signature; every other statement is signed by a key made for this proof
  alone (its public key is covered by the issuer's signature). Blank node labels are HMACs under a key
  that goes to the holder in the base proof. The base proof is for the holder only.
* holder — `derive`: checks the base proof, then keeps the mandatory statements and those the
  ``selectivePointers`` name, and writes a derived proof with just their signatures and labels.
* verifier — `verify_derived_proof`: recomputes the statements from the disclosed document, and checks
  the issuer's signature over the mandatory ones and the proof key's signature over each other one.

Only P-256 keys sign ecdsa-sd-2023 proofs: the proof value's layout fixes 64-byte signatures and a P-256
proof-scoped key. Our ECDSA signatures are deterministic (RFC 6979), and so are ours for given HMAC and
proof keys; both keys are fresh random values for every base proof.
"""

from __future__ import annotations

import hashlib
import io
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cbor2

from ..canonical import rdfc_digest
from ..errors import PerseusError, ProofError
from ..jsonld import ContextLoader
from ..keys import PublicKey, SecretKey
from ..multibase import P256_PUB, MultibaseError, add_multicodec_prefix, decode_base64url, encode_base64url, split_multicodec_prefix
from ..rdfc import canonicalize, label_replacement_canonicalize
from ..selective_disclosure import (
    Group,
    canonicalize_and_group,
    compress_label_map,
    decompress_label_map,
    hmac_label_map_factory,
    label_map_factory,
    select_json_ld,
    to_deskolemized_quads,
)

NAME = "ecdsa-sd-2023"
BASE_HEADER = bytes([0xD9, 0x5D, 0x00])
DERIVED_HEADER = bytes([0xD9, 0x5D, 0x01])
HMAC_KEY_LENGTH = 32
SIGNATURE_LENGTH = 64
PROOF_PUBLIC_KEY_LENGTH = 35  # 0x80 0x24 (p256-pub multicodec) + a compressed point

# A proof value is decoded before anything else is checked: bound it (a year of half-hourly readings has
# ~88,000 statements, 64 bytes of signature each: ~7.5 MB of base64url).
MAX_PROOF_VALUE_CHARS = 32 * 1024 * 1024

__all__ = [
    "NAME",
    "BaseProofValue",
    "DerivedProofValue",
    "create_base_proof",
    "create_disclosure_data",
    "create_verify_data",
    "default_mandatory_pointers",
    "derive",
    "derive_credential",
    "is_derived_proof",
    "parse_base_proof_value",
    "parse_derived_proof_value",
    "serialize_base_proof_value",
    "serialize_derived_proof_value",
    "verify_base_proof",
    "verify_derived_proof",
]


def _verification_error(message: str) -> ProofError:
    return ProofError(message, code="PROOF_VERIFICATION_ERROR")


def _generation_error(message: str) -> ProofError:
    return ProofError(message, code="PROOF_GENERATION_ERROR")


# -- proof values (CBOR) -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BaseProofValue:
    """The five components of a base proof value (serializeBaseProofValue)."""

    base_signature: bytes
    public_key: bytes  # the proof-scoped key as Multikey bytes (0x80 0x24 + 33 bytes)
    hmac_key: bytes
    signatures: list[bytes]
    mandatory_pointers: list[str]


@dataclass(frozen=True)
class DerivedProofValue:
    """The five components of a derived proof value (serializeDerivedProofValue), label map decompressed."""

    base_signature: bytes
    public_key: bytes
    signatures: list[bytes]
    label_map: dict[str, str]  # c14nN (what the verifier's canonicalization gives) -> HMAC label
    mandatory_indexes: list[int]


def serialize_base_proof_value(value: BaseProofValue) -> str:
    """``u`` + base64url(0xd9 0x5d 0x00 ‖ CBOR([baseSignature, publicKey, hmacKey, signatures, mandatoryPointers]))."""
    payload = [value.base_signature, value.public_key, value.hmac_key, list(value.signatures), list(value.mandatory_pointers)]
    return encode_base64url(BASE_HEADER + cbor2.dumps(payload))


def serialize_derived_proof_value(value: DerivedProofValue) -> str:
    """``u`` + base64url(0xd9 0x5d 0x01 ‖ CBOR([baseSignature, publicKey, signatures, labelMap, mandatoryIndexes])).

    The compressed label map is a CBOR map from integers to 32-byte strings, written in increasing key
    order (the canonical order for small integers, which is what other implementations write).
    """
    compressed = dict(sorted(compress_label_map(value.label_map).items()))
    payload = [value.base_signature, value.public_key, list(value.signatures), compressed, list(value.mandatory_indexes)]
    return encode_base64url(DERIVED_HEADER + cbor2.dumps(payload))


def _tag_hook(*args: Any) -> Any:
    """CBOR tags are not allowed in proof values; tag 64 (a byte array) is accepted as bytes, as jsonld.js's
    implementation does for encoders that tag typed arrays. (Tags cbor2 decodes itself, such as dates,
    become values of other types, which the component checks refuse.) The arguments differ between cbor2
    versions ((decoder, tag) or (tag, immutable)): take the tag wherever it is."""
    tag = next(a for a in args if isinstance(a, cbor2.CBORTag))
    if tag.tag == 64 and isinstance(tag.value, bytes):
        return tag.value
    raise _verification_error(f"the proof value uses CBOR tag {tag.tag}; ecdsa-sd-2023 proof values use no tags")


def _decode(proof_value: object, header: bytes, what: str) -> list[Any]:
    if not isinstance(proof_value, str):
        raise _verification_error("proofValue must be a string")
    if not proof_value.startswith("u"):
        raise ProofError("an ecdsa-sd-2023 proofValue must be multibase base64url (it must start with 'u')", code="MALFORMED_PROOF_ERROR")
    if len(proof_value) > MAX_PROOF_VALUE_CHARS:
        raise _verification_error(f"the proofValue is longer than {MAX_PROOF_VALUE_CHARS:,} characters")
    try:
        data = decode_base64url(proof_value)
    except MultibaseError as exc:
        raise _verification_error(f"proofValue is not valid base64url: {exc.message}") from None
    if data[:3] == BASE_HEADER and header == DERIVED_HEADER:
        raise _verification_error(
            "this is an ecdsa-sd-2023 base proof, which is meant for the credential's holder only: the holder derives "
            "a disclosure from it (perseus derive) and a verifier checks that"
        )
    if data[:3] != header:
        other = "a base proof (header d9 5d 00)" if data[:3] == BASE_HEADER else "a derived proof (header d9 5d 01)" if data[:3] == DERIVED_HEADER else f"header {data[:3].hex(' ')}"
        raise _verification_error(f"expected {what} (header {header.hex(' ')}), but the proofValue is {other}")
    stream = io.BytesIO(data[3:])
    try:
        components = cbor2.CBORDecoder(stream, tag_hook=_tag_hook).decode()
    except ProofError:
        raise
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, RecursionError, EOFError) as exc:
        if isinstance(exc.__cause__, ProofError):  # our tag hook's refusal, wrapped by the decoder
            raise exc.__cause__ from None
        raise _verification_error(f"the proofValue is not valid CBOR: {exc}") from None
    if stream.tell() != len(data) - 3:
        raise _verification_error("the proofValue has bytes after its CBOR value")
    if not isinstance(components, list) or len(components) != 5:
        raise _verification_error(f"{what} must be a CBOR array of 5 components")
    return components


def _bytes(value: Any, length: int, name: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != length:
        raise _verification_error(f"the proof's {name} must be a byte string of {length} bytes")
    return value


def _signatures(value: Any) -> list[bytes]:
    if not isinstance(value, list) or not all(isinstance(s, bytes) and len(s) == SIGNATURE_LENGTH for s in value):
        raise _verification_error(f"the proof's signatures must be an array of {SIGNATURE_LENGTH}-byte strings")
    return value


def parse_base_proof_value(proof_value: object) -> BaseProofValue:
    """parseBaseProofValue, with every component's type and length checked (PROOF_VERIFICATION_ERROR otherwise)."""
    signature, public_key, hmac_key, signatures, pointers = _decode(proof_value, BASE_HEADER, "a base proof")
    if not isinstance(pointers, list) or not all(isinstance(p, str) for p in pointers):
        raise _verification_error("the base proof's mandatoryPointers must be an array of strings")
    return BaseProofValue(
        _bytes(signature, SIGNATURE_LENGTH, "base signature"),
        _bytes(public_key, PROOF_PUBLIC_KEY_LENGTH, "proof-scoped public key"),
        _bytes(hmac_key, HMAC_KEY_LENGTH, "HMAC key"),
        _signatures(signatures),
        pointers,
    )


def parse_derived_proof_value(proof_value: object) -> DerivedProofValue:
    """parseDerivedProofValue, with every component's type and length checked (PROOF_VERIFICATION_ERROR otherwise)."""
    signature, public_key, signatures, compressed, indexes = _decode(proof_value, DERIVED_HEADER, "a derived proof")
    if not isinstance(compressed, dict) or not all(
        isinstance(k, int) and not isinstance(k, bool) and k >= 0 and isinstance(v, bytes) and len(v) == 32 for k, v in compressed.items()
    ):
        raise _verification_error("the derived proof's label map must map non-negative integers to 32-byte strings")
    if not isinstance(indexes, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in indexes):
        raise _verification_error("the derived proof's mandatoryIndexes must be an array of integers")
    return DerivedProofValue(
        _bytes(signature, SIGNATURE_LENGTH, "base signature"),
        _bytes(public_key, PROOF_PUBLIC_KEY_LENGTH, "proof-scoped public key"),
        _signatures(signatures),
        decompress_label_map(compressed),
        indexes,
    )


def _proof_key(multikey: bytes) -> PublicKey:
    """The proof-scoped P-256 key from its Multikey bytes."""
    try:
        code, raw = split_multicodec_prefix(multikey)
        if code != P256_PUB:
            raise _verification_error(f"the proof-scoped key must be a P-256 public key (multicodec 0x1200), not 0x{code:x}")
        return PublicKey("P-256", raw)
    except ProofError:
        raise
    except PerseusError as exc:
        raise _verification_error(f"the proof-scoped public key is not a P-256 key: {exc.message}") from None


# -- the hashes the signatures cover --------------------------------------------------------------------------


def _proof_hash(document: dict[str, Any], proof: dict[str, Any], loader: ContextLoader) -> bytes:
    """SHA-256 of the canonical proof configuration: the proof without proofValue, with the document's @context."""
    config = {k: v for k, v in proof.items() if k not in ("proofValue", "@context")}
    if "@context" in document:
        config["@context"] = document["@context"]
    return rdfc_digest(config, loader, hash_algorithm="sha256")


def _mandatory_hash(mandatory: Sequence[str]) -> bytes:
    """hashMandatoryNQuads: SHA-256 of the mandatory N-Quads joined, in order."""
    return hashlib.sha256("".join(mandatory).encode("utf-8")).digest()


def _check_pointers(pointers: object, name: str) -> list[str]:
    if not isinstance(pointers, (list, tuple)) or not all(isinstance(p, str) for p in pointers):
        raise _generation_error(f"{name} must be a list of JSON pointer strings")
    return list(pointers)


def _unsecured(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "proof"}


# -- issuer: the base proof -------------------------------------------------------------------------------------


def create_base_proof(
    unsecured: dict[str, Any],
    options: dict[str, Any],
    secret_key: SecretKey,
    loader: ContextLoader,
    *,
    mandatory_pointers: Sequence[str] = (),
    hmac_key: bytes | None = None,
    proof_key: SecretKey | None = None,
) -> dict[str, Any]:
    """Create Base Proof (ecdsa-sd-2023): the proof (`options` plus its proofValue) for `unsecured`.

    `options` are the proof options (type, cryptosuite, created, verificationMethod, proofPurpose...).
    `hmac_key` and `proof_key` are fresh random keys unless given (the W3C vectors give them).
    """
    if secret_key.key_type != "P-256":
        raise ProofError(f"{NAME} proofs are made with P-256 keys, but this key is {secret_key.key_type}", code="INVALID_PROOF_CONFIGURATION")
    if options.get("type") != "DataIntegrityProof" or options.get("cryptosuite") != NAME:
        raise _generation_error(f"the proof options must have type DataIntegrityProof and cryptosuite {NAME}")
    pointers = _check_pointers(list(mandatory_pointers), "mandatoryPointers")
    hmac_key = secrets.token_bytes(HMAC_KEY_LENGTH) if hmac_key is None else hmac_key
    if len(hmac_key) != HMAC_KEY_LENGTH:
        raise _generation_error(f"the HMAC key must be {HMAC_KEY_LENGTH} bytes")
    proof_key = SecretKey.generate("P-256") if proof_key is None else proof_key
    if proof_key.key_type != "P-256":
        raise _generation_error("the proof-scoped key must be a P-256 key")
    grouped = canonicalize_and_group(unsecured, hmac_label_map_factory(hmac_key), {"mandatory": pointers}, loader)
    mandatory_group = grouped.groups["mandatory"]
    proof_hash = _proof_hash(unsecured, options, loader)
    mandatory_hash = _mandatory_hash(list(mandatory_group.matching.values()))
    signatures = [proof_key.sign(line.encode("utf-8")) for line in mandatory_group.non_matching.values()]
    public_key = add_multicodec_prefix(P256_PUB, proof_key.public_key.raw)
    base_signature = secret_key.sign(proof_hash + public_key + mandatory_hash)
    proof = dict(options)
    proof["proofValue"] = serialize_base_proof_value(BaseProofValue(base_signature, public_key, hmac_key, signatures, pointers))
    return proof


def verify_base_proof(document: dict[str, Any], proof: dict[str, Any], issuer_key: PublicKey, loader: ContextLoader) -> BaseProofValue:
    """Check a base proof as its holder receives it (raises ProofError with the reason; returns its parts).

    The statements are grouped with the base proof's own HMAC key and mandatory pointers, exactly as at
    signing, so a holder never derives disclosures from a credential whose base proof does not verify.
    """
    parsed = parse_base_proof_value(proof.get("proofValue"))
    unsecured = _unsecured(document)
    grouped = canonicalize_and_group(unsecured, hmac_label_map_factory(parsed.hmac_key), {"mandatory": parsed.mandatory_pointers}, loader)
    group = grouped.groups["mandatory"]
    _check_signatures(
        issuer_key,
        parsed.base_signature,
        _proof_hash(unsecured, proof, loader),
        parsed.public_key,
        list(group.matching.values()),
        list(group.non_matching.values()),
        parsed.signatures,
    )
    return parsed


# -- holder: the derived proof -----------------------------------------------------------------------------------


def derive(
    document: dict[str, Any],
    selective_pointers: Sequence[str],
    loader: ContextLoader,
    *,
    issuer_key: PublicKey | None = None,
    proof_id: str | None = None,
) -> dict[str, Any]:
    """Add Derived Proof (ecdsa-sd-2023): the document cut down to the mandatory and selected statements,
    with a derived proof a verifier can check.

    `document` carries the base proof (as its only ecdsa-sd-2023 proof, or the one with id `proof_id`).
    With `issuer_key` the disclosure is verified before it is returned, exactly as a verifier will: the
    issuer's signature and each disclosed statement's (checking all of a year's ~88,000 statement
    signatures, as `verify_base_proof` does, would cost seconds and prove nothing about what is shown).
    A base proof that does not cover what is disclosed is refused, with the reason.
    """
    base_proof = _find_base_proof(document, proof_id)
    data = create_disclosure_data(document, base_proof, selective_pointers, loader)
    derived = DerivedProofValue(data.base_signature, data.public_key, data.signatures, data.label_map, data.mandatory_indexes)
    new_proof = {k: v for k, v in base_proof.items() if k != "@context"}
    new_proof["proofValue"] = serialize_derived_proof_value(derived)
    reveal = data.reveal_document
    reveal["proof"] = new_proof
    if issuer_key is not None:
        try:
            verify_derived_proof(reveal, new_proof, issuer_key, loader)
        except ProofError as exc:
            raise _generation_error(
                f"the credential's base proof does not verify for what would be disclosed, so nothing was derived: {exc.message}"
            ) from None
    return reveal


@dataclass
class DisclosureData:
    """createDisclosureData's result, plus the grouping it came from (the W3C vectors publish both)."""

    base_signature: bytes
    public_key: bytes
    signatures: list[bytes]
    label_map: dict[str, str]
    mandatory_indexes: list[int]
    reveal_document: dict[str, Any]
    groups: dict[str, Group]
    selected_signature_indexes: list[int]  # positions, among the base proof's signatures, of those kept


def create_disclosure_data(
    document: dict[str, Any], base_proof: dict[str, Any], selective_pointers: Sequence[str], loader: ContextLoader
) -> DisclosureData:
    """createDisclosureData: what a derived proof reveals, from the base proof and the selective pointers."""
    selective = _check_pointers(selective_pointers, "selectivePointers")
    parsed = parse_base_proof_value(base_proof.get("proofValue"))
    combined = parsed.mandatory_pointers + selective
    if not combined:
        raise _generation_error("nothing is selected for disclosure: give at least one selective pointer (the base proof has no mandatory pointers)")
    unsecured = _unsecured(document)
    grouped = canonicalize_and_group(
        unsecured,
        hmac_label_map_factory(parsed.hmac_key),
        {"mandatory": parsed.mandatory_pointers, "selective": selective, "combined": combined},
        loader,
    )
    mandatory, selected, combined_group = grouped.groups["mandatory"], grouped.groups["selective"], grouped.groups["combined"]
    # Mandatory statements' positions among the disclosed ones (what the verifier hashes together).
    mandatory_indexes = [relative for relative, absolute in enumerate(combined_group.matching) if absolute in mandatory.matching]
    # Signatures were made over the non-mandatory statements in order: keep those of the selected ones.
    non_mandatory_positions = [index for index in range(len(grouped.nquads)) if index not in mandatory.matching]
    if len(non_mandatory_positions) != len(parsed.signatures):
        raise _generation_error(
            f"the base proof has {len(parsed.signatures)} signatures but the credential has {len(non_mandatory_positions)} "
            "non-mandatory statements: the credential or its base proof was altered"
        )
    kept = [i for i, index in enumerate(non_mandatory_positions) if index in selected.matching]
    reveal = select_json_ld(unsecured, combined)
    assert reveal is not None  # combined is not empty
    # The labels the verifier's canonicalization of the disclosed document will produce, mapped to the signed ones.
    canonical_ids = canonicalize(combined_group.deskolemized_quads).issued
    label_map = {canonical: grouped.label_map[name] for name, canonical in canonical_ids.items()}
    return DisclosureData(
        parsed.base_signature,
        parsed.public_key,
        [parsed.signatures[i] for i in kept],
        label_map,
        mandatory_indexes,
        reveal,
        grouped.groups,
        kept,
    )


def _find_base_proof(document: dict[str, Any], proof_id: str | None) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise _generation_error("only a JSON object can carry a base proof")
    proofs = document.get("proof")
    proofs = proofs if isinstance(proofs, list) else [proofs] if proofs is not None else []
    candidates = [p for p in proofs if isinstance(p, dict) and p.get("cryptosuite") == NAME]
    if proof_id is not None:
        candidates = [p for p in candidates if p.get("id") == proof_id]
    if not candidates:
        raise _generation_error(f"the credential has no {NAME} base proof" + (f" with id {proof_id}" if proof_id else "") + " to derive a disclosure from")
    if len(candidates) > 1:
        raise _generation_error(f"the credential has {len(candidates)} {NAME} proofs; name the base proof to use by its id")
    return candidates[0]


# -- verifier -------------------------------------------------------------------------------------------------------


@dataclass
class VerifyData:
    """createVerifyData's result: what the signatures of a derived proof are checked against."""

    base_signature: bytes
    proof_hash: bytes
    public_key: bytes
    signatures: list[bytes]
    mandatory: list[str]
    non_mandatory: list[str]
    nquads: list[str]  # every disclosed statement, canonical with the signed labels

    @property
    def mandatory_hash(self) -> bytes:
        return _mandatory_hash(self.mandatory)


def create_verify_data(document: dict[str, Any], proof: dict[str, Any], loader: ContextLoader) -> VerifyData:
    """createVerifyData: the disclosed statements, relabelled as signed and split into mandatory and not."""
    parsed = parse_derived_proof_value(proof.get("proofValue"))
    unsecured = _unsecured(document)
    quads = to_deskolemized_quads(unsecured, loader)  # plain strict JSON-LD → RDF (no skolem IRIs in it)
    nquads, _ = label_replacement_canonicalize(quads, label_map_factory(parsed.label_map))
    indexes = parsed.mandatory_indexes
    if any(i < 0 or i >= len(nquads) for i in indexes) or any(a >= b for a, b in zip(indexes, indexes[1:])):
        raise _verification_error(
            f"the derived proof's mandatoryIndexes {indexes[:8]}{'...' if len(indexes) > 8 else ''} do not fit the "
            f"{len(nquads)} disclosed statements (they must be increasing positions among them): a mandatory claim was removed"
        )
    wanted = set(indexes)
    mandatory = [line for i, line in enumerate(nquads) if i in wanted]
    non_mandatory = [line for i, line in enumerate(nquads) if i not in wanted]
    return VerifyData(parsed.base_signature, _proof_hash(unsecured, proof, loader), parsed.public_key, parsed.signatures, mandatory, non_mandatory, nquads)


def verify_derived_proof(document: dict[str, Any], proof: dict[str, Any], issuer_key: PublicKey, loader: ContextLoader) -> None:
    """Verify Derived Proof (ecdsa-sd-2023); returns when it verifies, raises ProofError saying why not.

    `document` is the disclosed document (its proof is ignored), `issuer_key` the key of the proof's
    verification method. A base proof is refused: it is meant for the holder, not for verifiers.
    """
    data = create_verify_data(document, proof, loader)
    _check_signatures(issuer_key, data.base_signature, data.proof_hash, data.public_key, data.mandatory, data.non_mandatory, data.signatures)


def _check_signatures(
    issuer_key: PublicKey,
    base_signature: bytes,
    proof_hash: bytes,
    public_key: bytes,
    mandatory: list[str],
    non_mandatory: list[str],
    signatures: list[bytes],
) -> None:
    """The issuer's signature over proofHash ‖ proof key ‖ mandatoryHash, then each statement's signature."""
    if len(signatures) != len(non_mandatory):
        raise _verification_error(
            f"the proof has {len(signatures)} statement signatures but the document discloses {len(non_mandatory)} "
            "non-mandatory statements: statements were added or removed after signing (a withheld claim added, or a "
            "disclosed or mandatory claim removed)"
        )
    proof_key = _proof_key(public_key)
    if not issuer_key.verify(base_signature, proof_hash + public_key + _mandatory_hash(mandatory)):
        raise _verification_error(
            "the issuer's signature does not cover this proof configuration and these mandatory statements: a mandatory "
            "claim was changed or removed, the proof options were altered, or another key signed it"
        )
    for index, (line, signature) in enumerate(zip(non_mandatory, signatures)):
        if not proof_key.verify(signature, line.encode("utf-8")):
            shown = line if len(line) <= 160 else line[:157] + "..."
            raise _verification_error(
                f"disclosed statement {index + 1} of {len(non_mandatory)} does not match its signature ({shown.strip()}): "
                "a disclosed value was changed, or the signatures were reordered"
            )


# -- helpers for callers (CLI, verifier report, library) ----------------------------------------------------------

# The claims that say who issued a credential and when and whether it holds: a holder who could withhold
# them could hide that a credential expired or was revoked, so `default_mandatory_pointers` makes those a
# document has mandatory (the issuer's own pointers are added to these).
ENVELOPE_POINTERS = ("/id", "/issuer", "/validFrom", "/validUntil", "/credentialStatus", "/credentialSchema")


def default_mandatory_pointers(document: dict[str, Any], extra: Sequence[str] = ()) -> list[str]:
    """The envelope pointers `document` has (see `ENVELOPE_POINTERS`), then `extra`, without repeats."""
    pointers = [p for p in ENVELOPE_POINTERS if isinstance(document, dict) and p[1:] in document]
    return list(dict.fromkeys([*pointers, *extra]))


def is_derived_proof(proof: Any) -> bool:
    """Whether `proof` is an ecdsa-sd-2023 derived proof (its proofValue starts with the header d9 5d 01)."""
    return (
        isinstance(proof, dict)
        and proof.get("cryptosuite") == NAME
        and isinstance(proof.get("proofValue"), str)
        and proof["proofValue"].startswith(encode_base64url(DERIVED_HEADER))
    )


def derive_credential(
    document: Any,
    reveal: Sequence[str],
    *,
    loader: Any = None,
    proof_id: str | None = None,
) -> dict[str, Any]:
    """The holder's disclosure: `document` (with its ecdsa-sd-2023 base proof) cut down to its mandatory
    claims and those the JSON pointers `reveal` name, with a derived proof.

    The base proof is checked first with the key its verification method names (resolved offline by
    the document loader); raises `ProofError` (PROOF_GENERATION_ERROR) saying why when anything is wrong.
    """
    from ..loader import DocumentLoader

    loader = loader or DocumentLoader()
    base_proof = _find_base_proof(document, proof_id)
    method_url = base_proof.get("verificationMethod")
    if not isinstance(method_url, str):
        raise _generation_error("the base proof names no verificationMethod, so its issuer's key is unknown")
    try:
        method = loader.verification_method(method_url)
        issuer_key = (
            PublicKey.from_multibase(method["publicKeyMultibase"]) if "publicKeyMultibase" in method else PublicKey.from_jwk(method["publicKeyJwk"])
        )
    except (PerseusError, KeyError, TypeError) as exc:
        reason = exc.message if isinstance(exc, PerseusError) else "it has no public key"
        raise _generation_error(f"cannot check the base proof: its verification method {method_url} cannot be used ({reason})") from None
    return derive(document, reveal, loader, issuer_key=issuer_key, proof_id=base_proof.get("id") if proof_id else None)
