"""Interval readings -> Europe/London daily and monthly totals, completeness, and the errors."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perseus.issuer.energy import EnergyUnit, InputDataError, IntervalOrderError, OverlappingIntervalsError
from perseus.issuer.energy.intervals import half_hours_in_local_day, summarise
from perseus.issuer.energy.model import IntervalReading

LONDON = ZoneInfo("Europe/London")
UTC = timezone.utc
HALF = timedelta(minutes=30)


def day_readings(day: date, value: str = "1", unit: EnergyUnit = EnergyUnit.KWH) -> list[IntervalReading]:
    start = datetime.combine(day, datetime.min.time(), tzinfo=LONDON).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=LONDON).astimezone(UTC)
    out = []
    while start < end:
        out.append(IntervalReading(start, start + HALF, Decimal(value), unit))
        start += HALF
    return out


@pytest.mark.parametrize("day, n", [(date(2023, 3, 26), 46), (date(2023, 10, 29), 50), (date(2023, 6, 1), 48), (date(2024, 3, 31), 46)])
def test_half_hours_per_local_day(day: date, n: int) -> None:
    assert half_hours_in_local_day(day) == n
    summary = summarise(day_readings(day))
    assert len(summary.daily) == 1
    assert summary.daily[0].kwh == n
    assert summary.completeness.expected_intervals == n and summary.completeness.missing_data == "Complete"


def test_clock_change_energy_lands_in_the_right_local_day() -> None:
    # The 25-hour day: 01:00-02:00 happens twice; both hours belong to 29 October.
    readings = day_readings(date(2023, 10, 28), "1") + day_readings(date(2023, 10, 29), "2") + day_readings(date(2023, 10, 30), "3")
    summary = summarise(readings)
    assert [(d.label, d.kwh) for d in summary.daily] == [("2023-10-28", 48), ("2023-10-29", 100), ("2023-10-30", 144)]
    assert summary.monthly[0].label == "2023-10" and summary.monthly[0].kwh == 292


def test_wh_totals_are_exact() -> None:
    summary = summarise(day_readings(date(2023, 1, 2), "333", EnergyUnit.WHR))
    assert summary.total_kwh == Decimal("15.984")


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 400), st.integers(1, 40), st.data())
def test_totals_add_up_and_order_does_not_matter(offset: int, days: int, data) -> None:  # type: ignore[no-untyped-def]
    first = date(2023, 1, 1) + timedelta(days=offset)
    readings = []
    for k in range(days):
        readings += day_readings(first + timedelta(days=k))
    values = data.draw(st.lists(st.decimals(0, 100, places=3), min_size=len(readings), max_size=len(readings)))
    readings = [IntervalReading(r.start, r.end, v) for r, v in zip(readings, values)]
    shuffled = data.draw(st.permutations(readings))
    summary = summarise(shuffled)
    assert summary.total_kwh == sum(values, Decimal(0))
    assert sum((d.kwh for d in summary.daily), Decimal(0)) == summary.total_kwh
    assert sum((m.kwh for m in summary.monthly), Decimal(0)) == summary.total_kwh
    assert summary.completeness.expected_intervals == sum(half_hours_in_local_day(first + timedelta(days=k)) for k in range(days))
    assert summary == summarise(readings)


def test_gaps_missing_and_substituted_are_counted() -> None:
    readings = day_readings(date(2023, 5, 1))
    del readings[10:13]  # a 90-minute gap
    readings[20] = IntervalReading(readings[20].start, readings[20].end, Decimal(0), quality="missing")
    readings[30] = IntervalReading(readings[30].start, readings[30].end, Decimal(1), quality="substituted")
    readings[31] = IntervalReading(readings[31].start, readings[31].end, Decimal(1), quality="estimated")
    c = summarise(readings, period_start=datetime(2023, 5, 1, tzinfo=LONDON), period_end=datetime(2023, 5, 2, tzinfo=LONDON)).completeness
    assert (c.expected_intervals, c.present, c.actual, c.estimated, c.substituted, c.missing) == (48, 44, 42, 1, 1, 4)
    assert len(c.gaps) == 1 and c.gaps[0].intervals == 3
    assert c.share_present == Decimal("0.9166") and c.missing_data == "Missing"  # 44/48 = 0.91666.. rounded down


def test_share_is_never_rounded_up_to_complete() -> None:
    readings = []
    for k in range(300):
        readings += day_readings(date(2023, 1, 1) + timedelta(days=k))
    readings.pop(100)
    c = summarise(readings, period_start=datetime(2023, 1, 1, tzinfo=LONDON)).completeness
    assert c.missing == 1 and c.share_present < 1


def test_overlap_names_the_reading() -> None:
    readings = day_readings(date(2023, 5, 1))
    readings.append(readings[5])
    with pytest.raises(OverlappingIntervalsError) as info:
        summarise(readings)
    assert "reading 48" in str(info.value) or "reading 5" in str(info.value)


def test_non_aligned_and_wrong_length_intervals() -> None:
    t = datetime(2023, 5, 1, 0, 10, tzinfo=UTC)
    with pytest.raises(IntervalOrderError, match="half-hour grid"):
        summarise([IntervalReading(t, t + HALF, Decimal(1))])
    t = datetime(2023, 5, 1, tzinfo=UTC)
    with pytest.raises(IntervalOrderError, match="60 minutes"):
        summarise([IntervalReading(t, t + 2 * HALF, Decimal(1))])


def test_end_before_start_is_refused_by_the_model() -> None:
    t = datetime(2023, 5, 1, tzinfo=UTC)
    with pytest.raises(IntervalOrderError):
        IntervalReading(t, t - HALF, Decimal(1))
    with pytest.raises(InputDataError):
        IntervalReading(t.replace(tzinfo=None), t + HALF, Decimal(1))
    with pytest.raises(InputDataError):
        IntervalReading(t, t + HALF, 1.5)  # type: ignore[arg-type]
    with pytest.raises(InputDataError):
        IntervalReading(t, t + HALF, Decimal(1), quality="missing")


def test_daily_interval_crossing_local_midnight_is_refused() -> None:
    # A UTC day in summer runs 01:00-01:00 local: it crosses local midnight.
    t = datetime(2023, 7, 1, tzinfo=UTC)
    with pytest.raises(IntervalOrderError, match="crosses local midnight"):
        summarise([IntervalReading(t, t + timedelta(days=1), Decimal(1))], half_hourly=False)


def test_gas_volume_needs_a_converter() -> None:
    with pytest.raises(InputDataError, match="calorific"):
        summarise(day_readings(date(2023, 5, 1), "1", EnergyUnit.MTQ))


def test_repeated_autumn_hour_in_one_zone_is_compared_as_instants() -> None:
    # 01:30 BST then 01:00 GMT: the same ZoneInfo, wall clock going backwards, time going forwards.
    start = datetime(2023, 10, 29, 1, 30, tzinfo=LONDON)
    end = datetime(2023, 10, 29, 1, 0, fold=1, tzinfo=LONDON)
    reading = IntervalReading(start, end, Decimal(1))
    assert summarise([reading], half_hourly=True).total_kwh == 1
