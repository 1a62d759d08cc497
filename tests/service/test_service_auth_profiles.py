"""Bearer tokens (401 / 403), several issuer profiles in one service, and GET /issuers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from perseus.issuer.service import ProfileConfig, ServiceState, create_app
from perseus.verifier.verify import verify_credential
from perseus_service_fixtures import (  # noqa: F401 - fixtures
    AUTH,
    TOKEN,
    assert_problem,
    clean_env,
    example_credential,
    issue,
    issued,
    make_service,
    service_db_url,
    set_status,
)
from starlette.testclient import TestClient

EDDSA_ONLY = "token-for-the-eddsa-profile"
P256_ONLY = "token-for-the-p256-profile"
PROFILES = (
    ProfileConfig(id="eddsa", key_type="Ed25519", name="Example Energy Data Provider"),
    ProfileConfig(id="ecdsa-p256", key_type="P-256", suites=("ecdsa-rdfc-2019", "ecdsa-jcs-2019")),
    ProfileConfig(id="ecdsa-p384", key_type="P-384"),
)


@pytest.fixture
def multi(tmp_path: Path, service_db_url: str, clean_env: None) -> Iterator[tuple[TestClient, ServiceState]]:
    state = make_service(
        tmp_path / "data",
        service_db_url,
        profiles=PROFILES,
        api_tokens=(TOKEN, f"{EDDSA_ONLY}=eddsa", f"{P256_ONLY}=ecdsa-p256|ecdsa-p384"),
    )
    with TestClient(create_app(state=state), raise_server_exceptions=False) as client:
        yield client, state


def did_of(state: ServiceState, profile_id: str) -> str:
    record = state.profiles.by_id(profile_id)
    assert record is not None
    return record.issuer


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_issuing_without_a_token_is_401_with_a_challenge(multi) -> None:
    client, state = multi
    answer = issue(client, example_credential(did_of(state, "eddsa")), headers={})
    assert_problem(answer, 401, "UNAUTHORIZED")
    assert answer.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer not-a-token-we-know", "Basic dXNlcjpwYXNz", "Bearer", TOKEN])
def test_a_wrong_token_or_scheme_is_401(multi, header: str) -> None:
    client, state = multi
    answer = issue(client, example_credential(did_of(state, "eddsa")), headers={"Authorization": header})
    assert_problem(answer, 401, "UNAUTHORIZED")


def test_a_token_bound_to_profiles_may_use_only_those(multi) -> None:
    client, state = multi
    assert issue(client, example_credential(did_of(state, "eddsa")), headers=bearer(EDDSA_ONLY)).status_code == 201
    body = assert_problem(issue(client, example_credential(did_of(state, "ecdsa-p256")), headers=bearer(EDDSA_ONLY)), 403, "FORBIDDEN")
    assert "ecdsa-p256" in body["detail"]
    assert issue(client, example_credential(did_of(state, "ecdsa-p384")), headers=bearer(P256_ONLY)).status_code == 201
    assert_problem(issue(client, example_credential(did_of(state, "eddsa")), headers=bearer(P256_ONLY)), 403, "FORBIDDEN")


def test_status_changes_and_reads_are_limited_to_the_token_profiles(multi) -> None:
    client, state = multi
    signed = issued(client, example_credential(did_of(state, "ecdsa-p256")))
    assert_problem(set_status(client, signed["id"], "revocation", headers=bearer(EDDSA_ONLY)), 403, "FORBIDDEN")
    assert_problem(client.get(f"/credentials/{signed['id']}", headers=bearer(EDDSA_ONLY)), 403, "FORBIDDEN")
    assert_problem(client.get(f"/credentials/{signed['id']}", headers={}), 401)
    assert_problem(set_status(client, signed["id"], "revocation", headers={}), 401)
    assert state.storage.get_issued(signed["id"]).status == {"revocation": False, "suspension": False}  # nothing changed
    assert set_status(client, signed["id"], "suspension", headers=bearer(P256_ONLY)).status_code == 200


def test_verifying_is_open(multi) -> None:
    client, state = multi
    signed = issued(client, example_credential(did_of(state, "eddsa")))
    assert client.post("/credentials/verify", json={"verifiableCredential": signed}).status_code == 200


def test_each_profile_signs_with_its_own_key_and_suites(multi) -> None:
    client, state = multi
    expected = {"eddsa": "eddsa-rdfc-2022", "ecdsa-p256": "ecdsa-rdfc-2019", "ecdsa-p384": "ecdsa-rdfc-2019"}
    for profile_id, suite in expected.items():
        did = did_of(state, profile_id)
        signed = issued(client, example_credential(did))
        assert signed["proof"]["cryptosuite"] == suite
        assert signed["proof"]["verificationMethod"].startswith(did)
        assert verify_credential(signed, checks={"proof", "issuer"}).verified
        # status lists belong to the profile's own DID
        list_url = signed["credentialStatus"][0]["statusListCredential"]
        status_list = client.get(list_url.removeprefix(state.base_url)).json()
        assert status_list["issuer"] == did
    jcs = issued(client, example_credential(did_of(state, "ecdsa-p256")), options={"cryptosuite": "ecdsa-jcs-2019"})
    assert jcs["proof"]["cryptosuite"] == "ecdsa-jcs-2019"
    # a profile refuses a suite it is not configured for, even one its key could make
    assert_problem(issue(client, example_credential(did_of(state, "ecdsa-p256")), options={"cryptosuite": "eddsa-rdfc-2022"}), 400, "PROOF_GENERATION_ERROR")


def test_get_issuers_lists_public_facts_only(multi) -> None:
    client, state = multi
    answer = client.get("/issuers")
    assert answer.status_code == 200
    issuers = {i["id"]: i for i in answer.json()["issuers"]}
    assert set(issuers) == {"eddsa", "ecdsa-p256", "ecdsa-p384"}
    assert issuers["eddsa"]["name"] == "Example Energy Data Provider"
    assert issuers["ecdsa-p256"]["suites"] == ["ecdsa-rdfc-2019", "ecdsa-jcs-2019"]
    for profile_id, description in issuers.items():
        assert description["issuer"] == did_of(state, profile_id)
        methods = description["verificationMethods"]
        assert methods and all(set(m) == {"id", "type", "controller", "publicKeyMultibase"} for m in methods)
        assert description["issueEndpoint"].endswith(f"/issuers/{profile_id}/credentials/issue")
    single = client.get("/issuers/ecdsa-p384").json()
    assert single["issuer"] == did_of(state, "ecdsa-p384")
    assert_problem(client.get("/issuers/nobody"), 404, "ISSUER_PROFILE_NOT_FOUND")


def test_each_suite_can_be_pointed_at_its_own_endpoint(multi) -> None:
    client, state = multi
    for profile_id in ("eddsa", "ecdsa-p256", "ecdsa-p384"):
        signed = issued(client, example_credential(did_of(state, profile_id)), path=f"/issuers/{profile_id}/credentials/issue")
        assert signed["issuer"] == did_of(state, profile_id)
    # the right DID on the wrong profile's endpoint is refused
    assert_problem(issue(client, example_credential(did_of(state, "eddsa")), path="/issuers/ecdsa-p256/credentials/issue"), 400, "ISSUER_MISMATCH")
