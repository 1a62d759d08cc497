"""Issue 7 §2 and two §5 findings over HTTP: the open verify endpoints cannot be made to fetch URLs.

Every status list URL here points at a loopback server that counts the connections it accepts, so
"nothing was fetched" is ``connections == 0``, not a guess from the answer. Loopback is refused by
default; tests that need the service to reach a server allow ``127.0.0.1`` in its settings, as an
operator would allow an internal status service.

Also here: the issuer binding is enforced for credentials naming this service's own DIDs (§5), and
a service on PostgreSQL refuses to start without its public URL (§5, replicas sharing lists).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from perseus.issuer.keyfile import KeyFile, generate_key_file
from perseus.issuer.service import ServiceState, create_app, load_settings, open_service
from perseus.issuer.service.settings import ConfigError
from perseus.issuer.signing import sign_document
from perseus.verifier.cli import main
from perseus_service_fixtures import TOKEN, clean_env, example_credential, issued, make_service, set_status, verify  # noqa: F401 - fixtures

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "status"))
from perseus_loopback_servers import Behaviour, LoopbackServer, closed_port, loopback_servers  # noqa: E402
from perseus_storage_fixtures import fresh_database_url  # noqa: E402

LOOPBACK = ("127.0.0.1",)
Service = tuple[ServiceState, TestClient]


@contextmanager
def service_with(tmp_path: Path, **settings: Any) -> Iterator[Service]:
    """A SQLite service with these settings, and a client for it."""
    state = make_service(tmp_path / "data", f"sqlite:///{tmp_path / 'perseus.db'}", **settings)
    try:
        with TestClient(create_app(state=state), raise_server_exceptions=False) as client:
            yield state, client
    finally:
        state.close()


@pytest.fixture(scope="module")
def key() -> KeyFile:
    """Another issuer's key (a did:key): its credentials' status lists are not this service's."""
    return generate_key_file("Ed25519")


def entry(url: str, index: int = 7, purpose: str = "revocation") -> dict[str, str]:
    return {"id": f"{url}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": purpose, "statusListIndex": str(index), "statusListCredential": url}


def credential_of(key: KeyFile, *urls: str, issuer: str | None = None, sign: bool = True) -> dict[str, Any]:
    document = example_credential(issuer or key.controller, credentialStatus=[entry(u) for u in urls])
    return sign_document(document, key) if sign else document


def status_list(key: KeyFile, url: str, *revoked: int) -> bytes:
    from perseus.verifier.status import Bitstring

    bits = Bitstring.zeros(131_072)
    for index in revoked:
        bits.set(index, True)
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": key.controller,
        "credentialSubject": {"id": url + "#list", "type": "BitstringStatusList", "statusPurpose": "revocation", "encodedList": bits.encode()},
    }
    return orjson.dumps(sign_document(document, key))


def present(client: TestClient, *credentials: dict[str, Any]) -> Any:
    presentation = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"], "verifiableCredential": list(credentials)}
    return client.post("/presentations/verify", json={"verifiablePresentation": presentation})


def status_problems(answer: Any) -> list[dict[str, Any]]:
    """Every status check problem of a /credentials/verify or /presentations/verify answer."""
    body = answer.json()
    results = body.get("credentialResults", [body])
    return [p for r in results for c in r["checks"] if c["check"] == "status" for p in c.get("problems", [])]


Verify = Callable[[TestClient, dict[str, Any]], Any]
ENDPOINTS: list[Verify] = [lambda client, credential: verify(client, credential), lambda client, credential: present(client, credential)]
ENDPOINT_IDS = ["credentials", "presentations"]


# -- (a) refused by default: no connection -------------------------------------------------------------------


@pytest.mark.parametrize("post", ENDPOINTS, ids=ENDPOINT_IDS)
def test_by_default_a_loopback_status_url_is_never_connected_to(tmp_path: Path, clean_env: None, key: KeyFile, post: Verify) -> None:
    with loopback_servers(Behaviour()) as (server,), service_with(tmp_path) as (_, client):
        server.behaviour.body = status_list(key, server.url())
        answer = post(client, credential_of(key, server.url()))
        assert answer.status_code == 400 and answer.json()["verified"] is False
        assert [(p["code"], p["detail"]) for p in status_problems(answer)] == [("STATUS_RETRIEVAL_ERROR", f"status list {server.url()} could not be retrieved")]
        assert server.connections == 0


@pytest.mark.parametrize("post", ENDPOINTS, ids=ENDPOINT_IDS)
def test_an_allowed_host_is_fetched_from(tmp_path: Path, clean_env: None, key: KeyFile, post: Verify, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERSEUS_STATUS_FETCH_ALLOWED_HOSTS", "status.internal, 127.0.0.1")  # as an operator sets it
    with loopback_servers(Behaviour()) as (server,), service_with(tmp_path) as (state, client):
        assert state.outbound_policy.allowed_hosts == {"status.internal", "127.0.0.1"}
        server.behaviour.body = status_list(key, server.url(), 7)
        answer = post(client, credential_of(key, server.url()))
        assert [p["code"] for p in status_problems(answer)] == ["CREDENTIAL_REVOKED"]
        assert server.connections == 1


# -- status only after the proof and the issuer binding --------------------------------------------------------


@pytest.mark.parametrize("post", ENDPOINTS, ids=ENDPOINT_IDS)
def test_nothing_is_fetched_for_what_the_issuer_did_not_sign(tmp_path: Path, clean_env: None, key: KeyFile, post: Verify) -> None:
    stranger = generate_key_file("Ed25519")
    with loopback_servers(Behaviour()) as (server,), service_with(tmp_path, status_fetch_allowed_hosts=LOOPBACK) as (_, client):
        url = server.url()
        tampered = credential_of(key, url)
        tampered["credentialSubject"]["name"] = "someone else"
        for document in (
            credential_of(key, url, sign=False),  # no proof at all
            tampered,  # a proof that does not verify
            credential_of(stranger, url, issuer="https://issuer.example/not-the-signer"),  # verified, but not by the issuer
            credential_of(stranger, url, issuer=key.controller),  # another key claiming the issuer's did:key
        ):
            answer = post(client, document)
            assert answer.status_code == 400
            status = [c for r in answer.json().get("credentialResults", [answer.json()]) for c in r["checks"] if c["check"] == "status"]
            assert [(c["outcome"], c["summary"]) for c in status] == [("failed", "status not checked")]
        assert server.connections == 0


# -- (b) redirects -------------------------------------------------------------------------------------------------


def test_a_redirect_is_not_followed_even_to_an_allowed_host(tmp_path: Path, clean_env: None, key: KeyFile) -> None:
    with loopback_servers(Behaviour(), Behaviour()) as (target, redirector), service_with(tmp_path, status_fetch_allowed_hosts=LOOPBACK) as (_, client):
        target.behaviour.body = status_list(key, redirector.url())
        redirector.behaviour = Behaviour(status=307, headers={"Location": target.url()})
        answer = verify(client, credential_of(key, redirector.url()))
        assert answer.status_code == 400
        assert "redirects are not followed" in status_problems(answer)[0]["detail"]
        assert redirector.connections == 1 and target.connections == 0


# -- (c) names checked after resolution ----------------------------------------------------------------------------


def test_a_public_looking_name_that_resolves_to_loopback_is_refused(tmp_path: Path, clean_env: None, key: KeyFile) -> None:
    lookups: list[str] = []
    with loopback_servers(Behaviour()) as (server,), service_with(tmp_path) as (state, client):
        state.resolver = lambda name, port: lookups.append(name) or ["127.0.0.1"]
        url = f"https://status.example.com:{server.port}/status/1"
        answer = verify(client, credential_of(key, url))
        assert [(p["code"], p["detail"]) for p in status_problems(answer)] == [("STATUS_RETRIEVAL_ERROR", f"status list {url} could not be retrieved")]
        assert lookups == ["status.example.com"] and server.connections == 0


# -- (d) one deadline per request ------------------------------------------------------------------------------------


@pytest.mark.parametrize("together", [True, False], ids=["one-credential", "presentation-of-two"])
def test_all_fetches_of_a_request_share_one_deadline(tmp_path: Path, clean_env: None, key: KeyFile, together: bool) -> None:
    settings = {"status_fetch_allowed_hosts": LOOPBACK, "status_fetch_timeout": 0.3}
    with loopback_servers(Behaviour(delay=5), Behaviour(delay=5)) as (first, second), service_with(tmp_path, **settings) as (_, client):
        if together:
            answer = verify(client, credential_of(key, first.url(), second.url()))
        else:
            answer = present(client, credential_of(key, first.url()), credential_of(key, second.url()))
        details = [p["detail"] for p in status_problems(answer)]
        assert len(details) == 2 and all("not fetched in time" in d for d in details)
        assert first.connections + second.connections == 1  # the first used up the request's time


# -- (e) a cap on distinct status URLs per request --------------------------------------------------------------------


@pytest.mark.parametrize("together", [True, False], ids=["one-credential", "presentation-of-three"])
def test_past_the_cap_on_status_lists_nothing_is_fetched(tmp_path: Path, clean_env: None, key: KeyFile, together: bool) -> None:
    settings = {"status_fetch_allowed_hosts": LOOPBACK, "status_fetch_max_lists": 2}
    with loopback_servers(Behaviour(), Behaviour(), Behaviour()) as servers, service_with(tmp_path, **settings) as (_, client):
        urls = [s.url() for s in servers]
        answer = verify(client, credential_of(key, *urls)) if together else present(client, *(credential_of(key, u) for u in urls))
        assert answer.status_code == 400
        details = [p["detail"] for p in status_problems(answer)]
        assert details and all("3 distinct status lists" in d and "at most 2" in d for d in details)
        assert [s.connections for s in servers] == [0, 0, 0]


# -- (f) the size cap -------------------------------------------------------------------------------------------------


def test_a_status_list_over_the_size_cap_is_refused(tmp_path: Path, clean_env: None, key: KeyFile) -> None:
    with loopback_servers(Behaviour(body=b"{" + b" " * 4096 + b"}")) as (server,), service_with(tmp_path, status_fetch_allowed_hosts=LOOPBACK, status_fetch_max_bytes=1024) as (_, client):
        answer = verify(client, credential_of(key, server.url()))
        assert [p["detail"] for p in status_problems(answer)] == [f"status list {server.url()} is larger than 1024 bytes; refusing it"]


# -- (g) error details ---------------------------------------------------------------------------------------------------


def test_a_closed_port_and_a_refused_address_read_the_same(tmp_path: Path, clean_env: None, key: KeyFile) -> None:
    port = closed_port()
    url = f"http://127.0.0.1:{port}/status/1"
    answers = []
    for allowed in ((), LOOPBACK):
        with service_with(tmp_path / str(len(allowed)), status_fetch_allowed_hosts=allowed) as (_, client):
            answers.append(verify(client, credential_of(key, url)))
    for answer in answers:
        text = answer.text
        assert [p["detail"] for p in status_problems(answer)] == [f"status list {url} could not be retrieved"]
        assert not any(word in text.lower() for word in ("refused", "errno", "timed out", "reset", "connecterror"))
    assert answers[0].json()["errors"] == answers[1].json()["errors"]


# -- this service's own lists: from storage, never over HTTP ---------------------------------------------------------------


def test_own_issuers_status_lists_are_never_fetched_over_http(tmp_path: Path, clean_env: None) -> None:
    with loopback_servers(Behaviour()) as (server,), service_with(tmp_path, status_fetch_allowed_hosts=LOOPBACK) as (state, client):
        profile = state.profiles.all()[0]
        own_key = state.keys.signing_key(profile.profile_id)
        server.behaviour.body = status_list(own_key, server.url())
        # signed with this service's own key, but naming a list somewhere else (e.g. an old base URL)
        answer = verify(client, credential_of(own_key, server.url()))
        assert answer.status_code == 400
        assert "never over HTTP" in status_problems(answer)[0]["detail"]
        assert server.connections == 0
        # what the service issued names its own lists, read from its storage (BASE_URL is not served anywhere)
        signed = issued(client, example_credential(profile.issuer))
        assert verify(client, signed).status_code == 200
        assert set_status(client, signed["id"], "revocation").status_code == 200
        assert [p["code"] for p in status_problems(verify(client, signed))] == ["CREDENTIAL_REVOKED"]


# -- §5: the issuer binding for this service's own DIDs ----------------------------------------------------------------------


@pytest.mark.parametrize("post", ENDPOINTS, ids=ENDPOINT_IDS)
def test_a_credential_naming_this_services_did_but_signed_by_another_key_is_refused(tmp_path: Path, clean_env: None, post: Verify) -> None:
    attacker = generate_key_file("Ed25519")
    with service_with(tmp_path) as (state, client):
        profile = state.profiles.all()[0]
        genuine = issued(client, example_credential(profile.issuer))
        forged = sign_document({k: v for k, v in genuine.items() if k != "proof"} | {"credentialSubject": {"id": "did:example:sme-42", "name": "Forged Ltd"}}, attacker)
        answer = post(client, forged)
        assert answer.status_code == 400 and answer.json()["verified"] is False
        assert "ISSUER_MISMATCH" in {e["code"] for e in answer.json()["errors"]}
        assert post(client, genuine).status_code == 200
        # the DID a did:key profile had before a key rotation is still this service's
        old_did = profile.issuer
        assert state.keys.rotate(profile.profile_id).issuer_after != old_did
        forged_old = sign_document(example_credential(old_did), attacker)
        assert "ISSUER_MISMATCH" in {e["code"] for e in post(client, forged_old).json()["errors"]}
        # another issuer's credential keeps the VC API default: a warning, not an error
        other = sign_document(example_credential("https://vc.example/issuers/5678"), attacker)
        answer = post(client, other)
        assert answer.status_code == 200, answer.text


# -- §5: replicas on PostgreSQL need one public URL ------------------------------------------------------------------------------


def test_serve_on_postgresql_without_a_base_url_stops_with_one_sentence(tmp_path: Path, clean_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["serve", "--database-url", "postgresql://127.0.0.1:5432/test", "--data-dir", str(tmp_path / "d")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("perseus serve: error: a service on PostgreSQL needs its public URL: set PERSEUS_BASE_URL")
    assert "Traceback" not in err and err.count("\n") == 1
    assert not (tmp_path / "d").exists()  # refused before anything was created


def test_the_base_url_requirement_applies_to_every_way_of_configuring(tmp_path: Path, clean_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERSEUS_DATABASE_URL", "postgresql+psycopg://db.internal/perseus")
    with pytest.raises(ConfigError, match="PERSEUS_BASE_URL"):
        open_service(load_settings(data_dir=tmp_path / "d"))
    # SQLite (one machine, one host:port) keeps its embedded default
    state = make_service(tmp_path / "s", f"sqlite:///{tmp_path / 's.db'}", base_url=None)
    try:
        assert state.base_url.startswith("http://127.0.0.1:")
    finally:
        state.close()


@pytest.mark.postgres
def test_replicas_sharing_postgresql_verify_each_others_credentials(tmp_path: Path, clean_env: None) -> None:
    # the finding: 40 of 40 credentials from the other replica failed STATUS_VERIFICATION_ERROR
    for database_url in fresh_database_url("postgresql", tmp_path):
        replicas = [make_service(tmp_path / name, database_url, base_url="https://issuer.example") for name in ("a", "b")]
        try:
            with TestClient(create_app(state=replicas[0])) as at_a, TestClient(create_app(state=replicas[1])) as at_b:
                did = replicas[0].profiles.all()[0].issuer
                clients = [at_a, at_b]
                for n in range(6):
                    signed = issued(clients[n % 2], example_credential(did))
                    answer = verify(clients[(n + 1) % 2], signed)
                    assert answer.status_code == 200, answer.text
        finally:
            for replica in replicas:
                replica.close()


def test_the_loopback_servers_count_what_they_accept() -> None:
    # the instrument the tests above rely on: a plain connection is counted, before any request
    import socket

    server = LoopbackServer().start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(b"GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            assert sock.recv(12).startswith(b"HTTP/1.")
        assert server.connections == 1
    finally:
        server.stop()


@pytest.mark.parametrize("entry", ["http://127.0.0.1", "127.0.0.1:8080", "status.internal/lists", "a b"])
def test_an_allowed_host_that_could_never_match_is_a_config_error(tmp_path: Path, clean_env: None, entry: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERSEUS_STATUS_FETCH_ALLOWED_HOSTS", f"status.internal,{entry}")
    with pytest.raises(ConfigError, match="status_fetch_allowed_hosts.*not a host name or IP address"):
        load_settings(data_dir=tmp_path)
    monkeypatch.setenv("PERSEUS_STATUS_FETCH_ALLOWED_HOSTS", "status.internal, ::1, [fd00::5], 10.0.0.5")
    assert load_settings(data_dir=tmp_path).status_fetch_allowed_hosts == ("status.internal", "::1", "[fd00::5]", "10.0.0.5")
