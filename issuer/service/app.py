"""The FastAPI application: the W3C VC API endpoints over `ServiceState`.

    app = create_app(settings)                      # opens storage and keys now; closes them at shutdown
    uvicorn.run(app)                                # or `perseus serve`

Endpoints (every error is an RFC 9457 problem detail; see `problems`):

========================================  =====  =======================================================
``POST /credentials/issue``               token  ``{credential, options}`` → 201 ``{verifiableCredential}``
``POST /issuers/{profile}/credentials/issue``    the same, for one profile (one W3C suite per issuer)
``POST /credentials/verify``              open   ``{verifiableCredential, options}`` → 200 / 400 result
``POST /presentations/verify``            open   ``{verifiablePresentation, options}`` → 200 / 400 result
``POST /credentials/derive``              open   ``{verifiableCredential, options: {selectivePointers}}`` → 201 credential
``POST /credentials/status``              token  revoke / suspend / unsuspend → 200
``GET  /credentials/{id}``                token  the credential as issued, with its current status
``GET  /status/{list}``                   open   the signed BitstringStatusListCredential, cacheable
``POST /status/{list}/publish``           token  re-sign the list now → 204
``GET  /issuers``, ``/issuers/{profile}``  open   profiles: id, DID, suites, verification methods
``GET  /healthz``                         open   the database answers → 200, else 503
``GET  /openapi.json``                    open   this API, as OpenAPI 3.1
========================================  =====  =======================================================

Why the handlers look the way they do: bodies are read and parsed here (size limit first, orjson,
a nesting limit), never through pydantic models, because on the issue hot path model validation
would cost more than the rest of the HTTP handling. The blocking work — strict JSON-LD, RDFC,
signing, the database — runs in a bounded thread pool, so the event loop keeps accepting requests
and health checks while a large credential is canonicalized. Verification, open to anyone, has its own
gate (``admission.VerifyGate``: 503 with Retry-After past it) and, under ``perseus serve``, its own
worker process (``verify_pool.py``); its body is read, size-checked and parsed inside that gate.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar
from urllib.parse import quote

import anyio
import anyio.to_thread
import orjson
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from perseus.verifier.errors import PerseusError, StrictModeError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from . import openapi
from .admission import GuardMiddleware, VerifyGate
from .verify_pool import VerifyPool, verify_body
from .deriving import derive_credential_request, parse_derive_request
from .issuing import issue_credential, parse_issue_request
from .problems import PROBLEM_JSON, ServiceError, internal_error_response, problem_body, problem_from_error, problem_response
from .settings import Settings, TokenGrant, load_settings
from .state import STATUS_LIST_MEDIA_TYPE, ServiceState, open_service
from .statuses import apply_status_update, parse_status_update

__all__ = ["MAX_JSON_DEPTH", "app_from_environment", "create_app"]

log = logging.getLogger("perseus.service")

# Credentials are shallow (a Perseus consumption credential nests ~8 deep). A limit keeps hostile
# nesting away from the recursive JSON-LD expander, which would otherwise hit Python's recursion limit.
MAX_JSON_DEPTH = 100
JSON = "application/json"

T = TypeVar("T")


def create_app(settings: Settings | None = None, *, state: ServiceState | None = None) -> FastAPI:
    """The service application. Opens the service now (storage, keys, tokens), closes it at shutdown.

    ``state`` replaces opening one from ``settings`` (tests pass a state built with a cheap key store).
    """
    if state is None:
        state = open_service(settings or load_settings())
    settings = state.settings

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warming = None
        if app.state.verify_pool is not None:
            # Start the verification worker in the background (imports, storage, keys: seconds on a busy
            # machine) without delaying start-up; a verification that comes first waits for it.
            async def warm(pool: VerifyPool) -> None:
                if not await pool.start():
                    app.state.verify_pool = None  # could not start: verify in threads (logged)

            warming = asyncio.ensure_future(warm(app.state.verify_pool))
        try:
            yield
        finally:
            if warming is not None:
                warming.cancel()
            if app.state.verify_pool is not None:
                app.state.verify_pool.close()
            state.close()

    app = FastAPI(
        title="Perseus credentials issuer service",
        version="0.1.0",
        summary="W3C VC API: issue, verify and manage the status of Perseus energy-data credentials.",
        description="Issues W3C Verifiable Credentials 2.0 with Data Integrity proofs, keeps them in an issuance log with "
        "Bitstring Status List entries, and verifies credentials and presentations (status checked online). Errors are "
        "RFC 9457 problem details carrying the VC Data Model and Data Integrity error codes.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = state
    limiter = anyio.CapacityLimiter(16)
    bearer = HTTPBearer(auto_error=False, description="A token from PERSEUS_API_TOKENS (or the data directory's api-token file)")

    async def blocking(call: Callable[[], T], *, inline: bool = False) -> T:
        # CPU-bound steps of small requests run on the event loop's thread: a hop to a worker thread
        # costs more than it saves for ~1 ms of CPU under the GIL (measured: bench/bench_service.py).
        if inline:
            return call()
        return await anyio.to_thread.run_sync(call, limiter=limiter)

    def authenticate(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> TokenGrant:  # noqa: B008
        challenge = {"WWW-Authenticate": 'Bearer realm="perseus"'}
        if credentials is None:
            raise ServiceError(401, "UNAUTHORIZED", "this endpoint needs 'Authorization: Bearer <token>' with one of the service's API tokens", headers=challenge)
        grant = state.tokens.lookup(credentials.credentials)
        if grant is None:
            raise ServiceError(401, "UNAUTHORIZED", "the bearer token is not one of the service's API tokens", headers={"WWW-Authenticate": 'Bearer realm="perseus", error="invalid_token"'})
        return grant

    async def read_json(request: Request) -> tuple[Any, int]:
        return await _read_json(request, settings.max_body_bytes)

    _install_error_handlers(app)
    app.add_middleware(GuardMiddleware, max_requests=settings.max_requests)

    # Verification is open to anyone and costs up to seconds and hundreds of MB: it has its own gate,
    # and its body is read, bounded and parsed inside it (see admission.py).
    gate = VerifyGate(
        concurrency=settings.verify_concurrency,
        queue=settings.verify_queue,
        queue_timeout=settings.verify_queue_timeout,
        max_inflight_bytes=settings.verify_max_inflight_bytes,
    )
    app.state.verify_gate = gate
    # Worker processes when configured (`perseus serve` has one by default: see verify_pool.py for why),
    # else the thread pool.
    app.state.verify_pool = VerifyPool(settings, settings.verify_processes) if settings.verify_processes else None

    async def gated_verify(request: Request, presentation: bool) -> Response:
        declared = request.headers.get("content-length")
        size = int(declared) if declared is not None and declared.isdigit() and int(declared) <= settings.max_body_bytes else settings.max_body_bytes
        async with gate.slot(size):
            body = await _read_body(request, settings.max_body_bytes)
            limits = (settings.verify_max_values, settings.verify_max_depth)
            pool = app.state.verify_pool
            if pool is not None:
                status, out, headers, media_type = await pool.verify(bytes(body), presentation, *limits)
            else:
                status, out, headers, media_type = await blocking(functools.partial(verify_body, state, body, presentation, *limits))
        return Response(orjson.dumps(out), status_code=status, media_type=media_type, headers=headers)

    # -- issuing ------------------------------------------------------------------------------------------

    async def _issue(request: Request, grant: TokenGrant, profile_id: str | None) -> Response:
        body, size = await read_json(request)
        parsed = parse_issue_request(body)
        # A small credential is issued on the event loop's thread, start to finish: measured, that
        # beats handing the whole issue — or only its database waits — to the thread pool (2 workers,
        # 8 connections: 410-510/s inline, 430/s all in threads, 230-320/s waits in threads), since
        # every hop contends for the GIL. Large credentials (seconds of canonicalization) go to the
        # pool so the loop keeps answering health checks and small requests.
        call = functools.partial(issue_credential, state, parsed, grant, profile_id=profile_id)
        issued = await blocking(call, inline=size <= settings.inline_max_bytes)
        return Response(
            orjson.dumps({"verifiableCredential": issued.credential}),
            status_code=201,
            media_type=JSON,
            headers={"Location": f"/credentials/{quote(issued.credential_id, safe='')}"},
        )

    issue_doc: dict[str, Any] = {
        "status_code": 201,
        "responses": openapi.responses(400, 401, 403, 409, 413, 415, 503, ok=(201, "The signed credential", openapi.ISSUE_RESPONSE)),
        "openapi_extra": openapi.request_body(openapi.ISSUE_REQUEST, "The credential to sign (its issuer chooses the profile) and options"),
        "tags": ["issuing"],
    }

    @app.post("/credentials/issue", summary="Issue a credential", **issue_doc)
    async def issue(request: Request, grant: TokenGrant = Depends(authenticate)) -> Response:  # noqa: B008
        return await _issue(request, grant, None)

    @app.post("/issuers/{profile_id}/credentials/issue", summary="Issue a credential as one profile", **issue_doc)
    async def issue_as(profile_id: str, request: Request, grant: TokenGrant = Depends(authenticate)) -> Response:  # noqa: B008
        return await _issue(request, grant, profile_id)

    # -- verifying ----------------------------------------------------------------------------------------

    verify_responses = {
        200: {"description": "Verified", "content": {JSON: {"schema": openapi.VERIFICATION_RESULT}}},
        400: {
            "description": "Not verified (the result, with verified false), or a request that cannot be read (a problem detail)",
            "content": {JSON: {"schema": openapi.VERIFICATION_RESULT}, PROBLEM_JSON: {"schema": openapi.PROBLEM}},
        },
        **openapi.responses(413, 415, 503),
    }

    @app.post(
        "/credentials/verify",
        summary="Verify a credential",
        responses=verify_responses,
        openapi_extra=openapi.request_body(openapi.VERIFY_CREDENTIAL_REQUEST, "The credential and which checks to run"),
        tags=["verifying"],
    )
    async def verify(request: Request) -> Response:
        return await gated_verify(request, presentation=False)

    @app.post(
        "/credentials/derive",
        summary="Derive a selective disclosure (ecdsa-sd-2023)",
        status_code=201,
        responses=openapi.responses(400, 413, 415, ok=(201, "The derived credential", openapi.CREDENTIAL_WITH_PROOF)),
        openapi_extra=openapi.request_body(openapi.DERIVE_REQUEST, "A credential with its ecdsa-sd-2023 base proof, and what to reveal"),
        tags=["deriving"],
    )
    async def derive(request: Request) -> Response:
        parsed = parse_derive_request((await read_json(request))[0])
        derived = await blocking(functools.partial(derive_credential_request, state, parsed))
        return Response(orjson.dumps(derived), status_code=201, media_type=JSON)

    @app.post(
        "/presentations/verify",
        summary="Verify a presentation and the credentials in it",
        responses=verify_responses,
        openapi_extra=openapi.request_body(openapi.VERIFY_PRESENTATION_REQUEST, "The presentation, the challenge and domain its proof must answer"),
        tags=["verifying"],
    )
    async def verify_presentation(request: Request) -> Response:
        return await gated_verify(request, presentation=True)

    # -- status --------------------------------------------------------------------------------------------

    @app.post(
        "/credentials/status",
        summary="Revoke, suspend or unsuspend a credential",
        responses=openapi.responses(400, 401, 403, 404, 409, 413, 415, 503, ok=(200, "What changed, and the credential's status now", {"type": "object"})),
        openapi_extra=openapi.request_body(openapi.UPDATE_STATUS_REQUEST, "Which credential, which status entry, set or clear"),
        tags=["status"],
    )
    async def update_status(request: Request, grant: TokenGrant = Depends(authenticate)) -> Response:  # noqa: B008
        update = parse_status_update((await read_json(request))[0])
        body = await blocking(functools.partial(apply_status_update, state, update, grant))
        return Response(orjson.dumps(body), media_type=JSON)

    @app.get(
        "/status/{list_id}",
        summary="A status list credential (signed, cacheable)",
        responses={
            200: {"description": "The BitstringStatusListCredential", "content": {STATUS_LIST_MEDIA_TYPE: {"schema": {"type": "object"}}}},
            304: {"description": "Not modified (If-None-Match matched the ETag)"},
            **openapi.responses(404),
        },
        tags=["status"],
    )
    async def status_list(list_id: str, request: Request) -> Response:
        published = await blocking(functools.partial(state.publisher.publish, list_id))
        headers = dict(published.headers)
        if _etag_matches(request.headers.get("if-none-match"), headers.get("ETag")):
            return Response(status_code=304, headers=headers)
        return Response(orjson.dumps(published.credential), media_type=STATUS_LIST_MEDIA_TYPE, headers=headers)

    @app.post(
        "/status/{list_id}/publish",
        summary="Re-sign a status list now",
        status_code=204,
        responses=openapi.responses(401, 404),
        tags=["status"],
    )
    async def publish_status_list(list_id: str, grant: TokenGrant = Depends(authenticate)) -> Response:  # noqa: B008
        record = await blocking(functools.partial(state.storage.get_status_list, list_id))
        if not grant.allows(record.profile_id):
            raise ServiceError(403, "FORBIDDEN", f"this API token may not publish status lists of profile {record.profile_id!r}")
        await blocking(functools.partial(state.publisher.publish, list_id))
        return Response(status_code=204)

    # -- issued credentials, profiles, health --------------------------------------------------------------

    @app.get(
        "/credentials/{credential_id:path}",
        summary="A credential this service issued",
        responses=openapi.responses(401, 403, 404, ok=(200, "The credential as issued, and its status now", {"type": "object"})),
        tags=["issuing"],
    )
    async def get_credential(credential_id: str, grant: TokenGrant = Depends(authenticate)) -> Response:  # noqa: B008
        issued = await blocking(functools.partial(state.storage.get_issued, credential_id))
        if not grant.allows(issued.profile_id):
            raise ServiceError(403, "FORBIDDEN", f"this API token may not read credentials of profile {issued.profile_id!r}")
        body = {
            "verifiableCredential": orjson.Fragment(issued.credential_json),
            "credentialId": issued.credential_id,
            "profile": issued.profile_id,
            "issuedAt": issued.issued_at.isoformat().replace("+00:00", "Z"),
            "status": issued.status,
        }
        return Response(orjson.dumps(body), media_type=JSON)

    def describe(profile_id: str) -> dict[str, Any]:
        profile = state.storage.get_profile(profile_id)
        return {
            **profile.to_json(),
            "verificationMethods": state.keys.verification_methods(profile_id),
            "issueEndpoint": f"{state.base_url}/issuers/{quote(profile_id, safe='')}/credentials/issue",
        }

    @app.get("/issuers", summary="The issuer profiles: id, DID, suites, public keys", tags=["issuers"])
    async def issuers() -> Response:
        records = await blocking(state.profiles.refresh)
        body = await blocking(lambda: [describe(r.profile_id) for r in records])
        return Response(orjson.dumps({"issuers": body}), media_type=JSON)

    @app.get("/issuers/{profile_id}", summary="One issuer profile", responses=openapi.responses(404), tags=["issuers"])
    async def issuer(profile_id: str) -> Response:
        return Response(orjson.dumps(await blocking(functools.partial(describe, profile_id))), media_type=JSON)

    @app.get("/healthz", summary="Health: the database answers", responses=openapi.responses(503), tags=["service"])
    async def healthz() -> Response:
        def check() -> dict[str, Any]:
            return {"status": "ok", "database": state.storage.dialect, "schemaVersion": state.storage.schema_version()}

        return Response(orjson.dumps(await blocking(check)), media_type=JSON)

    @app.get("/", include_in_schema=False)
    async def index() -> Response:
        return Response(
            orjson.dumps({"service": "Perseus credentials issuer", "openapi": "/openapi.json", "issuers": "/issuers", "health": "/healthz"}),
            media_type=JSON,
        )

    # -- exchanges, challenges, permission status lists (issue 12: exchanges.py) ---------------------------
    from .exchanges import add_exchange_routes

    add_exchange_routes(app, state, read_json=read_json, authenticate=authenticate, blocking=blocking)
    return app


def app_from_environment() -> FastAPI:
    """The app for ``uvicorn --factory``: each worker process builds its settings from the environment."""
    settings = load_settings()
    sys.setswitchinterval(settings.switch_interval)  # this process serves requests: see Settings.switch_interval
    return create_app(settings)


# -- request bodies ------------------------------------------------------------------------------------------


async def _read_json(request: Request, limit: int) -> tuple[Any, int]:
    """The body parsed as JSON, and its size in bytes, refusing non-JSON media types (415), large bodies (413, before reading
    them when Content-Length says so) and nesting deeper than `MAX_JSON_DEPTH` (400)."""
    body = await _read_body(request, limit)
    return _parse_json(body, MAX_JSON_DEPTH), len(body)


async def _read_body(request: Request, limit: int) -> bytearray:
    """The body's bytes, refusing non-JSON media types (415) and bodies over `limit` (413, before reading them when
    Content-Length says so)."""
    content_type = request.headers.get("content-type")
    if content_type:
        main = content_type.split(";", 1)[0].strip().lower()
        if main != "application/json" and not main.endswith("+json"):
            raise ServiceError(415, "UNSUPPORTED_MEDIA_TYPE", f"the body must be JSON (Content-Type: application/json), not {main}")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ServiceError(413, "REQUEST_TOO_LARGE", f"the body is {declared} bytes; this service accepts at most {limit} bytes (PERSEUS_MAX_BODY_BYTES)")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ServiceError(413, "REQUEST_TOO_LARGE", f"the body is larger than {limit} bytes, the most this service accepts (PERSEUS_MAX_BODY_BYTES)")
    return body


def _parse_json(body: bytes | bytearray, max_depth: int) -> Any:
    """`body` parsed as JSON, refusing an empty body and nesting deeper than `max_depth` (400)."""
    if not body.strip():
        raise ServiceError(400, "PARSING_ERROR", "the request body is empty; send a JSON object")
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ServiceError(400, "PARSING_ERROR", f"the body is not valid JSON: {exc}") from None
    if not _depth_within(value, max_depth):
        raise ServiceError(400, "PARSING_ERROR", f"the JSON is nested more than {max_depth} levels deep; no credential is")
    return value


def _depth_within(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > limit:
                return False
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            if depth > limit:
                return False
            stack.extend((child, depth + 1) for child in item)
    return True


def _etag_matches(header: str | None, etag: str | None) -> bool:
    if not header or not etag:
        return False
    candidates = [part.strip().removeprefix("W/") for part in header.split(",")]
    return "*" in candidates or etag in candidates


# -- errors --------------------------------------------------------------------------------------------------


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(PerseusError)
    async def perseus_error(request: Request, error: PerseusError) -> Response:
        if isinstance(error, StrictModeError):
            body = problem_body(400, error.code, error.message)
            body.update(term=error.term, path=error.path)
            return Response(orjson.dumps(body), status_code=400, media_type=PROBLEM_JSON)
        if isinstance(error, ServiceError) and error.http_status == 503:
            # A deliberate refusal (the verification gate is full): its own sentence and Retry-After,
            # not the generic "database busy" answer problem_from_error gives other 503s.
            return problem_response(503, error.code, error.message, headers=error.headers)
        return problem_from_error(error)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        codes = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
        detail = {
            404: f"there is no endpoint {request.url.path}; GET /openapi.json lists them",
            405: f"{request.method} is not allowed on {request.url.path}",
        }.get(error.status_code, str(error.detail))
        return problem_response(error.status_code, codes.get(error.status_code, "HTTP_ERROR"), detail, headers=getattr(error, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return problem_response(400, "PARSING_ERROR", f"{where}: {first.get('msg', 'invalid value')}")

    @app.exception_handler(ClientDisconnect)
    async def client_gone(request: Request, error: ClientDisconnect) -> Response:
        # The client hung up before sending its whole body: nobody will read an answer.
        log.debug("client disconnected during %s %s", request.method, request.url.path)
        return Response(status_code=400)

    @app.exception_handler(RecursionError)
    async def too_deep(request: Request, error: RecursionError) -> Response:
        return problem_response(400, "PARSING_ERROR", "the document is nested too deeply to process")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        return internal_error_response(error)
