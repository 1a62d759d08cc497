"""The accreditation check and snapshot verification: every failure mode has its own code and reason."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from perseus.issuer.keyfile import KeyFile
from perseus.issuer.signing import sign_document
from perseus.verifier.jsonld import expand
from perseus.verifier.loader import DocumentLoader
from perseus.verifier.proofs import verify_proofs
from perseus.verifier.registry_snapshot import (
    RegistryState,
    TrustAnchor,
    canonical_json,
    load_snapshot,
    snapshot_digest,
    verify_chain,
)
from perseus.verifier.verify import verify_credential

from registry_helpers import CAP_ROLE, NEW_EDP_ROLE, Party, consumption_credential, entity, role, snapshot, utc, edp, make_party, operator  # noqa: F401 (fixtures)

NOW = utc("2024-06-01T12:00:00Z")
SIGNED_AT = "2024-05-01T09:00:00Z"
EDP_ID = "https://directory.core.trust.ib1.org/m/example-edp"


def check(operator: Party, credential: dict, snap: dict, **options):
    registry = load_snapshot(json.dumps(snap), trust_anchor=operator.did, now=options.pop("now", NOW), **options)
    result = verify_credential(credential, registry=registry, now=NOW)
    return result, next(c for c in result.checks if c.check == "accreditation")


def codes(accreditation) -> set[str]:
    return {p.code for p in accreditation.problems}


def test_accredited_issuer_passes_and_report_names_snapshot_and_claim(operator: Party, edp: Party) -> None:
    snap = snapshot(operator, [entity(edp, EDP_ID, [role()])])
    result, acc = check(operator, consumption_credential(edp, SIGNED_AT), snap)
    assert result.verified, result.report()
    assert acc.outcome == "passed"
    report = result.report()
    assert "registry snapshot #1 issued 2024-06-01T00:00:00Z" in report
    assert "signer's own claim" in report
    assert acc.details["snapshot"]["sequence"] == 1 and acc.details["createdIsSignerClaim"] is True
    assert acc.details["decisions"][0]["entity"] == EDP_ID


def test_unaccredited_issuer(operator: Party, edp: Party, make_party) -> None:
    stranger = make_party()
    snap = snapshot(operator, [entity(edp, EDP_ID, [role()])])
    result, acc = check(operator, consumption_credential(stranger, SIGNED_AT), snap)
    assert not result.verified
    assert codes(acc) == {"REGISTRY_ENTITY_NOT_FOUND"}
    assert stranger.did in acc.problems[0].detail


def test_role_never_held(operator: Party, edp: Party) -> None:
    snap = snapshot(operator, [entity(edp, EDP_ID, [role(CAP_ROLE)])])
    _, acc = check(operator, consumption_credential(edp, SIGNED_AT), snap)
    assert codes(acc) == {"REGISTRY_ROLE_NEVER_HELD"}
    assert "carbon-accounting-provider" in acc.problems[0].detail  # names the roles it does hold


def test_emissions_report_needs_the_carbon_accounting_role(operator: Party, edp: Party) -> None:
    snap = snapshot(operator, [entity(edp, EDP_ID, [role()])])
    _, acc = check(operator, consumption_credential(edp, SIGNED_AT, "EmissionsReportCredential"), snap)
    assert codes(acc) == {"REGISTRY_ROLE_NEVER_HELD"}
    snap = snapshot(operator, [entity(edp, EDP_ID, [role(CAP_ROLE)])])
    _, acc = check(operator, consumption_credential(edp, SIGNED_AT, "EmissionsReportCredential"), snap)
    assert acc.outcome == "passed"


def test_newer_role_names_are_accepted_by_configuration(operator: Party, edp: Party) -> None:
    snap = snapshot(operator, [entity(edp, EDP_ID, [role(NEW_EDP_ROLE)])])
    _, acc = check(operator, consumption_credential(edp, SIGNED_AT, "TariffCredential"), snap)
    assert acc.outcome == "passed", acc.problems


def test_role_granted_after_issue(operator: Party, edp: Party) -> None:
    snap = snapshot(operator, [entity(edp, EDP_ID, [role(start="2024-05-15T00:00:00Z")])])
    _, acc = check(operator, consumption_credential(edp, SIGNED_AT), snap)
    assert codes(acc) == {"REGISTRY_ROLE_NOT_YET_GRANTED"}
    assert "2024-05-15T00:00:00Z" in acc.problems[0].detail and SIGNED_AT in acc.problems[0].detail


def test_role_expired_before_issue(operator: Party, edp: Party) -> None:
    snap = snapshot(operator, [entity(edp, EDP_ID, [role(end="2024-04-01T00:00:00Z")])])
    _, acc = check(operator, consumption_credential(edp, SIGNED_AT), snap)
    assert codes(acc) == {"REGISTRY_ROLE_ENDED"}


def test_signed_while_accredited_keeps_verifying_after_the_role_ends(operator: Party, edp: Party) -> None:
    snap = snapshot(operator, [entity(edp, EDP_ID, [role(end="2024-05-10T00:00:00Z")])])
    _, acc = check(operator, consumption_credential(edp, SIGNED_AT), snap)
    assert acc.outcome == "passed"


def test_suspended_at_issue_time_and_reinstated_later(operator: Party, edp: Party) -> None:
    history = [
        {"status": "suspended", "from": "2024-04-15T00:00:00Z", "reason": "failed audit", "recorded": "2024-04-15T00:00:00Z"},
        {"status": "active", "from": "2024-05-20T00:00:00Z", "reason": "audit passed", "recorded": "2024-05-20T00:00:00Z"},
    ]
    snap = snapshot(operator, [entity(edp, EDP_ID, [role(history=history)])])
    _, acc = check(operator, consumption_credential(edp, SIGNED_AT), snap)
    assert codes(acc) == {"REGISTRY_ROLE_SUSPENDED"}
    assert "failed audit" in acc.problems[0].detail
    _, after = check(operator, consumption_credential(edp, "2024-05-25T00:00:00Z"), snap)
    assert after.outcome == "passed"


def test_revocation_for_cause_voids_from_its_time_on(operator: Party, edp: Party) -> None:
    history = [{"status": "revoked", "from": "2024-04-01T00:00:00Z", "reason": "key compromise", "recorded": "2024-05-30T00:00:00Z"}]
    snap = snapshot(operator, [entity(edp, EDP_ID, [role(end="2024-04-20T00:00:00Z", history=history)])])
    _, acc = check(operator, consumption_credential(edp, SIGNED_AT), snap)
    assert codes(acc) == {"REGISTRY_ROLE_REVOKED"}
    _, before = check(operator, consumption_credential(edp, "2024-03-01T00:00:00Z"), snap)
    assert before.outcome == "passed"


def test_key_rotated_out_before_issue(operator: Party, edp: Party) -> None:
    snap = snapshot(operator, [entity(edp, EDP_ID, [role()], key_until="2024-04-01T00:00:00Z")])
    _, acc = check(operator, consumption_credential(edp, SIGNED_AT), snap)
    assert codes(acc) == {"REGISTRY_KEY_NOT_VALID"}
    assert "2024-04-01T00:00:00Z" in acc.problems[0].detail


def test_stale_snapshot_and_grace(operator: Party, edp: Party) -> None:
    snap = snapshot(operator, [entity(edp, EDP_ID, [role()])])
    credential = consumption_credential(edp, SIGNED_AT)
    _, acc = check(operator, credential, snap, now=utc("2024-06-03T00:00:00Z"))
    assert codes(acc) == {"REGISTRY_SNAPSHOT_STALE"}
    _, acc = check(operator, credential, snap, now=utc("2024-06-03T00:00:00Z"), grace=timedelta(days=2))
    assert acc.outcome == "passed"


def test_snapshot_signed_by_the_wrong_key(operator: Party, edp: Party, make_party) -> None:
    impostor = make_party()
    snap = snapshot(impostor, [entity(edp, EDP_ID, [role()])])
    _, acc = check(operator, consumption_credential(edp, SIGNED_AT), snap)
    assert codes(acc) == {"REGISTRY_SNAPSHOT_UNTRUSTED_KEY"}
    assert impostor.did in acc.problems[0].detail


def test_snapshot_altered_after_signing(operator: Party, edp: Party, make_party) -> None:
    snap = snapshot(operator, [entity(edp, EDP_ID, [role(end="2024-04-01T00:00:00Z")])])
    del snap["entities"][0]["roles"][0]["validUntil"]  # someone "extends" the role
    _, acc = check(operator, consumption_credential(edp, SIGNED_AT), snap)
    assert codes(acc) == {"REGISTRY_SNAPSHOT_SIGNATURE_INVALID"}


def test_no_trust_anchor_is_refused(operator: Party, edp: Party) -> None:
    snap = snapshot(operator, [entity(edp, EDP_ID, [role()])])
    registry = load_snapshot(snap, trust_anchor=None, now=NOW)
    assert [p.code for p in registry.problems] == ["REGISTRY_NO_TRUST_ANCHOR"]


def test_rolled_back_snapshot(operator: Party, edp: Party) -> None:
    entities = [entity(edp, EDP_ID, [role()])]
    first = snapshot(operator, entities, sequence=4)
    second = snapshot(operator, entities, sequence=5, previous_digest=snapshot_digest(first))
    state = RegistryState()
    for snap in (first, second):
        loaded = load_snapshot(snap, trust_anchor=operator.did, now=NOW, state=state)
        assert loaded.usable, loaded.problems
        state.accept(loaded)
    _, acc = check(operator, consumption_credential(edp, SIGNED_AT), first, state=state)
    assert codes(acc) == {"REGISTRY_SNAPSHOT_ROLLED_BACK"}
    assert "#5" in acc.problems[0].detail


def test_broken_chain(operator: Party, edp: Party, tmp_path) -> None:
    entities = [entity(edp, EDP_ID, [role()])]
    first = snapshot(operator, entities, sequence=1)
    state = RegistryState()
    state.accept(load_snapshot(first, trust_anchor=operator.did, now=NOW))
    path = tmp_path / "state.json"
    state.save(path)
    state = RegistryState.load(path)
    wrong = snapshot(operator, entities, sequence=2, previous_digest=snapshot_digest(snapshot(operator, [], sequence=1)))
    _, acc = check(operator, consumption_credential(edp, SIGNED_AT), wrong, state=state)
    assert codes(acc) == {"REGISTRY_SNAPSHOT_CHAIN_BROKEN"}
    fork = snapshot(operator, [], sequence=1)  # same sequence, other contents
    assert {p.code for p in load_snapshot(fork, trust_anchor=operator.did, now=NOW, state=state).problems} == {"REGISTRY_SNAPSHOT_CHAIN_BROKEN"}
    right = snapshot(operator, entities, sequence=2, previous_digest=snapshot_digest(first))
    assert load_snapshot(right, trust_anchor=operator.did, now=NOW, state=state).usable
    assert load_snapshot(right, trust_anchor=operator.did, now=NOW, previous=first).usable
    assert not load_snapshot(wrong, trust_anchor=operator.did, now=NOW, previous=first).usable
    assert verify_chain([first, right]) == []
    assert [p.code for p in verify_chain([first, wrong])] == ["REGISTRY_SNAPSHOT_CHAIN_BROKEN"]
    gap = snapshot(operator, entities, sequence=7, previous_digest=snapshot_digest(right))
    loaded = load_snapshot(gap, trust_anchor=operator.did, now=NOW, state=state)
    assert loaded.usable and "not checked" in loaded.notes[0]


def test_malformed_snapshot_is_a_reason_not_a_crash(operator: Party, edp: Party) -> None:
    for text in ("not json", "[]", json.dumps({"type": "TrustRegistrySnapshot", "sequence": -1})):
        registry = load_snapshot(text, trust_anchor=operator.did, now=NOW)
        assert [p.code for p in registry.problems] == ["REGISTRY_SNAPSHOT_MALFORMED"]
        result = verify_credential(consumption_credential(edp, SIGNED_AT), registry=registry, now=NOW)
        assert not result.verified


def test_generic_data_integrity_verifier_accepts_the_snapshot_proof(operator: Party, edp: Party) -> None:
    snap = snapshot(operator, [entity(edp, EDP_ID, [role()])])
    outcomes = verify_proofs(snap, loader=DocumentLoader())
    assert [o.verified for o in outcomes] == [True], [o.problems for o in outcomes]
    expand(snap, DocumentLoader(), strict=True)  # every term defined: valid JSON-LD in strict mode


def test_p256_operator_key(make_party, edp: Party) -> None:
    operator = make_party("P-256")
    snap = snapshot(operator, [entity(edp, EDP_ID, [role()])])
    assert snap["proof"]["cryptosuite"] == "ecdsa-jcs-2019"
    assert load_snapshot(snap, trust_anchor=operator.did, now=NOW).usable
    assert [o.verified for o in verify_proofs(snap, loader=DocumentLoader())] == [True]


def test_did_web_resolves_offline_through_the_snapshot(operator: Party, edp: Party, make_party) -> None:
    old, new = make_party(), make_party()
    did = "did:web:edp.example"
    document = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [
            {"id": f"{did}#key-1", "type": "Multikey", "controller": did, "publicKeyMultibase": old.secret.public_key.multibase()},
            {"id": f"{did}#key-2", "type": "Multikey", "controller": did, "publicKeyMultibase": new.secret.public_key.multibase()},
        ],
        "assertionMethod": [f"{did}#key-1", f"{did}#key-2"],
    }
    identifier = {"type": "Did", "did": did, "validFrom": "2023-01-01T00:00:00Z", "didDocument": document,
                  "verificationMethods": [{"id": f"{did}#key-1", "validFrom": "2023-01-01T00:00:00Z", "validUntil": "2024-03-01T00:00:00Z"},
                                          {"id": f"{did}#key-2", "validFrom": "2024-03-01T00:00:00Z"}]}
    ent = {"id": EDP_ID, "legalName": "Web EDP Ltd", "identifiers": [identifier], "roles": [role()]}
    snap = snapshot(operator, [ent])
    registry = load_snapshot(snap, trust_anchor=operator.did, now=NOW)

    def signed_with(party: Party, fragment: str, created: str) -> dict:
        body = {"@context": ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/perseus/credentials/v1"],
                "type": ["VerifiableCredential", "EnergyConsumptionCredential"], "issuer": did,
                "credentialSubject": {"id": "did:example:sme"}}
        return sign_document(body, KeyFile(id=f"{did}#{fragment}", controller=did, secret_key=party.secret), created=created)

    good = verify_credential(signed_with(new, "key-2", SIGNED_AT), registry=registry, now=NOW)
    assert good.verified, good.report()
    rotated = verify_credential(signed_with(old, "key-1", SIGNED_AT), registry=registry, now=NOW)
    acc = next(c for c in rotated.checks if c.check == "accreditation")
    assert codes(acc) == {"REGISTRY_KEY_NOT_VALID"} and "key-1" in acc.problems[0].detail
    # without the registry, did:web cannot be resolved at all (offline by construction)
    assert not verify_credential(signed_with(new, "key-2", SIGNED_AT), now=NOW).verified


def test_without_a_registry_nothing_changes_unless_asked(edp: Party) -> None:
    credential = consumption_credential(edp, SIGNED_AT)
    plain = verify_credential(credential, now=NOW)
    assert "accreditation" not in [c.check for c in plain.checks]
    asked = verify_credential(credential, now=NOW, checks={"proof", "issuer", "accreditation"})
    acc = next(c for c in asked.checks if c.check == "accreditation")
    assert acc.outcome == "skipped" and "not checked" in acc.summary and asked.verified


def test_trust_anchor_forms(operator: Party, tmp_path) -> None:
    key_file = tmp_path / "operator.json"
    key_file.write_text(json.dumps({"publicKeyMultibase": operator.secret.public_key.multibase()}))
    for value in (operator.did, operator.method, operator.secret.public_key.multibase(), str(key_file)):
        assert TrustAnchor.parse(value).trusts(operator.secret.public_key)
    with pytest.raises(Exception, match="trust anchor"):
        TrustAnchor.parse("did:web:example.com")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=6), json_values, max_size=5))
def test_fast_canonical_json_is_rfc8785(document: dict) -> None:
    try:
        expected = rfc8785.dumps(document)
    except Exception:  # lone surrogates: both must refuse
        with pytest.raises(Exception):
            canonical_json(document)
        return
    assert canonical_json(document) == expected


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(max_size=6), json_values, max_size=5))
def test_fast_canonical_json_without_orjson_is_rfc8785(document: dict) -> None:
    import perseus.verifier.registry_snapshot as module

    saved, module._orjson = module._orjson, None
    try:
        try:
            expected = rfc8785.dumps(document)
        except Exception:
            with pytest.raises(Exception):
                canonical_json(document)
            return
        assert canonical_json(document) == expected
    finally:
        module._orjson = saved


def test_snapshot_with_floats_and_astral_text_still_verifies(operator: Party, edp: Party) -> None:
    ent = entity(edp, EDP_ID, [role()], name="Ünïcode 🌿 Energy Ltd")
    ent["score"] = 1.5e21  # JCS writes 1.5e+21; a fast serializer might not: the verifier must retry with rfc8785
    snap = snapshot(operator, [ent])
    registry = load_snapshot(json.dumps(snap), trust_anchor=operator.did, now=NOW)
    assert registry.usable, registry.problems
    assert registry.digest == snapshot_digest(snap)
    tampered = json.loads(json.dumps(snap))
    tampered["entities"][0]["score"] = 1.6e21
    assert not load_snapshot(json.dumps(tampered), trust_anchor=operator.did, now=NOW).usable


def test_a_malformed_entity_makes_the_snapshot_unusable(operator: Party, edp: Party) -> None:
    snap = snapshot(operator, [entity(edp, EDP_ID, [role()]), "not an entity"])  # type: ignore[list-item]
    registry = load_snapshot(snap, trust_anchor=operator.did, now=NOW)
    assert [p.code for p in registry.problems] == ["REGISTRY_SNAPSHOT_MALFORMED"] and "entity 2" in registry.problems[0].detail
    result = verify_credential(consumption_credential(edp, SIGNED_AT), registry=registry, now=NOW)
    assert not result.verified


def test_a_credential_signed_after_the_snapshot_says_so(operator: Party, edp: Party) -> None:
    snap = snapshot(operator, [entity(edp, EDP_ID, [role()])])
    _, acc = check(operator, consumption_credential(edp, "2024-06-01T06:00:00Z"), snap)
    assert acc.outcome == "passed" and "after the snapshot was issued" in acc.details["note"]
