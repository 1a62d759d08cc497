"""The three builders: what they state, that it is well formed and strict JSON-LD, and that signing protects it."""

# ruff: noqa: F811  (pytest fixtures imported from perseus_credential_helpers are redefined as parameters)

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from perseus.issuer.adapters import load_register_reads, load_tariff
from perseus.issuer.credentials import (
    Assurance,
    CredentialShapeError,
    Metadata,
    Provenance,
    build_consumption_credential,
    build_emissions_credential,
    build_tariff_credential,
    credential_digest,
)
from perseus.issuer.energy.consumption import build_consumption
from perseus.issuer.energy.errors import InputDataError
from perseus.issuer.energy.model import ConsumptionData, EnergyUnit, IntervalReading
from perseus.issuer.energy.mpan import supply_point
from perseus.issuer.signing import sign_document
from perseus.verifier.jsonld import expand, to_rdf
from perseus.verifier.loader import DocumentLoader
from perseus.verifier.shapes import validate_shape
from perseus.verifier.verify import verify_credential
from perseus_credential_helpers import IMPORT_MPAN, INPUTS, ISSUED, SME, cap_key, edp_key, half_hours, january  # noqa: F401 (fixtures)

VOCAB = "https://w3id.org/perseus/vocab#"
LOADER = DocumentLoader()


def well_formed(credential: dict[str, Any]) -> None:
    assert validate_shape(credential) == []
    expand(credential, LOADER, strict=True)
    quads = to_rdf(credential, LOADER, strict=True)
    assert not any(q[1].endswith("#first>") for q in quads), "nothing may be an rdf:List"


def consumption(data: ConsumptionData, issuer: str, **kwargs: Any) -> dict[str, Any]:
    return build_consumption_credential(data, issuer=issuer, metadata=Metadata("SmartMeterViaDCC"), valid_from=ISSUED, **kwargs)


def test_consumption_credential_states_the_data(january: ConsumptionData) -> None:
    credential = consumption(january, "did:example:edp")
    well_formed(credential)
    assert credential["@context"] == ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/perseus/credentials/v1"]
    assert credential["type"] == ["VerifiableCredential", "EnergyConsumptionCredential"]
    assert credential["id"].startswith("urn:uuid:") and credential["validFrom"] == "2024-02-01T09:00:00Z"
    subject = credential["credentialSubject"]
    assert subject["supplyPoint"] == {"type": "SupplyPoint", "mpan": IMPORT_MPAN, "fuel": "electricity", "measure": "import", "postcodeOutcode": "SE1"}
    assert subject["customer"] == SME and "accountReference" not in subject
    readings = subject["intervalReadings"]
    assert len(readings) == 31 * 48
    assert all(set(r) == {"start", "end", "value", "unit", "quality"} for r in readings)
    assert [r["value"] for r in readings] == [str(r.value) for r in january.intervals]
    assert Decimal(subject["totalKwh"]) == sum(Decimal(r["value"]) for r in readings)
    assert [t["label"] for t in subject["monthlyTotals"]] == ["2024-01"]
    assert len(subject["dailyTotals"]) == 31
    assert subject["completeness"]["shareActual"].startswith("1")
    assert "dailyTotals" not in consumption(january, "did:example:edp", daily_totals=False)["credentialSubject"]


def test_readings_are_an_unordered_set_of_compact_nodes(january: ConsumptionData) -> None:
    quads = to_rdf(consumption(january, "did:example:edp"), LOADER)
    links = [q for q in quads if q[1] == f"<{VOCAB}intervalReadings>"]
    assert len(links) == 31 * 48 and all(q[2].startswith("_:") for q in links)
    one = links[0][2]
    assert {q[1] for q in quads if q[0] == one} == {f"<{VOCAB}{p}>" for p in ("start", "end", "value", "unit", "quality")}
    values = [q[2] for q in quads if q[0] == one and q[1] == f"<{VOCAB}value>"]
    assert values[0].endswith('^^<http://www.w3.org/2001/XMLSchema#decimal>')


def test_estimated_data_lowers_the_pcaf_claim_and_sets_missing_data() -> None:
    start = datetime(2024, 3, 5, tzinfo=UTC)
    readings = half_hours(start, ["0.5"] * 40) + half_hours(start + timedelta(hours=20), ["0.4"] * 8, quality="estimated")
    data = build_consumption(supply_point(IMPORT_MPAN, "electricity"), SME, intervals=readings)
    credential = consumption(data, "did:example:edp")
    assert credential["assurance"]["missingData"].endswith("/missing-data/Substituted")
    assert credential["assurance"]["pcafDataQualityScore"] == 3
    assert "8 estimated" in credential["assurance"]["pcafScoreReason"]
    complete = consumption(build_consumption(supply_point(IMPORT_MPAN, "electricity"), SME, intervals=half_hours(start, ["0.5"] * 48)), "did:example:edp")
    assert complete["assurance"]["missingData"].endswith("/missing-data/Complete")
    assert complete["assurance"]["pcafDataQualityScore"] == 2


def test_given_claims_override_the_derived_ones(january: ConsumptionData) -> None:
    credential = build_consumption_credential(
        january,
        issuer={"id": "did:example:edp", "name": "Example EDP"},
        metadata=Metadata("CustomerRead", collection_method="photo of the meter"),
        assurance=Assurance(dataset_assurance_level=4, pcaf_score=1, pcaf_reason="verified by an auditor", connectedness="checked"),
        provenance=Provenance(derived_from=("urn:uuid:00000000-0000-4000-8000-000000000001",)),
        valid_from=ISSUED,
    )
    well_formed(credential)
    assert credential["issuer"] == {"id": "did:example:edp", "name": "Example EDP"}
    assert credential["metadata"]["dataSource"] == "CustomerRead"
    assert credential["assurance"]["datasetAssuranceLevel"] == "https://registry.trust.ib1.org/dataset-assurance-level/Level4"
    assert credential["assurance"]["pcafDataQualityScore"] == 1
    assert credential["provenance"]["derivedFrom"] == ["urn:uuid:00000000-0000-4000-8000-000000000001"]


def test_a_builder_refuses_to_return_a_malformed_credential(january: ConsumptionData) -> None:
    with pytest.raises(CredentialShapeError) as raised:
        build_consumption_credential(january, issuer="not a url", metadata=Metadata("SmartMeterViaDCC"))
    assert "$.issuer" in raised.value.message and raised.value.code == "MALFORMED_VALUE_ERROR"


def test_gas_register_reads_state_baseline_rollover_and_conversion() -> None:
    reads = load_register_reads(INPUTS / "gas_register_reads_hcf.json")
    data = build_consumption(reads.supply_point, reads.account, register_series=reads.series, cv=reads.calorific_value)
    credential = build_consumption_credential(data, issuer="did:example:edp", metadata=Metadata("SupplierBilling"), valid_from=ISSUED)
    well_formed(credential)
    subject = credential["credentialSubject"]
    series = subject["registerReads"]
    assert series["unit"] == "HH" and series["registerDigits"] == 4
    assert series["baseline"] == {"readAt": "2023-01-01T00:00:00Z", "value": "9143", "readType": "actual"}
    assert len(series["meterExchanges"]) == 1 and series["meterExchanges"][0]["newBaseline"]["value"] == "0"
    assert Decimal(series["consumption"]) == data.register_consumption.total  # type: ignore[union-attr]
    gas = subject["gasConversion"]
    assert gas["volumeUnit"] == "HH" and gas["imperialFactor"] == "2.83" and gas["correctionFactor"] == "1.02264"
    assert Decimal(gas["volumeM3"]) == Decimal(gas["volume"]) * Decimal("2.83")  # the bill factor, as stated
    assert subject["totalKwh"] == gas["kwh"]
    assert subject["accountReference"] == reads.account


def test_tariff_credential_states_bands_days_dates_and_fuel_mix() -> None:
    tariff = load_tariff(INPUTS / "tariff_weekend_offpeak_fuelmix.json")
    credential = build_tariff_credential(tariff, issuer="did:example:supplier", valid_from=ISSUED)
    well_formed(credential)
    subject = credential["credentialSubject"]
    bands = {r["band"]: r for r in subject["unitRates"]}
    assert bands["weekend"]["timeOfUse"] == {"daysOfWeek": ["SATURDAY", "SUNDAY"]}
    assert bands["weekday-off-peak"]["timeOfUse"]["startTime"] == "23:00:00"
    assert {r["timeOfUse"].get("startDate") for r in subject["unitRates"] if r["band"] == "winter-peak"} == {"2023-11-01", "2023-01-01"}
    assert subject["vatRate"] == "0.20" and subject["direction"] == "import"
    mix = subject["fuelMix"]
    assert {s["fuelSource"] for s in mix["fuelShares"]} == {"coal", "natural_gas", "nuclear", "renewables", "other"}
    assert sum(Decimal(s["percentage"]) for s in mix["fuelShares"]) == 100
    assert credential["metadata"]["dataSource"] == "SupplierTariffData"


def test_export_tariff_names_its_export_meter() -> None:
    credential = build_tariff_credential(load_tariff(INPUTS / "tariff_export_seg.json"), issuer="did:example:supplier", valid_from=ISSUED)
    well_formed(credential)
    subject = credential["credentialSubject"]
    assert subject["direction"] == "export" and subject["smartExportGuarantee"] is True
    assert subject["exportMeter"]["measure"] == "export" and subject["exportMeter"]["mpan"] == "1200123456796"


# -- signing and tampering ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signed_january(january: ConsumptionData, edp_key: Any) -> dict[str, Any]:
    return sign_document(consumption(january, edp_key.controller), edp_key, created="2024-02-01T09:00:00Z")


def test_a_signed_consumption_credential_verifies(signed_january: dict[str, Any]) -> None:
    result = verify_credential(signed_january)
    assert result.verified, result.report()


@pytest.mark.parametrize(
    "tamper",
    [
        lambda s: s["intervalReadings"][100].__setitem__("value", "0.001"),
        lambda s: s["intervalReadings"][5].__setitem__("quality", "estimated"),
        lambda s: s["intervalReadings"].pop(),
        lambda s: s.__setitem__("totalKwh", "1.000"),
        lambda s: s["supplyPoint"].__setitem__("postcodeOutcode", "M1"),
    ],
    ids=["value", "quality", "removed-reading", "total", "outcode"],
)
def test_tampering_with_a_signed_credential_is_detected(signed_january: dict[str, Any], tamper: Any) -> None:
    tampered = copy.deepcopy(signed_january)
    tamper(tampered["credentialSubject"])
    result = verify_credential(tampered)
    assert not result.verified
    assert any(p.code == "PROOF_VERIFICATION_ERROR" for p in result.errors)


def test_reordering_readings_is_not_tampering(signed_january: dict[str, Any]) -> None:
    reordered = copy.deepcopy(signed_january)
    reordered["credentialSubject"]["intervalReadings"].reverse()
    assert verify_credential(reordered).verified, "readings are a set: order carries no meaning and is not signed"


# -- emissions --------------------------------------------------------------------------------------------------


def test_emissions_report_links_each_input_by_digest(signed_january: dict[str, Any], cap_key: Any) -> None:
    report = build_emissions_credential([signed_january], issuer=cap_key.controller, valid_from=ISSUED, method="desnz-annual")
    well_formed(report)
    assert report["relatedResource"] == [{"id": signed_january["id"], "digestMultibase": credential_digest(signed_january)}]
    subject = report["credentialSubject"]
    assert subject["customer"] == SME and subject["method"] == "DesnzAnnualFactors"
    assert "standard" not in report["metadata"], "the annual DESNZ method must not claim the Perseus emissions standard"
    assert subject["totalKwh"] == signed_january["credentialSubject"]["totalKwh"]
    assert [m["month"] for m in subject["monthlyEmissions"]] == ["2024-01"]
    assert "scope2MarketBasedKgCO2e" not in subject, "no fuel mix given, so no market-based figure"
    assert "market-based Scope 2 is unavailable" in subject["marketBasedUnavailable"]
    assert report["provenance"]["derivedFrom"] == [signed_january["id"]]
    factor = subject["emissionFactors"][0]
    assert Decimal(subject["scope2LocationBasedKgCO2e"]) == (Decimal(subject["totalKwh"]) * Decimal(factor["value"])).quantize(Decimal("0.001"))


def test_emissions_refuses_an_input_that_does_not_verify(signed_january: dict[str, Any], cap_key: Any) -> None:
    tampered = copy.deepcopy(signed_january)
    tampered["credentialSubject"]["totalKwh"] = "1.000"
    with pytest.raises(InputDataError) as raised:
        build_emissions_credential([tampered], issuer=cap_key.controller, valid_from=ISSUED, method="desnz-annual")
    assert raised.value.location == "consumption[0]" and "does not verify" in raised.value.message


def test_emissions_refuses_an_unsigned_input(january: ConsumptionData, cap_key: Any) -> None:
    with pytest.raises(InputDataError, match="does not verify"):
        build_emissions_credential([consumption(january, "did:example:edp")], issuer=cap_key.controller, valid_from=ISSUED, method="desnz-annual")


def test_emissions_refuses_the_same_input_twice(signed_january: dict[str, Any], cap_key: Any) -> None:
    with pytest.raises(InputDataError, match="same credential"):
        build_emissions_credential([signed_january, signed_january], issuer=cap_key.controller, valid_from=ISSUED, method="desnz-annual")


def test_emissions_refuses_inputs_of_different_smes(signed_january: dict[str, Any], edp_key: Any, cap_key: Any) -> None:
    other = build_consumption(supply_point("1200123456796", "electricity"), "did:example:another-sme", intervals=half_hours(datetime(2024, 1, 1, tzinfo=UTC), ["0.1"] * (31 * 48)))
    other_signed = sign_document(consumption(other, edp_key.controller), edp_key)
    with pytest.raises(InputDataError, match="a report covers one SME"):
        build_emissions_credential([signed_january, other_signed], issuer=cap_key.controller, valid_from=ISSUED, method="desnz-annual")


# -- properties ------------------------------------------------------------------------------------------------


values = st.decimals(min_value=0, max_value=Decimal("99.999"), places=3, allow_nan=False, allow_infinity=False)
qualities = st.sampled_from(["actual", "estimated", "substituted", "missing"])


@given(st.lists(st.tuples(values, qualities), min_size=1, max_size=48), st.sampled_from([EnergyUnit.KWH, EnergyUnit.WHR]))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_readings_round_trip_exactly_and_add_up(readings: list[tuple[Decimal, str]], unit: EnergyUnit) -> None:
    start = datetime(2024, 6, 1, tzinfo=UTC)
    step = timedelta(minutes=30)
    items = [IntervalReading(start + i * step, start + (i + 1) * step, v if q != "missing" else Decimal(0), unit, q) for i, (v, q) in enumerate(readings)]  # type: ignore[arg-type]
    data = build_consumption(supply_point(IMPORT_MPAN, "electricity"), SME, intervals=items)
    credential = consumption(data, "did:example:edp", check="shape")
    stated = credential["credentialSubject"]["intervalReadings"]
    assert [(Decimal(r["value"]), r["quality"], r["unit"]) for r in stated] == [(i.value, i.quality, unit.value) for i in items]
    factor = Decimal("0.001") if unit is EnergyUnit.WHR else Decimal(1)
    present = sum((i.value for i in items if i.quality != "missing"), Decimal(0)) * factor
    assert Decimal(credential["credentialSubject"]["totalKwh"]) == present
    completeness = credential["credentialSubject"]["completeness"]
    assert completeness["missingIntervals"] == completeness["expectedIntervals"] - completeness["presentIntervals"]
