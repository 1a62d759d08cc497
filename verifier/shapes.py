"""Shape validation of Perseus credentials: is this consumption, tariff or emissions credential well formed?

A signature says who made a credential and that it was not altered; it does not say the credential makes
sense. A recipient (a bank, an auditor) can ask, "on request, when verifying", whether a Perseus credential
has the shape its type requires: every required claim present, decimals written as exact strings, readings
compact and well formed, meter numbers with valid check digits, an emissions report linked by digest to
every credential it was computed from. Issuers run the same check before they sign.

Why JSON Schema and not SHACL: the shapes must check a year of half-hourly readings (17,520 nodes) well
inside the verification budget. Measured on this project's 2-core machine for 17,520 readings
(``bench/bench_credentials.py --compare-validators``): pySHACL 0.40 needs ~12 s (5.6 s for rdflib to load
the 109,000 quads, 6.1 s to validate the reading shape alone); the pure-Python ``jsonschema`` 4.26 needs
~2.4 s for the whole credential; the same JSON Schema compiled by fastjsonschema takes ~0.1 s. The
schemas are data files next to the context (``contexts/perseus/shapes/*.schema.json``, draft-07) so that
any JSON Schema tool can use them.

Two layers:

* the JSON Schema, which stops at the first violation it finds (fastjsonschema compiles the schema to
  Python code, which is what makes it fast) and reports it with its JSON path and the rule's description;
* checks JSON Schema cannot express, run only when the schema passes: MPAN check digits, intervals that
  end after they start and do not overlap, readings inside the period, gas volumes with a stated
  conversion, emissions periods of whole months, and every input of an emissions report named in its
  ``relatedResource`` with a digest.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import fastjsonschema
from perseus import contexts as bundled

from .errors import DocumentLoaderError
from .meters import mpan_core_is_valid
from .result import CheckResult, ProblemDetail

__all__ = ["SHAPES", "SHAPES_BASE_URL", "SHAPES_DIR", "credential_kind", "shape_check", "validate_shape"]

SHAPES_DIR = bundled.CONTEXTS_DIR / "perseus" / "shapes"
SHAPES_BASE_URL = "https://w3id.org/perseus/shapes/v1/"

#: Credential type → its schema file in SHAPES_DIR.
SHAPES = {
    "EnergyConsumptionCredential": "consumption.schema.json",
    "TariffCredential": "tariff.schema.json",
    "EmissionsReportCredential": "emissions.schema.json",
    "PermissionCredential": "permission.schema.json",  # issue 12: permissions (perseus.issuer.holder)
}

_CHECK = "shape"
_CODE = "MALFORMED_VALUE_ERROR"
_VOLUME_UNITS = frozenset({"MTQ", "FTQ", "HH", "FC"})


# -- loading and compiling the schemas ------------------------------------------------------------------------


def _load_schema(url: str) -> Any:
    """A bundled schema by its URL; anything else is refused (shapes, like contexts, are never fetched)."""
    if not url.startswith(SHAPES_BASE_URL):
        raise DocumentLoaderError(url, "only the bundled Perseus shapes can be referenced from a shape")
    name = url[len(SHAPES_BASE_URL) :].split("#", 1)[0]
    path = SHAPES_DIR / name
    if "/" in name or not path.is_file():
        raise DocumentLoaderError(url, f"there is no bundled shape {name!r} in {SHAPES_DIR}")
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def _validator(kind: str) -> Callable[[Any], Any]:
    """The compiled validator for a credential type (compiled once per process: ~0.1 s)."""
    schema = _load_schema(SHAPES_BASE_URL + SHAPES[kind])
    return fastjsonschema.compile(schema, handlers={"https": _load_schema, "http": _load_schema}, use_default=False)


def schema_path(kind: str) -> Path:
    """The file of the JSON Schema for a credential type (e.g. for other JSON Schema tools)."""
    return SHAPES_DIR / SHAPES[kind]


# -- the public checks ----------------------------------------------------------------------------------------


def credential_kind(credential: Any) -> str | None:
    """The Perseus credential type of `credential` (e.g. "TariffCredential"), or None if it has none."""
    if not isinstance(credential, dict):
        return None
    types = credential.get("type")
    for t in types if isinstance(types, list) else [types]:
        if isinstance(t, str) and t in SHAPES:
            return t
    return None


def validate_shape(credential: Any) -> list[ProblemDetail]:
    """Every shape problem of a Perseus credential (empty when it is well formed).

    The JSON Schema layer reports its first violation only; the other checks run when it passes.
    """
    kind = credential_kind(credential)
    if kind is None:
        return [
            _problem(
                f"not a Perseus credential: its type must include one of {', '.join(SHAPES)} "
                "(shapes exist only for Perseus credential types)"
            )
        ]
    try:
        _validator(kind)(credential)
    except fastjsonschema.JsonSchemaValueException as exc:
        return [_problem(_describe(exc))]
    problems: list[ProblemDetail] = []
    subject = credential["credentialSubject"]
    if kind == "EnergyConsumptionCredential":
        problems += _consumption_problems(subject)
    elif kind == "TariffCredential":
        problems += _tariff_problems(subject)
    elif kind == "PermissionCredential":
        problems += _permission_problems(subject)
    else:
        problems += _emissions_problems(credential, subject)
    return problems


def shape_check(credential: Any) -> CheckResult:
    """`validate_shape` as a verification check named ``shape`` (skipped for non-Perseus credentials)."""
    kind = credential_kind(credential)
    if kind is None:
        return CheckResult(_CHECK, "skipped", "no Perseus credential type, so no shape applies")
    problems = validate_shape(credential)
    if problems:
        return CheckResult(_CHECK, "failed", f"not a well-formed {kind}", problems)
    return CheckResult(_CHECK, "passed", f"a well-formed {kind} ({SHAPES[kind]})")


# -- turning a schema violation into a sentence ------------------------------------------------------------------


def _describe(exc: fastjsonschema.JsonSchemaValueException) -> str:
    """'<JSON path>: <what is wrong>' using the rule's own description where the schema gives one."""
    path = _json_path(exc.path)
    definition = exc.definition if isinstance(exc.definition, dict) else {}
    description = definition.get("description")
    rule = exc.rule
    if rule == "required":
        missing = [k for k in definition.get("required", []) if isinstance(exc.value, dict) and k not in exc.value]
        return f"{path}: missing required {', '.join(repr(m) for m in missing) or 'properties'}"
    if rule == "additionalProperties" and isinstance(exc.value, dict):
        allowed = set(definition.get("properties", {}))
        extra = sorted(k for k in exc.value if k not in allowed)
        return f"{path}: unexpected propert{'ies' if len(extra) != 1 else 'y'} {', '.join(repr(e) for e in extra)} (allowed: {', '.join(sorted(allowed))})"
    if rule == "const":
        return f"{path}: must be {json.dumps(definition.get('const'))}, not {_show(exc.value)}"
    if description:
        return f"{path}: {_show(exc.value)} {description}" if not isinstance(exc.value, (dict, list)) else f"{path} {description}"
    message = exc.message
    prefix = exc.name + " "
    return f"{path}: {message.removeprefix(prefix)}"


def _json_path(parts: Iterable[Any]) -> str:
    out = "$"
    for part in list(parts)[1:]:  # the first element is the root ("data")
        # fastjsonschema gives array indices as strings of digits; no Perseus property name is all digits
        out += f"[{part}]" if isinstance(part, int) or (isinstance(part, str) and part.isdigit()) else f".{part}"
    return out


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _problem(detail: str) -> ProblemDetail:
    return ProblemDetail(_CODE, detail, _CHECK)


# -- checks beyond JSON Schema ------------------------------------------------------------------------------------


def _supply_point_problems(point: dict[str, Any], path: str) -> list[ProblemDetail]:
    mpan = point.get("mpan")
    if isinstance(mpan, str) and not mpan_core_is_valid(mpan):
        return [_problem(f"{path}.mpan: MPAN {mpan} has a wrong check digit (a mistyped meter number names another supply)")]
    return []


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)


def _consumption_problems(subject: dict[str, Any]) -> list[ProblemDetail]:
    problems = _supply_point_problems(subject["supplyPoint"], "$.credentialSubject.supplyPoint")
    start, end = _instant(subject["periodStart"]), _instant(subject["periodEnd"])
    if end <= start:
        problems.append(_problem("$.credentialSubject.periodEnd: the period ends at or before it starts"))
    readings = subject.get("intervalReadings", [])
    spans = []
    for i, reading in enumerate(readings):
        a, b = _instant(reading["start"]), _instant(reading["end"])
        if b <= a:
            problems.append(_problem(f"$.credentialSubject.intervalReadings[{i}]: ends ({reading['end']}) at or before it starts ({reading['start']})"))
        elif a < start or b > end:
            problems.append(_problem(f"$.credentialSubject.intervalReadings[{i}]: {reading['start']} to {reading['end']} lies outside the period"))
        spans.append((a, b, i))
        if len(problems) >= 20:
            problems.append(_problem("further problems with the readings were not listed"))
            return problems
    spans.sort()
    for (_a1, b1, i1), (a2, _b2, i2) in pairwise(spans):
        if a2 < b1:
            problems.append(_problem(f"$.credentialSubject.intervalReadings[{i2}]: overlaps intervalReadings[{i1}] (energy would be counted twice)"))
            break
    units = {r["unit"] for r in readings}
    series = subject.get("registerReads")
    if series is not None:
        units.add(series["unit"])
        units.update(x["unit"] for x in series.get("meterExchanges", []))
    fuel = subject["supplyPoint"]["fuel"]
    volumes = units & _VOLUME_UNITS
    if volumes and fuel != "gas":
        problems.append(_problem(f"$.credentialSubject: {fuel} readings cannot be in a gas volume unit ({', '.join(sorted(volumes))})"))
    if volumes and "gasConversion" not in subject:
        problems.append(_problem(
            f"$.credentialSubject.gasConversion: gas volumes in {', '.join(sorted(volumes))} need a stated conversion to kWh "
            "(volume unit, correction factor, calorific value with its source and period, resulting kWh)"
        ))
    return problems


def _tariff_problems(subject: dict[str, Any]) -> list[ProblemDetail]:
    problems: list[ProblemDetail] = []
    if "exportMeter" in subject:
        problems += _supply_point_problems(subject["exportMeter"], "$.credentialSubject.exportMeter")
    for name in ("unitRates", "standingCharges"):
        for i, item in enumerate(subject.get(name, [])):
            if "effectiveFrom" in item and "effectiveTo" in item and _instant(item["effectiveTo"]) <= _instant(item["effectiveFrom"]):
                problems.append(_problem(f"$.credentialSubject.{name}[{i}]: effectiveTo is not after effectiveFrom"))
    if "effectiveFrom" in subject and "effectiveTo" in subject and _instant(subject["effectiveTo"]) <= _instant(subject["effectiveFrom"]):
        problems.append(_problem("$.credentialSubject.effectiveTo: the tariff's validity ends before it starts"))
    return problems


def _emissions_problems(credential: dict[str, Any], subject: dict[str, Any]) -> list[ProblemDetail]:
    problems: list[ProblemDetail] = []
    london = ZoneInfo("Europe/London")
    start, end = _instant(subject["periodStart"]), _instant(subject["periodEnd"])
    for name, moment in (("periodStart", start), ("periodEnd", end)):
        local = moment.astimezone(london)
        if (local.day, local.hour, local.minute, local.second, local.microsecond) != (1, 0, 0, 0, 0):
            problems.append(_problem(
                f"$.credentialSubject.{name}: {subject[name]} is not the start of a calendar month in Europe/London "
                "(emissions are reported for whole months)"
            ))
    if end <= start:
        problems.append(_problem("$.credentialSubject.periodEnd: the period ends at or before it starts"))
    linked = {r["id"] for r in credential["relatedResource"]}
    for i, contribution in enumerate(subject["contributions"]):
        if contribution["credential"] not in linked:
            problems.append(_problem(
                f"$.credentialSubject.contributions[{i}].credential: {contribution['credential']} is not in relatedResource, "
                "so nothing pins which version of it the report was computed from (add its id and digestMultibase)"
            ))
    derived = credential["provenance"].get("derivedFrom", [])
    for i, cid in enumerate(derived if isinstance(derived, list) else [derived]):
        if cid not in linked:
            problems.append(_problem(f"$.provenance.derivedFrom[{i}]: {cid} is not in relatedResource with a digest"))
    return problems


def _permission_problems(subject: dict[str, Any]) -> list[ProblemDetail]:
    """A permission's period must not end before it starts, nor its measures miss its supply points' measures."""
    problems: list[ProblemDetail] = []
    if "periodStart" in subject and "periodEnd" in subject and _instant(subject["periodEnd"]) <= _instant(subject["periodStart"]):
        problems.append(_problem("$.credentialSubject.periodEnd: the permitted data period ends at or before it starts"))
    measures = set(subject["permittedMeasure"])
    for i, point in enumerate(subject["supplyPoint"]):
        problems += _supply_point_problems(point, f"$.credentialSubject.supplyPoint[{i}]")
        if point["measure"] not in measures:
            problems.append(_problem(
                f"$.credentialSubject.supplyPoint[{i}].measure: {point['measure']} is not among the permitted measures "
                f"({', '.join(sorted(measures))})"
            ))
    return problems
