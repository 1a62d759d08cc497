"""Data Integrity cryptosuites: small objects, one per suite name (as in Digital Bazaar's libraries).

A cryptosuite says which keys it accepts, how a document becomes bytes (RDFC-1.0 or JCS), and which
hash it uses. Creating and checking proofs — the parts every suite shares — live in ``proofs.py``.

    suite = get_suite("eddsa-rdfc-2022")
    data = suite.hash_data(unsecured_document, proof_config, loader, key_type)   # what gets signed
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

from ..canonical import jcs_bytes, rdfc_digest, rdfc_nquads
from ..errors import ProofError
from ..jsonld import ContextLoader
from ..keys import KeyType, hash_name_for

Canonicalization = Literal["rdfc", "jcs"]


@dataclass(frozen=True)
class Cryptosuite:
    name: str
    key_types: tuple[KeyType, ...]
    canonicalization: Canonicalization
    # Verification method types a proof of this suite may name; empty: any that holds a fitting key.
    method_types: tuple[str, ...] = ()
    # Selective disclosure (ecdsa-sd-2023): the issuer makes a base proof, a holder derives disclosures
    # from it, verifiers check derived proofs; the suite's own module does all three (`ecdsa_sd_2023.py`).
    selective: bool = False

    @property
    def proof_value_prefix(self) -> str:
        """The multibase prefix of its proofValue: base64url ("u") for selective disclosure, else base58btc ("z")."""
        return "u" if self.selective else "z"

    @property
    def proof_keeps_context(self) -> bool:
        """JCS suites sign the proof's @context and keep it in the proof; RDFC suites drop it."""
        return self.canonicalization == "jcs"

    def hash_name(self, key_type: KeyType) -> str:
        return hash_name_for(key_type)

    def check_key_type(self, key_type: str) -> None:
        if key_type not in self.key_types:
            raise ProofError(
                f"{self.name} needs a key of type {' or '.join(self.key_types)}, but this key is {key_type}",
                code="INVALID_PROOF_CONFIGURATION",
            )

    def canonicalize(self, document: Any, loader: ContextLoader, key_type: KeyType) -> bytes:
        """Transformation (and, for JSON-LD, canonicalization) of a document or proof configuration."""
        if self.canonicalization == "jcs":
            return jcs_bytes(document)
        return rdfc_nquads(document, loader, hash_algorithm=self.hash_name(key_type)).encode("utf-8")

    def canonical_digest(self, document: Any, loader: ContextLoader, key_type: KeyType) -> bytes:
        """hash(canonicalize(document)), streamed for RDFC so a year of readings is never held twice."""
        if self.canonicalization == "jcs":
            return self.digest(jcs_bytes(document), key_type)
        return rdfc_digest(document, loader, hash_algorithm=self.hash_name(key_type))

    def digest(self, data: bytes, key_type: KeyType) -> bytes:
        return hashlib.new(self.hash_name(key_type), data).digest()

    def hash_data(self, canonical_proof_config: bytes, canonical_document: bytes, key_type: KeyType) -> bytes:
        """hash(proof configuration) ‖ hash(document): the bytes the signature covers."""
        return self.digest(canonical_proof_config, key_type) + self.digest(canonical_document, key_type)


EDDSA_RDFC_2022 = Cryptosuite("eddsa-rdfc-2022", ("Ed25519",), "rdfc")
ECDSA_RDFC_2019 = Cryptosuite("ecdsa-rdfc-2019", ("P-256", "P-384"), "rdfc")
EDDSA_JCS_2022 = Cryptosuite("eddsa-jcs-2022", ("Ed25519",), "jcs")
ECDSA_JCS_2019 = Cryptosuite("ecdsa-jcs-2019", ("P-256", "P-384"), "jcs")

SUITES: dict[str, Cryptosuite] = {s.name: s for s in (EDDSA_RDFC_2022, ECDSA_RDFC_2019, EDDSA_JCS_2022, ECDSA_JCS_2019)}

# Selective-disclosure suites, kept apart from `SUITES` (the suites one signature over the whole document
# makes, which the issuer service offers by default): they sign with `ecdsa_sd_2023.create_base_proof`.
ECDSA_SD_2023 = Cryptosuite("ecdsa-sd-2023", ("P-256",), "rdfc", selective=True)
SELECTIVE_SUITES: dict[str, Cryptosuite] = {ECDSA_SD_2023.name: ECDSA_SD_2023}
ALL_SUITES: dict[str, Cryptosuite] = {**SUITES, **SELECTIVE_SUITES}

# The legacy Ed25519Signature2020 suite (vc-di-eddsa, "The Ed25519Signature2020 Suite"): a proof
# ``type`` of its own, no ``cryptosuite``, otherwise eddsa-rdfc-2022's algorithm (RDFC-1.0, SHA-256,
# hash(proof config) || hash(document), Ed25519). Verified, never signed with: it is not in `SUITES`,
# so nothing can issue with it. Its verification method MUST be an Ed25519VerificationKey2020; a
# Multikey is accepted too, because for Ed25519 the two carry the same publicKeyMultibase bytes
# (0xed01 + the key, base58btc) and a did:key resolves to either form (the did:key method's
# publicKeyFormat option) — our resolver gives the Multikey form.
ED25519_SIGNATURE_2020 = Cryptosuite("Ed25519Signature2020", ("Ed25519",), "rdfc", ("Ed25519VerificationKey2020", "Multikey"))
LEGACY_PROOF_TYPES: dict[str, Cryptosuite] = {ED25519_SIGNATURE_2020.name: ED25519_SIGNATURE_2020}


def get_suite(name: object) -> Cryptosuite:
    suite = ALL_SUITES.get(name) if isinstance(name, str) else None
    if suite is None:
        raise ProofError(
            f"unknown cryptosuite {repr(name)[:80]}; supported: {', '.join(ALL_SUITES)}",
            code="PROOF_VERIFICATION_ERROR",
        )
    return suite


def _text(proof: Any, name: str) -> str | None:
    """A proof property that must be a string, or None: a list or object there names no suite.

    The one place the suite-naming properties are read, so that a hostile ``"type": ["x"]`` is
    reported as an unsupported proof rather than used as a dictionary key (unhashable).
    """
    value = proof.get(name) if isinstance(proof, dict) else None
    return value if isinstance(value, str) else None


def suite_for_proof(proof: dict[str, Any]) -> Cryptosuite:
    """The suite that checks ``proof``: a legacy proof type, or a DataIntegrityProof's cryptosuite."""
    legacy = LEGACY_PROOF_TYPES.get(_text(proof, "type") or "")
    return legacy if legacy is not None else get_suite(proof.get("cryptosuite") if isinstance(proof, dict) else None)


def proof_suite_name(proof: Any) -> str | None:
    """The name a proof's suite goes by: its cryptosuite, or a legacy proof's type (None if neither is a string)."""
    proof_type = _text(proof, "type")
    return proof_type if proof_type in LEGACY_PROOF_TYPES else _text(proof, "cryptosuite")


def default_suite_for(key_type: KeyType) -> Cryptosuite:
    """The RDFC suite for a key type: eddsa-rdfc-2022 for Ed25519, ecdsa-rdfc-2019 for P-256 / P-384."""
    return EDDSA_RDFC_2022 if key_type == "Ed25519" else ECDSA_RDFC_2019
