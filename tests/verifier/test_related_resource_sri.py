"""relatedResource links given by digestSRI only (VC 2.0 §5.3 allows either digest): checked over the bytes."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
import pytest
from perseus.issuer.keyfile import generate_key_file
from perseus.issuer.signing import sign_document
from perseus.verifier.digests import credential_digest, sri_matches
from perseus.verifier.errors import MalformedValueError
from perseus.verifier.verify import verify_credential

KEY = generate_key_file("Ed25519")
VC_V2 = "https://www.w3.org/ns/credentials/v2"


def _sri(data: bytes, algorithm: str = "sha384") -> str:
    return f"{algorithm}-{base64.b64encode(hashlib.new(algorithm, data).digest()).decode()}"


def _signed(credential_id: str, **extra: Any) -> dict[str, Any]:
    return sign_document(
        {
            "@context": [VC_V2],
            "id": credential_id,
            "type": ["VerifiableCredential"],
            "issuer": KEY.controller,
            "credentialSubject": {"id": "did:example:sme", "name": "Brightwater Studio"},
            **extra,
        },
        KEY,
    )


INPUT = _signed("urn:uuid:6a1f0d3c-0000-4000-8000-000000000001")
INPUT_BYTES = json.dumps(INPUT, indent=2).encode("utf-8")


def _report(link: dict[str, Any]) -> dict[str, Any]:
    return _signed("urn:uuid:6a1f0d3c-0000-4000-8000-000000000002", relatedResource=[{"id": INPUT["id"], **link}])


def _connectedness(result: Any) -> Any:
    return next(c for c in result.checks if c.check == "connectedness")


def test_a_digest_sri_link_is_checked_against_the_inputs_bytes() -> None:
    report = _report({"digestSRI": _sri(INPUT_BYTES)})
    result = verify_credential(report, inputs=[INPUT_BYTES])
    assert result.verified, result.report()
    assert _connectedness(result).outcome == "passed"


def test_other_bytes_do_not_match_a_digest_sri() -> None:
    report = _report({"digestSRI": _sri(INPUT_BYTES)})
    reindented = json.dumps(INPUT).encode("utf-8")  # the same credential, other bytes: SRI pins the bytes
    result = verify_credential(report, inputs=[reindented])
    assert not result.verified
    assert "does not match its digest" in _connectedness(result).problems[0].detail


def test_a_digest_sri_cannot_be_checked_without_the_inputs_bytes() -> None:
    report = _report({"digestSRI": _sri(INPUT_BYTES)})
    result = verify_credential(report, inputs=[INPUT])
    assert not result.verified
    assert "as published" in _connectedness(result).problems[0].detail


def test_both_digests_must_hold_when_both_are_given() -> None:
    good = _report({"digestSRI": _sri(INPUT_BYTES), "digestMultibase": credential_digest(INPUT)})
    assert verify_credential(good, inputs=[INPUT_BYTES]).verified
    other = _signed("urn:uuid:6a1f0d3c-0000-4000-8000-000000000003")
    bad = _report({"digestSRI": _sri(INPUT_BYTES), "digestMultibase": credential_digest(other)})
    assert not verify_credential(bad, inputs=[INPUT_BYTES]).verified


def test_the_cli_passes_inputs_as_the_bytes_of_their_files(tmp_path: Any) -> None:
    from perseus.verifier.cli import main

    (tmp_path / "input.json").write_bytes(INPUT_BYTES)
    (tmp_path / "report.json").write_text(json.dumps(_report({"digestSRI": _sri(INPUT_BYTES, "sha256")})), encoding="utf-8")
    assert main(["verify", str(tmp_path / "report.json"), "--input", str(tmp_path / "input.json"), "--json"]) == 0


@given(st.binary(max_size=256), st.binary(max_size=256), st.sampled_from(["sha256", "sha384", "sha512"]))
def test_sri_matches_exactly_the_bytes_it_was_made_from(data: bytes, other: bytes, algorithm: str) -> None:
    sri = _sri(data, algorithm)
    assert sri_matches(data, sri)
    assert sri_matches(other, sri) == (hashlib.new(algorithm, other).digest() == hashlib.new(algorithm, data).digest())
    # SRI §3.3.3: only the strongest algorithm given counts
    assert sri_matches(data, f"{_sri(other, 'sha256')} {_sri(data, 'sha512')}")
    assert not sri_matches(data, f"{_sri(data, 'sha256')} {_sri(other, 'sha512')}") or data == other


@pytest.mark.parametrize("sri", ["", "md5-AAAA", "sha384-not*base64", 7])
def test_malformed_sri_is_a_clear_error(sri: Any) -> None:
    with pytest.raises(MalformedValueError):
        sri_matches(b"x", sri)
