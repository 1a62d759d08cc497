"""`perseus build consumption` for gas: MPRN check switchable and stated, the imperial factor chosen and stated."""

# ruff: noqa: F811  (pytest fixtures imported from perseus_credential_helpers are redefined as parameters)

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from perseus.issuer.adapters import load_register_reads
from perseus.issuer.energy.errors import CheckDigitError
from perseus_credential_helpers import INPUTS, perseus_cli  # noqa: F401

Run = Callable[..., Any]


def _with_mprn(tmp_path: Path, mprn: str) -> Path:
    doc = json.loads((INPUTS / "gas_register_reads_hcf.json").read_text(encoding="utf-8"))
    doc["meter"]["mprn"] = mprn
    path = tmp_path / f"reads-{mprn}.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_an_mprn_failing_the_unconfirmed_check_can_still_be_issued_and_says_so(perseus_cli: Run, tmp_path: Path) -> None:
    good = json.loads((INPUTS / "gas_register_reads_hcf.json").read_text(encoding="utf-8"))["meter"]["mprn"]
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    path = _with_mprn(tmp_path, bad)
    refused = perseus_cli("build", "consumption", path, "--issuer", "did:example:edp")
    assert refused.code == 2 and "check digit" in refused.err.lower()
    built = perseus_cli("build", "consumption", path, "--issuer", "did:example:edp", "--no-mprn-check")
    assert built.code == 0, built.err
    point = json.loads(built.out)["credentialSubject"]["supplyPoint"]
    assert (point["mprn"], point["checkDigit"]) == (bad, "NotChecked")
    checked = perseus_cli("build", "consumption", _with_mprn(tmp_path, good), "--issuer", "did:example:edp")
    assert json.loads(checked.out)["credentialSubject"]["supplyPoint"]["checkDigit"] == "Verified"
    # The adapter takes the same switch.
    with pytest.raises(CheckDigitError):
        load_register_reads(path)  # the check is on by default
    assert load_register_reads(path, check_mprn_digits=False).supply_point.check_digit == "NotChecked"


def test_the_imperial_factor_is_the_bills_unless_exact_is_chosen(perseus_cli: Run) -> None:
    source = INPUTS / "gas_register_reads_hcf.json"
    bill = json.loads(perseus_cli("build", "consumption", source, "--issuer", "did:example:edp").out)["credentialSubject"]["gasConversion"]
    exact = json.loads(perseus_cli("build", "consumption", source, "--issuer", "did:example:edp", "--imperial-factor", "exact").out)
    exact_gas = exact["credentialSubject"]["gasConversion"]
    assert bill["imperialFactor"] == "2.83" and exact_gas["imperialFactor"] == "2.8316846592"
    # By hand: the same hundreds of cubic feet; the exact factor gives 0.0595% more m3 (2.8316846592 / 2.83).
    assert Decimal(bill["volumeM3"]) == Decimal(bill["volume"]) * Decimal("2.83")
    assert Decimal(exact_gas["volumeM3"]) == Decimal(exact_gas["volume"]) * Decimal("2.8316846592")
