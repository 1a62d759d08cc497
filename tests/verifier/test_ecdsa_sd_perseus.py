"""The Perseus use of selective disclosure: an SME shows its monthly totals, not its half-hourly profile.

An Energy Data Provider re-signs the October electricity credential of examples/credentials/ with
ecdsa-sd-2023 (a P-256 key); the SME derives a disclosure holding the month's totals and nothing of the
1,490 half-hourly readings; a bank verifies it. What the verifier's other checks can do with a partial
credential is part of the contract: validity and the issuer binding run as usual (their claims are
mandatory), a shape that needs withheld claims is reported as not checkable (not as malformed), and a
link whose input was disclosed partially says that only the full credential can match its digest.
The command-line tests run the same flow through `perseus sign`, `perseus derive` and `perseus verify`.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from perseus.issuer.keyfile import KeyFile, generate_key_file, write_key_file
from perseus.issuer.signing import sign_document
from perseus.verifier import derive_credential, verify_credential
from perseus.verifier.cli import main
from perseus.verifier.digests import credential_digest
from perseus.verifier.errors import ProofError
from perseus.verifier.suites import ecdsa_sd_2023 as sd

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "credentials"
MANDATORY = ["/credentialSubject/supplyPoint", "/credentialSubject/customer", "/credentialSubject/periodStart", "/credentialSubject/periodEnd"]
SHOWN = ["/credentialSubject/monthlyTotals", "/credentialSubject/totalKwh", "/credentialSubject/completeness"]
WITHHELD = ("intervalReadings", "dailyTotals", "registerReads", "reconciliation")


def _example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def _unsigned_consumption(key: KeyFile) -> dict[str, Any]:
    document = _example("electricity-halfhourly-2023-10.json")
    del document["proof"]
    document["issuer"] = key.controller
    return document


@pytest.fixture(scope="module")
def edp_key() -> KeyFile:
    return generate_key_file("P-256")


@pytest.fixture(scope="module")
def original(edp_key: KeyFile) -> dict[str, Any]:
    return _unsigned_consumption(edp_key)


@pytest.fixture(scope="module")
def with_base_proof(original: dict[str, Any], edp_key: KeyFile) -> dict[str, Any]:
    return sign_document(original, edp_key, suite="ecdsa-sd-2023", mandatory_pointers=MANDATORY)


@pytest.fixture(scope="module")
def shown(with_base_proof: dict[str, Any]) -> dict[str, Any]:
    return derive_credential(with_base_proof, SHOWN)


@pytest.fixture(scope="module")
def shown_in_full(with_base_proof: dict[str, Any]) -> dict[str, Any]:
    return derive_credential(with_base_proof, [""])  # "" points at the whole document


def test_the_sme_shows_its_monthly_totals_and_withholds_the_readings(
    original: dict[str, Any], with_base_proof: dict[str, Any], shown: dict[str, Any]
) -> None:
    result = verify_credential(shown)
    assert result.verified, result.report()
    assert "ecdsa-sd-2023" in result.report()
    subject = shown["credentialSubject"]
    assert subject["monthlyTotals"] == original["credentialSubject"]["monthlyTotals"]
    assert subject["totalKwh"] == original["credentialSubject"]["totalKwh"] == "2006.128"
    for name in WITHHELD:
        assert name not in subject
    assert set(shown) - {"proof"} < set(original)  # metadata, assurance, provenance were not asked for
    first = original["credentialSubject"]["intervalReadings"][0]
    text = json.dumps(shown)
    assert first["end"] not in text  # no reading's time (nor anything else of them) is in the disclosure
    parsed = sd.parse_derived_proof_value(shown["proof"]["proofValue"])
    base = sd.parse_base_proof_value(with_base_proof["proof"]["proofValue"])
    assert len(base.signatures) > 8000 and len(parsed.signatures) < 40


def test_the_envelope_and_the_issuers_mandatory_claims_are_always_disclosed(
    original: dict[str, Any], with_base_proof: dict[str, Any], shown: dict[str, Any]
) -> None:
    for name in ("id", "issuer", "validFrom", "type", "@context"):
        assert shown[name] == original[name]
    for pointer in MANDATORY:
        name = pointer.rsplit("/", 1)[1]
        assert shown["credentialSubject"][name] == original["credentialSubject"][name]
    assert sd.parse_base_proof_value(with_base_proof["proof"]["proofValue"]).mandatory_pointers == ["/id", "/issuer", "/validFrom", *MANDATORY]
    nothing_more = derive_credential(with_base_proof, [])
    assert verify_credential(nothing_more).verified
    assert set(nothing_more["credentialSubject"]) == {"type", "supplyPoint", "customer", "periodStart", "periodEnd"}


def test_the_verifiers_other_checks_on_a_disclosure(original: dict[str, Any], shown: dict[str, Any], shown_in_full: dict[str, Any]) -> None:
    result = verify_credential(shown, shapes=True)
    assert result.verified, result.report()
    checks = {c.check: c for c in result.checks}
    assert checks["validity"].outcome == "passed" and checks["issuer"].outcome == "passed"
    assert checks["shape"].outcome == "skipped"
    assert "withheld" in checks["shape"].summary and "missing required" in checks["shape"].summary
    # Disclosed in full, the shape is checked as for any credential.
    full = verify_credential(shown_in_full, shapes=True)
    assert full.verified, full.report()
    assert {c.check: c.outcome for c in full.checks}["shape"] == "passed"
    assert {k: v for k, v in shown_in_full.items() if k != "proof"} == original


def test_a_link_to_a_partial_disclosure_says_only_the_full_credential_can_match(shown: dict[str, Any], shown_in_full: dict[str, Any]) -> None:
    cap_key = generate_key_file("Ed25519")
    report = _example("emissions-2023-10.json")
    del report["proof"]
    report["issuer"] = cap_key.controller
    link = next(r for r in report["relatedResource"] if r["id"] == shown["id"])
    link["digestMultibase"] = credential_digest(shown_in_full)  # the CAP computed from the full credential
    signed = sign_document(report, cap_key)
    others = [_example("gas-register-m3-2023-10.json"), _example("tariff-weekend-offpeak-fuelmix.json")]
    with_full = verify_credential(signed, inputs=[shown_in_full, *others])
    assert {c.check: c.outcome for c in with_full.checks}["connectedness"] == "passed", with_full.report()
    with_partial = verify_credential(signed, inputs=[shown, *others])
    assert not with_partial.verified
    problems = [p for p in with_partial.errors if p.check == "connectedness"]
    assert problems and "selective disclosure" in problems[0].detail and "full credential" in problems[0].detail


def test_deriving_refuses_what_cannot_be_disclosed(with_base_proof: dict[str, Any]) -> None:
    with pytest.raises(ProofError, match="does not match the document"):
        derive_credential(with_base_proof, ["/credentialSubject/monthlyTotal"])
    with pytest.raises(ProofError, match="must start with '/'"):
        derive_credential(with_base_proof, ["credentialSubject"])
    signed_plainly = _example("electricity-halfhourly-2023-10.json")
    with pytest.raises(ProofError, match="no ecdsa-sd-2023 base proof"):
        derive_credential(signed_plainly, SHOWN)
    tampered = copy.deepcopy(with_base_proof)
    tampered["credentialSubject"]["monthlyTotals"][0]["kwh"] = "1.000"
    with pytest.raises(ProofError, match="base proof does not verify"):
        derive_credential(tampered, SHOWN)


def test_only_p256_keys_make_base_proofs(original: dict[str, Any]) -> None:
    with pytest.raises(ProofError, match="P-256"):
        sign_document(original, generate_key_file("P-384"), suite="ecdsa-sd-2023")
    with pytest.raises(ProofError, match="selective disclosure"):
        sign_document(original, generate_key_file("Ed25519"), mandatory_pointers=["/issuer"])


# -- the command line --------------------------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def small_credential(tmp_path: Path) -> tuple[Path, Path]:
    """A key file and a consumption credential cut to four readings and two days (fast to sign)."""
    key = generate_key_file("P-256")
    key_path = tmp_path / "edp-key.json"
    write_key_file(key, key_path)
    document = _unsigned_consumption(key)
    document["credentialSubject"]["intervalReadings"] = document["credentialSubject"]["intervalReadings"][:4]
    document["credentialSubject"]["dailyTotals"] = document["credentialSubject"]["dailyTotals"][:2]
    path = tmp_path / "consumption.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return key_path, path


def test_cli_sign_derive_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str], small_credential: tuple[Path, Path]) -> None:
    key_path, path = small_credential
    signed, shown = tmp_path / "signed.json", tmp_path / "shown.json"
    code, _, err = run(capsys, "sign", str(path), "--key", str(key_path), "--suite", "ecdsa-sd-2023",
                       "--mandatory-pointer", "/credentialSubject/supplyPoint", "-o", str(signed))
    assert code == 0, err
    assert json.loads(signed.read_text())["proof"]["proofValue"].startswith("u2V0A")  # a base proof
    code, out, _ = run(capsys, "verify", str(signed))
    assert code == 1 and "meant for the credential's holder" in out and "perseus derive" in out
    code, _, err = run(capsys, "derive", str(signed), "--reveal", "/credentialSubject/monthlyTotals", "-o", str(shown))
    assert code == 0, err
    disclosed = json.loads(shown.read_text())
    assert "intervalReadings" not in disclosed["credentialSubject"] and "monthlyTotals" in disclosed["credentialSubject"]
    assert "supplyPoint" in disclosed["credentialSubject"]
    code, out, _ = run(capsys, "verify", str(shown))
    assert code == 0 and "ecdsa-sd-2023" in out, out
    disclosed["credentialSubject"]["monthlyTotals"][0]["kwh"] = "1.000"
    shown.write_text(json.dumps(disclosed), encoding="utf-8")
    code, out, _ = run(capsys, "verify", str(shown))
    assert code == 1 and "does not match its signature" in out


def test_cli_refuses_bad_requests_with_a_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str], small_credential: tuple[Path, Path]) -> None:
    key_path, path = small_credential
    code, _, err = run(capsys, "sign", str(path), "--key", str(key_path), "--mandatory-pointer", "/issuer")
    assert code == 2 and "selective disclosure" in err
    code, _, err = run(capsys, "sign", str(path), "--key", str(key_path), "--suite", "ecdsa-sd-2023", "--mandatory-pointer", "/nothing")
    assert code == 2 and "/nothing does not match the document" in err
    signed = tmp_path / "signed.json"
    assert run(capsys, "sign", str(path), "--key", str(key_path), "--suite", "ecdsa-sd-2023", "-o", str(signed))[0] == 0
    code, out, err = run(capsys, "derive", str(signed), "--reveal", "/credentialSubject/~2")
    assert code == 2 and out == "" and "invalid escape" in err
    code, _, err = run(capsys, "derive", str(path), "--reveal", "/credentialSubject")
    assert code == 2 and "no ecdsa-sd-2023 base proof" in err
    code, _, err = run(capsys, "derive", str(tmp_path / "missing.json"), "--reveal", "/issuer")
    assert code == 2 and "does not exist" in err
