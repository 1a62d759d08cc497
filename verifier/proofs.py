"""Creating and checking Data Integrity proofs, including proof sets and proof chains.

Follows W3C VC Data Integrity 1.0 §4 (Add Proof, Add Proof Set/Chain, Verify Proof, Verify Proof Sets
and Chains) with the per-suite steps of the EdDSA and ECDSA cryptosuite specifications. Like Digital
Bazaar's `jsonld-signatures`, verification does not stop at the first problem: every proof gets a
`ProofOutcome` with all of its problems, so a report can say exactly which proof failed and why.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .dates import format_datetime, parse_datetime, utc_now
from .errors import NOT_PLAIN, JsonLdError, KeyFormatError, PerseusError, ProofError
from .jsonvalue import check_json_value
from .keys import KeyType, PublicKey, SecretKey
from .loader import DocumentLoader
from .multibase import decode_base58btc, encode_base58btc
from .result import ProblemDetail
from .suites import ALL_SUITES, LEGACY_PROOF_TYPES, Cryptosuite, get_suite, proof_suite_name, suite_for_proof

# Verification relationships a proof purpose needs in the controller's document (Controlled Identifiers §2.3).
PURPOSE_RELATIONSHIPS = {
    "assertionMethod": "assertionMethod",
    "authentication": "authentication",
    "capabilityInvocation": "capabilityInvocation",
    "capabilityDelegation": "capabilityDelegation",
    "keyAgreement": "keyAgreement",
}


def proofs_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The document's proofs as a list (a single proof object is a set of one)."""
    proof = document.get("proof")
    if proof is None:
        return []
    return proof if isinstance(proof, list) else [proof]


def _previous_ids(value: Any) -> list[str]:
    if value is None:
        return []
    ids = value if isinstance(value, list) else [value]
    if not ids or not all(isinstance(i, str) for i in ids):
        raise ProofError("previousProof must be a proof id or a list of proof ids", code="MALFORMED_PROOF_ERROR")
    return ids


def _matching_proofs(all_proofs: list[dict[str, Any]], ids: list[str], *, code: str) -> list[dict[str, Any]]:
    by_id = {p["id"]: p for p in all_proofs if isinstance(p, dict) and isinstance(p.get("id"), str)}  # a list id names no proof
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise ProofError(f"previousProof names {', '.join(missing)}, but the document has no proof with that id", code=code)
    return [by_id[i] for i in ids]


def _unsecured(document: dict[str, Any], previous: list[dict[str, Any]]) -> dict[str, Any]:
    """The document a proof signs: without proofs, except the previous proofs of a chain (DI §4.3)."""
    out = {k: v for k, v in document.items() if k != "proof"}
    if previous:
        out["proof"] = previous  # always a list, as the specification says (it matters for JCS)
    return out


# -- creating -------------------------------------------------------------------------------------------


def create_proof(
    unsecured: dict[str, Any],
    *,
    suite: Cryptosuite,
    secret_key: SecretKey,
    verification_method: str,
    loader: DocumentLoader,
    proof_purpose: str = "assertionMethod",
    created: datetime | str | None = None,
    expires: datetime | str | None = None,
    domain: str | list[str] | None = None,
    challenge: str | None = None,
    nonce: str | None = None,
    proof_id: str | None = None,
    previous_proof: str | list[str] | None = None,
    mandatory_pointers: list[str] | None = None,
) -> dict[str, Any]:
    """A new proof over `unsecured` (which already holds any previous proofs of a chain).

    `mandatory_pointers` (selective-disclosure suites only): the JSON pointers every disclosure must reveal.
    """
    suite.check_key_type(secret_key.key_type)
    if mandatory_pointers is not None and not suite.selective:
        raise ProofError(f"mandatory pointers are for selective disclosure (ecdsa-sd-2023), not {suite.name}", code="PROOF_GENERATION_ERROR")
    options: dict[str, Any] = {"type": "DataIntegrityProof"}
    if proof_id is not None:
        options["id"] = proof_id
    options["cryptosuite"] = suite.name
    created_text = created if isinstance(created, str) else format_datetime(created or utc_now())
    parse_datetime(created_text, field="created")
    options["created"] = created_text
    if expires is not None:
        options["expires"] = expires if isinstance(expires, str) else format_datetime(expires)
        parse_datetime(options["expires"], field="expires")
    options["verificationMethod"] = verification_method
    options["proofPurpose"] = proof_purpose
    if domain is not None:
        options["domain"] = domain
    if challenge is not None:
        options["challenge"] = challenge
    if nonce is not None:
        options["nonce"] = nonce
    if previous_proof is not None:
        options["previousProof"] = previous_proof
    if suite.selective:  # a base proof: each statement signed on its own (suites/ecdsa_sd_2023.py)
        from .suites.ecdsa_sd_2023 import create_base_proof

        return create_base_proof(unsecured, options, secret_key, loader, mandatory_pointers=mandatory_pointers or [])
    config = dict(options)
    if "@context" in unsecured:
        config["@context"] = unsecured["@context"]
    key_type = secret_key.key_type
    # hash(canonical proof configuration) ‖ hash(canonical document): what the signature covers.
    data = suite.canonical_digest(config, loader, key_type) + suite.canonical_digest(unsecured, loader, key_type)
    signature = secret_key.sign(data)
    proof = config if suite.proof_keeps_context else options
    proof["proofValue"] = encode_base58btc(signature)
    return proof


def add_proof(
    document: dict[str, Any],
    *,
    suite: Cryptosuite,
    secret_key: SecretKey,
    verification_method: str,
    loader: DocumentLoader,
    previous_proof: str | list[str] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """A copy of `document` with one more proof: a proof set, or a chain link when `previous_proof` is given."""
    if not isinstance(document, dict):
        raise ProofError("only a JSON object can be signed", code="PROOF_GENERATION_ERROR")
    check_json_value(document)
    existing = proofs_of(document)
    previous = (
        _matching_proofs(existing, _previous_ids(previous_proof), code="PROOF_GENERATION_ERROR") if previous_proof is not None else []
    )
    unsecured = _unsecured(document, previous)
    proof = create_proof(
        unsecured,
        suite=suite,
        secret_key=secret_key,
        verification_method=verification_method,
        loader=loader,
        previous_proof=previous_proof,
        **options,
    )
    out = copy.deepcopy(document)
    all_proofs = copy.deepcopy(existing) + [proof]
    out["proof"] = all_proofs[0] if len(all_proofs) == 1 else all_proofs
    return out


# -- verifying ------------------------------------------------------------------------------------------


@dataclass
class ProofOutcome:
    """What became of one proof: verified or not, with every problem found."""

    index: int
    proof: Any
    verified: bool = False
    problems: list[ProblemDetail] = field(default_factory=list)
    controller: str | None = None
    key_type: KeyType | None = None
    # Set when the document (or proof) is not in the contexts' plain JSON-LD form: its JSON cannot be read
    # as what the proof covers, so the caller must not run its other checks on it.
    form_error: JsonLdError | None = None

    @property
    def label(self) -> str:
        if isinstance(self.proof, dict):
            suite = proof_suite_name(self.proof) or "?"
            return f"proof {self.index + 1} ({suite}{', ' + self.proof['id'] if isinstance(self.proof.get('id'), str) else ''})"
        return f"proof {self.index + 1}"

    def fail(self, code: str, detail: str) -> None:
        self.problems.append(ProblemDetail(code=code, detail=detail, check="proof"))


@dataclass(frozen=True)
class ProofExpectations:
    """What the verifier expects of every proof (the VC API's verify options)."""

    proof_purpose: str = "assertionMethod"
    domain: str | None = None
    challenge: str | None = None
    now: datetime | None = None


def verify_proofs(
    document: dict[str, Any],
    *,
    loader: DocumentLoader,
    expect: ProofExpectations = ProofExpectations(),
) -> list[ProofOutcome]:
    """Verify every proof of `document` (DI §4.5, Verify Proof Sets and Chains); empty if there is none."""
    all_proofs = proofs_of(document)
    canonical_cache: dict[Any, bytes] = {}
    outcomes = []
    for index, proof in enumerate(all_proofs):
        outcome = ProofOutcome(index=index, proof=proof)
        try:
            _verify_one(document, all_proofs, proof, outcome, loader, expect, canonical_cache)
        except PerseusError as exc:
            outcome.fail(exc.code, exc.message)
            if isinstance(exc, JsonLdError) and exc.jsonld_code == NOT_PLAIN:
                outcome.form_error = exc
        outcome.verified = not outcome.problems
        outcomes.append(outcome)
    return outcomes


def _verify_one(
    document: dict[str, Any],
    all_proofs: list[Any],
    proof: Any,
    outcome: ProofOutcome,
    loader: DocumentLoader,
    expect: ProofExpectations,
    canonical_cache: dict[Any, bytes],
) -> None:
    if not isinstance(proof, dict):
        raise ProofError("a proof must be a JSON object", code="MALFORMED_PROOF_ERROR")
    _check_shape(proof, outcome)
    if outcome.problems:
        return
    suite = suite_for_proof(proof)
    _check_expectations(proof, outcome, expect)
    signature = b"" if suite.selective else _decode_proof_value(proof["proofValue"])
    public_key, method = _resolve_key(proof, loader, outcome)
    if public_key is None:
        return
    if suite.method_types and method.get("type") not in suite.method_types:
        outcome.fail(
            "INVALID_VERIFICATION_METHOD",
            f"{suite.name} proofs need a verification method of type {' or '.join(suite.method_types)}, "
            f"but {proof['verificationMethod']} is {method.get('type')!r}",
        )
        return
    outcome.controller = method.get("controller")
    outcome.key_type = public_key.key_type
    if public_key.key_type not in suite.key_types:
        outcome.fail(
            "PROOF_VERIFICATION_ERROR",
            f"{suite.name} proofs need a key of type {' or '.join(suite.key_types)}, but {proof['verificationMethod']} is {public_key.key_type}",
        )
        return
    previous_ids = _previous_ids(proof.get("previousProof"))
    previous = _matching_proofs(all_proofs, previous_ids, code="PROOF_VERIFICATION_ERROR") if previous_ids else []
    unsecured = _unsecured(document, previous)
    if suite.selective:  # a derived proof checks statement by statement (raises ProofError with the reason)
        from .suites.ecdsa_sd_2023 import verify_derived_proof

        verify_derived_proof(unsecured, proof, public_key, loader)
        return
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    if suite.proof_keeps_context and "@context" in options:
        # JCS suites: the proof's @context must be the start of the document's, in the same order.
        proof_context = options["@context"]
        proof_list = proof_context if isinstance(proof_context, list) else [proof_context]
        doc_context = document.get("@context")
        doc_list = doc_context if isinstance(doc_context, list) else [doc_context]
        if doc_list[: len(proof_list)] != proof_list:
            outcome.fail("PROOF_VERIFICATION_ERROR", "the proof's @context does not match the start of the document's @context")
            return
        unsecured["@context"] = proof_context
    config = dict(options)
    if "@context" in unsecured:
        config["@context"] = unsecured["@context"]
    elif not suite.proof_keeps_context:
        config.pop("@context", None)
    key_type = public_key.key_type
    cache_key = (tuple(previous_ids), suite.canonicalization, suite.hash_name(key_type), repr(unsecured.get("@context")))
    document_digest = canonical_cache.get(cache_key)
    if document_digest is None:  # a proof set's proofs sign the same document: hash it once
        document_digest = canonical_cache[cache_key] = suite.canonical_digest(unsecured, loader, key_type)
    data = suite.canonical_digest(config, loader, key_type) + document_digest
    try:
        valid = public_key.verify(signature, data)
    except ProofError as exc:
        outcome.fail(exc.code, exc.message)
        return
    if not valid:
        outcome.fail(
            "PROOF_VERIFICATION_ERROR",
            "the signature does not match the document: it was altered after signing, or signed with another key",
        )


def _check_shape(proof: dict[str, Any], outcome: ProofOutcome) -> None:
    """The proof properties Data Integrity requires (DI §2.1), each failure as MALFORMED_PROOF_ERROR."""
    proof_type = proof.get("type")
    if isinstance(proof_type, str) and proof_type in LEGACY_PROOF_TYPES:
        # A legacy suite names itself by its type: a cryptosuite would be a term its context does
        # not define, and its specification requires `created`.
        if "cryptosuite" in proof:
            outcome.fail("MALFORMED_PROOF_ERROR", f"an {proof_type} proof has no cryptosuite (that belongs to DataIntegrityProof)")
        if "created" not in proof:
            outcome.fail("MALFORMED_PROOF_ERROR", f"an {proof_type} proof must say when it was created")
    elif proof_type != "DataIntegrityProof":
        outcome.fail(
            "PROOF_VERIFICATION_ERROR",
            f"unsupported proof type {proof_type!r}; this verifier checks DataIntegrityProof (and the legacy {', '.join(LEGACY_PROOF_TYPES)})",
        )
        return
    else:
        suite = proof.get("cryptosuite")
        if not isinstance(suite, str):
            outcome.fail("MALFORMED_PROOF_ERROR", "the proof has no cryptosuite string")
        else:
            try:
                get_suite(suite)
            except ProofError as exc:
                outcome.fail(exc.code, exc.message)
    for required in ("verificationMethod", "proofPurpose", "proofValue"):
        if not isinstance(proof.get(required), str) or not proof.get(required):
            outcome.fail("MALFORMED_PROOF_ERROR", f"the proof's {required} is missing or is not a string")
    if "id" in proof and not (isinstance(proof["id"], str) and ":" in proof["id"]):
        outcome.fail("MALFORMED_PROOF_ERROR", f"the proof's id {proof['id']!r} is not a URL")
    known = ALL_SUITES.get(proof["cryptosuite"]) if isinstance(proof.get("cryptosuite"), str) else None
    prefix = known.proof_value_prefix if known is not None else "z"
    if isinstance(proof.get("proofValue"), str) and not proof["proofValue"].startswith(prefix):
        encoding = "base64url" if prefix == "u" else "base58btc"
        outcome.fail("MALFORMED_PROOF_ERROR", f"proofValue must be multibase {encoding} (it must start with '{prefix}')")
    for name in ("created", "expires"):
        if name in proof:
            try:
                parse_datetime(proof[name], field=f"proof {name}")
            except PerseusError as exc:
                outcome.fail("MALFORMED_PROOF_ERROR", exc.message)


def _check_expectations(proof: dict[str, Any], outcome: ProofOutcome, expect: ProofExpectations) -> None:
    if proof["proofPurpose"] != expect.proof_purpose:
        outcome.fail(
            "MISMATCHED_PROOF_PURPOSE_ERROR",
            f"the proof's purpose is {proof['proofPurpose']!r} but {expect.proof_purpose!r} is required here",
        )
    if expect.domain is not None:
        domain = proof.get("domain")
        domains = domain if isinstance(domain, list) else [domain]
        if expect.domain not in domains:
            outcome.fail("INVALID_DOMAIN_ERROR", f"the proof is for domain {domain!r}, not {expect.domain!r}")
    if expect.challenge is not None and proof.get("challenge") != expect.challenge:
        outcome.fail("INVALID_CHALLENGE_ERROR", f"the proof answers challenge {proof.get('challenge')!r}, not {expect.challenge!r}")
    if "expires" in proof:
        now = expect.now or utc_now()
        if parse_datetime(proof["expires"], field="proof expires") < now:
            outcome.fail("PROOF_VERIFICATION_ERROR", f"the proof expired at {proof['expires']}")


def _decode_proof_value(value: str) -> bytes:
    try:
        return decode_base58btc(value)
    except PerseusError as exc:
        raise ProofError(f"proofValue is not valid base58btc: {exc.message}", code="MALFORMED_PROOF_ERROR") from exc


def _resolve_key(proof: dict[str, Any], loader: DocumentLoader, outcome: ProofOutcome) -> tuple[PublicKey | None, dict[str, Any]]:
    method_url = proof["verificationMethod"]
    try:
        method = loader.verification_method(method_url)
    except PerseusError as exc:
        outcome.fail("INVALID_VERIFICATION_METHOD_URL", exc.message)
        return None, {}
    try:
        if "publicKeyMultibase" in method:
            public_key = PublicKey.from_multibase(method["publicKeyMultibase"])
        elif "publicKeyJwk" in method:
            public_key = PublicKey.from_jwk(method["publicKeyJwk"])
        else:
            raise KeyFormatError(f"the verification method {method_url} has no publicKeyMultibase or publicKeyJwk")
        if method.get("type") == "Ed25519VerificationKey2020" and ("publicKeyMultibase" not in method or public_key.key_type != "Ed25519"):
            # vc-di-eddsa: its publicKeyMultibase MUST be an Ed25519 Multikey value (0xed01 header), nothing else.
            raise KeyFormatError(f"the Ed25519VerificationKey2020 {method_url} must hold an Ed25519 key in publicKeyMultibase")
    except PerseusError as exc:
        outcome.fail("INVALID_VERIFICATION_METHOD", exc.message)
        return None, method
    controller = method.get("controller")
    if not isinstance(controller, str):
        outcome.fail("INVALID_VERIFICATION_METHOD", f"the verification method {method_url} names no controller")
        return None, method
    relationship = PURPOSE_RELATIONSHIPS.get(proof["proofPurpose"])
    if relationship is not None and controller.startswith("did:"):
        try:
            controller_document = loader.resolve_did(controller.split("#")[0])
        except PerseusError as exc:
            outcome.fail("INVALID_VERIFICATION_METHOD_URL", exc.message)
            return None, method
        allowed = {
            (m if isinstance(m, str) else m.get("id")) for m in controller_document.get(relationship, []) if isinstance(m, (str, dict))
        }
        allowed |= {controller + a for a in list(allowed) if isinstance(a, str) and a.startswith("#")}
        if method_url not in allowed and method.get("id") not in allowed:
            outcome.fail(
                "INVALID_RELATIONSHIP_FOR_VERIFICATION_METHOD",
                f"{method_url} is not listed under {relationship} in {controller}'s DID document, so it may not make {proof['proofPurpose']} proofs",
            )
            return None, method
    return public_key, method


__all__ = [
    "ProofExpectations",
    "ProofOutcome",
    "add_proof",
    "create_proof",
    "proofs_of",
    "verify_proofs",
    "JsonLdError",
]
