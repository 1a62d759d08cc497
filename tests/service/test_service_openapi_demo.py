"""The OpenAPI document is valid and complete; health; `perseus demo` does the round trip."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from perseus_service_fixtures import (  # noqa: F401 - fixtures
    AUTH,
    assert_problem,
    clean_env,
    client,
    service,
)


@pytest.fixture
def service_db_url(tmp_path):
    """SQLite only: what this module checks does not depend on the engine (the engine-specific
    behaviour is tested on both in test_service_issue / _status / _keys / _live / _auth_profiles)."""
    return f"sqlite:///{tmp_path / 'perseus.db'}"

ENDPOINTS = {
    ("post", "/credentials/issue"),
    ("post", "/issuers/{profile_id}/credentials/issue"),
    ("post", "/credentials/verify"),
    ("post", "/presentations/verify"),
    ("post", "/credentials/status"),
    ("get", "/credentials/{credential_id}"),
    ("get", "/status/{list_id}"),
    ("post", "/status/{list_id}/publish"),
    ("get", "/issuers"),
    ("get", "/issuers/{profile_id}"),
    ("get", "/healthz"),
}


def test_the_openapi_document_is_valid_and_lists_every_endpoint(client) -> None:
    answer = client.get("/openapi.json")
    assert answer.status_code == 200
    document = answer.json()
    validator = pytest.importorskip("openapi_spec_validator", reason="openapi-spec-validator is a dev dependency")
    validator.validate(document)
    assert document["openapi"].startswith("3.1")
    operations = {(method, path) for path, item in document["paths"].items() for method in item}
    assert ENDPOINTS <= operations
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert operation.get("summary"), (method, path)
            if method == "post" and not path.endswith("/publish"):
                schema = operation["requestBody"]["content"]["application/json"]["schema"]
                assert schema["type"] == "object", path
    bearer = document["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in bearer.values())
    issue = document["paths"]["/credentials/issue"]["post"]
    assert "201" in issue["responses"] and "application/problem+json" in issue["responses"]["400"]["content"]
    assert issue["security"]  # documented as needing the token
    assert "security" not in document["paths"]["/credentials/verify"]["post"]  # open


def test_health_reports_the_database(client, service) -> None:
    body = client.get("/healthz").json()
    assert body == {"status": "ok", "database": service.storage.dialect, "schemaVersion": service.storage.schema_version()}


def test_health_is_503_with_retry_after_when_the_database_is_unavailable(client, service, monkeypatch) -> None:
    from perseus.issuer.storage import StorageUnavailableError

    def down() -> int:
        raise StorageUnavailableError("could not connect to server at postgresql://admin:hunter2@db.internal:5432")

    monkeypatch.setattr(service.storage, "schema_version", down)
    answer = client.get("/healthz")
    problem = assert_problem(answer, 503, "STORAGE_UNAVAILABLE")
    assert "try again" in problem["detail"]
    assert answer.headers["retry-after"] == "1"
    assert "hunter2" not in answer.text and "db.internal" not in answer.text  # the cause goes to the log only


def test_an_unexpected_error_is_a_500_problem_without_internals(client, service, monkeypatch, caplog) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("SELECT secret FROM internals at /srv/perseus/store.py:42")

    monkeypatch.setattr(service.storage, "get_issued", broken)
    answer = client.get("/credentials/urn:uuid:whatever", headers=AUTH)
    problem = assert_problem(answer, 500, "INTERNAL_ERROR")
    assert "SELECT" not in answer.text and "store.py" not in answer.text
    incident = problem["detail"].split("incident ")[1].split(")")[0]
    assert any(incident in r.getMessage() and r.exc_info for r in caplog.records)  # the log has it, with the traceback


# A schemathesis-like sweep over the documented POST operations: random JSON bodies, never a 500.
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(["/credentials/issue", "/credentials/verify", "/presentations/verify", "/credentials/status", "/status/abc/publish"]),
    body=st.dictionaries(
        st.sampled_from(["credential", "verifiableCredential", "verifiablePresentation", "options", "credentialId", "credentialStatus", "status", "action"]),
        st.none() | st.booleans() | st.text(max_size=5) | st.lists(st.integers(), max_size=2) | st.dictionaries(st.sampled_from(["@context", "type", "issuer", "id", "checks", "statusPurpose"]), st.text(max_size=5) | st.lists(st.text(max_size=3), max_size=2), max_size=4),
        max_size=4,
    ),
)
def test_documented_operations_never_answer_500(client, path, body) -> None:
    answer = client.post(path, json=body, headers=AUTH)
    assert answer.status_code < 500, answer.text


def test_the_demo_issues_verifies_revokes_and_fails_verification(tmp_path: Path, clean_env) -> None:
    from perseus.issuer.demo import run_demo

    out = io.StringIO()
    assert run_demo(tmp_path, out=out) is True
    text = out.getvalue()
    assert "POST /credentials/issue -> 201" in text
    assert "VERIFIED" in text and "NOT VERIFIED" in text
    assert "CREDENTIAL_REVOKED" in text
    assert text.index("CREDENTIAL_REVOKED") > text.index("POST /credentials/status (revoke) -> 200")
    assert "perseus serve" in text
