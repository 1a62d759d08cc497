"""`perseus cost CONSUMPTION TARIFF`: the bill a bookkeeper checks, and `perseus build tariff`'s choices."""

# ruff: noqa: F811  (pytest fixtures imported from perseus_credential_helpers are redefined as parameters)

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from perseus.issuer.credentials import Metadata, build_consumption_credential
from perseus.issuer.energy.consumption import build_consumption
from perseus.issuer.energy.mpan import supply_point
from perseus_credential_helpers import EXAMPLES, INPUTS, ISSUED, SME, half_hours, perseus_cli  # noqa: F401

Run = Callable[..., Any]
CREDENTIALS = EXAMPLES / "credentials"


def _june_business(tmp_path: Path) -> tuple[Path, Path]:
    """June 2024: 3,000 kWh in one half-hour (the rest 0) under a flat business tariff, 25 p/kWh and 50 p/day."""
    readings = half_hours(datetime(2024, 5, 31, 23, tzinfo=UTC), ["3000"] + ["0"] * (30 * 48 - 1))
    data = build_consumption(supply_point("1200123456787", "electricity", "import", "SE1"), SME, intervals=readings)
    credential = build_consumption_credential(data, issuer="did:example:edp", metadata=Metadata("SmartMeterViaDCC"), valid_from=ISSUED)
    consumption = tmp_path / "june.json"
    consumption.write_text(json.dumps(credential), encoding="utf-8")
    tariff = {
        "format": "perseus-tariff", "supplier": "Example Business Energy Ltd", "code": "FLAT-B", "name": "Flat business",
        "direction": "import", "customer_class": "business", "vat_rate": "0.20",
        "standing_charges": [{"value_exc_vat": "50", "value_inc_vat": "60"}],
        "unit_rates": [{"value_exc_vat": "25", "value_inc_vat": "30", "band": "standard"}],
    }
    path = tmp_path / "tariff.json"
    path.write_text(json.dumps(tariff), encoding="utf-8")
    return consumption, path


def test_cost_reproduces_the_hand_computed_business_bill(perseus_cli: Run, tmp_path: Path) -> None:
    consumption, tariff = _june_business(tmp_path)
    result = perseus_cli("cost", consumption, tariff)
    assert result.code == 0, result.err
    # By hand: 75,000 p energy + 1,500 p standing + 2,325 p CCL = 78,825 p; VAT 20% = 15,765 p; total £945.90.
    assert "Climate Change Levy" in result.out and "VAT 20% on £788.25" in result.out
    assert "£    945.90" in result.out.splitlines()[-2]
    doc = json.loads(perseus_cli("cost", consumption, tariff, "--json").out)
    month = doc["months"][0]
    assert (month["month"], month["taxes"], doc["total_gbp_inc_vat"]) == ("2024-06", "business", "945.90")
    assert (month["standing_days"], month["bands"][0]["kwh"]) == (30, "3000")


def test_cost_with_a_domestic_override_and_a_tariff_credential(perseus_cli: Run, tmp_path: Path) -> None:
    consumption, tariff = _june_business(tmp_path)
    # By hand: (75,000 + 1,500) x 1.05 = 80,325 p = £803.25.
    assert json.loads(perseus_cli("cost", consumption, tariff, "--json", "--customer-class", "domestic").out)["total_gbp_inc_vat"] == "803.25"
    result = perseus_cli("cost", CREDENTIALS / "electricity-halfhourly-2023-10.json", CREDENTIALS / "tariff-weekend-offpeak-fuelmix.json", "--json")
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert doc["customer_class"] == "business" and doc["months"][0]["ccl_pence_per_kwh"] == "0.77500"
    total = sum(float(m["total_pence_inc_vat"]) for m in doc["months"])
    assert abs(total - float(doc["total_pence_inc_vat"])) < 1e-6


def test_cost_refuses_mismatched_or_malformed_inputs(perseus_cli: Run, tmp_path: Path) -> None:
    consumption, _ = _june_business(tmp_path)
    export = perseus_cli("cost", consumption, CREDENTIALS / "tariff-export-seg.json")
    assert export.code == 2 and "the tariff is for electricity export" in export.err
    not_consumption = perseus_cli("cost", CREDENTIALS / "tariff-economy7.json", CREDENTIALS / "tariff-economy7.json")
    assert not_consumption.code == 2 and "not an EnergyConsumptionCredential" in not_consumption.err
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{", encoding="utf-8")
    assert perseus_cli("cost", consumption, garbage).code == 2
    register_only = perseus_cli("cost", CREDENTIALS / "gas-register-m3-2023-10.json", INPUTS / "tariff_weekend_offpeak_fuelmix.json")
    assert register_only.code == 2 and "no interval readings" in register_only.err


def test_build_tariff_needs_a_customer_class_for_an_import_tariff(perseus_cli: Run, tmp_path: Path) -> None:
    doc = json.loads((INPUTS / "tariff_economy7_octopus.json").read_text(encoding="utf-8"))
    doc.pop("customer_class")
    path = tmp_path / "e7.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    refused = perseus_cli("build", "tariff", path, "--issuer", "did:example:supplier")
    assert refused.code == 2 and "--customer-class business|domestic" in refused.err
    built = perseus_cli("build", "tariff", path, "--issuer", "did:example:supplier", "--customer-class", "domestic")
    assert built.code == 0, built.err
    subject = json.loads(built.out)["credentialSubject"]
    assert subject["customerClass"] == "domestic" and {r["timeOfUse"]["timeBasis"] for r in subject["unitRates"]} == {"local"}


def test_build_tariff_states_an_accepted_partial_response(perseus_cli: Run, tmp_path: Path) -> None:
    doc = json.loads((INPUTS / "tariff_economy7_octopus.json").read_text(encoding="utf-8"))
    doc["day_unit_rates"]["next"] = "https://supplier.example/page2"
    path = tmp_path / "e7.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert perseus_cli("build", "tariff", path, "--issuer", "did:example:supplier").code == 2
    built = perseus_cli("build", "tariff", path, "--issuer", "did:example:supplier", "--accept-partial")
    assert built.code == 0, built.err
    assert "page2" in json.loads(built.out)["credentialSubject"]["partialResponse"]
