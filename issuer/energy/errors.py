"""Errors for energy data that cannot be turned into a credential.

Every one is a `MalformedValueError` (code ``MALFORMED_VALUE_ERROR``) or a `RangeError`-style
``RANGE_ERROR``, so the CLI can map it to exit 2 and an HTTP service to an RFC 9457 problem detail
without knowing the energy domain. Each carries ``location`` (a row, an index, a JSON path or a field
name) because a person fixing a 17,520-row file needs to know *where*, not only *what*.
"""

from __future__ import annotations

from perseus.verifier.errors import MalformedValueError, PerseusError


class InputDataError(MalformedValueError):
    """Energy input (a reading, a read, a tariff, a file row) is malformed or inconsistent."""

    def __init__(self, message: str, *, location: str | None = None, code: str | None = None) -> None:
        super().__init__(f"{location}: {message}" if location else message, code=code)
        self.location = location
        self.reason = message

    def at(self, location: str) -> "InputDataError":
        """The same error, raised again by a caller that knows where the value came from (row, field)."""
        where = f"{location}, {self.location}" if self.location else location
        return type(self)(self.reason, location=where, code=self.code)


class CheckDigitError(InputDataError):
    """An MPAN or MPRN whose check digit does not match: most often a typing error."""


class UnknownUnitError(InputDataError):
    """A unit code we do not convert (we never guess what an unknown unit means)."""


class IntervalOrderError(InputDataError):
    """An interval that ends before (or when) it starts, or is not aligned to the half-hour grid."""


class OverlappingIntervalsError(InputDataError):
    """Two intervals cover the same time: summing them would count energy twice."""


class RegisterDeltaError(InputDataError):
    """A register went backwards without a plausible rollover, or reads are out of order."""


class TariffError(InputDataError):
    """A tariff that cannot price an interval: no rate, or two conflicting rates, or an invalid rate."""


class FactorNotFoundError(PerseusError):
    """No emission factor or calorific value in the data files covers the requested year/period."""

    code = "RANGE_ERROR"


class PeriodError(InputDataError):
    """A reporting period that is not what the method requires (for example not whole calendar months)."""

    code = "RANGE_ERROR"


class ParsingInputError(InputDataError):
    """An input file is not well-formed (not JSON, not CSV of the expected shape)."""

    code = "PARSING_ERROR"
