"""Issuer key files: one signing key per JSON file, in the Multikey form.

Why a file format of our own at all: the issuer needs to know not only the secret key but *which
verification method* it signs as (the ``verificationMethod`` of every proof) and who controls it.
So a key file is a Multikey verification method plus its secret::

    {
      "id": "did:key:z6Mk…#z6Mk…",
      "controller": "did:key:z6Mk…",
      "type": "Multikey",
      "publicKeyMultibase": "z6Mk…",
      "secretKeyMultibase": "z3u2…"
    }

`read_key_file` also accepts the key pairs the W3C test vectors publish (``publicKeyMultibase`` plus
``privateKeyMultibase`` or ``secretKeyMultibase``, no id/controller), defaulting to the did:key, so
the vectors can be used as issuer keys as they are.

Safety rules, each for a reason:

* the public key, when present, must match the secret key — a mismatch means the file was edited or
  assembled wrongly, and signing with it would produce proofs no verifier accepts;
* a did:key controller must be the did:key *of this key* (anything else cannot verify);
* files are written 0600, never over an existing file unless asked, and atomically (temporary file in
  the same directory, fsync, then link/rename), so a crash never leaves a half-written key;
* no error message ever contains secret key material.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perseus.verifier.did_key import did_key_for, verification_method_id
from perseus.verifier.errors import KeyFormatError
from perseus.verifier.keys import KeyType, PublicKey, SecretKey

__all__ = ["KeyFile", "generate_key_file", "read_key_file", "write_key_file"]

# A key file is a few hundred bytes; refusing anything large avoids slurping a wrong file (a log, a
# disk image) into memory and then into an error message.
_MAX_KEY_FILE_BYTES = 64 * 1024
_SECRET_FIELDS = ("secretKeyMultibase", "privateKeyMultibase")


@dataclass(frozen=True)
class KeyFile:
    """A signing key and the verification method it signs as.

    ``id`` is the verification method id that goes into each proof's ``verificationMethod``;
    ``controller`` is the DID (or URL) of the issuer that controls it.
    """

    id: str
    controller: str
    secret_key: SecretKey

    def __post_init__(self) -> None:
        for name in ("id", "controller"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise KeyFormatError(f"key file field {name!r} must be a non-empty string")
        if not isinstance(self.secret_key, SecretKey):
            raise KeyFormatError(f"secret_key must be a SecretKey, got {type(self.secret_key).__name__}")
        if self.controller.startswith("did:key:"):
            expected_did = did_key_for(self.public_key)
            if self.controller != expected_did:
                raise KeyFormatError(
                    f"key file field 'controller' is {self.controller!r}, a did:key of a different key; "
                    f"the did:key of this key is {expected_did!r}"
                )
            if self.id != verification_method_id(self.public_key):
                raise KeyFormatError(
                    f"key file field 'id' is {self.id!r}; a did:key's only verification method is "
                    f"{verification_method_id(self.public_key)!r}"
                )

    @property
    def public_key(self) -> PublicKey:
        return self.secret_key.public_key

    def verification_method(self) -> dict[str, str]:
        """The public Multikey verification method, for publishing in a DID / controller document."""
        return {
            "id": self.id,
            "type": "Multikey",
            "controller": self.controller,
            "publicKeyMultibase": self.public_key.multibase(),
        }

    def to_json(self) -> dict[str, str]:
        """The key file's JSON object, *including the secret key* (write it only with `write_key_file`)."""
        return {**self.verification_method(), "secretKeyMultibase": self.secret_key.multibase()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, source: str = "key file") -> KeyFile:
        """Parse our form or the W3C vectors' form; errors start with ``source`` and name the field."""
        if not isinstance(data, Mapping):
            raise KeyFormatError(f"{source}: a key file must be a JSON object, got {type(data).__name__}")
        secret_key = _secret_key_field(data, source)
        public_key = secret_key.public_key

        if "publicKeyMultibase" in data:
            try:
                published = PublicKey.from_multibase(data["publicKeyMultibase"])
            except KeyFormatError as exc:
                raise KeyFormatError(f"{source}: field 'publicKeyMultibase': {exc.message}") from exc
            if published != public_key:
                raise KeyFormatError(
                    f"{source}: field 'publicKeyMultibase' does not match the secret key "
                    f"(the secret key's public key is {public_key.multibase()})"
                )
        if "type" in data and data["type"] != "Multikey":
            raise KeyFormatError(f"{source}: field 'type' is {data['type']!r}; expected 'Multikey'")

        for name in ("id", "controller"):
            if name in data and (not isinstance(data[name], str) or not data[name]):
                raise KeyFormatError(f"{source}: field {name!r} must be a non-empty string")
        key_id: str | None = data.get("id")
        controller: str | None = data.get("controller")
        if controller is None:
            # Without a controller the id's document is the controller; without either, the did:key.
            controller = key_id.partition("#")[0] if key_id is not None else did_key_for(public_key)
        if key_id is None:
            key_id = f"{controller}#{public_key.multibase()}"
        try:
            return cls(id=key_id, controller=controller, secret_key=secret_key)
        except KeyFormatError as exc:
            raise KeyFormatError(f"{source}: {exc.message}") from exc


def _secret_key_field(data: Mapping[str, Any], source: str) -> SecretKey:
    present = [name for name in _SECRET_FIELDS if name in data]
    if not present:
        raise KeyFormatError(
            f"{source}: no field 'secretKeyMultibase' (or 'privateKeyMultibase'); a key file must hold "
            "the secret key — is this a public verification method?"
        )
    if len(present) == 2 and data[present[0]] != data[present[1]]:
        raise KeyFormatError(
            f"{source}: fields 'secretKeyMultibase' and 'privateKeyMultibase' hold different keys; keep one"
        )
    field_name = present[0]
    try:
        return SecretKey.from_multibase(data[field_name])
    except KeyFormatError as exc:
        # The message is safe (keys.py never echoes secret input) but the cause chain is dropped too.
        raise KeyFormatError(f"{source}: field {field_name!r}: {exc.message}") from None


def generate_key_file(key_type: KeyType, controller: str | None = None) -> KeyFile:
    """A new random key.

    ``controller`` defaults to the key's did:key; ``id`` is ``controller#publicKeyMultibase``.
    """
    secret_key = SecretKey.generate(key_type)
    if controller is None:
        controller = did_key_for(secret_key.public_key)
    return KeyFile(
        id=f"{controller}#{secret_key.public_key.multibase()}",
        controller=controller,
        secret_key=secret_key,
    )


def _reject_duplicate_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise KeyFormatError(f"field {name!r} appears more than once")
        result[name] = value
    return result


def read_key_file(path: str | os.PathLike[str]) -> KeyFile:
    """Read and check a key file (our form or the W3C vectors' key-pair form).

    Every failure is a `KeyFormatError` whose message starts with the file name.
    """
    source = os.fspath(path)
    try:
        with open(source, "rb") as handle:
            raw = handle.read(_MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise KeyFormatError(f"{source}: cannot read key file: {exc.strerror or exc}") from exc
    if len(raw) > _MAX_KEY_FILE_BYTES:
        raise KeyFormatError(f"{source}: larger than {_MAX_KEY_FILE_BYTES} bytes; not a key file")
    try:
        data = json.loads(raw.decode("utf-8"), object_pairs_hook=_reject_duplicate_members)
    except UnicodeDecodeError:
        raise KeyFormatError(f"{source}: not UTF-8 text; a key file is JSON") from None
    except json.JSONDecodeError as exc:
        # Only the position: the text around it may be secret.
        raise KeyFormatError(
            f"{source}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except KeyFormatError as exc:
        raise KeyFormatError(f"{source}: {exc.message}") from None
    except (ValueError, RecursionError):  # a number of thousands of digits, nesting past the recursion limit
        raise KeyFormatError(f"{source}: not a key file (a number too long or nesting too deep for JSON here)") from None
    return KeyFile.from_json(data, source=source)


def write_key_file(keyfile: KeyFile, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
    """Write ``keyfile`` as JSON, mode 0600, atomically; refuse to replace a file unless ``overwrite``.

    Raises `FileExistsError` if ``path`` exists and ``overwrite`` is false. The temporary file lives
    in the target directory (so the final rename/link is atomic) and is removed on any failure.
    """
    target = Path(path)
    if not overwrite and (target.exists() or target.is_symlink()):
        raise FileExistsError(
            f"{target}: already exists; refusing to overwrite a key file (use overwrite=True)"
        )
    text = json.dumps(keyfile.to_json(), indent=2) + "\n"
    directory = target.parent
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            if hasattr(os, "fchmod"):
                os.fchmod(handle.fileno(), 0o600)  # mkstemp already uses 0600; make it explicit
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(temp_name, target)
        else:
            _link_without_replacing(temp_name, target)
        _fsync_directory(directory)
    finally:
        with contextlib.suppress(FileNotFoundError):  # already linked/renamed away, or never written
            os.unlink(temp_name)


def _link_without_replacing(temp_name: str, target: Path) -> None:
    """Publish ``temp_name`` as ``target`` only if ``target`` does not exist, atomically where possible.

    ``link`` fails if the target exists, closing the race between our existence check and the
    rename; on filesystems without hard links we fall back to check-then-rename.
    """
    try:
        os.link(temp_name, target)
    except FileExistsError:
        raise FileExistsError(
            f"{target}: already exists; refusing to overwrite a key file (use overwrite=True)"
        ) from None
    except OSError:
        if target.exists() or target.is_symlink():
            raise FileExistsError(
                f"{target}: already exists; refusing to overwrite a key file (use overwrite=True)"
            ) from None
        os.replace(temp_name, target)


def _fsync_directory(directory: Path) -> None:
    """Make the new directory entry durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
