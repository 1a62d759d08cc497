"""Encryption to the recipient: a presentation travels as a JWE only the recipient's key-agreement key opens.

One profile, nothing negotiable: ``alg`` ECDH-ES+A256KW, ``enc`` A256GCM (what DIDComm v2 anoncrypt and the IB1
reference both allow), compact serialization, built with `jwcrypto`. The recipient's key-agreement key comes
from its DID document (``keyAgreement``; a did:key Ed25519 DID yields its X25519 key by the birational map the
did:key method specifies, a P-256 did:key is its own key-agreement key) or from the registry snapshot's DID
documents (did:web).

    token = encrypt_for(presentation, recipient_key)                  # str, compact JWE
    presentation = decrypt(token, private_key)                         # dict; or one call that also verifies:
    result = perseus.verifier.presentation.open_presentation(token, private_key, challenge=..., domain=...)

What is refused before any decryption, each as `EncryptionError` with a reason: any ``alg`` or ``enc`` other
than the two above (``none``, ``dir``, RSA, A128KW, a downgrade to A128GCM or CBC), compression (``zip``),
critical extensions (``crit``), an ephemeral key of another type or curve than the recipient's, and keys of
the wrong type (an Ed25519 *signing* key handed in as a key-agreement key; a P-384 key).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from .errors import PerseusError
from .keys import PublicKey, SecretKey
from .multibase import decode_base58btc, split_multicodec_prefix

__all__ = [
    "ALG",
    "ENC",
    "EncryptionError",
    "RecipientKey",
    "decrypt",
    "encrypt_for",
    "key_agreement_key",
    "private_key_agreement_key",
]

ALG: Final = "ECDH-ES+A256KW"
ENC: Final = "A256GCM"
_X25519_CODEC: Final = 0xEC
_P256_CODEC: Final = 0x1200
_MAX_TOKEN_CHARS: Final = 64 * 1024 * 1024
_P = 2**255 - 19  # the field of Curve25519 / edwards25519

RecipientKey = x25519.X25519PublicKey | ec.EllipticCurvePublicKey
PrivateAgreementKey = x25519.X25519PrivateKey | ec.EllipticCurvePrivateKey


class EncryptionError(PerseusError):
    """A JWE cannot be made or opened: the wrong key type, a refused algorithm, a damaged or foreign token."""

    code = "ENCRYPTION_ERROR"


# -- keys ------------------------------------------------------------------------------------------------------


def _x25519_from_ed25519_public(raw: bytes) -> x25519.X25519PublicKey:
    """The X25519 key of an Ed25519 public key: u = (1 + y) / (1 - y) mod p (RFC 7748 §4.1's birational map)."""
    y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    if y >= _P or y == 1:
        raise EncryptionError("the Ed25519 key has no X25519 counterpart (it is not a valid curve point)")
    u = (1 + y) * pow(1 - y, _P - 2, _P) % _P
    return x25519.X25519PublicKey.from_public_bytes(u.to_bytes(32, "little"))


def _from_multikey(value: str) -> RecipientKey:
    try:
        code, raw = split_multicodec_prefix(decode_base58btc(value)) if value.startswith("z") else (None, b"")
    except (ValueError, PerseusError):
        raise EncryptionError("the key-agreement key is not a base58btc Multikey") from None
    if code == _X25519_CODEC and len(raw) == 32:
        return x25519.X25519PublicKey.from_public_bytes(raw)
    if code == _P256_CODEC:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    if code == 0xED:
        return _x25519_from_ed25519_public(raw)
    raise EncryptionError("the key-agreement key must be an X25519 or P-256 key (or an Ed25519 key to derive X25519 from)")


def _from_jwk(jwk: Mapping[str, Any]) -> RecipientKey:
    def b64(name: str) -> bytes:
        value = jwk.get(name)
        if not isinstance(value, str):
            raise EncryptionError(f"the key-agreement JWK has no {name!r}")
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))

    if jwk.get("kty") == "OKP" and jwk.get("crv") == "X25519":
        return x25519.X25519PublicKey.from_public_bytes(b64("x"))
    if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
        return ec.EllipticCurvePublicNumbers(int.from_bytes(b64("x"), "big"), int.from_bytes(b64("y"), "big"), ec.SECP256R1()).public_key()
    raise EncryptionError(f"a key-agreement JWK must be X25519 (OKP) or P-256 (EC); got kty={jwk.get('kty')!r} crv={jwk.get('crv')!r}")


def key_agreement_key(source: str | Mapping[str, Any] | PublicKey | RecipientKey) -> RecipientKey:
    """The recipient's key-agreement public key from a did:key, a DID document, a JWK or a `PublicKey`.

    A DID document's first ``keyAgreement`` entry is used (embedded, or a reference to one of its
    verification methods); a did:key is resolved offline.
    """
    if isinstance(source, (x25519.X25519PublicKey, ec.EllipticCurvePublicKey)):
        if isinstance(source, ec.EllipticCurvePublicKey) and not isinstance(source.curve, ec.SECP256R1):
            raise EncryptionError(f"only P-256 elliptic-curve keys are accepted for key agreement, not {source.curve.name}")
        return source
    if isinstance(source, PublicKey):
        if source.key_type == "Ed25519":
            return _x25519_from_ed25519_public(source.raw)
        if source.key_type == "P-256":
            return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), source.raw)
        raise EncryptionError(f"a {source.key_type} key is not used for key agreement here; use X25519 or P-256")
    if isinstance(source, str):
        if not source.startswith("did:key:z"):
            raise EncryptionError(f"{source[:80]!r} is not a did:key; pass the DID document (e.g. from the registry snapshot)")
        return _from_multikey(source[len("did:key:") :].split("#", 1)[0])
    if isinstance(source, Mapping):
        if "kty" in source:
            return _from_jwk(source)
        entries = source.get("keyAgreement")
        if not isinstance(entries, list) or not entries:
            raise EncryptionError(f"the DID document of {source.get('id')} lists no keyAgreement key")
        entry = entries[0]
        if isinstance(entry, str):
            entry = next((m for m in source.get("verificationMethod", []) if isinstance(m, Mapping) and m.get("id") == entry), None)
            if entry is None:
                raise EncryptionError(f"the keyAgreement reference in the DID document of {source.get('id')} names no verification method")
        if isinstance(entry.get("publicKeyJwk"), Mapping):
            return _from_jwk(entry["publicKeyJwk"])
        if isinstance(entry.get("publicKeyMultibase"), str):
            return _from_multikey(entry["publicKeyMultibase"])
        raise EncryptionError("the keyAgreement method has neither publicKeyJwk nor publicKeyMultibase")
    raise EncryptionError(f"cannot take a key-agreement key from a {type(source).__name__}")


def private_key_agreement_key(secret: SecretKey | PrivateAgreementKey) -> PrivateAgreementKey:
    """The recipient's private key-agreement key: an Ed25519 signing key's X25519 twin (RFC 8032 §5.1.5
    expansion: SHA-512 of the seed, first half), or the P-256 key itself."""
    if isinstance(secret, (x25519.X25519PrivateKey, ec.EllipticCurvePrivateKey)):
        return secret
    if secret.key_type == "Ed25519":
        return x25519.X25519PrivateKey.from_private_bytes(hashlib.sha512(secret.raw_bytes()).digest()[:32])
    if secret.key_type == "P-256":
        return ec.derive_private_key(int.from_bytes(secret.raw_bytes(), "big"), ec.SECP256R1())
    raise EncryptionError(f"a {secret.key_type} key is not used for key agreement here; use Ed25519 (X25519) or P-256")


def _jwk(key: Any) -> Any:
    from jwcrypto import jwk  # imported on use: verifying never needs it

    if isinstance(key, (x25519.X25519PrivateKey, ec.EllipticCurvePrivateKey)):
        pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        return jwk.JWK.from_pem(pem)
    pem = key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    return jwk.JWK.from_pem(pem)


def _kind(key: Any) -> tuple[str, str]:
    if isinstance(key, (x25519.X25519PublicKey, x25519.X25519PrivateKey)):
        return "OKP", "X25519"
    return "EC", "P-256"


# -- encrypting and decrypting ---------------------------------------------------------------------------------


def encrypt_for(document: Mapping[str, Any] | bytes, recipient: Any, *, kid: str | None = None, content_type: str = "vp+ld+json") -> str:
    """A compact JWE of ``document`` (JSON) that only ``recipient``'s key-agreement key can open."""
    from jwcrypto import jwe

    key = key_agreement_key(recipient)
    payload = document if isinstance(document, bytes) else json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    header: dict[str, str] = {"alg": ALG, "enc": ENC, "cty": content_type}
    if kid is not None:
        header["kid"] = kid
    token = jwe.JWE(payload, protected=json.dumps(header))
    token.add_recipient(_jwk(key))
    return token.serialize(compact=True)


def _header(token: str) -> dict[str, Any]:
    if not isinstance(token, str) or len(token) > _MAX_TOKEN_CHARS:
        raise EncryptionError("an encrypted presentation must be a compact JWE string (and under 64 MiB)")
    parts = token.strip().split(".")
    if len(parts) != 5:
        raise EncryptionError(f"a compact JWE has 5 dot-separated parts, this has {len(parts)} (a JWS or plain JSON is not accepted)")
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except ValueError:
        raise EncryptionError("the JWE's protected header is not base64url JSON") from None
    if not isinstance(header, dict):
        raise EncryptionError("the JWE's protected header is not a JSON object")
    return header


def decrypt(token: str, private_key: SecretKey | PrivateAgreementKey) -> dict[str, Any]:
    """The JSON document inside ``token``, after refusing every algorithm but ECDH-ES+A256KW / A256GCM."""
    from jwcrypto import jwe
    from jwcrypto.common import JWException

    header = _header(token)
    if header.get("alg") != ALG:
        raise EncryptionError(f"key management algorithm {header.get('alg')!r} is refused: only {ALG} is accepted (no 'none', no downgrade)")
    if header.get("enc") != ENC:
        raise EncryptionError(f"content encryption {header.get('enc')!r} is refused: only {ENC} is accepted")
    if "zip" in header or "crit" in header:
        raise EncryptionError("compressed (zip) or critical-extension (crit) JWEs are refused")
    key = private_key_agreement_key(private_key)
    epk = header.get("epk")
    kty, crv = _kind(key)
    if not isinstance(epk, Mapping) or epk.get("kty") != kty or epk.get("crv") != crv:
        shown = f"{epk.get('kty')}/{epk.get('crv')}" if isinstance(epk, Mapping) else "missing"
        raise EncryptionError(f"the JWE's ephemeral key is {shown}, but this recipient's key is {kty}/{crv}: it was not encrypted to this key")
    try:
        opened = jwe.JWE(algs=[ALG, ENC])
        opened.deserialize(token.strip(), key=_jwk(key))
        payload = opened.payload
    except (JWException, ValueError, TypeError) as exc:
        raise EncryptionError(f"the JWE does not decrypt with this recipient's key (it was encrypted to another key, or altered): {type(exc).__name__}") from None
    try:
        document = json.loads(payload)
    except ValueError:
        raise EncryptionError("the decrypted content is not JSON") from None
    if not isinstance(document, dict):
        raise EncryptionError("the decrypted content is not a JSON object")
    return document
