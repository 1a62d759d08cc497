"""The ``provenance`` check: a credential that carries an IB1 provenance record has that record verified.

A Perseus credential carries the IB1 record its data came with as a JSON literal
(``provenance.ib1ProvenanceRecord``). The credential's own proof says the issuer passed the record on unchanged;
only the record's IB1 signatures say the EDP (or CAP) really signed those steps. This check verifies them
(`perseus.verifier.ib1_provenance`) against the IB1 environment whose trust framework the record names, with the
pinned roots the caller gives (``--ib1-roots``): none are bundled, so without them the check fails and says why.
A consumption credential must also claim no more than its record says (`ib1_record_claims`), unless its issuer
states the difference (``ib1RecordDiscrepancy``).

It runs only on JSON proven to be in the contexts' plain compacted form (`verify.py` skips it otherwise), so the
literal read here is the literal the proof covers.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509

from .dates import parse_datetime
from .errors import MalformedValueError
from .ib1_environments import Ib1Environment, ib1_environment
from .ib1_provenance import Ib1RecordResult, verify_ib1_record
from .ib1_record_claims import discrepancies, record_claims
from .result import CheckResult, ProblemDetail

__all__ = ["Ib1Options", "ib1_records_of", "provenance_check"]

RECORD_TERM = "ib1ProvenanceRecord"


@dataclass(frozen=True)
class Ib1Options:
    """How to verify carried IB1 records: the environment (default: the one whose trust framework the record
    names), extra pinned roots, and role URLs every signer must hold one of (default: none required)."""

    environment: str | Ib1Environment | None = None
    roots: Sequence[x509.Certificate] = field(default_factory=tuple)
    required_roles: Collection[str] = field(default_factory=tuple)

    def environment_for(self, record: Any) -> Ib1Environment | None:
        if isinstance(self.environment, Ib1Environment):
            env = self.environment
        elif isinstance(self.environment, str):
            env = ib1_environment(self.environment)
        else:
            framework = record.get("ib1:provenance") if isinstance(record, dict) else None
            env = next((e for e in map(ib1_environment, ("core", "pilot", "sandbox")) if e.trust_framework == framework), None)
            if env is None:
                return None
        return env.with_roots(self.roots) if self.roots else env


def ib1_records_of(document: Any) -> list[tuple[str, Any]]:
    """(JSON path, record) for every IB1 record the credential carries."""
    provenance = document.get("provenance") if isinstance(document, dict) else None
    nodes = provenance if isinstance(provenance, list) else [provenance]
    out = []
    for i, node in enumerate(nodes):
        if isinstance(node, dict) and RECORD_TERM in node:
            where = f"/provenance/{i}/{RECORD_TERM}" if isinstance(provenance, list) else f"/provenance/{RECORD_TERM}"
            out.append((where, node[RECORD_TERM]))
    return out


def provenance_check(document: Any, options: Ib1Options | None = None) -> CheckResult:
    """Verify each carried IB1 record; the details hold each record's signatures and steps (for chain checks)."""
    options = options or Ib1Options()
    problems: list[ProblemDetail] = []
    results: list[Ib1RecordResult] = []
    for where, record in ib1_records_of(document):
        try:
            env = options.environment_for(record)
        except MalformedValueError as exc:
            problems.append(ProblemDetail("IB1_ENVIRONMENT_UNKNOWN", exc.message, "provenance"))
            continue
        if env is None:
            framework = record.get("ib1:provenance") if isinstance(record, dict) else None
            problems.append(
                ProblemDetail("IB1_TRUST_FRAMEWORK_MISMATCH", f"{where}: the IB1 record names the trust framework {framework!r}, which no configured IB1 environment uses", "provenance")
            )
            continue
        result = verify_ib1_record(record, env, required_roles=options.required_roles)
        results.append(result)
        problems.extend(ProblemDetail(p.code, f"{where}: {p.where + ': ' if p.where else ''}{p.detail}", "provenance") for p in result.problems)
        if result.verified and not _stated(document, where):  # an unverified record's claims mean nothing
            found = _conflicts(document, result)
            problems.extend(
                ProblemDetail("IB1_RECORD_CONFLICT", f"{where}: {text}, and the credential does not state it (ib1RecordDiscrepancy)", "provenance")
                for text in found
            )
    steps = sum(len(r.steps) for r in results)
    signers = sorted({s.signer.member or s.signer.subject for r in results for s in r.signatures if s.signer})
    if problems:
        summary = f"the IB1 provenance record does not verify ({len(problems)} problem{'s' if len(problems) != 1 else ''})"
    else:
        summary = f"IB1 provenance record verified: {steps} step{'s' if steps != 1 else ''} signed by {', '.join(signers)}"
    return CheckResult("provenance", "failed" if problems else "passed", summary, problems, {"records": [r.to_json() for r in results]})


def _stated(document: dict[str, Any], where: str) -> list[Any]:
    node = document.get("provenance")
    if where.startswith("/provenance/") and where.count("/") == 3 and isinstance(node, list):
        node = node[int(where.split("/")[2])]
    value = node.get("ib1RecordDiscrepancy") if isinstance(node, dict) else None
    return value if isinstance(value, list) else [value] if value else []


def _conflicts(document: dict[str, Any], result: Ib1RecordResult) -> list[str]:
    """What the consumption credential claims beyond its record (missing data, period, measure, meter)."""
    types = document.get("type")
    if "EnergyConsumptionCredential" not in (types if isinstance(types, list) else [types]):
        return []
    subject = document.get("credentialSubject")
    subject = subject if isinstance(subject, dict) else {}
    point = subject.get("supplyPoint") if isinstance(subject.get("supplyPoint"), dict) else {}
    assurance = document.get("assurance") if isinstance(document.get("assurance"), dict) else {}
    missing = assurance.get("missingData")
    try:
        start = parse_datetime(subject.get("periodStart"), field="periodStart")
        end = parse_datetime(subject.get("periodEnd"), field="periodEnd")
    except MalformedValueError:
        start = end = None
    meter = point.get("mpan") or point.get("mprn")
    return discrepancies(
        record_claims([s.fields for s in result.steps]),
        missing_data=missing.rstrip("/").rsplit("/", 1)[-1] if isinstance(missing, str) else None,
        period_start=start,
        period_end=end,
        measure=point.get("measure") if isinstance(point.get("measure"), str) else None,
        meter=meter if isinstance(meter, str) else None,
        scheme="MPAN" if point.get("mpan") else "MPRN",
    )
