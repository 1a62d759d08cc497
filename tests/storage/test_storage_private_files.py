"""Issue 7: the SQLite database, WAL and shm files hold customer energy data and the encrypted keys, so
they are created 0600; a passphrase file that group or others can read is refused, as ssh refuses a
private key file others can read."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from perseus.issuer.keystore import KeyStoreError, PassphraseKeyStore
from perseus.issuer.storage import open_storage

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_sqlite_database_and_its_wal_and_shm_are_private(tmp_path: Path) -> None:
    previous = os.umask(0o022)  # the usual umask, under which SQLite alone would create 0644 files
    try:
        database = tmp_path / "perseus.db"
        storage = open_storage(f"sqlite:///{database}")
        try:
            storage.create_profile("default", issuer="did:example:issuer", suites=["eddsa-rdfc-2022"])
            files = {p.name: mode(p) for p in tmp_path.iterdir() if p.name.startswith("perseus.db") and "lock" not in p.name}
        finally:
            storage.close()
    finally:
        os.umask(previous)
    assert {"perseus.db", "perseus.db-wal", "perseus.db-shm"} <= set(files), files
    assert all(m == 0o600 for m in files.values()), {name: oct(m) for name, m in files.items()}


def test_an_existing_database_keeps_its_mode(tmp_path: Path) -> None:
    database = tmp_path / "shared.db"
    open_storage(f"sqlite:///{database}").close()
    database.chmod(0o640)  # an operator's own choice (a backup group, say) is left alone
    open_storage(f"sqlite:///{database}").close()
    assert mode(database) == 0o640


@pytest.mark.parametrize("file_mode", [0o644, 0o640, 0o604, 0o660, 0o666])
def test_a_passphrase_file_others_can_read_is_refused(tmp_path: Path, file_mode: int) -> None:
    path = tmp_path / "passphrase"
    path.write_text("a passphrase long enough to pass\n")
    path.chmod(file_mode)
    with pytest.raises(KeyStoreError, match="chmod 600") as refused:
        PassphraseKeyStore.from_file(path)
    assert "long enough" not in refused.value.message  # the secret is never in the message
    with pytest.raises(KeyStoreError, match="group or others"):
        PassphraseKeyStore.from_environment({"PERSEUS_KEY_PASSPHRASE_FILE": str(path)})


@pytest.mark.parametrize("file_mode", [0o600, 0o400])
def test_a_private_passphrase_file_is_accepted(tmp_path: Path, file_mode: int) -> None:
    path = tmp_path / "elsewhere" / "passphrase"  # kept apart from the data directory, as the README advises
    path.parent.mkdir()
    path.write_text("a passphrase long enough to pass\n")
    path.chmod(file_mode)
    assert PassphraseKeyStore.from_file(path)
