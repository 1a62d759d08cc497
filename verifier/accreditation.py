"""The accreditation decision: did the entity holding this key hold role R in framework F at time T,
and was the key itself valid then?

`verify_credential(..., registry=snapshot)` runs it for every verified proof, with T = the proof's
``created`` — which is the signer's own claim (nothing timestamps it independently), and the report says
so. Trust is about time: what a party signed while accredited keeps verifying after its role ends;
only a suspension or revocation that covers T (a revocation for cause may be back-dated: it voids from
its own ``from`` time on) or a key not valid at T makes it fail.

Which role a credential type needs is configuration per trust framework (`data/trust_frameworks.json`),
because IB1 renamed its Perseus roles between versions; a caller may pass its own `FrameworkRoles`.

Each cause has its own code: ``REGISTRY_ENTITY_NOT_FOUND``, ``REGISTRY_ROLE_NEVER_HELD``,
``REGISTRY_ROLE_NOT_YET_GRANTED``, ``REGISTRY_ROLE_ENDED``, ``REGISTRY_ROLE_SUSPENDED``,
``REGISTRY_ROLE_REVOKED``, ``REGISTRY_KEY_NOT_VALID``, ``REGISTRY_NO_ROLE_FOR_TYPE``,
``REGISTRY_PROOF_TIME_MISSING`` — plus the snapshot's own (see `registry_snapshot`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any

from .dates import format_datetime, parse_datetime
from .errors import PerseusError
from .registry_snapshot import RegistrySnapshot, problem
from .result import CheckResult, ProblemDetail

__all__ = ["Decision", "FrameworkRoles", "accreditation_check", "decide", "decide_role", "default_frameworks"]

CREATED_IS_A_CLAIM = "the proof's created time is the signer's own claim; nothing in the credential timestamps it independently"


@dataclass(frozen=True)
class FrameworkRoles:
    """One trust framework's configuration: role names → accepted role URLs, credential type → role name."""

    framework: str
    name: str
    roles: Mapping[str, tuple[str, ...]]
    credential_types: Mapping[str, str]

    def role_urls(self, role_name: str) -> tuple[str, ...]:
        return self.roles.get(role_name, ())

    def needed_for(self, credential_types: Iterable[str]) -> tuple[str, tuple[str, ...]] | None:
        """The role name and accepted role URLs for the first configured type among `credential_types`."""
        for t in credential_types:
            name = self.credential_types.get(t)
            if name is not None:
                return name, self.role_urls(name)
        return None

    def resolve_role(self, value: str) -> str:
        """A role URL from a URL or a configured short name (its first, newest-listed-first URL)."""
        if "://" in value:
            return value
        for urls in self.roles.values():
            for url in urls:
                if url.rsplit("/", 1)[-1] == value:
                    return url
        urls = self.roles.get(value)
        if urls:
            return urls[0]
        raise PerseusError(f"{value!r} is not a role of {self.name}; use a role URL or one of "
                           f"{', '.join(sorted({u.rsplit('/', 1)[-1] for us in self.roles.values() for u in us}))}")


def parse_frameworks(data: Mapping[str, Any]) -> dict[str, FrameworkRoles]:
    """Framework configuration from its JSON form (the shipped file's shape)."""
    out = {}
    for url, spec in (data.get("frameworks") or {}).items():
        prefix = spec.get("rolePrefix", "")
        roles = {name: tuple(r if "://" in r else prefix + r for r in urls) for name, urls in spec.get("roles", {}).items()}
        out[url] = FrameworkRoles(url, spec.get("name", url), roles, dict(spec.get("credentialTypes", {})))
    return out


@lru_cache(maxsize=1)
def default_frameworks() -> dict[str, FrameworkRoles]:
    """The shipped configuration: IB1 core, pilot and sandbox, both generations of Perseus role names."""
    text = resources.files("perseus.verifier").joinpath("data/trust_frameworks.json").read_text(encoding="utf-8")
    return parse_frameworks(json.loads(text))


@dataclass
class Decision:
    """One accreditation answer, with the cause when it is no."""

    authorized: bool
    code: str = ""
    message: str = ""
    entity: str | None = None
    framework: str | None = None
    role: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, "")}


_TITLES = {
    "REGISTRY_ENTITY_NOT_FOUND": "The signer is not in the trust registry",
    "REGISTRY_ROLE_NEVER_HELD": "The signer never held the role this credential needs",
    "REGISTRY_ROLE_NOT_YET_GRANTED": "The role was granted after the credential was signed",
    "REGISTRY_ROLE_ENDED": "The role had ended before the credential was signed",
    "REGISTRY_ROLE_SUSPENDED": "The role was suspended when the credential was signed",
    "REGISTRY_ROLE_REVOKED": "The role was revoked when the credential was signed",
    "REGISTRY_KEY_NOT_VALID": "The signing key was not valid when the credential was signed",
    "REGISTRY_NO_ROLE_FOR_TYPE": "No role is configured for this credential type",
    "REGISTRY_PROOF_TIME_MISSING": "The proof does not say when it was made",
    "REGISTRY_NO_VERIFIED_PROOF": "No verified proof to look up in the registry",
}

_parse_cache: dict[str, datetime] = {}


@lru_cache(maxsize=4096)
def _fmt(at: datetime) -> str:
    """A time as the messages show it (cached: a batch job asks about the same few proof times)."""
    return format_datetime(at)


def _t(value: Any) -> datetime | None:
    """A snapshot time (cached: the same few strings recur across decisions)."""
    if value is None:
        return None
    cached = _parse_cache.get(value)
    if cached is None:
        cached = parse_datetime(value, field="registry time")
        if len(_parse_cache) < 100_000:
            _parse_cache[value] = cached
    return cached


def _within(record: Mapping[str, Any], at: datetime) -> bool:
    start, end = _t(record.get("validFrom")), _t(record.get("validUntil"))
    return (start is None or start <= at) and (end is None or at < end)


def _status_at(role: Mapping[str, Any], at: datetime) -> tuple[str, Mapping[str, Any] | None]:
    """The role's status at `at`: the latest history entry that took effect at or before it."""
    current: tuple[str, Mapping[str, Any] | None] = ("active", None)
    latest: datetime | None = None
    for entry in role.get("history") or ():
        start = _t(entry.get("from"))
        if start is not None and start <= at and (latest is None or start >= latest):
            latest, current = start, (entry.get("status", "active"), entry)
    return current


def key_problem(identifier: Mapping[str, Any], method: str | None, at: datetime) -> str | None:
    """Why the key was not valid at `at`, or None when it was."""
    when = _fmt(at)
    revoked = _t(identifier.get("revokedFrom"))
    if revoked is not None and at >= revoked:
        return f"its key {identifier.get('did')} was revoked with effect from {identifier['revokedFrom']}, before the proof's time {when}"
    if not _within(identifier, at):
        return (f"its key {identifier.get('did')} was valid from {identifier.get('validFrom') or 'the start'} "
                f"until {identifier.get('validUntil') or 'further notice'}, not at the proof's time {when}")
    methods = identifier.get("verificationMethods")
    if method and isinstance(methods, list) and methods:
        for vm in methods:
            if isinstance(vm, dict) and vm.get("id") == method:
                if _within(vm, at):
                    return None
                return (f"its verification method {method} was valid from {vm.get('validFrom') or 'the start'} "
                        f"until {vm.get('validUntil') or 'further notice'}, not at the proof's time {when}")
        return f"its verification method {method} is not one the registry lists for {identifier.get('did')}"
    return None


def decide(
    snapshot: RegistrySnapshot,
    verification_method: str,
    at: datetime,
    *,
    credential_types: Iterable[str],
    frameworks: Mapping[str, FrameworkRoles] | None = None,
    framework: str | None = None,
) -> Decision:
    """Was the holder of `verification_method` accredited, at `at`, for what `credential_types` need?

    The frameworks considered are `framework` if given, else every framework the snapshot covers that the
    configuration knows. Pure: no I/O; ~10 µs for a listed key.
    """
    configured = frameworks if frameworks is not None else default_frameworks()
    did = verification_method.split("#", 1)[0]
    found = snapshot.lookup(did)
    if found is None:
        return Decision(False, "REGISTRY_ENTITY_NOT_FOUND",
                        f"the signing key {did} belongs to no entity in the {snapshot.label()}: the issuer is not accredited there")
    entity, identifier = found
    entity_id, name = entity.get("id"), entity.get("legalName") or entity.get("id")
    candidates = [framework] if framework else [f for f in (snapshot.frameworks or configured.keys()) if f in configured]
    types = list(credential_types)
    needs = [(f, configured[f].needed_for(types)) for f in candidates if f in configured]
    needs = [(f, n) for f, n in needs if n is not None and n[1]]
    if not needs:
        return Decision(False, "REGISTRY_NO_ROLE_FOR_TYPE",
                        f"no role is configured for credential type {', '.join(types) or '(none)'} in "
                        f"{', '.join(candidates) or 'any framework of this snapshot'}", entity_id)
    why_key = key_problem(identifier, verification_method if "#" in verification_method else None, at)
    if why_key is not None:
        return Decision(False, "REGISTRY_KEY_NOT_VALID", f"{name} is in the registry, but {why_key}", entity_id)
    return decide_role(entity, [(f, n[0], n[1]) for f, n in needs], at, frameworks=configured, needed_by=", ".join(types))


def decide_role(
    entity: Mapping[str, Any],
    needs: list[tuple[str, str, tuple[str, ...]]],
    at: datetime,
    *,
    frameworks: Mapping[str, FrameworkRoles] | None = None,
    needed_by: str = "",
    time_label: str = "the proof's time",
) -> Decision:
    """Did `entity` hold one of the roles `needs` lists — (framework, role name, accepted URLs) — at `at`,
    not suspended or revoked then? (The TRQP service asks this directly, for a member URL and a role.)"""
    configured = frameworks if frameworks is not None else default_frameworks()
    entity_id, name = entity.get("id"), entity.get("legalName") or entity.get("id")
    when = _fmt(at)

    def framework_name(f: str) -> str:
        return configured[f].name if f in configured else f

    held = []
    for f, role_name, urls in needs:
        for role in entity.get("roles") or ():
            if isinstance(role, dict) and role.get("framework") == f and role.get("role") in urls:
                held.append((f, role_name, role))
    if not held:
        f, role_name, urls = needs[0]
        other = sorted({str(r.get("role")).rsplit("/", 1)[-1] for r in entity.get("roles") or () if isinstance(r, dict)})
        return Decision(False, "REGISTRY_ROLE_NEVER_HELD",
                        f"{name} never held the {role_name} role ({' or '.join(u.rsplit('/', 1)[-1] for u in urls)}) in {framework_name(f)}"
                        + (f", which a {needed_by} needs" if needed_by else "") + (f"; its roles: {', '.join(other)}" if other else ""), entity_id, f)
    failures: list[Decision] = []
    for f, role_name, role in held:
        role_url = role.get("role")
        if _within(role, at):
            status, entry = _status_at(role, at)
            if status == "active":
                return Decision(True, "", f"{name} held the {role_url.rsplit('/', 1)[-1]} role in {framework_name(f)} at {when}",
                                entity_id, f, role_url)
            reason = f" ({entry.get('reason')})" if entry and entry.get("reason") else ""
            code = "REGISTRY_ROLE_REVOKED" if status == "revoked" else "REGISTRY_ROLE_SUSPENDED"
            failures.append(Decision(False, code, f"{name}'s {role_url.rsplit('/', 1)[-1]} role was {status} from "
                                     f"{entry.get('from') if entry else '?'}{reason}, which covers {time_label} {when}", entity_id, f, role_url))
            continue
        start = _t(role.get("validFrom"))
        if start is not None and at < start:
            failures.append(Decision(False, "REGISTRY_ROLE_NOT_YET_GRANTED", f"{name} was granted the {role_url.rsplit('/', 1)[-1]} role "
                                     f"from {role.get('validFrom')}, after {time_label} {when}", entity_id, f, role_url))
        else:
            # A revocation for cause voids from its time on, even past the role's end.
            status, entry = _status_at(role, at)
            if status == "revoked":
                reason = f" ({entry.get('reason')})" if entry and entry.get("reason") else ""
                failures.append(Decision(False, "REGISTRY_ROLE_REVOKED", f"{name}'s {role_url.rsplit('/', 1)[-1]} role was revoked from "
                                         f"{entry.get('from') if entry else '?'}{reason}", entity_id, f, role_url))
                continue
            failures.append(Decision(False, "REGISTRY_ROLE_ENDED", f"{name}'s {role_url.rsplit('/', 1)[-1]} role ended at "
                                     f"{role.get('validUntil')}, before {time_label} {when}", entity_id, f, role_url))
    order = ["REGISTRY_ROLE_REVOKED", "REGISTRY_ROLE_SUSPENDED", "REGISTRY_ROLE_ENDED", "REGISTRY_ROLE_NOT_YET_GRANTED"]
    failures.sort(key=lambda d: order.index(d.code))
    return failures[0]


def _types_of(document: Mapping[str, Any]) -> list[str]:
    t = document.get("type")
    return [x for x in (t if isinstance(t, list) else [t]) if isinstance(x, str)]


def accreditation_check(
    document: Mapping[str, Any],
    outcomes: Iterable[Any],
    snapshot: RegistrySnapshot,
    *,
    frameworks: Mapping[str, FrameworkRoles] | None = None,
    framework: str | None = None,
) -> CheckResult:
    """The ``accreditation`` check: passes when a verified proof's key belonged, at the proof's
    ``created``, to an entity holding the role the credential's type needs (and the key was valid)."""
    details: dict[str, Any] = {"snapshot": snapshot.summary(), "createdIsSignerClaim": True, "note": CREATED_IS_A_CLAIM}
    if snapshot.notes:
        details["snapshotNotes"] = list(snapshot.notes)
    if not snapshot.usable:
        return CheckResult("accreditation", "failed", "the registry snapshot cannot be used", list(snapshot.problems), details)
    verified = [o for o in outcomes if getattr(o, "verified", False) and isinstance(o.proof, dict)]
    if not verified:
        return CheckResult("accreditation", "failed", "no verified proof to check against the registry", [
            _problem("REGISTRY_NO_VERIFIED_PROOF",
                     "no proof verified, so no signer can be looked up in the registry")], details)
    decisions = []
    problems: list[ProblemDetail] = []
    for outcome in verified:
        proof = outcome.proof
        method = proof.get("verificationMethod")
        created = proof.get("created")
        if not isinstance(created, str):
            problems.append(_problem("REGISTRY_PROOF_TIME_MISSING",
                                     f"{outcome.label} has no created time, so the registry cannot say whether its signer was accredited when it signed"))
            continue
        try:
            at = parse_datetime(created, field="proof created")
            decision = decide(snapshot, method, at, credential_types=_types_of(document), frameworks=frameworks, framework=framework)
        except PerseusError as exc:
            problems.append(problem("REGISTRY_SNAPSHOT_MALFORMED", f"the registry snapshot holds a bad value: {exc.message}"))
            continue
        entry = decision.to_json()
        entry["proof"] = outcome.label
        entry["created"] = created
        decisions.append(entry)
        if decision.authorized:
            if at > snapshot.issued:
                details["note"] = (CREATED_IS_A_CLAIM + f"; the proof was made after the snapshot was issued ({snapshot.issued_text}), "
                                   "so a later suspension would not be in it")
            details["decisions"] = decisions
            return CheckResult("accreditation", "passed",
                               f"{decision.message} (per {snapshot.label()}; created is the signer's own claim)", [], details)
        problems.append(_problem(decision.code, decision.message))
    details["decisions"] = decisions
    return CheckResult("accreditation", "failed", f"not accredited (per {snapshot.label()})", problems, details)


def _problem(code: str, detail: str) -> ProblemDetail:
    return ProblemDetail(code, detail, "accreditation", _TITLES.get(code, ""))


def not_checked() -> CheckResult:
    """What the report says when no registry was given."""
    return CheckResult("accreditation", "skipped",
                       "not checked: no trust registry snapshot was given (--registry), so nothing shows the issuer was accredited")
