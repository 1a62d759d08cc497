"""The registry's tables and their versioned migrations.

Times are stored as text in one form (``YYYY-MM-DDTHH:MM:SSZ``, UTC): it sorts as time does, reads the
same in SQLite and PostgreSQL, and is exactly what the snapshot publishes.

Migrations are numbered and forward-only: append a step, never edit a released one; a database newer
than this code is refused rather than "fixed". Each step runs in one transaction with its bookkeeping
row (both engines have transactional DDL), so a failed upgrade leaves the previous version intact.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from sqlalchemy import Column, ForeignKey, Index, Integer, MetaData, String, Table, Text, UniqueConstraint, inspect, select
from sqlalchemy.engine import Connection, Engine

from ..errors import StorageError
from .engine import translate_errors, write_transaction

metadata = MetaData()

migrations_table = Table(
    "registry_schema_migrations", metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("applied_at", String(32), nullable=False),
)
settings = Table(
    "registry_settings", metadata,
    Column("name", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)
entities = Table(
    "registry_entities", metadata,
    Column("id", String(2000), primary_key=True),
    Column("legal_name", String(500), nullable=False),
    Column("assurance_level", String(500)),
    Column("created_at", String(32), nullable=False),
)
identifiers = Table(
    "registry_identifiers", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("entity_id", String(2000), ForeignKey("registry_entities.id"), nullable=False),
    Column("kind", String(40), nullable=False),  # Did | X509Certificate
    Column("did", String(2000), unique=True),
    Column("application_url", String(2000)),
    Column("serial", String(200)),
    Column("valid_from", String(32), nullable=False),
    Column("valid_until", String(32)),
    Column("revoked_from", String(32)),
    Column("did_document", Text),
    UniqueConstraint("application_url", "serial", name="registry_identifiers_certificate"),
)
methods = Table(
    "registry_verification_methods", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("identifier_pk", Integer, ForeignKey("registry_identifiers.pk"), nullable=False),
    Column("method_id", String(2000), nullable=False),
    Column("valid_from", String(32), nullable=False),
    Column("valid_until", String(32)),
    UniqueConstraint("identifier_pk", "method_id", name="registry_methods_unique"),
)
roles = Table(
    "registry_roles", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("entity_id", String(2000), ForeignKey("registry_entities.id"), nullable=False),
    Column("framework", String(2000), nullable=False),
    Column("role", String(2000), nullable=False),
    Column("valid_from", String(32), nullable=False),
    Column("valid_until", String(32)),
    Index("registry_roles_entity", "entity_id"),
)
role_events = Table(
    "registry_role_events", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("role_pk", Integer, ForeignKey("registry_roles.pk"), nullable=False),
    Column("status", String(20), nullable=False),  # active | suspended | revoked
    Column("effective_from", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("recorded_at", String(32), nullable=False),
    Index("registry_role_events_role", "role_pk"),
)
snapshots = Table(
    "registry_snapshots", metadata,
    Column("sequence", Integer, primary_key=True, autoincrement=False),
    Column("issued", String(32), nullable=False),
    Column("next_update", String(32), nullable=False),
    Column("digest", String(100), nullable=False),
    Column("document", Text, nullable=False),
)
audit = Table(
    "registry_audit", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("at", String(32), nullable=False),
    Column("actor", String(500), nullable=False),
    Column("action", String(100), nullable=False),
    Column("target", String(2000), nullable=False),
    Column("reason", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("snapshot", Integer),
)


def _v1(connection: Connection) -> None:
    """The first schema: every table above (a frozen copy would go here once a second step exists)."""
    metadata.create_all(connection, tables=[t for t in metadata.sorted_tables if t is not migrations_table])


MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [(1, "entities, identifiers, roles, history, snapshots, audit", _v1)]
LATEST = MIGRATIONS[-1][0]


def migrate(engine: Engine) -> int:
    """Bring the database to the latest schema; returns its version. A newer database is refused."""
    with translate_errors():
        with write_transaction(engine) as connection:
            if not inspect(connection).has_table(migrations_table.name):
                migrations_table.create(connection)
            done = {row.version for row in connection.execute(select(migrations_table.c.version))}
            if done and max(done) > LATEST:
                raise StorageError(f"the registry database is at schema version {max(done)}, newer than this code ({LATEST}); upgrade perseus")
            for version, name, step in MIGRATIONS:
                if version not in done:
                    step(connection)
                    connection.execute(migrations_table.insert().values(
                        version=version, name=name, applied_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")))
    return LATEST
