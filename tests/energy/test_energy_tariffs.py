"""Cost under a tariff: time-of-use bands, weekends, date ranges, standing charges, VAT, export income."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perseus.issuer.energy import InputDataError, PeriodError, TariffError
from perseus.issuer.energy.model import IntervalReading, Rate, StandingCharge, Tariff, TimeOfUse
from perseus.issuer.energy.mpan import supply_point
from perseus.issuer.energy.tariffs import cost, rate_for

LONDON = ZoneInfo("Europe/London")
UTC = timezone.utc
HALF = timedelta(minutes=30)
WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY")


def rate(p: str, band: str, tou: TimeOfUse | None = None, **kw) -> Rate:  # type: ignore[no-untyped-def]
    return Rate(Decimal(p), Decimal(p) * Decimal("1.2"), restrictions=tou, band=band, **kw)


def tariff(*rates: Rate, standing: str = "50", **kw) -> Tariff:  # type: ignore[no-untyped-def]
    return Tariff("S", "T", "Test", kw.pop("direction", "import"), standing_charges=(StandingCharge(Decimal(standing), Decimal(standing)),),
                  unit_rates=rates, **kw)


TOU = tariff(
    rate("30", "day", TimeOfUse(time(7), time(23), WEEKDAYS)),
    rate("15", "night", TimeOfUse(time(23), time(7), WEEKDAYS)),
    rate("20", "weekend", TimeOfUse(days_of_week=("SATURDAY", "SUNDAY"))),
    rate("40", "winter-peak", TimeOfUse(time(16), time(19), WEEKDAYS, date(2023, 11, 1), date(2024, 3, 1))),
)


def local(y: int, m: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=LONDON)


@pytest.mark.parametrize(
    "at, band",
    [
        (local(2023, 10, 2, 12), "day"),            # Monday noon
        (local(2023, 10, 2, 23, 30), "night"),      # crosses midnight: Monday 23:30
        (local(2023, 10, 3, 6, 30), "night"),       # Tuesday 06:30, same band after midnight
        (local(2023, 10, 7, 3), "weekend"),         # Saturday night is weekend, not night (night is weekdays only)
        (local(2023, 10, 2, 17), "day"),            # before the winter date range
        (local(2023, 11, 6, 17), "winter-peak"),    # inside it: the most specific band wins
        (local(2023, 11, 6, 19), "day"),            # end_time is exclusive
    ],
)
def test_band_selection(at: datetime, band: str) -> None:
    assert rate_for(TOU, at).band == band


def test_ambiguous_bands_are_an_error() -> None:
    t = tariff(rate("15", "night", TimeOfUse(time(23), time(7))), rate("20", "weekend", TimeOfUse(days_of_week=("SATURDAY", "SUNDAY"))))
    with pytest.raises(TariffError, match="ambiguous"):
        rate_for(t, local(2023, 10, 7, 3))


def test_no_rate_is_an_error() -> None:
    t = tariff(rate("15", "night", TimeOfUse(time(23), time(7))))
    with pytest.raises(TariffError, match="no unit rate"):
        rate_for(t, local(2023, 10, 7, 12))


def day(d: date, kwh: str = "1") -> list[IntervalReading]:
    s = datetime.combine(d, time(0), tzinfo=LONDON).astimezone(UTC)
    e = datetime.combine(d + timedelta(days=1), time(0), tzinfo=LONDON).astimezone(UTC)
    out = []
    while s < e:
        out.append(IntervalReading(s, s + HALF, Decimal(kwh)))
        s += HALF
    return out


def test_cost_of_a_weekday_and_a_weekend_day_by_hand() -> None:
    result = cost(day(date(2023, 10, 2)), TOU)  # a Monday
    # Monday: 00:00-07:00 night (14 x 15) + 07:00-23:00 day (32 x 30) + 23:00-24:00 night (2 x 15) = 210 + 960 + 30 = 1200 p
    assert result.energy_pence_exc_vat == Decimal(1200)
    assert result.standing_days == 1 and result.standing_pence_exc_vat == 50
    assert result.vat_pence == Decimal("1250") * Decimal("0.20")
    assert result.total_gbp_inc_vat == Decimal("15.00")
    sat = cost(day(date(2023, 10, 7)), TOU)  # a Saturday
    assert sat.energy_pence_exc_vat == 48 * 20
    assert {b.band for b in sat.by_band} == {"weekend"}


def test_standing_charge_counts_local_days_including_25_hour_day() -> None:
    readings = day(date(2023, 10, 28)) + day(date(2023, 10, 29))
    result = cost(readings, TOU)
    assert result.standing_days == 2 and result.kwh == 98


def test_period_must_be_whole_local_days() -> None:
    readings = day(date(2023, 10, 2))[:10]
    with pytest.raises(PeriodError):
        cost(readings, TOU)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.decimals(0, 50, places=3), min_size=48, max_size=48), st.integers(1, 5))
def test_energy_cost_is_linear_in_consumption(values, k) -> None:  # type: ignore[no-untyped-def]
    base = [IntervalReading(r.start, r.end, v) for r, v in zip(day(date(2023, 11, 6)), values)]
    scaled = [IntervalReading(r.start, r.end, r.value * k) for r in base]
    assert cost(scaled, TOU).energy_pence_exc_vat == k * cost(base, TOU).energy_pence_exc_vat


def test_dynamic_negative_import_price_reduces_the_bill() -> None:
    readings = day(date(2023, 10, 2))
    rates = tuple(Rate(Decimal("-2") if k < 10 else Decimal(20), Decimal(0), r.start, r.end) for k, r in enumerate(readings))
    t = Tariff("S", "AGILE", "Agile", "import", standing_charges=(StandingCharge(Decimal(40), Decimal(42)),), unit_rates=rates,
               dynamic=True, vat_rate=Decimal("0.05"))
    result = cost(readings, t)
    assert result.energy_pence_exc_vat == 10 * -2 + 38 * 20


def test_seg_rates_must_be_positive() -> None:
    with pytest.raises(InputDataError, match="above 0"):
        Tariff("S", "SEG", "SEG", "export", unit_rates=(Rate(Decimal(0), Decimal(0)),), seg=True)


def test_export_income_has_no_vat_or_standing_charge() -> None:
    t = Tariff("S", "SEG", "SEG", "export", unit_rates=(Rate(Decimal("5.5"), Decimal("5.5")),), seg=True,
               export_meter=supply_point("1200123456796", "electricity", "export"))
    result = cost(day(date(2023, 6, 1), "0.5"), t)
    assert result.total_pence_inc_vat == Decimal("5.5") * 24 and result.vat_pence == 0 and result.standing_days == 0


def test_consumption_direction_must_match() -> None:
    from perseus.issuer.energy.consumption import build_consumption

    data = build_consumption(supply_point("1200123456787", "electricity"), "acct", intervals=day(date(2023, 6, 1)))
    t = Tariff("S", "SEG", "SEG", "export", unit_rates=(Rate(Decimal("5.5"), Decimal("5.5")),), seg=True)
    with pytest.raises(TariffError, match="import"):
        cost(data, t)


@given(st.times(), st.times(), st.datetimes(min_value=datetime(2023, 1, 1), max_value=datetime(2025, 1, 1)))
def test_a_band_and_its_complement_cover_every_instant_once(a, b, when) -> None:  # type: ignore[no-untyped-def]
    from perseus.issuer.energy.tariffs import matches

    if a == b:
        return
    at = when.replace(tzinfo=LONDON)
    inside = matches(TimeOfUse(a, b), at)
    outside = matches(TimeOfUse(b, a), at)
    assert inside != outside
