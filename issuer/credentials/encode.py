"""How values are written in a Perseus credential's JSON.

Why these forms: a credential is evidence and is hashed as RDF, so every value must have one exact text.

* Decimals (energy, volume, money, factors) are JSON strings in plain notation ("0.235", never "2.35E-1"
  and never a JSON number, which a JSON parser would turn into a binary float). Trailing zeros are kept:
  "0.230" says the meter reported three places.
* Instants of readings are UTC with a Z (what meters and the IB1 API use, and the shortest form: a year of
  half-hourly readings writes 35,040 of them). Period boundaries, totals and rate validity are written in
  the local time of the credential's timezone with its offset ("2025-06-01T00:00:00+01:00"), because a
  person reads "the month of June" there; both are the same xsd:dateTime instants.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

__all__ = ["date_text", "decimal_text", "local_text", "time_text", "utc_text"]

_UTC = UTC


def decimal_text(value: Decimal) -> str:
    """Plain-notation text of a finite Decimal, exactly (no exponent; trailing zeros kept)."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise TypeError(f"expected a finite Decimal, got {value!r}")
    text = format(value, "f")
    return "0" if text == "-0" else text


def utc_text(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` (fractions of a second are kept if present)."""
    text = moment.astimezone(_UTC).isoformat()
    return text[:-6] + "Z"  # isoformat ends with "+00:00"


def local_text(moment: datetime, zone: ZoneInfo) -> str:
    """The instant in local time with its UTC offset, e.g. ``2025-06-01T00:00:00+01:00``."""
    return moment.astimezone(zone).isoformat()


def date_text(day: date) -> str:
    return day.isoformat()


def time_text(moment: time) -> str:
    """``HH:MM:SS`` (xsd:time without a timezone: a local wall-clock time)."""
    return moment.replace(tzinfo=None).isoformat(timespec="seconds")
