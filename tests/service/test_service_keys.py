"""Keys: `perseus keys import|list|rotate` on the service's storage, rotation while serving, no secret leaks."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from perseus.issuer.keyfile import generate_key_file, write_key_file
from perseus.issuer.service import ServiceState
from perseus.verifier.cli import main
from perseus.verifier.verify import verify_credential
from perseus_service_fixtures import (  # noqa: F401 - fixtures
    AUTH,
    PASSPHRASE,
    TOKEN,
    assert_problem,
    clean_env,
    client,
    example_credential,
    issue,
    issued,
    issuer_did,
    service,
    service_db_url,
    set_status,
    verify,
)


@pytest.fixture
def keys_cli(service: ServiceState, service_db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """Run `perseus keys …` against the service's database; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("PERSEUS_KEY_PASSPHRASE", PASSPHRASE)
    data_dir = service.settings.data_dir

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["keys", *args, "--data-dir", str(data_dir), "--database-url", service_db_url])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_rotation_keeps_old_credentials_verifying(client, issuer_did, service, keys_cli) -> None:
    before = issued(client, example_credential(issuer_did))
    code, out, _ = keys_cli("rotate", "--profile", "default")
    assert code == 0, out
    new_did = service.storage.get_profile("default").issuer
    assert new_did != issuer_did and new_did in out  # a did:key profile gets the new key's DID
    # the old DID is no longer served, with a reason that says why: the first request may still
    # match the cached profile (409, "rotated", the cache is refreshed), the next is a 400
    first = issue(client, example_credential(issuer_did))
    if first.status_code == 409:
        assert new_did in assert_problem(first, 409, "ISSUER_CHANGED")["detail"]
    problem = assert_problem(issue(client, example_credential(issuer_did)), 400, "UNKNOWN_ISSUER")
    assert "rotated" in problem["detail"]
    after = issued(client, example_credential(new_did))
    assert after["proof"]["verificationMethod"].startswith(new_did)
    # both verify through the service, status included (the old lists are still signed by the old DID)
    assert verify(client, before).status_code == 200, verify(client, before).text
    assert verify(client, after).status_code == 200
    # and revoking the old credential still works and shows
    assert set_status(client, before["id"], "revocation").status_code == 200
    assert {e["code"] for e in verify(client, before).json()["errors"]} == {"CREDENTIAL_REVOKED"}
    keys = service.keys.list_keys("default")
    assert [k["state"] for k in keys] == ["active", "retired"]


def test_keys_list_shows_public_facts_only(service, keys_cli) -> None:
    code, out, _ = keys_cli("list", "--json")
    assert code == 0
    listing = json.loads(out)
    (profile,) = listing["profiles"]
    assert profile["id"] == "default"
    (key,) = profile["keys"]
    assert set(key) == {"id", "controller", "type", "publicKeyMultibase", "state", "created"}
    secret = service.keys.key(key["id"]).secret_key.multibase()
    assert secret not in out
    code, text, _ = keys_cli("list")
    assert code == 0 and profile["issuer"] in text and "[active ]" in text and secret not in text


def test_keys_import_adds_a_profile_the_service_issues_as(client, service, keys_cli, tmp_path: Path) -> None:
    key = generate_key_file("P-256")
    key_path = tmp_path / "supplier-key.json"
    write_key_file(key, key_path)
    code, out, err = keys_cli("import", str(key_path), "--profile", "supplier", "--suites", "ecdsa-rdfc-2019", "--name", "Example Supplier")
    assert code == 0, err
    assert key.controller in out
    assert key.secret_key.multibase() not in out
    signed = issued(client, example_credential(key.controller))  # the running service finds the new profile
    assert signed["proof"]["verificationMethod"] == key.id
    assert signed["proof"]["cryptosuite"] == "ecdsa-rdfc-2019"
    assert verify_credential(signed, checks={"proof", "issuer"}).verified


def test_keys_import_into_an_existing_profile_rotates_to_that_key(client, service, keys_cli, tmp_path: Path, issuer_did) -> None:
    key = generate_key_file("Ed25519")
    write_key_file(key, tmp_path / "next.json")
    code, _, err = keys_cli("import", str(tmp_path / "next.json"), "--profile", "default")
    assert code == 0, err
    assert service.storage.get_profile("default").issuer == key.controller
    assert issued(client, example_credential(key.controller))["proof"]["verificationMethod"] == key.id


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("rotate", "--profile", "nobody"), "nobody"),
        (("import", "/no/such/key.json", "--profile", "x"), "/no/such/key.json"),
        (("rotate",), "--profile"),
    ],
)
def test_keys_commands_report_bad_input_in_one_line(keys_cli, args, fragment) -> None:
    code, _, err = keys_cli(*args)
    assert code == 2
    assert fragment in err
    assert "Traceback" not in err


def test_a_wrong_passphrase_is_one_clear_line(service, keys_cli, monkeypatch) -> None:
    monkeypatch.setenv("PERSEUS_KEY_PASSPHRASE", "not the passphrase at all")
    code, _, err = keys_cli("rotate", "--profile", "default")
    assert code == 2
    assert "passphrase" in err and "Traceback" not in err


def test_no_secret_reaches_a_response_or_a_log_line(client, issuer_did, service, keys_cli, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    bodies: list[str] = []

    def keep(response):
        bodies.append(response.text)
        bodies.append(json.dumps(dict(response.headers)))
        return response

    signed = issued(client, example_credential(issuer_did))
    keep(client.post("/credentials/issue", json={"credential": example_credential(issuer_did)}, headers=AUTH))
    keep(verify(client, signed))
    keep(client.get("/issuers"))
    keep(client.get("/issuers/default"))
    keep(client.get(f"/credentials/{signed['id']}", headers=AUTH))
    keep(set_status(client, signed["id"], "suspension"))
    keep(client.get(signed["credentialStatus"][0]["statusListCredential"].removeprefix(service.base_url)))
    keep(issue(client, example_credential("did:example:nobody")))
    keep(client.post("/credentials/issue", content=b"{broken", headers={**AUTH, "Content-Type": "application/json"}))
    keep(client.get("/healthz"))
    keep(client.get("/openapi.json"))
    for command in (("rotate", "--profile", "default"), ("list",)):
        code, out, err = keys_cli(*command)
        assert code == 0, err
        bodies += [out, err]
    new_did = service.storage.get_profile("default").issuer
    keep(issue(client, example_credential(new_did)))

    secrets = [service.keys.key(k["id"]).secret_key.multibase() for k in service.keys.list_keys("default")]
    assert len(secrets) == 2
    everything = "\n".join(bodies) + "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    for secret in [*secrets, PASSPHRASE]:
        assert secret not in everything
    assert TOKEN not in "\n".join(bodies)
    assert "secretKeyMultibase" not in everything and "privateKeyMultibase" not in everything
