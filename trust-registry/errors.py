"""The registry's errors: each a `PerseusError` with its own code, so the CLI prints one sentence and
exits 2, and the service answers an RFC 9457 problem with the right status."""

from __future__ import annotations

from perseus.verifier.errors import PerseusError

__all__ = ["RegistryError", "NotFoundError", "ConflictError", "InvalidInputError", "StorageError"]


class RegistryError(PerseusError):
    """Base of the registry's errors."""

    code = "REGISTRY_ERROR"
    status = 400


class InvalidInputError(RegistryError):
    """A value that cannot be used: a bad date, an unknown role, a malformed DID."""

    code = "REGISTRY_INVALID_INPUT"
    status = 400


class NotFoundError(RegistryError):
    """The entity, role, key or snapshot named does not exist."""

    code = "REGISTRY_NOT_FOUND"
    status = 404


class ConflictError(RegistryError):
    """The change contradicts what is recorded (an entity that exists, a role already granted)."""

    code = "REGISTRY_CONFLICT"
    status = 409


class StorageError(RegistryError):
    """The database cannot be used (unreachable, locked, or a newer schema than this code)."""

    code = "REGISTRY_STORAGE_UNAVAILABLE"
    status = 503
