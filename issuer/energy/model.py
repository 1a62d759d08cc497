"""The energy domain model: what a consumption, tariff or emissions credential states.

Everything here is a frozen dataclass so that a value, once checked, cannot drift before it is signed.
Two rules hold throughout, because a signed credential is evidence and must add up exactly:

* every energy, volume and money value is a `decimal.Decimal`, never a float (0.1 + 0.2 kWh must be
  0.3 kWh, and a verifier re-adding 17,520 readings must get the issuer's total to the last digit);
* every instant is a timezone-aware `datetime`; intervals are half-open ``[start, end)``; "local" days
  and months are Europe/London civil days, so a day may be 23 or 25 hours long.

Constructors check only what makes a value meaningless on its own (an interval ending before it starts,
a naive datetime, a float); checks that need context (overlaps, rollover, which rate applies) live in the
arithmetic modules, which name the row or index when they fail.

Units are UN/CEFACT Recommendation 20 common codes, as the IB1 Perseus consumption API uses them:

====  ==========================  =======================================================
code  unit                        use
====  ==========================  =======================================================
KWH   kilowatt hour               electricity, SMETS1 gas, every total
WHR   watt hour                   raw smart-meter electricity intervals
MWH   megawatt hour               large sites
MTQ   cubic metre                 SMETS2 gas volume
FTQ   cubic foot                  imperial gas volume
HH    hundred cubic foot          older imperial gas meters ("hundreds of cubic feet", hcf)
FC    thousand cubic foot         imperial gas meters counting thousands of cubic feet
KGM   kilogram                    emissions (kg CO2e)
====  ==========================  =======================================================
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import Literal, Mapping

from .errors import InputDataError, IntervalOrderError

__all__ = [
    "EnergyUnit",
    "Quality",
    "ReadKind",
    "Fuel",
    "Measure",
    "Scheme",
    "Direction",
    "DayOfWeek",
    "DAYS_OF_WEEK",
    "SupplyPoint",
    "IntervalReading",
    "RegisterRead",
    "RegisterBaseline",
    "MeterExchange",
    "RegisterSeries",
    "RegisterDelta",
    "RegisterConsumption",
    "GasConversion",
    "Completeness",
    "Gap",
    "PeriodTotal",
    "ConsumptionData",
    "TimeOfUse",
    "TimeBasis",
    "CustomerClass",
    "MonthCost",
    "Rate",
    "StandingCharge",
    "FuelMix",
    "FUEL_MIX_SOURCES",
    "Tariff",
    "GSP_GROUPS",
    "Reconciliation",
    "BandCost",
    "CostBreakdown",
    "Factor",
    "EmissionsInput",
    "EmissionsResult",
]


class EnergyUnit(str, enum.Enum):
    """A UN/CEFACT Rec. 20 unit code (see the module docstring for the table)."""

    KWH = "KWH"
    WHR = "WHR"
    MWH = "MWH"
    MTQ = "MTQ"
    FTQ = "FTQ"
    HH = "HH"
    FC = "FC"

    @property
    def is_energy(self) -> bool:
        """True for energy units (convertible to kWh by a fixed factor), False for gas volumes."""
        return self in (EnergyUnit.KWH, EnergyUnit.WHR, EnergyUnit.MWH)

    @property
    def is_volume(self) -> bool:
        return not self.is_energy

    @classmethod
    def parse(cls, code: str) -> "EnergyUnit":
        """The unit for a code, or `UnknownUnitError` (we never guess what an unknown unit means)."""
        from .errors import UnknownUnitError

        try:
            return cls(code)
        except ValueError:
            known = ", ".join(u.value for u in cls)
            raise UnknownUnitError(f"unknown unit code {code!r}; expected one of {known}") from None


Quality = Literal["actual", "estimated", "missing", "substituted"]
ReadKind = Literal["actual", "estimated", "customer"]
Fuel = Literal["electricity", "gas"]
Measure = Literal["import", "export"]
Scheme = Literal["MPAN", "MPRN"]
TimeBasis = Literal["local", "GMT"]
CustomerClass = Literal["business", "domestic"]
Direction = Literal["import", "export"]
DayOfWeek = Literal["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
#: In ISO order, so ``DAYS_OF_WEEK[d.weekday()]`` names a date's day (as OCPI 2.2.1 spells them).
DAYS_OF_WEEK: tuple[DayOfWeek, ...] = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
#: Grid Supply Point groups (electricity distribution regions) _A to _P; there is no I or O.
GSP_GROUPS = frozenset("ABCDEFGHJKLMNP")
#: UK Fuel Mix Disclosure categories.
FUEL_MIX_SOURCES = ("coal", "natural_gas", "nuclear", "renewables", "other")

_QUALITIES = frozenset(("actual", "estimated", "missing", "substituted"))
_READ_KINDS = frozenset(("actual", "estimated", "customer"))


def _aware(value: object, name: str) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InputDataError(f"{name} must be a timezone-aware datetime, got {value!r}", location=name)


def _not_after(a: datetime, b: datetime) -> bool:
    """``a <= b`` as instants. Two datetimes sharing one ZoneInfo compare by wall clock, which is wrong in
    the repeated autumn hour, so those are compared by POSIX time; fixed offsets compare correctly as is
    (and faster, which matters for 17,520 readings)."""
    tz = a.tzinfo
    if tz is b.tzinfo and not isinstance(tz, timezone):
        return a.timestamp() <= b.timestamp()
    return a <= b


def _decimal(value: object, name: str) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InputDataError(f"{name} must be a finite Decimal (never a float), got {value!r}", location=name)


def _text(value: object, name: str, *, optional: bool = False) -> None:
    """A name or code the credential will carry as a string (a number or list there is an input error)."""
    if value is None and optional:
        return
    if not isinstance(value, str) or not value:
        raise InputDataError(f"{name} must be a non-empty string, got a {type(value).__name__}", location=name)


def _one_of(value: object, allowed: frozenset[str] | tuple[str, ...], name: str) -> None:
    # A str check first: a list or object from a JSON input is unhashable, so `in` a frozenset would raise.
    if not isinstance(value, str) or value not in allowed:
        shown = repr(value) if isinstance(value, str) and len(value) <= 60 else f"a {type(value).__name__}"
        raise InputDataError(f"{name} must be one of {', '.join(sorted(allowed))}, got {shown}", location=name)


# ---------------------------------------------------------------------------------------------------
# Supply points and readings


@dataclass(frozen=True, slots=True)
class SupplyPoint:
    """A meter point: an MPAN (electricity, 13-digit core) or an MPRN (gas).

    ``identifier`` is stored normalised (digits only; for an MPAN the 13-digit core, with the full
    21-digit form, if given, in ``full_mpan``). Use `perseus.issuer.energy.mpan.supply_point` to build
    one from user input: it checks the check digit.
    """

    identifier: str
    scheme: Scheme
    fuel: Fuel
    measure: Measure = "import"
    postcode_outcode: str | None = None
    full_mpan: str | None = None
    check_digit: Literal["Verified", "NotChecked"] = "Verified"  # NotChecked: the issuer switched the (MPRN) check off

    def __post_init__(self) -> None:
        _one_of(self.scheme, ("MPAN", "MPRN"), "scheme")
        _one_of(self.check_digit, ("Verified", "NotChecked"), "check_digit")
        _one_of(self.fuel, ("electricity", "gas"), "fuel")
        _one_of(self.measure, ("import", "export"), "measure")
        if (self.scheme == "MPAN") != (self.fuel == "electricity"):
            raise InputDataError(f"a {self.fuel} supply point is identified by an {'MPAN' if self.fuel == 'electricity' else 'MPRN'}, not an {self.scheme}", location="scheme")
        if not self.identifier.isdigit():
            raise InputDataError(f"{self.scheme} must be digits only, got {self.identifier!r}", location="identifier")


@dataclass(frozen=True, slots=True)
class IntervalReading:
    """Energy (or gas volume) used in ``[start, end)``; ``quality`` says how the value was obtained.

    A ``missing`` reading has value 0 and says the meter reported nothing for the interval (it is
    counted as missing, never as zero consumption, in `Completeness`).
    """

    start: datetime
    end: datetime
    value: Decimal
    unit: EnergyUnit = EnergyUnit.KWH
    quality: Quality = "actual"

    def __post_init__(self) -> None:
        _aware(self.start, "start")
        _aware(self.end, "end")
        if _not_after(self.end, self.start):
            raise IntervalOrderError(f"interval ends ({self.end.isoformat()}) at or before it starts ({self.start.isoformat()})", location="end")
        _decimal(self.value, "value")
        if self.quality not in _QUALITIES:
            _one_of(self.quality, _QUALITIES, "quality")
        elif self.quality == "missing" and self.value:
            raise InputDataError(f"a reading marked missing cannot carry a value ({self.value}); use 'substituted' for a filled-in value", location="value")
        if not isinstance(self.unit, EnergyUnit):
            raise InputDataError(f"unit must be an EnergyUnit, got {self.unit!r}", location="unit")


@dataclass(frozen=True, slots=True)
class RegisterRead:
    """A cumulative register value at an instant.

    ``replaces`` is set on a correction: it is the ``at`` of the (estimated) read this one supersedes.
    A correction may be taken at the same instant as the estimate or at another instant (an actual read
    taken days later that replaces an estimate for billing); either way the estimate stops counting.
    """

    at: datetime
    value: Decimal
    kind: ReadKind = "actual"
    replaces: datetime | None = None

    def __post_init__(self) -> None:
        _aware(self.at, "at")
        _decimal(self.value, "value")
        if self.value < 0:
            raise InputDataError(f"a register read cannot be negative, got {self.value}", location="value")
        _one_of(self.kind, _READ_KINDS, "kind")
        if self.replaces is not None:
            _aware(self.replaces, "replaces")


@dataclass(frozen=True, slots=True)
class RegisterBaseline:
    """The statement of baseline: the opening read, and the register's size (it rolls over at 10**digits)."""

    read: RegisterRead
    digits: int
    unit: EnergyUnit = EnergyUnit.KWH

    def __post_init__(self) -> None:
        if not isinstance(self.digits, int) or not 1 <= self.digits <= 12:
            raise InputDataError(f"register digits must be an integer from 1 to 12, got {self.digits!r}", location="digits")
        if self.read.value >= self.modulus:
            raise InputDataError(f"baseline read {self.read.value} does not fit a {self.digits}-digit register", location="read.value")

    @property
    def modulus(self) -> int:
        """Where the register rolls over: a 5-digit register goes 99 999 → 0, so the modulus is 100 000."""
        return 10**self.digits


@dataclass(frozen=True, slots=True)
class MeterExchange:
    """A meter replaced mid-period: the old meter's final read and the new meter's opening baseline."""

    at: datetime
    old_final: RegisterRead
    new_baseline: RegisterBaseline

    def __post_init__(self) -> None:
        _aware(self.at, "at")


@dataclass(frozen=True, slots=True)
class RegisterSeries:
    """Register reads from a baseline, with corrections and meter exchanges; see `registers.consumption`."""

    baseline: RegisterBaseline
    reads: tuple[RegisterRead, ...] = ()
    exchanges: tuple[MeterExchange, ...] = ()

    @property
    def unit(self) -> EnergyUnit:
        return self.baseline.unit


@dataclass(frozen=True, slots=True)
class RegisterDelta:
    """Consumption between two reads that both count (after corrections), on one meter."""

    start: RegisterRead
    end: RegisterRead
    delta: Decimal
    rolled_over: bool
    meter: int  # 0 for the first meter, +1 after each exchange


@dataclass(frozen=True, slots=True)
class RegisterConsumption:
    """The outcome of `registers.consumption`: the total and how it was made up."""

    total: Decimal
    unit: EnergyUnit
    deltas: tuple[RegisterDelta, ...]
    superseded: tuple[RegisterRead, ...]  # estimates that a later correction replaced
    first: RegisterRead
    last: RegisterRead


@dataclass(frozen=True, slots=True)
class GasConversion:
    """How a gas volume became kWh: kWh = volume_m3 × correction_factor × CV / 3.6, then ``rounding``.

    The formula is the Gas (Calculation of Thermal Energy) Regulations 1996, reg. 3 (as amended); the
    factors come from the data files, whose source is recorded here so a recipient can check them.
    """

    volume: Decimal
    volume_unit: EnergyUnit
    volume_m3: Decimal
    correction_factor: Decimal
    correction_factor_source: str
    calorific_value_mj_per_m3: Decimal
    cv_source: str
    cv_period_start: date
    cv_period_end: date
    kwh: Decimal
    rounding: str
    imperial_factor_m3: Decimal | None = None  # m³ per volume unit, when the meter is imperial
    cv_as_given: Decimal | None = None  # the CV before truncation to 0.1 MJ/m³, when truncation changed it
    formula: str = "kWh = volume_m3 × correction_factor × calorific_value_MJ_per_m3 / 3.6"
    legal_basis: str = "Gas (Calculation of Thermal Energy) Regulations 1996 (SI 1996/439), reg. 3"


# ---------------------------------------------------------------------------------------------------
# Totals and completeness


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch of expected half-hours with no reading at all (not even one marked missing)."""

    start: datetime
    end: datetime

    @property
    def intervals(self) -> int:
        return int((self.end - self.start).total_seconds()) // 1800


@dataclass(frozen=True, slots=True)
class Completeness:
    """How much of a period the readings cover.

    ``present`` = actual + estimated + substituted; ``missing`` counts both readings marked missing and
    expected half-hours with no reading (the latter are also listed in ``gaps``).
    """

    expected_intervals: int
    present: int
    actual: int
    estimated: int
    substituted: int
    missing: int
    share_present: Decimal
    share_actual: Decimal
    gaps: tuple[Gap, ...] = ()

    @property
    def missing_data(self) -> Literal["Complete", "Missing", "Substituted"]:
        """The IB1 Perseus ``missingData`` assurance value: Missing wins over Substituted.

        Estimated readings count as substituted: the value is not what the meter measured.
        """
        if self.missing:
            return "Missing"
        if self.substituted or self.estimated:
            return "Substituted"
        return "Complete"


@dataclass(frozen=True, slots=True)
class PeriodTotal:
    """Energy in one local (Europe/London) day or calendar month: ``label`` is ``YYYY-MM-DD`` or ``YYYY-MM``."""

    label: str
    start: datetime
    end: datetime
    kwh: Decimal
    completeness: Completeness


@dataclass(frozen=True, slots=True)
class ConsumptionData:
    """Everything an energy consumption credential states about one supply point and period.

    ``account`` is the SME the supply belongs to: a DID, or an opaque account reference the EDP
    issues. ``period_end`` is exclusive. ``total_kwh`` is the interval total when there are intervals,
    else the register consumption (converted to kWh for gas).
    """

    supply_point: SupplyPoint
    account: str
    period_start: datetime
    period_end: datetime
    timezone: str = "Europe/London"
    intervals: tuple[IntervalReading, ...] = ()
    register_series: RegisterSeries | None = None
    register_consumption: RegisterConsumption | None = None
    gas_conversion: GasConversion | None = None
    daily_totals: tuple[PeriodTotal, ...] = ()
    monthly_totals: tuple[PeriodTotal, ...] = ()
    total_kwh: Decimal | None = None
    completeness: Completeness | None = None

    def __post_init__(self) -> None:
        _aware(self.period_start, "period_start")
        _aware(self.period_end, "period_end")
        if _not_after(self.period_end, self.period_start):
            raise IntervalOrderError("the period ends at or before it starts", location="period_end")
        if not self.account:
            raise InputDataError("an account (a DID or an opaque account reference) is required", location="account")
        if not self.intervals and self.register_series is None:
            raise InputDataError("consumption needs interval readings, register reads, or both", location="intervals")


# ---------------------------------------------------------------------------------------------------
# Tariffs


@dataclass(frozen=True, slots=True)
class TimeOfUse:
    """When a rate applies (an OCPI 2.2.1-style restriction); every given condition must hold.

    ``time_basis`` says which clock the times (and days and dates) are read on: ``local`` wall-clock time
    (Europe/London) or ``GMT`` all year — many Economy 7 meters switch on GMT, so 00:00–07:00 GMT is
    01:00–08:00 BST in summer. A band with ``end_time <= start_time`` crosses midnight (23:30–06:30 is
    one band). ``end_time`` and ``end_date`` are exclusive. An empty ``days_of_week`` means every day.
    """

    start_time: time | None = None
    end_time: time | None = None
    days_of_week: tuple[DayOfWeek, ...] = ()
    start_date: date | None = None
    end_date: date | None = None
    time_basis: TimeBasis = "local"

    def __post_init__(self) -> None:
        _one_of(self.time_basis, ("local", "GMT"), "time_basis")
        for day in self.days_of_week:
            _one_of(day, DAYS_OF_WEEK, "days_of_week")
        if (self.start_time is None) != (self.end_time is None):
            raise InputDataError("a time-of-day band needs both start_time and end_time", location="start_time")
        if self.start_date and self.end_date and self.end_date <= self.start_date:
            raise InputDataError("end_date must be after start_date", location="end_date")


@dataclass(frozen=True, slots=True)
class Rate:
    """A unit rate in pence per kWh, valid over ``[valid_from, valid_to)`` (``valid_to`` None: open-ended).

    Dynamic (Agile-style) import rates may be negative; export rates under the Smart Export Guarantee
    must be positive (checked by `Tariff`).
    """

    value_exc_vat: Decimal
    value_inc_vat: Decimal
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    restrictions: TimeOfUse | None = None
    band: str | None = None

    def __post_init__(self) -> None:
        _decimal(self.value_exc_vat, "value_exc_vat")
        _decimal(self.value_inc_vat, "value_inc_vat")
        if self.valid_from is not None:
            _aware(self.valid_from, "valid_from")
        if self.valid_to is not None:
            _aware(self.valid_to, "valid_to")
        if self.valid_from and self.valid_to and _not_after(self.valid_to, self.valid_from):
            raise InputDataError("valid_to must be after valid_from", location="valid_to")
        _text(self.band, "band", optional=True)


@dataclass(frozen=True, slots=True)
class StandingCharge:
    """A daily standing charge in pence per local day, valid over ``[valid_from, valid_to)``."""

    value_exc_vat: Decimal
    value_inc_vat: Decimal
    valid_from: datetime | None = None
    valid_to: datetime | None = None

    def __post_init__(self) -> None:
        _decimal(self.value_exc_vat, "value_exc_vat")
        _decimal(self.value_inc_vat, "value_inc_vat")
        if self.value_exc_vat < 0:
            raise InputDataError("a standing charge cannot be negative", location="value_exc_vat")
        if self.valid_from is not None:
            _aware(self.valid_from, "valid_from")
        if self.valid_to is not None:
            _aware(self.valid_to, "valid_to")


@dataclass(frozen=True, slots=True)
class FuelMix:
    """A supplier's Fuel Mix Disclosure for a period (1 April – 31 March), as stated on the tariff.

    ``shares`` maps each of `FUEL_MIX_SOURCES` to a percentage; they must add up to 100 within
    ±0.5 (published tables round each share to whole or tenth percent).
    """

    period_start: date
    period_end: date
    shares: Mapping[str, Decimal]
    co2_g_per_kwh: Decimal
    radioactive_waste_g_per_kwh: Decimal | None = None
    rego_backed_share: Decimal | None = None  # percent of the renewables share backed by REGOs
    source: str | None = None

    def __post_init__(self) -> None:
        _text(self.source, "source", optional=True)
        unknown = set(self.shares) - set(FUEL_MIX_SOURCES)
        if unknown:
            raise InputDataError(f"unknown fuel mix categories {sorted(unknown)}; expected {', '.join(FUEL_MIX_SOURCES)}", location="shares")
        for name, share in self.shares.items():
            _decimal(share, f"shares.{name}")
            if not Decimal(0) <= share <= Decimal(100):
                raise InputDataError(f"share {share} is not a percentage", location=f"shares.{name}")
        total = sum(self.shares.values(), Decimal(0))
        if abs(total - 100) > Decimal("0.5"):
            raise InputDataError(f"fuel mix shares add up to {total}%, not 100%", location="shares")
        _decimal(self.co2_g_per_kwh, "co2_g_per_kwh")
        if self.co2_g_per_kwh < 0:
            raise InputDataError("CO2 intensity cannot be negative", location="co2_g_per_kwh")
        if self.rego_backed_share is not None and not Decimal(0) <= self.rego_backed_share <= Decimal(100):
            raise InputDataError("rego_backed_share is a percentage", location="rego_backed_share")
        if self.period_end <= self.period_start:
            raise InputDataError("the disclosure period ends before it starts", location="period_end")

    def covers(self, start: date, end: date) -> bool:
        """Whether the disclosure's period holds [start, end): market-based emissions need the disclosure for the period."""
        return self.period_start <= start and end <= self.period_end

    def market_factor(self) -> "Factor":
        """The supplier-specific Scope 2 market-based factor this disclosure gives (CO2 only, as disclosures state it)."""
        return Factor(
            value=self.co2_g_per_kwh / 1000,
            unit="kgCO2/kWh",
            source=self.source or "supplier Fuel Mix Disclosure stated on the tariff",
            year=self.period_start.year,
            scope="scope2-market-based",
            name=f"supplier fuel mix {self.period_start.isoformat()} to {self.period_end.isoformat()}",
            caveat="Fuel Mix Disclosure states CO2 only, not CO2e",
        )


@dataclass(frozen=True, slots=True)
class Tariff:
    """A supply (import) or export tariff, as a supplier publishes it.

    Money: rates in p/kWh, standing charges in p/day, both exc. and inc. VAT as published; ``vat_rate``
    is a fraction (0.05 or 0.20). ``customer_class`` (business or domestic) decides the taxes `tariffs.cost`
    applies: business supplies pay the Climate Change Levy and standard-rate VAT on top of it unless a month
    is within HMRC's de minimis. ``region`` is the GSP group letter (A–P, no I or O) or None for a
    national tariff. ``dynamic`` tariffs (Agile) carry one `Rate` per half-hour.
    """

    supplier: str
    code: str
    name: str
    direction: Direction
    region: str | None = None
    payment_method: str | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    standing_charges: tuple[StandingCharge, ...] = ()
    unit_rates: tuple[Rate, ...] = ()
    dynamic: bool = False
    vat_rate: Decimal = Decimal("0.20")
    fuel: Fuel = "electricity"
    fuel_mix: FuelMix | None = None
    export_meter: SupplyPoint | None = None
    seg: bool = False
    product_code: str | None = None
    timezone: str = "Europe/London"
    customer_class: CustomerClass | None = None
    partial_response: str | None = None  # set when a paginated supplier response was accepted as partial

    def __post_init__(self) -> None:
        for name in ("supplier", "code", "name"):
            _text(getattr(self, name), name)
        for name in ("payment_method", "product_code"):
            _text(getattr(self, name), name, optional=True)
        _one_of(self.direction, ("import", "export"), "direction")
        _one_of(self.fuel, ("electricity", "gas"), "fuel")
        if self.customer_class is not None:
            _one_of(self.customer_class, ("business", "domestic"), "customer_class")
        if self.region is not None and (not isinstance(self.region, str) or self.region not in GSP_GROUPS):
            raise InputDataError(f"region must be a GSP group letter A-P (no I or O), got {str(self.region)[:40]!r}", location="region")
        _decimal(self.vat_rate, "vat_rate")
        if not Decimal(0) <= self.vat_rate < 1:
            raise InputDataError(f"vat_rate is a fraction such as 0.20, got {self.vat_rate}", location="vat_rate")
        if not self.unit_rates:
            raise InputDataError("a tariff needs at least one unit rate", location="unit_rates")
        if self.direction == "export":
            if self.standing_charges and any(sc.value_exc_vat for sc in self.standing_charges):
                raise InputDataError("an export tariff has no standing charge", location="standing_charges")
            if self.export_meter is not None and self.export_meter.measure != "export":
                raise InputDataError("the export meter must be an export MPAN (measure 'export')", location="export_meter")
        if self.seg:
            if self.direction != "export":
                raise InputDataError("a Smart Export Guarantee tariff must be an export tariff", location="seg")
            for i, rate in enumerate(self.unit_rates):
                if rate.value_exc_vat <= 0:
                    raise InputDataError(f"Smart Export Guarantee rates must be above 0 p/kWh, got {rate.value_exc_vat}", location=f"unit_rates[{i}]")


# ---------------------------------------------------------------------------------------------------
# Results of the arithmetic


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """Interval total against register delta; ``within_tolerance`` and ``decided_by`` say which rule passed.

    The check passes when ``|difference| <= abs_tolerance`` OR ``|difference| <= rel_tolerance ×
    register_delta``; ``decided_by`` is ``"absolute"``, ``"relative"`` or ``None`` when neither held.
    """

    interval_total: Decimal
    register_delta: Decimal
    unit: EnergyUnit
    difference: Decimal  # interval_total - register_delta
    abs_tolerance: Decimal
    rel_tolerance: Decimal
    within_tolerance: bool
    decided_by: Literal["absolute", "relative"] | None
    rule: str


@dataclass(frozen=True, slots=True)
class BandCost:
    """Energy and money for one tariff band (``band`` as the tariff names it, or the rate's validity)."""

    band: str
    kwh: Decimal
    pence_exc_vat: Decimal


@dataclass(frozen=True, slots=True)
class MonthCost:
    """One local calendar month (or the part of it in the period) of a bill: what a bookkeeper checks.

    ``taxes`` says which rule applied: ``business`` (CCL + standard VAT on energy, standing charge and
    CCL), ``de-minimis`` (a business month within HMRC's de minimis: reduced VAT, no CCL), ``domestic``
    (reduced VAT, no CCL), ``tariff-vat`` (no customer class stated: the tariff's VAT rate, no CCL) or
    ``export`` (no VAT, no CCL).
    """

    label: str
    start: datetime
    end: datetime
    kwh: Decimal
    by_band: tuple["BandCost", ...]
    energy_pence_exc_vat: Decimal
    standing_days: int
    standing_pence_exc_vat: Decimal
    taxes: str
    de_minimis_kwh: Decimal | None
    ccl_pence_per_kwh: Decimal | None
    ccl_pence: Decimal
    vat_rate: Decimal
    vat_pence: Decimal
    total_pence_inc_vat: Decimal


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    """Cost of consumption (import) or income from export, in pence exact and pounds rounded.

    For export, ``standing_pence_exc_vat`` is 0 and ``vat_pence`` is 0 (SEG payments to a business
    that is not VAT-registered carry no VAT; a VAT-registered exporter accounts for it separately).
    """

    direction: Direction
    period_start: datetime
    period_end: datetime
    kwh: Decimal
    energy_pence_exc_vat: Decimal
    standing_days: int
    standing_pence_exc_vat: Decimal
    vat_rate: Decimal
    vat_pence: Decimal
    total_pence_inc_vat: Decimal
    total_gbp_inc_vat: Decimal
    by_band: tuple[BandCost, ...]
    rounding: str
    months: tuple[MonthCost, ...] = ()
    ccl_pence: Decimal = Decimal(0)
    customer_class: str | None = None
    tax_sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Factor:
    """An emission factor with where it comes from, so a recipient can check it."""

    value: Decimal
    unit: str  # e.g. "kgCO2e/kWh"
    source: str  # URL of the publication
    year: int
    scope: str  # e.g. "scope2-location-based", "scope1", "scope2-market-based"
    name: str
    caveat: str | None = None


@dataclass(frozen=True, slots=True)
class EmissionsInput:
    """One input the emissions were computed from: its energy and, when known, the credential it came from."""

    fuel: Fuel
    kwh: Decimal
    period_start: date
    period_end: date
    supply_point: str | None = None
    credential_id: str | None = None
    location_based_kg: Decimal = Decimal(0)
    market_based_kg: Decimal | None = None


@dataclass(frozen=True, slots=True)
class EmissionsResult:
    """Emissions for whole calendar months ``[period_start, period_end)`` (dates, end exclusive)."""

    period_start: date
    period_end: date
    location_based_kg: Decimal
    market_based_kg: Decimal | None
    factors_used: tuple[Factor, ...]
    method: str
    inputs: tuple[EmissionsInput, ...] = field(default_factory=tuple)
    rounding: str = ""
    # Scope 1 (gas) and Scope 2 (electricity) apart: location_based_kg and market_based_kg above add gas in
    # (the old combined figures); a report states these instead.
    scope1_kg: Decimal = Decimal(0)
    scope2_location_based_kg: Decimal = Decimal(0)
    scope2_market_based_kg: Decimal | None = None
