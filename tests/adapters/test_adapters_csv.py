"""Half-hourly CSV adapters: long and wide layouts, clock changes, and errors that name the row."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perseus.issuer.adapters import read_halfhourly_csv, read_long, read_wide
from perseus.issuer.energy import InputDataError, IntervalOrderError, OverlappingIntervalsError, UnknownUnitError
from perseus.issuer.energy.intervals import summarise

INPUTS = Path(__file__).resolve().parents[2] / "examples" / "inputs"
LONDON = ZoneInfo("Europe/London")
UTC = timezone.utc
HALF = timedelta(minutes=30)


def test_sample_year_long_and_wide_agree() -> None:
    long = read_long(INPUTS / "electricity_import_2023_long.csv")
    wide = read_wide(INPUTS / "electricity_import_2023_wide.csv")
    assert len(long) == len(wide) == 17_520
    assert [(r.start, r.end, r.value) for r in long] == [(r.start, r.end, r.value) for r in wide]
    # Qualities survive only in the long form; the wide form knows just present/blank.
    assert {r.quality for r in long} == {"actual", "estimated", "substituted", "missing"}
    assert {r.quality for r in wide} == {"actual", "missing"}
    days = {d.label: d.completeness.expected_intervals for d in summarise(long).daily}
    assert days["2023-03-26"] == 46 and days["2023-10-29"] == 50 and days["2023-06-01"] == 48
    assert read_halfhourly_csv(INPUTS / "electricity_import_2023_wide.csv") == wide


def wide_csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["date"] + [f"HH{k}" for k in range(1, 51)])
    w.writerows(rows)
    return out.getvalue()


def test_wide_short_day_with_48_values_names_row_and_column() -> None:
    text = wide_csv([["2023-03-25"] + ["1"] * 48 + ["", ""], ["2023-03-26"] + ["1"] * 48 + ["", ""]])
    with pytest.raises(InputDataError) as info:
        read_wide(text)
    assert info.value.location == "row 3, column 48" and "46 half-hours" in info.value.message


def test_wide_long_day_needs_50_values() -> None:
    text = wide_csv([["29/10/2023"] + ["1"] * 48 + ["", ""]])
    readings = read_wide(text)
    assert len(readings) == 50 and sum(r.quality == "missing" for r in readings) == 2
    # The 50 half-hours run by elapsed time: the last one ends at local midnight.
    assert readings[-1].end == datetime(2023, 10, 30, tzinfo=LONDON)


def test_wide_duplicate_day_names_both_rows() -> None:
    text = wide_csv([["2023-05-01"] + ["1"] * 48, ["2023-05-01"] + ["1"] * 48])
    with pytest.raises(InputDataError, match="row 2") as info:
        read_wide(text)
    assert info.value.location == "row 3, column 1"


def long_csv(rows: list[list[str]], header: tuple[str, ...] = ("start", "end", "value", "quality")) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue()


def test_long_errors_name_the_row() -> None:
    ok = ["2023-05-01T00:00:00Z", "2023-05-01T00:30:00Z", "1.5", "actual"]
    with pytest.raises(IntervalOrderError) as info:
        read_long(long_csv([ok, ["2023-05-01T01:00:00Z", "2023-05-01T00:30:00Z", "1", "actual"]]))
    assert info.value.location == "row 3, column end"
    with pytest.raises(OverlappingIntervalsError) as info2:
        read_long(long_csv([ok, ["2023-05-01T00:00:00+00:00", "2023-05-01T00:30:00Z", "1", "actual"]]))
    assert info2.value.location == "row 3"
    with pytest.raises(InputDataError) as info3:
        read_long(long_csv([ok, ["2023-05-01T00:30:00Z", "2023-05-01T01:00:00Z", "1,2", "actual"]]))
    assert info3.value.location == "row 3, column value"
    with pytest.raises(InputDataError, match="quality"):
        read_long(long_csv([["2023-05-01T00:00:00Z", "2023-05-01T00:30:00Z", "1", "guessed"]]))
    with pytest.raises(InputDataError, match="no offset"):
        read_long(long_csv([["2023-05-01T00:00:00", "2023-05-01T00:30:00", "1", "actual"]]))
    with pytest.raises(UnknownUnitError) as info4:
        read_long(long_csv([["2023-05-01T00:00:00Z", "2023-05-01T00:30:00Z", "1", "BTU"]], ("start", "end", "value", "unit")))
    assert info4.value.location == "row 2, column unit"


def test_naive_local_times_resolve_the_repeated_hour_by_order() -> None:
    rows = []
    t = datetime(2023, 10, 29, 0, 0, tzinfo=LONDON).astimezone(UTC)
    for _ in range(8):  # 00:00 .. 03:00 local, four hours of wall clock with 01:00-02:00 twice
        s, e = t.astimezone(LONDON).replace(tzinfo=None), (t + HALF).astimezone(LONDON).replace(tzinfo=None)
        rows.append([s.isoformat(), e.isoformat(), "1", ""])
        t += HALF
    readings = read_long(long_csv(rows), naive_tz="Europe/London")
    assert [r.start for r in readings] == [datetime(2023, 10, 28, 23, tzinfo=UTC) + k * HALF for k in range(8)]


def test_naive_time_that_does_not_exist_is_refused() -> None:
    with pytest.raises(InputDataError, match="does not exist") as info:
        read_long(long_csv([["2023-03-26T01:00:00", "2023-03-26T01:30:00", "1", ""]]), naive_tz="Europe/London")
    assert info.value.location == "row 2, column start"


def test_blank_value_is_a_missing_interval() -> None:
    (r,) = read_long(long_csv([["2023-05-01T00:00:00Z", "2023-05-01T00:30:00Z", "", ""]]))
    assert r.quality == "missing" and r.value == 0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.decimals(0, 10**6, places=3), st.sampled_from(["actual", "estimated", "substituted"])), min_size=1, max_size=200),
       st.integers(0, 20_000))
def test_long_form_round_trips(values, offset) -> None:  # type: ignore[no-untyped-def]
    t0 = datetime(2023, 1, 1, tzinfo=UTC) + offset * HALF
    rows = [[(t0 + k * HALF).astimezone(LONDON).isoformat(), (t0 + (k + 1) * HALF).isoformat(), str(v), q] for k, (v, q) in enumerate(values)]
    readings = read_long(long_csv(rows[::-1]))  # order in the file does not matter
    assert [(r.value, r.quality) for r in readings] == [(v, q) for v, q in values]
    assert [r.start for r in readings] == [t0 + k * HALF for k in range(len(values))]


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 700), st.lists(st.decimals(0, 99, places=3), min_size=50, max_size=50))
def test_wide_form_round_trips_any_day(offset, values) -> None:  # type: ignore[no-untyped-def]
    from perseus.issuer.energy.intervals import half_hours_in_local_day

    day = date(2023, 1, 1) + timedelta(days=offset)
    n = half_hours_in_local_day(day)
    readings = read_wide(wide_csv([[day.isoformat()] + [str(v) for v in values[:n]] + [""] * (50 - n)]))
    assert [r.value for r in readings] == values[:n]
    assert readings[0].start == datetime.combine(day, datetime.min.time(), tzinfo=LONDON)
