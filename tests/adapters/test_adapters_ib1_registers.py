"""IB1 Perseus consumption API responses and register-read files."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from perseus.issuer.adapters import load_register_reads, parse_ib1_consumption, read_long
from perseus.issuer.energy import CheckDigitError, EnergyUnit, InputDataError, RegisterDeltaError, UnknownUnitError
from perseus.issuer.energy.consumption import build_consumption
from perseus.issuer.energy.mpan import supply_point

INPUTS = Path(__file__).resolve().parents[2] / "examples" / "inputs"
LONDON = ZoneInfo("Europe/London")


def sample() -> dict:
    return json.loads((INPUTS / "ib1_consumption_electricity_2023-10.json").read_text())


def test_ib1_sample_matches_the_csv_month() -> None:
    response = parse_ib1_consumption(INPUTS / "ib1_consumption_electricity_2023-10.json")
    assert response.fuel == "electricity" and response.postcode_outcode == "SE1"
    assert len(response.readings) == 31 * 48 + 2  # October 2023 has the 25-hour day
    assert {r.unit for r in response.readings} == {EnergyUnit.WHR}
    csv_month = [r for r in read_long(INPUTS / "electricity_import_2023_long.csv")
                 if datetime(2023, 10, 1, tzinfo=LONDON) <= r.start < datetime(2023, 11, 1, tzinfo=LONDON)]
    ib1 = build_consumption(supply_point("1200123456787", "electricity"), "acct", intervals=response.readings)
    csv = build_consumption(supply_point("1200123456787", "electricity"), "acct", intervals=csv_month)
    assert ib1.total_kwh == csv.total_kwh  # Wh -> kWh is exact
    # Cumulative register values advance by exactly the interval energy.
    first, last = response.cumulative[0][0], response.cumulative[-1][0]
    assert last.value - first.value == sum(r.value for r in response.readings[1:] if r.quality != "missing")


def test_ib1_errors_name_the_json_path() -> None:
    doc = sample()
    doc["data"][7]["energy"]["unitCode"] = "BTU"
    with pytest.raises(UnknownUnitError) as info:
        parse_ib1_consumption(doc)
    assert info.value.location == "data[7].energy.unitCode"
    doc = sample()
    doc["data"][3]["to"] = doc["data"][3]["from"]
    with pytest.raises(InputDataError) as info2:
        parse_ib1_consumption(doc)
    assert info2.value.location == "data[3].to"
    doc = sample()
    doc["data"][5] = copy.deepcopy(doc["data"][4])
    with pytest.raises(InputDataError) as info3:
        parse_ib1_consumption(doc)
    assert info3.value.location == "data[5]" and "overlaps data[4]" in info3.value.message
    doc = sample()
    doc["data"][0]["from"] = "2023-10-01T00:00:00"
    with pytest.raises(InputDataError, match="offset"):
        parse_ib1_consumption(doc)
    with pytest.raises(InputDataError):
        parse_ib1_consumption(b"{not json")


def test_ib1_numbers_are_exact_decimals() -> None:
    doc = json.dumps({"data": [{"type": "Gas", "from": "2023-10-01T00:00:00Z", "to": "2023-10-01T00:30:00Z",
                                "energy": {"value": 0.1, "unitCode": "MTQ"}}]}).encode()
    response = parse_ib1_consumption(doc, accept_nonconforming=True)  # no takenAt, no cumulative: not the IB1 schema
    (reading,) = response.readings
    assert reading.value == Decimal("0.1") and reading.unit == EnergyUnit.MTQ
    assert len(response.nonconforming) == 2 and len(response.extensions) == 2


def test_gas_register_samples() -> None:
    metric = load_register_reads(INPUTS / "gas_register_reads_m3.json")
    data = build_consumption(metric.supply_point, metric.account, register_series=metric.series, cv=metric.calorific_value)
    rc = data.register_consumption
    assert any(d.rolled_over for d in rc.deltas) and [r.kind for r in rc.superseded] == ["estimated"]
    assert data.gas_conversion.volume == rc.total and data.gas_conversion.volume_unit == EnergyUnit.MTQ
    imperial = load_register_reads(INPUTS / "gas_register_reads_hcf.json")
    data2 = build_consumption(imperial.supply_point, imperial.account, register_series=imperial.series, cv=imperial.calorific_value)
    assert data2.gas_conversion.volume_unit == EnergyUnit.HH and data2.gas_conversion.imperial_factor_m3 == Decimal("2.83")  # the bill factor, stated
    assert {d.meter for d in data2.register_consumption.deltas} == {0, 1}  # the meter exchange


def test_register_file_errors() -> None:
    doc = json.loads((INPUTS / "gas_register_reads_m3.json").read_text())
    bad = copy.deepcopy(doc)
    bad["meter"]["mprn"] = "7418529605"
    with pytest.raises(CheckDigitError):
        load_register_reads(bad)
    bad = copy.deepcopy(doc)
    bad["reads"][1]["value"] = str(Decimal(bad["reads"][0]["value"]) - 1000)  # backwards; a "rollover" would be 99,000 m3
    with pytest.raises(RegisterDeltaError, match="went backwards"):
        load_register_reads(bad)
    bad = copy.deepcopy(doc)
    bad["unit"] = "THERM"
    with pytest.raises(UnknownUnitError):
        load_register_reads(bad)


from datetime import timedelta, timezone  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.none(), st.decimals(0, 10**6, places=4)), min_size=1, max_size=100),
       st.sampled_from(["KWH", "WHR", "MTQ"]), st.integers(0, 20_000))
def test_ib1_round_trip(values, unit, offset) -> None:  # type: ignore[no-untyped-def]
    t0 = datetime(2023, 1, 1, tzinfo=timezone.utc) + offset * timedelta(minutes=30)
    half = timedelta(minutes=30)
    data = [{"type": "Gas" if unit == "MTQ" else "Electricity",
             "from": (t0 + k * half).isoformat(), "to": (t0 + (k + 1) * half).isoformat().replace("+00:00", "Z"),
             "energy": {"value": None if v is None else str(v), "unitCode": unit}} for k, v in enumerate(values)]
    response = parse_ib1_consumption(json.dumps({"data": data[::-1]}).encode(), accept_nonconforming=True)
    assert [r.value for r in response.readings] == [Decimal(0) if v is None else v for v in values]
    assert [r.quality for r in response.readings] == ["missing" if v is None else "actual" for v in values]
    assert {r.unit.value for r in response.readings} == {unit}
