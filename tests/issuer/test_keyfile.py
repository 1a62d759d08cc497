"""Key files: round trips, the W3C vectors' key-pair form, consistency checks, and safe writing."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from perseus.issuer import keyfile as keyfile_module
from perseus.issuer.keyfile import KeyFile, generate_key_file, read_key_file, write_key_file
from perseus.verifier.did_key import did_key_for, resolve_verification_method
from perseus.verifier.errors import KeyFormatError
from perseus.verifier.keys import KEY_TYPES, SecretKey

P256_PAIR = "vc-di-ecdsa/TestVectors/p256KeyPair.json"
ED_PAIR = "vc-di-eddsa/TestVectors/keyPair.json"


def _write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_generate_write_read_roundtrip(tmp_path: Path, key_type: str) -> None:
    generated = generate_key_file(key_type)  # type: ignore[arg-type]
    multibase = generated.public_key.multibase()
    assert generated.controller == did_key_for(generated.public_key)
    assert generated.id == f"{generated.controller}#{multibase}"
    # The id is a verification method that resolves, offline, to this very key.
    assert resolve_verification_method(generated.id)["publicKeyMultibase"] == multibase

    path = tmp_path / "issuer.key.json"
    write_key_file(generated, path)
    on_disk = json.loads(path.read_text())
    assert on_disk == {
        "id": generated.id,
        "controller": generated.controller,
        "type": "Multikey",
        "publicKeyMultibase": multibase,
        "secretKeyMultibase": generated.secret_key.multibase(),
    }
    assert read_key_file(path) == generated


def test_custom_controller(tmp_path: Path) -> None:
    generated = generate_key_file("P-384", controller="did:web:energy.example")
    assert generated.id == "did:web:energy.example#" + generated.public_key.multibase()
    write_key_file(generated, tmp_path / "k.json")
    assert read_key_file(tmp_path / "k.json") == generated
    assert generated.verification_method() == {
        "id": generated.id,
        "type": "Multikey",
        "controller": "did:web:energy.example",
        "publicKeyMultibase": generated.public_key.multibase(),
    }


def test_generate_refuses_a_did_key_controller_of_another_key() -> None:
    other = did_key_for(SecretKey.generate("Ed25519").public_key)
    with pytest.raises(KeyFormatError, match=r"'controller' .* a did:key of a different key"):
        generate_key_file("Ed25519", controller=other)


@pytest.mark.parametrize("file", [ED_PAIR, P256_PAIR, "vc-di-ecdsa/TestVectors/p384KeyPair.json"])
def test_vectors_key_pair_form_is_accepted_with_did_key_defaults(vectors: Path, file: str) -> None:
    pair = json.loads((vectors / file).read_text())
    loaded = read_key_file(vectors / file)
    multibase = pair["publicKeyMultibase"]
    assert loaded.controller == f"did:key:{multibase}"
    assert loaded.id == f"did:key:{multibase}#{multibase}"
    assert loaded.secret_key.multibase() == pair.get("secretKeyMultibase", pair.get("privateKeyMultibase"))


def test_id_without_controller_takes_the_id_document_as_controller(vectors: Path, tmp_path: Path) -> None:
    pair = json.loads((vectors / P256_PAIR).read_text())
    path = _write_json(tmp_path / "k.json", {"id": "did:web:energy.example#key-1", **pair})
    loaded = read_key_file(path)
    assert (loaded.id, loaded.controller) == ("did:web:energy.example#key-1", "did:web:energy.example")


def test_mismatched_public_key_is_rejected(vectors: Path, tmp_path: Path) -> None:
    pair = json.loads((vectors / P256_PAIR).read_text())
    other = SecretKey.generate("P-256").public_key.multibase()
    path = _write_json(tmp_path / "mismatch.json", {**pair, "publicKeyMultibase": other})
    with pytest.raises(KeyFormatError) as info:
        read_key_file(path)
    message = info.value.message
    assert str(path) in message and "'publicKeyMultibase' does not match the secret key" in message
    assert pair["secretKeyMultibase"] not in message


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"secretKeyMultibase": None}, "no field 'secretKeyMultibase'"),
        ({"secretKeyMultibase": "z3u2notbase58O"}, "field 'secretKeyMultibase':"),
        ({"privateKeyMultibase": "zDifferent"}, "hold different keys"),
        ({"publicKeyMultibase": "not-a-key"}, "field 'publicKeyMultibase': .*starting with 'z'"),
        ({"type": "JsonWebKey"}, "field 'type' is 'JsonWebKey'; expected 'Multikey'"),
        ({"id": ""}, "field 'id' must be a non-empty string"),
        ({"controller": 7}, "field 'controller' must be a non-empty string"),
        (
            {"controller": "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"},
            "a did:key of a different key",
        ),
        ({"id": "did:key:zDnaepBuvsQ8cpsWrVKw8fbpGpvPeNSjVPTWoq6cRqaYzBKVP#key-1"}, "field 'id' is"),
    ],
)
def test_invalid_fields_name_the_file_and_field(
    vectors: Path, tmp_path: Path, change: dict, message: str
) -> None:
    data = {**json.loads((vectors / P256_PAIR).read_text()), **change}
    data = {k: v for k, v in data.items() if v is not None}
    path = _write_json(tmp_path / "bad.json", data)
    with pytest.raises(KeyFormatError, match=message) as info:
        read_key_file(path)
    assert info.value.message.startswith(str(path))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"secretKeyMultibase": ', "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b"\xff\xfe{}", "not UTF-8"),
        (
            b'{"secretKeyMultibase": "a", "secretKeyMultibase": "b"}',
            "'secretKeyMultibase' appears more than once",
        ),
        (b" " * (64 * 1024 + 1), "larger than"),
    ],
)
def test_unreadable_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(KeyFormatError, match=message) as info:
        read_key_file(path)
    assert info.value.message.startswith(str(path))


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFormatError, match=r"missing\.json: cannot read key file"):
        read_key_file(tmp_path / "missing.json")


def test_json_errors_do_not_echo_the_secret(tmp_path: Path) -> None:
    secret = SecretKey.generate("Ed25519").multibase()
    path = tmp_path / "broken.json"
    path.write_text('{"secretKeyMultibase": "' + secret + '" "oops"}')
    with pytest.raises(KeyFormatError) as info:
        read_key_file(path)
    assert secret not in str(info.value) and info.value.__cause__ is None


def test_file_mode_is_0600_even_with_a_permissive_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        write_key_file(generate_key_file("Ed25519"), tmp_path / "k.json")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "k.json").stat().st_mode) == 0o600


def test_never_overwrites_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    first, second = generate_key_file("P-256"), generate_key_file("P-256")
    write_key_file(first, path)
    with pytest.raises(FileExistsError, match="refusing to overwrite"):
        write_key_file(second, path)
    assert read_key_file(path) == first  # untouched
    write_key_file(second, path, overwrite=True)
    assert read_key_file(path) == second
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.json"]  # no temporary files left


def test_existing_dangling_symlink_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    path.symlink_to(tmp_path / "elsewhere.json")
    with pytest.raises(FileExistsError):
        write_key_file(generate_key_file("P-256"), path)
    assert not (tmp_path / "elsewhere.json").exists()


def test_race_with_another_writer_is_detected_by_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the file appears between the existence check and publishing, link() refuses, we do not replace."""
    path = tmp_path / "k.json"
    real_link = os.link

    def link_after_someone_else_wrote(src: str, dst: Path) -> None:
        Path(dst).write_text("someone else's key")
        real_link(src, dst)

    monkeypatch.setattr(keyfile_module.os, "link", link_after_someone_else_wrote)
    with pytest.raises(FileExistsError):
        write_key_file(generate_key_file("P-256"), path)
    assert path.read_text() == "someone else's key"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.json"]


def test_filesystem_without_hard_links_falls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(src: str, dst: Path) -> None:
        raise PermissionError("hard links not supported")

    monkeypatch.setattr(keyfile_module.os, "link", no_links)
    generated = generate_key_file("Ed25519")
    write_key_file(generated, tmp_path / "k.json")
    assert read_key_file(tmp_path / "k.json") == generated
    with pytest.raises(FileExistsError):
        write_key_file(generated, tmp_path / "k.json")


@pytest.mark.parametrize("overwrite", [False, True])
def test_crash_before_publishing_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, overwrite: bool
) -> None:
    path = tmp_path / "k.json"
    original = generate_key_file("P-384")
    if overwrite:
        write_key_file(original, path)

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(keyfile_module.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_key_file(generate_key_file("P-384"), path, overwrite=overwrite)
    monkeypatch.undo()
    if overwrite:
        assert read_key_file(path) == original  # the old key is intact, not half-replaced
        assert sorted(p.name for p in tmp_path.iterdir()) == ["k.json"]
    else:
        assert list(tmp_path.iterdir()) == []


def test_key_file_repr_hides_the_secret() -> None:
    generated = generate_key_file("P-256")
    assert generated.secret_key.multibase() not in repr(generated)
    assert generated.public_key.multibase() in repr(generated)


def test_key_file_requires_a_secret_key_object() -> None:
    with pytest.raises(KeyFormatError, match="must be a SecretKey"):
        KeyFile(id="did:web:x#k", controller="did:web:x", secret_key="z3u2...")  # type: ignore[arg-type]
