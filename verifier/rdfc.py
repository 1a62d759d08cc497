"""RDF Dataset Canonicalization, RDFC-1.0 (https://www.w3.org/TR/rdf-canon/).

A Data Integrity proof over RDF signs the *canonical* N-Quads of the credential: the same dataset,
however its blank nodes were labelled and its quads ordered, must give byte-identical text. RDFC-1.0
does that by labelling every blank node ``c14n0``, ``c14n1`` ... from hashes of its surroundings.

The code follows the spec's sections (numbers and anchors of the W3C Recommendation), and names
functions after them:

* §4.2 Canonicalization State (#canon-state) ........ `_State`
* §4.3 Blank Node Identifier Issuer State ........... `IdentifierIssuer`
* §4.4 Canonicalization Algorithm (#canon-algorithm)  `canonicalize` (steps marked in comments);
  step 2's blank node to quads map is `_index_quads` (hot path) and `_blank_node_to_quads`
* §4.5 Issue Identifier (#issue-identifier) ......... `IdentifierIssuer.issue`
* §4.6 Hash First Degree Quads (#hash-1d-quads) ..... `_hash_first_degree_quads` (all nodes at once)
* §4.7 Hash Related Blank Node ...................... `_hash_related_blank_node`
* §4.8 Hash N-Degree Quads (#hash-nd-quads) ......... `_hash_n_degree_quads`
* §5 Serialization, Appendix A canonical N-Quads .... `_serialize` (terms are already canonical text)

Speed. A year of half-hourly meter readings is ~17,520 blank nodes and ~90,000 quads, and the
whole verification has a one-second budget. Almost every blank node in real credentials has a
unique first-degree hash, so the first-degree phase is the hot path. It works on the string terms
of ``rdf.py`` directly (a term's first character says whether it is a blank node), formats each
quad once, in one pass, as the line Hash First Degree Quads hashes, and derives the canonical
lines from those same strings; no object is allocated per quad beyond that line. The N-degree
machinery, and the quad-by-quad map the spec describes, are built only for blank nodes whose
first-degree hashes collide.

Safety. Hash N-Degree Quads is exponential in the worst case (it tries every permutation of
blank nodes that look alike, recursively); a "poison" dataset of a few dozen quads can make it run
for years. Every call therefore carries a work budget, see `work_limit`, and refuses with
`CanonicalizationError` once it is spent, as the spec's security considerations (§7.1) require.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice, permutations

from .errors import CanonicalizationError
from .rdf import Quad

__all__ = [
    "ABSOLUTE_WORK_LIMIT",
    "DEFAULT_WORK_FACTOR",
    "MINIMUM_WORK_LIMIT",
    "CanonicalDataset",
    "IdentifierIssuer",
    "canonical_digest",
    "canonical_nquads",
    "canonicalize",
    "label_replacement_canonicalize",
    "work_limit",
]

# --- the work budget ----------------------------------------------------------------------------------
#
# What is counted, in units of roughly a microsecond of CPython time (so that the budget bounds time,
# whatever the shape of the graph):
#   * each call of Hash N-Degree Quads, top-level or recursive: 1 + the size of the node's mention set
#     (the call computes a Hash Related Blank Node for the blank nodes of each of those quads);
#   * each permutation tried after the first one of a group: its length (k look-alike neighbours have
#     k! permutations, and a permutation of already-labelled nodes costs no call, so calls alone would
#     not bound the work; only distinct permutations are tried, see `_distinct_permutations`);
#   * each copy of an identifier issuer: 1 per 256 identifiers copied.
#
# How much is allowed: let m be the number of blank nodes whose first-degree hashes collide (the only
# ones Hash N-Degree Quads is started for) and M the total size of their mention sets.
#   * M + m units, always: calling Hash N-Degree Quads once on each of them is the least any dataset
#     with look-alikes needs, and it is linear in the input (a look-alike with 5,000 quads in a blank
#     node named graph needs 5,000 units however simple it is).
#   * Plus m ** work_factor units, work_factor 4 by default. Without look-alike neighbours, each of
#     the <= m top-level calls visits each look-alike node connected to its start once, at a cost of
#     its degree: about m³ units for m-regular graphs; the extra factor m leaves room for a little
#     symmetry (permutations). Look-alike neighbours multiply the work by up to k!, which is what
#     poison graphs exploit; the polynomial allowance is what they run out of. It is clamped
#       - to at least MINIMUM_WORK_LIMIT (~15 ms): small datasets are never refused; the W3C suite's
#         "evil" graphs (m = 12) need 3,828 units, its 10-node clique (test074) is refused after ~10,000;
#       - to at most ABSOLUTE_WORK_LIMIT (~0.3-0.6 s), whatever m is, so that the time spent before
#         refusing a poison dataset is bounded (beyond the linear part above).
#
# This follows jsonld.js / rdf-canonize's `maxWorkFactor` (deep iterations allowed ~ n ** factor), but
# counts permutations and issuer copies too, and caps the total. A benign dataset needs about one call
# per look-alike node: 17,520 readings that each hold a look-alike nested node cost ~53,000 units.
DEFAULT_WORK_FACTOR = 4
MINIMUM_WORK_LIMIT = 10_000
ABSOLUTE_WORK_LIMIT = 200_000

_HASH_ALGORITHMS: dict[str, Callable[..., "hashlib._Hash"]] = {
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
}


@dataclass(frozen=True)
class CanonicalDataset:
    """The result of canonicalization (spec §4.4 step 7: the serialized form and the issued identifiers).

    ``nquads`` is the canonical N-Quads document: sorted lines, each ending in ``\\n``.
    ``issued`` maps each input blank node label (without ``_:``) to its canonical label, e.g.
    ``{"b0": "c14n0"}``; selective-disclosure suites need it to relate input and output nodes.
    """

    nquads: str
    issued: dict[str, str]


class IdentifierIssuer:
    """An identifier issuer (§4.3): a prefix, a counter and the ordered map of identifiers issued so far.

    Keys are blank node terms as they appear in the quads (``"_:e0"``); issued identifiers carry no
    ``_:`` (``"c14n0"``, ``"b3"``), as in the spec. The map is a `dict`, so iteration follows issuance
    order, which §4.4 step 5.3 relies on.
    """

    __slots__ = ("prefix", "counter", "issued")

    def __init__(self, prefix: str, counter: int = 0, issued: dict[str, str] | None = None) -> None:
        self.prefix = prefix
        self.counter = counter
        self.issued: dict[str, str] = {} if issued is None else issued

    def issue(self, existing: str) -> str:
        """§4.5 Issue Identifier: the identifier already issued for `existing`, else the next one."""
        issued = self.issued.get(existing)
        if issued is None:
            issued = self.prefix + str(self.counter)
            self.issued[existing] = issued
            self.counter += 1
        return issued

    def copy(self) -> IdentifierIssuer:
        """An independent copy (Hash N-Degree Quads step 5.4.1: each permutation issues on its own)."""
        return IdentifierIssuer(self.prefix, self.counter, self.issued.copy())


def work_limit(shared_blank_nodes: int, work_factor: int = DEFAULT_WORK_FACTOR, *, mentions: int = 0) -> int:
    """How many work units Hash N-Degree Quads may spend on `shared_blank_nodes` look-alike nodes whose
    mention sets hold `mentions` quads in all.

    See the comment above `DEFAULT_WORK_FACTOR` for why this shape.
    """
    if work_factor < 0:
        raise ValueError("work_factor must be >= 0")
    polynomial = min(ABSOLUTE_WORK_LIMIT, max(MINIMUM_WORK_LIMIT, shared_blank_nodes**work_factor))
    return polynomial + shared_blank_nodes + mentions


class _State:
    """The canonicalization state (§4.2) plus the hash function and the work budget."""

    __slots__ = (
        "bnode_quads",
        "first_degree",
        "canonical",
        "hash",
        "related_hashes",
        "shared",
        "limit",
        "spent",
        "calls",
        "permutations",
    )

    def __init__(
        self,
        bnode_quads: dict[str, list[Quad]],
        first_degree: dict[str, bytes],
        canonical: IdentifierIssuer,
        hash_fn: Callable[..., "hashlib._Hash"],
        shared: int,
        limit: int,
    ) -> None:
        self.bnode_quads = bnode_quads  # blank node to quads map (mention sets)
        self.first_degree = first_degree  # blank node -> its Hash First Degree Quads digest
        self.canonical = canonical  # canonical issuer ("c14n")
        self.hash = hash_fn
        self.related_hashes: dict[tuple[str, str, str], str] = {}  # memo for Hash Related Blank Node
        self.shared = shared  # blank nodes whose first-degree hashes collide
        self.limit = limit  # work units allowed (`work_limit`)
        self.spent = 0
        self.calls = 0
        self.permutations = 0

    def spend(self, units: int) -> None:
        """Charge `units` of N-degree work; refuse the dataset once the budget is exceeded."""
        self.spent += units
        if self.spent > self.limit:
            raise CanonicalizationError(
                f"RDFC-1.0 canonicalization stopped: this dataset needs more than {self.limit:,} units of "
                f"Hash N-Degree Quads work (after {self.calls:,} calls and {self.permutations:,} "
                f"permutations) for its {self.shared} blank nodes that share first-degree hashes; it looks "
                "like a poison graph (many blank nodes that cannot be told apart, such as a clique), whose "
                "canonicalization could take hours, so it is refused",
                code="PROOF_TRANSFORMATION_ERROR",
            )


def _hash_function(name: str) -> Callable[..., "hashlib._Hash"]:
    """The hash function named `name`: "sha256" (RDFC-1.0's default) or "sha384"."""
    fn = _HASH_ALGORITHMS.get(name.lower().replace("-", "")) if isinstance(name, str) else None
    if fn is None:
        raise CanonicalizationError(
            f"unsupported RDFC-1.0 hash algorithm {name!r}; use 'sha256' or 'sha384'",
            code="PROOF_TRANSFORMATION_ERROR",
        )
    return fn


class _Mentions:
    """§4.4 step 2's blank node to quads map, stored in the shape the hot path needs.

    Nearly every quad of a credential has at most one blank node, and it is either the subject or
    the last term (object in the default graph, or graph name) of a quad with an IRI subject. Such a
    quad is stored once, as the very line Hash First Degree Quads hashes for that node:

    * ``lines[n]``: those lines for node n, e.g. ``"_:a <p> <o> .\\n"`` or ``"<s> <p> _:a .\\n"``;
      the canonical line is the same with ``_:a`` replaced by n's canonical label;
    * ``general[n]``: every other quad mentioning n (several blank nodes, ...), kept as a quad
      (``general_quads`` has them all, once each);
    * ``ground``: the finished lines of quads without blank nodes.

    ``lines`` has a key for every blank node, in order of first appearance: the iteration order of
    the spec's map (it decides which of two automorphic nodes is labelled first, hence the issued
    map). Serialization is injective for well-formed terms, so a duplicate quad shows up as a
    duplicate string in one of these lists, where it is removed (the dataset is a set).
    """

    __slots__ = ("ground", "lines", "general", "general_quads")

    def __init__(self) -> None:
        self.ground: list[str] = []
        self.lines: dict[str, list[str]] = {}
        self.general: dict[str, list[Quad]] = {}
        self.general_quads: dict[Quad, None] = {}  # the general quads, each once, in input order


def _index_quads(quads: Iterable[Quad]) -> _Mentions:
    """§4.4 steps 1–2: one pass over the input building the blank node to quads map (`_Mentions`)."""
    index = _Mentions()
    ground_append = index.ground.append
    lines, general = index.lines, index.general
    lines_get = lines.get
    seen_general = index.general_quads
    for quad in quads:
        s, p, o, g = quad
        first = s[0]
        if first == "_":
            if o[0] != "_" and not (g and g[0] == "_"):
                line = f"_:a {p} {o} {g} .\n" if g else f"_:a {p} {o} .\n"
                node = s
            else:
                node = ""
        elif o[0] == "_":
            if not g and first == "<":
                line = f"{s} {p} _:a .\n"
                node = o
            else:
                node = ""
        elif g and g[0] == "_":
            if first == "<":
                line = f"{s} {p} {o} _:a .\n"
                node = g
            else:
                node = ""
        else:
            ground_append(f"{s} {p} {o} {g} .\n" if g else f"{s} {p} {o} .\n")
            continue
        if node:
            entry = lines_get(node)
            if entry is None:
                lines[node] = [line]
            else:
                entry.append(line)
            continue
        # Anything else: several blank nodes, a blank node object in a named graph, an odd subject.
        if quad in seen_general:
            continue
        seen_general[quad] = None
        nodes = [s] if first == "_" else []
        if o[0] == "_" and o != s:
            nodes.append(o)
        if g and g[0] == "_" and g != s and g != o:
            nodes.append(g)
        for node in nodes:
            entry = general.get(node)
            if entry is None:
                general[node] = [quad]
                if node not in lines:
                    lines[node] = []
            else:
                entry.append(quad)
    return index


def _substituted_line(quad: Quad, reference: str, labels: dict[str, str] | None) -> str:
    """One N-Quads line of a general quad, its blank nodes written as Hash First Degree Quads needs
    (``_:a`` for `reference`, ``_:z`` for the others) or, with `labels`, canonically."""
    s, p, o, g = quad
    if labels is None:
        s = ("_:a" if s == reference else "_:z") if s[0] == "_" else s
        o = ("_:a" if o == reference else "_:z") if o[0] == "_" else o
        g = ("_:a" if g == reference else "_:z") if g and g[0] == "_" else g
    else:
        s = labels[s] if s[0] == "_" else s
        o = labels[o] if o[0] == "_" else o
        g = labels[g] if g and g[0] == "_" else g
    return f"{s} {p} {o} {g} .\n" if g else f"{s} {p} {o} .\n"


def _hash_first_degree_quads(
    index: _Mentions, hash_fn: Callable[..., "hashlib._Hash"]
) -> tuple[list[str], list[bytes], list[str]]:
    """§4.6 Hash First Degree Quads, for every blank node at once (§4.4 step 3).

    For reference node n, every quad that mentions it is serialized with n written ``_:a`` and any
    other blank node ``_:z``; the lines are sorted, concatenated and hashed. This is the hot path (one
    iteration per blank node of the dataset), hence one loop instead of a call per node, with the
    lines prepared by `_index_quads`.

    Returns three lists aligned with ``index.lines`` (the nodes in order of first appearance): the
    nodes, their digests (bytes: they sort as their hex forms do) and each node's concatenated
    ``index.lines`` (without its general quads), which `_serialize` reuses. Lists rather than maps keyed
    by node, so that later passes read them in memory order: with a year of readings (17,520 nodes) the
    maps' scattered lookups cost more than the work itself. Leaves every ``index.lines`` list sorted and
    without duplicates.
    """
    general_get = index.general.get if index.general else None
    names = list(index.lines)
    digests: list[bytes] = []
    texts: list[str] = []
    add_digest, add_text = digests.append, texts.append
    for n, lines in index.lines.items():
        if len(lines) > 1:
            if len(set(lines)) != len(lines):
                lines[:] = set(lines)
            lines.sort()
        data = "".join(lines)
        add_text(data)
        general = general_get(n) if general_get is not None else None
        if general is not None:  # a node with general quads: the spec's procedure, line by line
            data = "".join(sorted(lines + [_substituted_line(quad, n, None) for quad in general]))
        add_digest(hash_fn(data.encode()).digest())
    return names, digests, texts


def _serialize(index: _Mentions, texts: list[str], terms: list[str]) -> list[str]:
    """§5 Serialization: the canonical N-Quads document, lines in code point order, as pieces to join
    (or to hash one by one, see `canonical_digest`).

    Lines starting with ``<`` (IRI subjects) sort before those starting with ``_:``, and the lines
    of one blank subject are contiguous, in the order of their first-degree lines (the labels are a
    common prefix), with subjects ordered by ``label + " "``. So the document is the sorted
    IRI-subject lines, then one block per blank subject, and each block is its first-degree text with
    ``_:a`` replaced by the label, when ``_:a`` occurs nowhere else in it (checked by counting).
    `texts` and `terms` (each node's canonical term, ``_:c14n…``) are aligned with ``index.lines``.
    """
    labels = dict(zip(index.lines, terms)) if index.general_quads else {}
    pool = index.ground.copy()  # lines whose subject is not a blank node
    append = pool.append
    extra: dict[str, list[str]] = {}  # general quads' lines, by blank subject
    for quad in index.general_quads:
        line = _substituted_line(quad, "", labels)
        s = quad[0]
        if s[0] == "_":
            entry = extra.get(s)
            if entry is None:
                extra[s] = [line]
            else:
                entry.append(line)
        else:
            append(line)
    blocks: list[tuple[str, str]] = []
    blocks_append = blocks.append
    for (n, lines), label, text in zip(index.lines.items(), terms, texts):
        if lines and lines[0][0] != "_":  # lines[:split] have an IRI subject, lines[split:] have n
            split = bisect_left(lines, "_")
            for line in lines[:split]:
                append(line[:-6] + label + " .\n")
            text = text[len(lines[0]) :] if split == 1 else text[sum(map(len, lines[:split])) :]
        else:
            split = 0
        if n not in extra and text.count("_:a") == len(lines) - split:
            if text:
                blocks_append((label + " ", text.replace("_:a", label)))
        else:
            block = sorted([label + line[3:] for line in lines[split:]] + extra.get(n, []))
            blocks_append((label + " ", "".join(block)))
    pool.sort()
    if len(pool) > 1 and any(map(str.__eq__, pool, islice(pool, 1, None))):
        pool = list(dict.fromkeys(pool))  # duplicate quads without blank nodes
    blocks.sort()
    if pool and pool[-1] >= "_":  # a subject that is neither an IRI nor a blank node: sort everything
        lines = [line + "\n" for _, text in blocks for line in text.split("\n")[:-1]]
        return sorted(pool + lines)
    pool.extend([text for _, text in blocks])
    return pool


def _hash_related_blank_node(
    state: _State, related: str, quad: Quad, issuer: IdentifierIssuer, position: str
) -> str:
    """§4.7 Hash Related Blank Node: how `related` is connected to the node being hashed.

    The input is the position (s, o or g), the predicate unless the position is g, and the best
    identifier known for `related`: canonical, else temporary (from `issuer`), else its first-degree
    hash (computed once in §4.4 step 3 and reused, as the spec suggests). The same input recurs
    across calls and permutations, so hashes are memoized by input.
    """
    identifier = state.canonical.issued.get(related) or issuer.issued.get(related)
    label = "_:" + identifier if identifier is not None else state.first_degree[related].hex()
    predicate = "" if position == "g" else quad[1]
    key = (position, predicate, label)  # a tuple: hashing it reuses the strings' cached hashes
    memo = state.related_hashes
    hashed = memo.get(key)
    if hashed is None:
        hashed = memo[key] = state.hash((position + predicate + label).encode()).hexdigest()
    return hashed


def _distinct_permutations(group: list[str]) -> Iterator[tuple[str, ...]]:
    """The permutations of `group` that differ, in the order `itertools.permutations` first yields them.

    Step 5.4 of Hash N-Degree Quads iterates over *all* permutations of a related-blank-node list,
    and that list repeats a node once per quad relating it the same way: a look-alike node with k
    quads in a blank-node named graph has that graph k times in one list, hence k! permutations that
    are all the same sequence. Equal sequences give equal paths and issuers, and a later equal path
    never replaces the chosen one (the spec keeps a path only if it is strictly less), so visiting
    each distinct sequence once, at its first position in the full order, changes no result, and
    turns k! into 1 for that case.

    The first occurrence of a sequence in `itertools.permutations` (index tuples in lexicographic
    order) is its lexicographically least index tuple, which uses each value's unused positions in
    increasing order; so a depth-first walk trying, at each step, each value's next unused position,
    smallest position first, yields the distinct sequences in that order.
    """
    if len(set(group)) == len(group):
        yield from permutations(group)
        return
    positions: dict[str, list[int]] = {}
    for index, item in enumerate(group):
        positions.setdefault(item, []).append(index)
    used = dict.fromkeys(positions, 0)

    def choices() -> list[str]:
        """The values that can come next, the one with the smallest next position last (popped first)."""
        ranked = [(at[used[item]], item) for item, at in positions.items() if used[item] < len(at)]
        ranked.sort(reverse=True)
        return [item for _, item in ranked]

    # Depth-first, with an explicit stack (a group can repeat one node hundreds of times).
    prefix: list[str] = []
    stack = [choices()]
    while stack:
        remaining = stack[-1]
        if not remaining:
            stack.pop()
            if prefix:
                used[prefix.pop()] -= 1
            continue
        item = remaining.pop()
        used[item] += 1
        prefix.append(item)
        if len(prefix) == len(group):
            yield tuple(prefix)
            used[prefix.pop()] -= 1
        else:
            stack.append(choices())


# A step of Hash N-Degree Quads either asks for a recursive call (yields the related blank node and the
# issuer to use) or finishes (returns the hash and the chosen issuer).
_Steps = Generator[tuple[str, IdentifierIssuer], tuple[str, IdentifierIssuer], tuple[str, IdentifierIssuer]]


def _hash_n_degree_quads(
    state: _State, identifier: str, issuer: IdentifierIssuer
) -> tuple[str, IdentifierIssuer]:
    """§4.8 Hash N-Degree Quads: a hash of `identifier`'s surroundings that tells look-alikes apart.

    Returns the hash and the issuer holding the temporary identifiers chosen along the way (the
    spec's "replace issuer, by reference" is returning the chosen issuer).

    The spec's algorithm is recursive, and its depth is the length of the longest path through
    look-alike blank nodes (two identical 2,000-item lists recurse 2,000 deep), past Python's recursion
    limit. So each call is a generator (`_hash_n_degree_quads_steps`) that *yields* where the spec
    recurses, and this loop runs them on an explicit stack: same order of work, no depth limit other
    than the work budget.
    """
    stack: list[_Steps] = [_hash_n_degree_quads_steps(state, identifier, issuer)]
    reply: tuple[str, IdentifierIssuer] | None = None
    while True:
        try:
            request = stack[-1].send(reply)  # type: ignore[arg-type]  # None primes a new generator
        except StopIteration as finished:
            stack.pop()
            if not stack:
                return finished.value  # type: ignore[no-any-return]
            reply = finished.value
        else:
            stack.append(_hash_n_degree_quads_steps(state, *request))
            reply = None


def _hash_n_degree_quads_steps(state: _State, identifier: str, issuer: IdentifierIssuer) -> _Steps:
    """The body of §4.8 Hash N-Degree Quads; ``yield`` stands for the recursive call of step 5.4.5.1.

    Work charged to the budget, in units of roughly a microsecond: one for the call plus one per quad
    of the mention set (each costs Hash Related Blank Node computations); for every permutation after
    the first, one per blank node in it; and for every issuer copy, one per 256 identifiers copied.
    """
    mentions = state.bnode_quads[identifier]
    state.calls += 1
    state.spend(1 + len(mentions))
    canonical = state.canonical.issued
    # Steps 1–3: group the related blank nodes by their Hash Related Blank Node hash.
    related_by_hash: dict[str, list[str]] = {}
    for quad in mentions:
        s, _, o, g = quad
        for component, position in ((s, "s"), (o, "o"), (g, "g")):
            if component and component[0] == "_" and component != identifier:
                related_hash = _hash_related_blank_node(state, component, quad, issuer, position)
                related_by_hash.setdefault(related_hash, []).append(component)
    # Steps 4–5: for each group, in hash order, choose the code-point-least path over all permutations.
    data_to_hash = []
    for related_hash in sorted(related_by_hash):  # 5
        data_to_hash.append(related_hash)  # 5.1
        chosen_path = ""  # 5.2
        chosen_issuer = issuer  # 5.3 (always replaced: the first permutation is never pruned)
        group = related_by_hash[related_hash]
        for count, permutation in enumerate(_distinct_permutations(group)):  # 5.4 (see there)
            state.permutations += 1
            if count:
                state.spend(len(group))
            # 5.4.1, copied lazily: only a permutation that issues a new identifier needs its own copy
            # (all the others leave it untouched), and copying is O(identifiers issued so far).
            issuer_copy = issuer
            path = ""  # 5.4.2
            recursion_list: list[str] = []  # 5.4.3
            for related in permutation:  # 5.4.4
                label = canonical.get(related)
                if label is not None:
                    path += "_:" + label
                else:
                    if related not in issuer_copy.issued:
                        recursion_list.append(related)
                        if issuer_copy is issuer:
                            state.spend(len(issuer.issued) >> 8)
                            issuer_copy = issuer.copy()
                    path += "_:" + issuer_copy.issue(related)
                if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                    break  # 5.4.4.3: prune, next permutation
            else:
                for related in recursion_list:  # 5.4.5
                    result_hash, issuer_copy = yield related, issuer_copy  # 5.4.5.1, recursion
                    path += "_:" + issuer_copy.issue(related) + "<" + result_hash + ">"  # 5.4.5.2–4
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        break  # 5.4.5.5: prune, next permutation
                else:
                    if not chosen_path or path < chosen_path:  # 5.4.6
                        chosen_path = path
                        chosen_issuer = issuer_copy
        data_to_hash.append(chosen_path)  # 5.5
        issuer = chosen_issuer  # 5.6
    # Step 6.
    return state.hash("".join(data_to_hash).encode()).hexdigest(), issuer


def _blank_node_to_quads(quads: Iterable[Quad], wanted: set[str]) -> dict[str, list[Quad]]:
    """§4.4 step 2 as the spec states it, for the blank nodes in `wanted`: each one's mention set.

    Hash N-Degree Quads walks mention sets as quads; built only when some first-degree hashes collide.
    A quad that mentions a node twice (a self link) is listed once for it: mention sets are sets.
    """
    bnode_quads: dict[str, list[Quad]] = {}
    for quad in dict.fromkeys(quads):
        s, _, o, g = quad
        for node in (s, o, g):
            if node in wanted:
                entry = bnode_quads.setdefault(node, [])
                if not entry or entry[-1] is not quad:
                    entry.append(quad)
    return bnode_quads


@dataclass(frozen=True)
class _Labelled:
    """Steps 1–5 done: the index and, aligned with it, the nodes, their texts and canonical terms."""

    index: _Mentions
    names: list[str]
    texts: list[str]
    terms: list[str]


def _label(quads: Iterable[Quad], hash_fn: Callable[..., "hashlib._Hash"], work_factor: int) -> _Labelled:
    """§4.4 steps 1–5: index the quads, hash them, and issue every blank node its canonical identifier."""
    quads = quads if isinstance(quads, (list, tuple)) else list(quads)
    try:
        # Steps 1–2: the canonicalization state and the blank node to quads map.
        index = _index_quads(quads)
    except (IndexError, ValueError, TypeError) as exc:
        raise CanonicalizationError(
            f"not a dataset of N-Quads terms (each quad must be 4 strings, none empty but the graph): {exc}",
            code="PROOF_TRANSFORMATION_ERROR",
        ) from None
    # Step 3: first-degree hashes. Sorting the nodes by hash (stable: ties stay in order of first
    # appearance) gives step 3's hash to blank nodes map as runs of equal hashes, in hash order.
    try:
        names, digests, texts = _hash_first_degree_quads(index, hash_fn)
    except UnicodeEncodeError:
        raise _not_utf8() from None
    count = len(names)
    order = sorted(range(count), key=digests.__getitem__)

    # Step 4: nodes with a unique first-degree hash get canonical identifiers, in hash order.
    terms: list[str] = [""] * count  # each node's canonical term, aligned with `names`
    shared: list[list[str]] = []
    issued_count = 0
    i = 0
    while i < count:
        first = order[i]
        j = i + 1
        while j < count and digests[order[j]] == digests[first]:
            j += 1
        if j == i + 1:
            terms[first] = "_:c14n" + str(issued_count)
            issued_count += 1
        else:
            shared.append([names[k] for k in order[i:j]])
        i = j

    # Step 5: nodes sharing a first-degree hash are told apart by Hash N-Degree Quads.
    if shared:
        canonical = IdentifierIssuer("c14n", issued_count, {names[k]: terms[k][2:] for k in order if terms[k]})
        issue = canonical.issue
        wanted = {n for identifiers in shared for n in identifiers}
        mention_sets = _blank_node_to_quads(quads, wanted)
        limit = work_limit(len(wanted), work_factor, mentions=sum(map(len, mention_sets.values())))
        state = _State(mention_sets, dict(zip(names, digests)), canonical, hash_fn, len(wanted), limit)
        for identifiers in shared:
            hash_path_list: list[tuple[str, IdentifierIssuer]] = []
            for n in identifiers:  # 5.2
                if n in canonical.issued:
                    continue
                temporary = IdentifierIssuer("b")
                temporary.issue(n)
                hash_path_list.append(_hash_n_degree_quads(state, n, temporary))
            hash_path_list.sort(key=lambda result: result[0])  # 5.3; stable for equal hashes
            for _, issuer in hash_path_list:
                for existing in issuer.issued:
                    issue(existing)
        terms = ["_:" + canonical.issued[n] for n in names]

    return _Labelled(index, names, texts, terms)


def canonicalize(
    quads: Iterable[Quad],
    *,
    hash_algorithm: str = "sha256",
    work_factor: int = DEFAULT_WORK_FACTOR,
) -> CanonicalDataset:
    """Canonicalize a dataset with RDFC-1.0 (§4.4); quads are the string 4-tuples of ``rdf.py``.

    The input is a set: duplicate quads are removed. Blank node labels may be anything; the result's
    ``issued`` map is keyed by them (without ``_:``). `hash_algorithm` is "sha256" (the default of
    RDFC-1.0 and of eddsa-rdfc-2022) or "sha384" (case and a hyphen are ignored: "SHA-384" works).
    `work_factor` sets the exponent of the work budget (see `work_limit`).

    Raises `CanonicalizationError` for an unsupported hash algorithm, for quads that are not 4-tuples
    of term text, and for a dataset that would need more N-degree work than `work_limit` allows.
    """
    labelled = _label(quads, _hash_function(hash_algorithm), work_factor)
    # Steps 6–7: the issued identifiers map and the serialized canonical form.
    issued = {n[2:]: term[2:] for n, term in zip(labelled.names, labelled.terms)}
    return CanonicalDataset("".join(_serialize(labelled.index, labelled.texts, labelled.terms)), issued)


def canonical_digest(
    quads: Iterable[Quad], *, hash_algorithm: str = "sha256", digest_algorithm: str | None = None
) -> bytes:
    """The digest of the canonical N-Quads (UTF-8), hashed piece by piece as they are produced.

    What a Data Integrity proof or a ``relatedResource`` link needs: the same bytes as hashing
    `canonical_nquads`, without building the whole document (~9 MB for a year of readings) and its UTF-8
    copy first. `digest_algorithm` defaults to `hash_algorithm` (the suites use one hash for both).
    """
    labelled = _label(quads, _hash_function(hash_algorithm), DEFAULT_WORK_FACTOR)
    digest = _hash_function(digest_algorithm or hash_algorithm)()
    update = digest.update
    try:
        for piece in _serialize(labelled.index, labelled.texts, labelled.terms):
            update(piece.encode())
    except UnicodeEncodeError:
        raise _not_utf8() from None
    return digest.digest()


def _not_utf8() -> CanonicalizationError:
    """Canonical N-Quads are UTF-8: a term holding a lone surrogate (which a Python str, unlike
    UTF-8 text, can carry) has no canonical form, so nothing can be hashed or signed over it."""
    return CanonicalizationError(
        "a literal or IRI holds a lone surrogate code point, which has no UTF-8 form, so the data has no canonical N-Quads",
        code="PROOF_TRANSFORMATION_ERROR",
    )


def canonical_nquads(quads: Iterable[Quad], *, hash_algorithm: str = "sha256") -> str:
    """The canonical N-Quads document of the dataset (the ``nquads`` of `canonicalize`)."""
    return canonicalize(quads, hash_algorithm=hash_algorithm).nquads


# --- selective disclosure: canonical N-Quads with replaced blank node labels ------------------------------

import re as _re  # noqa: E402  (kept with the section that uses it)
#
# The selective-disclosure cryptosuites (ecdsa-sd-2023; see ``selective_disclosure.py``) do not sign the
# ``c14n`` labels: they canonicalize, then give every blank node another label chosen from its canonical
# one (an HMAC of it, at signing; the label the holder disclosed, at verification). This is the
# spec's labelReplacementCanonicalizeNQuads (VC-DI-ECDSA §3.4.1), kept here because it needs the
# canonicalization's internals: the replaced labels are written into the terms directly, never by
# search-and-replace in the text (a literal that happens to contain "_:c14n0" is left alone).


def label_replacement_canonicalize(
    quads: Iterable[Quad],
    label_map_factory: Callable[[dict[str, str]], dict[str, str]],
    *,
    hash_algorithm: str = "sha256",
) -> tuple[list[str], dict[str, str]]:
    """Canonicalize, relabel, and return (the N-Quads lines in code point order, the label map).

    `label_map_factory` receives the canonical identifier map (input label -> ``c14nN``, no ``_:``)
    and returns the label map (input label -> new label, no ``_:``), which must cover every blank node;
    a missing or malformed label is a `CanonicalizationError`. Each returned line ends in ``\\n``.
    """
    labelled = _label(quads, _hash_function(hash_algorithm), DEFAULT_WORK_FACTOR)
    issued = {n[2:]: term[2:] for n, term in zip(labelled.names, labelled.terms)}
    label_map = label_map_factory(issued)
    terms = []
    for name in labelled.names:
        label = label_map.get(name[2:]) if isinstance(label_map, dict) else None
        if not isinstance(label, str) or not _BLANK_LABEL.fullmatch(label):
            raise CanonicalizationError(
                f"no usable replacement label for blank node {issued.get(name[2:], name[2:])} (got {label!r})",
                code="PROOF_VERIFICATION_ERROR",
            )
        terms.append("_:" + label)
    if len(set(terms)) != len(terms):
        raise CanonicalizationError("two blank nodes were given the same replacement label", code="PROOF_VERIFICATION_ERROR")
    text = "".join(_serialize(labelled.index, labelled.texts, terms))
    # Canonical N-Quads escape "\n" inside literals, so it only ends lines (str.splitlines would also split
    # at U+2028 and other characters a literal may hold unescaped). Relabelling changes the order: re-sort.
    lines = [line + "\n" for line in text.split("\n")[:-1]]
    lines.sort()
    return lines, label_map


# A blank node label as N-Quads allows it, restricted to ASCII (c14n labels, and "u" + base64url HMACs).
_BLANK_LABEL = _re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_\-])?")
