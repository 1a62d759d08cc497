"""The link digest (perseus.verifier.digests): what it covers, what it ignores, and checking relatedResource."""

from __future__ import annotations

import copy
import hashlib
import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from perseus.verifier.canonical import rdfc_nquads
from perseus.verifier.digests import credential_digest, digest_matches, related_resource_problems
from perseus.verifier.errors import MalformedValueError
from perseus.verifier.loader import DocumentLoader
from perseus.verifier.multibase import decode_base58btc, encode_base64url

CREDENTIALS = Path(__file__).resolve().parents[2] / "examples" / "credentials"


def load(name: str) -> dict[str, Any]:
    return json.loads((CREDENTIALS / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def gas() -> dict[str, Any]:
    return load("gas-register-m3-2023-10")


def test_the_digest_is_a_sha256_multihash_of_the_canonical_nquads(gas: dict[str, Any]) -> None:
    digest = credential_digest(gas)
    raw = decode_base58btc(digest)
    assert raw[:2] == b"\x12\x20" and len(raw) == 34
    assert raw[2:] == hashlib.sha256(rdfc_nquads(gas, DocumentLoader()).encode()).digest()


def test_reformatting_the_json_does_not_change_the_digest(gas: dict[str, Any]) -> None:
    shuffled = json.loads(json.dumps(gas, sort_keys=True))
    reads = shuffled["credentialSubject"]["registerReads"].get("reads", [])
    random.Random(3).shuffle(reads)
    assert credential_digest(shuffled) == credential_digest(gas)


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c["credentialSubject"].__setitem__("totalKwh", "1.000"),
        lambda c: c["proof"].__setitem__("created", "2030-01-01T00:00:00Z"),
        lambda c: c["assurance"].__setitem__("pcafDataQualityScore", 3),
    ],
    ids=["claim", "proof", "assurance"],
)
def test_any_change_to_claims_or_proof_changes_the_digest(gas: dict[str, Any], change: Any) -> None:
    changed = copy.deepcopy(gas)
    change(changed)
    assert credential_digest(changed) != credential_digest(gas)
    assert not digest_matches(changed, credential_digest(gas))


def test_digest_matches_accepts_base64url_too(gas: dict[str, Any]) -> None:
    raw = decode_base58btc(credential_digest(gas))
    assert digest_matches(gas, encode_base64url(raw))


@given(st.text(max_size=60))
@settings(max_examples=80, deadline=None)
def test_a_malformed_digest_is_an_error_never_a_crash(gas: dict[str, Any], text: str) -> None:
    try:
        assert digest_matches(gas, text) is False or text == credential_digest(gas)
    except MalformedValueError as exc:
        assert "digestMultibase" in exc.message


def test_the_example_report_links_hold_and_break_when_an_input_changes() -> None:
    report = load("emissions-2023-10")
    inputs = {c["id"]: c for c in (load("electricity-halfhourly-2023-10"), load("gas-register-m3-2023-10"), load("tariff-weekend-offpeak-fuelmix"))}
    assert related_resource_problems(report, inputs) == []
    gas_id = load("gas-register-m3-2023-10")["id"]
    altered = copy.deepcopy(inputs)
    altered[gas_id]["credentialSubject"]["totalKwh"] = "1.000"
    problems = related_resource_problems(report, altered)
    assert len(problems) == 1 and "does not match its digest" in problems[0].detail and problems[0].check == "links"
    missing = {k: v for k, v in inputs.items() if k != gas_id}
    assert "was not provided" in related_resource_problems(report, missing)[0].detail
