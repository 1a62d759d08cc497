"""The plain values the storage layer hands out: frozen dataclasses, no database objects.

Callers (the issuer service, the status and key modules) never see a row or a connection, so the
two engines stay interchangeable and a value can be passed between threads freely.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

__all__ = [
    "IssuedCredential",
    "KeyState",
    "ProfileRecord",
    "ReservedEntry",
    "StatusChange",
    "StatusListRecord",
    "StatusReservation",
    "StoredKey",
]

KeyState = Literal["active", "retired"]


@dataclass(frozen=True)
class ProfileRecord:
    """An issuer profile: who the service issues as (its DID), and with which suites.

    ``issuer`` is the DID that goes into each credential's ``issuer``; for a did:key profile it
    changes when the key is rotated, for a did:web profile it stays and gains verification methods.
    """

    profile_id: str
    issuer: str
    suites: tuple[str, ...]
    name: str | None
    created_at: datetime
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        """The public description ``GET /issuers`` can return as it is."""
        out: dict[str, Any] = {"id": self.profile_id, "issuer": self.issuer, "suites": list(self.suites)}
        if self.name:
            out["name"] = self.name
        return out


@dataclass(frozen=True)
class StoredKey:
    """A key as stored: public parts in the clear, the secret only wrapped by a `KeyStore`.

    ``wrapped_secret`` is ciphertext, but it is still kept out of ``repr`` (and so out of logs): an
    encrypted key is only as safe as its passphrase.
    """

    key_id: str  # the verification method id each proof names
    profile_id: str
    controller: str
    key_type: str
    public_key_multibase: str
    wrapped_secret: bytes = field(repr=False)
    keystore: str  # which KeyStore wrapped it (so a database says what can open it)
    state: KeyState
    created_at: datetime
    retired_at: datetime | None = None

    def verification_method(self) -> dict[str, str]:
        """The public Multikey verification method, for a DID document."""
        return {"id": self.key_id, "type": "Multikey", "controller": self.controller, "publicKeyMultibase": self.public_key_multibase}


@dataclass(frozen=True)
class ReservedEntry:
    """One status position reserved for a credential: bit ``index`` of list ``list_id``."""

    purpose: str
    list_id: str
    index: int


@dataclass(frozen=True)
class StatusReservation:
    """Status positions reserved (and committed) for one credential before it is signed.

    ``issuer`` and ``key_id`` are the profile's DID and active key *at reservation time*, read in the
    same transaction: sign with exactly that key, so a rotation in between cannot produce a
    credential whose status lists belong to another DID.
    """

    profile_id: str
    credential_id: str
    issuer: str
    key_id: str | None
    entries: tuple[ReservedEntry, ...]

    def entry(self, purpose: str) -> ReservedEntry:
        for entry in self.entries:
            if entry.purpose == purpose:
                return entry
        raise KeyError(purpose)


@dataclass(frozen=True)
class IssuedCredential:
    """A credential from the issuance log, with its status positions and their current values."""

    credential_id: str
    profile_id: str
    issuer: str
    credential_json: str = field(repr=False)
    issued_at: datetime
    entries: tuple[ReservedEntry, ...]
    status: dict[str, bool]  # purpose -> bit set (revoked / suspended)

    @property
    def credential(self) -> dict[str, Any]:
        """The signed credential exactly as it was returned when it was issued."""
        parsed: dict[str, Any] = json.loads(self.credential_json)
        return parsed


@dataclass(frozen=True)
class StatusListRecord:
    """A status list as the service serves it: the bits, and a version that grows with every change.

    ``signed_json`` is the last signed status list credential saved for it (see
    `Storage.save_signed_status_list`), present only when it was signed at the current ``version``.
    """

    list_id: str
    profile_id: str
    issuer: str
    purpose: str
    seq: int
    length: int
    bits: bytes = field(repr=False)
    state: Literal["open", "full"]
    version: int
    created_at: datetime
    updated_at: datetime
    signed_json: str | None = field(default=None, repr=False)
    signed_at: datetime | None = None


@dataclass(frozen=True)
class StatusChange:
    """The outcome of a status change: which list changed (so its credential is re-signed), and whether."""

    credential_id: str
    purpose: str
    value: bool
    changed: bool
    list_id: str
    index: int
    version: int
