"""Exact unit handling: parsing decimals and converting between energy units and gas volumes.

Energy conversions (Wh, kWh, MWh) are SI definitions and exact. Gas volume conversions use the
imperial factor from ``data/gas_conversion.json``. Nothing here ever goes through a float, because a
float cannot hold 0.1 kWh and a credential's totals must re-add exactly.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from .errors import InputDataError, UnknownUnitError
from .model import EnergyUnit

__all__ = ["parse_decimal", "to_kwh", "to_m3", "kwh_factor"]

_KWH_PER = {EnergyUnit.KWH: Decimal(1), EnergyUnit.WHR: Decimal("0.001"), EnergyUnit.MWH: Decimal(1000)}


_MAX_EXPONENT = 15


def parse_decimal(text: object, location: str | None = None) -> Decimal:
    """A finite Decimal from a string, int or Decimal; floats are refused (they are already inexact).

    JSON inputs are parsed with ``parse_float=Decimal`` so numbers arrive here as Decimals, exactly as
    written in the file.
    """
    if isinstance(text, Decimal):
        value = text
    elif isinstance(text, bool):
        raise InputDataError(f"expected a number, got {text!r}", location=location)
    elif isinstance(text, int):
        value = Decimal(text)
    elif isinstance(text, str):
        try:
            value = Decimal(text.strip())
        except InvalidOperation:
            raise InputDataError(f"not a number: {text!r}", location=location) from None
    elif isinstance(text, float):
        raise InputDataError("a binary float cannot carry an exact energy or money value; parse JSON with Decimal", location=location)
    else:
        raise InputDataError(f"expected a number, got {type(text).__name__}", location=location)
    if not value.is_finite():
        raise InputDataError(f"not a finite number: {text!r}", location=location)
    if value and value.adjusted() > _MAX_EXPONENT:
        # No reading, register, price or factor comes near 10^15; such a number would only overflow
        # the exact arithmetic's precision further on (decimal.InvalidOperation, a traceback).
        raise InputDataError(f"the number {str(value)[:20]}… is too large to be an energy value, price or factor", location=location)
    return value


def kwh_factor(unit: EnergyUnit) -> Decimal:
    """kWh per unit for an energy unit; `UnknownUnitError` for a gas volume (which needs a CV)."""
    try:
        return _KWH_PER[unit]
    except KeyError:
        raise UnknownUnitError(
            f"{unit.value} is a gas volume: converting it to kWh needs a calorific value (use perseus.issuer.energy.gas)"
        ) from None


def to_kwh(value: Decimal, unit: EnergyUnit) -> Decimal:
    """Energy in kWh, exactly (Wh → kWh moves the decimal point; no rounding)."""
    return value * kwh_factor(unit)


def to_m3(value: Decimal, unit: EnergyUnit, hcf: Decimal | None = None) -> Decimal:
    """A gas volume in cubic metres, exactly.

    ``hcf`` is the m³ in one hundred cubic feet: by default the bill convention 2.83 from the data file
    (``imperial_m3_per_hundred_cubic_feet``); give the exact 2.8316846592 to follow physics instead.
    A thousand cubic feet (FC) is ten hundreds; a cubic foot (FTQ) a hundredth.
    """
    from .factors import gas_constants

    if unit is EnergyUnit.MTQ:
        return value
    if hcf is None:
        hcf = gas_constants()["imperial_m3_per_hundred_cubic_feet"].value
    if unit is EnergyUnit.HH:
        return value * hcf
    if unit is EnergyUnit.FC:
        return value * hcf * 10
    if unit is EnergyUnit.FTQ:
        return value * hcf / 100
    raise UnknownUnitError(f"{unit.value} is not a gas volume unit (expected MTQ, HH, FC or FTQ)")
