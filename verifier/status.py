"""Bitstring Status List 1.0: is this credential revoked or suspended? Checked offline.

A credential names its status with ``credentialStatus`` entries (``BitstringStatusListEntry``), each
pointing at one bit (or ``statusSize`` bits) of a *status list credential* the issuer publishes. This
module answers the question without touching the network, from status list credentials handed to it
(by the holder, "stapled", or fetched earlier by the caller)::

    check = status_check(credential, [status_list_vc], now=now, loader=loader)
    check.outcome        # "passed", "failed" or "skipped"; a CheckResult named "status"

Why each step is there (W3C Bitstring Status List 1.0 §3.2 "Validate Algorithm"):

* the status list credential's proofs are verified with `verify_credential` — an unsigned or
  altered list would let anyone "unrevoke" a credential (STATUS_VERIFICATION_ERROR);
* its issuer must be the credential's issuer — otherwise a list signed by *some* valid key, for
  example the holder's own did:key, would be accepted. (The specification allows the two issuers
  to differ; a caller that trusts a separate status authority checks that itself.)
* the list must be long enough for herd privacy (131,072 entries; STATUS_LIST_LENGTH_ERROR) and the
  index inside it (RANGE_ERROR, as the specification requires for an index past the end);
* a status list is a snapshot: the result states its freshness window (validFrom/validUntil, its
  age, the ``ttl`` refresh hint) so a reader knows *as of when* "not revoked" holds; ``max_age``
  turns an old list into a failure.

The bitstring codec is here too (the issuer builds lists with it), because encoding and decoding
must agree bit for bit: index 0 is the most significant bit of the first byte, the bytes are GZIP
compressed and then multibase base64url encoded (``u`` prefix, no padding). GZIP output is made with
zlib at level 6 and mtime 0, which reproduces the specification's example byte for byte.

`fetch_status_list` is the one online helper, for the issuer service and the CLI: it takes the HTTP
client as a callable, so this package never imports an HTTP library and never fetches by itself.
Whoever fetches URLs a stranger chose should use `perseus.verifier.outbound.OutboundClient`: public
addresses only, no redirects, one deadline, capped URL count and size.
"""

from __future__ import annotations

import ipaddress
import json
import re
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, NamedTuple, Protocol
from urllib.parse import urlsplit

from .credential import issuer_id
from .dates import format_datetime, parse_datetime, utc_now
from .errors import MalformedValueError, PerseusError
from .loader import DocumentLoader
from .multibase import MultibaseError, decode_base64url, encode_base64url
from .result import CheckResult, ProblemDetail

__all__ = [
    "DEFAULT_MAX_LIST_BYTES",
    "DEFAULT_MAX_STATUS_LISTS",
    "MIN_LIST_ENTRIES",
    "STATUS_ENTRY_TYPE",
    "STATUS_LIST_CLOCK_SKEW",
    "STATUS_LIST_CREDENTIAL_TYPE",
    "STATUS_LIST_TYPE",
    "Bitstring",
    "HttpGet",
    "HttpResponse",
    "StatusEntry",
    "StatusRetrievalError",
    "StatusVerificationError",
    "fetch_status_list",
    "parse_status_entry",
    "status_check",
    "status_check_online",
    "status_entries",
    "urllib_client",
]

STATUS_ENTRY_TYPE: Final = "BitstringStatusListEntry"
STATUS_LIST_CREDENTIAL_TYPE: Final = "BitstringStatusListCredential"
STATUS_LIST_TYPE: Final = "BitstringStatusList"

# The specification's minimum list length (§3.2 step 2): 16 KB of single-bit entries.
MIN_LIST_ENTRIES: Final = 131_072

# An encodedList comes from whoever hands us the credential, and GZIP of zeros compresses ~1000:1, so
# decompression is capped: 16 MiB is 134 million one-bit entries, a thousand times the minimum.
DEFAULT_MAX_LIST_BYTES: Final = 16 * 1024 * 1024
# A signed status list credential is a few kilobytes; a megabyte leaves room for busy lists.
DEFAULT_MAX_FETCH_BYTES: Final = 4 * 1024 * 1024
# Distinct status lists one credential may make `status_check_online` fetch (see there).
DEFAULT_MAX_STATUS_LISTS: Final = 8

# Longer than any index into a list of DEFAULT_MAX_LIST_BYTES, short enough to refuse absurd input
# before turning it into a Python integer.
_MAX_INDEX_DIGITS: Final = 18
_GZIP_LEVEL: Final = 6  # zlib's default, as pako/jsonld tooling uses: reproduces the spec's example
_GZIP_WBITS: Final = 31  # 16 + 15: a GZIP (RFC 1952) wrapper, not raw zlib

# How far in the future a status list's validFrom may lie and the list still be used. The issuer
# stamps validFrom from its own clock when it signs the list; a verifier whose clock runs a little
# behind (NTP keeps servers within a second; virtual machines and laptops drift further) would
# otherwise refuse a list published a moment ago as "not yet valid" and report the credential's
# status as unknown. Five minutes is the tolerance Kerberos (RFC 4120 §1.6) uses for the same
# problem. Expiry (validUntil) gets no tolerance: an expired list is never used.
STATUS_LIST_CLOCK_SKEW: Final = timedelta(minutes=5)

# Purposes whose set bit makes a credential fail, with the code the result carries.
_FAILING_PURPOSES: Final = {"revocation": "CREDENTIAL_REVOKED", "suspension": "CREDENTIAL_SUSPENDED"}


class StatusRetrievalError(PerseusError):
    """A status list credential could not be obtained (not supplied, or fetching it failed)."""

    code = "STATUS_RETRIEVAL_ERROR"


class StatusVerificationError(PerseusError):
    """A status list credential was obtained but cannot be trusted or used."""

    code = "STATUS_VERIFICATION_ERROR"


# -- the bitstring -------------------------------------------------------------------------------------


class Bitstring:
    """A status bitstring: entry ``i`` is bit ``7 - i % 8`` of byte ``i // 8`` (most significant first).

    Mutable (the issuer flips bits); the length is a whole number of bytes, as GZIP carries bytes.
    """

    __slots__ = ("_data",)

    def __init__(self, data: bytes | bytearray) -> None:
        self._data = bytearray(data)

    @classmethod
    def zeros(cls, length: int) -> Bitstring:
        """A list of ``length`` entries, all 0 (``length`` a positive multiple of 8)."""
        if not isinstance(length, int) or isinstance(length, bool) or length <= 0 or length % 8:
            raise MalformedValueError(f"a bitstring length must be a positive multiple of 8, not {length!r}")
        return cls(bytes(length // 8))

    @classmethod
    def decode(cls, encoded: object, *, max_bytes: int = DEFAULT_MAX_LIST_BYTES) -> Bitstring:
        """Expand an ``encodedList`` (Bitstring Expansion Algorithm); refuses more than ``max_bytes``.

        Raises `MalformedValueError` for anything but exactly one well-formed GZIP member inside a
        canonical ``u`` multibase string.
        """
        if not isinstance(encoded, str):
            raise MalformedValueError(f"encodedList must be a string, not {type(encoded).__name__}")
        try:
            compressed = decode_base64url(encoded)
        except MultibaseError as exc:
            raise MalformedValueError(f"encodedList is not multibase base64url: {exc.message}") from None
        inflater = zlib.decompressobj(wbits=_GZIP_WBITS)
        try:
            data = inflater.decompress(compressed, max_bytes + 1)
        except zlib.error as exc:
            raise MalformedValueError(f"encodedList is not GZIP-compressed data ({exc})") from None
        if len(data) > max_bytes:
            raise MalformedValueError(
                f"encodedList expands to more than {max_bytes} bytes; refusing it (a decompression bomb?)"
            )
        if not inflater.eof:
            raise MalformedValueError("encodedList is truncated: the GZIP data ends early")
        if inflater.unused_data:
            raise MalformedValueError("encodedList has data after its GZIP member")
        if not data:
            raise MalformedValueError("encodedList holds an empty bitstring")
        return cls(data)

    def encode(self) -> str:
        """The ``encodedList`` value: multibase base64url of GZIP (Bitstring Generation Algorithm)."""
        compressor = zlib.compressobj(_GZIP_LEVEL, zlib.DEFLATED, _GZIP_WBITS)
        return encode_base64url(compressor.compress(bytes(self._data)) + compressor.flush())

    def __len__(self) -> int:
        return len(self._data) * 8

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Bitstring) and self._data == other._data

    def __repr__(self) -> str:
        return f"Bitstring(length={len(self)}, set={self.count()})"

    def to_bytes(self) -> bytes:
        return bytes(self._data)

    def get(self, index: int, size: int = 1) -> int:
        """The value of the ``size``-bit entry at ``index`` (bits ``index*size`` … read MSB first)."""
        start = index * size
        if index < 0 or size < 1 or start + size > len(self):
            raise IndexError(f"entry {index} (size {size}) is outside a bitstring of {len(self)} bits")
        value = 0
        for position in range(start, start + size):
            value = (value << 1) | ((self._data[position >> 3] >> (7 - (position & 7))) & 1)
        return value

    def set(self, index: int, value: bool) -> None:
        """Set (True) or clear (False) the single-bit entry at ``index``."""
        if index < 0 or index >= len(self):
            raise IndexError(f"entry {index} is outside a bitstring of {len(self)} bits")
        mask = 1 << (7 - (index & 7))
        if value:
            self._data[index >> 3] |= mask
        else:
            self._data[index >> 3] &= ~mask & 0xFF

    def count(self) -> int:
        """How many bits are set."""
        return sum(byte.bit_count() for byte in self._data)

    def set_indices(self) -> list[int]:
        """The indices of the set bits, ascending (for reports and tests; linear in the list)."""
        out: list[int] = []
        for byte_index, byte in enumerate(self._data):
            if byte:
                out.extend(byte_index * 8 + bit for bit in range(8) if byte & (0x80 >> bit))
        return out


# -- status entries --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusEntry:
    """One parsed ``BitstringStatusListEntry``."""

    purpose: str
    index: int
    list_url: str
    size: int = 1
    messages: tuple[tuple[str, str], ...] = ()  # (status "0x…", message) pairs
    id: str | None = None


_DIGITS = re.compile(r"[0-9]+")
_HEX_STATUS = re.compile(r"0x[0-9a-fA-F]+")


def _is_url(value: object) -> bool:
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        return False
    scheme = value.partition(":")[0]
    return bool(scheme) and scheme != value and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme) is not None


def status_entries(document: Mapping[str, Any]) -> list[Any]:
    """The credential's ``credentialStatus`` as a list (one object is a list of one; none is empty)."""
    status = document.get("credentialStatus")
    if status is None:
        return []
    return list(status) if isinstance(status, list) else [status]


def entry_types(entry: Mapping[str, Any]) -> list[str]:
    """An entry's ``type`` as a list: JSON-LD lets one type be written bare or as a one-item array."""
    kind = entry.get("type")
    if isinstance(kind, str):
        return [kind]
    return [k for k in kind if isinstance(k, str)] if isinstance(kind, list) else []


def parse_status_entry(entry: object, *, where: str = "credentialStatus") -> StatusEntry:
    """Check one ``BitstringStatusListEntry`` against §2.1 and parse it.

    Raises `MalformedValueError` (MALFORMED_VALUE_ERROR, as §3 requires) naming the field; the
    issuer service uses this to refuse a malformed entry in a credential it is asked to sign.
    """
    if not isinstance(entry, Mapping):
        raise MalformedValueError(f"{where} must be an object, not {type(entry).__name__}")
    if STATUS_ENTRY_TYPE not in entry_types(entry):
        raise MalformedValueError(f"{where}.type must be {STATUS_ENTRY_TYPE!r}, not {entry.get('type')!r}")
    purpose = entry.get("statusPurpose")
    if not isinstance(purpose, str) or not purpose:
        raise MalformedValueError(f"{where}.statusPurpose must be a non-empty string such as 'revocation'")
    index_text = entry.get("statusListIndex")
    if not isinstance(index_text, str) or not _DIGITS.fullmatch(index_text):
        raise MalformedValueError(
            f"{where}.statusListIndex must be a string of decimal digits such as \"94567\", not {index_text!r}"
        )
    if len(index_text) > _MAX_INDEX_DIGITS:
        raise MalformedValueError(f"{where}.statusListIndex {index_text[:24]!r}… is too large for any status list")
    list_url = entry.get("statusListCredential")
    if not isinstance(list_url, str) or not _is_url(list_url):
        raise MalformedValueError(f"{where}.statusListCredential must be the URL of a status list credential, not {list_url!r}")
    entry_id = entry.get("id")
    if entry_id is not None:
        if not _is_url(entry_id):
            raise MalformedValueError(f"{where}.id must be a URL, not {entry_id!r}")
        if entry_id == list_url:
            raise MalformedValueError(f"{where}.id must not be the URL of the status list itself ({list_url})")
    size = entry.get("statusSize", 1)
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise MalformedValueError(f"{where}.statusSize must be an integer greater than zero, not {size!r}")
    if size > 16:
        raise MalformedValueError(f"{where}.statusSize {size} is not supported (at most 16 bits per entry)")
    messages = _parse_messages(entry.get("statusMessage"), size, where)
    return StatusEntry(purpose=purpose, index=int(index_text), list_url=list_url, size=size, messages=messages, id=entry_id)


def _parse_messages(value: object, size: int, where: str) -> tuple[tuple[str, str], ...]:
    if value is None:
        if size > 1:
            raise MalformedValueError(f"{where}.statusMessage is required when statusSize is greater than 1")
        return ()
    if not isinstance(value, list) or len(value) != 2**size:
        raise MalformedValueError(
            f"{where}.statusMessage must be an array of {2**size} entries (one per value of a {size}-bit status)"
        )
    out = []
    for position, item in enumerate(value):
        if not isinstance(item, Mapping) or not isinstance(item.get("message"), str):
            raise MalformedValueError(f"{where}.statusMessage[{position}] must be an object with a string 'message'")
        status = item.get("status")
        if not isinstance(status, str) or not _HEX_STATUS.fullmatch(status):
            raise MalformedValueError(f"{where}.statusMessage[{position}].status must be a hexadecimal string such as '0x1'")
        out.append((status, item["message"]))
    return tuple(out)


# -- the check -------------------------------------------------------------------------------------------

ListLookup = Callable[[str], Any]


@dataclass
class _ListInfo:
    """A status list credential that passed every check of its own, decoded once per call."""

    url: str
    purposes: list[str]
    bits: Bitstring
    freshness: dict[str, Any]


@dataclass
class _Outcome:
    problems: list[ProblemDetail] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


def status_check(
    document: Any,
    status_lists: Mapping[str, Any] | Iterable[Any] = (),
    *,
    now: datetime | None = None,
    loader: DocumentLoader | None = None,
    max_age: timedelta | None = None,
    minimum_entries: int = MIN_LIST_ENTRIES,
) -> CheckResult:
    """Check every ``credentialStatus`` entry of ``document`` offline; a `CheckResult` named "status".

    ``status_lists`` are the status list credentials to check against: a mapping from the
    ``statusListCredential`` URL to the credential, or an iterable of credentials keyed by their
    ``id``. ``max_age`` fails a list whose ``validFrom`` is older than that. An entry this verifier
    cannot check (another status type such as ``StatusList2021Entry``, or a malformed entry) fails the
    check (STATUS_VERIFICATION_ERROR): an unchecked status must never read as "not revoked". Never
    raises for bad input.
    """
    by_url: dict[str, Any] = {}
    if isinstance(status_lists, Mapping):
        by_url.update(status_lists)
    else:
        for credential in status_lists:
            if isinstance(credential, Mapping) and isinstance(credential.get("id"), str):
                by_url.setdefault(credential["id"], credential)

    def lookup(url: str) -> Any:
        if url not in by_url:
            raise StatusRetrievalError(
                f"no status list credential {url} was supplied; obtain it (it is the entry's "
                "statusListCredential) and pass it in (perseus verify --status-list FILE)"
            )
        return by_url[url]

    return _status_check(document, lookup, now, loader, max_age, minimum_entries)


def status_check_online(
    document: Any,
    client: HttpGet,
    *,
    now: datetime | None = None,
    loader: DocumentLoader | None = None,
    max_age: timedelta | None = None,
    minimum_entries: int = MIN_LIST_ENTRIES,
    max_lists: int | None = None,
) -> CheckResult:
    """`status_check`, fetching each status list credential once with ``client`` (see `fetch_status_list`).

    A credential naming more than ``max_lists`` distinct status lists (default: the client's own
    ``max_urls`` if it declares one, as `OutboundClient` does, else `DEFAULT_MAX_STATUS_LISTS`) is
    refused before anything is fetched: one credential must not make a verifier send a crowd of
    requests. Use an `OutboundClient` for any URL a stranger can choose (see `perseus.verifier.outbound`).
    """
    limit = max_lists if max_lists is not None else getattr(client, "max_urls", DEFAULT_MAX_STATUS_LISTS)
    named = _named_list_urls(document)
    if isinstance(limit, int) and len(named) > limit:
        return CheckResult(
            "status",
            "failed",
            "status could not be established",
            [
                ProblemDetail(
                    "STATUS_RETRIEVAL_ERROR",
                    f"the credential names {len(named)} distinct status lists; at most {limit} are fetched for one "
                    "verification, so none was",
                    "status",
                )
            ],
        )
    fetched: dict[str, Any] = {}

    def lookup(url: str) -> Any:
        if url not in fetched:
            try:
                fetched[url] = fetch_status_list(url, client)
            except StatusRetrievalError as exc:
                fetched[url] = exc
        if isinstance(fetched[url], StatusRetrievalError):
            raise fetched[url]
        return fetched[url]

    return _status_check(document, lookup, now, loader, max_age, minimum_entries)


def _named_list_urls(document: Any) -> set[str]:
    """The distinct ``statusListCredential`` strings of a credential's status entries (before parsing them)."""
    if not isinstance(document, Mapping):
        return set()
    return {
        url
        for entry in status_entries(document)
        if isinstance(entry, Mapping) and isinstance(url := entry.get("statusListCredential"), str)
    }


def _status_check(
    document: Any,
    lookup: ListLookup,
    now: datetime | None,
    loader: DocumentLoader | None,
    max_age: timedelta | None,
    minimum_entries: int,
) -> CheckResult:
    now = now or utc_now()
    loader = loader or DocumentLoader()
    if not isinstance(document, Mapping):
        return CheckResult("status", "failed", "not a credential", [ProblemDetail("PARSING_ERROR", "a credential must be a JSON object", "status")])
    raw_entries = status_entries(document)
    if not raw_entries:
        return CheckResult("status", "skipped", "the credential has no credentialStatus")
    outcome = _Outcome()
    lists: dict[str, _ListInfo | ProblemDetail] = {}
    as_list = isinstance(document.get("credentialStatus"), list)
    for position, raw in enumerate(raw_entries):
        where = f"credentialStatus[{position}]" if as_list else "credentialStatus"
        if isinstance(raw, Mapping) and STATUS_ENTRY_TYPE not in entry_types(raw):
            kind = raw.get("type")
            outcome.unknown.append(str(kind))
            outcome.problems.append(
                ProblemDetail(
                    "STATUS_VERIFICATION_ERROR",
                    f"{where} is of type {kind!r}, which this verifier cannot check, so the credential may be revoked or "
                    "suspended without this verifier knowing; it is not accepted (use checks without status to ignore it)",
                    "status",
                )
            )
            continue
        try:
            entry = parse_status_entry(raw, where=where)
        except PerseusError as exc:
            outcome.problems.append(ProblemDetail(exc.code, exc.message, "status"))
            continue
        if entry.list_url not in lists:
            lists[entry.list_url] = _load_list(entry.list_url, document, lookup, now, loader, max_age)
        info = lists[entry.list_url]
        if isinstance(info, ProblemDetail):
            if info not in outcome.problems:
                outcome.problems.append(info)
            continue
        _check_entry(entry, where, info, minimum_entries, outcome)
    return _result(outcome)


def _load_list(
    url: str, document: Mapping[str, Any], lookup: ListLookup, now: datetime, loader: DocumentLoader, max_age: timedelta | None
) -> _ListInfo | ProblemDetail:
    from .verify import verify_credential  # verify.py may one day run this check itself

    def fail(detail: str, code: str = "STATUS_VERIFICATION_ERROR") -> ProblemDetail:
        return ProblemDetail(code, f"status list {url}: {detail}", "status")

    try:
        credential = lookup(url)
    except PerseusError as exc:
        return ProblemDetail(exc.code, exc.message, "status")
    if not isinstance(credential, Mapping):
        return fail("is not a JSON object")
    types = credential.get("type")
    if STATUS_LIST_CREDENTIAL_TYPE not in (types if isinstance(types, list) else [types]):
        return fail(f"its type does not include {STATUS_LIST_CREDENTIAL_TYPE}")
    if "id" in credential and credential["id"] != url:
        return fail(f"it is the status list credential {credential['id']!r}, not the one the entry names")
    result = verify_credential(dict(credential), loader=loader, checks={"proof", "issuer"}, now=now)
    if not result.verified:
        reasons = "; ".join(f"{p.code}: {p.detail}" for p in result.errors) or "it did not verify"
        return fail(f"does not verify ({reasons})")
    list_issuer, credential_issuer = issuer_id(dict(credential)), issuer_id(dict(document))
    if list_issuer != credential_issuer:
        return fail(
            f"it was issued by {list_issuer}, but the credential by {credential_issuer}; "
            "only the credential's issuer can vouch for its status"
        )
    subject = credential.get("credentialSubject")
    if not isinstance(subject, Mapping) or subject.get("type") != STATUS_LIST_TYPE:
        return fail(f"its credentialSubject must be one object of type {STATUS_LIST_TYPE}")
    purposes = subject.get("statusPurpose")
    purposes = purposes if isinstance(purposes, list) else [purposes]
    if not purposes or not all(isinstance(p, str) and p for p in purposes):
        return fail("credentialSubject.statusPurpose must be a string or a list of strings", "MALFORMED_VALUE_ERROR")
    try:
        bits = Bitstring.decode(subject.get("encodedList"))
    except MalformedValueError as exc:
        return fail(f"credentialSubject.{exc.message}", "MALFORMED_VALUE_ERROR")
    freshness, problem = _freshness(credential, subject, now, max_age)
    if problem:
        return fail(problem)
    return _ListInfo(url=url, purposes=purposes, bits=bits, freshness=freshness)


def _freshness(credential: Mapping[str, Any], subject: Mapping[str, Any], now: datetime, max_age: timedelta | None) -> tuple[dict[str, Any], str | None]:
    """The list's freshness window, and why it is unusable now (if it is)."""
    out: dict[str, Any] = {"checkedAt": format_datetime(now)}
    try:
        start = parse_datetime(credential["validFrom"], field="validFrom") if "validFrom" in credential else None
        end = parse_datetime(credential["validUntil"], field="validUntil") if "validUntil" in credential else None
    except PerseusError as exc:
        return out, exc.message
    ttl = subject.get("ttl")
    if ttl is not None and (not isinstance(ttl, int) or isinstance(ttl, bool) or ttl < 0):
        return out, f"credentialSubject.ttl must be a number of milliseconds, not {ttl!r}"
    if start is not None:
        out["validFrom"] = credential["validFrom"]
        out["ageSeconds"] = int((now - start).total_seconds())
    if end is not None:
        out["validUntil"] = credential["validUntil"]
    if ttl is not None:
        out["ttlMilliseconds"] = ttl
        if start is not None:
            out["refreshDue"] = now > start + timedelta(milliseconds=ttl)
    if max_age is not None:
        out["maxAgeSeconds"] = int(max_age.total_seconds())
    if start is not None and now + STATUS_LIST_CLOCK_SKEW < start:
        return out, (
            f"it is valid only from {credential['validFrom']}; it is now {format_datetime(now)}, "
            f"more than the {_human(STATUS_LIST_CLOCK_SKEW)} of clock difference tolerated"
        )
    if end is not None and now > end:
        return out, f"it expired at {credential['validUntil']} (it is now {format_datetime(now)}); fetch a fresh status list"
    if max_age is not None:
        if start is None:
            return out, "it has no validFrom, so its age cannot be checked against the maximum age"
        if now - start > max_age:
            return out, f"it dates from {credential['validFrom']}, older than the maximum age of {_human(max_age)}; fetch a fresh one"
    return out, None


def _check_entry(entry: StatusEntry, where: str, info: _ListInfo, minimum_entries: int, outcome: _Outcome) -> None:
    def fail(code: str, detail: str) -> None:
        outcome.problems.append(ProblemDetail(code, detail, "status"))

    if entry.purpose not in info.purposes:
        fail(
            "STATUS_VERIFICATION_ERROR",
            f"{where} is for {entry.purpose!r} but status list {info.url} is for {', '.join(map(repr, info.purposes))}",
        )
        return
    entries_in_list = len(info.bits) // entry.size
    if entries_in_list < minimum_entries:
        fail(
            "STATUS_LIST_LENGTH_ERROR",
            f"status list {info.url} has {entries_in_list} entries; at least {minimum_entries} are required so "
            "that a list does not single out the credentials in it",
        )
        return
    if entry.index >= entries_in_list:
        fail("RANGE_ERROR", f"{where}.statusListIndex {entry.index} is past the end of status list {info.url} ({entries_in_list} entries)")
        return
    value = info.bits.get(entry.index, entry.size)
    report: dict[str, Any] = {
        "statusPurpose": entry.purpose,
        "statusListIndex": str(entry.index),
        "statusListCredential": info.url,
        "status": value,
        "valid": value == 0,
        **info.freshness,
    }
    if entry.messages:
        report["message"] = next((m for status, m in entry.messages if int(status, 16) == value), "undefined")
    outcome.entries.append(report)
    if value and entry.purpose in _FAILING_PURPOSES:
        as_of = f" (status list {info.freshness['validFrom']})" if "validFrom" in info.freshness else ""
        verb = "revoked" if entry.purpose == "revocation" else "suspended"
        fail(_FAILING_PURPOSES[entry.purpose], f"the credential is {verb}: bit {entry.index} of {info.url} is set{as_of}")


def _result(outcome: _Outcome) -> CheckResult:
    details: dict[str, Any] = {"entries": outcome.entries}
    if outcome.unknown:
        details["uncheckedTypes"] = outcome.unknown
    if outcome.problems:
        codes = {p.code for p in outcome.problems}
        if codes <= set(_FAILING_PURPOSES.values()):
            said = [word for code, word in (("CREDENTIAL_REVOKED", "revoked"), ("CREDENTIAL_SUSPENDED", "suspended")) if code in codes]
            summary = " and ".join(said) + _window(outcome.entries)
        else:
            summary = "status could not be established"
        return CheckResult("status", "failed", summary, outcome.problems, details)
    said = [_negation(e["statusPurpose"], e["status"]) for e in outcome.entries]
    return CheckResult("status", "passed", ", ".join(dict.fromkeys(said)) + _window(outcome.entries), [], details)


def _negation(purpose: str, value: int) -> str:
    if purpose == "revocation":
        return "not revoked"
    if purpose == "suspension":
        return "not suspended"
    return f"{purpose} status {value}"


def _window(entries: list[dict[str, Any]]) -> str:
    """" as of …": the oldest list's date and the earliest expiry, the window in which the answer holds."""
    starts = [e["validFrom"] for e in entries if "validFrom" in e]
    ends = [e["validUntil"] for e in entries if "validUntil" in e]
    if not starts and not ends:
        return " (status lists carry no validity period)"
    parts = []
    if starts:
        oldest = max(entries, key=lambda e: e.get("ageSeconds", -1))
        parts.append(f"as of {min(starts)}, {_human(timedelta(seconds=max(0, oldest.get('ageSeconds', 0))))} old")
    if ends:
        parts.append(f"valid until {min(ends)}")
    return " (" + ", ".join(parts) + ")"


def _human(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            amount = seconds // size
            return f"{amount} {unit}{'s' if amount != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


# -- fetching (online, with an injected client) -----------------------------------------------------------


class HttpResponse(NamedTuple):
    """What an `HttpGet` returns: the status code, the body, and the response headers (lower-case names)."""

    status: int
    body: bytes
    headers: Mapping[str, str] = {}


class HttpGet(Protocol):
    """``client(url, headers) -> HttpResponse``; raise OSError on failure (its text is never shown).

    `perseus.verifier.outbound.OutboundClient` is the one to use for URLs a stranger chose. A client
    may declare ``max_urls``: `status_check_online` then refuses a credential naming more lists.
    """

    def __call__(self, url: str, headers: Mapping[str, str]) -> HttpResponse: ...


_ACCEPT = "application/vc, application/vc+ld+json;q=0.9, application/ld+json;q=0.8, application/json;q=0.7"


def fetch_status_list(url: str, client: HttpGet, *, max_bytes: int = DEFAULT_MAX_FETCH_BYTES) -> dict[str, Any]:
    """Dereference a ``statusListCredential`` URL with ``client``; the parsed (unverified) credential.

    Every failure is a `StatusRetrievalError` (STATUS_RETRIEVAL_ERROR) that names the URL. Only
    http(s) URLs are fetched, and plain http only to a loopback address (a test or sidecar service):
    a status list fetched in the clear can be swapped for an older, still validly signed one.

    The message never carries the client's exception text: "connection refused", "timed out" or an
    address would tell whoever chose the URL what listens where (a port scan through the verifier).
    A limit of the client's policy (`OutboundLimitError`: deadline, URL count) is named, as it says
    nothing about the network. A redirect is reported, never followed.
    """
    from .outbound import OutboundLimitError

    declared = getattr(client, "max_bytes", None)  # a client that caps its reads says so: report it as a size
    if isinstance(declared, int) and not isinstance(declared, bool):
        max_bytes = min(max_bytes, declared)
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("https", "http") or not parts.hostname:
        raise StatusRetrievalError(f"cannot fetch status list {url!r}: only https URLs are fetched")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise StatusRetrievalError(f"cannot fetch status list {url}: plain http is allowed only to this machine; use https")
    try:
        response = client(url, {"Accept": _ACCEPT})
    except OutboundLimitError as exc:
        raise StatusRetrievalError(f"status list {url}: {exc}") from None
    except (OSError, ValueError):
        raise StatusRetrievalError(f"status list {url} could not be retrieved") from None
    if 300 <= response.status < 400:
        raise StatusRetrievalError(
            f"cannot fetch status list {url}: the server answered HTTP {response.status} (a redirect); "
            "redirects are not followed, so the entry must name the list's own URL"
        )
    if response.status != 200:
        raise StatusRetrievalError(f"cannot fetch status list {url}: the server answered HTTP {response.status}")
    if len(response.body) > max_bytes:
        raise StatusRetrievalError(f"status list {url} is larger than {max_bytes} bytes; refusing it")
    try:
        parsed = json.loads(response.body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        kind = {k.lower(): v for k, v in response.headers.items()}.get("content-type", "unknown type")
        raise StatusRetrievalError(
            f"status list {url} is not a JSON credential (content type {kind!r}); only Data Integrity secured JSON is supported"
        ) from None
    if not isinstance(parsed, dict):
        raise StatusRetrievalError(f"status list {url} is JSON but not a credential object")
    return parsed


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def urllib_client(
    *, timeout: float = 10.0, max_bytes: int = DEFAULT_MAX_FETCH_BYTES, allowed_hosts: Iterable[str] = ()
) -> HttpGet:
    """An `HttpGet` for the CLI: an `OutboundClient` (standard library only) with ``timeout`` as its deadline.

    Kept under its old name; it follows no redirects and fetches only from public addresses unless a
    host is in ``allowed_hosts`` (see `perseus.verifier.outbound`).
    """
    from .outbound import OutboundClient, OutboundPolicy

    return OutboundClient(OutboundPolicy(allowed_hosts=frozenset(allowed_hosts), deadline=timeout, max_bytes=max_bytes))
