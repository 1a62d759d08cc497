"""The registry's state and every change to it: each change is one transaction that applies it, writes
an audit row (who, when, why, what) and publishes the next signed snapshot — so no change is ever
visible without a snapshot that carries it, and a failure leaves nothing half-written.

History is kept, never overwritten: a role that ends gets a ``valid_until``, a suspension or revocation
is a new row in the role's history (a revocation for cause may take effect from an earlier time), a key
that is retired gets its own ``valid_until``. "Was X accredited at T" stays answerable for any T.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from perseus.verifier.dates import format_datetime, utc_now
from perseus.verifier.errors import PerseusError
from perseus.verifier.keys import SecretKey
from perseus.verifier.registry_snapshot import SNAPSHOT_CONTEXT, SNAPSHOT_TYPE, canonical_json, sign_snapshot, snapshot_digest

from ..errors import ConflictError, InvalidInputError, NotFoundError
from . import schema as t
from .engine import open_engine, translate_errors, write_transaction

__all__ = ["RegistryStore", "RegistrySettings", "STATUSES"]

STATUSES = ("active", "suspended", "revoked")


@dataclass(frozen=True)
class RegistrySettings:
    """What every snapshot says about the registry itself."""

    registry: str
    frameworks: tuple[str, ...]
    next_update: timedelta = timedelta(days=1)


def _text(moment: datetime | None) -> str | None:
    return None if moment is None else format_datetime(moment)


class RegistryStore:
    """The registry over one database. `signer` is the operator's key: every change publishes a snapshot."""

    def __init__(self, url: str, *, signer: SecretKey | None = None, settings: RegistrySettings | None = None,
                 schema: str | None = None, engine: Engine | None = None, clock: Callable[[], datetime] = utc_now) -> None:
        """`clock` gives "now" for snapshot and audit times (a fixed clock makes the worked example reproducible)."""
        self.engine = engine or open_engine(url, schema=schema)
        self.clock = clock
        t.migrate(self.engine)
        self.signer = signer
        self._settings = settings

    def close(self) -> None:
        self.engine.dispose()

    # -- settings ------------------------------------------------------------------------------------

    @property
    def settings(self) -> RegistrySettings:
        if self._settings is None:
            with translate_errors(), self.engine.connect() as c:
                rows = dict(c.execute(select(t.settings.c.name, t.settings.c.value)).all())
            if "registry" not in rows:
                raise NotFoundError("this registry database was never initialised; run `perseus registry init` first")
            self._settings = RegistrySettings(rows["registry"], tuple(json.loads(rows["frameworks"])),
                                              timedelta(seconds=int(rows.get("next_update_seconds", "86400"))))
        return self._settings

    def initialise(self, settings: RegistrySettings, *, actor: str) -> dict[str, Any]:
        """Record the settings and publish snapshot #0 (empty). Refused when already initialised."""
        with self._change(actor, "init", settings.registry, "registry created", {"frameworks": list(settings.frameworks)}) as c:
            if c.execute(select(func.count()).select_from(t.settings)).scalar_one():
                raise ConflictError("this registry is already initialised")
            c.execute(t.settings.insert(), [
                {"name": "registry", "value": settings.registry},
                {"name": "frameworks", "value": json.dumps(list(settings.frameworks))},
                {"name": "next_update_seconds", "value": str(int(settings.next_update.total_seconds()))},
            ])
            self._settings = settings
        return self.latest_snapshot() or {}

    # -- changes -------------------------------------------------------------------------------------

    @contextmanager
    def _change(self, actor: str, action: str, target: str, reason: str, detail: Mapping[str, Any]) -> Iterator[Connection]:
        if self.signer is None:
            raise InvalidInputError("the registry operator's key is not available, so no signed snapshot can follow this change")
        if not reason or not reason.strip():
            raise InvalidInputError("every change needs a reason (it is kept in the audit log)")
        try:
            with write_transaction(self.engine) as c:
                yield c
                sequence = self._publish(c)
                c.execute(t.audit.insert().values(at=format_datetime(self.clock()), actor=actor or "unknown", action=action,
                                                  target=target, reason=reason.strip(), detail=json.dumps(dict(detail), default=str),
                                                  snapshot=sequence))
        except IntegrityError as exc:
            raise ConflictError(f"the change conflicts with what is recorded ({str(exc.orig).splitlines()[0]})") from None

    def _entity_exists(self, c: Connection, entity_id: str) -> None:
        if c.execute(select(t.entities.c.id).where(t.entities.c.id == entity_id)).first() is None:
            raise NotFoundError(f"there is no entity {entity_id!r} in the registry; add it first with `perseus registry add`")

    def add_entity(self, entity_id: str, legal_name: str, *, assurance_level: str | None = None,
                   dids: list[tuple[str, datetime, Mapping[str, Any] | None]] = (), actor: str, reason: str) -> None:  # type: ignore[assignment]
        """Add an entity, with the DIDs it signs with (did, valid from, DID document for did:web): one change, one snapshot."""
        if not entity_id or not legal_name:
            raise InvalidInputError("an entity needs an id (a member URL or a DID) and a legal name")
        if ":" not in entity_id:
            raise InvalidInputError(f"entity id {entity_id!r} must be a URL or a DID (e.g. https://directory.core.trust.ib1.org/m/...)")
        with self._change(actor, "add-entity", entity_id, reason, {"legalName": legal_name, "assuranceLevel": assurance_level}) as c:
            if c.execute(select(t.entities.c.id).where(t.entities.c.id == entity_id)).first() is not None:
                raise ConflictError(f"the entity {entity_id!r} is already in the registry")
            c.execute(t.entities.insert().values(id=entity_id, legal_name=legal_name, assurance_level=assurance_level,
                                                 created_at=format_datetime(self.clock())))
            for did, valid_from, document in dids:
                self._insert_did(c, entity_id, did, valid_from, None, document, None)

    def update_entity(self, entity_id: str, *, legal_name: str | None = None, assurance_level: str | None = None,
                      actor: str, reason: str) -> None:
        with self._change(actor, "update-entity", entity_id, reason, {"legalName": legal_name, "assuranceLevel": assurance_level}) as c:
            self._entity_exists(c, entity_id)
            values = {k: v for k, v in (("legal_name", legal_name), ("assurance_level", assurance_level)) if v is not None}
            if values:
                c.execute(t.entities.update().where(t.entities.c.id == entity_id).values(**values))

    def add_did(self, entity_id: str, did: str, *, valid_from: datetime, valid_until: datetime | None = None,
                did_document: Mapping[str, Any] | None = None, methods: list[dict[str, Any]] | None = None,
                actor: str, reason: str) -> None:
        with self._change(actor, "add-key", entity_id, reason, {"did": did, "validFrom": _text(valid_from), "validUntil": _text(valid_until)}) as c:
            self._entity_exists(c, entity_id)
            self._insert_did(c, entity_id, did, valid_from, valid_until, did_document, methods)

    def _insert_did(self, c: Connection, entity_id: str, did: str, valid_from: datetime, valid_until: datetime | None,
                    did_document: Mapping[str, Any] | None, methods: list[dict[str, Any]] | None) -> None:
        from perseus.verifier.did_key import resolve_did_key

        if not isinstance(did, str) or not did.startswith(("did:key:", "did:web:")) or "#" in did:
            raise InvalidInputError(f"{did!r} is not a did:key or did:web DID (without a #fragment)")
        if did.startswith("did:key:"):
            try:
                resolve_did_key(did)
            except PerseusError as exc:
                raise InvalidInputError(f"{did} is not a valid did:key: {exc.message}") from None
        if did.startswith("did:web:") and did_document is None:
            raise InvalidInputError(f"{did} is a did:web: give its DID document (--did-document FILE) so it resolves offline")
        if did_document is not None and (not isinstance(did_document, Mapping) or did_document.get("id") != did):
            raise InvalidInputError(f"the DID document's id must be {did}")
        if valid_until is not None and valid_until <= valid_from:
            raise InvalidInputError("a key's end must come after its start")
        if c.execute(select(t.identifiers.c.entity_id).where(t.identifiers.c.did == did)).first() is not None:
            raise ConflictError(f"{did} is already registered (a key belongs to one entity)")
        pk = c.execute(t.identifiers.insert().values(
            entity_id=entity_id, kind="Did", did=did, valid_from=_text(valid_from), valid_until=_text(valid_until),
            did_document=json.dumps(did_document) if did_document is not None else None)).inserted_primary_key[0]
        for m in methods or ():
            c.execute(t.methods.insert().values(identifier_pk=pk, method_id=m["id"], valid_from=m["validFrom"], valid_until=m.get("validUntil")))

    def add_certificate(self, entity_id: str, application_url: str, serial: str, *, valid_from: datetime,
                        valid_until: datetime, actor: str, reason: str) -> None:
        if valid_until <= valid_from:
            raise InvalidInputError("a certificate's end must come after its start")
        with self._change(actor, "add-certificate", entity_id, reason, {"applicationUrl": application_url, "serial": serial}) as c:
            self._entity_exists(c, entity_id)
            c.execute(t.identifiers.insert().values(entity_id=entity_id, kind="X509Certificate", application_url=application_url,
                                                    serial=serial, valid_from=_text(valid_from), valid_until=_text(valid_until)))

    def _identifier(self, c: Connection, entity_id: str, did: str) -> Any:
        row = c.execute(select(t.identifiers).where(t.identifiers.c.did == did, t.identifiers.c.entity_id == entity_id)).first()
        if row is None:
            raise NotFoundError(f"{entity_id!r} has no key {did}")
        return row

    def retire_key(self, entity_id: str, did: str, *, at: datetime, actor: str, reason: str) -> None:
        """The key stops being valid at `at`; what it signed before stays valid."""
        with self._change(actor, "retire-key", entity_id, reason, {"did": did, "at": _text(at)}) as c:
            row = self._identifier(c, entity_id, did)
            if at < datetime.fromisoformat(row.valid_from.replace("Z", "+00:00")):
                raise InvalidInputError(f"{did} only became valid at {row.valid_from}; it cannot be retired before that")
            c.execute(t.identifiers.update().where(t.identifiers.c.pk == row.pk).values(valid_until=_text(at)))

    def revoke_key(self, entity_id: str, did: str, *, effective: datetime, actor: str, reason: str) -> None:
        """For cause (compromise): everything the key signed from `effective` on stops verifying."""
        with self._change(actor, "revoke-key", entity_id, reason, {"did": did, "from": _text(effective)}) as c:
            row = self._identifier(c, entity_id, did)
            c.execute(t.identifiers.update().where(t.identifiers.c.pk == row.pk).values(revoked_from=_text(effective)))

    def _roles(self, c: Connection, entity_id: str, framework: str, role: str) -> list[Any]:
        return list(c.execute(select(t.roles).where(t.roles.c.entity_id == entity_id, t.roles.c.framework == framework,
                                                    t.roles.c.role == role).order_by(t.roles.c.valid_from)))

    def grant(self, entity_id: str, framework: str, role: str, *, valid_from: datetime, valid_until: datetime | None = None,
              actor: str, reason: str) -> None:
        if valid_until is not None and valid_until <= valid_from:
            raise InvalidInputError("a role's end must come after its start")
        if framework not in self.settings.frameworks:
            raise InvalidInputError(f"this registry covers {', '.join(self.settings.frameworks)}, not {framework}")
        with self._change(actor, "grant", entity_id, reason, {"framework": framework, "role": role, "validFrom": _text(valid_from),
                                                              "validUntil": _text(valid_until)}) as c:
            self._entity_exists(c, entity_id)
            for existing in self._roles(c, entity_id, framework, role):
                if existing.valid_until is None or existing.valid_until > _text(valid_from):
                    raise ConflictError(f"{entity_id} already holds {role} from {existing.valid_from}"
                                        f"{' until ' + existing.valid_until if existing.valid_until else ''}; end it first")
            pk = c.execute(t.roles.insert().values(entity_id=entity_id, framework=framework, role=role, valid_from=_text(valid_from),
                                                   valid_until=_text(valid_until))).inserted_primary_key[0]
            c.execute(t.role_events.insert().values(role_pk=pk, status="active", effective_from=_text(valid_from), reason=reason.strip(),
                                                    recorded_at=format_datetime(self.clock())))

    def _current_role(self, c: Connection, entity_id: str, framework: str, role: str) -> Any:
        rows = self._roles(c, entity_id, framework, role)
        if not rows:
            self._entity_exists(c, entity_id)
            raise NotFoundError(f"{entity_id} has never held {role} in {framework}")
        return rows[-1]

    def set_status(self, entity_id: str, framework: str, role: str, status: str, *, effective: datetime, actor: str, reason: str) -> None:
        """Suspend, revoke (for cause; may be back-dated) or reinstate the latest grant of a role."""
        if status not in STATUSES:
            raise InvalidInputError(f"status must be one of {', '.join(STATUSES)}")
        with self._change(actor, {"active": "reinstate", "suspended": "suspend", "revoked": "revoke"}[status], entity_id, reason,
                          {"framework": framework, "role": role, "from": _text(effective)}) as c:
            row = self._current_role(c, entity_id, framework, role)
            c.execute(t.role_events.insert().values(role_pk=row.pk, status=status, effective_from=_text(effective), reason=reason.strip(),
                                                    recorded_at=format_datetime(self.clock())))

    def end_role(self, entity_id: str, framework: str, role: str, *, at: datetime, actor: str, reason: str) -> None:
        """The role ends at `at` (not for cause): what was signed before keeps verifying."""
        with self._change(actor, "end-role", entity_id, reason, {"framework": framework, "role": role, "at": _text(at)}) as c:
            row = self._current_role(c, entity_id, framework, role)
            if row.valid_until is not None and row.valid_until <= _text(at):
                raise ConflictError(f"{entity_id}'s {role} already ended at {row.valid_until}")
            c.execute(t.roles.update().where(t.roles.c.pk == row.pk).values(valid_until=_text(at)))

    def apply(self, changes: list[tuple[str, dict[str, Any]]], *, actor: str, reason: str, action: str = "import") -> int:
        """Several low-level changes in one transaction and one snapshot (the IB1 import); returns how many."""
        with self._change(actor, action, self.settings.registry, reason, {"changes": len(changes)}) as c:
            for kind, values in changes:
                if kind == "entity":
                    c.execute(t.entities.insert().values(**values, created_at=format_datetime(self.clock())))
                elif kind == "entity-update":
                    c.execute(t.entities.update().where(t.entities.c.id == values["id"]).values(
                        legal_name=values["legal_name"], assurance_level=values["assurance_level"]))
                elif kind == "grant":
                    pk = c.execute(t.roles.insert().values(**values)).inserted_primary_key[0]
                    c.execute(t.role_events.insert().values(role_pk=pk, status="active", effective_from=values["valid_from"],
                                                            reason=reason, recorded_at=format_datetime(self.clock())))
                elif kind == "end-role":
                    c.execute(t.roles.update().where(t.roles.c.pk == values["pk"]).values(valid_until=values["valid_until"]))
                else:
                    raise InvalidInputError(f"unknown change {kind!r}")
        return len(changes)

    # -- reading -------------------------------------------------------------------------------------

    def entities(self, connection: Connection | None = None, only: str | None = None) -> list[dict[str, Any]]:
        """Every entity (or one) in the snapshot's form, with full history."""
        def read(c: Connection) -> list[dict[str, Any]]:
            ent_q, id_q, role_q = select(t.entities), select(t.identifiers), select(t.roles)
            ev_q, m_q = select(t.role_events).order_by(t.role_events.c.effective_from, t.role_events.c.pk), select(t.methods)
            if only is not None:
                ent_q, id_q, role_q = ent_q.where(t.entities.c.id == only), id_q.where(t.identifiers.c.entity_id == only), role_q.where(t.roles.c.entity_id == only)
                ev_q = ev_q.where(t.role_events.c.role_pk.in_(select(t.roles.c.pk).where(t.roles.c.entity_id == only)))
                m_q = m_q.where(t.methods.c.identifier_pk.in_(select(t.identifiers.c.pk).where(t.identifiers.c.entity_id == only)))
            events: dict[int, list[dict[str, Any]]] = defaultdict(list)
            for e in c.execute(ev_q):
                events[e.role_pk].append({"status": e.status, "from": e.effective_from, "reason": e.reason, "recorded": e.recorded_at})
            vms: dict[int, list[dict[str, Any]]] = defaultdict(list)
            for m in c.execute(m_q.order_by(t.methods.c.pk)):
                vms[m.identifier_pk].append(_drop_none({"id": m.method_id, "validFrom": m.valid_from, "validUntil": m.valid_until}))
            idents: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for i in c.execute(id_q.order_by(t.identifiers.c.pk)):
                if i.kind == "Did":
                    item = {"type": "Did", "did": i.did, "validFrom": i.valid_from, "validUntil": i.valid_until, "revokedFrom": i.revoked_from}
                    if i.did_document:
                        item["didDocument"] = json.loads(i.did_document)
                    if vms.get(i.pk):
                        item["verificationMethods"] = vms[i.pk]
                else:
                    item = {"type": "X509Certificate", "applicationUrl": i.application_url, "serial": i.serial,
                            "validFrom": i.valid_from, "validUntil": i.valid_until}
                idents[i.entity_id].append(_drop_none(item))
            held: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for r in c.execute(role_q.order_by(t.roles.c.pk)):
                held[r.entity_id].append(_drop_none({"framework": r.framework, "role": r.role, "validFrom": r.valid_from,
                                                     "validUntil": r.valid_until, "history": events.get(r.pk, [])}))
            return [_drop_none({"id": e.id, "legalName": e.legal_name, "assuranceLevel": e.assurance_level,
                                "identifiers": idents.get(e.id, []), "roles": held.get(e.id, [])})
                    for e in c.execute(ent_q.order_by(t.entities.c.id))]

        if connection is not None:
            return read(connection)
        with translate_errors(), self.engine.connect() as c:
            return read(c)

    def entity(self, entity_id: str) -> dict[str, Any]:
        found = self.entities(only=entity_id)
        if not found:
            raise NotFoundError(f"there is no entity {entity_id!r} in the registry")
        return found[0]

    def audit_log(self, limit: int = 100) -> list[dict[str, Any]]:
        with translate_errors(), self.engine.connect() as c:
            rows = c.execute(select(t.audit).order_by(t.audit.c.pk.desc()).limit(limit))
            return [{"at": r.at, "actor": r.actor, "action": r.action, "target": r.target, "reason": r.reason,
                     "detail": json.loads(r.detail), "snapshot": r.snapshot} for r in rows]

    # -- snapshots -----------------------------------------------------------------------------------

    def _publish(self, c: Connection) -> int:
        settings = self.settings
        last = c.execute(select(t.snapshots.c.sequence, t.snapshots.c.document).order_by(t.snapshots.c.sequence.desc()).limit(1)).first()
        now = self.clock().replace(microsecond=0)
        document: dict[str, Any] = {
            "@context": SNAPSHOT_CONTEXT,
            "type": SNAPSHOT_TYPE,
            "registry": settings.registry,
            "sequence": 0 if last is None else last.sequence + 1,
            "issued": format_datetime(now),
            "nextUpdate": format_datetime(now + settings.next_update),
            "frameworks": list(settings.frameworks),
        }
        if last is not None:
            document["previousDigest"] = snapshot_digest(json.loads(last.document))
        document["entities"] = self.entities(c)
        assert self.signer is not None
        signed = sign_snapshot(document, self.signer, created=now)
        c.execute(t.snapshots.insert().values(sequence=document["sequence"], issued=document["issued"], next_update=document["nextUpdate"],
                                              digest=snapshot_digest(signed), document=canonical_json(signed).decode("utf-8")))
        return int(document["sequence"])

    def publish(self, *, actor: str, reason: str = "scheduled refresh") -> dict[str, Any]:
        """A new snapshot with no change (a fresh nextUpdate): what a daily job runs."""
        with self._change(actor, "publish", self.settings.registry, reason, {}):
            pass
        return self.latest_snapshot() or {}

    def latest_snapshot_text(self) -> tuple[int, str, str] | None:
        """(sequence, digest, JSON text) of the newest snapshot, without parsing it."""
        with translate_errors(), self.engine.connect() as c:
            row = c.execute(select(t.snapshots.c.sequence, t.snapshots.c.digest, t.snapshots.c.document)
                            .order_by(t.snapshots.c.sequence.desc()).limit(1)).first()
        return None if row is None else (row.sequence, row.digest, row.document)

    def latest_sequence(self) -> int | None:
        """The newest snapshot's sequence number (cheap: replicas poll it to notice each other's changes)."""
        with translate_errors(), self.engine.connect() as c:
            return c.execute(select(func.max(t.snapshots.c.sequence))).scalar_one_or_none()

    def snapshot_text(self, sequence: int) -> tuple[int, str, str] | None:
        with translate_errors(), self.engine.connect() as c:
            row = c.execute(select(t.snapshots.c.sequence, t.snapshots.c.digest, t.snapshots.c.document)
                            .where(t.snapshots.c.sequence == sequence)).first()
        return None if row is None else (row.sequence, row.digest, row.document)

    def latest_snapshot(self) -> dict[str, Any] | None:
        found = self.latest_snapshot_text()
        return None if found is None else json.loads(found[2])


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}
