"""Permission credentials: build one from what the SME grants, and map it to and from IB1 permission records.

An IB1 permission record (ib1-technical-specifications, "permission records 1.0") is what a data provider's
authorization server keeps when an SME grants access: ``oauthIssuer, client, license, account, lastGranted,
expires, evidence, revoked, dataAvailableFrom, tokenIssuedAt, tokenExpires``. A `PermissionCredential` says
the same in a form anyone can verify offline, plus what a record leaves to the licence: which supply points
and measures, which data period and which processes. So that a record survives the round trip, those extras
travel in a record under ``perseus:``-prefixed members (the scheme-prefix convention IB1 uses for
``perseus:assurance``); the OAuth token times are the data provider's business and are not carried.

    credential = build_permission(holder_did, PermissionTerms(...))      # unsigned, no status yet
    record = to_ib1_record(signed_credential, withdrawn_at=None)
    terms = from_ib1_record(record)                                       # PermissionTerms again
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from perseus.verifier.credential import VC_V2_CONTEXT
from perseus.verifier.dates import format_datetime, parse_datetime
from perseus.verifier.errors import PerseusError
from perseus.verifier.meters import mpan_core_is_valid
from perseus.verifier.permission import PERMISSION_TYPE, read_permission

__all__ = [
    "PERSEUS_CONTEXT",
    "PermissionInputError",
    "PermissionTerms",
    "SupplyPointRef",
    "build_permission",
    "from_ib1_record",
    "terms_of",
    "to_ib1_record",
    "to_permission_step",
]

PERSEUS_CONTEXT: Final = "https://w3id.org/perseus/credentials/v1"
_PREFIX: Final = "perseus:"


class PermissionInputError(PerseusError):
    """What the SME asked to grant (or an IB1 record) cannot become a permission: the reason says which field."""

    code = "PERMISSION_INPUT_ERROR"


@dataclass(frozen=True)
class SupplyPointRef:
    """A meter the permission covers: an MPAN core (electricity) or an MPRN (gas), and its measure."""

    id: str
    measure: str = "import"

    def __post_init__(self) -> None:
        if self.measure not in ("import", "export"):
            raise PermissionInputError(f"measure {self.measure!r} must be import or export")
        if not self.id.isdigit():
            raise PermissionInputError(f"supply point {self.id!r} must be an MPAN core (13 digits) or an MPRN (6 to 10 digits)")
        if len(self.id) == 13:
            if not mpan_core_is_valid(self.id):
                raise PermissionInputError(f"MPAN {self.id} has a wrong check digit (a mistyped meter number names someone else's supply)")
        elif not 6 <= len(self.id) <= 10:
            raise PermissionInputError(f"supply point {self.id!r} must be an MPAN core (13 digits) or an MPRN (6 to 10 digits)")
        elif self.measure != "import":
            raise PermissionInputError(f"gas supply point {self.id} can only be an import meter")

    @property
    def is_gas(self) -> bool:
        return len(self.id) != 13

    def to_json(self) -> dict[str, str]:
        if self.is_gas:
            return {"type": "SupplyPoint", "mprn": self.id, "fuel": "gas", "measure": self.measure}
        return {"type": "SupplyPoint", "mpan": self.id, "fuel": "electricity", "measure": self.measure}


@dataclass(frozen=True)
class PermissionTerms:
    """What the SME grants: the fields of an IB1 permission record and what its licence leaves open."""

    recipient: str
    license: str
    account: str
    supply_points: tuple[SupplyPointRef, ...]
    processes: tuple[str, ...]
    data_available_from: datetime
    expires: datetime
    last_granted: datetime
    period_start: datetime | None = None
    period_end: datetime | None = None
    evidence: str | None = None
    oauth_issuer: str | None = None
    parent: str | None = None
    measures: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        for name in ("recipient", "license"):
            value = getattr(self, name)
            if not isinstance(value, str) or ":" not in value or any(c.isspace() for c in value):
                raise PermissionInputError(f"{name} must be an absolute IRI (a DID or URL), got {value!r}")
        if not self.account or not isinstance(self.account, str):
            raise PermissionInputError("account must be the SME's account reference at the data provider")
        if not self.supply_points:
            raise PermissionInputError("a permission must name at least one supply point (MPAN or MPRN)")
        if not self.processes:
            raise PermissionInputError("a permission must name at least one permitted process (an IB1 process IRI)")
        for moment in (self.data_available_from, self.expires, self.last_granted, self.period_start, self.period_end):
            if moment is not None and moment.tzinfo is None:
                raise PermissionInputError("every date of a permission needs a timezone")
        if self.expires <= self.last_granted:
            raise PermissionInputError("the permission would expire before it was granted")
        if self.period_start and self.period_end and self.period_end <= self.period_start:
            raise PermissionInputError("the data period ends at or before it starts")
        if not self.measures:
            object.__setattr__(self, "measures", tuple(sorted({p.measure for p in self.supply_points})))
        missing = {p.measure for p in self.supply_points} - set(self.measures)
        if missing or not set(self.measures) <= {"import", "export"}:
            raise PermissionInputError(f"measures {list(self.measures)} must be import/export and include every supply point's measure")


def build_permission(grantor: str, terms: PermissionTerms, *, credential_id: str | None = None) -> dict[str, Any]:
    """The unsigned `PermissionCredential` from ``grantor`` (the SME's DID, or the recipient granting onward).

    Its validity ends when the permission expires; the status entry is added by the holder's wallet.
    """
    subject: dict[str, Any] = {
        "type": "Permission",
        "recipient": terms.recipient,
        "license": terms.license,
        "account": terms.account,
        "supplyPoint": [p.to_json() for p in terms.supply_points],
        "permittedMeasure": list(terms.measures),
        "dataAvailableFrom": format_datetime(terms.data_available_from),
        "permittedProcess": list(terms.processes),
        "permissionExpires": format_datetime(terms.expires),
        "lastGranted": format_datetime(terms.last_granted),
    }
    if terms.period_start is not None:
        subject["periodStart"] = format_datetime(terms.period_start)
    if terms.period_end is not None:
        subject["periodEnd"] = format_datetime(terms.period_end)
    for key, value in (("permissionEvidence", terms.evidence), ("oauthIssuer", terms.oauth_issuer), ("parentPermission", terms.parent)):
        if value is not None:
            subject[key] = value
    return {
        "@context": [VC_V2_CONTEXT, PERSEUS_CONTEXT],
        "id": credential_id or f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", PERMISSION_TYPE],
        "issuer": grantor,
        "validFrom": format_datetime(terms.last_granted),
        "validUntil": format_datetime(terms.expires),
        "name": "Permission to receive energy data" + (" (granted onward)" if terms.parent else ""),
        "credentialSubject": subject,
    }


def terms_of(credential: Mapping[str, Any]) -> PermissionTerms:
    """The `PermissionTerms` a permission credential states (`PermissionInputError` if it is malformed)."""
    try:
        p = read_permission(credential)
    except PerseusError as exc:
        raise PermissionInputError(exc.message) from None
    return PermissionTerms(
        recipient=p.recipient,
        license=p.license,
        account=p.account,
        supply_points=tuple(SupplyPointRef(i, m) for i, m in p.supply_points),
        processes=p.processes,
        data_available_from=p.data_available_from,
        expires=p.expires,
        last_granted=p.last_granted,
        period_start=p.period_start,
        period_end=p.period_end,
        evidence=p.evidence,
        oauth_issuer=p.oauth_issuer,
        parent=p.parent,
        measures=tuple(sorted(p.measures)),
    )


def to_ib1_record(credential: Mapping[str, Any], *, withdrawn_at: datetime | None = None) -> dict[str, Any]:
    """The IB1 permission record a permission credential corresponds to (``revoked`` when withdrawn)."""
    t = terms_of(credential)
    record: dict[str, Any] = {
        "client": t.recipient,
        "license": t.license,
        "account": t.account,
        "lastGranted": format_datetime(t.last_granted),
        "expires": format_datetime(t.expires),
        "dataAvailableFrom": format_datetime(t.data_available_from),
    }
    if t.oauth_issuer is not None:
        record["oauthIssuer"] = t.oauth_issuer
    if t.evidence is not None:
        record["evidence"] = t.evidence
    if withdrawn_at is not None:
        record["revoked"] = format_datetime(withdrawn_at)
    record[_PREFIX + "permissionCredential"] = credential.get("id")
    record[_PREFIX + "supplyPoints"] = [{"id": p.id, "measure": p.measure} for p in t.supply_points]
    record[_PREFIX + "processes"] = list(t.processes)
    record[_PREFIX + "measures"] = list(t.measures)
    if t.period_start is not None:
        record[_PREFIX + "periodStart"] = format_datetime(t.period_start)
    if t.period_end is not None:
        record[_PREFIX + "periodEnd"] = format_datetime(t.period_end)
    if t.parent is not None:
        record[_PREFIX + "parentPermission"] = t.parent
    return record


def from_ib1_record(
    record: Mapping[str, Any],
    *,
    supply_points: Sequence[SupplyPointRef] | None = None,
    processes: Sequence[str] | None = None,
) -> PermissionTerms:
    """`PermissionTerms` from an IB1 permission record (both ``license`` and ``licence`` are accepted).

    A record from a data provider has no supply points or processes: give them (from the licence and the
    account's meters); a record made by `to_ib1_record` carries them. A revoked record is refused: a
    withdrawn permission must not become a new credential.
    """
    if not isinstance(record, Mapping):
        raise PermissionInputError("an IB1 permission record is a JSON object")
    if isinstance(record.get("permission"), Mapping):  # the permission endpoint's response wraps it
        record = record["permission"]
    if record.get("revoked") is not None:
        raise PermissionInputError(f"the permission record was revoked at {record['revoked']}; it cannot be granted again from the record")
    licence = record.get("license", record.get("licence"))

    def instant(name: str, *, required: bool = True) -> datetime | None:
        value = record.get(name)
        if value is None and not required:
            return None
        try:
            return parse_datetime(value, field=name)
        except PerseusError as exc:
            raise PermissionInputError(f"IB1 permission record: {exc.message}") from None

    points = supply_points
    if points is None:
        raw = record.get(_PREFIX + "supplyPoints")
        if not isinstance(raw, list):
            raise PermissionInputError("the IB1 record names no supply points: pass supply_points (the account's MPANs/MPRNs)")
        try:
            points = [SupplyPointRef(str(p["id"]), str(p.get("measure", "import"))) for p in raw]
        except (TypeError, KeyError):
            raise PermissionInputError("perseus:supplyPoints must be a list of {id, measure} objects") from None
    chosen = processes if processes is not None else record.get(_PREFIX + "processes")
    if not isinstance(chosen, (list, tuple)) or not all(isinstance(p, str) for p in chosen):
        raise PermissionInputError("the IB1 record names no processes: pass processes (IB1 process IRIs the licence permits)")
    measures = record.get(_PREFIX + "measures") or ()
    for name in ("client", "account"):
        if not isinstance(record.get(name), str):
            raise PermissionInputError(f"IB1 permission record: {name} is missing")
    if not isinstance(licence, str):
        raise PermissionInputError("IB1 permission record: license (or licence) is missing")
    return PermissionTerms(
        recipient=record["client"],
        license=licence,
        account=record["account"],
        supply_points=tuple(points),
        processes=tuple(chosen),
        data_available_from=instant("dataAvailableFrom"),  # type: ignore[arg-type]
        expires=instant("expires"),  # type: ignore[arg-type]
        last_granted=instant("lastGranted"),  # type: ignore[arg-type]
        period_start=instant(_PREFIX + "periodStart", required=False),
        period_end=instant(_PREFIX + "periodEnd", required=False),
        evidence=record.get("evidence"),
        oauth_issuer=record.get("oauthIssuer"),
        parent=record.get(_PREFIX + "parentPermission"),
        measures=tuple(measures),
    )


def to_permission_step(credential: Mapping[str, Any], *, step_id: str | None = None) -> dict[str, Any]:
    """The IB1 provenance record ``permission`` step for a permission credential (before signing the record).

    IB1 provenance 1.0: ``{id, type: "permission", timestamp, account, allows: {licenses, processes}, expires}``;
    the timestamp is when the permission was last granted. ``id`` defaults to the credential's id.
    """
    t = terms_of(credential)
    return {
        "id": step_id or str(credential.get("id")),
        "type": "permission",
        "timestamp": format_datetime(t.last_granted),
        "account": t.account,
        "allows": {"licenses": [t.license], "processes": list(t.processes)},
        "expires": format_datetime(t.expires),
    }
