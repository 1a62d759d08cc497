"""Issuer keys at rest: encrypted in the database, unwrapped only in memory, rotated without breaking old proofs.

Two layers, so an external KMS can replace the first without touching the second:

* a `KeyStore` wraps and unwraps secret keys. `PassphraseKeyStore` is the local one: scrypt turns a
  passphrase (``PERSEUS_KEY_PASSPHRASE``, or the file named by ``PERSEUS_KEY_PASSPHRASE_FILE``) into
  an AES-256-GCM key, with a fresh salt and nonce per key and the key's verification method id as
  associated data — so a wrapped key copied onto another row does not decrypt. A KMS store (AWS KMS
  Encrypt/Decrypt, Vault transit, an HSM's wrap key) implements the same two methods: the database
  then holds only ciphertext the KMS must open. (Keys that may *never* leave an HSM need signing
  inside it; that needs a signer object in `perseus.issuer.signing`, not a different storage layer.)
* `IssuerKeys` manages profiles' keys on top of `Storage`: generate, import a key file, rotate,
  and hand out the `KeyFile` to sign with. Unwrapped keys are cached per process, keyed by id.

Rotation, and what it means for an issuer's identity
    A new key signs from now on; the old one is kept, *retired*, so every credential it signed still
    verifies. What happens to the issuer's DID depends on its method — and this is why a production
    profile should use a stable DID:

    * did:web (recommended; published through the trust registry): the DID stays the same and gains
      a verification method. Old credentials name the old method, which stays in the DID document
      (`IssuerKeys.verification_methods` lists active *and* retired keys). Status lists keep their
      URLs and issuer, and are signed by the current key.
    * did:key: the DID *is* the key, so rotation gives the profile a new DID. Credentials signed
      before it keep verifying (a did:key resolves from itself), but relying parties that pinned the
      old DID must be told of the new one. Each status list belongs to the DID of the credentials in
      it (a verifier requires the list's issuer to be the credential's issuer), so the old lists go
      on being signed by the retired key and new credentials get new lists.

Secrets never appear in a ``repr``, a log line, an exception message or a return value meant for
clients: `StoredKey` hides even the ciphertext, `KeyFile`/`SecretKey` print only public parts, and
errors name keys by their verification method id.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Final, Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from perseus.verifier.errors import PerseusError
from perseus.verifier.keys import KEY_TYPES, KeyType, SecretKey
from perseus.verifier.suites import ALL_SUITES, SUITES

from .keyfile import KeyFile, generate_key_file, read_key_file
from .storage import ProfileRecord, StatusReservation, Storage, StoredKey
from .storage.errors import KeyNotFoundError

__all__ = [
    "PASSPHRASE_ENV",
    "PASSPHRASE_FILE_ENV",
    "IssuerKeys",
    "KeyStore",
    "KeyStoreError",
    "PassphraseKeyStore",
    "Rotation",
    "create_passphrase_file",
    "default_suites",
]

PASSPHRASE_ENV: Final = "PERSEUS_KEY_PASSPHRASE"
PASSPHRASE_FILE_ENV: Final = "PERSEUS_KEY_PASSPHRASE_FILE"
_MIN_PASSPHRASE_CHARS: Final = 12
_MAX_PASSPHRASE_FILE_BYTES: Final = 4096


class KeyStoreError(PerseusError):
    """A key cannot be wrapped or unwrapped (no passphrase, the wrong one, a damaged record)."""

    code = "KEY_STORE_ERROR"
    http_status = 500


@runtime_checkable
class KeyStore(Protocol):
    """Wraps secret keys for storage and unwraps them for signing.

    ``name`` is recorded with every wrapped key so a database says which store can open it.
    ``key_id`` (the verification method id) must be bound to the ciphertext as associated data.
    """

    name: str

    def wrap(self, secret_key: SecretKey, *, key_id: str) -> bytes: ...

    def unwrap(self, wrapped: bytes, *, key_id: str) -> SecretKey: ...


# -- the local, passphrase-based store --------------------------------------------------------------------


@dataclass(frozen=True)
class _ScryptParams:
    # RFC 7914 / OWASP interactive parameters: ~50 ms and 16 MiB per derivation on this machine's
    # class of CPU; derived keys are cached per salt, so it is paid once per key per process.
    n: int = 2**14
    r: int = 8
    p: int = 1


class PassphraseKeyStore:
    """`KeyStore` encrypting with AES-256-GCM under a key derived from a passphrase by scrypt.

    A wrapped key is a small JSON object (format version, KDF and its parameters, salt, nonce,
    ciphertext) so that the parameters can be raised later without losing old keys.
    """

    name = "passphrase-scrypt-aes256gcm-v1"

    def __init__(self, passphrase: str | bytes, *, scrypt_n: int = _ScryptParams.n) -> None:
        secret = passphrase.encode("utf-8") if isinstance(passphrase, str) else bytes(passphrase)
        if len(secret.strip()) < _MIN_PASSPHRASE_CHARS:
            raise KeyStoreError(
                f"the key passphrase is shorter than {_MIN_PASSPHRASE_CHARS} characters; use a long random one "
                f"(for example: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        self.__passphrase = secret
        self._params = _ScryptParams(n=scrypt_n)
        self._derived: dict[bytes, bytes] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PassphraseKeyStore(scrypt n={self._params.n} r={self._params.r} p={self._params.p})"

    def __reduce__(self) -> Any:
        raise TypeError("a PassphraseKeyStore holds a passphrase and cannot be pickled")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> PassphraseKeyStore:
        """The store for ``PERSEUS_KEY_PASSPHRASE``, or the file ``PERSEUS_KEY_PASSPHRASE_FILE`` names."""
        env = os.environ if environ is None else environ
        if env.get(PASSPHRASE_ENV):
            return cls(env[PASSPHRASE_ENV])
        path = env.get(PASSPHRASE_FILE_ENV)
        if path:
            return cls(_read_passphrase_file(path))
        raise KeyStoreError(
            f"no key passphrase: set {PASSPHRASE_ENV}, or {PASSPHRASE_FILE_ENV} to a file holding one "
            "(issuer keys are stored encrypted with it)"
        )

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> PassphraseKeyStore:
        return cls(_read_passphrase_file(os.fspath(path)))

    def _key(self, salt: bytes, params: _ScryptParams) -> bytes:
        cache_key = salt + params.n.to_bytes(8, "big")
        with self._lock:
            derived = self._derived.get(cache_key)
        if derived is None:
            derived = Scrypt(salt=salt, length=32, n=params.n, r=params.r, p=params.p).derive(self.__passphrase)
            with self._lock:
                self._derived[cache_key] = derived
        return derived

    def wrap(self, secret_key: SecretKey, *, key_id: str) -> bytes:
        salt = secrets.token_bytes(16)
        nonce = secrets.token_bytes(12)
        params = self._params
        plaintext = json.dumps({"type": secret_key.key_type, "secret": secret_key.multibase()}).encode()
        ciphertext = AESGCM(self._key(salt, params)).encrypt(nonce, plaintext, key_id.encode("utf-8"))
        record = {
            "v": 1,
            "kdf": "scrypt",
            "n": params.n,
            "r": params.r,
            "p": params.p,
            "salt": salt.hex(),
            "nonce": nonce.hex(),
            "ciphertext": ciphertext.hex(),
        }
        return json.dumps(record, separators=(",", ":")).encode("ascii")

    def unwrap(self, wrapped: bytes, *, key_id: str) -> SecretKey:
        try:
            record = json.loads(bytes(wrapped).decode("ascii"))
            if record.get("v") != 1 or record.get("kdf") != "scrypt":
                raise ValueError("unknown format")
            params = _ScryptParams(n=int(record["n"]), r=int(record["r"]), p=int(record["p"]))
            salt, nonce, ciphertext = (bytes.fromhex(record[k]) for k in ("salt", "nonce", "ciphertext"))
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise KeyStoreError(f"the stored secret of key {key_id} is not in the {self.name} format; was it wrapped by another key store?") from None
        try:
            plaintext = AESGCM(self._key(salt, params)).decrypt(nonce, ciphertext, key_id.encode("utf-8"))
        except InvalidTag:
            raise KeyStoreError(
                f"cannot decrypt key {key_id}: the passphrase is not the one it was stored with, or the stored key was altered"
            ) from None
        try:
            inner = json.loads(plaintext)
            secret_key = SecretKey.from_multibase(inner["secret"])
        except (ValueError, KeyError, TypeError, PerseusError):
            raise KeyStoreError(f"key {key_id} decrypted to something that is not a secret key") from None
        if secret_key.key_type != inner.get("type"):
            raise KeyStoreError(f"key {key_id} decrypted to a {secret_key.key_type} key, but was stored as {inner.get('type')}")
        return secret_key


def _read_passphrase_file(path: str) -> str:
    """The passphrase in ``path``, refusing a file that group or others may read, write or run.

    Like ssh with a private key: a passphrase others can read protects nothing, and a silent accept
    would hide the mistake until the keys leak. The mode is checked on the open descriptor, so the
    file checked is the file read.
    """
    try:
        with open(path, "rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            if os.name == "posix" and mode & 0o077:
                raise KeyStoreError(
                    f"the key passphrase file {path} is accessible by group or others (mode {mode & 0o777:04o}); "
                    f"it must be private to its owner: chmod 600 {path}"
                )
            raw = handle.read(_MAX_PASSPHRASE_FILE_BYTES + 1)
    except OSError as exc:
        raise KeyStoreError(f"cannot read the key passphrase file {path}: {exc.strerror or exc}") from None
    if len(raw) > _MAX_PASSPHRASE_FILE_BYTES:
        raise KeyStoreError(f"the key passphrase file {path} is larger than {_MAX_PASSPHRASE_FILE_BYTES} bytes; is it the right file?")
    try:
        return raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise KeyStoreError(f"the key passphrase file {path} is not UTF-8 text") from None


def create_passphrase_file(path: str | os.PathLike[str]) -> bool:
    """Create ``path`` holding a new random passphrase (mode 0600) unless it exists; True if created.

    For the embedded default (`perseus serve` with no configuration): the data directory gets its
    own passphrase, so keys are still encrypted at rest and a copied database alone opens nothing.
    Written atomically: a crash leaves either no file or a complete one.
    """
    target = Path(path)
    if target.exists():
        return False
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(secrets.token_urlsafe(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temp_name, target)
        except FileExistsError:
            return False  # another process made it first; theirs is the one
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)


# -- profiles' keys ------------------------------------------------------------------------------------------


def default_suites(key_type: KeyType) -> tuple[str, ...]:
    """The cryptosuites a key of this type can sign with (RDFC first: it is what W3C suites test)."""
    names = [name for name, suite in SUITES.items() if key_type in suite.key_types]
    return tuple(sorted(names, key=lambda n: ("jcs" in n, n)))


@dataclass(frozen=True)
class Rotation:
    """What a rotation did: the retired key, the new one, and the profile's DID before and after."""

    retired: StoredKey
    active: StoredKey
    issuer_before: str
    issuer_after: str

    @property
    def issuer_changed(self) -> bool:
        return self.issuer_before != self.issuer_after


class IssuerKeys:
    """Issuer profiles and their keys, secrets wrapped by ``keystore`` and cached unwrapped in memory.

    Thread-safe; share one per process.
    """

    def __init__(self, storage: Storage, keystore: KeyStore) -> None:
        self.storage = storage
        self.keystore = keystore
        self._cache: dict[str, KeyFile] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"IssuerKeys({self.storage!r}, {self.keystore!r})"

    # -- profiles

    def create_profile(
        self,
        profile_id: str,
        *,
        key_type: KeyType = "Ed25519",
        controller: str | None = None,
        key: KeyFile | None = None,
        suites: Sequence[str] | None = None,
        name: str | None = None,
    ) -> ProfileRecord:
        """A profile with a first key: ``key`` (imported) or a new ``key_type`` key.

        ``controller`` is the profile's DID when it is not the key's did:key — a did:web whose DID
        document (published through the trust registry) lists `verification_methods`.
        """
        if key is None:
            if key_type not in KEY_TYPES:
                raise KeyStoreError(f"key type {key_type!r} is not one of {', '.join(KEY_TYPES)}")
            key = generate_key_file(key_type, controller=controller)
        elif controller is not None and key.controller != controller:
            raise KeyStoreError(f"the key's controller is {key.controller}, not {controller}")
        chosen = tuple(suites) if suites is not None else default_suites(key.secret_key.key_type)
        self._check_suites(chosen, key.secret_key.key_type)
        stored = self._wrap(profile_id, key, state="active")
        record = self.storage.create_profile(profile_id, issuer=key.controller, suites=chosen, name=name, first_key=stored)
        self._remember(key)
        return record

    def _check_suites(self, suites: Sequence[str], key_type: KeyType) -> None:
        for suite in suites:
            if suite not in ALL_SUITES:
                raise KeyStoreError(f"unknown cryptosuite {suite!r}; known: {', '.join(sorted(ALL_SUITES))}")
            if key_type not in ALL_SUITES[suite].key_types:
                raise KeyStoreError(f"cryptosuite {suite} cannot sign with a {key_type} key")

    # -- adding and rotating keys

    def import_key_file(self, profile_id: str, path: str | os.PathLike[str], *, activate: bool = True) -> StoredKey:
        """Add the key in a key file (`perseus.issuer.keyfile` format) to a profile."""
        return self.add_key(profile_id, read_key_file(path), activate=activate)

    def add_key(self, profile_id: str, key: KeyFile, *, activate: bool = True) -> StoredKey:
        """Add ``key`` to a profile; ``activate`` makes it the signing key (retiring the current one).

        A did:web profile only accepts keys its DID controls. A did:key profile accepts another
        did:key key only as its new active key — the profile's DID becomes that key's did:key.
        """
        return self._add_key(profile_id, key, activate=activate, new_suites=None)

    def _add_key(self, profile_id: str, key: KeyFile, *, activate: bool, new_suites: Sequence[str] | None) -> StoredKey:
        profile = self.storage.get_profile(profile_id)
        new_issuer = self._issuer_after(profile, key, activate)
        self._check_suites(new_suites or profile.suites, key.secret_key.key_type)
        self._check_opens_existing_keys(profile_id)
        stored = self._wrap(profile_id, key, state="active" if activate else "retired")
        self.storage.insert_key(stored, new_issuer=new_issuer, new_suites=new_suites)
        self._remember(key)
        return self.storage.get_key(stored.key_id)

    def _check_opens_existing_keys(self, profile_id: str) -> None:
        """Refuse to store a new key unless this key store opens every key the profile has.

        Otherwise a wrong passphrase (a typo in PERSEUS_KEY_PASSPHRASE, another data directory's
        passphrase file) would wrap the new key under it: the profile would then hold keys no single
        passphrase opens, and the service would fail at its next start-up instead of now.
        """
        for stored in self.storage.list_keys(profile_id):
            try:
                self._unwrap(stored)
            except KeyStoreError as exc:
                raise KeyStoreError(
                    f"not adding a key to profile {profile_id!r}: {exc.message}. Its keys must all open with one "
                    "passphrase; use the passphrase its keys were stored with"
                ) from None

    def _issuer_after(self, profile: ProfileRecord, key: KeyFile, activate: bool) -> str | None:
        if key.controller == profile.issuer:
            return None
        if profile.issuer.startswith("did:key:") and key.controller.startswith("did:key:"):
            if not activate:
                raise KeyStoreError(
                    f"profile {profile.profile_id!r} is did:key: another key has another DID, so it can only be added as the active key"
                )
            return key.controller
        raise KeyStoreError(
            f"key {key.id} is controlled by {key.controller}, but profile {profile.profile_id!r} issues as {profile.issuer}; "
            "generate the key with that controller"
        )

    def rotate(self, profile_id: str, *, key_type: KeyType | None = None) -> Rotation:
        """Generate a new active key (same type unless ``key_type``); the old one is retired, not deleted.

        Rotating to another key type also switches the profile to that type's suites (in the same
        transaction) when its current suites cannot sign with the new key.
        """
        profile = self.storage.get_profile(profile_id)
        old = self.storage.active_key(profile_id)
        new_type: KeyType = key_type or old.key_type  # type: ignore[assignment,unused-ignore]
        if new_type not in KEY_TYPES:
            raise KeyStoreError(f"key type {new_type!r} is not one of {', '.join(KEY_TYPES)}")
        fits = all(new_type in ALL_SUITES[s].key_types for s in profile.suites if s in ALL_SUITES)
        controller = None if profile.issuer.startswith("did:key:") else profile.issuer
        key = generate_key_file(new_type, controller=controller)
        self._add_key(profile_id, key, activate=True, new_suites=None if fits else default_suites(new_type))
        after = self.storage.get_profile(profile_id)
        return Rotation(
            retired=self.storage.get_key(old.key_id),
            active=self.storage.get_key(key.id),
            issuer_before=profile.issuer,
            issuer_after=after.issuer,
        )

    # -- keys to sign with

    def signing_key(self, profile_id: str) -> KeyFile:
        """The profile's active key (one database read; the secret comes from the cache)."""
        return self._unwrap(self.storage.active_key(profile_id))

    def signing_key_for(self, reservation: StatusReservation) -> KeyFile:
        """The key to sign a reserved credential with: the profile's active key *when the reservation
        was made*, read in the same transaction as its DID and status lists, so the three always
        agree even if a rotation lands while the credential is being signed. No database read."""
        if reservation.key_id is None:
            raise KeyNotFoundError(f"issuer profile {reservation.profile_id!r} has no active key; generate or import one")
        key = self.key(reservation.key_id)
        if key.controller != reservation.issuer:
            raise KeyStoreError(f"key {key.id} is controlled by {key.controller}, not by the reservation's issuer {reservation.issuer}")
        return key

    def key(self, key_id: str) -> KeyFile:
        """Any of the stored keys, active or retired, by verification method id."""
        with self._lock:
            cached = self._cache.get(key_id)
        return cached if cached is not None else self._unwrap(self.storage.get_key(key_id))

    def status_list_signer(self, profile_id: str, issuer: str) -> KeyFile:
        """The key to sign a status list of ``issuer`` with: the active key if that DID controls it,
        else the newest retired key of that DID (a did:key profile's lists from before a rotation)."""
        candidates = [k for k in self.storage.list_keys(profile_id) if k.controller == issuer]
        if not candidates:
            raise KeyNotFoundError(f"profile {profile_id!r} has no key controlled by {issuer} to sign its status list")
        candidates.sort(key=lambda k: (k.state != "active", -k.created_at.timestamp()))
        return self._unwrap(candidates[0])

    def verification_methods(self, profile_id: str) -> list[dict[str, str]]:
        """Public Multikey verification methods of the profile's current DID (active and retired),
        for its DID document: retired keys stay so that what they signed still verifies."""
        profile = self.storage.get_profile(profile_id)
        return [k.verification_method() for k in self.storage.list_keys(profile_id) if k.controller == profile.issuer]

    def list_keys(self, profile_id: str) -> list[dict[str, Any]]:
        """Public facts about every key of a profile (no secret, not even wrapped), newest first."""
        return [
            {
                "id": k.key_id,
                "controller": k.controller,
                "type": k.key_type,
                "publicKeyMultibase": k.public_key_multibase,
                "state": k.state,
                "created": _stamp(k.created_at),
                **({"retired": _stamp(k.retired_at)} if k.retired_at else {}),
            }
            for k in self.storage.list_keys(profile_id)
        ]

    # -- internals

    def _wrap(self, profile_id: str, key: KeyFile, *, state: str) -> StoredKey:
        return StoredKey(
            key_id=key.id,
            profile_id=profile_id,
            controller=key.controller,
            key_type=key.secret_key.key_type,
            public_key_multibase=key.public_key.multibase(),
            wrapped_secret=self.keystore.wrap(key.secret_key, key_id=key.id),
            keystore=self.keystore.name,
            state=state,  # type: ignore[arg-type]
            created_at=datetime.now(timezone.utc),
        )

    def _unwrap(self, stored: StoredKey) -> KeyFile:
        with self._lock:
            cached = self._cache.get(stored.key_id)
        if cached is not None:
            return cached
        if stored.keystore != self.keystore.name:
            raise KeyStoreError(f"key {stored.key_id} was stored by key store {stored.keystore!r}; this service uses {self.keystore.name!r}")
        secret_key = self.keystore.unwrap(stored.wrapped_secret, key_id=stored.key_id)
        if secret_key.public_key.multibase() != stored.public_key_multibase:
            raise KeyStoreError(f"key {stored.key_id} decrypted to a secret that does not match its public key")
        key = KeyFile(id=stored.key_id, controller=stored.controller, secret_key=secret_key)
        self._remember(key)
        return key

    def _remember(self, key: KeyFile) -> None:
        with self._lock:
            self._cache[key.id] = key


def _stamp(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
