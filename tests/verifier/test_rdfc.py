"""RDFC-1.0 canonicalization: the W3C test suite, the work budget, and isomorphism properties.

The W3C suite (tests/vectors/rdf-canon/tests, enumerated from manifest.jsonld) is the authority: each
entry is its own pytest case, compared byte for byte. The property tests then check what the suite
cannot enumerate: that the canonical form ignores blank node labels and quad order (including for
automorphic cycles), that the issued map and the N-Quads agree, and that the fast first-degree and
serialization paths give exactly what the spec's plain procedure gives.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perseus.verifier import rdfc
from perseus.verifier.errors import CanonicalizationError
from perseus.verifier.nquads import parse_nquads
from perseus.verifier.rdf import XSD, Quad, serialize
from perseus.verifier.rdfc import CanonicalDataset, canonical_nquads, canonicalize, work_limit

SUITE = Path(__file__).parent.parent / "vectors" / "rdf-canon" / "tests"
MANIFEST = json.loads((SUITE / "manifest.jsonld").read_text(encoding="utf-8"))
KNOWN_TYPES = {"rdfc:RDFC10EvalTest", "rdfc:RDFC10MapTest", "rdfc:RDFC10NegativeEvalTest"}


def _entries() -> list[Any]:
    return [pytest.param(entry, id=entry["id"].lstrip("#")) for entry in MANIFEST["entries"]]


def _hash_algorithm(entry: dict[str, Any]) -> str:
    return str(entry.get("hashAlgorithm", "SHA256")).lower()  # the manifest says "SHA384"


# --- the W3C test suite --------------------------------------------------------------------------------


def test_manifest_is_complete() -> None:
    """Every entry is of a type we run, so a new kind of test cannot be skipped silently."""
    assert len(MANIFEST["entries"]) >= 86
    assert {entry["type"] for entry in MANIFEST["entries"]} == KNOWN_TYPES


@pytest.mark.parametrize("entry", _entries())
def test_w3c_rdfc10(entry: dict[str, Any], vectors: Path) -> None:
    suite = vectors / "rdf-canon" / "tests"
    quads = parse_nquads((suite / entry["action"]).read_text(encoding="utf-8"))
    algorithm = _hash_algorithm(entry)

    if entry["type"] == "rdfc:RDFC10NegativeEvalTest":
        with pytest.raises(CanonicalizationError, match="poison graph") as refused:
            canonicalize(quads, hash_algorithm=algorithm)
        assert refused.value.code == "PROOF_TRANSFORMATION_ERROR"
        return

    result = canonicalize(quads, hash_algorithm=algorithm)
    if entry["type"] == "rdfc:RDFC10EvalTest":
        assert result.nquads.encode("utf-8") == (suite / entry["result"]).read_bytes()
    else:
        assert result.issued == json.loads((suite / entry["result"]).read_text(encoding="utf-8"))
        # The issued map's keys are exactly the input's blank nodes.
        labels = {term[2:] for quad in quads for term in quad if term.startswith("_:")}
        assert set(result.issued) == labels


# --- API -----------------------------------------------------------------------------------------------

P = "<http://example.org/p>"
Q = "<http://example.org/q>"


def test_result_shape() -> None:
    result = canonicalize([("_:x", P, '"v"', ""), ("<http://example.org/s>", Q, "_:x", "")])
    assert result == CanonicalDataset(
        '<http://example.org/s> <http://example.org/q> _:c14n0 .\n_:c14n0 <http://example.org/p> "v" .\n',
        {"x": "c14n0"},
    )
    assert canonical_nquads([("_:x", P, '"v"', "")]) == '_:c14n0 <http://example.org/p> "v" .\n'


def test_empty_dataset() -> None:
    assert canonicalize([]) == CanonicalDataset("", {})


def test_accepts_any_iterable_and_removes_duplicates() -> None:
    quads = [
        ("_:a", P, "_:b", ""),
        ("_:b", P, '"x"', "<http://example.org/g>"),
        ("<http://example.org/s>", P, '"ground"', ""),
        ("<http://example.org/s>", Q, "_:a", ""),
    ]
    expected = canonicalize(quads)
    assert canonicalize(iter(quads * 3)) == expected
    assert canonicalize(tuple(reversed(quads + quads))).nquads == expected.nquads


@pytest.mark.parametrize("name", ["sha256", "sha384", "SHA384", "SHA-256"])
def test_hash_algorithms(name: str) -> None:
    canonicalize([("_:a", P, "_:b", ""), ("_:b", P, "_:a", "")], hash_algorithm=name)


@pytest.mark.parametrize("name", ["md5", "sha1", "sha512", "", "blake2b"])
def test_unsupported_hash_algorithm(name: str) -> None:
    with pytest.raises(CanonicalizationError, match="unsupported RDFC-1.0 hash algorithm"):
        canonicalize([], hash_algorithm=name)


def test_malformed_quads_are_refused() -> None:
    with pytest.raises(CanonicalizationError, match="not a dataset of N-Quads terms"):
        canonicalize([("", P, '"x"', "")])


def test_sha384_differs_from_sha256(vectors: Path) -> None:
    quads = parse_nquads((vectors / "rdf-canon/tests/rdfc10/test020-in.nq").read_text(encoding="utf-8"))
    assert canonicalize(quads, hash_algorithm="sha384").issued != canonicalize(quads).issued


# --- the work budget -------------------------------------------------------------------------------------


def clique(n: int) -> list[Quad]:
    return [(f"_:e{i}", P, f"_:e{j}", "") for i in range(n) for j in range(n)]


def test_work_limit_shape() -> None:
    assert work_limit(2) == rdfc.MINIMUM_WORK_LIMIT + 2
    assert work_limit(12, mentions=30) == 12**rdfc.DEFAULT_WORK_FACTOR + 12 + 30
    assert work_limit(10**6, mentions=10**7) == rdfc.ABSOLUTE_WORK_LIMIT + 10**6 + 10**7
    assert work_limit(12, work_factor=2) == rdfc.MINIMUM_WORK_LIMIT + 12
    with pytest.raises(ValueError):
        work_limit(3, work_factor=-1)


def test_poison_message_explains() -> None:
    with pytest.raises(CanonicalizationError) as refused:
        canonicalize(clique(6))
    message = str(refused.value)
    assert "Hash N-Degree Quads" in message and "poison graph" in message
    assert f"more than {rdfc.MINIMUM_WORK_LIMIT + 6 + 6 * 11:,} units" in message
    assert "6 blank nodes that share first-degree hashes" in message


def test_large_poison_graph_is_refused_at_the_absolute_cap() -> None:
    limit = rdfc.ABSOLUTE_WORK_LIMIT + 40 + 40 * 79  # the cap, plus m and the mention sets' size
    with pytest.raises(CanonicalizationError, match=f"more than {limit:,} units"):
        canonicalize(clique(40))


def test_wide_symmetric_fan_out_is_refused() -> None:
    """Two look-alike hubs over the same 12 look-alike nodes: 12! permutations per hub."""
    hubs = [(hub, P, f"_:x{i}", "") for hub in ("_:h", "_:g") for i in range(12)]
    with pytest.raises(CanonicalizationError, match="permutations"):
        canonicalize(hubs)


def test_odd_subjects_still_sort() -> None:
    """Terms outside the N-Quads grammar are not our input, but must not unsort the output."""
    subjects = ['"literal"', "bare", "<urn:s>"]
    quads = [("_:b", P, '"x"', "")] + [(subject, P, "_:b", "") for subject in subjects]
    result = canonicalize(quads)
    assert result.nquads == serialize(set(relabel(quads, {"_:b": "_:c14n0"})))


def test_work_factor_parameter_raises_the_limit() -> None:
    """The W3C "evil" graphs need ~3,800 units; a limit below that refuses them."""
    quads = parse_nquads((SUITE / "rdfc10/test044-in.nq").read_text(encoding="utf-8"))
    canonicalize(quads)
    original = rdfc.MINIMUM_WORK_LIMIT
    try:
        rdfc.MINIMUM_WORK_LIMIT = 100
        with pytest.raises(CanonicalizationError):
            canonicalize(quads, work_factor=1)
        canonicalize(quads, work_factor=4)
    finally:
        rdfc.MINIMUM_WORK_LIMIT = original


@pytest.mark.parametrize("size", [12, 1500, 6000])
def test_look_alikes_in_a_blank_node_graph_are_cheap(size: int) -> None:
    """Each node's related list repeats the graph name once per quad: k! equal permutations, tried once.

    (Found by the JSON-LD differential test: two equal objects inside an @graph container.)
    """
    quads = [(node, f"<urn:p:{i}>", '"v"', "_:g") for node in ("_:x", "_:y") for i in range(size)]
    quads.append(("<http://example.org/s>", P, "_:g", ""))
    assert len(canonicalize(quads).issued) == 3


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from("abcd"), max_size=6))
def test_distinct_permutations_keep_the_spec_order(group: list[str]) -> None:
    """Skipping repeated permutations is exact: same sequences, in the order of first occurrence."""
    assert list(rdfc._distinct_permutations(group)) == list(dict.fromkeys(itertools.permutations(group)))


def two_identical_chains(length: int) -> list[Quad]:
    quads: list[Quad] = []
    for chain in "ab":
        for i in range(length):
            quads.append((f"_:{chain}{i}", P, f'"{i}"', ""))
            if i:
                quads.append((f"_:{chain}{i - 1}", Q, f"_:{chain}{i}", ""))
    return quads


def test_deep_recursion_does_not_hit_the_python_stack() -> None:
    """Hash N-Degree Quads recurses along look-alike paths: 1,500 deep here, past Python's recursion limit."""
    result = canonicalize(two_identical_chains(1500))
    assert len(result.issued) == 3000


def test_many_benign_look_alikes_fit_the_budget() -> None:
    """Readings that each hold an identical nested node need N-degree hashing, about one call each."""
    quads: list[Quad] = []
    for i in range(3000):
        quads += [(f"_:r{i}", P, f'"{i}"', ""), (f"_:r{i}", Q, f"_:u{i}", ""), (f"_:u{i}", P, '"kWh"', "")]
    assert len(canonicalize(quads).issued) == 6000


# --- properties --------------------------------------------------------------------------------------------

IRIS = ["<http://example.org/a>", "<http://example.org/b>", "<urn:x:%E2%88%9E>"]
LITERALS = ['"v"', '"_:a"', '"x _:a y"', '"_:z"@en', f'"1"^^<{XSD}integer>', r'"a\nb"']
BLANKS = [f"_:n{i}" for i in range(5)]


@st.composite
def datasets(draw: st.DrawFn) -> list[Quad]:
    """Small datasets over a few blank nodes, IRIs and literals (including ones spelling ``_:a``)."""
    node = st.sampled_from(BLANKS + IRIS)
    obj = st.sampled_from(BLANKS + IRIS + LITERALS)
    graph = st.sampled_from(["", "", "", IRIS[0], BLANKS[0], BLANKS[1]])
    quad = st.tuples(node, st.sampled_from([P, Q]), obj, graph)
    return draw(st.lists(quad, min_size=0, max_size=14))


@st.composite
def cycles(draw: st.DrawFn) -> list[Quad]:
    """Unions of rings of look-alike blank nodes (automorphic: every node of a ring is alike)."""
    quads: list[Quad] = []
    for ring in range(draw(st.integers(1, 3))):
        size = draw(st.integers(1, 5))
        both_ways = draw(st.booleans())
        for i in range(size):
            quads.append((f"_:r{ring}n{i}", P, f"_:r{ring}n{(i + 1) % size}", ""))
            if both_ways:
                quads.append((f"_:r{ring}n{i}", Q, f"_:r{ring}n{(i - 1) % size}", ""))
    return quads


def relabel(quads: list[Quad], mapping: dict[str, str]) -> list[Quad]:
    return [tuple(mapping.get(term, term) for term in quad) for quad in quads]  # type: ignore[misc]


def isomorphic_copy(quads: list[Quad], seed: int) -> list[Quad]:
    """The same dataset with fresh random blank node labels, quads shuffled."""
    rng = random.Random(seed)
    nodes = sorted({term for quad in quads for term in quad if term.startswith("_:")})
    fresh = [f"_:q{rng.randrange(10**6)}x{i}" for i in range(len(nodes))]
    rng.shuffle(fresh)
    copy = relabel(quads, dict(zip(nodes, fresh, strict=True)))
    rng.shuffle(copy)
    return copy


PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(datasets() | cycles(), st.integers(0, 2**32))
def test_invariant_under_relabelling_and_reordering(quads: list[Quad], seed: int) -> None:
    assert canonicalize(isomorphic_copy(quads, seed)).nquads == canonicalize(quads).nquads


@PROPERTY_SETTINGS
@given(datasets() | cycles())
def test_issued_map_relabels_input_into_the_output(quads: list[Quad]) -> None:
    result = canonicalize(quads)
    mapping = {"_:" + label: "_:" + canonical for label, canonical in result.issued.items()}
    assert serialize(set(relabel(quads, mapping))) == result.nquads
    assert sorted(result.issued.values()) == sorted(f"c14n{i}" for i in range(len(result.issued)))


def plain_first_degree_hash(quads: list[Quad], node: str) -> str:
    """§4.6 Hash First Degree Quads written exactly as the spec states it."""
    lines = []
    for quad in set(quads):
        if node in quad:
            s, p, o, g = (("_:a" if t == node else "_:z") if t.startswith("_:") else t for t in quad)
            lines.append(f"{s} {p} {o} {g} .\n" if g else f"{s} {p} {o} .\n")
    return hashlib.sha256("".join(sorted(lines)).encode()).hexdigest()


@PROPERTY_SETTINGS
@given(datasets())
def test_fast_first_degree_hashes_match_the_spec(quads: list[Quad]) -> None:
    index = rdfc._index_quads(quads + quads[:3])  # with duplicates
    names, digests, _ = rdfc._hash_first_degree_quads(index, hashlib.sha256)
    nodes = {term for quad in quads for term in quad if term.startswith("_:")}
    assert set(names) == nodes and len(names) == len(nodes)
    for node, digest in zip(names, digests):
        assert digest.hex() == plain_first_degree_hash(quads, node)


@PROPERTY_SETTINGS
@given(datasets())
def test_duplicates_never_matter(quads: list[Quad]) -> None:
    assert canonicalize(quads + quads[::2]) == canonicalize(list(dict.fromkeys(quads)))


@PROPERTY_SETTINGS
@given(datasets())
def test_streamed_digest_equals_the_hash_of_the_canonical_document(quads: list[Quad]) -> None:
    nquads = canonical_nquads(quads)
    assert rdfc.canonical_digest(quads) == hashlib.sha256(nquads.encode()).digest()
    assert rdfc.canonical_digest(quads, hash_algorithm="sha384") == hashlib.sha384(canonical_nquads(quads, hash_algorithm="sha384").encode()).digest()
