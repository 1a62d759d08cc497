"""Interval readings → daily and monthly totals in local (Europe/London) time, with completeness.

Why local time: a business's "day" and "month" are civil ones, so the last Sunday of March has 46
half-hours and the last Sunday of October 50; a total that assumed 48 would put an hour of energy in
the wrong day. Day boundaries are computed with `zoneinfo`, then compared in UTC, so the clock change
needs no special case.

Rules (each violation is an error naming the reading's index in the input):

* intervals must not overlap (a duplicate counts as an overlap) — summing them would double-count;
* each interval must start and end on the half-hour grid, and with ``half_hourly=True`` (the default)
  last exactly 30 minutes;
* an interval may not cross a local midnight (we would have to invent how to split it);
* every interval must lie inside the period.

Completeness is counted in half-hour slots: ``expected`` slots in the period, of which ``present``
have a reading that is actual, estimated or substituted; ``missing`` counts slots with a reading marked
missing or with no reading at all (the latter also listed as `Gap`s). Shares are rounded *down* to 4
decimal places, so a period is never shown as 1.0000 complete unless it is.

Totals are sums of the exact reading values (Wh → kWh moves the decimal point). For gas volumes, pass
``to_kwh`` (see `gas.kwh_converter`); each total is then converted from its exact value and rounded once
by the gas rule, so rounded daily totals may differ from the rounded monthly total in the last place.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_FLOOR, Decimal
from zoneinfo import ZoneInfo

from .errors import InputDataError, IntervalOrderError, OverlappingIntervalsError
from .model import Completeness, EnergyUnit, Gap, IntervalReading, PeriodTotal
from .units import kwh_factor

__all__ = ["IntervalSummary", "check_intervals", "summarise", "local_day_bounds", "half_hours_in_local_day", "SLOT_SECONDS"]

SLOT_SECONDS = 1800
_SHARE_QUANTUM = Decimal("0.0001")
_UTC = timezone.utc


@dataclass(frozen=True, slots=True)
class IntervalSummary:
    """What `summarise` returns: sorted readings, totals per local day and month, and completeness."""

    readings: tuple[IntervalReading, ...]
    period_start: datetime
    period_end: datetime
    daily: tuple[PeriodTotal, ...]
    monthly: tuple[PeriodTotal, ...]
    total_kwh: Decimal
    completeness: Completeness


def local_day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a local civil day as UTC instants (23, 24 or 25 hours apart)."""
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(_UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(_UTC)
    return start, end


def half_hours_in_local_day(day: date, tz: str | ZoneInfo = "Europe/London") -> int:
    """46, 48 or 50 in Europe/London."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    start, end = local_day_bounds(day, zone)
    return int((end - start).total_seconds()) // SLOT_SECONDS


def check_intervals(
    readings: Sequence[IntervalReading], *, half_hourly: bool = True, where: Callable[[int], str] | None = None
) -> tuple[IntervalReading, ...]:
    """The readings sorted by start, after checking grid alignment and overlaps.

    Errors name the reading's index, or whatever ``where(index)`` says (an adapter passes a function
    giving the file row, so the message points at the line to fix).
    """
    name = where or (lambda i: f"reading {i}")
    keyed = []
    for i, r in enumerate(readings):
        s = r.start.timestamp()
        e = r.end.timestamp()
        if s % SLOT_SECONDS or e % SLOT_SECONDS:
            raise IntervalOrderError(
                f"interval {r.start.isoformat()} to {r.end.isoformat()} is not aligned to the half-hour grid", location=name(i)
            )
        if half_hourly and e - s != SLOT_SECONDS:
            raise IntervalOrderError(
                f"interval {r.start.isoformat()} to {r.end.isoformat()} lasts {int(e - s) // 60} minutes, not 30", location=name(i)
            )
        keyed.append((s, e, i, r))
    keyed.sort(key=lambda k: k[0])
    for (ps, pe, pi, pr), (cs, ce, ci, cr) in zip(keyed, keyed[1:]):
        if cs < pe:
            raise OverlappingIntervalsError(
                f"interval starting {cr.start.isoformat()} overlaps {name(pi)} ({pr.start.isoformat()} to {pr.end.isoformat()})",
                location=name(ci),
            )
    return tuple(k[3] for k in keyed)


class _Counter:
    __slots__ = ("kwh", "actual", "estimated", "substituted", "missing_marked", "expected", "gaps")

    def __init__(self, expected: int) -> None:
        self.kwh = Decimal(0)
        self.actual = self.estimated = self.substituted = self.missing_marked = 0
        self.expected = expected
        self.gaps: list[Gap] = []

    def add(self, other: "_Counter") -> None:
        self.kwh += other.kwh
        self.actual += other.actual
        self.estimated += other.estimated
        self.substituted += other.substituted
        self.missing_marked += other.missing_marked
        self.expected += other.expected
        self.gaps.extend(other.gaps)

    def completeness(self) -> Completeness:
        present = self.actual + self.estimated + self.substituted
        expected = self.expected
        share_p = (Decimal(present) / expected).quantize(_SHARE_QUANTUM, ROUND_FLOOR) if expected else Decimal(0)
        share_a = (Decimal(self.actual) / expected).quantize(_SHARE_QUANTUM, ROUND_FLOOR) if expected else Decimal(0)
        return Completeness(
            expected_intervals=expected,
            present=present,
            actual=self.actual,
            estimated=self.estimated,
            substituted=self.substituted,
            missing=expected - present,
            share_present=share_p,
            share_actual=share_a,
            gaps=tuple(self.gaps),
        )


def _default_period(readings: tuple[IntervalReading, ...], zone: ZoneInfo) -> tuple[datetime, datetime]:
    first_day = readings[0].start.astimezone(zone).date()
    last_day = (readings[-1].end - timedelta(microseconds=1)).astimezone(zone).date()
    return local_day_bounds(first_day, zone)[0], local_day_bounds(last_day, zone)[1]


def summarise(
    readings: Sequence[IntervalReading],
    *,
    period_start: datetime | None = None,
    period_end: datetime | None = None,
    tz: str = "Europe/London",
    to_kwh: Callable[[Decimal, EnergyUnit], Decimal] | None = None,
    round_total: Callable[[Decimal], Decimal] | None = None,
    half_hourly: bool = True,
) -> IntervalSummary:
    """Check the readings and total them per local day and month; see the module docstring.

    ``period_start``/``period_end`` default to the local midnights around the first and last reading.
    ``to_kwh`` converts a (value, unit) to kWh exactly; by default only energy units are accepted.
    ``round_total`` is applied to every total (gas uses the 3 dp rule); electricity totals stay exact.
    """
    zone = ZoneInfo(tz)
    ordered = check_intervals(readings, half_hourly=half_hourly)
    if not ordered and (period_start is None or period_end is None):
        raise InputDataError("no readings, and no period to report as missing", location="intervals")
    if period_start is None or period_end is None:
        d_start, d_end = _default_period(ordered, zone)
        period_start = period_start or d_start
        period_end = period_end or d_end
    for name, value in (("period_start", period_start), ("period_end", period_end)):
        if value.utcoffset() is None:
            raise InputDataError("must be timezone-aware", location=name)
        if value.timestamp() % SLOT_SECONDS:
            raise IntervalOrderError("must be on the half-hour grid", location=name)
    if period_end <= period_start:
        raise IntervalOrderError("the period ends at or before it starts", location="period_end")
    p_start = period_start.timestamp()
    p_end = period_end.timestamp()

    # Local day buckets, as UTC timestamps, clipped to the period.
    day = period_start.astimezone(zone).date()
    bounds: list[float] = []
    labels: list[date] = []
    while True:
        s, _ = local_day_bounds(day, zone)
        s_ts = max(s.timestamp(), p_start)
        if s_ts >= p_end:
            break
        labels.append(day)
        bounds.append(s_ts)
        day += timedelta(days=1)
    bounds.append(p_end)
    counters = [_Counter(int(bounds[k + 1] - bounds[k]) // SLOT_SECONDS) for k in range(len(labels))]

    convert = to_kwh
    factors: dict[EnergyUnit, Decimal] = {}
    bucket = 0
    cursor = p_start
    gaps: list[tuple[float, float]] = []
    readings_index = {id(r): i for i, r in enumerate(readings)} if len(ordered) else {}
    for r in ordered:
        s = r.start.timestamp()
        e = r.end.timestamp()
        if s < p_start or e > p_end:
            raise InputDataError(
                f"interval {r.start.isoformat()} to {r.end.isoformat()} lies outside the period "
                f"{period_start.isoformat()} to {period_end.isoformat()}",
                location=f"reading {readings_index[id(r)]}",
            )
        while s >= bounds[bucket + 1]:
            bucket += 1
        if e > bounds[bucket + 1]:
            raise IntervalOrderError(
                f"interval {r.start.isoformat()} to {r.end.isoformat()} crosses local midnight ({tz}); split it into days first",
                location=f"reading {readings_index[id(r)]}",
            )
        if s > cursor:
            gaps.append((cursor, s))
        cursor = e
        c = counters[bucket]
        slots = int(e - s) // SLOT_SECONDS
        q = r.quality
        if q == "actual":
            c.actual += slots
        elif q == "estimated":
            c.estimated += slots
        elif q == "substituted":
            c.substituted += slots
        else:
            c.missing_marked += slots
            continue
        unit = r.unit
        if convert is not None:
            c.kwh += convert(r.value, unit)
        elif unit is EnergyUnit.KWH:
            c.kwh += r.value
        else:
            f = factors.get(unit)
            if f is None:
                try:
                    f = factors[unit] = kwh_factor(unit)
                except InputDataError as exc:
                    raise exc.at(f"reading {readings_index[id(r)]}") from None
            c.kwh += r.value * f
    if cursor < p_end:
        gaps.append((cursor, p_end))

    # Split gaps by day so each day's completeness lists its own.
    for gs, ge in gaps:
        k = bisect.bisect_right(bounds, gs) - 1
        while gs < ge:
            piece_end = min(ge, bounds[k + 1])
            counters[k].gaps.append(Gap(datetime.fromtimestamp(gs, _UTC), datetime.fromtimestamp(piece_end, _UTC)))
            gs = piece_end
            k += 1

    rnd = round_total or (lambda v: v)
    daily: list[PeriodTotal] = []
    months: dict[tuple[int, int], tuple[int, int, _Counter]] = {}
    for k, label in enumerate(labels):
        c = counters[k]
        daily.append(
            PeriodTotal(label.isoformat(), datetime.fromtimestamp(bounds[k], _UTC), datetime.fromtimestamp(bounds[k + 1], _UTC),
                        rnd(c.kwh), c.completeness())
        )
        key = (label.year, label.month)
        if key not in months:
            months[key] = (k, k, _Counter(0))
        first, _, mc = months[key]
        mc.add(c)
        months[key] = (first, k, mc)
    monthly = tuple(
        PeriodTotal(f"{y:04d}-{m:02d}", datetime.fromtimestamp(bounds[first], _UTC), datetime.fromtimestamp(bounds[last + 1], _UTC),
                    rnd(mc.kwh), mc.completeness())
        for (y, m), (first, last, mc) in months.items()
    )
    whole = _Counter(0)
    for c in counters:
        whole.add(c)
    return IntervalSummary(
        readings=ordered,
        period_start=period_start,
        period_end=period_end,
        daily=tuple(daily),
        monthly=monthly,
        total_kwh=rnd(whole.kwh),
        completeness=whole.completeness(),
    )
