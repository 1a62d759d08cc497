"""A `CostBreakdown` as the bill a bookkeeper checks: month by month, as text or as JSON.

Why a separate module: `tariffs.cost` does the arithmetic exactly (pence, unrounded); a bill is a
presentation of it. Each line is shown in pounds rounded to the penny for reading, while the JSON keeps the
exact pence, so the figures can be re-added; the grand total is the exact sum rounded once (as the
arithmetic states), so it may differ by a penny from the sum of rounded lines.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .model import CostBreakdown, MonthCost

__all__ = ["bill_json", "bill_text"]

_TAXES = {
    "business": "business supply: Climate Change Levy, and VAT at the standard rate on energy, standing charge and CCL",
    "de-minimis": "business supply within HMRC's de minimis this month: treated as domestic (reduced-rate VAT, no CCL)",
    "domestic": "domestic supply: reduced-rate VAT, no CCL",
    "tariff-vat": "customer class not stated by the tariff: VAT at the tariff's rate, no CCL (state business or domestic)",
    "export": "export income: no VAT, no CCL",
}


def _gbp(pence: Decimal) -> Decimal:
    return (pence / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _text(value: Decimal) -> str:
    out = format(value, "f")
    return "0" if out == "-0" else out


def _month_json(m: MonthCost) -> dict[str, Any]:
    out: dict[str, Any] = {
        "month": m.label,
        "start": m.start.isoformat(),
        "end": m.end.isoformat(),
        "kwh": _text(m.kwh),
        "bands": [{"band": b.band, "kwh": _text(b.kwh), "pence_exc_vat": _text(b.pence_exc_vat)} for b in m.by_band],
        "energy_pence_exc_vat": _text(m.energy_pence_exc_vat),
        "standing_days": m.standing_days,
        "standing_pence_exc_vat": _text(m.standing_pence_exc_vat),
        "taxes": m.taxes,
        "taxes_rule": _TAXES[m.taxes],
        "ccl_pence": _text(m.ccl_pence),
        "vat_rate": _text(m.vat_rate),
        "vat_pence": _text(m.vat_pence),
        "total_pence_inc_vat": _text(m.total_pence_inc_vat),
        "total_gbp_inc_vat": _text(_gbp(m.total_pence_inc_vat)),
    }
    if m.ccl_pence_per_kwh is not None:
        out["ccl_pence_per_kwh"] = _text(m.ccl_pence_per_kwh)
    if m.de_minimis_kwh is not None:
        out["de_minimis_kwh"] = _text(m.de_minimis_kwh)
    return out


def bill_json(cost: CostBreakdown, *, tariff: dict[str, Any] | None = None) -> dict[str, Any]:
    """The bill as JSON: exact pence as decimal strings, each month's lines, totals, the rules and their sources."""
    out: dict[str, Any] = {}
    if tariff:
        out["tariff"] = tariff
    out |= {
        "direction": cost.direction,
        "customer_class": cost.customer_class,
        "period_start": cost.period_start.isoformat(),
        "period_end": cost.period_end.isoformat(),
        "months": [_month_json(m) for m in cost.months],
        "kwh": _text(cost.kwh),
        "energy_pence_exc_vat": _text(cost.energy_pence_exc_vat),
        "standing_pence_exc_vat": _text(cost.standing_pence_exc_vat),
        "ccl_pence": _text(cost.ccl_pence),
        "vat_pence": _text(cost.vat_pence),
        "total_pence_inc_vat": _text(cost.total_pence_inc_vat),
        "total_gbp_inc_vat": _text(cost.total_gbp_inc_vat),
        "rounding": cost.rounding,
        "tax_sources": list(cost.tax_sources),
    }
    return out


def bill_text(cost: CostBreakdown, *, title: str = "") -> str:
    """The bill as lines a person reads: per month, standing charge, each band, CCL, VAT and the total."""
    lines = [title] if title else []
    lines.append(
        f"{'Income' if cost.direction == 'export' else 'Bill'} {cost.period_start.date().isoformat()} to "
        f"{cost.period_end.date().isoformat()} (end exclusive); customer class: {cost.customer_class or 'not stated'}"
    )
    def line(label: str, pounds: Decimal) -> str:
        return f"  {label:<52}£{pounds:>10}"

    for m in cost.months:
        lines.append("")
        lines.append(f"{m.label}  ({m.start.date().isoformat()} to {m.end.date().isoformat()}): {_TAXES[m.taxes]}")
        if m.standing_days:
            lines.append(line(f"standing charge, {m.standing_days} days", _gbp(m.standing_pence_exc_vat)))
        for b in m.by_band:
            lines.append(line(f"{b.band}: {_text(b.kwh)} kWh", _gbp(b.pence_exc_vat)))
        if m.taxes == "business":
            rate = f"{_text(m.ccl_pence_per_kwh.normalize())} p/kWh" if m.ccl_pence_per_kwh is not None else "the rate of each day"
            lines.append(line(f"Climate Change Levy: {_text(m.kwh)} kWh x {rate}", _gbp(m.ccl_pence)))
        elif m.de_minimis_kwh is not None:
            lines.append(f"  de minimis: {_text(m.kwh)} kWh <= {_text(m.de_minimis_kwh.quantize(Decimal('0.001')))} kWh, so no CCL")
        if cost.direction == "import":
            base = m.energy_pence_exc_vat + m.standing_pence_exc_vat + m.ccl_pence
            pct = _text((m.vat_rate * 100).normalize())
            lines.append(line(f"VAT {pct}% on £{_gbp(base)}", _gbp(m.vat_pence)))
        lines.append(line("month total", _gbp(m.total_pence_inc_vat)))
    lines.append("")
    lines.append(line(f"TOTAL {_text(cost.kwh)} kWh", cost.total_gbp_inc_vat))
    lines.append("(lines are rounded to the penny for reading; the total is the exact sum rounded once)")
    return "\n".join(lines) + "\n"
