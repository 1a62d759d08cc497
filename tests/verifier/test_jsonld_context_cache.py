"""Processed contexts are shared across documents — safely: no stale answers, no unbounded growth."""

from __future__ import annotations

import gc
import weakref

from perseus.verifier.jsonld import to_rdf
from perseus.verifier.jsonld.context import initial_context
from perseus.verifier.loader import DocumentLoader


def _doc(context: object, value: str = "x") -> dict:
    return {"@context": context, "@id": "urn:example:s", "p": value}


def test_two_loaders_serving_different_documents_for_one_url_get_their_own_terms() -> None:
    url = "https://example.com/ctx"
    first = {url: {"@context": {"p": "https://example.com/first#p"}}}
    second = {url: {"@context": {"p": "https://example.com/second#p"}}}
    quads_first = to_rdf(_doc(url), first.__getitem__)
    quads_second = to_rdf(_doc(url), second.__getitem__)
    assert quads_first[0][1] == "<https://example.com/first#p>"
    assert quads_second[0][1] == "<https://example.com/second#p>"


def test_a_documents_inline_context_is_not_kept_after_the_document() -> None:
    class Context(dict):  # a dict subclass can be weakly referenced
        pass

    inline = Context({"p": "https://example.com/inline#p"})
    alive = weakref.ref(inline)
    to_rdf(_doc(["https://www.w3.org/ns/credentials/v2", inline]), DocumentLoader(), plain=False)
    del inline
    gc.collect()
    assert alive() is None, "the shared context cache kept a document's inline context alive"


def test_hostile_keys_cannot_grow_the_shared_caches_without_bound() -> None:
    url = "https://example.com/vocab-ctx"
    documents = {url: {"@context": {"@vocab": "https://example.com/v#"}}}
    for i in range(6000):
        to_rdf({"@context": url, "@id": "urn:example:s", f"key{i}": "v"}, documents.__getitem__)
    shared = initial_context(None).derive(url, documents.__getitem__, None)
    assert len(shared._plans) <= 4097 and len(shared._vocab_iris) <= 4097
