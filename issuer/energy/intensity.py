"""Regional half-hourly grid carbon intensity, and the Perseus electricity method that uses it.

IB1's Carbon Accounting Provider guide (2026-03-12) permits one electricity calculation for a Perseus
emissions report: the sum over half-hours of the metered kWh × the NESO half-hourly *regional* carbon
intensity for the meter's postcode outcode. An annual national factor is a different method (see
`emissions`), so this module keeps the two apart.

Why the series is an object with a digest: the intensity figures are not ours, and a forecast can be
revised, so a report must say exactly which series it used. `IntensitySeries` keeps the file's SHA-256
with its source URL, region and period; a verifier holding the same file recomputes the figure to the
last digit with `electricity_kg` (the arithmetic is exact decimal: kWh × g/kWh, summed, ÷ 1000, rounded
once per month and input).

A half-hour of consumption without an intensity point is never priced at zero silently: it is refused
(`missing="refuse"`, the default) or left out and *stated* (`missing="state"`: the half-hours and their
kWh are counted in the result so the report can say so).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Literal

from .errors import InputDataError

__all__ = ["IntensityPoint", "IntensitySeries", "HalfHourlyEmissions", "electricity_kg", "MissingPolicy", "KG_QUANTUM"]

MissingPolicy = Literal["refuse", "state"]
KG_QUANTUM = Decimal("0.001")
_HALF_HOUR = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class IntensityPoint:
    """Grid carbon intensity (gCO2/kWh) for the half-hour ``[start, end)`` (UTC instants)."""

    start: datetime
    end: datetime
    g_per_kwh: Decimal


@dataclass(frozen=True, slots=True)
class IntensitySeries:
    """A recorded regional intensity series: the points and where they came from.

    ``sha256`` is the hex SHA-256 of the recorded file's bytes (as given to the adapter), so that a
    recipient can tell whether it holds the same file; ``basis`` is ``forecast`` for NESO regional data.
    """

    points: tuple[IntensityPoint, ...]
    region_id: int
    region_name: str
    postcode_outcode: str
    source_url: str
    sha256: str
    basis: str = "forecast"
    dno_region: str | None = None
    unit: str = "gCO2/kWh"

    def __post_init__(self) -> None:
        if not self.points:
            raise InputDataError("the intensity series has no half-hours", location="data")

    @property
    def period_start(self) -> datetime:
        return min(p.start for p in self.points)

    @property
    def period_end(self) -> datetime:
        return max(p.end for p in self.points)

    def by_start(self) -> dict[float, IntensityPoint]:
        """The points keyed by their start as POSIX seconds (instants compare exactly whatever the offset)."""
        return {p.start.timestamp(): p for p in self.points}


@dataclass(frozen=True, slots=True)
class HalfHourlyEmissions:
    """kgCO2 for some half-hours of consumption under a series; missing half-hours are counted, not hidden."""

    kwh: Decimal  # all the consumption offered, including half-hours without intensity
    kg_exact: Decimal  # Σ kWh × g/kWh ÷ 1000, unrounded
    kg: Decimal  # kg_exact rounded to 3 dp, half to even
    half_hours: int  # half-hours with consumption that were priced
    missing_half_hours: int  # half-hours with consumption and no intensity point (policy "state" only)
    missing_kwh: Decimal


def electricity_kg(
    readings: Iterable[tuple[datetime, datetime, Decimal]],
    series: IntensitySeries,
    *,
    missing: MissingPolicy = "refuse",
    where: str = "readings",
) -> HalfHourlyEmissions:
    """Σ over half-hours of kWh × regional intensity: the Perseus electricity method.

    ``readings`` are ``(start, end, kWh)`` for half-hours (each exactly 30 minutes; a reading marked
    missing is given with 0 kWh). Each is matched to the intensity point with the same start instant.
    """
    if missing not in ("refuse", "state"):
        raise InputDataError(f"missing-intensity policy must be 'refuse' or 'state', got {missing!r}", location="missing")
    points = series.by_start()
    total_kwh = Decimal(0)
    grams = Decimal(0)
    used = 0
    gaps = 0
    gap_kwh = Decimal(0)
    for k, (start, end, kwh) in enumerate(readings):
        if end - start != _HALF_HOUR:
            raise InputDataError(
                f"the Perseus electricity method needs half-hourly readings; reading {k} runs {start.isoformat()} to {end.isoformat()}",
                location=f"{where}[{k}]",
            )
        total_kwh += kwh
        point = points.get(start.timestamp())
        if point is None:
            if not kwh:
                continue
            if missing == "refuse":
                raise InputDataError(
                    f"no {series.region_name} carbon intensity for the half-hour starting {start.isoformat()} in the series "
                    f"({series.period_start.isoformat()} to {series.period_end.isoformat()}); record a series that covers "
                    "every half-hour, or allow missing half-hours to be left out and stated",
                    location=f"{where}[{k}]",
                )
            gaps += 1
            gap_kwh += kwh
            continue
        grams += kwh * point.g_per_kwh
        used += 1
    exact = grams / 1000
    return HalfHourlyEmissions(
        kwh=total_kwh,
        kg_exact=exact,
        kg=exact.quantize(KG_QUANTUM, ROUND_HALF_EVEN),
        half_hours=used,
        missing_half_hours=gaps,
        missing_kwh=gap_kwh,
    )
