"""Issue 7's smaller findings on the service: an empty proofless presentation is not verified, a status
update is capped in entries and applied in one transaction, an odd `action` is a 400."""

from __future__ import annotations

from typing import Any

import pytest
from perseus.issuer.service.statuses import MAX_STATUS_ENTRIES
from perseus_service_fixtures import (  # noqa: F401 - fixtures
    AUTH,
    VC_V2,
    assert_problem,
    clean_env,
    client,
    example_credential,
    issued,
    service,
    service_db_url,
)


@pytest.fixture
def issuer_did(service: Any) -> str:
    return str(service.profiles.all()[0].issuer)


@pytest.mark.parametrize("field", ["verifiablePresentation", "presentation"])
@pytest.mark.parametrize("credentials", [None, []], ids=["absent", "empty-list"])
def test_an_empty_presentation_without_proof_is_not_verified(client: Any, field: str, credentials: Any) -> None:
    vp: dict[str, Any] = {"@context": [VC_V2], "type": ["VerifiablePresentation"]}
    if credentials is not None:
        vp["verifiableCredential"] = credentials
    answer = client.post("/presentations/verify", json={field: vp})
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["verified"] is False
    assert any(e["code"] == "CRYPTOGRAPHIC_SECURITY_ERROR" and "nothing in it can be verified" in e["detail"] for e in body["errors"])


def test_a_proofless_presentation_with_a_credential_is_still_checked(client: Any, issuer_did: str) -> None:
    vp = {"@context": [VC_V2], "type": ["VerifiablePresentation"], "verifiableCredential": [issued(client, example_credential(issuer_did))]}
    answer = client.post("/presentations/verify", json={"presentation": vp})
    assert answer.status_code == 200, answer.text  # the VC API's proofless form, unchanged


def test_a_status_update_with_too_many_entries_is_413_and_changes_nothing(client: Any, issuer_did: str, service: Any) -> None:
    credential = issued(client, example_credential(issuer_did))
    entry = {"type": "BitstringStatusListEntry", "statusPurpose": "suspension", "status": True}
    answer = client.post("/credentials/status", headers=AUTH, json={"credentialId": credential["id"], "credentialStatus": [entry] * (MAX_STATUS_ENTRIES + 1)})
    assert_problem(answer, 413, "REQUEST_TOO_LARGE")
    assert service.storage.get_issued(credential["id"]).status == {"revocation": False, "suspension": False}
    allowed = client.post("/credentials/status", headers=AUTH, json={"credentialId": credential["id"], "credentialStatus": [entry] * MAX_STATUS_ENTRIES})
    assert allowed.status_code == 200, allowed.text
    assert [c["changed"] for c in allowed.json()["changes"]] == [True] + [False] * (MAX_STATUS_ENTRIES - 1)


def test_the_changes_of_one_request_are_one_transaction(client: Any, issuer_did: str, service: Any) -> None:
    """Revoke, then suspend: the suspension is refused (revocation is final), so the revocation is not kept either."""
    credential = issued(client, example_credential(issuer_did))
    entries = [
        {"type": "BitstringStatusListEntry", "statusPurpose": "revocation", "status": True},
        {"type": "BitstringStatusListEntry", "statusPurpose": "suspension", "status": True},
    ]
    answer = client.post("/credentials/status", headers=AUTH, json={"credentialId": credential["id"], "credentialStatus": entries})
    assert_problem(answer, 409)
    assert service.storage.get_issued(credential["id"]).status == {"revocation": False, "suspension": False}
    assert service.storage.status_history(credential["id"]) == []
    both = client.post("/credentials/status", headers=AUTH, json={"credentialId": credential["id"], "credentialStatus": entries[::-1]})
    assert both.status_code == 200, both.text
    assert service.storage.get_issued(credential["id"]).status == {"revocation": True, "suspension": True}


@pytest.mark.parametrize("action", [["revoke"], {"revoke": True}, 1, None, "Revoke"])
def test_an_action_that_is_not_one_of_the_words_is_400(client: Any, issuer_did: str, action: Any) -> None:
    credential = issued(client, example_credential(issuer_did))
    answer = client.post("/credentials/status", headers=AUTH, json={"credentialId": credential["id"], "action": action})
    assert_problem(answer, 400, "PARSING_ERROR")
