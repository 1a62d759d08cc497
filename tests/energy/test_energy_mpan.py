"""MPAN and MPRN validation: check digits by the published rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from perseus.issuer.energy import CheckDigitError, InputDataError
from perseus.issuer.energy.mpan import mpan_check_digit, mprn_check_digits, normalise_outcode, parse_mpan, parse_mprn, supply_point

PRIMES = [3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43]


def test_mpan_check_digit_worked_by_hand() -> None:
    # 1,2,0,0,1,2,3,4,5,6,7,8 x primes = 3+10+0+0+17+38+69+116+155+222+287+344 = 1261; 1261 % 11 = 7; 7 % 10 = 7
    assert mpan_check_digit("120012345678") == 7
    assert parse_mpan("1200123456787").core == "1200123456787"


def test_full_21_character_mpan_gives_its_parts() -> None:
    parts = parse_mpan("00 801 100 1200123456787")
    assert (parts.profile_class, parts.meter_time_switch_code, parts.line_loss_factor_class) == ("00", "801", "100")
    assert parts.half_hourly is True
    assert parts.full == "008011001200123456787"
    assert parse_mpan("03 845 A12 1200123456787").line_loss_factor_class == "A12"


def test_wrong_mpan_check_digit_is_named() -> None:
    with pytest.raises(CheckDigitError) as info:
        parse_mpan("1200123456788")
    assert info.value.code == "MALFORMED_VALUE_ERROR"
    assert "check digit 8" in info.value.message and "give 7" in info.value.message


@pytest.mark.parametrize("bad", ["120012345678", "12001234567877", "12001234567a7", ""])
def test_malformed_mpan(bad: str) -> None:
    with pytest.raises(InputDataError):
        parse_mpan(bad)


@given(st.text("0123456789", min_size=12, max_size=12))
def test_mpan_rule_property(first12: str) -> None:
    expected = sum(int(d) * p for d, p in zip(first12, PRIMES)) % 11 % 10
    assert parse_mpan(first12 + str(expected)).core == first12 + str(expected)
    for wrong in set(range(10)) - {expected}:
        with pytest.raises(CheckDigitError):
            parse_mpan(first12 + str(wrong))


def test_mprn_public_worked_example() -> None:
    # The public description's example: 3938424403 -> body 39384244, check digits 03.
    assert mprn_check_digits("39384244") == "03"
    assert parse_mprn("3938424403") == "3938424403"
    with pytest.raises(CheckDigitError):
        parse_mprn("3938424404")
    assert parse_mprn("3938424404", check_digits=False) == "3938424404"


@given(st.text("0123456789", min_size=4, max_size=8))
def test_mprn_single_digit_change_is_caught(body: str) -> None:
    mprn = body + mprn_check_digits(body)
    assert parse_mprn(mprn) == mprn
    # Changing any one body digit changes the weighted sum by k*w with 0<|k|<10, 1<=w<=8 < 11: never 0 mod 11.
    i = len(body) // 2
    changed = body[:i] + str((int(body[i]) + 1) % 10) + body[i + 1 :]
    with pytest.raises(CheckDigitError):
        parse_mprn(changed + mprn[-2:])


@pytest.mark.parametrize("bad", ["12345", "12345678901", "12a4567890"])
def test_mprn_format(bad: str) -> None:
    with pytest.raises(InputDataError):
        parse_mprn(bad)


def test_supply_point_and_outcode() -> None:
    sp = supply_point("00 801 100 1200123456787", "electricity", "export", "se1 7pb")
    assert (sp.identifier, sp.scheme, sp.measure, sp.postcode_outcode, sp.full_mpan) == (
        "1200123456787", "MPAN", "export", "SE1", "008011001200123456787")
    assert supply_point("7418529604", "gas").scheme == "MPRN"
    assert normalise_outcode("M1") == "M1"
    with pytest.raises(InputDataError):
        normalise_outcode("1AB")
    with pytest.raises(InputDataError):
        supply_point("7418529604", "gas", "export")
