"""Octopus tariff endpoints as returned (pages, payment methods, day/night) build a tariff credential directly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from perseus.issuer.adapters.octopus_tariff import joined_results
from perseus.issuer.build_cli import main
from perseus.verifier.arithmetic import arithmetic_problems

DATA = Path(__file__).parent / "data" / "vendors"


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


def test_agile_pages_with_two_payment_methods(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "t.json"
    base = ["build", "tariff", DATA / "octopus_agile_unit_rates_pages.json", "--tariff-code", "E-1R-AGILE-FLEX-22-11-25-C",
            "--standing-charges", DATA / "octopus_agile_standing_charges.json", "--customer-class", "business",
            "--issuer", "did:example:supplier", "-o", out]
    code, err = run(capsys, *base)
    assert code == 2 and "DIRECT_DEBIT" in err and "Traceback" not in err  # two prices for one period: choose
    code, err = run(capsys, *base, "--payment-method", "DIRECT_DEBIT")
    assert code == 0, err
    credential = json.loads(out.read_text())
    subject = credential["credentialSubject"]
    pages = json.loads((DATA / "octopus_agile_unit_rates_pages.json").read_text())
    assert len(subject["unitRates"]) == pages[0]["count"]
    assert [c["pencePerDayExcVat"] for c in subject["standingCharges"]] == ["40.48"]
    assert arithmetic_problems(credential) == []


def test_economy7_day_and_night(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "e7.json"
    argv = ["build", "tariff", DATA / "octopus_e7_day_unit_rates.json", "--tariff-code", "E-2R-VAR-22-11-01-C",
            "--standing-charges", DATA / "octopus_e7_standing_charges.json", "--night-rates", DATA / "octopus_e7_night_unit_rates.json",
            "--customer-class", "domestic", "--issuer", "did:example:supplier", "-o", out]
    code, err = run(capsys, *argv)
    assert code == 2 and "--night-band" in err
    code, err = run(capsys, *argv, "--night-band", "00:30-07:30")
    assert code == 0, err
    credential = json.loads(out.read_text())
    bands = {r["band"]: r["timeOfUse"] for r in credential["credentialSubject"]["unitRates"]}
    assert bands["night"]["startTime"] == "00:30:00" and bands["day"]["startTime"] == "07:30:00"
    assert arithmetic_problems(credential) == []


def test_a_missing_page_stays_visible() -> None:
    pages = json.loads((DATA / "octopus_agile_unit_rates_pages.json").read_text())
    joined = joined_results(pages[:1], "unit rates")
    assert joined["next"] and "page=2" in joined["next"]
    assert joined_results(pages, "unit rates")["next"] is None
