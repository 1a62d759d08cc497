"""Emissions reports by the Perseus method and by the annual DESNZ method, with hand-computed figures.

The Perseus method (IB1 CAP guide 2026-03-12): electricity = Σ half-hours kWh × NESO regional intensity for the
meter's outcode; gas = m³ × DESNZ per-m³ factor; Scope 1 and Scope 2 apart. The DESNZ annual method names
itself and must not claim the Perseus emissions standard. A verifier holding the same intensity file recomputes
the report exactly (`recompute_emissions`).
"""

# ruff: noqa: F811  (pytest fixtures imported from perseus_credential_helpers are redefined as parameters)

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from perseus.issuer.adapters import load_tariff
from perseus.issuer.adapters.neso_intensity import load_neso_regional, parse_neso_regional
from perseus.issuer.credentials import Metadata, build_consumption_credential, build_emissions_credential, build_tariff_credential
from perseus.issuer.credentials.emissions import recompute_emissions
from perseus.issuer.energy.consumption import build_consumption
from perseus.issuer.energy.errors import InputDataError
from perseus.issuer.energy.factors import emission_factor
from perseus.issuer.energy.model import ConsumptionData, EnergyUnit
from perseus.issuer.energy.mpan import supply_point
from perseus.issuer.keyfile import KeyFile, generate_key_file
from perseus.issuer.signing import sign_document
from perseus.verifier.shapes import validate_shape
from perseus_credential_helpers import EXAMPLES, INPUTS, ISSUED, SME, cap_key, edp_key, half_hours, january_electricity, perseus_cli  # noqa: F401

PERSEUS_STANDARD = "https://registry.core.trust.ib1.org/scheme/perseus/standard/emissions-report/2026-03-12"
ELECTRICITY_PROCESS = "https://registry.core.trust.ib1.org/scheme/perseus/process/electricity-emissions-calculation/2026-03-12"
T0 = datetime(2024, 1, 1, tzinfo=UTC)  # January 2024 is all GMT: local months are UTC months
HALF = timedelta(minutes=30)


def _series_json(skip_first: bool = False, postcode: str = "SE1") -> bytes:
    """January 2024 for SE1: 200 g/kWh for the first 24 half-hours of each day, 100 g/kWh for the last 24."""
    fmt = "%Y-%m-%dT%H:%MZ"
    points = []
    for k in range(31 * 48):
        if skip_first and k == 0:
            continue
        t = T0 + k * HALF
        points.append({"from": t.strftime(fmt), "to": (t + HALF).strftime(fmt), "intensity": {"forecast": 200 if k % 48 < 24 else 100, "index": "moderate"}})
    doc = {"data": {"regionid": 13, "dnoregion": "UKPN London", "shortname": "London", "postcode": postcode, "data": points}}
    return json.dumps(doc).encode()


@pytest.fixture(scope="module")
def flat_january(edp_key: KeyFile) -> dict[str, Any]:
    data = january_electricity(lambda i: "0.5")
    credential = build_consumption_credential(data, issuer=edp_key.controller, metadata=Metadata("SmartMeterViaDCC"), valid_from=ISSUED)
    return sign_document(credential, edp_key, created="2024-02-01T09:00:00Z")


@pytest.fixture(scope="module")
def supplier_key() -> KeyFile:
    return generate_key_file("P-256")


def _tariff(supplier_key: KeyFile, period: tuple[str, str] = ("2023-04-01", "2024-04-01")) -> dict[str, Any]:
    doc = json.loads((INPUTS / "tariff_weekend_offpeak_fuelmix.json").read_text(encoding="utf-8"))
    doc["fuel_mix"]["period_start"], doc["fuel_mix"]["period_end"] = period
    credential = build_tariff_credential(load_tariff(doc), issuer=supplier_key.controller, valid_from=datetime(2023, 1, 1, tzinfo=UTC))
    return sign_document(credential, supplier_key, created="2023-01-01T00:00:00Z")


def test_perseus_electricity_is_the_sum_of_half_hours_times_regional_intensity(flat_january: dict[str, Any], cap_key: KeyFile) -> None:
    series = parse_neso_regional(_series_json())
    report = build_emissions_credential([flat_january], issuer=cap_key.controller, valid_from=ISSUED, intensity=series)
    assert validate_shape(report) == []
    subject = report["credentialSubject"]
    # By hand: each day 24 half-hours x 0.5 kWh x 200 g + 24 x 0.5 x 100 g = 2,400 + 1,200 = 3,600 g = 3.6 kg;
    # 31 days -> 111.6 kg. kWh: 1,488 half-hours x 0.5 = 744.
    assert subject["scope2LocationBasedKgCO2e"] == "111.600"
    assert Decimal(subject["totalKwh"]) == Decimal(744)
    assert subject["method"] == ELECTRICITY_PROCESS and report["metadata"]["standard"] == PERSEUS_STANDARD
    assert "scope1KgCO2e" not in subject, "no gas: no Scope 1"
    assert subject["monthTimeBasis"] == "Europe/London"
    assert subject["monthlyEmissions"][0]["month"] == "2024-01" and subject["monthlyEmissions"][0]["locationBasedKgCO2e"] == "111.600"
    stated = subject["intensitySeries"]
    assert stated["fileSha256"] == series.sha256 and stated["postcodeOutcode"] == "SE1" and stated["intensityRegionId"] == 13
    assert stated["halfHours"] == 1488 and stated["seriesStart"] == "2024-01-01T00:00:00Z" and stated["seriesEnd"] == "2024-02-01T00:00:00Z"
    assert stated["source"].startswith("https://api.carbonintensity.org.uk/regional/intensity/")
    origins = [s for s in report["provenance"]["steps"] if s["type"] == "OriginStep"]
    assert origins[0]["origin"] == stated["source"] and series.sha256 in origins[0]["stepId"]
    assert "market-based Scope 2 is unavailable" in subject["marketBasedUnavailable"]


def test_a_missing_intensity_half_hour_is_refused_or_left_out_and_stated(flat_january: dict[str, Any], cap_key: KeyFile) -> None:
    gappy = parse_neso_regional(_series_json(skip_first=True))
    with pytest.raises(InputDataError, match="no London carbon intensity for the half-hour starting 2024-01-01T00:00:00"):
        build_emissions_credential([flat_january], issuer=cap_key.controller, valid_from=ISSUED, intensity=gappy)
    report = build_emissions_credential([flat_january], issuer=cap_key.controller, valid_from=ISSUED, intensity=gappy, missing_intensity="state")
    subject = report["credentialSubject"]
    # By hand: the first half-hour (0.5 kWh at what would have been 200 g) is left out: 111.6 - 0.5 x 200 / 1000 = 111.5 kg.
    assert subject["scope2LocationBasedKgCO2e"] == "111.500"
    month = subject["monthlyEmissions"][0]
    assert (month["missingIntensityHalfHours"], month["missingIntensityKwh"]) == (1, "0.5")
    assert subject["intensitySeries"]["missingIntensityPolicy"] == "LeaveOutAndState"
    assert validate_shape(report) == []


def test_the_series_must_be_for_the_meters_outcode(flat_january: dict[str, Any], cap_key: KeyFile) -> None:
    with pytest.raises(InputDataError, match="outcode SE1, but the intensity series is for outcode M1"):
        build_emissions_credential([flat_january], issuer=cap_key.controller, valid_from=ISSUED, intensity=parse_neso_regional(_series_json(postcode="M1")))


def test_the_perseus_method_needs_the_intensity_series(flat_january: dict[str, Any], cap_key: KeyFile) -> None:
    with pytest.raises(InputDataError, match="needs the NESO regional half-hourly intensity series"):
        build_emissions_credential([flat_january], issuer=cap_key.controller, valid_from=ISSUED)


def test_the_desnz_method_names_itself_and_never_claims_the_perseus_standard(flat_january: dict[str, Any], cap_key: KeyFile) -> None:
    report = build_emissions_credential([flat_january], issuer=cap_key.controller, valid_from=ISSUED, method="desnz-annual")
    assert report["credentialSubject"]["method"] == "DesnzAnnualFactors" and "standard" not in report["metadata"]
    # By hand: 744 kWh x 0.20705 (DESNZ 2024, generation only) = 154.0452 -> 154.045 kg.
    assert report["credentialSubject"]["scope2LocationBasedKgCO2e"] == "154.045"
    with pytest.raises(InputDataError, match="must not claim the Perseus emissions standard"):
        build_emissions_credential(
            [flat_january], issuer=cap_key.controller, valid_from=ISSUED, method="desnz-annual",
            metadata=Metadata("SmartMeterViaDCC", standard=PERSEUS_STANDARD),
        )
    forged = copy.deepcopy(report)
    forged["metadata"]["standard"] = PERSEUS_STANDARD
    problems = validate_shape(forged)
    assert problems and "must not claim the Perseus emissions-report standard" in problems[0].detail


def test_market_based_needs_a_fuel_mix_covering_the_period(flat_january: dict[str, Any], cap_key: KeyFile, supplier_key: KeyFile) -> None:
    series = parse_neso_regional(_series_json())
    report = build_emissions_credential([flat_january], issuer=cap_key.controller, valid_from=ISSUED, intensity=series, tariff=_tariff(supplier_key))
    # By hand: 744 kWh x 172 g/kWh / 1000 = 127.968 kg CO2 (Fuel Mix Disclosure 2023-24 covers January 2024).
    assert report["credentialSubject"]["scope2MarketBasedKgCO2e"] == "127.968"
    assert "marketBasedUnavailable" not in report["credentialSubject"]
    stale = _tariff(supplier_key, ("2019-04-01", "2020-04-01"))
    with pytest.raises(InputDataError, match="covers 2019-04-01 to 2020-04-01 .* not the report period 2024-01-01 to 2024-02-01"):
        build_emissions_credential([flat_january], issuer=cap_key.controller, valid_from=ISSUED, intensity=series, tariff=stale)


def test_gas_by_the_perseus_method_needs_the_volume(edp_key: KeyFile, cap_key: KeyFile) -> None:
    point = supply_point("7418529604", "gas")
    data: ConsumptionData = build_consumption(point, SME, intervals=half_hours(T0, ["1.0"] * (31 * 48), unit=EnergyUnit.KWH))
    signed = sign_document(
        build_consumption_credential(data, issuer=edp_key.controller, metadata=Metadata("SmartMeterViaDCC"), valid_from=ISSUED), edp_key
    )
    with pytest.raises(InputDataError, match="states only kWh"):
        build_emissions_credential([signed], issuer=cap_key.controller, valid_from=ISSUED)
    report = build_emissions_credential([signed], issuer=cap_key.controller, valid_from=ISSUED, method="desnz-annual")
    # By hand: 1,488 kWh x 0.18290 (DESNZ 2024 natural gas per kWh, gross CV) = 272.1552 -> 272.155 kg, Scope 1.
    assert report["credentialSubject"]["scope1KgCO2e"] == "272.155"
    assert "scope2LocationBasedKgCO2e" not in report["credentialSubject"] and "marketBasedUnavailable" not in report["credentialSubject"]


# -- the worked example: recomputed by a verifier holding the same files ------------------------------------------


def _example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / "credentials" / f"{name}.json").read_text(encoding="utf-8"))


def test_the_example_report_states_gas_as_m3_times_the_per_m3_factor() -> None:
    subject = _example("emissions-2023-10")["credentialSubject"]
    gas = next(c for c in subject["contributions"] if c["fuel"] == "gas")
    # By hand: 539.552 m3 x 2.04542 kgCO2e/m3 (DESNZ 2023) = 1079.104 + 24.5064518... = 1103.6104518... -> 1103.610 kg.
    assert (gas["volumeM3"], gas["scope1KgCO2e"], subject["scope1KgCO2e"]) == ("539.552", "1103.610", "1103.610")
    # The per-kWh route (6038.788 kWh x 0.18293) gives 1104.686 kg: not the Perseus figure.
    assert Decimal(gas["kwh"]) * emission_factor("gas", 2023).value != Decimal(gas["scope1KgCO2e"])
    assert "locationBasedKgCO2e" not in subject and "scope2LocationBasedKgCO2e" in subject, "Scope 1 and 2 are never added together"


def test_a_verifier_with_the_same_intensity_file_recomputes_the_example_exactly() -> None:
    report = _example("emissions-2023-10")
    inputs = [_example("electricity-halfhourly-2023-10"), _example("gas-register-m3-2023-10")]
    tariff = _example("tariff-weekend-offpeak-fuelmix")
    series = load_neso_regional(INPUTS / "neso_intensity_SE1_2023-10.json")
    assert recompute_emissions(report, inputs, intensity=series, tariff=tariff) == []
    altered = copy.deepcopy(report)
    altered["credentialSubject"]["scope2LocationBasedKgCO2e"] = "1.000"
    assert any("scope2LocationBasedKgCO2e" in p for p in recompute_emissions(altered, inputs, intensity=series, tariff=tariff))
    other_file = parse_neso_regional((INPUTS / "neso_intensity_SE1_2023-10.json").read_bytes() + b"\n")
    assert "SHA-256" in recompute_emissions(report, inputs, intensity=other_file, tariff=tariff)[0]
    assert "give the recorded file" in recompute_emissions(report, inputs, tariff=tariff)[0]


def test_perseus_recompute_emissions_command(perseus_cli: Any, tmp_path: Any) -> None:
    report = EXAMPLES / "credentials" / "emissions-2023-10.json"
    args = [
        "recompute-emissions", report,
        "--consumption", EXAMPLES / "credentials" / "electricity-halfhourly-2023-10.json",
        "--consumption", EXAMPLES / "credentials" / "gas-register-m3-2023-10.json",
        "--tariff", EXAMPLES / "credentials" / "tariff-weekend-offpeak-fuelmix.json",
    ]
    ok = perseus_cli(*args, "--intensity", INPUTS / "neso_intensity_SE1_2023-10.json")
    assert ok.code == 0 and ok.out.startswith("RECOMPUTED"), ok.err
    altered = _example("emissions-2023-10")
    altered["credentialSubject"]["scope1KgCO2e"] = "1103.611"
    path = tmp_path / "altered.json"
    path.write_text(json.dumps(altered), encoding="utf-8")
    args[1] = path
    bad = perseus_cli(*args, "--intensity", INPUTS / "neso_intensity_SE1_2023-10.json")
    assert bad.code == 1 and "scope1KgCO2e" in bad.out


@pytest.mark.parametrize(
    "mutate",
    [
        lambda r: r.__setitem__("type", ["VerifiableCredential"]),
        lambda r: r["credentialSubject"].pop("contributions"),
        lambda r: r["credentialSubject"]["emissionFactors"][0].__setitem__("year", 2023),
        lambda r: r["credentialSubject"]["intensitySeries"].__setitem__("fileSha256", "not-a-digest"),
    ],
)
def test_a_malformed_report_gives_a_reason_not_a_traceback(mutate: Any) -> None:
    report = _example("emissions-2023-10")
    mutate(report)
    problems = recompute_emissions(report, [], intensity=load_neso_regional(INPUTS / "neso_intensity_SE1_2023-10.json"))
    assert problems and ("not an EmissionsReportCredential" in problems[0] or "not well formed" in problems[0])
