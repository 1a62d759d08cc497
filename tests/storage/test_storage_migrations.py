"""Schema migrations on both engines: from empty, idempotent, concurrent, refused when newer, atomic."""

from __future__ import annotations

import threading

import pytest
from perseus.issuer.storage import LATEST_VERSION, SchemaVersionError, StorageUnavailableError, StorageUrlError, open_storage
from perseus.issuer.storage.engine import build_engine
from perseus.issuer.storage.migrations import MIGRATIONS, Migration, migrate
from perseus.issuer.storage.schema import metadata, schema_migrations
from perseus_storage_fixtures import db_url, storage  # noqa: F401 - fixtures
from sqlalchemy import Column, Integer, MetaData, Table, inspect, select, text


def test_upgrade_from_empty_builds_the_current_schema(db_url: str) -> None:
    storage = open_storage(db_url, migrate=False)
    try:
        assert storage.schema_version() == 0
        assert storage.migrate() == list(range(1, LATEST_VERSION + 1))
        assert storage.schema_version() == LATEST_VERSION
        with storage._engine.connect() as conn:
            inspector = inspect(conn)
            assert set(inspector.get_table_names()) == set(metadata.tables)
            # What the migrations built is what the queries expect (schema.py), column for column.
            for name, table in metadata.tables.items():
                built = {c["name"]: c["nullable"] for c in inspector.get_columns(name)}
                expected = {c.name: c.nullable for c in table.columns}
                assert built == expected, name
            indexes = {i["name"]: i for i in inspector.get_indexes("perseus_keys")}
            assert indexes["ix_perseus_keys_one_active"]["unique"]
            primary = inspector.get_pk_constraint("perseus_status_allocations")["constrained_columns"]
            assert primary == ["list_id", "idx"]
    finally:
        storage.close()


def test_migrating_again_changes_nothing(db_url: str) -> None:
    first = open_storage(db_url)
    first.close()
    again = open_storage(db_url)
    try:
        assert again.migrate() == []
        assert again.schema_version() == LATEST_VERSION
        with again._engine.connect() as conn:
            rows = conn.execute(select(schema_migrations.c.version)).scalars().all()
        assert sorted(rows) == list(range(1, LATEST_VERSION + 1))  # each step recorded once
    finally:
        again.close()


def test_concurrent_start_ups_apply_each_step_once(db_url: str) -> None:
    storages = [open_storage(db_url, migrate=False) for _ in range(4)]
    results: list[list[int]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(storages))

    def start(storage: object) -> None:
        try:
            barrier.wait()
            results.append(storage.migrate())  # type: ignore[attr-defined]
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(s,)) for s in storages]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert sorted(results, key=len) == [[], [], [], list(range(1, LATEST_VERSION + 1))]
    finally:
        for s in storages:
            s.close()


def test_a_database_from_a_newer_release_is_refused(db_url: str) -> None:
    storage = open_storage(db_url)
    with storage._engine.begin() as conn:
        conn.execute(schema_migrations.insert().values(version=LATEST_VERSION + 5, name="future", applied_at=storage._clock()))
    storage.close()
    with pytest.raises(SchemaVersionError) as caught:
        open_storage(db_url)
    assert f"schema version {LATEST_VERSION + 5}" in caught.value.message
    assert caught.value.code == "SCHEMA_VERSION_ERROR"


def test_a_failing_step_leaves_the_previous_version_intact(db_url: str) -> None:
    storage = open_storage(db_url)
    storage.close()
    engine, _ = build_engine(db_url)

    def half_done(conn: object) -> None:
        Table("perseus_half_done", MetaData(), Column("x", Integer)).create(conn)  # type: ignore[arg-type]
        raise RuntimeError("disk full, say")

    broken = MIGRATIONS + (Migration(LATEST_VERSION + 1, "breaks halfway", half_done),)
    try:
        with pytest.raises(RuntimeError):
            migrate(engine, migrations=broken)
        with engine.connect() as conn:
            assert not inspect(conn).has_table("perseus_half_done")  # transactional DDL: undone
            version = conn.execute(text("SELECT max(version) FROM perseus_schema_migrations")).scalar()
        assert version == LATEST_VERSION
    finally:
        engine.dispose()


def test_steps_must_be_numbered_without_gaps(db_url: str) -> None:
    engine, _ = build_engine(db_url)
    try:
        with pytest.raises(ValueError, match="without gaps"):
            migrate(engine, migrations=(Migration(2, "two", lambda conn: None),))
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("", "empty"),
        ("not a url", "not a database URL"),
        ("mysql://127.0.0.1/perseus", "unsupported database 'mysql'"),
        ("sqlite:///:memory:", "in-memory"),
        ("sqlite://", "in-memory"),
        ("sqlite:////no/such/directory/perseus.db", "does not exist"),
        ("sqlite:///perseus.db?journal=off", "unknown SQLite URL option"),
        ("sqlite:///perseus.db?synchronous=OFF", "synchronous=OFF"),
        ("postgresql://127.0.0.1/test?schema=Bad-Name", "schema name"),
    ],
)
def test_unusable_urls_are_refused_with_a_reason(url: str, fragment: str) -> None:
    with pytest.raises(StorageUrlError) as caught:
        open_storage(url)
    assert fragment in caught.value.message


def test_passwords_never_reach_messages() -> None:
    with pytest.raises(StorageUrlError) as bad_schema:
        open_storage("postgresql://perseus:hunter2@127.0.0.1/test?schema=Bad-Name", migrate=False)
    with pytest.raises(StorageUnavailableError) as unreachable:
        # Port 1 on loopback: nothing listens there, so the connection is refused at once.
        open_storage("postgresql://perseus:hunter2@127.0.0.1:1/test")
    for error in (bad_schema.value, unreachable.value):
        assert "hunter2" not in error.message
    assert "***" in unreachable.value.message
    assert unreachable.value.http_status == 503
