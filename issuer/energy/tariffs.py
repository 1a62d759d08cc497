"""Cost of consumption under a tariff, and income from export.

For every interval we find the one rate that applies, by these rules (stated because tariffs are
ambiguous in practice and a silent choice would mis-price a bill):

1. A rate applies when the interval's start lies in its validity ``[valid_from, valid_to)`` and its
   time-of-use restriction matches the interval's *local* (Europe/London) start: day of week, date range
   (``end_date`` exclusive) and time-of-day band (``end_time`` exclusive; a band whose end is not after its
   start crosses midnight, e.g. 23:30–06:30).
2. Among applicable rates the most specific wins: specificity is the number of restriction kinds set
   (time band, days, dates). A rate with no restriction is the default.
3. Two applicable rates of equal, highest specificity with different prices are an error naming the
   interval and both bands: the tariff must say which wins (for example make "night" weekdays-only).
4. No applicable rate is an error naming the interval.

A band's times are read on its own clock (``TimeOfUse.time_basis``): local wall-clock time, or GMT all year
for meters that switch on GMT (00:00–07:00 GMT is 01:00–08:00 BST).

Money is exact in pence (p/kWh × kWh); the published inc.-VAT rates are rounded and not used for arithmetic.
Taxes are applied per local calendar month (HMRC rules in ``data/tax_rates.json``, with sources):

* a **business** supply pays the Climate Change Levy on each kWh (the rate for the kWh's local date) and VAT
  at the standard rate on energy + standing charge + CCL (CCL is part of the price, so VAT is charged on it);
* unless the month is within HMRC's **de minimis** (≤ 1,000 kWh electricity or ≤ 4,397 kWh gas a month;
  for a part month, pro rata to its days, i.e. the same average a day): then it is treated as domestic;
* a **domestic** supply (or a de minimis month) pays reduced-rate VAT and no CCL;
* a tariff that states no customer class keeps the old rule: its own ``vat_rate``, no CCL (the breakdown
  says so);
* export income has no standing charge, VAT or CCL.

The pound total is rounded to 0.01 half-up, once, at the end. Standing charges are per local day: the period
must start and end at local midnight.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from .errors import InputDataError, PeriodError, TariffError
from .factors import tax_rules
from .model import DAYS_OF_WEEK, BandCost, ConsumptionData, CostBreakdown, IntervalReading, MonthCost, Rate, StandingCharge, Tariff, TimeOfUse
from .units import kwh_factor

__all__ = ["cost", "rate_for", "RateIndex", "matches", "ROUNDING_RULE"]

ROUNDING_RULE = (
    "pence exact (rate p/kWh x kWh; CCL = GBP/kWh x 100 x kWh); VAT = rate x (energy + standing + CCL) per month; "
    "total in GBP rounded once to 0.01, ROUND_HALF_UP"
)
_UTC = timezone.utc
_FAR_PAST = datetime(1900, 1, 1, tzinfo=_UTC)
_FAR_FUTURE = datetime(9999, 1, 1, tzinfo=_UTC)


def _in_band(t: time, start: time, end: time) -> bool:
    if start < end:
        return start <= t < end
    return t >= start or t < end  # crosses midnight (or a full day when start == end)


def matches(tou: TimeOfUse | None, local: datetime) -> bool:
    """Whether a restriction holds at an instant (read on local time, or on GMT for a GMT band)."""
    if tou is None:
        return True
    if tou.time_basis == "GMT":
        local = local.astimezone(_UTC)
    if tou.days_of_week and DAYS_OF_WEEK[local.weekday()] not in tou.days_of_week:
        return False
    d = local.date()
    if tou.start_date is not None and d < tou.start_date:
        return False
    if tou.end_date is not None and d >= tou.end_date:
        return False
    if tou.start_time is not None and tou.end_time is not None:
        if not _in_band(local.time().replace(tzinfo=None), tou.start_time, tou.end_time):
            return False
    return True


def _specificity(rate: Rate) -> int:
    tou = rate.restrictions
    if tou is None:
        return 0
    return (tou.start_time is not None) + bool(tou.days_of_week) + (tou.start_date is not None or tou.end_date is not None)


def _band_name(rate: Rate) -> str:
    if rate.band:
        return rate.band
    if rate.restrictions is None:
        return "standard"
    return "time-of-use"


class RateIndex:
    """Rates indexed by validity so that a year of Agile half-hourly prices prices a year of readings fast.

    The timeline is cut at every ``valid_from``/``valid_to``; each segment keeps the rates valid in it,
    and a lookup is a binary search followed by a restriction check over that (short) list.
    """

    def __init__(self, rates: Sequence[Rate], tz: ZoneInfo) -> None:
        self.tz = tz
        cuts = sorted({(r.valid_from or _FAR_PAST).timestamp() for r in rates} | {(r.valid_to or _FAR_FUTURE).timestamp() for r in rates})
        self.cuts = cuts
        active: list[list[Rate]] = [[] for _ in range(max(len(cuts) - 1, 0))]
        for r in rates:
            lo = bisect.bisect_left(cuts, (r.valid_from or _FAR_PAST).timestamp())
            hi = bisect.bisect_left(cuts, (r.valid_to or _FAR_FUTURE).timestamp())
            for k in range(lo, hi):
                active[k].append(r)
        self.active = active

    def candidates(self, at: datetime) -> list[Rate]:
        ts = at.timestamp()
        k = bisect.bisect_right(self.cuts, ts) - 1
        if k < 0 or k >= len(self.active):
            return []
        return self.active[k]

    def rate_for(self, at: datetime, location: str = "") -> Rate:
        local = at.astimezone(self.tz)
        applicable = [r for r in self.candidates(at) if matches(r.restrictions, local)]
        if not applicable:
            raise TariffError(f"no unit rate applies at {local.isoformat()} (local time)", location=location or None)
        if len(applicable) == 1:
            return applicable[0]
        best = max(_specificity(r) for r in applicable)
        top = [r for r in applicable if _specificity(r) == best]
        prices = {r.value_exc_vat for r in top}
        if len(top) > 1 and len(prices) > 1:
            names = " and ".join(f"{_band_name(r)} ({r.value_exc_vat} p/kWh)" for r in top)
            raise TariffError(
                f"ambiguous tariff at {local.isoformat()}: {names} both apply with equal specificity; restrict one of them",
                location=location or None,
            )
        return top[0]


def rate_for(tariff: Tariff, at: datetime) -> Rate:
    """The unit rate that applies at an instant (see the module docstring for the rules)."""
    return RateIndex(tariff.unit_rates, ZoneInfo(tariff.timezone)).rate_for(at)


def _standing_for(charges: Sequence[StandingCharge], at: datetime) -> StandingCharge | None:
    found = [c for c in charges if (c.valid_from is None or c.valid_from <= at) and (c.valid_to is None or at < c.valid_to)]
    if len(found) > 1 and len({c.value_exc_vat for c in found}) > 1:
        raise TariffError(f"two standing charges apply on {at.date().isoformat()}", location="standing_charges")
    return found[0] if found else None


def cost(
    consumption: ConsumptionData | Sequence[IntervalReading],
    tariff: Tariff,
    *,
    period_start: datetime | None = None,
    period_end: datetime | None = None,
) -> CostBreakdown:
    """Price the intervals under ``tariff``, month by month: import cost (standing charges, CCL, VAT) or export income."""
    if isinstance(consumption, ConsumptionData):
        if consumption.supply_point.measure != tariff.direction:
            raise TariffError(
                f"the readings are {consumption.supply_point.measure} but the tariff is for {tariff.direction}", location="direction"
            )
        if consumption.supply_point.fuel != tariff.fuel:
            raise TariffError(f"the readings are {consumption.supply_point.fuel} but the tariff is for {tariff.fuel}", location="fuel")
        readings: Sequence[IntervalReading] = consumption.intervals
        period_start = period_start or consumption.period_start
        period_end = period_end or consumption.period_end
    else:
        readings = consumption
    if not readings:
        raise InputDataError("no interval readings to price", location="intervals")
    tz = ZoneInfo(tariff.timezone)
    if period_start is None:
        period_start = min(r.start for r in readings)
    if period_end is None:
        period_end = max(r.end for r in readings)
    index = RateIndex(tariff.unit_rates, tz)
    rules = tax_rules()

    # month label -> [kWh, energy pence, CCL pence at the business rate, {band: [kWh, pence]}]
    months: dict[str, list] = {}
    for i, r in enumerate(readings):
        if r.start < period_start or r.end > period_end:
            raise InputDataError("reading outside the costing period", location=f"reading {i}")
        if r.quality == "missing":
            continue
        if r.unit.is_volume:
            raise InputDataError(f"convert gas volumes ({r.unit.value}) to kWh before costing", location=f"reading {i}")
        kwh = r.value if r.unit.value == "KWH" else r.value * kwh_factor(r.unit)
        rate = index.rate_for(r.start, f"reading {i}")
        # A rate must hold for the whole interval: check its last instant too.
        last = r.end - timedelta(microseconds=1)
        if (rate.valid_to is not None and r.end > rate.valid_to) or not matches(rate.restrictions, last.astimezone(tz)):
            raise TariffError(
                f"rate {_band_name(rate)} changes inside the interval {r.start.isoformat()} to {r.end.isoformat()}; use half-hourly readings",
                location=f"reading {i}",
            )
        local = r.start.astimezone(tz)
        acc = months.setdefault(f"{local.year:04d}-{local.month:02d}", [Decimal(0), Decimal(0), Decimal(0), {}])
        pence = kwh * rate.value_exc_vat
        acc[0] += kwh
        acc[1] += pence
        if tariff.direction == "import" and tariff.customer_class == "business":
            acc[2] += kwh * rules.ccl_gbp_per_kwh(tariff.fuel, local.date()) * 100
        band = acc[3].setdefault(_band_name(rate), [Decimal(0), Decimal(0)])
        band[0] += kwh
        band[1] += pence

    start_local, end_local = period_start.astimezone(tz), period_end.astimezone(tz)
    days_by_month: dict[str, list[date]] = {}
    if tariff.direction == "import":
        if start_local.time() != time(0) or end_local.time() != time(0):
            raise PeriodError(
                f"standing charges are per local day, so the period must start and end at local midnight ({tariff.timezone}); "
                f"got {start_local.isoformat()} to {end_local.isoformat()}",
                location="period",
            )
        d: date = start_local.date()
        while d < end_local.date():
            days_by_month.setdefault(f"{d.year:04d}-{d.month:02d}", []).append(d)
            d += timedelta(days=1)

    out: list[MonthCost] = []
    for label in sorted(set(months) | set(days_by_month)):
        kwh, energy, ccl_business, bands = months.get(label, [Decimal(0), Decimal(0), Decimal(0), {}])
        standing = Decimal(0)
        for day in days_by_month.get(label, []):
            charge = _standing_for(tariff.standing_charges, datetime.combine(day, time(0), tzinfo=tz))
            if charge is None:
                if tariff.standing_charges:
                    raise TariffError(f"no standing charge is valid on {day.isoformat()}", location="standing_charges")
            else:
                standing += charge.value_exc_vat
        y, m = int(label[:4]), int(label[5:])
        m_start = max(datetime(y, m, 1, tzinfo=tz), start_local)
        m_end = min(datetime(y + (m == 12), 1 if m == 12 else m + 1, 1, tzinfo=tz), end_local)
        threshold = None
        ccl = Decimal(0)
        ccl_rate = None
        if tariff.direction == "export":
            taxes, vat_rate = "export", Decimal(0)
        elif tariff.customer_class is None:
            taxes, vat_rate = "tariff-vat", tariff.vat_rate
        elif tariff.customer_class == "domestic":
            taxes, vat_rate = "domestic", rules.vat_reduced
        else:
            in_month = (date(y + (m == 12), 1 if m == 12 else m + 1, 1) - date(y, m, 1)).days
            days = len(days_by_month.get(label, [])) or in_month
            threshold = rules.de_minimis_kwh_per_month[tariff.fuel] * days / in_month
            if kwh <= threshold:
                taxes, vat_rate = "de-minimis", rules.vat_reduced
            else:
                taxes, vat_rate, ccl = "business", rules.vat_standard, ccl_business
                rates = {rules.ccl_gbp_per_kwh(tariff.fuel, day) * 100 for day in days_by_month.get(label, [])}
                ccl_rate = rates.pop() if len(rates) == 1 else None
        vat = (energy + standing + ccl) * vat_rate
        out.append(
            MonthCost(
                label=label,
                start=m_start,
                end=m_end,
                kwh=kwh,
                by_band=tuple(BandCost(name, v[0], v[1]) for name, v in sorted(bands.items())),
                energy_pence_exc_vat=energy,
                standing_days=len(days_by_month.get(label, [])),
                standing_pence_exc_vat=standing,
                taxes=taxes,
                de_minimis_kwh=threshold,
                ccl_pence_per_kwh=ccl_rate,
                ccl_pence=ccl,
                vat_rate=vat_rate,
                vat_pence=vat,
                total_pence_inc_vat=energy + standing + ccl + vat,
            )
        )
    total = sum((mc.total_pence_inc_vat for mc in out), Decimal(0))
    all_bands: dict[str, list[Decimal]] = {}
    for mc in out:
        for b in mc.by_band:
            acc2 = all_bands.setdefault(b.band, [Decimal(0), Decimal(0)])
            acc2[0] += b.kwh
            acc2[1] += b.pence_exc_vat
    vat_rates = {mc.vat_rate for mc in out}
    sources = ()
    if tariff.direction == "import" and tariff.customer_class is not None:
        sources = (rules.vat_source, rules.de_minimis_source, rules.ccl_source)
    return CostBreakdown(
        direction=tariff.direction,
        period_start=period_start,
        period_end=period_end,
        kwh=sum((mc.kwh for mc in out), Decimal(0)),
        energy_pence_exc_vat=sum((mc.energy_pence_exc_vat for mc in out), Decimal(0)),
        standing_days=sum(mc.standing_days for mc in out),
        standing_pence_exc_vat=sum((mc.standing_pence_exc_vat for mc in out), Decimal(0)),
        vat_rate=vat_rates.pop() if len(vat_rates) == 1 else tariff.vat_rate,
        vat_pence=sum((mc.vat_pence for mc in out), Decimal(0)),
        total_pence_inc_vat=total,
        total_gbp_inc_vat=(total / 100).quantize(Decimal("0.01"), ROUND_HALF_UP),
        by_band=tuple(BandCost(name, v[0], v[1]) for name, v in sorted(all_bands.items())),
        rounding=ROUNDING_RULE,
        months=tuple(out),
        ccl_pence=sum((mc.ccl_pence for mc in out), Decimal(0)),
        customer_class=tariff.customer_class,
        tax_sources=sources,
    )
