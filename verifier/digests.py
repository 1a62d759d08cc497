"""The digest that links one credential to another (VC 2.0 ``relatedResource`` / ``digestMultibase``).

An emissions report is computed from consumption credentials; naming them by id alone would let anyone
swap in a different credential with the same id. So each link also carries a digest, and the Perseus
vocabulary (``perseus:RdfcSha256Multihash``) fixes exactly what is digested:

1. the **signed** credential, proofs included, is converted to RDF with the bundled contexts (strictly:
   nothing may be dropped) and canonicalized with RDFC-1.0 (SHA-256 as its internal hash);
2. the canonical N-Quads (UTF-8) are hashed with SHA-256;
3. the digest is wrapped as a multihash — ``0x12`` (sha2-256), ``0x20`` (32 bytes), the digest — and
   encoded as multibase base58btc (``z`` …).

Why the canonical RDF and not the JSON bytes: a credential passes through wallets and APIs that re-indent
and re-order JSON; its canonical RDF — what the signature covers — does not change when they do, while any
change to a claim or a proof does. Why the signed credential: the link then pins the very instance the
recipient holds, proof and all, so a re-signed or re-issued copy is a different input.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .canonical import rdfc_digest
from .errors import MalformedValueError, PerseusError
from .loader import DocumentLoader
from .multibase import decode, encode_base58btc
from .result import ProblemDetail

__all__ = ["SHA2_256_MULTIHASH_PREFIX", "credential_digest", "digest_matches", "related_resource_problems"]

#: multihash header for sha2-256: function code 0x12, digest length 0x20 (32 bytes).
SHA2_256_MULTIHASH_PREFIX = b"\x12\x20"


def credential_digest(credential: Any, loader: DocumentLoader | None = None) -> str:
    """The ``digestMultibase`` of a (signed) credential: base58btc multihash of SHA-256 over its RDFC-1.0 N-Quads."""
    digest = rdfc_digest(credential, loader or DocumentLoader(), hash_algorithm="sha256")
    return encode_base58btc(SHA2_256_MULTIHASH_PREFIX + digest)


def digest_matches(credential: Any, digest_multibase: str, loader: DocumentLoader | None = None) -> bool:
    """Whether `credential` has the given digest (a sha2-256 multihash, base58btc or base64url multibase)."""
    try:
        expected = decode(digest_multibase)
    except PerseusError as exc:
        raise MalformedValueError(f"digestMultibase {digest_multibase!r} is not multibase: {exc.message}") from exc
    if expected[:2] != SHA2_256_MULTIHASH_PREFIX or len(expected) != 34:
        raise MalformedValueError(
            f"digestMultibase {digest_multibase!r} is not a sha2-256 multihash (it must start 0x12 0x20 and hold 32 bytes)"
        )
    return rdfc_digest(credential, loader or DocumentLoader(), hash_algorithm="sha256") == expected[2:]


def related_resource_problems(
    credential: dict[str, Any], inputs: Mapping[str, Any], loader: DocumentLoader | None = None
) -> list[ProblemDetail]:
    """Check each ``relatedResource`` link of `credential` against the input credentials the recipient holds.

    `inputs` maps credential id → credential. A link whose credential is absent, whose id differs, or whose
    digest does not match is a problem (check name ``links``); an empty list means every link holds.
    """
    loader = loader or DocumentLoader()
    problems: list[ProblemDetail] = []
    related = credential.get("relatedResource", [])
    for i, link in enumerate(related if isinstance(related, list) else [related]):
        if not isinstance(link, dict) or not isinstance(link.get("id"), str) or not isinstance(link.get("digestMultibase"), str):
            problems.append(ProblemDetail("MALFORMED_VALUE_ERROR", f"relatedResource[{i}] must have an id and a digestMultibase", "links"))
            continue
        target = inputs.get(link["id"])
        if target is None:
            problems.append(ProblemDetail("MALFORMED_VALUE_ERROR", f"relatedResource[{i}]: {link['id']} was not provided, so the link cannot be checked", "links"))
            continue
        if not isinstance(target, dict) or target.get("id") != link["id"]:
            problems.append(ProblemDetail("MALFORMED_VALUE_ERROR", f"relatedResource[{i}]: the credential given for {link['id']} has another id", "links"))
            continue
        try:
            ok = digest_matches(target, link["digestMultibase"], loader)
        except PerseusError as exc:
            problems.append(ProblemDetail(exc.code, f"relatedResource[{i}]: {exc.message}", "links"))
            continue
        if not ok:
            problems.append(ProblemDetail(
                "MALFORMED_VALUE_ERROR",
                f"relatedResource[{i}]: {link['id']} does not match its digest — it is not the credential the report was computed from",
                "links",
            ))
    return problems
