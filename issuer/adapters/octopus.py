"""Octopus Energy consumption, as downloaded: the REST API's JSON and the dashboard's CSV.

Sources (public):

* API — https://developer.octopus.energy/rest/reference/ ("List consumption for an electricity meter" /
  "… for a gas meter"): ``{count, next, previous, results: [{consumption, interval_start, interval_end}]}``,
  newest first by default, paginated (``page_size`` up to 25,000; ``next`` is the URL of the following
  page), interval times in UK local time with their offset — so the offset changes within the clock-change
  day — and half-hours without data simply absent. Units are not stated: electricity is kWh; gas is kWh
  from SMETS1 meters and m³ from SMETS2 meters (the reference says so), so gas needs ``--unit``.
* Dashboard CSV — the "Download your data" export of the Octopus account pages: a header
  ``Consumption (kWh), Start, End`` or the newer ``Consumption (kWh), Estimated Cost Inc. Tax (p), Standing
  Charge Inc. Tax (p), Start, End``, with ``, `` separators (values with a leading space), zeros written
  ``0E-20``, and gas as ``Consumption (m³)``. The unit is read from the header.

A set of API pages can be given as a JSON array of page objects; every page must be there (the results
must add up to ``count``), or the build stops and says which pages to fetch.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from perseus.issuer.energy.errors import InputDataError, ParsingInputError
from perseus.issuer.energy.model import EnergyUnit

from ._common import load_json, parse_instant, read_text
from .interval_rows import VendorReadings, decimal_value, finish

__all__ = ["is_octopus_api", "is_octopus_csv", "read_octopus_api", "read_octopus_csv"]

_CSV_UNITS = {"kwh": EnergyUnit.KWH, "wh": EnergyUnit.WHR, "m³": EnergyUnit.MTQ, "m3": EnergyUnit.MTQ, "m^3": EnergyUnit.MTQ}
_CONSUMPTION = re.compile(r"^\s*consumption\s*\(([^)]*)\)\s*$", re.IGNORECASE)


def is_octopus_api(document: Any) -> bool:
    """An API page (or a list of pages): ``results`` is a list and ``count`` is stated."""
    pages = document if isinstance(document, list) and document else [document]
    return all(isinstance(p, dict) and isinstance(p.get("results"), list) and "count" in p for p in pages)


def read_octopus_api(source: str | Path | bytes | Any, *, unit: EnergyUnit = EnergyUnit.KWH) -> VendorReadings:
    """Readings from one page or a list of pages of the consumption endpoint; incomplete pagination is refused."""
    document = load_json(source)
    pages = document if isinstance(document, list) else [document]
    if not pages or not is_octopus_api(document):
        raise ParsingInputError("not an Octopus consumption response: expected {count, next, previous, results: [...]}", location="$")
    rows = []
    counts = set()
    for p, page in enumerate(pages):
        counts.add(page["count"])
        for n, item in enumerate(page["results"]):
            where = f"page {p + 1} results[{n}]" if len(pages) > 1 else f"results[{n}]"
            if not isinstance(item, dict):
                raise InputDataError("expected {consumption, interval_start, interval_end}", location=where)
            start = parse_instant(item.get("interval_start"), f"{where}.interval_start")
            end = parse_instant(item.get("interval_end"), f"{where}.interval_end")
            rows.append((start, end, decimal_value(item.get("consumption"), f"{where}.consumption"), where))
    count = next(iter(counts)) if len(counts) == 1 else None
    if count is None or isinstance(count, bool) or not isinstance(count, int):
        raise InputDataError(f"the pages disagree on count ({sorted(map(str, counts))}) or it is not a number", location="count")
    if len(rows) < count:
        pending = [page.get("next") for page in pages if page.get("next")]
        raise InputDataError(
            f"this response holds {len(rows)} of {count} readings: it is paginated; fetch every page (follow 'next'"
            + (f", e.g. {pending[-1]}" if pending else "") + ", or ask for page_size=25000) and give the pages as a JSON array",
            location="next",
        )
    return VendorReadings(finish(rows, unit), unit_stated=False)


def _csv_rows(text: str) -> list[list[str]]:
    try:
        return [row for row in csv.reader(io.StringIO(text, newline=""), skipinitialspace=True) if row and any(c.strip() for c in row)]
    except csv.Error as exc:
        raise ParsingInputError(f"not a CSV file ({exc})") from None


def is_octopus_csv(header: list[str]) -> bool:
    """The dashboard's header: a ``Consumption (unit)`` column, and Start and End."""
    names = [h.strip().lower() for h in header]
    return any(_CONSUMPTION.match(h) for h in header) and "start" in names and "end" in names


def read_octopus_csv(source: str | Path | bytes) -> VendorReadings:
    """Readings from a dashboard CSV download (either header form; the unit from the header)."""
    rows = _csv_rows(read_text(source))
    if not rows or not is_octopus_csv(rows[0]):
        raise ParsingInputError("not an Octopus dashboard CSV: the header must be 'Consumption (kWh), Start, End' or the five-column form", location="row 1")
    header = [h.strip() for h in rows[0]]
    lowered = [h.lower() for h in header]
    i_value = next(i for i, h in enumerate(header) if _CONSUMPTION.match(h))
    unit_text = _CONSUMPTION.match(header[i_value]).group(1).strip().lower()  # type: ignore[union-attr]
    unit = _CSV_UNITS.get(unit_text)
    if unit is None:
        raise InputDataError(f"unknown unit {unit_text!r} in the header (expected kWh or m³)", location="row 1")
    i_start, i_end = lowered.index("start"), lowered.index("end")
    out = []
    for n, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise InputDataError(f"expected {len(header)} columns, got {len(row)}", location=f"row {n}")
        start = parse_instant(row[i_start], f"row {n}, column Start")
        end = parse_instant(row[i_end], f"row {n}, column End")
        out.append((start, end, decimal_value(row[i_value], f"row {n}, column {header[i_value]}"), f"row {n}"))
    if not out:
        raise InputDataError("the CSV has a header but no readings", location="row 2")
    return VendorReadings(finish(out, unit), unit_stated=True, fuel="gas" if unit.is_volume else None)
