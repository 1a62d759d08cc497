"""Fixtures for the status tests: keys, signed status lists, and a database on each engine.

Test modules import what they use; not a conftest.py for the reason given in
tests/storage/perseus_storage_fixtures.py.

The database fixtures follow tests/storage/conftest.py: SQLite always, PostgreSQL at
PERSEUS_TEST_POSTGRES_URL in a throw-away schema, skipped with the reason shown when unreachable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from perseus.issuer.keyfile import KeyFile, generate_key_file
from perseus.issuer.signing import sign_document
from perseus.issuer.storage import Storage, open_storage
from perseus.issuer.storage.testing import postgres_test_url, postgres_unavailable_reason, temporary_schema
from perseus.verifier.status import Bitstring

ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=ENGINES)
def status_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    if request.param == "sqlite":
        opened = open_storage(f"sqlite:///{tmp_path / 'perseus.db'}")
        try:
            yield opened
        finally:
            opened.close()
        return
    url = postgres_test_url()
    reason = postgres_unavailable_reason(url)
    if reason is not None:
        pytest.skip(reason)
    with temporary_schema(url) as schema:
        opened = open_storage(url, schema=schema)
        try:
            yield opened
        finally:
            opened.close()


# -- signed status lists ---------------------------------------------------------------------------------------

LIST_URL = "https://issuer.example/status/3"
ENTRY_VALID_FROM = "2025-01-01T00:00:00Z"


@pytest.fixture(scope="session")
def issuer_key() -> KeyFile:
    return generate_key_file("Ed25519")


@pytest.fixture
def make_list(issuer_key: KeyFile) -> Callable[..., dict[str, Any]]:
    """A signed BitstringStatusListCredential with the given bits set (131,072 entries by default)."""

    def make(
        set_bits: tuple[int, ...] = (),
        *,
        purpose: str | list[str] = "revocation",
        url: str = LIST_URL,
        length: int = 131_072,
        key: KeyFile | None = None,
        valid_from: str | None = ENTRY_VALID_FROM,
        valid_until: str | None = "2025-01-02T00:00:00Z",
        ttl: int | None = 300_000,
        sign: bool = True,
    ) -> dict[str, Any]:
        bits = Bitstring.zeros(length)
        for index in set_bits:
            bits.set(index, True)
        signer = key or issuer_key
        subject: dict[str, Any] = {"id": url + "#list", "type": "BitstringStatusList", "statusPurpose": purpose, "encodedList": bits.encode()}
        if ttl is not None:
            subject["ttl"] = ttl
        document: dict[str, Any] = {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": url,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": signer.controller,
            "credentialSubject": subject,
        }
        if valid_from:
            document["validFrom"] = valid_from
        if valid_until:
            document["validUntil"] = valid_until
        return sign_document(document, signer, created=valid_from or "2025-01-01T00:00:00Z") if sign else document

    return make


@pytest.fixture
def make_credential(issuer_key: KeyFile) -> Callable[..., dict[str, Any]]:
    """A signed credential of ``issuer_key`` with the given credentialStatus entries."""

    def make(*entries: dict[str, Any], key: KeyFile | None = None) -> dict[str, Any]:
        signer = key or issuer_key
        document: dict[str, Any] = {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": "urn:uuid:6e9f6a3c-0c4c-4a59-9d2b-1d4b1c0a0001",
            "type": ["VerifiableCredential"],
            "issuer": signer.controller,
            "validFrom": "2025-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:sme"},
        }
        if entries:
            document["credentialStatus"] = list(entries) if len(entries) > 1 else entries[0]
        return sign_document(document, signer, created="2025-01-01T00:00:00Z")

    return make


def entry(index: int, purpose: str = "revocation", url: str = LIST_URL, **extra: Any) -> dict[str, Any]:
    return {"id": f"{url}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": purpose, "statusListIndex": str(index), "statusListCredential": url, **extra}


@pytest.fixture
def status_entry() -> Callable[..., dict[str, Any]]:
    return entry
