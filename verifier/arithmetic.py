"""The ``arithmetic`` check: the numbers a Perseus credential states recompute from what it carries.

A signature says the issuer wrote the totals; it does not say they are right. An issuer that re-signs a
credential with an altered total passes the proof and shape checks, so a recipient (a bank, an auditor)
could not tell that ``monthlyTotals`` is not the sum of ``intervalReadings``. This check re-adds them,
offline, with exact decimal arithmetic (Python's `decimal`, as the builders use), and names the total,
the stated value and the recomputed one when they differ.

What is recomputed:

* consumption — the daily and monthly totals and ``totalKwh`` from the interval readings (local days of
  the credential's ``timezone``, so 23- and 25-hour days are counted as the clocks make them; readings
  marked ``missing`` count nothing); each total's and the period's completeness counts from the
  readings present; the register ``consumption`` from the reads (differences, rollover at
  10^registerDigits) when the series has no meter exchange or corrected read; the gas conversion
  (volume → m³ → kWh by ``volume_m3 × correction_factor × CV / 3.6``, rounded to the stated places by
  the stated rule) and, for gas, the interval totals through that conversion;
* tariffs — for each period of validity and each day of the week, the time-of-use bands do not overlap
  and, unless a band without ``timeOfUse`` covers the rest, cover the whole day (a band with days but no
  hours covers those whole days; a seasonal band, with ``startDate``/``endDate``, overrides the everyday
  bands for its dates by design and is not counted as an overlap).

It reads only the credential; it never imports the issuer (dependencies point issuer → verifier).
Credentials of other types pass through untouched (the check is reported only for Perseus types).
"""

from __future__ import annotations

import decimal
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from .result import CheckResult, ProblemDetail

__all__ = ["ArithmeticError_", "arithmetic_check", "arithmetic_problems", "applies_to", "gas_kwh_exact"]

_CHECK = "arithmetic"
_CODE = "MALFORMED_VALUE_ERROR"
_SLOT = 1800
_PRECISION = 60
_KWH_PER = {"KWH": Decimal(1), "WHR": Decimal("0.001"), "MWH": Decimal(1000)}
_VOLUME = frozenset({"MTQ", "FTQ", "HH", "FC"})
_DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
_COUNTS = ("expectedIntervals", "presentIntervals", "actualIntervals", "estimatedIntervals", "substitutedIntervals", "missingIntervals")
_TYPES = ("EnergyConsumptionCredential", "TariffCredential")


class ArithmeticError_(ValueError):
    """A value the check needs cannot be read (the shape check says why in detail)."""


def gas_kwh_exact(volume_m3: Decimal, correction_factor: Decimal, cv_mj_per_m3: Decimal, mj_per_kwh: Decimal = Decimal("3.6")) -> Decimal:
    """kWh from corrected m³ before rounding (60 significant digits): SI 1996/439 reg. 3 as bills state it."""
    with decimal.localcontext(prec=_PRECISION):
        return volume_m3 * correction_factor * cv_mj_per_m3 / mj_per_kwh


def applies_to(document: Any) -> bool:
    """Whether the credential is of a Perseus type whose figures this check recomputes."""
    types = document.get("type") if isinstance(document, dict) else None
    types = [types] if isinstance(types, str) else types if isinstance(types, list) else []
    return any(t in types for t in _TYPES)


def arithmetic_check(document: dict[str, Any]) -> CheckResult:
    """The check's result: passed when every stated figure recomputes, failed naming each one that does not."""
    try:
        problems = arithmetic_problems(document)
    except ArithmeticError_ as exc:
        return CheckResult(_CHECK, "failed", f"the figures cannot be recomputed: {exc}", [ProblemDetail(_CODE, str(exc), _CHECK)])
    except (decimal.DecimalException, OverflowError, ValueError) as exc:  # e.g. 1E+999999: no exact figure to compare
        detail = f"a stated figure is out of the range exact arithmetic can check ({type(exc).__name__})"
        return CheckResult(_CHECK, "failed", f"the figures cannot be recomputed: {detail}", [ProblemDetail("RANGE_ERROR", detail, _CHECK)])
    if problems:
        return CheckResult(_CHECK, "failed", f"{len(problems)} stated figure(s) do not recompute", problems)
    return CheckResult(_CHECK, "passed", "every stated total, count and conversion recomputes from the credential's own data")


def arithmetic_problems(document: dict[str, Any]) -> list[ProblemDetail]:
    """One problem per stated figure that differs from its recomputation (empty when all agree)."""
    subject = document.get("credentialSubject")
    subjects = subject if isinstance(subject, list) else [subject]
    types = document.get("type")
    types = [types] if isinstance(types, str) else types if isinstance(types, list) else []
    out: list[str] = []
    for s in subjects:
        if not isinstance(s, dict):
            continue
        if "EnergyConsumptionCredential" in types:
            out.extend(_consumption(s))
        if "TariffCredential" in types:
            out.extend(_tariff(s))
    return [ProblemDetail(_CODE, text, _CHECK) for text in out]


# -- reading values ---------------------------------------------------------------------------------------


def _dec(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ArithmeticError_(f"{where} is not a decimal string")
    try:
        out = Decimal(value)
    except decimal.InvalidOperation:
        raise ArithmeticError_(f"{where} is not a decimal ({value!r})") from None
    if not out.is_finite():
        raise ArithmeticError_(f"{where} is not a finite decimal ({value!r})")
    return out


def _instant(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise ArithmeticError_(f"{where} is not a date-time")
    try:
        moment = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        raise ArithmeticError_(f"{where} is not a date-time ({value!r})") from None
    if moment.utcoffset() is None:
        raise ArithmeticError_(f"{where} has no UTC offset ({value!r})")
    return moment


def _text(value: Decimal) -> str:
    """A recomputed figure as the credentials write decimals (no exponent, no trailing zeros)."""
    if value == 0:
        return "0"
    out = format(value.normalize(), "f")
    return out


def _differs(label: str, stated: Decimal, recomputed: Decimal) -> str | None:
    if stated == recomputed:
        return None
    return f"{label}: stated {_text(stated)}, recomputed {_text(recomputed)}"


# -- consumption ------------------------------------------------------------------------------------------


class _Counts:
    __slots__ = ("kwh", "volume", "actual", "estimated", "substituted")

    def __init__(self) -> None:
        self.kwh = Decimal(0)
        self.volume = Decimal(0)
        self.actual = self.estimated = self.substituted = 0


def _rounding_of(text: Any) -> str:
    words = str(text or "").lower()
    if "half to even" in words or "half-even" in words or "banker" in words:
        return decimal.ROUND_HALF_EVEN
    if "half up" in words or "half away" in words:
        return decimal.ROUND_HALF_UP
    if "down" in words or "truncat" in words:
        return decimal.ROUND_DOWN
    return decimal.ROUND_HALF_EVEN


def _round_as(value: Decimal, like: Decimal, mode: str) -> Decimal:
    exponent = min(like.as_tuple().exponent, 0) if isinstance(like.as_tuple().exponent, int) else 0
    with decimal.localcontext(prec=_PRECISION):
        return value.quantize(Decimal(1).scaleb(exponent), rounding=mode)


def _consumption(s: dict[str, Any]) -> list[str]:
    out: list[str] = []
    gas = s.get("gasConversion") if isinstance(s.get("gasConversion"), dict) else None
    m3_per_unit: dict[str, Decimal] = {"MTQ": Decimal(1)}
    factor = None
    mode = decimal.ROUND_HALF_EVEN
    if gas is not None:
        volume = _dec(gas.get("volume"), "gasConversion.volume")
        volume_m3 = _dec(gas.get("volumeM3"), "gasConversion.volumeM3")
        vunit = str(gas.get("volumeUnit"))
        cf = _dec(gas.get("correctionFactor"), "gasConversion.correctionFactor")
        cv = _dec(gas.get("calorificValue"), "gasConversion.calorificValue")
        mode = _rounding_of(gas.get("rounding"))
        if "imperialFactor" in gas:
            m3_per_unit[vunit] = _dec(gas["imperialFactor"], "gasConversion.imperialFactor")
        if vunit in m3_per_unit:
            expected_m3 = volume * m3_per_unit[vunit]
            problem = _differs(f"gasConversion.volumeM3 ({_text(volume)} {vunit})", volume_m3, expected_m3)
            if problem:
                out.append(problem)
        elif volume:
            m3_per_unit[vunit] = volume_m3 / volume
        with decimal.localcontext(prec=_PRECISION):
            factor = cf * cv / Decimal("3.6")
        stated_kwh = _dec(gas.get("kwh"), "gasConversion.kwh")
        problem = _differs("gasConversion.kwh", stated_kwh, _round_as(gas_kwh_exact(volume_m3, cf, cv), stated_kwh, mode))
        if problem:
            out.append(problem)
        if "totalKwh" in s:
            problem = _differs("totalKwh (the gas conversion's kWh)", _dec(s["totalKwh"], "totalKwh"), stated_kwh)
            if problem:
                out.append(problem)
        registers = s.get("registerReads")
        if isinstance(registers, dict) and "consumption" in registers and not s.get("intervalReadings"):
            problem = _differs("gasConversion.volume (the register consumption)", volume, _dec(registers["consumption"], "registerReads.consumption"))
            if problem:
                out.append(problem)
    registers = s.get("registerReads")
    if isinstance(registers, dict):
        out.extend(_registers(registers))
        if gas is None and "totalKwh" in s and not s.get("intervalReadings") and "consumption" in registers:
            unit = str(registers.get("unit"))
            if unit in _KWH_PER:
                recomputed = _dec(registers["consumption"], "registerReads.consumption") * _KWH_PER[unit]
                problem = _differs("totalKwh (the register consumption)", _dec(s["totalKwh"], "totalKwh"), recomputed)
                if problem:
                    out.append(problem)
    readings = s.get("intervalReadings")
    if isinstance(readings, list) and readings:
        out.extend(_interval_totals(s, readings, m3_per_unit, factor, mode))
    return out


def _registers(series: dict[str, Any]) -> list[str]:
    """The register consumption from the reads, when the series is a plain run of reads on one meter."""
    if "consumption" not in series or series.get("meterExchanges"):
        return []
    reads = series.get("reads") or []
    if not isinstance(reads, list) or any(not isinstance(r, dict) or "replaces" in r for r in reads):
        return []  # corrected reads replace earlier ones: the issuer's rule (energy/registers.py) applies
    digits = series.get("registerDigits")
    if isinstance(digits, bool) or not isinstance(digits, int) or not 0 < digits < 30:
        raise ArithmeticError_("registerReads.registerDigits is not a small positive integer")
    modulus = Decimal(10) ** digits
    baseline = series.get("baseline")
    if not isinstance(baseline, dict):
        raise ArithmeticError_("registerReads.baseline is not a read")
    previous = _dec(baseline.get("value"), "registerReads.baseline.value")
    ordered = sorted(reads, key=lambda r: _instant(r.get("readAt"), "registerReads.reads[].readAt"))
    total = Decimal(0)
    for k, read in enumerate(ordered):
        value = _dec(read.get("value"), f"registerReads.reads[{k}].value")
        total += (value - previous) % modulus  # a register that passed 10^digits rolled over
        previous = value
    problem = _differs(f"registerReads.consumption ({series.get('unit')})", _dec(series["consumption"], "registerReads.consumption"), total)
    return [problem] if problem else []


def _interval_totals(
    s: dict[str, Any], readings: list[Any], m3_per_unit: dict[str, Decimal], factor: Decimal | None, mode: str
) -> list[str]:
    tz_name = s.get("timezone")
    try:
        zone = ZoneInfo(str(tz_name))
    except Exception:  # noqa: BLE001 - any unknown or malformed zone name is the same answer
        raise ArithmeticError_(f"timezone {tz_name!r} is not a known IANA time zone") from None
    period_start = _instant(s.get("periodStart"), "periodStart")
    period_end = _instant(s.get("periodEnd"), "periodEnd")
    p_start, p_end = period_start.timestamp(), period_end.timestamp()
    # Local day boundaries (UTC timestamps) clipped to the period, as the issuer buckets them.
    bounds: list[float] = []
    labels: list[date] = []
    day = period_start.astimezone(zone).date()
    for _ in range(100_000):
        start = datetime.combine(day, datetime.min.time(), zone).timestamp()
        start = max(start, p_start)
        if start >= p_end:
            break
        labels.append(day)
        bounds.append(start)
        day += timedelta(days=1)
    bounds.append(p_end)
    days = [_Counts() for _ in labels]
    # The hot path (17,520 readings a year): instants are parsed once each (a reading's end is the next
    # one's start) and values are collected as text per day and unit, then summed once per day.
    cache: dict[Any, float] = {}
    values: list[dict[Any, list[Any]]] = [{} for _ in labels]
    parse = datetime.fromisoformat
    bucket = 0
    low, high = bounds[0], bounds[1]
    for k, r in enumerate(readings):
        try:
            start_text, end_text, quality = r["start"], r["end"], r["quality"]
            s_ts = cache.get(start_text)
            if s_ts is None:
                moment = parse(start_text)
                if moment.tzinfo is None:
                    raise ValueError
                s_ts = cache[start_text] = moment.timestamp()
            e_ts = cache.get(end_text)
            if e_ts is None:
                moment = parse(end_text)
                if moment.tzinfo is None:
                    raise ValueError
                e_ts = cache[end_text] = moment.timestamp()
        except (TypeError, KeyError, ValueError):
            raise ArithmeticError_(f"intervalReadings[{k}] has no readable start, end and quality (UTC date-times)") from None
        if s_ts < p_start or e_ts > p_end or e_ts <= s_ts:
            raise ArithmeticError_(f"intervalReadings[{k}] ({start_text} to {end_text}) is not inside the period")
        if not low <= s_ts < high:
            bucket = max(0, min(len(labels) - 1, _find(bounds, s_ts)))
            low, high = bounds[bucket], bounds[bucket + 1]
        c = days[bucket]
        slots = int(e_ts - s_ts) // _SLOT
        if quality == "actual":
            c.actual += slots
        elif quality == "estimated":
            c.estimated += slots
        elif quality == "substituted":
            c.substituted += slots
        else:
            continue
        unit = r.get("unit")
        per_unit = values[bucket].get(unit)
        if per_unit is None:
            per_unit = values[bucket][unit] = []
        per_unit.append(r.get("value"))
    with decimal.localcontext(prec=_PRECISION):
        for i, by_unit in enumerate(values):
            c = days[i]
            for unit, texts in by_unit.items():
                try:
                    if any(type(t) is not str for t in texts):
                        raise TypeError
                    total = sum(map(Decimal, texts), Decimal(0))
                except (TypeError, decimal.InvalidOperation):
                    raise ArithmeticError_(f"a reading of {labels[i]} has a value that is not a decimal string") from None
                if not total.is_finite():
                    raise ArithmeticError_(f"a reading of {labels[i]} has a value that is not a finite decimal")
                if unit in _KWH_PER:
                    c.kwh += total * _KWH_PER[unit]
                elif unit in m3_per_unit and factor is not None:
                    c.volume += total * m3_per_unit[unit]
                else:
                    raise ArithmeticError_(f"a reading of {labels[i]} has unit {unit!r}, which this credential gives no way to convert to kWh")

    def kwh_of(c: _Counts, like: Decimal) -> Decimal:
        if c.volume and factor is not None:
            with decimal.localcontext(prec=_PRECISION):
                return _round_as(c.kwh + c.volume * factor, like, mode)
        return c.kwh

    def merged(parts: Iterable[_Counts]) -> _Counts:
        out = _Counts()
        for p in parts:
            out.kwh += p.kwh
            out.volume += p.volume
            out.actual += p.actual
            out.estimated += p.estimated
            out.substituted += p.substituted
        return out

    def expected_slots(start: float, end: float) -> int:
        return int(end - start) // _SLOT

    problems: list[str] = []

    def compare(name: str, stated: dict[str, Any], c: _Counts, expected: int, kwh_key: str | None) -> None:
        if kwh_key is not None and kwh_key in stated:
            like = _dec(stated[kwh_key], f"{name}.{kwh_key}")
            problem = _differs(f"{name} {kwh_key}", like, kwh_of(c, like))
            if problem:
                problems.append(problem)
        present = c.actual + c.estimated + c.substituted
        recomputed = {
            "expectedIntervals": expected,
            "presentIntervals": present,
            "actualIntervals": c.actual,
            "estimatedIntervals": c.estimated,
            "substitutedIntervals": c.substituted,
            "missingIntervals": expected - present,
        }
        for key in _COUNTS:
            if key in stated and stated[key] != recomputed[key]:
                problems.append(f"{name} {key}: stated {stated[key]}, recomputed {recomputed[key]}")
        for key, count in (("sharePresent", present), ("shareActual", c.actual)):
            if key in stated:
                like = _dec(stated[key], f"{name}.{key}")
                share = (Decimal(count) / expected).quantize(Decimal("0.0001"), decimal.ROUND_FLOOR) if expected else Decimal(0)
                if like != share:
                    problems.append(f"{name} {key}: stated {stated[key]}, recomputed {share}")

    by_label = {d.isoformat(): k for k, d in enumerate(labels)}
    daily = s.get("dailyTotals")
    if isinstance(daily, list):
        for k, t in enumerate(daily):
            label = t.get("label") if isinstance(t, dict) else None
            if label not in by_label:
                problems.append(f"dailyTotals[{k}]: the day {label!r} is not a local day of the period")
                continue
            i = by_label[label]
            compare(f"daily total {label}", t, days[i], expected_slots(bounds[i], bounds[i + 1]), "kwh")
    months: dict[str, list[int]] = defaultdict(list)
    for i, d in enumerate(labels):
        months[f"{d.year:04d}-{d.month:02d}"].append(i)
    monthly = s.get("monthlyTotals")
    if isinstance(monthly, list):
        for k, t in enumerate(monthly):
            label = t.get("label") if isinstance(t, dict) else None
            if label not in months:
                problems.append(f"monthlyTotals[{k}]: the month {label!r} is not a month of the period")
                continue
            idx = months[label]
            expected = sum(expected_slots(bounds[i], bounds[i + 1]) for i in idx)
            compare(f"monthly total {label}", t, merged(days[i] for i in idx), expected, "kwh")
    whole = merged(days)
    total_expected = expected_slots(p_start, p_end)
    if "totalKwh" in s and s.get("gasConversion") is None:
        compare("the period", {"totalKwh": s["totalKwh"]}, whole, total_expected, "totalKwh")
    if isinstance(s.get("gasConversion"), dict):
        volume = whole.volume
        gas = s["gasConversion"]
        problem = _differs("gasConversion.volumeM3 (the readings' sum)", _dec(gas.get("volumeM3"), "gasConversion.volumeM3"), volume)
        if problem and not whole.kwh:
            problems.append(problem)
    completeness = s.get("completeness")
    if isinstance(completeness, dict):
        compare("completeness", completeness, whole, total_expected, None)
    return problems


def _find(bounds: list[float], moment: float) -> int:
    import bisect

    return bisect.bisect_right(bounds, moment) - 1


# -- tariffs ----------------------------------------------------------------------------------------------


def _minute(value: Any, where: str) -> int:
    if not isinstance(value, str):
        raise ArithmeticError_(f"{where} is not a time of day")
    parts = value.split(":")
    try:
        h, m = int(parts[0]), int(parts[1])
        sec = float(parts[2]) if len(parts) > 2 else 0.0
    except (ValueError, IndexError):
        raise ArithmeticError_(f"{where} is not a time of day ({value!r})") from None
    if not (0 <= h <= 24 and 0 <= m < 60) or sec:
        raise ArithmeticError_(f"{where} is not a whole minute of the day ({value!r})")
    return min(h * 60 + m, 1440)


def _tariff(s: dict[str, Any]) -> list[str]:
    """Time-of-use bands: no minute of a day in two bands; every minute in one unless a band has no hours."""
    rates = s.get("unitRates")
    if not isinstance(rates, list):
        return []
    groups: dict[tuple[str, str], list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for k, rate in enumerate(rates):
        if isinstance(rate, dict):
            groups[(str(rate.get("effectiveFrom")), str(rate.get("effectiveTo", "")))].append((k, rate))
    problems: list[str] = []
    for (start, end), members in groups.items():
        timed = [(k, r) for k, r in members if isinstance(r.get("timeOfUse"), dict)]
        if not timed:
            continue
        has_default = any(not isinstance(r.get("timeOfUse"), dict) and not r.get("timeOfUse") for _, r in members)
        period = f"unit rates from {start}" + (f" to {end}" if end else "")
        for day in _DAYS:
            owner: list[str | None] = [None] * 1440
            any_band = False
            for k, r in timed:
                tou = r["timeOfUse"]
                days = tou.get("daysOfWeek")
                if isinstance(days, list) and day not in days:
                    continue
                if "startDate" in tou or "endDate" in tou:
                    continue  # a seasonal band overrides the everyday bands for its dates, by design
                any_band = True
                if "startTime" not in tou and "endTime" not in tou:
                    a = b = 0  # a band for whole days (a weekend rate)
                else:
                    a = _minute(tou.get("startTime"), f"unitRates[{k}].timeOfUse.startTime")
                    b = _minute(tou.get("endTime"), f"unitRates[{k}].timeOfUse.endTime")
                span = list(range(a, b)) if a < b else list(range(a, 1440)) + list(range(0, b))
                band = str(r.get("band", f"unitRates[{k}]"))
                for m in span:
                    if owner[m] is not None and owner[m] != band:
                        problems.append(f"{period}: bands {owner[m]} and {band} overlap on {day.capitalize()} at {m // 60:02d}:{m % 60:02d}")
                        break
                    owner[m] = band
            if any_band and not has_default:
                uncovered = [m for m in range(1440) if owner[m] is None]
                if uncovered:
                    m = uncovered[0]
                    problems.append(
                        f"{period}: the bands leave {len(uncovered)} minute(s) of {day.capitalize()} uncovered, "
                        f"from {m // 60:02d}:{m % 60:02d}"
                    )
    return problems
