"""RDF terms and quads, represented as their canonical N-Quads text.

Why strings: canonicalization (RDFC-1.0) hashes and sorts N-Quads lines, and a year of half-hourly
readings is ~90,000 quads. Keeping every term as the exact text it will be written as means the
JSON-LD → RDF step produces, and the canonicalizer consumes, plain tuples of `str` with no object
allocation or re-serialization per term. The kind of a term is its first character:

* ``<``  an IRI, e.g. ``<https://example.org/a>``
* ``_:`` a blank node, e.g. ``_:b0``
* ``"``  a literal, e.g. ``"2024-01-01T00:00:00Z"^^<http://www.w3.org/2001/XMLSchema#dateTime>``

A quad is ``(subject, predicate, object, graph)``; ``graph`` is ``""`` for the default graph.
"""

from __future__ import annotations

Quad = tuple[str, str, str, str]

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD_STRING = XSD + "string"
XSD_BOOLEAN = XSD + "boolean"
XSD_INTEGER = XSD + "integer"
XSD_DOUBLE = XSD + "double"
RDF_TYPE = RDF + "type"
RDF_FIRST = RDF + "first"
RDF_REST = RDF + "rest"
RDF_NIL = RDF + "nil"
RDF_LANGSTRING = RDF + "langString"
RDF_JSON = RDF + "JSON"

DEFAULT_GRAPH = ""

# RDFC-1.0 §4.? / RDF 1.2 N-Quads canonical form: these characters are written as ECHARs; every other
# control character (U+0000–U+001F and U+007F) as a \\uXXXX UCHAR with upper-case hex digits.
_ECHAR = {
    "\\": "\\\\",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
_LITERAL_ESCAPES = {
    **{chr(c): f"\\u{c:04X}" for c in list(range(0x20)) + [0x7F]},
    **_ECHAR,
}
_LITERAL_TRANSLATION = str.maketrans(_LITERAL_ESCAPES)
_NEEDS_ESCAPE = frozenset(_LITERAL_ESCAPES)


def escape_literal(text: str) -> str:
    """Escape a literal's lexical form exactly as canonical N-Quads requires."""
    # Fast path: almost no literal in a credential needs escaping.
    if _NEEDS_ESCAPE.isdisjoint(text):
        return text
    return text.translate(_LITERAL_TRANSLATION)


def iri(value: str) -> str:
    return "<" + value + ">"


def blank(label: str) -> str:
    return "_:" + label


def literal(lexical: str, datatype: str = XSD_STRING, language: str | None = None) -> str:
    """The N-Quads text of a literal; `xsd:string` is implicit and `language` implies rdf:langString."""
    body = '"' + escape_literal(lexical) + '"'
    if language is not None:
        return body + "@" + language
    if datatype == XSD_STRING:
        return body
    return body + "^^<" + datatype + ">"


def is_blank(term: str) -> bool:
    return term.startswith("_:")


def is_iri(term: str) -> bool:
    return term.startswith("<")


def is_literal(term: str) -> bool:
    return term.startswith('"')


def quad_line(quad: Quad) -> str:
    """One N-Quads line, newline included."""
    s, p, o, g = quad
    if g:
        return f"{s} {p} {o} {g} .\n"
    return f"{s} {p} {o} .\n"


def serialize(quads: "list[Quad] | set[Quad]") -> str:
    """N-Quads text of the quads, sorted by code point (the canonical order once labels are canonical)."""
    return "".join(sorted(quad_line(q) for q in quads))
