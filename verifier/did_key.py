"""Offline resolution of did:key identifiers (Ed25519, P-256, P-384 Multikeys).

Why: a did:key *is* its public key (``did:key:`` + publicKeyMultibase), so a verifier can resolve it
without any network access — which is the only kind of resolution Perseus does. We produce the DID
document of the W3C CCG did:key method in its Multikey form, and dereference the one DID URL it
defines (``did:key:z…#z…``) to its verification method.

What we deliberately do not do: derive an X25519 ``keyAgreement`` key from an Ed25519 key (that is a
separate curve conversion we have no use for), accept the pre-Multikey ``Ed25519VerificationKey2020``
form, or accept method versions (``did:key:1:…``). Everything refused is a `DidResolutionError` whose
message says what was wrong and what was expected.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import DidResolutionError, KeyFormatError
from .keys import PublicKey

__all__ = [
    "DID_CONTEXT",
    "MULTIKEY_CONTEXT",
    "did_key_for",
    "public_key_for",
    "resolve_did_key",
    "resolve_verification_method",
    "verification_method_id",
]

DID_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
_PREFIX = "did:key:"
_METHOD_NAME = re.compile(r"[a-z0-9]+")  # DID Core §3.1 method-name
_RELATIONSHIPS = ("authentication", "assertionMethod", "capabilityDelegation", "capabilityInvocation")


def _short(value: str, limit: int = 80) -> str:
    """Input for an error message, clipped: a hostile DID may be megabytes long."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def did_key_for(public_key: PublicKey) -> str:
    """``did:key:`` + the key's publicKeyMultibase."""
    return _PREFIX + public_key.multibase()


def verification_method_id(public_key: PublicKey) -> str:
    """The id of a did:key's only verification method: ``did:key:z…#z…`` (fragment = the multibase)."""
    multibase = public_key.multibase()
    return f"{_PREFIX}{multibase}#{multibase}"


def _parse_did(did: object, *, original: str | None = None) -> PublicKey:
    """The public key a did:key (without fragment) names, or `DidResolutionError`."""
    shown = _short(original if original is not None else str(did))
    if not isinstance(did, str):
        raise DidResolutionError(f"a DID must be a string, got {type(did).__name__}")
    if not did.startswith("did:"):
        raise DidResolutionError(f"{shown} is not a DID; expected did:key:z…")
    method = did.split(":", 2)[1]
    if not _METHOD_NAME.fullmatch(method):
        raise DidResolutionError(f"{shown} is not a DID (the method name must be lower-case letters/digits)")
    if method != "key":
        raise DidResolutionError(
            f"{shown} uses the did:{method} method; only did:key can be resolved offline "
            "(use a did:key, or a DID the trust registry pins)"
        )
    if "?" in did or "/" in did:
        raise DidResolutionError(
            f"{shown} has a path or query; a did:key DID URL may only carry a fragment (#z…)"
        )
    identifier = did[len(_PREFIX) :]
    if ":" in identifier:
        raise DidResolutionError(
            f"{shown} has extra ':'-separated parts (a method version?); "
            "expected did:key:<publicKeyMultibase>"
        )
    if not identifier.startswith("z"):
        raise DidResolutionError(
            f"{shown}: the did:key method-specific id must be a base58btc multibase value starting with 'z'"
        )
    try:
        public_key = PublicKey.from_multibase(identifier)
    except KeyFormatError as exc:
        raise DidResolutionError(f"cannot resolve {shown}: {exc.message}") from exc
    return public_key


def _split_did_url(did_url: object) -> tuple[str, str | None]:
    if not isinstance(did_url, str):
        raise DidResolutionError(f"a DID URL must be a string, got {type(did_url).__name__}")
    did, sep, fragment = did_url.partition("#")
    return did, (fragment if sep else None)


def _verification_method(public_key: PublicKey) -> dict[str, Any]:
    did = did_key_for(public_key)
    return {
        "id": verification_method_id(public_key),
        "type": "Multikey",
        "controller": did,
        "publicKeyMultibase": public_key.multibase(),
    }


def resolve_did_key(did: str) -> dict[str, Any]:
    """The DID document of a did:key (a new dict each call, so callers may modify it).

    Takes a DID, not a DID URL: use `resolve_verification_method` for ``did:key:z…#z…``.
    """
    base, fragment = _split_did_url(did)
    if fragment is not None:
        raise DidResolutionError(
            f"{_short(did)} is a DID URL with a fragment; resolve the DID {_short(base)}, or use "
            "resolve_verification_method for the verification method"
        )
    public_key = _parse_did(base)
    vm = _verification_method(public_key)
    document: dict[str, Any] = {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": vm["controller"],
        "verificationMethod": [vm],
    }
    for relationship in _RELATIONSHIPS:
        document[relationship] = [vm["id"]]
    return document


def resolve_verification_method(did_url: str) -> dict[str, Any]:
    """Dereference ``did:key:z…#z…`` to its verification method.

    Returns ``{id, type: "Multikey", controller, publicKeyMultibase}`` (a new dict each call).

    A did:key document has exactly one verification method, whose fragment is the multibase key
    itself; any other fragment (or none) is an error rather than a guess.
    """
    base, fragment = _split_did_url(did_url)
    public_key = _parse_did(base, original=did_url)
    multibase = public_key.multibase()
    if fragment is None:
        raise DidResolutionError(
            f"{_short(did_url)} has no fragment; "
            f"the verification method URL is {_PREFIX}{multibase}#{multibase}"
        )
    if fragment != multibase:
        raise DidResolutionError(
            f"fragment {_short('#' + fragment, 60)} of {_short(did_url)} "
            "does not name a verification method; "
            f"the only one in this did:key document is #{multibase}"
        )
    return _verification_method(public_key)


def public_key_for(did_or_did_url: str) -> PublicKey:
    """The public key of a did:key or of its verification method URL (fragment checked if present)."""
    base, fragment = _split_did_url(did_or_did_url)
    if fragment is not None:
        return PublicKey.from_multibase(resolve_verification_method(did_or_did_url)["publicKeyMultibase"])
    return _parse_did(base)
