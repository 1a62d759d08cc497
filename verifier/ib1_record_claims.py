"""What an IB1 provenance record says about its data, and where a credential's own claims go beyond it.

An EDP's record states, in its origin and transfer steps, the missing-data assurance (``perseus:assurance``),
the metering period (``perseus:scheme.meteringPeriod``, the transfer's ``parameters.from``/``to``), the measure
(import or export) and sometimes the meter. A credential carrying the record must not claim more than that — a
``missingData`` Complete beside a record saying Missing, a period outside the record's, another meter — unless
its issuer states the difference on purpose (``provenance.ib1RecordDiscrepancy``). The issuer refuses such a
build (`perseus.issuer.credentials.ib1_record`); a recipient's ``provenance`` check refuses such a credential.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

__all__ = ["MISSING_ORDER", "RecordClaims", "discrepancies", "record_claims"]

MISSING_ORDER = {"Complete": 0, "Substituted": 1, "Missing": 2}
_MISSING_ORDER = MISSING_ORDER
_METER_KEYS = ("mpan", "mprn", "meter", "meterPoint", "supplyPoint")


@dataclass(frozen=True)
class RecordClaims:
    """What the record's steps say about the data: missing data, metering periods, measures and meters."""

    missing_data: tuple[str, ...]
    periods: tuple[tuple[datetime, datetime, str], ...]
    measures: tuple[str, ...]
    meters: tuple[str, ...]

    @property
    def worst_missing_data(self) -> str | None:
        return max(self.missing_data, key=lambda v: _MISSING_ORDER[v]) if self.missing_data else None


def record_claims(steps: list[dict[str, Any]]) -> RecordClaims:
    """Read the claims a record makes about its data, under either spelling and wherever IB1 examples put them."""
    missing: list[str] = []
    periods: list[tuple[datetime, datetime, str]] = []
    measures: list[str] = []
    meters: list[str] = []
    for step in steps:
        kind = step.get("type")
        assurance = step.get("perseus:assurance")
        if isinstance(assurance, dict) and isinstance(assurance.get("missingData"), str):
            value = assurance["missingData"].rstrip("/").rsplit("/", 1)[-1]
            if value in _MISSING_ORDER:
                missing.append(value)
        scheme = step.get("perseus:scheme")
        if isinstance(scheme, dict):
            metering = scheme.get("meteringPeriod")
            if isinstance(metering, dict):
                _period(metering, f"the {kind} step's meteringPeriod", periods)
            meters.extend(_meters(scheme))
        parameters = step.get("parameters")
        if kind == "transfer" and isinstance(parameters, dict):
            _period(parameters, "the transfer step's parameters", periods)
            if parameters.get("measure") in ("import", "export"):
                measures.append(parameters["measure"])
            meters.extend(_meters(parameters))
    return RecordClaims(tuple(missing), tuple(periods), tuple(dict.fromkeys(measures)), tuple(dict.fromkeys(meters)))


def _period(obj: Mapping[str, Any], label: str, out: list[tuple[datetime, datetime, str]]) -> None:
    start, end = _instant(obj.get("from")), _instant(obj.get("to"))
    if start is not None and end is not None:
        out.append((start, end, label))


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None


def _meters(obj: Mapping[str, Any]) -> list[str]:
    found = []
    for key in _METER_KEYS:
        value = obj.get(key)
        if isinstance(value, (str, int)) and str(value).replace(" ", "").isdigit():
            found.append(str(value).replace(" ", ""))
    return found


def discrepancies(
    claims: RecordClaims,
    *,
    missing_data: str | None,
    period_start: datetime | None,
    period_end: datetime | None,
    measure: str | None,
    meter: str | None,
    scheme: str = "MPAN",
) -> list[str]:
    """Each way the credential's claims go beyond or against the record, as a sentence (empty: none)."""
    out: list[str] = []
    worst = claims.worst_missing_data
    if worst is not None and missing_data in _MISSING_ORDER and _MISSING_ORDER[missing_data] < _MISSING_ORDER[worst]:
        out.append(f"the IB1 provenance record states missing data {worst}, but the credential claims {missing_data}")
    if period_start is not None and period_end is not None:
        for start, end, label in claims.periods:
            if period_start < start or period_end > end:
                out.append(
                    f"the credential's period {_text(period_start)} to {_text(period_end)} is not within {label} "
                    f"({_text(start)} to {_text(end)}) of the IB1 provenance record"
                )
    for found in claims.measures:
        if measure is not None and found != measure:
            out.append(f"the IB1 provenance record transferred {found} data, but the credential is for the {measure} meter")
    for found in claims.meters:
        if meter is not None and found[-13:] != meter[-13:]:
            out.append(f"the IB1 provenance record names meter {found}, but the credential is for {scheme} {meter}")
    return out


def _text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
