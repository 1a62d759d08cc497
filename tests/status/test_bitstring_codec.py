"""The encodedList codec against the specification's examples, a reference model, and hostile input."""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from perseus.verifier.errors import MalformedValueError
from perseus.verifier.status import Bitstring

EXAMPLES = "vc-bitstring-status-list/examples"


def reference_bit(data: bytes, index: int) -> int:
    """The specification's layout, stated independently: the bitstring is one big-endian number whose
    left-most (most significant) bit is index 0."""
    return (int.from_bytes(data, "big") >> (len(data) * 8 - 1 - index)) & 1


def encoded_lists(vectors: Path) -> list[str]:
    found = []
    for name in ("example03.json", "example05.json"):
        document = json.loads((vectors / EXAMPLES / name).read_text())
        found.append(document["credentialSubject"]["encodedList"])
    return found


def test_the_specification_examples_decode_to_131072_clear_entries(vectors: Path) -> None:
    for encoded in encoded_lists(vectors):
        bits = Bitstring.decode(encoded)
        assert len(bits) == 131_072
        assert bits.count() == 0 and bits.set_indices() == []
        assert bits.get(0) == bits.get(94_567) == bits.get(131_071) == 0


def test_encoding_a_clear_list_reproduces_the_specification_byte_for_byte(vectors: Path) -> None:
    for encoded in encoded_lists(vectors):
        assert Bitstring.zeros(131_072).encode() == encoded


def test_encoding_is_gzip_in_unpadded_base64url_with_a_u_prefix() -> None:
    bits = Bitstring.zeros(131_072)
    bits.set(5, True)
    encoded = bits.encode()
    assert encoded.startswith("u") and "=" not in encoded and "+" not in encoded and "/" not in encoded
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert raw[0] == 0b0000_0100 and not any(raw[1:])  # index 5 is the sixth bit from the left


@given(st.integers(1, 64).map(lambda n: n * 8).flatmap(lambda length: st.tuples(st.just(length), st.sets(st.integers(0, length - 1)))))
def test_round_trip_and_layout_match_the_reference(case: tuple[int, set[int]]) -> None:
    length, indices = case
    bits = Bitstring.zeros(length)
    for index in indices:
        bits.set(index, True)
    decoded = Bitstring.decode(bits.encode())
    assert decoded == bits and len(decoded) == length
    assert decoded.set_indices() == sorted(indices)
    data = decoded.to_bytes()
    assert all(reference_bit(data, i) == (i in indices) for i in range(length))


@given(st.binary(min_size=1, max_size=64), st.data())
def test_clearing_and_setting_touch_one_bit(data: bytes, draw: st.DataObject) -> None:
    bits = Bitstring(data)
    index = draw.draw(st.integers(0, len(data) * 8 - 1))
    value = draw.draw(st.booleans())
    bits.set(index, value)
    after = bits.to_bytes()
    assert reference_bit(after, index) == value
    assert all(reference_bit(after, i) == reference_bit(data, i) for i in range(len(data) * 8) if i != index)


@given(st.binary(min_size=1, max_size=32), st.integers(1, 8), st.data())
def test_multi_bit_entries_read_most_significant_bit_first(data: bytes, size: int, draw: st.DataObject) -> None:
    entries = len(data) * 8 // size
    if entries == 0:
        return
    index = draw.draw(st.integers(0, entries - 1))
    expected = 0
    for position in range(index * size, index * size + size):
        expected = expected * 2 + reference_bit(data, position)
    assert Bitstring(data).get(index, size) == expected


def gzip_bytes(raw: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    return compressor.compress(raw) + compressor.flush()


def u(raw: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (42, "must be a string"),
        ("zH4sI", "multibase base64url"),  # base58 prefix
        ("uH4sI=", "multibase base64url"),  # padding
        (u(b"plain text, not gzip"), "not GZIP"),
        (u(zlib.compress(bytes(16))), "not GZIP"),  # zlib wrapper, not gzip
        (u(gzip_bytes(bytes(16384))[:-10]), "truncated"),
        (u(gzip_bytes(bytes(16)) + b"extra"), "after its GZIP member"),
        (u(gzip_bytes(b"")), "empty"),
    ],
)
def test_malformed_lists_are_refused_with_a_reason(value: object, fragment: str) -> None:
    with pytest.raises(MalformedValueError, match=fragment) as caught:
        Bitstring.decode(value)
    assert caught.value.code == "MALFORMED_VALUE_ERROR"


def test_a_decompression_bomb_is_refused_without_inflating_it() -> None:
    bomb = u(gzip_bytes(bytes(64 * 1024 * 1024)))  # 64 MiB of zeros in ~64 KB
    assert len(bomb) < 100_000
    with pytest.raises(MalformedValueError, match="more than"):
        Bitstring.decode(bomb)
    assert len(Bitstring.decode(bomb, max_bytes=64 * 1024 * 1024)) == 64 * 1024 * 1024 * 8


@pytest.mark.parametrize("length", [0, -8, 12, 7.5, True])
def test_lengths_are_whole_positive_bytes(length: object) -> None:
    with pytest.raises(MalformedValueError):
        Bitstring.zeros(length)  # type: ignore[arg-type]


def test_reading_or_writing_past_the_end_is_an_index_error() -> None:
    bits = Bitstring.zeros(16)
    for call in (lambda: bits.get(16), lambda: bits.get(-1), lambda: bits.set(16, True), lambda: bits.get(8, size=2)):
        with pytest.raises(IndexError):
            call()
