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
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import orjson
from perseus.verifier.loader import DocumentLoader
from perseus.verifier.outbound import OutboundClient, OutboundLimitError, OutboundPolicy, Resolver, system_resolver
from perseus.verifier.status import HttpResponse

from ..keyfile import read_key_file
from ..keystore import IssuerKeys, KeyStore, PassphraseKeyStore, create_passphrase_file
from ..status import StatusListPublisher
from ..storage import ProfileExistsError, ProfileRecord, StatusListNotFoundError, Storage, open_storage
from .registry_source import RegistrySource
from .settings import ConfigError, Settings, TokenTable

__all__ = ["ProfileDirectory", "ServiceState", "StatusFetcher", "check_deployment", "open_keys", "open_service"]

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
        self._issuer_dids: frozenset[str] = frozenset()
        self._loaded_at = float("-inf")

    def refresh(self) -> list[ProfileRecord]:
        records = self._storage.list_profiles()
        # Every DID this service issues or issued as: a did:key profile's DID changes when its key is
        # rotated, and what the old DID signed is still this service's.
        dids = {r.issuer for r in records}
        for record in records:
            dids.update(k.controller for k in self._storage.list_keys(record.profile_id))
        with self._lock:
            self._by_id = {r.profile_id: r for r in records}
            self._by_issuer = {r.issuer: r for r in records}
            self._issuer_dids = frozenset(dids)
            self._loaded_at = time.monotonic()
        return records

    def knows_issuer(self, issuer: object) -> bool:
        """Whether ``issuer`` is a DID this service issues (or issued) as.

        A miss re-reads the profiles at most once a second: verify is open to anyone, and a flood of
        credentials naming unknown issuers must not become a flood of database reads.
        """
        if not isinstance(issuer, str):
            return False
        self._fresh()
        if issuer in self._issuer_dids:
            return True
        if time.monotonic() - self._loaded_at > 1.0:
            self.refresh()
        return issuer in self._issuer_dids

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
    """The `HttpGet` one verify request checks status with: its own lists from storage, others under a policy.

    A status list this service publishes (its URL starts with the service's own ``/status/``) is
    read from storage — never an HTTP request to itself, which could deadlock a busy worker and
    would trust the network for data already at hand. Any other URL goes to an `OutboundClient`
    (public addresses only unless allowed, no redirects, one deadline for the whole request, a
    size cap) — unless ``own_only`` (the credential's issuer is one of this service's DIDs, whose
    lists live here) or ``refusal`` (the request names too many lists) says not to fetch at all.
    """

    def __init__(self, state: ServiceState, client: OutboundClient, *, own_only: bool = False, refusal: str | None = None) -> None:
        self._state = state
        self._client = client
        self._own_only = own_only
        self._refusal = refusal

    @property
    def max_urls(self) -> int:
        """Distinct status list URLs per request (`status_check_online` refuses a credential naming more)."""
        return self._client.max_urls

    @property
    def max_bytes(self) -> int:
        """The largest status list read (`fetch_status_list` reports a longer one as too large)."""
        return self._client.max_bytes

    def for_own_issuer(self) -> StatusFetcher:
        """The same request's fetcher (same deadline and count) that never fetches over HTTP."""
        return StatusFetcher(self._state, self._client, own_only=True, refusal=self._refusal)

    def __call__(self, url: str, headers: Mapping[str, str]) -> HttpResponse:
        if self._refusal is not None:
            raise OutboundLimitError(self._refusal)
        list_id = self._state.own_list_id(url)
        if list_id is not None:
            try:
                published = self._state.publisher.publish(list_id)
            except StatusListNotFoundError:
                return HttpResponse(404, b"", {})
            return HttpResponse(200, orjson.dumps(published.credential), {"content-type": STATUS_LIST_MEDIA_TYPE})
        if self._own_only:
            raise OutboundLimitError(
                "not fetched: the credential's issuer is one of this service's own, whose status lists are read from "
                f"its storage under {self._state.base_url}{STATUS_PATH}, never over HTTP"
            )
        return self._client(url, headers)


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
    outbound_policy: OutboundPolicy = field(init=False)
    resolver: Resolver = system_resolver  # tests replace it to play DNS tricks without a DNS server
    registry: RegistrySource | None = None  # the trust registry snapshot (PERSEUS_REGISTRY_SNAPSHOT), if configured

    def __post_init__(self) -> None:
        self.publisher = StatusListPublisher(self.storage, self.keys, self.list_url, loader=self.loader)
        self.outbound_policy = OutboundPolicy(
            allowed_hosts=frozenset(self.settings.status_fetch_allowed_hosts),
            deadline=self.settings.status_fetch_timeout,
            max_urls=self.settings.status_fetch_max_lists,
            max_bytes=self.settings.status_fetch_max_bytes,
        )

    def status_client(self, named_urls: Collection[str] = ()) -> StatusFetcher:
        """A fresh `StatusFetcher` for one verify request (its own deadline and URL count).

        ``named_urls`` are the distinct status list URLs the request names: more than the policy's
        ``max_urls`` and nothing is fetched at all (not the first few), with a reason saying so.
        """
        client = OutboundClient(self.outbound_policy, resolver=self.resolver)
        refusal = None
        if len(named_urls) > self.outbound_policy.max_urls:
            refusal = (
                f"not fetched: the request names {len(named_urls)} distinct status lists; this service checks at most "
                f"{self.outbound_policy.max_urls} per request"
            )
        return StatusFetcher(self, client, refusal=refusal)

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
        self.storage.close()


# -- opening ------------------------------------------------------------------------------------------------


def open_service(settings: Settings, *, keystore: KeyStore | None = None, storage: Storage | None = None) -> ServiceState:
    """Open (and on first start, set up) the service described by ``settings``.

    ``keystore`` / ``storage`` replace the configured ones (tests use a cheap scrypt cost; a KMS
    deployment passes its own `KeyStore`).
    """
    check_deployment(settings)
    registry = RegistrySource.from_settings(settings)
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
            registry=registry,
        )
    except BaseException:
        if storage is None:
            opened.close()
        raise


def check_deployment(settings: Settings) -> None:
    """Refuse settings that start but then serve wrong answers; raises `ConfigError` with the fix.

    On PostgreSQL (the database for several replicas) ``base_url`` must be set. Replicas share the
    status lists, and a signed list carries the URL it is published at as its ``id``; without a
    configured public URL each replica makes one up from its own host and port, signs the shared
    list under it, and every credential another replica issued then fails its status check (the
    list's ``id`` is not the URL its entries name). The operator knows the public URL — the load
    balancer's — and no replica can guess it, so asking is the only fix that gives right answers.
    """
    scheme = settings.resolved_database_url.partition(":")[0].partition("+")[0].lower()
    if scheme in ("postgresql", "postgres") and not settings.base_url:
        raise ConfigError(
            "a service on PostgreSQL needs its public URL: set PERSEUS_BASE_URL (or --base-url, or base_url in the config "
            "file) to the one URL every replica is reached at, e.g. https://issuer.example; status list URLs are built on "
            "it, and replicas that each made up their own would sign the shared lists under different URLs"
        )


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
