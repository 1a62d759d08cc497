"""Revocation and suspension through the service: the round trip, status lists, caching headers."""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import pytest
from perseus.issuer.service import ServiceState
from perseus.verifier.status import Bitstring, status_check
from perseus.verifier.verify import verify_credential
from perseus_service_fixtures import (  # noqa: F401 - fixtures
    AUTH,
    assert_problem,
    clean_env,
    client,
    example_credential,
    issued,
    issuer_did,
    service,
    service_db_url,
    set_status,
    verify,
)


def entry(signed: dict, purpose: str) -> dict:
    return next(e for e in signed["credentialStatus"] if e["statusPurpose"] == purpose)


def path_of(service: ServiceState, url: str) -> str:
    assert url.startswith(service.base_url)
    return url.removeprefix(service.base_url)


def error_codes(response) -> set[str]:
    return {e["code"] for e in response.json()["errors"]}


def test_issue_verify_revoke_verify_fails(client, issuer_did) -> None:
    signed = issued(client, example_credential(issuer_did))
    first = verify(client, signed)
    assert first.status_code == 200, first.text
    assert first.json()["verified"] is True
    status_check_result = next(c for c in first.json()["checks"] if c["check"] == "status")
    assert status_check_result["outcome"] == "passed"
    assert {e["statusPurpose"] for e in status_check_result["details"]["entries"]} == {"revocation", "suspension"}

    change = set_status(client, signed["id"], "revocation")
    assert change.status_code == 200, change.text
    assert change.json()["status"] == {"revocation": True, "suspension": False}
    assert change.json()["changes"][0]["changed"] is True

    second = verify(client, signed)
    assert second.status_code == 400
    assert second.json()["verified"] is False
    assert error_codes(second) == {"CREDENTIAL_REVOKED"}
    # the same credential, status not asked for, still has a good signature
    assert verify(client, signed, checks=["proof"]).status_code == 200


def test_suspension_is_reversible_and_revocation_final(client, issuer_did) -> None:
    signed = issued(client, example_credential(issuer_did))
    assert set_status(client, signed["id"], "suspension").status_code == 200
    suspended = verify(client, signed)
    assert suspended.status_code == 400 and error_codes(suspended) == {"CREDENTIAL_SUSPENDED"}
    unsuspend = set_status(client, signed["id"], "suspension", False)
    assert unsuspend.status_code == 200 and unsuspend.json()["status"]["suspension"] is False
    assert verify(client, signed).status_code == 200
    assert set_status(client, signed["id"], "revocation").status_code == 200
    body = assert_problem(set_status(client, signed["id"], "revocation", False), 409, "STATUS_CHANGE_REFUSED")
    assert "final" in body["detail"]
    assert_problem(client.post("/credentials/status", json={"credentialId": signed["id"], "action": "suspend"}, headers=AUTH), 409)


def test_a_repeated_change_is_harmless(client, issuer_did, service) -> None:
    signed = issued(client, example_credential(issuer_did))
    assert set_status(client, signed["id"], "suspension").json()["changes"][0]["changed"] is True
    again = set_status(client, signed["id"], "suspension")
    assert again.status_code == 200 and again.json()["changes"][0]["changed"] is False
    assert [(p, v) for _, p, v in service.storage.status_history(signed["id"])] == [("suspension", True)]


@pytest.mark.parametrize(
    "body",
    [
        {"action": "revoke"},
        {"credentialStatus": [{"type": "BitstringStatusListEntry", "statusPurpose": "revocation", "status": True}]},
        {"credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}},  # what the W3C suite sends
    ],
    ids=["action", "list-with-status", "suite-shape"],
)
def test_every_request_shape_revokes(client, issuer_did, body) -> None:
    signed = issued(client, example_credential(issuer_did))
    answer = client.post("/credentials/status", json={"credentialId": signed["id"], **body}, headers=AUTH)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"]["revocation"] is True


def test_the_entry_sent_must_match_the_credential(client, issuer_did) -> None:
    signed = issued(client, example_credential(issuer_did))
    revocation = entry(signed, "revocation")
    wrong_index = str((int(revocation["statusListIndex"]) + 1) % 131072)
    body = {"credentialId": signed["id"], "credentialStatus": {**revocation, "statusListIndex": wrong_index}}
    assert_problem(client.post("/credentials/status", json=body, headers=AUTH), 400, "PARSING_ERROR")
    exact = {"credentialId": signed["id"], "credentialStatus": revocation, "status": True}
    assert client.post("/credentials/status", json=exact, headers=AUTH).status_code == 200


@pytest.mark.parametrize(
    ("body", "word"),
    [
        ({"credentialId": "x"}, "credentialStatus"),
        ({"credentialStatus": {}}, "credentialId"),
        ({"credentialId": "x", "action": "delete"}, "action"),
        ({"credentialId": "x", "credentialStatus": {"type": "StatusList2021Entry", "statusPurpose": "revocation"}}, "type"),
        ({"credentialId": "x", "credentialStatus": {"type": "BitstringStatusListEntry"}}, "statusPurpose"),
        ({"credentialId": "x", "credentialStatus": [], "status": True}, "empty"),
        ({"credentialId": "x", "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}, "status": "yes"}, "status"),
        ({"credentialId": "x", "action": "revoke", "credentialStatus": {}}, "either"),
    ],
)
def test_bad_status_requests_are_400(client, body, word) -> None:
    problem = assert_problem(client.post("/credentials/status", json=body, headers=AUTH), 400, "PARSING_ERROR")
    assert word in problem["detail"]


def test_a_purpose_the_credential_lacks_is_refused(client, issuer_did) -> None:
    signed = issued(client, example_credential(issuer_did))
    body = {"credentialId": signed["id"], "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "message"}}
    problem = assert_problem(client.post("/credentials/status", json=body, headers=AUTH), 400)
    assert "message" in problem["detail"]


def test_status_lists_are_signed_with_caching_headers_and_change_with_status(client, issuer_did, service) -> None:
    signed = issued(client, example_credential(issuer_did))
    revocation = entry(signed, "revocation")
    path = path_of(service, revocation["statusListCredential"])
    first = client.get(path)
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/vc+ld+json"
    cache_control = first.headers["cache-control"]
    assert cache_control.startswith("public, max-age=")
    max_age = int(cache_control.split("max-age=")[1])
    status_list = first.json()
    assert max_age * 1000 == status_list["credentialSubject"]["ttl"]  # the header repeats the ttl
    assert parsedate_to_datetime(first.headers["last-modified"]) <= datetime.now(timezone.utc)
    etag = first.headers["etag"]
    # a verifier accepts it, and it says "not revoked" at this credential's index
    assert verify_credential(status_list, checks={"proof", "issuer"}).verified
    offline = status_check(signed, [status_list, client.get(path_of(service, entry(signed, "suspension")["statusListCredential"])).json()])
    assert offline.outcome == "passed", offline.to_json()
    # unchanged: 304 for the same ETag
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    # after a revocation: a new ETag, the bit set, re-signed
    assert set_status(client, signed["id"], "revocation").status_code == 200
    second = client.get(path)
    assert second.headers["etag"] != etag
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 200
    bits = Bitstring.decode(second.json()["credentialSubject"]["encodedList"])
    assert bits.get(int(revocation["statusListIndex"])) == 1
    assert bits.count() == 1
    assert verify_credential(second.json(), checks={"proof", "issuer"}).verified


def test_publishing_a_list_needs_a_token_and_answers_204(client, issuer_did, service) -> None:
    signed = issued(client, example_credential(issuer_did))
    path = path_of(service, entry(signed, "suspension")["statusListCredential"])
    assert_problem(client.post(path + "/publish", json={}), 401)
    assert client.post(path + "/publish", json={}, headers=AUTH).status_code == 204
    assert_problem(client.post("/status/ffffffffffffffff/publish", json={}, headers=AUTH), 404)


def test_lists_are_long_and_indices_random(client, issuer_did) -> None:
    indices = []
    for _ in range(12):
        signed = issued(client, example_credential(issuer_did))
        indices.append(int(entry(signed, "revocation")["statusListIndex"]))
    assert len(set(indices)) == 12
    assert indices != sorted(indices)  # issue order is not list order (fails with probability 1/12!)
    assert max(indices) > 1000  # not allocated from the start of the list
