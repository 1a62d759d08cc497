"""Assemble a checked `ConsumptionData` from readings: the one call a credential builder needs.

It runs every check and calculation the credential will state — interval order and overlaps, local
daily/monthly totals and completeness, register consumption with rollover/corrections/exchanges, the
gas volume → kWh conversion — so that a credential is only ever built from data that adds up.
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from . import gas
from .errors import InputDataError
from .factors import CalorificValue, calorific_value, kwh_rounding
from .intervals import summarise
from .model import ConsumptionData, IntervalReading, RegisterSeries, SupplyPoint
from .registers import consumption as register_consumption
from .units import to_kwh

__all__ = ["build_consumption"]


def _gas_round(value: Decimal) -> Decimal:
    places, mode, _ = kwh_rounding()
    return value.quantize(Decimal(1).scaleb(-places), rounding=getattr(decimal, mode))


def build_consumption(
    supply_point: SupplyPoint,
    account: str,
    *,
    intervals: Sequence[IntervalReading] = (),
    register_series: RegisterSeries | None = None,
    period_start: datetime | None = None,
    period_end: datetime | None = None,
    timezone: str = "Europe/London",
    cv: CalorificValue | None = None,
    correction_factor: Decimal | None = None,
    correction_factor_source: str | None = None,
    max_kw: Decimal | None = None,
    hcf: Decimal | None = None,
) -> ConsumptionData:
    """Check and total the readings for one supply point.

    Gas volumes (MTQ, HH, FC, FTQ) are converted with ``cv`` (the billed CV, preferred) or the indicative CV
    for the period from the data file; the CV's period must cover the consumption period, and the CV is
    truncated to 0.1 MJ/m³ (reg. 3(2)). ``hcf`` is the m³ per hundred cubic feet for imperial meters (default
    the bill's 2.83; see `gas.imperial_factor`).
    """
    if not intervals and register_series is None:
        raise InputDataError("consumption needs interval readings, register reads, or both", location="intervals")
    zone = ZoneInfo(timezone)
    volume_units = {r.unit for r in intervals if r.unit.is_volume}
    if register_series is not None and register_series.unit.is_volume:
        volume_units.add(register_series.unit)
    if volume_units and supply_point.fuel != "gas":
        raise InputDataError(f"{supply_point.fuel} readings cannot be gas volumes ({', '.join(sorted(u.value for u in volume_units))})", location="unit")

    reg = register_consumption(register_series, max_kw=max_kw) if register_series is not None else None
    if period_start is None and not intervals and reg is not None:
        period_start = reg.first.at
    if period_end is None and not intervals and reg is not None:
        period_end = reg.last.at

    summary = None
    gas_cv = cv
    if volume_units and gas_cv is None:
        start_for_cv = period_start or min(r.start for r in intervals)
        gas_cv = calorific_value(start_for_cv.astimezone(zone).date())
    if gas_cv is not None and gas_cv.value_mj_per_m3 > 0:
        gas_cv = gas.truncate_cv(gas_cv)[0] if cv is None else gas_cv  # a given CV is truncated (and stated) by gas.convert
    if intervals:
        cv_for_totals = gas.truncate_cv(gas_cv)[0] if gas_cv is not None and gas_cv.value_mj_per_m3 > 0 else gas_cv
        to_kwh_fn = gas.kwh_converter(cv_for_totals.value_mj_per_m3, correction_factor, hcf) if cv_for_totals is not None and volume_units else None
        summary = summarise(
            intervals,
            period_start=period_start,
            period_end=period_end,
            tz=timezone,
            to_kwh=to_kwh_fn,
            round_total=_gas_round if to_kwh_fn is not None else None,
        )
        period_start, period_end = summary.period_start, summary.period_end
    assert period_start is not None and period_end is not None

    if gas_cv is not None:
        p_start = period_start.astimezone(zone).date()
        p_end = period_end.astimezone(zone).date()
        if p_start < gas_cv.period_start or p_end > gas_cv.period_end:
            raise InputDataError(
                f"the calorific value covers {gas_cv.period_start} to {gas_cv.period_end} but the consumption runs "
                f"{p_start} to {p_end}; pass the billed average CV for the whole period",
                location="calorific_value",
            )

    conversion = None
    if volume_units:
        if len(volume_units) > 1:
            raise InputDataError(f"mixed gas volume units {sorted(u.value for u in volume_units)}", location="unit")
        (vunit,) = volume_units
        if summary is not None:
            volume = sum((r.value for r in summary.readings if r.quality != "missing"), Decimal(0))
        else:
            assert reg is not None
            volume = reg.total
        conversion = gas.convert(volume, vunit, cv=gas_cv, correction_factor=correction_factor,
                                 correction_factor_source=correction_factor_source, hcf=hcf)

    if summary is not None:
        total_kwh = conversion.kwh if conversion is not None else summary.total_kwh
    elif conversion is not None:
        total_kwh = conversion.kwh
    else:
        assert reg is not None
        total_kwh = to_kwh(reg.total, reg.unit)

    return ConsumptionData(
        supply_point=supply_point,
        account=account,
        period_start=period_start,
        period_end=period_end,
        timezone=timezone,
        intervals=summary.readings if summary is not None else (),
        register_series=register_series,
        register_consumption=reg,
        gas_conversion=conversion,
        daily_totals=summary.daily if summary is not None else (),
        monthly_totals=summary.monthly if summary is not None else (),
        total_kwh=total_kwh,
        completeness=summary.completeness if summary is not None else None,
    )

