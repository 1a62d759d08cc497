"""Small parsing helpers shared by the adapters (JSON with exact decimals, timestamps, file input)."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from perseus.verifier.jsonvalue import json_value_problem

from perseus.issuer.energy.errors import InputDataError, ParsingInputError

__all__ = ["load_json", "parse_instant", "parse_date", "parse_time", "read_text"]


def read_text(source: str | Path | bytes) -> str:
    """Text from a path, or the text itself when given bytes or a string that is clearly content."""
    if isinstance(source, bytes):
        return source.decode("utf-8-sig")
    if isinstance(source, Path) or ("\n" not in source and len(source) < 4096 and not source.lstrip().startswith(("{", "["))):
        path = Path(source)
        try:
            return path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise InputDataError(f"no such file: {path}", location=str(path)) from None
        except UnicodeDecodeError as exc:
            raise InputDataError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", location=str(path)) from None
    return source


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def load_json(source: Any) -> Any:
    """JSON with every number parsed as an exact Decimal (never a float), from a path, text or object."""
    if isinstance(source, (dict, list)):
        return source
    text = read_text(source)
    try:
        value = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise ParsingInputError(f"not valid JSON: {exc.msg}", location=f"line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise ParsingInputError("not valid JSON here: nested too deeply") from None
    except ValueError:  # int → str digit limit: a number of thousands of digits is no reading
        raise ParsingInputError("not valid JSON here: a number has too many digits") from None
    # An escaped lone surrogate ("\\ud800") has no UTF-8 form: the credential built from it could not be written.
    problem = json_value_problem(json.loads(text)) if _SURROGATE_ESCAPE.search(text) else None
    if problem is not None:
        raise ParsingInputError(problem)
    return value


def parse_instant(value: Any, location: str) -> datetime:
    """An ISO 8601 date-time with an offset (``Z`` or ``+01:00``); a naive one is refused."""
    if not isinstance(value, str):
        raise InputDataError(f"expected an ISO 8601 date-time string, got {value!r}", location=location)
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InputDataError(f"not an ISO 8601 date-time: {value!r}", location=location) from None
    if parsed.utcoffset() is None:
        raise InputDataError(f"date-time {value!r} has no timezone offset; add Z or +01:00", location=location)
    return parsed


def parse_date(value: Any, location: str) -> date:
    if not isinstance(value, str):
        raise InputDataError(f"expected a date YYYY-MM-DD, got {value!r}", location=location)
    text = value.strip()
    try:
        if "/" in text:
            d, m, y = text.split("/")
            return date(int(y), int(m), int(d))
        return date.fromisoformat(text)
    except ValueError:
        raise InputDataError(f"not a date (YYYY-MM-DD or DD/MM/YYYY): {value!r}", location=location) from None


def parse_time(value: Any, location: str) -> time:
    if not isinstance(value, str):
        raise InputDataError(f"expected a time HH:MM, got {value!r}", location=location)
    text = value.strip()
    if text in ("24:00", "24:00:00"):
        return time(0)
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise InputDataError(f"not a time HH:MM: {value!r}", location=location) from None
