"""Verifying one input of a batch into a plain record, and a chunk of inputs in a worker.

A record is a JSON object with nothing but strings, numbers, booleans, lists and objects, so it crosses
process boundaries cheaply and is one line of the results file::

    {"input": "book/sme-17.json", "id": "urn:uuid:…", "kind": "credential", "outcome": "not-verified",
     "verified": false, "checks": {"proof": {"outcome": "failed", "codes": ["PROOF_VERIFICATION_ERROR"]}, …},
     "problems": [{"check": "proof", "code": "PROOF_VERIFICATION_ERROR", "detail": "…"}]}

``outcome`` is ``verified``, ``not-verified`` (a credential that fails a check) or ``error`` (the input
could not be read or parsed, or its worker died twice): the same split as ``perseus verify``'s exit
codes 0, 1 and 2. An input is a credential, a verifiable presentation (its proof with the
``authentication`` purpose and its holder, then each credential in it, the others serving as linked
inputs), or a bundle ``{"credential": …, "inputs": […], "statusLists": […]}`` (or a folder holding a
``credential.json``): the credential verified with its linked credentials for connectedness.

`verify_input` never raises: whatever goes wrong with one input is that input's record.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from perseus.verifier.credential import credential_problems
from perseus.verifier.errors import PerseusError
from perseus.verifier.jsonld import expand
from perseus.verifier.proofs import ProofExpectations, proofs_of, verify_proofs
from perseus.verifier.result import CheckResult, ProblemDetail, VerificationResult
from perseus.verifier.verify import verify_credential

from .context import BatchOptions, VerificationContext, context_for
from .inputs import InputRef

VERIFIED, NOT_VERIFIED, ERROR = "verified", "not-verified", "error"
# Codes of failures that are not about the credential but about the batch itself.
WORKER_LOST = "WORKER_LOST"
INTERNAL_ERROR = "INTERNAL_ERROR"

VerifyInput = Callable[[InputRef, VerificationContext], dict[str, Any]]


@dataclass
class ChunkResult:
    """A worker's answer for one chunk: a record per input and the seconds spent verifying them
    (excluding building the context, so chunk sizing sees the steady state)."""

    records: list[dict[str, Any]]
    seconds: float


def run_chunk(refs: tuple[InputRef, ...], options: BatchOptions, verify: VerifyInput | None = None) -> ChunkResult:
    """What a worker runs for one task: every input of the chunk, with this process's context."""
    verify = verify or verify_input
    context = context_for(options)
    start = time.perf_counter()
    records = [verify(ref, context) for ref in refs]
    return ChunkResult(records, time.perf_counter() - start)


def error_record(ref: InputRef, code: str, detail: str) -> dict[str, Any]:
    """The record of an input that could not be verified at all."""
    return {"input": ref.name, "kind": "unknown", "outcome": ERROR, "verified": False, "checks": {}, "problems": [{"check": "input", "code": code, "detail": detail}]}


def verify_input(ref: InputRef, context: VerificationContext) -> dict[str, Any]:
    """Read, parse and verify one input; the record says what happened (this never raises)."""
    try:
        document = _parse(ref, context.read(ref), "input")
        if ref.inputs:
            linked = [_parse(i, context.read(i), f"linked input {i.name}") for i in ref.inputs]
            return _bundle_record(ref, document, linked, [], context)
        if _is_bundle(document):
            return _bundle_object(ref, document, context)
        if isinstance(document, dict) and "VerifiablePresentation" in _types(document):
            return _presentation_record(ref, document, context)
        return _credential_record(ref, "credential", _verify(document, context), document)
    except _InputError as exc:
        return error_record(ref, exc.code, exc.message)
    except (OSError, KeyError, ValueError) as exc:  # a vanished file, a zip member gone, a corrupt archive
        return error_record(ref, "PARSING_ERROR", f"{ref.name} cannot be read: {exc}")
    except Exception as exc:  # a bug must cost one record, never the run
        return error_record(ref, INTERNAL_ERROR, f"verifying {ref.name} raised {type(exc).__name__}: {exc}")


class _InputError(PerseusError):
    code = "PARSING_ERROR"


def _parse(ref: InputRef, data: bytes, what: str) -> Any:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _InputError(f"{what} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _InputError(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise _InputError(f"{what} is nested too deeply to be a credential") from None


def _types(document: dict[str, Any]) -> set[str]:
    value = document.get("type")
    return {v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)}


def _is_bundle(document: Any) -> bool:
    return isinstance(document, dict) and "credential" in document and "@context" not in document


def _verify(document: Any, context: VerificationContext, *, inputs: list[Any] | None = None, status_lists: list[Any] | None = None) -> VerificationResult:
    options = context.options
    return verify_credential(
        document,
        loader=context.loader,
        checks=options.checks,
        now=context.now,
        shapes=options.shapes,
        inputs=inputs or [],
        status_lists=context.status_lists + (status_lists or []),
    )


def _checks(result: VerificationResult) -> dict[str, Any]:
    return {c.check: {"outcome": c.outcome, "codes": sorted({p.code for p in c.problems})} for c in result.checks}


def _problems(problems: list[ProblemDetail], prefix: str = "") -> list[dict[str, str]]:
    return [{"check": p.check, "code": p.code, "detail": prefix + p.detail} for p in problems]


def _credential_record(ref: InputRef, kind: str, result: VerificationResult, document: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"input": ref.name}
    if isinstance(document, dict) and isinstance(document.get("id"), str):
        record["id"] = document["id"]
    record.update(
        kind=kind,
        outcome=VERIFIED if result.verified else NOT_VERIFIED,
        verified=result.verified,
        checks=_checks(result),
        problems=_problems(result.errors),
    )
    if result.warnings:
        record["warnings"] = _problems(result.warnings)
    return record


def _bundle_object(ref: InputRef, bundle: dict[str, Any], context: VerificationContext) -> dict[str, Any]:
    unknown = sorted(set(bundle) - {"credential", "inputs", "statusLists"})
    if unknown:
        raise _InputError(f"a bundle holds 'credential', 'inputs' and 'statusLists', not {', '.join(map(repr, unknown))}")
    inputs, lists = bundle.get("inputs", []), bundle.get("statusLists", [])
    if not isinstance(inputs, list) or not isinstance(lists, list):
        raise _InputError("a bundle's 'inputs' and 'statusLists' must be arrays of credentials")
    return _bundle_record(ref, bundle["credential"], inputs, lists, context)


def _bundle_record(ref: InputRef, credential: Any, inputs: list[Any], lists: list[Any], context: VerificationContext) -> dict[str, Any]:
    result = _verify(credential, context, inputs=inputs, status_lists=lists)
    record = _credential_record(ref, "bundle", result, credential)
    record["inputs"] = len(inputs)
    return record


def _presentation_record(ref: InputRef, document: dict[str, Any], context: VerificationContext) -> dict[str, Any]:
    """The presentation's own checks (format, its proof as ``authentication``, its holder), then each
    credential in it, with the presentation's other credentials as their linked inputs."""
    result = VerificationResult(document=document)
    problems = credential_problems(document, kind="VerifiablePresentation")
    if not problems:
        try:
            expand(document, context.loader, strict=True)
        except PerseusError as exc:
            problems.append(ProblemDetail(exc.code, exc.message, "format"))
    result.add(CheckResult("format", "failed" if problems else "passed", "VerifiablePresentation", problems))
    if proofs_of(document):
        outcomes = verify_proofs(document, loader=context.loader, expect=ProofExpectations(proof_purpose="authentication", now=context.now))
        failed = [ProblemDetail(p.code, f"{o.label}: {p.detail}", "presentationProof") for o in outcomes for p in o.problems]
        result.add(CheckResult("presentationProof", "failed" if failed else "passed", "", failed))
        holder = document.get("holder")
        holder_id = holder.get("id") if isinstance(holder, dict) else holder
        if isinstance(holder_id, str) and not failed:
            signers = {o.controller for o in outcomes if o.verified}
            mismatch = [] if holder_id in signers else [
                ProblemDetail("ISSUER_MISMATCH", f"the presentation names {holder_id} as holder, but it was signed by {', '.join(sorted(s for s in signers if s))}", "holder")
            ]
            result.add(CheckResult("holder", "failed" if mismatch else "passed", "", mismatch))
    else:
        result.add(CheckResult("presentationProof", "skipped", "no proof"))
    raw = document.get("verifiableCredential")
    credentials = [] if raw is None else raw if isinstance(raw, list) else [raw]
    record = _credential_record(ref, "presentation", result, document)
    inner_records = []
    verified = result.verified
    for position, credential in enumerate(credentials):
        others = [c for i, c in enumerate(credentials) if i != position]
        inner = _verify(credential, context, inputs=others)
        verified = verified and inner.verified
        entry = _credential_record(ref, "credential", inner, credential)
        entry.pop("input")
        entry.pop("problems")
        entry.pop("warnings", None)
        inner_records.append(entry)
        record["problems"].extend(_problems(inner.errors, f"verifiableCredential[{position}]: "))
    record["verified"] = verified
    record["outcome"] = VERIFIED if verified else NOT_VERIFIED
    record["credentials"] = inner_records
    return record
