"""The IB1 Perseus consumption API response → interval readings (and the meter's cumulative reads).

Shape (IB1 standard energy-consumption-data; the IB1 demo EDP returns exactly this)::

    {"data": [{"type": "Electricity", "from": "...Z", "to": "...Z", "takenAt": "...Z",
               "energy": {"value": 123.45, "unitCode": "WHR"},
               "cumulative": {"value": 1234.5, "unitCode": "WHR"}}, ...],
     "location": {"ukPostcodeOutcode": "SW1A"},
     "provenance": [...]}

Unit codes are UN/CEFACT: ``KWH``, ``WHR`` and ``MTQ`` (the API defines no others, so any other code is
an error rather than a guess). A reading whose ``energy.value`` is null is kept as a *missing* interval.
The API has no quality field; an optional ``quality`` member (actual|estimated|missing|substituted) is
honoured when a provider adds one, else readings are ``actual``. Numbers are read as exact decimals.

What the 2026-03-12 schema forbids is refused unless the caller accepts a non-conforming response
(``accept_nonconforming=True``), in which case every deviation is listed in ``nonconforming`` so the
credential can say so: a missing ``takenAt``, a ``takenAt`` before ``to``, a missing ``cumulative``. Gas
readings and the MTQ unit are not in that schema either; they are read as this project's extension and
listed in ``extensions`` (a credential made from them never claims the IB1 standard).

``provenance`` is kept as it came (the EDP's signed IB1 provenance record): `perseus build consumption` carries
it unchanged in the credential (`perseus.issuer.credentials.ib1_record`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from perseus.issuer.energy.errors import InputDataError, ParsingInputError, UnknownUnitError
from perseus.issuer.energy.intervals import check_intervals
from perseus.issuer.energy.model import EnergyUnit, Fuel, IntervalReading, RegisterRead
from perseus.issuer.energy.mpan import normalise_outcode
from perseus.issuer.energy.units import parse_decimal

from ._common import load_json, parse_instant

__all__ = ["Ib1ConsumptionResponse", "parse_ib1_consumption", "IB1_UNITS"]

IB1_UNITS = {"KWH": EnergyUnit.KWH, "WHR": EnergyUnit.WHR, "MTQ": EnergyUnit.MTQ}
_TYPES: dict[str, Fuel] = {"electricity": "electricity", "gas": "gas"}
_QUALITIES = {"actual", "estimated", "missing", "substituted"}


@dataclass(frozen=True, slots=True)
class Ib1ConsumptionResponse:
    """What the response says: readings (sorted, checked), the register values, location and provenance."""

    fuel: Fuel
    readings: tuple[IntervalReading, ...]
    cumulative: tuple[tuple[RegisterRead, EnergyUnit], ...]
    postcode_outcode: str | None
    provenance: Any
    nonconforming: tuple[str, ...] = ()  # deviations from the IB1 2026-03-12 Reading schema that were accepted
    extensions: tuple[str, ...] = ()  # gas / MTQ: outside that schema, read as this project's extension


def _unit(obj: Any, where: str) -> EnergyUnit:
    code = obj.get("unitCode") if isinstance(obj, dict) else None
    if code is None:
        raise InputDataError("unitCode is required", location=f"{where}.unitCode")
    unit = IB1_UNITS.get(code) if isinstance(code, str) else None  # a list or object is no unit code (and unhashable)
    if unit is None:
        raise UnknownUnitError(f"unknown unit code {repr(code)[:40]}; the IB1 consumption API uses KWH, WHR or MTQ", location=f"{where}.unitCode")
    return unit


def parse_ib1_consumption(source: str | Path | bytes | dict[str, Any], *, accept_nonconforming: bool = False) -> Ib1ConsumptionResponse:
    """Parse and check a response; errors name the JSON path (for example ``data[12].to``)."""
    doc = load_json(source)
    deviations: list[str] = []
    extensions: set[str] = set()

    def deviate(message: str, where: str) -> None:
        if not accept_nonconforming:
            raise InputDataError(
                f"{message}, which the IB1 2026-03-12 consumption schema forbids; accept a non-conforming response explicitly "
                "to read it anyway (the credential then says so)",
                location=where,
            )
        deviations.append(f"{where}: {message}")
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
        raise ParsingInputError("expected an object with a 'data' array of readings", location="data")
    fuel: Fuel | None = None
    readings: list[IntervalReading] = []
    cumulative: list[tuple[RegisterRead, EnergyUnit]] = []
    for i, item in enumerate(doc["data"]):
        where = f"data[{i}]"
        if not isinstance(item, dict):
            raise ParsingInputError("a reading must be an object", location=where)
        kind = _TYPES.get(str(item.get("type", "")).lower())
        if kind is None:
            raise InputDataError(f"type must be Electricity or Gas, got {item.get('type')!r}", location=f"{where}.type")
        if fuel is None:
            fuel = kind
        elif kind != fuel:
            raise InputDataError(f"mixed fuels in one response ({fuel} and {kind})", location=f"{where}.type")
        start = parse_instant(item.get("from"), f"{where}.from")
        end = parse_instant(item.get("to"), f"{where}.to")
        if end <= start:
            raise InputDataError(
                f"reading ends ({end.isoformat()}) at or before it starts ({start.isoformat()})", location=f"{where}.to"
            )
        taken = item.get("takenAt")
        if taken is None:
            deviate("the reading has no takenAt", f"{where}.takenAt")
        elif parse_instant(taken, f"{where}.takenAt") < end:
            deviate(f"takenAt {taken} is before the end of the interval ({item.get('to')})", f"{where}.takenAt")
        if not isinstance(item.get("cumulative"), dict):
            deviate("the reading has no cumulative register value", f"{where}.cumulative")
        if kind != "electricity":
            extensions.add("gas readings (the 2026-03-12 schema has electricity only)")
        energy = item.get("energy")
        if not isinstance(energy, dict):
            raise InputDataError("energy {value, unitCode} is required", location=f"{where}.energy")
        unit = _unit(energy, f"{where}.energy")
        if unit is EnergyUnit.MTQ:
            extensions.add("MTQ (m3) values (the 2026-03-12 schema has KWH and WHR only)")
        quality = item.get("quality", "actual")
        if not isinstance(quality, str) or quality not in _QUALITIES:
            raise InputDataError(f"quality must be one of {', '.join(sorted(_QUALITIES))}", location=f"{where}.quality")
        raw = energy.get("value")
        if raw is None:
            value, quality = Decimal(0), "missing"
        else:
            value = parse_decimal(raw, f"{where}.energy.value")
            if value < 0:
                raise InputDataError(f"energy cannot be negative ({value}); export is a separate measure", location=f"{where}.energy.value")
        try:
            readings.append(IntervalReading(start, end, value, unit, quality))
        except InputDataError as exc:
            raise exc.at(where) from None
        cum = item.get("cumulative")
        if isinstance(cum, dict) and cum.get("value") is not None:
            cum_unit = _unit(cum, f"{where}.cumulative")
            cum_value = parse_decimal(cum["value"], f"{where}.cumulative.value")
            try:
                cumulative.append((RegisterRead(end, cum_value, "actual"), cum_unit))
            except InputDataError as exc:
                raise exc.at(f"{where}.cumulative") from None
    if fuel is None:
        raise InputDataError("the response has no readings", location="data")
    ordered = check_intervals(readings, half_hourly=False, where=lambda k: f"data[{k}]")
    location = doc.get("location") or {}
    outcode = location.get("ukPostcodeOutcode") if isinstance(location, dict) else None
    try:
        outcode = normalise_outcode(outcode)
    except InputDataError as exc:
        raise exc.at("location.ukPostcodeOutcode") from None
    return Ib1ConsumptionResponse(
        fuel=fuel,
        readings=ordered,
        cumulative=tuple(sorted(cumulative, key=lambda c: c[0].at)),
        postcode_outcode=outcode,
        provenance=doc.get("provenance"),
        nonconforming=tuple(deviations),
        extensions=tuple(sorted(extensions)),
    )
