"""Profiles, reservations, the issuance log and status changes, on both engines."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone

import pytest
from perseus.issuer.storage import (
    CredentialNotFoundError,
    DuplicateCredentialError,
    ProfileExistsError,
    ProfileNotFoundError,
    ReservedEntry,
    StatusChangeError,
    StatusListNotFoundError,
    StatusReservation,
    Storage,
    StorageError,
    open_storage,
)
from perseus.issuer.storage.schema import keys as keys_table
from perseus_storage_fixtures import db_url, storage  # noqa: F401 - fixtures
from sqlalchemy.exc import IntegrityError

ISSUER = "did:web:energy.example"


def bit(bits: bytes, index: int) -> int:
    """Bit ``index`` read as the specification draws it: index 0 is the left-most bit of the string."""
    return int.from_bytes(bits, "big") >> (len(bits) * 8 - 1 - index) & 1


@pytest.fixture
def profile(storage: Storage) -> str:
    storage.create_profile("energy", issuer=ISSUER, suites=["ecdsa-rdfc-2019"], name="Energy Co")
    return "energy"


def credential(credential_id: str) -> dict[str, object]:
    return {"id": credential_id, "issuer": ISSUER, "credentialSubject": {"kWh": "12.5", "note": "café ✓"}}


def issue(storage: Storage, profile: str, credential_id: str) -> StatusReservation:
    reservation = storage.reserve_status(profile, credential_id)
    storage.save_issued(reservation, credential(credential_id))
    return reservation


# -- profiles ---------------------------------------------------------------------------------------------


def test_profiles_are_created_listed_and_unique(storage: Storage, profile: str) -> None:
    record = storage.get_profile(profile)
    assert (record.issuer, record.suites, record.name) == (ISSUER, ("ecdsa-rdfc-2019",), "Energy Co")
    assert record.created_at.tzinfo is not None
    assert record.to_json() == {"id": "energy", "issuer": ISSUER, "suites": ["ecdsa-rdfc-2019"], "name": "Energy Co"}
    storage.create_profile("b-side", issuer="did:key:z6Mkabc", suites=["eddsa-rdfc-2022"])
    assert [p.profile_id for p in storage.list_profiles()] == ["b-side", "energy"]
    with pytest.raises(ProfileExistsError):
        storage.create_profile(profile, issuer=ISSUER, suites=["eddsa-rdfc-2022"])
    with pytest.raises(ProfileNotFoundError) as missing:
        storage.get_profile("nobody")
    assert missing.value.http_status == 404
    assert storage.set_profile_suites(profile, ["ecdsa-jcs-2019"]).suites == ("ecdsa-jcs-2019",)


@pytest.mark.parametrize("bad", ["", "has space", "a/b", "x" * 65, "-leading"])
def test_profile_ids_must_be_url_safe(storage: Storage, bad: str) -> None:
    with pytest.raises(StorageError, match="profile id"):
        storage.create_profile(bad, issuer=ISSUER, suites=["eddsa-rdfc-2022"])


def test_reserving_for_an_unknown_profile_fails(storage: Storage) -> None:
    with pytest.raises(ProfileNotFoundError):
        storage.reserve_status("nobody", "urn:uuid:1")


# -- reservations and the issuance log --------------------------------------------------------------------------


def test_a_reservation_has_one_position_per_purpose_in_separate_lists(storage: Storage, profile: str) -> None:
    reservation = storage.reserve_status(profile, "urn:uuid:a")
    assert [e.purpose for e in reservation.entries] == ["revocation", "suspension"]
    revocation, suspension = (storage.get_status_list(e.list_id) for e in reservation.entries)
    assert revocation.list_id != suspension.list_id
    assert (revocation.purpose, suspension.purpose) == ("revocation", "suspension")
    for entry, listing in zip(reservation.entries, (revocation, suspension)):
        assert listing.length == 131_072 and len(listing.bits) == 131_072 // 8
        assert 0 <= entry.index < listing.length
        assert listing.issuer == ISSUER and listing.version == 0 and listing.state == "open"
    assert reservation.issuer == ISSUER
    assert reservation.key_id is None  # this profile has no key yet


def test_indices_are_not_handed_out_in_order(storage: Storage, profile: str) -> None:
    indices = [storage.reserve_status(profile, f"urn:uuid:{n}").entry("revocation").index for n in range(40)]
    assert len(set(indices)) == 40
    # 40 increasing draws out of 131,072 happen with probability 1/40! — i.e. never, unless ordered.
    assert indices != sorted(indices)
    # and they spread over the whole list rather than a prefix of it
    assert max(indices) > 131_072 // 2


def test_reserving_again_before_issuing_returns_the_same_positions(storage: Storage, profile: str) -> None:
    first = storage.reserve_status(profile, "urn:uuid:retry")
    second = storage.reserve_status(profile, "urn:uuid:retry")
    assert first == second
    partial = storage.reserve_status(profile, "urn:uuid:retry", purposes=["suspension"])
    assert partial.entries == (first.entry("suspension"),)


def test_saved_credentials_come_back_byte_for_byte(storage: Storage, profile: str) -> None:
    reservation = storage.reserve_status(profile, "urn:uuid:keep")
    text = json.dumps(credential("urn:uuid:keep"), ensure_ascii=False, indent=1)
    when = datetime(2025, 3, 1, 12, 30, 5, 123456, tzinfo=timezone.utc)
    assert storage.save_issued(reservation, text, issued_at=when) == when
    issued = storage.get_issued("urn:uuid:keep")
    assert issued.credential_json == text
    assert issued.credential == credential("urn:uuid:keep")
    assert issued.issued_at == when
    assert set(issued.entries) == set(reservation.entries)
    assert issued.status == {"revocation": False, "suspension": False}
    assert (issued.profile_id, issued.issuer) == (profile, ISSUER)
    assert storage.count_issued() == storage.count_issued(profile) == 1


def test_a_credential_id_is_issued_only_once(storage: Storage, profile: str) -> None:
    reservation = issue(storage, profile, "urn:uuid:once")
    with pytest.raises(DuplicateCredentialError) as twice:
        storage.save_issued(reservation, credential("urn:uuid:once"))
    assert twice.value.http_status == 409
    with pytest.raises(DuplicateCredentialError):
        storage.reserve_status(profile, "urn:uuid:once")
    assert storage.count_issued() == 1


def test_saving_needs_a_real_reservation(storage: Storage, profile: str) -> None:
    real = storage.reserve_status(profile, "urn:uuid:real")
    forged = StatusReservation(profile, "urn:uuid:real", ISSUER, None, (ReservedEntry("revocation", real.entries[0].list_id, (real.entries[0].index + 1) % 131_072),))
    with pytest.raises(StorageError, match="no reservation"):
        storage.save_issued(forged, credential("urn:uuid:real"))
    with pytest.raises(CredentialNotFoundError):
        storage.get_issued("urn:uuid:real")


def test_unknown_credentials_and_lists_are_reported(storage: Storage, profile: str) -> None:
    with pytest.raises(CredentialNotFoundError) as missing:
        storage.get_issued("urn:uuid:never")
    assert "urn:uuid:never" in missing.value.message
    with pytest.raises(StatusListNotFoundError):
        storage.get_status_list("0000")


def test_records_survive_closing_and_reopening(db_url: str) -> None:
    with open_storage(db_url) as first:
        first.create_profile("p", issuer=ISSUER, suites=["eddsa-rdfc-2022"])
        reservation = issue(first, "p", "urn:uuid:durable")
    with open_storage(db_url) as second:
        assert second.get_issued("urn:uuid:durable").entries == tuple(sorted(reservation.entries, key=lambda e: e.purpose))


# -- status changes ----------------------------------------------------------------------------------------------


def test_revocation_sets_the_bit_bumps_the_version_and_is_final(storage: Storage, profile: str) -> None:
    reservation = issue(storage, profile, "urn:uuid:rev")
    entry = reservation.entry("revocation")
    change = storage.set_status("urn:uuid:rev", "revocation", True)
    assert (change.changed, change.version, change.list_id, change.index) == (True, 1, entry.list_id, entry.index)
    listing = storage.get_status_list(entry.list_id)
    assert listing.version == 1
    assert bit(listing.bits, entry.index) == 1
    assert sum(b.bit_count() for b in listing.bits) == 1  # and no other bit
    assert storage.get_issued("urn:uuid:rev").status == {"revocation": True, "suspension": False}

    again = storage.set_status("urn:uuid:rev", "revocation", True)
    assert (again.changed, again.version) == (False, 1)  # a retried request changes nothing
    with pytest.raises(StatusChangeError, match="final") as refused:
        storage.set_status("urn:uuid:rev", "revocation", False)
    assert refused.value.http_status == 409
    with pytest.raises(StatusChangeError, match="revoked"):
        storage.set_status("urn:uuid:rev", "suspension", True)
    assert storage.get_status_list(entry.list_id).version == 1


def test_suspension_can_be_lifted(storage: Storage, profile: str) -> None:
    reservation = issue(storage, profile, "urn:uuid:sus")
    entry = reservation.entry("suspension")
    assert storage.set_status("urn:uuid:sus", "suspension", True).version == 1
    assert bit(storage.get_status_list(entry.list_id).bits, entry.index) == 1
    assert storage.set_status("urn:uuid:sus", "suspension", False).version == 2
    assert bit(storage.get_status_list(entry.list_id).bits, entry.index) == 0
    history = storage.status_history("urn:uuid:sus")
    assert [(purpose, value) for _, purpose, value in history] == [("suspension", True), ("suspension", False)]


def test_status_changes_need_an_issued_credential_and_a_known_purpose(storage: Storage, profile: str) -> None:
    storage.reserve_status(profile, "urn:uuid:pending")
    with pytest.raises(CredentialNotFoundError):
        storage.set_status("urn:uuid:pending", "revocation", True)  # reserved, never issued
    issue(storage, profile, "urn:uuid:ok")
    with pytest.raises(StatusChangeError, match="no refresh status entry"):
        storage.set_status("urn:uuid:ok", "refresh", True)
    with pytest.raises(StorageError):
        storage.set_status("urn:uuid:ok", "revocation", 1)  # type: ignore[arg-type]


def test_signed_lists_are_kept_only_for_their_version(storage: Storage, profile: str) -> None:
    reservation = issue(storage, profile, "urn:uuid:signed")
    list_id = reservation.entry("revocation").list_id
    assert storage.save_signed_status_list(list_id, 0, {"signed": "v0"})
    assert json.loads(storage.get_status_list(list_id).signed_json or "null") == {"signed": "v0"}
    storage.set_status("urn:uuid:signed", "revocation", True)
    assert storage.get_status_list(list_id).signed_json is None  # stale once the bits changed
    assert not storage.save_signed_status_list(list_id, 0, {"signed": "late v0"})
    assert storage.save_signed_status_list(list_id, 1, {"signed": "v1"})
    assert [s.list_id for s in storage.list_status_lists(profile)].count(list_id) == 1


# -- keys ---------------------------------------------------------------------------------------------------------


def test_the_database_allows_one_active_key_per_profile(storage: Storage, profile: str) -> None:
    now = datetime.now(timezone.utc)
    row = dict(profile_id=profile, controller=ISSUER, key_type="Ed25519", public_key_multibase="z6Mk", wrapped_secret=b"x", keystore="t", created_at=now)
    with storage._engine.begin() as conn:
        conn.execute(keys_table.insert().values(key_id=ISSUER + "#1", state="active", **row))
    with pytest.raises(IntegrityError), storage._engine.begin() as conn:
        conn.execute(keys_table.insert().values(key_id=ISSUER + "#2", state="active", **row))
    with storage._engine.begin() as conn:  # retired ones are not limited
        conn.execute(keys_table.insert().values(key_id=ISSUER + "#3", state="retired", **row))
        conn.execute(keys_table.insert().values(key_id=ISSUER + "#4", state="retired", **row))


def test_times_are_stored_as_utc_instants(db_url: str) -> None:
    moment = datetime(2025, 6, 30, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5)))
    with open_storage(db_url, clock=lambda: moment) as storage:
        record = storage.create_profile("tz", issuer=ISSUER, suites=["eddsa-rdfc-2022"])
        assert record.created_at == moment and record.created_at.utcoffset() == timedelta(0)
        with pytest.raises(Exception, match="naive"):
            storage.save_issued(storage.reserve_status("tz", "urn:uuid:naive"), "{}", issued_at=datetime(2025, 1, 1))


# -- crash safety ---------------------------------------------------------------------------------------------


def test_an_acknowledged_credential_survives_kill_9(db_url: str) -> None:
    """A writer process saves a credential, says so, and is SIGKILLed at once: no clean shutdown,
    no connection close, no chance to flush anything. The record must be there afterwards."""
    with open_storage(db_url) as storage:
        storage.create_profile("crash", issuer=ISSUER, suites=["eddsa-rdfc-2022"])
    script = textwrap.dedent(
        """
        import os, signal, sys
        from perseus.issuer.storage import open_storage
        storage = open_storage(sys.argv[1])
        for n in range(20):
            reservation = storage.reserve_status("crash", f"urn:uuid:crash-{n}")
            storage.save_issued(reservation, {"id": f"urn:uuid:crash-{n}"})
            print(f"acknowledged urn:uuid:crash-{n}", reservation.entries[0].index, flush=True)
        storage.reserve_status("crash", "urn:uuid:crash-never-saved")
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    done = subprocess.run([sys.executable, "-c", script, db_url], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == -signal.SIGKILL, done.stderr
    acknowledged = [line.split()[1:] for line in done.stdout.splitlines() if line.startswith("acknowledged")]
    assert len(acknowledged) == 20
    with open_storage(db_url) as reopened:
        for credential_id, index in acknowledged:
            issued = reopened.get_issued(credential_id)
            assert issued.credential == {"id": credential_id}
            assert [e.index for e in issued.entries if e.purpose == "revocation"] == [int(index)]
        assert reopened.count_issued() == 20
        with pytest.raises(CredentialNotFoundError):
            reopened.get_issued("urn:uuid:crash-never-saved")


def test_the_save_waits_for_the_disk_and_the_reservation_need_not(storage: Storage, profile: str) -> None:
    """The durability design (engine.py): saving an issued credential is a fully synchronous commit;
    a reservation commits early, made durable by the save that follows it in the log."""
    from sqlalchemy import event

    seen: dict[str, str] = {}
    show = "PRAGMA synchronous" if storage.dialect == "sqlite" else "SHOW synchronous_commit"

    def spy(conn: object, cursor: object, statement: str, *args: object) -> None:
        for table in ("perseus_status_allocations", "perseus_issued_credentials"):
            if statement.startswith(f"INSERT INTO {table}"):
                seen[table] = str(conn.exec_driver_sql(show).scalar())  # type: ignore[attr-defined]

    event.listen(storage._engine, "before_cursor_execute", spy)
    try:
        issue(storage, profile, "urn:uuid:durability")
    finally:
        event.remove(storage._engine, "before_cursor_execute", spy)
    if storage.dialect == "sqlite":  # 2 = FULL (fsync at commit), 1 = NORMAL
        assert seen == {"perseus_status_allocations": "1", "perseus_issued_credentials": "2"}
    else:
        assert seen == {"perseus_status_allocations": "off", "perseus_issued_credentials": "on"}
