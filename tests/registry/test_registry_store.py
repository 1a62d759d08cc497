"""The registry's storage on SQLite and PostgreSQL: changes, history, audit, snapshots, the IB1 import."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from perseus.issuer.storage.testing import postgres_test_url, postgres_unavailable_reason, temporary_schema
from perseus.registry.errors import ConflictError, InvalidInputError, NotFoundError
from perseus.registry.ib1_import import import_members_with_role
from perseus.registry.snapshot_diff import diff_snapshots
from perseus.registry.storage.store import RegistrySettings, RegistryStore
from perseus.verifier.registry_snapshot import RegistryState, load_snapshot, verify_chain
from perseus.verifier.verify import verify_credential

from registry_helpers import CORE, EDP_ROLE, Party, consumption_credential, utc, edp, make_party, operator  # noqa: F401 (fixtures)

DATA = Path(__file__).parent / "data"
SANDBOX = "https://registry.core.sandbox.trust.ib1.org/trust-framework"
SANDBOX_EDP = "https://registry.core.sandbox.trust.ib1.org/scheme/perseus/role/energy-data-provider"
EDP_ID = "https://directory.core.trust.ib1.org/m/example-edp"
SETTINGS = RegistrySettings("https://registry.example/perseus", (CORE, SANDBOX), timedelta(days=3650))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request, tmp_path, operator: Party) -> Iterator[RegistryStore]:
    if request.param == "sqlite":
        s = RegistryStore(f"sqlite:///{tmp_path / 'registry.db'}", signer=operator.secret, settings=SETTINGS)
        s.initialise(SETTINGS, actor="test")
        yield s
        s.close()
        return
    url = postgres_test_url()
    reason = postgres_unavailable_reason(url)
    if reason:
        pytest.skip(reason)
    with temporary_schema(url, "perseus_registry_test") as schema:
        s = RegistryStore(url, signer=operator.secret, settings=SETTINGS, schema=schema)
        s.initialise(SETTINGS, actor="test")
        yield s
        s.close()


def snapshots(store: RegistryStore) -> list[dict]:
    latest = store.latest_snapshot_text()
    assert latest is not None
    return [json.loads(store.snapshot_text(n)[2]) for n in range(latest[0] + 1)]  # type: ignore[index]


def test_every_change_is_audited_and_followed_by_a_chained_signed_snapshot(store: RegistryStore, operator: Party, edp: Party) -> None:
    store.add_entity(EDP_ID, "Example Energy Ltd", assurance_level="Level2", dids=[(edp.did, utc("2023-01-01T00:00:00Z"), None)],
                     actor="alice", reason="onboarding")
    store.grant(EDP_ID, CORE, EDP_ROLE, valid_from=utc("2023-01-01T00:00:00Z"), actor="alice", reason="membership approved")
    store.set_status(EDP_ID, CORE, EDP_ROLE, "suspended", effective=utc("2024-03-01T00:00:00Z"), actor="bob", reason="failed audit")
    chain = snapshots(store)
    assert [s["sequence"] for s in chain] == [0, 1, 2, 3]
    assert verify_chain(chain) == []
    state = RegistryState()
    for snap in chain:
        loaded = load_snapshot(json.dumps(snap), trust_anchor=operator.did, state=state)
        assert loaded.usable, loaded.problems
        state.accept(loaded)
    log = store.audit_log()
    assert [(e["actor"], e["action"], e["reason"], e["snapshot"]) for e in log[:3]] == [
        ("bob", "suspend", "failed audit", 3), ("alice", "grant", "membership approved", 2), ("alice", "add-entity", "onboarding", 1)]
    registry = load_snapshot(json.dumps(chain[-1]), trust_anchor=operator.did)
    before = verify_credential(consumption_credential(edp, "2024-01-10T00:00:00Z"), registry=registry)
    during = verify_credential(consumption_credential(edp, "2024-04-10T00:00:00Z"), registry=registry)
    assert before.verified, before.report()
    assert "REGISTRY_ROLE_SUSPENDED" in {p.code for p in during.errors}
    diff = "\n".join(diff_snapshots(chain[1], chain[3]))
    assert "granted energy-data-provider" in diff and "was suspended from 2024-03-01T00:00:00Z: failed audit" in diff


def test_a_refused_change_leaves_nothing_behind(store: RegistryStore, edp: Party) -> None:
    before = store.latest_snapshot_text()
    with pytest.raises(NotFoundError, match="add it first"):
        store.grant("https://example.com/m/nobody", CORE, EDP_ROLE, valid_from=utc("2024-01-01T00:00:00Z"), actor="a", reason="r")
    with pytest.raises(InvalidInputError, match="reason"):
        store.add_entity(EDP_ID, "Example", actor="a", reason=" ")
    with pytest.raises(InvalidInputError, match="did:web"):
        store.add_entity(EDP_ID, "Example", dids=[("did:web:example.com", utc("2024-01-01T00:00:00Z"), None)], actor="a", reason="r")
    assert store.latest_snapshot_text() == before
    assert store.entities() == []
    assert [e["action"] for e in store.audit_log()] == ["init"]


def test_conflicts_and_history(store: RegistryStore, edp: Party, make_party) -> None:
    store.add_entity(EDP_ID, "Example Energy Ltd", dids=[(edp.did, utc("2023-01-01T00:00:00Z"), None)], actor="a", reason="r")
    with pytest.raises(ConflictError):
        store.add_entity(EDP_ID, "Again", actor="a", reason="r")
    with pytest.raises(ConflictError, match="one entity"):
        store.add_did(EDP_ID, edp.did, valid_from=utc("2023-01-01T00:00:00Z"), actor="a", reason="r")
    store.grant(EDP_ID, CORE, EDP_ROLE, valid_from=utc("2023-01-01T00:00:00Z"), actor="a", reason="r")
    with pytest.raises(ConflictError, match="already holds"):
        store.grant(EDP_ID, CORE, EDP_ROLE, valid_from=utc("2023-06-01T00:00:00Z"), actor="a", reason="r")
    store.end_role(EDP_ID, CORE, EDP_ROLE, at=utc("2024-01-01T00:00:00Z"), actor="a", reason="membership lapsed")
    store.grant(EDP_ID, CORE, EDP_ROLE, valid_from=utc("2024-06-01T00:00:00Z"), actor="a", reason="rejoined")
    new_key = make_party()
    store.retire_key(EDP_ID, edp.did, at=utc("2024-06-01T00:00:00Z"), actor="a", reason="rotation")
    store.add_did(EDP_ID, new_key.did, valid_from=utc("2024-06-01T00:00:00Z"), actor="a", reason="rotation")
    entity = store.entity(EDP_ID)
    assert [(r["validFrom"], r.get("validUntil")) for r in entity["roles"]] == [
        ("2023-01-01T00:00:00Z", "2024-01-01T00:00:00Z"), ("2024-06-01T00:00:00Z", None)]
    assert [(i["did"], i.get("validUntil")) for i in entity["identifiers"]] == [(edp.did, "2024-06-01T00:00:00Z"), (new_key.did, None)]


def test_ib1_import_builds_history_from_successive_answers(store: RegistryStore) -> None:
    first = json.loads((DATA / "ib1-members-with-role-2025-01.json").read_text())
    second = json.loads((DATA / "ib1-members-with-role-2025-02.json").read_text())
    report = import_members_with_role(store, first, role=SANDBOX_EDP, framework=SANDBOX, at=utc("2025-01-15T00:00:00Z"), actor="cron")
    assert any("added Brightgrid" in line for line in report.lines)
    again = import_members_with_role(store, first, role=SANDBOX_EDP, framework=SANDBOX, at=utc("2025-01-16T00:00:00Z"), actor="cron")
    assert again.changes == [] and "no changes" in again.lines[-1]
    import_members_with_role(store, second, role=SANDBOX_EDP, framework=SANDBOX, at=utc("2025-02-15T00:00:00Z"), actor="cron")
    by_id = {e["id"]: e for e in store.entities()}
    left = by_id["https://directory.core.sandbox.trust.ib1.org/m/f3n9wd"]
    edp_role = next(r for r in left["roles"] if r["role"] == SANDBOX_EDP)
    assert (edp_role["validFrom"], edp_role["validUntil"]) == ("2025-01-15T00:00:00Z", "2025-02-15T00:00:00Z")
    stayed = by_id["https://directory.core.sandbox.trust.ib1.org/m/k7p2xq"]
    assert sorted((r["role"].rsplit("/", 1)[-1], r.get("validUntil")) for r in stayed["roles"]) == [
        ("carbon-accounting-provider", None), ("energy-data-provider", None)]
    assert "https://directory.core.sandbox.trust.ib1.org/m/q8h4ra" in by_id
    assert store.audit_log()[0]["action"] == "import-ib1"
    with pytest.raises(InvalidInputError, match="members"):
        import_members_with_role(store, {"data": []}, role=SANDBOX_EDP, framework=SANDBOX, at=utc("2025-03-01T00:00:00Z"), actor="cron")
    with pytest.raises(InvalidInputError, match="not a role of"):
        import_members_with_role(store, first, role=EDP_ROLE, framework=SANDBOX, at=utc("2025-03-01T00:00:00Z"), actor="cron")


def test_bad_database_urls_are_one_sentence(tmp_path) -> None:
    for url, match in (("mysql://x/y", "unsupported"), ("sqlite://", "file"), (f"sqlite:///{tmp_path}/missing/r.db", "does not exist")):
        with pytest.raises(InvalidInputError, match=match):
            RegistryStore(url)
