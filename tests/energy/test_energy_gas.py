"""Gas volume -> kWh (Gas (Calculation of Thermal Energy) Regulations 1996, reg. 3)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from perseus.issuer.energy import EnergyUnit, FactorNotFoundError, InputDataError, UnknownUnitError
from perseus.issuer.energy.factors import CalorificValue, gas_constants
from perseus.issuer.energy.gas import convert

CV = CalorificValue(Decimal("39.4"), date(2023, 1, 1), date(2024, 1, 1), "test bill")
volumes = st.decimals(min_value=0, max_value=10**7, places=3, allow_nan=False, allow_infinity=False)


def test_worked_example_by_hand() -> None:
    # 1000 m3 x 1.02264 = 1022.64; x 39.4 = 40292.016; / 3.6 = 11192.22666... -> 11192.227
    result = convert(Decimal(1000), EnergyUnit.MTQ, cv=CV)
    assert result.kwh == Decimal("11192.227")
    assert result.correction_factor == Decimal("1.02264")
    assert "ROUND_HALF_EVEN" in result.rounding or "half to even" in result.rounding
    assert result.cv_source == "test bill" and result.cv_period_start == date(2023, 1, 1)


def test_half_even_rounding_is_applied() -> None:
    # Choose a CV that makes the exact result end in ...5 at the 4th place: volume 3.6 m3, cf 1, CV 0.0005 -> 0.0005 kWh.
    tie = convert(Decimal("3.6"), EnergyUnit.MTQ, cv=CalorificValue(Decimal("0.0005"), date(2023, 1, 1), date(2024, 1, 1), "x"),
                  correction_factor=Decimal(1), correction_factor_source="test")
    assert tie.kwh == Decimal("0.000")  # half to even rounds 0.0005 down to 0.000
    tie2 = convert(Decimal("3.6"), EnergyUnit.MTQ, cv=CalorificValue(Decimal("0.0015"), date(2023, 1, 1), date(2024, 1, 1), "x"),
                   correction_factor=Decimal(1), correction_factor_source="test")
    assert tie2.kwh == Decimal("0.002")


def test_imperial_uses_the_data_file_factor() -> None:
    assert gas_constants()["imperial_m3_per_hundred_cubic_feet"].value == Decimal("2.83168")
    result = convert(Decimal(100), EnergyUnit.HH, cv=CV)
    assert result.volume_m3 == Decimal("283.168")
    assert result.imperial_factor_m3 == Decimal("2.83168")
    assert result.kwh == convert(Decimal("283.168"), EnergyUnit.MTQ, cv=CV).kwh


@given(volumes)
def test_hcf_via_m3_equals_direct(v: Decimal) -> None:
    direct = convert(v, EnergyUnit.HH, cv=CV)
    via = convert(v * Decimal("2.83168"), EnergyUnit.MTQ, cv=CV)
    assert direct.kwh == via.kwh
    assert convert(v * 100, EnergyUnit.FTQ, cv=CV).kwh == direct.kwh


@given(volumes, volumes)
def test_monotonic(a: Decimal, b: Decimal) -> None:
    lo, hi = sorted((a, b))
    assert convert(lo, EnergyUnit.MTQ, cv=CV).kwh <= convert(hi, EnergyUnit.MTQ, cv=CV).kwh


def test_zero_in_zero_out() -> None:
    for unit in (EnergyUnit.MTQ, EnergyUnit.HH, EnergyUnit.FTQ):
        assert convert(Decimal(0), unit, cv=CV).kwh == 0


def test_errors() -> None:
    with pytest.raises(InputDataError):
        convert(Decimal(-1), EnergyUnit.MTQ, cv=CV)
    with pytest.raises(UnknownUnitError):
        convert(Decimal(1), EnergyUnit.KWH, cv=CV)
    with pytest.raises(InputDataError):
        convert(Decimal(1), EnergyUnit.MTQ)  # no CV and no date
    with pytest.raises(FactorNotFoundError):
        convert(Decimal(1), EnergyUnit.MTQ, on=date(1990, 1, 1))
    with pytest.raises(InputDataError):
        convert(Decimal(1), EnergyUnit.MTQ, cv=CV, correction_factor=Decimal("1.01"))  # non-standard factor needs a source
