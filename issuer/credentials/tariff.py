"""The tariff credential, issued by a supplier: what energy costs (or what export pays) and when.

Built from a checked `perseus.issuer.energy.Tariff` (see `perseus.issuer.adapters.tariff_json`). A tariff
is more than a price list: unit rates apply only at some times (off-peak bands, weekends, date ranges —
OCPI 2.2.1-style restrictions), a dynamic tariff has one rate per half-hour and may go negative, an export
tariff pays for a named export meter, and an optional fuel mix lets a carbon accounting provider compute
market-based emissions. All of it is stated; money is exact decimal pence.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from perseus.issuer.energy.model import FuelMix, Rate, StandingCharge, Tariff, TimeOfUse
from perseus.verifier.dates import utc_now
from perseus.verifier.loader import DocumentLoader

from .claims import DERIVED_ASSURANCE, NO_PROVENANCE, Assurance, Metadata, Provenance, ProvenanceStep
from .consumption import supply_point_json
from .encode import date_text, decimal_text, local_text, time_text
from .envelope import Check, envelope, finish

__all__ = ["build_tariff_credential", "tariff_from_credential"]

_PCAF_WITH_FUEL_MIX = (
    "PCAF score 2: the tariff states the supplier's Fuel Mix Disclosure, a supplier-specific emission factor; "
    "metered kWh multiplied by it gives market-based emissions from primary energy consumption x specific factors"
)
_PCAF_WITHOUT_FUEL_MIX = (
    "PCAF score 2: the tariff supplies no emission factor of its own (no fuel mix), so emissions for energy bought "
    "under it are metered kWh x grid emission factors (location-based)"
)


def build_tariff_credential(
    tariff: Tariff,
    *,
    issuer: str | Mapping[str, Any],
    metadata: Metadata | None = None,
    assurance: Assurance = DERIVED_ASSURANCE,
    provenance: Provenance = NO_PROVENANCE,
    credential_id: str | None = None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    name: str | None = None,
    loader: DocumentLoader | None = None,
    check: Check = "full",
) -> dict[str, Any]:
    """An unsigned TariffCredential for `tariff`, checked against its shape and strict JSON-LD.

    `metadata` defaults to the supplier's own tariff data ("SupplierTariffData"). The IB1 Perseus scheme
    publishes no tariff standard, so none is stated unless `metadata.standard` is given.
    """
    issued = valid_from or utc_now().replace(microsecond=0)
    zone = ZoneInfo(tariff.timezone)
    metadata = metadata or Metadata("SupplierTariffData", collection_method="the supplier's published tariff data")
    subject = _subject(tariff, zone)
    if tariff.fuel_mix is not None:
        pcaf = (2, _PCAF_WITH_FUEL_MIX)
        links = "its fuel mix cites its source (the supplier's Fuel Mix Disclosure for the period stated)"
    else:
        pcaf = (2, _PCAF_WITHOUT_FUEL_MIX)
        links = "it states no fuel mix"
    assurance_json = assurance.to_json(
        missing_data="Complete",
        pcaf=pcaf,
        connectedness=_connectedness(tariff, links),
        check_method="Verify this credential's proof and that its issuer is the supplier named; compare the rates with the supplier's published tariff.",
    )
    credential = envelope(
        "TariffCredential",
        issuer=issuer,
        subject=subject,
        metadata=metadata.to_json(default_standard=None, issued_at=issued),
        assurance=assurance_json,
        provenance=provenance.to_json(extra_steps=() if provenance.steps or provenance.derived_from else (_origin_step(issuer, issued),)),
        credential_id=credential_id,
        valid_from=issued,
        valid_until=valid_until,
        name=name or f"{tariff.supplier}: {tariff.name} ({tariff.code})",
    )
    return finish(credential, loader=loader, check=check)


def _connectedness(tariff: Tariff, fuel_mix_note: str) -> str:
    meter = f"; it pays for export meter {tariff.export_meter.identifier}" if tariff.export_meter is not None else ""
    return (
        f"A stand-alone statement by the supplier: it links to no other credential; {fuel_mix_note}{meter}. "
        "A cost or emissions calculation that uses it should name it by id and digest."
    )


def _origin_step(issuer: str | Mapping[str, Any], issued: datetime) -> ProvenanceStep:
    """The tariff originates with its issuer, the supplier: an origin step naming it."""
    issuer_id = issuer if isinstance(issuer, str) else str(issuer.get("id"))
    return ProvenanceStep(type="OriginStep", timestamp=issued, origin=issuer_id)


def _subject(tariff: Tariff, zone: ZoneInfo) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "Tariff",
        "supplierName": tariff.supplier,
        "tariffCode": tariff.code,
    }
    if tariff.product_code:
        out["productCode"] = tariff.product_code
    out["name"] = tariff.name
    out["fuel"] = tariff.fuel
    if tariff.region is not None:
        out["region"] = tariff.region
    out["direction"] = tariff.direction
    if tariff.payment_method:
        out["paymentMethod"] = tariff.payment_method
    if tariff.customer_class is not None:
        out["customerClass"] = tariff.customer_class
    if tariff.partial_response:
        out["partialResponse"] = tariff.partial_response
    if tariff.valid_from is not None:
        out["effectiveFrom"] = local_text(tariff.valid_from, zone)
    if tariff.valid_to is not None:
        out["effectiveTo"] = local_text(tariff.valid_to, zone)
    out["timezone"] = tariff.timezone
    out["vatRate"] = decimal_text(tariff.vat_rate)
    if tariff.dynamic:
        out["dynamicPricing"] = True
    if tariff.direction == "export":
        out["smartExportGuarantee"] = tariff.seg
    if tariff.export_meter is not None:
        out["exportMeter"] = supply_point_json(tariff.export_meter)
    if tariff.standing_charges:
        out["standingCharges"] = [_standing(s, zone) for s in tariff.standing_charges]
    out["unitRates"] = [_rate(r, zone) for r in tariff.unit_rates]
    if tariff.fuel_mix is not None:
        out["fuelMix"] = _fuel_mix(tariff.fuel_mix)
    return out


def _validity(out: dict[str, Any], start: datetime | None, end: datetime | None, zone: ZoneInfo) -> None:
    if start is not None:
        out["effectiveFrom"] = local_text(start, zone)
    if end is not None:
        out["effectiveTo"] = local_text(end, zone)


def _standing(s: StandingCharge, zone: ZoneInfo) -> dict[str, Any]:
    out: dict[str, Any] = {}
    _validity(out, s.valid_from, s.valid_to, zone)
    out["pencePerDayExcVat"] = decimal_text(s.value_exc_vat)
    out["pencePerDayIncVat"] = decimal_text(s.value_inc_vat)
    return out


def _rate(r: Rate, zone: ZoneInfo) -> dict[str, Any]:
    out: dict[str, Any] = {}
    _validity(out, r.valid_from, r.valid_to, zone)
    out["pencePerKwhExcVat"] = decimal_text(r.value_exc_vat)
    out["pencePerKwhIncVat"] = decimal_text(r.value_inc_vat)
    if r.band:
        out["band"] = r.band
    if r.restrictions is not None:
        tou = _time_of_use(r.restrictions)
        if tou:
            out["timeOfUse"] = tou
    return out


def _time_of_use(t: TimeOfUse) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if t.start_time is not None and t.end_time is not None:
        out["startTime"] = time_text(t.start_time)
        out["endTime"] = time_text(t.end_time)
        out["timeBasis"] = t.time_basis
    if t.days_of_week:
        out["daysOfWeek"] = list(t.days_of_week)
    if t.start_date is not None:
        out["startDate"] = date_text(t.start_date)
    if t.end_date is not None:
        out["endDate"] = date_text(t.end_date)
    return out


def _fuel_mix(m: FuelMix) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "FuelMix",
        "disclosurePeriodStart": date_text(m.period_start),
        "disclosurePeriodEnd": date_text(m.period_end),
        "fuelShares": [{"fuelSource": source, "percentage": decimal_text(share)} for source, share in m.shares.items()],
        "co2GramsPerKwh": decimal_text(m.co2_g_per_kwh),
    }
    if m.radioactive_waste_g_per_kwh is not None:
        out["radioactiveWasteGramsPerKwh"] = decimal_text(m.radioactive_waste_g_per_kwh)
    if m.rego_backed_share is not None:
        out["regoBackedPercentage"] = decimal_text(m.rego_backed_share)
    if m.source:
        out["source"] = m.source
    return out


def tariff_from_credential(credential: Any, *, where: str = "tariff") -> Tariff:
    """The `Tariff` a tariff credential states (for `perseus cost` and other calculations that use it).

    The credential's subject is read back exactly (decimals as written); a credential that is not a
    well-formed TariffCredential is refused with the first shape problem.
    """
    from perseus.issuer.energy.errors import InputDataError
    from perseus.verifier.dates import parse_datetime
    from perseus.verifier.shapes import validate_shape

    if not isinstance(credential, dict) or "TariffCredential" not in (credential.get("type") or []):
        raise InputDataError("is not a TariffCredential", location=where)
    problems = validate_shape(credential)
    if problems:
        raise InputDataError(f"is not a well-formed tariff credential: {problems[0].detail}", location=where)
    s = credential["credentialSubject"]

    def instant(obj: dict[str, Any], key: str) -> datetime | None:
        return parse_datetime(obj[key], field=key) if key in obj else None

    def tou(obj: dict[str, Any] | None) -> TimeOfUse | None:
        if not obj:
            return None
        return TimeOfUse(
            start_time=time.fromisoformat(obj["startTime"]) if "startTime" in obj else None,
            end_time=time.fromisoformat(obj["endTime"]) if "endTime" in obj else None,
            days_of_week=tuple(obj.get("daysOfWeek", ())),
            start_date=date.fromisoformat(obj["startDate"]) if "startDate" in obj else None,
            end_date=date.fromisoformat(obj["endDate"]) if "endDate" in obj else None,
            time_basis=obj.get("timeBasis", "local"),
        )

    rates = tuple(
        Rate(Decimal(r["pencePerKwhExcVat"]), Decimal(r["pencePerKwhIncVat"]), instant(r, "effectiveFrom"), instant(r, "effectiveTo"), tou(r.get("timeOfUse")), r.get("band"))
        for r in s["unitRates"]
    )
    standing = tuple(
        StandingCharge(Decimal(c["pencePerDayExcVat"]), Decimal(c["pencePerDayIncVat"]), instant(c, "effectiveFrom"), instant(c, "effectiveTo"))
        for c in s.get("standingCharges", [])
    )
    try:
        return Tariff(
            supplier=s["supplierName"],
            code=s["tariffCode"],
            name=s["name"],
            direction=s["direction"],
            region=s.get("region"),
            payment_method=s.get("paymentMethod"),
            valid_from=instant(s, "effectiveFrom"),
            valid_to=instant(s, "effectiveTo"),
            standing_charges=standing,
            unit_rates=rates,
            dynamic=bool(s.get("dynamicPricing", False)),
            vat_rate=Decimal(s["vatRate"]),
            fuel=s["fuel"],
            seg=bool(s.get("smartExportGuarantee", False)),
            product_code=s.get("productCode"),
            timezone=s.get("timezone", "Europe/London"),
            customer_class=s.get("customerClass"),
            partial_response=s.get("partialResponse"),
        )
    except InputDataError as exc:
        raise exc.at(f"{where}.credentialSubject") from None
