"""The trust registry snapshot a service verifies issuers against (``PERSEUS_REGISTRY_SNAPSHOT``).

A snapshot is replaced by the registry operator at least once per `nextUpdate` (a daily job writes the file
with `perseus registry snapshot -o …`), so a long-running service cannot load it once at start: it re-reads
the file when it changes (a stat per request; the parse only on change) or when the one it holds passes its
`nextUpdate`. What it answers with is always the file's snapshot as checked now: one that has gone stale, or a
replacement that does not verify, makes the accreditation check fail with the snapshot's own problem (fail
closed), and the log says so; only a file that cannot be read at all leaves the last one in use. A snapshot that
does not verify against the configured trust anchor at start-up stops the service: verifying issuers against
an unchecked list would be worse than not claiming to.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from perseus.verifier.dates import parse_datetime, utc_now
from perseus.verifier.errors import PerseusError
from perseus.verifier.registry_snapshot import RegistrySnapshot, SnapshotError, TrustAnchor, load_snapshot

from .settings import ConfigError

log = logging.getLogger("perseus.service")


@dataclass
class RegistrySource:
    """The configured snapshot file, its trust anchor, and the last snapshot read from it."""

    path: Path
    anchor: TrustAnchor
    grace: timedelta = timedelta(0)
    _snapshot: RegistrySnapshot | None = field(default=None, init=False)
    _stamp: tuple[int, int] | None = field(default=None, init=False)
    _reload_after: datetime | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    @classmethod
    def from_settings(cls, settings: Any) -> "RegistrySource | None":
        """The source the settings name, checked now (`ConfigError` with the fix), or None when none is set."""
        if settings.registry_snapshot is None:
            if settings.registry_trust_anchor:
                raise ConfigError("PERSEUS_REGISTRY_TRUST_ANCHOR is set but PERSEUS_REGISTRY_SNAPSHOT is not: give the snapshot file too")
            return None
        if not settings.registry_trust_anchor:
            raise ConfigError(
                "PERSEUS_REGISTRY_SNAPSHOT needs PERSEUS_REGISTRY_TRUST_ANCHOR: the registry operator's key (a did:key) that must "
                "have signed the snapshot, as `perseus registry init` printed it"
            )
        try:
            anchor = TrustAnchor.parse(settings.registry_trust_anchor.split(","))
        except SnapshotError as exc:
            raise ConfigError(f"PERSEUS_REGISTRY_TRUST_ANCHOR: {exc.message}") from None
        source = cls(Path(settings.registry_snapshot), anchor, timedelta(seconds=settings.registry_grace_seconds))
        snapshot = source.current()
        if snapshot is None or not snapshot.usable:
            why = "; ".join(p.detail for p in snapshot.problems) if snapshot is not None else "it cannot be read"
            raise ConfigError(f"the trust registry snapshot {settings.registry_snapshot} cannot be used: {why}")
        return source

    def current(self) -> RegistrySnapshot | None:
        """The snapshot to verify against now: re-read when the file changed; the last good one if it cannot be."""
        try:
            stat = self.path.stat()
        except OSError as exc:
            if self._snapshot is None:
                return None
            log.warning("trust registry snapshot %s cannot be read (%s); still using sequence %s", self.path, exc.strerror, self._snapshot.sequence)
            return self._snapshot
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp and self._snapshot is not None and (self._reload_after is None or utc_now() < self._reload_after):
            return self._snapshot
        with self._lock:
            try:
                fresh = load_snapshot(self.path.read_bytes(), trust_anchor=self.anchor, grace=self.grace)
            except OSError as exc:
                log.warning("trust registry snapshot %s cannot be read: %s", self.path, exc.strerror)
                return self._snapshot
            if not fresh.usable:
                log.warning("trust registry snapshot %s cannot be used (%s): accreditation checks fail until it is replaced",
                            self.path, "; ".join(p.detail for p in fresh.problems))
            self._snapshot, self._stamp, self._reload_after = fresh, stamp, _stale_after(fresh, self.grace)
        return self._snapshot


def _stale_after(snapshot: RegistrySnapshot, grace: timedelta) -> datetime | None:
    """When a snapshot held in memory must be checked again: its nextUpdate plus the grace (None if unreadable)."""
    try:
        return parse_datetime(snapshot.next_update_text, field="nextUpdate") + grace
    except PerseusError:
        return None
