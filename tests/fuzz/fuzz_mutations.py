"""The mutation engine of the fuzz tests: every JSON path of a document × a fixed set of hostile values.

A uniquely named helper module (not a conftest.py), as in the other test folders: the test modules
import it by name. The engine is deterministic — a path, a kind of mutation and a value — so that
hypothesis can draw from it and shrink a failure to the one path and value that broke something.

Why these values: each stands for a class of input that crashed an entry point in issue 7 (a list
where a string was read as a dict key, a lone surrogate that cannot be encoded as UTF-8, an integer
with more digits than Python converts to text, a NUL byte PostgreSQL refuses, nesting that reaches a
recursion limit) or that a parser commonly gets wrong (empty values, right-to-left overrides,
JSON-LD value objects where a plain value was expected).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
VECTORS = ROOT / "tests" / "vectors"

HUGE_INT = 10**5000  # more digits than int → str converts by default (sys.get_int_max_str_digits: 4300)
LONG_STRING = "x" * 70_000
LONE_SURROGATE = "\ud800"
NUL = "a\x00b"
ODD_UNICODE = "\u202eevil\u200b\ufeff\u0301\U0001f600\uffff"


def _deep(levels: int) -> Any:
    value: Any = "bottom"
    for i in range(levels):
        value = {"deep": value} if i % 2 else [value]
    return value


def hostile_values(original: Any) -> list[tuple[str, Any]]:
    """(label, value) for every replacement the issue names, some built around the original value."""
    return [
        ("null", None),
        ("true", True),
        ("false", False),
        ("zero", 0),
        ("minus-one", -1),
        ("1e308", 1e308),
        ("huge-int", HUGE_INT),
        ("empty-string", ""),
        ("long-string", LONG_STRING),
        ("lone-surrogate", LONE_SURROGATE),
        ("nul", NUL),
        ("odd-unicode", ODD_UNICODE),
        ("empty-list", []),
        ("list-of-it", [original]),
        ("empty-object", {}),
        ("value-object", {"@value": original}),
        ("nested-deep", _deep(60)),
    ]


VALUE_LABELS = [label for label, _ in hostile_values(None)]
KEY_REPLACEMENTS = ["", LONE_SURROGATE, NUL, ODD_UNICODE, "@value", "@context"]

Path_ = tuple[str | int, ...]


def json_paths(document: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    """Every path of a JSON value, the root included, in document order."""
    yield prefix
    if isinstance(document, dict):
        for key, value in document.items():
            yield from json_paths(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from json_paths(value, (*prefix, index))


def get_at(document: Any, path: Path_) -> Any:
    for step in path:
        document = document[step]
    return document


def set_at(document: Any, path: Path_, value: Any) -> Any:
    """A copy of `document` with the value at `path` replaced (the root itself when `path` is empty)."""
    if not path:
        return value
    out = copy.deepcopy(document)
    parent = get_at(out, path[:-1])
    parent[path[-1]] = value
    return out


def rename_at(document: Any, path: Path_, new_key: str) -> Any:
    """A copy with the object key at the end of `path` renamed (the order of the other keys kept)."""
    out = copy.deepcopy(document)
    parent = get_at(out, path[:-1])
    items = list(parent.items())
    parent.clear()
    for key, value in items:
        parent[new_key if key == path[-1] else key] = value
    return out


@dataclass(frozen=True)
class Mutation:
    """One change to one document, printable so that a failing example names it."""

    path: Path_
    kind: str  # "value" or "key"
    label: str

    def apply(self, document: Any) -> Any:
        if self.kind == "key":
            return rename_at(document, self.path, KEY_REPLACEMENTS[int(self.label)])
        values = dict(hostile_values(get_at(document, self.path)))
        return set_at(document, self.path, values[self.label])


def mutations_of(document: Any) -> list[Mutation]:
    """Every mutation of `document`: each path × each hostile value, and each object key × each odd key."""
    out = []
    for path in json_paths(document):
        out.extend(Mutation(path, "value", label) for label in VALUE_LABELS)
        if path and isinstance(path[-1], str):
            out.extend(Mutation(path, "key", str(i)) for i in range(len(KEY_REPLACEMENTS)))
    return out


def mutation_strategy(document: Any) -> st.SearchStrategy[Mutation]:
    """A hypothesis strategy over every mutation of `document` (shrinks towards the root and `null`)."""
    return st.sampled_from(mutations_of(document))


def trimmed(document: Any, keep: int = 3) -> Any:
    """The document with every list cut to `keep` items: a year of readings has ~17,520 paths that
    all look alike, and the fuzz budget is better spent on distinct fields."""
    if isinstance(document, dict):
        return {k: trimmed(v, keep) for k, v in document.items()}
    if isinstance(document, list):
        return [trimmed(v, keep) for v in document[:keep]]
    return document


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def credential_corpus() -> dict[str, Any]:
    """Every worked example and W3C test credential (signed), lists trimmed; by a short name."""
    files = sorted((EXAMPLES / "credentials").glob("*.json"))
    files += [
        VECTORS / "vc-di-eddsa/TestVectors/eddsa-rdfc-2022/signedDataInt.json",
        VECTORS / "vc-di-eddsa/TestVectors/eddsa-jcs-2022/signedJCS.json",
        VECTORS / "vc-di-eddsa/TestVectors/Ed25519Signature2020/signedEdSig.json",
        VECTORS / "vc-di-eddsa/TestVectors/proof-set-chain/signedProofChain2.json",
        VECTORS / "vc-di-eddsa/TestVectors/proof-set-chain/signedProofSet2.json",
        VECTORS / "vc-di-ecdsa/TestVectors/ecdsa-jcs-2019-p384/signedJCSECDSAP384.json",
    ]
    return {path.stem: trimmed(load(path)) for path in files if path.exists()}


def huge_int_json(value: Any) -> str:
    """JSON text for `value` in which HUGE_INT appears as its digits (json.dumps refuses to write them)."""
    marker = "__HUGE_INT_MARKER__"

    def swap(item: Any) -> Any:
        if isinstance(item, int) and not isinstance(item, bool) and item == HUGE_INT:
            return marker
        if isinstance(item, dict):
            return {k: swap(v) for k, v in item.items()}
        if isinstance(item, list):
            return [swap(v) for v in item]
        return item

    return json.dumps(swap(value), ensure_ascii=True).replace(f'"{marker}"', "1" * 5000)


def to_json_text(value: Any) -> str:
    """JSON text for any mutated document, lone surrogates escaped (as a hostile sender would write them)."""
    return huge_int_json(value)
