"""The size budget checked before JSON-LD expansion (verifier/limits.py): hostile shapes are refused with
their own code and a sentence, real credentials (a year of half-hourly readings) are not, and the limits
are the caller's to choose."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from perseus.verifier.jsonld import expand, to_rdf
from perseus.verifier.limits import (
    DEFAULT_LIMITS,
    DocumentLimitError,
    DocumentLimits,
    check_document,
    current_limits,
    document_limits,
    estimate_json_values,
)
from perseus.verifier.loader import DocumentLoader
from perseus.verifier.verify import verify_credential

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from bench_trust_core import CONTEXT, credential  # noqa: E402 - the benchmark's year-of-readings credential

EXAMPLES = sorted((ROOT / "examples" / "credentials").glob("*.json"))


def nested(depth: int) -> dict[str, Any]:
    """A credential whose subject nests `depth` objects deep (counting the credential itself)."""
    inner: Any = "leaf"
    for _ in range(depth - 2):
        inner = {"https://example.org/p": inner}
    return {**credential("did:example:issuer", 1), "credentialSubject": {"id": "did:example:sme", "https://example.org/p": inner}}


def refused(document: Any, limits: DocumentLimits | None = None) -> DocumentLimitError:
    with pytest.raises(DocumentLimitError) as caught:
        check_document(document, limits)
    return caught.value


# -- real credentials fit -----------------------------------------------------------------------------


def test_a_year_of_half_hourly_readings_fits_the_default_budget() -> None:
    year = credential("did:example:issuer", 17520)
    check_document(year)
    # ... with room for a year of import and export readings (two such lists) and more.
    two = {**year, "credentialSubject": {**year["credentialSubject"], "readings": year["credentialSubject"]["readings"] * 2}}
    check_document(two)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_worked_example_fits_the_default_budget(path: Path) -> None:
    check_document(json.loads(path.read_text()))


# -- hostile shapes are refused, each with its code ------------------------------------------------------


def test_deep_nesting_is_refused_before_expansion_with_its_path() -> None:
    error = refused(nested(DEFAULT_LIMITS.max_depth + 1))
    assert error.code == "DOCUMENT_TOO_DEEP" and error.limit == "max_depth"
    assert error.path.startswith("/credentialSubject/https:~1~1example.org~1p/")
    assert f"more than {DEFAULT_LIMITS.max_depth} levels" in error.message
    check_document(nested(DEFAULT_LIMITS.max_depth))  # exactly at the limit is allowed


def test_a_huge_array_of_tiny_nodes_is_refused() -> None:
    limits = DocumentLimits(max_values=10_000)
    document = credential("did:example:issuer", 1)
    document["credentialSubject"]["readings"] = [{}] * 10_001
    error = refused(document, limits)
    assert error.code == "DOCUMENT_TOO_LARGE" and error.limit == "max_values"
    assert error.path.startswith("/credentialSubject/readings/")
    assert "10,000 JSON values" in error.message


def test_a_huge_string_is_refused_with_its_path() -> None:
    document = credential("did:example:issuer", 1)
    document["credentialSubject"]["id"] = "did:example:" + "x" * DEFAULT_LIMITS.max_string_length
    error = refused(document)
    assert (error.code, error.limit, error.path) == ("STRING_TOO_LONG", "max_string_length", "/credentialSubject/id")


def test_a_huge_key_is_refused() -> None:
    document = credential("did:example:issuer", 1)
    document["credentialSubject"]["k" * 2000] = 1
    error = refused(document, DocumentLimits(max_string_length=1000))
    assert error.code == "STRING_TOO_LONG"


def test_many_strings_together_are_refused() -> None:
    document = credential("did:example:issuer", 1)
    document["credentialSubject"]["names"] = ["n" * 900] * 20
    error = refused(document, DocumentLimits(max_string_length=1000, max_total_characters=10_000))
    assert error.code == "DOCUMENT_TOO_LARGE" and error.limit == "max_total_characters"


@pytest.mark.parametrize("number", [10**64, -(10**64), 10**4000])
def test_a_huge_integer_is_refused(number: int) -> None:
    document = credential("did:example:issuer", 1)
    document["credentialSubject"]["readings"][0]["kWh"] = number
    error = refused(document)
    assert (error.code, error.path) == ("NUMBER_TOO_LARGE", "/credentialSubject/readings/0/kWh")
    check_document({**document, "credentialSubject": {"kWh": 10**64 - 1}})  # 64 digits are allowed


def test_expand_and_to_rdf_refuse_before_any_work() -> None:
    loader = DocumentLoader()
    document = nested(150)
    for run in (lambda: expand(document, loader), lambda: to_rdf(document, loader)):
        with pytest.raises(DocumentLimitError) as caught:
            run()
        assert caught.value.code == "DOCUMENT_TOO_DEEP"


def test_verify_reports_the_budget_as_a_failed_check_not_an_exception() -> None:
    document = nested(400)
    document["proof"] = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "verificationMethod": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        "proofPurpose": "assertionMethod",
        "proofValue": "z" + "1" * 80,
    }
    result = verify_credential(document)
    assert result.verified is False
    codes = {problem["code"] if isinstance(problem, dict) else problem.code for problem in _problems(result)}
    assert "DOCUMENT_TOO_DEEP" in codes, codes


def _problems(result: Any) -> list[Any]:
    out = []
    for check in result.checks:
        out.extend(check.problems)
    return out


# -- limits are the caller's -------------------------------------------------------------------------------


def test_limits_are_configurable_per_call_and_per_block() -> None:
    document = credential("did:example:issuer", 100)
    small = DocumentLimits(max_values=50)
    with pytest.raises(DocumentLimitError):
        expand(document, DocumentLoader(), limits=small)
    with document_limits(small):
        assert current_limits() is small
        with pytest.raises(DocumentLimitError):
            to_rdf(document, DocumentLoader())
    assert current_limits() is DEFAULT_LIMITS
    to_rdf(document, DocumentLoader())
    generous = DocumentLimits(max_depth=300)
    check_document(nested(250), generous)


@pytest.mark.parametrize("field", ["max_depth", "max_values", "max_string_length", "max_total_characters", "max_integer_digits", "max_contexts"])
def test_nonsense_limits_are_refused(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        DocumentLimits(**{field: 0})
    with pytest.raises(ValueError):
        DocumentLimits(max_depth=10_000)


# -- property: the check agrees with a plain recursive definition; the byte estimate never under-counts -------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**70), max_value=10**70) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=60,
)


def _facts(value: Any, depth: int = 1) -> tuple[int, int, int, int, int]:
    """(values, deepest container level, longest string or key, characters, most integer digits), recursively."""
    if isinstance(value, dict):
        parts = [_facts(v, depth + 1) for v in value.values()]
        keys = [len(k) for k in value]
        own = (1, depth, max(keys, default=0), sum(keys), 0)
    elif isinstance(value, list):
        parts = [_facts(v, depth + 1) for v in value]
        own = (1, depth, 0, 0, 0)
    else:
        parts = []
        digits = len(str(abs(value))) if type(value) is int else 0
        own = (1, 0, len(value) if isinstance(value, str) else 0, len(value) if isinstance(value, str) else 0, digits)
    rows = [own, *parts]
    return (sum(r[0] for r in rows), max(r[1] for r in rows), max(r[2] for r in rows), sum(r[3] for r in rows), max(r[4] for r in rows))


@settings(max_examples=300, deadline=None)
@given(json_values, st.integers(min_value=1, max_value=6), st.integers(min_value=1, max_value=80), st.integers(min_value=1, max_value=40))
def test_check_document_agrees_with_a_recursive_definition(value: Any, max_depth: int, max_values: int, max_string: int) -> None:
    limits = DocumentLimits(max_depth=max_depth, max_values=max_values, max_string_length=max_string, max_total_characters=200, max_integer_digits=65)
    values, depth, longest, characters, digits = _facts(value)
    within = values <= max_values and depth <= max_depth and longest <= max_string and characters <= 200 and digits <= 65
    try:
        check_document(value, limits)
    except DocumentLimitError as error:
        assert not within, (error.limit, values, depth, longest, characters, digits)
        assert error.code in {"DOCUMENT_TOO_DEEP", "DOCUMENT_TOO_LARGE", "STRING_TOO_LONG", "NUMBER_TOO_LARGE"}
        assert error.message
    else:
        assert within, (values, depth, longest, characters, digits)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_the_byte_estimate_never_undercounts_values(value: Any) -> None:
    values = _facts(value)[0]
    for text in (json.dumps(value), json.dumps(value, indent=2), json.dumps(value, separators=(",", ":"))):
        assert estimate_json_values(text.encode()) >= values
    assert CONTEXT  # the benchmark's context is what these credentials use


# -- the expansion-time part: distinct contexts ----------------------------------------------------------------

PERSEUS_CONTEXT = "https://w3id.org/perseus/credentials/v1"


def scoped_tree(depth: int) -> dict[str, Any]:
    """Nodes nesting two property-scoped terms of the Perseus context: every path is a new active context."""

    def tree(level: int) -> dict[str, Any]:
        if level == 0:
            return {"id": "urn:example:leaf"}
        return {"unit": tree(level - 1), "quality": tree(level - 1)}

    return {"@context": ["https://www.w3.org/ns/credentials/v2", PERSEUS_CONTEXT], "id": "urn:example:root", "unit": tree(depth)}


def test_a_tree_of_scoped_contexts_is_refused_during_expansion() -> None:
    document = scoped_tree(10)  # 2,047 nodes, 38 KB: within every size limit, but 1,023+ distinct contexts
    check_document(document)
    with pytest.raises(DocumentLimitError) as caught:
        to_rdf(document, DocumentLoader())
    error = caught.value
    assert (error.code, error.limit) == ("DOCUMENT_TOO_COMPLEX", "max_contexts")
    assert error.path.startswith("/unit/") and "256" in error.message
    with pytest.raises(DocumentLimitError):
        expand(document, DocumentLoader())
    # A caller who needs more may allow more.
    assert len(to_rdf(scoped_tree(5), DocumentLoader(), limits=DocumentLimits(max_contexts=100))) > 0
    with pytest.raises(DocumentLimitError):
        to_rdf(scoped_tree(5), DocumentLoader(), limits=DocumentLimits(max_contexts=10))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_worked_example_verifies_within_the_budget(path: Path) -> None:
    with document_limits(DocumentLimits(max_contexts=32)):
        to_rdf({k: v for k, v in json.loads(path.read_text()).items() if k != "proof"}, DocumentLoader())
