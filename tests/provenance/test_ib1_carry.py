"""Carrying IB1 provenance records in credentials: kept from the API response, byte for byte, re-verifiable by any
recipient; conflicts with the credential's own claims refused or stated; the verifier's ``provenance`` check."""

# ruff: noqa: F811  (fixtures imported from ib1_pki are redefined as parameters)

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ib1_pki import cap, edp, pki  # noqa: F401 (fixtures)
from ib1_pki import SIGNED_AT, Party, Pki, edp_steps, make_pki, own_sign
from perseus.issuer.build_cli import main as perseus
from perseus.issuer.credentials.ib1_record import decode_record_steps, record_claims
from perseus.issuer.keyfile import KeyFile, generate_key_file
from perseus.issuer.signing import sign_document
from perseus.verifier.ib1_environments import load_roots_pem
from perseus.verifier.provenance_check import Ib1Options
from perseus.verifier.verify import verify_credential

ROOT = Path(__file__).resolve().parents[2]
RESPONSE = ROOT / "examples" / "inputs" / "ib1_consumption_electricity_2023-10.json"
MPAN = "1200123456787"


@pytest.fixture(scope="module")
def key() -> KeyFile:
    return generate_key_file("Ed25519")


def response_with(tmp_path: Path, record: Any, name: str = "response.json") -> Path:
    document = json.loads(RESPONSE.read_text())
    document["provenance"] = record
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def build(tmp_path: Path, key: KeyFile, source: Path, *extra: str) -> tuple[int, dict[str, Any] | None]:
    out = tmp_path / "credential.json"
    if out.exists():
        out.unlink()
    code = perseus(["build", "consumption", str(source), "--mpan", MPAN, "--account", "did:example:sme", "--issuer", key.controller, "-o", str(out), *extra])
    return code, (json.loads(out.read_text()) if out.exists() else None)


def test_the_api_responses_record_is_carried_unchanged_and_verifies(tmp_path: Path, pki: Pki, edp: Party, key: KeyFile) -> None:
    record = own_sign(edp, edp_steps(), at=SIGNED_AT)
    code, credential = build(tmp_path, key, response_with(tmp_path, record))
    assert code == 0 and credential is not None
    assert credential["provenance"]["ib1ProvenanceRecord"] == record  # every string (steps, signatures, PEM) as received
    assert "steps" not in credential["provenance"]  # the record states the origin; nothing is restated from it
    signed = sign_document(credential, key)
    # Any JSON re-serialisation keeps the literal's strings, so the IB1 signatures and the proof still verify.
    reformatted = json.loads(json.dumps(signed, indent=3, sort_keys=True))
    result = verify_credential(reformatted, ib1=Ib1Options(roots=[pki.root]))
    assert result.verified, result.report()
    check = next(c for c in result.checks if c.check == "provenance")
    assert check.outcome == "passed" and check.details["records"][0]["steps"][0]["signedBy"]["serial"] == edp.serial


def test_a_recipient_without_the_roots_is_told_why(tmp_path: Path, edp: Party, key: KeyFile) -> None:
    code, credential = build(tmp_path, key, response_with(tmp_path, own_sign(edp, edp_steps(), at=SIGNED_AT)))
    result = verify_credential(sign_document(credential, key))
    assert not result.verified
    assert "IB1_NO_TRUST_ANCHORS" in {p.code for p in result.errors}


def test_an_issuer_cannot_change_the_record_even_when_it_signs_the_credential(tmp_path: Path, pki: Pki, edp: Party, key: KeyFile) -> None:
    # The credential's proof is the issuer's; the record's signatures are the EDP's. Changing a step and
    # signing the credential again gives a valid proof over a record whose IB1 signature fails.
    code, credential = build(tmp_path, key, response_with(tmp_path, own_sign(edp, edp_steps(), at=SIGNED_AT)))
    record = credential["provenance"]["ib1ProvenanceRecord"]
    step = json.loads(base64.urlsafe_b64decode(record["steps"][1]))
    step["perseus:assurance"]["missingData"] = step["perseus:assurance"]["missingData"].replace("Complete", "Substituted")
    record["steps"][1] = base64.urlsafe_b64encode(json.dumps(step, separators=(",", ":")).encode()).decode()
    result = verify_credential(sign_document(credential, key), ib1=Ib1Options(roots=[pki.root]))
    outcomes = {c.check: c.outcome for c in result.checks}
    assert outcomes["proof"] == "passed" and outcomes["provenance"] == "failed"
    assert {p.code for p in result.errors} == {"IB1_SIGNATURE_INVALID"}


def test_changing_the_carried_record_after_signing_breaks_the_proof(tmp_path: Path, pki: Pki, edp: Party, key: KeyFile) -> None:
    code, credential = build(tmp_path, key, response_with(tmp_path, own_sign(edp, edp_steps(), at=SIGNED_AT)))
    signed = sign_document(credential, key)
    tampered = copy.deepcopy(signed)
    tampered["provenance"]["ib1ProvenanceRecord"]["origins"] = []
    result = verify_credential(tampered, ib1=Ib1Options(roots=[pki.root]))
    outcomes = {c.check: c.outcome for c in result.checks}
    assert outcomes["proof"] == "failed" and outcomes["provenance"] == "failed"


def test_a_record_from_another_root_fails_the_check(tmp_path: Path, edp: Party, key: KeyFile) -> None:
    code, credential = build(tmp_path, key, response_with(tmp_path, own_sign(edp, edp_steps(), at=SIGNED_AT)))
    result = verify_credential(sign_document(credential, key), ib1=Ib1Options(roots=[make_pki("Other").root]))
    assert {p.code for p in result.errors} == {"IB1_CERTIFICATE_UNTRUSTED"}


def test_missing_data_conflict_is_refused_then_stated_on_purpose(tmp_path: Path, edp: Party, key: KeyFile, capsys: pytest.CaptureFixture[str]) -> None:
    source = response_with(tmp_path, own_sign(edp, edp_steps(missing="Missing"), at=SIGNED_AT))
    code, credential = build(tmp_path, key, source)
    assert code == 2 and credential is None  # nothing written
    err = capsys.readouterr().err
    assert "states missing data Missing, but the credential claims Complete" in err and "--accept-ib1-discrepancy" in err
    code, credential = build(tmp_path, key, source, "--accept-ib1-discrepancy")
    assert code == 0 and credential is not None
    assert credential["provenance"]["ib1RecordDiscrepancy"] == ["the IB1 provenance record states missing data Missing, but the credential claims Complete"]
    # Claiming Missing too is no conflict.
    code, credential = build(tmp_path, key, source, "--missing-data", "Missing")
    assert code == 0 and "ib1RecordDiscrepancy" not in credential["provenance"]


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        (edp_steps(period=("2023-10-02T00:00Z", "2023-11-01T00:00Z")), "is not within the origin step's meteringPeriod"),
        (edp_steps(measure="export"), "transferred export data, but the credential is for the import meter"),
    ],
)
def test_period_and_meter_conflicts_are_refused(tmp_path: Path, edp: Party, key: KeyFile, capsys: pytest.CaptureFixture[str], steps: Any, expected: str) -> None:
    code, credential = build(tmp_path, key, response_with(tmp_path, own_sign(edp, steps, at=SIGNED_AT)))
    assert code == 2 and credential is None
    assert expected in capsys.readouterr().err


def test_a_record_naming_another_meter_is_refused(tmp_path: Path, edp: Party, key: KeyFile, capsys: pytest.CaptureFixture[str]) -> None:
    steps = edp_steps()
    steps[2]["parameters"]["mpan"] = "1200123456794"
    code, _ = build(tmp_path, key, response_with(tmp_path, own_sign(edp, steps, at=SIGNED_AT)))
    assert code == 2 and "names meter 1200123456794, but the credential is for MPAN 1200123456787" in capsys.readouterr().err


def test_provenance_option_takes_an_encoded_record(tmp_path: Path, edp: Party, key: KeyFile, capsys: pytest.CaptureFixture[str]) -> None:
    record = own_sign(edp, edp_steps(), at=SIGNED_AT)
    record_file = tmp_path / "record.json"
    record_file.write_text(json.dumps(record))
    bare = response_with(tmp_path, ["(no record)"], "bare.json")
    code, credential = build(tmp_path, key, bare, "--provenance", str(record_file))
    assert code == 0 and credential["provenance"]["ib1ProvenanceRecord"] == record
    # The same record twice is fine; two different records are a usage error naming both sources.
    code, _ = build(tmp_path, key, response_with(tmp_path, record), "--provenance", str(record_file))
    assert code == 0
    other = own_sign(edp, edp_steps(), at=SIGNED_AT)
    code, _ = build(tmp_path, key, response_with(tmp_path, other), "--provenance", str(record_file))
    assert code == 2 and "give one" in capsys.readouterr().err


def test_a_malformed_record_is_refused_by_name(tmp_path: Path, key: KeyFile, capsys: pytest.CaptureFixture[str]) -> None:
    broken = {"ib1:provenance": "https://registry.core.trust.ib1.org/trust-framework", "origins": [], "steps": ["!!!", [0, "1", "t", "s"]]}
    code, _ = build(tmp_path, key, response_with(tmp_path, broken))
    assert code == 2 and "provenance.steps[0]" in capsys.readouterr().err


def test_cli_verify_with_roots_role_and_environment(tmp_path: Path, pki: Pki, edp: Party, key: KeyFile, capsys: pytest.CaptureFixture[str]) -> None:
    code, credential = build(tmp_path, key, response_with(tmp_path, own_sign(edp, edp_steps(), at=SIGNED_AT)))
    signed = tmp_path / "signed.json"
    signed.write_text(json.dumps(sign_document(credential, key)))
    roots = tmp_path / "roots.pem"
    roots.write_bytes(pki.root_pem)
    assert load_roots_pem(pki.root_pem)[0] == pki.root
    capsys.readouterr()
    assert perseus(["verify", str(signed), "--ib1-roots", str(roots)]) == 0
    assert "[ok  ] provenance: IB1 provenance record verified: 3 steps" in capsys.readouterr().out
    assert perseus(["verify", str(signed), "--ib1-roots", str(roots), "--ib1-role", "https://example.org/role/other"]) == 1
    assert "IB1_ROLE_MISSING" in capsys.readouterr().out
    assert perseus(["verify", str(signed), "--ib1-roots", str(roots), "--ib1-environment", "sandbox"]) == 1
    assert "IB1_TRUST_FRAMEWORK_MISMATCH" in capsys.readouterr().out
    assert perseus(["verify", str(signed), "--checks", "proof,issuer,validity"]) == 0  # the check can be left out
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello")
    assert perseus(["verify", str(signed), "--ib1-roots", str(not_pem)]) == 2
    assert "not PEM X.509 certificates" in capsys.readouterr().err


@settings(max_examples=25, deadline=None)
@given(months=st.integers(min_value=1, max_value=4), missing=st.sampled_from(["Complete", "Missing", "Substituted"]))
def test_record_claims_read_what_was_signed(months: int, missing: str) -> None:
    pki = _PKI
    record = own_sign(pki.parties["claims"], edp_steps(months, missing=missing), at=SIGNED_AT)
    steps = decode_record_steps(record)
    assert [s["type"] for s in steps] == ["permission"] + ["origin", "transfer"] * months
    claims = record_claims(steps)
    assert claims.worst_missing_data == missing and claims.measures == ("import",) and len(claims.periods) == 2 * months


_PKI = make_pki("Claims CA")
_PKI.leaf("claims")


def test_the_check_reads_only_plain_json_ld(tmp_path: Path, pki: Pki, edp: Party, key: KeyFile) -> None:
    # The same statements with the record under its full IRI instead of its term: not the plain compacted form,
    # so the check does not read it (another key could hide another record).
    code, credential = build(tmp_path, key, response_with(tmp_path, own_sign(edp, edp_steps(), at=SIGNED_AT)))
    node = credential["provenance"]
    node["https://w3id.org/perseus/vocab#ib1ProvenanceRecord"] = {"@type": "@json", "@value": node.pop("ib1ProvenanceRecord")}
    result = verify_credential(credential, checks=["provenance"], ib1=Ib1Options(roots=[pki.root]))
    outcomes = {c.check: c.outcome for c in result.checks}
    assert outcomes["format"] == "failed" and outcomes["provenance"] == "skipped"


def test_a_credential_claiming_more_than_its_record_is_refused_unless_it_says_so(tmp_path: Path, pki: Pki, edp: Party, key: KeyFile) -> None:
    # An issuer that did not use our builder: the record says Missing, the credential Complete, nothing stated.
    source = response_with(tmp_path, own_sign(edp, edp_steps(missing="Missing"), at=SIGNED_AT))
    code, credential = build(tmp_path, key, source, "--accept-ib1-discrepancy")
    stated = sign_document(credential, key)
    assert verify_credential(stated, ib1=Ib1Options(roots=[pki.root])).verified
    del credential["provenance"]["ib1RecordDiscrepancy"]
    result = verify_credential(sign_document(credential, key), ib1=Ib1Options(roots=[pki.root]))
    assert [p.code for p in result.errors] == ["IB1_RECORD_CONFLICT"]
    assert "states missing data Missing, but the credential claims Complete" in result.errors[0].detail
