"""The tables, as the queries use them (the *current* schema; `migrations.py` builds it step by step).

Every table name starts with ``perseus_`` so the issuer can share a PostgreSQL database (or schema)
with other software. Design choices, each for a reason:

* ``status_allocations`` has PRIMARY KEY (list_id, idx): the database itself guarantees that an
  index is never handed out twice, whatever number of threads, processes or replicas allocate at
  once; the allocator just retries on a conflict.
* It also has UNIQUE (credential_id, purpose): one position per purpose per credential, which
  makes reserving idempotent (a retried reservation gets the same positions back).
* Status bits live only in ``status_lists.bits`` (one 16 KB+ blob per list): one source of truth,
  served as it is; an allocation row says *where* a credential's bit is, never its value.
* ``keys`` has a partial unique index: at most one *active* key per profile.
* Times are stored as TIMESTAMP WITH TIME ZONE on PostgreSQL and as ISO 8601 UTC text on SQLite
  (which sorts correctly), always read back as aware UTC datetimes.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
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
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["TABLE_PREFIX", "UtcDateTime", "metadata"]

TABLE_PREFIX = "perseus_"


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on both engines (SQLite has no datetime type; naive values are refused)."""

    impl = String(32)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(DateTime(timezone=True))
        return dialect.type_descriptor(String(32))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware UTC datetime")
        value = value.astimezone(timezone.utc)
        if dialect.name == "postgresql":
            return value
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.astimezone(timezone.utc)
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


metadata = MetaData()

schema_migrations = Table(
    TABLE_PREFIX + "schema_migrations",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("applied_at", UtcDateTime, nullable=False),
)

profiles = Table(
    TABLE_PREFIX + "profiles",
    metadata,
    Column("profile_id", String(64), primary_key=True),
    Column("issuer", String(2048), nullable=False),
    Column("name", String(200)),
    Column("suites", Text, nullable=False),  # JSON array of cryptosuite names
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

keys = Table(
    TABLE_PREFIX + "keys",
    metadata,
    Column("key_id", String(2048), primary_key=True),  # verification method id
    Column("profile_id", String(64), ForeignKey(TABLE_PREFIX + "profiles.profile_id"), nullable=False),
    Column("controller", String(2048), nullable=False),
    Column("key_type", String(16), nullable=False),
    Column("public_key_multibase", String(200), nullable=False),
    Column("wrapped_secret", LargeBinary, nullable=False),
    Column("keystore", String(100), nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("retired_at", UtcDateTime),
    Index(
        "ix_" + TABLE_PREFIX + "keys_one_active",
        "profile_id",
        unique=True,
        sqlite_where=text("state = 'active'"),
        postgresql_where=text("state = 'active'"),
    ),
    Index("ix_" + TABLE_PREFIX + "keys_profile", "profile_id", "controller"),
)

status_lists = Table(
    TABLE_PREFIX + "status_lists",
    metadata,
    Column("list_id", String(64), primary_key=True),
    Column("profile_id", String(64), ForeignKey(TABLE_PREFIX + "profiles.profile_id"), nullable=False),
    Column("issuer", String(2048), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("length", Integer, nullable=False),
    Column("bits", LargeBinary, nullable=False),
    Column("state", String(8), nullable=False),  # open | full
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("signed_json", Text),
    Column("signed_version", Integer),
    Column("signed_at", UtcDateTime),
    UniqueConstraint("profile_id", "issuer", "purpose", "seq", name="uq_" + TABLE_PREFIX + "status_lists_seq"),
)

status_allocations = Table(
    TABLE_PREFIX + "status_allocations",
    metadata,
    Column("list_id", String(64), ForeignKey(TABLE_PREFIX + "status_lists.list_id"), nullable=False),
    Column("idx", Integer, nullable=False),
    Column("credential_id", String(2048), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("allocated_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("list_id", "idx", name="pk_" + TABLE_PREFIX + "status_allocations"),
    UniqueConstraint("credential_id", "purpose", name="uq_" + TABLE_PREFIX + "status_allocations_credential"),
)

issued_credentials = Table(
    TABLE_PREFIX + "issued_credentials",
    metadata,
    Column("credential_id", String(2048), primary_key=True),
    Column("profile_id", String(64), ForeignKey(TABLE_PREFIX + "profiles.profile_id"), nullable=False),
    Column("issuer", String(2048), nullable=False),
    Column("credential_json", Text, nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Index("ix_" + TABLE_PREFIX + "issued_profile_time", "profile_id", "issued_at"),
)

status_events = Table(
    TABLE_PREFIX + "status_events",
    metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("credential_id", String(2048), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("value", Boolean, nullable=False),
    Column("list_id", String(64), nullable=False),
    Column("list_version", Integer, nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
    Index("ix_" + TABLE_PREFIX + "status_events_credential", "credential_id"),
)

# -- VC API exchanges (issue 12; migration 2) -----------------------------------------------------------------
# A challenge is single-use: ``used_at`` is set in the same transaction that checks it is unset. An exchange
# moves pending -> requested -> complete | refused; its receipt says what was shared, with whom, under which
# permission; every completion and refusal is an event. Holders push their signed permission status lists.

challenges = Table(
    TABLE_PREFIX + "challenges",
    metadata,
    Column("challenge", String(128), primary_key=True),
    Column("purpose", String(16), nullable=False),  # exchange | verify
    Column("exchange_id", String(64)),
    Column("domain", String(2048), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime),
)

exchanges = Table(
    TABLE_PREFIX + "exchanges",
    metadata,
    Column("exchange_id", String(64), primary_key=True),
    Column("workflow_id", String(64), nullable=False),
    Column("state", String(16), nullable=False),  # pending | requested | complete | refused
    Column("challenge", String(128)),
    Column("holder", String(2048)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("variables_json", Text),  # what the exchange asks for (supply point, period), set at creation
    Column("receipt_json", Text),
)

exchange_events = Table(
    TABLE_PREFIX + "exchange_events",
    metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("exchange_id", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),  # completed | released | refused
    Column("code", String(64)),
    Column("detail", Text),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_" + TABLE_PREFIX + "exchange_events_exchange", "exchange_id"),
)

permission_status_lists = Table(
    TABLE_PREFIX + "permission_status_lists",
    metadata,
    Column("url", String(2048), primary_key=True),
    Column("issuer", String(2048), nullable=False),
    Column("valid_from", UtcDateTime, nullable=False),
    Column("credential_json", Text, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
)
