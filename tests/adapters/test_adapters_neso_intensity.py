"""The NESO regional-by-postcode intensity adapter: shape, refusals, and the digest that names the file."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from perseus.issuer.adapters.neso_intensity import load_neso_regional, neso_source_url, parse_neso_regional
from perseus.issuer.energy.errors import InputDataError
from perseus.issuer.energy.intensity import electricity_kg

SAMPLE = Path(__file__).resolve().parent / "data" / "neso_regional_postcode_SE1_sample.json"


def _response(points: list[tuple[str, str, object]], postcode: str = "SE1", region: int = 13) -> dict:
    return {
        "data": {
            "regionid": region,
            "dnoregion": "UKPN London",
            "shortname": "London",
            "postcode": postcode,
            "data": [{"from": a, "to": b, "intensity": {"forecast": g, "index": "low"}} for a, b, g in points],
        }
    }


def test_the_recorded_sample_is_read_with_region_period_and_digest() -> None:
    series = load_neso_regional(SAMPLE)
    assert (series.region_id, series.region_name, series.postcode_outcode, series.dno_region) == (13, "London", "SE1", "UKPN London")
    assert [p.g_per_kwh for p in series.points] == [Decimal(150), Decimal(148), Decimal(97), Decimal(0)]
    assert series.period_start == datetime(2024, 1, 15, 0, 0, tzinfo=UTC)
    assert series.period_end == datetime(2024, 1, 15, 2, 0, tzinfo=UTC)
    assert series.sha256 == hashlib.sha256(SAMPLE.read_bytes()).hexdigest()
    assert series.basis == "forecast" and series.unit == "gCO2/kWh"
    assert series.source_url == "https://api.carbonintensity.org.uk/regional/intensity/2024-01-15T00:00Z/2024-01-15T02:00Z/postcode/SE1"


def test_the_sample_gives_the_hand_computed_emissions() -> None:
    series = load_neso_regional(SAMPLE)
    t0 = datetime(2024, 1, 15, tzinfo=UTC)
    half = timedelta(minutes=30)
    readings = [(t0 + k * half, t0 + (k + 1) * half, Decimal(v)) for k, v in enumerate(["1.2", "0.8", "2.0", "5.0"])]
    # By hand: 1.2 x 150 + 0.8 x 148 + 2.0 x 97 + 5.0 x 0 = 180 + 118.4 + 194 + 0 = 492.4 g = 0.4924 kg -> 0.492 kg (3 dp)
    result = electricity_kg(readings, series)
    assert result.kg_exact == Decimal("0.4924") and result.kg == Decimal("0.492")
    assert (result.kwh, result.half_hours, result.missing_half_hours) == (Decimal("9.0"), 4, 0)


def test_the_current_intensity_form_with_a_list_of_regions_is_read() -> None:
    doc = _response([("2024-01-15T00:00Z", "2024-01-15T00:30Z", 100)])
    doc["data"] = [doc["data"]]
    assert parse_neso_regional(json.dumps(doc)).points[0].g_per_kwh == 100


def test_several_responses_make_one_series_and_must_agree() -> None:
    a = _response([("2024-01-15T00:00Z", "2024-01-15T00:30Z", 100)])
    b = _response([("2024-01-15T00:30Z", "2024-01-15T01:00Z", 120), ("2024-01-15T00:00Z", "2024-01-15T00:30Z", 100)])
    assert len(parse_neso_regional(json.dumps([a, b])).points) == 2
    clash = _response([("2024-01-15T00:00Z", "2024-01-15T00:30Z", 101)])
    with pytest.raises(InputDataError, match="two intensities"):
        parse_neso_regional(json.dumps([a, clash]))
    other = _response([("2024-01-15T00:30Z", "2024-01-15T01:00Z", 120)], postcode="M1", region=3)
    with pytest.raises(InputDataError, match="one file holds one region"):
        parse_neso_regional(json.dumps([a, other]))


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ({"data": []}, "expected one region"),
        ({"nothing": 1}, "not a NESO regional intensity response"),
        (_response([("2024-01-15T00:00Z", "2024-01-15T01:00Z", 100)]), "one half-hour"),
        (_response([("2024-01-15T00:00Z", "2024-01-15T00:30Z", None)]), "no intensity.forecast"),
        (_response([("2024-01-15T00:00Z", "2024-01-15T00:30Z", -5)]), "cannot be negative"),
        (_response([("2024-01-15T00:00", "2024-01-15T00:30Z", 5)]), "no timezone"),
        (_response([]), "no half-hour"),
    ],
)
def test_malformed_responses_are_refused_with_a_reason(doc: object, reason: str) -> None:
    with pytest.raises(InputDataError, match=reason):
        parse_neso_regional(json.dumps(doc))


def test_not_json_is_refused() -> None:
    with pytest.raises(InputDataError, match="not JSON"):
        parse_neso_regional(b"\xff\xfe not json")


def test_the_source_url_follows_the_documented_endpoint() -> None:
    url = neso_source_url("SE1", datetime(2023, 9, 30, 23, tzinfo=UTC), datetime(2023, 11, 1, tzinfo=UTC))
    assert url == "https://api.carbonintensity.org.uk/regional/intensity/2023-09-30T23:00Z/2023-11-01T00:00Z/postcode/SE1"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=900), min_size=1, max_size=24), st.randoms(use_true_random=False))
def test_point_order_does_not_change_the_series_but_any_byte_changes_the_digest(values: list[int], rnd: object) -> None:
    t0 = datetime(2024, 3, 1, tzinfo=UTC)
    half = timedelta(minutes=30)
    fmt = "%Y-%m-%dT%H:%MZ"
    points = [((t0 + k * half).strftime(fmt), (t0 + (k + 1) * half).strftime(fmt), v) for k, v in enumerate(values)]
    shuffled = list(points)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    a = parse_neso_regional(json.dumps(_response(points)))
    b = parse_neso_regional(json.dumps(_response(shuffled)))
    assert a.points == b.points
    assert (a.sha256 == b.sha256) == (points == shuffled)
