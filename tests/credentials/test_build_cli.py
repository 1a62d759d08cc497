"""`perseus build`: it writes credentials `perseus sign` signs, and bad input exits 2 with one line naming where."""

# ruff: noqa: F811  (pytest fixtures imported from perseus_credential_helpers are redefined as parameters)

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from perseus.issuer import build_cli
from perseus.issuer.credentials.claims import steps_from_ib1
from perseus.issuer.energy.errors import InputDataError
from perseus.verifier.cli import UsageError
from perseus_credential_helpers import IMPORT_MPAN, INPUTS, SME, edp_key, perseus_cli  # noqa: F401 (fixtures)

Run = Callable[..., Any]
HALF = timedelta(minutes=30)


def long_csv(path: Path, rows: list[tuple[str, str, str]] | None = None) -> Path:
    """A day of half-hourly readings in the long CSV form (or the given rows)."""
    if rows is None:
        start = datetime(2024, 1, 10, tzinfo=UTC)
        rows = [((start + i * HALF).isoformat(), (start + (i + 1) * HALF).isoformat(), "0.250") for i in range(48)]
    path.write_text("start,end,value,quality\n" + "".join(f"{s},{e},{v},actual\n" for s, e, v in rows), encoding="utf-8")
    return path


def one_line_error(result: Any) -> str:
    assert result.code == 2, (result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("perseus build: error: "), result.err
    assert "Traceback" not in result.err
    return lines[0]


def build_args(path: Path, out: Path, *extra: str) -> list[str]:
    return ["build", "consumption", str(path), "--mpan", IMPORT_MPAN, "--account", SME, "--issuer", "did:example:edp", "-o", str(out), *extra]


# -- the happy path --------------------------------------------------------------------------------------------------


def test_build_sign_verify(perseus_cli: Run, tmp_path: Path, edp_key: Any) -> None:
    key_file = tmp_path / "key.json"
    from perseus.issuer.keyfile import write_key_file

    write_key_file(edp_key, key_file)
    unsigned = tmp_path / "unsigned.json"
    result = perseus_cli("build", "consumption", long_csv(tmp_path / "day.csv"), "--mpan", IMPORT_MPAN, "--postcode", "SE1 9GF",
                     "--account", SME, "--issuer", edp_key.controller, "--source", "CustomerRead", "--assurance-level", "1", "-o", unsigned)
    assert result.code == 0, result.err
    credential = json.loads(unsigned.read_text())
    assert credential["credentialSubject"]["supplyPoint"]["postcodeOutcode"] == "SE1"
    assert credential["metadata"]["dataSource"] == "CustomerRead"
    assert credential["assurance"]["datasetAssuranceLevel"].endswith("Level1")
    assert "proof" not in credential
    signed = tmp_path / "signed.json"
    assert perseus_cli("sign", unsigned, "--key", key_file, "-o", signed).code == 0
    verified = perseus_cli("verify", signed)
    assert verified.code == 0 and verified.out.startswith("VERIFIED"), verified.out


def test_format_is_detected_or_given(perseus_cli: Run, tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    ib1 = INPUTS / "ib1_consumption_electricity_2023-10.json"
    assert perseus_cli(*build_args(ib1, out, "--no-daily-totals")).code == 0
    assert len(json.loads(out.read_text())["credentialSubject"]["intervalReadings"]) == 1490
    wrong = perseus_cli(*build_args(ib1, out, "--format", "csv-long"))
    assert "start, end and value" in one_line_error(wrong)


def test_ib1_cumulative_register_is_stated_and_reconciled(perseus_cli: Run, tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    ib1 = INPUTS / "ib1_consumption_electricity_2023-10.json"
    assert perseus_cli(*build_args(ib1, out, "--register-digits", "9", "--no-daily-totals")).code == 0
    subject = json.loads(out.read_text())["credentialSubject"]
    series, check = subject["registerReads"], subject["reconciliation"]
    assert series["registerDigits"] == 9 and series["unit"] == "WHR" and len(series["reads"]) == 1
    delta = int(series["reads"][0]["value"]) - int(series["baseline"]["value"])
    assert series["consumption"] == check["registerDelta"] == str(delta)
    assert check["withinTolerance"] is True
    line = one_line_error(perseus_cli(*build_args(long_csv(tmp_path / "d.csv"), out, "--register-digits", "9")))
    assert "--register-digits applies to ib1 input" in line


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"data": []}', "ib1"),
        ('{"format": "perseus-register-reads"}', "register-reads"),
        ("start,end,value\n", "csv-long"),
        ("date," + ",".join(f"HH{i:02d}" for i in range(1, 51)) + "\n", "csv-wide"),
    ],
)
def test_detect_consumption_format(text: str, expected: str) -> None:
    assert build_cli.detect_consumption_format("x", text) == expected


@given(st.text(max_size=200))
@settings(max_examples=150, deadline=None)
def test_format_detection_answers_or_says_why(text: str) -> None:
    try:
        assert build_cli.detect_consumption_format("in.txt", text) in build_cli.CONSUMPTION_FORMATS
    except UsageError as exc:
        assert exc.message.startswith("in.txt: ")


@given(st.text(max_size=40))
@settings(max_examples=150, deadline=None)
def test_date_options_parse_or_say_why(text: str) -> None:
    from zoneinfo import ZoneInfo

    try:
        value = build_cli._instant(text, "--from", ZoneInfo("Europe/London"))
    except UsageError as exc:
        assert exc.message.startswith("--from ")
    else:
        assert value is not None and value.utcoffset() is not None


@given(st.recursive(st.none() | st.booleans() | st.text(max_size=8) | st.integers(), lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["type", "id", "timestamp", "inputs", "to", "expires", "origin"]), inner, max_size=4), max_leaves=12))
@settings(max_examples=150, deadline=None)
def test_ib1_provenance_steps_parse_or_name_the_step(document: Any) -> None:
    try:
        steps = steps_from_ib1(document)
    except InputDataError as exc:
        assert exc.location is not None and exc.location.startswith("provenance")
    else:
        assert all(s.type.endswith("Step") for s in steps)


# -- bad input: exit 2, one line, naming the row or field, nothing written ------------------------------------------


def test_wrong_check_digit(perseus_cli: Run, tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    line = one_line_error(perseus_cli(*build_args(long_csv(tmp_path / "d.csv"), out)[:-4], "--mpan", IMPORT_MPAN[:12] + "8", "--issuer", "did:example:edp", "-o", str(out)))
    assert "check digit" in line and "mpan" in line
    assert not out.exists()


def test_unknown_unit(perseus_cli: Run, tmp_path: Path) -> None:
    document = json.loads((INPUTS / "ib1_consumption_electricity_2023-10.json").read_text())
    document["data"][3]["energy"]["unitCode"] = "BTU"
    path = tmp_path / "ib1.json"
    path.write_text(json.dumps(document))
    line = one_line_error(perseus_cli(*build_args(path, tmp_path / "out.json")))
    assert "ib1.json" in line and "data[3].energy.unitCode" in line and "BTU" in line


def test_reading_that_ends_before_it_starts(perseus_cli: Run, tmp_path: Path) -> None:
    start = datetime(2024, 1, 10, tzinfo=UTC)
    rows = [((start + i * HALF).isoformat(), (start + (i + 1) * HALF).isoformat(), "0.1") for i in range(4)]
    rows[2] = (rows[2][1], rows[2][0], "0.1")
    line = one_line_error(perseus_cli(*build_args(long_csv(tmp_path / "bad.csv", rows), tmp_path / "out.json")))
    assert "bad.csv" in line and "row 4" in line


def test_overlapping_intervals(perseus_cli: Run, tmp_path: Path) -> None:
    start = datetime(2024, 1, 10, tzinfo=UTC)
    rows = [((start + i * HALF).isoformat(), (start + (i + 1) * HALF).isoformat(), "0.1") for i in range(4)]
    rows.append((rows[1][0], rows[1][1], "0.2"))
    line = one_line_error(perseus_cli(*build_args(long_csv(tmp_path / "dup.csv", rows), tmp_path / "out.json")))
    assert "overlap" in line and "row" in line


def test_negative_register_delta_without_rollover(perseus_cli: Run, tmp_path: Path) -> None:
    document = json.loads((INPUTS / "gas_register_reads_m3.json").read_text())
    document["reads"][1]["value"] = "90000.000"  # below the previous read, and far from a 5-digit rollover
    path = tmp_path / "reads.json"
    path.write_text(json.dumps(document))
    line = one_line_error(perseus_cli("build", "consumption", path, "--issuer", "did:example:edp", "-o", tmp_path / "out.json"))
    assert "reads.json" in line and "went backwards" in line and "2023-03-01T00:00:00" in line


def test_missing_account_and_meter(perseus_cli: Run, tmp_path: Path) -> None:
    csv_file = long_csv(tmp_path / "d.csv")
    line = one_line_error(perseus_cli("build", "consumption", csv_file, "--mpan", IMPORT_MPAN, "--issuer", "did:example:edp"))
    assert "--account" in line
    line = one_line_error(perseus_cli("build", "consumption", csv_file, "--account", SME, "--issuer", "did:example:edp"))
    assert "--mpan" in line


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--from", "2024-01-11", "--to", "2024-01-10"], "is not after"),
        (["--from", "10/01/2024"], "--from"),
        (["--valid-from", "2024-01-10T09:00:00"], "no timezone"),
        (["--pcaf-score", "2"], "--pcaf-reason"),
        (["--timezone", "Mars/Olympus"], "--timezone"),
    ],
)
def test_bad_options(perseus_cli: Run, tmp_path: Path, extra: list[str], expected: str) -> None:
    assert expected in one_line_error(perseus_cli(*build_args(long_csv(tmp_path / "d.csv"), tmp_path / "o.json", *extra)))


def test_missing_and_malformed_files(perseus_cli: Run, tmp_path: Path) -> None:
    assert "does not exist" in one_line_error(perseus_cli(*build_args(tmp_path / "nope.csv", tmp_path / "o.json")))
    broken = tmp_path / "broken.json"
    broken.write_text('{"data": [')
    assert "not valid JSON" in one_line_error(perseus_cli(*build_args(broken, tmp_path / "o.json")))


def test_register_period_must_start_at_a_read(perseus_cli: Run, tmp_path: Path) -> None:
    line = one_line_error(perseus_cli("build", "consumption", INPUTS / "gas_register_reads_m3.json", "--issuer", "did:example:edp", "--from", "2023-10-02"))
    assert "--from" in line and "no read at" in line


def test_seg_tariff_paying_nothing(perseus_cli: Run, tmp_path: Path) -> None:
    document = json.loads((INPUTS / "tariff_export_seg.json").read_text())
    document["unit_rates"][0]["value_exc_vat"] = document["unit_rates"][0]["value_inc_vat"] = "0"
    path = tmp_path / "seg.json"
    path.write_text(json.dumps(document))
    line = one_line_error(perseus_cli("build", "tariff", path, "--issuer", "did:example:supplier"))
    assert "seg.json" in line and "unit_rates[0]" in line


def test_emissions_names_the_input_file_that_does_not_verify(perseus_cli: Run, tmp_path: Path) -> None:
    credentials = Path(__file__).resolve().parents[2] / "examples" / "credentials"
    tampered = json.loads((credentials / "gas-register-m3-2023-10.json").read_text())
    tampered["credentialSubject"]["totalKwh"] = "1.000"
    path = tmp_path / "gas.json"
    path.write_text(json.dumps(tampered))
    line = one_line_error(perseus_cli("build", "emissions", "--consumption", credentials / "electricity-halfhourly-2023-10.json",
                                  "--consumption", path, "--issuer", "did:example:cap", "-o", tmp_path / "r.json"))
    assert "gas.json (consumption[1])" in line and "does not verify" in line
    assert not (tmp_path / "r.json").exists()
    assert "--consumption" in one_line_error(perseus_cli("build", "emissions", "--issuer", "did:example:cap"))


# -- help --------------------------------------------------------------------------------------------------------


def test_help_documents_every_option() -> None:
    parser = argparse.ArgumentParser(prog="perseus")
    build_cli.register(parser.add_subparsers())
    build = parser._subparsers._group_actions[0].choices["build"]  # type: ignore[union-attr]
    kinds = build._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert set(kinds) == {"consumption", "tariff", "emissions"}
    for name, sub in kinds.items():
        for action in sub._actions:
            assert action.help, f"perseus build {name}: {action.option_strings or action.dest} has no help text"
        text = sub.format_help()
        for action in sub._actions:
            for option in action.option_strings:
                assert option in text


def test_help_exits_zero(perseus_cli: Run) -> None:
    result = perseus_cli("build", "consumption", "--help")
    assert result.code == 0 and "register-reads" in result.out and "--mprn" in result.out
