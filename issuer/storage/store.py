"""`Storage`: the issuer's state — profiles and keys, status lists, allocations, the issuance log.

Threads and processes
    One `Storage` is safe to share between threads: every method checks a connection out of the
    engine's pool, runs one transaction and returns plain frozen values. Methods block; from async
    code (FastAPI) call them from the thread pool (``def`` endpoints, or
    ``await anyio.to_thread.run_sync(storage.get_issued, id)``). Each *process* (a uvicorn worker,
    a replica) opens its own `Storage` after it starts; several may share one SQLite file (writers
    queue on ``<database>.writer-lock``, see engine.py) or one PostgreSQL database (in parallel).

Issuing a credential, and what survives a crash
    1. ``reservation = storage.reserve_status(profile_id, credential_id)`` — commits random status
       positions (one transaction usually; a purpose whose first index was taken gets its own) and
       returns the DID and key to sign with;
    2. the service adds the ``credentialStatus`` entries (`perseus.issuer.status`) and signs;
    3. ``storage.save_issued(reservation, signed)`` — commits the issuance log row.
    Once `save_issued` returns, the credential and its positions are on disk (SQLite: fsync'ed WAL
    with synchronous=FULL; PostgreSQL: a synchronous commit) and survive a kill -9 or a power cut.
    The reservation in step 1 commits without waiting for the disk: the log is sequential, so the
    durable commit of step 3 carries it to disk too, and a reservation lost before that belonged to
    a credential nobody received. A crash between 1 and 3 leaves reserved positions that are never
    used again — a few never-set bits, never a reuse.

Random allocation, and when a list is full
    An index is drawn with `secrets.randbelow` and inserted with ON CONFLICT DO NOTHING; the
    primary key (list_id, idx) makes a second allocation of the same index impossible, on either
    engine, whatever the number of writers. On a conflict another index is drawn. After every 8
    conflicts in a row the list's allocations are counted; at 7/8 full (`StatusListPolicy.fill_limit`)
    the list is closed and the next one opened, so an allocation costs a couple of tries on average
    (at most ~8 near the end), and the never-allocated eighth stays 0 — decoys that cost nothing.
"""

from __future__ import annotations

import functools
import json
import math
import random
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypeVar

from perseus.verifier.status import MIN_LIST_ENTRIES, Bitstring
from sqlalchemy import and_, bindparam, exists, func, select, update
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from .engine import EARLY_ACK_OPTION, WRITE_OPTION, EngineInfo, WriterQueue, build_engine, translate_errors
from .errors import (
    CredentialNotFoundError,
    DuplicateCredentialError,
    InvalidIdError,
    KeyNotFoundError,
    ProfileExistsError,
    ProfileNotFoundError,
    StatusChangeError,
    StatusListNotFoundError,
    StorageError,
    StorageUnavailableError,
)
from .migrations import migrate as run_migrations
from .records import (
    IssuedCredential,
    ProfileRecord,
    ReservedEntry,
    StatusChange,
    StatusListRecord,
    StatusReservation,
    StoredKey,
)
from .schema import issued_credentials, keys, profiles, status_allocations, status_events, status_lists

__all__ = ["DEFAULT_PURPOSES", "Storage", "StatusListPolicy", "open_storage"]

DEFAULT_PURPOSES: tuple[str, ...] = ("revocation", "suspension")
_PROFILE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_PURPOSE = re.compile(r"[a-z][a-zA-Z0-9_-]{0,31}")
_MAX_ID_LENGTH = 2048
_COUNT_AFTER_COLLISIONS = 8
_MAX_RANDOM_TRIES = 64


@dataclass(frozen=True)
class StatusListPolicy:
    """How big new status lists are and when one counts as full.

    ``length`` is at least 131,072 (Bitstring Status List §3.2: verifiers refuse shorter lists)
    unless ``allow_short`` — which exists for tests and demos only. A list is closed once
    ``fill_limit`` of it is allocated (7/8 by default: about 2.4 random draws per allocation over a
    list's life, at most ~8 near the end).
    """

    length: int = MIN_LIST_ENTRIES
    fill_limit: float = 0.875
    allow_short: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.length, int) or self.length <= 0 or self.length % 8:
            raise ValueError(f"status list length must be a positive multiple of 8, not {self.length!r}")
        if self.length < MIN_LIST_ENTRIES and not self.allow_short:
            raise ValueError(
                f"status list length {self.length} is below the {MIN_LIST_ENTRIES} entries verifiers require"
            )
        if not 0.5 <= self.fill_limit <= 1:
            # A full list is noticed through conflicts between random draws, which only become
            # frequent past half full; a lower limit would never be reached.
            raise ValueError(f"fill_limit must be between 0.5 and 1, not {self.fill_limit!r}")

    @property
    def capacity(self) -> int:
        """Allocations after which a list is closed."""
        return max(1, math.floor(self.length * self.fill_limit))


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def open_storage(
    url: str,
    *,
    schema: str | None = None,
    migrate: bool = True,
    pool_size: int = 8,
    status_policy: StatusListPolicy | None = None,
    clock: Callable[[], datetime] = _utc_now,
) -> Storage:
    """Open (and by default migrate) the database at ``url``: ``sqlite:///path`` or ``postgresql://host/db``.

    ``schema`` (PostgreSQL only, also ``?schema=`` in the URL) keeps the tables in that schema.
    ``pool_size`` should be at least the number of threads that call the storage at once.
    """
    engine, info = build_engine(url, schema=schema, pool_size=pool_size)
    storage = Storage(engine, info, status_policy or StatusListPolicy(), clock)
    if migrate:
        try:
            storage.migrate()
        except BaseException:
            storage.close()
            raise
    return storage


class Storage:
    """The issuer's database. Make one with `open_storage`; see the module documentation."""

    def __init__(self, engine: Engine, info: EngineInfo, policy: StatusListPolicy, clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self._writer = engine.execution_options(**{WRITE_OPTION: True})
        self._reserver = engine.execution_options(**{WRITE_OPTION: True, EARLY_ACK_OPTION: True})
        self._info = info
        self.policy = policy
        self._clock = clock
        dialect = sqlite_dialect if info.dialect == "sqlite" else pg_dialect
        self._insert = dialect.insert
        self._q = _Statements(dialect.insert)
        # (profile, issuer, purpose) -> (list_id, length) of the open list. Safe to be stale: a list
        # another process closed still only takes unique indices, and the fill check moves us on.
        self._open_lists: dict[tuple[str, str, str], tuple[str, int]] = {}
        self._open_lists_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Storage({self._info.display_url!r})"

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._info.dialect

    @property
    def url(self) -> str:
        """The database URL with any password hidden."""
        return self._info.display_url

    def close(self) -> None:
        """Close every pooled connection (open transactions have all finished by then)."""
        self._engine.dispose()
        if isinstance(self._info.writer_queue, WriterQueue):
            self._info.writer_queue.close()

    def __enter__(self) -> Storage:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def migrate(self) -> list[int]:
        """Apply any pending schema migrations (safe to run concurrently and repeatedly)."""
        with self._info.writer_queue, translate_errors(self._info):
            return run_migrations(self._engine)

    def schema_version(self) -> int:
        from .migrations import current_version

        with self._read() as conn:
            return current_version(conn)

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._info.writer_queue, translate_errors(self._info), self._writer.begin() as conn:
            yield conn

    @contextmanager
    def _write_early_ack(self) -> Iterator[Connection]:
        """A write whose commit may be acknowledged before it reaches the disk (see engine.py)."""
        with self._info.writer_queue, translate_errors(self._info), self._reserver.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with translate_errors(self._info), self._engine.connect() as conn:
            yield conn

    # -- issuer profiles ---------------------------------------------------------------------------

    def create_profile(
        self,
        profile_id: str,
        *,
        issuer: str,
        suites: Sequence[str],
        name: str | None = None,
        first_key: StoredKey | None = None,
    ) -> ProfileRecord:
        """Create a profile, with its first (active) key in the same transaction if given."""
        _check_profile_id(profile_id)
        _check_text(issuer, "issuer")
        if isinstance(suites, str) or not suites or not all(isinstance(s, str) and s for s in suites):
            raise StorageError("suites must be a non-empty list of cryptosuite names")
        now = self._clock()
        with self._write() as conn:
            if conn.execute(select(profiles.c.profile_id).where(profiles.c.profile_id == profile_id)).first():
                raise ProfileExistsError(f"issuer profile {profile_id!r} already exists")
            try:
                conn.execute(
                    profiles.insert().values(
                        profile_id=profile_id, issuer=issuer, name=name, suites=json.dumps(list(suites)), created_at=now, updated_at=now
                    )
                )
            except IntegrityError as error:
                if not _is_unique_violation(error):
                    raise
                raise ProfileExistsError(f"issuer profile {profile_id!r} already exists") from None
            if first_key is not None:
                if first_key.profile_id != profile_id:
                    raise StorageError(f"key {first_key.key_id} belongs to profile {first_key.profile_id!r}, not {profile_id!r}")
                self._insert_key(conn, first_key, None, now)
        return self.get_profile(profile_id)

    def get_profile(self, profile_id: str) -> ProfileRecord:
        if not _storable(profile_id):
            raise ProfileNotFoundError(f"there is no issuer profile {_shown(profile_id)}")
        with self._read() as conn:
            row = conn.execute(select(profiles).where(profiles.c.profile_id == profile_id)).first()
        if row is None:
            raise ProfileNotFoundError(f"there is no issuer profile {profile_id!r}")
        return _profile(row)

    def list_profiles(self) -> list[ProfileRecord]:
        with self._read() as conn:
            rows = conn.execute(select(profiles).order_by(profiles.c.profile_id)).all()
        return [_profile(r) for r in rows]

    def set_profile_suites(self, profile_id: str, suites: Sequence[str]) -> ProfileRecord:
        if isinstance(suites, str) or not suites or not all(isinstance(s, str) and s for s in suites):
            raise StorageError("suites must be a non-empty list of cryptosuite names")
        with self._write() as conn:
            result = conn.execute(
                update(profiles)
                .where(profiles.c.profile_id == profile_id)
                .values(suites=json.dumps(list(suites)), updated_at=self._clock())
            )
            if result.rowcount != 1:
                raise ProfileNotFoundError(f"there is no issuer profile {profile_id!r}")
        return self.get_profile(profile_id)

    # -- keys (wrapped secrets only; see perseus.issuer.keystore) ------------------------------------

    def insert_key(self, key: StoredKey, *, new_issuer: str | None = None, new_suites: Sequence[str] | None = None) -> None:
        """Store a key. An ``active`` key retires the profile's current one in the same transaction;
        ``new_issuer`` / ``new_suites`` change the profile's DID / suites at the same moment (a
        did:key rotation; a rotation to another key type)."""
        if new_suites is not None and (isinstance(new_suites, str) or not new_suites):
            raise StorageError("suites must be a non-empty list of cryptosuite names")
        with self._write() as conn:
            if new_issuer is not None:
                _check_text(new_issuer, "issuer")
            if new_suites is not None:
                conn.execute(update(profiles).where(profiles.c.profile_id == key.profile_id).values(suites=json.dumps(list(new_suites))))
            row = conn.execute(
                select(profiles.c.profile_id).where(profiles.c.profile_id == key.profile_id).with_for_update()
            ).first()
            if row is None:
                raise ProfileNotFoundError(f"there is no issuer profile {key.profile_id!r}")
            self._insert_key(conn, key, new_issuer, self._clock())

    def _insert_key(self, conn: Connection, key: StoredKey, new_issuer: str | None, now: datetime) -> None:
        if key.state not in ("active", "retired"):
            raise StorageError(f"key state must be 'active' or 'retired', not {key.state!r}")
        if key.state == "active":
            conn.execute(
                update(keys)
                .where(and_(keys.c.profile_id == key.profile_id, keys.c.state == "active"))
                .values(state="retired", retired_at=now)
            )
        try:
            conn.execute(
                keys.insert().values(
                    key_id=key.key_id,
                    profile_id=key.profile_id,
                    controller=key.controller,
                    key_type=key.key_type,
                    public_key_multibase=key.public_key_multibase,
                    wrapped_secret=key.wrapped_secret,
                    keystore=key.keystore,
                    state=key.state,
                    created_at=key.created_at,
                    retired_at=key.retired_at if key.state == "retired" else None,
                )
            )
        except IntegrityError as error:
            if not _is_unique_violation(error):
                raise
            raise StorageError(f"a key with verification method id {key.key_id} is already stored") from None
        if new_issuer is not None:
            conn.execute(update(profiles).where(profiles.c.profile_id == key.profile_id).values(issuer=new_issuer, updated_at=now))

    def get_key(self, key_id: str) -> StoredKey:
        if not _storable(key_id):
            raise KeyNotFoundError(f"there is no key {_shown(key_id)}")
        with self._read() as conn:
            row = conn.execute(select(keys).where(keys.c.key_id == key_id)).first()
        if row is None:
            raise KeyNotFoundError(f"there is no key {key_id}")
        return _stored_key(row)

    def active_key(self, profile_id: str) -> StoredKey:
        if not _storable(profile_id):
            raise ProfileNotFoundError(f"there is no issuer profile {_shown(profile_id)}")
        with self._read() as conn:
            row = conn.execute(select(keys).where(and_(keys.c.profile_id == profile_id, keys.c.state == "active"))).first()
            if row is None:
                exists = conn.execute(select(profiles.c.profile_id).where(profiles.c.profile_id == profile_id)).first()
        if row is None:
            if exists is None:
                raise ProfileNotFoundError(f"there is no issuer profile {profile_id!r}")
            raise KeyNotFoundError(f"issuer profile {profile_id!r} has no active key; generate or import one")
        return _stored_key(row)

    def list_keys(self, profile_id: str) -> list[StoredKey]:
        """The profile's keys, newest first (active and retired)."""
        if not _storable(profile_id):
            return []
        with self._read() as conn:
            rows = conn.execute(
                select(keys).where(keys.c.profile_id == profile_id).order_by(keys.c.created_at.desc(), keys.c.key_id)
            ).all()
        return [_stored_key(r) for r in rows]

    # -- reserving status positions and saving issued credentials -------------------------------------

    def reserve_status(
        self, profile_id: str, credential_id: str, *, purposes: Iterable[str] = DEFAULT_PURPOSES
    ) -> StatusReservation:
        """Commit one random status position per purpose for ``credential_id``, before it is signed.

        Idempotent for a credential not yet issued: a retry (after a failed signature, say) gets the
        same positions back. Raises `DuplicateCredentialError` if the id was already issued.
        With no ``purposes`` (a credential issued without status) nothing is written: the profile's
        DID and active key are read, and the id is checked, in one read transaction.
        """
        _check_text(credential_id, "credential id")
        if not _storable(profile_id):
            raise ProfileNotFoundError(f"there is no issuer profile {_shown(profile_id)}")
        wanted = list(dict.fromkeys(purposes))
        if not all(isinstance(p, str) and _PURPOSE.fullmatch(p) for p in wanted):
            raise StorageError(f"status purposes must be short lower-case words such as 'revocation'; got {wanted!r}")
        if not wanted:
            return self._reservation_without_status(profile_id, credential_id)
        now = self._clock()

        def fast_path() -> tuple[Any, dict[str, ReservedEntry]]:
            # One random index per purpose, inserted in one statement: the usual case, one commit.
            opened: dict[tuple[str, str, str], tuple[str, int]] = {}
            with self._write_early_ack() as conn:
                head = conn.execute(self._q.reserve_head, {"pid": profile_id, "cid": credential_id}).first()
                if head is None:
                    raise ProfileNotFoundError(f"there is no issuer profile {profile_id!r}")
                if head.issued:
                    raise DuplicateCredentialError(f"a credential with id {credential_id} was already issued; give each credential its own id")
                chosen = {}
                for purpose in wanted:
                    list_id, length = self._current_list(conn, profile_id, head.issuer, purpose, now, opened)
                    chosen[purpose] = ReservedEntry(purpose=purpose, list_id=list_id, index=secrets.randbelow(length))
                rows = [
                    {"list_id": e.list_id, "idx": e.index, "credential_id": credential_id, "purpose": e.purpose, "allocated_at": now}
                    for e in chosen.values()
                ]
                inserted = {row.purpose for row in conn.execute(self._q.insert_allocation_returning, rows)}
            self._remember_lists(opened)
            return head, {p: chosen[p] for p in inserted}

        head, done = _retry_on_conflict(fast_path)
        issuer: str = head.issuer
        # Anything that did not go in (its index was taken; a retried reservation) takes the careful
        # path, one purpose per transaction: a transaction that already holds a new allocation never
        # waits for another's, so two reservations cannot deadlock on each other's indices.
        for purpose in wanted:
            if purpose not in done:
                done[purpose] = _retry_on_conflict(functools.partial(self._allocate_alone, profile_id, issuer, purpose, credential_id, now))
        return StatusReservation(
            profile_id=profile_id,
            credential_id=credential_id,
            issuer=head.issuer,
            key_id=head.key_id,
            entries=tuple(done[p] for p in wanted),
        )

    def _reservation_without_status(self, profile_id: str, credential_id: str) -> StatusReservation:
        with self._read() as conn:
            head = conn.execute(self._q.reserve_head, {"pid": profile_id, "cid": credential_id}).first()
        if head is None:
            raise ProfileNotFoundError(f"there is no issuer profile {profile_id!r}")
        if head.issued:
            raise DuplicateCredentialError(f"a credential with id {credential_id} was already issued; give each credential its own id")
        return StatusReservation(profile_id=profile_id, credential_id=credential_id, issuer=head.issuer, key_id=head.key_id, entries=())

    def _allocate_alone(self, profile_id: str, issuer: str, purpose: str, credential_id: str, now: datetime) -> ReservedEntry:
        opened: dict[tuple[str, str, str], tuple[str, int]] = {}
        with self._write_early_ack() as conn:
            entry = self._allocate(conn, profile_id, issuer, purpose, credential_id, now, opened)
        self._remember_lists(opened)
        return entry

    def _remember_lists(self, opened: dict[tuple[str, str, str], tuple[str, int]]) -> None:
        """Keep the open lists a committed transaction found, for the next reservations."""
        if opened:
            with self._open_lists_lock:
                self._open_lists.update(opened)

    def _existing_entries(self, conn: Connection, credential_id: str) -> dict[str, Any]:
        rows = conn.execute(
            select(status_allocations.c.purpose, status_allocations.c.list_id, status_allocations.c.idx, status_lists.c.profile_id, status_lists.c.issuer)
            .join(status_lists, status_lists.c.list_id == status_allocations.c.list_id)
            .where(status_allocations.c.credential_id == credential_id)
        ).all()
        return {r.purpose: r for r in rows}

    @staticmethod
    def _reuse(row: Any, credential_id: str, profile_id: str, issuer: str) -> ReservedEntry:
        if row.profile_id != profile_id or row.issuer != issuer:
            raise DuplicateCredentialError(
                f"credential id {credential_id} already has status positions reserved by issuer {row.issuer} "
                f"(profile {row.profile_id!r}); issue this credential under a new id"
            )
        return ReservedEntry(purpose=row.purpose, list_id=row.list_id, index=row.idx)

    def _allocate(
        self,
        conn: Connection,
        profile_id: str,
        issuer: str,
        purpose: str,
        credential_id: str,
        now: datetime,
        opened: dict[tuple[str, str, str], tuple[str, int]],
    ) -> ReservedEntry:
        """The careful path: idempotency, retries on taken indices, closing full lists."""
        mine = self._existing_entries(conn, credential_id).get(purpose)
        if mine is not None:
            return self._reuse(mine, credential_id, profile_id, issuer)
        list_id, length = self._current_list(conn, profile_id, issuer, purpose, now, opened)
        collisions = 0
        while True:
            index = secrets.randbelow(length)
            if collisions >= _MAX_RANDOM_TRIES:
                free = self._random_free_index(conn, list_id, length)
                if free is None:
                    list_id, length = self._close_list(conn, profile_id, issuer, purpose, list_id, now, opened)
                    collisions = 0
                    continue
                index = free
            inserted = conn.execute(
                self._q.insert_allocation,
                {"list_id": list_id, "idx": index, "credential_id": credential_id, "purpose": purpose, "allocated_at": now},
            ).rowcount
            if inserted == 1:
                return ReservedEntry(purpose=purpose, list_id=list_id, index=index)
            # Either the index was taken, or a concurrent call reserved for this same credential.
            mine = self._existing_entries(conn, credential_id).get(purpose)
            if mine is not None:
                return self._reuse(mine, credential_id, profile_id, issuer)
            collisions += 1
            if collisions % _COUNT_AFTER_COLLISIONS == 0:
                used = conn.execute(self._q.count_allocations, {"list_id": list_id}).scalar_one()
                if used >= min(self.policy.capacity, length):
                    list_id, length = self._close_list(conn, profile_id, issuer, purpose, list_id, now, opened)
                    collisions = 0

    def _random_free_index(self, conn: Connection, list_id: str, length: int) -> int | None:
        """A uniformly random unallocated index (the slow path, after many conflicts in a row)."""
        taken = bytearray(length)
        for (index,) in conn.execute(select(status_allocations.c.idx).where(status_allocations.c.list_id == list_id)):
            if 0 <= index < length:
                taken[index] = 1
        free = [i for i, used in enumerate(taken) if not used]
        return secrets.choice(free) if free else None

    def _current_list(
        self,
        conn: Connection,
        profile_id: str,
        issuer: str,
        purpose: str,
        now: datetime,
        opened: dict[tuple[str, str, str], tuple[str, int]],
    ) -> tuple[str, int]:
        """The list to allocate from: remembered from earlier calls, else looked up (or created).

        Lists found in this transaction go into ``opened``, which joins the shared memory only after
        the transaction commits — a list created in a transaction that rolled back is never used.
        """
        key = (profile_id, issuer, purpose)
        found = opened.get(key)
        if found is None:
            with self._open_lists_lock:
                found = self._open_lists.get(key)
        if found is None:
            row = self._open_list(conn, profile_id, issuer, purpose, now)
            found = opened[key] = (row.list_id, row.length)
        return found

    def _open_list(self, conn: Connection, profile_id: str, issuer: str, purpose: str, now: datetime) -> Any:
        """The open list for (profile, issuer, purpose), creating the next one if there is none."""
        where = and_(status_lists.c.profile_id == profile_id, status_lists.c.issuer == issuer, status_lists.c.purpose == purpose)
        query = select(status_lists.c.list_id, status_lists.c.length).where(where, status_lists.c.state == "open")
        for _ in range(5):
            row = conn.execute(query.order_by(status_lists.c.seq.desc()).limit(1)).first()
            if row is not None:
                return row
            last = conn.execute(select(func.max(status_lists.c.seq)).where(where)).scalar()
            length = self.policy.length
            conn.execute(
                self._insert(status_lists)
                .values(
                    list_id=secrets.token_hex(8),
                    profile_id=profile_id,
                    issuer=issuer,
                    purpose=purpose,
                    seq=(last or 0) + 1,
                    length=length,
                    bits=bytes(length // 8),
                    state="open",
                    version=0,
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_nothing()  # another replica created this very list first: use theirs
            )
        raise StorageError(f"could not open a status list for profile {profile_id!r} ({purpose}); try again")

    def _close_list(
        self,
        conn: Connection,
        profile_id: str,
        issuer: str,
        purpose: str,
        list_id: str,
        now: datetime,
        opened: dict[tuple[str, str, str], tuple[str, int]],
    ) -> tuple[str, int]:
        """Mark a list full and return the next open one."""
        conn.execute(
            update(status_lists).where(and_(status_lists.c.list_id == list_id, status_lists.c.state == "open")).values(state="full", updated_at=now)
        )
        key = (profile_id, issuer, purpose)
        with self._open_lists_lock:
            if self._open_lists.get(key, (None, 0))[0] == list_id:
                del self._open_lists[key]
        opened.pop(key, None)
        return self._current_list(conn, profile_id, issuer, purpose, now, opened)

    def save_issued(
        self, reservation: StatusReservation, credential: Mapping[str, Any] | str, *, issued_at: datetime | None = None
    ) -> datetime:
        """Record a signed credential in the issuance log; durable when this returns. The issue time.

        ``credential`` is the signed credential (a dict, or its JSON text kept byte for byte).
        Raises `DuplicateCredentialError` if the id was issued already (e.g. by a concurrent call).
        """
        text = credential if isinstance(credential, str) else json.dumps(credential, ensure_ascii=False, separators=(",", ":"))
        when = issued_at or self._clock()
        with self._write() as conn:
            existing = {r.purpose: r for r in conn.execute(self._q.allocations_of, {"cid": reservation.credential_id})}
            for entry in reservation.entries:
                row = existing.get(entry.purpose)
                if row is None or row.list_id != entry.list_id or row.idx != entry.index:
                    raise StorageError(
                        f"credential {reservation.credential_id} has no reservation for {entry.purpose} at "
                        f"{entry.list_id}[{entry.index}]; reserve it with reserve_status first"
                    )
            try:
                conn.execute(
                    self._q.insert_issued,
                    {
                        "credential_id": reservation.credential_id,
                        "profile_id": reservation.profile_id,
                        "issuer": reservation.issuer,
                        "credential_json": text,
                        "issued_at": when,
                    },
                )
            except IntegrityError as error:
                if not _is_unique_violation(error):
                    raise
                raise DuplicateCredentialError(
                    f"a credential with id {reservation.credential_id} was already issued; give each credential its own id"
                ) from None
        return when

    def get_issued(self, credential_id: str) -> IssuedCredential:
        """A credential from the issuance log with its status positions and current status."""
        if not _storable(credential_id):
            raise CredentialNotFoundError(f"no credential with id {_shown(credential_id)} was issued here")
        with self._read() as conn:
            row = conn.execute(select(issued_credentials).where(issued_credentials.c.credential_id == credential_id)).first()
            if row is None:
                raise CredentialNotFoundError(f"no credential with id {credential_id} was issued here")
            allocations = conn.execute(
                select(status_allocations.c.purpose, status_allocations.c.list_id, status_allocations.c.idx, status_lists.c.bits)
                .join(status_lists, status_lists.c.list_id == status_allocations.c.list_id)
                .where(status_allocations.c.credential_id == credential_id)
                .order_by(status_allocations.c.purpose)
            ).all()
        entries = tuple(ReservedEntry(purpose=a.purpose, list_id=a.list_id, index=a.idx) for a in allocations)
        status = {a.purpose: bool(Bitstring(a.bits).get(a.idx)) for a in allocations}
        return IssuedCredential(
            credential_id=row.credential_id,
            profile_id=row.profile_id,
            issuer=row.issuer,
            credential_json=row.credential_json,
            issued_at=row.issued_at,
            entries=entries,
            status=status,
        )

    def count_issued(self, profile_id: str | None = None) -> int:
        query = select(func.count()).select_from(issued_credentials)
        if profile_id is not None:
            query = query.where(issued_credentials.c.profile_id == profile_id)
        with self._read() as conn:
            return int(conn.execute(query).scalar_one())

    # -- status changes and status lists ---------------------------------------------------------------

    def set_status(self, credential_id: str, purpose: str, value: bool) -> StatusChange:
        """Set (True) or clear (False) a credential's status bit, bumping its list's version.

        Revocation is final: clearing a revocation bit, or changing any status of a revoked
        credential, raises `StatusChangeError`. Setting a bit that is already set changes nothing
        (``changed`` is False, the version stays), so a retried request is harmless.
        """
        return self.set_statuses(credential_id, [(purpose, value)])[0]

    def set_statuses(self, credential_id: str, changes: Sequence[tuple[str, bool]]) -> list[StatusChange]:
        """Several status changes of one credential (`set_status` each, in order) in one transaction:
        all are made or, if one is refused, none (a request never leaves half its changes written)."""
        if not all(isinstance(value, bool) for _purpose, value in changes):
            raise StorageError(f"a status value is true or false, not {next(v for _p, v in changes if not isinstance(v, bool))!r}")
        if not _storable(credential_id):
            raise CredentialNotFoundError(f"no credential with id {_shown(credential_id)} was issued here")
        return _retry_on_conflict(lambda: self._set_statuses(credential_id, changes))

    def _set_statuses(self, credential_id: str, changes: Sequence[tuple[str, bool]]) -> list[StatusChange]:
        now = self._clock()
        with self._write() as conn:
            if conn.execute(select(issued_credentials.c.credential_id).where(issued_credentials.c.credential_id == credential_id)).first() is None:
                raise CredentialNotFoundError(f"no credential with id {credential_id} was issued here")
            entries = self._existing_entries(conn, credential_id)
            return [self._set_status_in(conn, credential_id, entries, purpose, value, now) for purpose, value in changes]

    def _set_status_in(self, conn: Connection, credential_id: str, entries: dict[str, Any], purpose: str, value: bool, now: datetime) -> StatusChange:
        if purpose not in entries:
            have = ", ".join(sorted(entries)) or "none"
            raise StatusChangeError(f"credential {credential_id} has no {purpose} status entry (it has: {have})")
        if purpose != "revocation" and "revocation" in entries:
            revocation = entries["revocation"]
            bits = conn.execute(select(status_lists.c.bits).where(status_lists.c.list_id == revocation.list_id)).scalar_one()
            if Bitstring(bits).get(revocation.idx):
                raise StatusChangeError(f"credential {credential_id} is revoked, and revocation is final; its {purpose} status cannot change")
        entry = entries[purpose]
        row = conn.execute(
            select(status_lists.c.bits, status_lists.c.version).where(status_lists.c.list_id == entry.list_id).with_for_update()
        ).one()
        bits = Bitstring(row.bits)
        current = bool(bits.get(entry.idx))
        if purpose == "revocation" and current and not value:
            raise StatusChangeError(f"credential {credential_id} is revoked, and revocation is final")
        if current == value:
            return StatusChange(credential_id, purpose, value, False, entry.list_id, entry.idx, row.version)
        bits.set(entry.idx, value)
        version = row.version + 1
        conn.execute(
            update(status_lists).where(status_lists.c.list_id == entry.list_id).values(bits=bits.to_bytes(), version=version, updated_at=now)
        )
        conn.execute(
            status_events.insert().values(
                credential_id=credential_id, purpose=purpose, value=value, list_id=entry.list_id, list_version=version, changed_at=now
            )
        )
        return StatusChange(credential_id, purpose, value, True, entry.list_id, entry.idx, version)

    def status_history(self, credential_id: str) -> list[tuple[datetime, str, bool]]:
        """Every status change of a credential, oldest first: (when, purpose, value)."""
        if not _storable(credential_id):
            return []
        with self._read() as conn:
            rows = conn.execute(
                select(status_events.c.changed_at, status_events.c.purpose, status_events.c.value)
                .where(status_events.c.credential_id == credential_id)
                .order_by(status_events.c.event_id)
            ).all()
        return [(r.changed_at, r.purpose, bool(r.value)) for r in rows]

    def get_status_list(self, list_id: str) -> StatusListRecord:
        """A status list's bits and version, for building (or serving) its credential."""
        if not _storable(list_id):
            raise StatusListNotFoundError(f"there is no status list {_shown(list_id)}")
        with self._read() as conn:
            row = conn.execute(select(status_lists).where(status_lists.c.list_id == list_id)).first()
        if row is None:
            raise StatusListNotFoundError(f"there is no status list {list_id!r}")
        return _status_list(row)

    def list_status_lists(self, profile_id: str | None = None) -> list[StatusListRecord]:
        query = select(status_lists).order_by(status_lists.c.profile_id, status_lists.c.purpose, status_lists.c.issuer, status_lists.c.seq)
        if profile_id is not None:
            query = query.where(status_lists.c.profile_id == profile_id)
        with self._read() as conn:
            return [_status_list(r) for r in conn.execute(query)]

    def save_signed_status_list(
        self, list_id: str, version: int, signed: Mapping[str, Any] | str, *, signed_at: datetime | None = None
    ) -> bool:
        """Keep the signed credential for ``version`` of a list, so replicas need not re-sign it.

        ``signed_at`` (default now) is when it was signed — its ``validFrom``. Returns False (and
        stores nothing) if the list has moved past ``version`` meanwhile.
        """
        text = signed if isinstance(signed, str) else json.dumps(signed, ensure_ascii=False, separators=(",", ":"))
        with self._write() as conn:
            result = conn.execute(
                update(status_lists)
                .where(and_(status_lists.c.list_id == list_id, status_lists.c.version == version))
                .values(signed_json=text, signed_version=version, signed_at=signed_at or self._clock())
            )
        return result.rowcount == 1


# -- helpers ---------------------------------------------------------------------------------------------

_MAX_ATTEMPTS = 5

T = TypeVar("T")


def _retry_on_conflict(attempt: Callable[[], T]) -> T:
    """Run a whole transaction again when the database aborted it for a conflict (engine.py)."""
    for number in range(1, _MAX_ATTEMPTS + 1):
        try:
            return attempt()
        except StorageUnavailableError as error:
            if not error.retryable or number == _MAX_ATTEMPTS:
                raise
            time.sleep(random.uniform(0, 0.002 * number))  # jitter, not a secret
    raise AssertionError("unreachable")


def _is_unique_violation(error: IntegrityError) -> bool:
    """A duplicate key (as opposed to, say, a foreign key pointing nowhere, which is a bug to surface)."""
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate is not None:
        return bool(sqlstate == "23505")
    return "UNIQUE constraint failed" in str(error.orig)


def _check_profile_id(profile_id: object) -> None:
    if not isinstance(profile_id, str) or not _PROFILE_ID.fullmatch(profile_id):
        raise StorageError(
            f"profile id {profile_id!r} must be 1-64 letters, digits, '.', '_' or '-' (it appears in URLs)"
        )


def _storable(value: object) -> bool:
    """Whether an id can be a key of this database at all: a non-empty string of at most
    `_MAX_ID_LENGTH` characters, with no NUL (PostgreSQL text cannot hold one; SQLite could, so both
    engines refuse it here alike) and no lone surrogate (no UTF-8 form).

    The one gate ids pass on their way to the database: an id that fails it was never stored, so a
    lookup answers "not found" and a write "invalid id" — never a driver error (a 500)."""
    if not isinstance(value, str) or not value or len(value) > _MAX_ID_LENGTH or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(value: object) -> str:
    """An id as a message may show it: quoted, control characters escaped, cut to a readable length."""
    text = repr(value) if isinstance(value, str) else f"<{type(value).__name__}>"
    return text if len(text) <= 120 else text[:117] + "..."


def _check_text(value: object, what: str) -> None:
    if not _storable(value):
        raise InvalidIdError(
            f"{what} {_shown(value)} must be a non-empty string of at most {_MAX_ID_LENGTH} characters, without NUL characters"
        )


def _profile(row: Any) -> ProfileRecord:
    return ProfileRecord(
        profile_id=row.profile_id,
        issuer=row.issuer,
        suites=tuple(json.loads(row.suites)),
        name=row.name,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _stored_key(row: Any) -> StoredKey:
    return StoredKey(
        key_id=row.key_id,
        profile_id=row.profile_id,
        controller=row.controller,
        key_type=row.key_type,
        public_key_multibase=row.public_key_multibase,
        wrapped_secret=bytes(row.wrapped_secret),
        keystore=row.keystore,
        state=row.state,
        created_at=row.created_at,
        retired_at=row.retired_at,
    )


def _status_list(row: Any) -> StatusListRecord:
    signed = row.signed_json if row.signed_version == row.version else None
    return StatusListRecord(
        list_id=row.list_id,
        profile_id=row.profile_id,
        issuer=row.issuer,
        purpose=row.purpose,
        seq=row.seq,
        length=row.length,
        bits=bytes(row.bits),
        state=row.state,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        signed_json=signed,
        signed_at=row.signed_at if signed is not None else None,
    )


class _Statements:
    """The hot-path statements, built once: constructing a Core statement costs more than running it."""

    def __init__(self, insert: Callable[..., Any]) -> None:
        active_key = (
            select(keys.c.key_id)
            .where(keys.c.profile_id == profiles.c.profile_id, keys.c.state == "active")
            .scalar_subquery()
        )
        issued = exists().where(issued_credentials.c.credential_id == bindparam("cid"))
        self.reserve_head = select(profiles.c.issuer, active_key.label("key_id"), issued.label("issued")).where(
            profiles.c.profile_id == bindparam("pid")
        )
        self.insert_allocation = insert(status_allocations).on_conflict_do_nothing()
        self.insert_allocation_returning = (
            insert(status_allocations).on_conflict_do_nothing().returning(status_allocations.c.purpose)
        )
        self.count_allocations = (
            select(func.count()).select_from(status_allocations).where(status_allocations.c.list_id == bindparam("list_id"))
        )
        self.allocations_of = select(status_allocations.c.purpose, status_allocations.c.list_id, status_allocations.c.idx).where(
            status_allocations.c.credential_id == bindparam("cid")
        )
        self.insert_issued = issued_credentials.insert()
