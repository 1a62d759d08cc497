"""Published figures (emission factors, calorific values, gas constants) loaded from ``data/``.

Facts live in data files, each with its source and year, so that a figure can be checked, corrected or
updated without touching code, and so a credential can cite where every number came from. Loading
validates each file: an entry without a source or year is a bug in the data, reported by file and index.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from .errors import FactorNotFoundError
from .model import Factor, Fuel

__all__ = [
    "CalorificValue",
    "GasConstant",
    "emission_factor",
    "emission_factors",
    "calorific_value",
    "gas_constants",
    "gsp_group_for_distributor",
    "TaxRules",
    "tax_rules",
    "neso_api",
]


@dataclass(frozen=True, slots=True)
class CalorificValue:
    """A gas calorific value (MJ/m³, gross) for ``[period_start, period_end)`` with its source."""

    value_mj_per_m3: Decimal
    period_start: date
    period_end: date
    source: str
    caveat: str | None = None


@dataclass(frozen=True, slots=True)
class GasConstant:
    value: Decimal
    source: str
    year: int
    caveat: str | None = None


def _load(name: str) -> Any:
    text = resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8")
    return json.loads(text, parse_float=Decimal)


def _require(entry: dict[str, Any], keys: tuple[str, ...], where: str) -> None:
    missing = [k for k in keys if entry.get(k) in (None, "")]
    if missing:
        raise FactorNotFoundError(f"{where} lacks {', '.join(missing)}: every figure needs its value, source and year")


@cache
def emission_factors() -> tuple[tuple[Fuel, Factor], ...]:
    """Every emission factor in ``data/emission_factors.json``, with the fuel it applies to."""
    doc = _load("emission_factors.json")
    out: list[tuple[Fuel, Factor]] = []
    for i, entry in enumerate(doc["factors"]):
        _require(entry, ("fuel", "year", "value", "unit", "source", "scope", "name"), f"emission_factors.json factors[{i}]")
        out.append(
            (
                entry["fuel"],
                Factor(
                    value=Decimal(entry["value"]),
                    unit=entry["unit"],
                    source=entry["source"],
                    year=int(entry["year"]),
                    scope=entry["scope"],
                    name=entry["name"],
                    caveat=entry.get("caveat"),
                ),
            )
        )
    return tuple(out)


def emission_factor(fuel: Fuel, year: int, unit: str = "kgCO2e/kWh") -> Factor:
    """The factor for ``fuel`` in reporting ``year`` per ``unit`` (``kgCO2e/kWh`` or, for gas, ``kgCO2e/m3``).

    `FactorNotFoundError` names the years we have: a missing year is refused, never guessed from a neighbour.
    """
    available = sorted(f.year for fu, f in emission_factors() if fu == fuel and f.unit == unit)
    for fu, factor in emission_factors():
        if fu == fuel and factor.year == year and factor.unit == unit:
            return factor
    raise FactorNotFoundError(
        f"no {fuel} emission factor in {unit} for {year} in data/emission_factors.json (have {', '.join(map(str, available)) or 'none'}); "
        "add the DESNZ figure for that year with its source"
    )


@cache
def _calorific_values() -> tuple[CalorificValue, ...]:
    doc = _load("calorific_values.json")
    out = []
    for i, entry in enumerate(doc["values"]):
        _require(entry, ("period_start", "period_end", "value", "source"), f"calorific_values.json values[{i}]")
        out.append(
            CalorificValue(
                value_mj_per_m3=Decimal(entry["value"]),
                period_start=date.fromisoformat(entry["period_start"]),
                period_end=date.fromisoformat(entry["period_end"]),
                source=entry["source"],
                caveat=entry.get("caveat"),
            )
        )
    return tuple(out)


def calorific_value(on: date) -> CalorificValue:
    """The indicative CV covering ``on`` (prefer the CV on the supplier's bill; see the data file's caveat)."""
    for cv in _calorific_values():
        if cv.period_start <= on < cv.period_end:
            return cv
    raise FactorNotFoundError(
        f"no calorific value for {on.isoformat()} in data/calorific_values.json; pass the CV from the gas bill explicitly"
    )


@cache
def gas_constants() -> dict[str, GasConstant]:
    """``volume_correction_factor``, ``mj_per_kwh``, ``imperial_m3_per_hundred_cubic_feet`` (the bill's 2.83) and
    ``imperial_m3_per_hundred_cubic_feet_exact`` (2.8316846592), with sources."""
    doc = _load("gas_conversion.json")
    out = {}
    for key in ("volume_correction_factor", "mj_per_kwh", "imperial_m3_per_hundred_cubic_feet", "imperial_m3_per_hundred_cubic_feet_exact"):
        entry = doc[key]
        _require(entry, ("value", "source", "year"), f"gas_conversion.json {key}")
        out[key] = GasConstant(Decimal(entry["value"]), entry["source"], int(entry["year"]), entry.get("caveat"))
    return out


@cache
def cv_truncation() -> tuple[int, str]:
    """(decimal places, the rule in words) for truncating an average calorific value (reg. 3(2))."""
    entry = _load("gas_conversion.json")["calorific_value_truncation"]
    return int(entry["places"]), str(entry["rule"])


@cache
def kwh_rounding() -> tuple[int, str, str]:
    """(decimal places, decimal rounding mode name, the rule in words) for gas kWh results."""
    entry = _load("gas_conversion.json")["kwh_rounding"]
    return int(entry["places"]), entry["mode"], entry["rule"]


@cache
def _gsp_groups() -> dict[str, str]:
    doc = _load("gsp_groups.json")
    return {g["distributor_id"]: g["gsp_group"] for g in doc["groups"]}


def gsp_group_for_distributor(distributor_id: str) -> str | None:
    """The GSP group letter for an MPAN's distributor ID (None for IDNOs, whose area the ID does not give)."""
    return _gsp_groups().get(distributor_id)


@dataclass(frozen=True, slots=True)
class TaxRules:
    """HMRC's rules for business energy: VAT rates, CCL rates by period, de minimis thresholds, with sources."""

    vat_standard: Decimal
    vat_reduced: Decimal
    vat_source: str
    de_minimis_kwh_per_month: dict[str, Decimal]
    de_minimis_source: str
    ccl_rates: tuple[tuple[str, date, date, Decimal], ...]  # (fuel, from, to exclusive, GBP per kWh)
    ccl_source: str
    ccl_caveat: str | None

    def ccl_gbp_per_kwh(self, fuel: str, on: date) -> Decimal:
        """The CCL main rate for ``fuel`` on ``on``; `FactorNotFoundError` outside the recorded periods."""
        for f, start, end, rate in self.ccl_rates:
            if f == fuel and start <= on < end:
                return rate
        raise FactorNotFoundError(
            f"no Climate Change Levy rate for {fuel} on {on.isoformat()} in data/tax_rates.json; add HMRC's rate for that period with its source"
        )


@cache
def tax_rules() -> TaxRules:
    """The rules in ``data/tax_rates.json`` (loaded once)."""
    doc = _load("tax_rates.json")
    vat, dm, ccl = doc["vat"], doc["de_minimis"], doc["ccl"]
    rates = []
    for i, r in enumerate(ccl["rates"]):
        _require(r, ("fuel", "from", "to", "gbp_per_kwh"), f"tax_rates.json ccl.rates[{i}]")
        rates.append((r["fuel"], date.fromisoformat(r["from"]), date.fromisoformat(r["to"]), Decimal(r["gbp_per_kwh"])))
    return TaxRules(
        vat_standard=Decimal(vat["standard"]["value"]),
        vat_reduced=Decimal(vat["reduced"]["value"]),
        vat_source=vat["standard"]["source"],
        de_minimis_kwh_per_month={"electricity": Decimal(dm["electricity_kwh_per_month"]), "gas": Decimal(dm["gas_kwh_per_month"])},
        de_minimis_source=dm["source"],
        ccl_rates=tuple(rates),
        ccl_source=ccl["source"],
        ccl_caveat=ccl.get("caveat"),
    )


@cache
def neso_api() -> dict[str, Any]:
    """What ``data/neso_carbon_intensity.json`` records about the NESO Carbon Intensity API (endpoint, unit, basis)."""
    return dict(_load("neso_carbon_intensity.json"))
