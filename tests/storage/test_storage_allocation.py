"""Random status index allocation: never twice, within the list, lists closed when full (both engines)."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from perseus.issuer.storage import DuplicateCredentialError, StatusListPolicy, Storage, open_storage
from perseus.issuer.storage.schema import status_allocations, status_lists
from perseus_storage_fixtures import db_url, storage  # noqa: F401 - fixtures
from sqlalchemy import func, select, text

ISSUER = "did:web:energy.example"
_profiles = itertools.count()


def allocations(storage: Storage, profile: str) -> list[tuple[str, int, str, str]]:
    """Every allocation of a profile, read straight from the tables: (list, index, credential, purpose)."""
    with storage._engine.connect() as conn:
        rows = conn.execute(
            select(status_allocations.c.list_id, status_allocations.c.idx, status_allocations.c.credential_id, status_allocations.c.purpose)
            .join(status_lists, status_lists.c.list_id == status_allocations.c.list_id)
            .where(status_lists.c.profile_id == profile)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def check_invariants(storage: Storage, profile: str) -> None:
    rows = allocations(storage, profile)
    positions = [(list_id, idx) for list_id, idx, _, _ in rows]
    assert len(positions) == len(set(positions)), "an index was allocated twice"
    assert len({(c, p) for _, _, c, p in rows}) == len(rows), "a credential got two positions for one purpose"
    lists = {r.list_id: r for r in storage.list_status_lists(profile)}
    per_list = Counter(list_id for list_id, _ in positions)
    for list_id, idx, _, purpose in rows:
        assert 0 <= idx < lists[list_id].length
        assert lists[list_id].purpose == purpose
    for listing in lists.values():
        assert per_list[listing.list_id] <= listing.length
        if listing.state == "full":  # closed only once it reached its fill limit
            assert per_list[listing.list_id] >= storage.policy.capacity or per_list[listing.list_id] == listing.length
    open_lists = Counter(listing.purpose for listing in lists.values() if listing.state == "open")
    assert all(count == 1 for count in open_lists.values())


@pytest.mark.parametrize(("length", "fill_limit"), [(8, 1.0), (16, 0.875), (64, 0.5)])
def test_allocation_invariants_hold_for_any_sequence_of_requests(db_url: str, length: int, fill_limit: float) -> None:
    storage = open_storage(db_url, status_policy=StatusListPolicy(length=length, fill_limit=fill_limit, allow_short=True))

    # Each step names a credential (repeats are retries) and whether the service then saves it.
    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(st.tuples(st.integers(0, 40), st.booleans()), min_size=1, max_size=50))
    def run(steps: list[tuple[int, bool]]) -> None:
        profile = f"p{next(_profiles)}"
        storage.create_profile(profile, issuer=ISSUER, suites=["eddsa-rdfc-2022"])
        first_seen: dict[str, object] = {}
        issued: set[str] = set()
        for number, save in steps:
            credential_id = f"urn:{profile}:{number}"
            if credential_id in issued:
                with pytest.raises(DuplicateCredentialError):
                    storage.reserve_status(profile, credential_id)
                continue
            reservation = storage.reserve_status(profile, credential_id)
            assert first_seen.setdefault(credential_id, reservation.entries) == reservation.entries
            if save:
                storage.save_issued(reservation, {"id": credential_id})
                issued.add(credential_id)
        check_invariants(storage, profile)
        distinct = len(first_seen)
        assert len(allocations(storage, profile)) == 2 * distinct

    try:
        run()
    finally:
        storage.close()


def test_a_list_that_is_completely_full_gives_way_to_the_next(db_url: str) -> None:
    """fill_limit 1.0 on a 16-entry list: the last entries are found through the free-index path."""
    with open_storage(db_url, status_policy=StatusListPolicy(length=16, fill_limit=1.0, allow_short=True)) as storage:
        storage.create_profile("full", issuer=ISSUER, suites=["eddsa-rdfc-2022"])
        first = [storage.reserve_status("full", f"urn:full:{n}", purposes=["revocation"]).entries[0] for n in range(16)]
        assert len({e.list_id for e in first}) == 1
        assert sorted(e.index for e in first) == list(range(16))  # every slot, each once
        seventeenth = storage.reserve_status("full", "urn:full:16", purposes=["revocation"]).entries[0]
        assert seventeenth.list_id != first[0].list_id
        states = {s.list_id: (s.state, s.seq) for s in storage.list_status_lists("full")}
        assert states == {first[0].list_id: ("full", 1), seventeenth.list_id: ("open", 2)}


def test_a_full_size_list_is_closed_at_seven_eighths(db_url: str) -> None:
    """A real 131,072-entry list whose first 7/8 are taken: new credentials move to list 2."""
    with open_storage(db_url) as storage:
        storage.create_profile("big", issuer=ISSUER, suites=["eddsa-rdfc-2022"])
        list_id = storage.reserve_status("big", "urn:big:seed", purposes=["revocation"]).entries[0].list_id
        capacity = storage.policy.capacity
        assert capacity == 114_688
        with storage._engine.begin() as conn:
            conn.execute(text("DELETE FROM perseus_status_allocations"))
            # Fill indices 0 … capacity-1 (the same SQL on both engines).
            conn.execute(
                text(
                    "INSERT INTO perseus_status_allocations (list_id, idx, credential_id, purpose, allocated_at) "
                    "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :last) "
                    "SELECT :list_id, i, 'urn:fill:' || i, 'revocation', :now FROM n"
                ),
                {"last": capacity - 1, "list_id": list_id, "now": "2025-01-01T00:00:00.000000Z" if storage.dialect == "sqlite" else "2025-01-01T00:00:00Z"},
            )
        later = [storage.reserve_status("big", f"urn:big:{n}", purposes=["revocation"]).entries[0] for n in range(60)]
        lists = {s.list_id: s for s in storage.list_status_lists("big")}
        assert lists[list_id].state == "full"
        assert len(lists) == 2
        (second,) = [s for s in lists.values() if s.list_id != list_id]
        assert (second.seq, second.state, second.length) == (2, "open", 131_072)
        assert later[-1].list_id == second.list_id
        in_first = [e.index for e in later if e.list_id == list_id]
        assert all(i >= capacity for i in in_first)  # only free slots were taken in the old list
        with storage._engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(status_allocations)).scalar_one()
        assert total == capacity + 60


@pytest.mark.parametrize("bad", [{"length": 1000}, {"length": 131_071}, {"length": 65_536}, {"fill_limit": 0.25}, {"fill_limit": 1.5}])
def test_policies_below_the_specification_minimum_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        StatusListPolicy(**bad)  # type: ignore[arg-type]
    assert StatusListPolicy(length=262_144).capacity == 229_376
