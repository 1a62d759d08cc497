"""The errors the trust core raises, each tied to a code defined by the W3C specifications.

One exception type per kind of failure (as pyca/cryptography does with `InvalidSignature`), all
deriving from `PerseusError`, so that a caller can catch one class and still report a precise
reason. Every error carries:

* ``code`` — the error code the VC Data Model, VC Data Integrity, Controlled Identifiers or Bitstring
  Status List specifications define for this situation (or a Perseus code where they define none);
* a message a person can act on (what was wrong, where, and what to do).

`ProblemDetail` (see ``result.py``) turns any of them into an RFC 9457 problem detail.
"""

from __future__ import annotations

# Problem-detail type URLs. The VC Data Model and Data Integrity specifications publish their codes
# under these bases (VC DM 2.0 §7.1 "Verification"; VC Data Integrity 1.0 §2.? "Processing Errors").
VC_ERROR_BASE = "https://www.w3.org/TR/vc-data-model#"
DI_ERROR_BASE = "https://w3id.org/security#"
PERSEUS_ERROR_BASE = "https://w3id.org/perseus/errors#"
STATUS_ERROR_BASE = "https://www.w3.org/ns/credentials/status-list#"  # Bitstring Status List 1.0 §3.6

_VC_CODES = {"PARSING_ERROR", "CRYPTOGRAPHIC_SECURITY_ERROR", "MALFORMED_VALUE_ERROR", "RANGE_ERROR"}
_DI_CODES = {
    "PROOF_GENERATION_ERROR",
    "PROOF_VERIFICATION_ERROR",
    "PROOF_TRANSFORMATION_ERROR",
    "MALFORMED_PROOF_ERROR",
    "MISMATCHED_PROOF_PURPOSE_ERROR",
    "INVALID_DOMAIN_ERROR",
    "INVALID_CHALLENGE_ERROR",
    "INVALID_PROOF_CONFIGURATION",
    "INVALID_PROOF_DATETIME",
    "INVALID_VERIFICATION_METHOD",
    "INVALID_VERIFICATION_METHOD_URL",
    "INVALID_CONTROLLED_IDENTIFIER_DOCUMENT",
    "INVALID_CONTROLLED_IDENTIFIER_DOCUMENT_ID",
    "INVALID_RELATIONSHIP_FOR_VERIFICATION_METHOD",
}
_STATUS_CODES = {"STATUS_RETRIEVAL_ERROR", "STATUS_VERIFICATION_ERROR", "STATUS_LIST_LENGTH_ERROR"}


def error_type_url(code: str) -> str:
    """The problem-detail ``type`` URL for an error code."""
    if code in _VC_CODES:
        return VC_ERROR_BASE + code
    if code in _DI_CODES:
        return DI_ERROR_BASE + code
    if code in _STATUS_CODES:
        return STATUS_ERROR_BASE + code
    return PERSEUS_ERROR_BASE + code


class PerseusError(Exception):
    """Base of every error the project raises on purpose."""

    code: str = "PERSEUS_ERROR"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    @property
    def type_url(self) -> str:
        return error_type_url(self.code)


class ParsingError(PerseusError):
    """The input is not well-formed JSON (or not the JSON shape required)."""

    code = "PARSING_ERROR"


class MalformedValueError(PerseusError):
    """A value is present but not of the form the specification requires."""

    code = "MALFORMED_VALUE_ERROR"


class JsonLdError(PerseusError):
    """JSON-LD processing failed (an invalid context, an invalid keyword use, ...).

    ``jsonld_code`` holds the JSON-LD 1.1 API error code (for example ``invalid term definition``).
    """

    code = "PROOF_TRANSFORMATION_ERROR"

    def __init__(self, message: str, *, jsonld_code: str, path: str | None = None) -> None:
        super().__init__(f"{message} (at {path or '/'})" if path is not None else message)
        self.jsonld_code = jsonld_code
        self.path = path


#: The `jsonld_code` of a StrictModeError for JSON that is not in the contexts' plain compacted form.
NOT_PLAIN = "non-plain form"


class StrictModeError(JsonLdError):
    """A term, type or value would be dropped or left relative by JSON-LD expansion.

    Such data is not covered by a signature over the canonical RDF, so a signed document could be
    altered there without the signature noticing: we refuse it at signing and at verification.
    """

    def __init__(self, message: str, *, term: str, path: str, jsonld_code: str = "safe mode") -> None:
        super().__init__(message, jsonld_code=jsonld_code, path=path)
        self.term = term


class DocumentLoaderError(JsonLdError):
    """A context or document was requested that is not bundled; nothing is ever fetched."""

    def __init__(self, url: str, reason: str = "") -> None:
        why = reason or (
            "only the bundled, hash-pinned contexts and locally resolvable DIDs are loaded; "
            "nothing is fetched from the network (run `perseus contexts` to list them)"
        )
        JsonLdError.__init__(self, f"cannot load {url!r}: {why}", jsonld_code="loading document failed")
        self.url = url


class CanonicalizationError(PerseusError):
    """RDFC-1.0 refused the dataset (for example a "poison" graph that exceeds the work budget)."""

    code = "PROOF_TRANSFORMATION_ERROR"


class KeyFormatError(PerseusError):
    """A key (Multikey, key file, JWK) cannot be decoded or is of the wrong type for its use."""

    code = "INVALID_VERIFICATION_METHOD"


class DidResolutionError(PerseusError):
    """A DID or DID URL cannot be resolved offline."""

    code = "INVALID_VERIFICATION_METHOD_URL"


class ProofError(PerseusError):
    """Creating or checking a proof failed; ``code`` says which Data Integrity error it is."""

    code = "PROOF_VERIFICATION_ERROR"
