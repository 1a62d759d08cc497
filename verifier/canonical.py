"""The two ways a cryptosuite turns a JSON document into bytes to hash: RDFC-1.0 and JCS.

RDFC (for the *-rdfc-* suites): strict JSON-LD → RDF → RDF Dataset Canonicalization. The hash inside
RDFC-1.0 follows the suite's hash (SHA-384 for P-384), as the ECDSA cryptosuite specification says.
JCS (for the *-jcs-* suites): RFC 8785 JSON Canonicalization, no JSON-LD processing at all.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import rfc8785

from .errors import CanonicalizationError, JsonLdError, MalformedValueError
from .jsonld import ContextLoader, to_rdf
from .rdfc import canonical_digest, canonical_nquads


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building large acyclic structures.

    JSON-LD expansion and canonicalization of a year of readings allocate ~10^6 dicts, tuples and strings,
    none in reference cycles; Python's collector would rescan them repeatedly as they accumulate, which
    makes the cost grow faster than the data (measured: 17,520 readings cost 18x what 1,440 cost with the
    collector running). Reference counting still frees everything; the collector resumes afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# How a literal's base direction (@direction) is kept in RDF. The Data Integrity cryptosuites of jsonld.js
# (eddsa-rdfc-2022, ecdsa-rdfc-2019) canonicalize with `rdfDirection: 'i18n-datatype'`, so we must too:
# "abc"@ar with direction rtl becomes "abc"^^<https://www.w3.org/ns/i18n#ar_rtl>, and the direction is signed.
RDF_DIRECTION = "i18n-datatype"


def rdfc_nquads(document: Any, loader: ContextLoader, *, hash_algorithm: str = "sha256") -> str:
    """The canonical N-Quads of `document` (strict JSON-LD; raises JsonLdError / CanonicalizationError)."""
    with no_cyclic_gc():
        quads = to_rdf(document, loader, strict=True, deduplicate=False, rdf_direction=RDF_DIRECTION)
        return canonical_nquads(quads, hash_algorithm=hash_algorithm)


def rdfc_digest(document: Any, loader: ContextLoader, *, hash_algorithm: str = "sha256") -> bytes:
    """The hash of `document`'s canonical N-Quads, computed without building them whole (same bytes as
    hashing `rdfc_nquads`); RDFC-1.0's internal hash and the digest use `hash_algorithm`."""
    with no_cyclic_gc():
        quads = to_rdf(document, loader, strict=True, deduplicate=False, rdf_direction=RDF_DIRECTION)
        return canonical_digest(quads, hash_algorithm=hash_algorithm)


def jcs_bytes(document: Any) -> bytes:
    """RFC 8785 canonical JSON of `document`."""
    try:
        return rfc8785.dumps(document)
    except (rfc8785.CanonicalizationError, ValueError, TypeError) as exc:  # e.g. NaN, a float out of range
        raise MalformedValueError(f"the document cannot be canonicalized with JCS: {exc}") from exc


__all__ = ["rdfc_nquads", "rdfc_digest", "jcs_bytes", "CanonicalizationError", "JsonLdError"]
