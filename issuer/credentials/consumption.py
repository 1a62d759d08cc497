"""The energy consumption credential, issued by an Energy Data Provider for one supply point and period.

Built from a checked `perseus.issuer.energy.ConsumptionData` (see `perseus.issuer.energy.consumption.
build_consumption`, which does the arithmetic: totals, completeness, register deltas, gas conversion).
This module only states those results; it never recomputes or rounds them.

Readings are written compactly — ``{start, end, value, unit, quality}`` and nothing else, no ``type`` —
because a year of half-hourly data is 17,520 readings and every extra property is 17,520 more RDF quads
to canonicalize and hash when the credential is signed and verified.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from perseus.issuer.energy.errors import InputDataError
from perseus.issuer.energy.model import (
    Completeness,
    ConsumptionData,
    GasConversion,
    IntervalReading,
    PeriodTotal,
    Reconciliation,
    RegisterConsumption,
    RegisterRead,
    RegisterSeries,
    SupplyPoint,
)
from perseus.verifier.dates import utc_now
from perseus.verifier.loader import DocumentLoader

from .claims import DERIVED_ASSURANCE, NO_PROVENANCE, Assurance, Metadata, Provenance, ProvenanceStep, pcaf_for
from .encode import date_text, decimal_text, local_text, utc_text
from .envelope import Check, envelope, finish
from .ib1 import ib1, role_url
from .ib1_record import carry_ib1_record

__all__ = ["build_consumption_credential", "consumption_missing_data", "supply_point_json"]


def build_consumption_credential(
    data: ConsumptionData,
    *,
    issuer: str | Mapping[str, Any],
    metadata: Metadata,
    assurance: Assurance = DERIVED_ASSURANCE,
    provenance: Provenance = NO_PROVENANCE,
    reconciliation: Reconciliation | None = None,
    daily_totals: bool = True,
    credential_id: str | None = None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    name: str | None = None,
    loader: DocumentLoader | None = None,
    check: Check = "full",
) -> dict[str, Any]:
    """An unsigned EnergyConsumptionCredential for `data`, checked against its shape and strict JSON-LD.

    ``daily_totals=False`` leaves out the per-day totals (the monthly ones are always stated). When no IB1
    provenance steps are given, an origin step is stated: the DCC for smart-meter data, else the issuer.
    """
    issued = valid_from or utc_now().replace(microsecond=0)
    if metadata.standard == ib1()["standards"]["consumption"]:
        raise InputDataError(
            f"this credential cannot claim the IB1 consumption standard {metadata.standard}: its 2026-03-12 Reading is "
            "{type, from, to, takenAt, energy: {value, unitCode}, cumulative} (electricity only, KWH or WHR), while these "
            "readings are {start, end, value, unit, quality}"
            + (" and gas is not in that standard" if data.supply_point.fuel == "gas" else ""),
            location="metadata.standard",
        )
    zone = ZoneInfo(data.timezone)
    subject = _subject(data, zone, reconciliation, daily_totals)
    missing = consumption_missing_data(data)
    sources = metadata.data_source if isinstance(metadata.data_source, tuple) else (metadata.data_source,)
    from_dcc = "SmartMeterViaDCC" in sources
    assurance_json = assurance.to_json(
        missing_data=missing,
        pcaf=pcaf_for(missing, _data_detail(data)),
        connectedness=_connectedness(data, from_dcc),
        check_method=(
            "Verify this credential's proof and that its issuer is accredited as an Energy Data Provider "
            f"({role_url('energy-data-provider')}); check the MPAN/MPRN "
            "check digit; re-add the interval readings (or the differences of the register reads): they must give the stated totals exactly."
        ),
        origin_method=ib1()["origin_methods"]["SmartDCCOtherUser"] if from_dcc else None,
    )
    provenance = carry_ib1_record(provenance, data, assurance.missing_data or missing)
    steps: list[ProvenanceStep] = []
    if not provenance.steps and provenance.ib1_record is None:  # a carried IB1 record states the origin itself
        # No IB1 provenance steps given: state the origin we know. Smart-meter data enters the trust
        # framework at the DCC; billing or customer reads enter it with the issuer, who holds them.
        dcc = ib1()["dcc_origin"]
        issuer_id = issuer if isinstance(issuer, str) else str(issuer.get("id"))
        steps.append(
            ProvenanceStep(
                type="OriginStep",
                timestamp=metadata.generated_at or issued,
                source_type=ib1()["source_types"]["meter"],
                origin=dcc["origin"] if from_dcc else issuer_id,
                origin_license=dcc["origin_license"] if from_dcc else None,
            )
        )
    credential = envelope(
        "EnergyConsumptionCredential",
        issuer=issuer,
        subject=subject,
        metadata=metadata.to_json(default_standard=None, issued_at=issued),
        assurance=assurance_json,
        provenance=provenance.to_json(extra_steps=steps),
        credential_id=credential_id,
        valid_from=issued,
        valid_until=valid_until,
        name=name or _default_name(data, zone),
    )
    return finish(credential, loader=loader, check=check)


# -- the subject ----------------------------------------------------------------------------------------


def _subject(data: ConsumptionData, zone: ZoneInfo, reconciliation: Reconciliation | None, daily: bool) -> dict[str, Any]:
    subject: dict[str, Any] = {"type": "EnergyConsumption", "supplyPoint": supply_point_json(data.supply_point)}
    if data.account.startswith("did:"):
        subject["customer"] = data.account
    else:
        subject["accountReference"] = data.account
    subject["periodStart"] = local_text(data.period_start, zone)
    subject["periodEnd"] = local_text(data.period_end, zone)
    subject["timezone"] = data.timezone
    if data.total_kwh is not None:
        subject["totalKwh"] = decimal_text(data.total_kwh)
    if data.completeness is not None:
        subject["completeness"] = _completeness(data.completeness, zone, with_gaps=True)
    if data.monthly_totals:
        subject["monthlyTotals"] = [_total(t, zone) for t in data.monthly_totals]
    if daily and data.daily_totals:
        subject["dailyTotals"] = [_total(t, zone) for t in data.daily_totals]
    if data.gas_conversion is not None:
        subject["gasConversion"] = _gas(data.gas_conversion)
    if data.register_series is not None:
        subject["registerReads"] = _register_series(data.register_series, data.register_consumption)
    if reconciliation is not None:
        subject["reconciliation"] = _reconciliation(reconciliation)
    if data.intervals:
        subject["intervalReadings"] = _readings(data.intervals)
    return subject


def supply_point_json(point: SupplyPoint) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "SupplyPoint"}
    if point.scheme == "MPAN":
        out["mpan"] = point.identifier
        if point.full_mpan:
            out["fullMpan"] = point.full_mpan
    else:
        out["mprn"] = point.identifier
        out["checkDigit"] = point.check_digit
    out["fuel"] = point.fuel
    out["measure"] = point.measure
    if point.postcode_outcode:
        out["postcodeOutcode"] = point.postcode_outcode
    return out


def _readings(readings: tuple[IntervalReading, ...]) -> list[dict[str, str]]:
    """The hot path of a year-long credential: 17,520 small dicts; instants are formatted once each."""
    cache: dict[datetime, str] = {}

    def text(moment: datetime) -> str:
        out = cache.get(moment)
        if out is None:
            out = cache[moment] = utc_text(moment)
        return out

    return [
        {"start": text(r.start), "end": text(r.end), "value": decimal_text(r.value), "unit": r.unit.value, "quality": r.quality}
        for r in readings
    ]


def _read(read: RegisterRead) -> dict[str, Any]:
    out: dict[str, Any] = {"readAt": utc_text(read.at), "value": decimal_text(read.value), "readType": read.kind}
    if read.replaces is not None:
        out["replaces"] = utc_text(read.replaces)
    return out


def _register_series(series: RegisterSeries, computed: RegisterConsumption | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "RegisterReadSeries",
        "unit": series.unit.value,
        "registerDigits": series.baseline.digits,
        "baseline": _read(series.baseline.read),
    }
    if series.reads:
        out["reads"] = [_read(r) for r in series.reads]
    if series.exchanges:
        out["meterExchanges"] = [
            {
                "type": "MeterExchange",
                "exchangedAt": utc_text(e.at),
                "finalRead": _read(e.old_final),
                "newBaseline": _read(e.new_baseline.read),
                "registerDigits": e.new_baseline.digits,
                "unit": e.new_baseline.unit.value,
            }
            for e in series.exchanges
        ]
    if computed is None:
        from perseus.issuer.energy.registers import consumption

        computed = consumption(series)
    out["consumption"] = decimal_text(computed.total)
    return out


def _gas(conversion: GasConversion) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "GasConversion",
        "volume": decimal_text(conversion.volume),
        "volumeUnit": conversion.volume_unit.value,
        "volumeM3": decimal_text(conversion.volume_m3),
    }
    if conversion.imperial_factor_m3 is not None:
        out["imperialFactor"] = decimal_text(conversion.imperial_factor_m3)
    out["correctionFactor"] = decimal_text(conversion.correction_factor)
    if conversion.correction_factor_source:
        out["correctionFactorSource"] = conversion.correction_factor_source
    out["calorificValue"] = decimal_text(conversion.calorific_value_mj_per_m3)
    if conversion.cv_as_given is not None:
        out["calorificValueAsGiven"] = decimal_text(conversion.cv_as_given)
    out["calorificValueSource"] = conversion.cv_source
    out["calorificValuePeriodStart"] = date_text(conversion.cv_period_start)
    out["calorificValuePeriodEnd"] = date_text(conversion.cv_period_end)
    out["kwh"] = decimal_text(conversion.kwh)
    out["rounding"] = conversion.rounding
    out["formula"] = conversion.formula
    out["legalBasis"] = conversion.legal_basis
    return out


def _counts(c: Completeness) -> dict[str, int]:
    return {
        "expectedIntervals": c.expected_intervals,
        "presentIntervals": c.present,
        "actualIntervals": c.actual,
        "estimatedIntervals": c.estimated,
        "substitutedIntervals": c.substituted,
        "missingIntervals": c.missing,
    }


def _completeness(c: Completeness, zone: ZoneInfo, *, with_gaps: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "Completeness", **_counts(c)}
    out["sharePresent"] = decimal_text(c.share_present)
    out["shareActual"] = decimal_text(c.share_actual)
    if with_gaps and c.gaps:
        out["gaps"] = [{"start": local_text(g.start, zone), "end": local_text(g.end, zone)} for g in c.gaps]
    return out


def _total(t: PeriodTotal, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "label": t.label,
        "start": local_text(t.start, zone),
        "end": local_text(t.end, zone),
        "kwh": decimal_text(t.kwh),
        **_counts(t.completeness),
    }


def _reconciliation(r: Reconciliation) -> dict[str, Any]:
    return {
        "type": "Reconciliation",
        "intervalTotal": decimal_text(r.interval_total),
        "registerDelta": decimal_text(r.register_delta),
        "unit": r.unit.value,
        "difference": decimal_text(r.difference),
        "absoluteTolerance": decimal_text(r.abs_tolerance),
        "relativeTolerance": decimal_text(r.rel_tolerance),
        "withinTolerance": r.within_tolerance,
        "rule": r.rule,
    }


# -- derived assurance ------------------------------------------------------------------------------------


def consumption_missing_data(data: ConsumptionData) -> str:
    """IB1 ``missingData`` for the data: from interval completeness, else from the register reads that count."""
    if data.completeness is not None:
        return data.completeness.missing_data
    computed = data.register_consumption
    if computed is not None:
        counted = [d.end for d in computed.deltas] + [computed.first]
        if any(r.kind == "estimated" for r in counted):
            return "Substituted"
    return "Complete"


def _data_detail(data: ConsumptionData) -> str:
    c = data.completeness
    fuel = data.supply_point.fuel
    factor = "grid emission factors" if fuel == "electricity" else "the natural-gas emission factor"
    if c is not None:
        return (
            f"{c.actual} of {c.expected_intervals} expected half-hours are actual metered {fuel} readings "
            f"({c.estimated} estimated, {c.substituted} substituted, {c.missing} missing); metered kWh x {factor}"
        )
    computed = data.register_consumption
    if computed is not None:
        counted = [computed.first] + [d.end for d in computed.deltas]
        estimated = sum(r.kind == "estimated" for r in counted)
        return f"consumption is the difference of {len(counted)} register reads ({estimated} estimated); metered kWh x {factor}"
    return f"metered kWh x {factor}"


def _connectedness(data: ConsumptionData, from_dcc: bool) -> str:
    point = data.supply_point
    source = "the smart meter, read through the DCC (the origin step in provenance)" if from_dcc else "the meter reads stated in this credential"
    return (
        f"Links the readings to supply point {point.scheme} {point.identifier} and to their origin, {source}. "
        "It is the first link of the chain meter -> Energy Data Provider -> Carbon Accounting Provider -> bank: "
        "a credential computed from it names it by id and digest (relatedResource)."
    )


def _default_name(data: ConsumptionData, zone: ZoneInfo) -> str:
    start = data.period_start.astimezone(zone).date()
    end = data.period_end.astimezone(zone).date()
    kind = "half-hourly" if data.intervals else "register-read"
    return f"{data.supply_point.fuel.capitalize()} {data.supply_point.measure} consumption ({kind}), {start.isoformat()} to {end.isoformat()} (end exclusive)"
