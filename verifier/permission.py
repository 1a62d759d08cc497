"""Permission: data shared with a recipient must be covered by a permission the SME granted and has not withdrawn.

A `PermissionCredential` (contexts/perseus, shape ``permission.schema.json``) is the W3C-credential form of an
IB1 permission record: the SME (its issuer) lets a named recipient receive the data of an account's supply
points, for some measures and a data period, under a licence, for permitted processes, until an expiry. It
carries a ``BitstringStatusListEntry`` in the SME's own status list: setting the bit *withdraws* it. A
recipient that grants onward (a Carbon Accounting Provider passing a report to a bank under the SME's
licence) issues a permission naming its parent (``parentPermission``); withdrawing the parent withdraws every
permission below it, because the verifier walks up the chain and refuses any link that is withdrawn.

    result = permission_check(credentials, recipient="did:web:cap.example", status_lists=[sme_list])

`permission_check` looks at every *data* credential among ``credentials`` (energy consumption and emissions
reports) and passes only if each is covered by a verified permission among them. Every refusal is a
`ProblemDetail` with a ``PERMISSION_*`` code and a sentence. The check fails closed: a permission whose
status list was not supplied is not taken as "not withdrawn".

Why here, in the verifier: a bank's offline verifier must be able to refuse data the SME never allowed it to
have, or has taken back, with nothing but the presentation and the SME's status list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from .dates import parse_datetime, utc_now
from .errors import PerseusError
from .loader import DocumentLoader
from .result import CheckResult, ProblemDetail

__all__ = [
    "DATA_TYPES",
    "PERMISSION_TYPE",
    "Permission",
    "PermissionError_",
    "covering_problems",
    "permission_check",
    "read_permission",
]

PERMISSION_TYPE: Final = "PermissionCredential"
#: Credential types whose data needs a permission to be shared.
DATA_TYPES: Final = frozenset({"EnergyConsumptionCredential", "EmissionsReportCredential"})
_CHECK: Final = "permission"
_MAX_CHAIN: Final = 8  # onward permissions deeper than this are refused (and a cycle cannot loop)


class PermissionError_(PerseusError):  # noqa: N801 — the builtin PermissionError means something else
    """A permission credential is malformed (a field missing or of the wrong kind)."""

    code = "PERMISSION_MALFORMED"


@dataclass(frozen=True)
class Permission:
    """What a permission credential allows, read from its (plain, compacted) JSON."""

    id: str
    grantor: str
    recipient: str
    license: str
    account: str
    supply_points: tuple[tuple[str, str], ...]  # (MPAN core or MPRN, measure)
    measures: frozenset[str]
    data_available_from: datetime
    period_start: datetime | None
    period_end: datetime | None
    processes: tuple[str, ...]
    expires: datetime
    last_granted: datetime
    evidence: str | None = None
    oauth_issuer: str | None = None
    parent: str | None = None
    credential: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def describe(self) -> str:
        """One sentence a micro-business owner can read."""
        points = ", ".join(f"{'MPAN' if len(p) == 13 else 'MPRN'} {p} ({m})" for p, m in self.supply_points)
        period = f"from {_day(self.period_start or self.data_available_from)}"
        if self.period_end is not None:
            period += f" to {_day(self.period_end)}"
        return (
            f"You are sharing the energy data of account {self.account} ({points}) {period} with {self.recipient}, "
            f"for {', '.join(_last_segment(p) for p in self.processes)}, under licence {_last_segment(self.license)}, "
            f"until {_day(self.expires)}."
        )


def _day(moment: datetime) -> str:
    return moment.strftime("%-d %B %Y")


def _last_segment(iri: str) -> str:
    parts = [p for p in iri.rstrip("/").split("/") if p]
    # IB1 registry IRIs end in <name>/<version date>: show the name.
    if len(parts) >= 2 and parts[-1][:4].isdigit():
        return parts[-2]
    return parts[-1] if parts else iri


def _types(document: Mapping[str, Any]) -> set[str]:
    value = document.get("type")
    return {t for t in (value if isinstance(value, list) else [value]) if isinstance(t, str)}


def _list(value: Any) -> list[Any]:
    return [] if value is None else value if isinstance(value, list) else [value]


def _text(subject: Mapping[str, Any], name: str, *, required: bool = True) -> str | None:
    value = subject.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise PermissionError_(f"the permission's credentialSubject.{name} must be a non-empty string")
    return value


def _instant(subject: Mapping[str, Any], name: str, *, required: bool = True) -> datetime | None:
    value = subject.get(name)
    if value is None and not required:
        return None
    try:
        return parse_datetime(value, field=f"credentialSubject.{name}")
    except PerseusError as exc:
        raise PermissionError_(f"the permission's {exc.message}") from None


def read_permission(credential: Any) -> Permission:
    """The `Permission` a permission credential states; `PermissionError_` (with a reason) when it is malformed."""
    if not isinstance(credential, Mapping) or PERMISSION_TYPE not in _types(credential):
        raise PermissionError_(f"not a {PERMISSION_TYPE}")
    cid = credential.get("id")
    issuer = credential.get("issuer")
    issuer = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    subject = credential.get("credentialSubject")
    if not isinstance(cid, str) or not isinstance(issuer, str) or not isinstance(subject, Mapping):
        raise PermissionError_("a permission credential needs an id, an issuer and one credentialSubject object")
    points = []
    for i, point in enumerate(_list(subject.get("supplyPoint"))):
        if not isinstance(point, Mapping):
            raise PermissionError_(f"the permission's credentialSubject.supplyPoint[{i}] must be an object")
        ident = point.get("mpan") or point.get("mprn")
        measure = point.get("measure", "import")
        if not isinstance(ident, str) or measure not in ("import", "export"):
            raise PermissionError_(f"the permission's credentialSubject.supplyPoint[{i}] needs an mpan or mprn and a measure")
        points.append((ident, measure))
    if not points:
        raise PermissionError_("the permission names no supply point (credentialSubject.supplyPoint)")
    measures = frozenset(m for m in _list(subject.get("permittedMeasure")) if m in ("import", "export"))
    if not measures:
        raise PermissionError_("the permission names no measure (credentialSubject.permittedMeasure: import, export)")
    processes = tuple(p for p in _list(subject.get("permittedProcess")) if isinstance(p, str))
    if not processes:
        raise PermissionError_("the permission names no permitted process (credentialSubject.permittedProcess)")
    return Permission(
        id=cid,
        grantor=issuer,
        recipient=_text(subject, "recipient"),  # type: ignore[arg-type]
        license=_text(subject, "license"),  # type: ignore[arg-type]
        account=_text(subject, "account"),  # type: ignore[arg-type]
        supply_points=tuple(points),
        measures=measures,
        data_available_from=_instant(subject, "dataAvailableFrom"),  # type: ignore[arg-type]
        period_start=_instant(subject, "periodStart", required=False),
        period_end=_instant(subject, "periodEnd", required=False),
        processes=processes,
        expires=_instant(subject, "permissionExpires"),  # type: ignore[arg-type]
        last_granted=_instant(subject, "lastGranted"),  # type: ignore[arg-type]
        evidence=_text(subject, "permissionEvidence", required=False),
        oauth_issuer=_text(subject, "oauthIssuer", required=False),
        parent=_text(subject, "parentPermission", required=False),
        credential=credential,
    )


# -- what a data credential needs covered ------------------------------------------------------------------


@dataclass(frozen=True)
class _Scope:
    credential_id: str
    kind: str
    owner: str | None  # the SME: credentialSubject.customer (or accountReference)
    license: str | None
    points: tuple[tuple[str, str], ...]
    start: datetime | None
    end: datetime | None

    def label(self) -> str:
        return f"{self.kind} {self.credential_id}"


def _scope(credential: Mapping[str, Any]) -> _Scope:
    subject = credential.get("credentialSubject")
    subject = subject if isinstance(subject, Mapping) else {}
    metadata = credential.get("metadata")
    licence = metadata.get("license") if isinstance(metadata, Mapping) else None
    points: list[tuple[str, str]] = []
    for point in _list(subject.get("supplyPoint")):
        if isinstance(point, Mapping) and isinstance(point.get("mpan") or point.get("mprn"), str):
            points.append((point.get("mpan") or point.get("mprn"), point.get("measure", "import")))
    for contribution in _list(subject.get("contributions")):
        if isinstance(contribution, Mapping) and isinstance(contribution.get("supplyPointId"), str):
            points.append((contribution["supplyPointId"], "import"))
    owner = subject.get("customer") or subject.get("accountReference")

    def moment(name: str) -> datetime | None:
        try:
            return parse_datetime(subject.get(name), field=name)
        except PerseusError:
            return None

    kind = next((t for t in sorted(_types(credential)) if t in DATA_TYPES), "credential")
    return _Scope(
        str(credential.get("id")), kind, owner if isinstance(owner, str) else None, licence if isinstance(licence, str) else None,
        tuple(dict.fromkeys(points)), moment("periodStart"), moment("periodEnd"),
    )


def covering_problems(permission: Permission, scope: _Scope, *, recipient: str | None, now: datetime) -> list[ProblemDetail]:
    """Why ``permission`` does not cover the data of ``scope`` for ``recipient`` now (empty: it does)."""
    out: list[ProblemDetail] = []

    def fail(code: str, detail: str) -> None:
        out.append(ProblemDetail(code, f"{scope.label()}: permission {permission.id} {detail}", _CHECK))

    if recipient is not None and permission.recipient != recipient:
        fail("PERMISSION_WRONG_RECIPIENT", f"is for {permission.recipient}, not for {recipient}")
    if scope.license is not None and scope.license != permission.license:
        fail("PERMISSION_WRONG_LICENCE", f"is under licence {permission.license}, but the data is licensed under {scope.license}")
    allowed = {p for p, _ in permission.supply_points}
    for point, measure in scope.points:
        if point not in allowed:
            fail("PERMISSION_WRONG_SUPPLY_POINT", f"does not cover supply point {point} (it covers {', '.join(sorted(allowed))})")
        elif measure not in permission.measures or (point, measure) not in permission.supply_points:
            fail("PERMISSION_WRONG_SUPPLY_POINT", f"does not cover the {measure} measure of supply point {point}")
    if not scope.points:
        fail("PERMISSION_WRONG_SUPPLY_POINT", "cannot be matched: the data names no supply point")
    earliest = max(filter(None, (permission.data_available_from, permission.period_start)))
    if scope.start is None or scope.end is None:
        fail("PERMISSION_WRONG_PERIOD", "cannot be matched: the data states no period (periodStart, periodEnd)")
    elif scope.start < earliest or (permission.period_end is not None and scope.end > permission.period_end):
        until = f" to {permission.period_end.isoformat()}" if permission.period_end else ""
        fail(
            "PERMISSION_WRONG_PERIOD",
            f"covers data from {earliest.isoformat()}{until}, not {scope.start.isoformat()} to {scope.end.isoformat()}",
        )
    if now >= permission.expires:
        fail("PERMISSION_EXPIRED", f"expired at {permission.expires.isoformat()}")
    return out


# -- the check ----------------------------------------------------------------------------------------------


def permission_check(
    credentials: Iterable[Any],
    *,
    recipient: str | None = None,
    status_lists: Sequence[Any] | Mapping[str, Any] = (),
    now: datetime | None = None,
    loader: DocumentLoader | None = None,
    inputs: Iterable[Any] = (),
) -> CheckResult:
    """Every data credential among ``credentials`` is covered by a verified, unexpired, unwithdrawn permission.

    ``recipient`` is who is receiving (the verifier's own DID); ``None`` skips that one comparison (an auditor).
    ``status_lists`` are the grantors' signed status list credentials; ``inputs`` are further permission
    credentials (parents of onward permissions) that are not in the presentation itself. Never raises.
    """
    from .verify import verify_credential  # verify.py imports this module for its own block

    now = now or utc_now()
    loader = loader or DocumentLoader()
    items = [c for c in credentials if isinstance(c, Mapping)]
    data = [c for c in items if _types(c) & DATA_TYPES]
    if not data:
        return CheckResult(_CHECK, "skipped", "no energy data or emissions report, so no permission is needed")
    pool: dict[str, Mapping[str, Any]] = {}
    for c in [*items, *(i for i in inputs if isinstance(i, Mapping))]:
        if PERMISSION_TYPE in _types(c) and isinstance(c.get("id"), str):
            pool.setdefault(c["id"], c)
    standing: dict[str, list[ProblemDetail] | Permission] = {}

    def stand(cid: str) -> list[ProblemDetail] | Permission:
        """The permission if it verifies, is in date and is not withdrawn; else why not (cached)."""
        if cid in standing:
            return standing[cid]
        credential = pool[cid]
        try:
            permission = read_permission(credential)
        except PermissionError_ as exc:
            standing[cid] = [ProblemDetail(exc.code, f"permission {cid}: {exc.message}", _CHECK)]
            return standing[cid]
        result = verify_credential(credential, loader=loader, checks=("proof", "issuer", "validity", "status"), now=now, status_lists=status_lists)
        problems: list[ProblemDetail] = []
        for check in result.checks:
            if check.outcome != "failed":
                continue
            for p in check.problems:
                if check.check == "status":
                    code = "PERMISSION_WITHDRAWN" if p.code in ("CREDENTIAL_REVOKED", "CREDENTIAL_SUSPENDED") else "PERMISSION_STATUS_UNKNOWN"
                elif check.check == "validity":
                    code = "PERMISSION_EXPIRED" if p.code == "CREDENTIAL_EXPIRED" else "PERMISSION_NOT_YET_VALID"
                else:
                    code = "PERMISSION_NOT_VERIFIED"
                detail = {
                    "PERMISSION_WITHDRAWN": f"permission {cid} has been withdrawn by {permission.grantor} ({p.detail})",
                    "PERMISSION_STATUS_UNKNOWN": f"permission {cid}: whether it was withdrawn is unknown ({p.detail})",
                }.get(code, f"permission {cid}: {p.detail}")
                problems.append(ProblemDetail(code, detail, _CHECK))
        if credential.get("credentialStatus") is None:
            problems.append(ProblemDetail("PERMISSION_STATUS_UNKNOWN", f"permission {cid} has no status entry, so it could never be withdrawn; it is not accepted", _CHECK))
        standing[cid] = problems or permission
        return standing[cid]

    def chain(permission: Permission) -> tuple[str | None, list[ProblemDetail]]:
        """(the SME at the top of an onward chain, problems of the links above ``permission``)."""
        current, seen = permission, {permission.id}
        while current.parent is not None:
            if len(seen) > _MAX_CHAIN or current.parent in seen:
                return None, [ProblemDetail("PERMISSION_CHAIN_INVALID", f"permission {permission.id}: its chain of parent permissions loops or is longer than {_MAX_CHAIN}", _CHECK)]
            if current.parent not in pool:
                return None, [ProblemDetail(
                    "PERMISSION_PARENT_MISSING",
                    f"permission {current.id} derives from {current.parent}, which was not supplied; an onward permission is only as good as its parent",
                    _CHECK,
                )]
            parent = stand(current.parent)
            if isinstance(parent, list):
                withdrawn = any(p.code == "PERMISSION_WITHDRAWN" for p in parent)
                code = "PERMISSION_PARENT_WITHDRAWN" if withdrawn else "PERMISSION_PARENT_INVALID"
                why = "was withdrawn, and withdrawal cascades to permissions granted under it" if withdrawn else "is not valid"
                return None, [ProblemDetail(code, f"permission {permission.id} derives from {current.parent}, which {why}: {parent[0].detail}", _CHECK)]
            if parent.recipient != current.grantor:
                return None, [ProblemDetail(
                    "PERMISSION_CHAIN_INVALID",
                    f"permission {current.id} was granted onward by {current.grantor}, but its parent {parent.id} was granted to {parent.recipient}",
                    _CHECK,
                )]
            if current.license != parent.license:
                return None, [ProblemDetail(
                    "PERMISSION_CHAIN_INVALID",
                    f"permission {current.id} is under licence {current.license}, not its parent's {parent.license}",
                    _CHECK,
                )]
            wider = set(current.supply_points) - set(parent.supply_points)
            if wider:
                return None, [ProblemDetail(
                    "PERMISSION_CHAIN_INVALID",
                    f"permission {current.id} covers supply point(s) {', '.join(sorted(p for p, _ in wider))} that its parent {parent.id} does not: "
                    "a permission granted onward cannot be wider than the one it derives from",
                    _CHECK,
                )]
            seen.add(parent.id)
            current = parent
        return current.grantor, []

    problems: list[ProblemDetail] = []
    covered: list[dict[str, str]] = []
    for credential in data:
        scope = _scope(credential)
        reasons: list[ProblemDetail] = []
        winner: Permission | None = None
        for cid in pool:
            standing_or_problems = stand(cid)
            if isinstance(standing_or_problems, list):
                reasons.extend(standing_or_problems)
                continue
            permission = standing_or_problems
            here = covering_problems(permission, scope, recipient=recipient, now=now)
            root, above = chain(permission)
            here.extend(above)
            if root is not None and scope.owner is not None and root != scope.owner:
                here.append(ProblemDetail(
                    "PERMISSION_WRONG_GRANTOR",
                    f"{scope.label()}: permission {permission.id} was granted by {root}, but the data belongs to {scope.owner}",
                    _CHECK,
                ))
            if not here:
                winner = permission
                break
            reasons.extend(here)
        if winner is not None:
            covered.append({"credential": scope.credential_id, "permission": winner.id})
            continue
        if not pool:
            reasons = [ProblemDetail("PERMISSION_MISSING", f"{scope.label()} is shared without any permission credential; the SME must grant one", _CHECK)]
        problems.extend(dict.fromkeys(reasons))
    if problems:
        return CheckResult(_CHECK, "failed", "data shared without a valid permission", problems, {"covered": covered})
    return CheckResult(_CHECK, "passed", f"{len(covered)} data credential{'s' if len(covered) != 1 else ''} covered by a permission", [], {"covered": covered})
