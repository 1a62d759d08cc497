"""Reconciliation: does the sum of interval readings agree with the register's advance?

They rarely agree exactly — registers show whole units, intervals carry decimals, and a register read
is taken at some moment inside a half-hour — so the check has a stated tolerance and the result says
which rule decided it. The check passes when

    |interval_total − register_delta| <= abs_tolerance            (decided_by = "absolute"), or
    |interval_total − register_delta| <= rel_tolerance × |register_delta|   (decided_by = "relative").

Defaults: one register unit absolute (the register's resolution) and 1 % relative. They are arguments,
not data, because they are policy for the recipient to choose, not published facts.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from .errors import InputDataError
from .model import EnergyUnit, IntervalReading, Reconciliation, RegisterSeries
from .registers import consumption
from .units import kwh_factor

__all__ = ["reconcile", "reconcile_series", "DEFAULT_ABS_TOLERANCE", "DEFAULT_REL_TOLERANCE"]

DEFAULT_ABS_TOLERANCE = Decimal(1)
DEFAULT_REL_TOLERANCE = Decimal("0.01")


def reconcile(
    interval_total: Decimal,
    register_delta: Decimal,
    unit: EnergyUnit = EnergyUnit.KWH,
    *,
    abs_tolerance: Decimal = DEFAULT_ABS_TOLERANCE,
    rel_tolerance: Decimal = DEFAULT_REL_TOLERANCE,
) -> Reconciliation:
    """Compare two totals in the same unit under the stated tolerances."""
    if abs_tolerance < 0 or rel_tolerance < 0:
        raise InputDataError("tolerances cannot be negative", location="tolerance")
    difference = interval_total - register_delta
    size = abs(difference)
    decided_by = None
    if size <= abs_tolerance:
        decided_by = "absolute"
    elif size <= rel_tolerance * abs(register_delta):
        decided_by = "relative"
    rule = (
        f"|interval total - register delta| <= {abs_tolerance} {unit.value} (absolute) "
        f"or <= {rel_tolerance} x register delta (relative)"
    )
    return Reconciliation(
        interval_total=interval_total,
        register_delta=register_delta,
        unit=unit,
        difference=difference,
        abs_tolerance=abs_tolerance,
        rel_tolerance=rel_tolerance,
        within_tolerance=decided_by is not None,
        decided_by=decided_by,  # type: ignore[arg-type]
        rule=rule,
    )


def reconcile_series(
    readings: Sequence[IntervalReading],
    series: RegisterSeries,
    *,
    abs_tolerance: Decimal = DEFAULT_ABS_TOLERANCE,
    rel_tolerance: Decimal = DEFAULT_REL_TOLERANCE,
) -> Reconciliation:
    """Sum the intervals between the series' first and last counted reads and compare with its consumption.

    Only intervals wholly inside [first read, last read) are summed; an interval straddling a read time
    is an error (we would have to guess how much of it fell before the read). Both sides must be energy
    in the same unit family: for gas, compare volumes (MTQ) or convert both first.
    """
    result = consumption(series)
    start, end = result.first.at, result.last.at
    unit = series.unit
    total = Decimal(0)
    for i, r in enumerate(readings):
        if r.end <= start or r.start >= end:
            continue
        if r.start < start or r.end > end:
            raise InputDataError(
                f"interval {r.start.isoformat()} to {r.end.isoformat()} straddles a register read time "
                f"({start.isoformat()} or {end.isoformat()})",
                location=f"reading {i}",
            )
        if r.quality == "missing":
            continue
        if r.unit == unit:
            total += r.value
        elif r.unit.is_energy and unit.is_energy:
            total += r.value * kwh_factor(r.unit) / kwh_factor(unit)
        else:
            raise InputDataError(
                f"interval unit {r.unit.value} cannot be compared with register unit {unit.value} without a conversion",
                location=f"reading {i}",
            )
    return reconcile(total, result.total, unit, abs_tolerance=abs_tolerance, rel_tolerance=rel_tolerance)
