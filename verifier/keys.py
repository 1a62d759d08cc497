"""Public and secret keys for the three Data Integrity key types: Ed25519, P-256 and P-384.

Why this module exists: every other part of the project (cryptosuites, did:key, key files, the
issuer service) needs the same few operations — decode a Multikey or a JWK from untrusted input,
sign, verify — and each has a trap that is easy to fall into when done ad hoc:

* Multikey strings carry a multicodec prefix that says *which* key it is; a secret key pasted where
  a public key belongs must be refused, not "decoded" (and never echoed into an error message).
* ECDSA signatures in Data Integrity are IEEE P1363 ``r || s`` (fixed width), not the DER that
  `cryptography` produces and expects; we convert at this boundary and nowhere else.
* ECDSA signing must be deterministic (RFC 6979) so the W3C test vectors are reproducible byte for
  byte and so a broken random number generator can never leak the key through a repeated nonce.

All curve arithmetic is done by `cryptography` (OpenSSL); this module only encodes, decodes and
checks lengths. Deterministic ECDSA needs cryptography >= 43 built against OpenSSL >= 3.2 (and not
in FIPS mode); `SecretKey.sign` says so plainly if that is missing.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, get_args

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from . import multibase
from .errors import KeyFormatError, ProofError

__all__ = [
    "KEY_TYPES",
    "KeyType",
    "PublicKey",
    "SecretKey",
    "hash_name_for",
    "signature_length_for",
]

KeyType = Literal["Ed25519", "P-256", "P-384"]
KEY_TYPES: Final[tuple[KeyType, ...]] = get_args(KeyType)

_PublicObject = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
_PrivateObject = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey

# A Multikey is < 100 characters; refusing long input up front keeps base58 decoding cheap.
_MAX_MULTIKEY_CHARS: Final = 200


@dataclass(frozen=True)
class _Spec:
    """Everything that differs between key types, in one place."""

    key_type: KeyType
    public_code: int  # multicodec of publicKeyMultibase
    secret_code: int  # multicodec of secretKeyMultibase
    public_length: int  # Ed25519: raw key; ECDSA: SEC1 compressed point
    secret_length: int  # Ed25519: seed; ECDSA: big-endian scalar
    signature_length: int
    hash_name: str
    curve: ec.EllipticCurve | None  # None for Ed25519

    @property
    def field_length(self) -> int:
        """Bytes per coordinate / scalar (JWK ``x``, ``y``, ``d`` and each half of ``r || s``)."""
        return self.secret_length

    def ecdsa_hash(self) -> hashes.HashAlgorithm:
        return hashes.SHA384() if self.hash_name == "sha384" else hashes.SHA256()


_SPECS: Final[dict[str, _Spec]] = {
    "Ed25519": _Spec("Ed25519", multibase.ED25519_PUB, multibase.ED25519_PRIV, 32, 32, 64, "sha256", None),
    "P-256": _Spec("P-256", multibase.P256_PUB, multibase.P256_PRIV, 33, 32, 64, "sha256", ec.SECP256R1()),
    "P-384": _Spec("P-384", multibase.P384_PUB, multibase.P384_PRIV, 49, 48, 96, "sha384", ec.SECP384R1()),
}
_BY_PUBLIC_CODE: Final = {spec.public_code: spec for spec in _SPECS.values()}
_BY_SECRET_CODE: Final = {spec.secret_code: spec for spec in _SPECS.values()}
_BY_CURVE_NAME: Final = {spec.curve.name: spec for spec in _SPECS.values() if spec.curve is not None}

# Key codecs people do paste in, named so the error can say what the key *is* (multicodec table.csv).
_OTHER_KEY_CODECS: Final = {
    0xE7: "secp256k1-pub",
    0xEC: "x25519-pub",
    0xEB: "bls12_381-g2-pub",
    0x1202: "p521-pub",
    0x1205: "rsa-pub",
    0x1301: "secp256k1-priv",
    0x1302: "x25519-priv",
    0x1308: "p521-priv",
    0x1305: "rsa-priv",
}

_EXPECTED_PUBLIC = "Ed25519 (0xed), P-256 (0x1200) or P-384 (0x1201) public key"
_EXPECTED_SECRET = "Ed25519 (0x1300), P-256 (0x1306) or P-384 (0x1307) secret key"


def _spec(key_type: str) -> _Spec:
    try:
        return _SPECS[key_type]
    except (KeyError, TypeError):
        raise KeyFormatError(
            f"unsupported key type {key_type!r}; expected one of {', '.join(KEY_TYPES)}"
        ) from None


def hash_name_for(key_type: KeyType) -> str:
    """The hash a cryptosuite uses with this key type: ``"sha256"`` (Ed25519, P-256) or ``"sha384"`` (P-384).

    The ecdsa-* cryptosuites hash the canonical document and proof with SHA-384 when the key is
    P-384; eddsa-* always uses SHA-256.
    """
    return _spec(key_type).hash_name


def signature_length_for(key_type: KeyType) -> int:
    """Bytes in a raw signature: 64 for Ed25519 and P-256 (``r || s``), 96 for P-384."""
    return _spec(key_type).signature_length


def _codec_name(code: int) -> str:
    for spec in _SPECS.values():
        if code == spec.public_code:
            return f"{spec.key_type} public key (0x{code:x})"
        if code == spec.secret_code:
            return f"{spec.key_type} secret key (0x{code:x})"
    name = _OTHER_KEY_CODECS.get(code)
    return f"multicodec 0x{code:x}" + (f" ({name})" if name else "")


def _multikey_payload(value: object, *, what: str, secret: bool) -> tuple[int, bytes]:
    """Decode a Multikey string into ``(multicodec, key bytes)``.

    For secret keys the error messages never include the input (it may be a real secret).
    """
    if not isinstance(value, str):
        raise KeyFormatError(f"{what} must be a string, got {type(value).__name__}")
    shown = "" if secret else f" {value[:24] + ('…' if len(value) > 24 else '')!r}"
    if not value.startswith(multibase.BASE58BTC):
        raise KeyFormatError(
            f"{what}{shown} must be a base58btc multibase string starting with 'z' (Multikey)"
        )
    if len(value) > _MAX_MULTIKEY_CHARS:
        raise KeyFormatError(
            f"{what} is {len(value)} characters long; a Multikey is under {_MAX_MULTIKEY_CHARS}"
        )
    try:
        return multibase.split_multicodec_prefix(multibase.decode_base58btc(value))
    except multibase.MultibaseError as exc:
        if secret:
            raise KeyFormatError(f"{what} is not valid base58btc with a multicodec prefix") from None
        raise KeyFormatError(f"{what}{shown} is not a valid Multikey: {exc.message}") from exc


def _jwk_bytes(jwk: Mapping[str, Any], member: str, length: int) -> bytes:
    """A fixed-length base64url JWK member (RFC 7518 §6.2.1: coordinates are full field length)."""
    value = jwk.get(member)
    if not isinstance(value, str):
        raise KeyFormatError(f"JWK member {member!r} is missing or not a string")
    try:
        data = multibase.decode_base64url(multibase.BASE64URL + value)
    except multibase.MultibaseError:
        # No detail from the decoder: it would quote the value, and 'd' is secret.
        raise KeyFormatError(
            f"JWK member {member!r} is not unpadded base64url (URL-safe alphabet, no '=' padding)"
        ) from None
    if len(data) != length:
        raise KeyFormatError(f"JWK member {member!r} is {len(data)} bytes; expected {length}")
    return data


def _jwk_spec(jwk: object) -> _Spec:
    if not isinstance(jwk, Mapping):
        raise KeyFormatError(f"a JWK must be a JSON object, got {type(jwk).__name__}")
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if kty == "OKP" and crv == "Ed25519":
        return _SPECS["Ed25519"]
    if kty == "EC" and crv in ("P-256", "P-384"):
        return _SPECS[crv]
    raise KeyFormatError(
        f"unsupported JWK (kty={kty!r}, crv={crv!r}); expected kty 'OKP' with crv 'Ed25519', "
        "or kty 'EC' with crv 'P-256' or 'P-384'"
    )


@dataclass(frozen=True)
class PublicKey:
    """A public key: its type and its Multikey bytes (Ed25519: 32 bytes; ECDSA: compressed point).

    Equality and hashing are by ``(key_type, raw)``, so two decodings of the same key compare equal
    whichever format (Multikey, JWK) they came from.
    """

    key_type: KeyType
    raw: bytes
    _key: _PublicObject = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        spec = _spec(self.key_type)
        if not isinstance(self.raw, (bytes, bytearray, memoryview)):
            raise KeyFormatError(f"public key bytes must be bytes, got {type(self.raw).__name__}")
        raw = bytes(self.raw)
        if len(raw) != spec.public_length:
            hint = ""
            if spec.curve is not None and len(raw) == 2 * spec.field_length + 1:
                hint = " (this is an uncompressed point; Multikey requires the compressed form)"
            raise KeyFormatError(
                f"{spec.key_type} public key is {len(raw)} bytes; expected {spec.public_length}{hint}"
            )
        key: _PublicObject
        if spec.curve is None:
            key = ed25519.Ed25519PublicKey.from_public_bytes(raw)
        else:
            if raw[0] not in (2, 3):
                raise KeyFormatError(
                    f"{spec.key_type} public key must be a compressed point starting with 0x02 or "
                    f"0x03, got 0x{raw[0]:02x}"
                )
            try:
                key = ec.EllipticCurvePublicKey.from_encoded_point(spec.curve, raw)
            except ValueError:
                raise KeyFormatError(f"{spec.key_type} public key is not a point on the curve") from None
        object.__setattr__(self, "raw", raw)
        object.__setattr__(self, "_key", key)

    def __repr__(self) -> str:
        return f"PublicKey({self.key_type!r}, {self.multibase()!r})"

    def __reduce__(self) -> tuple[type[PublicKey], tuple[str, bytes]]:
        # The cryptography object cannot be pickled; rebuild it from the bytes (process pools).
        return (PublicKey, (self.key_type, self.raw))

    # --- Multikey ---------------------------------------------------------------------------

    def multibase(self) -> str:
        """The ``publicKeyMultibase`` value: ``z`` + base58btc(varint(codec) || key bytes)."""
        spec = _SPECS[self.key_type]
        return multibase.encode_base58btc(multibase.add_multicodec_prefix(spec.public_code, self.raw))

    @classmethod
    def from_multibase(cls, value: str) -> PublicKey:
        """Decode a ``publicKeyMultibase``; anything else (including a secret key) is a `KeyFormatError`."""
        code, raw = _multikey_payload(value, what="publicKeyMultibase", secret=False)
        spec = _BY_PUBLIC_CODE.get(code)
        if spec is None:
            if code in _BY_SECRET_CODE:
                raise KeyFormatError(
                    f"publicKeyMultibase holds a {_codec_name(code)}, not a public key: a secret key "
                    "must never be published; use its public key"
                )
            raise KeyFormatError(
                f"publicKeyMultibase holds a {_codec_name(code)}; expected an {_EXPECTED_PUBLIC}"
            )
        return cls(spec.key_type, raw)

    # --- JWK ---------------------------------------------------------------------------------

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> PublicKey:
        """Decode a public JWK (OKP/Ed25519 or EC/P-256, EC/P-384).

        A JWK carrying the private member ``d`` is refused: the Controlled Identifiers spec forbids
        private key material in ``publicKeyJwk``, and accepting it would hide a key leak.
        """
        spec = _jwk_spec(jwk)
        if "d" in jwk:
            raise KeyFormatError(
                "a public JWK must not contain the private member 'd'; publish the public key only"
            )
        return _public_from_jwk_members(spec, jwk)

    def to_jwk(self) -> dict[str, str]:
        """The public JWK (RFC 8037 for Ed25519, RFC 7518 for EC with full-length coordinates)."""
        spec = _SPECS[self.key_type]
        if spec.curve is None:
            return {"kty": "OKP", "crv": "Ed25519", "x": _b64url(self.raw)}
        assert isinstance(self._key, ec.EllipticCurvePublicKey)
        numbers = self._key.public_numbers()
        n = spec.field_length
        return {
            "kty": "EC",
            "crv": spec.key_type,
            "x": _b64url(numbers.x.to_bytes(n, "big")),
            "y": _b64url(numbers.y.to_bytes(n, "big")),
        }

    # --- cryptography interop ------------------------------------------------------------------

    @classmethod
    def from_cryptography(cls, key: _PublicObject) -> PublicKey:
        """Wrap a `cryptography` public key object (Ed25519, or EC on P-256 / P-384)."""
        if isinstance(key, ed25519.Ed25519PublicKey):
            return cls("Ed25519", key.public_bytes_raw())
        if isinstance(key, ec.EllipticCurvePublicKey):
            spec = _BY_CURVE_NAME.get(key.curve.name)
            if spec is None:
                raise KeyFormatError(f"unsupported curve {key.curve.name!r}; expected P-256 or P-384")
            return cls(
                spec.key_type,
                key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint),
            )
        raise KeyFormatError(f"unsupported key object {type(key).__name__}; expected Ed25519 or EC")

    def to_cryptography(self) -> _PublicObject:
        """The underlying `cryptography` key object (for interop; prefer `verify`)."""
        return self._key

    # --- signatures ----------------------------------------------------------------------------

    def verify(self, signature: bytes, data: bytes) -> bool:
        """True if ``signature`` is this key's signature of ``data``.

        Ed25519 signs ``data`` directly; ECDSA hashes it first with SHA-256 (P-256) or SHA-384
        (P-384), as the ecdsa-* cryptosuites require. ECDSA signatures are IEEE P1363 ``r || s``;
        high-S values are accepted (the published vectors contain them, and jsonld-signatures
        accepts them). A signature of the wrong length raises `ProofError` instead of returning
        False, because it usually means a DER signature or the wrong key type, which the caller
        should report as such rather than as "signature does not match".
        """
        spec = _SPECS[self.key_type]
        signature = bytes(signature)
        if len(signature) != spec.signature_length:
            form = "raw Ed25519" if spec.curve is None else "IEEE P1363 r||s (not DER)"
            raise ProofError(
                f"{spec.key_type} signature is {len(signature)} bytes; "
                f"expected {spec.signature_length} ({form})"
            )
        try:
            if isinstance(self._key, ed25519.Ed25519PublicKey):
                self._key.verify(signature, bytes(data))
            else:
                n = spec.field_length
                r, s = int.from_bytes(signature[:n], "big"), int.from_bytes(signature[n:], "big")
                self._key.verify(encode_dss_signature(r, s), bytes(data), ec.ECDSA(spec.ecdsa_hash()))
        except InvalidSignature:
            return False
        return True


def _public_from_jwk_members(spec: _Spec, jwk: Mapping[str, Any]) -> PublicKey:
    if spec.curve is None:
        return PublicKey("Ed25519", _jwk_bytes(jwk, "x", 32))
    n = spec.field_length
    x = int.from_bytes(_jwk_bytes(jwk, "x", n), "big")
    y = int.from_bytes(_jwk_bytes(jwk, "y", n), "big")
    try:
        key = ec.EllipticCurvePublicNumbers(x, y, spec.curve).public_key()
    except ValueError:
        raise KeyFormatError(f"JWK ({spec.key_type}) 'x', 'y' are not a point on the curve") from None
    return PublicKey.from_cryptography(key)


def _b64url(data: bytes) -> str:
    return multibase.encode_base64url(data)[1:]


class SecretKey:
    """A secret (private) key. Immutable; its ``repr`` and error messages never reveal secret bytes.

    Build one with `generate`, `from_multibase`, `from_jwk`, `from_raw` or by wrapping a
    `cryptography` private key object: ``SecretKey(ec.generate_private_key(ec.SECP256R1()))``.
    """

    __slots__ = ("_key", "_key_type", "_public_key")

    _key: _PrivateObject
    _key_type: KeyType
    _public_key: PublicKey

    def __init__(self, key: _PrivateObject) -> None:
        if isinstance(key, ed25519.Ed25519PrivateKey):
            key_type: KeyType = "Ed25519"
        elif isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name in _BY_CURVE_NAME:
            key_type = _BY_CURVE_NAME[key.curve.name].key_type
        elif isinstance(key, ec.EllipticCurvePrivateKey):
            raise KeyFormatError(f"unsupported curve {key.curve.name!r}; expected P-256 or P-384")
        else:
            raise KeyFormatError(f"unsupported key object {type(key).__name__}; expected Ed25519 or EC")
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_key_type", key_type)
        object.__setattr__(self, "_public_key", PublicKey.from_cryptography(key.public_key()))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("SecretKey is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("SecretKey is immutable")

    @property
    def key_type(self) -> KeyType:
        return self._key_type

    @property
    def public_key(self) -> PublicKey:
        return self._public_key

    def __repr__(self) -> str:
        return f"SecretKey({self._key_type!r}, public={self._public_key.multibase()!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecretKey):
            return NotImplemented
        return self._key_type == other._key_type and hmac.compare_digest(self.raw_bytes(), other.raw_bytes())

    def __hash__(self) -> int:
        return hash(self._public_key)

    def __reduce__(self) -> Any:
        # Refuse pickling: a secret key copied into a cache, a queue or a crash dump is a leak.
        raise TypeError("SecretKey cannot be pickled; store it with issuer.keyfile.write_key_file")

    # --- construction ---------------------------------------------------------------------------

    @classmethod
    def generate(cls, key_type: KeyType) -> SecretKey:
        """A new random key from the operating system's CSPRNG (via OpenSSL)."""
        spec = _spec(key_type)
        if spec.curve is None:
            return cls(ed25519.Ed25519PrivateKey.generate())
        return cls(ec.generate_private_key(spec.curve))

    @classmethod
    def from_raw(cls, key_type: KeyType, raw: bytes) -> SecretKey:
        """From Multikey secret bytes: the 32-byte Ed25519 seed, or the big-endian ECDSA scalar."""
        spec = _spec(key_type)
        if not isinstance(raw, (bytes, bytearray, memoryview)):
            raise KeyFormatError(f"secret key bytes must be bytes, got {type(raw).__name__}")
        raw = bytes(raw)
        if len(raw) != spec.secret_length:
            raise KeyFormatError(
                f"{spec.key_type} secret key is {len(raw)} bytes; expected {spec.secret_length}"
            )
        if spec.curve is None:
            return cls(ed25519.Ed25519PrivateKey.from_private_bytes(raw))
        try:
            return cls(ec.derive_private_key(int.from_bytes(raw, "big"), spec.curve))
        except ValueError:
            raise KeyFormatError(
                f"{spec.key_type} secret key is out of range (it must be between 1 and the group order - 1)"
            ) from None

    @classmethod
    def from_multibase(cls, value: str) -> SecretKey:
        """Decode a ``secretKeyMultibase`` (the W3C vectors call it ``privateKeyMultibase``)."""
        code, raw = _multikey_payload(value, what="secretKeyMultibase", secret=True)
        spec = _BY_SECRET_CODE.get(code)
        if spec is None:
            if code in _BY_PUBLIC_CODE:
                raise KeyFormatError(
                    f"secretKeyMultibase holds a {_codec_name(code)}; a secret key is needed to sign"
                )
            raise KeyFormatError(
                f"secretKeyMultibase holds a {_codec_name(code)}; expected an {_EXPECTED_SECRET}"
            )
        return cls.from_raw(spec.key_type, raw)

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> SecretKey:
        """Decode a private JWK (with ``d``). If ``x`` (and ``y``) are present they must match ``d``."""
        spec = _jwk_spec(jwk)
        if "d" not in jwk:
            raise KeyFormatError(
                "JWK has no private member 'd'; this is a public key, a secret key is needed"
            )
        secret = cls.from_raw(spec.key_type, _jwk_bytes(jwk, "d", spec.secret_length))
        has_public_members = "x" in jwk or "y" in jwk
        if has_public_members and _public_from_jwk_members(spec, jwk) != secret.public_key:
            raise KeyFormatError("JWK public members 'x'/'y' do not match its private member 'd'")
        return secret

    # --- export ---------------------------------------------------------------------------------

    def raw_bytes(self) -> bytes:
        """The secret bytes as Multikey stores them (Ed25519 seed, or big-endian ECDSA scalar)."""
        if isinstance(self._key, ed25519.Ed25519PrivateKey):
            return self._key.private_bytes_raw()
        n = _SPECS[self._key_type].field_length
        return self._key.private_numbers().private_value.to_bytes(n, "big")

    def multibase(self) -> str:
        """The ``secretKeyMultibase`` value: ``z`` + base58btc(varint(codec) || secret bytes)."""
        code = _SPECS[self._key_type].secret_code
        return multibase.encode_base58btc(multibase.add_multicodec_prefix(code, self.raw_bytes()))

    def to_jwk(self) -> dict[str, str]:
        """The private JWK: the public members plus ``d``."""
        return {**self._public_key.to_jwk(), "d": _b64url(self.raw_bytes())}

    def to_cryptography(self) -> _PrivateObject:
        """The underlying `cryptography` key object (for interop; prefer `sign`)."""
        return self._key

    # --- signatures -----------------------------------------------------------------------------

    def sign(self, data: bytes) -> bytes:
        """Sign ``data``: 64-byte Ed25519, or deterministic (RFC 6979) ECDSA as ``r || s``.

        ECDSA hashes ``data`` with SHA-256 (P-256) or SHA-384 (P-384). Determinism makes our output
        reproduce the W3C vectors and removes any dependence on a good random source at signing.
        """
        data = bytes(data)
        if isinstance(self._key, ed25519.Ed25519PrivateKey):
            return self._key.sign(data)
        spec = _SPECS[self._key_type]
        try:
            algorithm = ec.ECDSA(spec.ecdsa_hash(), deterministic_signing=True)
        except (UnsupportedAlgorithm, TypeError) as exc:
            raise ProofError(
                "deterministic ECDSA (RFC 6979) is not available: it needs cryptography >= 43 linked "
                "against OpenSSL >= 3.2, not in FIPS mode",
                code="PROOF_GENERATION_ERROR",
            ) from exc
        r, s = decode_dss_signature(self._key.sign(data, algorithm))
        n = spec.field_length
        return r.to_bytes(n, "big") + s.to_bytes(n, "big")
