"""The issuer side end to end, on both engines: reserve → entries → sign → save → publish → check → revoke."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from perseus.issuer.keystore import IssuerKeys, PassphraseKeyStore
from perseus.issuer.signing import sign_document
from perseus.issuer.status import (
    DEFAULT_TTL,
    StatusListPublisher,
    attach_status,
    change_status,
    check_submitted_status,
    status_entries,
    status_list_credential,
)
from perseus.issuer.storage import StatusChangeError, Storage
from perseus.verifier.errors import MalformedValueError
from perseus.verifier.status import Bitstring, parse_status_entry, status_check
from perseus.verifier.verify import verify_credential
from perseus_status_fixtures import issuer_key, make_credential, make_list, status_entry, status_storage  # noqa: F401 - fixtures

BASE = "https://issuer.example/status/"


def list_url(list_id: str) -> str:
    return BASE + list_id


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 9, 0, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def keys(status_storage: Storage) -> IssuerKeys:
    keys = IssuerKeys(status_storage, PassphraseKeyStore("correct horse battery staple", scrypt_n=2**10))
    keys.create_profile("edp", key_type="Ed25519")
    return keys


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def publisher(keys: IssuerKeys, clock: Clock) -> StatusListPublisher:
    return StatusListPublisher(keys.storage, keys, list_url, clock=clock)


def issue(keys: IssuerKeys, credential_id: str) -> dict[str, Any]:
    """What the service does for POST /credentials/issue."""
    storage = keys.storage
    profile = storage.get_profile("edp")
    reservation = storage.reserve_status("edp", credential_id)
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": credential_id,
        "type": ["VerifiableCredential"],
        "issuer": profile.issuer,
        "credentialSubject": {"id": "did:example:sme"},
    }
    signed = sign_document(attach_status(credential, status_entries(reservation, list_url)), keys.signing_key_for(reservation))
    storage.save_issued(reservation, signed)
    return signed


def lists_for(credential: dict[str, Any], publisher: StatusListPublisher) -> list[dict[str, Any]]:
    return [publisher.credential(e["statusListCredential"].removeprefix(BASE)) for e in credential["credentialStatus"]]


def test_entries_follow_the_data_model(keys: IssuerKeys) -> None:
    reservation = keys.storage.reserve_status("edp", "urn:uuid:1")
    entries = status_entries(reservation, list_url)
    assert [e["statusPurpose"] for e in entries] == ["revocation", "suspension"]
    for entry, reserved in zip(entries, reservation.entries):
        assert entry["type"] == "BitstringStatusListEntry"
        assert entry["statusListIndex"] == str(reserved.index)  # a string, as §2.1 requires
        assert entry["statusListCredential"] == BASE + reserved.list_id
        assert entry["id"] != entry["statusListCredential"]
        assert parse_status_entry(entry).index == reserved.index


def test_attaching_keeps_entries_the_submitter_made() -> None:
    own = {"id": "https://example.org/status#1", "type": "https://example.org/examples#CredentialStatusList2017"}
    ours = {"type": "BitstringStatusListEntry"}
    assert attach_status({"credentialStatus": own}, [ours])["credentialStatus"] == [own, ours]
    original = {"a": {"b": 1}}
    attached = attach_status(original, [ours])
    attached["a"]["b"] = 2
    assert original == {"a": {"b": 1}}  # a copy


def test_submitted_credentials_with_malformed_entries_are_refused() -> None:
    """The W3C bitstring test suite's negative case: statusListIndex true must be rejected at issue."""
    submitted = {"credentialStatus": {"type": "BitstringStatusListEntry", "statusListIndex": True, "statusListCredential": "https://example.com"}}
    with pytest.raises(MalformedValueError) as caught:
        check_submitted_status(submitted)
    assert caught.value.code == "MALFORMED_VALUE_ERROR"
    check_submitted_status({"credentialStatus": [{"type": "https://example.org/examples#Other"}]})  # not ours to judge


def test_the_status_list_credential_has_the_shape_the_test_suite_checks(keys: IssuerKeys, clock: Clock) -> None:
    reservation = keys.storage.reserve_status("edp", "urn:uuid:2")
    record = keys.storage.get_status_list(reservation.entries[0].list_id)
    document = status_list_credential(record, url=list_url(record.list_id), now=clock(), validity=timedelta(hours=12))
    assert "https://www.w3.org/ns/credentials/v2" in document["@context"]
    assert document["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert document["id"] == list_url(record.list_id) and document["issuer"] == keys.storage.get_profile("edp").issuer
    subject = document["credentialSubject"]
    assert subject["type"] == "BitstringStatusList" and subject["statusPurpose"] == "revocation"
    assert len(Bitstring.decode(subject["encodedList"])) == 131_072
    assert subject["ttl"] == int(DEFAULT_TTL.total_seconds() * 1000)
    assert (document["validFrom"], document["validUntil"]) == ("2025-03-01T09:00:00Z", "2025-03-01T21:00:00Z")


def test_issue_check_revoke_check(keys: IssuerKeys, publisher: StatusListPublisher, clock: Clock) -> None:
    credential = issue(keys, "urn:uuid:e2e")
    unchecked = verify_credential(credential)  # status entries but no status list: status is unknown
    assert not unchecked.verified and [p.code for p in unchecked.errors] == ["STATUS_RETRIEVAL_ERROR", "STATUS_RETRIEVAL_ERROR"]
    lists = lists_for(credential, publisher)
    assert all(verify_credential(l, now=clock()).verified for l in lists)
    assert status_check(credential, lists, now=clock()).outcome == "passed"
    assert verify_credential(credential, status_lists=lists, now=clock()).verified

    clock.now += timedelta(minutes=1)
    change_status(keys.storage, "urn:uuid:e2e", "revoke")
    revoked = status_check(credential, lists_for(credential, publisher), now=clock())
    assert [p.code for p in revoked.problems] == ["CREDENTIAL_REVOKED"]
    result = verify_credential(credential, status_lists=lists_for(credential, publisher), now=clock())
    assert not result.verified and [p.code for p in result.errors] == ["CREDENTIAL_REVOKED"]
    with pytest.raises(StatusChangeError):
        change_status(keys.storage, "urn:uuid:e2e", "unsuspend")
    with pytest.raises(StatusChangeError, match="unknown status action"):
        change_status(keys.storage, "urn:uuid:e2e", "unrevoke")


def test_suspend_and_unsuspend(keys: IssuerKeys, publisher: StatusListPublisher, clock: Clock) -> None:
    credential = issue(keys, "urn:uuid:sus")
    change_status(keys.storage, "urn:uuid:sus", "suspend")
    assert [p.code for p in status_check(credential, lists_for(credential, publisher), now=clock()).problems] == ["CREDENTIAL_SUSPENDED"]
    change_status(keys.storage, "urn:uuid:sus", "unsuspend")
    assert status_check(credential, lists_for(credential, publisher), now=clock()).outcome == "passed"


def test_lists_are_signed_once_per_version_and_refreshed_at_half_validity(keys: IssuerKeys, publisher: StatusListPublisher, clock: Clock) -> None:
    credential = issue(keys, "urn:uuid:cache")
    list_id = credential["credentialStatus"][0]["statusListCredential"].removeprefix(BASE)
    first = publisher.publish(list_id)
    clock.now += timedelta(hours=1)
    assert publisher.publish(list_id).credential == first.credential  # served from the database
    assert first.headers["Cache-Control"] == "public, max-age=300"
    assert first.headers["ETag"].startswith(f'"{list_id}-0-')

    change_status(keys.storage, "urn:uuid:cache", "revoke")
    changed = publisher.publish(list_id)
    assert changed.version == 1 and changed.credential != first.credential
    assert changed.credential["validFrom"] == "2025-03-01T10:00:00Z"
    assert changed.headers["ETag"] != first.headers["ETag"]

    clock.now += timedelta(hours=13)  # past half of the one-day validity
    refreshed = publisher.publish(list_id).credential
    assert refreshed["validFrom"] == "2025-03-01T23:00:00Z"
    assert refreshed["credentialSubject"]["encodedList"] == changed.credential["credentialSubject"]["encodedList"]


def test_max_age_never_outlives_the_signature(keys: IssuerKeys, clock: Clock) -> None:
    publisher = StatusListPublisher(keys.storage, keys, list_url, validity=timedelta(hours=1), ttl=timedelta(minutes=45), clock=clock)
    credential = issue(keys, "urn:uuid:maxage")
    list_id = credential["credentialStatus"][0]["statusListCredential"].removeprefix(BASE)
    assert publisher.publish(list_id).headers["Cache-Control"] == "public, max-age=2700"  # the ttl
    clock.now += timedelta(minutes=29)  # not yet re-signed; 31 minutes of validity left
    assert publisher.publish(list_id).headers["Cache-Control"] == "public, max-age=1860"


def test_a_did_key_rotation_keeps_old_credentials_checkable(keys: IssuerKeys, publisher: StatusListPublisher, clock: Clock) -> None:
    old = issue(keys, "urn:uuid:before")
    rotation = keys.rotate("edp")
    assert rotation.issuer_changed
    new = issue(keys, "urn:uuid:after")
    assert new["issuer"] == rotation.issuer_after != old["issuer"]
    old_lists = {e["statusListCredential"] for e in old["credentialStatus"]}
    new_lists = {e["statusListCredential"] for e in new["credentialStatus"]}
    assert not old_lists & new_lists  # each DID has its own lists
    change_status(keys.storage, "urn:uuid:before", "revoke")
    old_check = status_check(old, lists_for(old, publisher), now=clock())
    assert [p.code for p in old_check.problems] == ["CREDENTIAL_REVOKED"]  # signed by the retired key
    assert status_check(new, lists_for(new, publisher), now=clock()).outcome == "passed"


def test_published_lists_verify_in_the_node_reference_verifier_shape(keys: IssuerKeys, publisher: StatusListPublisher, tmp_path: Path) -> None:
    """The published document is plain JSON that round-trips (what the service will serve)."""
    credential = issue(keys, "urn:uuid:json")
    published = lists_for(credential, publisher)[0]
    assert json.loads(json.dumps(published)) == published
    assert published["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
