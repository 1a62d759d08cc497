"""Versioned schema migrations: numbered steps, applied in order, each recorded in a table.

Why not Alembic: Alembic is excellent for teams that autogenerate migrations from models and keep
``alembic.ini`` / ``env.py`` beside the code; this layer has a handful of tables, must migrate
itself on start-up inside a library (no command to run, no config file to find), and needs a
cross-process lock so several replicas starting at once do not race. A list of numbered Python
steps plus ``perseus_schema_migrations`` does that in under a hundred lines, with no dependency.

Rules for adding a step (the tests check the result against `schema.py`):

* append a `Migration` with the next number; never edit or renumber a released step;
* a step defines the tables it creates *itself* (a frozen copy), because `schema.py` describes
  the latest shape and a fresh database runs every step from the first;
* steps run inside one transaction together with their bookkeeping row — both SQLite and
  PostgreSQL have transactional DDL, so a failed upgrade leaves the previous version intact;
* forward only: a database newer than the code is refused (`SchemaVersionError`), never "fixed".

Concurrency: PostgreSQL takes a transaction-scoped advisory lock (per schema) before looking at
the version; SQLite's ``BEGIN IMMEDIATE`` holds the database write lock for the whole upgrade.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine

from .engine import WRITE_OPTION
from .errors import SchemaVersionError
from .schema import TABLE_PREFIX, UtcDateTime, schema_migrations

__all__ = ["LATEST_VERSION", "MIGRATIONS", "Migration", "current_version", "migrate"]


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[Connection], None]


def _m0001_initial(conn: Connection) -> None:
    """Profiles, keys, status lists and allocations, the issuance log, status events (release 0.1)."""
    p = TABLE_PREFIX
    m = MetaData()
    Table(
        p + "profiles", m,
        Column("profile_id", String(64), primary_key=True),
        Column("issuer", String(2048), nullable=False),
        Column("name", String(200)),
        Column("suites", Text, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
    )
    Table(
        p + "keys", m,
        Column("key_id", String(2048), primary_key=True),
        Column("profile_id", String(64), ForeignKey(p + "profiles.profile_id"), nullable=False),
        Column("controller", String(2048), nullable=False),
        Column("key_type", String(16), nullable=False),
        Column("public_key_multibase", String(200), nullable=False),
        Column("wrapped_secret", LargeBinary, nullable=False),
        Column("keystore", String(100), nullable=False),
        Column("state", String(16), nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("retired_at", UtcDateTime),
        Index("ix_" + p + "keys_one_active", "profile_id", unique=True,
              sqlite_where=text("state = 'active'"), postgresql_where=text("state = 'active'")),
        Index("ix_" + p + "keys_profile", "profile_id", "controller"),
    )
    Table(
        p + "status_lists", m,
        Column("list_id", String(64), primary_key=True),
        Column("profile_id", String(64), ForeignKey(p + "profiles.profile_id"), nullable=False),
        Column("issuer", String(2048), nullable=False),
        Column("purpose", String(32), nullable=False),
        Column("seq", Integer, nullable=False),
        Column("length", Integer, nullable=False),
        Column("bits", LargeBinary, nullable=False),
        Column("state", String(8), nullable=False),
        Column("version", Integer, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
        Column("signed_json", Text),
        Column("signed_version", Integer),
        Column("signed_at", UtcDateTime),
        UniqueConstraint("profile_id", "issuer", "purpose", "seq", name="uq_" + p + "status_lists_seq"),
    )
    Table(
        p + "status_allocations", m,
        Column("list_id", String(64), ForeignKey(p + "status_lists.list_id"), nullable=False),
        Column("idx", Integer, nullable=False),
        Column("credential_id", String(2048), nullable=False),
        Column("purpose", String(32), nullable=False),
        Column("allocated_at", UtcDateTime, nullable=False),
        PrimaryKeyConstraint("list_id", "idx", name="pk_" + p + "status_allocations"),
        UniqueConstraint("credential_id", "purpose", name="uq_" + p + "status_allocations_credential"),
    )
    Table(
        p + "issued_credentials", m,
        Column("credential_id", String(2048), primary_key=True),
        Column("profile_id", String(64), ForeignKey(p + "profiles.profile_id"), nullable=False),
        Column("issuer", String(2048), nullable=False),
        Column("credential_json", Text, nullable=False),
        Column("issued_at", UtcDateTime, nullable=False),
        Index("ix_" + p + "issued_profile_time", "profile_id", "issued_at"),
    )
    Table(
        p + "status_events", m,
        Column("event_id", Integer, primary_key=True, autoincrement=True),
        Column("credential_id", String(2048), nullable=False),
        Column("purpose", String(32), nullable=False),
        Column("value", Boolean, nullable=False),
        Column("list_id", String(64), nullable=False),
        Column("list_version", Integer, nullable=False),
        Column("changed_at", UtcDateTime, nullable=False),
        Index("ix_" + p + "status_events_credential", "credential_id"),
    )
    m.create_all(conn)


def _m0002_exchanges(conn: Connection) -> None:
    """VC API exchanges and challenges, receipts and their events, and the permission status lists holders
    push (issue 12: permission and secure exchange)."""
    p = TABLE_PREFIX
    m = MetaData()
    Table(
        p + "challenges", m,
        Column("challenge", String(128), primary_key=True),
        Column("purpose", String(16), nullable=False),
        Column("exchange_id", String(64)),
        Column("domain", String(2048), nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("expires_at", UtcDateTime, nullable=False),
        Column("used_at", UtcDateTime),
    )
    Table(
        p + "exchanges", m,
        Column("exchange_id", String(64), primary_key=True),
        Column("workflow_id", String(64), nullable=False),
        Column("state", String(16), nullable=False),
        Column("challenge", String(128)),
        Column("holder", String(2048)),
        Column("created_at", UtcDateTime, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
        Column("expires_at", UtcDateTime, nullable=False),
        Column("variables_json", Text),
        Column("receipt_json", Text),
    )
    Table(
        p + "exchange_events", m,
        Column("event_id", Integer, primary_key=True, autoincrement=True),
        Column("exchange_id", String(64), nullable=False),
        Column("outcome", String(16), nullable=False),
        Column("code", String(64)),
        Column("detail", Text),
        Column("at", UtcDateTime, nullable=False),
        Index("ix_" + p + "exchange_events_exchange", "exchange_id"),
    )
    Table(
        p + "permission_status_lists", m,
        Column("url", String(2048), primary_key=True),
        Column("issuer", String(2048), nullable=False),
        Column("valid_from", UtcDateTime, nullable=False),
        Column("credential_json", Text, nullable=False),
        Column("received_at", UtcDateTime, nullable=False),
    )
    m.create_all(conn)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", _m0001_initial),
    Migration(2, "exchanges, challenges, receipts, permission status lists", _m0002_exchanges),
)
LATEST_VERSION = MIGRATIONS[-1].version


def current_version(conn: Connection) -> int:
    """The highest migration applied (0 for an empty database)."""
    if not inspect(conn).has_table(schema_migrations.name):
        return 0
    return int(conn.execute(select(func.coalesce(func.max(schema_migrations.c.version), 0))).scalar_one())


def migrate(engine: Engine, *, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[int]:
    """Bring the database up to the last of ``migrations``; the versions applied now (empty if none).

    Safe to call from several processes at once and idempotent: the second caller waits for the
    first and then finds nothing to do.
    """
    known = max((m.version for m in migrations), default=0)
    numbers = [m.version for m in migrations]
    if numbers != list(range(1, len(numbers) + 1)):
        raise ValueError(f"migrations must be numbered 1, 2, 3, … without gaps; got {numbers}")
    applied: list[int] = []
    with engine.execution_options(**{WRITE_OPTION: True}).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.perseus_migrations'))"))
        schema_migrations.create(conn, checkfirst=True)
        version = current_version(conn)
        if version > known:
            raise SchemaVersionError(
                f"the database is at schema version {version}, newer than this release knows ({known}); "
                "upgrade perseus-credentials, or point it at another database"
            )
        for migration in migrations:
            if migration.version <= version:
                continue
            migration.apply(conn)
            conn.execute(
                schema_migrations.insert().values(
                    version=migration.version, name=migration.name, applied_at=datetime.now(timezone.utc)
                )
            )
            applied.append(migration.version)
    return applied
