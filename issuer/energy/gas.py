"""Gas volume → kWh, as the Gas (Calculation of Thermal Energy) Regulations 1996, reg. 3 require.

    kWh = volume_m3 × correction_factor × CV (MJ/m³) / 3.6

The volume correction factor (1.02264), the MJ-per-kWh divisor and the imperial factor (1 hcf = 2.83 m³,
as GB bills convert; the exact 2.8316846592 can be chosen) come from ``data/gas_conversion.json``; the CV is
the supplier's billed CV for the period when given, else an *indicative* value from
``data/calorific_values.json`` (stated as indicative, never credited to National Gas). The CV is truncated
to 0.1 MJ/m³ before use (reg. 3(2)); the result states the CV used and, if truncation changed it, the CV as
given. The arithmetic runs exactly
(60 significant digits) and the result is rounded once, to 3 dp half-to-even, and that rule is stated
in the result so a recipient can reproduce it to the last digit.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from .errors import InputDataError, UnknownUnitError
from dataclasses import replace

from .factors import CalorificValue, calorific_value, cv_truncation, gas_constants, kwh_rounding
from .model import EnergyUnit, GasConversion
from .units import to_m3

__all__ = ["convert", "kwh_exact", "kwh_converter", "rounding_rule", "truncate_cv", "imperial_factor"]

_PRECISION = 60


def rounding_rule() -> str:
    return kwh_rounding()[2]


def _quantum() -> tuple[Decimal, str]:
    places, mode, _ = kwh_rounding()
    return Decimal(1).scaleb(-places), getattr(decimal, mode)


def imperial_factor(choice: str = "bill") -> Decimal:
    """m³ per hundred cubic feet: ``bill`` (2.83, what GB bills use; the default) or ``exact`` (2.8316846592)."""
    key = {"bill": "imperial_m3_per_hundred_cubic_feet", "exact": "imperial_m3_per_hundred_cubic_feet_exact"}.get(choice)
    if key is None:
        raise InputDataError(f"the imperial factor is 'bill' (2.83) or 'exact' (2.8316846592), got {choice!r}", location="imperial_factor")
    return gas_constants()[key].value


def truncate_cv(cv: CalorificValue) -> tuple[CalorificValue, Decimal | None]:
    """The CV truncated to 0.1 MJ/m³ (reg. 3(2)), and the value as given when truncation changed it."""
    places, rule = cv_truncation()
    value = cv.value_mj_per_m3.quantize(Decimal(1).scaleb(-places), rounding=decimal.ROUND_DOWN)
    if value == cv.value_mj_per_m3:
        return cv, None
    return replace(cv, value_mj_per_m3=value, source=f"{cv.source}; {cv.value_mj_per_m3} MJ/m3 truncated to {value} ({rule})"), cv.value_mj_per_m3


def kwh_exact(
    volume: Decimal, unit: EnergyUnit, cv_mj_per_m3: Decimal, correction_factor: Decimal | None = None, hcf: Decimal | None = None
) -> Decimal:
    """kWh before rounding (60 significant digits); used when many intervals are summed before rounding."""
    if not unit.is_volume:
        raise UnknownUnitError(f"{unit.value} is not a gas volume unit (expected MTQ, HH, FC or FTQ)", location="volume_unit")
    constants = gas_constants()
    cf = constants["volume_correction_factor"].value if correction_factor is None else correction_factor
    with decimal.localcontext(prec=_PRECISION):
        return to_m3(volume, unit, hcf) * cf * cv_mj_per_m3 / constants["mj_per_kwh"].value


def kwh_converter(
    cv_mj_per_m3: Decimal, correction_factor: Decimal | None = None, hcf: Decimal | None = None
) -> Callable[[Decimal, EnergyUnit], Decimal]:
    """A ``(value, unit) -> kWh`` function for `intervals.totals` (energy units pass through exactly)."""
    from .units import to_kwh

    def convert_one(value: Decimal, unit: EnergyUnit) -> Decimal:
        if unit.is_energy:
            return to_kwh(value, unit)
        return kwh_exact(value, unit, cv_mj_per_m3, correction_factor, hcf)

    return convert_one


def convert(
    volume: Decimal,
    volume_unit: EnergyUnit,
    *,
    cv: CalorificValue | None = None,
    on: date | None = None,
    correction_factor: Decimal | None = None,
    correction_factor_source: str | None = None,
    hcf: Decimal | None = None,
) -> GasConversion:
    """Convert a gas volume to kWh and say exactly how.

    Give ``cv`` (the billed CV with its source and period) or ``on`` (a date: the indicative CV from the
    data file is used). ``correction_factor`` overrides the standard 1.02264 (then give its source).
    """
    if not isinstance(volume, Decimal) or not volume.is_finite():
        raise InputDataError(f"volume must be a finite Decimal, got {volume!r}", location="volume")
    if volume < 0:
        raise InputDataError(f"a gas volume cannot be negative, got {volume}", location="volume")
    if cv is None:
        if on is None:
            raise InputDataError("give the calorific value (cv=...) or the date it applies to (on=...)", location="cv")
        cv = calorific_value(on)
    if cv.value_mj_per_m3 <= 0:
        raise InputDataError(f"a calorific value must be positive, got {cv.value_mj_per_m3}", location="calorific_value")
    cv, as_given = truncate_cv(cv)
    if cv.value_mj_per_m3 <= 0:
        raise InputDataError(f"a calorific value truncated to 0.1 MJ/m3 must stay positive, got {as_given}", location="calorific_value")
    constants = gas_constants()
    if correction_factor is None:
        correction_factor = constants["volume_correction_factor"].value
        correction_factor_source = constants["volume_correction_factor"].source
    elif correction_factor <= 0:
        raise InputDataError(f"a correction factor must be positive, got {correction_factor}", location="correction_factor")
    elif not correction_factor_source:
        raise InputDataError("a non-standard correction factor needs its source", location="correction_factor_source")
    quantum, mode = _quantum()
    exact = kwh_exact(volume, volume_unit, cv.value_mj_per_m3, correction_factor, hcf)
    with decimal.localcontext(prec=_PRECISION):
        volume_m3 = to_m3(volume, volume_unit, hcf)
    kwh = exact.quantize(quantum, rounding=mode)
    imperial = None
    if volume_unit is not EnergyUnit.MTQ:
        with decimal.localcontext(prec=_PRECISION):
            imperial = to_m3(Decimal(1), volume_unit, hcf)
    return GasConversion(
        volume=volume,
        volume_unit=volume_unit,
        volume_m3=volume_m3,
        correction_factor=correction_factor,
        correction_factor_source=correction_factor_source or "",
        calorific_value_mj_per_m3=cv.value_mj_per_m3,
        cv_source=cv.source,
        cv_period_start=cv.period_start,
        cv_period_end=cv.period_end,
        kwh=kwh,
        rounding=rounding_rule(),
        imperial_factor_m3=imperial,
        cv_as_given=as_given,
    )
