"""The VC 2.0 envelope every Perseus credential shares, and the checks run before a builder returns.

A builder returns a credential only if a recipient would accept it: it must have the shape of its type
(`perseus.verifier.shapes`, the same check recipients run) and be strict-mode-clean JSON-LD (every term
defined, nothing dropped, every IRI absolute), so that `perseus sign` can sign it and every verifier —
ours, or @digitalbazaar/vc in safe mode — can check it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from perseus.verifier.errors import MalformedValueError
from perseus.verifier.jsonld import to_rdf
from perseus.verifier.loader import DocumentLoader
from perseus.verifier.result import ProblemDetail
from perseus.verifier.shapes import validate_shape

from .claims import as_issuer
from .encode import utc_text

__all__ = ["CONTEXT", "PERSEUS_V1", "VC_V2", "CredentialShapeError", "envelope", "finish", "new_credential_id"]

VC_V2 = "https://www.w3.org/ns/credentials/v2"
PERSEUS_V1 = "https://w3id.org/perseus/credentials/v1"
CONTEXT = [VC_V2, PERSEUS_V1]

Check = Literal["full", "shape", "none"]


class CredentialShapeError(MalformedValueError):
    """A built credential does not have the shape of its type; ``problems`` lists every one found."""

    def __init__(self, problems: Sequence[ProblemDetail]) -> None:
        first = problems[0].detail if problems else "unknown problem"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"the credential is not well formed: {first}{more}")
        self.problems = list(problems)


def new_credential_id() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def envelope(
    credential_type: str,
    *,
    issuer: str | Mapping[str, Any],
    subject: dict[str, Any],
    metadata: dict[str, Any],
    assurance: dict[str, Any],
    provenance: dict[str, Any],
    credential_id: str | None,
    valid_from: datetime,
    valid_until: datetime | None = None,
    name: str | None = None,
    related: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """An unsigned VC 2.0 credential of `credential_type` with the Perseus parts, in a readable key order."""
    credential: dict[str, Any] = {
        "@context": list(CONTEXT),
        "id": credential_id or new_credential_id(),
        "type": ["VerifiableCredential", credential_type],
        "issuer": as_issuer(issuer),
        "validFrom": utc_text(valid_from),
    }
    if valid_until is not None:
        credential["validUntil"] = utc_text(valid_until)
    if name:
        credential["name"] = name
    credential["metadata"] = metadata
    credential["assurance"] = assurance
    credential["provenance"] = provenance
    if related:
        credential["relatedResource"] = list(related)
    credential["credentialSubject"] = subject
    return credential


def finish(credential: dict[str, Any], *, loader: DocumentLoader | None = None, check: Check = "full") -> dict[str, Any]:
    """Check `credential` and return it; raises `CredentialShapeError` or a `StrictModeError` naming the problem.

    ``check``: "full" (shape and strict JSON-LD → RDF, the default), "shape" (when the caller signs next:
    signing converts to RDF strictly anyway, so the conversion need not run twice) or "none" (tests only).
    """
    if check == "none":
        return credential
    problems = validate_shape(credential)
    if problems:
        raise CredentialShapeError(problems)
    if check == "full":
        to_rdf(credential, loader or DocumentLoader(), strict=True)
    return credential
