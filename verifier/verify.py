"""Verifying a credential offline: the checks, in order, and the result a person can read.

    result = verify_credential(document)              # every check
    result = verify_credential(document, checks={"proof"})   # only the signatures (VC API `checks`)
    print(result.report()); result.to_json()

Checks (names as used by `--checks` and the VC API):
* ``format``   — it is a credential: context, type, issuer, subject, dates (always run);
* ``proof``    — every Data Integrity proof verifies (signature, purpose, key, canonical form); the
  legacy Ed25519Signature2020 proofs are verified too (never made);
* ``issuer``   — a verified proof was made by a key the issuer controls (issuer binding); when it is
  not asked for but ``proof`` is, a missing binding is reported as a warning (``ISSUER_MISMATCH``)
  and each proof's ``controller`` is in the proof check's details, for callers with their own rule;
* ``validity`` — now is within validFrom / validUntil;
* ``status``   — no ``credentialStatus`` entry says revoked or suspended, checked against the status list
  credentials handed over (``status_lists=[...]``, `--status-list FILE`) or fetched on request
  (``status_client=...``, `--fetch-status`); the result states how fresh each list is;
* ``shape``    — a Perseus credential has its type's shape (on request: ``shapes=True``, `--shapes`);
* ``connectedness`` — every credential it links to (``relatedResource``) was given, matches its digest
  and verifies in turn (the inputs are passed as ``inputs=[...]``, `--input FILE`);
* ``accreditation`` — the key of a verified proof belonged, at the proof's ``created`` time, to an entity
  the trust registry accredits for the role this credential type needs (``registry=`` a loaded
  `RegistrySnapshot`, `--registry FILE`). On by default when a registry is given; asked for without one,
  it is reported as not checked. did:web DIDs resolve through the snapshot's DID documents.
* ``provenance`` — an IB1 provenance record the credential carries (``provenance.ib1ProvenanceRecord``)
  verifies: IB1 signatures, certificate chains to the pinned roots at signing time, roles, origins
  (``ib1=Ib1Options(...)``, `--ib1-roots FILE`); runs only when a record is present.
* ``permission`` — (on request) an energy-data or emissions credential is covered by a permission credential
  among ``inputs`` for ``permission_recipient``, in date and not withdrawn (its status against the SME's list
  in ``status_lists``), its parents too (verifier/permission.py).
* ``arithmetic`` — a Perseus consumption or tariff credential's stated totals, completeness counts, register
  and gas conversions and tariff bands recompute exactly from its own readings (verifier/arithmetic.py);
  on by default, reported only for those types.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from .connectedness import connectedness_check, index_inputs, links_of
from .credential import credential_problems, issuer_id, validity_problems
from .dates import utc_now
from .errors import NOT_PLAIN, JsonLdError, PerseusError
from .jsonld import expand
from .jsonvalue import json_value_problem
from .loader import DocumentLoader
from .proofs import ProofExpectations, ProofOutcome, proofs_of, verify_proofs
from .result import CheckResult, ProblemDetail, VerificationResult
from .status import HttpGet, status_check, status_check_online
from .suites import ALL_SUITES, LEGACY_PROOF_TYPES, proof_suite_name

CREDENTIAL_CHECKS = (
    "proof", "issuer", "validity", "status", "shape", "connectedness", "accreditation", "provenance", "permission", "arithmetic",
)
DEFAULT_CHECKS = ("proof", "issuer", "validity", "status", "connectedness", "provenance", "arithmetic")


def parse_checks(value: str | Iterable[str] | None, available: Iterable[str] = CREDENTIAL_CHECKS) -> set[str]:
    """The set of checks to run from a comma-separated list (None means the defaults); unknown names are an error."""
    known = set(available)
    if value is None:
        return set(DEFAULT_CHECKS) & known
    names = [n.strip() for n in (value.split(",") if isinstance(value, str) else value) if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown check(s) {', '.join(unknown)}; choose from {', '.join(sorted(known))}")
    return set(names)


def verify_credential(
    document: Any,
    *,
    loader: DocumentLoader | None = None,
    checks: str | Iterable[str] | None = None,
    now: datetime | None = None,
    expect: ProofExpectations | None = None,
    shapes: bool = False,
    inputs: Sequence[Any] | Mapping[str, Any] = (),
    status_lists: Sequence[Any] | Mapping[str, Any] = (),
    status_client: HttpGet | None = None,
    status_max_age: timedelta | None = None,
    registry: Any = None,
    registry_frameworks: Any = None,
    registry_framework: str | None = None,
    ib1: Any = None,
    permission_recipient: str | None = None,
    _depth: int = 0,
    _seen: frozenset[str] = frozenset(),
) -> VerificationResult:
    """Verify a credential with the bundled contexts and offline DID resolution; never raises for bad input.

    `inputs` are the credentials this one links to (for the connectedness check), `shapes` adds the
    Perseus shape check.
    """
    loader = loader or DocumentLoader()
    wanted = parse_checks(checks)
    if shapes:
        wanted.add("shape")
    # -- trust registry (accreditation): on by default with a registry; did:web resolves through it.
    if registry is not None:
        if checks is None:
            wanted.add("accreditation")
        if registry.usable:
            loader = loader.with_did_resolver("web", registry.resolve_did)
    # -- end trust registry
    now = now or utc_now()
    expect = expect or ProofExpectations(now=now)
    result = VerificationResult(document=document)
    not_json = json_value_problem(document)
    if not_json is not None:  # every later step would fail on it, some with an exception
        result.add(CheckResult("format", "failed", "not a JSON document", [ProblemDetail("MALFORMED_VALUE_ERROR", not_json, "format")]))
        return result
    problems = credential_problems(document)
    if not isinstance(document, dict):
        result.add(CheckResult("format", "failed", "not a JSON object", problems))
        return result
    fetching = status_client is not None and "status" in wanted and document.get("credentialStatus") is not None
    outcomes = verify_proofs(document, loader=loader, expect=expect) if wanted & {"proof", "issuer", "accreditation"} or fetching else []
    form_errors: list[PerseusError] = [o.form_error for o in outcomes if o.form_error is not None]
    if not any(isinstance(o.proof, dict) and str(o.proof.get("cryptosuite", "")).find("rdfc") >= 0 for o in outcomes):
        # Proofs over RDF already expanded the document strictly; otherwise do it here, so that a
        # JCS-signed or unsigned credential with undefined terms is still reported.
        try:
            expand(document, loader, strict=True)
        except PerseusError as exc:
            problems.append(ProblemDetail(exc.code, exc.message, "format"))
            if isinstance(exc, JsonLdError) and exc.jsonld_code == NOT_PLAIN:
                form_errors.append(exc)
    for error in form_errors[:1]:
        if not any(p.detail == error.message for p in problems):
            problems.append(ProblemDetail(error.code, error.message, "format"))
    result.add(CheckResult("format", "failed" if problems else "passed", _format_summary(document, problems), problems))
    if "proof" in wanted:
        result.add(_proof_check(document, outcomes))
    if "issuer" in wanted:
        result.add(_issuer_check(document, outcomes))
    elif any(o.verified for o in outcomes):
        # Not asked for (the VC API service's default): still say when the issuer did not sign, so a
        # caller applying its own issuer rule sees it without re-reading the proofs.
        binding = _issuer_check(document, outcomes, requested=False)
        if binding.outcome == "failed":
            result.warnings.extend(binding.problems)
    if form_errors:
        # Its JSON is not the form whose keys name what the proof covers: reading dates, status entries or
        # links from it could read something other than what was signed, so those checks do not run.
        for name in ("validity", "status", "shape", "connectedness", "accreditation", "provenance", "permission", "arithmetic"):
            if name in wanted:
                result.add(CheckResult(name, "skipped", "not checked: the credential is not in plain JSON-LD form (see format)"))
        return result
    if "validity" in wanted:
        validity, summary = validity_problems(document, now)
        result.add(CheckResult("validity", "failed" if validity else "passed", summary, validity))
    if "status" in wanted and document.get("credentialStatus") is not None:
        if status_client is not None and _issuer_check(document, outcomes).outcome != "passed":
            # Fetch only for what its issuer signed: otherwise anyone could make us request any URL.
            result.add(_status_not_fetched())
        elif status_client is not None:
            result.add(status_check_online(document, status_client, now=now, loader=loader, max_age=status_max_age))
        else:
            result.add(status_check(document, status_lists, now=now, loader=loader, max_age=status_max_age))
    if "shape" in wanted:
        from .shapes import shape_check  # fastjsonschema is loaded only when shapes are asked for

        result.add(_partial_shape(shape_check(document), outcomes))
    if "provenance" in wanted:
        # IB1 provenance records carried in the credential (ib1: a provenance_check.Ib1Options, or None).
        from .provenance_check import ib1_records_of, provenance_check

        if ib1_records_of(document):
            result.add(provenance_check(document, ib1))
    if "arithmetic" in wanted:
        # -- arithmetic (verifier/arithmetic.py): on by default, reported only for Perseus consumption and tariff
        # credentials; the stated totals, counts, conversions and tariff bands recompute from the credential.
        from .arithmetic import applies_to, arithmetic_check

        if applies_to(document):
            result.add(arithmetic_check(document))
        # -- end arithmetic
    if "connectedness" in wanted and links_of(document):
        pool = inputs if isinstance(inputs, Mapping) else index_inputs(inputs)

        def verify_input(credential: Any, depth: int, seen: frozenset[str]) -> tuple[bool, list[ProblemDetail]]:
            inner = verify_credential(
                credential, loader=loader, checks=wanted, now=now, inputs=pool, status_lists=status_lists,
                status_client=status_client, status_max_age=status_max_age, registry=registry,
                registry_frameworks=registry_frameworks, registry_framework=registry_framework, ib1=ib1,
                _depth=depth, _seen=seen,
            )
            return inner.verified, inner.errors

        result.add(_partial_links(connectedness_check(document, pool, loader=loader, verify_input=verify_input, depth=_depth, seen=_seen), pool))
    if "accreditation" in wanted:  # the trust registry's check (verifier/accreditation.py)
        from .accreditation import accreditation_check, not_checked

        if registry is None:
            result.add(not_checked())
        else:
            result.add(
                accreditation_check(document, outcomes, registry, frameworks=registry_frameworks, framework=registry_framework)
            )
    if "permission" in wanted and _depth == 0:  # issue 12: the SME's permission (verifier/permission.py)
        from .permission import permission_check

        given = [_as_json(i) for i in (inputs.values() if isinstance(inputs, Mapping) else inputs)]
        result.add(permission_check([document], recipient=permission_recipient, status_lists=status_lists, now=now, loader=loader, inputs=given))
    return result


def _as_json(value: Any) -> Any:
    """An input as JSON (the CLI passes inputs as their bytes, for digests); unreadable ones are left out."""
    if isinstance(value, (bytes, bytearray, str)):
        import json

        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _status_not_fetched() -> CheckResult:
    detail = (
        "status lists are fetched only for a credential with a verified proof by its issuer's key; this one has "
        "none, so its status was not checked"
    )
    return CheckResult("status", "failed", "status not checked", [ProblemDetail("STATUS_RETRIEVAL_ERROR", detail, "status")])


# -- selective disclosures (ecdsa-sd-2023 derived proofs): say what a partial credential cannot show ------------


def _partial_shape(check: CheckResult, outcomes: list[ProofOutcome]) -> CheckResult:
    """A shape that fails only for want of claims the holder withheld is not checkable, not malformed."""
    from .suites.ecdsa_sd_2023 import is_derived_proof

    disclosed = any(o.verified and is_derived_proof(o.proof) for o in outcomes)
    if not disclosed or check.outcome != "failed" or "missing required" not in check.problems[0].detail:
        return check
    return CheckResult(
        check.check,
        "skipped",
        "not checkable on a selective disclosure: the holder withheld claims the shape requires "
        f"({check.problems[0].detail}); every disclosed claim is covered by the issuer's signature",
    )


def _partial_links(check: CheckResult, inputs: Mapping[str, Any]) -> CheckResult:
    """A link whose input was given as a selective disclosure cannot match its digest: say so, not just "altered"."""
    from .suites.ecdsa_sd_2023 import is_derived_proof

    partial = [i for i, c in inputs.items() if isinstance(c, dict) and any(is_derived_proof(p) for p in proofs_of(c))]
    if not partial or check.outcome != "failed":
        return check
    problems = [
        ProblemDetail(
            p.code,
            p.detail + (
                "; it was given as a selective disclosure (an ecdsa-sd-2023 derived proof), and a digest covers the whole "
                "credential, so this link can only be checked with the full credential"
            ) if any(i in p.detail and "digest" in p.detail for i in partial) else p.detail,
            p.check,
        )
        for p in check.problems
    ]
    return CheckResult(check.check, check.outcome, check.summary, problems, check.details)


def _format_summary(document: dict[str, Any], problems: list[ProblemDetail]) -> str:
    if problems:
        return "not a well-formed credential"
    types = document.get("type")
    types = [t for t in (types if isinstance(types, list) else [types]) if t != "VerifiableCredential"]
    return f"{', '.join(map(str, types)) or 'VerifiableCredential'} from {issuer_id(document)}"


def _proof_check(document: dict[str, Any], outcomes: list[ProofOutcome]) -> CheckResult:
    if not proofs_of(document):
        return CheckResult(
            "proof",
            "failed",
            "no proof",
            [ProblemDetail("CRYPTOGRAPHIC_SECURITY_ERROR", "the credential has no proof; sign it with `perseus sign`", "proof")],
        )
    problems = []
    details = []
    for o in outcomes:
        for p in o.problems:
            problems.append(ProblemDetail(p.code, f"{o.label}: {p.detail}", "proof"))
        proof = o.proof if isinstance(o.proof, dict) else {}
        details.append(
            {
                "cryptosuite": proof_suite_name(proof),
                "verificationMethod": proof.get("verificationMethod"),
                "controller": o.controller,
                "created": proof.get("created"),
                "verified": o.verified,
            }
        )
    good = sum(o.verified for o in outcomes)
    summary = f"{good} of {len(outcomes)} proof{'s' if len(outcomes) != 1 else ''} verified"
    suites = sorted({d["cryptosuite"] for d in details if d["cryptosuite"] in ALL_SUITES or d["cryptosuite"] in LEGACY_PROOF_TYPES})
    if suites:
        summary += f" ({', '.join(suites)})"
    return CheckResult("proof", "failed" if problems else "passed", summary, problems, {"proofs": details})


def _issuer_check(document: dict[str, Any], outcomes: list[ProofOutcome], *, requested: bool = True) -> CheckResult:
    issuer = issuer_id(document)
    signers = sorted({o.controller for o in outcomes if o.verified and o.controller})
    if issuer is not None and issuer in signers:
        return CheckResult("issuer", "passed", f"signed by the issuer {issuer}")
    if not signers:
        detail = "no verified proof, so nothing shows that the issuer made this credential"
    else:
        detail = f"the credential names {issuer} as issuer, but it was signed by {', '.join(signers)}; " + (
            "an issuer must sign with a key it controls (use --checks proof to check only the signatures)"
            if requested
            else "the issuer check was not requested, so this is not an error here"
        )
    return CheckResult("issuer", "failed", "not signed by its issuer", [ProblemDetail("ISSUER_MISMATCH", detail, "issuer")])
