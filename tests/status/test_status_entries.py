"""Parsing BitstringStatusListEntry objects: the specification's examples, and every MUST as an error."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from perseus.verifier.errors import MalformedValueError
from perseus.verifier.status import StatusEntry, parse_status_entry, status_entries

EXAMPLES = "vc-bitstring-status-list/examples"


def load_example(vectors: Path, name: str) -> dict[str, Any]:
    """An example as published; the .txt ones carry // comments (JSON with comments), which are dropped."""
    text = (vectors / EXAMPLES / name).read_text()
    if name.endswith(".txt"):
        text = re.sub(r"^\s*//.*$", "", text, flags=re.MULTILINE)
    parsed: dict[str, Any] = json.loads(text)
    return parsed


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("example01.json", [("revocation", 94567, "https://example.com/credentials/status/3"), ("suspension", 23452, "https://example.com/credentials/status/4")]),
        ("example04.json", [("revocation", 94567, "https://example.com/credentials/status/3")]),
        ("example06.txt", [("revocation", 94567, "https://example.com/credentials/status/3"), ("suspension", 12345, "https://example.com/credentials/status/4")]),
        ("example07.txt", [("revocation", 94567, "https://example.com/credentials/status/5"), ("suspension", 12345, "https://example.com/credentials/status/5")]),
    ],
)
def test_the_specification_examples_parse(vectors: Path, name: str, expected: list[tuple[str, int, str]]) -> None:
    credential = load_example(vectors, name)
    parsed = [parse_status_entry(e) for e in status_entries(credential)]
    assert [(e.purpose, e.index, e.list_url) for e in parsed] == expected
    assert all(e.size == 1 and e.id and e.id.endswith(f"#{e.index}") for e in parsed)


def test_the_message_example_parses_once_its_elisions_are_filled(vectors: Path) -> None:
    """Example 2 elides with "..." (not JSON); its entry with the fourth message written out."""
    text = (vectors / EXAMPLES / "example02.txt").read_text()
    assert '{"status":"0x2", "message":"rejected"}' in text
    entry = {
        "id": "https://example.com/credentials/status/8#492847",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "message",
        "statusListIndex": "492847",
        "statusSize": 2,
        "statusListCredential": "https://example.com/credentials/status/8",
        "statusMessage": [
            {"status": "0x0", "message": "pending_review"},
            {"status": "0x1", "message": "accepted"},
            {"status": "0x2", "message": "rejected"},
            {"status": "0x3", "message": "undefined"},
        ],
        "statusReference": "https://example.org/status-dictionary/",
    }
    parsed = parse_status_entry(entry)
    assert (parsed.size, parsed.index, parsed.messages[2]) == (2, 492847, ("0x2", "rejected"))


def good() -> dict[str, Any]:
    return {
        "id": "https://issuer.example/status/1#7",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "7",
        "statusListCredential": "https://issuer.example/status/1",
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "StatusList2021Entry"}, "type"),
        ({"statusPurpose": ""}, "statusPurpose"),
        ({"statusPurpose": ["revocation"]}, "statusPurpose"),
        ({"statusListIndex": True}, "statusListIndex"),  # the W3C test suite's negative fixture
        ({"statusListIndex": 7}, "statusListIndex"),  # a number, not a string
        ({"statusListIndex": "-7"}, "statusListIndex"),
        ({"statusListIndex": "0x7"}, "statusListIndex"),
        ({"statusListIndex": " 7"}, "statusListIndex"),
        ({"statusListIndex": "9" * 40}, "statusListIndex"),
        ({"statusListCredential": "not a url"}, "statusListCredential"),
        ({"statusListCredential": None}, "statusListCredential"),
        ({"id": "https://issuer.example/status/1"}, ".id"),  # MUST NOT be the list's URL
        ({"id": 5}, ".id"),
        ({"statusSize": 0}, "statusSize"),
        ({"statusSize": "1"}, "statusSize"),
        ({"statusSize": 2}, "statusMessage"),  # required when statusSize > 1
        ({"statusMessage": [{"status": "0x0", "message": "ok"}]}, "statusMessage"),  # 2 needed for 1 bit
        ({"statusMessage": [{"status": "0", "message": "a"}, {"status": "0x1", "message": "b"}]}, "statusMessage[0].status"),
    ],
)
def test_each_malformed_field_is_named(change: dict[str, Any], field: str) -> None:
    entry = {**good(), **change}
    with pytest.raises(MalformedValueError) as caught:
        parse_status_entry(entry, where="credentialStatus[1]")
    assert caught.value.code == "MALFORMED_VALUE_ERROR"
    assert f"credentialStatus[1]{'' if field.startswith('.') else '.'}{field}" in caught.value.message


def test_not_an_object() -> None:
    with pytest.raises(MalformedValueError, match="must be an object"):
        parse_status_entry(["BitstringStatusListEntry"])


@given(st.integers(0, 10**17))
def test_any_decimal_index_parses_to_its_number(index: int) -> None:
    assert parse_status_entry({**good(), "statusListIndex": str(index)}).index == index


@given(st.text(min_size=1, max_size=12).filter(lambda s: not s.isascii() or not s.isdigit()))
def test_anything_but_decimal_digits_is_refused(text: str) -> None:
    with pytest.raises(MalformedValueError, match="statusListIndex"):
        parse_status_entry({**good(), "statusListIndex": text})


def test_optional_fields_default_as_the_specification_says() -> None:
    entry = good()
    del entry["id"]
    assert parse_status_entry(entry) == StatusEntry(purpose="revocation", index=7, list_url="https://issuer.example/status/1")
