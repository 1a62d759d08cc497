"""The emissions report credential, issued by a Carbon Accounting Provider from signed consumption credentials.

The report is the second link of the chain meter → Energy Data Provider → Carbon Accounting Provider →
bank, so it is built only from inputs that can be checked: each input is a *signed* consumption credential
(optionally a signed tariff credential for its fuel mix), verified here before use, and named in the
report's ``relatedResource`` by id **and** digest (`perseus.verifier.digests`): a recipient holding the
inputs recomputes the digests and knows the report was computed from exactly those credentials.

Two methods, kept apart because only one is the Perseus standard:

* ``perseus`` (default; IB1 Carbon Accounting Provider guide 2026-03-12): electricity = Σ over half-hours of
  kWh × the NESO half-hourly regional intensity for the meter's outcode (`perseus.issuer.energy.intensity`),
  the series recorded with its source URL, region, period and SHA-256 so a verifier holding the same file
  recomputes the figure exactly (`recompute_emissions`); gas = metered m³ × the DESNZ per-m³ factor. The
  report claims the Perseus emissions standard.
* ``desnz-annual``: kWh × DESNZ annual factors (electricity generation-only Scope 2; gas per kWh gross CV,
  Scope 1). The report names this method and does **not** claim the Perseus emissions standard.

Scope 1 (gas) and Scope 2 (electricity, location-based and, with a supplier fuel mix covering the period,
market-based) are stated separately, never added together; without supplier data the report says that
market-based is unavailable. Figures are per input and calendar month (``monthTimeBasis`` names the zone
whose civil months they are), rounded once each; totals are sums of those.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from perseus.issuer.energy.emissions import reporting_year, whole_months
from perseus.issuer.energy.errors import InputDataError
from perseus.issuer.energy.factors import emission_factor
from perseus.issuer.energy.intensity import KG_QUANTUM, IntensitySeries, MissingPolicy, electricity_kg
from perseus.issuer.energy.model import Factor, FuelMix
from perseus.verifier.dates import parse_datetime, utc_now
from perseus.verifier.digests import credential_digest
from perseus.verifier.loader import DocumentLoader
from perseus.verifier.shapes import validate_shape
from perseus.verifier.verify import verify_credential

from .claims import DERIVED_ASSURANCE, NO_PROVENANCE, Assurance, Metadata, Provenance, ProvenanceStep, pcaf_for, worst_missing_data
from .encode import decimal_text, local_text, utc_text
from .envelope import Check, envelope, finish
from .ib1 import ib1, role_url

__all__ = [
    "METHODS",
    "ConsumptionInput",
    "build_emissions_credential",
    "compute_emissions",
    "fuel_mix_from_tariff_credential",
    "read_consumption_input",
    "recompute_emissions",
]

METHOD = "DesnzAnnualFactors"
#: The method's vocabulary IRI, used as the process of the provenance process step. It is not an IB1
#: scheme process: those use half-hourly grid intensity (see perseus:DesnzAnnualFactors in vocab.ttl).
METHOD_IRI = "https://w3id.org/perseus/vocab#DesnzAnnualFactors"
ROUNDING = (
    "kgCO2e per input and calendar month rounded to 3 dp, ROUND_HALF_EVEN (electricity by the Perseus method: the exact "
    "sum over half-hours of kWh x gCO2/kWh / 1000, rounded once); monthly, per-input and report totals are sums of those "
    "rounded figures"
)
PERSEUS_DESCRIPTION = (
    "IB1 Perseus method (Carbon Accounting Provider guide 2026-03-12): electricity Scope 2 location-based = sum over "
    "half-hours of kWh x NESO half-hourly regional carbon intensity for the meter's postcode outcode; gas Scope 1 = "
    "metered volume m3 x DESNZ natural-gas factor per m3; market-based Scope 2 = electricity kWh x supplier fuel-mix "
    "CO2 g/kWh / 1000 when a disclosure covering the period is given. Scope 1 and Scope 2 are reported separately. "
    "Each monthlyEmissions item is an IB1 emissions report item: type = fuel, from = start, to = end (a whole calendar "
    "month of monthTimeBasis, to exclusive), emissions value = locationBasedKgCO2e (electricity) or scope1KgCO2e (gas) "
    "with unitCode KGM, takenAt = the credential's validFrom."
)
DESNZ_DESCRIPTION = (
    "Annual DESNZ factors (not the Perseus method): electricity Scope 2 location-based = kWh x DESNZ UK electricity "
    "factor for the reporting year (generation only; T&D losses are Scope 3, not included); gas Scope 1 = kWh (gross CV) "
    "x DESNZ natural-gas factor per kWh; market-based Scope 2 = electricity kWh x supplier fuel-mix CO2 g/kWh / 1000. "
    "Scope 1 and Scope 2 are reported separately."
)
_KWH_PER_UNIT = {"KWH": Decimal(1), "WHR": Decimal("0.001"), "MWH": Decimal(1000)}
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
    postcode_outcode: str | None = None
    readings: tuple[tuple[datetime, datetime, Decimal], ...] = ()  # electricity half-hours in kWh (missing = 0)
    volume_m3: Decimal | None = None  # gas: the metered volume in m3, when the credential states it
    monthly_m3: dict[str, Decimal] | None = None


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
    readings: list[tuple[datetime, datetime, Decimal]] = []
    monthly_m3: dict[str, Decimal] = {}
    for k, r in enumerate(subject.get("intervalReadings", [])):
        start = parse_datetime(r["start"], field=f"intervalReadings[{k}].start")
        end = parse_datetime(r["end"], field=f"intervalReadings[{k}].end")
        value = Decimal(r["value"])
        if r["unit"] in _KWH_PER_UNIT:
            readings.append((start, end, value * _KWH_PER_UNIT[r["unit"]]))
        elif r["unit"] == "MTQ":
            local = start.astimezone(zone)
            label = f"{local.year:04d}-{local.month:02d}"
            monthly_m3[label] = monthly_m3.get(label, Decimal(0)) + value
    conversion = subject.get("gasConversion")
    volume = Decimal(conversion["volumeM3"]) if isinstance(conversion, dict) and "volumeM3" in conversion else None
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
        postcode_outcode=point.get("postcodeOutcode"),
        readings=tuple(readings) if point["fuel"] == "electricity" else (),
        volume_m3=volume,
        monthly_m3=monthly_m3,
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


Method = Literal["perseus", "desnz-annual"]
METHODS: tuple[str, ...] = ("perseus", "desnz-annual")


def build_emissions_credential(
    consumption: Sequence[Any],
    *,
    issuer: str | Mapping[str, Any],
    method: Method = "perseus",
    intensity: IntensitySeries | None = None,
    missing_intensity: MissingPolicy = "refuse",
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
    SME and cover the same whole calendar months. ``method="perseus"`` (the default) is the IB1 Perseus
    method: electricity half-hours × the regional intensity series ``intensity`` (NESO, for the meter's
    outcode), gas m³ × the DESNZ per-m³ factor; the report claims the Perseus emissions standard.
    ``method="desnz-annual"`` multiplies kWh by DESNZ annual factors: the report names that method and
    does not claim the Perseus standard. ``tariff`` is a signed tariff credential whose fuel mix gives
    market-based Scope 2 (its disclosure period must cover the report period). ``year`` overrides the DESNZ
    factor year (default: the reporting year).
    """
    loader = loader or DocumentLoader()
    if method not in METHODS:
        raise InputDataError(f"method must be one of {', '.join(METHODS)}, got {method!r}", location="method")
    issued = valid_from or utc_now().replace(microsecond=0)
    if not consumption:
        raise InputDataError("an emissions report needs at least one consumption credential", location="consumption")
    inputs = [read_consumption_input(c, where=f"consumption[{i}]", loader=loader, verify=verify_inputs, now=issued) for i, c in enumerate(consumption)]
    _check_inputs(inputs)
    fuel_mix = mix_id = mix_digest = None
    if tariff is not None:
        fuel_mix, mix_id, mix_digest = fuel_mix_from_tariff_credential(tariff, loader=loader, verify=verify_inputs)
    standard = ib1()["standards"]["emissions"]
    if metadata is not None and metadata.standard == standard and method != "perseus":
        raise InputDataError(
            f"a report made with the {method} method must not claim the Perseus emissions standard {standard}: "
            "that standard permits only the half-hourly regional method",
            location="metadata.standard",
        )
    computed = compute_emissions(inputs, method=method, intensity=intensity, missing_intensity=missing_intensity, fuel_mix=fuel_mix, year=year)
    subject = _subject(inputs, computed)
    start_day, end_day = computed.start, computed.end
    related = [{"id": i.id, "digestMultibase": i.digest} for i in inputs]
    if mix_id is not None:
        related.append({"id": mix_id, "digestMultibase": mix_digest})
    missing = worst_missing_data([i.missing_data for i in inputs])
    worst = max(i.pcaf_score for i in inputs)
    how = "x NESO half-hourly regional intensity and DESNZ per-m3 gas factors" if method == "perseus" else f"x DESNZ {computed.year} annual factors"
    detail = (
        f"computed from {len(inputs)} consumption credential{'s' if len(inputs) != 1 else ''} of metered energy "
        f"(their PCAF scores: {', '.join(str(i.pcaf_score) for i in inputs)}) {how}"
    )
    pcaf = pcaf_for(missing, detail) if worst <= 2 else (worst, f"PCAF score {worst}, the worst of the inputs' scores: {detail}")
    sources = tuple(dict.fromkeys(s for i in inputs for s in i.data_sources))
    metadata = metadata or Metadata(
        sources if len(sources) > 1 else sources[0],  # type: ignore[arg-type]
        collection_method="calculated by the carbon accounting provider from the linked consumption credentials",
    )
    linked = [i.id for i in inputs] + ([mix_id] if mix_id else [])
    recompute = (
        "; the electricity figures recompute exactly from the readings and the intensity file named in intensitySeries "
        "(check its SHA-256 first)"
        if computed.series is not None
        else ""
    )
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
            f"(consumption: {role_url('energy-data-provider')}), recompute its digest (SHA-256 of its RDFC-1.0 canonical N-Quads, "
            "proofs included, as a base58btc multihash) and compare; then re-add the contributions: they give the totals"
            + recompute + "."
        ),
        links=linked,
        digest_method=True,
    )
    steps = _factor_steps(computed, issued)
    processes = _processes(computed)
    steps += [ProvenanceStep(type="ProcessStep", timestamp=issued, process=p, inputs=tuple(linked)) for p in processes]
    credential = envelope(
        "EmissionsReportCredential",
        issuer=issuer,
        subject=subject,
        metadata=metadata.to_json(default_standard=standard if method == "perseus" else None, issued_at=issued),
        assurance=assurance_json,
        provenance=provenance.to_json(extra_steps=steps, extra_derived=linked),
        credential_id=credential_id,
        valid_from=issued,
        valid_until=valid_until,
        name=name or f"Emissions report {start_day.isoformat()} to {end_day.isoformat()} (end exclusive)",
        related=related,
    )
    return finish(credential, loader=loader, check=check)


# -- the arithmetic ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """Emissions of one input over one calendar month (``label`` YYYY-MM) or, without monthly data, the period."""

    credential_id: str
    fuel: str
    supply_point_id: str
    label: str | None
    start: date
    end: date
    kwh: Decimal
    kg: Decimal  # Scope 2 location-based (electricity) or Scope 1 (gas)
    market_kg: Decimal | None = None
    volume_m3: Decimal | None = None
    missing_intensity_half_hours: int = 0
    missing_intensity_kwh: Decimal = Decimal(0)


@dataclass(frozen=True)
class Computed:
    method: str
    start: date
    end: date
    zone: ZoneInfo
    year: int
    parts: tuple[Part, ...]
    factors: tuple[Factor, ...]
    series: IntensitySeries | None
    missing_intensity: str
    fuel_mix: FuelMix | None
    market_unavailable: str | None


def compute_emissions(
    inputs: Sequence[ConsumptionInput],
    *,
    method: Method = "perseus",
    intensity: IntensitySeries | None = None,
    missing_intensity: MissingPolicy = "refuse",
    fuel_mix: FuelMix | None = None,
    year: int | None = None,
) -> Computed:
    """The figures of a report, per input and month: what the builder states and what a verifier recomputes."""
    first = inputs[0]
    zone = first.zone
    start_day, end_day = first.period_start.astimezone(zone).date(), first.period_end.astimezone(zone).date()
    try:
        whole_months(start_day, end_day)
    except InputDataError as exc:
        raise InputDataError(exc.reason, location="consumption[0].credentialSubject.periodStart") from None
    factor_year = year if year is not None else reporting_year(start_day, end_day)
    months = _months(start_day, end_day)
    if len(months) == 1:  # a one-month input is its own monthly figure (register reads state no monthly totals)
        m = months[0]
        inputs = [
            replace(
                i,
                monthly_kwh={m: i.monthly_kwh.get(m, i.total_kwh)},
                monthly_m3={m: i.volume_m3} if i.volume_m3 is not None else dict(i.monthly_m3 or {}),
            )
            for i in inputs
        ]
    has_electricity = any(i.fuel == "electricity" for i in inputs)
    series = None
    if method == "perseus" and has_electricity:
        if intensity is None:
            raise InputDataError(
                "the Perseus electricity method needs the NESO regional half-hourly intensity series for the meter's outcode "
                "(give the recorded file), or choose the annual DESNZ method, which does not claim the Perseus standard",
                location="intensity",
            )
        series = intensity
        for k, i in enumerate(inputs):
            if i.fuel != "electricity":
                continue
            if not i.readings:
                raise InputDataError(
                    "the Perseus electricity method sums half-hours, but this credential states no half-hourly readings",
                    location=f"consumption[{k}]",
                )
            if not i.postcode_outcode:
                raise InputDataError(
                    "the Perseus electricity method uses the intensity of the meter's region, but the supply point states no "
                    "postcode outcode",
                    location=f"consumption[{k}].credentialSubject.supplyPoint",
                )
            if i.postcode_outcode.upper() != series.postcode_outcode.upper():
                raise InputDataError(
                    f"the supply point is in outcode {i.postcode_outcode}, but the intensity series is for outcode "
                    f"{series.postcode_outcode} ({series.region_name}): record the series for the meter's own outcode",
                    location=f"consumption[{k}].credentialSubject.supplyPoint.postcodeOutcode",
                )
    market_factor: Factor | None = None
    unavailable = None
    if fuel_mix is not None and has_electricity:
        if not fuel_mix.covers(start_day, end_day):
            raise InputDataError(
                f"the supplier's fuel-mix disclosure covers {fuel_mix.period_start.isoformat()} to {fuel_mix.period_end.isoformat()} "
                f"(end exclusive), not the report period {start_day.isoformat()} to {end_day.isoformat()}: market-based emissions "
                "need the disclosure for the consumption period",
                location="tariff.credentialSubject.fuelMix",
            )
        market_factor = fuel_mix.market_factor()
    elif has_electricity:
        unavailable = (
            "market-based Scope 2 is unavailable: no supplier-specific data (a tariff with a Fuel Mix Disclosure for the "
            "period) was given, and no residual-mix factor is recorded"
        )
    factors: dict[str, Factor] = {}

    def factor(fuel: str, unit: str) -> Factor:
        key = f"{fuel} {unit}"
        if key not in factors:
            factors[key] = emission_factor(fuel, factor_year, unit)  # type: ignore[arg-type]
        return factors[key]

    parts: list[Part] = []
    for k, i in enumerate(inputs):
        where = f"consumption[{k}]"
        if i.fuel == "gas" and method == "perseus" and i.volume_m3 is None:
            raise InputDataError(
                "the Perseus gas method multiplies the metered volume in m3 by the DESNZ per-m3 factor, but this credential "
                "states only kWh; use the annual DESNZ method for it",
                location=where,
            )
        for label, m_start, m_end in _periods(i, months, start_day, end_day, zone, perseus=method == "perseus"):
            if i.fuel == "electricity":
                if series is not None:
                    readings = [r for r in i.readings if label is None or _label(r[0], zone) == label]
                    result = electricity_kg(readings, series, missing=missing_intensity, where=f"{where}.credentialSubject.intervalReadings")
                    kwh, kg = result.kwh, result.kg
                    gaps, gap_kwh = result.missing_half_hours, result.missing_kwh
                else:
                    kwh = i.monthly_kwh[label] if label else i.total_kwh
                    kg = (kwh * factor("electricity", "kgCO2e/kWh").value).quantize(KG_QUANTUM, ROUND_HALF_EVEN)
                    gaps, gap_kwh = 0, Decimal(0)
                market = (kwh * market_factor.value).quantize(KG_QUANTUM, ROUND_HALF_EVEN) if market_factor else None
                parts.append(Part(i.id, i.fuel, i.supply_point_id, label, m_start, m_end, kwh, kg, market, None, gaps, gap_kwh))
            else:
                kwh = i.monthly_kwh[label] if label else i.total_kwh
                if method == "perseus":
                    m3 = (i.monthly_m3 or {})[label] if label else i.volume_m3
                    assert m3 is not None
                    kg = (m3 * factor("gas", "kgCO2e/m3").value).quantize(KG_QUANTUM, ROUND_HALF_EVEN)
                else:
                    m3 = None
                    kg = (kwh * factor("gas", "kgCO2e/kWh").value).quantize(KG_QUANTUM, ROUND_HALF_EVEN)
                parts.append(Part(i.id, i.fuel, i.supply_point_id, label, m_start, m_end, kwh, kg, None, m3))
    used = tuple(factors.values()) + ((market_factor,) if market_factor else ())
    return Computed(method, start_day, end_day, zone, factor_year, tuple(parts), used, series, missing_intensity, fuel_mix, unavailable)


def _label(instant: datetime, zone: ZoneInfo) -> str:
    local = instant.astimezone(zone)
    return f"{local.year:04d}-{local.month:02d}"


def _periods(i: ConsumptionInput, months: list[str], start: date, end: date, zone: ZoneInfo, *, perseus: bool) -> list[tuple[str | None, date, date]]:
    """The calendar months of the report when this input gives monthly figures, else the whole period once."""
    monthly = set(months) <= set(i.monthly_kwh)
    if perseus and i.fuel == "gas":
        monthly = monthly and set(months) <= set(i.monthly_m3 or {})
    if perseus and i.fuel == "electricity" and i.readings:
        monthly = True
    if not monthly:
        return [(None, start, end)]
    return [(label, *_month_bounds(label)) for label in months]


# -- helpers ------------------------------------------------------------------------------------------------


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


def _amounts(parts: Sequence[Part], fuel: str, with_market: bool) -> dict[str, Any]:
    """The emissions of some parts of one fuel: Scope 2 location (and market) for electricity, Scope 1 for gas."""
    out: dict[str, Any] = {"kwh": decimal_text(sum((p.kwh for p in parts), Decimal(0)))}
    if fuel == "gas":
        volumes = _sum([p.volume_m3 for p in parts])
        if volumes is not None:
            out["volumeM3"] = decimal_text(volumes)
        out["scope1KgCO2e"] = decimal_text(sum((p.kg for p in parts), Decimal(0)))
        return out
    out["locationBasedKgCO2e"] = decimal_text(sum((p.kg for p in parts), Decimal(0)))
    market = _sum([p.market_kg for p in parts])
    if with_market and market is not None:
        out["marketBasedKgCO2e"] = decimal_text(market)
    gaps = sum(p.missing_intensity_half_hours for p in parts)
    if gaps:
        out["missingIntensityHalfHours"] = gaps
        out["missingIntensityKwh"] = decimal_text(sum((p.missing_intensity_kwh for p in parts), Decimal(0)))
    return out


def _subject(inputs: list[ConsumptionInput], computed: Computed) -> dict[str, Any]:
    first, zone = inputs[0], computed.zone
    subject: dict[str, Any] = {"type": "EmissionsReport", first.owner[0]: first.owner[1]}
    subject["periodStart"] = local_text(_midnight(computed.start, zone), zone)
    subject["periodEnd"] = local_text(_midnight(computed.end, zone), zone)
    subject["monthTimeBasis"] = zone.key
    fuels = [f for f in ("electricity", "gas") if any(p.fuel == f for p in computed.parts)]
    if computed.method == "perseus":
        processes = ib1()["processes"]
        subject["method"] = [processes[f] for f in fuels] if len(fuels) > 1 else processes[fuels[0]]
        subject["description"] = PERSEUS_DESCRIPTION
    else:
        subject["method"] = METHOD
        subject["description"] = DESNZ_DESCRIPTION
    parts = computed.parts
    subject["totalKwh"] = decimal_text(sum((p.kwh for p in parts), Decimal(0)))
    electricity = [p for p in parts if p.fuel == "electricity"]
    gas = [p for p in parts if p.fuel == "gas"]
    market = computed.fuel_mix is not None
    if gas:
        subject["scope1KgCO2e"] = decimal_text(sum((p.kg for p in gas), Decimal(0)))
    if electricity:
        subject["scope2LocationBasedKgCO2e"] = decimal_text(sum((p.kg for p in electricity), Decimal(0)))
        total_market = _sum([p.market_kg for p in electricity])
        if market and total_market is not None:
            subject["scope2MarketBasedKgCO2e"] = decimal_text(total_market)
        elif computed.market_unavailable:
            subject["marketBasedUnavailable"] = computed.market_unavailable
    if computed.series is not None:
        subject["intensitySeries"] = _series(computed)
    labels = list(dict.fromkeys(p.label for p in parts))
    if all(label is not None for label in labels):
        items = []
        for label in labels:
            assert label is not None
            m_start, m_end = _month_bounds(label)
            for fuel in fuels:
                here = [p for p in parts if p.label == label and p.fuel == fuel]
                if here:
                    items.append({
                        "month": label,
                        "fuel": fuel,
                        "start": local_text(_midnight(m_start, zone), zone),
                        "end": local_text(_midnight(m_end, zone), zone),
                        **_amounts(here, fuel, market),
                    })
        subject["monthlyEmissions"] = items
    if computed.factors:
        subject["emissionFactors"] = [_factor(f) for f in computed.factors]
    contributions = []
    for i in inputs:
        mine = [p for p in parts if p.credential_id == i.id]
        contributions.append({"credential": i.id, "fuel": i.fuel, "supplyPointId": i.supply_point_id, **_amounts(mine, i.fuel, market)})
    subject["contributions"] = contributions
    subject["rounding"] = ROUNDING
    return subject


def _series(computed: Computed) -> dict[str, Any]:
    s = computed.series
    assert s is not None
    out: dict[str, Any] = {
        "type": "CarbonIntensitySeries",
        "source": s.source_url,
        "intensityRegion": s.region_name,
        "intensityRegionId": s.region_id,
        "postcodeOutcode": s.postcode_outcode,
        "seriesStart": utc_text(s.period_start),
        "seriesEnd": utc_text(s.period_end),
        "halfHours": len(s.points),
        "intensityBasis": s.basis,
        "intensityUnit": s.unit,
        "fileSha256": s.sha256,
        "missingIntensityPolicy": "Refuse" if computed.missing_intensity == "refuse" else "LeaveOutAndState",
    }
    return out


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


def _processes(computed: Computed) -> list[str]:
    if computed.method != "perseus":
        return [METHOD_IRI]
    processes = ib1()["processes"]
    return [processes[f] for f in ("electricity", "gas") if any(p.fuel == f for p in computed.parts)]


def _factor_steps(computed: Computed, issued: datetime) -> list[ProvenanceStep]:
    types = ib1()["source_types"]
    steps = []
    if computed.series is not None:
        s = computed.series
        steps.append(ProvenanceStep(
            type="OriginStep", timestamp=issued, source_type=types["grid_carbon_intensity"], origin=s.source_url,
            step_id=f"NESO regional carbon intensity, region {s.region_id} ({s.region_name}), outcode {s.postcode_outcode}, sha256 {s.sha256}",
        ))
    for f in computed.factors:
        if f.scope == "scope2-market-based" or not f.source.startswith("http"):
            continue  # the fuel mix comes from a linked tariff credential, named in relatedResource
        kind = types["gas_factor"] if f.scope == "scope1" else types["grid_carbon_intensity"]
        steps.append(ProvenanceStep(type="OriginStep", timestamp=issued, source_type=kind, origin=f.source, step_id=f"{f.name} ({f.year})"))
    return steps


# -- recomputation (what a verifier holding the same files does) ---------------------------------------------


def recompute_emissions(
    report: Mapping[str, Any],
    consumption: Sequence[Any],
    *,
    intensity: IntensitySeries | None = None,
    tariff: Any | None = None,
    loader: DocumentLoader | None = None,
    verify_inputs: bool = True,
) -> list[str]:
    """Recompute a report's figures from its inputs; the list of differences (empty when every figure matches).

    A verifier gives the consumption credentials the report links to, the recorded intensity file (for the
    Perseus method) and the tariff if market-based figures are stated. The intensity file must be the one the
    report names (same SHA-256); the method, missing-intensity policy and factor year are read from the report.
    """
    loader = loader or DocumentLoader()
    if not isinstance(report, dict) or "EmissionsReportCredential" not in (report.get("type") or []):
        return ["not an EmissionsReportCredential"]
    shape = validate_shape(report)
    if shape:
        return [f"the report is not well formed: {shape[0].detail}"]
    subject = report["credentialSubject"]
    method: Method = "desnz-annual" if subject.get("method") == METHOD else "perseus"
    problems: list[str] = []
    stated_series = subject.get("intensitySeries")
    policy: MissingPolicy = "refuse"
    if isinstance(stated_series, Mapping):
        policy = "state" if stated_series.get("missingIntensityPolicy") == "LeaveOutAndState" else "refuse"
        if intensity is None:
            return ["the report was computed from an intensity series; give the recorded file to recompute it"]
        if intensity.sha256 != stated_series.get("fileSha256"):
            return [f"the intensity file given has SHA-256 {intensity.sha256}, but the report names {stated_series.get('fileSha256')}"]
    years = {int(f["year"]) for f in subject.get("emissionFactors", []) if f.get("scope") != "scope2-market-based"}
    try:
        inputs = [read_consumption_input(c, where=f"consumption[{i}]", loader=loader, verify=verify_inputs) for i, c in enumerate(consumption)]
        fuel_mix = fuel_mix_from_tariff_credential(tariff, loader=loader, verify=verify_inputs)[0] if tariff is not None else None
        computed = compute_emissions(
            inputs, method=method, intensity=intensity, missing_intensity=policy, fuel_mix=fuel_mix, year=years.pop() if len(years) == 1 else None
        )
    except InputDataError as exc:
        return [f"cannot recompute: {exc.message}"]
    expected = _subject(inputs, computed)
    for key in sorted(set(expected) | set(subject)):
        if key in ("description", "rounding"):
            continue
        if expected.get(key) != subject.get(key):
            problems.append(f"credentialSubject.{key}: the report states {subject.get(key)!r}, recomputed {expected.get(key)!r}")
    return problems
