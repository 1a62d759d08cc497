"""Import from the IB1 Directory's public query results (`GET /query/members-with-role?role=…`).

The Directory shows only the present — ``{"members": [{"id", "legalName", "roles", "assuranceLevel", …}]}``
— and keeps no history, so each import compares what it sees with what the registry holds and records
the difference with the import's time: a member seen with a role it did not hold is granted it from
then; a member that held the queried role but is no longer listed has that role ended then (not revoked:
what it signed while listed keeps verifying). Successive imports therefore build the history.

Only roles of the registry's own framework environment are taken (a role URL on the same registry host as
the framework); others are reported as skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from perseus.verifier.dates import format_datetime

from .errors import InvalidInputError
from .storage import schema as t
from .storage.store import RegistryStore

__all__ = ["ImportReport", "import_members_with_role"]


class ImportReport:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.changes: list[tuple[str, dict[str, Any]]] = []


def _members(response: Any) -> list[Mapping[str, Any]]:
    if not isinstance(response, Mapping) or not isinstance(response.get("members"), list):
        raise InvalidInputError('the file is not a members-with-role response: it needs {"members": [...]}')
    out = []
    for position, member in enumerate(response["members"]):
        if not isinstance(member, Mapping) or not isinstance(member.get("id"), str) or not isinstance(member.get("legalName"), str):
            raise InvalidInputError(f"member {position + 1} of the response has no id or legalName")
        roles = member.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise InvalidInputError(f"member {member['id']}: roles must be a list of role URLs")
        out.append(member)
    return out


def import_members_with_role(store: RegistryStore, response: Any, *, role: str, framework: str, at: datetime,
                             actor: str, dry_run: bool = False) -> ImportReport:
    """Apply one Directory answer for `role` to the registry, as of `at`; one transaction, one snapshot."""
    if framework not in store.settings.frameworks:
        raise InvalidInputError(f"this registry covers {', '.join(store.settings.frameworks)}, not {framework}")
    host = urlsplit(framework).netloc
    if urlsplit(role).netloc != host:
        raise InvalidInputError(f"role {role} is not a role of {framework} (it must be on {host})")
    members = _members(response)
    when = format_datetime(at)
    report = ImportReport()
    with store.engine.connect() as c:
        known = {r.id: r for r in c.execute(select(t.entities))}
        open_roles: dict[tuple[str, str], Any] = {}
        for r in c.execute(select(t.roles).where(t.roles.c.framework == framework)):
            if r.valid_until is None or r.valid_until > when:
                open_roles[(r.entity_id, r.role)] = r
    listed = set()
    for member in members:
        eid = member["id"]
        listed.add(eid)
        level = member.get("assuranceLevel") if isinstance(member.get("assuranceLevel"), str) else None
        if eid not in known:
            report.changes.append(("entity", {"id": eid, "legal_name": member["legalName"], "assurance_level": level}))
            report.lines.append(f"added {member['legalName']} ({eid})")
        elif known[eid].legal_name != member["legalName"] or known[eid].assurance_level != level:
            report.changes.append(("entity-update", {"id": eid, "legal_name": member["legalName"], "assurance_level": level}))
            report.lines.append(f"updated {member['legalName']} ({eid})")
        for held in member["roles"]:
            if urlsplit(held).netloc != host:
                report.lines.append(f"skipped {held} for {eid}: not a role of {framework}")
                continue
            if (eid, held) not in open_roles:
                report.changes.append(("grant", {"entity_id": eid, "framework": framework, "role": held, "valid_from": when, "valid_until": None}))
                open_roles[(eid, held)] = None
                report.lines.append(f"granted {held.rsplit('/', 1)[-1]} to {member['legalName']} from {when}")
    for (eid, held), row in sorted(open_roles.items(), key=lambda kv: kv[0]):
        if held == role and eid not in listed and row is not None:
            report.changes.append(("end-role", {"pk": row.pk, "valid_until": when}))
            report.lines.append(f"ended {held.rsplit('/', 1)[-1]} of {eid} at {when}: no longer listed by the Directory")
    if report.changes and not dry_run:
        store.apply(report.changes, actor=actor, reason=f"IB1 Directory import of members with role {role}", action="import-ib1")
    if not report.changes:
        report.lines.append("no changes: the registry already matches the Directory")
    return report
