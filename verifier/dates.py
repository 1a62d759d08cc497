"""XML Schema dateTime values as the VC specifications use them: always with a timezone.

A dateTime without a timezone means a different instant in every place it is read, so an expiry
check would depend on the verifier's clock settings (w3c/vc-data-model #1193). We refuse it.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from .errors import MalformedValueError

# xsd:dateTime with a mandatory timezone (Z or ±hh:mm); fractional seconds allowed.
_DATETIME = re.compile(
    r"^(?P<year>-?\d{4,})-(?P<month>\d{2})-(?P<day>\d{2})T(?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2})"
    r"(?P<fraction>\.\d+)?(?P<tz>Z|[+-]\d{2}:\d{2})$"
)


def parse_datetime(value: object, *, field: str = "value") -> datetime:
    """Parse an xsd:dateTime with timezone into an aware `datetime`; errors name the field."""
    if not isinstance(value, str):
        raise MalformedValueError(f"{field} must be a dateTime string such as 2025-01-31T00:00:00Z, not {value!r}")
    m = _DATETIME.match(value)
    if m is None:
        if re.match(r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$", value):
            raise MalformedValueError(
                f"{field} {value!r} has no timezone; write it with Z or an offset, e.g. {value}Z"
            )
        raise MalformedValueError(f"{field} {value!r} is not an XML Schema dateTime such as 2025-01-31T00:00:00Z")
    text = value
    fraction = m.group("fraction")
    if fraction and len(fraction) > 7:  # Python keeps microseconds; truncate longer fractions
        text = value.replace(fraction, fraction[:7])
    if m.group("hour") == "24":
        raise MalformedValueError(f"{field} {value!r}: write midnight as 00:00:00 of the next day")
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise MalformedValueError(f"{field} {value!r} is not a valid date and time ({exc})") from exc
    return parsed


def format_datetime(moment: datetime) -> str:
    """UTC, whole seconds, with a Z: the form we write in proofs and credentials."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)
