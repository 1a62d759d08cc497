"""IB1 provenance records (Provenance Records 1.0), verified exactly as IB1's `ib1-provenance` 0.5.x signs them.

A record is ``{"ib1:provenance": TF, "origins": [ids], "steps": SSL, "certificates": {serial: [PEM, issuer
serial, ...]}}`` where a signed step list (SSL) is ``[element, ..., [0, serial, timestamp, signature]]`` and each
element is a step (base64url of its JSON, padded) or a nested SSL that an earlier party signed. The signed
string is not in IB1's spec text; it is what ``ib1.provenance.record.Record._data_for_signing`` builds::

    TF . e1 . e2 . % . <nested SSL, its signature block included, joined the same way, no TF> . & . 0 . serial . timestamp

signed with ECDSA P-256 / SHA-256, the signature DER-encoded then base64url *with* padding (not JOSE r||s).
Each signer's certificate chain (leaf -> Issuer -> the environment's pinned Signing CA root) is validated at
the signature's timestamp — the time the signer says it signed, which is what the reference library does, and
the only time a step can be judged by: a step's own ``timestamp`` is when its event happened (a permission
granted last year may predate the current certificate). The roles come from extension 1.3.6.1.4.1.62329.1.1,
the member from 1.3.6.1.4.1.62329.1.3, the application from the subject alternative name URI; then the
``origins`` list must be the origin steps' ids in record order.

Why our own verifier rather than the reference library at run time: the library raises bare exceptions at the
first problem (no reason a person can act on), pins cryptography below 44, skips the role check and
accepts non-canonical base64. Differential tests (tests/provenance/) hold the two to the same verdicts.

`verify_ib1_record` never raises for bad input: it returns an `Ib1RecordResult` with each signature block
(its signer's certificate identity, time, problems) and each step (decoded, with the block that signed it and
the blocks that included it), so a chain checker can judge every step on its own.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import warnings
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtensionOID, NameOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from .ib1_environments import Ib1Environment
from .result import ProblemDetail

__all__ = [
    "CONTAINER_FORMAT_VERSION",
    "OID_IB1_MEMBER",
    "OID_IB1_ROLES",
    "Ib1Problem",
    "Ib1RecordResult",
    "Ib1Signature",
    "Ib1Signer",
    "Ib1Step",
    "decode_utf8_sequence",
    "signed_string",
    "verify_ib1_record",
]

CONTAINER_FORMAT_VERSION = 0
OID_IB1_ROLES = x509.ObjectIdentifier("1.3.6.1.4.1.62329.1.1")
OID_IB1_MEMBER = x509.ObjectIdentifier("1.3.6.1.4.1.62329.1.3")
STEP_TYPES = ("permission", "origin", "transfer", "receipt", "process")

#: Bounds on hostile input: nesting depth of signed step lists and the number of steps in one record.
MAX_DEPTH = 32
MAX_STEPS = 10_000

_B64URL = re.compile(r"^[A-Za-z0-9_-]*={0,2}$")
_SERIAL = re.compile(r"^(0|[1-9][0-9]*)$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$")


@dataclass(frozen=True)
class Ib1Problem:
    """One reason a record, signature block or step is refused: a code, a sentence and where (a JSON path)."""

    code: str
    detail: str
    where: str = ""

    def problem_detail(self, check: str = "provenance") -> ProblemDetail:
        text = f"{self.where}: {self.detail}" if self.where else self.detail
        return ProblemDetail(self.code, text, check)

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "detail": self.detail, "where": self.where}


@dataclass(frozen=True)
class Ib1Signer:
    """Who signed, as its leaf certificate says (member URL, roles, application URL, serial)."""

    serial: str
    member: str | None
    roles: tuple[str, ...]
    application: str | None
    organisation: str | None
    subject: str
    not_before: datetime
    not_after: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "serial": self.serial,
            "member": self.member,
            "roles": list(self.roles),
            "application": self.application,
            "organisation": self.organisation,
            "subject": self.subject,
            "notBefore": _utc(self.not_before),
            "notAfter": _utc(self.not_after),
        }


@dataclass
class Ib1Signature:
    """One signature block: where it is (``$.steps[0]...``), its signer, its time and what is wrong with it."""

    where: str
    serial: str
    timestamp: str
    signed_at: datetime | None
    signer: Ib1Signer | None = None
    problems: list[Ib1Problem] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return not self.problems and self.signer is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "where": self.where,
            "serial": self.serial,
            "timestamp": self.timestamp,
            "verified": self.verified,
            "signer": self.signer.to_json() if self.signer else None,
            "problems": [p.to_json() for p in self.problems],
        }


@dataclass
class Ib1Step:
    """A decoded step with the block that signed it and the blocks (outermost first) that included it."""

    where: str
    encoded: str
    fields: dict[str, Any]
    signature: Ib1Signature
    included_by: tuple[Ib1Signature, ...]
    problems: list[Ib1Problem] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.fields.get("id", ""))

    @property
    def type(self) -> str:
        return str(self.fields.get("type", ""))

    @property
    def timestamp(self) -> datetime | None:
        return _parse_time(self.fields.get("timestamp"))

    @property
    def verified(self) -> bool:
        return not self.problems and self.signature.verified and all(s.verified for s in self.included_by)

    @property
    def all_problems(self) -> list[Ib1Problem]:
        """Why this step cannot be trusted: its own problems, its signature block's, then each including block's."""
        out = list(self.problems) + list(self.signature.problems)
        for outer in self.included_by:
            out.extend(outer.problems)
        return out

    def get(self, name: str) -> Any:
        """A field read under either spelling real records use: ``license``/``licence`` (and the plurals)."""
        if name in self.fields:
            return self.fields[name]
        alternative = name.replace("icense", "icence") if "icense" in name else name.replace("icence", "icense")
        return self.fields.get(alternative)

    def to_json(self) -> dict[str, Any]:
        return {
            "where": self.where,
            "id": self.id,
            "type": self.type,
            "timestamp": self.fields.get("timestamp"),
            "verified": self.verified,
            "signedBy": self.signature.signer.to_json() if self.signature.signer else None,
            "signedAt": self.signature.timestamp,
            "signature": self.signature.where,
            "includedBy": [s.where for s in self.included_by],
            "fields": self.fields,
            "problems": [p.to_json() for p in self.all_problems],
        }


@dataclass
class Ib1RecordResult:
    """The verdict on one record: every problem, every signature block and every step."""

    trust_framework: str | None
    environment: str | None
    origins: list[Any] = field(default_factory=list)
    signatures: list[Ib1Signature] = field(default_factory=list)
    steps: list[Ib1Step] = field(default_factory=list)
    record_problems: list[Ib1Problem] = field(default_factory=list)

    @property
    def problems(self) -> list[Ib1Problem]:
        """Every problem: the record's, then each signature block's, then each step's."""
        out = list(self.record_problems)
        for s in self.signatures:
            out.extend(s.problems)
        for st in self.steps:
            out.extend(st.problems)
        return out

    @property
    def verified(self) -> bool:
        return not self.problems and bool(self.signatures)

    def step(self, step_id: str) -> Ib1Step | None:
        """The step with this id (the first, if a broken record repeats one)."""
        return next((s for s in self.steps if s.id == step_id), None)

    def summary(self) -> str:
        if self.verified:
            signers = sorted({s.signer.member or s.signer.subject for s in self.signatures if s.signer})
            return (
                f"IB1 provenance record verified: {len(self.steps)} step{'s' if len(self.steps) != 1 else ''} in "
                f"{len(self.signatures)} signed list{'s' if len(self.signatures) != 1 else ''}, signed by {', '.join(signers)}"
            )
        problems = self.problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return f"IB1 provenance record not verified: {problems[0].code}{more}" if problems else "IB1 provenance record not verified"

    def to_json(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "trustFramework": self.trust_framework,
            "environment": self.environment,
            "origins": self.origins,
            "signatures": [s.to_json() for s in self.signatures],
            "steps": [s.to_json() for s in self.steps],
            "problems": [p.to_json() for p in self.problems],
        }


# -- the signed string ------------------------------------------------------------------------------------------


def signed_string(trust_framework: str, elements: list[Any], version: int, serial: str, timestamp: str) -> str:
    """The text a signature block signs, exactly as ib1-provenance 0.5.x ``Record._data_for_signing`` builds it."""
    return ".".join([trust_framework, *_gather(elements), str(version), serial, timestamp])


def _gather(elements: list[Any]) -> list[str]:
    out: list[str] = []
    for e in elements:
        if isinstance(e, str):
            out.append(e)
        elif isinstance(e, int) and not isinstance(e, bool):
            out.append(str(e))
        else:
            out.extend(("%", ".".join(_gather(e)), "&"))
    return out


# -- DER of the IB1 extensions ----------------------------------------------------------------------------------


def _der_item(data: bytes, pos: int) -> tuple[int, bytes, int]:
    """(tag, content, next position) of the DER item at `pos`; definite, minimal lengths only."""
    if pos + 2 > len(data):
        raise ValueError("truncated DER")
    tag, first = data[pos], data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise ValueError("unsupported DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        if length < 0x80 or data[pos] == 0:
            raise ValueError("non-minimal DER length")
        pos += count
    if pos + length > len(data):
        raise ValueError("truncated DER")
    return tag, data[pos : pos + length], pos + length


def decode_utf8_string(data: bytes) -> str:
    """A DER UTF8String (tag 12) and nothing after it."""
    tag, content, end = _der_item(data, 0)
    if tag != 0x0C or end != len(data):
        raise ValueError("not a DER UTF8String")
    return content.decode("utf-8")


def decode_utf8_sequence(data: bytes) -> tuple[str, ...]:
    """A DER SEQUENCE OF UTF8String (the IB1 roles extension) and nothing after it."""
    tag, content, end = _der_item(data, 0)
    if tag != 0x30 or end != len(data):
        raise ValueError("not a DER SEQUENCE")
    out: list[str] = []
    pos = 0
    while pos < len(content):
        tag, value, pos = _der_item(content, pos)
        if tag != 0x0C:
            raise ValueError("a role is not a UTF8String")
        out.append(value.decode("utf-8"))
    return tuple(out)


# -- helpers ----------------------------------------------------------------------------------------------------


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not _TIMESTAMP.match(value):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _b64url(text: Any) -> bytes | None:
    """The bytes of padded base64url text in its one canonical form (as urlsafe_b64encode writes), else None."""
    if not isinstance(text, str) or len(text) % 4 or not _B64URL.match(text):
        return None
    try:
        raw = base64.urlsafe_b64decode(text)
    except (binascii.Error, ValueError):
        return None
    return raw if base64.urlsafe_b64encode(raw).decode("ascii") == text else None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise ValueError(f"the key {dup!r} appears twice")
    return dict(pairs)


def _load_json(text: str | bytes) -> Any:
    return json.loads(text, object_pairs_hook=_no_duplicates)


class _Certificates:
    """The record's ``certificates`` map, parsed once per serial."""

    def __init__(self, table: Any) -> None:
        self.table = table if isinstance(table, dict) else {}
        self._parsed: dict[str, x509.Certificate] = {}

    def one(self, serial: str, where: str) -> x509.Certificate:
        if serial in self._parsed:
            return self._parsed[serial]
        entry = self.table.get(serial)
        if not isinstance(entry, list) or not entry or not isinstance(entry[0], str):
            raise _Refused("IB1_CERTIFICATE_NOT_FOUND", f"the record has no certificate with serial {serial}", where)
        try:
            with warnings.catch_warnings():  # a damaged name attribute is refused below or by the chain, not printed
                warnings.simplefilter("ignore")
                cert = x509.load_pem_x509_certificate(entry[0].encode("utf-8"))
                # cryptography parses fields lazily: read each one now, so a damaged field is refused here, by name.
                _ = (cert.subject, cert.issuer, cert.public_key(), cert.extensions, cert.not_valid_after_utc)
        except Exception as exc:  # noqa: BLE001 - cryptography raises several types (ValueError, InvalidVersion, UnsupportedAlgorithm) for damaged certificates
            raise _Refused("IB1_CERTIFICATE_MALFORMED", f"the certificate with serial {serial} is not a PEM X.509 certificate ({exc})", f"$.certificates.{serial}[0]") from None
        if str(cert.serial_number) != serial:
            raise _Refused(
                "IB1_CERTIFICATE_MALFORMED",
                f"the certificate filed under serial {serial} has serial {cert.serial_number}",
                f"$.certificates.{serial}[0]",
            )
        self._parsed[serial] = cert
        return cert

    def path(self, serial: str, where: str) -> tuple[x509.Certificate, list[x509.Certificate]]:
        leaf = self.one(serial, where)
        entry = self.table[serial]
        issuers = []
        for i, issuer_serial in enumerate(entry[1:], start=1):
            if not isinstance(issuer_serial, str):
                raise _Refused("IB1_CERTIFICATE_MALFORMED", "an issuer in a certificate path must be given by its serial (a string)", f"$.certificates.{serial}[{i}]")
            issuers.append(self.one(issuer_serial, f"$.certificates.{serial}[{i}]"))
        return leaf, issuers


class _Refused(Exception):
    def __init__(self, code: str, detail: str, where: str = "") -> None:
        super().__init__(detail)
        self.problem = Ib1Problem(code, detail, where)


# -- verification -----------------------------------------------------------------------------------------------


def verify_ib1_record(
    record: Any,
    environment: Ib1Environment,
    *,
    required_roles: Collection[str] = (),
) -> Ib1RecordResult:
    """Verify an encoded IB1 provenance record against `environment`'s trust framework and pinned roots.

    `record` is the JSON object (or its text). `required_roles`: when given, every signer's certificate must
    hold at least one of these role URLs (the reference library leaves this check to its caller). Never raises
    for bad input: the result names each problem with a code, a sentence and a JSON path.
    """
    result = Ib1RecordResult(trust_framework=None, environment=environment.name)
    if isinstance(record, (str, bytes)):
        try:
            record = _load_json(record)
        except (ValueError, UnicodeDecodeError) as exc:
            result.record_problems.append(Ib1Problem("IB1_RECORD_MALFORMED", f"the record is not JSON ({exc})", "$"))
            return result
    if not isinstance(record, dict):
        result.record_problems.append(Ib1Problem("IB1_RECORD_MALFORMED", "an IB1 provenance record is a JSON object", "$"))
        return result
    framework = record.get("ib1:provenance")
    result.trust_framework = framework if isinstance(framework, str) else None
    if not isinstance(record.get("steps"), list):
        result.record_problems.append(Ib1Problem("IB1_RECORD_MALFORMED", "the record has no 'steps' list: it is not an encoded IB1 provenance record", "$.steps"))
        return result
    if framework != environment.trust_framework:
        result.record_problems.append(
            Ib1Problem(
                "IB1_TRUST_FRAMEWORK_MISMATCH",
                f"the record names the trust framework {framework!r}, but the {environment.name} environment is {environment.trust_framework}",
                "$['ib1:provenance']",
            )
        )
        return result
    origins = record.get("origins")
    if not isinstance(origins, list):
        result.record_problems.append(Ib1Problem("IB1_RECORD_MALFORMED", "the record has no 'origins' list", "$.origins"))
        return result
    result.origins = list(origins)
    if "certificates" in record and not isinstance(record["certificates"], dict):
        result.record_problems.append(Ib1Problem("IB1_RECORD_MALFORMED", "'certificates' must map serial numbers to certificate paths", "$.certificates"))
        return result
    if not environment.roots:
        result.record_problems.append(
            Ib1Problem(
                "IB1_NO_TRUST_ANCHORS",
                f"no IB1 Signing CA root is configured for the {environment.name} environment, so no signer can be trusted; "
                "give the roots (perseus verify --ib1-roots FILE)",
            )
        )
    context = _Context(environment, _Certificates(record.get("certificates")), frozenset(required_roles), result)
    found_origins: list[Any] = []
    try:
        _container(record["steps"], "$.steps", context, (), found_origins, depth=0)
    except _Refused as exc:
        result.record_problems.append(exc.problem)
        return result
    if found_origins != origins:
        result.record_problems.append(
            Ib1Problem(
                "IB1_ORIGINS_MISMATCH",
                f"'origins' lists {origins}, but the record's origin steps, in order, are {found_origins}",
                "$.origins",
            )
        )
    seen: dict[str, str] = {}
    for step in result.steps:
        if step.id in seen:
            step.problems.append(Ib1Problem("IB1_STEP_MALFORMED", f"step id {step.id!r} is also used at {seen[step.id]}", step.where))
        seen.setdefault(step.id, step.where)
    return result


@dataclass
class _Context:
    environment: Ib1Environment
    certificates: _Certificates
    required_roles: frozenset[str]
    result: Ib1RecordResult
    store: Store | None = None
    chains: dict[tuple[str, datetime], tuple[Ib1Signer | None, list[Ib1Problem]]] = field(default_factory=dict)


def _container(container: Any, where: str, ctx: _Context, included_by: tuple[Ib1Signature, ...], origins: list[Any], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise _Refused("IB1_RECORD_MALFORMED", f"signed step lists are nested more than {MAX_DEPTH} deep", where)
    if not isinstance(container, list) or not container:
        raise _Refused("IB1_CONTAINER_MALFORMED", "a signed step list must be a non-empty list ending in its signature block", where)
    *data, block = container
    block_where = f"{where}[{len(container) - 1}]"
    if not (isinstance(block, list) and len(block) == 4):
        raise _Refused("IB1_CONTAINER_MALFORMED", "the last element of a signed step list must be [version, serial, timestamp, signature]", block_where)
    version, serial, timestamp, signature = block
    if type(version) is not int or version != CONTAINER_FORMAT_VERSION:
        raise _Refused("IB1_CONTAINER_VERSION", f"container format version {version!r} is not understood (only {CONTAINER_FORMAT_VERSION})", f"{block_where}[0]")
    if not isinstance(serial, str) or not _SERIAL.match(serial):
        raise _Refused("IB1_SERIAL_MALFORMED", f"the certificate serial {serial!r} must be a decimal number written as a string", f"{block_where}[1]")
    if not isinstance(timestamp, str):
        raise _Refused("IB1_TIMESTAMP_MALFORMED", "the signature timestamp must be a string", f"{block_where}[2]")
    for i, element in enumerate(data):
        if not isinstance(element, (str, list)):
            raise _Refused("IB1_CONTAINER_MALFORMED", "an element of a signed step list is an encoded step (a string) or a signed step list", f"{where}[{i}]")
    sig = Ib1Signature(where=block_where, serial=serial, timestamp=timestamp, signed_at=_parse_time(timestamp))
    ctx.result.signatures.append(sig)
    _check_signature(sig, data, version, signature, ctx)
    for i, element in enumerate(data):
        here = f"{where}[{i}]"
        if isinstance(element, list):
            _container(element, here, ctx, (*included_by, sig), origins, depth + 1)
            continue
        if len(ctx.result.steps) >= MAX_STEPS:
            raise _Refused("IB1_RECORD_MALFORMED", f"the record has more than {MAX_STEPS} steps", here)
        step = _decode_step(element, here, sig, included_by)
        ctx.result.steps.append(step)
        if step.type == "origin":
            origins.append(step.fields.get("id"))


def _decode_step(element: str, where: str, sig: Ib1Signature, included_by: tuple[Ib1Signature, ...]) -> Ib1Step:
    step = Ib1Step(where=where, encoded=element, fields={}, signature=sig, included_by=(*included_by,))
    raw = _b64url(element)
    if raw is None:
        step.problems.append(Ib1Problem("IB1_STEP_MALFORMED", "a step must be base64url text with padding, as ib1-provenance writes it", where))
        return step
    try:
        decoded = _load_json(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        step.problems.append(Ib1Problem("IB1_STEP_MALFORMED", f"a step must be a JSON object in UTF-8 ({exc})", where))
        return step
    if not isinstance(decoded, dict):
        step.problems.append(Ib1Problem("IB1_STEP_MALFORMED", "a step must be a JSON object", where))
        return step
    step.fields = decoded
    if not isinstance(decoded.get("id"), str) or not decoded["id"]:
        step.problems.append(Ib1Problem("IB1_STEP_MALFORMED", "a step must have an id (a string)", where))
    if decoded.get("type") not in STEP_TYPES:
        step.problems.append(Ib1Problem("IB1_STEP_MALFORMED", f"step type {decoded.get('type')!r} is not one of {', '.join(STEP_TYPES)}", where))
    if "timestamp" in decoded and _parse_time(decoded["timestamp"]) is None:
        step.problems.append(Ib1Problem("IB1_TIMESTAMP_MALFORMED", f"the step's timestamp {decoded['timestamp']!r} is not a date-time with a timezone", where))
    return step


def _check_signature(sig: Ib1Signature, data: list[Any], version: int, signature: Any, ctx: _Context) -> None:
    where = sig.where
    if sig.signed_at is None:
        sig.problems.append(Ib1Problem("IB1_TIMESTAMP_MALFORMED", f"the signature timestamp {sig.timestamp!r} is not a date-time with a timezone", f"{where}[2]"))
    der = _b64url(signature)
    if der is None:
        sig.problems.append(Ib1Problem("IB1_SIGNATURE_MALFORMED", "the signature must be DER in base64url with padding, in the one form urlsafe_b64encode writes", f"{where}[3]"))
    try:
        leaf, issuers = ctx.certificates.path(sig.serial, f"{where}[1]")
    except _Refused as exc:
        sig.problems.append(exc.problem)
        return
    if sig.signed_at is not None:
        signer, problems = _chain(leaf, issuers, sig.serial, sig.signed_at, ctx)
        sig.signer = signer
        sig.problems.extend(Ib1Problem(p.code, p.detail, p.where or f"{where}[1]") for p in problems)
    if der is None:
        return
    key = leaf.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        sig.problems.append(Ib1Problem("IB1_UNSUPPORTED_KEY", f"certificate {sig.serial} does not hold a P-256 key; IB1 records are signed with ECDSA P-256", f"{where}[1]"))
        return
    try:
        message = signed_string(ctx.environment.trust_framework, data, version, sig.serial, sig.timestamp).encode("utf-8")
    except UnicodeEncodeError:
        sig.problems.append(Ib1Problem("IB1_CONTAINER_MALFORMED", "the signed step list holds text that is not valid Unicode (a lone surrogate)", where))
        return
    try:
        key.verify(der, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        sig.problems.append(
            Ib1Problem("IB1_SIGNATURE_INVALID", f"the signature does not verify with certificate {sig.serial}: the signed steps, serial or timestamp were changed", f"{where}[3]")
        )


def _chain(leaf: x509.Certificate, issuers: list[x509.Certificate], serial: str, at: datetime, ctx: _Context) -> tuple[Ib1Signer | None, list[Ib1Problem]]:
    key = (serial, at)
    if key in ctx.chains:
        return ctx.chains[key]
    problems: list[Ib1Problem] = []
    signer: Ib1Signer | None = None
    try:
        signer = _signer(leaf, serial)
    except _Refused as exc:
        problems.append(exc.problem)
    if ctx.environment.roots:
        if ctx.store is None:
            ctx.store = Store(list(ctx.environment.roots))
        try:
            PolicyBuilder().store(ctx.store).time(at).build_client_verifier().verify(leaf, issuers)
        except (VerificationError, ValueError) as exc:
            problems.append(_chain_problem(leaf, issuers, serial, at, str(exc)))
    else:
        problems.append(Ib1Problem("IB1_NO_TRUST_ANCHORS", f"certificate {serial} cannot be checked: no IB1 Signing CA root is configured"))
    if signer is not None and ctx.required_roles and not (set(signer.roles) & ctx.required_roles):
        problems.append(
            Ib1Problem(
                "IB1_ROLE_MISSING",
                f"the signer {signer.member or signer.subject} holds the roles {list(signer.roles)}, none of which is required here "
                f"({', '.join(sorted(ctx.required_roles))})",
            )
        )
    ctx.chains[key] = (signer, problems)
    return signer, problems


def _chain_problem(leaf: x509.Certificate, issuers: list[x509.Certificate], serial: str, at: datetime, reason: str) -> Ib1Problem:
    for cert in (leaf, *issuers):
        if not (cert.not_valid_before_utc <= at <= cert.not_valid_after_utc):
            which = "the signing certificate" if cert is leaf else f"issuer certificate {cert.serial_number}"
            return Ib1Problem(
                "IB1_CERTIFICATE_EXPIRED",
                f"{which} (of signer {serial}) was not valid when the step list was signed ({_utc(at)}): it is valid from "
                f"{_utc(cert.not_valid_before_utc)} to {_utc(cert.not_valid_after_utc)}",
            )
    return Ib1Problem(
        "IB1_CERTIFICATE_UNTRUSTED",
        f"certificate {serial} does not chain to a pinned IB1 Signing CA root at {_utc(at)} ({reason})",
    )


def _signer(cert: x509.Certificate, serial: str) -> Ib1Signer:
    try:
        ext = cert.extensions
    except ValueError as exc:
        raise _Refused("IB1_CERTIFICATE_MALFORMED", f"certificate {serial} has malformed extensions ({exc})") from None
    try:
        roles_ext = ext.get_extension_for_oid(OID_IB1_ROLES).value
    except x509.ExtensionNotFound:
        raise _Refused("IB1_ROLE_MISSING", f"certificate {serial} has no IB1 roles extension ({OID_IB1_ROLES.dotted_string})") from None
    try:
        member_ext = ext.get_extension_for_oid(OID_IB1_MEMBER).value
    except x509.ExtensionNotFound:
        raise _Refused("IB1_CERTIFICATE_MALFORMED", f"certificate {serial} has no IB1 member extension ({OID_IB1_MEMBER.dotted_string})") from None
    try:
        roles = decode_utf8_sequence(roles_ext.value)  # type: ignore[attr-defined]
    except (ValueError, UnicodeDecodeError) as exc:
        raise _Refused("IB1_CERTIFICATE_MALFORMED", f"certificate {serial}'s roles extension is not a SEQUENCE of UTF8String ({exc})") from None
    try:
        member = decode_utf8_string(member_ext.value)  # type: ignore[attr-defined]
    except (ValueError, UnicodeDecodeError) as exc:
        raise _Refused("IB1_CERTIFICATE_MALFORMED", f"certificate {serial}'s member extension is not a UTF8String ({exc})") from None
    try:
        uris = ext.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value.get_values_for_type(x509.UniformResourceIdentifier)
    except x509.ExtensionNotFound:
        uris = []
    if len(uris) != 1:
        raise _Refused("IB1_CERTIFICATE_MALFORMED", f"certificate {serial} must name exactly one application URL (subject alternative name URI), it names {len(uris)}")
    organisations = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return Ib1Signer(
        serial=serial,
        member=member,
        roles=roles,
        application=uris[0],
        organisation=str(organisations[0].value) if organisations else None,
        subject=cert.subject.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )


def problems_as_details(problems: list[Ib1Problem], check: str = "provenance") -> list[ProblemDetail]:
    """The problems as RFC 9457 problem details for a verification result."""
    return [p.problem_detail(check) for p in problems]


def record_from_json(value: Any) -> Mapping[str, Any] | None:
    """`value` if it looks like an encoded IB1 record (an object with a ``steps`` list and ``ib1:provenance``)."""
    if isinstance(value, dict) and isinstance(value.get("steps"), list) and "ib1:provenance" in value:
        return value
    return None
