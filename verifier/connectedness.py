"""Connectedness: every credential this one was derived from is present, intact and itself verifies.

The Perseus seed names "connectedness" as an assurance dimension; here it is the W3C counterpart of IB1
provenance steps. An emissions report names the consumption credentials it was computed from in
``relatedResource``, each by id and digest (see ``digests.py``). A recipient holding those inputs can walk
the chain: each link must resolve to a credential it was given, the digest must match (so it is the very
credential the report used), and that credential must verify in turn — recursively, so a chain
meter → EDP → CAP → FSP is checked end to end. (Whether each issuer is accredited for its step is the
trust registry's check, added there.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .digests import index_inputs, related_resource_problems
from .loader import DocumentLoader
from .result import CheckResult, ProblemDetail

CHECK = "connectedness"
MAX_DEPTH = 8  # a Perseus chain has four steps; anything deeper is a loop or an attack

VerifyInput = Callable[[Any, int, frozenset[str]], "tuple[bool, list[ProblemDetail]]"]


def links_of(document: Mapping[str, Any]) -> list[Any]:
    related = document.get("relatedResource", [])
    return related if isinstance(related, list) else [related]


def connectedness_check(
    document: Mapping[str, Any],
    inputs: Mapping[str, Any],
    *,
    loader: DocumentLoader,
    verify_input: VerifyInput,
    depth: int = 0,
    seen: frozenset[str] = frozenset(),
) -> CheckResult:
    """Check every ``relatedResource`` link of `document` against `inputs` (credential id → credential).

    `verify_input(credential, depth, seen)` verifies a linked credential (with its own links) and returns
    whether it verified and its problems; ``verify.py`` passes `verify_credential` for it.
    """
    links = links_of(document)
    if not links:
        return CheckResult(CHECK, "skipped", "links to no other credential (an origin of data)")
    if depth >= MAX_DEPTH:
        return CheckResult(CHECK, "failed", "chain too deep", [ProblemDetail("RANGE_ERROR", f"the chain of linked credentials is deeper than {MAX_DEPTH}", CHECK)])
    problems = related_resource_problems(dict(document), inputs, loader)
    broken = {p.detail.split(":")[0] for p in problems}
    details = []
    for i, link in enumerate(links):
        link_id = link.get("id") if isinstance(link, dict) else None
        entry: dict[str, Any] = {"id": link_id, "present": isinstance(link_id, str) and link_id in inputs, "digest": f"relatedResource[{i}]" not in broken}
        if isinstance(link_id, str) and link_id in inputs and entry["digest"]:
            if link_id in seen:
                problems.append(ProblemDetail("MALFORMED_VALUE_ERROR", f"{link_id} links back to a credential that links to it (a cycle)", CHECK))
                entry["verified"] = False
            else:
                verified, inner = verify_input(inputs[link_id], depth + 1, seen | {link_id})
                entry["verified"] = verified
                for p in inner:
                    problems.append(ProblemDetail(p.code, f"linked credential {link_id}: {p.detail}", CHECK))
        details.append(entry)
    problems = [ProblemDetail(p.code, p.detail, CHECK) for p in problems]
    good = sum(1 for d in details if d.get("verified"))
    summary = f"{good} of {len(details)} linked credential{'s' if len(details) != 1 else ''} present, matching their digests and verified"
    if any(not d["present"] for d in details):
        summary += " (give the missing ones with --input FILE)"
    return CheckResult(CHECK, "failed" if problems else "passed", summary, problems, {"links": details})


__all__ = ["CHECK", "MAX_DEPTH", "connectedness_check", "index_inputs", "links_of"]
