"""Is a document a JSON value every later step can process? I-JSON's rules, checked once at the entry.

Signing and verifying hash a document's canonical form, which must be UTF-8 (RDFC-1.0 N-Quads, RFC
8785 JCS) and must turn every number into text the same way jsonld.js does (through an IEEE 754
double). Three kinds of value pass a JSON parser or a Python caller but break those steps deep
inside, where the error would surface as a traceback rather than a reason:

* a lone surrogate (``"\\ud800"``): legal in JSON's escapes, but it has no UTF-8 encoding (RFC 7493,
  I-JSON §2.1, forbids it for this reason);
* a number beyond the range of a double (a 5,000-digit integer, ``NaN``, ``Infinity``): JSON-LD
  turns large numbers into ``xsd:double``, which cannot hold it (I-JSON §2.2; RFC 8785 §3.2.2.3);
* anything that is not JSON at all (a tuple, a ``Decimal``, a non-string key, a cycle), which only
  a Python caller can pass — and nesting deeper than any credential, which would exhaust recursion.

`json_value_problem` finds the first such value and names its JSON path, so `verify_credential`
reports it as a malformed credential and `sign_document` refuses it, instead of either raising.
The common case costs one C-speed ``json.dumps``; the path-by-path walk runs only on a failure.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from .errors import MalformedValueError

__all__ = ["MAX_DEPTH", "check_json_value", "json_value_problem"]

# Only a value json.dumps could not write is walked; past this depth the walk calls it too deep (a
# cycle ends there too). Perseus credentials nest ~8 levels; the issuer service refuses bodies past 100.
MAX_DEPTH = 100
# The largest finite double is just under 2**1024 (309 decimal digits).
_MAX_NUMBER = 2**1024
_SURROGATE = re.compile("[\ud800-\udfff]")
_DIGITS_ONLY = bytes(0x39 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))  # a digit → "9", else " "
_DIGIT_RUN = b"9" * 300


def json_value_problem(document: Any) -> str | None:
    """A sentence naming the first value that is not I-JSON (and where), or None when all are."""
    try:
        # Compact and without the cycle check (a cycle still fails, by recursion): ~20% faster.
        data = json.dumps(document, ensure_ascii=False, allow_nan=False, check_circular=False, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError, RecursionError, UnicodeEncodeError):
        pass  # the walk says which value, and where
    else:
        # 300 digits in a row may be a number too large for a double (or only a long string of
        # digits: then the walk finds nothing). bytes.translate and `in` keep this at C speed.
        if _DIGIT_RUN not in data.translate(_DIGITS_ONLY):
            return None
    return _walk(document)


def _pointer(path: list[str | int]) -> str:
    """An RFC 6901 JSON pointer (the form strict JSON-LD errors use), made printable."""
    parts = [str(step).replace("~", "~0").replace("/", "~1") for step in path]
    text = "/" + "/".join(parts) if parts else "the document"
    return text.encode("utf-8", "backslashreplace").decode("utf-8")[:200]


def _walk(document: Any) -> str | None:
    stack: list[tuple[Any, list[str | int]]] = [(document, [])]
    while stack:
        value, path = stack.pop()
        where = _pointer(path)
        if len(path) > MAX_DEPTH:
            return f"{where}: nested more than {MAX_DEPTH} levels deep; no credential is"
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return f"{where}: the string holds a lone surrogate code point, which has no UTF-8 form (I-JSON, RFC 7493)"
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if not -_MAX_NUMBER < value < _MAX_NUMBER:
                return f"{where}: the number is beyond the range of a double (I-JSON, RFC 7493)"
        elif isinstance(value, float):
            if not math.isfinite(value):
                return f"{where}: NaN and Infinity are not JSON numbers"
        elif isinstance(value, dict):
            for key, child in value.items():
                if not isinstance(key, str):
                    return f"{where}: an object key must be a string, not {type(key).__name__}"
                if _SURROGATE.search(key):
                    return f"{where}: a key holds a lone surrogate code point, which has no UTF-8 form (I-JSON, RFC 7493)"
                stack.append((child, [*path, key]))
        elif isinstance(value, list | tuple):
            stack.extend((child, [*path, index]) for index, child in enumerate(value))
        else:
            return f"{where}: a {type(value).__name__} is not a JSON value"
    return None


def check_json_value(document: Any) -> None:
    """Raise `MalformedValueError` naming the first value that is not I-JSON (see `json_value_problem`)."""
    problem = json_value_problem(document)
    if problem is not None:
        raise MalformedValueError(problem)
