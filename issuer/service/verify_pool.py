"""Verification in worker processes, so that anonymous verify cannot slow issuing down.

Why processes and not threads: verification is CPU-bound Python (JSON parsing, JSON-LD expansion,
canonicalization, sorting hundreds of thousands of quads). In threads it shares the interpreter lock with
the event loop that issues credentials and answers health checks: measured with `bench/bench_flood.py`,
16 clients sending 8 MB verify requests pushed issuing from ~60 ms to a 9 s median even with one
verification running at a time, because the loop waits for the lock after every socket and database call
and long C calls (a sort of 400,000 quads, parsing 8 MB) hold it for up to seconds. A worker process has
its own interpreter: the operating system shares the CPU fairly, and the body's memory lives and dies in
the worker, outside the service process.

Each worker opens its own `ServiceState` from the service's settings once (storage, keys for its own
status lists, the document loader) and then, per request, takes the body's *bytes*: the estimate of its
size, the JSON parse and the verification all happen in the worker, inside the verification gate
(``admission.VerifyGate`` still decides how many run and wait). Answers come back as plain data
(status, body, headers), never as exceptions, so nothing depends on pickling error classes. A worker
that dies (killed, out of memory) fails only its request — 503 with Retry-After — and the pool is
rebuilt for the next one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
import secrets
import contextlib
import os
import signal
from concurrent.futures.process import BrokenProcessPool
from typing import Any

__all__ = ["VerifyPool", "verify_body"]

log = logging.getLogger("perseus.service")

_STATE: Any = None  # the worker process's ServiceState


# How much lower the verification worker's CPU priority is than the service's: anonymous verification of
# large documents is CPU-bound and can wait; issuing and health checks on the same cores must not.
WORKER_NICENESS = 10


def _start_worker(settings: Any) -> None:
    """Worker initializer: ignore Ctrl-C (the parent shuts the pool down), lower priority, open the service once."""
    global _STATE
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError, AttributeError):  # not on every platform; priority is a preference
        os.nice(WORKER_NICENESS)
    from .state import open_service

    _STATE = open_service(settings)


def verify_body(state: Any, body: bytes, presentation: bool, max_values: int, max_depth: int) -> tuple[int, dict[str, Any], dict[str, str], str]:
    """(status, JSON body, headers, media type) for a verify request's raw `body`; never raises for bad input.

    Shared by the worker processes and the in-process (thread) path, so both answer alike.
    """
    from perseus.verifier.errors import PerseusError, StrictModeError
    from perseus.verifier.limits import DocumentLimits, document_limits, estimate_json_values

    from . import app as app_module  # its JSON parser and depth limit: the body is parsed as the routes parse it
    from .problems import PROBLEM_JSON, ServiceError, problem_body
    from .verifying import parse_verify_request, verify_credential_request, verify_presentation_request

    limits = DocumentLimits(max_values=max_values, max_depth=max_depth)
    try:
        if estimate_json_values(body) > limits.max_values:
            raise ServiceError(
                400,
                "DOCUMENT_TOO_LARGE",
                f"the body holds more than {limits.max_values:,} JSON values, the most this service verifies (PERSEUS_VERIFY_MAX_VALUES)",
            )
        value = app_module._parse_json(body, min(app_module.MAX_JSON_DEPTH, limits.max_depth))
        with document_limits(limits):
            if presentation:
                document, options = parse_verify_request(value, presentation=True)
                status, out = verify_presentation_request(state, document, options)
            else:
                document, options = parse_verify_request(value)
                status, out = verify_credential_request(state, document, options)
        return status, out, {}, "application/json"
    except ServiceError as error:
        problem = problem_body(error.http_status, error.code, error.message, errors=error.errors)
        return error.http_status, problem, dict(error.headers), PROBLEM_JSON
    except StrictModeError as error:
        problem = problem_body(400, error.code, error.message)
        problem.update(term=error.term, path=error.path)
        return 400, problem, {}, PROBLEM_JSON
    except PerseusError as error:
        if int(getattr(error, "http_status", 400)) >= 500:
            return _internal(error)
        return 400, problem_body(400, error.code, error.message), {}, PROBLEM_JSON
    except RecursionError:
        return 400, problem_body(400, "PARSING_ERROR", "the document is nested too deeply to process"), {}, PROBLEM_JSON
    except MemoryError:
        return 503, problem_body(503, "VERIFIER_BUSY", "the verifier ran out of memory for this document; try a smaller one"), {"Retry-After": "5"}, PROBLEM_JSON
    except Exception as error:  # noqa: BLE001 - answered as a 500 with an incident id, the traceback logged
        return _internal(error)


def _internal(error: BaseException) -> tuple[int, dict[str, Any], dict[str, str], str]:
    from .problems import PROBLEM_JSON, problem_body

    incident = secrets.token_hex(6)
    log.error("incident %s: unexpected %s while verifying", incident, type(error).__name__, exc_info=error)
    detail = f"the service failed unexpectedly (incident {incident}); the operator can find the cause in the service log"
    return 500, problem_body(500, "INTERNAL_ERROR", detail), {}, PROBLEM_JSON


def _ready() -> bool:
    return _STATE is not None


def _verify_in_worker(body: bytes, presentation: bool, max_values: int, max_depth: int) -> tuple[int, dict[str, Any], dict[str, str], str]:
    return verify_body(_STATE, body, presentation, max_values, max_depth)


class VerifyPool:
    """`processes` worker processes (spawned, not forked: the service process has threads and open
    database connections that a fork would copy)."""

    def __init__(self, settings: Any, processes: int) -> None:
        self.settings = settings
        self.processes = processes
        self._executor: concurrent.futures.ProcessPoolExecutor | None = None

    def _pool(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._executor is None:
            self._executor = concurrent.futures.ProcessPoolExecutor(
                max_workers=self.processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(self.settings,),
            )
        return self._executor

    async def start(self, timeout: float = 120.0) -> bool:
        """Start the workers and wait until they have opened the service (imports, storage, keys: seconds on
        a busy machine), so the first verification does not pay for it; False if they could not."""
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(asyncio.gather(*(loop.run_in_executor(self._pool(), _ready) for _ in range(self.processes))), timeout)
            return True
        except Exception as error:  # noqa: BLE001 - reported, and the service verifies in threads instead
            log.error("the verification worker process could not start (%s: %s); verifying in threads instead", type(error).__name__, error)
            self.close()
            return False

    async def verify(self, body: bytes, presentation: bool, max_values: int, max_depth: int) -> tuple[int, dict[str, Any], dict[str, str], str]:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool(), _verify_in_worker, bytes(body), presentation, max_values, max_depth)
        except BrokenProcessPool:
            log.error("a verification worker process died (killed, or out of memory); starting new ones")
            self.close()
            from .problems import PROBLEM_JSON, problem_body

            detail = "the verification worker stopped while verifying this document; try again shortly"
            return 503, problem_body(503, "VERIFIER_BUSY", detail), {"Retry-After": "5"}, PROBLEM_JSON

    def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
