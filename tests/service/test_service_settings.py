"""Settings (config file, PERSEUS_* variables, precedence), embedded defaults on first start, tokens."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from perseus.issuer.keystore import KeyStoreError, PassphraseKeyStore
from perseus.issuer.service import ConfigError, TokenTable, load_settings, open_service
from perseus.verifier.cli import main
from perseus_service_fixtures import clean_env  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("clean_env")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.data_dir == Path(".perseus")
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / '.perseus' / 'perseus.db'}"
    assert settings.resolved_base_url == "http://127.0.0.1:8080"
    assert settings.max_body_bytes == 10 * 1024 * 1024
    assert settings.api_tokens == ()


def test_environment_variables(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PERSEUS_API_TOKENS", "first-token-123, second-token-456=eddsa|ecdsa")
    monkeypatch.setenv("PERSEUS_DATABASE_URL", "postgresql://db.internal/perseus")
    monkeypatch.setenv("PERSEUS_BASE_URL", "https://issuer.example/")
    monkeypatch.setenv("PERSEUS_MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("PERSEUS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PERSEUS_PROFILES", '[{"id": "ecdsa", "key_type": "P-256"}]')
    settings = load_settings()
    assert settings.api_tokens == ("first-token-123", "second-token-456=eddsa|ecdsa")
    assert settings.resolved_database_url == "postgresql://db.internal/perseus"
    assert settings.resolved_base_url == "https://issuer.example"
    assert settings.max_body_bytes == 2048
    assert settings.data_dir == tmp_path
    assert [p.id for p in settings.profiles] == ["ecdsa"] and settings.profiles[0].key_type == "P-256"


def test_precedence_code_then_environment_then_file(tmp_path: Path, monkeypatch) -> None:
    config = write(tmp_path / "perseus.toml", 'port = 9000\nhost = "0.0.0.0"\nbase_url = "https://from-file.example"\ndata_dir = "state"\n')
    monkeypatch.setenv("PERSEUS_CONFIG", str(config))
    settings = load_settings()
    assert (settings.port, settings.host, settings.base_url) == (9000, "0.0.0.0", "https://from-file.example")
    assert settings.data_dir == tmp_path / "state"  # relative to the config file
    monkeypatch.setenv("PERSEUS_PORT", "9001")
    assert load_settings().port == 9001
    assert load_settings(port=9002).port == 9002
    other = write(tmp_path / "other.toml", "port = 7000\n")
    monkeypatch.delenv("PERSEUS_PORT")
    assert load_settings(config=other).port == 7000  # --config beats PERSEUS_CONFIG


def test_config_file_profiles_and_token_list(tmp_path: Path) -> None:
    config = write(
        tmp_path / "perseus.toml",
        'api_tokens = ["ci-token-0001", "ops-token-0002=eddsa"]\n'
        '[[profiles]]\nid = "eddsa"\n[[profiles]]\nid = "p384"\nkey_type = "P-384"\nkey_file = "keys/p384.json"\nsuites = ["ecdsa-rdfc-2019"]\n',
    )
    settings = load_settings(config=config)
    assert settings.api_tokens == ("ci-token-0001", "ops-token-0002=eddsa")
    assert settings.profiles[1].key_file == tmp_path / "keys" / "p384.json"
    assert settings.profiles[1].suites == ("ecdsa-rdfc-2019",)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("port = \n", "not valid TOML"),
        ("prot = 8080\n", "'prot'"),
        ("port = 'eighty'\n", "'port'"),
        ("max_body_bytes = 10\n", "'max_body_bytes'"),
        ('[[profiles]]\nid = "bad id with spaces"\n', "profiles"),
        ('[[profiles]]\nid = "x"\nkey_type = "RSA"\n', "key_type"),
        ('config = "other.toml"\n', "config"),
    ],
)
def test_config_mistakes_are_one_sentence(tmp_path: Path, text: str, fragment: str) -> None:
    config = write(tmp_path / "bad.toml", text)
    with pytest.raises(ConfigError) as caught:
        load_settings(config=config)
    assert fragment in caught.value.message
    assert "\n" not in caught.value.message


def test_a_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(config=tmp_path / "nope.toml")


def test_serve_with_a_bad_config_exits_2_with_one_line(tmp_path: Path, capsys) -> None:
    config = write(tmp_path / "bad.toml", "prot = 1\n")
    assert main(["serve", "--config", str(config), "--data-dir", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "prot" in err


def test_tokens_bind_to_profiles() -> None:
    table = TokenTable.parse(["every-profile-token", "just-two-token=a|b"])
    everything = table.lookup("every-profile-token")
    two = table.lookup("just-two-token")
    assert everything is not None and everything.allows("anything")
    assert two is not None and two.allows("a") and two.allows("b") and not two.allows("c")
    assert table.lookup("just-two-token=a|b") is None
    assert table.lookup("every-profile-toke") is None
    assert "every-profile-token" not in repr(table)
    with pytest.raises(ConfigError, match="shorter than 8"):
        TokenTable.parse(["short"])
    with pytest.raises(ConfigError, match="names no profile"):
        TokenTable.parse(["long-enough-token="])


def test_first_start_creates_the_embedded_defaults_and_keeps_them(tmp_path: Path) -> None:
    data = tmp_path / "fresh" / "data"
    settings = load_settings(data_dir=data)
    state = open_service(settings)
    try:
        (profile,) = state.profiles.all()
        did = profile.issuer
        assert profile.profile_id == "default" and did.startswith("did:key:z6Mk")
    finally:
        state.close()
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for name in ("key-passphrase", "api-token"):
        assert stat.S_IMODE((data / name).stat().st_mode) == 0o600
        assert len((data / name).read_text().strip()) >= 32
    token = (data / "api-token").read_text().strip()
    again = open_service(load_settings(data_dir=data))
    try:
        assert again.profiles.all()[0].issuer == did  # the key was kept
        assert again.tokens.lookup(token) is not None
    finally:
        again.close()


def test_the_wrong_passphrase_stops_the_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    open_service(load_settings(data_dir=data, key_passphrase="the first passphrase"), keystore=None).close()
    with pytest.raises(KeyStoreError, match="passphrase"):
        open_service(load_settings(data_dir=data, key_passphrase="another passphrase!!"))
    state = open_service(load_settings(data_dir=data), keystore=PassphraseKeyStore("the first passphrase"))
    state.close()


def test_configured_profiles_are_created_with_their_keys(tmp_path: Path) -> None:
    from perseus.issuer.keyfile import generate_key_file, write_key_file

    key = generate_key_file("P-384")
    write_key_file(key, tmp_path / "p384.json")
    config = write(
        tmp_path / "perseus.toml",
        '[[profiles]]\nid = "eddsa"\n[[profiles]]\nid = "p256"\nkey_type = "P-256"\n[[profiles]]\nid = "imported"\nkey_file = "p384.json"\n',
    )
    state = open_service(load_settings(config=config, data_dir=tmp_path / "data"))
    try:
        profiles = {p.profile_id: p for p in state.profiles.all()}
        assert set(profiles) == {"eddsa", "p256", "imported"}  # no "default" when profiles are configured
        assert profiles["imported"].issuer == key.controller
        assert profiles["p256"].issuer.startswith("did:key:zDn")
        assert profiles["p256"].suites[0] == "ecdsa-rdfc-2019"
    finally:
        state.close()
