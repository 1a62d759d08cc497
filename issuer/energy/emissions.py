"""Emissions from metered energy by annual DESNZ factors: location-based and, with a fuel mix, market-based.

This is NOT the IB1 Perseus method (half-hourly regional intensity for electricity, m³ × the per-m³ factor
for gas: see `intensity` and `perseus.issuer.credentials.emissions`); a report made with it must not claim
the Perseus emissions standard. Scope 1 (gas) and Scope 2 (electricity) are also returned apart
(``scope1_kg``, ``scope2_location_based_kg``, ``scope2_market_based_kg``).

Method (GHG Protocol Scope 2 guidance; DESNZ conversion factors):

* **Location-based**: electricity kWh × the DESNZ UK electricity factor for the reporting year
  (Scope 2); gas kWh (gross CV, as billed) × the DESNZ natural-gas factor (Scope 1).
* **Market-based**: electricity kWh × the supplier's fuel-mix CO₂ intensity (g/kWh ÷ 1000) from the
  tariff's Fuel Mix Disclosure; gas is the same as location-based (gas has no contractual instrument
  here). Reported only when every electricity input has a fuel mix — otherwise a partial figure would
  look complete. Note that Fuel Mix Disclosure states CO₂, not CO₂e.
* **Reporting year**: DESNZ guidance — the calendar year in which the period falls or, when it spans
  two, the year holding more of its months (a tie goes to the later year, whose factors are newer).
* **Whole calendar months only**: the period must run from the first of a month to the first of a
  later month, and every input must cover exactly that period; partial months make month-on-month
  comparisons and the IB1 monthly emissions items meaningless.
* **Exported electricity is not netted off** (GHG Protocol): export inputs are refused.

Results are kgCO₂e rounded to 3 dp (ROUND_HALF_EVEN) once per input; totals are sums of those.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo

from .errors import InputDataError, PeriodError
from .factors import emission_factor
from .model import ConsumptionData, EmissionsInput, EmissionsResult, Factor, FuelMix

__all__ = ["calculate", "input_from_consumption", "reporting_year", "whole_months", "ROUNDING_RULE", "METHOD"]

ROUNDING_RULE = "kgCO2e per input rounded to 3 dp, ROUND_HALF_EVEN; totals are sums of the rounded inputs"
METHOD = (
    "Annual DESNZ factors (not the IB1 Perseus method). GHG Protocol Scope 2 dual reporting: location-based = kWh x DESNZ factor for the reporting year "
    "(electricity Scope 2, natural gas Scope 1, gross CV); market-based = electricity kWh x supplier fuel-mix "
    "CO2 g/kWh / 1000, gas as location-based"
)
_KG = Decimal("0.001")


def whole_months(start: date, end: date) -> int:
    """Number of calendar months in [start, end), or `PeriodError` if either end is not a 1st."""
    if start.day != 1 or end.day != 1:
        raise PeriodError(
            f"emissions are reported for whole calendar months: the period must run from the 1st of a month to the 1st "
            f"of a later month, got {start.isoformat()} to {end.isoformat()}",
            location="period",
        )
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if months <= 0:
        raise PeriodError("the period ends before it starts", location="period")
    return months


def reporting_year(start: date, end: date) -> int:
    """The DESNZ factor year for [start, end): the calendar year with most of the months (ties → later)."""
    whole_months(start, end)
    counts: dict[int, int] = {}
    y, m = start.year, start.month
    while (y, m) < (end.year, end.month):
        counts[y] = counts.get(y, 0) + 1
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return max(counts, key=lambda year: (counts[year], year))


def _local_date(instant: datetime, tz: str, name: str) -> date:
    local = instant.astimezone(ZoneInfo(tz))
    if (local.hour, local.minute, local.second, local.microsecond) != (0, 0, 0, 0):
        raise PeriodError(f"{name} {local.isoformat()} is not a local midnight; emissions need whole months", location=name)
    return local.date()


def input_from_consumption(data: ConsumptionData, *, credential_id: str | None = None) -> EmissionsInput:
    """The emissions input a consumption record gives: its fuel, kWh and (whole-month) period."""
    if data.supply_point.measure != "import":
        raise InputDataError(
            f"supply point {data.supply_point.identifier} is an export meter; exported electricity is not netted off emissions",
            location="supply_point.measure",
        )
    if data.total_kwh is None:
        raise InputDataError("the consumption record has no kWh total", location="total_kwh")
    start = _local_date(data.period_start, data.timezone, "period_start")
    end = _local_date(data.period_end, data.timezone, "period_end")
    whole_months(start, end)
    return EmissionsInput(
        fuel=data.supply_point.fuel,
        kwh=data.total_kwh,
        period_start=start,
        period_end=end,
        supply_point=data.supply_point.identifier,
        credential_id=credential_id,
    )


def calculate(
    inputs: Sequence[EmissionsInput | ConsumptionData],
    *,
    fuel_mix: FuelMix | None = None,
    year: int | None = None,
) -> EmissionsResult:
    """Location-based (and, with ``fuel_mix``, market-based) emissions for whole calendar months."""
    if not inputs:
        raise InputDataError("no consumption inputs", location="inputs")
    items = [i if isinstance(i, EmissionsInput) else input_from_consumption(i) for i in inputs]
    start, end = items[0].period_start, items[0].period_end
    whole_months(start, end)
    for k, item in enumerate(items):
        if (item.period_start, item.period_end) != (start, end):
            raise PeriodError(
                f"input {k} covers {item.period_start} to {item.period_end}, not the report period {start} to {end}",
                location=f"inputs[{k}]",
            )
        if item.kwh < 0:
            raise InputDataError("consumption cannot be negative", location=f"inputs[{k}].kwh")
    factor_year = year if year is not None else reporting_year(start, end)

    factors: dict[str, Factor] = {}
    out: list[EmissionsInput] = []
    location_total = Decimal(0)
    market_total: Decimal | None = Decimal(0)
    has_electricity = any(i.fuel == "electricity" for i in items)
    market_factor: Factor | None = None
    if fuel_mix is not None and has_electricity:
        if not fuel_mix.covers(start, end):
            raise PeriodError(
                f"the fuel-mix disclosure covers {fuel_mix.period_start} to {fuel_mix.period_end}, not the period {start} to {end}: "
                "market-based emissions need the disclosure for the consumption period",
                location="fuel_mix",
            )
        market_factor = fuel_mix.market_factor()
    for item in items:
        factor = factors.get(item.fuel) or emission_factor(item.fuel, factor_year)
        factors[item.fuel] = factor
        location = (item.kwh * factor.value).quantize(_KG, ROUND_HALF_EVEN)
        if item.fuel == "electricity":
            market = (item.kwh * market_factor.value).quantize(_KG, ROUND_HALF_EVEN) if market_factor else None
        else:
            market = location
        location_total += location
        if market is None:
            market_total = None
        elif market_total is not None:
            market_total += market
        out.append(
            EmissionsInput(item.fuel, item.kwh, item.period_start, item.period_end, item.supply_point, item.credential_id, location, market)
        )
    used = tuple(factors.values()) + ((market_factor,) if market_factor else ())
    scope1 = sum((i.location_based_kg for i in out if i.fuel == "gas"), Decimal(0))
    scope2 = sum((i.location_based_kg for i in out if i.fuel == "electricity"), Decimal(0))
    scope2_market = None
    if market_factor is not None:
        scope2_market = sum((i.market_based_kg or Decimal(0) for i in out if i.fuel == "electricity"), Decimal(0))
    return EmissionsResult(
        period_start=start,
        period_end=end,
        location_based_kg=location_total,
        market_based_kg=market_total if (market_factor or not has_electricity) else None,
        factors_used=used,
        method=METHOD,
        inputs=tuple(out),
        rounding=ROUNDING_RULE,
        scope1_kg=scope1,
        scope2_location_based_kg=scope2,
        scope2_market_based_kg=scope2_market,
    )
