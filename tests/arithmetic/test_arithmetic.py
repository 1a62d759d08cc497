"""The arithmetic check: every worked example recomputes; an altered, re-signed figure is named and refused."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from perseus.issuer.keyfile import read_key_file
from perseus.issuer.signing import sign_document
from perseus.verifier.arithmetic import arithmetic_check, arithmetic_problems
from perseus.verifier.verify import verify_credential

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CREDENTIALS = sorted((EXAMPLES / "credentials").glob("*.json"))


def _load(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / "credentials" / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", CREDENTIALS, ids=lambda p: p.stem)
def test_every_worked_example_recomputes(path: Path) -> None:
    result = arithmetic_check(json.loads(path.read_text(encoding="utf-8")))
    assert result.outcome == "passed", [p.detail for p in result.problems]


def test_resigned_wrong_total_is_not_verified_and_named() -> None:
    credential = _load("electricity-halfhourly-2023-10.json")
    del credential["proof"]
    day = next(t for t in credential["credentialSubject"]["dailyTotals"] if t["label"] == "2023-10-29")
    assert day["kwh"] == "24.351" and day["expectedIntervals"] == 50  # the 25-hour day
    day["kwh"] = "20.351"
    signed = sign_document(credential, read_key_file(EXAMPLES / "keys" / "edp-example-key.json"))
    result = verify_credential(signed)
    assert not result.verified
    check = next(c for c in result.checks if c.check == "arithmetic")
    assert check.outcome == "failed"
    assert any(p.detail == "daily total 2023-10-29 kwh: stated 20.351, recomputed 24.351" for p in check.problems)
    # and the proof itself is fine: only the arithmetic says no
    assert next(c for c in result.checks if c.check == "proof").outcome == "passed"


def test_unaltered_example_verifies_with_arithmetic() -> None:
    result = verify_credential(_load("electricity-halfhourly-2023-10.json"))
    assert next(c for c in result.checks if c.check == "arithmetic").outcome == "passed"


@pytest.mark.parametrize(
    ("name", "path", "value", "named"),
    [
        ("electricity-halfhourly-2023-10.json", ("monthlyTotals", 0, "kwh"), "2006.129", "monthly total 2023-10 kwh: stated 2006.129, recomputed 2006.128"),
        ("electricity-halfhourly-2023-10.json", ("totalKwh",), "1", "the period totalKwh: stated 1, recomputed 2006.128"),
        ("electricity-halfhourly-2023-10.json", ("completeness", "presentIntervals"), 1489, "completeness presentIntervals: stated 1489, recomputed 1490"),
        ("electricity-halfhourly-2023-10.json", ("registerReads", "consumption"), "2005683", "registerReads.consumption (WHR): stated 2005683, recomputed 2005682"),
        ("gas-register-hcf-2023.json", ("gasConversion", "kwh"), "78984.027", "gasConversion.kwh: stated 78984.027, recomputed 78984.026"),
        ("gas-register-hcf-2023.json", ("gasConversion", "volumeM3"), "7075.01", "gasConversion.volumeM3 (2500 HH): stated 7075.01, recomputed 7075"),
    ],
)
def test_altered_figure_is_named(name: str, path: tuple[Any, ...], value: Any, named: str) -> None:
    credential = _load(name)
    node: Any = credential["credentialSubject"]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    details = [p.detail for p in arithmetic_problems(credential)]
    assert named in details, details


def test_overlapping_and_uncovered_tariff_bands() -> None:
    credential = _load("tariff-economy7.json")
    rates = credential["credentialSubject"]["unitRates"]
    rates[1]["timeOfUse"]["endTime"] = "08:00:00"  # night now overlaps day 07:30-08:00
    details = [p.detail for p in arithmetic_problems(credential)]
    assert any("bands day and night overlap" in d or "bands night and day overlap" in d for d in details), details
    rates[1]["timeOfUse"]["endTime"] = "07:00:00"  # now 07:00-07:30 belongs to no band
    details = [p.detail for p in arithmetic_problems(credential)]
    assert any("30 minute(s)" in d and "uncovered, from 07:00" in d for d in details), details


def _day_credential(values: list[Decimal], quality: list[str], day_start: datetime, slots: int) -> dict[str, Any]:
    """A minimal consumption subject for one local day, with totals computed here independently."""
    readings = []
    for k in range(slots):
        s = day_start + timedelta(minutes=30 * k)
        readings.append({
            "start": s.strftime("%Y-%m-%dT%H:%M:%SZ"), "end": (s + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "value": str(values[k]), "unit": "WHR", "quality": quality[k],
        })
    total = sum((v for v, q in zip(values, quality, strict=True) if q != "missing"), Decimal(0)) / 1000
    present = sum(q != "missing" for q in quality)
    counts = {"expectedIntervals": slots, "presentIntervals": present, "actualIntervals": sum(q == "actual" for q in quality),
              "estimatedIntervals": sum(q == "estimated" for q in quality), "substitutedIntervals": 0, "missingIntervals": slots - present}
    return {
        "type": ["VerifiableCredential", "EnergyConsumptionCredential"],
        "credentialSubject": {
            "periodStart": "2023-03-26T00:00:00+00:00", "periodEnd": "2023-03-27T00:00:00+01:00", "timezone": "Europe/London",
            "totalKwh": str(total),
            "dailyTotals": [{"label": "2023-03-26", "kwh": str(total), **counts}],
            "monthlyTotals": [{"label": "2023-03", "kwh": str(total), **counts}],
            "intervalReadings": readings,
        },
    }


_QUALITY = st.sampled_from(["actual", "actual", "estimated", "missing"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5000), _QUALITY), min_size=46, max_size=46), st.integers(0, 45), st.integers(1, 9))
def test_property_23_hour_day_sums_and_a_changed_reading_is_caught(rows: list[tuple[int, str]], which: int, delta: int) -> None:
    """On the spring-forward day (46 half-hours) hand-summed totals pass; changing one present reading fails."""
    values = [Decimal(v) for v, _ in rows]
    quality = [q for _, q in rows]
    start = datetime(2023, 3, 26, 0, 0, tzinfo=timezone.utc)
    credential = _day_credential(values, quality, start, 46)
    assert arithmetic_problems(credential) == []
    credential2 = copy.deepcopy(credential)
    reading = credential2["credentialSubject"]["intervalReadings"][which]
    reading["value"] = str(Decimal(reading["value"]) + delta)
    details = [p.detail for p in arithmetic_problems(credential2)]
    if reading["quality"] == "missing":
        assert details == []  # a missing slot counts nothing, whatever value it carries
    else:
        assert any(d.startswith("daily total 2023-03-26 kwh") for d in details)
        assert any(d.startswith("monthly total 2023-03 kwh") for d in details)


@pytest.mark.parametrize("value", ["1E+999999", "-0", "NaN", "12a", 5.5, None])
def test_unreadable_figures_fail_with_a_reason_never_an_exception(value: Any) -> None:
    credential = _load("gas-register-hcf-2023.json")
    credential["credentialSubject"]["gasConversion"]["kwh"] = value
    result = arithmetic_check(credential)
    assert result.outcome == "failed" and result.problems
