"""Shape validation (perseus.verifier.shapes): well-formed credentials pass, each kind of defect is named."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from perseus.issuer.credentials import Metadata, build_consumption_credential
from perseus.issuer.energy.consumption import build_consumption
from perseus.issuer.energy.mpan import supply_point
from perseus.verifier.meters import mpan_core_is_valid
from perseus.verifier.shapes import SHAPES, credential_kind, shape_check, validate_shape
from perseus_credential_helpers import IMPORT_MPAN, ISSUED, SME, half_hours

CREDENTIALS = Path(__file__).resolve().parents[2] / "examples" / "credentials"


def example(name: str) -> dict[str, Any]:
    return json.loads((CREDENTIALS / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def one_day() -> dict[str, Any]:
    readings = half_hours(datetime(2024, 3, 5, tzinfo=UTC), ["0.250"] * 48)
    data = build_consumption(supply_point(IMPORT_MPAN, "electricity", "import", "SE1"), SME, intervals=readings)
    return build_consumption_credential(data, issuer="did:example:edp", metadata=Metadata("SmartMeterViaDCC"), valid_from=ISSUED)


def details(credential: Any) -> list[str]:
    return [p.detail for p in validate_shape(credential)]


@pytest.mark.parametrize("path", sorted(CREDENTIALS.glob("*.json")), ids=lambda p: p.stem)
def test_every_example_has_the_shape_of_its_type(path: Path) -> None:
    credential = json.loads(path.read_text(encoding="utf-8"))
    assert credential_kind(credential) in SHAPES
    assert validate_shape(credential) == []
    assert shape_check(credential).outcome == "passed"


def test_a_non_perseus_credential_has_no_shape() -> None:
    vc = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "issuer": "did:example:x", "credentialSubject": {"id": "did:example:y"}}
    assert "not a Perseus credential" in details(vc)[0]
    assert shape_check(vc).outcome == "skipped"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda c: c["credentialSubject"]["intervalReadings"][3].__setitem__("value", 0.25), "$.credentialSubject.intervalReadings[3].value: 0.25 must be an exact decimal written as a JSON string"),
        (lambda c: c["credentialSubject"]["intervalReadings"][3].__setitem__("value", "2.5E-1"), "intervalReadings[3].value"),
        (lambda c: c["credentialSubject"]["intervalReadings"][0].__setitem__("note", "x"), "unexpected property 'note'"),
        (lambda c: c["credentialSubject"]["intervalReadings"][1].__setitem__("quality", "guessed"), "must be actual, estimated, missing or substituted"),
        (lambda c: c["credentialSubject"]["intervalReadings"][1].__setitem__("unit", "KG"), "must be a UN/CEFACT unit code"),
        (lambda c: c["credentialSubject"]["intervalReadings"][2].__setitem__("start", "2024-03-05T01:00:00"), "must be an XML Schema dateTime with a timezone"),
        (lambda c: c["credentialSubject"].pop("totalKwh"), "missing required 'totalKwh'"),
        (lambda c: c.__setitem__("@context", ["https://www.w3.org/ns/credentials/v2"]), "must start with the VC 2.0 context then the Perseus context"),
        (lambda c: c["credentialSubject"].__setitem__("accountReference", "ACME-1"), "not both"),
        (lambda c: c["assurance"].__setitem__("pcafDataQualityScore", 7), "PCAF data-quality score from 1 to 5"),
        (lambda c: c["assurance"].__setitem__("missingData", "https://example.org/missing/None"), "missing-data value"),
        (
            lambda c: c["metadata"].__setitem__("standard", "https://registry.core.trust.ib1.org/scheme/perseus/standard/energy-consumption-data/2026-03-12"),
            "must not claim the IB1 energy-consumption-data standard",
        ),
    ],
    ids=["float", "exponent", "extra-property", "quality", "unit", "naive-time", "no-total", "context", "two-owners", "pcaf", "missing-data", "ib1-standard"],
)
def test_schema_violations_are_named_with_their_json_path(one_day: dict[str, Any], mutate: Any, expected: str) -> None:
    credential = copy.deepcopy(one_day)
    mutate(credential)
    found = details(credential)
    assert len(found) == 1 and expected in found[0], found


def test_a_wrong_mpan_check_digit_is_refused(one_day: dict[str, Any]) -> None:
    credential = copy.deepcopy(one_day)
    core = credential["credentialSubject"]["supplyPoint"]["mpan"]
    credential["credentialSubject"]["supplyPoint"]["mpan"] = core[:12] + str((int(core[12]) + 1) % 10)
    assert any("wrong check digit" in d for d in details(credential))


def test_reading_ending_before_it_starts_is_refused(one_day: dict[str, Any]) -> None:
    credential = copy.deepcopy(one_day)
    r = credential["credentialSubject"]["intervalReadings"][7]
    r["start"], r["end"] = r["end"], r["start"]
    found = details(credential)
    assert any(d.startswith("$.credentialSubject.intervalReadings[7]: ends") for d in found), found


def test_overlapping_readings_are_refused(one_day: dict[str, Any]) -> None:
    credential = copy.deepcopy(one_day)
    readings = credential["credentialSubject"]["intervalReadings"]
    readings[10]["end"] = readings[12]["end"]  # now covers the next two half-hours as well
    assert any("overlaps" in d for d in details(credential))


def test_readings_outside_the_period_are_refused(one_day: dict[str, Any]) -> None:
    credential = copy.deepcopy(one_day)
    credential["credentialSubject"]["periodEnd"] = "2024-03-05T12:00:00Z"
    assert any("lies outside the period" in d for d in details(credential))


def test_gas_volumes_need_a_stated_conversion() -> None:
    credential = example("gas-register-m3-2023")
    credential["credentialSubject"].pop("gasConversion")
    assert any("need a stated conversion to kWh" in d for d in details(credential))


def test_an_smart_export_guarantee_rate_must_be_positive() -> None:
    credential = example("tariff-export-seg")
    credential["credentialSubject"]["unitRates"][0]["pencePerKwhExcVat"] = "0"
    assert details(credential), "a SEG tariff paying 0 p/kWh must not pass"
    credential = example("tariff-export-seg")
    credential["credentialSubject"].pop("exportMeter")
    assert details(credential)


def test_dynamic_import_rates_may_be_negative() -> None:
    credential = example("tariff-agile-2023-10")
    assert any(r["pencePerKwhExcVat"].startswith("-") for r in credential["credentialSubject"]["unitRates"])
    assert validate_shape(credential) == []


def test_an_emissions_input_must_be_linked_by_digest() -> None:
    credential = example("emissions-2023-10")
    credential["relatedResource"] = credential["relatedResource"][1:]
    found = details(credential)
    assert any("is not in relatedResource" in d for d in found), found


def test_an_emissions_period_must_be_whole_months() -> None:
    credential = example("emissions-2023-10")
    credential["credentialSubject"]["periodStart"] = "2023-10-02T00:00:00+01:00"
    assert any("not the start of a calendar month" in d for d in details(credential))


@given(st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(lambda d: abs(d.adjusted()) < 30))
@settings(max_examples=60, deadline=None)
def test_any_decimal_written_by_the_builder_passes_and_a_json_number_never_does(one_day: dict[str, Any], value: Decimal) -> None:
    from perseus.issuer.credentials.encode import decimal_text

    credential = copy.deepcopy(one_day)
    credential["credentialSubject"]["intervalReadings"][0]["value"] = decimal_text(value)
    assert validate_shape(credential) == []
    credential["credentialSubject"]["intervalReadings"][0]["value"] = float(value)
    assert validate_shape(credential) != []


@given(st.text(max_size=12))
@settings(max_examples=150, deadline=None)
def test_an_accepted_value_text_is_an_exact_plain_decimal(one_day: dict[str, Any], text: str) -> None:
    credential = copy.deepcopy(one_day)
    credential["credentialSubject"]["intervalReadings"][0]["value"] = text
    if validate_shape(credential) == []:
        parsed = Decimal(text)
        assert parsed.is_finite() and format(parsed, "f") == text


@given(st.text(alphabet="0123456789", min_size=13, max_size=13))
def test_mpan_check_digit_matches_the_published_rule(core: str) -> None:
    weights = (3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43)
    expected = sum(int(d) * w for d, w in zip(core, weights)) % 11 % 10
    assert mpan_core_is_valid(core) == (int(core[12]) == expected)
