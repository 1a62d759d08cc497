"""Half-hourly CSV → interval readings, in the two layouts suppliers and DNOs export.

**Long form** — one row per interval, header ``start,end,value[,quality]`` (column order free; ``unit``
may be a column too, else the ``unit`` argument). Timestamps should carry an offset
(``2024-10-27T01:00:00+01:00`` or ``...Z``). Naive timestamps are accepted only with ``naive_tz`` (for
example ``"Europe/London"``): the repeated hour of an autumn clock change is resolved by order (first
occurrence BST, second GMT) and a time that does not exist (the spring-forward hour) is an error.
An empty value is a *missing* interval.

**Wide form** — one row per local day: a date column (``YYYY-MM-DD`` or ``DD/MM/YYYY``) then one column
per half-hour, numbered by *elapsed* time from local midnight. A day has 48 half-hours, 46 when the
clocks go forward and 50 when they go back; the row must have values for exactly that many (extra values
on a 46-half-hour day are an error naming the row and column; a blank among them is a missing interval).

Errors name the file row (1-based, header = row 1) and the column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

from perseus.issuer.energy.errors import InputDataError, IntervalOrderError, ParsingInputError
from perseus.issuer.energy.intervals import check_intervals, half_hours_in_local_day, local_day_bounds
from perseus.issuer.energy.model import EnergyUnit, IntervalReading

from ._common import parse_date, read_text

__all__ = ["read_long", "read_wide", "read_halfhourly_csv"]

_QUALITY = {
    "actual": "actual", "a": "actual",
    "estimated": "estimated", "estimate": "estimated", "e": "estimated",
    "missing": "missing", "m": "missing",
    "substituted": "substituted", "s": "substituted",
}
_HALF_HOUR = timedelta(minutes=30)
_UTC = timezone.utc


def _rows(source: str | Path | bytes) -> Iterator[list[str]]:
    return csv.reader(io.StringIO(read_text(source), newline=""))


def _decimal(text: str, where: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InputDataError(f"not a number: {text!r}", location=where) from None
    if not value.is_finite():
        raise InputDataError(f"not a finite number: {text!r}", location=where)
    if value < 0:
        raise InputDataError(f"consumption cannot be negative ({value}); export is a separate measure", location=where)
    return value


class _NaiveResolver:
    """Attach a zone to naive local timestamps, resolving the repeated autumn hour by order of appearance."""

    def __init__(self, tz: str) -> None:
        self.zone = ZoneInfo(tz)
        self.seen: set[datetime] = set()

    def __call__(self, naive: datetime, where: str, *, is_end: bool = False, after: datetime | None = None) -> datetime:
        """The UTC instant for a naive local time (UTC, because same-zone datetimes compare by wall clock)."""
        first = naive.replace(tzinfo=self.zone, fold=0)
        if first.astimezone(_UTC).astimezone(self.zone).replace(tzinfo=None) != naive:
            raise InputDataError(f"{naive.isoformat()} does not exist in {self.zone.key} (the clocks went forward)", location=where)
        second = naive.replace(tzinfo=self.zone, fold=1)
        if first.utcoffset() == second.utcoffset():
            return first.astimezone(_UTC)
        if is_end and after is not None:
            # The end of an interval is the earliest candidate after its start.
            return first.astimezone(_UTC) if first.astimezone(_UTC) > after else second.astimezone(_UTC)
        if naive in self.seen:
            return second.astimezone(_UTC)
        self.seen.add(naive)
        return first.astimezone(_UTC)


def read_long(
    source: str | Path | bytes,
    *,
    unit: EnergyUnit = EnergyUnit.KWH,
    naive_tz: str | None = None,
    half_hourly: bool = True,
) -> tuple[IntervalReading, ...]:
    """Read the long form; returns readings sorted by start, checked for overlaps and alignment."""
    rows = _rows(source)
    try:
        header = [h.strip().lower() for h in next(rows)]
    except StopIteration:
        raise ParsingInputError("the CSV file is empty", location="row 1") from None
    missing = [c for c in ("start", "end", "value") if c not in header]
    if missing:
        raise ParsingInputError(f"the header must name start, end and value (missing {', '.join(missing)}); got {header}", location="row 1")
    i_start, i_end, i_value = header.index("start"), header.index("end"), header.index("value")
    i_quality = header.index("quality") if "quality" in header else None
    i_unit = header.index("unit") if "unit" in header else None
    width = len(header)
    resolver = _NaiveResolver(naive_tz) if naive_tz else None
    fromiso = datetime.fromisoformat
    readings: list[IntervalReading] = []
    row_of: list[int] = []
    units: dict[str, EnergyUnit] = {}
    for n, row in enumerate(rows, start=2):
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != width:
            raise ParsingInputError(f"expected {width} columns, got {len(row)}", location=f"row {n}")
        try:
            start = fromiso(row[i_start])
        except ValueError:
            raise InputDataError(f"not an ISO 8601 date-time: {row[i_start]!r}", location=f"row {n}, column start") from None
        try:
            end = fromiso(row[i_end])
        except ValueError:
            raise InputDataError(f"not an ISO 8601 date-time: {row[i_end]!r}", location=f"row {n}, column end") from None
        if start.tzinfo is None or end.tzinfo is None:
            if resolver is None:
                raise InputDataError(
                    "timestamp has no offset; add one (Z or +01:00), or say which zone naive times are in: "
                    "`perseus build consumption --naive-tz Europe/London` (read_long(..., naive_tz=...) in Python)",
                    location=f"row {n}, column {'start' if start.tzinfo is None else 'end'}",
                )
            if start.tzinfo is None:
                start = resolver(start, f"row {n}, column start")
            if end.tzinfo is None:
                end = resolver(end, f"row {n}, column end", is_end=True, after=start)
        if end <= start:
            raise IntervalOrderError(
                f"interval ends ({end.isoformat()}) at or before it starts ({start.isoformat()})", location=f"row {n}, column end"
            )
        text = row[i_value].strip()
        quality = "actual"
        if i_quality is not None:
            q = row[i_quality].strip().lower()
            if q:
                quality = _QUALITY.get(q)  # type: ignore[assignment]
                if quality is None:
                    raise InputDataError(
                        f"quality must be actual, estimated, missing or substituted, got {row[i_quality]!r}", location=f"row {n}, column quality"
                    )
        if text == "":
            value = Decimal(0)
            if quality != "missing" and i_quality is not None and row[i_quality].strip():
                raise InputDataError(f"a {quality} reading needs a value", location=f"row {n}, column value")
            quality = "missing"
        else:
            value = _decimal(text, f"row {n}, column value")
        row_unit = unit
        if i_unit is not None and row[i_unit].strip():
            code = row[i_unit].strip().upper()
            row_unit = units.get(code) or units.setdefault(code, _parse_unit(code, f"row {n}, column unit"))
        try:
            readings.append(IntervalReading(start, end, value, row_unit, quality))  # type: ignore[arg-type]
        except InputDataError as exc:
            raise exc.at(f"row {n}") from None
        row_of.append(n)
    if not readings:
        raise InputDataError("the CSV file has no readings", location="row 2")
    return check_intervals(readings, half_hourly=half_hourly, where=lambda k: f"row {row_of[k]}")


def _parse_unit(code: str, where: str) -> EnergyUnit:
    try:
        return EnergyUnit.parse(code)
    except InputDataError as exc:
        raise exc.at(where) from None


def read_wide(
    source: str | Path | bytes,
    *,
    unit: EnergyUnit = EnergyUnit.KWH,
    tz: str = "Europe/London",
) -> tuple[IntervalReading, ...]:
    """Read the wide form (one row per local day); returns checked readings sorted by start."""
    zone = ZoneInfo(tz)
    rows = _rows(source)
    try:
        header = next(rows)
    except StopIteration:
        raise ParsingInputError("the CSV file is empty", location="row 1") from None
    columns = len(header) - 1
    if columns < 46:
        raise ParsingInputError(f"expected a date column and at least 46 half-hour columns, got {len(header)} columns", location="row 1")
    readings: list[IntervalReading] = []
    where_of: list[str] = []
    seen: dict[str, int] = {}
    make = IntervalReading
    for n, row in enumerate(rows, start=2):
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        day = parse_date(row[0], f"row {n}, column 1")
        if day.isoformat() in seen:
            raise InputDataError(f"{day.isoformat()} already appears in row {seen[day.isoformat()]}", location=f"row {n}, column 1")
        seen[day.isoformat()] = n
        expected = half_hours_in_local_day(day, zone)
        cells = row[1:]
        for k in range(expected, len(cells)):
            if cells[k].strip():
                raise InputDataError(
                    f"{day.isoformat()} has {expected} half-hours in {tz} "
                    f"({'clocks go forward' if expected == 46 else 'clocks go back' if expected == 50 else 'a normal day'}) "
                    f"but this row has a value in half-hour {k + 1}",
                    location=f"row {n}, column {k + 2}",
                )
        if len(cells) < expected:
            raise InputDataError(
                f"{day.isoformat()} has {expected} half-hours in {tz} but the row has only {len(cells)} value columns",
                location=f"row {n}",
            )
        day_start = local_day_bounds(day, zone)[0]
        for k in range(expected):
            text = cells[k].strip()
            start = day_start + k * _HALF_HOUR
            if text:
                value = _decimal(text, f"row {n}, column {k + 2}")
                readings.append(make(start, start + _HALF_HOUR, value, unit, "actual"))
            else:
                readings.append(make(start, start + _HALF_HOUR, Decimal(0), unit, "missing"))
            where_of.append(f"row {n}, column {k + 2}")
    if not readings:
        raise InputDataError("the CSV file has no readings", location="row 2")
    return check_intervals(readings, where=lambda k: where_of[k])


def read_halfhourly_csv(source: str | Path | bytes, **kwargs: object) -> tuple[IntervalReading, ...]:
    """Read either layout, choosing by the header: ``start``/``end``/``value`` columns mean long form."""
    text = read_text(source)
    first = next(csv.reader(io.StringIO(text, newline="")), [])
    header = {h.strip().lower() for h in first}
    if {"start", "end", "value"} <= header:
        return read_long(text, **kwargs)  # type: ignore[arg-type]
    return read_wide(text, **kwargs)  # type: ignore[arg-type]
