"""Reconciliation tolerances, emissions method, and the data files behind the factors."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from importlib import resources
from zoneinfo import ZoneInfo

import pytest

from perseus.issuer.energy import FactorNotFoundError, InputDataError, PeriodError
from perseus.issuer.energy.consumption import build_consumption
from perseus.issuer.energy.emissions import calculate, reporting_year
from perseus.issuer.energy.factors import emission_factor, emission_factors
from perseus.issuer.energy.model import EmissionsInput, FuelMix, IntervalReading, RegisterBaseline, RegisterRead, RegisterSeries
from perseus.issuer.energy.mpan import supply_point
from perseus.issuer.energy.reconcile import reconcile, reconcile_series

UTC = timezone.utc
LONDON = ZoneInfo("Europe/London")


def test_reconcile_says_which_rule_decided() -> None:
    assert reconcile(Decimal("100.4"), Decimal(100)).decided_by == "absolute"
    r = reconcile(Decimal("1008"), Decimal(1000))
    assert r.decided_by == "relative" and r.within_tolerance and r.difference == 8
    bad = reconcile(Decimal("1020"), Decimal(1000))
    assert not bad.within_tolerance and bad.decided_by is None
    assert "1 KWH" in bad.rule and "0.01" in bad.rule
    assert reconcile(Decimal("1020"), Decimal(1000), rel_tolerance=Decimal("0.05")).within_tolerance


def test_reconcile_series_sums_intervals_between_reads() -> None:
    t0 = datetime(2023, 3, 1, tzinfo=UTC)
    readings = [IntervalReading(t0 + k * timedelta(minutes=30), t0 + (k + 1) * timedelta(minutes=30), Decimal("0.5")) for k in range(96)]
    series = RegisterSeries(RegisterBaseline(RegisterRead(t0, Decimal(99_990)), 5),
                            (RegisterRead(t0 + timedelta(days=1), Decimal(14)),))
    r = reconcile_series(readings, series)
    assert (r.interval_total, r.register_delta) == (Decimal(24), Decimal(24)) and r.within_tolerance
    late = RegisterSeries(series.baseline, (RegisterRead(t0 + timedelta(days=1, minutes=10), Decimal(14)),))
    with pytest.raises(InputDataError, match="straddles"):
        reconcile_series(readings, late)


def test_reporting_year_follows_desnz_guidance() -> None:
    assert reporting_year(date(2023, 1, 1), date(2024, 1, 1)) == 2023
    assert reporting_year(date(2023, 4, 1), date(2024, 4, 1)) == 2023  # 9 months in 2023
    assert reporting_year(date(2023, 7, 1), date(2024, 7, 1)) == 2024  # 6/6 tie: the later year


def test_location_and_market_based() -> None:
    elec = EmissionsInput("electricity", Decimal(10000), date(2023, 1, 1), date(2024, 1, 1), credential_id="urn:e")
    gas = EmissionsInput("gas", Decimal(20000), date(2023, 1, 1), date(2024, 1, 1), credential_id="urn:g")
    e_factor, g_factor = emission_factor("electricity", 2023).value, emission_factor("gas", 2023).value
    result = calculate([elec, gas])
    assert result.location_based_kg == Decimal(10000) * e_factor + Decimal(20000) * g_factor
    assert result.market_based_kg is None  # no fuel mix: no market-based figure rather than a partial one
    shares = {"coal": Decimal(2), "natural_gas": Decimal(38), "nuclear": Decimal(15), "renewables": Decimal(42), "other": Decimal(3)}
    stale = FuelMix(date(2022, 4, 1), date(2023, 4, 1), shares, Decimal(150))
    with pytest.raises(PeriodError, match="fuel-mix disclosure covers 2022-04-01 to 2023-04-01"):
        calculate([elec, gas], fuel_mix=stale)
    mix = FuelMix(date(2023, 1, 1), date(2024, 1, 1), shares, Decimal(150))  # illustrative: covers the whole period
    with_mix = calculate([elec, gas], fuel_mix=mix)
    assert with_mix.market_based_kg == Decimal(1500) + Decimal(20000) * g_factor
    # Scope 1 and Scope 2 apart, by hand: Scope 2 market = 10,000 kWh x 150 g / 1000 = 1,500 kg; Scope 1 = gas only.
    assert with_mix.scope2_market_based_kg == Decimal(1500)
    assert with_mix.scope1_kg == (Decimal(20000) * g_factor).quantize(Decimal("0.001"))
    assert with_mix.scope2_location_based_kg == (Decimal(10000) * e_factor).quantize(Decimal("0.001"))
    assert {f.scope for f in with_mix.factors_used} == {"scope2-location-based", "scope1", "scope2-market-based"}
    assert all(f.source.startswith("https://") for f in with_mix.factors_used[:2])


def test_whole_months_only() -> None:
    with pytest.raises(PeriodError, match="whole calendar months"):
        calculate([EmissionsInput("electricity", Decimal(1), date(2023, 1, 2), date(2023, 2, 1))])
    with pytest.raises(PeriodError):
        calculate([EmissionsInput("electricity", Decimal(1), date(2023, 1, 1), date(2023, 2, 1)),
                   EmissionsInput("gas", Decimal(1), date(2023, 1, 1), date(2023, 3, 1))])


def test_consumption_data_feeds_emissions_and_export_is_refused() -> None:
    start = datetime(2023, 2, 1, tzinfo=LONDON).astimezone(UTC)
    readings = [IntervalReading(start + k * timedelta(minutes=30), start + (k + 1) * timedelta(minutes=30), Decimal(1)) for k in range(28 * 48)]
    data = build_consumption(supply_point("1200123456787", "electricity"), "acct", intervals=readings)
    assert calculate([data]).location_based_kg == (Decimal(1344) * emission_factor("electricity", 2023).value).quantize(Decimal("0.001"))
    export = build_consumption(supply_point("1200123456796", "electricity", "export"), "acct", intervals=readings)
    with pytest.raises(InputDataError, match="export"):
        calculate([export])


def test_missing_factor_year_is_a_range_error() -> None:
    with pytest.raises(FactorNotFoundError) as info:
        emission_factor("electricity", 1999)
    assert info.value.code == "RANGE_ERROR" and "2023" in info.value.message


def test_every_figure_in_the_data_files_has_a_source_and_year() -> None:
    files = resources.files("perseus.issuer.energy").joinpath("data")
    for name in ("emission_factors.json", "gas_conversion.json", "calorific_values.json", "gsp_groups.json"):
        doc = json.loads(files.joinpath(name).read_text())
        assert doc, name
    factors = emission_factors()
    assert {(fuel, f.year) for fuel, f in factors} >= {("electricity", 2023), ("electricity", 2024), ("electricity", 2025), ("gas", 2023)}
    for fuel, f in factors:
        assert f.source.startswith("https://www.gov.uk/") and f.caveat, (fuel, f.year)
    # DOMAIN.md's electricity figures are recorded as given, with the third-party caveat.
    assert emission_factor("electricity", 2025).value == Decimal("0.17700")
    assert "third-party" in (emission_factor("electricity", 2024).caveat or "")
