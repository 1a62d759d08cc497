"""Turn one vendor's rows into checked `IntervalReading`s, naming the row that cannot be read.

Every vendor adapter (Octopus, Glowmarkt, n3rgy, OVO) ends the same way: a start, an end and a value per
row, in some unit, sorted by start. This module does that last step once, so that each adapter only says
where its fields are, and every error names ``<source> row N`` and the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from perseus.issuer.energy.errors import InputDataError
from perseus.issuer.energy.model import EnergyUnit, IntervalReading

__all__ = ["HALF_HOUR", "VendorReadings", "decimal_value", "finish", "stated_unit"]

Fuel = Literal["electricity", "gas"]


@dataclass(frozen=True)
class VendorReadings:
    """Readings from a vendor file; ``unit_stated`` says whether the file itself named the unit."""

    readings: tuple[IntervalReading, ...]
    unit_stated: bool
    fuel: Fuel | None = None


HALF_HOUR = timedelta(minutes=30)
# How vendor downloads spell their units (case and spaces ignored).
_VENDOR_UNITS = {"kwh": EnergyUnit.KWH, "wh": EnergyUnit.WHR, "m3": EnergyUnit.MTQ, "m³": EnergyUnit.MTQ}


def stated_unit(stated: Any, location: str) -> EnergyUnit | None:
    """The unit a download states (None when it states none); an unknown one is an error naming where."""
    if stated is None:
        return None
    unit = _VENDOR_UNITS.get(str(stated).strip().lower())
    if unit is None:
        raise InputDataError(f"unknown unit {stated!r} (expected kWh or m3)", location=location)
    return unit


def decimal_value(value: Any, location: str) -> Decimal:
    """A reading value, exactly: JSON numbers arrive as Decimal (load_json), CSV text as text (``0E-20`` is 0)."""
    if isinstance(value, bool) or value is None:
        raise InputDataError(f"expected a number, got {value!r}", location=location)
    if isinstance(value, float):  # never produced by load_json; guard a caller passing parsed JSON
        value = repr(value)
    try:
        out = Decimal(str(value).strip())
    except InvalidOperation:
        raise InputDataError(f"not a number: {value!r}", location=location) from None
    if not out.is_finite():
        raise InputDataError(f"not a finite number: {value!r}", location=location)
    if out == 0:
        return Decimal(0)  # 0E-20 (Octopus CSV) is written as 0
    if out < 0:
        raise InputDataError(f"a consumption reading cannot be negative ({value})", location=location)
    return out


def finish(rows: list[tuple[datetime, datetime, Decimal, str]], unit: EnergyUnit) -> tuple[IntervalReading, ...]:
    """Readings sorted by start (vendors send newest first, or in any order); each row's location on error."""
    out: list[IntervalReading] = []
    for start, end, value, location in rows:
        try:
            out.append(IntervalReading(start, end, value, unit, "actual"))
        except InputDataError as exc:
            raise exc.at(location) from None
    out.sort(key=lambda r: r.start)
    return tuple(out)
