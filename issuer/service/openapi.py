"""JSON Schemas for the OpenAPI document (``GET /openapi.json``).

The endpoints parse their bodies themselves (orjson, then the checks in `issuing` / `verifying` /
`statuses`): pydantic models on the hot path cost more than the rest of an issue request's HTTP
handling, and their generic 422 errors would not carry the VC error codes. So the request shapes
are declared here, once, for the document — the code that enforces them names each rule it checks.
"""

from __future__ import annotations

from typing import Any

__all__ = ["request_body", "responses"]

_OBJECT: dict[str, Any] = {"type": "object"}

CREDENTIAL = {
    "type": "object",
    "description": "A W3C Verifiable Credential (VC Data Model 2.0, or 1.1), without a proof.",
    "required": ["@context", "type", "issuer", "credentialSubject"],
    "properties": {
        "@context": {"type": "array", "items": {"oneOf": [{"type": "string"}, {"type": "object"}]}, "minItems": 1},
        "id": {"type": "string"},
        "type": {"type": "array", "items": {"type": "string"}, "contains": {"const": "VerifiableCredential"}},
        "issuer": {"oneOf": [{"type": "string"}, {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}]},
        "credentialSubject": {"oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}, "minItems": 1}]},
        "validFrom": {"type": "string", "format": "date-time"},
        "validUntil": {"type": "string", "format": "date-time"},
    },
}

ISSUE_REQUEST = {
    "type": "object",
    "required": ["credential"],
    "additionalProperties": False,
    "properties": {
        "credential": CREDENTIAL,
        "options": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "cryptosuite": {"type": "string", "enum": ["eddsa-rdfc-2022", "ecdsa-rdfc-2019", "eddsa-jcs-2022", "ecdsa-jcs-2019", "ecdsa-sd-2023"]},
                "type": {"type": "string", "const": "DataIntegrityProof"},
                "proofPurpose": {"type": "string", "default": "assertionMethod"},
                "credentialId": {"type": "string", "description": "Id to record the credential under when it has no id of its own."},
                "created": {"type": "string", "format": "date-time"},
                "domain": {"type": "string"},
                "challenge": {"type": "string"},
                "mandatoryPointers": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "ecdsa-sd-2023 (a P-256 profile that lists it): JSON pointers every disclosure must reveal; the id, "
                    "issuer, validity dates and status entries are always mandatory. The result carries a base proof, for the holder.",
                },
                "envelope": {
                    "type": "string",
                    "enum": ["application/vc+jwt"],
                    "description": "Secure the credential as a VC-JOSE-COSE JWT instead of a Data Integrity proof: the answer is an "
                    "EnvelopedVerifiableCredential whose id is data:application/vc+jwt,<token>. Not with the Data Integrity options.",
                },
                "credentialStatus": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["type"],
                    "properties": {"type": {"type": "string", "const": "BitstringStatusListEntry"}},
                    "description": "Add revocation and suspension BitstringStatusListEntry entries. VC 2.0 credentials always get them; "
                    "VC 1.1 credentials only when asked (their @context then gains https://www.w3.org/ns/credentials/status/v1).",
                },
            },
        },
    },
}

ISSUE_RESPONSE = {
    "type": "object",
    "required": ["verifiableCredential"],
    "properties": {"verifiableCredential": {"type": "object", "description": "The credential with its status entries and proof."}},
}

_VERIFY_OPTIONS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "checks": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Checks to run: proof, issuer, validity (or expiration), status (or credentialStatus), shape, connectedness. "
            "Default: proof, validity, status and connectedness — what a VC API verifier service checks; the issuer binding "
            "(issuer) only when asked, otherwise a missing binding is a warning.",
        },
        "domain": {"type": "string"},
        "challenge": {"type": "string"},
        "proofPurpose": {"type": "string"},
        "returnCredential": {"type": "boolean"},
        "returnResults": {"type": "boolean"},
        "returnProblemDetails": {"type": "boolean"},
    },
}

VERIFY_CREDENTIAL_REQUEST = {
    "type": "object",
    "required": ["verifiableCredential"],
    "additionalProperties": False,
    "properties": {"verifiableCredential": _OBJECT, "options": _VERIFY_OPTIONS},
}

CREDENTIAL_WITH_PROOF = {"type": "object", "description": "A credential with its proof.", "required": ["proof"]}

DERIVE_REQUEST = {
    "type": "object",
    "required": ["verifiableCredential"],
    "additionalProperties": False,
    "properties": {
        "verifiableCredential": {"type": "object", "description": "A credential with its ecdsa-sd-2023 base proof."},
        "options": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "selectivePointers": {"type": "array", "items": {"type": "string"}, "description": "JSON pointers of the claims to reveal."},
                "proofId": {"type": "string", "description": "The base proof to use, when the credential has several."},
            },
        },
    },
}

VERIFY_PRESENTATION_REQUEST = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"verifiablePresentation": _OBJECT, "presentation": _OBJECT, "options": _VERIFY_OPTIONS},
}

PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem detail; code is the W3C (VC Data Model, Data Integrity) or Perseus error code.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}

VERIFICATION_RESULT = {
    "type": "object",
    "required": ["verified", "checks", "errors", "warnings"],
    "properties": {
        "verified": {"type": "boolean"},
        "checks": {"type": "array", "items": {"type": "object"}},
        "errors": {"type": "array", "items": PROBLEM},
        "warnings": {"type": "array", "items": PROBLEM},
        "problemDetails": {"type": "array", "items": PROBLEM},
    },
}

_STATUS_ENTRY = {
    "type": "object",
    "required": ["type", "statusPurpose"],
    "properties": {
        "type": {"const": "BitstringStatusListEntry"},
        "statusPurpose": {"type": "string", "enum": ["revocation", "suspension"]},
        "status": {"type": "boolean"},
        "statusListCredential": {"type": "string"},
        "statusListIndex": {"type": "string"},
    },
}

UPDATE_STATUS_REQUEST = {
    "type": "object",
    "required": ["credentialId"],
    "additionalProperties": False,
    "properties": {
        "credentialId": {"type": "string"},
        "credentialStatus": {"oneOf": [_STATUS_ENTRY, {"type": "array", "items": _STATUS_ENTRY, "minItems": 1}]},
        "status": {"type": "boolean", "default": True, "description": "true sets the bit (revoked / suspended), false clears it"},
        "action": {"type": "string", "enum": ["revoke", "suspend", "unsuspend"]},
        "indexAllocator": {"type": "string"},
    },
}


def request_body(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """``openapi_extra`` for an endpoint that reads its JSON body itself."""
    return {"requestBody": {"required": True, "description": description, "content": {"application/json": {"schema": schema}}}}


def responses(*statuses: int, ok: tuple[int, str, dict[str, Any]] | None = None) -> dict[int | str, dict[str, Any]]:
    """The documented responses: ``ok`` (status, description, schema) and problem details for ``statuses``."""
    reasons = {
        400: "Bad input: a problem detail naming the field and the W3C error code",
        401: "No or an unknown bearer token",
        403: "The token may not use this issuer profile",
        404: "Not found",
        409: "Conflict (a duplicate credential id; revocation is final)",
        413: "The request body is larger than the configured limit",
        415: "The body is not JSON",
        503: "The database is busy or unreachable; retry",
    }
    out: dict[int | str, dict[str, Any]] = {}
    if ok is not None:
        status, description, schema = ok
        out[status] = {"description": description, "content": {"application/json": {"schema": schema}}}
    for status in statuses:
        out[status] = {"description": reasons.get(status, "Error"), "content": {"application/problem+json": {"schema": PROBLEM}}}
    return out
