"""Helpers for tests that run against a real PostgreSQL: is it there, and a throw-away schema.

Kept in the package (as ``sqlalchemy.testing`` is) so every test folder — storage, status, the
service — uses the same rules: the server is ``PERSEUS_TEST_POSTGRES_URL`` (default
``postgresql://127.0.0.1:5432/test``); when it cannot be reached the tests are *skipped with the
reason shown*, never silently passed; each test gets a fresh schema, dropped afterwards, so runs
(and parallel runs) never see each other's rows.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

__all__ = ["POSTGRES_URL_ENV", "DEFAULT_POSTGRES_URL", "postgres_test_url", "postgres_unavailable_reason", "temporary_schema"]

POSTGRES_URL_ENV = "PERSEUS_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql://127.0.0.1:5432/test"


def postgres_test_url() -> str:
    return os.environ.get(POSTGRES_URL_ENV) or DEFAULT_POSTGRES_URL


@cache
def postgres_unavailable_reason(url: str) -> str | None:
    """None if ``url`` answers; else a sentence saying why not (for ``pytest.skip``)."""
    try:
        import psycopg
    except ImportError:
        return "psycopg (PostgreSQL driver) is not installed"
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    try:
        conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(conninfo, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # any failure means "not usable here", and the reason is shown
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PostgreSQL at {shown} is not reachable ({first_line}); set {POSTGRES_URL_ENV} to run these tests"
    return None


@contextmanager
def temporary_schema(url: str, prefix: str = "perseus_test") -> Iterator[str]:
    """A new, empty schema name on ``url`` (created on first use by the storage), dropped on exit."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        yield name
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
