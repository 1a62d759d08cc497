"""The NESO Carbon Intensity API's regional-by-postcode response → `IntensitySeries`.

``GET /regional/intensity/{from}/{to}/postcode/{postcode}`` answers (shape from the API documentation,
https://carbon-intensity.github.io/api-definitions/, recorded in ``energy/data/neso_carbon_intensity.json``)::

    {"data": {"regionid": 13, "dnoregion": "UKPN London", "shortname": "London", "postcode": "SE1",
              "data": [{"from": "2023-09-30T23:00Z", "to": "2023-09-30T23:30Z",
                        "intensity": {"forecast": 187, "index": "moderate"},
                        "generationmix": [{"fuel": "gas", "perc": 41.2}, ...]}]}}

The current-intensity endpoint wraps the region object in a list (``{"data": [{...}]}``); both are read.
Because the API answers a bounded window per request, a month is recorded as several responses: a file
may hold one response or a JSON list of them, all for the same region and postcode. The series keeps the
SHA-256 of the file's bytes, so the emissions report can name exactly the file it was computed from.

Refused: a point that is not half an hour, a missing or negative forecast (unless ``allow_null``, when the
half-hour is simply absent and the calculation states it), two points for one half-hour with different
values, regions or postcodes that differ between responses.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from perseus.issuer.energy.errors import InputDataError, ParsingInputError
from perseus.issuer.energy.factors import neso_api
from perseus.issuer.energy.intensity import IntensityPoint, IntensitySeries
from perseus.issuer.energy.units import parse_decimal

from ._common import parse_instant

__all__ = ["parse_neso_regional", "load_neso_regional", "neso_source_url"]

_HALF_HOUR = timedelta(minutes=30)


def neso_source_url(postcode: str, start: datetime, end: datetime) -> str:
    """The documented request URL for a postcode and period (from the data file's endpoint template)."""
    fmt = "%Y-%m-%dT%H:%MZ"
    return str(neso_api()["endpoint_template"]).format(
        **{"from": start.astimezone(timezone.utc).strftime(fmt), "to": end.astimezone(timezone.utc).strftime(fmt), "postcode": postcode}
    )


def load_neso_regional(path: str | Path, *, source_url: str | None = None) -> IntensitySeries:
    """Read a recorded response file (bytes are hashed as they are on disk)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InputDataError(f"cannot read the intensity file: {exc.strerror}", location=str(path)) from None
    return parse_neso_regional(raw, source_url=source_url)


def _region(obj: Any, where: str) -> dict[str, Any]:
    data = obj.get("data") if isinstance(obj, dict) else None
    if isinstance(data, list):
        if len(data) != 1:
            raise ParsingInputError("expected one region in the response's data list", location=f"{where}.data")
        data = data[0]
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise ParsingInputError(
            'not a NESO regional intensity response: expected {"data": {"regionid", "shortname", "postcode", "data": [...]}}',
            location=where,
        )
    return data


def parse_neso_regional(raw: bytes | str, *, source_url: str | None = None, allow_null: bool = False) -> IntensitySeries:
    """Parse one recorded response, or a JSON list of responses for the same region and postcode."""
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    digest = hashlib.sha256(data).hexdigest()
    try:
        doc = json.loads(data.decode("utf-8-sig"), parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParsingInputError(f"the intensity file is not JSON: {exc}", location="$") from None
    responses = doc if isinstance(doc, list) else [doc]
    if not responses:
        raise ParsingInputError("the intensity file holds no response", location="$")
    region_id: int | None = None
    name = dno = outcode = None
    points: dict[float, IntensityPoint] = {}
    for r, response in enumerate(responses):
        where = f"$[{r}]" if isinstance(doc, list) else "$"
        region = _region(response, where)
        rid = region.get("regionid")
        if not isinstance(rid, int) or isinstance(rid, bool):
            raise InputDataError(f"regionid must be an integer, got {rid!r}", location=f"{where}.data.regionid")
        pc = region.get("postcode")
        if not isinstance(pc, str) or not pc.strip():
            raise InputDataError("the response names no postcode: use the regional-by-postcode endpoint", location=f"{where}.data.postcode")
        if region_id is None:
            region_id, name, dno, outcode = rid, str(region.get("shortname") or f"region {rid}"), region.get("dnoregion"), pc.strip().upper()
        elif (rid, pc.strip().upper()) != (region_id, outcode):
            raise InputDataError(
                f"response {r} is for region {rid} / {pc}, not {region_id} / {outcode}: one file holds one region's series",
                location=f"{where}.data",
            )
        for k, item in enumerate(region["data"]):
            here = f"{where}.data.data[{k}]"
            if not isinstance(item, dict):
                raise ParsingInputError("an intensity point must be an object", location=here)
            start = parse_instant(item.get("from"), f"{here}.from").astimezone(timezone.utc)
            end = parse_instant(item.get("to"), f"{here}.to").astimezone(timezone.utc)
            if end - start != _HALF_HOUR:
                raise InputDataError(f"a point must cover one half-hour, got {start.isoformat()} to {end.isoformat()}", location=here)
            intensity = item.get("intensity")
            value = intensity.get("forecast") if isinstance(intensity, dict) else None
            if value is None:
                if allow_null:
                    continue
                raise InputDataError("the point has no intensity.forecast", location=f"{here}.intensity.forecast")
            g = parse_decimal(value, f"{here}.intensity.forecast")
            if g < 0:
                raise InputDataError(f"a carbon intensity cannot be negative, got {g}", location=f"{here}.intensity.forecast")
            key = start.timestamp()
            previous = points.get(key)
            if previous is not None and previous.g_per_kwh != g:
                raise InputDataError(
                    f"two intensities for the half-hour starting {start.isoformat()} ({previous.g_per_kwh} and {g})", location=here
                )
            points[key] = IntensityPoint(start, end, g)
    if not points:
        raise InputDataError("the intensity file holds no half-hour with an intensity", location="$")
    ordered = tuple(points[k] for k in sorted(points))
    assert region_id is not None and outcode is not None and name is not None
    url = source_url or neso_source_url(outcode, ordered[0].start, ordered[-1].end)
    return IntensitySeries(
        points=ordered,
        region_id=region_id,
        region_name=name,
        postcode_outcode=outcode,
        source_url=url,
        sha256=digest,
        basis=str(neso_api()["intensity_basis"]),
        dno_region=str(dno) if dno else None,
        unit=str(neso_api()["intensity_unit"]),
    )
