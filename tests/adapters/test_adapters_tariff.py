"""Tariff JSON: the supplier product-API shape and the Perseus form."""

from __future__ import annotations

import copy
import json
from datetime import datetime, time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from perseus.issuer.adapters import load_tariff, parse_tariff
from perseus.issuer.energy import InputDataError
from perseus.issuer.energy.tariffs import rate_for

INPUTS = Path(__file__).resolve().parents[2] / "examples" / "inputs"
LONDON = ZoneInfo("Europe/London")


def doc(name: str) -> dict:
    return json.loads((INPUTS / name).read_text())


def test_agile_product_api() -> None:
    t = load_tariff(INPUTS / "tariff_agile_octopus_2023-10.json")
    assert t.dynamic and t.region == "C" and t.fuel == "electricity" and t.direction == "import"
    assert t.vat_rate == Decimal("0.05") and len(t.unit_rates) == 1490
    assert any(r.value_exc_vat < 0 for r in t.unit_rates)  # negative prices survive
    assert [s.value_exc_vat for s in t.standing_charges] == [Decimal("40.48")]  # NON_DIRECT_DEBIT dropped
    at = datetime(2023, 10, 29, 1, 30, tzinfo=ZoneInfo("UTC"))
    assert rate_for(t, at).valid_from == at


def test_economy7_needs_a_night_band() -> None:
    t = load_tariff(INPUTS / "tariff_economy7_octopus.json")
    assert rate_for(t, datetime(2023, 5, 1, 3, tzinfo=LONDON)).band == "night"
    assert rate_for(t, datetime(2023, 5, 1, 7, 30, tzinfo=LONDON)).band == "day"
    assert t.vat_rate == Decimal("0.05")  # implied by 33.18 / 31.60
    d = doc("tariff_economy7_octopus.json")
    del d["night_band"]
    with pytest.raises(InputDataError) as info:
        parse_tariff(d)
    assert info.value.location == "night_band"


def test_perseus_form_with_weekend_off_peak_and_fuel_mix() -> None:
    t = load_tariff(INPUTS / "tariff_weekend_offpeak_fuelmix.json")
    assert t.fuel_mix is not None and t.fuel_mix.co2_g_per_kwh == 172 and t.fuel_mix.rego_backed_share == 100
    assert sum(t.fuel_mix.shares.values()) == 100
    off_peak = next(r for r in t.unit_rates if r.band == "weekday-off-peak")
    assert off_peak.restrictions.start_time == time(23) and off_peak.restrictions.end_time == time(7)
    assert rate_for(t, datetime(2023, 7, 8, 12, tzinfo=LONDON)).band == "weekend"
    assert rate_for(t, datetime(2023, 7, 10, 2, tzinfo=LONDON)).band == "weekday-off-peak"


def test_export_tariffs() -> None:
    seg = load_tariff(INPUTS / "tariff_export_seg.json")
    assert seg.seg and seg.direction == "export" and seg.export_meter.measure == "export"
    tou = load_tariff(INPUTS / "tariff_export_tou.json")
    assert rate_for(tou, datetime(2023, 6, 1, 17, tzinfo=LONDON)).band == "export-evening-peak"
    bad = doc("tariff_export_seg.json")
    bad["unit_rates"][0]["value_exc_vat"] = "0"
    with pytest.raises(InputDataError, match="above 0"):
        parse_tariff(bad)


def test_errors_name_the_json_path() -> None:
    d = doc("tariff_weekend_offpeak_fuelmix.json")
    d["unit_rates"][2]["restrictions"]["days_of_week"] = ["SATURDAY", "FUNDAY"]
    with pytest.raises(InputDataError) as info:
        parse_tariff(d)
    assert info.value.location == "unit_rates[2].restrictions.days_of_week[1]"
    d = doc("tariff_weekend_offpeak_fuelmix.json")
    d["unit_rates"][0]["value_exc_vat"] = 29.8  # a float from a careless producer is refused
    with pytest.raises(InputDataError) as info2:
        parse_tariff(d)
    assert info2.value.location == "unit_rates[0].value_exc_vat"
    d = doc("tariff_weekend_offpeak_fuelmix.json")
    d["fuel_mix"]["shares"]["coal"] = "30"
    with pytest.raises(InputDataError, match="add up"):
        parse_tariff(d)
    d = doc("tariff_weekend_offpeak_fuelmix.json")
    d["region"] = "I"
    with pytest.raises(InputDataError, match="GSP"):
        parse_tariff(d)
    d = doc("tariff_agile_octopus_2023-10.json")
    del d["vat_rate"]
    d["standard_unit_rates"]["results"][0]["value_inc_vat"] = "99"
    with pytest.raises(InputDataError, match="VAT"):
        parse_tariff(d)


def test_ocpi_energy_mix_maps_onto_fuel_mix_disclosure() -> None:
    d = doc("tariff_weekend_offpeak_fuelmix.json")
    d["fuel_mix"] = {
        "period_start": "2022-04-01", "period_end": "2023-04-01",
        "energy_sources": [{"source": "WIND", "percentage": 30}, {"source": "SOLAR", "percentage": 10}, {"source": "GAS", "percentage": 45},
                           {"source": "NUCLEAR", "percentage": 15}],
        "environ_impact": [{"category": "CARBON_DIOXIDE", "amount": 180}, {"category": "NUCLEAR_WASTE", "amount": "0.001"}],
    }
    mix = parse_tariff(d).fuel_mix
    assert mix.shares == {"renewables": 40, "natural_gas": 45, "nuclear": 15}
    assert mix.co2_g_per_kwh == 180 and mix.radioactive_waste_g_per_kwh == Decimal("0.001")
    copy.deepcopy(mix)
