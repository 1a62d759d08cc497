"""Keys: Multikey and JWK encodings, raw signatures, and the multibase codec underneath.

The anchors are external: the W3C vc-di-eddsa / vc-di-ecdsa key pairs and signature vectors, and
the RFC 8037 / RFC 7515 JWK examples. Everything else (property tests, error cases) checks that what
we accept is exactly what those formats allow and that failures are `KeyFormatError`s that say why.
"""

from __future__ import annotations

import base64
import contextlib
import json
from pathlib import Path

import base58
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from hypothesis import given, settings
from hypothesis import strategies as st
from perseus.verifier import multibase
from perseus.verifier.errors import KeyFormatError, PerseusError, ProofError
from perseus.verifier.keys import (
    KEY_TYPES,
    PublicKey,
    SecretKey,
    hash_name_for,
    signature_length_for,
)

# --- vectors ------------------------------------------------------------------------------------

# (file under tests/vectors, JSON path to the pair, key type)
KEY_PAIRS = [
    ("vc-di-eddsa/TestVectors/keyPair.json", (), "Ed25519"),
    ("vc-di-eddsa/TestVectors/proof-set-chain/multiKeyPairs.json", ("keyPair1",), "Ed25519"),
    ("vc-di-eddsa/TestVectors/proof-set-chain/multiKeyPairs.json", ("keyPair2",), "Ed25519"),
    ("vc-di-eddsa/TestVectors/proof-set-chain/multiKeyPairs.json", ("keyPair3",), "Ed25519"),
    ("vc-di-eddsa/TestVectors/proof-set-chain/multiKeyPairs.json", ("keyPair4",), "Ed25519"),
    ("vc-di-ecdsa/TestVectors/p256KeyPair.json", (), "P-256"),
    ("vc-di-ecdsa/TestVectors/p384KeyPair.json", (), "P-384"),
    ("vc-di-ecdsa/TestVectors/ecdsa-sd-2023/SDKeyMaterial.json", ("baseKeyPair",), "P-256"),
    ("vc-di-ecdsa/TestVectors/ecdsa-sd-2023/SDKeyMaterial.json", ("proofKeyPair",), "P-256"),
]

# Multicodec varint prefixes as the Multikey spec lists them (public, secret), written out as bytes so
# the test does not depend on our varint encoder.
PREFIXES = {
    "Ed25519": (bytes.fromhex("ed01"), bytes.fromhex("8026")),
    "P-256": (bytes.fromhex("8024"), bytes.fromhex("8626")),
    "P-384": (bytes.fromhex("8124"), bytes.fromhex("8726")),
}
PUBLIC_LENGTHS = {"Ed25519": 32, "P-256": 33, "P-384": 49}
SECRET_LENGTHS = {"Ed25519": 32, "P-256": 32, "P-384": 48}

# (directory, file suffix, key pair file). Each directory has proofHash*, docHash*, combinedHash*,
# sigHex* and sigBTC58* files.
SIGNATURE_VECTORS = [
    ("vc-di-eddsa/TestVectors/eddsa-rdfc-2022", "DataInt", "vc-di-eddsa/TestVectors/keyPair.json"),
    ("vc-di-eddsa/TestVectors/eddsa-rdfc-2022/employ", "DataInt", "vc-di-eddsa/TestVectors/keyPair.json"),
    ("vc-di-eddsa/TestVectors/eddsa-jcs-2022", "JCS", "vc-di-eddsa/TestVectors/keyPair.json"),
    ("vc-di-eddsa/TestVectors/Ed25519Signature2020", "EdSig", "vc-di-eddsa/TestVectors/keyPair.json"),
    ("vc-di-ecdsa/TestVectors/ecdsa-rdfc-2019-p256", "ECDSAP256", "vc-di-ecdsa/TestVectors/p256KeyPair.json"),
    (
        "vc-di-ecdsa/TestVectors/ecdsa-rdfc-2019-p256/employ",
        "ECDSAP256",
        "vc-di-ecdsa/TestVectors/p256KeyPair.json",
    ),
    (
        "vc-di-ecdsa/TestVectors/ecdsa-jcs-2019-p256",
        "JCSECDSAP256",
        "vc-di-ecdsa/TestVectors/p256KeyPair.json",
    ),
    ("vc-di-ecdsa/TestVectors/ecdsa-rdfc-2019-p384", "ECDSAP384", "vc-di-ecdsa/TestVectors/p384KeyPair.json"),
    (
        "vc-di-ecdsa/TestVectors/ecdsa-rdfc-2019-p384/employ",
        "ECDSAP384",
        "vc-di-ecdsa/TestVectors/p384KeyPair.json",
    ),
    (
        "vc-di-ecdsa/TestVectors/ecdsa-jcs-2019-p384",
        "JCSECDSAP384",
        "vc-di-ecdsa/TestVectors/p384KeyPair.json",
    ),
]

# Group orders (SEC 2 / FIPS 186-4), used only to build a high-S / low-S pair in a test.
ORDERS = {
    "P-256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "P-384": int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973", 16
    ),
}


def _pair(vectors: Path, file: str, path: tuple[str, ...]) -> dict[str, str]:
    data = json.loads((vectors / file).read_text())
    for part in path:
        data = data[part]
    return data


def _secret_field(pair: dict[str, str]) -> str:
    # The eddsa vectors call it privateKeyMultibase, the ecdsa ones secretKeyMultibase.
    return pair.get("secretKeyMultibase") or pair["privateKeyMultibase"]


def _hex(directory: Path, stem: str, suffix: str) -> bytes:
    return bytes.fromhex((directory / f"{stem}{suffix}.txt").read_text().strip())


def _flip_bit(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


# --- vector key pairs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "path", "key_type"), KEY_PAIRS, ids=lambda v: "/".join(v) if isinstance(v, tuple) else v
)
def test_vector_key_pair_decodes_and_reencodes(
    vectors: Path, file: str, path: tuple[str, ...], key_type: str
) -> None:
    pair = _pair(vectors, file, path)
    public = PublicKey.from_multibase(pair["publicKeyMultibase"])
    secret = SecretKey.from_multibase(_secret_field(pair))

    assert public.key_type == key_type
    assert secret.key_type == key_type
    assert public.multibase() == pair["publicKeyMultibase"]
    assert secret.multibase() == _secret_field(pair)
    assert secret.public_key == public  # derived from the secret == published
    assert secret.public_key.multibase() == pair["publicKeyMultibase"]


@pytest.mark.parametrize(("file", "path", "key_type"), KEY_PAIRS[::3] + KEY_PAIRS[5:7])
def test_vector_multicodec_prefixes_are_the_registered_ones(
    vectors: Path, file: str, path: tuple[str, ...], key_type: str
) -> None:
    pair = _pair(vectors, file, path)
    public_bytes = base58.b58decode(pair["publicKeyMultibase"][1:])
    secret_bytes = base58.b58decode(_secret_field(pair)[1:])
    public_prefix, secret_prefix = PREFIXES[key_type]

    assert public_bytes[:2] == public_prefix and len(public_bytes) == 2 + PUBLIC_LENGTHS[key_type]
    assert secret_bytes[:2] == secret_prefix and len(secret_bytes) == 2 + SECRET_LENGTHS[key_type]
    assert PublicKey.from_multibase(pair["publicKeyMultibase"]).raw == public_bytes[2:]
    assert SecretKey.from_multibase(_secret_field(pair)).raw_bytes() == secret_bytes[2:]


# --- signature vectors ----------------------------------------------------------------------------


@pytest.mark.parametrize(("directory", "suffix", "key_file"), SIGNATURE_VECTORS, ids=lambda v: v)
def test_vector_signature_is_reproduced_and_verifies(
    vectors: Path, directory: str, suffix: str, key_file: str
) -> None:
    folder = vectors / directory
    secret = SecretKey.from_multibase(_secret_field(_pair(vectors, key_file, ())))
    proof_hash, doc_hash = _hex(folder, "proofHash", suffix), _hex(folder, "docHash", suffix)
    expected = _hex(folder, "sigHex", suffix)

    # What the vectors sign: proofHash || docHash, which is exactly the combinedHash file.
    data = proof_hash + doc_hash
    assert _hex(folder, "combinedHash", suffix) == data
    assert len(proof_hash) == len(doc_hash) == {"sha256": 32, "sha384": 48}[hash_name_for(secret.key_type)]

    signature = secret.sign(data)
    assert signature == expected  # deterministic (RFC 6979 for ECDSA), byte for byte
    assert len(signature) == signature_length_for(secret.key_type)
    # The multibase proofValue the vector publishes is the same bytes.
    assert multibase.encode_base58btc(signature) == (folder / f"sigBTC58{suffix}.txt").read_text().strip()

    public = secret.public_key
    assert public.verify(expected, data) is True
    assert public.verify(_flip_bit(expected, 5), data) is False
    assert public.verify(_flip_bit(expected, len(expected) - 1), data) is False
    assert public.verify(expected, _flip_bit(data, 0)) is False
    # The ECDSA hash is applied inside sign/verify: signing the concatenation, not a digest of it.
    assert public.verify(expected, doc_hash + proof_hash) is False


def test_ecdsa_vectors_include_high_s_and_both_s_forms_verify(vectors: Path) -> None:
    """We must not reject high-S signatures: the published vectors themselves contain them."""
    high_s_seen = 0
    for directory, suffix, key_file in SIGNATURE_VECTORS:
        secret = SecretKey.from_multibase(_secret_field(_pair(vectors, key_file, ())))
        if secret.key_type == "Ed25519":
            continue
        folder = vectors / directory
        data = _hex(folder, "combinedHash", suffix)
        signature = _hex(folder, "sigHex", suffix)
        half = len(signature) // 2
        order = ORDERS[secret.key_type]
        s = int.from_bytes(signature[half:], "big")
        high_s_seen += s > order // 2
        other = signature[:half] + (order - s).to_bytes(half, "big")
        assert secret.public_key.verify(other, data) is True
    assert high_s_seen >= 1


# --- independent JWK anchors (RFC 8037 A.1/A.4, RFC 7515 A.3) -------------------------------------

RFC8037_ED25519 = {
    "kty": "OKP",
    "crv": "Ed25519",
    "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
}
RFC7515_P256 = {
    "kty": "EC",
    "crv": "P-256",
    "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
    "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
    "d": "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI",
}


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_rfc8037_ed25519_jwk_signs_the_published_signature() -> None:
    secret = SecretKey.from_jwk(RFC8037_ED25519)
    message = b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
    expected = _b64("hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg")
    assert secret.sign(message) == expected
    assert secret.to_jwk() == RFC8037_ED25519
    public = PublicKey.from_jwk({k: v for k, v in RFC8037_ED25519.items() if k != "d"})
    assert public == secret.public_key
    assert public.verify(expected, message)


def test_rfc7515_p256_jwk_verifies_the_published_p1363_signature() -> None:
    secret = SecretKey.from_jwk(RFC7515_P256)
    assert secret.to_jwk() == RFC7515_P256
    message = (
        b"eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
        b"cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    )
    signature = _b64("DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q")
    assert secret.public_key.verify(signature, message) is True
    assert secret.public_key.verify(signature, message + b".") is False


# --- signatures ---------------------------------------------------------------------------------


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_signing_is_deterministic_and_verifies(key_type: str) -> None:
    secret = SecretKey.generate(key_type)  # type: ignore[arg-type]
    first, second = secret.sign(b"half-hourly reading"), secret.sign(b"half-hourly reading")
    assert first == second
    assert len(first) == signature_length_for(key_type)  # type: ignore[arg-type]
    assert secret.public_key.verify(first, b"half-hourly reading")
    assert not secret.public_key.verify(first, b"half-hourly readinG")
    assert not SecretKey.generate(key_type).public_key.verify(first, b"half-hourly reading")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("key_type", "hash_algorithm"), [("P-256", hashes.SHA256()), ("P-384", hashes.SHA384())]
)
def test_ecdsa_signature_is_r_then_s_over_the_curve_hash(
    key_type: str, hash_algorithm: hashes.HashAlgorithm
) -> None:
    """Cross-check with cryptography directly: r || s, big-endian, hashed with the curve's SHA-2."""
    secret = SecretKey.generate(key_type)  # type: ignore[arg-type]
    signature = secret.sign(b"data")
    half = len(signature) // 2
    der = encode_dss_signature(
        int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
    )
    public_object = secret.public_key.to_cryptography()
    assert isinstance(public_object, ec.EllipticCurvePublicKey)
    public_object.verify(der, b"data", ec.ECDSA(hash_algorithm))  # raises if wrong


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_wrong_length_signature_is_an_error_not_false(key_type: str) -> None:
    secret = SecretKey.generate(key_type)  # type: ignore[arg-type]
    signature = secret.sign(b"x")
    for bad in (signature[:-1], signature + b"\x00", b""):
        with pytest.raises(
            ProofError, match=rf"{key_type} signature is {len(bad)} bytes; expected {len(signature)}"
        ):
            secret.public_key.verify(bad, b"x")


def test_der_signature_is_refused_with_a_hint() -> None:
    secret = SecretKey.generate("P-256")
    private_object = secret.to_cryptography()
    assert isinstance(private_object, ec.EllipticCurvePrivateKey)
    der = private_object.sign(b"x", ec.ECDSA(hashes.SHA256()))
    with pytest.raises(ProofError, match="not DER"):
        secret.public_key.verify(der, b"x")


def test_all_zero_ecdsa_signature_is_just_invalid() -> None:
    public = SecretKey.generate("P-384").public_key
    assert public.verify(bytes(96), b"x") is False


def test_hash_names() -> None:
    assert [hash_name_for(t) for t in KEY_TYPES] == ["sha256", "sha256", "sha384"]
    with pytest.raises(KeyFormatError, match="expected one of Ed25519, P-256, P-384"):
        hash_name_for("secp256k1")  # type: ignore[arg-type]


# --- decoding errors ----------------------------------------------------------------------------


def _multikey(prefix_hex: str, payload: bytes) -> str:
    return "z" + base58.b58encode(bytes.fromhex(prefix_hex) + payload).decode()


def test_public_from_secret_multibase_is_refused_as_a_leak(vectors: Path) -> None:
    pair = _pair(vectors, "vc-di-ecdsa/TestVectors/p256KeyPair.json", ())
    with pytest.raises(KeyFormatError, match=r"P-256 secret key .* must never be published"):
        PublicKey.from_multibase(pair["secretKeyMultibase"])
    with pytest.raises(KeyFormatError, match=r"P-256 public key .* a secret key is needed"):
        SecretKey.from_multibase(pair["publicKeyMultibase"])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "must be a base58btc multibase string starting with 'z'"),
        ("uAAAA", "must be a base58btc multibase string starting with 'z'"),
        ("z", "no multicodec prefix"),
        ("z0OIl", "outside the base58"),
        ("z6Mk rJVn", "outside the base58"),
        (_multikey("ec01", bytes(32)), r"0xec \(x25519-pub\)"),
        (_multikey("e701", b"\x02" + bytes(32)), r"0xe7 \(secp256k1-pub\)"),
        (_multikey("ed01", bytes(31)), "Ed25519 public key is 31 bytes; expected 32"),
        (_multikey("8024", b"\x04" + bytes(64)), "uncompressed point"),
        (_multikey("8024", b"\x05" + bytes(32)), "compressed point starting with 0x02 or 0x03"),
        (_multikey("8124", b"\x02" + bytes(47)), "P-384 public key is 48 bytes; expected 49"),
        (_multikey("80", b""), "truncated"),
        (_multikey("ed81", bytes(32)), "not minimally encoded"),
        ("z" + "1" * 300, "characters long"),
    ],
)
def test_bad_public_multikeys(value: str, message: str) -> None:
    with pytest.raises(KeyFormatError, match=message):
        PublicKey.from_multibase(value)


def test_point_not_on_curve_is_refused() -> None:
    # About half of all x values are not the x-coordinate of any curve point; among 19 some must fail.
    failures = 0
    for x in range(1, 20):
        try:
            PublicKey("P-256", b"\x02" + x.to_bytes(32, "big"))
        except KeyFormatError as exc:
            assert "not a point on the curve" in exc.message
            failures += 1
    assert failures > 0


@pytest.mark.parametrize(
    ("key_type", "raw", "message"),
    [
        ("P-256", bytes(32), "out of range"),
        ("P-256", ORDERS["P-256"].to_bytes(32, "big"), "out of range"),
        ("P-384", b"\xff" * 48, "out of range"),
        ("Ed25519", bytes(31), "Ed25519 secret key is 31 bytes; expected 32"),
        ("P-384", bytes(32) + b"\x01", "P-384 secret key is 33 bytes; expected 48"),
    ],
)
def test_bad_secret_bytes(key_type: str, raw: bytes, message: str) -> None:
    with pytest.raises(KeyFormatError, match=message):
        SecretKey.from_raw(key_type, raw)  # type: ignore[arg-type]


def test_secret_errors_never_echo_the_input() -> None:
    secret_like = "z3u2" + "QX" * 20 + "0"  # base58-invalid final character
    with pytest.raises(KeyFormatError) as info:
        SecretKey.from_multibase(secret_like)
    assert "QXQX" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_secret_key_repr_and_equality_do_not_reveal_secret(vectors: Path) -> None:
    pair = _pair(vectors, "vc-di-ecdsa/TestVectors/p384KeyPair.json", ())
    secret = SecretKey.from_multibase(pair["secretKeyMultibase"])
    text = repr(secret) + str(secret)
    assert pair["secretKeyMultibase"] not in text
    assert secret.raw_bytes().hex() not in text
    assert pair["publicKeyMultibase"] in text
    assert secret == SecretKey.from_multibase(pair["secretKeyMultibase"])
    assert secret != SecretKey.generate("P-384")
    with pytest.raises(AttributeError):
        secret.key_type = "P-256"  # type: ignore[misc]
    with pytest.raises(TypeError, match="cannot be pickled"):
        import pickle

        pickle.dumps(secret)


def test_public_key_pickles_and_hashes() -> None:
    import pickle

    public = SecretKey.generate("P-256").public_key
    clone = pickle.loads(pickle.dumps(public))
    assert clone == public and hash(clone) == hash(public)
    assert clone.verify(bytes(64), b"") is False  # the rebuilt cryptography object works


# --- JWK ------------------------------------------------------------------------------------------


def test_vector_keys_jwk_roundtrip(vectors: Path) -> None:
    for file, path, key_type in KEY_PAIRS:
        secret = SecretKey.from_multibase(_secret_field(_pair(vectors, file, path)))
        jwk = secret.to_jwk()
        assert jwk["kty"] == ("OKP" if key_type == "Ed25519" else "EC") and jwk["crv"] == key_type
        assert SecretKey.from_jwk(jwk) == secret
        public_jwk = secret.public_key.to_jwk()
        assert "d" not in public_jwk and public_jwk == {k: v for k, v in jwk.items() if k != "d"}
        assert PublicKey.from_jwk(public_jwk) == secret.public_key


@pytest.mark.parametrize(
    ("jwk", "message"),
    [
        ({**RFC7515_P256}, "must not contain the private member 'd'"),
        ({"kty": "EC", "crv": "secp256k1", "x": "", "y": ""}, "unsupported JWK"),
        ({"kty": "RSA", "n": "AQAB", "e": "AQAB"}, "unsupported JWK"),
        ({"kty": "OKP", "crv": "Ed25519"}, "'x' is missing"),
        ({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_ED25519["x"] + "="}, "not unpadded base64url"),
        ({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_ED25519["x"][:-3]}, "'x' is 30 bytes; expected 32"),
        (
            {"kty": "EC", "crv": "P-256", "x": RFC7515_P256["x"], "y": RFC7515_P256["x"]},
            "not a point on the curve",
        ),
        ({"kty": "EC", "crv": "P-384", "x": RFC7515_P256["x"], "y": RFC7515_P256["y"]}, "expected 48"),
    ],
)
def test_bad_public_jwks(jwk: dict[str, str], message: str) -> None:
    with pytest.raises(KeyFormatError, match=message):
        PublicKey.from_jwk(jwk)


def test_bad_secret_jwks() -> None:
    with pytest.raises(KeyFormatError, match="no private member 'd'"):
        SecretKey.from_jwk({k: v for k, v in RFC7515_P256.items() if k != "d"})
    other = SecretKey.generate("P-256").to_jwk()
    with pytest.raises(KeyFormatError, match="do not match"):
        SecretKey.from_jwk({**RFC7515_P256, "x": other["x"], "y": other["y"]})
    with pytest.raises(KeyFormatError, match="'d' is not unpadded base64url"):
        SecretKey.from_jwk({**RFC7515_P256, "d": RFC7515_P256["d"] + "="})
    # Without x/y the public key is derived from d.
    assert SecretKey.from_jwk({"kty": "EC", "crv": "P-256", "d": RFC7515_P256["d"]}).to_jwk() == RFC7515_P256


# --- multibase / varint ---------------------------------------------------------------------------


def test_varint_prefixes_match_the_multikey_spec() -> None:
    assert multibase.encode_varint(multibase.ED25519_PUB) == bytes.fromhex("ed01")
    assert multibase.encode_varint(multibase.P256_PUB) == bytes.fromhex("8024")
    assert multibase.encode_varint(multibase.P384_PUB) == bytes.fromhex("8124")
    assert multibase.encode_varint(multibase.ED25519_PRIV) == bytes.fromhex("8026")
    assert multibase.encode_varint(multibase.P256_PRIV) == bytes.fromhex("8626")
    assert multibase.encode_varint(multibase.P384_PRIV) == bytes.fromhex("8726")
    assert multibase.decode_varint(bytes.fromhex("8024ff")) == (0x1200, 2)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "empty string"),
        ("mAAAA", "unsupported multibase prefix 'm'"),
        ("uAA==", "padding"),
        ("uA+/A", "outside the unpadded base64url alphabet"),
        ("uA", "impossible length"),
        ("uAB", "not canonical"),  # 'B' leaves a low bit set after the single byte 0x00
        ("z" + "2" * 5000, "at most 4096"),
    ],
)
def test_bad_multibase_strings(value: str, message: str) -> None:
    with pytest.raises(multibase.MultibaseError, match=message):
        multibase.decode(value)


def test_base58_alphabet_is_strict_about_whitespace() -> None:
    # The base58 package strips trailing whitespace; we do not, so one string means one byte string.
    assert base58.b58decode("2g ") == base58.b58decode("2g")
    with pytest.raises(multibase.MultibaseError):
        multibase.decode_base58btc("z2g ")


@given(st.binary(max_size=300))
def test_multibase_roundtrip(data: bytes) -> None:
    assert multibase.decode(multibase.encode(data, "base58btc")) == data
    assert multibase.decode(multibase.encode(data, "base64url")) == data
    assert multibase.decode_base64url(multibase.encode_base64url(data)) == data


@given(st.integers(min_value=0, max_value=2**63 - 1), st.binary(max_size=4))
def test_varint_roundtrip(number: int, rest: bytes) -> None:
    encoded = multibase.encode_varint(number)
    assert multibase.decode_varint(encoded + rest) == (number, len(encoded))
    assert multibase.split_multicodec_prefix(multibase.add_multicodec_prefix(number, rest)) == (number, rest)


_B58 = base58.BITCOIN_ALPHABET.decode()


def _multikey_shaped() -> st.SearchStrategy[str]:
    """Strings that get past the base58 check: registered prefixes + payloads of near-right lengths."""
    prefixes = st.sampled_from(["ed01", "8024", "8124", "8026", "8626", "8726", "ec01", "e701", "80", ""])
    return st.builds(
        lambda p, b: "z" + base58.b58encode(bytes.fromhex(p) + b).decode(), prefixes, st.binary(max_size=60)
    )


_ANY_TEXT = st.one_of(
    st.text(max_size=120), st.text(alphabet=_B58, max_size=120).map("z".__add__), _multikey_shaped()
)


@given(_ANY_TEXT)
@settings(max_examples=300)
def test_decoding_arbitrary_strings_raises_only_our_errors(value: str) -> None:
    for decode in (PublicKey.from_multibase, SecretKey.from_multibase):
        with contextlib.suppress(KeyFormatError):
            decode(value)
    try:
        multibase.decode(value)
    except multibase.MultibaseError as exc:
        assert isinstance(exc, PerseusError)


@given(st.sampled_from(KEY_TYPES), st.binary(min_size=48, max_size=48), st.binary(max_size=200))
@settings(max_examples=60, deadline=None)
def test_random_keys_roundtrip_multibase_and_jwk_and_sign(key_type: str, seed: bytes, message: bytes) -> None:
    try:
        secret = SecretKey.from_raw(key_type, seed[: SECRET_LENGTHS[key_type]])  # type: ignore[arg-type]
    except KeyFormatError:  # a scalar >= the group order: probability ~2^-32, not worth a strategy
        return
    public = secret.public_key
    assert SecretKey.from_multibase(secret.multibase()) == secret
    assert PublicKey.from_multibase(public.multibase()) == public
    assert SecretKey.from_jwk(secret.to_jwk()) == secret
    assert PublicKey.from_jwk(public.to_jwk()) == public
    signature = secret.sign(message)
    assert public.verify(signature, message)
    assert not public.verify(signature, message + b"\x00")


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_generated_keys_are_distinct_and_roundtrip(key_type: str) -> None:
    keys = [SecretKey.generate(key_type) for _ in range(5)]  # type: ignore[arg-type]
    assert len({k.public_key for k in keys}) == 5
    for key in keys:
        assert SecretKey.from_multibase(key.multibase()) == key
        assert PublicKey.from_jwk(key.public_key.to_jwk()) == key.public_key
