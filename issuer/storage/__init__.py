"""The issuer's storage: one layer, two engines (SQLite by default, PostgreSQL at scale), chosen by URL.

    from perseus.issuer.storage import open_storage

    storage = open_storage("sqlite:///var/lib/perseus/perseus.db")     # or postgresql://host:5432/db
    reservation = storage.reserve_status("default", credential_id)     # random status positions
    ...                                                                # add credentialStatus, sign
    storage.save_issued(reservation, signed_credential)                # durable once it returns
    storage.get_issued(credential_id).credential                       # the credential as issued
    storage.set_status(credential_id, "revocation", True)              # revoke (final)
    storage.get_status_list(list_id)                                   # bits + version, to serve

What lives where:

* `store` — `Storage` and `open_storage` (threads, processes, crash guarantees: read its docstring);
* `records` — the frozen values the methods return;
* `schema` / `migrations` — the tables and the numbered steps that build them;
* `engine` — URL → SQLAlchemy engine (SQLite WAL + fsync, PostgreSQL via psycopg 3);
* `errors` — one `PerseusError` subclass per situation, each with an ``http_status`` hint;
* `testing` — for test suites: is PostgreSQL reachable (else skip, with the reason), and a
  throw-away schema per test.

Keys are stored here only wrapped (encrypted); `perseus.issuer.keystore` wraps and unwraps them,
and builds status list credentials' signers. `perseus.issuer.status` turns reservations into
``credentialStatus`` entries and status lists into ``BitstringStatusListCredential`` documents.
"""

from .errors import (
    CredentialNotFoundError,
    DuplicateCredentialError,
    KeyNotFoundError,
    ProfileExistsError,
    ProfileNotFoundError,
    SchemaVersionError,
    StatusChangeError,
    StatusListNotFoundError,
    StorageError,
    StorageUnavailableError,
    StorageUrlError,
)
from .migrations import LATEST_VERSION
from .records import (
    IssuedCredential,
    KeyState,
    ProfileRecord,
    ReservedEntry,
    StatusChange,
    StatusListRecord,
    StatusReservation,
    StoredKey,
)
from .store import DEFAULT_PURPOSES, StatusListPolicy, Storage, open_storage

__all__ = [
    "DEFAULT_PURPOSES",
    "LATEST_VERSION",
    "CredentialNotFoundError",
    "DuplicateCredentialError",
    "IssuedCredential",
    "KeyNotFoundError",
    "KeyState",
    "ProfileExistsError",
    "ProfileNotFoundError",
    "ProfileRecord",
    "ReservedEntry",
    "SchemaVersionError",
    "StatusChange",
    "StatusChangeError",
    "StatusListNotFoundError",
    "StatusListPolicy",
    "StatusListRecord",
    "StatusReservation",
    "Storage",
    "StorageError",
    "StorageUnavailableError",
    "StorageUrlError",
    "StoredKey",
    "open_storage",
]
