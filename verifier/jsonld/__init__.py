"""A JSON-LD 1.1 processor for signing and verifying: expansion and conversion to RDF, strict by default.

Only what Data Integrity needs (expand, then deserialize to RDF) is implemented; compaction and framing
are not. See ``context.py`` for why this is our own code rather than pyld.

    quads = to_rdf(document, loader)          # raises StrictModeError on anything JSON-LD would drop
"""

from __future__ import annotations

from typing import Any

from ..limits import DocumentLimits, check_document, current_limits
from ..rdf import Quad
from .context import ContextLoader, initial_context
from .expand import Expander, json_pointer
from .quads import expanded_to_quads

__all__ = ["ContextLoader", "expand", "to_rdf", "json_pointer"]


def expand(
    document: Any,
    loader: ContextLoader,
    *,
    strict: bool = True,
    base: str | None = None,
    plain: bool | None = None,
    limits: DocumentLimits | None = None,
) -> list[Any]:
    """JSON-LD 1.1 expansion of `document`; contexts come only from `loader`.

    `plain` (default: as `strict`) also refuses JSON that is not in the contexts' plain compacted form
    (a defined term written as an IRI, a redundant `@value` wrapper, `@included`/`@nest`/`@reverse`...):
    what every signed document must satisfy, because the verifier's checks read JSON by term name. Pass
    `plain=False` only to process general JSON-LD. `document` must first fit `limits` (default:
    ``limits.current_limits()``), else `DocumentLimitError`.
    """
    limits = limits or current_limits()
    check_document(document, limits)
    expander = Expander(loader, strict=strict, base=base, plain=plain, max_contexts=limits.max_contexts)
    return expander.expand_document(document, initial_context(base))


def to_rdf(
    document: Any,
    loader: ContextLoader,
    *,
    strict: bool = True,
    base: str | None = None,
    rdf_direction: str | None = None,
    deduplicate: bool = True,
    plain: bool | None = None,
    limits: DocumentLimits | None = None,
) -> list[Quad]:
    """The RDF dataset of `document` as quads (N-Quads term strings, see ``rdf.py``).

    `deduplicate=False` skips removing repeated quads, for callers that treat the result as a set;
    `plain` and `limits` are as for `expand`.
    """
    limits = limits or current_limits()
    check_document(document, limits)
    # Lazy: long arrays of nodes are expanded as the RDF writer reads them (see expand.LazyNodes).
    expander = Expander(loader, strict=strict, base=base, lazy=True, plain=plain, max_contexts=limits.max_contexts)
    expanded = expander.expand_document(document, initial_context(base))
    return expanded_to_quads(expanded, strict=strict, rdf_direction=rdf_direction, deduplicate=deduplicate)
