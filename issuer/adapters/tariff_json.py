"""Tariff JSON → `Tariff`, from a supplier's public product API shape or our richer form.

**Supplier product API form** (the shape of Octopus Energy's public REST API, bundled in one file)::

    {"product": {"code": "AGILE-24-10-01", "full_name": "...", "direction": "IMPORT"|"EXPORT", "brand": "..."},
     "tariff_code": "E-1R-AGILE-24-10-01-C",          # E/G = fuel, 1R/2R = registers, last letter = GSP group
     "payment_method": "DIRECT_DEBIT",
     "standing_charges":    {"results": [{"value_exc_vat", "value_inc_vat", "valid_from", "valid_to", "payment_method"}]},
     "standard_unit_rates": {"results": [...]}         # or day_unit_rates + night_unit_rates + night_band
     "supplier": "Octopus Energy", "vat_rate": "0.05", "seg": false, "export_meter": {"mpan": "..."}}

Rates valid for exactly 30 minutes make the tariff *dynamic* (Agile). The API does not say when "night"
is for a two-rate (Economy 7) tariff — it depends on the meter — so ``night_band`` (``{"start_time",
"end_time", "time_basis"}``) is required with day/night rates; ``time_basis`` is ``"local"`` (default) or
``"GMT"`` (many Economy 7 meters switch on GMT all year). ``vat_rate`` defaults to the ratio the published
inc./exc. VAT rates imply (they must agree). Refused at build rather than at costing time:

* results for several payment methods (direct debit and not) when no ``payment_method`` is chosen (in the
  file or by the caller): two prices for one band and period cannot both apply;
* a paginated block (``{"results": [...], "next": URL}``) with ``next`` set, unless the caller says it accepts a
  partial response — then the tariff states that it is partial (``partial_response``).

``customer_class`` (``"business"`` or ``"domestic"``; or the product's ``is_business`` flag) says which
taxes apply when the tariff is used to cost consumption.

**Perseus form** (``"format": "perseus-tariff"``): the model's fields directly, with ``unit_rates[]``
each carrying ``band`` and OCPI 2.2.1-style ``restrictions`` (``start_time``, ``end_time``,
``days_of_week``, ``start_date``, ``end_date``), and an optional ``fuel_mix`` — either ours
(``shares``/``co2_g_per_kwh``/...) or OCPI's ``energy_mix`` (``energy_sources``/``environ_impact``).

All numbers are read as exact decimals; errors name the JSON path.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

from perseus.issuer.energy.errors import InputDataError, ParsingInputError
from perseus.issuer.energy.model import DAYS_OF_WEEK, FUEL_MIX_SOURCES, FuelMix, Rate, StandingCharge, Tariff, TimeOfUse
from perseus.issuer.energy.mpan import supply_point
from perseus.issuer.energy.units import parse_decimal

from ._common import load_json, parse_date, parse_instant, parse_time

__all__ = ["parse_tariff", "load_tariff", "parse_fuel_mix"]

_OCPI_SOURCES = {
    "COAL": "coal", "GAS": "natural_gas", "NUCLEAR": "nuclear", "GENERAL_FOSSIL": "other",
    "GENERAL_GREEN": "renewables", "SOLAR": "renewables", "WIND": "renewables", "WATER": "renewables",
}
_BRANDS = {"OCTOPUS_ENERGY": "Octopus Energy"}


def load_tariff(
    source: str | Path | bytes | dict[str, Any],
    *,
    payment_method: str | None = None,
    accept_partial: bool = False,
    customer_class: str | None = None,
) -> Tariff:
    """Parse a tariff file (either form); the keyword arguments are the caller's choices (see `parse_tariff`)."""
    return parse_tariff(load_json(source), payment_method=payment_method, accept_partial=accept_partial, customer_class=customer_class)


def parse_tariff(
    doc: Any,
    *,
    payment_method: str | None = None,
    accept_partial: bool = False,
    customer_class: str | None = None,
) -> Tariff:
    """A `Tariff` from either form. ``payment_method`` chooses among a supplier response's payment methods
    (overriding the file's), ``accept_partial`` accepts a paginated response with only some pages (stated in the
    tariff), ``customer_class`` (business/domestic) overrides or supplies the file's."""
    if not isinstance(doc, dict):
        raise ParsingInputError("a tariff is a JSON object", location="$")
    if customer_class is not None and customer_class not in ("business", "domestic"):
        raise InputDataError(f"customer class must be business or domestic, got {customer_class!r}", location="customer_class")
    if doc.get("format") == "perseus-tariff":
        return _perseus(doc, customer_class)
    if "tariff_code" in doc or "product" in doc:
        return _product_api(doc, payment_method, accept_partial, customer_class)
    raise ParsingInputError(
        "unrecognised tariff JSON: expected \"format\": \"perseus-tariff\" or a supplier product API bundle with \"tariff_code\"",
        location="$",
    )


# ------------------------------------------------------------------------------------------------
# helpers


def _money(obj: dict[str, Any], key: str, where: str) -> Decimal:
    if key not in obj or obj[key] is None:
        raise InputDataError(f"{key} is required", location=f"{where}.{key}")
    return parse_decimal(obj[key], f"{where}.{key}")


def _opt_instant(obj: dict[str, Any], key: str, where: str):  # type: ignore[no-untyped-def]
    value = obj.get(key)
    return None if value in (None, "") else parse_instant(value, f"{where}.{key}")


def _results(doc: dict[str, Any], key: str) -> list[dict[str, Any]]:
    block = doc.get(key)
    if block is None:
        return []
    items = block.get("results") if isinstance(block, dict) else block
    if not isinstance(items, list):
        raise ParsingInputError("expected {\"results\": [...]} or a list", location=key)
    return items


def _wrap(where: str, build):  # type: ignore[no-untyped-def]
    """Run ``build``; an error from the model gets ``where`` (the JSON path) prefixed ("$" adds nothing)."""
    if where == "$":
        return build()
    try:
        return build()
    except InputDataError as exc:
        if exc.location and exc.location.startswith(where):
            raise
        raise exc.at(where) from None


def _restrictions(obj: Any, where: str) -> TimeOfUse | None:
    if obj is None:
        return None
    if not isinstance(obj, dict):
        raise InputDataError("restrictions must be an object", location=where)
    known = {"start_time", "end_time", "days_of_week", "day_of_week", "start_date", "end_date", "time_basis"}
    unknown = set(obj) - known
    if unknown:
        raise InputDataError(f"unknown restriction(s) {sorted(unknown)}; supported: {sorted(known - {'day_of_week'})}", location=where)
    days = obj.get("days_of_week", obj.get("day_of_week", []))
    if not isinstance(days, list):
        raise InputDataError("days_of_week must be a list such as [\"SATURDAY\", \"SUNDAY\"]", location=f"{where}.days_of_week")
    norm = []
    for k, d in enumerate(days):
        name = str(d).strip().upper()
        if name not in DAYS_OF_WEEK:
            raise InputDataError(f"not a day of the week: {d!r}", location=f"{where}.days_of_week[{k}]")
        norm.append(name)
    ordered = tuple(d for d in DAYS_OF_WEEK if d in norm)
    return _wrap(
        where,
        lambda: TimeOfUse(
            start_time=parse_time(obj["start_time"], f"{where}.start_time") if obj.get("start_time") else None,
            end_time=parse_time(obj["end_time"], f"{where}.end_time") if obj.get("end_time") else None,
            days_of_week=ordered,  # type: ignore[arg-type]
            start_date=parse_date(obj["start_date"], f"{where}.start_date") if obj.get("start_date") else None,
            end_date=parse_date(obj["end_date"], f"{where}.end_date") if obj.get("end_date") else None,
            time_basis=_time_basis(obj.get("time_basis"), f"{where}.time_basis"),
        ),
    )


def _time_basis(value: Any, where: str) -> str:
    if value is None:
        return "local"
    text = str(value).strip()
    if text.lower() == "local":
        return "local"
    if text.upper() in ("GMT", "UTC"):
        return "GMT"
    raise InputDataError(f"time_basis must be \"local\" or \"GMT\", got {value!r}", location=where)


def _customer_class(doc: dict[str, Any], product: dict[str, Any], override: str | None) -> str | None:
    if override is not None:
        return override
    value = doc.get("customer_class")
    if value is not None:
        if value not in ("business", "domestic"):
            raise InputDataError(f"customer_class must be business or domestic, got {value!r}", location="customer_class")
        return str(value)
    flag = product.get("is_business")
    if isinstance(flag, bool):
        return "business" if flag else "domestic"
    return None


def _rate(obj: Any, where: str, *, band: str | None = None, restrictions: TimeOfUse | None = None) -> Rate:
    if not isinstance(obj, dict):
        raise ParsingInputError("a rate must be an object", location=where)
    return _wrap(
        where,
        lambda: Rate(
            value_exc_vat=_money(obj, "value_exc_vat", where),
            value_inc_vat=_money(obj, "value_inc_vat", where),
            valid_from=_opt_instant(obj, "valid_from", where),
            valid_to=_opt_instant(obj, "valid_to", where),
            restrictions=restrictions if restrictions is not None else _restrictions(obj.get("restrictions"), f"{where}.restrictions"),
            band=obj.get("band", band),
        ),
    )


def _standing(obj: Any, where: str) -> StandingCharge:
    if not isinstance(obj, dict):
        raise ParsingInputError("a standing charge must be an object", location=where)
    return _wrap(
        where,
        lambda: StandingCharge(
            value_exc_vat=_money(obj, "value_exc_vat", where),
            value_inc_vat=_money(obj, "value_inc_vat", where),
            valid_from=_opt_instant(obj, "valid_from", where),
            valid_to=_opt_instant(obj, "valid_to", where),
        ),
    )


def _implied_vat(rates: list[Rate], standing: list[StandingCharge]) -> Decimal:
    """The VAT rate the published inc./exc. pairs imply (2 dp); they must all agree."""
    implied = set()
    for r in [*rates, *standing]:
        if r.value_exc_vat > 0:
            implied.add((r.value_inc_vat / r.value_exc_vat - 1).quantize(Decimal("0.01"), ROUND_HALF_EVEN))
    if not implied:
        return Decimal(0)
    if len(implied) > 1:
        raise InputDataError(
            f"the published rates imply different VAT rates ({', '.join(sorted(map(str, implied)))}); state vat_rate", location="vat_rate"
        )
    return implied.pop()


def parse_fuel_mix(obj: Any, where: str = "fuel_mix") -> FuelMix:
    """Our fuel-mix form, or OCPI 2.2.1's ``energy_mix`` (sources mapped onto Fuel Mix Disclosure categories)."""
    if not isinstance(obj, dict):
        raise InputDataError("fuel_mix must be an object", location=where)
    start = parse_date(obj.get("period_start"), f"{where}.period_start")
    end = parse_date(obj.get("period_end"), f"{where}.period_end")
    if "energy_sources" in obj:
        shares: dict[str, Decimal] = {}
        sources = obj["energy_sources"]
        if not isinstance(sources, list):
            raise InputDataError("energy_sources must be a list of {source, percentage}", location=f"{where}.energy_sources")
        for k, src in enumerate(sources):
            if not isinstance(src, dict):
                raise InputDataError("an energy source must be an object {source, percentage}", location=f"{where}.energy_sources[{k}]")
            name = _OCPI_SOURCES.get(str(src.get("source", "")).upper())
            if name is None:
                raise InputDataError(f"unknown OCPI energy source {src.get('source')!r}", location=f"{where}.energy_sources[{k}].source")
            shares[name] = shares.get(name, Decimal(0)) + parse_decimal(src.get("percentage"), f"{where}.energy_sources[{k}].percentage")
        raw_impacts = obj.get("environ_impact", [])
        if not isinstance(raw_impacts, list) or not all(isinstance(i, dict) for i in raw_impacts):
            raise InputDataError("environ_impact must be a list of {category, amount}", location=f"{where}.environ_impact")
        impacts = {str(i.get("category")).upper(): i.get("amount") for i in raw_impacts}
        if "CARBON_DIOXIDE" not in impacts:
            raise InputDataError("environ_impact needs a CARBON_DIOXIDE amount (g/kWh)", location=f"{where}.environ_impact")
        co2 = parse_decimal(impacts["CARBON_DIOXIDE"], f"{where}.environ_impact.CARBON_DIOXIDE")
        waste = parse_decimal(impacts["NUCLEAR_WASTE"], f"{where}.environ_impact.NUCLEAR_WASTE") if "NUCLEAR_WASTE" in impacts else None
    else:
        raw = obj.get("shares")
        if not isinstance(raw, dict):
            raise InputDataError(f"shares must map {', '.join(FUEL_MIX_SOURCES)} to percentages", location=f"{where}.shares")
        shares = {k: parse_decimal(v, f"{where}.shares.{k}") for k, v in raw.items()}
        co2 = parse_decimal(obj.get("co2_g_per_kwh"), f"{where}.co2_g_per_kwh")
        waste_raw = obj.get("radioactive_waste_g_per_kwh")
        waste = None if waste_raw is None else parse_decimal(waste_raw, f"{where}.radioactive_waste_g_per_kwh")
    rego_raw = obj.get("rego_backed_share")
    rego = None if rego_raw is None else parse_decimal(rego_raw, f"{where}.rego_backed_share")
    return _wrap(where, lambda: FuelMix(start, end, shares, co2, waste, rego, obj.get("source")))


def _export_meter(obj: Any, where: str):  # type: ignore[no-untyped-def]
    if obj is None:
        return None
    mpan = obj.get("mpan") if isinstance(obj, dict) else obj
    return _wrap(where, lambda: supply_point(str(mpan), "electricity", "export", obj.get("postcode_outcode") if isinstance(obj, dict) else None))


def _vat(doc: dict[str, Any], rates: list[Rate], standing: list[StandingCharge]) -> Decimal:
    if doc.get("vat_rate") is not None:
        return parse_decimal(doc["vat_rate"], "vat_rate")
    return _implied_vat(rates, standing)


# ------------------------------------------------------------------------------------------------
# the two forms


def _pages(doc: dict[str, Any], keys: tuple[str, ...], accept_partial: bool) -> str | None:
    """Refuse a paginated block whose ``next`` is set, unless partial responses are accepted (then say so)."""
    partial = []
    for key in keys:
        block = doc.get(key)
        if isinstance(block, dict) and block.get("next"):
            if not accept_partial:
                raise InputDataError(
                    f"the supplier's response is paginated and this is not its last page (next: {block['next']}): fetch every "
                    "page and give them together, or accept a partial response explicitly",
                    location=f"{key}.next",
                )
            partial.append(f"{key} (next page: {block['next']})")
    if not partial:
        return None
    return "partial supplier response: only the first page(s) of " + ", ".join(partial) + " were given; later rates may be missing"


def _payment_methods(doc: dict[str, Any], keys: tuple[str, ...]) -> set[str]:
    return {str(item["payment_method"]) for key in keys for item in _results(doc, key) if isinstance(item, dict) and item.get("payment_method")}


def _product_api(doc: dict[str, Any], chosen_payment: str | None = None, accept_partial: bool = False, customer_class: str | None = None) -> Tariff:
    product = doc.get("product") or {}
    if not isinstance(product, dict):
        raise ParsingInputError("product must be an object (the supplier's product record)", location="product")
    keys = ("standing_charges", "standard_unit_rates", "day_unit_rates", "night_unit_rates")
    partial = _pages(doc, keys, accept_partial)
    code = doc.get("tariff_code")
    if not isinstance(code, str) or len(code.split("-")) < 4:
        raise InputDataError("tariff_code like E-1R-AGILE-24-10-01-C is required", location="tariff_code")
    parts = code.split("-")
    fuel = {"E": "electricity", "G": "gas"}.get(parts[0])
    if fuel is None:
        raise InputDataError(f"tariff_code must start with E- or G-, got {code!r}", location="tariff_code")
    region = parts[-1] if len(parts[-1]) == 1 else None
    payment = chosen_payment or doc.get("payment_method")
    methods = _payment_methods(doc, keys)
    if payment is None and len(methods) > 1:
        raise InputDataError(
            f"the response has rates for several payment methods ({', '.join(sorted(methods))}) and none is chosen: "
            "state payment_method (or choose one when building), since two prices for the same band and period cannot both apply",
            location="payment_method",
        )

    def keep(item: Any) -> bool:  # a non-object is kept, so that parsing it names the error
        return payment is None or not isinstance(item, dict) or item.get("payment_method") in (None, payment)

    standing = [_standing(s, f"standing_charges.results[{k}]") for k, s in enumerate(_results(doc, "standing_charges")) if keep(s)]
    rates: list[Rate] = []
    std = _results(doc, "standard_unit_rates")
    day = _results(doc, "day_unit_rates")
    night = _results(doc, "night_unit_rates")
    if std and (day or night):
        raise InputDataError("give standard_unit_rates or day/night rates, not both", location="standard_unit_rates")
    if std:
        rates = [_rate(r, f"standard_unit_rates.results[{k}]", band="standard") for k, r in enumerate(std) if keep(r)]
    elif day or night:
        if not (day and night):
            raise InputDataError("a two-rate tariff needs both day_unit_rates and night_unit_rates", location="night_unit_rates")
        band = doc.get("night_band")
        if not isinstance(band, dict) or not band.get("start_time") or not band.get("end_time"):
            raise InputDataError(
                "day/night rates need night_band {start_time, end_time} (local time): the product API does not say when night is",
                location="night_band",
            )
        night_tou = _restrictions(
            {"start_time": band["start_time"], "end_time": band["end_time"], "time_basis": band.get("time_basis")}, "night_band"
        )
        assert night_tou is not None
        # Day is the complement of night: the same band, reversed, on the same clock.
        day_tou = TimeOfUse(start_time=night_tou.end_time, end_time=night_tou.start_time, time_basis=night_tou.time_basis)
        rates = [_rate(r, f"day_unit_rates.results[{k}]", band="day", restrictions=day_tou) for k, r in enumerate(day) if keep(r)]
        rates += [_rate(r, f"night_unit_rates.results[{k}]", band="night", restrictions=night_tou) for k, r in enumerate(night) if keep(r)]
    if not rates:
        raise InputDataError("no unit rates (for this payment method)", location="standard_unit_rates")
    dynamic = bool(doc.get("dynamic")) or (
        len(rates) > 1 and all(r.valid_from and r.valid_to and r.valid_to - r.valid_from == timedelta(minutes=30) for r in rates)
    )
    direction = str(product.get("direction", doc.get("direction", "IMPORT"))).lower()
    froms = [r.valid_from for r in rates if r.valid_from]
    tos = [r.valid_to for r in rates]
    return _wrap(
        "$",
        lambda: Tariff(
            supplier=doc.get("supplier") or _BRANDS.get(product.get("brand", ""), product.get("brand") or "unknown"),
            code=code,
            name=product.get("full_name") or product.get("display_name") or code,
            direction=direction,  # type: ignore[arg-type]
            region=region,
            payment_method=payment,
            valid_from=min(froms) if froms else None,
            valid_to=None if any(t is None for t in tos) else max(tos),  # type: ignore[type-var]
            standing_charges=tuple(standing),
            unit_rates=tuple(rates),
            dynamic=dynamic,
            vat_rate=_vat(doc, rates, standing),
            fuel=fuel,  # type: ignore[arg-type]
            fuel_mix=parse_fuel_mix(doc["fuel_mix"]) if doc.get("fuel_mix") else None,
            export_meter=_export_meter(doc.get("export_meter"), "export_meter"),
            seg=bool(doc.get("seg", False)),
            product_code=product.get("code"),
            customer_class=_customer_class(doc, product, customer_class),  # type: ignore[arg-type]
            partial_response=partial,
        ),
    )


def _perseus(doc: dict[str, Any], customer_class: str | None = None) -> Tariff:
    for key in ("supplier", "code", "name", "direction"):
        if not doc.get(key):
            raise InputDataError(f"{key} is required", location=key)
    raw_rates = doc.get("unit_rates")
    if not isinstance(raw_rates, list) or not raw_rates:
        raise InputDataError("unit_rates must be a non-empty list", location="unit_rates")
    rates = [_rate(r, f"unit_rates[{k}]") for k, r in enumerate(raw_rates)]
    raw_standing = doc.get("standing_charges", [])
    if not isinstance(raw_standing, list):
        raise InputDataError("standing_charges must be a list", location="standing_charges")
    standing = [_standing(s, f"standing_charges[{k}]") for k, s in enumerate(raw_standing)]
    return _wrap(
        "$",
        lambda: Tariff(
            supplier=doc["supplier"],
            code=doc["code"],
            name=doc["name"],
            direction=doc["direction"],
            region=doc.get("region"),
            payment_method=doc.get("payment_method"),
            valid_from=_opt_instant(doc, "valid_from", "$"),
            valid_to=_opt_instant(doc, "valid_to", "$"),
            standing_charges=tuple(standing),
            unit_rates=tuple(rates),
            dynamic=bool(doc.get("dynamic", False)),
            vat_rate=_vat(doc, rates, standing),
            fuel=doc.get("fuel", "electricity"),
            fuel_mix=parse_fuel_mix(doc["fuel_mix"]) if doc.get("fuel_mix") else None,
            export_meter=_export_meter(doc.get("export_meter"), "export_meter"),
            seg=bool(doc.get("seg", False)),
            product_code=doc.get("product_code"),
            customer_class=_customer_class(doc, {}, customer_class),  # type: ignore[arg-type]
        ),
    )
