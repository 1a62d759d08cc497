"""Issuing VC-JOSE-COSE credentials: the credential as the payload of a JWS (``application/vc+jwt``).

    token = sign_jwt(credential, key)          # compact JWS: header.payload.signature

The payload is the credential exactly as given (VC-JOSE-COSE §3.1: no ``vc`` wrapper claim), the
protected header ``{"alg", "kid", "typ": "vc+jwt", "cty": "vc"}``. It is checked first as a Data
Integrity signature would be — well formed, every term defined (strict JSON-LD), and issued by the
key's controller — because a token a verifier must refuse (`perseus.verifier.jose.verify_jwt`
insists the key's controller is the issuer) is better refused here, with the reason.
`jwcrypto` makes the signature; the algorithm is the one fixed for the key type (EdDSA, ES256, ES384).
"""

from __future__ import annotations

import json
from typing import Any

from perseus.verifier.credential import credential_problems, issuer_id
from perseus.verifier.errors import ProofError
from perseus.verifier.jose import ALGORITHMS, DEFAULT_ALGORITHM
from perseus.verifier.jsonld import expand
from perseus.verifier.loader import DocumentLoader

from .keyfile import KeyFile

__all__ = ["sign_jwt"]


def sign_jwt(document: Any, key: KeyFile, *, loader: DocumentLoader | None = None, alg: str | None = None) -> str:
    """A ``vc+jwt`` compact JWS of `document`, signed with `key`; raises `ProofError` saying why it cannot be."""
    from jwcrypto import jwk, jws

    if not isinstance(document, dict):
        raise ProofError("only a JSON object can be signed", code="PROOF_GENERATION_ERROR")
    key_type = key.secret_key.key_type
    alg = alg or DEFAULT_ALGORITHM[key_type]
    if ALGORITHMS.get(alg) != key_type:
        allowed = ", ".join(a for a, t in ALGORITHMS.items() if t == key_type)
        raise ProofError(f"a {key_type} key cannot sign with {alg!r}; use {allowed}", code="PROOF_GENERATION_ERROR")
    problems = credential_problems(document)
    if problems:
        raise ProofError(f"not a credential that can be issued: {problems[0].detail}", code="PROOF_GENERATION_ERROR")
    if "proof" in document:
        raise ProofError("the credential already has a Data Integrity proof; a vc+jwt secures the credential without one", code="PROOF_GENERATION_ERROR")
    if issuer_id(document) != key.controller:
        raise ProofError(
            f"the credential's issuer is {issuer_id(document)}, but the key belongs to {key.controller}; a verifier would refuse the token",
            code="PROOF_GENERATION_ERROR",
        )
    expand(document, loader or DocumentLoader(), strict=True)
    header = {"alg": alg, "kid": key.id, "typ": "vc+jwt", "cty": "vc"}
    payload = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    token = jws.JWS(payload)
    token.add_signature(jwk.JWK(**key.secret_key.to_jwk()), alg=alg, protected=json.dumps(header, separators=(",", ":")))
    return str(token.serialize(compact=True))
