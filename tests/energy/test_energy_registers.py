"""Register reads -> consumption: rollover, corrections, meter exchanges (property-based)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from perseus.issuer.energy import EnergyUnit, RegisterDeltaError
from perseus.issuer.energy.model import MeterExchange, RegisterBaseline, RegisterRead, RegisterSeries
from perseus.issuer.energy.registers import consumption

T0 = datetime(2023, 1, 1, tzinfo=timezone.utc)


def simulate(opening: int, steps: list[int], digits: int) -> RegisterSeries:
    """What a real register shows: the running total modulo 10**digits."""
    modulus = 10**digits
    reads, value = [], opening
    for k, step in enumerate(steps, start=1):
        value = (value + step) % modulus
        reads.append(RegisterRead(T0 + timedelta(days=30 * k), Decimal(value)))
    return RegisterSeries(RegisterBaseline(RegisterRead(T0, Decimal(opening)), digits, EnergyUnit.KWH), tuple(reads))


@st.composite
def registers(draw):  # type: ignore[no-untyped-def]
    digits = draw(st.integers(3, 7))
    modulus = 10**digits
    opening = draw(st.integers(0, modulus - 1))
    steps = draw(st.lists(st.integers(0, modulus // 2 - 1), min_size=1, max_size=20))
    return opening, steps, digits


@given(registers())
def test_consumption_is_the_true_total_across_rollovers(case) -> None:  # type: ignore[no-untyped-def]
    opening, steps, digits = case
    result = consumption(simulate(opening, steps, digits))
    assert result.total == sum(steps)
    expected_rollovers = sum(1 for k in range(len(steps)) if (opening + sum(steps[: k + 1])) // 10**digits > (opening + sum(steps[:k])) // 10**digits)
    assert sum(d.rolled_over for d in result.deltas) == expected_rollovers


@given(registers(), st.data())
def test_corrected_estimates_do_not_change_the_total(case, data) -> None:  # type: ignore[no-untyped-def]
    opening, steps, digits = case
    series = simulate(opening, steps, digits)
    k = data.draw(st.integers(0, len(series.reads) - 1))
    true_read = series.reads[k]
    wrong = Decimal((int(true_read.value) + data.draw(st.integers(1, 50))) % 10**digits)
    estimate = RegisterRead(true_read.at, wrong, "estimated")
    correction = RegisterRead(true_read.at, true_read.value, "actual", replaces=true_read.at)
    reads = list(series.reads)
    reads[k] = estimate
    reads.append(correction)
    result = consumption(RegisterSeries(series.baseline, tuple(reads)))
    assert result.total == sum(steps)
    assert result.superseded == (estimate,)


def test_correction_at_a_later_time_replaces_the_estimate() -> None:
    base = RegisterBaseline(RegisterRead(T0, Decimal(1000)), 5)
    est = RegisterRead(T0 + timedelta(days=30), Decimal(1600), "estimated")
    actual = RegisterRead(T0 + timedelta(days=33), Decimal(1450), "actual", replaces=est.at)
    last = RegisterRead(T0 + timedelta(days=60), Decimal(1900))
    result = consumption(RegisterSeries(base, (est, actual, last)))
    assert result.total == 900
    assert [d.delta for d in result.deltas] == [450, 450]


def test_meter_exchange_sums_the_two_meters() -> None:
    base = RegisterBaseline(RegisterRead(T0, Decimal(99_000)), 5)
    ex_at = T0 + timedelta(days=40)
    exchange = MeterExchange(ex_at, RegisterRead(ex_at, Decimal(500)), RegisterBaseline(RegisterRead(ex_at, Decimal(0)), 6))
    reads = (RegisterRead(T0 + timedelta(days=30), Decimal(99_800)), RegisterRead(T0 + timedelta(days=60), Decimal(700)))
    result = consumption(RegisterSeries(base, reads, (exchange,)))
    # old meter: 99000 -> 99800 (800) -> 500 (rollover: 100000-99800+500 = 700); new meter: 0 -> 700
    assert result.total == 800 + 700 + 700
    assert [d.meter for d in result.deltas] == [0, 0, 1]


def test_backwards_register_without_plausible_rollover_names_the_reads() -> None:
    base = RegisterBaseline(RegisterRead(T0, Decimal(50_000)), 5)
    bad = RegisterRead(T0 + timedelta(days=30), Decimal(40_000))
    with pytest.raises(RegisterDeltaError) as info:
        consumption(RegisterSeries(base, (bad,)))
    assert "50000" in info.value.message and "40000" in info.value.message
    assert info.value.code == "MALFORMED_VALUE_ERROR"


def test_max_kw_bounds_a_rollover() -> None:
    base = RegisterBaseline(RegisterRead(T0, Decimal(99_900)), 5)
    read = RegisterRead(T0 + timedelta(hours=1), Decimal(100))  # 200 units in an hour
    assert consumption(RegisterSeries(base, (read,))).total == 200
    with pytest.raises(RegisterDeltaError):
        consumption(RegisterSeries(base, (read,)), max_kw=Decimal(100))


def test_correction_of_a_read_that_does_not_exist() -> None:
    base = RegisterBaseline(RegisterRead(T0, Decimal(1)), 5)
    with pytest.raises(RegisterDeltaError):
        consumption(RegisterSeries(base, (RegisterRead(T0 + timedelta(days=1), Decimal(5), replaces=T0 + timedelta(hours=3)),)))


def test_estimate_cannot_replace_an_actual_read() -> None:
    base = RegisterBaseline(RegisterRead(T0, Decimal(1)), 5)
    actual = RegisterRead(T0 + timedelta(days=1), Decimal(5))
    est = RegisterRead(T0 + timedelta(days=1), Decimal(6), "estimated", replaces=actual.at)
    with pytest.raises(RegisterDeltaError):
        consumption(RegisterSeries(base, (actual, est)))


def test_baseline_must_fit_the_register() -> None:
    with pytest.raises(Exception):
        RegisterBaseline(RegisterRead(T0, Decimal(100_000)), 5)
