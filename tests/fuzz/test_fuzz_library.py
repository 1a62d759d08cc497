"""Fuzz the library entry points: every JSON path of every worked example and W3C test credential, set
to every hostile value (issue 7 §4), must give a result or a `PerseusError` — never another exception.

* `verify_credential` never raises: it returns a result, and a mutated credential is not verified
  (unless the mutation is one JSON-LD reads as the same data, or changed nothing);
* `sign_document` either signs or raises a `PerseusError` with a reason;
* the result of either is JSON a caller can write out (no lone surrogate, no non-JSON value).
"""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest
from fuzz_mutations import HUGE_INT, LONE_SURROGATE, Mutation, credential_corpus, mutations_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from perseus.issuer.keyfile import KeyFile, generate_key_file
from perseus.issuer.signing import sign_document
from perseus.verifier.errors import PerseusError
from perseus.verifier.jsonvalue import json_value_problem
from perseus.verifier.verify import verify_credential

CORPUS = credential_corpus()
# Mutations JSON-LD may read as the same graph (issue 7 §1 decides their verdict, not this fuzz).
EQUIVALENT_FORMS = {"list-of-it", "value-object"}
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@functools.cache
def _mutations(name: str) -> list[Mutation]:
    return mutations_of(CORPUS[name])


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, Mutation, Any]:
    name = draw(st.sampled_from(sorted(CORPUS)))
    mutation = draw(st.sampled_from(_mutations(name)))
    return name, mutation, mutation.apply(CORPUS[name])


@pytest.fixture(scope="module")
def key() -> KeyFile:
    return generate_key_file("Ed25519")


@functools.cache
def _original_verified(name: str) -> bool:
    return verify_credential(CORPUS[name]).verified


def test_the_corpus_covers_examples_and_vectors() -> None:
    assert len(CORPUS) >= 15
    assert sum(len(_mutations(name)) for name in CORPUS) > 5_000


@FUZZ
@given(mutated())
def test_verify_credential_returns_a_result_for_every_mutation(case: tuple[str, Mutation, Any]) -> None:
    name, mutation, document = case
    result = verify_credential(document)
    body = result.to_json()
    json.dumps(body)  # a result a caller can always write out
    result.report().encode("utf-8", "surrogateescape")
    assert body["verified"] is result.verified
    if result.verified:
        assert _original_verified(name), f"{mutation} made an unverifiable credential verify"
        assert mutation.label in EQUIVALENT_FORMS or document == CORPUS[name] or mutation.kind == "key", mutation
    else:
        assert result.errors, "a credential that is not verified must say why"


@settings(FUZZ, max_examples=60)
@given(mutated())
def test_sign_document_signs_or_refuses_with_a_reason(key: KeyFile, case: tuple[str, Mutation, Any]) -> None:
    _name, _mutation, document = case
    if isinstance(document, dict):
        document = {k: v for k, v in document.items() if k != "proof"}  # else the old proofs join a proof set
    try:
        signed = sign_document(document, key)
    except PerseusError as exc:
        assert exc.message and exc.code
        return
    assert json_value_problem(signed) is None
    proof_check = next(c for c in verify_credential(signed, checks="proof").checks if c.check == "proof")
    assert proof_check.outcome == "passed", proof_check  # what was signed verifies (its data-model checks are verify's)


@pytest.mark.parametrize(
    "value, reason",
    [(LONE_SURROGATE, "lone surrogate"), (HUGE_INT, "beyond the range of a double"), (float("nan"), "NaN"), ({1, 2}, "not a JSON value")],
    ids=["lone-surrogate", "huge-int", "nan", "set"],
)
def test_values_with_no_canonical_form_are_named_not_raised(key: KeyFile, value: Any, reason: str) -> None:
    document = dict(CORPUS["tariff-economy7"])
    document["credentialSubject"] = {**document["credentialSubject"], "name": value}
    result = verify_credential(document)
    assert not result.verified
    assert any(reason in p.detail and "/credentialSubject/name" in p.detail for p in result.errors), result.errors
    with pytest.raises(PerseusError, match=reason):
        sign_document(document, key)


@pytest.mark.parametrize("field", ["type", "cryptosuite", "id", "previousProof", "proofPurpose", "verificationMethod", "created"])
@pytest.mark.parametrize("value", [["DataIntegrityProof"], {"@id": "x"}, [], {}])
def test_a_proof_field_of_the_wrong_json_type_is_a_malformed_proof(field: str, value: Any) -> None:
    document = json.loads(json.dumps(CORPUS["signedDataInt"]))
    document["proof"][field] = value
    result = verify_credential(document)
    assert not result.verified
    assert {p.code for p in result.errors} & {"MALFORMED_PROOF_ERROR", "PROOF_VERIFICATION_ERROR", "PROOF_TRANSFORMATION_ERROR", "MISMATCHED_PROOF_PURPOSE_ERROR", "INVALID_VERIFICATION_METHOD_URL"}
