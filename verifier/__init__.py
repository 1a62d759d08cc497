"""The Perseus verifier: check a Verifiable Credential offline — proofs, issuer, validity, status, links.

This is the trust core every recipient installs (a bank's batch job, an auditor, a wallet): it needs no
web framework, no database and no network. The public API, gathered here::

    from perseus.verifier import verify_credential
    result = verify_credential(document)          # never raises for bad input
    result.verified, result.report(), result.to_json()

Names are loaded on first use, so `import perseus.verifier` stays cheap for command-line start-up.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "verify_credential": "verify",
    "parse_checks": "verify",
    "VerificationResult": "result",
    "CheckResult": "result",
    "ProblemDetail": "result",
    "DocumentLoader": "loader",
    "ProofExpectations": "proofs",
    "add_proof": "proofs",
    "verify_proofs": "proofs",
    "get_suite": "suites",
    "SUITES": "suites",
    "PublicKey": "keys",
    "SecretKey": "keys",
    "PerseusError": "errors",
    "StrictModeError": "errors",
    "DocumentLoaderError": "errors",
    "ProofError": "errors",
    "status_check": "status",
    "credential_digest": "digests",
    "derive_credential": "suites.ecdsa_sd_2023",
    "verify_jwt": "jose",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'perseus.verifier' has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), name)
