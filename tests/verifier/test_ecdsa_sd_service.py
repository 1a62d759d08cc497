"""ecdsa-sd-2023 through the VC API service: issue with options.mandatoryPointers, POST /credentials/derive,
verify the disclosure; every bad request a 400 problem detail naming why (never a 500)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))

from perseus.issuer.service import ProfileConfig, ServiceState, create_app  # noqa: E402
from perseus_service_fixtures import assert_problem, clean_env, example_credential, issue, issued, make_service, verify  # noqa: E402,F401

PROFILES = (
    ProfileConfig(id="sd", key_type="P-256", suites=("ecdsa-rdfc-2019", "ecdsa-sd-2023")),
    ProfileConfig(id="plain", key_type="P-256"),
)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, ServiceState]]:
    root = tmp_path_factory.mktemp("sd-service")
    state = make_service(root / "data", f"sqlite:///{root / 'perseus.db'}", profiles=PROFILES)
    try:
        with TestClient(create_app(state=state), raise_server_exceptions=False) as client:
            yield client, state
    finally:
        state.close()


def _did(state: ServiceState, profile_id: str) -> str:
    record = state.profiles.by_id(profile_id)
    assert record is not None
    return record.issuer


def _derive(client: TestClient, credential: Any, **options: Any) -> Any:
    return client.post("/credentials/derive", json={"verifiableCredential": credential, "options": options})


def test_issue_derive_verify(service: tuple[TestClient, ServiceState]) -> None:
    client, state = service
    credential = example_credential(_did(state, "sd"), credentialSubject={"id": "did:example:sme-42", "name": "Brightwater Studio", "description": "meter 7"})
    signed = issued(client, credential, options={"mandatoryPointers": ["/credentialSubject/id"]})
    assert signed["proof"]["cryptosuite"] == "ecdsa-sd-2023" and signed["proof"]["proofValue"].startswith("u2V0A")
    assert "credentialStatus" in signed  # VC 2.0 credentials get status entries; they are mandatory in every disclosure
    refused = verify(client, signed)  # a base proof is for the holder, not for verifiers
    assert refused.status_code == 400 and refused.json()["verified"] is False and "holder" in refused.text
    answer = _derive(client, signed, selectivePointers=["/credentialSubject/name"])
    assert answer.status_code == 201, answer.text
    derived = answer.json()
    assert derived["credentialSubject"] == {"id": "did:example:sme-42", "name": "Brightwater Studio"}
    assert derived["credentialStatus"] == signed["credentialStatus"]
    result = verify(client, derived)
    assert result.status_code == 200, result.text
    assert result.json()["verified"] is True


def test_the_suite_is_chosen_by_the_mandatory_pointers_when_the_profile_offers_it(service: tuple[TestClient, ServiceState]) -> None:
    client, state = service
    signed = issued(client, example_credential(_did(state, "sd")), options={"mandatoryPointers": ["/credentialSubject"]})
    assert signed["proof"]["cryptosuite"] == "ecdsa-sd-2023"
    plain = issued(client, example_credential(_did(state, "sd")))
    assert plain["proof"]["cryptosuite"] == "ecdsa-rdfc-2019"  # the profile's first suite stays the default
    explicit = issued(client, example_credential(_did(state, "sd")), options={"cryptosuite": "ecdsa-sd-2023"})
    assert explicit["proof"]["proofValue"].startswith("u2V0A")


@pytest.mark.parametrize(
    ("profile", "options", "code", "word"),
    [
        ("plain", {"mandatoryPointers": ["/issuer"]}, "PROOF_GENERATION_ERROR", "selective disclosure"),
        ("sd", {"mandatoryPointers": ["/issuer"], "cryptosuite": "ecdsa-rdfc-2019"}, "PROOF_GENERATION_ERROR", "selective disclosure"),
        ("sd", {"mandatoryPointers": "/issuer"}, "PARSING_ERROR", "mandatoryPointers"),
        ("sd", {"mandatoryPointers": ["/credentialSubject/nothing"]}, "PROOF_GENERATION_ERROR", "does not match the document"),
        ("plain", {"cryptosuite": "ecdsa-sd-2023"}, "PROOF_GENERATION_ERROR", "does not sign with ecdsa-sd-2023"),
    ],
)
def test_bad_issue_options_are_400s(service: tuple[TestClient, ServiceState], profile: str, options: dict[str, Any], code: str, word: str) -> None:
    client, state = service
    problem = assert_problem(issue(client, example_credential(_did(state, profile)), options=options), 400, code)
    assert word in problem["detail"]


def test_bad_derive_requests_are_400s(service: tuple[TestClient, ServiceState]) -> None:
    client, state = service
    signed = issued(client, example_credential(_did(state, "sd")), options={"cryptosuite": "ecdsa-sd-2023"})
    plain = issued(client, example_credential(_did(state, "plain")))
    cases = [
        (client.post("/credentials/derive", json=[1]), "PARSING_ERROR", "JSON object"),
        (client.post("/credentials/derive", json={"credential": signed}), "PARSING_ERROR", "credential"),
        (_derive(client, signed, selectivePointers="/credentialSubject"), "PARSING_ERROR", "selectivePointers"),
        (_derive(client, signed, revealed=["/credentialSubject"]), "PARSING_ERROR", "revealed"),
        (_derive(client, signed, selectivePointers=["credentialSubject"]), "PROOF_GENERATION_ERROR", "must start with '/'"),
        (_derive(client, signed, selectivePointers=["/credentialSubject/age"]), "PROOF_GENERATION_ERROR", "does not match the document"),
        (_derive(client, plain, selectivePointers=["/credentialSubject"]), "PROOF_GENERATION_ERROR", "no ecdsa-sd-2023 base proof"),
        (_derive(client, {**signed, "validFrom": "2024-01-01T00:00:00Z"}, selectivePointers=["/credentialSubject"]), "PROOF_GENERATION_ERROR",
         "does not verify"),
    ]
    for answer, code, word in cases:
        problem = assert_problem(answer, 400, code)
        assert word in problem["detail"], problem


def test_the_openapi_document_describes_derive(service: tuple[TestClient, ServiceState]) -> None:
    client, _ = service
    document = client.get("/openapi.json").json()
    assert "/credentials/derive" in document["paths"]
    assert "ecdsa-sd-2023" in str(document["paths"]["/credentials/issue"])
