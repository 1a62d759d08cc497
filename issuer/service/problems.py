"""Every error the service answers with is an RFC 9457 problem detail (``application/problem+json``).

Fields: ``type`` (a URL per error code: the VC Data Model's and Data Integrity's own codes keep
their specifications' URLs, see `perseus.verifier.errors.error_type_url`), ``title``, ``status``,
``detail`` (a sentence a person can act on), ``code`` (the bare code, for programs), and where it
helps ``errors`` (every problem found, not only the first).

Why one mapping for every path: a client — or a W3C test suite — must never see an HTML error page
or a bare 500 for input it got wrong. Bad input is a 4xx naming the field; the catch-all turns
anything unexpected into a 500 that says only an incident number, while the log gets the
traceback under that number (internals such as SQL or file paths never reach the client).
"""

from __future__ import annotations

import logging
import secrets
import traceback
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from perseus.verifier.errors import PerseusError, error_type_url
from perseus.verifier.result import ProblemDetail
from starlette.responses import Response

__all__ = ["PROBLEM_JSON", "ServiceError", "internal_error_response", "problem_from_error", "problem_response"]

PROBLEM_JSON = "application/problem+json"
_LOGGED_FRAMES = 5
log = logging.getLogger("perseus.service")

_STATUS_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    411: "Length required",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    500: "Internal error",
    503: "Service unavailable",
}


class ServiceError(PerseusError):
    """An error the service raises on purpose, with the HTTP status to answer with.

    ``errors`` holds further problem details (all the structural problems of a credential, say)
    beside the headline ``code`` and message. ``headers`` go on the response (WWW-Authenticate).
    """

    code = "BAD_REQUEST"

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        errors: Sequence[ProblemDetail] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.http_status = status
        self.errors = list(errors)
        self.headers = dict(headers or {})


def problem_body(status: int, code: str, detail: str, *, errors: Sequence[ProblemDetail] = (), title: str | None = None) -> dict[str, Any]:
    if title is None:
        title = ProblemDetail(code, detail).to_json()["title"]
        if title == code:  # a code with no title of its own: use the HTTP status's
            title = _STATUS_TITLES.get(status, "Error")
    body: dict[str, Any] = {"type": error_type_url(code), "title": title, "status": status, "code": code, "detail": detail}
    if errors:
        body["errors"] = [problem.to_json() for problem in errors]
    return body


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    errors: Sequence[ProblemDetail] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    return Response(
        content=orjson.dumps(problem_body(status, code, detail, errors=errors)),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=dict(headers or {}),
    )


def problem_from_error(error: PerseusError, *, default_status: int = 400) -> Response:
    """The response for a `PerseusError`: its own ``http_status`` if it has one (storage, keys), else
    ``default_status``. A 5xx never repeats the message: it goes to the log with an incident id."""
    status = int(getattr(error, "http_status", default_status))
    if status >= 500:
        if status == 503:
            log.warning("service unavailable: %s: %s", error.code, error.message)
            return problem_response(
                503, error.code, "the database is busy or unreachable; try again shortly", headers={"Retry-After": "1"}
            )
        return internal_error_response(error)
    errors = getattr(error, "errors", ())
    headers = getattr(error, "headers", None)
    return problem_response(status, error.code, error.message, errors=errors, headers=headers)


def internal_error_response(error: BaseException) -> Response:
    """A 500 that names an incident id; the traceback is logged under the same id."""
    incident = secrets.token_hex(6)
    # One short record per incident: a request that keeps failing must not flood the log (a chained
    # database error's traceback ran to ~220 lines each time). The innermost frames say where.
    tb = error.__traceback__
    frames = len(traceback.extract_tb(tb))
    for _ in range(max(0, frames - _LOGGED_FRAMES)):
        tb = tb.tb_next if tb is not None else None
    error.__cause__, error.__suppress_context__ = None, True  # the chain repeats it from the driver's side
    log.error("incident %s: unexpected %s while handling a request", incident, type(error).__name__, exc_info=(type(error), error, tb))
    return problem_response(
        500,
        "INTERNAL_ERROR",
        f"the service failed unexpectedly (incident {incident}); the operator can find the cause in the service log",
    )
