"""Long arrays of nodes are expanded as the RDF writer reads them: same RDF, same errors, less memory."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perseus.verifier.errors import StrictModeError
from perseus.verifier.jsonld import expand, to_rdf
from perseus.verifier.jsonld.expand import LazyNodes
from perseus.verifier.jsonld.quads import expanded_to_quads
from perseus.verifier.rdfc import canonical_nquads

CONTEXT = {
    "p": {"@id": "http://example.org/v#p", "@container": "@set"},
    "v": {"@id": "http://example.org/v#v", "@type": "http://www.w3.org/2001/XMLSchema#decimal"},
    "q": {"@id": "http://example.org/v#q", "@type": "@vocab"},
    "actual": "http://example.org/v#actual",
    "estimated": "http://example.org/v#estimated",
}


def _document(values: list[dict]) -> dict:
    return {"@context": CONTEXT, "@id": "http://example.org/s", "p": values}


@settings(max_examples=25, deadline=None)
@given(st.integers(LazyNodes.MINIMUM, LazyNodes.MINIMUM + 40), st.sampled_from(["actual", "estimated"]))
def test_lazy_expansion_gives_the_same_rdf_as_eager_expansion(count: int, quality: str) -> None:
    values = [{"v": f"{i}.5", "q": quality if i % 3 else "actual"} for i in range(count)]
    values.append({"@id": "http://example.org/shared", "v": "1"})
    values.append({"@id": "http://example.org/shared", "v": "1"})  # a duplicate node: still one set of quads
    document = _document(values)
    eager = expanded_to_quads(expand(document, lambda url: None))
    assert canonical_nquads(to_rdf(document, lambda url: None)) == canonical_nquads(eager)


def test_strict_errors_in_a_long_array_name_the_item() -> None:
    values = [{"v": str(i)} for i in range(LazyNodes.MINIMUM + 10)]
    values[LazyNodes.MINIMUM + 3]["colour"] = "red"
    with pytest.raises(StrictModeError) as caught:
        to_rdf(_document(values), lambda url: None)
    assert caught.value.path == f"/p/{LazyNodes.MINIMUM + 3}/colour" and caught.value.term == "colour"


def test_expand_itself_stays_eager() -> None:
    """The public expansion returns plain lists: only RDF conversion reads arrays lazily."""
    values = [{"v": str(i)} for i in range(LazyNodes.MINIMUM + 1)]
    expanded = expand(_document(values), lambda url: None)
    assert isinstance(expanded[0]["http://example.org/v#p"], list)
