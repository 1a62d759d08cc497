"""The service's trust-registry setting: accreditation on the verify endpoints, issuer binding for known issuers.

Uses the four-party example (examples/registry/): its snapshot, trust anchor and the example keys.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from perseus.issuer.keyfile import generate_key_file, read_key_file
from perseus.issuer.service import create_app
from perseus.issuer.service.settings import ConfigError
from perseus.issuer.signing import sign_document
from perseus_service_fixtures import VC_V2, clean_env, make_service  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "registry"
ANCHOR = (EXAMPLE / "trust-anchor.txt").read_text(encoding="utf-8").strip()
EDP_KEY = read_key_file(ROOT / "examples" / "keys" / "edp-example-key.json")
REPORT = json.loads((ROOT / "examples" / "credentials" / "emissions-2023-10.json").read_text(encoding="utf-8"))
ELECTRICITY = json.loads((ROOT / "examples" / "credentials" / "electricity-halfhourly-2023-10.json").read_text(encoding="utf-8"))


@pytest.fixture
def snapshot_file(tmp_path: Path) -> Path:
    target = tmp_path / "snapshot.json"
    shutil.copyfile(EXAMPLE / "snapshot.json", target)
    return target


@pytest.fixture
def client(tmp_path: Path, snapshot_file: Path, clean_env: None) -> Any:
    state = make_service(tmp_path / "data", f"sqlite:///{tmp_path / 'p.db'}", registry_snapshot=snapshot_file, registry_trust_anchor=ANCHOR)
    with TestClient(create_app(state=state)) as http:
        yield http


def _checks(body: dict[str, Any]) -> dict[str, str]:
    return {c["check"]: c["outcome"] for c in body["checks"]}


def test_an_accredited_issuers_credential_verifies_with_the_accreditation_check(client: Any) -> None:
    answer = client.post("/credentials/verify", json={"verifiableCredential": ELECTRICITY, "options": {"checks": ["proof", "validity"]}})
    assert answer.status_code == 200, answer.text
    assert _checks(answer.json())["accreditation"] == "passed"


def test_a_signer_the_registry_does_not_know_is_refused(client: Any) -> None:
    stranger = generate_key_file("Ed25519")
    unsigned = {k: v for k, v in ELECTRICITY.items() if k != "proof"}
    unsigned["issuer"] = stranger.controller
    answer = client.post("/credentials/verify", json={"verifiableCredential": sign_document(unsigned, stranger), "options": {"checks": ["proof"]}})
    assert answer.status_code == 400
    assert _checks(answer.json())["accreditation"] == "failed"
    assert "REGISTRY_ENTITY_NOT_FOUND" in {e["code"] for e in answer.json()["errors"]}


def test_a_known_issuer_always_gets_the_issuer_binding(client: Any) -> None:
    # Names the accredited EDP as issuer but is signed by another key: by the VC API default this would be a
    # warning only; with a registry that knows the EDP it is an error.
    other = generate_key_file("Ed25519")
    unsigned = {k: v for k, v in ELECTRICITY.items() if k != "proof"}
    assert unsigned["issuer"] == EDP_KEY.controller
    answer = client.post("/credentials/verify", json={"verifiableCredential": sign_document(unsigned, other), "options": {"checks": ["proof"]}})
    assert answer.status_code == 400
    assert "ISSUER_MISMATCH" in {e["code"] for e in answer.json()["errors"]}


def test_a_replaced_snapshot_file_is_read_again(client: Any, snapshot_file: Path) -> None:
    snapshot_file.write_text((EXAMPLE / "snapshot.json").read_text(encoding="utf-8").replace('"sequence":9,', '"sequence":10,'), encoding="utf-8")
    # altered after signing: it does not verify, so accreditation fails closed (and the log says why)
    answer = client.post("/credentials/verify", json={"verifiableCredential": ELECTRICITY, "options": {"checks": ["proof"]}})
    assert answer.status_code == 400
    assert _checks(answer.json())["accreditation"] == "failed"


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"registry_snapshot": EXAMPLE / "snapshot.json"}, "PERSEUS_REGISTRY_TRUST_ANCHOR"),
        ({"registry_trust_anchor": ANCHOR}, "PERSEUS_REGISTRY_SNAPSHOT"),
        ({"registry_snapshot": EXAMPLE / "snapshot.json", "registry_trust_anchor": generate_key_file("Ed25519").controller}, "cannot be used"),
        ({"registry_snapshot": EXAMPLE / "missing.json", "registry_trust_anchor": ANCHOR}, "cannot be used"),
    ],
)
def test_a_registry_setting_that_cannot_work_stops_the_service(tmp_path: Path, clean_env: None, settings: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        make_service(tmp_path / "data", f"sqlite:///{tmp_path / 'p.db'}", **settings)
    assert not (tmp_path / "data").exists()
