"""Helpers and fixtures shared by the Perseus credential tests.

A uniquely named module rather than a conftest.py: several test folders have a conftest.py, and with no
__init__.py files `from conftest import ...` resolves to whichever was imported first. Test modules import
the fixtures they use from here (pytest finds fixtures imported into a test module).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from perseus.issuer.energy.consumption import build_consumption
from perseus.issuer.energy.model import ConsumptionData, EnergyUnit, IntervalReading
from perseus.issuer.energy.mpan import supply_point
from perseus.issuer.keyfile import KeyFile, generate_key_file

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
INPUTS = EXAMPLES / "inputs"
ISSUED = datetime(2024, 2, 1, 9, 0, tzinfo=UTC)
IMPORT_MPAN = "1200123456787"  # valid check digit (examples/inputs/meters.json)
SME = "did:example:sme-brightwater-studio"


def half_hours(start: datetime, values: list[str], quality: str = "actual", unit: EnergyUnit = EnergyUnit.KWH) -> list[IntervalReading]:
    step = timedelta(minutes=30)
    return [IntervalReading(start + i * step, start + (i + 1) * step, Decimal(v), unit, quality) for i, v in enumerate(values)]  # type: ignore[arg-type]


def january_electricity(values: Callable[[int], str] = lambda i: f"0.{(i * 37) % 900 + 100:03d}") -> ConsumptionData:
    """A checked month of half-hourly electricity (January 2024: 1,488 half-hours, no clock change)."""
    start = datetime(2024, 1, 1, tzinfo=UTC)
    readings = half_hours(start, [values(i) for i in range(31 * 48)])
    point = supply_point(IMPORT_MPAN, "electricity", "import", "SE1")
    return build_consumption(point, SME, intervals=readings)



@pytest.fixture(scope="session")
def edp_key() -> KeyFile:
    return generate_key_file("Ed25519")


@pytest.fixture(scope="session")
def cap_key() -> KeyFile:
    return generate_key_file("Ed25519")


@pytest.fixture(scope="session")
def january() -> ConsumptionData:
    return january_electricity()


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def perseus_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run `perseus ARGS` in-process with the `build` command registered; returns exit code and output."""
    from perseus.issuer.build_cli import main

    def run(*argv: object) -> CliResult:
        capsys.readouterr()
        code = main([str(a) for a in argv])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
