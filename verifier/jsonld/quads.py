"""Expanded JSON-LD → RDF quads (JSON-LD 1.1 API §7.2 Node Map Generation and §8 RDF Serialization).

The specification builds a node map first and then walks it in sorted order; the only things that
order decides are the blank-node labels, which canonicalization replaces anyway. So we emit quads
directly while walking the expanded document and deduplicate them at the end (a dataset is a set):
the resulting dataset is the one jsonld.js produces, without the node map's per-value duplicate
search, which is quadratic in the number of values of a property (the reason pyld needs ~48 s for a
year of half-hourly readings).

Literal conversion follows jsonld.js exactly — including how it decides that a JSON number is a
double — because the canonical form must be byte-identical to what other verifiers compute.
"""

from __future__ import annotations

import math
import re
from typing import Any

import rfc8785

from ..errors import JsonLdError, StrictModeError
from ..rdf import (
    RDF_FIRST,
    RDF_JSON,
    RDF_LANGSTRING,
    RDF_NIL,
    RDF_REST,
    RDF_TYPE,
    XSD_BOOLEAN,
    XSD_DOUBLE,
    XSD_INTEGER,
    XSD_STRING,
    Quad,
    escape_literal,
)
from ..rdf import _NEEDS_ESCAPE
from .iri import is_well_formed_iri

_TYPE = "<" + RDF_TYPE + ">"
_FIRST = "<" + RDF_FIRST + ">"
_REST = "<" + RDF_REST + ">"
_NIL = "<" + RDF_NIL + ">"
_XSD_DOUBLE_SUFFIX = "^^<" + XSD_DOUBLE + ">"
_BCP47 = re.compile(r"^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$")
_JS_FLOAT_PREFIX = re.compile(r"^\s*[+-]?(Infinity|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)")


def js_is_double(value: int | float) -> bool:
    """jsonld.js's `isDouble`: a number whose JavaScript string form contains "." or that is ≥ 1e21.

    JavaScript prints a non-integral number with a "." unless it is below 1e-6 and has a single
    significant digit (1e-7 prints as "1e-7"); integral numbers never have one. Python's `repr` finds
    the same shortest digits, so we can tell from it.
    """
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) >= 10**21
    if not math.isfinite(value) or abs(value) >= 1e21:
        return True
    if value == int(value):
        return False
    if abs(value) >= 1e-6:
        return True
    mantissa = repr(value).lower().split("e")[0].lstrip("-")
    return len(mantissa.replace(".", "").strip("0")) > 1


def js_double_lexical(value: float) -> str:
    """`value.toExponential(15).replace(/(\\d)0*e\\+?/, '$1E')`: the canonical xsd:double form jsonld.js writes."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    mantissa, exponent = f"{value:.15e}".split("e")
    mantissa = re.sub(r"(\d)0*$", r"\1", mantissa)
    return f"{mantissa}E{int(exponent)}"


def js_integer_lexical(value: int | float) -> str:
    """`value.toFixed(0)` of the JavaScript number closest to `value` (JSON numbers are doubles there)."""
    if isinstance(value, int) and abs(value) <= 2**53:
        return str(value)
    text = f"{float(value):.0f}"
    return "0" if text == "-0" else text


def _js_parse_float(text: str) -> float:
    match = _JS_FLOAT_PREFIX.match(text)
    if not match:
        return math.nan
    token = match.group(0).strip()
    if token.lstrip("+-") == "Infinity":
        return -math.inf if token.startswith("-") else math.inf
    return float(token)


class RdfWriter:
    """Turns an expanded document into a deduplicated list of quads (see ``perseus.verifier.rdf``)."""

    def __init__(self, *, strict: bool = True, rdf_direction: str | None = None) -> None:
        if rdf_direction not in (None, "i18n-datatype"):
            raise JsonLdError(f"unsupported rdfDirection {rdf_direction!r}", jsonld_code="invalid rdfDirection")
        self.strict = strict
        self.rdf_direction = rdf_direction
        # A list, not a set: deduplicating ~90,000 quads through one big hash table costs more than the
        # rest of this step and grows faster than the data (cache misses); canonicalization removes
        # duplicates per blank node anyway, and `expanded_to_quads` dedupes when asked.
        self.quads: list[Quad] = []
        self._terms: dict[str, str] = {}  # node identifier -> term (IRIs, and relabelled blank nodes)
        self._predicates: dict[str, str] = {}
        self._typed_suffix: dict[str, str | None] = {}  # datatype -> '"^^<datatype>' for plain typed strings
        self._counter = 0

    # -- terms -----------------------------------------------------------------------------------------

    def _fresh(self) -> str:
        label = f"_:b{self._counter}"
        self._counter += 1
        return label

    def _node_term(self, identifier: str | None) -> str | None:
        """The RDF term for a node identifier: a relabelled blank node, an IRI, or None (relative IRI)."""
        if identifier is None:
            return self._fresh()
        term = self._terms.get(identifier)
        if term is not None:
            return term
        if identifier.startswith("_:"):
            term = self._fresh()
        elif is_well_formed_iri(identifier):
            term = "<" + identifier + ">"
        else:
            return None
        self._terms[identifier] = term
        return term

    def _unsafe(self, code: str, message: str, term: str) -> None:
        if self.strict:
            raise StrictModeError(message, term=term, path="(expanded document)", jsonld_code=code)

    # -- walking ---------------------------------------------------------------------------------------

    def write_document(self, expanded: list[Any]) -> list[Quad]:
        for node in expanded:
            self._node(node, "")
        return self.quads

    def _node(self, node: dict[str, Any], graph: str) -> str | None:
        """Emit a node object's quads into `graph`; return its term (None if its @id is relative)."""
        identifier = node.get("@id")
        if identifier is None and "@id" in node:
            return None  # an @id that looked like a keyword: JSON-LD ignores the node
        subject = self._node_term(identifier)
        if subject is None:
            self._unsafe("relative subject reference", f"the node {identifier!r} has a relative identifier", str(identifier))
        add = self.quads.append
        for key, values in node.items():
            if key[0] == "@":
                if key == "@type":
                    for t in values:
                        obj = self._node_term(t)
                        if obj is None:
                            if t != "@json":
                                self._unsafe("relative object reference", f"the type {t!r} is not an absolute IRI", str(t))
                            continue
                        if subject is not None:
                            add((subject, _TYPE, obj, graph))
                elif key == "@reverse":
                    for prop, items in values.items():
                        predicate = self._predicate(prop)
                        for item in items:
                            obj = self._node(item, graph)
                            if predicate is not None and obj is not None and subject is not None:
                                add((obj, predicate, subject, graph))
                elif key == "@graph":
                    # A node with @graph names a graph (a graph object as a property value, or a
                    # top-level named graph); its contents go into that graph.
                    if subject is None:
                        self._unsafe("relative graph reference", f"the graph {identifier!r} has a relative name", str(identifier))
                        continue
                    for inner in values:
                        self._node(inner, subject)
                elif key == "@included":
                    for inner in values:
                        self._node(inner, graph)
                continue
            predicate = self._predicates.get(key) or self._predicate(key)
            if predicate is None or subject is None:
                for item in values:  # still walk the values: strict mode must see what they hold
                    self._object(item, graph)
                continue
            typed_suffix = self._typed_suffix
            for item in values:
                # Fast path: a typed string literal, e.g. a reading's start, end or value.
                if len(item) == 2 and item.get("@value").__class__ is str:
                    suffix = typed_suffix.get(item.get("@type"))  # type: ignore[arg-type]
                    if suffix is not None:
                        value = item["@value"]
                        if not _NEEDS_ESCAPE.isdisjoint(value):
                            value = escape_literal(value)
                        add((subject, predicate, '"' + value + suffix, graph))
                        continue
                obj = self._object(item, graph)
                if obj is not None:
                    add((subject, predicate, obj, graph))
        return subject

    def _predicate(self, prop: str) -> str | None:
        if prop.startswith("_:"):
            self._unsafe("blank node predicate", f"the property {prop!r} is a blank node, which RDF does not allow", prop)
            return None
        term = self._predicates.get(prop)
        if term is None:
            if not is_well_formed_iri(prop):
                self._unsafe("relative predicate reference", f"the property {prop!r} is not an absolute IRI", prop)
                return None
            term = self._predicates[prop] = "<" + prop + ">"
        return term

    def _object(self, item: Any, graph: str) -> str | None:
        if "@value" in item:
            return self._literal(item)
        if "@list" in item:
            return self._list(item["@list"], graph)
        identifier = item.get("@id")
        if identifier is not None and not identifier.startswith("_:") and identifier not in self._terms and not is_well_formed_iri(identifier):
            self._unsafe("relative object reference", f"the reference {identifier!r} is not an absolute IRI", identifier)
            return None
        term = self._node(item, graph)
        if term is None:
            self._unsafe("relative object reference", f"the reference {item.get('@id')!r} is not an absolute IRI", str(item.get("@id")))
        return term

    def _list(self, items: list[Any], graph: str) -> str:
        if not items:
            return _NIL
        add = self.quads.append
        head = subject = self._fresh()
        last = len(items) - 1
        for i, item in enumerate(items):
            obj = self._object(item, graph)
            if obj is not None:
                add((subject, _FIRST, obj, graph))
            nxt = self._fresh() if i < last else _NIL
            add((subject, _REST, nxt, graph))
            subject = nxt
        return head

    def _literal(self, item: dict[str, Any]) -> str | None:
        value = item["@value"]
        datatype = item.get("@type")
        if datatype is not None and datatype != "@json" and datatype not in self._typed_suffix:
            if not is_well_formed_iri(datatype):
                self._unsafe("relative object reference", f"the datatype {datatype!r} is not an absolute IRI", datatype)
                return None
            # Strings of this datatype need no conversion: remember the suffix for the fast path.
            if datatype in (XSD_DOUBLE, RDF_LANGSTRING):
                self._typed_suffix[datatype] = None
            else:
                self._typed_suffix[datatype] = '"' if datatype == XSD_STRING else '"^^<' + datatype + ">"
        if datatype == "@json":
            return '"' + escape_literal(rfc8785.dumps(value).decode("utf-8")) + '"^^<' + RDF_JSON + ">"
        if isinstance(value, bool):
            return '"' + ("true" if value else "false") + '"^^<' + (datatype or XSD_BOOLEAN) + ">"
        if isinstance(value, (int, float)) and js_is_double(value) or (datatype == XSD_DOUBLE):
            number = value if isinstance(value, (int, float)) else _js_parse_float(str(value))
            return '"' + js_double_lexical(float(number)) + '"^^<' + (datatype or XSD_DOUBLE) + ">"
        if isinstance(value, (int, float)):
            return '"' + js_integer_lexical(value) + '"^^<' + (datatype or XSD_INTEGER) + ">"
        direction = item.get("@direction")
        if direction is not None:
            if self.rdf_direction == "i18n-datatype":
                language = (item.get("@language") or "").lower()
                return '"' + escape_literal(value) + '"^^<https://www.w3.org/ns/i18n#' + language + "_" + direction + ">"
            self._unsafe(
                "rdfDirection not set",
                f"the base direction {direction!r} of {value!r} would be lost in RDF (no rdfDirection is set)",
                str(value),
            )
        language = item.get("@language")
        if language is not None and not _BCP47.match(language):
            self._unsafe("invalid @language value", f"{language!r} is not a BCP 47 language tag", language)
            return None
        if language is not None:
            if datatype is not None and datatype != RDF_LANGSTRING:
                return '"' + escape_literal(value) + '"^^<' + datatype + ">"
            return '"' + escape_literal(value) + '"@' + language
        if datatype is None or datatype == XSD_STRING:
            return '"' + escape_literal(value) + '"'
        return '"' + escape_literal(value) + '"^^<' + datatype + ">"


def expanded_to_quads(
    expanded: list[Any], *, strict: bool = True, rdf_direction: str | None = None, deduplicate: bool = True
) -> list[Quad]:
    """Deserialize expanded JSON-LD to RDF (JSON-LD 1.1 API §8.1); unordered quads.

    With `deduplicate=False` a quad may appear more than once (cheaper, for consumers such as RDFC-1.0
    that treat their input as a set anyway).
    """
    quads = RdfWriter(strict=strict, rdf_direction=rdf_direction).write_document(expanded)
    return list(dict.fromkeys(quads)) if deduplicate else quads
