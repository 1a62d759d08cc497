"""The size budget a JSON document must fit before JSON-LD expansion starts.

Why: canonicalization has its own work budget (``rdfc.py``), but expansion and conversion to RDF run
before it and cost time and memory in proportion to the document's shape, not its byte size: ten
megabytes of ``[[],[],…]`` are three million Python lists (~200 MB), a hundred thousand levels of
nesting exhaust the recursion limit, a 4,000-digit integer makes ``str()`` raise, and one 9 MB string
is hashed, escaped and copied several times. A verifier that anyone may call must refuse such shapes
before doing that work, with a reason, and must still accept every real credential.

The defaults are sized from real credentials: a year of half-hourly readings (17,520 readings) as an
``EnergyConsumptionCredential`` is ~3.3 MB and ~250,000 JSON values nested 6 deep; the limits allow
four times that (a year of import and export readings in one document, with room to spare) and refuse
what no credential looks like. Every limit is a field of `DocumentLimits`; callers choose their own
with ``expand(..., limits=...)``, ``to_rdf(..., limits=...)`` or, for a whole verification, the
`document_limits` context manager:

    with document_limits(DocumentLimits(max_values=5_000_000)):
        result = verify_credential(big_credential)

`check_document` walks the document once, breadth first and without recursion, so the walk itself is
bounded by the limits it checks; `estimate_json_values` bounds a JSON text's values from its bytes, so
a server can refuse a body before parsing builds millions of objects.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .errors import PerseusError

__all__ = [
    "DEFAULT_LIMITS",
    "too_many_contexts",
    "DocumentLimitError",
    "DocumentLimits",
    "check_document",
    "current_limits",
    "document_limits",
    "estimate_json_values",
]


@dataclass(frozen=True)
class DocumentLimits:
    """What a document may contain before it is expanded (see the module documentation for the sizes).

    * ``max_depth`` — nesting of objects and arrays; a Perseus credential nests ~8 deep. Expansion
      recurses a few Python frames per level, so this also keeps it far from the recursion limit.
    * ``max_values`` — objects, arrays, strings, numbers, booleans and nulls in all (object keys are
      not counted separately): the work and memory of expansion grow with it.
    * ``max_string_length`` — characters in any one string or object key.
    * ``max_total_characters`` — characters in all strings and keys together.
    * ``max_integer_digits`` — decimal digits of an integer (JSON-LD writes integers of 21 digits and
      more as doubles anyway; Python refuses to print integers beyond 4,300 digits).
    * ``max_contexts`` — distinct active contexts met *during* expansion. Each costs ~1 ms and ~20 KB
      (its term definitions are copied and its caches rebuilt), and nesting property-scoped terms makes
      one per distinct path: a 156 KB tree of ``{"unit": {...}, "quality": {...}}`` nodes made 8,191 of
      them (13 s, 180 MB) while every size limit above held. The worked examples and the W3C vectors meet
      at most 10.
    """

    max_depth: int = 100
    max_values: int = 1_000_000
    max_string_length: int = 1_000_000
    max_total_characters: int = 32_000_000
    max_integer_digits: int = 64
    max_contexts: int = 256

    def __post_init__(self) -> None:
        for name in ("max_depth", "max_values", "max_string_length", "max_total_characters", "max_integer_digits", "max_contexts"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"DocumentLimits.{name} must be a positive integer, not {value!r}")
        if self.max_depth > 500:
            # Expansion is recursive (a few frames per level): deeper than this would hit Python's
            # recursion limit instead of this budget.
            raise ValueError("DocumentLimits.max_depth must be at most 500")


DEFAULT_LIMITS = DocumentLimits()
_CURRENT: contextvars.ContextVar[DocumentLimits] = contextvars.ContextVar("perseus_document_limits", default=DEFAULT_LIMITS)


class DocumentLimitError(PerseusError):
    """The document is larger or deeper than the verifier's budget allows; ``limit`` names which limit
    (a `DocumentLimits` field) and ``path`` is the JSON pointer of the first place found beyond it."""

    code = "DOCUMENT_LIMIT_EXCEEDED"

    def __init__(self, message: str, *, code: str, limit: str, path: str = "") -> None:
        super().__init__(message, code=code)
        self.limit = limit
        self.path = path


def current_limits() -> DocumentLimits:
    """The limits in force here: those of the innermost `document_limits` block, else `DEFAULT_LIMITS`."""
    return _CURRENT.get()


@contextmanager
def document_limits(limits: DocumentLimits) -> Iterator[DocumentLimits]:
    """Use `limits` for every expansion in this block (this thread or task only: a context variable)."""
    token = _CURRENT.set(limits)
    try:
        yield limits
    finally:
        _CURRENT.reset(token)


def check_document(document: Any, limits: DocumentLimits | None = None) -> None:
    """Raise `DocumentLimitError` if `document` (parsed JSON) exceeds `limits` (default: `current_limits`).

    The common case — a document within every limit — is one pass over its containers with no path
    bookkeeping; only when a limit is exceeded is the document walked again to name where.
    """
    limits = limits or _CURRENT.get()
    broken = _first_broken_limit(document, limits)
    if broken is not None:
        raise _explain(document, limits, broken)


def _first_broken_limit(document: Any, limits: DocumentLimits) -> str | None:
    max_string = limits.max_string_length
    biggest = 10**limits.max_integer_digits
    values = 1
    characters = 0
    level = [document]
    depth = 0
    while level:
        depth += 1
        below: list[Any] = []
        push = below.append
        for container in level:
            kind = type(container)
            if kind is dict:
                values += len(container)
                for key, value in container.items():
                    if type(key) is str:
                        size = len(key)
                        if size > max_string:
                            return "max_string_length"
                        characters += size
                    kind = type(value)
                    if kind is str:
                        size = len(value)
                        if size > max_string:
                            return "max_string_length"
                        characters += size
                    elif kind is dict or kind is list:
                        push(value)
                    elif kind is int and not -biggest < value < biggest:
                        return "max_integer_digits"
            elif kind is list:
                values += len(container)
                for value in container:
                    kind = type(value)
                    if kind is str:
                        size = len(value)
                        if size > max_string:
                            return "max_string_length"
                        characters += size
                    elif kind is dict or kind is list:
                        push(value)
                    elif kind is int and not -biggest < value < biggest:
                        return "max_integer_digits"
            elif kind is str:  # a bare string document
                if len(container) > max_string:
                    return "max_string_length"
                characters += len(container)
            elif kind is int and not -biggest < container < biggest:
                return "max_integer_digits"
        if below and depth >= limits.max_depth:
            return "max_depth"
        if values > limits.max_values:
            return "max_values"
        if characters > limits.max_total_characters:
            return "max_total_characters"
        level = below
    return None


def _explain(document: Any, limits: DocumentLimits, limit: str) -> DocumentLimitError:
    """The error for `limit`, with the path of the first value found beyond it (breadth first)."""
    path = _find(document, limits, limit)
    where = f" at {path}" if path else ""
    if limit == "max_depth":
        return DocumentLimitError(
            f"the document nests objects and arrays more than {limits.max_depth} levels deep{where}; no credential does",
            code="DOCUMENT_TOO_DEEP", limit=limit, path=path,
        )
    if limit == "max_values":
        return DocumentLimitError(
            f"the document holds more than {limits.max_values:,} JSON values (objects, arrays, strings, numbers); "
            "the verifier's budget allows that many, several years of half-hourly readings",
            code="DOCUMENT_TOO_LARGE", limit=limit, path=path,
        )
    if limit == "max_total_characters":
        return DocumentLimitError(
            f"the document's strings hold more than {limits.max_total_characters:,} characters in all; the verifier's budget allows that many",
            code="DOCUMENT_TOO_LARGE", limit=limit, path=path,
        )
    if limit == "max_string_length":
        return DocumentLimitError(
            f"a string{where} is longer than {limits.max_string_length:,} characters, the most the verifier accepts in one value",
            code="STRING_TOO_LONG", limit=limit, path=path,
        )
    return DocumentLimitError(
        f"an integer{where} has more than {limits.max_integer_digits} digits, the most the verifier accepts",
        code="NUMBER_TOO_LARGE", limit=limit, path=path,
    )


def _pointer(path: tuple[Any, ...]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path) or "/"


def _find(document: Any, limits: DocumentLimits, limit: str) -> str:
    """The JSON pointer of the first place (breadth first) where `limit` is exceeded; slow, error path only."""
    biggest = 10**limits.max_integer_digits
    values = 1
    characters = 0
    level: list[tuple[Any, tuple[Any, ...]]] = [(document, ())]
    depth = 0
    while level:
        depth += 1
        below: list[tuple[Any, tuple[Any, ...]]] = []
        for container, path in level:
            if isinstance(container, dict):
                entries: Any = container.items()
            elif isinstance(container, list):
                entries = enumerate(container)
            else:
                entries = [(None, container)]
            for key, value in entries:
                here = path if key is None else path + (key,)
                values += 1
                for text in (key, value):
                    if isinstance(text, str):
                        characters += len(text)
                        if limit == "max_string_length" and len(text) > limits.max_string_length:
                            return _pointer(here)
                if limit == "max_integer_digits" and type(value) is int and not -biggest < value < biggest:
                    return _pointer(here)
                if limit == "max_values" and values > limits.max_values:
                    return _pointer(here)
                if limit == "max_total_characters" and characters > limits.max_total_characters:
                    return _pointer(here)
                if isinstance(value, (dict, list)) and key is not None:
                    if limit == "max_depth" and depth >= limits.max_depth:
                        return _pointer(here)
                    below.append((value, here))
        level = below
    return ""


def _too_many_contexts(limits: DocumentLimits, path: tuple[Any, ...]) -> DocumentLimitError:
    return DocumentLimitError(
        f"expanding the document needs more than {limits.max_contexts:,} distinct JSON-LD contexts (at {_pointer(path)}): "
        "nested scoped contexts multiply with every path, and no credential needs that many",
        code="DOCUMENT_TOO_COMPLEX", limit="max_contexts", path=_pointer(path),
    )


def too_many_contexts(limits: DocumentLimits, path: tuple[Any, ...]) -> DocumentLimitError:
    """The error the JSON-LD expander raises when a document needs more than `limits.max_contexts` contexts."""
    return _too_many_contexts(limits, path)


# Bytes that start or separate JSON values outside strings. Inside strings they may occur too, so the
# count is an upper bound on the number of values — never an under-estimate.
_STRUCTURE = (b",", b"[", b"{")


def estimate_json_values(body: bytes | bytearray | memoryview) -> int:
    """An upper bound on the number of JSON values in `body`, computed at C speed without parsing.

    Each value after the first in an array or object follows a comma, and each container opens with a
    bracket, so ``commas + brackets + 1`` bounds the values (object keys are not values). A server uses
    it to refuse a body whose parse would build more objects than `DocumentLimits.max_values` allows.
    """
    data = bytes(body) if isinstance(body, memoryview) else body
    return 1 + sum(data.count(mark) for mark in _STRUCTURE)
