"""From a database URL to a configured SQLAlchemy engine: SQLite (WAL, durable) or PostgreSQL (psycopg 3).

The two engines differ only here; every query above this module is the same SQLAlchemy Core code.

SQLite settings, each for a reason:

* ``journal_mode=WAL`` — readers never block the writer and the writer never blocks readers, so the
  service can serve status lists while it issues;
* ``synchronous=FULL`` (default) — every commit is fsync'ed: a credential acknowledged to a client
  survives a kill -9 *and* a power cut. ``?synchronous=NORMAL`` in the URL trades the power-cut
  guarantee for speed (a process crash still loses nothing in WAL mode);
* writes start with ``BEGIN IMMEDIATE`` — the write lock is taken up front, so two writers never
  deadlock upgrading a read lock (the usual SQLITE_BUSY trap); ``busy_timeout`` 30 s queues them;
* a transaction marked ``perseus_early_ack`` (status reservations) commits with
  ``synchronous=NORMAL`` — no fsync of its own. Nothing acknowledged can be lost that way: the log is
  sequential, so the fully durable commit that records the issued credential also makes every
  earlier reservation durable; a reservation lost in a power cut belonged to a credential that was
  never handed out. PostgreSQL gets the same with ``SET LOCAL synchronous_commit TO OFF``;
* writers queue on a lock file (``<database>.writer-lock``, `WriterQueue`) before BEGIN IMMEDIATE:
  SQLite's own busy handler *sleeps and polls* (1, 2, 5 … 100 ms) when the database is locked,
  which under load puts tens of milliseconds into the p99; a blocking ``flock`` wakes the next
  writer the moment the previous one commits. Readers never take it (WAL);
* the Python driver's own transaction handling is switched off (``isolation_level=None``) and
  SQLAlchemy emits BEGIN itself, as the SQLAlchemy documentation recommends for pysqlite.

PostgreSQL: ``postgresql://…`` means psycopg 3; ``?schema=NAME`` (or the ``schema`` argument)
puts every table in that schema, created if missing — a way to share one database between
deployments or test runs. Other query parameters go to libpq unchanged (``sslmode=…``).
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import URL, Connection, Engine, make_url

from .errors import InvalidIdError, StorageUnavailableError, StorageUrlError

__all__ = ["EngineInfo", "WriterQueue", "build_engine", "translate_errors"]

# PostgreSQL aborts one of two transactions that wait for each other (two allocations each wanting
# the index the other just took, say): SQLSTATE 40P01, or 40001 for a serialization failure. The
# aborted transaction rolled back completely, so running it again is safe.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_SQLITE_OPTIONS = {"synchronous"}
_SYNCHRONOUS = {"FULL", "NORMAL", "EXTRA"}
SQLITE_BUSY_TIMEOUT_SECONDS = 30.0
# Execution options set on the engines `Storage` writes through (see `build_engine`):
WRITE_OPTION = "perseus_write"  # the transaction writes: SQLite takes the write lock up front
EARLY_ACK_OPTION = "perseus_early_ack"  # the commit need not wait for the disk (see below)


class WriterQueue:
    """One SQLite writer at a time across threads *and* processes, woken in turn rather than polling.

    A thread lock orders the threads of this process; ``flock`` on a lock file beside the database
    orders the processes. The file is (re)opened per process, because a descriptor inherited across
    ``fork`` would share its lock with the parent. The kernel drops the lock of a killed process.
    """

    def __init__(self, path: str | None) -> None:
        self._path = path
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    def __enter__(self) -> None:
        self._thread_lock.acquire()
        if self._path is None:
            return
        try:
            import fcntl

            if self._fd is None or self._pid != os.getpid():
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
                self._pid = os.getpid()
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._thread_lock.release()
            raise

    def __exit__(self, *exc_info: object) -> None:
        try:
            if self._path is not None and self._fd is not None:
                import fcntl

                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def close(self) -> None:
        if self._fd is not None and self._pid == os.getpid():
            with contextlib.suppress(OSError):
                os.close(self._fd)
        self._fd = None


@dataclass(frozen=True)
class EngineInfo:
    """What the rest of the layer needs to know about the engine, and a URL safe to print."""

    dialect: str  # "sqlite" | "postgresql"
    display_url: str  # password hidden
    schema: str | None
    writer_queue: WriterQueue | contextlib.nullcontext[None] = field(default_factory=contextlib.nullcontext, compare=False, repr=False)


def build_engine(url: str, *, schema: str | None = None, pool_size: int = 8) -> tuple[Engine, EngineInfo]:
    """A configured engine for ``url``; raises `StorageUrlError` naming what is wrong with it."""
    if not isinstance(url, str) or not url.strip():
        raise StorageUrlError("the database URL is empty; use sqlite:///path/to/perseus.db or postgresql://host/db")
    try:
        parsed = make_url(url.strip())
    except exc.ArgumentError:
        raise StorageUrlError(
            f"{_redact_text(url)!r} is not a database URL; use sqlite:///path/to/perseus.db or postgresql://host:5432/db"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed, schema, pool_size)
    if backend in ("postgresql", "postgres"):
        return _postgres_engine(parsed, schema, pool_size)
    raise StorageUrlError(
        f"unsupported database {backend!r} in {parsed.render_as_string(hide_password=True)}; "
        "use sqlite:///path/to/perseus.db (default) or postgresql://host:5432/db"
    )


def _redact_text(url: str) -> str:
    return re.sub(r"(//[^:/@]*:)[^@/]*@", r"\1***@", url)


def _sqlite_engine(parsed: URL, schema: str | None, pool_size: int) -> tuple[Engine, EngineInfo]:
    display = parsed.render_as_string(hide_password=True)
    if schema is not None:
        raise StorageUrlError("a schema can only be chosen for PostgreSQL; SQLite keeps one database per file")
    unknown = set(parsed.query) - _SQLITE_OPTIONS
    if unknown:
        raise StorageUrlError(f"unknown SQLite URL option(s) {', '.join(sorted(unknown))} in {display}; allowed: synchronous")
    synchronous = str(parsed.query.get("synchronous", "FULL")).upper()
    if synchronous not in _SYNCHRONOUS:
        raise StorageUrlError(f"synchronous={synchronous} in {display}: choose FULL (default, durable), EXTRA or NORMAL")
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        raise StorageUrlError(
            f"{display} is an in-memory database, which would lose every issued credential when the process "
            "stops; give a file path, e.g. sqlite:///var/lib/perseus/perseus.db"
        )
    directory = os.path.dirname(os.path.abspath(database))
    if not os.path.isdir(directory):
        raise StorageUrlError(f"the directory {directory} for the SQLite database {database} does not exist; create it first")
    _create_private_file(database)
    engine = create_engine(
        parsed.set(drivername="sqlite+pysqlite", query={}),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=SQLITE_BUSY_TIMEOUT_SECONDS,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_SECONDS * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        if options.get(WRITE_OPTION, False):
            early = options.get(EARLY_ACK_OPTION, False) or synchronous == "NORMAL"
            connection.exec_driver_sql(f"PRAGMA synchronous={'NORMAL' if early else synchronous}")
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")

    try:
        import fcntl  # noqa: F401 - POSIX only; elsewhere writers rely on SQLite's busy handler

        lock_path: str | None = os.path.abspath(database) + ".writer-lock"
    except ImportError:
        lock_path = None
    return engine, EngineInfo("sqlite", display, None, WriterQueue(lock_path))


def _create_private_file(database: str) -> None:
    """Create the SQLite database file readable by its owner only (0600), if it does not exist yet.

    It holds customer energy data and the encrypted keys. SQLite creates the -wal and -shm files
    with the database file's own mode, so creating this one 0600 keeps all three private — whereas
    letting SQLite create it would give 0644 under the usual umask.
    """
    try:
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError as exc:
        raise StorageUrlError(f"cannot create the SQLite database {database}: {exc.strerror or exc}") from None


def _postgres_engine(parsed: URL, schema: str | None, pool_size: int) -> tuple[Engine, EngineInfo]:
    query = dict(parsed.query)
    url_schema = query.pop("schema", None)
    if isinstance(url_schema, tuple):
        raise StorageUrlError("the database URL gives ?schema= more than once")
    if schema is not None and url_schema is not None and schema != url_schema:
        raise StorageUrlError(f"two schemas given: {url_schema!r} in the URL and {schema!r} as an argument")
    schema = schema if schema is not None else url_schema
    if schema is not None and not _SCHEMA_NAME.fullmatch(schema):
        raise StorageUrlError(f"schema name {schema!r} must be lower-case letters, digits and _ (at most 63)")
    parsed = parsed.set(drivername="postgresql+psycopg", query=query)
    display = parsed.render_as_string(hide_password=True)
    # No pre-ping: it costs a round trip per transaction (~25% of an issue). After a database
    # restart the first call on a dead connection fails with StorageUnavailableError (503, safe to
    # retry) and SQLAlchemy then discards the whole pool, so the calls after it reconnect.
    engine = create_engine(parsed, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=False, pool_recycle=3600)

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        if connection.get_execution_options().get(EARLY_ACK_OPTION, False):
            connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
    if schema is not None:

        @event.listens_for(engine, "connect", insert=True)
        def _search_path(dbapi_connection: Any, _record: Any) -> None:
            # Outside any transaction, so a later rollback cannot undo it (SQLAlchemy's recipe).
            autocommit = dbapi_connection.autocommit
            dbapi_connection.autocommit = True
            with dbapi_connection.cursor() as cursor:
                try:
                    cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                except Exception as error:  # two processes creating it at once: one loses, harmlessly
                    if getattr(error, "sqlstate", None) not in ("23505", "42P06"):
                        raise
                cursor.execute(f'SET SESSION search_path TO "{schema}"')
            dbapi_connection.autocommit = autocommit

    return engine, EngineInfo("postgresql", display, schema)


@contextmanager
def translate_errors(info: EngineInfo) -> Iterator[None]:
    """Turn "cannot reach / locked" driver errors into `StorageUnavailableError` (the URL's password hidden)."""
    try:
        yield
    except exc.OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig is not None else "unknown error"
        if getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES:
            raise StorageUnavailableError(
                f"the database {info.display_url} aborted this transaction because it conflicted with a "
                f"concurrent one ({reason}); it can be retried as it is",
                retryable=True,
            ) from None
        if "locked" in reason or "busy" in reason:
            raise StorageUnavailableError(
                f"the database {info.display_url} stayed locked by another writer for over "
                f"{SQLITE_BUSY_TIMEOUT_SECONDS:.0f} s; retry, or move to PostgreSQL for several writers"
            ) from None
        raise StorageUnavailableError(f"cannot use the database {info.display_url}: {reason}") from None
    except exc.InterfaceError as error:
        raise StorageUnavailableError(f"cannot use the database {info.display_url}: {error.orig}") from None
    except exc.DataError:
        # A value the database cannot hold (PostgreSQL: a NUL in text). Ids are checked before they
        # get here (store.py `_storable`); this keeps anything missed a 400, not a 500 and a traceback.
        raise InvalidIdError("the database cannot store a value of this request (a NUL character, or a value out of range)") from None
    except exc.TimeoutError:
        raise StorageUnavailableError(
            f"no free connection to {info.display_url} within the pool timeout; the server is overloaded"
        ) from None
