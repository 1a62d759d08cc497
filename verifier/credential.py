"""The shape of a Verifiable Credential (VC Data Model 2.0, and 1.1 for older issuers) and its validity period.

These are the checks that need no cryptography: is this a credential at all, is its issuer a URL,
does it have a subject, and is today inside [validFrom, validUntil]. Each problem carries the VC Data
Model's error code (MALFORMED_VALUE_ERROR, ...) or a Perseus code where the model defines none
(CREDENTIAL_EXPIRED, CREDENTIAL_NOT_YET_VALID), so a wallet can tell "forged" from "out of date".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .dates import parse_datetime
from .errors import PerseusError
from .result import ProblemDetail

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
VC_V1_CONTEXT = "https://www.w3.org/2018/credentials/v1"


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and ":" in value and not value.startswith(":") and " " not in value


def _types(document: dict[str, Any]) -> list[Any]:
    t = document.get("type")
    return t if isinstance(t, list) else [t]


def issuer_id(document: dict[str, Any]) -> str | None:
    """The credential's issuer as a URL (`issuer` is a URL or an object with an `id`)."""
    issuer = document.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def data_model_version(document: dict[str, Any]) -> int | None:
    context = document.get("@context")
    first = context[0] if isinstance(context, list) and context else context
    return {VC_V2_CONTEXT: 2, VC_V1_CONTEXT: 1}.get(first) if isinstance(first, str) else None


def credential_problems(document: Any, *, kind: str = "VerifiableCredential") -> list[ProblemDetail]:
    """Structural problems of a credential (or presentation, with kind="VerifiablePresentation")."""
    check = "format"
    if not isinstance(document, dict):
        return [ProblemDetail("PARSING_ERROR", f"a {kind} must be a JSON object", check)]
    problems: list[ProblemDetail] = []

    def bad(detail: str, code: str = "MALFORMED_VALUE_ERROR") -> None:
        problems.append(ProblemDetail(code, detail, check))

    version = data_model_version(document)
    if version is None:
        bad(f"the first @context must be {VC_V2_CONTEXT} (or {VC_V1_CONTEXT} for VC 1.1)")
    if kind not in _types(document):
        bad(f"type must include {kind!r}")
    if "id" in document and not _is_url(document["id"]):
        bad(f"id {document['id']!r} must be a URL")
    if kind == "VerifiablePresentation":
        return problems
    if "issuer" not in document:
        bad("the credential has no issuer")
    elif issuer_id(document) is None or not _is_url(issuer_id(document)):
        bad("issuer must be a URL or an object whose id is a URL")
    subject = document.get("credentialSubject")
    subjects = subject if isinstance(subject, list) else [subject]
    if subject is None or not subjects or not all(isinstance(s, dict) and s for s in subjects):
        bad("credentialSubject must be an object (or a list of objects) with at least one claim")
    for name in ("validFrom", "validUntil", "issuanceDate", "expirationDate"):
        if name in document:
            try:
                parse_datetime(document[name], field=name)
            except PerseusError as exc:
                bad(exc.message)
    if version == 2 and ("issuanceDate" in document or "expirationDate" in document):
        bad("issuanceDate and expirationDate are VC 1.1 terms; VC 2.0 uses validFrom and validUntil")
    # VC DM 2.0 §4.x: these optional properties hold objects that each MUST say their type.
    for name in ("credentialStatus", "evidence", "termsOfUse", "refreshService", "credentialSchema"):
        value = document.get(name)
        if value is None:
            continue
        for entry in value if isinstance(value, list) else [value]:
            if not isinstance(entry, dict) or not _has_type(entry):
                bad(f"each {name} entry must be an object with a type")
            elif name == "credentialSchema" and not _is_url(entry.get("id")):
                bad("each credentialSchema entry must have an id that is a URL")
    if "relatedResource" in document:
        problems.extend(ProblemDetail("MALFORMED_VALUE_ERROR", d, check) for d in _related_resource_problems(document["relatedResource"]))
    start, end = document.get("validFrom"), document.get("validUntil")
    if isinstance(start, str) and isinstance(end, str) and not any(p.detail.startswith(("validFrom", "validUntil")) for p in problems):
        try:
            if parse_datetime(end) < parse_datetime(start):
                bad(f"validUntil {end} is before validFrom {start}")
        except PerseusError:
            pass
    return problems


def _has_type(entry: dict[str, Any]) -> bool:
    t = entry.get("type")
    return (isinstance(t, str) and bool(t)) or (isinstance(t, list) and bool(t) and all(isinstance(x, str) for x in t))


def _related_resource_problems(value: Any) -> list[str]:
    """VC DM 2.0 §5.3: each related resource is an object with a URL id and a digest; ids are unique."""
    entries = value if isinstance(value, list) else [value]
    problems = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            problems.append(f"relatedResource[{i}] must be an object with an id and a digest, not {type(entry).__name__}")
            continue
        if not _is_url(entry.get("id")):
            problems.append(f"relatedResource[{i}] must have an id that is a URL")
        elif entry["id"] in seen:
            problems.append(f"relatedResource[{i}] repeats the id {entry['id']}; each resource may appear once")
        else:
            seen.add(entry["id"])
        if "digestSRI" not in entry and "digestMultibase" not in entry:
            problems.append(f"relatedResource[{i}] must have a digestSRI or a digestMultibase")
    return problems


def validity_problems(document: dict[str, Any], now: datetime) -> tuple[list[ProblemDetail], str]:
    """Whether `now` lies in the credential's validity period; returns problems and a summary."""
    starts = document.get("validFrom", document.get("issuanceDate"))
    ends = document.get("validUntil", document.get("expirationDate"))
    problems: list[ProblemDetail] = []
    try:
        start = parse_datetime(starts, field="validFrom") if starts is not None else None
        end = parse_datetime(ends, field="validUntil") if ends is not None else None
    except PerseusError as exc:
        return [ProblemDetail("MALFORMED_VALUE_ERROR", exc.message, "validity")], "dates are malformed"
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    if start is not None and now < start:
        problems.append(ProblemDetail("CREDENTIAL_NOT_YET_VALID", f"the credential is valid from {starts}; it is now {stamp}", "validity"))
    if end is not None and now > end:
        problems.append(ProblemDetail("CREDENTIAL_EXPIRED", f"the credential expired at {ends}; it is now {stamp}", "validity"))
    if start is not None and end is not None and end < start:
        problems.append(ProblemDetail("MALFORMED_VALUE_ERROR", f"validUntil {ends} is before validFrom {starts}", "validity"))
    if problems:
        return problems, "outside its validity period"
    period = f"{starts or 'any time'} to {ends or 'no end'}"
    return [], f"valid now ({period})"
