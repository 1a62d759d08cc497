"""From a database URL to an engine: SQLite (WAL, writes take the lock up front) or PostgreSQL (psycopg 3).

SQLite: ``BEGIN IMMEDIATE`` for writes, so two writers never deadlock upgrading a read lock, and a busy
timeout queues them; WAL lets the query service read while the admin API writes. PostgreSQL:
``?schema=NAME`` keeps the registry's tables in their own schema (created when missing); writers take a
transaction-scoped advisory lock so snapshot sequence numbers are handed out one at a time.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import Connection, Engine, make_url

from ..errors import InvalidInputError, StorageError

__all__ = ["open_engine", "write_transaction", "translate_errors"]

_SCHEMA = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_WRITE = "perseus_registry_write"
_LOCK_ID = 0x7065_7273  # "pers": the advisory lock that serialises registry writers on PostgreSQL


def open_engine(url: str, *, schema: str | None = None) -> Engine:
    """A configured engine; a bad URL is an `InvalidInputError` naming what is wrong."""
    try:
        parsed = make_url(url.strip())
    except (exc.ArgumentError, AttributeError):
        raise InvalidInputError(f"{url!r} is not a database URL; use sqlite:///path/registry.db or postgresql://host/db") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database
        if not database or database == ":memory:":
            raise InvalidInputError("the registry needs a database file (sqlite:///path/registry.db), not an in-memory database")
        if not os.path.isdir(os.path.dirname(os.path.abspath(database))):
            raise InvalidInputError(f"the directory for the SQLite database {database} does not exist")
        engine = create_engine(parsed.set(drivername="sqlite+pysqlite"), connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _configure(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE" if connection.get_execution_options().get(_WRITE) else "BEGIN")

        return engine
    if backend in ("postgresql", "postgres"):
        query = dict(parsed.query)
        schema = schema or query.pop("schema", None)
        if schema is not None and not (isinstance(schema, str) and _SCHEMA.fullmatch(schema)):
            raise InvalidInputError(f"schema name {schema!r} must be lower-case letters, digits and _")
        engine = create_engine(parsed.set(drivername="postgresql+psycopg", query=query), pool_size=8, max_overflow=8)

        @event.listens_for(engine, "begin")
        def _lock(connection: Connection) -> None:
            if connection.get_execution_options().get(_WRITE):
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_ID})")

        if schema is not None:

            @event.listens_for(engine, "connect", insert=True)
            def _search_path(dbapi_connection: Any, _record: Any) -> None:
                autocommit = dbapi_connection.autocommit
                dbapi_connection.autocommit = True
                with dbapi_connection.cursor() as cursor:
                    try:
                        cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                    except Exception as error:  # created concurrently by another process: harmless
                        if getattr(error, "sqlstate", None) not in ("23505", "42P06"):
                            raise
                    cursor.execute(f'SET SESSION search_path TO "{schema}"')
                dbapi_connection.autocommit = autocommit

        return engine
    raise InvalidInputError(f"unsupported database {backend!r}; use sqlite:///path/registry.db or postgresql://host/db")


@contextmanager
def translate_errors() -> Iterator[None]:
    """Driver failures as one sentence (`StorageError`), never a traceback."""
    try:
        yield
    except exc.OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig is not None else "unknown error"
        raise StorageError(f"the registry database cannot be used: {reason}") from None
    except exc.InterfaceError as error:
        raise StorageError(f"the registry database cannot be used: {error.orig}") from None


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One write transaction, serialised with every other registry writer; rolled back on any error."""
    with translate_errors(), engine.connect().execution_options(**{_WRITE: True}) as connection, connection.begin():
        yield connection
