"""Connectedness: an emissions report's inputs must be present, match their digests, and verify in turn."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from perseus.issuer.keyfile import generate_key_file
from perseus.issuer.signing import sign_document
from perseus.verifier.verify import verify_credential

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "credentials"


def _load(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def report() -> dict:
    return _load("emissions-2023-10.json")


@pytest.fixture(scope="module")
def inputs() -> list[dict]:
    return [_load("electricity-halfhourly-2023-10.json"), _load("gas-register-m3-2023-10.json"), _load("tariff-weekend-offpeak-fuelmix.json")]


def _connectedness(result):  # type: ignore[no-untyped-def]
    return next(c for c in result.checks if c.check == "connectedness")


def test_report_with_all_its_inputs_is_connected(report: dict, inputs: list[dict]) -> None:
    result = verify_credential(report, inputs=inputs)
    assert result.verified, result.report()
    check = _connectedness(result)
    assert check.outcome == "passed"
    assert [link["verified"] for link in check.details["links"]] == [True, True, True]


def test_missing_input_fails_and_says_how_to_supply_it(report: dict, inputs: list[dict]) -> None:
    result = verify_credential(report, inputs=inputs[:1])
    check = _connectedness(result)
    assert not result.verified and check.outcome == "failed"
    assert "--input" in check.summary
    assert sum("was not provided" in p.detail for p in check.problems) == 2


def test_altered_input_does_not_match_its_digest(report: dict, inputs: list[dict]) -> None:
    altered = copy.deepcopy(inputs)
    altered[0]["credentialSubject"]["supplyPoint"]["postcodeOutcode"] = "ZZ9"
    result = verify_credential(report, inputs=altered)
    assert any("does not match its digest" in p.detail for p in _connectedness(result).problems)


def test_input_that_matches_but_does_not_verify_breaks_the_chain(inputs: list[dict]) -> None:
    """A report over an input whose signature is broken: the digest matches what was linked, the link fails."""
    from perseus.verifier.digests import credential_digest

    broken = copy.deepcopy(inputs[0])
    broken["proof"]["proofValue"] = "z" + "2" * 86
    cap = generate_key_file("Ed25519")
    report = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:6f1c6a55-0c1e-4b8a-9f6e-2b7e0d1c9a11",
        "type": ["VerifiableCredential"],
        "issuer": cap.controller,
        "credentialSubject": {"id": "did:example:sme"},
        "relatedResource": [{"id": broken["id"], "digestMultibase": credential_digest(broken)}],
    }
    result = verify_credential(sign_document(report, cap), inputs=[broken])
    check = _connectedness(result)
    assert check.outcome == "failed"
    assert any(p.detail.startswith(f"linked credential {broken['id']}: ") and p.code == "PROOF_VERIFICATION_ERROR" for p in check.problems)


def test_a_credential_without_links_is_an_origin(inputs: list[dict]) -> None:
    result = verify_credential(inputs[0])
    assert result.verified
    assert all(c.check != "connectedness" for c in result.checks)


def test_cycles_are_refused() -> None:
    from perseus.verifier.digests import credential_digest

    key = generate_key_file("Ed25519")
    a = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:00000000-0000-4000-8000-00000000000a",
        "type": ["VerifiableCredential"],
        "issuer": key.controller,
        "credentialSubject": {"id": "did:example:sme"},
    }
    signed_a = sign_document(a, key)
    b = {**a, "id": "urn:uuid:00000000-0000-4000-8000-00000000000b", "relatedResource": [{"id": a["id"], "digestMultibase": credential_digest(signed_a)}]}
    signed_b = sign_document(b, key)
    # a credential that links to itself can never match its own digest; a loop through inputs is cut short
    result = verify_credential(signed_b, inputs=[signed_a, signed_b])
    assert result.verified
