"""Fuzz every HTTP route of the issuer service: mutated bodies and odd path ids are never a 500, and every
error body is an RFC 9457 problem detail (issue 7 §4).

The verify endpoints answer a credential that fails with the verification result (``verified: false``,
400, as the W3C suites require); every other error, on every route, is ``application/problem+json``.
The NUL-byte ids run on SQLite and PostgreSQL (PostgreSQL text cannot hold a NUL: it was a
``psycopg.DataError``, a 500 and ~220 log lines each); the PostgreSQL runs are skipped, with the
reason shown, when no server is reachable.
"""

from __future__ import annotations

import functools
import logging
import sys
from pathlib import Path
from typing import Any

import pytest
from fuzz_mutations import Mutation, credential_corpus, mutations_of, to_json_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from perseus.issuer.keyfile import generate_key_file
from perseus.issuer.service.verifying import VerifyOptions, verify_presentation_request
from perseus.issuer.signing import sign_document

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))

from perseus_service_fixtures import (  # noqa: E402, F401 - fixtures
    AUTH,
    VC_V2,
    assert_problem,
    clean_env,
    client,
    example_credential,
    issued,
    service,
    service_db_url,
    shared_client,
    shared_service,
)

CORPUS = credential_corpus()
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
HOLDER = generate_key_file("Ed25519")
CHALLENGE, DOMAIN = "c-4f1e9a", "bank.example"
VERIFY_ROUTES = {"/credentials/verify", "/presentations/verify"}


def assert_no_500_and_errors_are_problems(response: Any, route: str) -> None:
    assert response.status_code < 500, (route, response.status_code, response.text[:500])
    if response.status_code < 400:
        return
    media = response.headers.get("content-type", "")
    if route in VERIFY_ROUTES and media.startswith("application/json"):
        assert response.json()["verified"] is False  # a result, not a problem: the W3C suites ask for this
        return
    assert_problem(response, response.status_code)


def post_json(http: Any, path: str, body: Any, *, auth: bool = False) -> Any:
    """POST any mutated body as the JSON text a hostile client would send (escaped surrogates, 5,000-digit numbers)."""
    headers = {"Content-Type": "application/json", **(AUTH if auth else {})}
    return http.post(path, content=to_json_text(body).encode("ascii"), headers=headers)


@functools.cache
def _mutations_of_name(name: str) -> list[Mutation]:
    return mutations_of(CORPUS[name])


@st.composite
def mutated_credential(draw: st.DrawFn) -> Any:
    name = draw(st.sampled_from(sorted(CORPUS)))
    return draw(st.sampled_from(_mutations_of_name(name))).apply(CORPUS[name])


def _mutated(document: Any) -> st.SearchStrategy[Any]:
    mutations = mutations_of(document)
    return st.sampled_from(mutations).map(lambda m: m.apply(document))


@pytest.fixture(scope="module")
def issuer_did(shared_service: Any) -> str:
    return str(shared_service.profiles.all()[0].issuer)


@pytest.fixture(scope="module")
def own_credential(shared_client: Any, issuer_did: str) -> dict[str, Any]:
    return issued(shared_client, example_credential(issuer_did))


@pytest.fixture(scope="module")
def presentation(own_credential: dict[str, Any]) -> dict[str, Any]:
    vp = {"@context": [VC_V2], "type": ["VerifiablePresentation"], "holder": HOLDER.controller, "verifiableCredential": [own_credential]}
    return sign_document(vp, HOLDER, proof_purpose="authentication", challenge=CHALLENGE, domain=DOMAIN)


# -- verifying ------------------------------------------------------------------------------------------------


@FUZZ
@given(document=mutated_credential(), checks=st.sampled_from([None, ["proof", "issuer", "validity", "status"]]))
def test_credentials_verify_never_500(shared_client: Any, document: Any, checks: Any) -> None:
    body: dict[str, Any] = {"verifiableCredential": document}
    if checks is not None:
        body["options"] = {"checks": checks}
    assert_no_500_and_errors_are_problems(post_json(shared_client, "/credentials/verify", body), "/credentials/verify")


@FUZZ
@given(data=st.data())
def test_presentations_verify_never_500(shared_client: Any, presentation: dict[str, Any], data: st.DataObject) -> None:
    body = {"verifiablePresentation": presentation, "options": {"challenge": CHALLENGE, "domain": DOMAIN}}
    mutated = data.draw(_mutated(body))
    answer = post_json(shared_client, "/presentations/verify", mutated)
    assert_no_500_and_errors_are_problems(answer, "/presentations/verify")


@settings(FUZZ, max_examples=40)
@given(data=st.data())
def test_verify_presentation_request_never_raises(shared_service: Any, presentation: dict[str, Any], data: st.DataObject) -> None:
    """The library function behind the route, given Python values HTTP cannot carry (lone surrogates, huge ints)."""
    document = data.draw(_mutated(presentation))
    status, body = verify_presentation_request(shared_service, document, VerifyOptions(checks=frozenset({"proof", "validity"}), challenge=CHALLENGE, domain=DOMAIN))
    assert status in (200, 400)
    assert body["verified"] is (status == 200)
    if status == 400:
        assert body["errors"], "a presentation that is not verified must say why"


def test_the_unmutated_presentation_verifies(shared_client: Any, presentation: dict[str, Any]) -> None:
    answer = shared_client.post("/presentations/verify", json={"verifiablePresentation": presentation, "options": {"challenge": CHALLENGE, "domain": DOMAIN}})
    assert answer.status_code == 200, answer.text


# -- issuing and status ----------------------------------------------------------------------------------------


@FUZZ
@given(data=st.data(), path=st.sampled_from(["/credentials/issue", "/issuers/default/credentials/issue"]))
def test_issue_never_500(shared_client: Any, issuer_did: str, data: st.DataObject, path: str) -> None:
    body = {"credential": example_credential(issuer_did), "options": {}}
    answer = post_json(shared_client, path, data.draw(_mutated(body)), auth=True)
    assert_no_500_and_errors_are_problems(answer, path)


@FUZZ
@given(data=st.data(), shape=st.sampled_from(["entries", "action"]))
def test_status_update_never_500(shared_client: Any, own_credential: dict[str, Any], data: st.DataObject, shape: str) -> None:
    body: dict[str, Any] = {"credentialId": own_credential["id"]}
    if shape == "action":
        body["action"] = "suspend"
    else:
        body["credentialStatus"] = [{"type": "BitstringStatusListEntry", "statusPurpose": "suspension", "status": False}]
    answer = post_json(shared_client, "/credentials/status", data.draw(_mutated(body)), auth=True)
    assert_no_500_and_errors_are_problems(answer, "/credentials/status")


ODD_IDS = ["a\x00b", "\u202eevil\u200b", "x" * 5000, "", "..", "%", "urn:uuid:\ud800", "1e308", "[]", "{}", "\ufeff"]


@settings(FUZZ, max_examples=30)
@given(odd=st.sampled_from(ODD_IDS), route=st.sampled_from(["GET /credentials/", "GET /status/", "POST /status/+/publish", "GET /issuers/", "POST /issuers/+/credentials/issue"]))
def test_path_ids_never_500(shared_client: Any, issuer_did: str, odd: str, route: str) -> None:
    method, template = route.split(" ")
    encoded = odd.encode("utf-8", "surrogatepass").hex()
    segment = "".join(f"%{encoded[i:i + 2]}" for i in range(0, len(encoded), 2))
    url = template.replace("+", segment) if "+" in template else template + segment
    body = {"credential": example_credential(issuer_did)} if "issue" in template else None
    answer = shared_client.request(method, url, headers=AUTH, json=body)
    assert_no_500_and_errors_are_problems(answer, url)


# The selective-disclosure and exchange routes: a well-formed body of each, mutated at every path.
NEWER_ROUTE_BODIES: dict[str, Any] = {
    "/credentials/derive": {"verifiableCredential": example_credential("did:example:issuer"), "options": {"selectivePointers": ["/credentialSubject"]}},
    "/workflows/receive/exchanges": {"ttl": 300},
    "/workflows/release/exchanges": {"ttl": 300},
    "/workflows/receive/exchanges/x-1": {},
    "/challenges": {},
    "/permissions/status-lists": {"statusListCredential": example_credential("did:example:sme")},
}


@settings(FUZZ, max_examples=60)
@given(data=st.data(), route=st.sampled_from(sorted(NEWER_ROUTE_BODIES)), auth=st.booleans())
def test_derive_exchange_and_challenge_routes_never_500(shared_client: Any, data: st.DataObject, route: str, auth: bool) -> None:
    answer = post_json(shared_client, route, data.draw(_mutated(NEWER_ROUTE_BODIES[route])), auth=auth)
    assert_no_500_and_errors_are_problems(answer, route)


@settings(FUZZ, max_examples=30)
@given(odd=st.sampled_from(ODD_IDS), template=st.sampled_from(["/workflows/+/exchanges", "/workflows/receive/exchanges/+", "/workflows/+/exchanges/+"]))
def test_exchange_path_ids_never_500(shared_client: Any, odd: str, template: str) -> None:
    encoded = odd.encode("utf-8", "surrogatepass").hex()
    segment = "".join(f"%{encoded[i:i + 2]}" for i in range(0, len(encoded), 2))
    url = template.replace("+", segment)
    assert_no_500_and_errors_are_problems(shared_client.post(url, headers=AUTH, json={}), url)


def test_every_documented_route_was_fuzzed(shared_client: Any) -> None:
    paths = set(shared_client.get("/openapi.json").json()["paths"])
    fuzzed = {"/credentials/issue", "/issuers/{profile_id}/credentials/issue", "/credentials/verify", "/presentations/verify", "/credentials/status",
              "/credentials/{credential_id}", "/status/{list_id}", "/status/{list_id}/publish", "/issuers", "/issuers/{profile_id}", "/healthz",
              "/credentials/derive", "/challenges", "/permissions/status-lists", "/workflows/{workflow_id}/exchanges",
              "/workflows/{workflow_id}/exchanges/{exchange_id}"}
    assert paths <= fuzzed | {"/openapi.json"}, paths - fuzzed


def test_the_open_get_routes_answer(shared_client: Any) -> None:
    for path in ("/issuers", "/healthz", "/openapi.json", "/"):
        assert shared_client.get(path).status_code == 200


# -- NUL bytes on both engines ----------------------------------------------------------------------------------


def test_a_nul_in_any_id_is_a_4xx_problem_on_every_engine(client: Any, service: Any, caplog: pytest.LogCaptureFixture) -> None:
    """PostgreSQL refused NUL in text with a DataError — a 500 and a log flood; now one gate turns it away."""
    caplog.set_level(logging.DEBUG, logger="perseus.service")
    issuer = service.profiles.all()[0].issuer
    answers = {
        "GET /credentials/a%00b": (client.get("/credentials/a%00b", headers=AUTH), 404),
        "GET /status/a%00b": (client.get("/status/a%00b"), 404),
        "GET /issuers/a%00b": (client.get("/issuers/a%00b"), 404),
        "POST /status/a%00b/publish": (client.post("/status/a%00b/publish", headers=AUTH), 404),
        "POST /issuers/a%00b/credentials/issue": (client.post("/issuers/a%00b/credentials/issue", headers=AUTH, json={"credential": example_credential(issuer)}), 404),
        "status update": (client.post("/credentials/status", headers=AUTH, json={"credentialId": "urn:a\u0000b", "action": "revoke"}), 404),
        "issue": (client.post("/credentials/issue", headers=AUTH, json={"credential": example_credential(issuer, credential_id="urn:uuid:a\u0000b")}), 400),
    }
    for name, (answer, status) in answers.items():
        assert_problem(answer, status)
        assert "\x00" not in answer.json()["detail"], name  # the id is shown escaped, if at all
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]
    assert client.get("/healthz").status_code == 200  # the connection pool survived
