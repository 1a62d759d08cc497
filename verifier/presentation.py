"""Verifying a presentation as a recipient does: the holder's proof, each credential, holder binding, permission.

    result = verify_presentation(vp, challenge=c, domain=d, recipient=my_did, registry=snapshot)
    result = open_presentation(jwe, my_secret_key, challenge=c, domain=d, recipient=my_did)  # decrypt + verify

Checks, each a `CheckResult` in the result (never an exception for bad input):

* ``format``            — a VerifiablePresentation with a holder;
* ``presentationProof`` — a Data Integrity proof with purpose ``authentication`` answering *this* challenge and
  domain (a presentation without one is refused: it could be replayed);
* ``holder``            — the proof was made by a key the ``holder`` controls;
* ``credentials``       — every credential but the permissions verifies (proof, issuer, validity, status, links — the other
  credentials of the presentation are its linked inputs — and, given a registry, accreditation);
* ``holderBinding``     — each data credential is about the holder (``credentialSubject.customer``), was
  issued by it (a Carbon Accounting Provider passing on its own report), or is held under a permission in the
  presentation naming the holder as recipient; each permission was granted by or to the holder;
* ``permission``        — `perseus.verifier.permission.permission_check`: the data is covered by a
  permission for ``recipient`` that is in date and not withdrawn (status lists stapled to the presentation —
  ``BitstringStatusListCredential`` items — count, as do those passed in).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from .credential import credential_problems, issuer_id
from .dates import utc_now
from .errors import PerseusError
from .loader import DocumentLoader
from .permission import DATA_TYPES, PERMISSION_TYPE, permission_check
from .proofs import ProofExpectations, proofs_of, verify_proofs
from .result import CheckResult, ProblemDetail, VerificationResult
from .status import STATUS_LIST_CREDENTIAL_TYPE
from .verify import verify_credential

__all__ = ["open_presentation", "presentation_credentials", "verify_presentation"]


def _types(document: Mapping[str, Any]) -> set[str]:
    value = document.get("type")
    return {t for t in (value if isinstance(value, list) else [value]) if isinstance(t, str)}


def presentation_credentials(presentation: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the credentials a presentation carries, the status list credentials stapled to it)."""
    raw = presentation.get("verifiableCredential")
    items = [c for c in (raw if isinstance(raw, list) else [] if raw is None else [raw]) if isinstance(c, dict)]
    lists = [c for c in items if STATUS_LIST_CREDENTIAL_TYPE in _types(c)]
    return [c for c in items if STATUS_LIST_CREDENTIAL_TYPE not in _types(c)], lists


def verify_presentation(
    presentation: Any,
    *,
    challenge: str,
    domain: str,
    recipient: str | None = None,
    require_permission: bool = True,
    status_lists: Sequence[Any] = (),
    status_max_age: timedelta | None = None,
    inputs: Sequence[Any] = (),
    registry: Any = None,
    now: datetime | None = None,
    loader: DocumentLoader | None = None,
) -> VerificationResult:
    """Verify ``presentation`` for ``recipient`` over the channel ``domain`` with the ``challenge`` it was sent."""
    now = now or utc_now()
    loader = loader or DocumentLoader()
    result = VerificationResult(document=presentation)
    problems = credential_problems(presentation, kind="VerifiablePresentation")
    if not isinstance(presentation, dict) or problems:
        result.add(CheckResult("format", "failed", "not a well-formed presentation", problems or [ProblemDetail("MALFORMED_VALUE_ERROR", "not a JSON object", "format")]))
        return result
    holder = presentation.get("holder")
    holder = holder.get("id") if isinstance(holder, Mapping) else holder
    if not isinstance(holder, str):
        result.add(CheckResult("format", "failed", "no holder", [ProblemDetail("MALFORMED_VALUE_ERROR", "the presentation names no holder, so nothing binds it to who presents it", "format")]))
        return result
    result.add(CheckResult("format", "passed", f"VerifiablePresentation from {holder}"))
    # -- the holder's proof: authentication, this challenge, this domain
    if not proofs_of(presentation):
        result.add(CheckResult("presentationProof", "failed", "no proof", [ProblemDetail("CRYPTOGRAPHIC_SECURITY_ERROR", "the presentation has no proof; without one it could be replayed by anyone", "presentationProof")]))
        return result
    outcomes = verify_proofs(presentation, loader=loader, expect=ProofExpectations(proof_purpose="authentication", challenge=challenge, domain=domain, now=now))
    proof_problems = [ProblemDetail(p.code, f"{o.label}: {p.detail}", "presentationProof") for o in outcomes for p in o.problems]
    result.add(CheckResult("presentationProof", "failed" if proof_problems else "passed", f"{sum(o.verified for o in outcomes)} of {len(outcomes)} proofs verified", proof_problems))
    signers = {o.controller for o in outcomes if o.verified}
    if holder not in signers:
        shown = ", ".join(sorted(s for s in signers if s)) or "nobody (no proof verified)"
        result.add(CheckResult("holder", "failed", "not signed by its holder", [ProblemDetail("HOLDER_MISMATCH", f"the presentation names {holder} as holder, but it was signed by {shown}", "holder")]))
        return result
    result.add(CheckResult("holder", "passed", f"signed by the holder {holder}"))
    # -- each credential
    credentials, stapled = presentation_credentials(presentation)
    lists = [*status_lists, *stapled]
    pool = [*credentials, *inputs]
    bad: list[ProblemDetail] = []
    details = []
    for position, credential in enumerate(credentials):
        if PERMISSION_TYPE in _types(credential):
            continue  # judged by the permission check (verified, in date, not withdrawn, parents too)
        inner = verify_credential(credential, loader=loader, now=now, inputs=pool, status_lists=lists, status_max_age=status_max_age, registry=registry)
        details.append({"id": credential.get("id"), "verified": inner.verified})
        bad.extend(ProblemDetail(p.code, f"verifiableCredential[{position}] ({credential.get('id')}): {p.detail}", "credentials") for p in inner.errors)
    result.add(CheckResult("credentials", "failed" if bad else "passed", f"{sum(d['verified'] for d in details)} of {len(details)} credentials verified (permissions: see the permission check)", bad, {"credentials": details}))
    # -- holder binding
    binding: list[ProblemDetail] = []
    # A recipient passing data on (the CAP to a bank) holds it under a permission naming it: the permission
    # check below decides whether that permission, and the onward one, really cover it.
    recipients = {
        c["credentialSubject"].get("recipient")
        for c in credentials
        if PERMISSION_TYPE in _types(c) and isinstance(c.get("credentialSubject"), Mapping)
    }
    for credential in credentials:
        types = _types(credential)
        subject = credential.get("credentialSubject") if isinstance(credential.get("credentialSubject"), Mapping) else {}
        if PERMISSION_TYPE in types:
            if holder not in (issuer_id(credential), subject.get("recipient")):
                binding.append(ProblemDetail("HOLDER_MISMATCH", f"permission {credential.get('id')} was granted by {issuer_id(credential)} to {subject.get('recipient')}; the holder {holder} is neither", "holderBinding"))
        elif types & DATA_TYPES and holder not in (subject.get("customer"), issuer_id(credential)) and holder not in recipients:
            binding.append(ProblemDetail("HOLDER_MISMATCH", f"{credential.get('id')} is about {subject.get('customer') or subject.get('accountReference')}, not the holder {holder}, and was not issued by the holder", "holderBinding"))
    result.add(CheckResult("holderBinding", "failed" if binding else "passed", "the holder may present what it presents" if not binding else "credentials of someone else", binding))
    # -- permission (issue 12)
    if require_permission:
        result.add(permission_check(credentials, recipient=recipient, status_lists=lists, now=now, loader=loader, inputs=inputs))
    return result


def open_presentation(token: str, private_key: Any, **kwargs: Any) -> VerificationResult:
    """Decrypt a JWE presentation with the recipient's key and verify it (`verify_presentation`) in one call."""
    from .encryption import decrypt

    try:
        presentation = decrypt(token, private_key)
    except PerseusError as exc:
        result = VerificationResult(document=None)
        result.add(CheckResult("decryption", "failed", "not opened", [ProblemDetail(exc.code, exc.message, "decryption")]))
        return result
    result = verify_presentation(presentation, **kwargs)
    result.checks.insert(0, CheckResult("decryption", "passed", "decrypted with the recipient's key-agreement key (ECDH-ES+A256KW, A256GCM)"))
    return result
