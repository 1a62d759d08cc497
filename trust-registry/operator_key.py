"""The registry operator's signing key: a Multikey key file, the same form as `perseus keys generate`
writes, read and written here because the registry must not depend on the issuer package.

The public half (its did:key) is what recipients configure as the trust anchor. The file is written
0600, atomically, and never over an existing file; no error message ever contains the secret.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from perseus.verifier.did_key import did_key_for, verification_method_id
from perseus.verifier.errors import PerseusError
from perseus.verifier.keys import SecretKey

from .errors import InvalidInputError

__all__ = ["generate_operator_key", "read_operator_key", "write_operator_key", "trust_anchor_of"]


def generate_operator_key(key_type: str = "Ed25519") -> SecretKey:
    if key_type not in ("Ed25519", "P-256", "P-384"):
        raise InvalidInputError(f"key type {key_type!r} is not one of Ed25519, P-256, P-384")
    return SecretKey.generate(key_type)  # type: ignore[arg-type]


def trust_anchor_of(key: SecretKey) -> str:
    """The did:key recipients give as --trust-anchor."""
    return did_key_for(key.public_key)


def write_operator_key(key: SecretKey, path: str | Path) -> None:
    target = Path(path)
    body = {
        "id": verification_method_id(key.public_key),
        "type": "Multikey",
        "controller": did_key_for(key.public_key),
        "publicKeyMultibase": key.public_key.multibase(),
        "secretKeyMultibase": key.multibase(),
    }
    temporary = target.with_name(f".{target.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(body, indent=2) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(temporary, target)  # fails if the target exists: never overwrite a key
    except FileExistsError:
        raise InvalidInputError(f"{target} already exists; the operator key is never overwritten") from None
    finally:
        temporary.unlink(missing_ok=True)


def read_operator_key(path: str | Path) -> SecretKey:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInputError(f"operator key file {str(path)!r} does not exist") from None
    except (OSError, ValueError, UnicodeDecodeError):
        raise InvalidInputError(f"operator key file {str(path)!r} is not a readable JSON key file") from None
    secret = data.get("secretKeyMultibase") or data.get("privateKeyMultibase") if isinstance(data, dict) else None
    if not isinstance(secret, str):
        raise InvalidInputError(f"operator key file {str(path)!r} has no secretKeyMultibase")
    try:
        key = SecretKey.from_multibase(secret)
    except PerseusError:
        raise InvalidInputError(f"operator key file {str(path)!r} holds no usable secret key") from None
    public = data.get("publicKeyMultibase")
    if isinstance(public, str) and public != key.public_key.multibase():
        raise InvalidInputError(f"operator key file {str(path)!r}: its public key does not match its secret key")
    return key
