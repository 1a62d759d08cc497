"""What one service process holds: storage, keys, status list publisher, tokens — and how it gets them.

`open_service(settings)` is called once per process (each uvicorn worker opens its own `Storage`,
as the storage layer requires). It also brings an empty data directory to a working state — the
*embedded defaults* — and is safe to run in several processes at once:

* the data directory is created (mode 0700);
* the key passphrase: ``PERSEUS_KEY_PASSPHRASE``, else ``PERSEUS_KEY_PASSPHRASE_FILE``, else
  ``<data dir>/key-passphrase``, generated (0600) on first start — keys are never stored in clear;
* the API tokens: ``PERSEUS_API_TOKENS``, else ``<data dir>/api-token``, generated (0600) on first
  start, so that issuing is never open to anyone who can reach the port;
* issuer profiles: those the config lists are created if missing; with none configured and none
  stored, one Ed25519 did:key profile (``default``) is generated and kept;
* every profile's active key is decrypted once, so a wrong passphrase stops the start-up with one
  clear sentence instead of failing the first issue request.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import httpx
import orjson
from perseus.verifier.loader import DocumentLoader
from perseus.verifier.status import HttpResponse

from ..keyfile import read_key_file
from ..keystore import IssuerKeys, KeyStore, PassphraseKeyStore, create_passphrase_file
from ..status import StatusListPublisher
from ..storage import ProfileExistsError, ProfileRecord, StatusListNotFoundError, Storage, open_storage
from .settings import ConfigError, Settings, TokenTable

__all__ = ["ProfileDirectory", "ServiceState", "StatusFetcher", "open_keys", "open_service"]

log = logging.getLogger("perseus.service")

STATUS_PATH = "/status/"
STATUS_LIST_MEDIA_TYPE = "application/vc+ld+json"


class ProfileDirectory:
    """Issuer profiles by id and by issuer DID, cached and re-read when a lookup misses.

    Profiles change outside this process (``perseus keys rotate`` gives a did:key profile a new
    DID), so a miss re-reads the table, and the cache is refreshed every ``ttl`` seconds anyway.
    """

    def __init__(self, storage: Storage, ttl: float = 5.0) -> None:
        self._storage = storage
        self._ttl = ttl
        self._lock = threading.Lock()
        self._by_id: dict[str, ProfileRecord] = {}
        self._by_issuer: dict[str, ProfileRecord] = {}
        self._loaded_at = float("-inf")

    def refresh(self) -> list[ProfileRecord]:
        records = self._storage.list_profiles()
        with self._lock:
            self._by_id = {r.profile_id: r for r in records}
            self._by_issuer = {r.issuer: r for r in records}
            self._loaded_at = time.monotonic()
        return records

    def _fresh(self) -> None:
        if time.monotonic() - self._loaded_at > self._ttl:
            self.refresh()

    def all(self) -> list[ProfileRecord]:
        self._fresh()
        with self._lock:
            return sorted(self._by_id.values(), key=lambda r: r.profile_id)

    def by_id(self, profile_id: str) -> ProfileRecord | None:
        self._fresh()
        found = self._by_id.get(profile_id)
        if found is None:
            found = {r.profile_id: r for r in self.refresh()}.get(profile_id)
        return found

    def by_issuer(self, issuer: str) -> ProfileRecord | None:
        self._fresh()
        found = self._by_issuer.get(issuer)
        if found is None:
            found = {r.issuer: r for r in self.refresh()}.get(issuer)
        return found


class StatusFetcher:
    """The `HttpGet` the verify endpoints check status with.

    A status list this service publishes (its URL starts with the service's own ``/status/``) is
    read from storage — never an HTTP request to itself, which could deadlock a busy worker and
    would trust the network for data already at hand. Any other URL is fetched with httpx, with a
    timeout and a size limit (the body is streamed and cut off past ``max_bytes``).
    """

    def __init__(self, state: ServiceState, *, timeout: float, max_bytes: int, transport: httpx.BaseTransport | None = None) -> None:
        self._state = state
        self._max_bytes = max_bytes
        self._client = httpx.Client(timeout=timeout, follow_redirects=True, max_redirects=3, transport=transport)

    def close(self) -> None:
        self._client.close()

    def __call__(self, url: str, headers: Mapping[str, str]) -> HttpResponse:
        list_id = self._state.own_list_id(url)
        if list_id is not None:
            try:
                published = self._state.publisher.publish(list_id)
            except StatusListNotFoundError:
                return HttpResponse(404, b"", {})
            return HttpResponse(200, orjson.dumps(published.credential), {"content-type": STATUS_LIST_MEDIA_TYPE})
        try:
            with self._client.stream("GET", url, headers=dict(headers)) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > self._max_bytes:
                        break
                return HttpResponse(response.status_code, bytes(body), {k.lower(): v for k, v in response.headers.items()})
        except Exception as exc:  # noqa: BLE001 - any failure of the HTTP client is a failure to retrieve the list
            log.warning("fetching status list %s failed: %s: %s", url, type(exc).__name__, exc)
            raise OSError(f"{type(exc).__name__}: {exc}") from None


@dataclass
class ServiceState:
    """One process's service: built by `open_service`, closed by `close`."""

    settings: Settings
    storage: Storage
    keys: IssuerKeys
    tokens: TokenTable
    profiles: ProfileDirectory
    loader: DocumentLoader
    base_url: str
    publisher: StatusListPublisher = field(init=False)
    status_fetcher: StatusFetcher = field(init=False)

    def __post_init__(self) -> None:
        self.publisher = StatusListPublisher(self.storage, self.keys, self.list_url, loader=self.loader)
        self.status_fetcher = StatusFetcher(
            self, timeout=self.settings.status_fetch_timeout, max_bytes=self.settings.status_fetch_max_bytes
        )

    def list_url(self, list_id: str) -> str:
        """The stable public URL of a status list credential."""
        return f"{self.base_url}{STATUS_PATH}{quote(list_id, safe='')}"

    def own_list_id(self, url: str) -> str | None:
        """The list id if ``url`` is one of this service's status list URLs, else None."""
        prefix = self.base_url + STATUS_PATH
        if not isinstance(url, str) or not url.startswith(prefix):
            return None
        rest = url[len(prefix) :].split("#", 1)[0].split("?", 1)[0]
        return unquote(rest) if rest and "/" not in rest else None

    def close(self) -> None:
        self.status_fetcher.close()
        self.storage.close()


# -- opening ------------------------------------------------------------------------------------------------


def open_service(settings: Settings, *, keystore: KeyStore | None = None, storage: Storage | None = None) -> ServiceState:
    """Open (and on first start, set up) the service described by ``settings``.

    ``keystore`` / ``storage`` replace the configured ones (tests use a cheap scrypt cost; a KMS
    deployment passes its own `KeyStore`).
    """
    _make_data_dir(settings.data_dir)
    chosen_keystore = keystore or passphrase_keystore(settings)
    tokens = api_tokens(settings)
    opened = storage or open_storage(settings.resolved_database_url, pool_size=16)
    try:
        keys = IssuerKeys(opened, chosen_keystore)
        ensure_profiles(keys, settings)
        directory = ProfileDirectory(opened)
        records = directory.refresh()
        _check_keys_open(keys, records)
        unknown = tokens.profiles_named() - {r.profile_id for r in records}
        if unknown:
            log.warning("API tokens name profiles that do not exist: %s", ", ".join(sorted(unknown)))
        return ServiceState(
            settings=settings,
            storage=opened,
            keys=keys,
            tokens=tokens,
            profiles=directory,
            loader=DocumentLoader(),
            base_url=settings.resolved_base_url,
        )
    except BaseException:
        if storage is None:
            opened.close()
        raise


def open_keys(settings: Settings) -> IssuerKeys:
    """Storage and keys only, for ``perseus keys`` (no tokens, no default profile); close ``.storage``."""
    _make_data_dir(settings.data_dir)
    keystore = passphrase_keystore(settings)
    return IssuerKeys(open_storage(settings.resolved_database_url), keystore)


def _check_keys_open(keys: IssuerKeys, records: list[ProfileRecord]) -> None:
    """Decrypt every active key once (it stays cached): a wrong passphrase fails here, at start-up."""
    for record in records:
        keys.signing_key(record.profile_id)  # raises KeyStoreError (wrong passphrase) or KeyNotFoundError


def _make_data_dir(path: Path) -> None:
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the data directory {path}: {exc.strerror or exc}") from None
    if not path.is_dir():
        raise ConfigError(f"the data directory {path} is not a directory")


def passphrase_keystore(settings: Settings) -> PassphraseKeyStore:
    """The key store for the configured passphrase, generating the data directory's own on first start."""
    if settings.key_passphrase is not None:
        return PassphraseKeyStore(settings.key_passphrase.get_secret_value())
    if settings.key_passphrase_file is not None:
        return PassphraseKeyStore.from_file(settings.key_passphrase_file)
    path = settings.passphrase_file
    if create_passphrase_file(path):
        log.info("generated a key passphrase in %s (keys are stored encrypted with it; back it up with the database)", path)
    return PassphraseKeyStore.from_file(path)


def api_tokens(settings: Settings) -> TokenTable:
    """The configured tokens, or the data directory's generated one."""
    if settings.api_tokens:
        return TokenTable.parse(settings.api_tokens)
    path = settings.token_file
    if _create_secret_file(path, secrets.token_urlsafe(32)):
        log.info("generated an API token in %s (send it as 'Authorization: Bearer <token>' to issue)", path)
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"cannot read the API token file {path}: {exc.strerror or exc}") from None
    return TokenTable.parse([token])


def _create_secret_file(path: Path, content: str) -> bool:
    """Write ``content`` to a new 0600 file atomically unless ``path`` exists; True if created."""
    if path.exists():
        return False
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(content + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temp_name, path)
        except FileExistsError:
            return False
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)


def ensure_profiles(keys: IssuerKeys, settings: Settings) -> list[ProfileRecord]:
    """Create the configured profiles that do not exist yet (or the default one); return all profiles."""
    existing = {p.profile_id for p in keys.storage.list_profiles()}
    wanted = list(settings.profiles)
    if not wanted and not existing:
        from .settings import ProfileConfig

        wanted = [ProfileConfig(id=settings.default_profile, key_type="Ed25519")]
    for profile in wanted:
        if profile.id in existing:
            continue
        kwargs: dict[str, Any] = {"suites": profile.suites, "name": profile.name}
        if profile.key_file is not None:
            kwargs["key"] = read_key_file(profile.key_file)
            if profile.controller is not None:
                kwargs["controller"] = profile.controller
        else:
            kwargs["key_type"] = profile.key_type
            kwargs["controller"] = profile.controller
        try:
            record = keys.create_profile(profile.id, **kwargs)
        except ProfileExistsError:
            continue  # another worker created it first
        log.info("created issuer profile %r: %s (%s)", record.profile_id, record.issuer, ", ".join(record.suites))
    return keys.storage.list_profiles()
