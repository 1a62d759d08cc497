"""Any change to a signed field makes verification fail, for every suite and key type.

Hypothesis picks a field anywhere in a signed credential (including inside the proof) and changes or
deletes it; the credential must no longer verify. Not tampering, so not generated: reordering an array
(JSON-LD arrays are sets), and deleting a JCS proof's own `@context`, which the JCS suites define as a
copy of the document's (eddsa-jcs-2022 §3.3.2: the proof configuration takes the document's @context).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perseus.issuer.keyfile import generate_key_file
from perseus.issuer.signing import sign_document
from perseus.verifier.verify import verify_credential

SUITES = [
    ("Ed25519", "eddsa-rdfc-2022"),
    ("Ed25519", "eddsa-jcs-2022"),
    ("P-256", "ecdsa-rdfc-2019"),
    ("P-384", "ecdsa-rdfc-2019"),
    ("P-256", "ecdsa-jcs-2019"),
    ("P-384", "ecdsa-jcs-2019"),
]


def _credential(issuer: str) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:0b7f2a52-5d8e-4b61-9f3e-1f6c1d1f9a10",
        "type": ["VerifiableCredential", "ExampleMeterCredential"],
        "issuer": {"id": issuer, "name": "Example Energy Ltd"},
        "validFrom": "2025-01-01T00:00:00Z",
        "validUntil": "2099-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:sme-42",
            "meter": {"serial": "19L3012345", "halfHourly": True, "registers": 2},
            "reading": [
                {"start": "2025-01-01T00:00:00Z", "kwh": "0.412", "quality": "actual"},
                {"start": "2025-01-01T00:30:00Z", "kwh": "0.398", "quality": "estimated"},
            ],
            "note": "line one\nline \"two\"",
        },
    }


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = []
    if isinstance(value, dict):
        for k, v in value.items():
            out.append(path + (k,))
            out.extend(_paths(v, path + (k,)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.append(path + (i,))
            out.extend(_paths(v, path + (i,)))
    return out


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        doc = doc[p]
    return doc


def _changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, list):
        return value[:-1] if len(value) > 1 else value + ["x"]
    if isinstance(value, dict):
        return {**value, "tampered": "yes"}
    return "x"


@pytest.fixture(scope="module", params=SUITES, ids=lambda s: f"{s[1]}-{s[0]}")
def signed(request: pytest.FixtureRequest) -> dict[str, Any]:
    key_type, suite = request.param
    key = generate_key_file(key_type)
    document = sign_document(_credential(key.controller), key, suite=suite)
    assert verify_credential(document).verified
    return document


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_changing_any_field_breaks_verification(signed: dict[str, Any], data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(_paths(signed)))
    action = data.draw(st.sampled_from(["change", "delete"]))
    if path == ("proof", "@context"):
        action = "change"
    document = copy.deepcopy(signed)
    parent = _get(document, path[:-1])
    if action == "delete" and isinstance(parent, dict):
        del parent[path[-1]]
    elif action == "delete" and isinstance(parent, list) and len(parent) > 1:
        del parent[path[-1]]
    else:
        parent[path[-1]] = _changed(parent[path[-1]])
    result = verify_credential(document)
    assert not result.verified, f"{action} at {path} still verified"


def test_adding_a_proof_by_someone_else_does_not_make_it_the_issuers(signed: dict[str, Any]) -> None:
    stranger = generate_key_file("Ed25519")
    forged = copy.deepcopy(signed)
    forged["issuer"]["id"] = stranger.controller
    forged.pop("proof")
    resigned = sign_document(forged, stranger)
    original_issuer = signed["issuer"]["id"]
    resigned["issuer"]["id"] = original_issuer
    assert not verify_credential(resigned).verified
