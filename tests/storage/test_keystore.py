"""Keys at rest: encrypted with a passphrase, never shown, rotated without breaking what they signed."""

from __future__ import annotations

import json
import os
import pickle
import stat
from pathlib import Path

import pytest
from perseus.issuer.keyfile import KeyFile, generate_key_file, read_key_file, write_key_file
from perseus.issuer.keystore import (
    IssuerKeys,
    KeyStore,
    KeyStoreError,
    PassphraseKeyStore,
    create_passphrase_file,
    default_suites,
)
from perseus.issuer.signing import sign_document
from perseus.issuer.storage import KeyNotFoundError, Storage, StorageError, open_storage
from perseus.verifier.keys import KEY_TYPES, SecretKey
from perseus.verifier.verify import verify_credential
from perseus_storage_fixtures import db_url, storage  # noqa: F401 - fixtures

PASSPHRASE = "correct horse battery staple"
FAST = 2**10  # scrypt cost for tests that wrap many keys; one test below uses the default cost


def store(passphrase: str = PASSPHRASE) -> PassphraseKeyStore:
    return PassphraseKeyStore(passphrase, scrypt_n=FAST)


def credential(issuer: str) -> dict[str, object]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "credentialSubject": {"id": "did:example:sme"},
    }


# -- the passphrase key store --------------------------------------------------------------------------------


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_wrap_unwrap_round_trip(key_type: str) -> None:
    secret = SecretKey.generate(key_type)  # type: ignore[arg-type]
    keystore = PassphraseKeyStore(PASSPHRASE)  # the default (production) cost
    wrapped = keystore.wrap(secret, key_id="did:example:1#k")
    assert isinstance(keystore, KeyStore)
    assert secret.multibase().encode() not in wrapped and secret.raw_bytes() not in wrapped
    assert json.loads(wrapped)["n"] == 2**14
    assert keystore.unwrap(wrapped, key_id="did:example:1#k") == secret
    assert PassphraseKeyStore(PASSPHRASE).unwrap(wrapped, key_id="did:example:1#k") == secret  # another process


def test_each_wrap_uses_a_fresh_salt_and_nonce() -> None:
    secret = SecretKey.generate("Ed25519")
    keystore = store()
    first, second = (json.loads(keystore.wrap(secret, key_id="k")) for _ in range(2))
    assert first["salt"] != second["salt"] and first["nonce"] != second["nonce"]
    assert first["ciphertext"] != second["ciphertext"]


def test_the_wrong_passphrase_a_moved_key_or_an_altered_record_is_refused() -> None:
    secret = SecretKey.generate("P-256")
    wrapped = store().wrap(secret, key_id="did:web:a#1")
    with pytest.raises(KeyStoreError, match="passphrase is not the one") as wrong:
        store("another long passphrase").unwrap(wrapped, key_id="did:web:a#1")
    with pytest.raises(KeyStoreError):  # bound to its verification method id
        store().unwrap(wrapped, key_id="did:web:a#2")
    record = json.loads(wrapped)
    record["ciphertext"] = ("0" if record["ciphertext"][0] != "0" else "1") + record["ciphertext"][1:]
    with pytest.raises(KeyStoreError):
        store().unwrap(json.dumps(record).encode(), key_id="did:web:a#1")
    with pytest.raises(KeyStoreError, match="format"):
        store().unwrap(b"not json", key_id="did:web:a#1")
    for error in (wrong.value,):
        assert secret.multibase() not in error.message and PASSPHRASE not in error.message


def test_passphrases_come_from_the_environment_or_a_file(tmp_path: Path) -> None:
    secret = SecretKey.generate("Ed25519")
    from_env = PassphraseKeyStore.from_environment({"PERSEUS_KEY_PASSPHRASE": PASSPHRASE})
    wrapped = from_env.wrap(secret, key_id="k")
    path = tmp_path / "passphrase"
    path.write_text(PASSPHRASE + "\n")
    path.chmod(0o600)  # a passphrase file others can read is refused (test_keystore_files.py)
    from_file = PassphraseKeyStore.from_environment({"PERSEUS_KEY_PASSPHRASE_FILE": str(path)})
    assert from_file.unwrap(wrapped, key_id="k") == secret
    with pytest.raises(KeyStoreError, match="PERSEUS_KEY_PASSPHRASE"):
        PassphraseKeyStore.from_environment({})
    with pytest.raises(KeyStoreError, match="cannot read"):
        PassphraseKeyStore.from_environment({"PERSEUS_KEY_PASSPHRASE_FILE": str(tmp_path / "missing")})
    with pytest.raises(KeyStoreError, match="shorter than"):
        PassphraseKeyStore("short")


def test_the_passphrase_is_never_shown() -> None:
    keystore = store()
    assert PASSPHRASE not in repr(keystore) and PASSPHRASE not in str(keystore)
    with pytest.raises(TypeError):
        pickle.dumps(keystore)


def test_a_new_passphrase_file_is_private_random_and_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "key-passphrase"
    assert create_passphrase_file(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    first = path.read_text()
    assert len(first.strip()) >= 32
    assert not create_passphrase_file(path)
    assert path.read_text() == first
    assert [p.name for p in tmp_path.iterdir()] == ["key-passphrase"]  # no temporary file left
    assert PassphraseKeyStore.from_file(path).wrap(SecretKey.generate("Ed25519"), key_id="k")


# -- issuer profiles' keys ---------------------------------------------------------------------------------------


@pytest.fixture
def keys(storage: Storage) -> IssuerKeys:
    return IssuerKeys(storage, store())


def test_keys_are_encrypted_in_the_database(tmp_path: Path) -> None:
    path = tmp_path / "perseus.db"
    with open_storage(f"sqlite:///{path}") as storage:
        keys = IssuerKeys(storage, store())
        keys.create_profile("p", key_type="Ed25519")
        secret = keys.signing_key("p").secret_key
    raw = path.read_bytes() + (Path(str(path) + "-wal").read_bytes() if Path(str(path) + "-wal").exists() else b"")
    assert secret.raw_bytes() not in raw
    assert secret.multibase().encode() not in raw


def test_a_did_key_profile_signs_and_a_second_process_can_open_its_key(storage: Storage, keys: IssuerKeys) -> None:
    profile = keys.create_profile("edp", key_type="P-256", name="Energy Data Provider")
    assert profile.issuer.startswith("did:key:zDn")
    assert profile.suites == ("ecdsa-rdfc-2019", "ecdsa-jcs-2019")
    signed = sign_document(credential(profile.issuer), keys.signing_key("edp"))
    assert verify_credential(signed).verified
    fresh = IssuerKeys(storage, store())  # nothing cached: decrypts from the database
    assert fresh.signing_key("edp") == keys.signing_key("edp")
    with pytest.raises(KeyStoreError, match="passphrase"):
        IssuerKeys(storage, store("a different passphrase")).signing_key("edp")


def test_public_listings_hold_no_secret(keys: IssuerKeys) -> None:
    keys.create_profile("edp", key_type="Ed25519")
    key = keys.signing_key("edp")
    listing = json.dumps(keys.list_keys("edp")) + json.dumps(keys.verification_methods("edp"))
    stored = keys.storage.active_key("edp")
    shown = listing + repr(stored) + str(stored) + repr(key) + repr(keys)
    assert key.secret_key.multibase() not in shown
    assert stored.wrapped_secret.decode() not in shown
    assert keys.list_keys("edp")[0]["publicKeyMultibase"] == key.public_key.multibase()


def test_rotating_a_did_key_profile_changes_its_did_and_old_credentials_still_verify(keys: IssuerKeys) -> None:
    before = keys.create_profile("edp", key_type="Ed25519")
    old_key = keys.signing_key("edp")
    old_credential = sign_document(credential(before.issuer), old_key)
    rotation = keys.rotate("edp")
    assert rotation.issuer_changed and rotation.issuer_before == before.issuer
    assert (rotation.retired.state, rotation.active.state) == ("retired", "active")
    assert rotation.retired.retired_at is not None
    new_key = keys.signing_key("edp")
    assert new_key != old_key and new_key.controller == rotation.issuer_after == keys.storage.get_profile("edp").issuer
    assert verify_credential(old_credential).verified
    assert verify_credential(sign_document(credential(rotation.issuer_after), new_key)).verified
    # The old DID's status lists are still signed by the old DID's key.
    assert keys.status_list_signer("edp", before.issuer) == old_key
    assert keys.status_list_signer("edp", rotation.issuer_after) == new_key
    assert [k["state"] for k in keys.list_keys("edp")] == ["active", "retired"]


def test_rotating_a_did_web_profile_keeps_the_did_and_publishes_both_methods(keys: IssuerKeys) -> None:
    profile = keys.create_profile("web", key_type="P-384", controller="did:web:energy.example")
    first = keys.signing_key("web")
    rotation = keys.rotate("web", key_type="Ed25519")
    assert not rotation.issuer_changed
    second = keys.signing_key("web")
    assert second.controller == first.controller == profile.issuer == "did:web:energy.example"
    assert second.secret_key.key_type == "Ed25519"
    assert keys.storage.get_profile("web").suites == ("eddsa-rdfc-2022", "eddsa-jcs-2022")  # follows the key
    methods = keys.verification_methods("web")
    assert {m["id"] for m in methods} == {first.id, second.id}
    assert all(m["controller"] == "did:web:energy.example" and "secretKeyMultibase" not in m for m in methods)
    assert keys.status_list_signer("web", "did:web:energy.example") == second


def test_importing_a_key_file(tmp_path: Path, keys: IssuerKeys, vectors: Path) -> None:
    keys.create_profile("edp", key_type="Ed25519")
    vector = read_key_file(vectors / "vc-di-eddsa/TestVectors/keyPair.json")
    imported = keys.import_key_file("edp", vectors / "vc-di-eddsa/TestVectors/keyPair.json")
    assert imported.state == "active" and imported.key_id == vector.id
    assert keys.storage.get_profile("edp").issuer == vector.controller  # did:key: the DID follows the key
    assert keys.signing_key("edp") == vector

    web = generate_key_file("P-256", controller="did:web:energy.example")
    path = tmp_path / "web.key.json"
    write_key_file(web, path)
    keys.create_profile("web", key=read_key_file(path))
    extra = generate_key_file("P-256", controller="did:web:energy.example")
    assert keys.add_key("web", extra, activate=False).state == "retired"
    assert keys.signing_key("web") == web  # not activated
    with pytest.raises(StorageError, match="already stored"):
        keys.add_key("web", extra, activate=False)
    with pytest.raises(KeyStoreError, match="controlled by"):
        keys.add_key("web", generate_key_file("P-256"))  # a did:key cannot sign as did:web:energy.example
    with pytest.raises(KeyStoreError, match="cannot sign with"):
        keys.add_key("edp", generate_key_file("P-256"))  # the profile's suites are EdDSA ones


def test_profiles_refuse_unknown_or_unfit_suites(keys: IssuerKeys) -> None:
    with pytest.raises(KeyStoreError, match="unknown cryptosuite"):
        keys.create_profile("x", suites=["rsa-2000"])
    with pytest.raises(KeyStoreError, match="cannot sign with a Ed25519 key"):
        keys.create_profile("x", key_type="Ed25519", suites=["ecdsa-rdfc-2019"])
    assert default_suites("P-384") == ("ecdsa-rdfc-2019", "ecdsa-jcs-2019")
    keys.create_profile("x", key_type="Ed25519")
    with pytest.raises(KeyNotFoundError, match="no key controlled by did:web:someone.else"):
        keys.status_list_signer("x", "did:web:someone.else")


def test_a_reservation_names_the_key_to_sign_with_even_across_a_rotation(keys: IssuerKeys) -> None:
    keys.create_profile("edp", key_type="Ed25519")
    reservation = keys.storage.reserve_status("edp", "urn:uuid:during-rotation")
    before = keys.signing_key_for(reservation)
    keys.rotate("edp")
    # Signed with the key (and DID) the reservation's status lists belong to: consistent.
    assert keys.signing_key_for(reservation) == before
    assert before.controller == reservation.issuer != keys.storage.get_profile("edp").issuer
    assert isinstance(before, KeyFile)


def test_a_wrong_passphrase_cannot_add_or_rotate_keys(storage: Storage, keys: IssuerKeys) -> None:
    # Adding a key wraps it with the store at hand: with another passphrase the profile would end up
    # holding keys no single passphrase opens. So the existing keys must open first; nothing is stored.
    keys.create_profile("edp", key_type="Ed25519")
    keys.rotate("edp")  # two keys now: one active, one retired
    before = keys.list_keys("edp")
    profile_before = storage.get_profile("edp")
    wrong = IssuerKeys(storage, store("a different passphrase"))
    with pytest.raises(KeyStoreError, match="edp") as caught:
        wrong.rotate("edp")
    assert "passphrase" in caught.value.message
    with pytest.raises(KeyStoreError, match="passphrase"):
        wrong.add_key("edp", generate_key_file("Ed25519"))
    keys.create_profile("web", key_type="P-256", controller="did:web:energy.example")
    web_before = keys.list_keys("web")
    with pytest.raises(KeyStoreError, match="passphrase"):
        wrong.add_key("web", generate_key_file("P-256", controller="did:web:energy.example"), activate=False)
    assert keys.list_keys("edp") == before and storage.get_profile("edp") == profile_before
    assert keys.list_keys("web") == web_before
    # the right passphrase, in a fresh process (nothing cached), still rotates
    assert IssuerKeys(storage, store()).rotate("edp").issuer_changed
    assert len(keys.list_keys("edp")) == 3
