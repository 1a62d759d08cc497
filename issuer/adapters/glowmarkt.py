"""Hildebrand Glowmarkt (Bright app) resource readings, as the API returns them.

Source (public): the Glowmarkt API documentation, https://api.glowmarkt.com/api-docs/v0-1/resourcesys/
("Get readings for a resource"): ``GET /resource/{id}/readings?period=PT30M&function=sum&from=…&to=…``
answers ``{status, name, resourceTypeId, resourceId, query: {from, to, period, function}, data: [[epoch
seconds, value], …], units, classifier}``; each pair's time is the START of its period, in UTC seconds;
``classifier`` is ``electricity.consumption`` or ``gas.consumption``. Only half-hourly data (PT30M) is
read here. Glowmarkt fills half-hours it has no reading for with 0: this adapter cannot tell those from
real zeros, and says so nowhere else — check the completeness against the DCC if it matters.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from perseus.issuer.energy.errors import InputDataError, ParsingInputError
from perseus.issuer.energy.model import EnergyUnit

from ._common import load_json
from .interval_rows import HALF_HOUR, VendorReadings, decimal_value, finish, stated_unit

__all__ = ["is_glowmarkt", "read_glowmarkt"]



def is_glowmarkt(document: Any) -> bool:
    """``data`` is a list of [time, value] pairs (an IB1 response's ``data`` holds objects)."""
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        return False
    data = document["data"]
    return bool(data) and all(isinstance(d, list) for d in data[:5]) or (not data and "resourceId" in document)


def read_glowmarkt(source: str | Path | bytes | Any, *, unit: EnergyUnit | None = None) -> VendorReadings:
    """Half-hourly readings from a Glowmarkt readings response (``units`` from the response, else ``unit``)."""
    document = load_json(source)
    if not is_glowmarkt(document):
        raise ParsingInputError("not a Glowmarkt readings response: expected {data: [[epoch_seconds, value], ...]}", location="$")
    query = document.get("query") if isinstance(document.get("query"), dict) else {}
    period = query.get("period", "PT30M")
    if period != "PT30M":
        raise InputDataError(f"period {period!r}: only half-hourly readings (period=PT30M) are read", location="query.period")
    stated = stated_unit(document.get("units"), "units")
    unit = stated or unit
    classifier = str(document.get("classifier", ""))
    fuel = "gas" if classifier.startswith("gas") else "electricity" if classifier.startswith("electricity") else None
    rows = []
    for n, pair in enumerate(document["data"]):
        where = f"data[{n}]"
        if not isinstance(pair, list) or len(pair) != 2:
            raise InputDataError("expected [epoch_seconds, value]", location=where)
        seconds = pair[0]
        if isinstance(seconds, bool) or not isinstance(seconds, int) or not 0 <= seconds < 2**33:
            raise InputDataError(f"expected whole epoch seconds, got {seconds!r}", location=f"{where}[0]")
        start = datetime.fromtimestamp(seconds, UTC)
        rows.append((start, start + HALF_HOUR, decimal_value(pair[1], f"{where}[1]"), where))
    return VendorReadings(finish(rows, unit or EnergyUnit.KWH), unit_stated=stated is not None, fuel=fuel)  # type: ignore[arg-type]
