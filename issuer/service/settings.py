"""The service's settings: embedded defaults, a TOML config file, ``PERSEUS_*`` environment variables.

Precedence, highest first: values passed in code (``perseus serve`` options) → environment variables
→ the config file (``--config FILE`` or ``PERSEUS_CONFIG``) → the embedded defaults. The defaults
run a real service with nothing configured: a data directory (``./.perseus``, or
``PERSEUS_DATA_DIR``) holding the SQLite database, a generated key passphrase and a generated API
token, each file mode 0600.

A config file looks like this (every key is optional)::

    data_dir = "/var/lib/perseus"
    database_url = "postgresql://db.internal/perseus"
    base_url = "https://issuer.example"         # public URL: status list URLs are built on it (required on PostgreSQL)
    status_fetch_allowed_hosts = ["status.internal"]   # verify: may fetch lists from these non-public hosts
    api_tokens = ["s3cret-for-ci", "ops-token=eddsa|ecdsa-p256"]

    [[profiles]]                                # created on first start, left alone afterwards
    id = "eddsa"
    key_type = "Ed25519"

    [[profiles]]
    id = "supplier"
    key_file = "/etc/perseus/supplier-key.json" # import this key instead of generating one
    suites = ["eddsa-rdfc-2022"]

Verifying and outbound requests. ``/credentials/verify`` and ``/presentations/verify`` are open to
anyone, and a credential names the URL of its status list, so the service fetches only under a policy
(`perseus.verifier.outbound`): nothing is fetched for a credential without a verified proof by its
issuer's key; this service's own lists are read from its database; redirects are never followed; and
these settings bound the rest:

* ``status_fetch_allowed_hosts`` (``PERSEUS_STATUS_FETCH_ALLOWED_HOSTS``, comma-separated; default
  none) — host names or IP addresses fetched from even though they are loopback, private,
  link-local or otherwise not public (a status service on the internal network). Everything else must
  resolve only to public addresses, checked after resolution and connected to as checked;
* ``status_fetch_timeout`` (``PERSEUS_STATUS_FETCH_TIMEOUT``, seconds; default 5) — one deadline for
  all the fetches of one request together, not per URL;
* ``status_fetch_max_lists`` (``PERSEUS_STATUS_FETCH_MAX_LISTS``; default 16) — distinct status list
  URLs one request may name; past it nothing is fetched and the status check says why;
* ``status_fetch_max_bytes`` (``PERSEUS_STATUS_FETCH_MAX_BYTES``; default 1 MiB) — the largest status
  list credential read (one of a million random entries is ~170 KB).

* ``registry_snapshot`` (``PERSEUS_REGISTRY_SNAPSHOT``) — a signed trust-registry snapshot file (written
  by `perseus registry snapshot -o FILE`, replaced by a daily job); with it, the verify endpoints add the
  ``accreditation`` check and enforce the issuer binding for every issuer the registry knows, and exchanges
  check recipients against it. Re-read when the file changes;
* ``registry_trust_anchor`` (``PERSEUS_REGISTRY_TRUST_ANCHOR``) — the operator's key that must have signed
  it (a did:key; comma-separate several); required with the snapshot;
* ``registry_grace_seconds`` (``PERSEUS_REGISTRY_GRACE_SECONDS``; default 0) — how long past its
  ``nextUpdate`` a snapshot is still accepted.

On PostgreSQL, ``base_url`` is required (`perseus.issuer.service.state.check_deployment` says why).

Why a token may be bound to profiles (``token=profile1|profile2``): one service can issue as several
organisations (each its own DID and key), and a script allowed to issue as one must not be able to
issue — or revoke — as another. A bare token may use every profile.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from perseus.verifier.errors import PerseusError
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_MAX_BODY_BYTES",
    "ConfigError",
    "ProfileConfig",
    "Settings",
    "TokenTable",
    "load_settings",
]

CONFIG_ENV = "PERSEUS_CONFIG"
DATA_DIR_ENV = "PERSEUS_DATA_DIR"
# A year of half-hourly readings (17,520) as an EnergyConsumptionCredential is ~3.3 MB of JSON
# (a month, examples/credentials/electricity-halfhourly-2023-10.json, is 274 KB); 10 MiB leaves room
# for a year of import *and* export readings in one request.
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
DEFAULT_PORT = 8080
# Outbound status list fetches (see "Verifying and outbound requests" above).
DEFAULT_STATUS_FETCH_DEADLINE = 5.0
DEFAULT_STATUS_FETCH_MAX_BYTES = 1024 * 1024
DEFAULT_STATUS_FETCH_MAX_LISTS = 16


class ConfigError(PerseusError):
    """The configuration cannot be used: a bad TOML file, an unknown key, a value of the wrong kind."""

    code = "CONFIG_ERROR"


class ProfileConfig(BaseModel):
    """An issuer profile the service should have; created on first start if missing, never changed after."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    key_type: Literal["Ed25519", "P-256", "P-384"] = "Ed25519"
    key_file: Path | None = None
    controller: str | None = None
    suites: tuple[str, ...] | None = None
    name: str | None = None


class Settings(BaseSettings):
    """Everything the service and ``perseus serve`` read; see the module documentation for sources."""

    model_config = SettingsConfigDict(env_prefix="PERSEUS_", extra="forbid", frozen=True, populate_by_name=True)

    config: Path | None = None
    data_dir: Path = Path(".perseus")
    database_url: str | None = None
    base_url: str | None = None
    # PERSEUS_API_TOKENS is comma-separated (the contract), not JSON: NoDecode, then split.
    api_tokens: Annotated[tuple[str, ...], NoDecode] = ()
    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, ge=1024)
    profiles: tuple[ProfileConfig, ...] = ()
    default_profile: str = "default"
    key_passphrase: SecretStr | None = None
    key_passphrase_file: Path | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    # Status lists of other issuers are fetched under these limits when verifying (module docs).
    status_fetch_timeout: float = Field(default=DEFAULT_STATUS_FETCH_DEADLINE, gt=0, le=60)
    status_fetch_max_bytes: int = Field(default=DEFAULT_STATUS_FETCH_MAX_BYTES, ge=1024, le=64 * 1024 * 1024)
    status_fetch_max_lists: int = Field(default=DEFAULT_STATUS_FETCH_MAX_LISTS, ge=1, le=1000)
    status_fetch_allowed_hosts: Annotated[tuple[str, ...], NoDecode] = ()
    # The trust registry (registry_source.py): verify issuers' accreditation, and exchanges' recipients.
    registry_snapshot: Path | None = None
    registry_trust_anchor: str | None = None
    registry_grace_seconds: int = Field(default=0, ge=0, le=30 * 86400)
    # Issue requests up to this size are signed on the event loop's thread (no thread hop: faster
    # for small credentials); larger ones go to the thread pool so the loop keeps serving.
    inline_max_bytes: int = Field(default=64 * 1024, ge=0)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    access_log: bool = True
    # -- resource limits (anonymous verify must not starve issuing; slow or idle clients must not hold
    # connections). Verifications run at most `verify_concurrency` at once, each parsing its body inside
    # its slot; up to `verify_queue` more wait at most `verify_queue_timeout` s, and past that the answer
    # is 503 with Retry-After. `verify_max_inflight_bytes` bounds the bodies being verified at once (a
    # verification's memory grows with its body); one body larger than it still runs, alone.
    # Verifications run in this many worker processes (0: in threads of the service process). Unset, it is
    # 1 under `perseus serve` and 0 for an app built in-process (tests, embedding); see verify_pool.py.
    verify_processes: int | None = Field(default=None, ge=0, le=64)
    verify_concurrency: int = Field(default=2, ge=1, le=256)
    verify_queue: int = Field(default=16, ge=0, le=10_000)
    verify_queue_timeout: float = Field(default=10.0, ge=0, le=600)
    verify_max_inflight_bytes: int = Field(default=12 * 1024 * 1024, ge=1024)
    # JSON values in one verified document (verifier.limits): a year of half-hourly readings is ~110,000, a
    # 10 MiB body of readings ~500,000; a verification holds ~0.7 KB per value at its peak.
    verify_max_values: int = Field(default=600_000, ge=1000)
    verify_max_depth: int = Field(default=100, ge=8, le=500)
    # HTTP server: a request's headers must arrive within `header_timeout` s of its first byte (or of the
    # connection), its body within `body_timeout` s of its headers; an idle keep-alive connection is
    # closed after `keep_alive_timeout` s; at most `max_connections` are open (more are answered 503 and
    # closed) and `max_requests` are handled at once (more get 503).
    header_timeout: float = Field(default=10.0, gt=0, le=600)
    body_timeout: float = Field(default=60.0, gt=0, le=3600)
    keep_alive_timeout: int = Field(default=5, ge=1, le=600)
    max_connections: int = Field(default=1000, ge=1, le=1_000_000)
    max_requests: int = Field(default=256, ge=1, le=100_000)
    max_header_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)  # request line + headers (431 past it)
    # Python's thread switch interval in the service process (seconds; Python's default is 0.005). While
    # verifications run in threads, each time the event loop gives up the interpreter lock (every socket
    # or database call) it waits up to this long to get it back: 5 ms turned a 30 ms issue into seconds.
    switch_interval: float = Field(default=0.0005, gt=0, le=0.1)

    @field_validator("api_tokens", "status_fetch_allowed_hosts", mode="before")
    @classmethod
    def _split_tokens(cls, value: Any) -> Any:
        # A config file may give a list instead.
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("status_fetch_allowed_hosts")
    @classmethod
    def _hosts_only(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        # An entry that can never match (a URL, host:port) would silently leave a host refused.
        for host in value:
            bare = host.strip("[]")
            if not host or any(c in host for c in "/@ \t") or (":" in bare and not _is_ip(bare)):
                raise ValueError(f"{host!r} is not a host name or IP address (no scheme, port or path: e.g. status.internal, 10.0.0.5)")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _ConfigFile(settings_cls, init_settings))

    # -- derived values

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir.resolve() / 'perseus.db'}"

    @property
    def resolved_base_url(self) -> str:
        """The public URL status list URLs are built on (no trailing slash)."""
        if self.base_url:
            return self.base_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        host = f"[{host}]" if ":" in host and not host.startswith("[") else host
        return f"http://{host}:{self.port}"

    @property
    def passphrase_file(self) -> Path:
        """Where the embedded default keeps the generated key passphrase."""
        return self.data_dir / "key-passphrase"

    @property
    def token_file(self) -> Path:
        """Where the embedded default keeps the generated API token."""
        return self.data_dir / "api-token"


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class _ConfigFile(PydanticBaseSettingsSource):
    """Values from the TOML file named by the ``config`` setting (given in code) or PERSEUS_CONFIG."""

    def __init__(self, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource) -> None:
        super().__init__(settings_cls)
        self._init = init_settings

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover - unused
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        given = getattr(self._init, "init_kwargs", {}).get("config")
        path = given or os.environ.get(CONFIG_ENV)
        if not path:
            return {}
        return read_config_file(Path(path))


def read_config_file(path: Path) -> dict[str, Any]:
    """The TOML file's values; every failure is a `ConfigError` naming the file and the problem."""
    try:
        with path.open("rb") as handle:
            values = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a directory") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    if "config" in values:
        raise ConfigError(f"config file {path}: 'config' cannot be set inside a config file")
    # Relative paths in the file are relative to the file, not to wherever the service was started.
    base = path.parent
    for key in ("data_dir", "key_passphrase_file"):
        if isinstance(values.get(key), str) and not os.path.isabs(values[key]):
            values[key] = str(base / values[key])
    for profile in values.get("profiles", []) if isinstance(values.get("profiles"), list) else []:
        if isinstance(profile, dict) and isinstance(profile.get("key_file"), str) and not os.path.isabs(profile["key_file"]):
            profile["key_file"] = str(base / profile["key_file"])
    return values


def load_settings(**overrides: Any) -> Settings:
    """`Settings` from ``overrides`` (None values ignored), the environment and the config file.

    Raises `ConfigError` with one sentence naming the setting at fault.
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "settings"
        message = first.get("msg", "invalid value")
        if first.get("type") == "extra_forbidden":
            message = "is not a known setting"
        raise ConfigError(f"setting {where!r}: {message}") from None


# -- bearer tokens ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenGrant:
    """What one token may do: every profile (``profiles is None``) or only those named."""

    digest: bytes
    profiles: frozenset[str] | None

    def allows(self, profile_id: str) -> bool:
        return self.profiles is None or profile_id in self.profiles


class TokenTable:
    """Bearer tokens and the profiles each may use; tokens are kept only as SHA-256 digests.

    Lookups compare digests with `hmac.compare_digest` against *every* entry, so the time taken
    says nothing about which token (or how much of one) matched.
    """

    def __init__(self, grants: list[TokenGrant]) -> None:
        self._grants = grants

    @classmethod
    def parse(cls, entries: tuple[str, ...] | list[str]) -> TokenTable:
        grants = []
        for position, entry in enumerate(entries):
            token, sep, scope = entry.partition("=")
            token = token.strip()
            if len(token) < 8:
                raise ConfigError(
                    f"api token #{position + 1} is shorter than 8 characters; use a long random one "
                    "(python -c 'import secrets; print(secrets.token_urlsafe(32))')"
                )
            profiles: frozenset[str] | None = None
            if sep:
                names = [name.strip() for name in scope.split("|") if name.strip()]
                if not names:
                    raise ConfigError(f"api token #{position + 1} has '=' but names no profile after it (token=profile1|profile2)")
                profiles = frozenset(names)
            grants.append(TokenGrant(hashlib.sha256(token.encode("utf-8")).digest(), profiles))
        return cls(grants)

    def __len__(self) -> int:
        return len(self._grants)

    def __repr__(self) -> str:
        return f"TokenTable({len(self._grants)} tokens)"

    def lookup(self, token: str) -> TokenGrant | None:
        digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        found = None
        for grant in self._grants:
            if hmac.compare_digest(grant.digest, digest):
                found = grant
        return found

    def profiles_named(self) -> set[str]:
        """Every profile some token is bound to (to warn about typos at start-up)."""
        out: set[str] = set()
        for grant in self._grants:
            out |= grant.profiles or set()
        return out


def environment_for_workers(settings: Settings) -> Mapping[str, str]:
    """Environment variables that make a worker process build the same settings as this one.

    ``perseus serve --workers N`` starts N processes that each build their app from the environment;
    the parent's command-line options travel to them this way.
    """
    out = {"PERSEUS_DATA_DIR": str(settings.data_dir.resolve()), "PERSEUS_HOST": settings.host, "PERSEUS_PORT": str(settings.port)}
    if settings.config is not None:
        out[CONFIG_ENV] = str(settings.config.resolve())
    if settings.base_url:
        out["PERSEUS_BASE_URL"] = settings.base_url
    if settings.database_url:
        out["PERSEUS_DATABASE_URL"] = settings.database_url
    out["PERSEUS_ACCESS_LOG"] = "true" if settings.access_log else "false"
    out["PERSEUS_LOG_LEVEL"] = settings.log_level
    return out
