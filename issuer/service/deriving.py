"""``POST /credentials/derive``: a holder's selective disclosure (ecdsa-sd-2023), as the VC API defines it.

The body is ``{"verifiableCredential": {...with its base proof}, "options": {"selectivePointers": [...]}}``
and the answer (201) is the derived credential itself (the VC API's DeriveCredentialResponse). Nothing is
stored and no key of the service is used: the base proof is checked against its issuer's key (resolved
offline, like every verification here) and the disclosure is verified before it is returned, so a
request the suite cannot serve is a 400 naming why, never a disclosure that fails later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from perseus.verifier.suites.ecdsa_sd_2023 import derive_credential

from .problems import ServiceError
from .state import ServiceState

__all__ = ["DeriveRequest", "derive_credential_request", "parse_derive_request"]

_OPTIONS = ("selectivePointers", "proofId")


@dataclass(frozen=True)
class DeriveRequest:
    credential: dict[str, Any]
    selective_pointers: list[str]
    proof_id: str | None = None


def parse_derive_request(body: Any) -> DeriveRequest:
    """The credential and the pointers; raises `ServiceError` (400, PARSING_ERROR) naming the field."""
    if not isinstance(body, dict):
        raise ServiceError(400, "PARSING_ERROR", 'the request body must be a JSON object {"verifiableCredential": {...}, "options": {"selectivePointers": [...]}}')
    unknown = sorted(set(body) - {"verifiableCredential", "options"})
    if unknown:
        raise ServiceError(400, "PARSING_ERROR", f"unknown field(s) in the request body: {', '.join(unknown)}; expected 'verifiableCredential' and 'options'")
    credential = body.get("verifiableCredential")
    if not isinstance(credential, dict):
        raise ServiceError(400, "PARSING_ERROR", "verifiableCredential must be a credential (a JSON object) with an ecdsa-sd-2023 base proof")
    options = body.get("options", {})
    if not isinstance(options, dict):
        raise ServiceError(400, "PARSING_ERROR", "'options' must be a JSON object")
    extra = sorted(set(options) - set(_OPTIONS))
    if extra:
        raise ServiceError(400, "PARSING_ERROR", f"unknown option(s) {', '.join(extra)}; known: {', '.join(_OPTIONS)}")
    pointers = options.get("selectivePointers", [])
    if not (isinstance(pointers, list) and all(isinstance(p, str) for p in pointers)):
        raise ServiceError(400, "PARSING_ERROR", "options.selectivePointers must be an array of JSON pointers (strings)")
    proof_id = options.get("proofId")
    if proof_id is not None and not (isinstance(proof_id, str) and proof_id):
        raise ServiceError(400, "PARSING_ERROR", "options.proofId must be a non-empty string")
    return DeriveRequest(credential, pointers, proof_id)


def derive_credential_request(state: ServiceState, request: DeriveRequest) -> dict[str, Any]:
    """The derived credential (raises `ProofError`, a 400 with PROOF_GENERATION_ERROR, saying why not)."""
    return derive_credential(request.credential, request.selective_pointers, loader=state.loader, proof_id=request.proof_id)
