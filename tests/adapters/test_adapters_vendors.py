"""Vendor downloads build without conversion: detected, read, totalled as a hand sum; bad rows named."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from perseus.issuer.adapters.glowmarkt import read_glowmarkt
from perseus.issuer.adapters.n3rgy import read_n3rgy
from perseus.issuer.adapters.octopus import read_octopus_api, read_octopus_csv
from perseus.issuer.adapters.ovo import read_ovo
from perseus.issuer.build_cli import detect_consumption_format, main
from perseus.issuer.energy.errors import InputDataError
from perseus.verifier.arithmetic import arithmetic_problems

DATA = Path(__file__).parent / "data" / "vendors"
MPAN = "1200123456787"
MPRN = "3692581404"
LONDON = ZoneInfo("Europe/London")
HALF = timedelta(minutes=30)


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "fmt", "meter", "total", "days"),
    [
        ("octopus_api_2023-10-29_pages.json", "octopus-api", ("--mpan", MPAN), "25.208", {"2023-10-29": (50, 48)}),
        ("octopus_dashboard_electricity_2023-10-01.csv", "octopus-csv", ("--mpan", MPAN), "25.377", {"2023-10-01": (48, 48)}),
        ("glowmarkt_electricity_2023-03-26.json", "glowmarkt", ("--mpan", MPAN), "23.995", {"2023-03-26": (46, 46)}),
        ("n3rgy_electricity_2023-10-01.json", "n3rgy", ("--mpan", MPAN), "25.836", {"2023-10-01": (48, 48)}),
        ("ovo_electricity_2023-10-29.json", "ovo", ("--mpan", MPAN), "26.925", {"2023-10-29": (50, 50)}),
    ],
)
def test_each_sample_builds_with_the_hand_sum(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, fmt: str, meter: tuple[str, str], total: str, days: dict[str, tuple[int, int]]
) -> None:
    path = DATA / name
    assert detect_consumption_format(str(path), path.read_text(encoding="utf-8")) == fmt
    out = tmp_path / "c.json"
    code, err = run(capsys, "build", "consumption", path, *meter, "--account", "did:example:sme", "--issuer", "did:example:edp", "-o", out)
    assert code == 0, err
    credential = json.loads(out.read_text())
    subject = credential["credentialSubject"]
    assert Decimal(subject["totalKwh"]) == Decimal(total)
    assert [Decimal(m["kwh"]) for m in subject["monthlyTotals"]] == [Decimal(total)]
    for t in subject["dailyTotals"]:
        expected, present = days[t["label"]]
        assert (t["expectedIntervals"], t["presentIntervals"], Decimal(t["kwh"])) == (expected, present, Decimal(total))
    assert arithmetic_problems(credential) == []


def test_octopus_gas_csv_in_m3_builds_a_gas_conversion(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = DATA / "octopus_dashboard_gas_2023-10-01.csv"
    out = tmp_path / "g.json"
    code, err = run(capsys, "build", "consumption", path, "--mprn", MPRN, "--account", "did:example:sme", "--issuer", "did:example:edp", "-o", out)
    assert code == 0, err
    credential = json.loads(out.read_text())
    gas = credential["credentialSubject"]["gasConversion"]
    assert (gas["volumeUnit"], Decimal(gas["volume"])) == ("MTQ", Decimal("2.169"))
    assert arithmetic_problems(credential) == []
    code, err = run(capsys, "build", "consumption", path, "--mprn", MPRN, "--unit", "KWH", "--account", "x", "--issuer", "did:example:edp", "-o", out)
    assert code == 2 and "leave out --unit" in err


def test_octopus_api_gas_needs_a_unit(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = DATA / "octopus_api_2023-10-29_pages.json"
    code, err = run(capsys, "build", "consumption", path, "--mprn", MPRN, "--account", "x", "--issuer", "did:example:edp", "-o", tmp_path / "c.json")
    assert code == 2 and "--unit KWH or --unit MTQ" in err and "Traceback" not in err


def test_a_single_page_of_a_paginated_response_is_refused() -> None:
    with pytest.raises(InputDataError) as caught:
        read_octopus_api(DATA / "octopus_api_2023-10-29_page1.json")
    assert "30 of 48" in caught.value.message and "page=2" in caught.value.message


def test_octopus_csv_names_the_bad_row() -> None:
    text = (DATA / "octopus_dashboard_electricity_2023-10-01.csv").read_text().replace("0.137,", "zero,", 1)
    with pytest.raises(InputDataError) as caught:
        read_octopus_csv(text)
    assert "row 3" in str(caught.value.location) and "'zero'" in caught.value.message


def test_ovo_rejects_a_time_that_does_not_exist() -> None:
    doc = {"electricity": {"data": [{"consumption": 0.1, "interval": {"start": "2023-03-26T01:00:00.000", "end": "2023-03-26T01:29:59.999"}, "unit": "kwh"}]}}
    with pytest.raises(InputDataError) as caught:
        read_ovo(json.dumps(doc))
    assert "does not exist" in caught.value.message and "electricity.data[0]" in str(caught.value.location)


def test_glowmarkt_names_a_bad_pair() -> None:
    doc = {"data": [[1696114800, 0.1], [1696116600]], "units": "kWh"}
    with pytest.raises(InputDataError) as caught:
        read_glowmarkt(json.dumps(doc))
    assert caught.value.location == "data[1]"


# -- property tests: any day, any values, any order: the readings and their sum survive each format --------------------

_DAY = st.sampled_from([datetime(2023, 3, 26), datetime(2023, 10, 29), datetime(2024, 1, 10), datetime(2024, 6, 30)])
_VALUES = st.lists(st.decimals(min_value=0, max_value=50, places=3, allow_nan=False), min_size=1, max_size=50)


def _slots(day: datetime, n: int) -> list[datetime]:
    start = day.replace(tzinfo=LONDON).astimezone(UTC)
    end = (day + timedelta(days=1)).replace(tzinfo=LONDON).astimezone(UTC)
    count = int((end - start) / HALF)
    return [start + i * HALF for i in range(min(n, count))]


def _check(readings: Any, slots: list[datetime], values: list[Decimal]) -> None:
    assert [r.start for r in readings] == slots
    assert all(r.end - r.start == HALF for r in readings)
    assert sum((r.value for r in readings), Decimal(0)) == sum(values[: len(slots)], Decimal(0))


@settings(max_examples=40, deadline=None)
@given(_DAY, _VALUES, st.randoms(use_true_random=False))
def test_property_octopus_api(day: datetime, values: list[Decimal], rnd: Any) -> None:
    slots = _slots(day, len(values))
    items = [{"consumption": str(v), "interval_start": s.astimezone(LONDON).isoformat(), "interval_end": (s + HALF).astimezone(LONDON).isoformat()}
             for s, v in zip(slots, values, strict=False)]
    rnd.shuffle(items)
    text = json.dumps({"count": len(items), "next": None, "previous": None, "results": items}).replace('"consumption": "', '"consumption": ').replace('", "interval_start"', ', "interval_start"')
    _check(read_octopus_api(text).readings, slots, values)


@settings(max_examples=40, deadline=None)
@given(_DAY, _VALUES, st.booleans())
def test_property_octopus_csv(day: datetime, values: list[Decimal], five: bool) -> None:
    slots = _slots(day, len(values))
    header = "Consumption (kWh), Estimated Cost Inc. Tax (p), Standing Charge Inc. Tax (p), Start, End" if five else "Consumption (kWh), Start, End"
    lines = [header]
    for s, v in zip(slots, values, strict=False):
        text = "0E-20" if v == 0 else str(v)
        lines.append(f"{text}, " + ("1.0, 0.5, " if five else "") + f"{s.astimezone(LONDON).isoformat()}, {(s + HALF).astimezone(LONDON).isoformat()}")
    _check(read_octopus_csv("\n".join(lines) + "\n").readings, slots, values)


@settings(max_examples=40, deadline=None)
@given(_DAY, _VALUES)
def test_property_glowmarkt_and_n3rgy(day: datetime, values: list[Decimal]) -> None:
    slots = _slots(day, len(values))
    pairs = ", ".join(f"[{int(s.timestamp())}, {v}]" for s, v in zip(slots, values, strict=False))
    _check(read_glowmarkt('{"data": [' + pairs + '], "units": "kWh"}').readings, slots, values)
    items = ", ".join(f'{{"timestamp": "{(s + HALF).strftime("%Y-%m-%d %H:%M")}", "value": {v}}}' for s, v in zip(slots, values, strict=False))
    _check(read_n3rgy('{"values": [' + items + '], "unit": "kWh", "granularity": "halfhour"}').readings, slots, values)


@settings(max_examples=40, deadline=None)
@given(_DAY, _VALUES)
def test_property_ovo(day: datetime, values: list[Decimal]) -> None:
    slots = _slots(day, len(values))
    data = []
    for s, v in zip(slots, values, strict=False):
        local = s.astimezone(LONDON).replace(tzinfo=None)
        data.append({"consumption": str(v), "interval": {"start": local.isoformat(timespec="milliseconds"),
                     "end": (local + timedelta(minutes=29, seconds=59, milliseconds=999)).isoformat(timespec="milliseconds")}, "unit": "kwh"})
    _check(read_ovo(json.dumps({"electricity": {"data": data}})).readings, slots, values)
