"""VC API exchanges (w3c/vcalm): a recipient asks, the holder presents, the service checks and keeps a receipt.

========================================================  =====  ================================================
``POST /workflows/{w}/exchanges``                          token  ``{"variables": {...}}`` → 201, ``Location``
``POST /workflows/{w}/exchanges/{x}`` with ``{}``          open   → ``{"verifiablePresentationRequest": VPR}``
``POST /workflows/{w}/exchanges/{x}`` with a presentation  open   ``{"verifiablePresentation"}`` or
                                                                  ``{"encryptedPresentation": JWE}`` → the result
``POST /challenges``                                       open   → 201 ``{"challenge"}`` (single use, expiring)
``POST /permissions/status-lists``                         open   a party pushes a signed status list: the SME's
                                                                  wallet after a withdrawal (it takes effect on the
                                                                  next check), a data provider its own lists
========================================================  =====  ================================================

Two workflows, one per side of the Perseus flow:

* ``receive`` (a Carbon Accounting Provider receiving an SME's data): the request asks (QueryByExample) for
  the consumption of the supply point and period given as the exchange's ``variables`` and for the SME's
  permission naming this service's DID as recipient, with DIDAuthentication, a challenge and this
  service's domain. The presentation completes the exchange only if everything holds: the holder's proof
  (authentication, this exchange's single-use, unexpired challenge, this domain), holder binding, every
  credential (proofs, issuer, validity, status, links), accreditation when a registry snapshot is configured
  (``PERSEUS_REGISTRY_SNAPSHOT``), and a permission covering every piece of data. The answer is a receipt
  (kept in the database); a refusal is a problem detail with the first reason's code, every reason listed,
  and an event in the log — and no receipt: nothing is recorded as shared.
* ``release`` (an Energy Data Provider releasing consumption to a recipient): the recipient presents the
  SME's permission naming it; the service releases the consumption credentials it issued that the
  permission covers, checked *at release time* against the freshest status list it has of the SME (pushed
  by the SME's wallet, or stapled to the presentation, whichever was signed later), and encrypts them
  (JWE, ECDH-ES+A256KW / A256GCM) to the recipient's key-agreement key. A withdrawn permission is refused on
  the very next release, and the refusal is logged.

Out-of-order steps (a presentation before the request, anything after completion) are 409s.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import quote

from perseus.verifier.dates import parse_datetime, utc_now
from perseus.verifier.canonical import jcs_bytes
from perseus.verifier.errors import PerseusError
from perseus.verifier.permission import DATA_TYPES, PERMISSION_TYPE, permission_check
from perseus.verifier.presentation import presentation_credentials, verify_presentation
from perseus.verifier.result import ProblemDetail
from perseus.verifier.status import STATUS_LIST_CREDENTIAL_TYPE
from perseus.verifier.verify import verify_credential
import functools

import orjson
from fastapi import Depends, Request
from sqlalchemy import select, update
from starlette.responses import Response

from ..storage.schema import challenges, exchange_events, exchanges, issued_credentials, permission_status_lists
from . import openapi
from .problems import ServiceError
from .state import ServiceState

__all__ = ["CHALLENGE_TTL", "EXCHANGE_TTL", "WORKFLOWS", "ExchangeService", "add_exchange_routes"]

CHALLENGE_TTL: Final = timedelta(minutes=5)
EXCHANGE_TTL: Final = timedelta(minutes=15)
WORKFLOWS: Final = ("receive", "release")
_RELEASE_SCAN_LIMIT: Final = 10_000  # most recent issued credentials a release looks through (see release())


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]


def _refuse(status: int, code: str, detail: str, errors: Sequence[ProblemDetail] = ()) -> ServiceError:
    return ServiceError(status, code, detail, errors=list(errors))


class ExchangeService:
    """The exchange state machine over the service's storage (one per app)."""

    def __init__(self, state: ServiceState, *, registry: Any = None, clock: Callable[[], datetime] = utc_now) -> None:
        self.state = state
        self._registry = registry  # a fixed snapshot (tests); otherwise the service's configured one, as it is now
        self.clock = clock
        profile = state.settings.default_profile
        self.profile = profile if any(p.profile_id == profile for p in state.storage.list_profiles()) else state.storage.list_profiles()[0].profile_id
        self.did = state.storage.get_profile(self.profile).issuer
        self.domain = state.base_url

    @property
    def registry(self) -> Any:
        """The trust registry snapshot recipients are checked against (None when none is configured)."""
        if self._registry is not None:
            return self._registry
        return self.state.registry.current() if self.state.registry is not None else None

    @registry.setter
    def registry(self, snapshot: Any) -> None:
        self._registry = snapshot

    # -- storage helpers

    def _event(self, conn: Any, exchange_id: str, outcome: str, code: str | None = None, detail: str | None = None) -> None:
        conn.execute(exchange_events.insert().values(exchange_id=exchange_id, outcome=outcome, code=code, detail=detail, at=self.clock()))

    def events(self, exchange_id: str) -> list[dict[str, Any]]:
        with self.state.storage._read() as conn:
            rows = conn.execute(select(exchange_events).where(exchange_events.c.exchange_id == exchange_id).order_by(exchange_events.c.event_id))
            return [{"outcome": r.outcome, "code": r.code, "detail": r.detail, "at": r.at.isoformat()} for r in rows]

    def _exchange(self, workflow_id: str, exchange_id: str) -> Any:
        with self.state.storage._read() as conn:
            row = conn.execute(select(exchanges).where(exchanges.c.exchange_id == exchange_id)).first()
        if row is None or row.workflow_id != workflow_id:
            raise _refuse(404, "EXCHANGE_NOT_FOUND", f"there is no exchange {exchange_id} in workflow {workflow_id}")
        return row

    # -- creating exchanges and challenges

    def create(self, workflow_id: str, body: Any) -> tuple[str, dict[str, Any]]:
        if workflow_id not in WORKFLOWS:
            raise _refuse(404, "WORKFLOW_NOT_FOUND", f"there is no workflow {workflow_id!r}; this service has {', '.join(WORKFLOWS)}")
        if not isinstance(body, Mapping) or set(body) - {"variables", "expires"}:
            raise _refuse(400, "MALFORMED_VALUE_ERROR", "create an exchange with {\"variables\": {...}} (supplyPoint, periodStart, periodEnd)")
        variables = body.get("variables") or {}
        if not isinstance(variables, Mapping) or set(variables) - {"supplyPoint", "periodStart", "periodEnd"}:
            raise _refuse(400, "MALFORMED_VALUE_ERROR", "variables may name only supplyPoint (an MPAN or MPRN), periodStart and periodEnd")
        for key in ("periodStart", "periodEnd"):
            if key in variables:
                try:
                    parse_datetime(variables[key], field=f"variables.{key}")
                except PerseusError as exc:
                    raise _refuse(400, "MALFORMED_VALUE_ERROR", exc.message) from None
        if "supplyPoint" in variables and not (isinstance(variables["supplyPoint"], str) and variables["supplyPoint"].isdigit()):
            raise _refuse(400, "MALFORMED_VALUE_ERROR", "variables.supplyPoint must be an MPAN core or an MPRN (digits)")
        exchange_id = uuid.uuid4().hex
        now = self.clock()
        with self.state.storage._write() as conn:
            conn.execute(exchanges.insert().values(
                exchange_id=exchange_id, workflow_id=workflow_id, state="pending", created_at=now, updated_at=now,
                expires_at=now + EXCHANGE_TTL, variables_json=json.dumps(dict(variables)),
            ))
        location = f"/workflows/{quote(workflow_id, safe='')}/exchanges/{exchange_id}"
        return location, {"exchangeId": exchange_id, "exchange": self.domain + location, "expires": (now + EXCHANGE_TTL).isoformat()}

    def new_challenge(self, *, purpose: str = "verify", exchange_id: str | None = None, conn: Any = None) -> str:
        challenge = secrets.token_urlsafe(24)
        now = self.clock()
        values = dict(challenge=challenge, purpose=purpose, exchange_id=exchange_id, domain=self.domain, created_at=now, expires_at=now + CHALLENGE_TTL)
        if conn is not None:
            conn.execute(challenges.insert().values(**values))
        else:
            with self.state.storage._write() as own:
                own.execute(challenges.insert().values(**values))
        return challenge

    # -- one step of an exchange

    def step(self, workflow_id: str, exchange_id: str, body: Any) -> Outcome:
        row = self._exchange(workflow_id, exchange_id)
        now = self.clock()
        if not isinstance(body, Mapping):
            raise _refuse(400, "MALFORMED_VALUE_ERROR", "an exchange step is a JSON object: {} to start, or {\"verifiablePresentation\": ...}")
        if row.state in ("complete", "refused"):
            raise _refuse(409, "EXCHANGE_OUT_OF_ORDER", f"exchange {exchange_id} is already {row.state}; start a new exchange")
        if now >= row.expires_at:
            raise _refuse(410, "EXCHANGE_EXPIRED", f"exchange {exchange_id} expired at {row.expires_at.isoformat()}; start a new exchange")
        if not body:
            return self._request(row, now)
        if set(body) - {"verifiablePresentation", "encryptedPresentation"} or len(body) != 1:
            raise _refuse(400, "MALFORMED_VALUE_ERROR", "send either {\"verifiablePresentation\": ...} or {\"encryptedPresentation\": \"<JWE>\"}")
        if row.state != "requested":
            raise _refuse(409, "EXCHANGE_OUT_OF_ORDER", "a presentation came before the request: first POST {} to this exchange to get the challenge")
        presentation = self._presentation(body)
        self._use_challenge(row, now)
        if row.workflow_id == "receive":
            return self._receive(row, presentation, now)
        return self._release(row, presentation, now)

    def _request(self, row: Any, now: datetime) -> Outcome:
        if row.state != "pending":
            raise _refuse(409, "EXCHANGE_OUT_OF_ORDER", f"exchange {row.exchange_id} has already sent its request; answer it with a presentation")
        variables = json.loads(row.variables_json or "{}")
        subject: dict[str, Any] = {}
        if "supplyPoint" in variables:
            key = "mpan" if len(variables["supplyPoint"]) == 13 else "mprn"
            subject["supplyPoint"] = {key: variables["supplyPoint"]}
        for key in ("periodStart", "periodEnd"):
            if key in variables:
                subject[key] = variables[key]
        queries: list[dict[str, Any]] = []
        if row.workflow_id == "receive":
            queries.append({"required": True, "reason": "the energy data you agreed to share", "example": {"type": ["EnergyConsumptionCredential"], "credentialSubject": subject}})
            recipient = self.did
        else:
            recipient = None  # the recipient is whoever presents: the permission must name the presenter
        queries.append({
            "required": True,
            "reason": "your permission for us to receive this data",
            "example": {"type": ["PermissionCredential"], "credentialSubject": {"recipient": recipient} if recipient else {}},
        })
        with self.state.storage._write() as conn:
            challenge = self.new_challenge(purpose="exchange", exchange_id=row.exchange_id, conn=conn)
            moved = conn.execute(
                update(exchanges).where(exchanges.c.exchange_id == row.exchange_id, exchanges.c.state == "pending").values(state="requested", challenge=challenge, updated_at=now)
            ).rowcount
            if moved != 1:
                raise _refuse(409, "EXCHANGE_OUT_OF_ORDER", f"exchange {row.exchange_id} has already sent its request")
        request = {
            "query": [
                {"type": "QueryByExample", "credentialQuery": queries},
                {"type": "DIDAuthentication", "acceptedMethods": [{"method": "key"}, {"method": "web"}], "acceptedCryptosuites": [{"cryptosuite": "eddsa-rdfc-2022"}, {"cryptosuite": "ecdsa-rdfc-2019"}]},
            ],
            "challenge": challenge,
            "domain": self.domain,
            "interact": {"service": [{"type": "UnmediatedPresentationService2021", "serviceEndpoint": f"{self.domain}/workflows/{row.workflow_id}/exchanges/{row.exchange_id}"}]},
        }
        return Outcome(200, {"verifiablePresentationRequest": request})

    def _presentation(self, body: Mapping[str, Any]) -> Any:
        if "encryptedPresentation" in body:
            from perseus.verifier.encryption import decrypt

            try:
                return decrypt(body["encryptedPresentation"], self.state.keys.signing_key(self.profile).secret_key)
            except PerseusError as exc:
                raise _refuse(400, exc.code, exc.message) from None
        return body["verifiablePresentation"]

    def _use_challenge(self, row: Any, now: datetime) -> None:
        """Spend the exchange's challenge (single use) — before checking anything, so a failed attempt spends it too."""
        with self.state.storage._write() as conn:
            found = conn.execute(select(challenges).where(challenges.c.challenge == row.challenge)).first()
            if found is None:
                raise _refuse(400, "INVALID_CHALLENGE_ERROR", "the exchange's challenge is unknown")
            if found.used_at is not None:
                raise _refuse(409, "CHALLENGE_REPLAYED", f"the challenge of exchange {row.exchange_id} was already used at {found.used_at.isoformat()}; start a new exchange")
            if now >= found.expires_at:
                conn.execute(update(exchanges).where(exchanges.c.exchange_id == row.exchange_id).values(state="refused", updated_at=now))
                self._event(conn, row.exchange_id, "refused", "CHALLENGE_EXPIRED", "the presentation came after the challenge expired")
                raise _refuse(400, "CHALLENGE_EXPIRED", f"the challenge expired at {found.expires_at.isoformat()}; start a new exchange")
            spent = conn.execute(update(challenges).where(challenges.c.challenge == row.challenge, challenges.c.used_at.is_(None)).values(used_at=now)).rowcount
            if spent != 1:
                raise _refuse(409, "CHALLENGE_REPLAYED", "the challenge was used by a concurrent presentation; start a new exchange")

    def _fail(self, row: Any, now: datetime, problems: Sequence[ProblemDetail], status: int = 400) -> ServiceError:
        first = problems[0]
        with self.state.storage._write() as conn:
            conn.execute(update(exchanges).where(exchanges.c.exchange_id == row.exchange_id).values(state="refused", updated_at=now))
            for p in problems:
                self._event(conn, row.exchange_id, "refused", p.code, p.detail)
        return _refuse(status, first.code, f"refused: {first.detail}", problems)

    # -- status lists of permissions

    def push_status_list(self, credential: Any) -> dict[str, Any]:
        """Keep a holder's signed permission status list if it verifies and is newer than the one kept."""
        if not isinstance(credential, Mapping) or STATUS_LIST_CREDENTIAL_TYPE not in _types(credential):
            raise _refuse(400, "MALFORMED_VALUE_ERROR", "push a signed BitstringStatusListCredential")
        result = verify_credential(credential, checks=("proof", "issuer", "validity"), loader=self.state.loader)
        if not result.verified:
            raise _refuse(400, result.errors[0].code, f"the status list does not verify: {result.errors[0].detail}", result.errors)
        url, issuer = credential.get("id"), credential.get("issuer")
        valid_from = parse_datetime(credential.get("validFrom"), field="validFrom")
        if not isinstance(url, str) or not isinstance(issuer, str):
            raise _refuse(400, "MALFORMED_VALUE_ERROR", "the status list needs an id (its URL) and an issuer DID")
        now = self.clock()
        with self.state.storage._write() as conn:
            kept = conn.execute(select(permission_status_lists).where(permission_status_lists.c.url == url)).first()
            if kept is not None and kept.issuer != issuer:
                raise _refuse(409, "STATUS_LIST_CONFLICT", f"status list {url} is kept for {kept.issuer}, not {issuer}")
            if kept is not None and kept.valid_from >= valid_from:
                return {"url": url, "kept": False, "reason": "not newer than the list already kept"}
            values = dict(url=url, issuer=issuer, valid_from=valid_from, credential_json=json.dumps(credential), received_at=now)
            if kept is None:
                conn.execute(permission_status_lists.insert().values(**values))
            else:
                conn.execute(update(permission_status_lists).where(permission_status_lists.c.url == url).values(**values))
        return {"url": url, "kept": True}

    def _freshest_lists(self, stapled: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """Per URL, the later-signed of the list pushed by its holder and the one stapled to the presentation."""
        chosen: dict[str, tuple[datetime, Mapping[str, Any]]] = {}
        for credential in stapled:
            try:
                chosen[credential["id"]] = max(chosen.get(credential["id"], (datetime.min.replace(tzinfo=self.clock().tzinfo), {})), (parse_datetime(credential.get("validFrom")), credential), key=lambda t: t[0])
            except (PerseusError, KeyError, TypeError):
                continue
        with self.state.storage._read() as conn:
            for row in conn.execute(select(permission_status_lists)):
                if row.url not in chosen or row.valid_from >= chosen[row.url][0]:
                    chosen[row.url] = (row.valid_from, json.loads(row.credential_json))
        return [c for _, c in chosen.values()]

    def _with_fetched(self, lists: list[Mapping[str, Any]], credentials: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """``lists`` plus the status lists the credentials name that nobody pushed or stapled, fetched under the
        service's outbound policy (its own lists from storage). A list that cannot be had stays missing, and
        the status check then fails closed."""
        from perseus.verifier.status import fetch_status_list, status_entries

        have = {c.get("id") for c in lists}
        wanted = sorted({
            e["statusListCredential"]
            for c in credentials
            for e in status_entries(c)
            if isinstance(e, Mapping) and isinstance(e.get("statusListCredential"), str) and e["statusListCredential"] not in have
        })
        if not wanted:
            return lists
        fetcher = self.state.status_client(wanted)
        out = list(lists)
        for url in wanted:
            try:
                out.append(fetch_status_list(url, fetcher, max_bytes=fetcher.max_bytes))
            except PerseusError:
                continue
        return out

    # -- receiving (the CAP's side)

    def _receive(self, row: Any, presentation: Any, now: datetime) -> Outcome:
        carried, stapled = presentation_credentials(presentation) if isinstance(presentation, Mapping) else ([], [])
        lists = self._with_fetched(self._freshest_lists(stapled), carried)
        result = verify_presentation(
            presentation, challenge=row.challenge, domain=self.domain, recipient=self.did, status_lists=lists,
            registry=self.registry, loader=self.state.loader, now=now,
        )
        if not result.verified:
            raise self._fail(row, now, result.errors)
        credentials = presentation_credentials(presentation)[0]
        variables = json.loads(row.variables_json or "{}")
        missing = _unmet(variables, credentials)
        if missing:
            raise self._fail(row, now, [ProblemDetail("EXCHANGE_QUERY_NOT_MET", missing, "exchange")])
        covered = next((c.details.get("covered", []) for c in result.checks if c.check == "permission"), [])
        receipt = {
            "type": "ExchangeReceipt",
            "exchange": f"{self.domain}/workflows/{row.workflow_id}/exchanges/{row.exchange_id}",
            "recipient": self.did,
            "holder": presentation.get("holder"),
            "receivedAt": now.isoformat().replace("+00:00", "Z"),
            # digestSRI of the JCS bytes: which exact credential was received, without canonicalizing its readings again
            "credentials": [{"id": c.get("id"), "type": c.get("type"), "digestSRI": _sri(c)} for c in credentials],
            "permissions": covered,
        }
        self._complete(row, now, receipt, "completed")
        return Outcome(200, {"receipt": receipt})

    def _complete(self, row: Any, now: datetime, receipt: dict[str, Any], outcome: str) -> None:
        with self.state.storage._write() as conn:
            done = conn.execute(
                update(exchanges).where(exchanges.c.exchange_id == row.exchange_id, exchanges.c.state == "requested")
                .values(state="complete", holder=receipt.get("holder"), receipt_json=json.dumps(receipt), updated_at=now)
            ).rowcount
            if done != 1:
                raise _refuse(409, "EXCHANGE_OUT_OF_ORDER", f"exchange {row.exchange_id} was completed concurrently")
            self._event(conn, row.exchange_id, outcome)

    def receipt(self, exchange_id: str) -> dict[str, Any] | None:
        with self.state.storage._read() as conn:
            row = conn.execute(select(exchanges.c.receipt_json).where(exchanges.c.exchange_id == exchange_id)).first()
        return json.loads(row.receipt_json) if row is not None and row.receipt_json else None

    # -- releasing (the EDP's side)

    def _release(self, row: Any, presentation: Any, now: datetime) -> Outcome:
        stapled = presentation_credentials(presentation)[1] if isinstance(presentation, Mapping) else []
        lists = self._freshest_lists(stapled)
        result = verify_presentation(presentation, challenge=row.challenge, domain=self.domain, require_permission=False, status_lists=lists, registry=self.registry, loader=self.state.loader, now=now)
        if not result.verified:
            raise self._fail(row, now, result.errors)
        requester = presentation.get("holder")
        requester = requester.get("id") if isinstance(requester, Mapping) else requester
        if self.registry is not None:
            # The recipient of consumption must be accredited, now, for the role that receives it (a CAP).
            from perseus.verifier.accreditation import decide

            decision = decide(self.registry, str(requester), now, credential_types=("EmissionsReportCredential",))
            if not decision.authorized:
                raise self._fail(row, now, [ProblemDetail("RECIPIENT_NOT_ACCREDITED", f"{requester} is not accredited to receive this data: {decision.message}", "accreditation")], status=403)
        permissions = [c for c in presentation_credentials(presentation)[0] if PERMISSION_TYPE in _types(c)]
        if not permissions:
            raise self._fail(row, now, [ProblemDetail("PERMISSION_MISSING", "the request carries no permission; nothing is released without one", "permission")], status=403)
        variables = json.loads(row.variables_json or "{}")
        released: list[dict[str, Any]] = []
        reasons: list[ProblemDetail] = []
        for candidate in self._candidates(variables):
            check = permission_check([candidate, *permissions], recipient=requester, status_lists=lists, now=now, loader=self.state.loader)
            if check.outcome == "passed":
                released.append(candidate)
            else:
                reasons.extend(check.problems)
        if not released:
            reasons = list(dict.fromkeys(reasons)) or [ProblemDetail("NOTHING_TO_RELEASE", "this service issued no consumption credential for that supply point and period", "permission")]
            raise self._fail(row, now, reasons, status=403)
        from perseus.verifier.encryption import encrypt_for

        bundle = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"], "holder": self.did, "verifiableCredential": released}
        try:
            key = requester if not str(requester).startswith("did:web:") or self.registry is None else self.registry.resolve_did(requester)
            token = encrypt_for(bundle, key, kid=str(requester))
        except PerseusError as exc:
            raise self._fail(row, now, [ProblemDetail(exc.code, f"cannot encrypt to {requester}: {exc.message}", "encryption")])
        receipt = {
            "type": "ReleaseReceipt",
            "exchange": f"{self.domain}/workflows/{row.workflow_id}/exchanges/{row.exchange_id}",
            "releasedTo": requester,
            "releasedAt": now.isoformat().replace("+00:00", "Z"),
            "credentials": [c.get("id") for c in released],
            "permissions": sorted({p.get("id") for p in permissions}),
            "holder": requester,
        }
        self._complete(row, now, receipt, "released")
        return Outcome(200, {"encryptedPresentation": token, "receipt": receipt})

    def _candidates(self, variables: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Consumption credentials this service issued for the supply point and period asked for (newest first).

        Reads the most recent `_RELEASE_SCAN_LIMIT` entries of the issuance log: enough for a data provider's
        recent issuance on this service; an index by supply point is the step for more.
        """
        point = variables.get("supplyPoint")
        start = parse_datetime(variables["periodStart"]) if "periodStart" in variables else None
        end = parse_datetime(variables["periodEnd"]) if "periodEnd" in variables else None
        out = []
        with self.state.storage._read() as conn:
            rows = conn.execute(select(issued_credentials.c.credential_json).order_by(issued_credentials.c.issued_at.desc()).limit(_RELEASE_SCAN_LIMIT))
            for (text,) in rows:
                if "EnergyConsumptionCredential" not in text or (point is not None and point not in text):
                    continue
                credential = json.loads(text)
                subject = credential.get("credentialSubject") or {}
                sp = subject.get("supplyPoint") or {}
                if point is not None and point not in (sp.get("mpan"), sp.get("mprn")):
                    continue
                try:
                    if start is not None and parse_datetime(subject.get("periodStart")) > start:
                        continue
                    if end is not None and parse_datetime(subject.get("periodEnd")) < end:
                        continue
                except PerseusError:
                    continue
                out.append(credential)
        return out


def _types(document: Mapping[str, Any]) -> set[str]:
    value = document.get("type")
    return {t for t in (value if isinstance(value, list) else [value]) if isinstance(t, str)}


def _sri(credential: Mapping[str, Any]) -> str:
    import base64
    import hashlib

    return "sha256-" + base64.b64encode(hashlib.sha256(jcs_bytes(credential)).digest()).decode("ascii")


def _unmet(variables: Mapping[str, Any], credentials: Sequence[Mapping[str, Any]]) -> str | None:
    """Why the presented data does not answer the exchange's query (None when it does)."""
    data = [c for c in credentials if _types(c) & DATA_TYPES]
    if not data:
        return "the presentation carries no energy data, which is what the exchange asked for"
    point = variables.get("supplyPoint")
    for c in data:
        subject = c.get("credentialSubject") if isinstance(c.get("credentialSubject"), Mapping) else {}
        sp = subject.get("supplyPoint") if isinstance(subject.get("supplyPoint"), Mapping) else {}
        if point is not None and point not in (sp.get("mpan"), sp.get("mprn")):
            return f"{c.get('id')} is for supply point {sp.get('mpan') or sp.get('mprn')}, not {point} as asked"
        for key, later in (("periodStart", False), ("periodEnd", True)):
            if key in variables:
                try:
                    have, want = parse_datetime(subject.get(key), field=key), parse_datetime(variables[key], field=key)
                except PerseusError as exc:
                    return f"{c.get('id')}: {exc.message}"
                if (have < want) if later else (have > want):
                    return f"{c.get('id')} covers {subject.get('periodStart')} to {subject.get('periodEnd')}, not the period asked for"
    return None


def add_exchange_routes(app: Any, state: ServiceState, *, read_json: Callable[..., Any], authenticate: Callable[..., Any], blocking: Callable[..., Any]) -> ExchangeService:
    """Register the exchange, challenge and permission-status routes on ``app`` (called from app.py)."""
    service = ExchangeService(state)
    app.state.exchanges = service
    json_type = "application/json"

    @app.post(
        "/workflows/{workflow_id}/exchanges", status_code=201, summary="Create an exchange", tags=["exchanges"],
        responses=openapi.responses(400, 401, 404, 413, 415, ok=(201, "The exchange (its URL is in Location)", {"type": "object"})),
        openapi_extra=openapi.request_body({"type": "object", "properties": {"variables": {"type": "object"}}}, "What to ask for: supplyPoint, periodStart, periodEnd"),
    )
    async def create_exchange(workflow_id: str, request: Request, grant: Any = Depends(authenticate)) -> Response:  # noqa: B008
        body = (await read_json(request))[0]
        location, answer = await blocking(functools.partial(service.create, workflow_id, body))
        return Response(orjson.dumps(answer), status_code=201, media_type=json_type, headers={"Location": location})

    @app.post(
        "/workflows/{workflow_id}/exchanges/{exchange_id}", summary="Take part in an exchange", tags=["exchanges"],
        responses=openapi.responses(400, 403, 404, 409, 413, 415, ok=(200, "A presentation request, a receipt, or released data (encrypted)", {"type": "object"})),
        openapi_extra=openapi.request_body({"type": "object"}, "{} to get the presentation request; then {verifiablePresentation} or {encryptedPresentation}"),
    )
    async def exchange_step(workflow_id: str, exchange_id: str, request: Request) -> Response:
        body = (await read_json(request))[0]
        outcome = await blocking(functools.partial(service.step, workflow_id, exchange_id, body))
        return Response(orjson.dumps(outcome.body), status_code=outcome.status, media_type=json_type)

    @app.post(
        "/challenges", status_code=201, summary="A single-use challenge for a presentation", tags=["exchanges"],
        responses=openapi.responses(ok=(201, "The challenge and the domain to use with it", {"type": "object"})),
        openapi_extra=openapi.request_body({"type": "object"}, "{} (the VC API takes no parameters)"),
    )
    async def new_challenge() -> Response:
        challenge = await blocking(service.new_challenge)
        return Response(orjson.dumps({"challenge": challenge, "domain": service.domain}), status_code=201, media_type=json_type)

    @app.post(
        "/permissions/status-lists", summary="Push a signed status list (an SME's withdrawal, a provider's lists)", tags=["exchanges"],
        responses=openapi.responses(400, 409, 413, 415, ok=(200, "Whether it was kept (only a newer list replaces one)", {"type": "object"})),
        openapi_extra=openapi.request_body({"type": "object"}, "A signed BitstringStatusListCredential"),
    )
    async def push_status_list(request: Request) -> Response:
        body = (await read_json(request))[0]
        answer = await blocking(functools.partial(service.push_status_list, body))
        return Response(orjson.dumps(answer), media_type=json_type)

    return service

