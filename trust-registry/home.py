"""A registry's home directory: its settings, its database and its operator key, in one place.

    .perseus-registry/
      registry.json        {"registry": URL, "frameworks": [...], "nextUpdate": "1d", "databaseUrl": "sqlite:///…"}
      registry.db          SQLite (unless databaseUrl names PostgreSQL)
      operator-key.json    the snapshot signing key (0600); its did:key is the recipients' trust anchor

`PERSEUS_REGISTRY_DIR` chooses the directory; `PERSEUS_REGISTRY_DATABASE_URL` overrides the database.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from .errors import InvalidInputError, NotFoundError
from .operator_key import read_operator_key
from .storage.store import RegistrySettings, RegistryStore

__all__ = ["RegistryHome", "DEFAULT_DIR", "parse_interval"]

DEFAULT_DIR = ".perseus-registry"
CONFIG = "registry.json"
KEY = "operator-key.json"


def parse_interval(text: str) -> timedelta:
    """'90s', '30m', '6h', '1d' as a timedelta; anything else is an InvalidInputError."""
    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
    number, unit = text[:-1], text[-1:]
    if unit not in units or not number.isdigit() or int(number) == 0:
        raise InvalidInputError(f"{text!r} is not a duration such as 6h or 1d")
    return timedelta(**{units[unit]: int(number)})


@dataclass(frozen=True)
class RegistryHome:
    path: Path

    @classmethod
    def at(cls, directory: str | None) -> "RegistryHome":
        return cls(Path(directory or os.environ.get("PERSEUS_REGISTRY_DIR") or DEFAULT_DIR))

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG

    @property
    def key_path(self) -> Path:
        return self.path / KEY

    def config(self) -> dict:
        try:
            return json.loads(self.config_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NotFoundError(f"no registry in {self.path}: run `perseus registry init` first (or give --dir)") from None
        except (OSError, ValueError) as exc:
            raise InvalidInputError(f"{self.config_path} cannot be read ({type(exc).__name__})") from None

    def database_url(self, config: dict | None = None) -> str:
        config = config if config is not None else self.config()
        return os.environ.get("PERSEUS_REGISTRY_DATABASE_URL") or config.get("databaseUrl") or f"sqlite:///{(self.path / 'registry.db').resolve()}"

    def settings(self, config: dict | None = None) -> RegistrySettings:
        config = config if config is not None else self.config()
        return RegistrySettings(config["registry"], tuple(config["frameworks"]), parse_interval(config.get("nextUpdate", "1d")))

    def open(self, *, signing: bool = True) -> RegistryStore:
        config = self.config()
        signer = read_operator_key(self.key_path) if signing else None
        return RegistryStore(self.database_url(config), signer=signer, settings=self.settings(config))
