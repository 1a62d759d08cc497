"""Shared pieces for the trust-registry tests: keys, a credential signed at a chosen time, snapshots."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest

from perseus.issuer.keyfile import KeyFile
from perseus.issuer.signing import sign_document
from perseus.verifier.did_key import did_key_for, verification_method_id
from perseus.verifier.keys import SecretKey
from perseus.verifier.registry_snapshot import SNAPSHOT_CONTEXT, sign_snapshot

CORE = "https://registry.core.trust.ib1.org/trust-framework"
EDP_ROLE = "https://registry.core.trust.ib1.org/scheme/perseus/role/energy-data-provider"
CAP_ROLE = "https://registry.core.trust.ib1.org/scheme/perseus/role/carbon-accounting-provider"
NEW_EDP_ROLE = "https://registry.core.trust.ib1.org/scheme/perseus/role/consumption-reader"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


class Party:
    def __init__(self, key_type: str = "Ed25519") -> None:
        self.secret = SecretKey.generate(key_type)  # type: ignore[arg-type]
        self.did = did_key_for(self.secret.public_key)
        self.method = verification_method_id(self.secret.public_key)
        self.key = KeyFile(id=self.method, controller=self.did, secret_key=self.secret)


def consumption_credential(party: Party, created: str, kind: str = "EnergyConsumptionCredential") -> dict[str, Any]:
    """A small Perseus-typed credential signed by `party` with the proof time `created`."""
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/perseus/credentials/v1"],
        "type": ["VerifiableCredential", kind],
        "issuer": party.did,
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:sme-brightwater-studio"},
    }
    return sign_document(document, party.key, created=created)


def entity(party: Party, entity_id: str, roles: list[dict[str, Any]], *, key_from: str = "2023-01-01T00:00:00Z",
           key_until: str | None = None, name: str = "Example Energy Ltd") -> dict[str, Any]:
    identifier: dict[str, Any] = {"type": "Did", "did": party.did, "validFrom": key_from}
    if key_until:
        identifier["validUntil"] = key_until
    return {"id": entity_id, "legalName": name, "assuranceLevel": "Level2", "identifiers": [identifier], "roles": roles}


def role(url: str = EDP_ROLE, start: str = "2023-01-01T00:00:00Z", end: str | None = None,
         history: list[dict[str, Any]] | None = None, framework: str = CORE) -> dict[str, Any]:
    out: dict[str, Any] = {"framework": framework, "role": url, "validFrom": start,
                           "history": [{"status": "active", "from": start, "reason": "granted", "recorded": start}] + (history or [])}
    if end:
        out["validUntil"] = end
    return out


def snapshot(operator: Party, entities: list[dict[str, Any]], *, sequence: int = 1, issued: str = "2024-06-01T00:00:00Z",
             next_update: str = "2024-06-02T00:00:00Z", previous_digest: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": SNAPSHOT_CONTEXT,
        "type": "TrustRegistrySnapshot",
        "registry": "https://registry.example/perseus",
        "sequence": sequence,
        "issued": issued,
        "nextUpdate": next_update,
        "frameworks": [CORE],
        "entities": entities,
    }
    if previous_digest:
        doc["previousDigest"] = previous_digest
    return sign_snapshot(doc, operator.secret, created=utc(issued))


@pytest.fixture(scope="module")
def operator() -> Party:
    return Party()


@pytest.fixture(scope="module")
def edp() -> Party:
    return Party()


@pytest.fixture(scope="module")
def make_party() -> Callable[..., Party]:
    return Party
