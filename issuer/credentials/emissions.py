"""The emissions report credential, issued by a Carbon Accounting Provider from signed consumption credentials.

The report is the second link of the chain meter → Energy Data Provider → Carbon Accounting Provider →
bank, so it is built only from inputs that can be checked: each input is a *signed* consumption credential
(optionally a signed tariff credential for its fuel mix), verified here before use, and named in the
report's ``relatedResource`` by id **and** digest (`perseus.verifier.digests`): a recipient holding the
inputs recomputes the digests and knows the report was computed from exactly those credentials.

The arithmetic is `perseus.issuer.energy.emissions.calculate` (DESNZ factors for the reporting year,
location-based and, with a fuel mix, market-based), applied to each calendar month of each input so that
the report can state monthly emissions as the IB1 emissions report does; the report's totals are the sums
of those monthly figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from perseus.issuer.energy.emissions import ROUNDING_RULE, calculate, reporting_year, whole_months
from perseus.issuer.energy.errors import InputDataError
from perseus.issuer.energy.model import EmissionsInput, EmissionsResult, Factor, FuelMix
from perseus.verifier.dates import parse_datetime, utc_now
from perseus.verifier.digests import credential_digest
from perseus.verifier.loader import DocumentLoader
from perseus.verifier.shapes import validate_shape
from perseus.verifier.verify import verify_credential

from .claims import DERIVED_ASSURANCE, NO_PROVENANCE, Assurance, Metadata, Provenance, ProvenanceStep, pcaf_for, worst_missing_data
from .encode import decimal_text, local_text
from .envelope import Check, envelope, finish
from .ib1 import ib1

__all__ = ["ConsumptionInput", "build_emissions_credential", "fuel_mix_from_tariff_credential", "read_consumption_input"]

METHOD = "DesnzAnnualFactors"
#: The method's vocabulary IRI, used as the process of the provenance process step. It is not an IB1
#: scheme process: those use half-hourly grid intensity (see perseus:DesnzAnnualFactors in vocab.ttl).
METHOD_IRI = "https://w3id.org/perseus/vocab#DesnzAnnualFactors"
MONTHLY_ROUNDING = (
    ROUNDING_RULE.split(";")[0].replace("per input", "per input and calendar month")
    + "; monthly, per-input and report totals are sums of those rounded figures"
)
_MISSING_BY_URL = {url: name for name, url in ib1()["missing_data"].items()}


@dataclass(frozen=True)
class ConsumptionInput:
    """What an emissions report needs from one signed consumption credential."""

    credential: dict[str, Any]
    id: str
    digest: str
    fuel: str
    measure: str
    supply_point_id: str
    owner: tuple[str, str]  # ("customer", DID) or ("accountReference", text)
    period_start: datetime
    period_end: datetime
    zone: ZoneInfo
    total_kwh: Decimal
    monthly_kwh: dict[str, Decimal]  # "YYYY-MM" -> kWh, for whole local months only
    missing_data: str
    pcaf_score: int
    data_sources: tuple[str, ...]


def read_consumption_input(
    credential: Any, *, where: str = "consumption", loader: DocumentLoader | None = None, verify: bool = True, now: datetime | None = None
) -> ConsumptionInput:
    """Check a signed consumption credential (proof, issuer, validity, shape) and extract what the report uses."""
    loader = loader or DocumentLoader()
    if not isinstance(credential, dict) or "EnergyConsumptionCredential" not in (credential.get("type") or []):
        raise InputDataError("is not an EnergyConsumptionCredential", location=where)
    if verify:
        result = verify_credential(credential, loader=loader, now=now)
        if not result.verified:
            first = result.errors[0]
            raise InputDataError(f"does not verify ({first.code}: {first.detail}); an emissions report is only built from verified inputs", location=where)
    problems = validate_shape(credential)
    if problems:
        raise InputDataError(f"is not a well-formed consumption credential: {problems[0].detail}", location=where)
    subject = credential["credentialSubject"]
    point = subject["supplyPoint"]
    zone = ZoneInfo(subject["timezone"])
    monthly: dict[str, Decimal] = {}
    for total in subject.get("monthlyTotals", []):
        start = parse_datetime(total["start"], field="start").astimezone(zone)
        end = parse_datetime(total["end"], field="end").astimezone(zone)
        if (start.day, start.hour, start.minute, end.day, end.hour, end.minute) == (1, 0, 0, 1, 0, 0):
            monthly[total["label"]] = Decimal(total["kwh"])
    assurance = credential["assurance"]
    sources = credential["metadata"]["dataSource"]
    return ConsumptionInput(
        credential=credential,
        id=credential["id"],
        digest=credential_digest(credential, loader),
        fuel=point["fuel"],
        measure=point["measure"],
        supply_point_id=point.get("mpan") or point.get("mprn"),
        owner=("customer", subject["customer"]) if "customer" in subject else ("accountReference", subject["accountReference"]),
        period_start=parse_datetime(subject["periodStart"], field="periodStart"),
        period_end=parse_datetime(subject["periodEnd"], field="periodEnd"),
        zone=zone,
        total_kwh=Decimal(subject["totalKwh"]),
        monthly_kwh=monthly,
        missing_data=_MISSING_BY_URL.get(assurance["missingData"], "Missing"),
        pcaf_score=int(assurance["pcafDataQualityScore"]),
        data_sources=tuple(sources if isinstance(sources, list) else [sources]),
    )


def fuel_mix_from_tariff_credential(credential: Any, *, where: str = "tariff", loader: DocumentLoader | None = None, verify: bool = True) -> tuple[FuelMix, str, str]:
    """The fuel mix a signed tariff credential states, with the credential's id and digest."""
    loader = loader or DocumentLoader()
    if not isinstance(credential, dict) or "TariffCredential" not in (credential.get("type") or []):
        raise InputDataError("is not a TariffCredential", location=where)
    if verify:
        result = verify_credential(credential, loader=loader, checks={"proof", "issuer"})
        if not result.verified:
            first = result.errors[0]
            raise InputDataError(f"does not verify ({first.code}: {first.detail})", location=where)
    problems = validate_shape(credential)
    if problems:
        raise InputDataError(f"is not a well-formed tariff credential: {problems[0].detail}", location=where)
    mix = credential["credentialSubject"].get("fuelMix")
    if mix is None:
        raise InputDataError("states no fuel mix, so it cannot give market-based emissions", location=where)
    try:
        fuel_mix = FuelMix(
            period_start=date.fromisoformat(mix["disclosurePeriodStart"]),
            period_end=date.fromisoformat(mix["disclosurePeriodEnd"]),
            shares={s["fuelSource"]: Decimal(s["percentage"]) for s in mix["fuelShares"]},
            co2_g_per_kwh=Decimal(mix["co2GramsPerKwh"]),
            radioactive_waste_g_per_kwh=Decimal(mix["radioactiveWasteGramsPerKwh"]) if "radioactiveWasteGramsPerKwh" in mix else None,
            rego_backed_share=Decimal(mix["regoBackedPercentage"]) if "regoBackedPercentage" in mix else None,
            source=mix.get("source") or f"fuel mix stated in tariff credential {credential['id']}",
        )
    except InputDataError as exc:
        raise exc.at(f"{where}.credentialSubject.fuelMix") from None
    return fuel_mix, credential["id"], credential_digest(credential, loader)


def build_emissions_credential(
    consumption: Sequence[Any],
    *,
    issuer: str | Mapping[str, Any],
    tariff: Any | None = None,
    metadata: Metadata | None = None,
    assurance: Assurance = DERIVED_ASSURANCE,
    provenance: Provenance = NO_PROVENANCE,
    year: int | None = None,
    credential_id: str | None = None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    name: str | None = None,
    loader: DocumentLoader | None = None,
    verify_inputs: bool = True,
    check: Check = "full",
) -> dict[str, Any]:
    """An unsigned EmissionsReportCredential computed from signed consumption credentials.

    Every input must verify (unless ``verify_inputs=False``), be an import supply point, belong to the same
    SME and cover the same whole calendar months. ``tariff`` is a signed tariff credential whose fuel mix
    gives market-based emissions. ``year`` overrides the DESNZ factor year (default: the reporting year).
    """
    loader = loader or DocumentLoader()
    issued = valid_from or utc_now().replace(microsecond=0)
    if not consumption:
        raise InputDataError("an emissions report needs at least one consumption credential", location="consumption")
    inputs = [read_consumption_input(c, where=f"consumption[{i}]", loader=loader, verify=verify_inputs, now=issued) for i, c in enumerate(consumption)]
    _check_inputs(inputs)
    fuel_mix = mix_id = mix_digest = None
    if tariff is not None:
        fuel_mix, mix_id, mix_digest = fuel_mix_from_tariff_credential(tariff, loader=loader, verify=verify_inputs)
    first = inputs[0]
    zone = first.zone
    start_day, end_day = first.period_start.astimezone(zone).date(), first.period_end.astimezone(zone).date()
    try:
        whole_months(start_day, end_day)
    except InputDataError as exc:
        raise InputDataError(exc.reason, location="consumption[0].credentialSubject.periodStart") from None
    factor_year = year if year is not None else reporting_year(start_day, end_day)
    months = _months(start_day, end_day)
    if len(months) == 1:  # a one-month input is its own monthly total (register reads state no monthly totals)
        inputs = [i if months[0] in i.monthly_kwh else replace(i, monthly_kwh={months[0]: i.total_kwh}) for i in inputs]
    monthly_results: list[tuple[str, EmissionsResult]] = []
    if all(set(months) <= set(i.monthly_kwh) for i in inputs):
        for label in months:
            m_start, m_end = _month_bounds(label)
            items = [EmissionsInput(i.fuel, i.monthly_kwh[label], m_start, m_end, i.supply_point_id, i.id) for i in inputs]  # type: ignore[arg-type]
            monthly_results.append((label, calculate(items, fuel_mix=fuel_mix, year=factor_year)))
        results = [r for _, r in monthly_results]
        rounding = MONTHLY_ROUNDING
    else:
        items = [EmissionsInput(i.fuel, i.total_kwh, start_day, end_day, i.supply_point_id, i.id) for i in inputs]  # type: ignore[arg-type]
        results = [calculate(items, fuel_mix=fuel_mix, year=factor_year)]
        rounding = ROUNDING_RULE
    subject = _subject(inputs, results, monthly_results, zone, rounding)
    related = [{"id": i.id, "digestMultibase": i.digest} for i in inputs]
    if mix_id is not None:
        related.append({"id": mix_id, "digestMultibase": mix_digest})
    missing = worst_missing_data([i.missing_data for i in inputs])
    worst = max(i.pcaf_score for i in inputs)
    detail = (
        f"computed from {len(inputs)} consumption credential{'s' if len(inputs) != 1 else ''} of metered energy "
        f"(their PCAF scores: {', '.join(str(i.pcaf_score) for i in inputs)}) x DESNZ {factor_year} factors"
    )
    pcaf = pcaf_for(missing, detail) if worst <= 2 else (worst, f"PCAF score {worst}, the worst of the inputs' scores: {detail}")
    sources = tuple(dict.fromkeys(s for i in inputs for s in i.data_sources))
    metadata = metadata or Metadata(
        sources if len(sources) > 1 else sources[0],  # type: ignore[arg-type]
        collection_method="calculated by the carbon accounting provider from the linked consumption credentials",
    )
    linked = [i.id for i in inputs] + ([mix_id] if mix_id else [])
    assurance_json = assurance.to_json(
        missing_data=missing,
        pcaf=pcaf,
        connectedness=(
            f"Computed from {len(linked)} credential{'s' if len(linked) != 1 else ''}, each named in relatedResource by id "
            "and digestMultibase. This report is the second link of the chain meter -> Energy Data Provider -> "
            "Carbon Accounting Provider -> bank."
        ),
        check_method=(
            "For each relatedResource: obtain the credential, verify its proof and that its issuer is accredited "
            "(consumption: energy-data-provider role), recompute its digest (SHA-256 of its RDFC-1.0 canonical N-Quads, "
            "proofs included, as a base58btc multihash) and compare; then re-add the contributions: they give the totals."
        ),
        links=linked,
        digest_method=True,
    )
    factor_steps = _factor_steps(results, issued)
    process_step = ProvenanceStep(type="ProcessStep", timestamp=issued, process=METHOD_IRI, inputs=tuple(linked))
    credential = envelope(
        "EmissionsReportCredential",
        issuer=issuer,
        subject=subject,
        metadata=metadata.to_json(default_standard=ib1()["standards"]["emissions"], issued_at=issued),
        assurance=assurance_json,
        provenance=provenance.to_json(extra_steps=[*factor_steps, process_step], extra_derived=linked),
        credential_id=credential_id,
        valid_from=issued,
        valid_until=valid_until,
        name=name or f"Emissions report {start_day.isoformat()} to {end_day.isoformat()} (end exclusive)",
        related=related,
    )
    return finish(credential, loader=loader, check=check)


# -- helpers ------------------------------------------------------------------------------------------------


def _check_inputs(inputs: list[ConsumptionInput]) -> None:
    seen: dict[str, int] = {}
    for k, i in enumerate(inputs):
        where = f"consumption[{k}]"
        if i.id in seen:
            raise InputDataError(f"is the same credential as consumption[{seen[i.id]}] ({i.id}); each input may be used once", location=where)
        seen[i.id] = k
        if i.measure != "import":
            raise InputDataError(f"supply point {i.supply_point_id} measures export; exported energy is not netted off emissions", location=where)
        if i.owner != inputs[0].owner:
            raise InputDataError(
                f"belongs to {i.owner[1]}, but consumption[0] belongs to {inputs[0].owner[1]}: a report covers one SME", location=where
            )
        if (i.period_start, i.period_end) != (inputs[0].period_start, inputs[0].period_end):
            raise InputDataError(
                f"covers {i.period_start.isoformat()} to {i.period_end.isoformat()}, not the same period as consumption[0]", location=where
            )


def _months(start: date, end: date) -> list[str]:
    out = []
    y, m = start.year, start.month
    while (y, m) < (end.year, end.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _month_bounds(label: str) -> tuple[date, date]:
    y, m = int(label[:4]), int(label[5:])
    return date(y, m, 1), date(y + (m == 12), 1 if m == 12 else m + 1, 1)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def _sum(values: Sequence[Decimal | None]) -> Decimal | None:
    if any(v is None for v in values):
        return None
    return sum((v for v in values if v is not None), Decimal(0))


def _subject(
    inputs: list[ConsumptionInput],
    results: list[EmissionsResult],
    monthly: list[tuple[str, EmissionsResult]],
    zone: ZoneInfo,
    rounding: str,
) -> dict[str, Any]:
    first = inputs[0]
    start_day, end_day = first.period_start.astimezone(zone).date(), first.period_end.astimezone(zone).date()
    subject: dict[str, Any] = {"type": "EmissionsReport", first.owner[0]: first.owner[1]}
    subject["periodStart"] = local_text(_midnight(start_day, zone), zone)
    subject["periodEnd"] = local_text(_midnight(end_day, zone), zone)
    subject["method"] = METHOD
    subject["description"] = results[0].method
    location = sum((r.location_based_kg for r in results), Decimal(0))
    market = _sum([r.market_based_kg for r in results])
    subject["totalKwh"] = decimal_text(sum((i.kwh for r in results for i in r.inputs), Decimal(0)))
    subject["locationBasedKgCO2e"] = decimal_text(location)
    if market is not None:
        subject["marketBasedKgCO2e"] = decimal_text(market)
    if monthly:
        items = []
        for label, result in monthly:
            m_start, m_end = _month_bounds(label)
            for fuel in ("electricity", "gas"):
                parts = [i for i in result.inputs if i.fuel == fuel]
                if not parts:
                    continue
                item: dict[str, Any] = {
                    "month": label,
                    "fuel": fuel,
                    "start": local_text(_midnight(m_start, zone), zone),
                    "end": local_text(_midnight(m_end, zone), zone),
                    "kwh": decimal_text(sum((p.kwh for p in parts), Decimal(0))),
                    "locationBasedKgCO2e": decimal_text(sum((p.location_based_kg for p in parts), Decimal(0))),
                }
                m = _sum([p.market_based_kg for p in parts])
                if m is not None and result.market_based_kg is not None:
                    item["marketBasedKgCO2e"] = decimal_text(m)
                items.append(item)
        subject["monthlyEmissions"] = items
    subject["emissionFactors"] = [_factor(f) for f in _distinct_factors(results)]
    contributions = []
    for i in inputs:
        parts = [p for r in results for p in r.inputs if p.credential_id == i.id]
        contribution: dict[str, Any] = {
            "credential": i.id,
            "fuel": i.fuel,
            "supplyPointId": i.supply_point_id,
            "kwh": decimal_text(sum((p.kwh for p in parts), Decimal(0))),
            "locationBasedKgCO2e": decimal_text(sum((p.location_based_kg for p in parts), Decimal(0))),
        }
        m = _sum([p.market_based_kg for p in parts])
        if m is not None and market is not None:
            contribution["marketBasedKgCO2e"] = decimal_text(m)
        contributions.append(contribution)
    subject["contributions"] = contributions
    subject["rounding"] = rounding
    return subject


def _distinct_factors(results: list[EmissionsResult]) -> list[Factor]:
    seen: dict[tuple[str, int, str, Decimal], Factor] = {}
    for r in results:
        for f in r.factors_used:
            seen.setdefault((f.name, f.year, f.scope, f.value), f)
    return list(seen.values())


def _factor(f: Factor) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": f.name,
        "value": decimal_text(f.value),
        "factorUnit": f.unit,
        "source": f.source,
        "year": f"{f.year:04d}",
        "scope": f.scope,
    }
    if f.caveat:
        out["caveat"] = f.caveat
    return out


def _factor_steps(results: list[EmissionsResult], issued: datetime) -> list[ProvenanceStep]:
    types = ib1()["source_types"]
    steps = []
    for f in _distinct_factors(results):
        if f.scope == "scope2-market-based" or not f.source.startswith("http"):
            continue  # the fuel mix comes from a linked tariff credential, named in relatedResource
        kind = types["gas_factor"] if f.scope == "scope1" else types["grid_carbon_intensity"]
        steps.append(ProvenanceStep(type="OriginStep", timestamp=issued, source_type=kind, origin=f.source, step_id=f"{f.name} ({f.year})"))
    return steps
