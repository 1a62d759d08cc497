"""The SME's wallet: its DID and key, the permissions it grants and withdraws, the credentials it receives.

A holder is a small issuer — it signs permission credentials and a status list — so the wallet reuses the
issuer's machinery rather than re-implementing it: `perseus.issuer.storage` (SQLite by default) holds the
holder's key *encrypted* by `perseus.issuer.keystore` (scrypt + AES-GCM), the issuance log of the permissions
it granted, and the status list in which a set bit means "withdrawn" (`perseus.issuer.status`: random,
never-reused positions, a signed ``BitstringStatusListCredential`` it can hand over or serve). Credentials it
receives (consumption from its data provider, reports from its accountant) go in a second SQLite file,
each one encrypted with AES-256-GCM under a data key that the keystore wraps, with the credential's id
as associated data (a row copied onto another id does not decrypt).

    holder = Holder.init(Path("~/.perseus-wallet"))        # did:key + passphrase file (0600) on first use
    signed = holder.grant(PermissionTerms(...))              # a signed PermissionCredential with a status entry
    holder.withdraw(signed["id"])                            # final: the bit is set, the list re-signed
    holder.status_lists()                                    # the signed lists to hand to recipients
    vp = holder.present(request)                             # answer a Verifiable Presentation Request

The directory layout: ``holder.sqlite`` (keys, permissions, status lists), ``received.sqlite`` (received
credentials, encrypted), ``passphrase`` (0600, unless ``PERSEUS_KEY_PASSPHRASE`` is set), ``holder.json``
(public settings: the status list base URL).
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from perseus.verifier.credential import VC_V2_CONTEXT
from perseus.verifier.dates import utc_now
from perseus.verifier.errors import PerseusError
from perseus.verifier.keys import SecretKey
from perseus.verifier.permission import PERMISSION_TYPE, Permission, read_permission

from ..keystore import PASSPHRASE_ENV, PASSPHRASE_FILE_ENV, IssuerKeys, KeyStore, PassphraseKeyStore, create_passphrase_file
from ..signing import sign_document
from ..status import StatusListPublisher, attach_status, change_status, status_entries
from ..storage import open_storage
from ..storage.errors import StorageError
from .permissions import PermissionTerms, build_permission

__all__ = ["DEFAULT_STATUS_BASE", "Holder", "HolderError", "GrantedPermission"]

PROFILE: Final = "holder"
DEFAULT_STATUS_BASE: Final = "https://wallet.perseus.invalid/status/"
_STORE_KEY_ID: Final = "urn:perseus:holder:received-credentials-key"
_MAX_CREDENTIAL_BYTES: Final = 20 * 1024 * 1024


class HolderError(PerseusError):
    """The wallet cannot do what was asked (not initialised, unknown credential, bad input): the reason says why."""

    code = "HOLDER_ERROR"


@dataclass(frozen=True)
class GrantedPermission:
    """A permission this holder granted, and whether it has been withdrawn."""

    credential: dict[str, Any]
    permission: Permission
    withdrawn: bool
    granted_at: datetime

    def describe(self, now: datetime | None = None) -> str:
        now = now or utc_now()
        state = "WITHDRAWN" if self.withdrawn else "expired" if now >= self.permission.expires else "active"
        text = self.permission.describe()
        if state != "active":
            text = text.replace("You are sharing", "You shared", 1)
        return f"[{state}] {self.permission.id}\n  {text}"


def _keystore_for(directory: Path, create: bool) -> KeyStore:
    if os.environ.get(PASSPHRASE_ENV) or os.environ.get(PASSPHRASE_FILE_ENV):
        return PassphraseKeyStore.from_environment()
    path = directory / "passphrase"
    if create:
        create_passphrase_file(path)
    if not path.exists():
        raise HolderError(f"no wallet passphrase: {path} is missing and {PASSPHRASE_ENV} is not set")
    return PassphraseKeyStore.from_file(path)


class Holder:
    """One SME's wallet in one directory (see the module documentation)."""

    def __init__(self, directory: Path, keystore: KeyStore, *, status_base: str) -> None:
        self.directory = directory
        self.storage = open_storage(f"sqlite:///{directory / 'holder.sqlite'}")
        self.keys = IssuerKeys(self.storage, keystore)
        self._keystore = keystore
        self.status_base = status_base
        self.publisher = StatusListPublisher(self.storage, self.keys, self.list_url)
        self._received_path = directory / "received.sqlite"
        self._data_key: bytes | None = None

    # -- lifecycle

    @classmethod
    def init(cls, directory: str | os.PathLike[str], *, key_type: str = "Ed25519", status_base: str = DEFAULT_STATUS_BASE) -> Holder:
        """Create the wallet (a new did:key, encrypted at rest) or open the one already there."""
        path = Path(directory).expanduser()
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        settings = path / "holder.json"
        if not settings.exists():
            if not status_base.endswith("/") or "://" not in status_base:
                raise HolderError(f"the status list base URL must be an absolute URL ending in '/', got {status_base!r}")
            settings.write_text(json.dumps({"statusBase": status_base}) + "\n", encoding="utf-8")
        holder = cls._open(path, create=True)
        if not any(p.profile_id == PROFILE for p in holder.storage.list_profiles()):
            holder.keys.create_profile(PROFILE, key_type=key_type, name="SME wallet")  # type: ignore[arg-type]
        return holder

    @classmethod
    def open(cls, directory: str | os.PathLike[str]) -> Holder:
        """Open an existing wallet; `HolderError` when `init` was never run there."""
        path = Path(directory).expanduser()
        if not (path / "holder.json").exists():
            raise HolderError(f"there is no wallet in {path}; run `perseus holder init --wallet {path}` first")
        return cls._open(path, create=False)

    @classmethod
    def _open(cls, path: Path, *, create: bool) -> Holder:
        try:
            settings = json.loads((path / "holder.json").read_text(encoding="utf-8"))
            base = settings["statusBase"]
        except (OSError, ValueError, KeyError, TypeError):
            raise HolderError(f"{path / 'holder.json'} is unreadable; it should hold {{\"statusBase\": URL}}") from None
        return cls(path, _keystore_for(path, create), status_base=base)

    def close(self) -> None:
        self.storage.close()

    def __enter__(self) -> Holder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def did(self) -> str:
        return self.storage.get_profile(PROFILE).issuer

    def list_url(self, list_id: str) -> str:
        return self.status_base + list_id

    # -- permissions

    def grant(self, terms: PermissionTerms, *, now: datetime | None = None) -> dict[str, Any]:
        """Sign a `PermissionCredential` for ``terms`` with a withdrawal (revocation) status entry, and log it."""
        unsigned = build_permission(self.did, terms)
        reservation = self.storage.reserve_status(PROFILE, unsigned["id"], purposes=("revocation",))
        credential = attach_status(unsigned, status_entries(reservation, self.list_url))
        signed = sign_document(credential, self.keys.signing_key_for(reservation), created=now)
        self.storage.save_issued(reservation, signed)
        return signed

    def withdraw(self, credential_id: str) -> GrantedPermission:
        """Withdraw a permission (final): its bit is set and the status list is re-signed at once."""
        try:
            issued = self.storage.get_issued(credential_id)
        except StorageError:
            raise HolderError(f"this wallet granted no permission {credential_id}") from None
        change_status(self.storage, credential_id, "revoke")
        for entry in issued.entries:
            self.publisher.publish(entry.list_id)
        return next(p for p in self.permissions() if p.permission.id == credential_id)

    def permissions(self) -> list[GrantedPermission]:
        """Every permission this wallet granted, newest first."""
        out = []
        # The storage layer has no listing of its issuance log (an issuer's is huge); a wallet's is small.
        with closing(sqlite3.connect(self.directory / "holder.sqlite")) as db:
            ids = [row[0] for row in db.execute("SELECT credential_id FROM perseus_issued_credentials ORDER BY issued_at DESC")]
        for cid in ids:
            issued = self.storage.get_issued(cid)
            credential = issued.credential
            if PERMISSION_TYPE not in (credential.get("type") or []):
                continue
            out.append(GrantedPermission(credential, read_permission(credential), bool(issued.status.get("revocation")), issued.issued_at))
        return out

    def status_lists(self) -> list[dict[str, Any]]:
        """The signed status list credentials of this wallet's permissions (hand them over, or serve them)."""
        return [self.publisher.credential(r.list_id) for r in self.storage.list_status_lists(PROFILE)]

    # -- received credentials (encrypted at rest)

    def _db(self) -> sqlite3.Connection:
        db = sqlite3.connect(self._received_path)
        db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL)")
        db.execute("CREATE TABLE IF NOT EXISTS received (id TEXT PRIMARY KEY, nonce BLOB NOT NULL, ciphertext BLOB NOT NULL)")
        return db

    def _key(self, db: sqlite3.Connection) -> bytes:
        if self._data_key is None:
            row = db.execute("SELECT value FROM meta WHERE name = 'data-key'").fetchone()
            if row is None:
                secret = SecretKey.generate("Ed25519")  # 32 random bytes, wrapped by the keystore like any key
                db.execute("INSERT INTO meta VALUES ('data-key', ?)", (self._keystore.wrap(secret, key_id=_STORE_KEY_ID),))
                db.commit()
            else:
                secret = self._keystore.unwrap(bytes(row[0]), key_id=_STORE_KEY_ID)
            self._data_key = HKDF(hashes.SHA256(), 32, salt=None, info=b"perseus holder received credentials v1").derive(secret.raw_bytes())
        return self._data_key

    def store(self, credential: Any) -> str:
        """Keep a received credential (encrypted); its id. Storing the same id again replaces it."""
        if not isinstance(credential, Mapping) or not isinstance(credential.get("id"), str) or "type" not in credential:
            raise HolderError("only a credential with an id and a type can be stored")
        text = json.dumps(credential, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        if len(text) > _MAX_CREDENTIAL_BYTES:
            raise HolderError(f"the credential is larger than {_MAX_CREDENTIAL_BYTES // (1024 * 1024)} MiB")
        envelope = json.dumps({"receivedAt": utc_now().isoformat()}).encode() + b"\n" + text
        with closing(self._db()) as db:
            nonce = os.urandom(12)
            sealed = AESGCM(self._key(db)).encrypt(nonce, envelope, credential["id"].encode("utf-8"))
            db.execute("INSERT OR REPLACE INTO received VALUES (?, ?, ?)", (credential["id"], nonce, sealed))
            db.commit()
        return str(credential["id"])

    def received(self) -> list[dict[str, Any]]:
        """Every stored credential, decrypted."""
        with closing(self._db()) as db:
            rows = list(db.execute("SELECT id, nonce, ciphertext FROM received ORDER BY id"))
            return [self._open_row(db, *row) for row in rows]

    def show(self, credential_id: str) -> dict[str, Any]:
        with closing(self._db()) as db:
            row = db.execute("SELECT id, nonce, ciphertext FROM received WHERE id = ?", (credential_id,)).fetchone()
            if row is None:
                raise HolderError(f"no credential {credential_id} in this wallet (perseus holder list shows what is there)")
            return self._open_row(db, *row)

    def _open_row(self, db: sqlite3.Connection, cid: str, nonce: bytes, sealed: bytes) -> dict[str, Any]:
        try:
            plain = AESGCM(self._key(db)).decrypt(bytes(nonce), bytes(sealed), cid.encode("utf-8"))
        except InvalidTag:
            raise HolderError(f"stored credential {cid} does not decrypt: it was altered, or moved from another row") from None
        return json.loads(plain.split(b"\n", 1)[1])

    # -- presenting

    def present(
        self,
        request: Mapping[str, Any],
        *,
        credentials: Sequence[Mapping[str, Any]] | None = None,
        expected_domain: str | None = None,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """A signed Verifiable Presentation answering a Verifiable Presentation Request.

        Its proof has purpose ``authentication``, the request's ``challenge`` and ``domain``; ``holder`` is this
        wallet's DID. It carries the stored credentials the request's QueryByExample asks for (by type, and by
        supply point when the example names one), the active permissions for the example's recipient, and the
        signed status list(s) that show those permissions are not withdrawn. ``expected_domain`` is the
        channel the request came over: a request for another domain is refused (a relayed request).
        """
        challenge, domain = request.get("challenge"), request.get("domain")
        if not isinstance(challenge, str) or not challenge or not isinstance(domain, str) or not domain:
            raise HolderError("the presentation request has no challenge or no domain; a presentation without them could be replayed")
        if expected_domain is not None and domain != expected_domain:
            raise HolderError(f"the request is for domain {domain}, but it came from {expected_domain}: refusing to answer a relayed request")
        queries = [q for q in _list(request.get("query")) if isinstance(q, Mapping)]
        examples = [
            cq.get("example", {})
            for q in queries
            if q.get("type") == "QueryByExample"
            for cq in _list(q.get("credentialQuery"))
            if isinstance(cq, Mapping) and isinstance(cq.get("example", {}), Mapping)
        ]
        pool = list(credentials) if credentials is not None else self.received()
        chosen: list[Mapping[str, Any]] = []
        now = now or utc_now()
        for example in examples:
            wanted_types = set(_list(example.get("type"))) - {"VerifiableCredential"}
            subject = example.get("credentialSubject") if isinstance(example.get("credentialSubject"), Mapping) else {}
            if PERMISSION_TYPE in wanted_types:
                recipient = subject.get("recipient")
                for granted in self.permissions():
                    if not granted.withdrawn and now < granted.permission.expires and granted.permission.recipient == recipient:
                        chosen.append(granted.credential)
                continue
            for credential in pool:
                if wanted_types <= set(_list(credential.get("type"))) and _matches(credential.get("credentialSubject"), subject):
                    chosen.append(credential)
        unique = list({c["id"]: c for c in chosen}.values())
        if any(PERMISSION_TYPE in _list(c.get("type")) for c in unique):
            unique.extend(self.status_lists())
        presentation = {
            "@context": [VC_V2_CONTEXT],
            "id": f"urn:uuid:{uuid.uuid4()}",
            "type": ["VerifiablePresentation"],
            "holder": self.did,
            "verifiableCredential": unique,
        }
        key = self.keys.signing_key(PROFILE)
        # The presentation's proof only binds holder, challenge and domain to what it carries; each credential
        # inside keeps its own (RDFC) proof. JCS signs the JSON bytes, so the holder does not canonicalize a
        # month of readings a second time (~100 ms), and neither does the recipient.
        suite = "eddsa-jcs-2022" if key.secret_key.key_type == "Ed25519" else "ecdsa-jcs-2019"
        return sign_document(presentation, key, suite=suite, proof_purpose="authentication", challenge=challenge, domain=domain, created=now)


def _list(value: Any) -> list[Any]:
    return [] if value is None else value if isinstance(value, list) else [value]


def _matches(subject: Any, example: Mapping[str, Any]) -> bool:
    """QueryByExample matching for the fields a Perseus request uses: supply point and period containment."""
    if not example:
        return True
    if not isinstance(subject, Mapping):
        return False
    point = example.get("supplyPoint")
    if isinstance(point, Mapping):
        have = subject.get("supplyPoint") if isinstance(subject.get("supplyPoint"), Mapping) else {}
        for key in ("mpan", "mprn", "measure"):
            if key in point and have.get(key) != point[key]:
                return False
    for key, later in (("periodStart", False), ("periodEnd", True)):
        if key in example:
            try:
                want = datetime.fromisoformat(str(example[key]).replace("Z", "+00:00"))
                have_at = datetime.fromisoformat(str(subject.get(key)).replace("Z", "+00:00"))
            except ValueError:
                return False
            if (have_at < want) if later else (have_at > want):
                return False
    return True

