"""What the storage layer raises: one class per situation a caller handles differently.

Every error is a `PerseusError` with a ``code`` and a message a person can act on; ``http_status``
is the status the issuer service should answer with, so the HTTP layer maps errors without a table
of its own. No message ever contains a database password or key material.
"""

from __future__ import annotations

from perseus.verifier.errors import PerseusError

__all__ = [
    "CredentialNotFoundError",
    "DuplicateCredentialError",
    "InvalidIdError",
    "KeyNotFoundError",
    "ProfileExistsError",
    "ProfileNotFoundError",
    "SchemaVersionError",
    "StatusChangeError",
    "StatusListNotFoundError",
    "StorageError",
    "StorageUnavailableError",
    "StorageUrlError",
]


class StorageError(PerseusError):
    """Base of every storage error."""

    code = "STORAGE_ERROR"
    http_status = 500


class StorageUrlError(StorageError):
    """The database URL cannot be used (unknown scheme, in-memory SQLite, missing directory)."""

    code = "STORAGE_URL_ERROR"
    http_status = 500


class StorageUnavailableError(StorageError):
    """The database cannot be reached or stayed locked too long; retrying later may succeed.

    ``retryable`` is true when the transaction was aborted for conflicting with a concurrent one
    (a PostgreSQL deadlock or serialization failure) and can be run again at once.
    """

    code = "STORAGE_UNAVAILABLE"
    http_status = 503

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class SchemaVersionError(StorageError):
    """The database was migrated by a newer release than this one; refusing to touch it."""

    code = "SCHEMA_VERSION_ERROR"
    http_status = 500


class ProfileNotFoundError(StorageError):
    code = "ISSUER_PROFILE_NOT_FOUND"
    http_status = 404


class ProfileExistsError(StorageError):
    code = "ISSUER_PROFILE_EXISTS"
    http_status = 409


class KeyNotFoundError(StorageError):
    code = "KEY_NOT_FOUND"
    http_status = 404


class CredentialNotFoundError(StorageError):
    code = "CREDENTIAL_NOT_FOUND"
    http_status = 404


class DuplicateCredentialError(StorageError):
    """A credential with this id was already issued; ids are the issuance log's key."""

    code = "DUPLICATE_CREDENTIAL"
    http_status = 409


class InvalidIdError(StorageError):
    """An id that can never be stored: empty, too long, or holding a NUL (PostgreSQL text cannot)."""

    code = "MALFORMED_VALUE_ERROR"
    http_status = 400


class StatusListNotFoundError(StorageError):
    code = "STATUS_LIST_NOT_FOUND"
    http_status = 404


class StatusChangeError(StorageError):
    """A status change that is not allowed (revocation is final; a revoked credential stays so)."""

    code = "STATUS_CHANGE_REFUSED"
    http_status = 409
