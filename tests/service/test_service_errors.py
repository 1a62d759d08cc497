"""Bad input gets a 4xx problem detail naming the field and the W3C error code — never a 500."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from perseus.issuer.service import ServiceState, create_app
from perseus_service_fixtures import (  # noqa: F401 - fixtures
    AUTH,
    TOKEN,
    assert_problem,
    clean_env,
    shared_client,
    example_credential,
    issue,
    issued,
    make_service,
    shared_service,
    verify,
)


@pytest.fixture
def service_db_url(tmp_path):
    """SQLite only: what this module checks does not depend on the engine (the engine-specific
    behaviour is tested on both in test_service_issue / _status / _keys / _live / _auth_profiles)."""
    return f"sqlite:///{tmp_path / 'perseus.db'}"


@pytest.fixture(scope="module")
def service(shared_service):
    return shared_service


@pytest.fixture(scope="module")
def client(shared_client):
    return shared_client


@pytest.fixture(scope="module")
def issuer_did(shared_service):
    return shared_service.profiles.all()[0].issuer
from starlette.testclient import TestClient


def post_raw(client: TestClient, path: str, content: bytes, content_type: str | None = "application/json") -> Any:
    headers = dict(AUTH)
    if content_type is not None:
        headers["Content-Type"] = content_type
    return client.post(path, content=content, headers=headers)


@pytest.mark.parametrize("path", ["/credentials/issue", "/credentials/verify", "/presentations/verify", "/credentials/status"])
@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b"", "empty"),
        (b'{"a": 1} trailing', "not valid JSON"),
        (b"[1, 2, 3]", "JSON object"),
        (b'"just a string"', "JSON object"),
        (b'{"x": NaN}', "not valid JSON"),
    ],
)
def test_unreadable_bodies_are_parsing_errors(client, path: str, content: bytes, fragment: str) -> None:
    body = assert_problem(post_raw(client, path, content), 400, "PARSING_ERROR")
    assert fragment in body["detail"]


def test_a_body_that_is_not_json_is_refused_by_media_type(client) -> None:
    body = assert_problem(post_raw(client, "/credentials/issue", b"credential=1", "application/x-www-form-urlencoded"), 415)
    assert "application/json" in body["detail"]


def test_nesting_beyond_the_limit_is_refused(client, issuer_did) -> None:
    deep: Any = "x"
    for _ in range(200):
        deep = {"a": deep}
    credential = example_credential(issuer_did, credentialSubject={"id": "did:example:1", "nested": deep})
    body = assert_problem(issue(client, credential), 400, "PARSING_ERROR")
    assert "nested" in body["detail"]


def _without(key: str) -> Any:
    def change(credential: dict[str, Any]) -> None:
        del credential[key]

    return change


def _setting(key: str, value: Any) -> Any:
    def change(credential: dict[str, Any]) -> None:
        credential[key] = value

    return change


# (what is wrong, how to make it wrong, the code, a word the detail must contain)
BAD_CREDENTIALS = [
    ("no @context", _without("@context"), "MALFORMED_VALUE_ERROR", "@context"),
    ("@context a number", _setting("@context", 4), "MALFORMED_VALUE_ERROR", "@context"),
    ("@context an object", _setting("@context", {"foo": True}), "MALFORMED_VALUE_ERROR", "@context"),
    ("@context null", _setting("@context", None), "MALFORMED_VALUE_ERROR", "@context"),
    ("@context not VC first", _setting("@context", ["https://www.w3.org/ns/credentials/examples/v2"]), "MALFORMED_VALUE_ERROR", "@context"),
    ("no type", _without("type"), "MALFORMED_VALUE_ERROR", "type"),
    ("type a number", _setting("type", 4), "MALFORMED_VALUE_ERROR", "type"),
    ("type [null]", _setting("type", [None]), "MALFORMED_VALUE_ERROR", "type"),
    ("type []", _setting("type", []), "MALFORMED_VALUE_ERROR", "type"),
    ("no issuer", _without("issuer"), "MALFORMED_VALUE_ERROR", "issuer"),
    ("issuer null", _setting("issuer", None), "MALFORMED_VALUE_ERROR", "issuer"),
    ("issuer true", _setting("issuer", True), "MALFORMED_VALUE_ERROR", "issuer"),
    ("issuer 4", _setting("issuer", 4), "MALFORMED_VALUE_ERROR", "issuer"),
    ("issuer []", _setting("issuer", []), "MALFORMED_VALUE_ERROR", "issuer"),
    ("issuer object without id", _setting("issuer", {"name": "x"}), "MALFORMED_VALUE_ERROR", "issuer"),
    ("no credentialSubject", _without("credentialSubject"), "MALFORMED_VALUE_ERROR", "credentialSubject"),
    ("credentialSubject a string", _setting("credentialSubject", "did:example:1234"), "MALFORMED_VALUE_ERROR", "credentialSubject"),
    ("credentialSubject null", _setting("credentialSubject", None), "MALFORMED_VALUE_ERROR", "credentialSubject"),
    ("credentialSubject []", _setting("credentialSubject", []), "MALFORMED_VALUE_ERROR", "credentialSubject"),
    ("credentialSubject 4", _setting("credentialSubject", 4), "MALFORMED_VALUE_ERROR", "credentialSubject"),
    ("validFrom without a zone", _setting("validFrom", "2025-01-01T00:00:00"), "MALFORMED_VALUE_ERROR", "validFrom"),
    ("id not a URL", _setting("id", "not a url"), "MALFORMED_VALUE_ERROR", "id"),
    ("already signed", _setting("proof", {"type": "DataIntegrityProof"}), "MALFORMED_VALUE_ERROR", "proof"),
    (
        "malformed status entry",
        _setting("credentialStatus", {"type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": True, "statusListCredential": "https://x.example/1"}),
        "MALFORMED_VALUE_ERROR",
        "statusListIndex",
    ),
]


@pytest.mark.parametrize(("what", "change", "code", "word"), BAD_CREDENTIALS, ids=[b[0] for b in BAD_CREDENTIALS])
def test_bad_credentials_are_refused_with_the_reason(client, issuer_did, what, change, code, word) -> None:
    credential = example_credential(issuer_did)
    change(credential)
    body = assert_problem(issue(client, credential), 400, code)
    assert word in body["detail"], body["detail"]


def test_every_structural_problem_is_listed(client, issuer_did) -> None:
    credential = example_credential(issuer_did)
    del credential["type"]
    credential["credentialSubject"] = "nobody"
    body = assert_problem(issue(client, credential), 400)
    details = " ".join(e["detail"] for e in body["errors"])
    assert "type" in details and "credentialSubject" in details


def test_an_undefined_term_is_named_with_its_path(client, issuer_did) -> None:
    credential = example_credential(issuer_did)
    credential["@context"] = ["https://www.w3.org/ns/credentials/v2", {"@version": 1.1, "name": "https://schema.org/name"}]
    credential["credentialSubject"] = {"id": "did:example:1", "name": "x", "meterSerial": "Z81"}
    credential["type"] = ["VerifiableCredential"]
    # the VC v2 context's @vocab would accept any term; a context without @vocab scoping must not drop one
    credential["@context"] = ["https://www.w3.org/ns/credentials/v2", {"@vocab": None}]
    body = assert_problem(issue(client, credential), 400)
    assert body.get("term") == "meterSerial"
    assert body.get("path") == "/credentialSubject/meterSerial"
    assert "meterSerial" in body["detail"]


def test_an_unknown_context_is_refused_without_fetching_it(client, issuer_did) -> None:
    credential = example_credential(issuer_did)
    credential["@context"] = ["https://www.w3.org/ns/credentials/v2", "https://contexts.example/unknown/v1"]
    body = assert_problem(issue(client, credential), 400)
    assert "https://contexts.example/unknown/v1" in body["detail"]


@pytest.mark.parametrize(
    ("body", "code", "word"),
    [
        ({"verifiableCredential": {}}, "PARSING_ERROR", "'credential'"),
        ({}, "PARSING_ERROR", "credential"),
        ({"credential": [], "options": {}}, "PARSING_ERROR", "object"),
        ({"credential": "x"}, "PARSING_ERROR", "object"),
        ({"credential": {}, "extra": 1}, "PARSING_ERROR", "extra"),
    ],
)
def test_bad_request_bodies(client, body, code, word) -> None:
    answer = client.post("/credentials/issue", json=body, headers=AUTH)
    problem = assert_problem(answer, 400, code)
    assert word in problem["detail"]


@pytest.mark.parametrize(
    ("options", "code", "word"),
    [
        ({"cryptosuite": "rsa-2048-signature"}, "PROOF_GENERATION_ERROR", "rsa-2048-signature"),
        ({"cryptosuite": "ecdsa-rdfc-2019"}, "PROOF_GENERATION_ERROR", "ecdsa-rdfc-2019"),  # known, but not this profile's key
        ({"type": "Ed25519Signature2020"}, "PROOF_GENERATION_ERROR", "Ed25519Signature2020"),
        ({"proofPurpose": "signing"}, "PROOF_GENERATION_ERROR", "signing"),
        ({"created": "yesterday"}, "MALFORMED_VALUE_ERROR", "created"),
        ({"mandatoryPointers": ["/issuer"]}, "PROOF_GENERATION_ERROR", "selective disclosure"),
        ({"frobnicate": True}, "PARSING_ERROR", "frobnicate"),
        ({"credentialId": 5}, "PARSING_ERROR", "credentialId"),
        ("fast", "PARSING_ERROR", "options"),
    ],
)
def test_bad_options_are_refused(client, issuer_did, options, code, word) -> None:
    body = assert_problem(issue(client, example_credential(issuer_did), options=options), 400, code)
    assert word in body["detail"]


def test_an_issuer_this_service_does_not_serve_is_refused(client) -> None:
    body = assert_problem(issue(client, example_credential("did:example:someone-else")), 400, "UNKNOWN_ISSUER")
    assert "did:example:someone-else" in body["detail"] and "/issuers" in body["detail"]


def test_the_per_profile_endpoint_checks_profile_and_issuer(client, issuer_did) -> None:
    assert_problem(issue(client, example_credential(issuer_did), path="/issuers/nobody/credentials/issue"), 404, "ISSUER_PROFILE_NOT_FOUND")
    body = assert_problem(issue(client, example_credential("did:example:x"), path="/issuers/default/credentials/issue"), 400, "ISSUER_MISMATCH")
    assert issuer_did in body["detail"]


def test_a_duplicate_credential_id_is_a_conflict(client, issuer_did, service: ServiceState) -> None:
    credential = example_credential(issuer_did)
    first = issued(client, credential)
    body = assert_problem(issue(client, credential), 409, "DUPLICATE_CREDENTIAL")
    assert credential["id"] in body["detail"]
    assert service.storage.get_issued(credential["id"]).credential == first  # the first one stands


def test_unknown_credential_and_list_are_404(client) -> None:
    assert_problem(client.get("/credentials/urn:uuid:00000000-0000-0000-0000-000000000000", headers=AUTH), 404, "CREDENTIAL_NOT_FOUND")
    assert_problem(client.get("/status/0123456789abcdef"), 404, "STATUS_LIST_NOT_FOUND")
    assert_problem(client.post("/credentials/status", json={"credentialId": "urn:x:none", "action": "revoke"}, headers=AUTH), 404, "CREDENTIAL_NOT_FOUND")


def test_unknown_endpoints_and_methods_are_problems(client) -> None:
    assert_problem(client.get("/no/such/thing"), 404, "NOT_FOUND")
    assert_problem(client.post("/healthz"), 405, "METHOD_NOT_ALLOWED")
    assert_problem(client.delete("/issuers"), 405, "METHOD_NOT_ALLOWED")


class TestBodyLimit:
    @pytest.fixture
    def small_client(self, tmp_path, service_db_url, clean_env):
        state = make_service(tmp_path / "small", service_db_url, max_body_bytes=4096)
        with TestClient(create_app(state=state), raise_server_exceptions=False) as test_client:
            yield test_client, state.profiles.all()[0].issuer

    def test_a_declared_length_over_the_limit_is_refused_before_reading(self, small_client) -> None:
        client, did = small_client
        credential = example_credential(did, description="x" * 5000)
        body = assert_problem(issue(client, credential), 413, "REQUEST_TOO_LARGE")
        assert "4096" in body["detail"]

    def test_a_streamed_body_over_the_limit_is_refused(self, small_client) -> None:
        client, did = small_client
        payload = json.dumps({"credential": example_credential(did, description="x" * 5000)}).encode()

        def chunks():
            for start in range(0, len(payload), 1000):
                yield payload[start : start + 1000]

        answer = client.post("/credentials/issue", content=chunks(), headers={**AUTH, "Content-Type": "application/json"})
        assert_problem(answer, 413, "REQUEST_TOO_LARGE")

    def test_a_body_under_the_limit_is_issued(self, small_client) -> None:
        client, did = small_client
        assert issue(client, example_credential(did)).status_code == 201


def test_the_default_limit_fits_a_year_of_half_hourly_readings(service: ServiceState) -> None:
    # 17,520 readings like those of examples/credentials/electricity-halfhourly-2023-10.json
    reading = {"type": "IntervalReading", "start": "2023-10-01T00:00:00Z", "end": "2023-10-01T00:30:00Z", "value": "0.412", "unit": "KWH", "quality": "actual"}
    year = len(json.dumps({"credential": {"credentialSubject": {"readings": [reading] * 17_520}}}))
    assert year < service.settings.max_body_bytes


# -- no input gives a 500 ------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
CREDENTIAL_KEYS = ["@context", "id", "type", "issuer", "credentialSubject", "validFrom", "validUntil", "credentialStatus", "name", "proof"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(["/credentials/issue", "/credentials/verify", "/presentations/verify", "/credentials/status", "/issuers/default/credentials/issue"]), body=json_values)
def test_no_json_body_makes_a_500(client, path, body) -> None:
    answer = client.post(path, json=body, headers=AUTH)
    assert answer.status_code < 500, answer.text
    assert answer.headers["content-type"].startswith(("application/json", "application/problem+json"))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(CREDENTIAL_KEYS), value=json_values, wrapper=st.sampled_from(["credential", "verifiableCredential"]))
def test_no_mutated_credential_makes_a_500(client, issuer_did, key, value, wrapper) -> None:
    credential = example_credential(issuer_did)
    credential[key] = copy.deepcopy(value)
    path = "/credentials/issue" if wrapper == "credential" else "/credentials/verify"
    answer = client.post(path, json={wrapper: credential}, headers=AUTH)
    assert answer.status_code < 500, answer.text
    if answer.status_code >= 400 and answer.headers["content-type"].startswith("application/problem+json"):
        assert answer.json()["detail"]


def test_a_request_with_a_token_of_the_right_shape_but_unknown_is_401_not_500(client, issuer_did) -> None:
    answer = issue(client, example_credential(issuer_did), headers={"Authorization": ("Bearer " + "é" * 20).encode("latin-1")})
    assert_problem(answer, 401, "UNAUTHORIZED")
    assert TOKEN not in answer.text
