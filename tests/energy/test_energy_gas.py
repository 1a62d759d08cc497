"""Gas volume -> kWh (Gas (Calculation of Thermal Energy) Regulations 1996, reg. 3)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from perseus.issuer.energy import EnergyUnit, FactorNotFoundError, InputDataError, UnknownUnitError
from perseus.issuer.energy.factors import CalorificValue, gas_constants
from perseus.issuer.energy.gas import convert, imperial_factor

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
    # Choose volumes that make the exact result end in ...5 at the 4th place: cf 1, CV 36.0 -> kWh = m3 x 36 / 3.6 = m3 x 10.
    cv36 = CalorificValue(Decimal("36.0"), date(2023, 1, 1), date(2024, 1, 1), "x")
    tie = convert(Decimal("0.00005"), EnergyUnit.MTQ, cv=cv36, correction_factor=Decimal(1), correction_factor_source="test")
    assert tie.kwh == Decimal("0.000")  # 0.0005 kWh: half to even rounds down to 0.000
    tie2 = convert(Decimal("0.00015"), EnergyUnit.MTQ, cv=cv36, correction_factor=Decimal(1), correction_factor_source="test")
    assert tie2.kwh == Decimal("0.002")  # 0.0015 kWh: half to even rounds up to 0.002


def test_imperial_follows_the_bill_by_default_and_states_the_factor() -> None:
    assert gas_constants()["imperial_m3_per_hundred_cubic_feet"].value == Decimal("2.83")
    result = convert(Decimal(100), EnergyUnit.HH, cv=CV)
    # By hand: 100 hcf x 2.83 = 283 m3 (the bill's factor), not 283.16846592.
    assert result.volume_m3 == Decimal("283.00")
    assert result.imperial_factor_m3 == Decimal("2.83")
    assert result.kwh == convert(Decimal("283"), EnergyUnit.MTQ, cv=CV).kwh


def test_the_exact_imperial_factor_can_be_chosen() -> None:
    exact = imperial_factor("exact")
    assert exact == Decimal("2.8316846592") == Decimal("0.3048") ** 3 * 100
    result = convert(Decimal(100), EnergyUnit.HH, cv=CV, hcf=exact)
    assert result.volume_m3 == Decimal("283.16846592") and result.imperial_factor_m3 == exact
    with pytest.raises(InputDataError, match="'bill' \\(2.83\\) or 'exact'"):
        imperial_factor("metric")


def test_thousands_of_cubic_feet_are_ten_hundreds() -> None:
    # By hand: 2 thousand cubic feet = 20 hundred cubic feet = 20 x 2.83 = 56.6 m3.
    result = convert(Decimal(2), EnergyUnit.FC, cv=CV)
    assert result.volume_m3 == Decimal("56.60") and result.imperial_factor_m3 == Decimal("28.30")
    assert result.kwh == convert(Decimal(20), EnergyUnit.HH, cv=CV).kwh


def test_the_calorific_value_is_truncated_to_one_decimal_place() -> None:
    given_cv = CalorificValue(Decimal("39.46"), date(2023, 1, 1), date(2024, 1, 1), "gas bill")
    result = convert(Decimal(1000), EnergyUnit.MTQ, cv=given_cv)
    # By hand (reg. 3(2)): 39.46 truncates to 39.4 (not rounded to 39.5);
    # kWh = 1000 x 1.02264 x 39.4 / 3.6 = 40,292.016 / 3.6 = 11,192.226666... -> 11192.227.
    assert result.calorific_value_mj_per_m3 == Decimal("39.4") and result.cv_as_given == Decimal("39.46")
    assert result.kwh == Decimal("11192.227") and "truncated to 39.4" in result.cv_source
    assert convert(Decimal(1000), EnergyUnit.MTQ, cv=CV).cv_as_given is None
    with pytest.raises(InputDataError, match="must stay positive"):
        convert(Decimal(1), EnergyUnit.MTQ, cv=CalorificValue(Decimal("0.05"), date(2023, 1, 1), date(2024, 1, 1), "x"))


def test_an_indicative_cv_is_not_credited_to_national_gas() -> None:
    indicative = convert(Decimal(1), EnergyUnit.MTQ, on=date(2023, 6, 1))
    assert "indicative" in indicative.cv_source and "not a National Gas published figure" in indicative.cv_source
    assert "nationalgas" not in indicative.cv_source


@given(volumes)
def test_hcf_via_m3_equals_direct(v: Decimal) -> None:
    direct = convert(v, EnergyUnit.HH, cv=CV)
    via = convert(v * Decimal("2.83"), EnergyUnit.MTQ, cv=CV)
    assert direct.kwh == via.kwh
    assert convert(v * 100, EnergyUnit.FTQ, cv=CV).kwh == direct.kwh
    assert convert(v / 10, EnergyUnit.FC, cv=CV).kwh == direct.kwh


@given(volumes, volumes)
def test_monotonic(a: Decimal, b: Decimal) -> None:
    lo, hi = sorted((a, b))
    assert convert(lo, EnergyUnit.MTQ, cv=CV).kwh <= convert(hi, EnergyUnit.MTQ, cv=CV).kwh


def test_zero_in_zero_out() -> None:
    for unit in (EnergyUnit.MTQ, EnergyUnit.HH, EnergyUnit.FTQ, EnergyUnit.FC):
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
