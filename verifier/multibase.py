"""Multibase strings and multicodec prefixes: the two encodings Data Integrity puts on the wire.

Why a module of our own: the Multikey format (publicKeyMultibase / secretKeyMultibase), did:key
identifiers and every ``proofValue`` are multibase strings, and a verifier decodes them from
untrusted input. The decoders here are therefore *strict*: they accept exactly one spelling of each
byte string (the one our encoder produces), so two different strings never decode to the same key or
signature, and every failure is a `MultibaseError` (a `PerseusError`), never a stray ``ValueError``
or ``UnicodeError`` from a library underneath.

Only the two bases the W3C specifications use are supported:

* ``z`` — base58btc (Multikey, did:key, eddsa-*/ecdsa-rdfc/jcs ``proofValue``);
* ``u`` — base64url without padding (ecdsa-sd-2023 / bbs ``proofValue``).

A multicodec prefix is an unsigned LEB128 varint naming what the bytes after it are (see
https://github.com/multiformats/multicodec/blob/master/table.csv); the codes for the key types we use
are the ``*_PUB`` / ``*_PRIV`` constants below.
"""

from __future__ import annotations

import base64
import binascii
from typing import Final, Literal

import base58

from .errors import MalformedValueError

__all__ = [
    "BASE58BTC",
    "BASE64URL",
    "DEFAULT_MAX_BASE58_CHARS",
    "ED25519_PRIV",
    "ED25519_PUB",
    "P256_PRIV",
    "P256_PUB",
    "P384_PRIV",
    "P384_PUB",
    "MultibaseError",
    "add_multicodec_prefix",
    "decode",
    "decode_base58btc",
    "decode_base64url",
    "decode_varint",
    "encode",
    "encode_base58btc",
    "encode_base64url",
    "encode_varint",
    "split_multicodec_prefix",
]

Base = Literal["base58btc", "base64url"]

BASE58BTC: Final = "z"
BASE64URL: Final = "u"

# Multicodec codes (table.csv, tag "key").
ED25519_PUB: Final = 0xED
P256_PUB: Final = 0x1200
P384_PUB: Final = 0x1201
ED25519_PRIV: Final = 0x1300
P256_PRIV: Final = 0x1306
P384_PRIV: Final = 0x1307

# Base58 decoding is quadratic in the length of the string (it is one big-integer conversion), so an
# attacker-supplied megabyte of '1's would pin a CPU. Keys are < 100 characters and Ed25519 / ECDSA
# signatures < 140; 4096 leaves room for anything legitimate. base64url is linear and has no cap.
DEFAULT_MAX_BASE58_CHARS: Final = 4096

_BASE58_ALPHABET: Final = frozenset(base58.BITCOIN_ALPHABET.decode("ascii"))
_BASE64URL_ALPHABET: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

# A multicodec code fits in far fewer bytes; 9 bytes (63 bits) is the multiformats varint limit.
_MAX_VARINT_BYTES: Final = 9


class MultibaseError(MalformedValueError):
    """A string is not a valid multibase value (or a byte string has no valid multicodec prefix).

    It derives from `MalformedValueError` (code ``MALFORMED_VALUE_ERROR``) because the same decoders
    serve keys and ``proofValue``: a caller that knows which one it was decoding re-raises it as the
    more specific error (`KeyFormatError`, `DidResolutionError`, `ProofError`), keeping this one as
    the ``__cause__``.
    """


def _describe(value: str, limit: int = 24) -> str:
    """A short, safe rendering of (possibly huge or hostile) input for error messages."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def encode_base58btc(data: bytes) -> str:
    """``z`` + base58btc (Bitcoin alphabet) of ``data``; leading zero bytes become leading ``1``s."""
    return BASE58BTC + base58.b58encode(bytes(data)).decode("ascii")


def decode_base58btc(value: str, *, max_chars: int = DEFAULT_MAX_BASE58_CHARS) -> bytes:
    """Decode a ``z``-prefixed base58btc string.

    Rejects (with `MultibaseError`): a missing or different prefix, any character
    outside the Bitcoin alphabet (including whitespace, which the ``base58`` package would otherwise
    silently strip), and strings longer than ``max_chars`` (see `DEFAULT_MAX_BASE58_CHARS`).
    """
    if not isinstance(value, str):
        raise MultibaseError(f"expected a multibase string, got {type(value).__name__}")
    if not value.startswith(BASE58BTC):
        raise MultibaseError(
            f"expected a base58btc multibase string starting with 'z', got {_describe(value)}"
        )
    if len(value) > max_chars:
        raise MultibaseError(
            f"base58btc multibase string is {len(value)} characters long; at most {max_chars} are accepted"
        )
    payload = value[1:]
    bad = sorted(set(payload) - _BASE58_ALPHABET)
    if bad:
        raise MultibaseError(
            f"base58btc multibase string {_describe(value)} contains characters outside the base58 "
            f"(Bitcoin) alphabet: {''.join(bad[:8])!r} (0, O, I and l are not base58 digits)"
        )
    # Base58 is a bijection between strings over its alphabet and byte strings (each leading '1' is
    # one leading zero byte), so once the alphabet is checked no canonical-form check is needed.
    return base58.b58decode(payload.encode("ascii"))


def encode_base64url(data: bytes) -> str:
    """``u`` + base64url (RFC 4648 §5) of ``data`` without ``=`` padding."""
    return BASE64URL + base64.urlsafe_b64encode(bytes(data)).rstrip(b"=").decode("ascii")


def decode_base64url(value: str) -> bytes:
    """Decode a ``u``-prefixed, unpadded base64url string.

    Rejects padding, characters outside the URL-safe alphabet (so standard ``+``/``/`` base64 is an
    error, not silently accepted), impossible lengths, and non-canonical final characters (unused
    low bits set), so exactly one string decodes to each byte string.
    """
    if not isinstance(value, str):
        raise MultibaseError(f"expected a multibase string, got {type(value).__name__}")
    if not value.startswith(BASE64URL):
        raise MultibaseError(
            f"expected a base64url multibase string starting with 'u', got {_describe(value)}"
        )
    payload = value[1:]
    bad = sorted(set(payload) - _BASE64URL_ALPHABET)
    if bad:
        raise MultibaseError(
            f"base64url multibase string {_describe(value)} contains characters outside the unpadded "
            f"base64url alphabet: {''.join(bad[:8])!r} (padding '=' and '+', '/' are not allowed)"
        )
    if len(payload) % 4 == 1:
        raise MultibaseError(
            f"base64url multibase string {_describe(value)} has an impossible length "
            f"({len(payload)} characters after 'u')"
        )
    try:
        data = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    except binascii.Error as exc:  # pragma: no cover - excluded by the checks above
        raise MultibaseError(
            f"base64url multibase string {_describe(value)} cannot be decoded: {exc}"
        ) from exc
    if encode_base64url(data) != value:
        raise MultibaseError(
            f"base64url multibase string {_describe(value)} is not canonical (its last character has "
            "unused bits set)"
        )
    return data


def encode(data: bytes, base: Base = "base58btc") -> str:
    """Multibase-encode ``data`` in ``base`` (``"base58btc"`` → ``z…``, ``"base64url"`` → ``u…``)."""
    if base == "base58btc":
        return encode_base58btc(data)
    if base == "base64url":
        return encode_base64url(data)
    raise ValueError(f"unsupported multibase base {base!r}; expected 'base58btc' or 'base64url'")


def decode(value: str, *, max_chars: int = DEFAULT_MAX_BASE58_CHARS) -> bytes:
    """Decode a multibase string whose prefix is ``z`` (base58btc) or ``u`` (base64url).

    ``max_chars`` limits base58btc input only (see `DEFAULT_MAX_BASE58_CHARS`).
    """
    if not isinstance(value, str):
        raise MultibaseError(f"expected a multibase string, got {type(value).__name__}")
    if value.startswith(BASE58BTC):
        return decode_base58btc(value, max_chars=max_chars)
    if value.startswith(BASE64URL):
        return decode_base64url(value)
    if not value:
        raise MultibaseError("expected a multibase string, got an empty string")
    raise MultibaseError(
        f"unsupported multibase prefix {value[0]!r} in {_describe(value)}; expected 'z' (base58btc) "
        "or 'u' (base64url)"
    )


def encode_varint(number: int) -> bytes:
    """Unsigned LEB128 varint, as multicodec prefixes use (0xed → ``ed 01``, 0x1200 → ``80 24``)."""
    if number < 0:
        raise ValueError(f"a varint cannot encode a negative number ({number})")
    out = bytearray()
    while True:
        byte = number & 0x7F
        number >>= 7
        if number:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_varint(data: bytes) -> tuple[int, int]:
    """Decode the varint at the start of ``data``; returns ``(number, bytes_consumed)``.

    Rejects truncated varints, varints longer than 9 bytes and non-minimal encodings (a redundant
    trailing ``00`` byte), as the multiformats unsigned-varint specification requires — otherwise
    two different prefixes would name the same codec.
    """
    number = 0
    for index, byte in enumerate(data[:_MAX_VARINT_BYTES]):
        number |= (byte & 0x7F) << (7 * index)
        if not byte & 0x80:
            if byte == 0 and index > 0:
                raise MultibaseError("multicodec varint is not minimally encoded (ends in a 0x00 byte)")
            return number, index + 1
    if len(data) >= _MAX_VARINT_BYTES:
        raise MultibaseError(f"multicodec varint is longer than {_MAX_VARINT_BYTES} bytes")
    if not data:
        raise MultibaseError("no multicodec prefix: the data is empty")
    raise MultibaseError("multicodec prefix is truncated (the data ends inside the varint)")


def add_multicodec_prefix(code: int, data: bytes) -> bytes:
    """``varint(code) || data``."""
    return encode_varint(code) + bytes(data)


def split_multicodec_prefix(data: bytes) -> tuple[int, bytes]:
    """Split ``varint(code) || rest`` into ``(code, rest)``."""
    code, used = decode_varint(data)
    return code, bytes(data[used:])
