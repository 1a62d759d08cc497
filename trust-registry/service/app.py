"""The registry's query service: TRQP v2 authorization queries, entities, snapshots, and the admin API.

* ``POST /authorization`` — Trust over IP Trust Registry Query Protocol v2: ``{entity_id, authority_id,
  action, resource, context: {time}}`` → ``{…, authorized, time_requested, time_evaluated, message,
  context}``. The answer is also signed by the operator (a Data Integrity proof, as snapshots are) and
  carries ``expires_at``, so a recipient can keep it as evidence (TRQP issues #182, #183). IB1 mapping:
  entity = member URL (or a DID it signs with), authority = trust framework URL, action = ``issue``,
  resource = role URL (or a role name the framework's configuration knows).
* ``GET /entities/{id}`` — one entity with its keys and role history, from the latest snapshot.
* ``GET /snapshots/latest`` and ``GET /snapshots/{sequence}`` — the signed snapshots, with ``ETag`` (the
  snapshot digest) and ``Cache-Control`` (the latest: until its nextUpdate, at most 5 minutes; an old one:
  immutable), answering ``304`` to ``If-None-Match``.
* ``/admin/…`` — add entities and keys, grant, suspend, revoke, reinstate and end roles, retire and revoke
  keys. Bearer tokens (401 without, 403 unknown); each change is audited with the token's name as the
  actor and the request's ``reason``, and is followed by a new signed snapshot (one transaction).

Answers come from the latest snapshot held in memory (re-read when this process changes something, and
at most a second after another replica does), so a TRQP answer is exactly what an offline verifier holding
that snapshot would conclude. Every error is an RFC 9457 problem detail with a code and a sentence.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from perseus.verifier.accreditation import decide_role, default_frameworks, key_problem
from perseus.verifier.dates import format_datetime, parse_datetime, utc_now
from perseus.verifier.errors import PerseusError, error_type_url
from perseus.verifier.registry_snapshot import (
    SNAPSHOT_CONTEXT,
    RegistrySnapshot,
    TrustAnchor,
    canonical_json,
    load_snapshot,
    sign_snapshot,
)

from ..errors import InvalidInputError, RegistryError
from ..storage.store import RegistryStore

__all__ = ["create_app"]

MAX_BODY_BYTES = 1 << 20
PROBLEM = "application/problem+json"


class Problem(Exception):
    def __init__(self, status: int, code: str, detail: str, title: str = "") -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.title = status, code, detail, title


def _problem_response(status: int, code: str, detail: str, title: str = "", headers: Mapping[str, str] | None = None) -> JSONResponse:
    body = {"type": error_type_url(code), "title": title or code.replace("_", " ").capitalize(), "status": status, "detail": detail, "code": code}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=dict(headers or {}))


class SnapshotCache:
    """The latest snapshot, parsed and indexed once; refreshed after a local change or within `ttl` of a remote one."""

    def __init__(self, store: RegistryStore, anchor: TrustAnchor, ttl: float = 1.0) -> None:
        self.store, self.anchor, self.ttl = store, anchor, ttl
        self._lock = threading.Lock()
        self._checked = 0.0
        self.sequence = -1
        self.digest = ""
        self.text = ""
        self.snapshot: RegistrySnapshot | None = None

    def refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < self.ttl and self.snapshot is not None:
            return
        with self._lock:
            if not force and time.monotonic() - self._checked < self.ttl and self.snapshot is not None:
                return
            sequence = self.store.latest_sequence()
            self._checked = time.monotonic()
            if sequence is None:
                raise Problem(503, "REGISTRY_NO_SNAPSHOT", "the registry has published no snapshot yet; run `perseus registry init`")
            if sequence != self.sequence:
                latest = self.store.snapshot_text(sequence)
                assert latest is not None
                # Never stale for the operator itself: its own database is the authority.
                loaded = load_snapshot(latest[2], trust_anchor=self.anchor, now=parse_datetime(json.loads(latest[2])["issued"]))
                if not loaded.usable:
                    raise Problem(503, "REGISTRY_SNAPSHOT_UNUSABLE", "; ".join(p.detail for p in loaded.problems))
                self.sequence, self.digest, self.text, self.snapshot = latest[0], latest[1], latest[2], loaded

    def current(self) -> RegistrySnapshot:
        self.refresh()
        assert self.snapshot is not None
        return self.snapshot


def create_app(store: RegistryStore, *, tokens: Mapping[str, str], answer_ttl: timedelta = timedelta(minutes=5),
               max_cache_seconds: int = 300) -> FastAPI:
    """The service over `store` (which must hold the operator's key). `tokens` maps bearer token → actor name."""
    if store.signer is None:
        raise InvalidInputError("the service needs the operator's key to sign answers")
    signer = store.signer
    anchor = TrustAnchor((signer.public_key,))
    cache = SnapshotCache(store, anchor)
    app = FastAPI(title="Perseus trust registry", version="1", description=__doc__.split("\n\n")[0])
    app.state.cache = cache

    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> JSONResponse:
        return _problem_response(exc.status, exc.code, exc.detail, exc.title)

    @app.exception_handler(RegistryError)
    async def _registry_error(_: Request, exc: RegistryError) -> JSONResponse:
        return _problem_response(exc.status, exc.code, exc.message)

    @app.exception_handler(PerseusError)
    async def _perseus_error(_: Request, exc: PerseusError) -> JSONResponse:
        return _problem_response(400, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _problem_response(400, "PARSING_ERROR", f"the request is malformed: {exc.errors()[0].get('msg', 'invalid')}")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
        return _problem_response(exc.status_code, code, str(exc.detail))

    async def body(request: Request) -> dict[str, Any]:
        raw = await request.body()
        if len(raw) > MAX_BODY_BYTES:
            raise Problem(413, "REQUEST_TOO_LARGE", f"the request body is over {MAX_BODY_BYTES} bytes")
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise Problem(400, "PARSING_ERROR", "the request body is not JSON") from None
        if not isinstance(data, dict):
            raise Problem(400, "PARSING_ERROR", "the request body must be a JSON object")
        return data

    def text_field(data: Mapping[str, Any], name: str, *, required: bool = True) -> Any:
        value = data.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            raise Problem(400, "PARSING_ERROR", f"'{name}' must be a non-empty string")
        return value

    def time_field(data: Mapping[str, Any], name: str, *, required: bool = False, default: datetime | None = None) -> Any:
        value = data.get(name)
        if value is None:
            if required:
                raise Problem(400, "PARSING_ERROR", f"'{name}' is required (a date and time such as 2025-01-31T00:00:00Z)")
            return default
        try:
            return parse_datetime(value, field=name)
        except PerseusError as exc:
            raise Problem(400, "PARSING_ERROR", exc.message) from None

    # -- TRQP ----------------------------------------------------------------------------------------

    @app.post("/authorization")
    async def authorization(request: Request) -> JSONResponse:
        data = await body(request)
        entity_id = text_field(data, "entity_id")
        authority_id = text_field(data, "authority_id")
        action = text_field(data, "action")
        resource = text_field(data, "resource")
        context = data.get("context") or {}
        if not isinstance(context, dict):
            raise Problem(400, "PARSING_ERROR", "'context' must be a JSON object")
        evaluated = utc_now()
        asked = time_field(context, "time", default=evaluated)
        snapshot = cache.current()
        answer = _evaluate(snapshot, entity_id, authority_id, action, resource, asked)
        response = {
            "@context": SNAPSHOT_CONTEXT,
            "type": "TrustRegistryAuthorization",
            "entity_id": entity_id,
            "authority_id": authority_id,
            "action": action,
            "resource": resource,
            "authorized": answer[0],
            "time_requested": format_datetime(asked),
            "time_evaluated": format_datetime(evaluated),
            "message": answer[1],
            "context": {**{k: v for k, v in context.items() if isinstance(k, str)}, "time": format_datetime(asked),
                        "snapshot": {"sequence": snapshot.sequence, "issued": snapshot.issued_text, "digest": snapshot.digest}},
            "expires_at": format_datetime(evaluated + answer_ttl),
        }
        if answer[2]:
            response["code"] = answer[2]
        signed = sign_snapshot(response, signer, created=evaluated)
        return Response(canonical_json(signed), media_type="application/json", headers={"Cache-Control": "no-store"})

    def _evaluate(snapshot: RegistrySnapshot, entity_id: str, authority: str, action: str, resource: str, at: datetime) -> tuple[bool, str, str]:
        if action != "issue":
            return False, f"action {action!r} is not recorded by this registry (it answers 'issue')", "REGISTRY_UNKNOWN_ACTION"
        if authority not in snapshot.frameworks:
            return False, f"this registry does not cover the trust framework {authority}", "REGISTRY_UNKNOWN_AUTHORITY"
        config = default_frameworks().get(authority)
        role_url = resource
        if config is not None and "://" not in resource:
            try:
                role_url = config.resolve_role(resource)
            except PerseusError as exc:
                return False, exc.message, "REGISTRY_UNKNOWN_ROLE"
        found = snapshot.by_id.get(entity_id)
        if found is None and entity_id.startswith("did:"):
            pair = snapshot.lookup(entity_id.split("#", 1)[0])
            if pair is not None:
                found = pair[0]
                why = key_problem(pair[1], entity_id if "#" in entity_id else None, at)
                if why is not None:
                    return False, f"{found.get('legalName')} is in the registry, but {why}", "REGISTRY_KEY_NOT_VALID"
        if found is None:
            return False, f"{entity_id} is not in the registry", "REGISTRY_ENTITY_NOT_FOUND"
        decision = decide_role(found, [(authority, role_url.rsplit("/", 1)[-1], (role_url,))], at, time_label="the time asked about")
        return decision.authorized, decision.message, decision.code

    # -- entities and snapshots ------------------------------------------------------------------------

    @app.get("/entities/{entity_id:path}")
    async def entity(entity_id: str) -> JSONResponse:
        snapshot = cache.current()
        found = snapshot.by_id.get(entity_id)
        if found is None and entity_id.startswith("did:"):
            pair = snapshot.lookup(entity_id)
            found = pair[0] if pair else None
        if found is None:
            raise Problem(404, "REGISTRY_NOT_FOUND", f"there is no entity {entity_id!r} in registry snapshot #{snapshot.sequence}")
        return JSONResponse({"entity": found, "snapshot": {"sequence": snapshot.sequence, "issued": snapshot.issued_text}},
                            headers={"Cache-Control": f"public, max-age={min(60, max_cache_seconds)}"})

    def _snapshot_response(request: Request, sequence: int, digest: str, text: str, cache_control: str) -> Response:
        etag = f'"{digest}"'
        headers = {"ETag": etag, "Cache-Control": cache_control}
        if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
            return Response(status_code=304, headers=headers)
        return Response(text, media_type="application/json", headers=headers)

    @app.get("/snapshots/latest")
    async def latest(request: Request) -> Response:
        cache.refresh()
        snapshot = cache.current()
        left = int((parse_datetime(snapshot.next_update_text) - utc_now()).total_seconds())
        return _snapshot_response(request, cache.sequence, cache.digest, cache.text, f"public, max-age={max(0, min(max_cache_seconds, left))}")

    @app.get("/snapshots/{sequence}")
    async def by_sequence(request: Request, sequence: str) -> Response:
        if not sequence.isdigit() or len(sequence) > 12:
            raise Problem(400, "PARSING_ERROR", f"{sequence!r} is not a snapshot sequence number")
        found = store.snapshot_text(int(sequence))
        if found is None:
            raise Problem(404, "REGISTRY_NOT_FOUND", f"there is no snapshot #{sequence}")
        return _snapshot_response(request, *found, "public, max-age=31536000, immutable")

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        snapshot = cache.current()
        return {"status": "ok", "snapshot": snapshot.sequence}

    # -- admin -----------------------------------------------------------------------------------------

    def actor(request: Request) -> str:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Problem(401, "UNAUTHORIZED", "the admin API needs 'Authorization: Bearer <token>'")
        for known, name in tokens.items():
            if secrets.compare_digest(known.encode(), token.strip().encode()):
                return name
        raise Problem(403, "FORBIDDEN", "this token may not change the registry")

    def changed(status: int = 200) -> JSONResponse:
        cache.refresh(force=True)
        return JSONResponse({"snapshot": cache.sequence, "digest": cache.digest}, status_code=status)

    def _framework(data: Mapping[str, Any]) -> str:
        frameworks = store.settings.frameworks
        framework = data.get("framework") or (frameworks[0] if len(frameworks) == 1 else None)
        if not isinstance(framework, str):
            raise Problem(400, "PARSING_ERROR", f"'framework' is required: one of {', '.join(frameworks)}")
        return framework

    def _role(framework: str, value: str) -> str:
        config = default_frameworks().get(framework)
        if config is None or "://" in value:
            return value
        try:
            return config.resolve_role(value)
        except PerseusError as exc:
            raise Problem(400, "REGISTRY_INVALID_INPUT", exc.message) from None

    @app.post("/admin/entities")
    async def add_entity(request: Request) -> JSONResponse:
        who = actor(request)
        data = await body(request)
        dids = data.get("dids") or []
        if not isinstance(dids, list) or not all(isinstance(d, dict) for d in dids):
            raise Problem(400, "PARSING_ERROR", "'dids' must be a list of {did, validFrom, didDocument?}")
        parsed = [(text_field(d, "did"), time_field(d, "validFrom", required=True), d.get("didDocument")) for d in dids]
        store.add_entity(text_field(data, "id"), text_field(data, "legalName"), assurance_level=text_field(data, "assuranceLevel", required=False),
                         dids=parsed, actor=who, reason=text_field(data, "reason"))
        return changed(201)

    @app.post("/admin/entities/{entity_id:path}/keys/retire")
    async def retire_key(entity_id: str, request: Request) -> JSONResponse:
        who = actor(request)
        data = await body(request)
        store.retire_key(entity_id, text_field(data, "did"), at=time_field(data, "at", default=utc_now()), actor=who, reason=text_field(data, "reason"))
        return changed()

    @app.post("/admin/entities/{entity_id:path}/keys/revoke")
    async def revoke_key(entity_id: str, request: Request) -> JSONResponse:
        who = actor(request)
        data = await body(request)
        store.revoke_key(entity_id, text_field(data, "did"), effective=time_field(data, "from", required=True), actor=who,
                         reason=text_field(data, "reason"))
        return changed()

    @app.post("/admin/entities/{entity_id:path}/keys")
    async def add_key(entity_id: str, request: Request) -> JSONResponse:
        who = actor(request)
        data = await body(request)
        document = data.get("didDocument")
        if document is not None and not isinstance(document, dict):
            raise Problem(400, "PARSING_ERROR", "'didDocument' must be a JSON object")
        store.add_did(entity_id, text_field(data, "did"), valid_from=time_field(data, "validFrom", required=True),
                      valid_until=time_field(data, "validUntil"), did_document=document, actor=who, reason=text_field(data, "reason"))
        return changed(201)

    @app.post("/admin/entities/{entity_id:path}/roles/status")
    async def role_status(entity_id: str, request: Request) -> JSONResponse:
        who = actor(request)
        data = await body(request)
        framework = _framework(data)
        status = text_field(data, "status")
        if status not in ("active", "suspended", "revoked"):
            raise Problem(400, "PARSING_ERROR", "'status' must be active, suspended or revoked")
        store.set_status(entity_id, framework, _role(framework, text_field(data, "role")), status,
                         effective=time_field(data, "from", default=utc_now()), actor=who, reason=text_field(data, "reason"))
        return changed()

    @app.post("/admin/entities/{entity_id:path}/roles/end")
    async def end_role(entity_id: str, request: Request) -> JSONResponse:
        who = actor(request)
        data = await body(request)
        framework = _framework(data)
        store.end_role(entity_id, framework, _role(framework, text_field(data, "role")), at=time_field(data, "at", default=utc_now()),
                       actor=who, reason=text_field(data, "reason"))
        return changed()

    @app.post("/admin/entities/{entity_id:path}/roles")
    async def grant(entity_id: str, request: Request) -> JSONResponse:
        who = actor(request)
        data = await body(request)
        framework = _framework(data)
        store.grant(entity_id, framework, _role(framework, text_field(data, "role")), valid_from=time_field(data, "validFrom", default=utc_now()),
                    valid_until=time_field(data, "validUntil"), actor=who, reason=text_field(data, "reason"))
        return changed(201)

    @app.get("/admin/audit")
    async def audit(request: Request, limit: int = 100) -> JSONResponse:
        actor(request)
        return JSONResponse({"entries": store.audit_log(max(1, min(limit, 1000)))})

    return app


def generate_token() -> str:
    return secrets.token_urlsafe(32)
