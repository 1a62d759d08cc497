"""RDF Dataset Canonicalization, RDFC-1.0 (https://www.w3.org/TR/rdf-canon/).

A Data Integrity proof over RDF signs the *canonical* N-Quads of the credential: the same dataset,
however its blank nodes were labelled and its quads ordered, must give byte-identical text. RDFC-1.0
does that by labelling every blank node ``c14n0``, ``c14n1`` ... from hashes of its surroundings.

The code follows the spec's sections, and names functions after them:

* §4.4 Canonicalization Algorithm ............ `canonicalize` (steps 1–7, marked in comments)
* §4.5 Issue Identifier Algorithm ............ `IdentifierIssuer.issue`
* §4.6 Hash First Degree Quads ............... `_hash_first_degree_quads` (batched over all nodes)
* §4.7 Hash Related Blank Node ............... `_hash_related_blank_node`
* §4.8 Hash N-Degree Quads ................... `_hash_n_degree_quads`

Speed. A year of half-hourly meter readings is ~17,520 blank nodes and ~90,000 quads, and the
whole verification has a one-second budget. Almost every blank node in real credentials has a
unique first-degree hash, so the first-degree phase is the hot path: it works on the string terms
of ``rdf.py`` directly (a term's first character says whether it is a blank node), makes one pass
to group quads by blank node, and allocates nothing per quad beyond the N-Quads line it must hash.
The expensive N-degree machinery runs only for blank nodes whose first-degree hashes collide.

Safety. Hash N-Degree Quads is exponential in the worst case (it tries every permutation of
blank nodes that look alike, recursively); a "poison" dataset of a few dozen quads can make it run
for years. Every call therefore carries a work budget, see `work_limit`, and refuses with
`CanonicalizationError` once it is spent, as the spec's security considerations (§7.1) require.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from itertools import permutations

from .errors import CanonicalizationError
from .rdf import Quad

__all__ = [
    "ABSOLUTE_WORK_LIMIT",
    "DEFAULT_WORK_FACTOR",
    "MINIMUM_WORK_LIMIT",
    "CanonicalDataset",
    "IdentifierIssuer",
    "canonical_nquads",
    "canonicalize",
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
#     not bound the work);
#   * each copy of an identifier issuer: 1 per 256 identifiers copied.
#
# How much is allowed: let m be the number of blank nodes whose first-degree hashes collide (the only
# ones Hash N-Degree Quads is started for). Without look-alike neighbours, each of the <= m top-level
# calls visits each of the <= m look-alike nodes connected to its start once, at a cost of its degree
# (<= m): at most m³ units. Look-alike neighbours multiply that by up to k!, which is what poison
# graphs exploit. We allow m ** work_factor units, work_factor 4 by default (m³ plus a factor m of
# permutations), clamped:
#   * to at least MINIMUM_WORK_LIMIT (~15 ms): small datasets are never refused; the W3C suite's
#     "evil" graphs (m = 12) need 3,828 units, its 10-node clique (test074) is refused after 10,000;
#   * to at most ABSOLUTE_WORK_LIMIT (~0.3-0.5 s), whatever m is, so that the time spent before
#     refusing a poison dataset is bounded.
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
        return IdentifierIssuer(self.prefix, self.counter, self.issued.copy())


def work_limit(shared_blank_nodes: int, work_factor: int = DEFAULT_WORK_FACTOR) -> int:
    """How many work units Hash N-Degree Quads may spend for `shared_blank_nodes` colliding nodes.

    See the comment above `DEFAULT_WORK_FACTOR` for why this shape.
    """
    if work_factor < 0:
        raise ValueError("work_factor must be >= 0")
    return min(ABSOLUTE_WORK_LIMIT, max(MINIMUM_WORK_LIMIT, shared_blank_nodes**work_factor))


class _State:
    """The canonicalization state (§4.2) plus the hash function and the work budget."""

    __slots__ = ("bnode_quads", "first_degree", "canonical", "hash", "related_hashes", "spent", "limit", "shared")

    def __init__(
        self,
        bnode_quads: dict[str, list[Quad]],
        first_degree: dict[str, str],
        canonical: IdentifierIssuer,
        hash_fn: Callable[..., "hashlib._Hash"],
    ) -> None:
        self.bnode_quads = bnode_quads  # blank node to quads map
        self.first_degree = first_degree  # blank node -> its Hash First Degree Quads result
        self.canonical = canonical  # canonical issuer ("c14n")
        self.hash = hash_fn
        self.related_hashes: dict[tuple[str, str, str], str] = {}  # memo for Hash Related Blank Node
        self.spent = 0
        self.limit = 0
        self.shared = 0

    def spend(self, units: int) -> None:
        """Charge `units` of N-degree work; refuse the dataset once the budget is exceeded."""
        self.spent += units
        if self.spent > self.limit:
            raise CanonicalizationError(
                f"this dataset needs more than {self.limit} Hash N-Degree Quads calls and permutations "
                f"to canonicalize ({self.shared} blank nodes share first-degree hashes); it looks like a "
                "poison graph (many blank nodes that cannot be told apart), so RDFC-1.0 canonicalization "
                "was stopped",
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


def _blank_node_to_quads(quads: list[Quad]) -> dict[str, list[Quad]]:
    """§4.4 step 2: relate each blank node to the quads it is a component of.

    A quad that mentions the same blank node twice (a self link) is listed once for it: the map
    relates a node to a *set* of quads.
    """
    bnode_quads: dict[str, list[Quad]] = {}
    get = bnode_quads.get
    for quad in quads:
        s, _, o, g = quad
        if s[0] == "_":
            entry = get(s)
            if entry is None:
                bnode_quads[s] = [quad]
            else:
                entry.append(quad)
        if o[0] == "_" and o != s:
            entry = get(o)
            if entry is None:
                bnode_quads[o] = [quad]
            else:
                entry.append(quad)
        if g and g[0] == "_" and g != s and g != o:
            entry = get(g)
            if entry is None:
                bnode_quads[g] = [quad]
            else:
                entry.append(quad)
    return bnode_quads


def _hash_first_degree_quads(bnode_quads: dict[str, list[Quad]], hash_fn: Callable[..., "hashlib._Hash"]) -> dict[str, str]:
    """§4.6 Hash First Degree Quads, for every blank node at once (§4.4 step 3).

    For reference node n, each quad of its mention set is serialized with n written ``_:a`` and every
    other blank node ``_:z``; the lines are sorted, concatenated and hashed. Done in one loop over the
    map rather than one call per node because this is the hot path (one iteration per blank node of
    the dataset).
    """
    result: dict[str, str] = {}
    for n, mentions in bnode_quads.items():
        lines = []
        append = lines.append
        for s, p, o, g in mentions:
            if s[0] == "_":
                s = "_:a" if s == n else "_:z"
            if o[0] == "_":
                o = "_:a" if o == n else "_:z"
            if g:
                if g[0] == "_":
                    g = "_:a" if g == n else "_:z"
                append(f"{s} {p} {o} {g} .\n")
            else:
                append(f"{s} {p} {o} .\n")
        if len(lines) > 1:
            lines.sort()
        result[n] = hash_fn("".join(lines).encode()).hexdigest()
    return result


def _hash_related_blank_node(state: _State, related: str, quad: Quad, issuer: IdentifierIssuer, position: str) -> str:
    """§4.7 Hash Related Blank Node: how `related` is connected to the node being hashed.

    The input is the position (s, o or g), the predicate unless the position is g, and the best
    identifier known for `related`: canonical, else temporary (from `issuer`), else its first-degree
    hash (computed once in §4.4 step 3 and reused, as the spec suggests). The same input recurs
    across calls and permutations, so hashes are memoized by input.
    """
    identifier = state.canonical.issued.get(related) or issuer.issued.get(related)
    label = "_:" + identifier if identifier is not None else state.first_degree[related]
    predicate = "" if position == "g" else quad[1]
    key = (position, predicate, label)  # a tuple: hashing it reuses the strings' cached hashes
    memo = state.related_hashes
    hashed = memo.get(key)
    if hashed is None:
        hashed = memo[key] = state.hash((position + predicate + label).encode()).hexdigest()
    return hashed


# A step of Hash N-Degree Quads either asks for a recursive call (yields the related blank node and the
# issuer to use) or finishes (returns the hash and the chosen issuer).
_Steps = Generator[tuple[str, IdentifierIssuer], tuple[str, IdentifierIssuer], tuple[str, IdentifierIssuer]]


def _hash_n_degree_quads(state: _State, identifier: str, issuer: IdentifierIssuer) -> tuple[str, IdentifierIssuer]:
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
        for count, permutation in enumerate(permutations(group)):  # 5.4
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


def canonicalize(
    quads: Iterable[Quad],
    *,
    hash_algorithm: str = "sha256",
    work_factor: int = DEFAULT_WORK_FACTOR,
) -> CanonicalDataset:
    """Canonicalize a dataset with RDFC-1.0 (§4.4); quads are the string 4-tuples of ``rdf.py``.

    The input is a set: duplicate quads are removed. Blank node labels may be anything; the result's
    ``issued`` map is keyed by them. Raises `CanonicalizationError` for an unsupported hash algorithm
    and for a dataset that would need more N-degree work than `work_limit` allows.
    """
    hash_fn = _hash_function(hash_algorithm)
    # Deduplicate, keeping first-seen order so that the issued map for automorphic nodes is stable.
    unique = list(dict.fromkeys(quads))

    # Steps 1–2: the canonicalization state and the blank node to quads map.
    bnode_quads = _blank_node_to_quads(unique)
    canonical = IdentifierIssuer("c14n")
    if bnode_quads:
        # Step 3: first-degree hashes, and the hash to blank nodes map.
        first_degree = _hash_first_degree_quads(bnode_quads, hash_fn)
        hash_to_bnodes: dict[str, list[str]] = {}
        for n, h in first_degree.items():
            entry = hash_to_bnodes.get(h)
            if entry is None:
                hash_to_bnodes[h] = [n]
            else:
                entry.append(n)

        # Step 4: nodes with a unique first-degree hash get canonical identifiers, in hash order.
        shared: list[tuple[str, list[str]]] = []
        for h in sorted(hash_to_bnodes):
            identifiers = hash_to_bnodes[h]
            if len(identifiers) == 1:
                canonical.issue(identifiers[0])
            else:
                shared.append((h, identifiers))

        # Step 5: nodes sharing a first-degree hash are told apart by Hash N-Degree Quads.
        if shared:
            state = _State(bnode_quads, first_degree, canonical, hash_fn)
            state.shared = sum(len(identifiers) for _, identifiers in shared)
            state.limit = work_limit(state.shared, work_factor)
            for _, identifiers in shared:
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
                        canonical.issue(existing)

    # Steps 6–7: relabel, serialize in canonical N-Quads form, sort.
    labels = {n: "_:" + c for n, c in canonical.issued.items()}
    lines = []
    append = lines.append
    for s, p, o, g in unique:
        if s[0] == "_":
            s = labels[s]
        if o[0] == "_":
            o = labels[o]
        if g:
            if g[0] == "_":
                g = labels[g]
            append(f"{s} {p} {o} {g} .\n")
        else:
            append(f"{s} {p} {o} .\n")
    lines.sort()
    issued = {n[2:]: c for n, c in canonical.issued.items()}
    return CanonicalDataset("".join(lines), issued)


def canonical_nquads(quads: Iterable[Quad], *, hash_algorithm: str = "sha256") -> str:
    """The canonical N-Quads document of the dataset (the ``nquads`` of `canonicalize`)."""
    return canonicalize(quads, hash_algorithm=hash_algorithm).nquads
