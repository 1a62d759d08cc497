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

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from .canonical import rdfc_digest
from .errors import MalformedValueError, PerseusError
from .loader import DocumentLoader
from .multibase import decode, encode_base58btc
from .result import ProblemDetail

__all__ = [
    "SHA2_256_MULTIHASH_PREFIX", "InputPool", "credential_digest", "digest_matches", "index_inputs", "related_resource_problems", "sri_matches",
]

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


# Subresource Integrity (W3C SRI §3.5): the hash functions a digestSRI may use, weakest first.
_SRI_ALGORITHMS = ("sha256", "sha384", "sha512")


def sri_matches(data: bytes, sri: str) -> bool:
    """Whether `data` has the Subresource Integrity metadata `sri` ("sha384-<base64>", several allowed).

    As SRI §3.3.3 says, only the strongest hash function present counts, and any of its digests may match.
    """
    if not isinstance(sri, str):
        raise MalformedValueError(f"digestSRI must be a string such as 'sha384-…', not {type(sri).__name__}")
    digests: dict[str, list[bytes]] = {}
    for token in sri.split():
        algorithm, _, rest = token.partition("-")
        if algorithm not in _SRI_ALGORITHMS or not rest:
            continue  # SRI §3.3.2: unknown algorithms are ignored
        try:
            digests.setdefault(algorithm, []).append(base64.b64decode(rest.split("?", 1)[0], validate=True))
        except ValueError:
            raise MalformedValueError(f"digestSRI {token[:40]!r} is not base64") from None
    if not digests:
        raise MalformedValueError(f"digestSRI {sri[:40]!r} names no sha256, sha384 or sha512 digest")
    strongest = max(digests, key=_SRI_ALGORITHMS.index)
    actual = hashlib.new(strongest, data).digest()
    return actual in digests[strongest]


class InputPool(dict):
    """The credentials a recipient holds, by id, with the bytes each arrived as when those are known.

    `digestMultibase` pins a credential's canonical RDF, which survives re-indenting; `digestSRI` (VC 2.0
    §5.3) pins the bytes of the resource as published, so checking one needs the input exactly as it came.
    """

    def __init__(self) -> None:
        super().__init__()
        self.raw: dict[str, bytes] = {}


def index_inputs(credentials: Iterable[Any]) -> InputPool:
    """Credential id → credential for the inputs given; JSON given as bytes or text is parsed and its bytes kept."""
    pool = InputPool()
    for item in credentials:
        raw: bytes | None = None
        if isinstance(item, (bytes, bytearray, str)):
            raw = bytes(item) if not isinstance(item, str) else item.encode("utf-8")
            try:
                item = json.loads(raw)
            except (ValueError, RecursionError):
                continue  # not a credential: a link to it is reported as not provided
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            pool.setdefault(item["id"], item)
            if raw is not None:
                pool.raw.setdefault(item["id"], raw)
    return pool


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
        if (
            not isinstance(link, dict)
            or not isinstance(link.get("id"), str)
            or not any(isinstance(link.get(name), str) for name in ("digestMultibase", "digestSRI"))
            or any(name in link and not isinstance(link[name], str) for name in ("digestMultibase", "digestSRI"))
        ):
            problems.append(
                ProblemDetail("MALFORMED_VALUE_ERROR", f"relatedResource[{i}] must have an id and a digestMultibase or digestSRI string", "links")
            )
            continue
        target = inputs.get(link["id"])
        if target is None:
            problems.append(ProblemDetail("MALFORMED_VALUE_ERROR", f"relatedResource[{i}]: {link['id']} was not provided, so the link cannot be checked", "links"))
            continue
        if not isinstance(target, dict) or target.get("id") != link["id"]:
            problems.append(ProblemDetail("MALFORMED_VALUE_ERROR", f"relatedResource[{i}]: the credential given for {link['id']} has another id", "links"))
            continue
        raw = getattr(inputs, "raw", {}).get(link["id"])
        if "digestSRI" in link and raw is None:
            problems.append(ProblemDetail(
                "MALFORMED_VALUE_ERROR",
                f"relatedResource[{i}]: its digestSRI covers the bytes of {link['id']} as published, and the input was not given "
                "as the file it came in; give it as a file (perseus verify --input FILE) or as bytes",
                "links",
            ))
            continue
        try:
            ok = ("digestMultibase" not in link or digest_matches(target, link["digestMultibase"], loader)) and (
                "digestSRI" not in link or sri_matches(raw or b"", link["digestSRI"])
            )
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
