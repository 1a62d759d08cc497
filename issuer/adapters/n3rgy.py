"""n3rgy consumer API consumption, as it returns it.

Source (public): the n3rgy Consumer API documentation, https://data.n3rgy.com/consumer/api-docs
(``GET /{mpxn}/electricity/consumption/1?start=YYYYMMDDHHmm&end=…``, and ``/gas/consumption/1``):
``{resource, responseTimestamp, start, end, granularity: "halfhour", values: [{timestamp, value}], unit}``.
Each ``timestamp`` (``YYYY-MM-DD HH:MM``, UTC) marks the END of its half-hour: ``2023-10-01 00:30`` is the
consumption from 00:00 to 00:30 UTC. ``unit`` is ``kWh`` for electricity and ``m3`` for gas.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from perseus.issuer.energy.errors import InputDataError, ParsingInputError
from perseus.issuer.energy.model import EnergyUnit

from ._common import load_json
from .interval_rows import HALF_HOUR, VendorReadings, decimal_value, finish, stated_unit

__all__ = ["is_n3rgy", "read_n3rgy"]



def is_n3rgy(document: Any) -> bool:
    """``values`` is a list of ``{timestamp, value}``."""
    if not isinstance(document, dict) or not isinstance(document.get("values"), list):
        return False
    values = document["values"]
    return all(isinstance(v, dict) and "timestamp" in v for v in values[:5]) and (bool(values) or "granularity" in document)


def _end(text: Any, location: str) -> datetime:
    if not isinstance(text, str):
        raise InputDataError(f"expected a timestamp 'YYYY-MM-DD HH:MM', got {text!r}", location=location)
    try:
        moment = datetime.fromisoformat(text.strip().replace(" ", "T"))
    except ValueError:
        raise InputDataError(f"not a timestamp 'YYYY-MM-DD HH:MM': {text!r}", location=location) from None
    if moment.tzinfo is not None and moment.utcoffset() != timedelta(0):
        raise InputDataError(f"n3rgy timestamps are UTC; {text!r} has another offset", location=location)
    return moment.replace(tzinfo=UTC)


def read_n3rgy(source: str | Path | bytes | Any, *, unit: EnergyUnit | None = None) -> VendorReadings:
    """Half-hourly readings from an n3rgy consumption response (each timestamp is the interval's end)."""
    document = load_json(source)
    if not is_n3rgy(document):
        raise ParsingInputError("not an n3rgy consumption response: expected {values: [{timestamp, value}], unit}", location="$")
    granularity = document.get("granularity", "halfhour")
    if granularity != "halfhour":
        raise InputDataError(f"granularity {granularity!r}: only half-hourly data is read", location="granularity")
    stated = stated_unit(document.get("unit"), "unit")
    unit = stated or unit
    resource = str(document.get("resource", ""))
    fuel = "gas" if "/gas/" in resource else "electricity" if "/electricity/" in resource else None
    rows = []
    for n, item in enumerate(document["values"]):
        where = f"values[{n}]"
        end = _end(item.get("timestamp"), f"{where}.timestamp")
        rows.append((end - HALF_HOUR, end, decimal_value(item.get("value"), f"{where}.value"), where))
    return VendorReadings(finish(rows, unit or EnergyUnit.KWH), unit_stated=stated is not None, fuel=fuel)  # type: ignore[arg-type]
