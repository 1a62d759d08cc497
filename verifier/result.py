"""What verification returns: a result with one entry per check, never a bare boolean.

Modelled on Digital Bazaar's `vc.verifyCredential` result (per-proof detail, `verified` at the top) and on
the W3C VC API's verification response, with every failure as an RFC 9457 problem detail carrying the
error code the W3C specifications define and a sentence a person can act on. Peers' users complain
that a verifier answering only `false` leaves them guessing (veramo #954, acapy #2228).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import PerseusError, error_type_url

Outcome = Literal["passed", "failed", "skipped"]

# Titles for the codes the specifications define; the `detail` sentence carries the specifics.
_TITLES = {
    "PARSING_ERROR": "The document could not be parsed",
    "MALFORMED_VALUE_ERROR": "A value is malformed",
    "RANGE_ERROR": "A value is out of range",
    "CRYPTOGRAPHIC_SECURITY_ERROR": "The document is not secured",
    "PROOF_VERIFICATION_ERROR": "A proof did not verify",
    "PROOF_GENERATION_ERROR": "A proof could not be created",
    "PROOF_TRANSFORMATION_ERROR": "The document could not be transformed for hashing",
    "MALFORMED_PROOF_ERROR": "A proof is malformed",
    "MISMATCHED_PROOF_PURPOSE_ERROR": "A proof has the wrong purpose",
    "INVALID_DOMAIN_ERROR": "A proof is for another domain",
    "INVALID_CHALLENGE_ERROR": "A proof answers another challenge",
    "INVALID_PROOF_CONFIGURATION": "A proof's options are invalid",
    "INVALID_PROOF_DATETIME": "A proof's date is invalid",
    "INVALID_VERIFICATION_METHOD": "A verification method is invalid",
    "INVALID_VERIFICATION_METHOD_URL": "A verification method cannot be resolved",
    "INVALID_RELATIONSHIP_FOR_VERIFICATION_METHOD": "A key is not authorised for this purpose",
    "CREDENTIAL_EXPIRED": "The credential has expired",
    "CREDENTIAL_NOT_YET_VALID": "The credential is not valid yet",
    "ISSUER_MISMATCH": "The signer is not the issuer",
    "STATUS_RETRIEVAL_ERROR": "The status list could not be obtained",
    "STATUS_VERIFICATION_ERROR": "The status list could not be verified",
    "STATUS_LIST_LENGTH_ERROR": "The status list is too short",
    "CREDENTIAL_REVOKED": "The credential has been revoked",
    "CREDENTIAL_SUSPENDED": "The credential is suspended",
}


@dataclass(frozen=True)
class ProblemDetail:
    """An RFC 9457 problem detail for one failure (`code` is the W3C or Perseus error code)."""

    code: str
    detail: str
    check: str = ""
    title: str = ""

    @property
    def type(self) -> str:
        return error_type_url(self.code)

    def to_json(self) -> dict[str, Any]:
        out = {"type": self.type, "code": self.code, "title": self.title or _TITLES.get(self.code, self.code), "detail": self.detail}
        if self.check:
            out["check"] = self.check
        return out

    @classmethod
    def from_error(cls, error: PerseusError, check: str = "") -> "ProblemDetail":
        return cls(code=error.code, detail=error.message, check=check)


@dataclass
class CheckResult:
    """The outcome of one named check (for example ``proof``, ``issuer``, ``validity``)."""

    check: str
    outcome: Outcome
    summary: str
    problems: list[ProblemDetail] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"check": self.check, "outcome": self.outcome, "summary": self.summary}
        if self.details:
            out["details"] = self.details
        if self.problems:
            out["problems"] = [p.to_json() for p in self.problems]
        return out


@dataclass
class VerificationResult:
    """The whole answer: `verified` is true only when no check failed."""

    checks: list[CheckResult] = field(default_factory=list)
    warnings: list[ProblemDetail] = field(default_factory=list)
    document: Any = None

    @property
    def verified(self) -> bool:
        return bool(self.checks) and all(c.outcome != "failed" for c in self.checks)

    @property
    def errors(self) -> list[ProblemDetail]:
        return [p for c in self.checks for p in c.problems]

    def add(self, check: CheckResult) -> CheckResult:
        self.checks.append(check)
        return check

    def to_json(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "checks": [c.to_json() for c in self.checks],
            "errors": [p.to_json() for p in self.errors],
            "warnings": [p.to_json() for p in self.warnings],
        }

    def report(self) -> str:
        """A plain-text report for a person: one line per check, then what to do about each failure."""
        lines = ["VERIFIED" if self.verified else "NOT VERIFIED"]
        marks = {"passed": "ok  ", "failed": "FAIL", "skipped": "skip"}
        for c in self.checks:
            lines.append(f"  [{marks[c.outcome]}] {c.check}: {c.summary}")
            for p in c.problems:
                lines.append(f"         {p.code}: {p.detail}")
        for w in self.warnings:
            lines.append(f"  [warn] {w.code}: {w.detail}")
        return "\n".join(lines)
