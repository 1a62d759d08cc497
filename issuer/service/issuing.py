"""``POST /credentials/issue``: check the request, reserve status positions, sign, record — in that order.

The order is the storage layer's crash contract (see `perseus.issuer.storage.store`): positions are
reserved (committed) before signing, so the signed credential names positions no other credential
can get; the issuance log row is committed — durably — before the 201 goes out, so a credential a
client received is never lost, even to kill -9.

Choices this module makes, each for a reason:

* **The issuer profile is chosen by the credential's ``issuer``** (a string, or an object's ``id``),
  matched against the profiles' DIDs — or by the URL (``/issuers/{profile}/credentials/issue``),
  which must then agree with ``issuer``. A credential *without* ``issuer`` is refused (400), never
  filled in: the VC API issuer test suite requires the refusal, and a caller who does not say whom
  it issues as has probably built the wrong credential.
* **Status is added to every VC 2.0 credential**: one ``revocation`` and one ``suspension``
  BitstringStatusListEntry at random positions (the v2 context defines their terms). A submitted
  BitstringStatusListEntry must be well formed (400 otherwise).
* **VC 1.1 credentials get status only when asked** (``options.credentialStatus: {"type":
  "BitstringStatusListEntry"}``, an issue option the VC API defined until 2024): Bitstring Status List 1.0 is written
  for VC 2.0, and neither the 1.1 context nor the Data Integrity context defines its terms — only
  ``https://www.w3.org/ns/credentials/status/v1`` does, a context many VC 1.1 verifiers (the W3C
  suites' own loaders among them) cannot load, which would make the whole credential unreadable to
  them. So that context is appended only to a 1.1 credential whose caller asked for status.
  Every VC 1.1 credential gets the Data Integrity v2 context appended when it lacks one (the 1.1
  context does not define ``DataIntegrityProof``; Digital Bazaar's issuer does the same).
* **Everything that can refuse a credential runs before anything is written**: the data-model
  checks (`credential_problems`), then strict JSON-LD expansion of the credential as it will be
  signed (with placeholder status entries of the same shape; see `check_signable`). Only then are
  status positions reserved. A refused request leaves no state behind, so sending it again gets
  the same 400 — never a 409 because a valid credential was issued under that id before.
* **No credential id is invented into the credential.** Without ``credential.id`` or
  ``options.credentialId`` the service records the credential under a new ``urn:uuid:`` it returns
  in the ``Location`` header (the VC API asks services not to auto-generate ids *into* credentials).
* **VC-JOSE-COSE on request** (``options.envelope: "application/vc+jwt"``): the credential, with
  its status entries, becomes the payload of a JWS signed with the profile's key (EdDSA, ES256 or
  ES384 by key type) and the answer is an ``EnvelopedVerifiableCredential`` whose ``id`` is the
  ``data:application/vc+jwt,<token>`` URL (VC DM 2.0 §4.13, VC-JOSE-COSE §3). The Data Integrity
  options (``cryptosuite``, ``created``, ``domain``, ``challenge``, ``proofPurpose``) do not apply
  and are refused with it.
* **A credential that already carries a proof is refused**: countersigning someone else's proof
  is not what this endpoint is for, and its proof would be signed over without being checked.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from perseus.verifier.canonical import no_cyclic_gc
from perseus.verifier.credential import VC_V1_CONTEXT, credential_problems, data_model_version, issuer_id
from perseus.verifier.dates import parse_datetime
from perseus.verifier.errors import PerseusError
from perseus.verifier.jose import enveloped_credential
from perseus.verifier.jsonld import expand
from perseus.verifier.result import ProblemDetail
from perseus.verifier.status import STATUS_ENTRY_TYPE
from perseus.verifier.suites import ALL_SUITES

from ..jose_signing import sign_jwt
from ..signing import sign_document
from ..status import attach_status, check_submitted_status, status_entries
from ..storage import DEFAULT_PURPOSES, ReservedEntry, StatusReservation
from .problems import ServiceError
from .settings import TokenGrant
from .state import ServiceState

__all__ = [
    "IssueOptions",
    "IssuePlan",
    "IssueRequest",
    "Issued",
    "check_signable",
    "issue_credential",
    "parse_issue_request",
    "plan_issue",
    "sign_reserved",
    "unsigned_credential",
]

DATA_INTEGRITY_CONTEXT = "https://w3id.org/security/data-integrity/v2"
DATA_INTEGRITY_CONTEXTS = (DATA_INTEGRITY_CONTEXT, "https://w3id.org/security/data-integrity/v1")
STATUS_CONTEXT = "https://www.w3.org/ns/credentials/status/v1"
PROOF_PURPOSES = ("assertionMethod", "authentication", "capabilityInvocation", "capabilityDelegation")
_KNOWN_OPTIONS = ("cryptosuite", "type", "proofPurpose", "credentialId", "created", "domain", "challenge", "mandatoryPointers", "credentialStatus", "envelope")
_ENVELOPES = ("application/vc+jwt",)  # VC-JOSE-COSE media types this issuer can secure a credential as
_MAX_ID_LENGTH = 2048


@dataclass(frozen=True)
class IssueOptions:
    cryptosuite: str | None = None
    proof_purpose: str = "assertionMethod"
    credential_id: str | None = None
    created: str | None = None
    domain: str | None = None
    challenge: str | None = None
    credential_status: bool = False  # options.credentialStatus asked for BitstringStatusListEntry status
    envelope: str | None = None  # options.envelope: "application/vc+jwt" secures the credential as a JWT
    mandatory_pointers: tuple[str, ...] = ()  # ecdsa-sd-2023: JSON pointers every disclosure must reveal


@dataclass(frozen=True)
class IssueRequest:
    credential: dict[str, Any]
    options: IssueOptions


@dataclass(frozen=True)
class Issued:
    credential_id: str
    profile_id: str
    credential: dict[str, Any]


def _bad(code: str, message: str, errors: list[ProblemDetail] | None = None) -> ServiceError:
    return ServiceError(400, code, message, errors=errors or ())


def parse_issue_request(body: Any) -> IssueRequest:
    """The ``{credential, options}`` body, checked; raises `ServiceError` (400) naming the field."""
    if not isinstance(body, dict):
        raise _bad("PARSING_ERROR", "the request body must be a JSON object {\"credential\": {...}, \"options\": {...}}")
    unknown = sorted(set(body) - {"credential", "options"})
    if "credential" not in body:
        hint = " (this endpoint signs a 'credential'; 'verifiableCredential' is what /credentials/verify takes)" if "verifiableCredential" in body else ""
        raise _bad("PARSING_ERROR", f"the request body has no 'credential'{hint}")
    if unknown:
        raise _bad("PARSING_ERROR", f"unknown field(s) in the request body: {', '.join(unknown)}; expected 'credential' and 'options'")
    credential = body["credential"]
    if not isinstance(credential, dict):
        raise _bad("PARSING_ERROR", f"'credential' must be a JSON object, not {_kind(credential)}")
    problems = credential_problems(credential)
    if problems:
        raise _bad(problems[0].code, f"credential: {problems[0].detail}", [ProblemDetail(p.code, p.detail, "credential") for p in problems])
    if "proof" in credential:
        raise _bad("MALFORMED_VALUE_ERROR", "credential: it already has a proof; send the credential unsigned and the service adds its proof")
    try:
        check_submitted_status(credential)
    except PerseusError as exc:
        raise _bad(exc.code, f"credential: {exc.message}") from None
    return IssueRequest(credential=credential, options=parse_issue_options(body.get("options")))


def parse_issue_options(options: Any) -> IssueOptions:
    if options is None:
        return IssueOptions()
    if not isinstance(options, dict):
        raise _bad("PARSING_ERROR", f"'options' must be a JSON object, not {_kind(options)}")
    unknown = sorted(set(options) - set(_KNOWN_OPTIONS))
    if unknown:
        raise _bad("PARSING_ERROR", f"unknown option(s) {', '.join(unknown)}; this issuer understands {', '.join(_KNOWN_OPTIONS)}")
    for name in ("cryptosuite", "proofPurpose", "credentialId", "created", "domain", "challenge", "type"):
        if name in options and not (isinstance(options[name], str) and options[name]):
            raise _bad("PARSING_ERROR", f"options.{name} must be a non-empty string")
    if options.get("type", "DataIntegrityProof") != "DataIntegrityProof":
        raise _bad("PROOF_GENERATION_ERROR", f"options.type {options['type']!r} is not supported; this issuer makes DataIntegrityProof proofs")
    pointers = options.get("mandatoryPointers", [])
    if not (isinstance(pointers, list) and all(isinstance(p, str) for p in pointers)):
        raise _bad("PARSING_ERROR", "options.mandatoryPointers must be an array of JSON pointers (strings)")
    suite = options.get("cryptosuite")
    if suite is not None and suite not in ALL_SUITES:
        raise _bad("PROOF_GENERATION_ERROR", f"unknown cryptosuite {suite!r}; this service signs with {', '.join(ALL_SUITES)}")
    if pointers and suite is not None and not ALL_SUITES[suite].selective:
        raise _bad("PROOF_GENERATION_ERROR", f"options.mandatoryPointers asks for selective disclosure (cryptosuite ecdsa-sd-2023), not {suite}")
    purpose = options.get("proofPurpose", "assertionMethod")
    if purpose not in PROOF_PURPOSES:
        raise _bad("PROOF_GENERATION_ERROR", f"options.proofPurpose {purpose!r} is not one of {', '.join(PROOF_PURPOSES)}")
    created = options.get("created")
    if created is not None:
        try:
            parse_datetime(created, field="options.created")
        except PerseusError as exc:
            raise _bad("MALFORMED_VALUE_ERROR", exc.message) from None
    envelope = _parse_envelope(options)
    credential_id = options.get("credentialId")
    if credential_id is not None and len(credential_id) > _MAX_ID_LENGTH:
        raise _bad("MALFORMED_VALUE_ERROR", f"options.credentialId is longer than {_MAX_ID_LENGTH} characters")
    return IssueOptions(
        cryptosuite=suite,
        proof_purpose=purpose,
        credential_id=credential_id,
        created=created,
        domain=options.get("domain"),
        challenge=options.get("challenge"),
        credential_status=_parse_credential_status(options.get("credentialStatus")),
        envelope=envelope,
        mandatory_pointers=tuple(pointers),
    )


def _parse_envelope(options: Mapping[str, Any]) -> str | None:
    """``options.envelope``: a VC-JOSE-COSE media type instead of a Data Integrity proof; DI-only options refused with it."""
    envelope = options.get("envelope")
    if envelope is None:
        return None
    if envelope not in _ENVELOPES:
        raise _bad("PARSING_ERROR", f"options.envelope must be one of {', '.join(_ENVELOPES)}, not {envelope!r}")
    di_only = sorted(n for n in ("cryptosuite", "type", "proofPurpose", "created", "domain", "challenge") if n in options)
    if di_only:
        raise _bad("PARSING_ERROR", f"option(s) {', '.join(di_only)} apply to Data Integrity proofs, not to options.envelope {envelope}")
    return str(envelope)


def _parse_credential_status(value: Any) -> bool:
    """``options.credentialStatus``: ``{"type": "BitstringStatusListEntry"}`` asks for status entries."""
    if value is None:
        return False
    if not isinstance(value, dict) or set(value) - {"type"} or not isinstance(value.get("type"), str):
        raise _bad("PARSING_ERROR", f'options.credentialStatus must be {{"type": "{STATUS_ENTRY_TYPE}"}}')
    if value["type"] != STATUS_ENTRY_TYPE:
        raise _bad("PARSING_ERROR", f"options.credentialStatus type {value['type']!r} is not supported; this issuer adds {STATUS_ENTRY_TYPE} entries")
    return True


@dataclass(frozen=True)
class IssuePlan:
    """What an issue request resolved to before anything is written: profile, suite, record id."""

    request: IssueRequest
    issuer: str
    profile_id: str
    suite: str
    credential_id: str
    status_purposes: tuple[str, ...] = DEFAULT_PURPOSES  # () for a VC 1.1 credential issued without status


def issue_credential(state: ServiceState, request: IssueRequest, grant: TokenGrant, *, profile_id: str | None = None) -> Issued:
    """Reserve status, sign and record ``request.credential``; raises `ServiceError` / `PerseusError`.

    Blocking (database and CPU). The service runs the same steps one by one (`plan_issue`, then
    ``storage.reserve_status``, `sign_reserved`, ``storage.save_issued``) so that it can wait for
    the database in a thread while signing on the event loop. `check_signable` runs before the
    reservation, so a credential that cannot be signed writes nothing.
    """
    plan = plan_issue(state, request, grant, profile_id=profile_id)
    check_signable(state, plan)
    reservation = state.storage.reserve_status(plan.profile_id, plan.credential_id, purposes=plan.status_purposes)
    signed = sign_reserved(state, plan, reservation)
    state.storage.save_issued(reservation, signed)
    return Issued(credential_id=plan.credential_id, profile_id=plan.profile_id, credential=signed)


def plan_issue(state: ServiceState, request: IssueRequest, grant: TokenGrant, *, profile_id: str | None = None) -> IssuePlan:
    """Choose the profile (by URL or by ``issuer``), check the token may use it, the suite and the id."""
    credential = request.credential
    options = request.options
    issuer = issuer_id(credential)
    assert issuer is not None  # credential_problems checked it
    if profile_id is not None:
        profile = state.profiles.by_id(profile_id)
        if profile is None:
            raise ServiceError(404, "ISSUER_PROFILE_NOT_FOUND", f"there is no issuer profile {profile_id!r}; GET /issuers lists them")
        if profile.issuer != issuer:
            raise _bad(
                "ISSUER_MISMATCH",
                f"credential.issuer is {issuer}, but profile {profile_id!r} issues as {profile.issuer}; "
                "put the profile's DID in credential.issuer (GET /issuers lists them)",
            )
    else:
        profile = state.profiles.by_issuer(issuer)
        if profile is None:
            raise _bad(
                "UNKNOWN_ISSUER",
                f"this service does not issue as {issuer}; put one of its issuer DIDs in credential.issuer "
                "(GET /issuers lists them; a did:key profile gets a new DID when its key is rotated)",
            )
    if not grant.allows(profile.profile_id):
        raise ServiceError(403, "FORBIDDEN", f"this API token may not issue as profile {profile.profile_id!r} ({profile.issuer})")
    suite = options.cryptosuite or profile.suites[0]
    if options.mandatory_pointers and not ALL_SUITES[suite].selective:
        selective = [s for s in profile.suites if s in ALL_SUITES and ALL_SUITES[s].selective]
        if options.cryptosuite is not None or not selective:
            raise _bad(
                "PROOF_GENERATION_ERROR",
                f"options.mandatoryPointers asks for selective disclosure (cryptosuite ecdsa-sd-2023), which profile "
                f"{profile.profile_id!r} does not offer; it signs with {', '.join(profile.suites)}",
            )
        suite = selective[0]
    if suite not in profile.suites and options.envelope is None:
        raise _bad(
            "PROOF_GENERATION_ERROR",
            f"profile {profile.profile_id!r} does not sign with {suite}; it signs with {', '.join(profile.suites)}",
        )
    credential_id = options.credential_id or (credential["id"] if isinstance(credential.get("id"), str) else None)
    credential_id = credential_id or f"urn:uuid:{uuid.uuid4()}"
    if len(credential_id) > _MAX_ID_LENGTH:
        raise _bad("MALFORMED_VALUE_ERROR", f"credential.id is longer than {_MAX_ID_LENGTH} characters")
    purposes = DEFAULT_PURPOSES if data_model_version(credential) != 1 or options.credential_status else ()
    return IssuePlan(
        request=request, issuer=issuer, profile_id=profile.profile_id, suite=suite, credential_id=credential_id, status_purposes=purposes
    )


def check_signable(state: ServiceState, plan: IssuePlan) -> None:
    """Refuse (raise `PerseusError`, a 400) a credential that signing would refuse — before anything is written.

    Strict JSON-LD expansion of the credential exactly as it will be signed, with placeholder status
    entries of the shape the reservation will give them. Expansion is where strict mode refuses a
    document — undefined terms, dropped values, relative or ill-formed IRIs, malformed language tags
    (tests/service/test_service_issue.py holds one of each) — so the conversion to RDF that RDFC
    signing adds finds nothing more to refuse; running it here too would cost another ~0.4 ms per
    issue (measured: strict expansion 0.21 ms, expansion + RDF 0.64 ms, signing 1.1 ms for the
    4.5 KB tariff credential of bench/bench_service.py).
    """
    placeholder = StatusReservation(
        profile_id=plan.profile_id,
        credential_id=plan.credential_id,
        issuer=plan.issuer,
        key_id=None,
        entries=tuple(ReservedEntry(purpose=p, list_id=f"preview-{p}", index=0) for p in plan.status_purposes),
    )
    preview = unsigned_credential(state, plan, placeholder)
    with no_cyclic_gc():  # as signing does: the collector would rescan the many small acyclic objects
        expand(preview, state.loader, strict=True)


def unsigned_credential(state: ServiceState, plan: IssuePlan, reservation: StatusReservation) -> dict[str, Any]:
    """The credential as it will be signed: the contexts it needs, and the reservation's status entries."""
    status = bool(reservation.entries)
    credential = _with_needed_contexts(plan.request.credential, status=status)
    return attach_status(credential, status_entries(reservation, state.list_url)) if status else credential


def sign_reserved(state: ServiceState, plan: IssuePlan, reservation: StatusReservation) -> dict[str, Any]:
    """The signed credential: status entries for ``reservation`` added, signed with its key."""
    if reservation.issuer != plan.issuer:
        state.profiles.refresh()
        raise ServiceError(
            409,
            "ISSUER_CHANGED",
            f"profile {plan.profile_id!r} now issues as {reservation.issuer} (its key was rotated); "
            "put that DID in credential.issuer and send the request again",
        )
    options = plan.request.options
    unsigned = unsigned_credential(state, plan, reservation)
    key = state.keys.signing_key_for(reservation)
    if options.envelope is not None:
        return enveloped_credential(sign_jwt(unsigned, key, loader=state.loader), options.envelope)
    if key.secret_key.key_type not in ALL_SUITES[plan.suite].key_types:
        state.profiles.refresh()
        raise ServiceError(409, "ISSUER_CHANGED", f"profile {plan.profile_id!r} changed its key type meanwhile; send the request again")
    return sign_document(
        unsigned,
        key,
        suite=plan.suite,
        loader=state.loader,
        created=options.created,
        proof_purpose=options.proof_purpose,
        domain=options.domain,
        challenge=options.challenge,
        mandatory_pointers=list(options.mandatory_pointers) if ALL_SUITES[plan.suite].selective else None,
    )


def _with_needed_contexts(credential: Mapping[str, Any], *, status: bool = False) -> dict[str, Any]:
    """A VC 1.1 credential with the contexts our proof (and, with ``status``, our status entries) need."""
    out = dict(credential)
    if data_model_version(out) != 1:
        return out
    raw = out["@context"]
    context = list(raw) if isinstance(raw, list) else [raw]
    if not any(c in context for c in DATA_INTEGRITY_CONTEXTS):
        context.append(DATA_INTEGRITY_CONTEXT)
    if status and STATUS_CONTEXT not in context:
        context.append(STATUS_CONTEXT)
    out["@context"] = context
    assert context[0] == VC_V1_CONTEXT
    return out


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "an array", dict: "an object"}.get(type(value), type(value).__name__)
