"""VC-JOSE-COSE (W3C Recommendation): credentials secured as JWTs (``application/vc+jwt``), next to Data Integrity.

Why: many wallets and verifiers outside the JSON-LD world take a credential as a compact JWS. The payload
is the credential itself (VC Data Model 2.0), unchanged; the protected header names the algorithm and the
key (``kid``, a DID URL resolved by the same offline loader as Data Integrity verification methods).

What is refused, each with its reason, because each is a known way JWT verification goes wrong:
an algorithm outside the allow-list (EdDSA with Ed25519, ES256 with P-256, ES384 with P-384) — never
``none``, never an HMAC (which would treat the public key as a shared secret); a key whose type does not
fit the algorithm; a ``kid`` that does not resolve offline; an ``iss`` claim other than the credential's
issuer; a ``typ`` that says the token is something else. JWS parsing and signature checking are
jwcrypto's; everything after the signature (format, issuer binding, validity, status, shapes,
connectedness) is `verify_credential`'s, run on the payload, so a JWT credential is checked exactly as a
Data Integrity one.

    token = sign_credential_jwt(credential, key.secret_key, key.id)
    result = verify_credential_jwt(token)          # a VerificationResult; never raises for bad input
"""

from __future__ import annotations

import json
import re
from typing import Any

from datetime import datetime, timezone

from .credential import issuer_id
from .dates import utc_now
from .errors import PerseusError, ProofError
from .jsonld import expand
from .keys import PublicKey, SecretKey
from .loader import DocumentLoader
from .multibase import MultibaseError, decode_base64url
from .result import CheckResult, ProblemDetail, VerificationResult

__all__ = ["ALGORITHMS", "MEDIA_TYPE", "enveloped_token", "looks_like_jwt", "sign_credential_jwt", "verify_credential_jwt"]

MEDIA_TYPE = "application/vc+jwt"
TYP = "vc+jwt"
# The allow-list: algorithm -> the only key type that may make it.
ALGORITHMS = {"EdDSA": "Ed25519", "ES256": "P-256", "ES384": "P-384"}
_ALGORITHM_FOR = {key_type: alg for alg, key_type in ALGORITHMS.items()}
_COMPACT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
MAX_TOKEN_CHARS = 16 * 1024 * 1024
# Registered JWT claims (RFC 7519 §4.1, and cnf) a vc+jwt payload may carry next to the credential's own
# properties: they are checked here and taken out before the credential's JSON-LD checks (no context
# defines them, so strict JSON-LD would refuse them as undefined terms).
JWT_CLAIMS = ("iss", "sub", "aud", "exp", "nbf", "iat", "jti", "cnf")


def _error(message: str, code: str = "PROOF_VERIFICATION_ERROR") -> ProofError:
    return ProofError(message, code=code)


def looks_like_jwt(text: str) -> bool:
    """Whether `text` (stripped) is a compact JWS: three base64url parts joined by dots."""
    return isinstance(text, str) and _COMPACT.match(text.strip()) is not None


def enveloped_token(document: Any) -> str | None:
    """The JWT an ``EnvelopedVerifiableCredential`` carries (``id: data:application/vc+jwt,<token>``), else None."""
    if not isinstance(document, dict):
        return None
    types = document.get("type")
    if "EnvelopedVerifiableCredential" not in (types if isinstance(types, list) else [types]):
        return None
    data_url = document.get("id")
    prefix = f"data:{MEDIA_TYPE},"
    return data_url[len(prefix) :] if isinstance(data_url, str) and data_url.startswith(prefix) else None


def sign_credential_jwt(credential: dict[str, Any], secret_key: SecretKey, kid: str, *, loader: DocumentLoader | None = None) -> str:
    """The credential as a compact JWS (``vc+jwt``) signed with `secret_key`, its header naming `kid`.

    The credential is checked as strictly as for a Data Integrity proof first (every term defined, plain
    JSON-LD form): a JWT does not canonicalize, but its payload is still the JSON-LD a verifier reads.
    """
    if not isinstance(credential, dict):
        raise _error("only a JSON object can be secured as a JWT", "PROOF_GENERATION_ERROR")
    if "proof" in credential:
        raise _error("the credential already has a Data Integrity proof; a vc+jwt payload is the credential without one", "PROOF_GENERATION_ERROR")
    from jwcrypto import jwk as jose_jwk
    from jwcrypto import jws as jose_jws

    expand(credential, loader or DocumentLoader(), strict=True)
    alg = _ALGORITHM_FOR[secret_key.key_type]
    header = {"alg": alg, "kid": kid, "typ": TYP, "cty": "vc"}
    payload = json.dumps(credential, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    token = jose_jws.JWS(payload)
    token.add_signature(jose_jwk.JWK(**secret_key.to_jwk()), alg=alg, protected=json.dumps(header))
    return str(token.serialize(compact=True))


def _decode_part(part: str, what: str) -> Any:
    try:
        return json.loads(decode_base64url("u" + part).decode("utf-8"))
    except (MultibaseError, UnicodeDecodeError, ValueError, RecursionError):
        raise _error(f"the JWT's {what} is not base64url-encoded JSON", "MALFORMED_PROOF_ERROR") from None


def _checked_signature(token: str, loader: DocumentLoader) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """(the payload, the alg, the verification method) after every header check and the signature."""
    from jwcrypto import jwk as jose_jwk  # loaded only for JWTs: `perseus verify` of JSON-LD stays quick to start
    from jwcrypto import jws as jose_jws
    from jwcrypto.common import JWException

    if len(token) > MAX_TOKEN_CHARS:
        raise _error(f"the JWT is longer than {MAX_TOKEN_CHARS:,} characters", "MALFORMED_PROOF_ERROR")
    if not looks_like_jwt(token):
        raise _error("not a compact JWS (three base64url parts separated by dots)", "MALFORMED_PROOF_ERROR")
    token = token.strip()
    header = _decode_part(token.split(".")[0], "protected header")
    if not isinstance(header, dict):
        raise _error("the JWT's protected header is not a JSON object", "MALFORMED_PROOF_ERROR")
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        why = (
            "an unsigned token proves nothing" if str(alg).lower() == "none"
            else "an HMAC would use the issuer's public key as a shared secret" if str(alg).upper().startswith("HS")
            else "it is not on this verifier's allow-list"
        )
        raise _error(f"the JWT's algorithm {alg!r} is refused ({why}); accepted: {', '.join(ALGORITHMS)}")
    if "crit" in header:
        raise _error(f"the JWT names critical header parameters {header['crit']!r} this verifier does not process")
    typ = header.get("typ")
    if typ is not None and typ != TYP:
        raise _error(f"the JWT's typ is {typ!r}; a credential secured with JOSE has typ {TYP!r}", "MALFORMED_PROOF_ERROR")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise _error("the JWT's header has no kid, so the signing key cannot be found", "MALFORMED_PROOF_ERROR")
    try:
        method = loader.verification_method(kid)
    except PerseusError as exc:
        raise _error(f"the JWT's kid {kid} cannot be resolved offline: {exc.message}", "INVALID_VERIFICATION_METHOD_URL") from None
    try:
        public = PublicKey.from_multibase(method["publicKeyMultibase"]) if "publicKeyMultibase" in method else PublicKey.from_jwk(method["publicKeyJwk"])
    except (PerseusError, KeyError, TypeError):
        raise _error(f"the verification method {kid} holds no usable public key", "INVALID_VERIFICATION_METHOD") from None
    if ALGORITHMS[alg] != public.key_type:
        raise _error(f"{alg} needs a {ALGORITHMS[alg]} key, but {kid} is a {public.key_type} key")
    try:
        parsed = jose_jws.JWS()
        parsed.allowed_algs = [alg]
        parsed.deserialize(token)
        parsed.verify(jose_jwk.JWK(**public.to_jwk()), alg=alg)
    except jose_jws.InvalidJWSSignature:
        raise _error("the JWT's signature does not match: the token was altered after signing, or another key signed it") from None
    except (JWException, ValueError, TypeError) as exc:
        raise _error(f"the JWT cannot be verified: {exc}", "MALFORMED_PROOF_ERROR") from None
    try:
        payload = json.loads(parsed.payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _error("the JWT's payload is not JSON", "MALFORMED_PROOF_ERROR") from None
    if not isinstance(payload, dict):
        raise _error("the JWT's payload is not a credential (a JSON object)", "MALFORMED_PROOF_ERROR")
    return payload, alg, method


def verify_credential_jwt(
    token: str,
    *,
    loader: DocumentLoader | None = None,
    checks: Any = None,
    **options: Any,
) -> VerificationResult:
    """Verify a ``vc+jwt`` credential: the JWS, then `verify_credential`'s checks on its payload.

    `checks` and the other options are `verify_credential`'s. The ``proof`` check is the JWS signature;
    ``issuer`` requires the key's controller (and any ``iss`` claim) to be the credential's issuer.
    Never raises for bad input: the result says what failed.
    """
    from .verify import parse_checks, verify_credential

    loader = loader or DocumentLoader()
    try:
        wanted = parse_checks(checks)
    except ValueError as exc:
        result = VerificationResult(document=token)
        result.add(CheckResult("format", "failed", "unusable options", [ProblemDetail("PARSING_ERROR", str(exc), "format")]))
        return result
    if options.pop("shapes", False):
        wanted.add("shape")
    try:
        payload, alg, method = _checked_signature(token, loader)
    except ProofError as exc:
        result = VerificationResult(document=token)
        result.add(CheckResult("format", "passed" if exc.code == "PROOF_VERIFICATION_ERROR" else "failed", "a vc+jwt token"))
        result.add(CheckResult("proof", "failed", "the JWT does not verify", [ProblemDetail(exc.code, exc.message, "proof")]))
        return result
    claims = {name: payload.pop(name) for name in JWT_CLAIMS if name in payload}
    now = options.get("now") or utc_now()
    timing = []
    for name, late in (("exp", True), ("nbf", False)):
        value = claims.get(name)
        if value is None:
            continue
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            timing.append(ProblemDetail("MALFORMED_PROOF_ERROR", f"the JWT's {name} claim is not a number of seconds", "proof"))
        elif (now.timestamp() > value) if late else (now.timestamp() < value):
            moment = datetime.fromtimestamp(value, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            timing.append(ProblemDetail("PROOF_VERIFICATION_ERROR", f"the JWT {'expired' if late else 'is not valid before'} {moment} ({name})", "proof"))
    result = verify_credential(payload, loader=loader, checks=wanted - {"proof", "issuer"}, **options)
    controller = method.get("controller")
    proof = CheckResult(
        "proof",
        "failed" if timing else "passed",
        f"JOSE signature verified ({alg}, {TYP})" + ("; the token is out of its time window" if timing else ""),
        timing,
        details={"proofs": [{"alg": alg, "kid": method.get("id"), "controller": controller}]},
    )
    checks_out = [result.checks[0], proof] if "proof" in wanted else [result.checks[0]]
    if "issuer" in wanted:
        issuer = issuer_id(payload)
        problems = []
        if controller != issuer:
            problems.append(ProblemDetail("ISSUER_MISMATCH", f"the credential names {issuer} as issuer, but the JWT was signed by {controller}'s key", "issuer"))
        iss = claims.get("iss")
        if iss is not None and iss != issuer:
            problems.append(ProblemDetail("ISSUER_MISMATCH", f"the JWT's iss claim {iss!r} is not the credential's issuer {issuer}", "issuer"))
        checks_out.append(CheckResult("issuer", "failed" if problems else "passed", "not signed by its issuer" if problems else f"signed by the issuer {issuer}", problems))
    result.checks[:] = checks_out + result.checks[1:]
    return result
