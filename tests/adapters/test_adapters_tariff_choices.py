"""Supplier responses that are ambiguous or partial are refused at build; band clocks and customer class are read."""

from __future__ import annotations

import copy
import json
from datetime import time
from pathlib import Path
from typing import Any

import pytest
from perseus.issuer.adapters import parse_tariff
from perseus.issuer.energy.errors import InputDataError

INPUTS = Path(__file__).resolve().parents[2] / "examples" / "inputs"


def economy7() -> dict[str, Any]:
    return json.loads((INPUTS / "tariff_economy7_octopus.json").read_text(encoding="utf-8"))


def test_two_payment_methods_without_a_choice_are_refused_at_build() -> None:
    doc = economy7()
    doc.pop("payment_method")
    dd = doc["day_unit_rates"]["results"][0]
    dd["payment_method"] = "DIRECT_DEBIT"
    doc["day_unit_rates"]["results"].append(dict(dd, payment_method="NON_DIRECT_DEBIT", value_exc_vat="33.00", value_inc_vat="34.65"))
    with pytest.raises(InputDataError, match=r"several payment methods \(DIRECT_DEBIT, NON_DIRECT_DEBIT\) and none is chosen"):
        parse_tariff(copy.deepcopy(doc))
    chosen = parse_tariff(copy.deepcopy(doc), payment_method="NON_DIRECT_DEBIT")
    day = [r for r in chosen.unit_rates if r.band == "day"]
    assert [str(r.value_exc_vat) for r in day] == ["33.00"] and chosen.payment_method == "NON_DIRECT_DEBIT"


def test_a_paginated_response_is_refused_unless_accepted_as_partial() -> None:
    doc = economy7()
    doc["night_unit_rates"]["next"] = "https://supplier.example/v1/products/X/night-unit-rates/?page=2"
    with pytest.raises(InputDataError, match="paginated and this is not its last page"):
        parse_tariff(copy.deepcopy(doc))
    partial = parse_tariff(copy.deepcopy(doc), accept_partial=True)
    assert partial.partial_response is not None and "night_unit_rates" in partial.partial_response and "page=2" in partial.partial_response
    doc["night_unit_rates"]["next"] = None
    assert parse_tariff(doc).partial_response is None


def test_the_night_band_carries_its_clock_in_the_supplier_form() -> None:
    doc = economy7()
    doc["night_band"] = {"start_time": "00:00", "end_time": "07:00", "time_basis": "GMT"}
    tariff = parse_tariff(doc)
    night = next(r for r in tariff.unit_rates if r.band == "night")
    day = next(r for r in tariff.unit_rates if r.band == "day")
    assert night.restrictions is not None and night.restrictions.time_basis == "GMT" and night.restrictions.start_time == time(0)
    assert day.restrictions is not None and day.restrictions.time_basis == "GMT", "day is the complement, on the same clock"
    doc["night_band"]["time_basis"] = "summer"
    with pytest.raises(InputDataError, match='time_basis must be "local" or "GMT"'):
        parse_tariff(doc)


def test_the_customer_class_is_read_from_the_file_the_product_or_the_caller() -> None:
    doc = economy7()
    assert parse_tariff(copy.deepcopy(doc)).customer_class == "domestic"
    doc.pop("customer_class")
    assert parse_tariff(copy.deepcopy(doc)).customer_class is None
    doc["product"]["is_business"] = True
    assert parse_tariff(copy.deepcopy(doc)).customer_class == "business"
    assert parse_tariff(copy.deepcopy(doc), customer_class="domestic").customer_class == "domestic"
    doc["customer_class"] = "charity"
    with pytest.raises(InputDataError, match="business or domestic"):
        parse_tariff(doc)


def test_the_rich_form_reads_a_gmt_restriction() -> None:
    doc = json.loads((INPUTS / "tariff_weekend_offpeak_fuelmix.json").read_text(encoding="utf-8"))
    doc["unit_rates"][0]["restrictions"]["time_basis"] = "GMT"
    tariff = parse_tariff(doc)
    assert tariff.unit_rates[0].restrictions is not None and tariff.unit_rates[0].restrictions.time_basis == "GMT"
    assert tariff.customer_class == "business"
