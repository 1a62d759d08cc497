"""Properties of the selective-disclosure parsers and conversions (hypothesis).

JSON pointers and CBOR proof values are untrusted input, and the label maps and selections are
conversions whose inverses the verifier relies on; each property below would fail on a plausible bug
(an unescaping order mistake, a lost map entry, a selection that drops or invents data).
"""

from __future__ import annotations

import string
from typing import Any

import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perseus.verifier.errors import ProofError
from perseus.verifier.selective_disclosure import (
    compress_label_map,
    decompress_label_map,
    hmac_label,
    hmac_label_map_factory,
    parse_pointer,
    select_json_ld,
)
from perseus.verifier.suites import ecdsa_sd_2023 as sd

tokens = st.text(alphabet=string.ascii_letters + string.digits + "~/_-@ é", max_size=8)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


@given(st.lists(tokens, max_size=6))
def test_pointers_round_trip(parts: list[str]) -> None:
    assert parse_pointer("".join("/" + _escape(t) for t in parts)) == parts


@given(st.text(max_size=20))
def test_any_string_either_parses_or_is_refused_with_a_reason(text: str) -> None:
    try:
        parsed = parse_pointer(text)
    except ProofError as exc:
        assert exc.code == "PROOF_GENERATION_ERROR" and exc.message
    else:
        assert "".join("/" + _escape(t) for t in parsed) == text


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-1000, 1000), st.text(max_size=5))
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(string.ascii_lowercase, min_size=1, max_size=3), inner, max_size=4)),
    max_leaves=20,
)


def _pointers(value: Any, prefix: str = "") -> list[str]:
    """Every JSON pointer into `value` (containers and leaves)."""
    out = []
    if isinstance(value, dict):
        for k, v in value.items():
            out.append(prefix + "/" + _escape(k))
            out += _pointers(v, prefix + "/" + _escape(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.append(f"{prefix}/{i}")
            out += _pointers(v, f"{prefix}/{i}")
    return out


@given(st.dictionaries(st.text(string.ascii_lowercase, min_size=1, max_size=3), json_values, max_size=5), st.data())
def test_selection_holds_exactly_the_selected_values(document: dict[str, Any], data: st.DataObject) -> None:
    pointers = _pointers(document)
    chosen = data.draw(st.lists(st.sampled_from(pointers), max_size=4)) if pointers else []
    selection = select_json_ld(document, chosen)
    if not chosen:
        assert selection is None
        return
    assert selection is not None
    for pointer in chosen:  # each selected value is in the selection (array positions may shift: compare by content)
        value: Any = document
        for token in parse_pointer(pointer):
            value = value[int(token)] if isinstance(value, list) else value[token]
        assert _contains(selection, value)
    # Selecting every top-level member gives the document back.
    assert select_json_ld(document, ["/" + _escape(k) for k in document]) == document


def _contains(haystack: Any, needle: Any) -> bool:
    if haystack == needle:
        return True
    if isinstance(haystack, dict):
        return any(_contains(v, needle) for v in haystack.values())
    if isinstance(haystack, list):
        return any(_contains(v, needle) for v in haystack)
    return False


@given(st.dictionaries(st.integers(0, 10_000), st.binary(min_size=32, max_size=32), max_size=20))
def test_label_maps_compress_and_decompress(compressed: dict[int, bytes]) -> None:
    labels = decompress_label_map(compressed)
    assert all(k.startswith("c14n") and v.startswith("u") for k, v in labels.items())
    assert compress_label_map(labels) == compressed


@given(st.binary(min_size=32, max_size=32), st.lists(st.integers(0, 500), unique=True, max_size=10))
def test_hmac_labels_are_distinct_valid_blank_node_labels(key: bytes, numbers: list[int]) -> None:
    canonical = {f"b{n}": f"c14n{n}" for n in numbers}
    labels = hmac_label_map_factory(key)(canonical)
    assert len(set(labels.values())) == len(labels)
    for name, label in labels.items():
        assert label == hmac_label(key, canonical[name]) and len(label) == 44 and label[0] == "u"


signatures = st.lists(st.binary(min_size=64, max_size=64), max_size=5)


@given(st.binary(min_size=64, max_size=64), st.binary(min_size=35, max_size=35), st.binary(min_size=32, max_size=32), signatures,
       st.lists(st.text(max_size=10), max_size=4))
def test_base_proof_values_round_trip(base: bytes, key: bytes, hmac_key: bytes, sigs: list[bytes], pointers: list[str]) -> None:
    value = sd.BaseProofValue(base, key, hmac_key, sigs, pointers)
    encoded = sd.serialize_base_proof_value(value)
    assert encoded.startswith("u2V0A")
    assert sd.parse_base_proof_value(encoded) == value


@given(st.binary(min_size=64, max_size=64), st.binary(min_size=35, max_size=35), signatures,
       st.dictionaries(st.integers(0, 300), st.binary(min_size=32, max_size=32), max_size=6), st.lists(st.integers(0, 300), max_size=6))
def test_derived_proof_values_round_trip(base: bytes, key: bytes, sigs: list[bytes], labels: dict[int, bytes], indexes: list[int]) -> None:
    value = sd.DerivedProofValue(base, key, sigs, decompress_label_map(labels), indexes)
    encoded = sd.serialize_derived_proof_value(value)
    assert sd.is_derived_proof({"cryptosuite": "ecdsa-sd-2023", "proofValue": encoded})
    assert sd.parse_derived_proof_value(encoded) == value


@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_crash_the_proof_value_parsers(data: bytes) -> None:
    from perseus.verifier.multibase import encode_base64url

    for payload in (data, sd.DERIVED_HEADER + data, sd.BASE_HEADER + data):
        for parse in (sd.parse_derived_proof_value, sd.parse_base_proof_value):
            try:
                parse(encode_base64url(payload))
            except ProofError as exc:
                assert exc.code in ("PROOF_VERIFICATION_ERROR", "MALFORMED_PROOF_ERROR") and exc.message


# -- the whole round trip on arbitrary shapes -------------------------------------------------------------------

_terms = st.sampled_from(["alpha", "beta", "gamma", "delta"])
_leaves = st.one_of(st.text(max_size=4), st.integers(-3, 3), st.booleans())
_nodes = st.recursive(
    st.dictionaries(_terms, _leaves, min_size=1, max_size=3),
    lambda inner: st.dictionaries(_terms, st.one_of(_leaves, inner, st.lists(st.one_of(_leaves, inner), min_size=1, max_size=3)), min_size=1, max_size=3),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def issuer_key() -> Any:
    from perseus.issuer.keyfile import generate_key_file

    return generate_key_file("P-256")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_nodes, st.data())
def test_any_selection_of_any_credential_verifies(issuer_key: Any, subject: dict[str, Any], data: st.DataObject) -> None:
    """Base proof, derivation with a random set of pointers, verification: for nested nodes, arrays of nodes
    and of values, and look-alike blank nodes, every disclosure verifies and holds what was selected."""
    from perseus.issuer.signing import sign_document
    from perseus.verifier import derive_credential, verify_credential

    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "type": ["VerifiableCredential"],
        "issuer": issuer_key.controller,
        "credentialSubject": subject,
    }
    signed = sign_document(credential, issuer_key, suite="ecdsa-sd-2023")
    pointers = ["/credentialSubject" + p for p in _pointers(subject)]
    chosen = data.draw(st.lists(st.sampled_from(pointers), min_size=1, max_size=3, unique=True))  # a credential needs a subject
    shown = derive_credential(signed, chosen)
    result = verify_credential(shown, checks="proof")
    assert result.verified, result.report()
    for pointer in chosen:
        value: Any = credential
        for token in parse_pointer(pointer):
            value = value[int(token)] if isinstance(value, list) else value[token]
        assert _contains(shown["credentialSubject"], value)
