"""The four-party example rebuilds byte for byte, and the bank's checks pass with --registry."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from perseus.verifier.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "registry"
CREDENTIALS = ROOT / "examples" / "credentials"


def _build_module():
    spec = importlib.util.spec_from_file_location("registry_example_build", EXAMPLE / "build.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_example_rebuilds_byte_for_byte(tmp_path) -> None:
    files = _build_module().build(tmp_path)
    for name in files:
        assert (tmp_path / name).read_bytes() == (EXAMPLE / name).read_bytes(), name


def test_bank_verifies_the_report_its_inputs_and_every_issuers_accreditation(capsys) -> None:
    anchor = (EXAMPLE / "trust-anchor.txt").read_text().strip()
    code = main([
        "verify", str(CREDENTIALS / "emissions-2023-10.json"), "--registry", str(EXAMPLE / "snapshot.json"), "--trust-anchor", anchor,
        "--input", str(CREDENTIALS / "electricity-halfhourly-2023-10.json"), "--input", str(CREDENTIALS / "gas-register-m3-2023-10.json"),
        "--input", str(CREDENTIALS / "tariff-weekend-offpeak-fuelmix.json"), "--json",
    ])
    body = json.loads(capsys.readouterr().out)
    assert code == 0, body["errors"]
    checks = {c["check"]: c for c in body["checks"]}
    assert checks["accreditation"]["outcome"] == "passed"
    assert checks["accreditation"]["details"]["snapshot"]["sequence"] == 9
    assert checks["connectedness"]["outcome"] == "passed"


def test_other_example_credentials_and_an_unlisted_signer(capsys) -> None:
    anchor = (EXAMPLE / "trust-anchor.txt").read_text().strip()
    for name in ("electricity-halfhourly-2023-10.json", "tariff-economy7.json", "gas-register-m3-2023-10.json"):
        assert main(["verify", str(CREDENTIALS / name), "--registry", str(EXAMPLE / "snapshot.json"), "--trust-anchor", anchor]) == 0, name
    capsys.readouterr()
    # the previous snapshot, checked against the operator's key but with the bank's key as anchor: refused
    bank = json.loads((EXAMPLE / "keys" / "bank-example-key.json").read_text())["controller"]
    code = main(["verify", str(CREDENTIALS / "tariff-economy7.json"), "--registry", str(EXAMPLE / "snapshot.json"), "--trust-anchor", bank])
    assert code == 1 and "REGISTRY_SNAPSHOT_UNTRUSTED_KEY" in capsys.readouterr().out
