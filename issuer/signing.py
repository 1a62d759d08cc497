"""Signing: add a Data Integrity proof to a credential with a key file.

The document is checked strictly before anything is signed (every term defined, nothing that JSON-LD
would drop), because a signature over data the canonical form leaves out protects nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from perseus.verifier.errors import ProofError
from perseus.verifier.jsonld import expand
from perseus.verifier.loader import DocumentLoader
from perseus.verifier.proofs import add_proof
from perseus.verifier.suites import Cryptosuite, default_suite_for, get_suite

from .keyfile import KeyFile


def sign_document(
    document: Any,
    key: KeyFile,
    *,
    suite: str | Cryptosuite | None = None,
    loader: DocumentLoader | None = None,
    created: datetime | str | None = None,
    proof_purpose: str = "assertionMethod",
    previous_proof: str | list[str] | None = None,
    proof_id: str | None = None,
    domain: str | None = None,
    challenge: str | None = None,
    expires: datetime | str | None = None,
    mandatory_pointers: list[str] | None = None,
) -> dict[str, Any]:
    """A copy of `document` with one more proof made with `key` (a proof set, or a chain link).

    With the selective-disclosure suite ecdsa-sd-2023 the proof is a base proof for the holder;
    `mandatory_pointers` (JSON pointers) name what every disclosure must reveal, on top of the envelope
    claims the document has (id, issuer, validity dates, status: see `default_mandatory_pointers`).
    """
    if not isinstance(document, dict):
        raise ProofError("only a JSON object can be signed", code="PROOF_GENERATION_ERROR")
    loader = loader or DocumentLoader()
    chosen = default_suite_for(key.secret_key.key_type) if suite is None else suite if isinstance(suite, Cryptosuite) else get_suite(suite)
    chosen.check_key_type(key.secret_key.key_type)
    if chosen.canonicalization == "jcs":
        # JCS signs the JSON bytes, but the document is still JSON-LD: refuse undefined terms here too.
        expand({k: v for k, v in document.items() if k != "proof"}, loader, strict=True)
    selective: dict[str, Any] = {}
    if chosen.selective:
        from perseus.verifier.suites.ecdsa_sd_2023 import default_mandatory_pointers

        selective["mandatory_pointers"] = default_mandatory_pointers(document, mandatory_pointers or [])
    elif mandatory_pointers:
        raise ProofError(f"mandatory pointers are for selective disclosure (--suite ecdsa-sd-2023), not {chosen.name}", code="PROOF_GENERATION_ERROR")
    return add_proof(
        document,
        suite=chosen,
        secret_key=key.secret_key,
        verification_method=key.id,
        loader=loader,
        proof_purpose=proof_purpose,
        created=created,
        previous_proof=previous_proof,
        proof_id=proof_id,
        domain=domain,
        challenge=challenge,
        expires=expires,
        **selective,
    )
