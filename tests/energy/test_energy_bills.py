"""Business and domestic bills as HMRC's rules define them: CCL, VAT on top of CCL, de minimis, band clocks.

Every expectation is computed by hand in the comment above it; rates and thresholds come from
``issuer/energy/data/tax_rates.json`` (HMRC: CCL rates, VAT Notice 701/19).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from perseus.issuer.energy.bill import bill_json, bill_text
from perseus.issuer.energy.factors import tax_rules
from perseus.issuer.energy.model import IntervalReading, Rate, StandingCharge, Tariff, TimeOfUse
from perseus.issuer.energy.tariffs import cost

LONDON = ZoneInfo("Europe/London")
UTC = timezone.utc
HALF = timedelta(minutes=30)


def flat(customer_class: str | None, *, p: str = "25", standing: str = "50", fuel: str = "electricity", vat: str = "0.20") -> Tariff:
    return Tariff(
        "S", "T", "Flat", "import",
        standing_charges=(StandingCharge(Decimal(standing), Decimal(standing)),),
        unit_rates=(Rate(Decimal(p), Decimal(p), band="standard"),),
        customer_class=customer_class,  # type: ignore[arg-type]
        fuel=fuel,  # type: ignore[arg-type]
        vat_rate=Decimal(vat),
    )


def month_of(start_local: datetime, end_local: datetime, kwh_total: Decimal) -> list[IntervalReading]:
    """Half-hours from local midnight to local midnight: ``kwh_total`` in the first, 0 in the others (exact)."""
    start, end = start_local.astimezone(UTC), end_local.astimezone(UTC)
    n = int((end - start) / HALF)
    return [IntervalReading(start + k * HALF, start + (k + 1) * HALF, kwh_total if k == 0 else Decimal(0)) for k in range(n)]


JUNE = (datetime(2024, 6, 1, tzinfo=LONDON), datetime(2024, 7, 1, tzinfo=LONDON))  # 30 days, 1,440 half-hours


def test_a_business_month_pays_ccl_and_20_percent_vat_on_top_of_it() -> None:
    bill = cost(month_of(*JUNE, Decimal(3000)), flat("business"), period_start=JUNE[0], period_end=JUNE[1])
    # By hand: energy 3,000 kWh x 25 p = 75,000 p; standing 30 days x 50 p = 1,500 p;
    # CCL 3,000 kWh x £0.00775 = £23.25 = 2,325 p (rate for June 2024);
    # VAT 20% x (75,000 + 1,500 + 2,325) = 20% x 78,825 = 15,765 p; total 94,590 p = £945.90.
    month = bill.months[0]
    assert (month.energy_pence_exc_vat, month.standing_pence_exc_vat, month.ccl_pence) == (Decimal(75000), Decimal(1500), Decimal(2325))
    assert month.vat_rate == Decimal("0.20") and month.vat_pence == Decimal(15765) and month.taxes == "business"
    assert bill.total_gbp_inc_vat == Decimal("945.90")
    # Without CCL and with VAT on energy and standing only (the old rule): 76,500 x 1.2 = 91,800 p, 2.9% low.
    old = cost(month_of(*JUNE, Decimal(3000)), flat(None), period_start=JUNE[0], period_end=JUNE[1])
    assert old.total_gbp_inc_vat == Decimal("918.00") and old.months[0].taxes == "tariff-vat"


def test_a_business_month_within_de_minimis_is_treated_as_domestic() -> None:
    bill = cost(month_of(*JUNE, Decimal(1000)), flat("business"), period_start=JUNE[0], period_end=JUNE[1])
    # By hand: 1,000 kWh <= 1,000 kWh a month: no CCL, VAT 5%. Energy 25,000 p + standing 1,500 p = 26,500 p;
    # VAT 1,325 p; total 27,825 p = £278.25.
    month = bill.months[0]
    assert month.taxes == "de-minimis" and month.ccl_pence == 0 and month.vat_rate == Decimal("0.05")
    assert bill.total_gbp_inc_vat == Decimal("278.25")
    over = cost(month_of(*JUNE, Decimal("1000.5")), flat("business"), period_start=JUNE[0], period_end=JUNE[1])
    assert over.months[0].taxes == "business", "1,000.5 kWh is over the threshold"


def test_gas_de_minimis_is_4397_kwh_and_gas_ccl_changes_each_april() -> None:
    march, april = (datetime(2024, 3, 1, tzinfo=LONDON), datetime(2024, 4, 1, tzinfo=LONDON)), (datetime(2024, 4, 1, tzinfo=LONDON), datetime(2024, 5, 1, tzinfo=LONDON))
    readings = month_of(*march, Decimal(5000)) + month_of(*april, Decimal(4397))
    bill = cost(readings, flat("business", p="6", standing="30", fuel="gas"), period_start=march[0], period_end=april[1])
    m, a = bill.months
    # By hand, March 2024: 5,000 kWh > 4,397: CCL 5,000 x £0.00672 (gas, Apr 2023 - Mar 2024) = £33.60 = 3,360 p;
    # energy 30,000 p; standing 31 x 30 = 930 p; VAT 20% x 34,290 = 6,858 p; total 41,148 p.
    assert (m.ccl_pence, m.vat_pence, m.total_pence_inc_vat) == (Decimal(3360), Decimal(6858), Decimal(41148))
    # April 2024: 4,397 kWh is within de minimis: no CCL; energy 26,382 p + standing 900 p = 27,282 p; VAT 5% = 1,364.1 p.
    assert (a.taxes, a.ccl_pence, a.vat_pence, a.total_pence_inc_vat) == ("de-minimis", 0, Decimal("1364.1"), Decimal("28646.1"))
    # Whole bill: 41,148 + 28,646.1 = 69,794.1 p = £697.94.
    assert bill.total_gbp_inc_vat == Decimal("697.94")


def test_electricity_ccl_rises_in_april_2026() -> None:
    rules = tax_rules()
    assert rules.ccl_gbp_per_kwh("electricity", datetime(2026, 3, 31).date()) == Decimal("0.00775")
    assert rules.ccl_gbp_per_kwh("electricity", datetime(2026, 4, 1).date()) == Decimal("0.00801")
    april = (datetime(2026, 4, 1, tzinfo=LONDON), datetime(2026, 5, 1, tzinfo=LONDON))
    bill = cost(month_of(*april, Decimal(2000)), flat("business"), period_start=april[0], period_end=april[1])
    # By hand: 2,000 kWh x £0.00801 = £16.02 = 1,602 p.
    assert bill.months[0].ccl_pence == Decimal(1602) and bill.months[0].ccl_pence_per_kwh == Decimal("0.801")


def test_a_domestic_tariff_pays_reduced_vat_and_no_ccl() -> None:
    bill = cost(month_of(*JUNE, Decimal(3000)), flat("domestic"), period_start=JUNE[0], period_end=JUNE[1])
    # By hand: (75,000 + 1,500) x 1.05 = 80,325 p = £803.25.
    assert bill.total_gbp_inc_vat == Decimal("803.25") and bill.ccl_pence == 0


def test_a_part_month_uses_the_de_minimis_pro_rata() -> None:
    half = (datetime(2024, 6, 1, tzinfo=LONDON), datetime(2024, 6, 16, tzinfo=LONDON))  # 15 of 30 days
    bill = cost(month_of(*half, Decimal(600)), flat("business"), period_start=half[0], period_end=half[1])
    # By hand: threshold 1,000 x 15 / 30 = 500 kWh a half-month (33.3 kWh a day); 600 kWh > 500: business rules.
    assert bill.months[0].de_minimis_kwh == Decimal(500) and bill.months[0].taxes == "business"


def economy7(basis: str) -> Tariff:
    night = TimeOfUse(time(0), time(7), time_basis=basis)  # type: ignore[arg-type]
    day = TimeOfUse(time(7), time(0), time_basis=basis)  # type: ignore[arg-type]
    return Tariff(
        "S", "E7", "Economy 7", "import",
        unit_rates=(Rate(Decimal(30), Decimal("31.5"), restrictions=day, band="day"), Rate(Decimal(10), Decimal("10.5"), restrictions=night, band="night")),
        customer_class="domestic",
    )


def test_a_gmt_band_is_an_hour_later_on_the_summer_wall_clock() -> None:
    # 15 July 2024 (BST): 1 kWh at 00:30-01:00 BST (= 23:30 GMT the day before) and 1 kWh at 07:30-08:00 BST (= 06:30 GMT).
    a = datetime(2024, 7, 15, 0, 30, tzinfo=LONDON).astimezone(UTC)
    b = datetime(2024, 7, 15, 7, 30, tzinfo=LONDON).astimezone(UTC)
    readings = [IntervalReading(a, a + HALF, Decimal(1)), IntervalReading(b, b + HALF, Decimal(1))]
    span = (datetime(2024, 7, 15, tzinfo=LONDON), datetime(2024, 7, 16, tzinfo=LONDON))
    gmt = cost(readings, economy7("GMT"), period_start=span[0], period_end=span[1])
    local = cost(readings, economy7("local"), period_start=span[0], period_end=span[1])
    # By hand, GMT band 00:00-07:00 GMT = 01:00-08:00 BST: 00:30 BST is day (30 p), 07:30 BST is night (10 p): 40 p.
    # Read as local time instead: 00:30 is night (10 p), 07:30 is day (30 p): also 40 p here, but by the other bands:
    assert gmt.energy_pence_exc_vat == Decimal(40) and {b.band: b.pence_exc_vat for b in gmt.by_band} == {"day": Decimal(30), "night": Decimal(10)}
    assert [r.band for r in gmt.months[0].by_band] == ["day", "night"]
    # 06:30-07:00 BST: local night, but 05:30 GMT is night too; 07:00-07:30 BST (06:00 GMT) is night on GMT, day locally.
    c = datetime(2024, 7, 15, 7, 0, tzinfo=LONDON).astimezone(UTC)
    one = [IntervalReading(c, c + HALF, Decimal(2))]
    # By hand: 2 kWh at 07:00 BST: GMT basis night 2 x 10 = 20 p; local basis day 2 x 30 = 60 p.
    assert cost(one, economy7("GMT"), period_start=span[0], period_end=span[1]).energy_pence_exc_vat == Decimal(20)
    assert cost(one, economy7("local"), period_start=span[0], period_end=span[1]).energy_pence_exc_vat == Decimal(60)
    assert local.energy_pence_exc_vat == Decimal(40)


def test_the_bill_as_json_keeps_exact_pence_and_as_text_shows_each_line() -> None:
    bill = cost(month_of(*JUNE, Decimal(3000)), flat("business"), period_start=JUNE[0], period_end=JUNE[1])
    doc = bill_json(bill)
    month = doc["months"][0]
    assert (month["ccl_pence"], month["vat_pence"], month["total_gbp_inc_vat"], doc["total_gbp_inc_vat"]) == ("2325.00000", "15765.0000000", "945.90", "945.90")
    assert doc["tax_sources"][0].startswith("https://www.gov.uk/")
    text = bill_text(bill)
    assert "Climate Change Levy" in text and "VAT 20% on £788.25" in text and "£    945.90" in text


@settings(max_examples=40, deadline=None)
@given(st.decimals(min_value=Decimal(0), max_value=Decimal(20000), places=3))
def test_any_business_month_is_energy_plus_standing_plus_ccl_plus_vat(kwh: Decimal) -> None:
    bill = cost(month_of(*JUNE, kwh), flat("business"), period_start=JUNE[0], period_end=JUNE[1])
    m = bill.months[0]
    business = kwh > 1000
    ccl = kwh * Decimal("0.775") if business else Decimal(0)
    vat = Decimal("0.20") if business else Decimal("0.05")
    base = kwh * 25 + 1500 + ccl
    assert abs(m.total_pence_inc_vat - base * (1 + vat)) < Decimal("0.000001")
    assert m.taxes == ("business" if business else "de-minimis")
