"""Register (meter) reads JSON → `RegisterSeries`, with the statement of baseline and an optional CV.

Shape (``"format": "perseus-register-reads"``)::

    {"format": "perseus-register-reads",
     "meter": {"mprn": "..."} | {"mpan": "..."}, "postcode_outcode": "M1", "account": "did:... or reference",
     "unit": "MTQ" | "HH" | "FTQ" | "KWH", "digits": 5,
     "baseline": {"at": "2023-01-01T00:00:00Z", "value": "01234", "kind": "actual"},
     "reads": [{"at": "...", "value": "...", "kind": "actual|estimated|customer", "replaces": "<at of the read it corrects>"}],
     "exchanges": [{"at": "...", "old_final": {read}, "new_baseline": {"read": {read}, "digits": 5}}],
     "calorific_value": {"value": "39.2", "source": "...", "period_start": "2023-01-01", "period_end": "2024-01-01"},
     "correction_factor": {"value": "1.02264", "source": "..."}}

Register values may carry leading zeros as printed on the dial; they are read as decimals. The adapter
checks the series by computing its consumption (rollover, corrections, exchanges), so a register that
goes backwards without a plausible rollover is reported here, naming both reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from perseus.issuer.energy.errors import InputDataError, ParsingInputError
from perseus.issuer.energy.factors import CalorificValue
from perseus.issuer.energy.model import EnergyUnit, MeterExchange, RegisterBaseline, RegisterRead, RegisterSeries, SupplyPoint
from perseus.issuer.energy.mpan import supply_point
from perseus.issuer.energy.registers import consumption
from perseus.issuer.energy.units import parse_decimal

from ._common import load_json, parse_date, parse_instant

__all__ = ["RegisterReadsInput", "load_register_reads"]


@dataclass(frozen=True, slots=True)
class RegisterReadsInput:
    supply_point: SupplyPoint
    account: str | None
    series: RegisterSeries
    calorific_value: CalorificValue | None
    correction_factor: Decimal | None
    correction_factor_source: str | None


def _object(doc: dict[str, Any], name: str, where: str | None = None) -> dict[str, Any]:
    """An optional JSON object field ({} when absent): anything else is an error naming the field."""
    value = doc.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ParsingInputError(f"{name} must be an object, not {type(value).__name__}", location=where or name)
    return value


def _array(doc: dict[str, Any], name: str) -> list[Any]:
    """An optional JSON array field ([] when absent)."""
    value = doc.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ParsingInputError(f"{name} must be an array, not {type(value).__name__}", location=name)
    return value


def _text(value: Any, where: str) -> str | None:
    """An optional string field (None when absent or empty)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ParsingInputError(f"must be a string, not {type(value).__name__}", location=where)
    return value


def _read(obj: Any, where: str) -> RegisterRead:
    if not isinstance(obj, dict):
        raise ParsingInputError("a read must be an object {at, value, kind}", location=where)
    at = parse_instant(obj.get("at"), f"{where}.at")
    value = parse_decimal(obj.get("value"), f"{where}.value")
    replaces = obj.get("replaces")
    try:
        return RegisterRead(at, value, obj.get("kind", "actual"), parse_instant(replaces, f"{where}.replaces") if replaces else None)
    except InputDataError as exc:
        raise exc.at(where) from None


def _baseline(obj: Any, digits: Any, unit: EnergyUnit, where: str) -> RegisterBaseline:
    if not isinstance(digits, int) or isinstance(digits, bool):
        raise InputDataError(f"digits must be an integer (the number of register dials), got {digits!r}", location=f"{where}.digits")
    try:
        return RegisterBaseline(_read(obj, where), digits, unit)
    except InputDataError as exc:
        raise exc if exc.location and exc.location.startswith(where) else exc.at(where) from None


def load_register_reads(source: str | Path | bytes | dict[str, Any], *, check_mprn_digits: bool = True) -> RegisterReadsInput:
    """Register reads with their baseline; ``check_mprn_digits=False`` accepts an MPRN whose check digits do not match
    the (unconfirmed) rule, and the supply point then says it was not checked."""
    doc = load_json(source)
    if not isinstance(doc, dict) or doc.get("format") != "perseus-register-reads":
        raise ParsingInputError('expected an object with "format": "perseus-register-reads"', location="format")
    try:
        unit = EnergyUnit.parse(str(doc.get("unit")))
    except InputDataError as exc:
        raise exc.at("unit") from None
    meter = _object(doc, "meter")
    outcode = _text(doc.get("postcode_outcode"), "postcode_outcode")
    try:
        if "mprn" in meter:
            point = supply_point(str(meter["mprn"]), "gas", "import", outcode, check_mprn_digits=check_mprn_digits)
        elif "mpan" in meter:
            measure = meter.get("measure", "import")
            if measure not in ("import", "export"):
                raise InputDataError(f"measure must be import or export, not {str(measure)[:40]!r}", location="meter.measure")
            point = supply_point(str(meter["mpan"]), "electricity", measure, outcode)
        else:
            raise InputDataError("meter needs an mprn (gas) or an mpan (electricity)", location="meter")
    except InputDataError as exc:
        raise exc if exc.location and exc.location.startswith("meter") else exc.at("meter") from None
    baseline = _baseline(doc.get("baseline"), doc.get("digits"), unit, "baseline")
    reads = tuple(_read(r, f"reads[{k}]") for k, r in enumerate(_array(doc, "reads")))
    exchanges = []
    for k, e in enumerate(_array(doc, "exchanges")):
        where = f"exchanges[{k}]"
        if not isinstance(e, dict):
            raise ParsingInputError("a meter exchange must be an object {at, old_final, new_baseline}", location=where)
        nb = _object(e, "new_baseline", f"{where}.new_baseline")
        exchanges.append(
            MeterExchange(
                parse_instant(e.get("at"), f"{where}.at"),
                _read(e.get("old_final"), f"{where}.old_final"),
                _baseline(nb.get("read"), nb.get("digits"), unit, f"{where}.new_baseline"),
            )
        )
    series = RegisterSeries(baseline, reads, tuple(exchanges))
    consumption(series)  # checks rollover, order, corrections and exchanges; errors name the reads
    cv = None
    if doc.get("calorific_value"):
        c = _object(doc, "calorific_value")
        cv = CalorificValue(
            value_mj_per_m3=parse_decimal(c.get("value"), "calorific_value.value"),
            period_start=parse_date(c.get("period_start"), "calorific_value.period_start"),
            period_end=parse_date(c.get("period_end"), "calorific_value.period_end"),
            source=_text(c.get("source"), "calorific_value.source") or "",
        )
        if not cv.source:
            raise InputDataError("a calorific value needs its source (e.g. the gas bill)", location="calorific_value.source")
    cf = _object(doc, "correction_factor")
    return RegisterReadsInput(
        supply_point=point,
        account=_text(doc.get("account"), "account"),
        series=series,
        calorific_value=cv,
        correction_factor=parse_decimal(cf.get("value"), "correction_factor.value") if cf else None,
        correction_factor_source=_text(cf.get("source"), "correction_factor.source") if cf else None,
    )
