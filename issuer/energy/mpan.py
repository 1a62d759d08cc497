"""MPAN (electricity) and MPRN (gas) validation, check digits included.

A mistyped meter number would put one business's consumption in another's credential, so we check the
check digit rather than only the length.

MPAN: the 13-digit core ends with a check digit,
``sum(d_i × [3,5,7,13,17,19,23,29,31,37,41,43][i] for the first 12 digits) % 11 % 10``. The full
21-character form adds a top line of profile class (2 digits), meter time-switch code (3 digits) and
line loss factor class (3 characters, which may be letters) before the core.

MPRN: 6 to 10 digits. Xoserve does not publish the check-digit rule in a normative document we could
find; the rule implemented here is the public description (everybodywiki "Meter Point Reference
Number"): the last two digits are ``sum(d_i × (n - i)) % 11`` zero-padded, over the first ``n = len-2``
digits. It is verified against that page's worked example (3938424403) only, so it is applied by default
but can be switched off (``check_digits=False``) if a genuine MPRN is refused — say so when you do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from perseus.verifier.meters import MPAN_PRIMES
from perseus.verifier.meters import mpan_check_digit as _check_digit

from .errors import CheckDigitError, InputDataError
from .model import Fuel, Measure, SupplyPoint

__all__ = [
    "MPAN_PRIMES",
    "MpanParts",
    "mpan_check_digit",
    "parse_mpan",
    "mprn_check_digits",
    "parse_mprn",
    "supply_point",
    "normalise_outcode",
]

MPRN_RULE_SOURCE = "https://en.everybodywiki.com/Meter_Point_Reference_Number"

_SEPARATORS = re.compile(r"[\s\-]+")
_CORE = re.compile(r"\d{13}")
_FULL = re.compile(r"(\d{2})(\d{3})([0-9A-Z]{3})(\d{13})")
_OUTCODE = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]?")


@dataclass(frozen=True, slots=True)
class MpanParts:
    """An MPAN split into its parts; ``profile_class`` etc. are None when only the core was given."""

    core: str
    distributor_id: str
    profile_class: str | None = None
    meter_time_switch_code: str | None = None
    line_loss_factor_class: str | None = None

    @property
    def full(self) -> str | None:
        if self.profile_class is None:
            return None
        return f"{self.profile_class}{self.meter_time_switch_code}{self.line_loss_factor_class}{self.core}"

    @property
    def half_hourly(self) -> bool | None:
        """Profile class 00 means half-hourly settlement; None when the top line is unknown."""
        return None if self.profile_class is None else self.profile_class == "00"


def mpan_check_digit(first12: str) -> int:
    """The check digit for the first 12 digits of an MPAN core."""
    if len(first12) != 12 or not first12.isdigit():
        raise InputDataError(f"an MPAN core's first 12 characters must be digits, got {first12!r}", location="mpan")
    return _check_digit(first12)


def parse_mpan(text: str) -> MpanParts:
    """Validate an MPAN (13-digit core, or 21-character full form; spaces and hyphens ignored)."""
    if not isinstance(text, str):
        raise InputDataError(f"an MPAN is a string of digits, got {type(text).__name__}", location="mpan")
    cleaned = _SEPARATORS.sub("", text).upper()
    if _CORE.fullmatch(cleaned):
        parts = MpanParts(core=cleaned, distributor_id=cleaned[:2])
    elif m := _FULL.fullmatch(cleaned):
        parts = MpanParts(core=m.group(4), distributor_id=m.group(4)[:2], profile_class=m.group(1),
                          meter_time_switch_code=m.group(2), line_loss_factor_class=m.group(3))
    else:
        raise InputDataError(
            f"an MPAN is a 13-digit core or a 21-character full MPAN, got {text!r} ({len(cleaned)} characters)", location="mpan"
        )
    expected = mpan_check_digit(parts.core[:12])
    if int(parts.core[12]) != expected:
        raise CheckDigitError(
            f"MPAN {parts.core} has check digit {parts.core[12]} but its first 12 digits give {expected}: check for a typing error",
            location="mpan",
        )
    return parts


def mprn_check_digits(body: str) -> str:
    """The two check digits for an MPRN whose digits before the check digits are ``body``."""
    n = len(body)
    return f"{sum(int(d) * (n - i) for i, d in enumerate(body)) % 11:02d}"


def parse_mprn(text: str, *, check_digits: bool = True) -> str:
    """Validate an MPRN (6 to 10 digits) and, by default, its check digits; returns the digits."""
    if not isinstance(text, str):
        raise InputDataError(f"an MPRN is a string of digits, got {type(text).__name__}", location="mprn")
    cleaned = _SEPARATORS.sub("", text)
    if not cleaned.isdigit() or not 6 <= len(cleaned) <= 10:
        raise InputDataError(f"an MPRN is 6 to 10 digits, got {text!r}", location="mprn")
    if check_digits:
        expected = mprn_check_digits(cleaned[:-2])
        if cleaned[-2:] != expected:
            raise CheckDigitError(
                f"MPRN {cleaned} ends {cleaned[-2:]} but its digits give check digits {expected}: check for a typing error",
                location="mprn",
            )
    return cleaned


def normalise_outcode(text: str | None) -> str | None:
    """A UK postcode outcode ("SW1A", "M1"), upper-cased; a full postcode is cut to its outcode."""
    if text is None or text == "":
        return None
    if not isinstance(text, str):
        raise InputDataError(f"a postcode outcode is a string such as 'SE1', not {type(text).__name__}", location="postcode_outcode")
    outcode = text.strip().upper().split()[0] if text.strip() else ""
    if not _OUTCODE.fullmatch(outcode):
        raise InputDataError(f"not a UK postcode outcode: {text!r}", location="postcode_outcode")
    return outcode


def supply_point(identifier: str, fuel: Fuel, measure: Measure = "import", postcode_outcode: str | None = None,
                 *, check_mprn_digits: bool = True) -> SupplyPoint:
    """A validated `SupplyPoint`: an MPAN for electricity, an MPRN for gas."""
    outcode = normalise_outcode(postcode_outcode)
    if fuel == "electricity":
        parts = parse_mpan(identifier)
        return SupplyPoint(parts.core, "MPAN", "electricity", measure, outcode, full_mpan=parts.full)
    if fuel == "gas":
        if measure != "import":
            raise InputDataError("gas supply points are import only", location="measure")
        return SupplyPoint(
            parse_mprn(identifier, check_digits=check_mprn_digits), "MPRN", "gas", measure, outcode,
            check_digit="Verified" if check_mprn_digits else "NotChecked",
        )
    raise InputDataError(f"fuel must be electricity or gas, got {fuel!r}", location="fuel")
