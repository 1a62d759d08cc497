"""Database fixtures: every storage test runs on SQLite and on PostgreSQL.

Test modules import the fixtures they use (``from perseus_storage_fixtures import db_url, storage``).
They are not in a conftest.py because tests/test_network_blocked.py imports ``conftest`` by module
name, which would resolve to whichever conftest.py pytest loaded last.

SQLite gets a new file per test. PostgreSQL is the server at PERSEUS_TEST_POSTGRES_URL (default
postgresql://127.0.0.1:5432/test); each test gets its own schema, dropped afterwards, and when the
server cannot be reached the PostgreSQL variants are skipped with the reason shown (pytest -ra).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from perseus.issuer.storage import Storage, open_storage
from perseus.issuer.storage.testing import postgres_test_url, postgres_unavailable_reason, temporary_schema

ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def fresh_database_url(engine: str, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database (its own schema on PostgreSQL), removed after the test."""
    if engine == "sqlite":
        yield f"sqlite:///{tmp_path / 'perseus.db'}"
        return
    url = postgres_test_url()
    reason = postgres_unavailable_reason(url)
    if reason is not None:
        pytest.skip(reason)
    with temporary_schema(url) as schema:
        yield f"{url}{'&' if '?' in url else '?'}schema={schema}"


@pytest.fixture(params=ENGINES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from fresh_database_url(request.param, tmp_path)


@pytest.fixture
def storage(db_url: str) -> Iterator[Storage]:
    opened = open_storage(db_url)
    try:
        yield opened
    finally:
        opened.close()
