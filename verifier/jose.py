"""VC-JOSE-COSE: credentials and presentations secured as JWS compact tokens (``vc+jwt``, ``vp+jwt``).

    result = verify_jwt(token)                      # every check, as verify_credential runs them
    result = verify_jwt(token, checks={"proof"})    # only the signature
    token = data_url_token(enveloped["id"])         # the JWT inside an EnvelopedVerifiableCredential

Securing Verifiable Credentials using JOSE and COSE (W3C Recommendation) §3.1: the JWS payload *is*
the credential (or presentation) — no ``vc`` claim as in VC 1.1's VC-JWT — and the protected header
carries ``alg``, ``kid`` and ``typ`` (``vc+jwt`` / ``vp+jwt``). Why each rule here:

* **An allow-list of algorithms, chosen from the header only after it is checked:** ``EdDSA`` and
  ``Ed25519`` (RFC 8037 / RFC 9864) for Ed25519 keys, ``ES256`` for P-256, ``ES384`` for P-384 —
  the key types the Data Integrity suites here use. ``none`` and every HMAC (``HS*``) are refused
  before any key is touched: an ``HS256`` token "signed" with the issuer's *public* key as the
  secret is the classic JWT forgery, and a verifier that lets the header pick the algorithm falls
  for it. The algorithm must also fit the resolved key's type (an ES256 header cannot be checked
  with an Ed25519 key).
* **``kid`` is resolved offline, through the same `DocumentLoader` as Data Integrity proofs** (did:key,
  and whatever DID resolvers the caller added): a token's key comes from its issuer's DID document,
  never from the token (``jwk``, ``jku``, ``x5u`` and ``x5c`` headers are refused, as is ``crit``).
  The method must be listed under ``assertionMethod`` (``authentication`` for a presentation).
* **``iss`` (header or claim), when present, must equal the credential's ``issuer``**, and the
  ``issuer`` check asks, as for a Data Integrity proof, that the key's controller *be* the issuer.
* **The payload gets the same checks as any credential** (`verify_credential` with the proof check
  replaced by the JWS one): format and strict JSON-LD, validity (and ``exp``/``nbf`` claims), status,
  shapes, connectedness. Status lists are fetched only when the signature and the issuer binding
  hold, as for Data Integrity.

`jwcrypto` does the JWS work (a well-kept implementation); this module decides what it may accept.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote_to_bytes

from .credential import credential_problems, issuer_id
from .dates import utc_now
from .errors import PerseusError
from .jsonld import expand
from .keys import KeyType
from .loader import DocumentLoader
from .proofs import ProofOutcome, _resolve_key
from .result import CheckResult, ProblemDetail, VerificationResult
from .status import HttpGet, status_check, status_check_online
from .verify import parse_checks, verify_credential

__all__ = [
    "ALGORITHMS",
    "VC_JWT_MEDIA_TYPE",
    "VP_JWT_MEDIA_TYPE",
    "JoseError",
    "data_url_token",
    "enveloped_credential",
    "looks_like_jwt",
    "parse_jwt",
    "verify_jwt",
    "verify_presentation_jwt",
]

VC_JWT_MEDIA_TYPE = "application/vc+jwt"
VP_JWT_MEDIA_TYPE = "application/vp+jwt"
# JWS alg -> the one key type it may be checked with. Nothing else is ever accepted.
ALGORITHMS: dict[str, KeyType] = {"EdDSA": "Ed25519", "Ed25519": "Ed25519", "ES256": "P-256", "ES384": "P-384"}
DEFAULT_ALGORITHM: dict[KeyType, str] = {"Ed25519": "EdDSA", "P-256": "ES256", "P-384": "ES384"}
_TYP = {"VerifiableCredential": ("vc+jwt", VC_JWT_MEDIA_TYPE), "VerifiablePresentation": ("vp+jwt", VP_JWT_MEDIA_TYPE)}
# Headers that would let the token choose its own key, or make us ignore parts of it.
_REFUSED_HEADERS = ("jwk", "jku", "x5u", "x5c", "crit", "b64")
# JWT claims (RFC 7519 §4.1, nonce, cnf) VC-JOSE-COSE lets the payload carry beside the credential's
# JSON-LD: checked here as claims, left out of the JSON-LD checks (no context defines them).
JWT_CLAIMS = ("iss", "sub", "aud", "exp", "nbf", "iat", "jti", "nonce", "cnf")
_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
MAX_TOKEN_LENGTH = 16 * 1024 * 1024


class JoseError(PerseusError):
    """A token that cannot be read as a VC-JOSE-COSE JWS (its form, not its signature)."""

    code = "PARSING_ERROR"


@dataclass(frozen=True)
class ParsedJwt:
    """A compact JWS split and decoded, not yet verified."""

    token: str
    header: dict[str, Any]
    payload: dict[str, Any]


def looks_like_jwt(text: str) -> bool:
    """Whether `text` (stripped) has the shape of a JWS compact serialization: three base64url parts."""
    return _COMPACT.fullmatch(text.strip()) is not None


def _b64url_json(part: str, what: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise JoseError(f"the JWT's {what} is not base64url") from None
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise JoseError(f"the JWT's {what} is not UTF-8 JSON") from None
    if not isinstance(value, dict):
        raise JoseError(f"the JWT's {what} must be a JSON object")
    return value


def parse_jwt(token: str) -> ParsedJwt:
    """Split and decode a compact JWS; raises `JoseError` for anything that is not one."""
    if not isinstance(token, str):
        raise JoseError("a JWT must be a string")
    token = token.strip()
    if len(token) > MAX_TOKEN_LENGTH:
        raise JoseError(f"the JWT is longer than {MAX_TOKEN_LENGTH} characters")
    if not looks_like_jwt(token):
        raise JoseError("not a JWS compact serialization (three base64url parts separated by dots, none empty)")
    header_part, payload_part, _ = token.split(".")
    return ParsedJwt(token, _b64url_json(header_part, "protected header"), _b64url_json(payload_part, "payload"))


def data_url_token(url: Any, media_types: Sequence[str] = (VC_JWT_MEDIA_TYPE,)) -> str:
    """The token in an ``EnvelopedVerifiableCredential`` id: ``data:application/vc+jwt,<token>`` (RFC 2397)."""
    if not isinstance(url, str) or not url.startswith("data:"):
        raise JoseError("an enveloped credential's id must be a data: URL such as data:application/vc+jwt,eyJ...")
    meta, comma, data = url[5:].partition(",")
    if not comma:
        raise JoseError("the data: URL has no ',' before its data")
    media, *params = meta.split(";")
    if media not in media_types:
        raise JoseError(f"the data: URL's media type is {media or '(none)'!r}; expected {' or '.join(media_types)}")
    if "base64" in params:
        raise JoseError("the data: URL must carry the JWT as is, not base64-encoded again")
    try:
        return unquote_to_bytes(data).decode("ascii")
    except UnicodeDecodeError:
        raise JoseError("the data: URL's JWT is not ASCII") from None


def enveloped_credential(token: str, media_type: str = VC_JWT_MEDIA_TYPE) -> dict[str, Any]:
    """An ``EnvelopedVerifiableCredential`` (VC DM 2.0 §4.13) wrapping `token`, as the VC API returns one."""
    kind = "EnvelopedVerifiablePresentation" if media_type == VP_JWT_MEDIA_TYPE else "EnvelopedVerifiableCredential"
    return {"@context": "https://www.w3.org/ns/credentials/v2", "id": f"data:{media_type},{token}", "type": kind}


# -- verifying ---------------------------------------------------------------------------------------------


def _header_problems(header: Mapping[str, Any], kind: str) -> list[ProblemDetail]:
    problems = []

    def bad(detail: str, code: str = "MALFORMED_PROOF_ERROR") -> None:
        problems.append(ProblemDetail(code, detail, "proof"))

    alg = header.get("alg")
    if alg not in ALGORITHMS:
        shown = alg if isinstance(alg, str) else json.dumps(alg)
        why = " (an unsecured JWT is never accepted)" if isinstance(alg, str) and alg.lower() == "none" else ""
        why = why or (" (an HMAC cannot prove who signed: anyone holding the 'secret', such as the issuer's public key, can make one)" if isinstance(alg, str) and alg.upper().startswith("HS") else "")
        bad(f"the JWT's alg {shown!r} is not allowed{why}; allowed: {', '.join(ALGORITHMS)}", "INVALID_PROOF_CONFIGURATION")
    for name in _REFUSED_HEADERS:
        if name in header:
            bad(f"the JWT's protected header has {name!r}, which is refused: the key comes from the issuer's DID document only, and every header must be understood")
    typ = header.get("typ")
    expected = _TYP[kind]
    if typ is not None and typ not in expected:
        bad(f"the JWT's typ is {typ!r}; a {kind} is secured as {expected[0]!r}")
    kid = header.get("kid")
    if not (isinstance(kid, str) and kid):
        bad("the JWT's protected header has no kid (the verification method, e.g. did:key:z6Mk...#z6Mk...), so its key cannot be found offline", "INVALID_VERIFICATION_METHOD_URL")
    return problems


def _kid_url(kid: str, payload: Mapping[str, Any], header: Mapping[str, Any], kind: str) -> str:
    """An absolute DID URL: a relative ``#fragment`` kid is relative to the issuer (or holder)."""
    if not kid.startswith("#"):
        return kid
    owner = issuer_id(payload) if kind == "VerifiableCredential" else _holder(payload)
    owner = owner or header.get("iss") or payload.get("iss")
    return f"{owner}{kid}" if isinstance(owner, str) else kid


def _holder(payload: Mapping[str, Any]) -> str | None:
    holder = payload.get("holder")
    holder = holder.get("id") if isinstance(holder, dict) else holder
    return holder if isinstance(holder, str) else None


def _signature_check(parsed: ParsedJwt, loader: DocumentLoader, kind: str) -> tuple[CheckResult, str | None]:
    """The JWS check (named ``proof``, as the check it replaces) and the key's controller when it verified."""
    from jwcrypto import jwk, jws
    from jwcrypto.common import JWException

    problems = _header_problems(parsed.header, kind)
    if problems:
        return CheckResult("proof", "failed", "the JWT's header is refused", problems), None
    alg = parsed.header["alg"]
    method_url = _kid_url(parsed.header["kid"], parsed.payload, parsed.header, kind)
    purpose = "assertionMethod" if kind == "VerifiableCredential" else "authentication"
    outcome = ProofOutcome(index=0, proof={"verificationMethod": method_url, "proofPurpose": purpose})
    public_key, method = _resolve_key(outcome.proof, loader, outcome)
    details = {"alg": alg, "kid": parsed.header["kid"], "verificationMethod": method_url}
    if public_key is None:
        return CheckResult("proof", "failed", "the JWT's key was not found", outcome.problems, details), None
    details["controller"] = method.get("controller")
    if ALGORITHMS[alg] != public_key.key_type:
        detail = f"the JWT's alg {alg} needs a {ALGORITHMS[alg]} key, but {method_url} is a {public_key.key_type} key"
        return CheckResult("proof", "failed", "algorithm and key do not match", [ProblemDetail("INVALID_PROOF_CONFIGURATION", detail, "proof")], details), None
    try:
        token = jws.JWS()
        token.deserialize(parsed.token)
        token.allowed_algs = [alg]
        token.verify(jwk.JWK(**public_key.to_jwk()), alg=alg)
    except (JWException, ValueError, TypeError) as exc:
        detail = f"the JWT's signature does not verify with {method_url} ({type(exc).__name__})"
        return CheckResult("proof", "failed", "signature invalid", [ProblemDetail("PROOF_VERIFICATION_ERROR", detail, "proof")], details), None
    return CheckResult("proof", "passed", f"JWS {alg} signature verified ({kind == 'VerifiableCredential' and 'vc' or 'vp'}+jwt)", [], details), details["controller"]


def _claim_time(value: Any, name: str, problems: list[ProblemDetail]) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problems.append(ProblemDetail("MALFORMED_VALUE_ERROR", f"the JWT claim {name} must be a NumericDate (seconds since 1970)", "format"))
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        problems.append(ProblemDetail("MALFORMED_VALUE_ERROR", f"the JWT claim {name} is out of range", "format"))
        return None


def _claims_check(parsed: ParsedJwt, now: datetime, kind: str) -> tuple[list[ProblemDetail], list[ProblemDetail]]:
    """(format problems, validity problems) of the registered claims a VC-JOSE-COSE payload may carry."""
    form: list[ProblemDetail] = []
    validity: list[ProblemDetail] = []
    owner = issuer_id(parsed.payload) if kind == "VerifiableCredential" else _holder(parsed.payload)
    for where, source in (("header", parsed.header), ("claim", parsed.payload)):
        iss = source.get("iss")
        if iss is not None and iss != owner:
            who = "issuer" if kind == "VerifiableCredential" else "holder"
            form.append(ProblemDetail("ISSUER_MISMATCH", f"the JWT {where} iss {iss!r} is not the {kind}'s {who} {owner!r}", "format"))
    exp = _claim_time(parsed.payload.get("exp"), "exp", form)
    nbf = _claim_time(parsed.payload.get("nbf"), "nbf", form)
    if exp is not None and now >= exp:
        validity.append(ProblemDetail("CREDENTIAL_EXPIRED", f"the JWT expired at {exp.isoformat()} (exp)", "validity"))
    if nbf is not None and now < nbf:
        validity.append(ProblemDetail("CREDENTIAL_NOT_YET_VALID", f"the JWT is not valid before {nbf.isoformat()} (nbf)", "validity"))
    return form, validity


def verify_jwt(
    token: str,
    *,
    loader: DocumentLoader | None = None,
    checks: str | Iterable[str] | None = None,
    now: datetime | None = None,
    shapes: bool = False,
    inputs: Sequence[Any] | Mapping[str, Any] = (),
    status_lists: Sequence[Any] | Mapping[str, Any] = (),
    status_client: HttpGet | None = None,
    status_max_age: timedelta | None = None,
    issuer_binding_warning: bool = True,
) -> VerificationResult:
    """Verify a ``vc+jwt`` credential offline, with the checks `verify_credential` runs; never raises for bad input.

    The result's ``document`` is the payload (the credential) when the token could be decoded.
    """
    loader = loader or DocumentLoader()
    wanted = parse_checks(checks)
    if shapes:
        wanted.add("shape")
    now = now or utc_now()
    result = VerificationResult()
    try:
        parsed = parse_jwt(token)
    except JoseError as exc:
        result.add(CheckResult("format", "failed", "not a VC-JOSE-COSE token", [ProblemDetail(exc.code, exc.message, "format")]))
        return result
    payload = parsed.payload
    result.document = payload
    if "VerifiablePresentation" in _types(payload):
        result.add(CheckResult("format", "failed", "a presentation", [ProblemDetail("MALFORMED_VALUE_ERROR", "this JWT secures a presentation (vp+jwt), not a credential", "format")]))
        return result
    signature, controller = _signature_check(parsed, loader, "VerifiableCredential")
    form_problems, validity_problems = _claims_check(parsed, now, "VerifiableCredential")
    # The payload's own checks, without the Data Integrity proof and issuer checks the JWS replaces
    # and without status, which is checked below only for what its issuer is shown to have signed.
    inner = verify_credential(
        _without_claims(payload), loader=loader, checks=wanted - {"proof", "issuer", "status"}, now=now,
        inputs=inputs, status_lists=status_lists, status_client=status_client, status_max_age=status_max_age,
    )
    by_name = {c.check: c for c in inner.checks}
    form = by_name.get("format") or CheckResult("format", "failed", "not a credential", credential_problems(payload))
    if form_problems:
        form = CheckResult("format", "failed", "not a well-formed credential", form.problems + form_problems, form.details)
    result.add(form)
    if "proof" in wanted:
        result.add(signature)
    binding = _binding_check(payload, controller)
    if "issuer" in wanted:
        result.add(binding)
    elif signature.outcome == "passed" and binding.outcome == "failed" and issuer_binding_warning:
        result.warnings.extend(binding.problems)
    for check in inner.checks:
        if check.check == "validity" and validity_problems:
            check = CheckResult("validity", "failed", check.summary if check.problems else "the JWT's exp/nbf exclude now", check.problems + validity_problems)
        if check.check != "format":
            result.add(check)
    if "validity" in wanted and "validity" not in by_name and validity_problems:
        result.add(CheckResult("validity", "failed", "the JWT's exp/nbf exclude now", validity_problems))
    if "status" in wanted and payload.get("credentialStatus") is not None:
        if form.outcome == "failed":
            result.add(CheckResult("status", "skipped", "not checked: the credential is not well formed (see format)"))
        elif status_client is not None and (signature.outcome != "passed" or binding.outcome != "passed"):
            detail = "status lists are fetched only for a credential whose JWT its issuer's key verifiably signed; this one is not, so its status was not checked"
            result.add(CheckResult("status", "failed", "status not checked", [ProblemDetail("STATUS_RETRIEVAL_ERROR", detail, "status")]))
        elif status_client is not None:
            result.add(status_check_online(payload, status_client, now=now, loader=loader, max_age=status_max_age))
        else:
            result.add(status_check(payload, status_lists, now=now, loader=loader, max_age=status_max_age))
    return result


def _without_claims(payload: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k not in JWT_CLAIMS}


def _binding_check(payload: Mapping[str, Any], controller: str | None) -> CheckResult:
    issuer = issuer_id(payload)
    if controller is not None and controller == issuer:
        return CheckResult("issuer", "passed", f"signed by the issuer {issuer}")
    if controller is None:
        detail = "the JWT's signature did not verify, so nothing shows that the issuer made this credential"
    else:
        detail = f"the credential names {issuer} as issuer, but its JWT was signed by a key of {controller}"
    return CheckResult("issuer", "failed", "not signed by its issuer", [ProblemDetail("ISSUER_MISMATCH", detail, "issuer")])


def _types(document: Mapping[str, Any]) -> set[str]:
    value = document.get("type")
    return {v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)}


def verify_presentation_jwt(
    token: str,
    *,
    loader: DocumentLoader | None = None,
    challenge: str | None = None,
    domain: str | None = None,
    now: datetime | None = None,
) -> VerificationResult:
    """Verify a ``vp+jwt`` presentation's own JWS: header rules, the holder's key, ``nonce``/``aud``.

    The credentials inside are the caller's to verify (each with `verify_credential` or `verify_jwt`):
    this returns the presentation's checks only, as `/presentations/verify` composes them.
    """
    loader = loader or DocumentLoader()
    now = now or utc_now()
    result = VerificationResult()
    try:
        parsed = parse_jwt(token)
    except JoseError as exc:
        result.add(CheckResult("format", "failed", "not a VC-JOSE-COSE token", [ProblemDetail(exc.code, exc.message, "format")]))
        return result
    result.document = parsed.payload
    problems = credential_problems(parsed.payload, kind="VerifiablePresentation")
    if not problems:
        try:
            expand(_without_claims(parsed.payload), loader, strict=True)
        except PerseusError as exc:
            problems.append(ProblemDetail(exc.code, exc.message, "format"))
    form_problems, validity_problems = _claims_check(parsed, now, "VerifiablePresentation")
    problems += form_problems + validity_problems
    result.add(CheckResult("format", "failed" if problems else "passed", "VerifiablePresentation" if not problems else "not a well-formed presentation", problems))
    signature, controller = _signature_check(parsed, loader, "VerifiablePresentation")
    expectations = []
    if challenge is not None and parsed.payload.get("nonce") != challenge:
        expectations.append(ProblemDetail("INVALID_CHALLENGE_ERROR", "the presentation's nonce is not the challenge given", "presentationProof"))
    aud = parsed.payload.get("aud")
    if domain is not None and domain != aud and not (isinstance(aud, list) and domain in aud):
        expectations.append(ProblemDetail("INVALID_DOMAIN_ERROR", "the presentation's aud is not the domain given", "presentationProof"))
    proof = CheckResult("presentationProof", "failed" if signature.problems or expectations else "passed", signature.summary, signature.problems + expectations, signature.details)
    result.add(proof)
    holder = _holder(parsed.payload)
    if holder is not None and proof.outcome == "passed":
        if controller == holder:
            result.add(CheckResult("holder", "passed", f"signed by the holder {holder}"))
        else:
            result.add(CheckResult("holder", "failed", "not signed by its holder", [ProblemDetail("ISSUER_MISMATCH", f"the presentation names {holder} as holder, but its JWT was signed by a key of {controller}", "holder")]))
    return result


def jwt_claim_time(moment: datetime) -> int:
    """A NumericDate (RFC 7519 §2) for `moment`."""
    return int(moment.timestamp())
