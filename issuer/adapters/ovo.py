"""OVO Energy half-hourly usage JSON, as the account pages' API returns it.

Source (public): OVO's usage API as used by its account pages and documented by the community client
libraries (``https://smartpaym.ovoenergy.com/api/energy-usage/half-hourly/{account}?date=YYYY-MM-DD``; see
e.g. the ``ovoenergy`` Python package, https://pypi.org/project/ovoenergy/): ``{electricity: {data:
[{consumption, interval: {start, end}, unit}], next, prev}, gas: {…}}``. Times are NAIVE UK local times
and intervals are closed: ``2023-10-01T00:00:00.000`` to ``2023-10-01T00:29:59.999``. Each interval is
read as the half-hour starting at its local start; the repeated hour of the autumn clock change is taken
in file order (first BST, then GMT), as the file lists it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from perseus.issuer.energy.errors import InputDataError, ParsingInputError
from perseus.issuer.energy.model import EnergyUnit

from ._common import load_json
from .interval_rows import HALF_HOUR, VendorReadings, decimal_value, finish, stated_unit

__all__ = ["is_ovo", "read_ovo"]

_CLOSED = timedelta(minutes=29, seconds=59, milliseconds=999)


def is_ovo(document: Any) -> bool:
    """An object with ``electricity`` or ``gas``, each ``{data: [...]}``."""
    if not isinstance(document, dict):
        return False
    parts = [document.get(k) for k in ("electricity", "gas") if k in document]
    return bool(parts) and all(p is None or (isinstance(p, dict) and isinstance(p.get("data"), list)) for p in parts)


def _local(text: Any, location: str) -> datetime:
    if not isinstance(text, str):
        raise InputDataError(f"expected a local date-time, got {text!r}", location=location)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputDataError(f"not a date-time: {text!r}", location=location) from None
    if moment.tzinfo is not None:
        raise InputDataError(f"OVO times are naive local times; {text!r} has an offset", location=location)
    return moment


def read_ovo(
    source: str | Path | bytes | Any, *, fuel: Literal["electricity", "gas"] | None = None, tz: str = "Europe/London"
) -> VendorReadings:
    """Readings for one fuel (``fuel``, or the only one present) from an OVO half-hourly usage response."""
    document = load_json(source)
    if not is_ovo(document):
        raise ParsingInputError("not an OVO half-hourly usage response: expected {electricity: {data: [...]}, gas: {...}}", location="$")
    present = [k for k in ("electricity", "gas") if isinstance(document.get(k), dict) and document[k]["data"]]
    if fuel is None:
        if len(present) != 1:
            raise InputDataError(f"the response holds {' and '.join(present) or 'no'} readings: say which meter (--mpan or --mprn)", location="$")
        fuel = present[0]  # type: ignore[assignment]
    part = document.get(fuel)
    if not isinstance(part, dict) or not part.get("data"):
        raise InputDataError(f"the response has no {fuel} readings", location=str(fuel))
    zone = ZoneInfo(tz)
    seen: set[datetime] = set()
    units: set[EnergyUnit] = set()
    rows = []
    for n, item in enumerate(part["data"]):
        where = f"{fuel}.data[{n}]"
        if not isinstance(item, dict) or not isinstance(item.get("interval"), dict):
            raise InputDataError("expected {consumption, interval: {start, end}, unit}", location=where)
        naive = _local(item["interval"].get("start"), f"{where}.interval.start")
        naive_end = _local(item["interval"].get("end"), f"{where}.interval.end")
        if naive_end - naive != _CLOSED:
            raise InputDataError(
                f"interval {naive.isoformat()} to {naive_end.isoformat()} is not a half-hour closed at :29:59.999 or :59:59.999",
                location=f"{where}.interval",
            )
        fold = 1 if naive in seen else 0
        seen.add(naive)
        local = naive.replace(tzinfo=zone, fold=fold)
        if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
            raise InputDataError(f"{naive.isoformat()} does not exist in {tz} (the clocks went forward)", location=f"{where}.interval.start")
        start = local.astimezone(UTC)
        unit = stated_unit(item.get("unit"), f"{where}.unit")
        if unit is not None:
            units.add(unit)
        rows.append((start, start + HALF_HOUR, decimal_value(item.get("consumption"), f"{where}.consumption"), where))
    if len(units) > 1:
        raise InputDataError(f"mixed units {sorted(u.value for u in units)}", location=f"{fuel}.data")
    unit = next(iter(units)) if units else EnergyUnit.KWH
    return VendorReadings(finish(rows, unit), unit_stated=bool(units), fuel=fuel)
