"""Bitstring Status List 1.0 on the issuer side: entries for new credentials, status list credentials, changes.

How the service uses it (URLs are the service's choice; ``list_url`` maps a list id to one)::

    reservation = storage.reserve_status(profile_id, credential_id)
    credential = attach_status(credential, status_entries(reservation, list_url))
    signed = sign_document(credential, keys.signing_key_for(reservation), suite=...)
    storage.save_issued(reservation, signed)

    publisher = StatusListPublisher(storage, keys, list_url)
    published = publisher.publish(list_id) # signed BitstringStatusListCredential, re-signed on change,
                                           # with Cache-Control / ETag headers aligned with its ttl

    change_status(storage, credential_id, "revoke")      # or "suspend", "unsuspend"

Each credential gets one ``revocation`` and one ``suspension`` entry, in two different lists (one
list per purpose and issuer DID, as in the specification's example 1), each at an index drawn at
random by the storage layer, so neither list reveals issue order.

Freshness: a status list credential carries ``validFrom`` (when it was signed), ``validUntil``
(`DEFAULT_VALIDITY` later: after that a verifier must fetch a new one) and ``ttl`` (a refresh hint
in milliseconds, `DEFAULT_TTL`, which the HTTP ``Cache-Control`` max-age repeats as the
specification asks). The publisher re-signs a list when its bits change and when half its validity
has passed, so a fetched list is never close to expiry.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Final, Literal

from perseus.verifier.credential import VC_V2_CONTEXT
from perseus.verifier.dates import format_datetime, parse_datetime
from perseus.verifier.loader import DocumentLoader
from perseus.verifier.status import (
    MIN_LIST_ENTRIES,
    STATUS_ENTRY_TYPE,
    STATUS_LIST_CREDENTIAL_TYPE,
    STATUS_LIST_TYPE,
    Bitstring,
    parse_status_entry,
)
from perseus.verifier.status import (
    status_entries as existing_status_entries,
)

from .keystore import IssuerKeys
from .signing import sign_document
from .storage import StatusChange, StatusListRecord, StatusReservation, Storage
from .storage.errors import StatusChangeError

__all__ = [
    "DEFAULT_TTL",
    "DEFAULT_VALIDITY",
    "MIN_LIST_ENTRIES",
    "STATUS_ACTIONS",
    "PublishedStatusList",
    "StatusAction",
    "StatusListPublisher",
    "attach_status",
    "change_status",
    "check_submitted_status",
    "status_entries",
    "status_list_credential",
]

# A verifier may rely on a list until validUntil; one day lets a holder staple a list to a
# credential for a day's offline use. Relying parties wanting fresher answers set their own maximum
# age (perseus.verifier.status: max_age). The ttl asks online verifiers to refetch every 5 minutes.
DEFAULT_VALIDITY: Final = timedelta(days=1)
DEFAULT_TTL: Final = timedelta(minutes=5)

StatusAction = Literal["revoke", "suspend", "unsuspend"]
STATUS_ACTIONS: Final[Mapping[str, tuple[str, bool]]] = {
    "revoke": ("revocation", True),
    "suspend": ("suspension", True),
    "unsuspend": ("suspension", False),
}

ListUrl = Callable[[str], str]


def status_entries(reservation: StatusReservation, list_url: ListUrl) -> list[dict[str, str]]:
    """The ``BitstringStatusListEntry`` objects for a reservation (statusListIndex is a string, §2.1).

    Each entry's ``id`` is ``<list URL>#<index>``: unique, and not the URL of the list itself, as
    the specification requires.
    """
    out = []
    for entry in reservation.entries:
        url = list_url(entry.list_id)
        out.append(
            {
                "id": f"{url}#{entry.index}",
                "type": STATUS_ENTRY_TYPE,
                "statusPurpose": entry.purpose,
                "statusListIndex": str(entry.index),
                "statusListCredential": url,
            }
        )
    return out


def attach_status(credential: Mapping[str, Any], entries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A copy of ``credential`` whose ``credentialStatus`` ends with ``entries`` (existing ones kept)."""
    out = copy.deepcopy(dict(credential))
    out["credentialStatus"] = existing_status_entries(out) + [dict(e) for e in entries]
    return out


def check_submitted_status(credential: Mapping[str, Any]) -> None:
    """Refuse a credential submitted for issuing whose own ``BitstringStatusListEntry`` is malformed.

    Raises `MalformedValueError` (MALFORMED_VALUE_ERROR) naming the field — the VC API answer is a
    400. Entries of other status types are the submitter's business and pass through.
    """
    entries = existing_status_entries(credential)
    as_list = isinstance(credential.get("credentialStatus"), list)
    for position, entry in enumerate(entries):
        if isinstance(entry, Mapping) and entry.get("type") == STATUS_ENTRY_TYPE:
            parse_status_entry(entry, where=f"credentialStatus[{position}]" if as_list else "credentialStatus")


def status_list_credential(
    record: StatusListRecord,
    *,
    url: str,
    now: datetime,
    validity: timedelta = DEFAULT_VALIDITY,
    ttl: timedelta | None = DEFAULT_TTL,
) -> dict[str, Any]:
    """The unsigned ``BitstringStatusListCredential`` for a list's current bits (sign it next)."""
    if len(record.bits) * 8 != record.length:
        raise ValueError(f"status list {record.list_id} has {len(record.bits) * 8} bits stored but length {record.length}")
    subject: dict[str, Any] = {
        "id": f"{url}#list",
        "type": STATUS_LIST_TYPE,
        "statusPurpose": record.purpose,
        "encodedList": Bitstring(record.bits).encode(),
    }
    if ttl is not None:
        subject["ttl"] = int(ttl.total_seconds() * 1000)
    return {
        "@context": [VC_V2_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", STATUS_LIST_CREDENTIAL_TYPE],
        "issuer": record.issuer,
        "validFrom": format_datetime(now),
        "validUntil": format_datetime(now + validity),
        "credentialSubject": subject,
    }


def change_status(storage: Storage, credential_id: str, action: str) -> StatusChange:
    """Revoke, suspend or unsuspend an issued credential (revocation is final; see `Storage.set_status`)."""
    if action not in STATUS_ACTIONS:
        raise StatusChangeError(f"unknown status action {action!r}; choose one of {', '.join(STATUS_ACTIONS)}")
    purpose, value = STATUS_ACTIONS[action]
    return storage.set_status(credential_id, purpose, value)


@dataclass
class StatusListPublisher:
    """Signed status list credentials for serving: signed once per list version, kept in the database.

    Re-signs when the list changed (its version moved past the saved signature) or when half of
    ``validity`` has passed since the last signature. Signing uses the key of the list's own DID
    (`IssuerKeys.status_list_signer`) with the profile's first cryptosuite that fits that key.
    """

    storage: Storage
    keys: IssuerKeys
    list_url: ListUrl
    validity: timedelta = DEFAULT_VALIDITY
    ttl: timedelta | None = DEFAULT_TTL
    loader: DocumentLoader | None = None
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)

    def publish(self, list_id: str) -> PublishedStatusList:
        """The current signed ``BitstringStatusListCredential`` of ``list_id`` and its HTTP headers."""
        record = self.storage.get_status_list(list_id)
        now = self.clock()
        if record.signed_json is not None and record.signed_at is not None and now - record.signed_at < self.validity / 2:
            signed: dict[str, Any] = json.loads(record.signed_json)
        else:
            unsigned = status_list_credential(record, url=self.list_url(list_id), now=now, validity=self.validity, ttl=self.ttl)
            key = self.keys.status_list_signer(record.profile_id, record.issuer)
            profile = self.storage.get_profile(record.profile_id)
            suite = next((s for s in profile.suites if _suite_fits(s, key.secret_key.key_type)), None)
            signed = sign_document(unsigned, key, suite=suite, loader=self.loader, created=now)
            self.storage.save_signed_status_list(list_id, record.version, signed, signed_at=now)
        return PublishedStatusList(credential=signed, headers=self._headers(signed, record, now), version=record.version)

    def credential(self, list_id: str) -> dict[str, Any]:
        """`publish` without the headers."""
        return self.publish(list_id).credential

    def _headers(self, credential: Mapping[str, Any], record: StatusListRecord, now: datetime) -> dict[str, str]:
        """Caching headers: max-age = ttl (never past validUntil), an ETag per list version and
        signature, Last-Modified = the list's last change. (The media type is the service's call.)"""
        max_age = int(self.ttl.total_seconds()) if self.ttl is not None else int(self.validity.total_seconds() / 2)
        valid_until = credential.get("validUntil")
        if isinstance(valid_until, str):
            remaining = int((parse_datetime(valid_until, field="validUntil") - now).total_seconds())
            max_age = max(0, min(max_age, remaining))
        stamp = "".join(ch for ch in str(credential.get("validFrom", "")) if ch.isalnum())
        return {
            "Cache-Control": f"public, max-age={max_age}",
            "ETag": f'"{record.list_id}-{record.version}-{stamp}"',
            "Last-Modified": record.updated_at.astimezone(timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT"),
        }


@dataclass(frozen=True)
class PublishedStatusList:
    """A signed status list credential ready to serve, with its caching headers."""

    credential: dict[str, Any]
    headers: dict[str, str]
    version: int


def _suite_fits(name: str, key_type: str) -> bool:
    from perseus.verifier.suites import SUITES

    suite = SUITES.get(name)
    return suite is not None and key_type in suite.key_types
