"""``POST /credentials/verify`` and ``POST /presentations/verify``: the VC API verifier over our verifier.

What the answers look like, and why:

* **200 when verified, 400 when not** — with the same body either way (``verified``, ``checks``,
  ``errors``, ``warnings``, and ``problemDetails`` as the newer VC API names them). The W3C VC API
  verifier test suite and the Bitstring Status List suite both require a 4xx, with
  ``verified: false`` in the body, for a credential that fails (a missing ``@context``, a missing
  proof, a revoked credential, ...). A request that cannot even be read (no
  ``verifiableCredential``, unknown options) is a problem detail (400) instead.
* **Status is checked online, and only for what its issuer signed.** Nothing is fetched for a
  credential without a verified proof by its issuer's key (its status check then fails, "not
  checked"), so a stranger's JSON cannot make the service send requests. Status lists this service
  publishes — and every list of a credential naming one of its own DIDs as issuer — are read from
  its own storage, never over HTTP; others are fetched under `perseus.verifier.outbound`: public
  addresses only (unless a host is allowed in the settings), no redirects, one deadline for all the
  fetches of a request, a cap on the distinct lists one request may name and on each list's size,
  and error details that say "could not be retrieved" and nothing about the network.
* ``options.checks`` names the checks to run, with the VC API's names accepted beside ours
  (``credentialStatus`` = ``status``, ``expiration`` = ``validity``); an unknown name is a 400, so a
  typo cannot silently skip a check.
* **Without ``checks``, the service runs what a VC API verifier service does — not the issuer
  binding.** `SERVICE_DEFAULT_CHECKS` = proof, validity, status (and connectedness, which runs only
  for a credential with links). The VC API (w3c/vcalm, "verifier service") has the service check
  "the authenticity and timeliness" of a credential — its proofs and status — and leaves "business
  rules", such as "evaluating the issuer of a particular claim", to the verifier coordinator. VC
  Data Model 2.0 agrees: its verification algorithm (§7.1) returns the *controller* of the
  verification method beside the document, and whether that controller must be the ``issuer`` is
  left to validation (the informative Validation section, "Issuer": the controller is "typically"
  the issuer; "some ecosystems might have more complex relationships"). So the result carries each proof's ``controller``, a warning
  (``ISSUER_MISMATCH``) says when no verified proof's controller is the issuer, and a coordinator
  that wants the binding enforced asks for it: ``checks: ["proof", "issuer", ...]``. **Except for
  this service's own DIDs:** a credential naming one of them as issuer always gets the issuer check
  (a did:key that re-signed it is not this service, whatever the default says). The
  ``perseus verify`` command line keeps the issuer binding on by default (`DEFAULT_CHECKS`): a
  person running it is the relying party, and has no coordinator behind them.

**Enveloped credentials (VC-JOSE-COSE).** A ``verifiableCredential`` of type
``EnvelopedVerifiableCredential`` whose ``id`` is a ``data:application/vc+jwt,<token>`` URL is
verified as a ``vc+jwt`` (`perseus.verifier.jose.verify_jwt`): the JWS under the algorithm
allow-list with its ``kid`` resolved offline, then the same checks on the payload, with the same
defaults, own-DID issuer binding and status policy as a Data Integrity credential. Inside a
presentation too.

A presentation is verified as Data Integrity says for ``authentication`` proofs: its proof must answer
the ``challenge`` (and match the ``domain``) given in the options, its signer must be its ``holder``
when one is named, and every credential in it is verified in turn (assertionMethod proofs, the same
checks as ``/credentials/verify``).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from perseus.verifier.credential import VC_V2_CONTEXT, credential_problems, issuer_id
from perseus.verifier.dates import utc_now
from perseus.verifier.errors import PerseusError
from perseus.verifier.jose import VP_JWT_MEDIA_TYPE, JoseError, data_url_token, parse_jwt, verify_jwt, verify_presentation_jwt
from perseus.verifier.jsonld import expand
from perseus.verifier.jsonvalue import json_value_problem
from perseus.verifier.proofs import ProofExpectations, proofs_of, verify_proofs
from perseus.verifier.result import CheckResult, ProblemDetail, VerificationResult
from perseus.verifier.verify import CREDENTIAL_CHECKS, DEFAULT_CHECKS, verify_credential

from .problems import ServiceError
from .state import ServiceState, StatusFetcher

__all__ = [
    "CHECK_NAMES",
    "SERVICE_DEFAULT_CHECKS",
    "VerifyOptions",
    "parse_verify_request",
    "verify_credential_request",
    "verify_presentation_request",
]

# VC API / W3C suite names → the verifier's check names.
CHECK_NAMES: dict[str, str] = {
    **{name: name for name in CREDENTIAL_CHECKS},
    "credentialStatus": "status",
    "expiration": "validity",
    "validFrom": "validity",
    "validUntil": "validity",
}
# What /credentials/verify and /presentations/verify check when the request names no checks: the VC
# API verifier service's authenticity and timeliness, without the issuer binding (see module docs).
SERVICE_DEFAULT_CHECKS: tuple[str, ...] = tuple(c for c in DEFAULT_CHECKS if c != "issuer")
_CREDENTIAL_OPTIONS = ("checks", "domain", "challenge", "proofPurpose", "returnCredential", "returnResults", "returnProblemDetails")
_PRESENTATION_OPTIONS = _CREDENTIAL_OPTIONS


@dataclass(frozen=True)
class VerifyOptions:
    checks: frozenset[str]
    domain: str | None = None
    challenge: str | None = None
    proof_purpose: str | None = None
    return_credential: bool = False


def parse_verify_request(body: Any, *, presentation: bool = False) -> tuple[Any, VerifyOptions]:
    """The document to verify and the options; raises `ServiceError` (400) for an unreadable request."""
    field = "verifiablePresentation" if presentation else "verifiableCredential"
    if not isinstance(body, dict):
        raise ServiceError(400, "PARSING_ERROR", f"the request body must be a JSON object {{\"{field}\": {{...}}, \"options\": {{...}}}}")
    accepted = {field, "options"} | ({"presentation"} if presentation else set())
    unknown = sorted(set(body) - accepted)
    if unknown:
        hint = " ('credential' is what /credentials/issue takes)" if "credential" in unknown and not presentation else ""
        raise ServiceError(400, "PARSING_ERROR", f"unknown field(s) in the request body: {', '.join(unknown)}; expected '{field}' and 'options'{hint}")
    if presentation and field not in body and "presentation" in body:
        field = "presentation"  # the VC API's proofless form
    if field not in body:
        raise ServiceError(400, "PARSING_ERROR", f"the request body has no '{field}'")
    return body[field], _parse_options(body.get("options"), presentation)


def _parse_options(options: Any, presentation: bool) -> VerifyOptions:
    if options is None:
        return VerifyOptions(checks=frozenset(SERVICE_DEFAULT_CHECKS))
    if not isinstance(options, dict):
        raise ServiceError(400, "PARSING_ERROR", "'options' must be a JSON object")
    allowed = _PRESENTATION_OPTIONS if presentation else _CREDENTIAL_OPTIONS
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ServiceError(400, "PARSING_ERROR", f"unknown option(s) {', '.join(unknown)}; known: {', '.join(allowed)}")
    for name in ("domain", "challenge", "proofPurpose"):
        if name in options and not (isinstance(options[name], str) and options[name]):
            raise ServiceError(400, "PARSING_ERROR", f"options.{name} must be a non-empty string")
    for name in ("returnCredential", "returnResults", "returnProblemDetails"):
        if name in options and not isinstance(options[name], bool):
            raise ServiceError(400, "PARSING_ERROR", f"options.{name} must be true or false")
    return VerifyOptions(
        checks=_parse_checks(options.get("checks")),
        domain=options.get("domain"),
        challenge=options.get("challenge"),
        proof_purpose=options.get("proofPurpose"),
        return_credential=bool(options.get("returnCredential", False)),
    )


def _parse_checks(value: Any) -> frozenset[str]:
    if value is None:
        return frozenset(SERVICE_DEFAULT_CHECKS)
    names = value.split(",") if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ServiceError(400, "PARSING_ERROR", "options.checks must be an array of check names such as [\"proof\", \"credentialStatus\"]")
    chosen = set()
    for name in (n.strip() for n in names):
        if not name:
            continue
        if name not in CHECK_NAMES:
            raise ServiceError(400, "PARSING_ERROR", f"unknown check {name!r}; known: {', '.join(sorted(CHECK_NAMES))}")
        chosen.add(CHECK_NAMES[name])
    return frozenset(chosen)


# -- credentials --------------------------------------------------------------------------------------------


def verify_credential_request(state: ServiceState, document: Any, options: VerifyOptions, *, now: datetime | None = None) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) for ``/credentials/verify``. Blocking (CPU, database, maybe network)."""
    _publish_own_lists(state, _payload_of(document))
    fetcher = state.status_client(_named_status_urls([_payload_of(document)]))
    result = _verify_one(state, document, options, now or utc_now(), purpose=options.proof_purpose or "assertionMethod", fetcher=fetcher)
    body = _result_body(result)
    if options.return_credential:
        body["credential"] = document
    return (200 if result.verified else 400), body


def _publish_own_lists(state: ServiceState, document: Any) -> None:
    """Sign this service's status lists the credential names *before* the verification clock starts.

    A list signed during verification would carry a ``validFrom`` later than the verifier's "now"
    and be refused as not yet valid — a race a credential verified in the second its list is first
    published would lose.
    """
    entries = document.get("credentialStatus") if isinstance(document, dict) else None
    for entry in entries if isinstance(entries, list) else [entries]:
        url = entry.get("statusListCredential") if isinstance(entry, dict) else None
        list_id = state.own_list_id(url) if isinstance(url, str) else None
        if list_id is not None:
            with contextlib.suppress(PerseusError):  # an unknown list is reported by the check itself
                state.publisher.publish(list_id)


def _named_status_urls(documents: list[Any]) -> set[str]:
    """The distinct ``statusListCredential`` URLs a request's credentials name (counted before any fetch)."""
    urls: set[str] = set()
    for document in documents:
        entries = document.get("credentialStatus") if isinstance(document, dict) else None
        for entry in entries if isinstance(entries, list) else [entries]:
            url = entry.get("statusListCredential") if isinstance(entry, dict) else None
            if isinstance(url, str):
                urls.add(url)
    return urls


def _is_enveloped(document: Any) -> bool:
    return isinstance(document, dict) and "EnvelopedVerifiableCredential" in _types(document)


def _payload_of(document: Any) -> Any:
    """The credential a document carries: itself, or an enveloped vc+jwt's payload (unverified; None if unreadable)."""
    if not _is_enveloped(document):
        return document
    try:
        return parse_jwt(data_url_token(document.get("id"))).payload
    except JoseError:
        return None


def _verify_enveloped(state: ServiceState, document: dict[str, Any], checks: frozenset[str], now: datetime, fetcher: StatusFetcher) -> VerificationResult:
    """An EnvelopedVerifiableCredential: its own shape, then its vc+jwt as `verify_jwt` checks one."""
    context = document.get("@context")
    first = context[0] if isinstance(context, list) and context else context
    problems = [] if first == VC_V2_CONTEXT else [ProblemDetail("MALFORMED_VALUE_ERROR", f"an EnvelopedVerifiableCredential's first @context must be {VC_V2_CONTEXT}", "format")]
    unsecured = sorted(set(document) - {"@context", "id", "type"})
    if unsecured:
        # Only the JWS is secured: a property beside it (an `issuer`, a `credentialSubject`) would be
        # read by someone as part of what was verified. VC DM 2.0 §4.13 gives the envelope @context, id, type.
        problems.append(ProblemDetail("MALFORMED_VALUE_ERROR", f"an EnvelopedVerifiableCredential has only @context, id and type; {', '.join(unsecured)} would be outside what its JWT secures", "format"))
    try:
        token = data_url_token(document.get("id"))
    except JoseError as exc:
        problems.append(ProblemDetail(exc.code, exc.message, "format"))
    if problems:
        result = VerificationResult(document=document)
        result.add(CheckResult("format", "failed", "not a well-formed enveloped credential", problems))
        return result
    payload = _payload_of(document)
    if isinstance(payload, dict) and state.profiles.knows_issuer(issuer_id(payload)):
        checks = checks | {"issuer"}  # as for Data Integrity: this service's own DIDs always get the binding
        fetcher = fetcher.for_own_issuer()
    result = verify_jwt(token, loader=state.loader, checks=checks, now=now, status_client=fetcher)
    if state.registry is not None:
        # The accreditation check reads a Data Integrity proof's key and `created`; a vc+jwt has neither in
        # that form yet, so with a registry configured it fails closed rather than passing unchecked.
        result.add(CheckResult("accreditation", "failed", "not checked for a vc+jwt", [ProblemDetail(
            "ACCREDITATION_NOT_CHECKED",
            "this service checks issuers against a trust registry, and that check reads Data Integrity proofs only; "
            "ask the issuer for the credential with a Data Integrity proof",
            "accreditation",
        )]))
    return result


def _verify_one(
    state: ServiceState, document: Any, options: VerifyOptions, now: datetime, *, purpose: str, fetcher: StatusFetcher
) -> VerificationResult:
    if _is_enveloped(document):
        return _verify_enveloped(state, document, options.checks, now, fetcher)
    expect = ProofExpectations(proof_purpose=purpose, domain=options.domain, challenge=options.challenge, now=now)
    checks = options.checks
    issuer = issuer_id(document) if isinstance(document, dict) else None
    if state.profiles.knows_issuer(issuer):
        # A credential naming one of this service's own DIDs as issuer: the VC API default of leaving
        # the issuer binding to the caller would let anyone re-sign it with their own key and have
        # this service call it verified. Its status lists are ours, read from storage only.
        checks = checks | {"issuer"}
        fetcher = fetcher.for_own_issuer()
    registry = state.registry.current() if state.registry is not None else None
    if registry is not None:
        # The operator configured a trust registry: every credential's signer must have been accredited
        # for its type when it signed, and an issuer the registry knows always gets the issuer binding
        # (a credential naming an accredited EDP but signed by someone else's key is not that EDP's).
        checks = checks | {"accreditation"}
        if isinstance(issuer, str) and registry.lookup(issuer.split("#", 1)[0]) is not None:
            checks = checks | {"issuer"}
    return verify_credential(
        document, loader=state.loader, checks=checks, now=now, expect=expect, status_client=fetcher, registry=registry,
    )


def _result_body(result: VerificationResult) -> dict[str, Any]:
    body = result.to_json()
    body["problemDetails"] = body["errors"] + body["warnings"]
    return body


# -- presentations ----------------------------------------------------------------------------------------


def verify_presentation_request(state: ServiceState, document: Any, options: VerifyOptions, *, now: datetime | None = None) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) for ``/presentations/verify``: the presentation's checks, then each credential's."""
    now = now or utc_now()
    not_json = json_value_problem(document)
    if not_json is not None:  # a Python caller's document (HTTP bodies are parsed strictly already)
        result = VerificationResult(document=document)
        result.add(CheckResult("format", "failed", "not a JSON document", [ProblemDetail("MALFORMED_VALUE_ERROR", not_json, "format")]))
        return 400, _presentation_body(result, [])
    if isinstance(document, dict) and "EnvelopedVerifiablePresentation" in _types(document):
        result, payload = _enveloped_presentation(state, document, options, now)
        if payload is None:
            return 400, _presentation_body(result, [])
        document = payload
    else:
        result = VerificationResult(document=document)
        problems = credential_problems(document, kind="VerifiablePresentation")
        if not isinstance(document, dict):
            result.add(CheckResult("format", "failed", "not a JSON object", problems))
            return 400, _presentation_body(result, [])
        if not problems:
            try:
                expand(document, state.loader, strict=True)
            except PerseusError as exc:
                problems.append(ProblemDetail(exc.code, exc.message, "format"))
        result.add(CheckResult("format", "failed" if problems else "passed", "not a well-formed presentation" if problems else "VerifiablePresentation", problems))
        _presentation_proof(document, options, now, state, result)
    credential_results = []
    raw = document.get("verifiableCredential")
    credentials = [] if raw is None else raw if isinstance(raw, list) else [raw]
    fetcher = state.status_client(_named_status_urls([_payload_of(c) for c in credentials]))  # one deadline and one count for them all
    for credential in credentials:
        _publish_own_lists(state, _payload_of(credential))
        inner = _verify_one(state, credential, options_for_credentials(options), utc_now(), purpose="assertionMethod", fetcher=fetcher)
        credential_results.append(inner)
    verified = result.verified and all(r.verified for r in credential_results)
    return (200 if verified else 400), _presentation_body(result, credential_results)


def _enveloped_presentation(state: ServiceState, document: dict[str, Any], options: VerifyOptions, now: datetime) -> tuple[VerificationResult, dict[str, Any] | None]:
    """An EnvelopedVerifiablePresentation (``data:application/vp+jwt,<token>``): its shape, then the vp+jwt's own checks.

    Returns the result so far and the presentation (the JWT's payload) whose credentials come next, or
    None when there is no payload to go on with. ``challenge`` and ``domain`` are the JWT's ``nonce`` and ``aud``.
    """
    result = VerificationResult(document=document)
    context = document.get("@context")
    first = context[0] if isinstance(context, list) and context else context
    problems = [] if first == VC_V2_CONTEXT else [ProblemDetail("MALFORMED_VALUE_ERROR", f"an EnvelopedVerifiablePresentation's first @context must be {VC_V2_CONTEXT}", "format")]
    unsecured = sorted(set(document) - {"@context", "id", "type"})
    if unsecured:
        problems.append(ProblemDetail("MALFORMED_VALUE_ERROR", f"an EnvelopedVerifiablePresentation has only @context, id and type; {', '.join(unsecured)} would be outside what its JWT secures", "format"))
    try:
        token = data_url_token(document.get("id"), (VP_JWT_MEDIA_TYPE,))
    except JoseError as exc:
        problems.append(ProblemDetail(exc.code, exc.message, "format"))
    if problems:
        result.add(CheckResult("format", "failed", "not a well-formed enveloped presentation", problems))
        return result, None
    inner = verify_presentation_jwt(token, loader=state.loader, challenge=options.challenge, domain=options.domain, now=now)
    result.checks.extend(inner.checks)
    payload = inner.document
    return result, payload if isinstance(payload, dict) else None


def options_for_credentials(options: VerifyOptions) -> VerifyOptions:
    """Domain and challenge belong to the presentation's proof, not to the credentials inside it."""
    return VerifyOptions(checks=options.checks)


def _presentation_proof(document: dict[str, Any], options: VerifyOptions, now: datetime, state: ServiceState, result: VerificationResult) -> None:
    if not proofs_of(document):
        if not document.get("verifiableCredential"):
            # Nothing signed and nothing to check: "verified" would vouch for nothing at all.
            result.add(
                CheckResult(
                    "presentationProof",
                    "failed",
                    "no proof and no credentials",
                    [ProblemDetail("CRYPTOGRAPHIC_SECURITY_ERROR", "the presentation has no proof and no credentials, so nothing in it can be verified", "presentationProof")],
                )
            )
        elif options.challenge is not None or options.domain is not None:
            result.add(
                CheckResult(
                    "presentationProof",
                    "failed",
                    "no proof",
                    [ProblemDetail("CRYPTOGRAPHIC_SECURITY_ERROR", "the presentation has no proof, but a challenge or domain was given to check it against", "presentationProof")],
                )
            )
        else:
            result.add(CheckResult("presentationProof", "skipped", "the presentation has no proof (only its credentials are checked)"))
        return
    expect = ProofExpectations(
        proof_purpose=options.proof_purpose or "authentication", domain=options.domain, challenge=options.challenge, now=now
    )
    outcomes = verify_proofs(document, loader=state.loader, expect=expect)
    problems = [ProblemDetail(p.code, f"{o.label}: {p.detail}", "presentationProof") for o in outcomes for p in o.problems]
    good = sum(o.verified for o in outcomes)
    result.add(CheckResult("presentationProof", "failed" if problems else "passed", f"{good} of {len(outcomes)} presentation proofs verified", problems))
    holder = document.get("holder")
    holder_id = holder.get("id") if isinstance(holder, dict) else holder
    if isinstance(holder_id, str) and not problems:
        signers = {o.controller for o in outcomes if o.verified}
        if holder_id not in signers:
            result.add(
                CheckResult(
                    "holder",
                    "failed",
                    "not signed by its holder",
                    [ProblemDetail("ISSUER_MISMATCH", f"the presentation names {holder_id} as holder, but it was signed by {', '.join(sorted(s for s in signers if s))}", "holder")],
                )
            )
        else:
            result.add(CheckResult("holder", "passed", f"signed by the holder {holder_id}"))


def _presentation_body(result: VerificationResult, credentials: list[VerificationResult]) -> dict[str, Any]:
    body = result.to_json()
    errors = list(body["errors"])
    for position, inner in enumerate(credentials):
        for problem in inner.errors:
            errors.append(ProblemDetail(problem.code, f"verifiableCredential[{position}]: {problem.detail}", problem.check).to_json())
    body["verified"] = result.verified and all(r.verified for r in credentials)
    body["errors"] = errors
    body["credentialResults"] = [_result_body(r) for r in credentials]
    body["problemDetails"] = errors + body["warnings"]
    return body


def _types(document: dict[str, Any]) -> set[str]:
    value = document.get("type")
    values = value if isinstance(value, list) else [value]
    return {v for v in values if isinstance(v, str)}
