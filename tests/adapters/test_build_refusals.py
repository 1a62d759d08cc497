"""Silent wrongness is now an error: each case the issue found refuses with a reason naming the fix."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from perseus.issuer.build_cli import main
from perseus.issuer.keyfile import generate_key_file, write_key_file

ROOT = Path(__file__).resolve().parents[2]
INPUTS = ROOT / "examples" / "inputs"
MPAN = "1200123456787"  # valid check digit (examples/inputs/meters.json)
MPRN = "3692581404"  # the example gas meter (examples/inputs/gas_register_reads_hcf.json)
HALF = timedelta(minutes=30)


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def day_csv(path: Path, *, unit_column: bool = False, naive: bool = False) -> Path:
    start = datetime(2024, 1, 10, tzinfo=UTC)
    lines = ["start,end,value,quality" + (",unit" if unit_column else "")]
    for i in range(48):
        s, e = start + i * HALF, start + (i + 1) * HALF
        s_text, e_text = (s.replace(tzinfo=None).isoformat(), e.replace(tzinfo=None).isoformat()) if naive else (s.isoformat(), e.isoformat())
        lines.append(f"{s_text},{e_text},0.250,actual" + (",MTQ" if unit_column else ""))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def build(path: Path, out: Path, *extra: str) -> list[object]:
    return ["build", "consumption", path, "--account", "did:example:sme", "--issuer", "did:example:edp", "-o", out, *extra]


def error_line(code: int, err: str) -> str:
    assert code == 2, err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


def test_gas_without_a_unit_asks_for_unit(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "c.json"
    code, _, err = run(capsys, *build(day_csv(tmp_path / "gas.csv"), out, "--mprn", MPRN))
    line = error_line(code, err)
    assert "give --unit" in line and "never assumed to be kWh" in line
    assert not out.exists()  # nothing half-written
    code, _, err = run(capsys, *build(day_csv(tmp_path / "gas.csv"), out, "--mprn", MPRN, "--unit", "MTQ"))
    assert code == 0, err
    subject = json.loads(out.read_text())["credentialSubject"]
    assert subject["gasConversion"]["volumeUnit"] == "MTQ" and subject["supplyPoint"]["fuel"] == "gas"


def test_unit_with_input_that_states_units_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, *build(day_csv(tmp_path / "u.csv", unit_column=True), tmp_path / "c.json", "--mprn", MPRN, "--unit", "KWH"))
    assert "leave out --unit KWH" in error_line(code, err)
    ib1 = INPUTS / "ib1_consumption_electricity_2023-10.json"
    code, _, err = run(capsys, *build(ib1, tmp_path / "c.json", "--mpan", MPAN, "--unit", "WHR"))
    assert "leave out --unit WHR" in error_line(code, err)
    code, _, err = run(capsys, *build(INPUTS / "gas_register_reads_m3.json", tmp_path / "c.json", "--unit", "MTQ"))
    assert "leave out --unit MTQ" in error_line(code, err)


def test_mprn_with_electricity_data_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    ib1 = INPUTS / "ib1_consumption_electricity_2023-10.json"
    code, _, err = run(capsys, *build(ib1, tmp_path / "c.json", "--mprn", MPRN))
    assert "holds electricity readings: --mprn names a gas meter" in error_line(code, err)


def test_mpan_with_gas_volumes_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, *build(day_csv(tmp_path / "u.csv", unit_column=True), tmp_path / "c.json", "--mpan", MPAN))
    assert "holds gas volumes: --mpan names an electricity meter" in error_line(code, err)


def test_naive_timestamps_offer_the_real_option(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = day_csv(tmp_path / "naive.csv", naive=True)
    out = tmp_path / "c.json"
    code, _, err = run(capsys, *build(path, out, "--mpan", MPAN))
    line = error_line(code, err)
    assert "--naive-tz Europe/London" in line and "row 2" in line
    code, _, err = run(capsys, *build(path, out, "--mpan", MPAN, "--naive-tz", "Europe/London"))
    assert code == 0, err
    assert json.loads(out.read_text())["credentialSubject"]["totalKwh"] == "12.000"
    code, _, err = run(capsys, *build(path, out, "--mpan", MPAN, "--naive-tz", "Mars/Olympus"))
    assert code == 2 and "Traceback" not in err


def test_sign_refuses_a_key_that_is_not_the_issuers(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    issuer_key, other_key = generate_key_file("Ed25519"), generate_key_file("Ed25519")
    write_key_file(other_key, tmp_path / "other.json")
    unsigned = tmp_path / "c.json"
    code, _, err = run(capsys, *build(day_csv(tmp_path / "d.csv"), unsigned, "--mpan", MPAN))
    assert code == 0, err
    document = json.loads(unsigned.read_text())
    document["issuer"] = issuer_key.controller
    unsigned.write_text(json.dumps(document))
    signed = tmp_path / "s.json"
    code, _, err = run(capsys, "sign", unsigned, "--key", tmp_path / "other.json", "-o", signed)
    line = error_line(code, err)
    assert other_key.controller in line and issuer_key.controller in line and "--allow-other-issuer" in line
    assert not signed.exists()
    code, _, err = run(capsys, "sign", unsigned, "--key", tmp_path / "other.json", "-o", signed, "--allow-other-issuer")
    assert code == 0, err
    assert json.loads(signed.read_text())["proof"]["verificationMethod"].startswith(other_key.controller)
