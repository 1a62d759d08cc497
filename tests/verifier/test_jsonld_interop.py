"""Our JSON-LD → RDF → RDFC-1.0 output is byte-identical to jsonld.js 9 / rdf-canonize 5.

The expected values were computed by jsonld.js itself (see tests/vectors/jsonld-js/make_cases.py for how
to regenerate them): numbers at every formatting edge (JavaScript decides what is a double), control
characters, JSON literals, lists, named graphs, reverse properties, scoped and protected contexts. The
documents jsonld.js refuses in safe mode, we refuse in strict mode.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from perseus.verifier.errors import JsonLdError
from perseus.verifier.jsonld import to_rdf
from perseus.verifier.rdfc import canonical_nquads

CASES = json.loads((Path(__file__).resolve().parents[1] / "vectors" / "jsonld-js" / "canonical-cases.json").read_text(encoding="utf-8"))


def _no_remote(url: str) -> None:
    raise AssertionError(f"no remote contexts in these fixtures ({url})")


@pytest.mark.parametrize("case", [c for c in CASES if "nquads" in c], ids=lambda c: c["name"])
def test_canonical_nquads_match_jsonld_js(case: dict) -> None:
    # General JSON-LD (full IRIs, @reverse, @graph...): the processor, not the credential form, is tested.
    quads = to_rdf(case["document"], _no_remote, rdf_direction=case.get("rdfDirection"), plain=False)
    assert canonical_nquads(quads) == case["nquads"]


@pytest.mark.parametrize("case", [c for c in CASES if "error" in c], ids=lambda c: c["name"])
def test_documents_jsonld_js_refuses_in_safe_mode_are_refused(case: dict) -> None:
    with pytest.raises(JsonLdError) as caught:
        to_rdf(case["document"], _no_remote, plain=False)
    # The same JSON-LD event code as jsonld.js reports.
    assert caught.value.jsonld_code in case["error"]
