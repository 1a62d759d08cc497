"""The selective-disclosure functions of Data Integrity (VC-DI-ECDSA §3.4), shared by SD cryptosuites.

Why they exist: a selective-disclosure proof signs each statement of a credential on its own, so that a
holder can later reveal some statements and withhold the rest, and a verifier can still check every
revealed one. Three problems make that harder than it sounds, and each function here answers one:

* **Which statements does a JSON pointer mean?** People name what to reveal in the JSON they read
  (``/credentialSubject/monthlyTotals``); signatures cover RDF statements. `select_json_ld` cuts the
  compact document down to what the pointers name (plus the ``id`` and ``type`` of every node on the way,
  so the statements stay attached to the right nodes), and the selection is converted to RDF.
* **Blank nodes have no stable names.** A node without an ``id`` gets an arbitrary label each time a
  document becomes RDF, so the statements of a selection could not be matched with the statements of the
  whole. `skolemize` gives every such node a temporary IRI (``urn:bnid:…``) in the compact document and
  in its expansion at once; `deskolemize` turns those IRIs back into blank nodes afterwards.
* **Canonical labels leak.** RDFC-1.0 labels (``c14n0``…) say how many nodes the hidden part has and
  where; the issuer replaces them with HMACs of themselves under a key only the holder gets
  (`hmac_label_map_factory`), and the verifier with the labels the holder discloses (`label_map_factory`).

Our JSON-LD processor and RDFC-1.0 canonicalizer do the underlying work: node objects are found by the
expansion itself (its ``node_sink``), not guessed from JSON shapes, and labels are replaced inside the
canonicalizer (`rdfc.label_replacement_canonicalize`), never by search-and-replace in N-Quads text.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .canonical import RDF_DIRECTION, no_cyclic_gc
from .errors import ProofError
from .jsonld import ContextLoader, to_rdf
from .jsonld.context import initial_context
from .jsonld.expand import Expander
from .jsonld.quads import expanded_to_quads
from .multibase import decode_base64url, encode_base64url
from .rdf import Quad, quad_line
from .rdfc import label_replacement_canonicalize

__all__ = [
    "Group",
    "Grouped",
    "canonicalize_and_group",
    "deskolemize",
    "hmac_label_map_factory",
    "label_map_factory",
    "parse_pointer",
    "select_json_ld",
    "skolemize",
]

SKOLEM_PREFIX = "urn:bnid:"
LabelMapFactory = Callable[[dict[str, str]], dict[str, str]]

# JSON pointers are user input (CLI, HTTP): bound their number and length so a request cannot make
# selection arbitrarily expensive.
MAX_POINTERS = 10_000
MAX_POINTER_CHARS = 2_048


def _generation_error(message: str) -> ProofError:
    return ProofError(message, code="PROOF_GENERATION_ERROR")


# -- JSON pointers (RFC 6901) and selection -----------------------------------------------------------------


def parse_pointer(pointer: object) -> list[str]:
    """jsonPointerToPaths: the reference tokens of an RFC 6901 pointer, unescaped (``~1`` → ``/``, ``~0`` → ``~``).

    Tokens stay strings here; `select_json_ld` reads an all-digits token as an index when the value it
    walks is an array. ``""`` (the whole document) gives no tokens.
    """
    if not isinstance(pointer, str):
        raise _generation_error(f"a JSON pointer must be a string, not {type(pointer).__name__}")
    if len(pointer) > MAX_POINTER_CHARS:
        raise _generation_error(f"the JSON pointer {pointer[:40]!r}... is longer than {MAX_POINTER_CHARS} characters")
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise _generation_error(f"{pointer!r} is not a JSON pointer: it must start with '/' (e.g. /credentialSubject/monthlyTotals)")
    tokens = []
    for raw in pointer.split("/")[1:]:
        stripped = raw.replace("~0", "").replace("~1", "")
        if "~" in stripped:
            raise _generation_error(f"the JSON pointer {pointer!r} has an invalid escape ('~' must be followed by 0 or 1)")
        tokens.append(raw.replace("~1", "/").replace("~0", "~"))
    return tokens


def _initial_selection(source: Any) -> dict[str, Any]:
    """createInitialSelection: a node's non-blank ``id`` and its ``type`` (they keep a selection attached)."""
    selection: dict[str, Any] = {}
    if not isinstance(source, dict):
        return selection
    node_id = source.get("id")
    if isinstance(node_id, str) and not node_id.startswith("_:"):
        selection["id"] = node_id
    if "type" in source:
        selection["type"] = _copy(source["type"])  # a copy: a later pointer into it must not edit the source
    return selection


class _Hole:
    """A not-yet-selected position of a selected array (selectJsonLd makes arrays dense at the end)."""

    __slots__ = ()


_HOLE = _Hole()


def _step(value: Any, token: str, pointer: str) -> tuple[Any, str | int]:
    """The child of `value` that `token` names, and the key or index it is at."""
    if isinstance(value, list):
        if not token.isdigit() or (len(token) > 1 and token[0] == "0") or int(token) >= len(value):
            raise _generation_error(f"the JSON pointer {pointer} does not match the document: {token!r} is not an index of an array of {len(value)}")
        return value[int(token)], int(token)
    if isinstance(value, dict) and token in value:
        return value[token], token
    raise _generation_error(f"the JSON pointer {pointer} does not match the document: there is nothing at {token!r}")


def _copy(value: Any) -> Any:
    """A deep copy of JSON data (lists and dicts), faster than copy.deepcopy for it."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def select_json_ld(document: dict[str, Any], pointers: Sequence[str]) -> dict[str, Any] | None:
    """selectJsonLd: the part of a compact JSON-LD document that `pointers` name (None for no pointers).

    Every node on the way to a selected value keeps its ``id`` (unless it is a blank node identifier) and
    its ``type``; arrays keep the selected items in their original order.
    """
    if not isinstance(pointers, (list, tuple)):
        raise _generation_error("the JSON pointers must be a list of strings")
    if len(pointers) > MAX_POINTERS:
        raise _generation_error(f"{len(pointers)} JSON pointers are more than the {MAX_POINTERS} allowed")
    if not pointers:
        return None
    arrays: list[list[Any]] = []
    selection: dict[str, Any] = {"@context": _copy(document.get("@context"))} if "@context" in document else {}
    selection.update(_initial_selection(document))
    for pointer in pointers:
        tokens = parse_pointer(pointer)
        if not tokens:
            return _copy(document)
        value: Any = document
        selected_parent: Any = selection
        selected: Any = selection
        key: str | int = ""
        for token in tokens:
            selected_parent = selected
            value, key = _step(value, token, pointer)
            if isinstance(selected_parent, list):
                while len(selected_parent) <= int(key):
                    selected_parent.append(_HOLE)
                selected = selected_parent[int(key)]
            else:
                selected = selected_parent.get(key, _HOLE)
            if selected is _HOLE:
                if isinstance(value, list):
                    selected = []
                    arrays.append(selected)
                else:
                    selected = _initial_selection(value)
                selected_parent[key] = selected
        if isinstance(value, dict):
            selected = {**selected, **_copy(value)} if isinstance(selected, dict) else _copy(value)
        else:
            selected = _copy(value)
        selected_parent[key] = selected
    for array in arrays:
        array[:] = [item for item in array if item is not _HOLE]
    return selection


# -- skolemization -------------------------------------------------------------------------------------------


@dataclass
class Skolemized:
    """A compact document whose every node has an IRI, and the RDF of its expansion (already deskolemized)."""

    compact: dict[str, Any]
    quads: list[Quad]


def skolemize(document: dict[str, Any], loader: ContextLoader) -> Skolemized:
    """skolemizeCompactJsonLd + toDeskolemizedNQuads for a document in the contexts' plain compacted form.

    The spec expands, names every node in the expanded form, and compacts back. We have no compactor and
    need none: expansion reports each JSON object it turned into a node object (``node_sink``), so the
    same IRI is written into the expanded node and into a copy of the compact object (as ``id``, which
    the contexts that selective disclosure assumes alias to ``@id``). The compact copy is otherwise
    the input itself, so JSON pointers resolve in it exactly as in the document the holder reads.
    """
    expander = Expander(loader, strict=True, plain=True)
    sink: list[tuple[dict[str, Any], dict[str, Any]]] = []
    expander.node_sink = sink
    with no_cyclic_gc():
        expanded = expander.expand_document(document, initial_context(None))
        random = secrets.token_hex(16)
        names: dict[int, str] = {}
        for count, (compact, node) in enumerate(sink):
            node_id = node.get("@id")
            if isinstance(node_id, str) and not node_id.startswith("_:"):
                continue
            iri = SKOLEM_PREFIX + (node_id[2:] if isinstance(node_id, str) else f"_{random}_{count}")
            node["@id"] = iri
            names[id(compact)] = iri
        quads = expanded_to_quads(expanded, strict=True, rdf_direction=RDF_DIRECTION, deduplicate=False)
        compact = _with_ids(document, names)
    remaining = {t for q in quads for t in q if t.startswith("_:")}
    if remaining:
        raise _generation_error(
            "this document cannot be selectively disclosed: it has RDF statements about nodes that are not JSON objects "
            "(an @list, or a graph container), whose statements could not be matched to a selection"
        )
    return Skolemized(compact, deskolemize(quads))


def _with_ids(value: Any, names: Mapping[int, str]) -> Any:
    """A copy of `value` where each JSON object that expansion named gets its skolem IRI as ``id``."""
    if isinstance(value, dict):
        out = {k: _with_ids(v, names) for k, v in value.items()}
        iri = names.get(id(value))
        if iri is not None:
            out["id"] = iri
        return out
    if isinstance(value, list):
        return [_with_ids(v, names) for v in value]
    return value


def deskolemize(quads: Iterable[Quad]) -> list[Quad]:
    """deskolemizeNQuads on terms: ``<urn:bnid:X>`` becomes the blank node ``_:X`` (literals are untouched)."""
    prefix = "<" + SKOLEM_PREFIX
    cut = len(prefix)

    def term(t: str) -> str:
        return "_:" + t[cut:-1] if t.startswith(prefix) else t

    return [(term(s), p, term(o), term(g) if g else g) for s, p, o, g in quads]


def to_deskolemized_quads(selection: dict[str, Any], loader: ContextLoader) -> list[Quad]:
    """toDeskolemizedNQuads: a (skolemized) selection as RDF, its skolem IRIs back to blank nodes."""
    with no_cyclic_gc():
        quads = to_rdf(selection, loader, strict=True, rdf_direction=RDF_DIRECTION)
    return deskolemize(quads)


def relabel(quads: Iterable[Quad], label_map: Mapping[str, str]) -> list[str]:
    """relabelBlankNodes: N-Quads lines with every blank node renamed by `label_map` (labels without ``_:``)."""

    def term(t: str) -> str:
        if t.startswith("_:"):
            new = label_map.get(t[2:])
            if new is None:
                raise _generation_error(f"blank node {t} of a selection is not in the document")
            return "_:" + new
        return t

    return [quad_line((term(s), p, term(o), term(g) if g else g)) for s, p, o, g in quads]


# -- label maps ---------------------------------------------------------------------------------------------


def hmac_label_map_factory(key: bytes, hash_name: str = "sha256") -> LabelMapFactory:
    """createHmacIdLabelMapFunction: each canonical label ``c14nN`` becomes ``u`` + base64url(HMAC(key, label))."""

    def factory(canonical_ids: dict[str, str]) -> dict[str, str]:
        return {
            name: encode_base64url(hmac.new(key, label.encode("utf-8"), hash_name).digest())
            for name, label in canonical_ids.items()
        }

    return factory


def label_map_factory(label_map: Mapping[str, str]) -> LabelMapFactory:
    """createLabelMapFunction: each canonical label becomes the label `label_map` gives it (the disclosed map)."""

    def factory(canonical_ids: dict[str, str]) -> dict[str, str]:
        out = {}
        for name, label in canonical_ids.items():
            new = label_map.get(label)
            if new is None:
                raise ProofError(
                    f"the derived proof's label map has no label for blank node {label} of the disclosed document",
                    code="PROOF_VERIFICATION_ERROR",
                )
            out[name] = new
        return out

    return factory


def hmac_label(key: bytes, label: str) -> str:
    """The HMAC label of one canonical label (what `hmac_label_map_factory` computes), for tests and tools."""
    return encode_base64url(hmac.new(key, label.encode("utf-8"), hashlib.sha256).digest())


def compress_label_map(label_map: Mapping[str, str]) -> dict[int, bytes]:
    """compressLabelMap: ``{"c14n3": "uAbC…"}`` → ``{3: b"…"}`` (what the derived proof value carries)."""
    out = {}
    for key, value in label_map.items():
        if not (key.startswith("c14n") and key[4:].isdigit() and value.startswith("u")):
            raise _generation_error(f"label map entry {key!r} -> {value!r} is not a canonical label and an HMAC label")
        out[int(key[4:])] = decode_base64url(value)
    return out


def decompress_label_map(compressed: Mapping[int, bytes]) -> dict[str, str]:
    """decompressLabelMap: the inverse of `compress_label_map`."""
    return {f"c14n{key}": encode_base64url(value) for key, value in compressed.items()}


# -- canonicalize and group -----------------------------------------------------------------------------------


@dataclass
class Group:
    """The canonical N-Quads a named selection matches (by absolute index) and the ones it does not."""

    matching: dict[int, str] = field(default_factory=dict)
    non_matching: dict[int, str] = field(default_factory=dict)
    deskolemized_quads: list[Quad] = field(default_factory=list)


@dataclass
class Grouped:
    """canonicalizeAndGroup's result: the groups, the label map and the relabelled canonical N-Quads."""

    groups: dict[str, Group]
    label_map: dict[str, str]
    nquads: list[str]
    skolemized: Skolemized


def canonicalize_and_group(
    document: dict[str, Any],
    label_map_factory: LabelMapFactory,
    group_definitions: Mapping[str, Sequence[str]],
    loader: ContextLoader,
    *,
    hash_algorithm: str = "sha256",
) -> Grouped:
    """canonicalizeAndGroup: the document's canonical N-Quads with replaced labels, grouped by JSON pointers."""
    skolemized = skolemize(document, loader)
    nquads, label_map = label_replacement_canonicalize(skolemized.quads, label_map_factory, hash_algorithm=hash_algorithm)
    groups: dict[str, Group] = {}
    for name, pointers in group_definitions.items():
        selection = select_json_ld(skolemized.compact, list(pointers))
        deskolemized = to_deskolemized_quads(selection, loader) if selection is not None else []
        selected = set(relabel(deskolemized, label_map))
        group = Group(deskolemized_quads=deskolemized)
        for index, line in enumerate(nquads):
            (group.matching if line in selected else group.non_matching)[index] = line
        groups[name] = group
    return Grouped(groups, label_map, nquads, skolemized)
