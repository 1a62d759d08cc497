"""Benchmark the energy adapters and arithmetic on a year of half-hourly data (17,520 readings).

Budget from the brief: parsing a year of half-hourly data takes well under 0.2 s. The other figures
(totals, cost under a dynamic tariff, gas conversion) show where the rest of a credential build goes.

Run: ``python bench/bench_energy.py`` (prints median and best of N runs; asserts nothing).
Inputs are the committed samples in ``examples/inputs`` (regenerate with ``examples/inputs/generate.py``).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

from perseus.issuer.adapters import load_tariff, parse_ib1_consumption, read_long, read_wide
from perseus.issuer.energy.consumption import build_consumption
from perseus.issuer.energy.factors import CalorificValue
from perseus.issuer.energy.gas import convert
from perseus.issuer.energy.intervals import summarise
from perseus.issuer.energy.model import EnergyUnit, Rate, StandingCharge, Tariff
from perseus.issuer.energy.mpan import supply_point
from perseus.issuer.energy.tariffs import cost

INPUTS = Path(__file__).resolve().parents[1] / "examples" / "inputs"


def timed(label: str, fn: Callable[[], object], runs: int = 7) -> object:
    result = None
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    print(f"{label:<58} median {statistics.median(times) * 1000:8.1f} ms   best {min(times) * 1000:8.1f} ms")
    return result


def main() -> None:
    print(f"python {sys.version.split()[0]}; inputs from {INPUTS}")
    long_path = INPUTS / "electricity_import_2023_long.csv"
    wide_path = INPUTS / "electricity_import_2023_wide.csv"
    readings = timed("read_long: 17,520-row long CSV (parse + check)", lambda: read_long(long_path))
    timed("read_wide: 365-row wide CSV, 17,520 intervals", lambda: read_wide(wide_path))
    timed("parse_ib1_consumption: one month (1,490 readings)", lambda: parse_ib1_consumption(INPUTS / "ib1_consumption_electricity_2023-10.json"))
    assert isinstance(readings, tuple) and len(readings) == 17_520
    timed("summarise: daily/monthly totals + completeness (17,520)", lambda: summarise(readings))
    sp = supply_point("1200123456787", "electricity", "import", "SE1")
    data = timed("build_consumption: checks + totals (17,520)", lambda: build_consumption(sp, "did:example:sme", intervals=readings))
    tou = load_tariff(INPUTS / "tariff_weekend_offpeak_fuelmix.json")
    timed("cost: time-of-use tariff with weekend/date bands (17,520)", lambda: cost(data, tou))  # type: ignore[arg-type]
    # A year of dynamic (Agile-style) half-hourly prices: one rate per interval.
    rates = tuple(Rate(Decimal(k % 37) - 3, Decimal(k % 37) - 3, r.start, r.end) for k, r in enumerate(readings))
    agile = Tariff("S", "AGILE", "Agile", "import", standing_charges=(StandingCharge(Decimal(40), Decimal(42)),), unit_rates=rates, dynamic=True)
    timed("cost: dynamic tariff, 17,520 half-hourly rates", lambda: cost(data, agile), runs=3)  # type: ignore[arg-type]
    volumes = [Decimal(k) / 7 for k in range(1, 1001)]
    cv = CalorificValue(Decimal("39.4"), date(2023, 1, 1), date(2024, 1, 1), "bench")
    timed("gas.convert x 1,000 (hcf -> kWh, 60-digit exact)", lambda: [convert(v, EnergyUnit.HH, cv=cv) for v in volumes])


if __name__ == "__main__":
    main()
