"""Octopus Energy tariff endpoints, as returned: unit rates and standing charges, pages and all.

Source (public): https://developer.octopus.energy/rest/reference/ — "List tariff charges":
``/v1/products/{product}/electricity-tariffs/{tariff_code}/standard-unit-rates/`` (and ``day-unit-rates``,
``night-unit-rates``, ``standing-charges``; ``gas-tariffs`` for gas). Each answers ``{count, next, previous,
results: [{value_exc_vat, value_inc_vat, valid_from, valid_to, payment_method}]}``, newest first,
paginated (``next`` is the following page's URL). ``payment_method`` is ``DIRECT_DEBIT``,
``NON_DIRECT_DEBIT`` or null (for every method). Agile rates are half-hourly; Economy 7 has day and night
rates but the API does not say when night is (it depends on the meter), so a night band must be given.

This module joins the responses, as downloaded (one page, or a JSON array of every page), into the
supplier product-API bundle `tariff_json.parse_tariff` reads, so nothing is wrapped by hand.
"""

from __future__ import annotations

from typing import Any

from perseus.issuer.energy.errors import InputDataError

__all__ = ["is_rates_response", "octopus_tariff_bundle", "joined_results"]


def is_rates_response(document: Any) -> bool:
    """One page (or a list of pages) of a tariff-charges endpoint: ``results`` of objects with ``value_inc_vat``."""
    pages = document if isinstance(document, list) and document else [document]
    for page in pages:
        if not (isinstance(page, dict) and isinstance(page.get("results"), list) and "count" in page):
            return False
        if page["results"] and not (isinstance(page["results"][0], dict) and "value_inc_vat" in page["results"][0]):
            return False
    return True


def joined_results(document: Any, name: str) -> dict[str, Any]:
    """Every page's results in one block ``{results, next}``; ``next`` stays set when pages are missing."""
    if not is_rates_response(document):
        raise InputDataError("not an Octopus tariff-charges response: expected {count, next, previous, results: [...]}", location=name)
    pages = document if isinstance(document, list) else [document]
    results: list[Any] = []
    for page in pages:
        results.extend(page["results"])
    count = pages[0]["count"]
    pending = None if len(results) >= count else next((p.get("next") for p in reversed(pages) if p.get("next")), f"{len(results)} of {count}")
    return {"results": results, "next": pending}


def octopus_tariff_bundle(
    tariff_code: str,
    *,
    standing_charges: Any,
    unit_rates: Any = None,
    day_rates: Any = None,
    night_rates: Any = None,
    night_band: dict[str, str] | None = None,
    payment_method: str | None = None,
    customer_class: str | None = None,
    direction: str = "IMPORT",
    supplier: str = "Octopus Energy",
) -> dict[str, Any]:
    """The product-API bundle for `parse_tariff` from the endpoint responses as downloaded."""
    bundle: dict[str, Any] = {
        "supplier": supplier,
        "product": {"code": _product_code(tariff_code), "direction": direction},
        "tariff_code": tariff_code,
        "standing_charges": joined_results(standing_charges, "standing charges"),
    }
    if payment_method:
        bundle["payment_method"] = payment_method
    if customer_class:
        bundle["customer_class"] = customer_class
    if unit_rates is not None:
        bundle["standard_unit_rates"] = joined_results(unit_rates, "unit rates")
    if day_rates is not None or night_rates is not None:
        if day_rates is None or night_rates is None or night_band is None:
            raise InputDataError("a two-rate (Economy 7) tariff needs day rates, night rates and when night is", location="night rates")
        bundle["day_unit_rates"] = joined_results(day_rates, "day rates")
        bundle["night_unit_rates"] = joined_results(night_rates, "night rates")
        bundle["night_band"] = night_band
    return bundle


def _product_code(tariff_code: str) -> str:
    """E-1R-AGILE-24-10-01-C → AGILE-24-10-01 (fuel, registers and region letter removed)."""
    parts = tariff_code.split("-")
    return "-".join(parts[2:-1]) if len(parts) > 3 else tariff_code
