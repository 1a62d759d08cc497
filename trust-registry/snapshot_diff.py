"""What changed between two snapshots, in sentences a bookkeeper can read (`perseus registry diff A B`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["diff_snapshots"]


def _short(url: Any) -> str:
    return str(url).rstrip("/").rsplit("/", 1)[-1]


def _identifier_key(i: Mapping[str, Any]) -> str:
    return str(i.get("did") or f"certificate {i.get('serial')} of {i.get('applicationUrl')}")


def _role_key(r: Mapping[str, Any]) -> tuple[str, str, str]:
    return str(r.get("framework")), str(r.get("role")), str(r.get("validFrom"))


def diff_snapshots(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """One sentence per change from `old` to `new` (entities, keys, roles and their history)."""
    lines = []
    if new.get("sequence") is not None and old.get("sequence") is not None:
        lines.append(f"From snapshot #{old.get('sequence')} ({old.get('issued')}) to #{new.get('sequence')} ({new.get('issued')}):")
    before = {e.get("id"): e for e in old.get("entities", []) if isinstance(e, dict)}
    after = {e.get("id"): e for e in new.get("entities", []) if isinstance(e, dict)}
    for eid in sorted(set(after) - set(before), key=str):
        e = after[eid]
        roles = ", ".join(_short(r.get("role")) for r in e.get("roles", [])) or "no roles"
        lines.append(f"  + {e.get('legalName')} ({eid}) was added, with {roles}")
    for eid in sorted(set(before) - set(after), key=str):
        lines.append(f"  - {before[eid].get('legalName')} ({eid}) was removed (a registry should keep history, not delete it)")
    for eid in sorted(set(before) & set(after), key=str):
        a, b = before[eid], after[eid]
        name = b.get("legalName") or eid
        if a.get("legalName") != b.get("legalName"):
            lines.append(f"  ~ {a.get('legalName')} is now called {b.get('legalName')}")
        if a.get("assuranceLevel") != b.get("assuranceLevel"):
            lines.append(f"  ~ {name}'s assurance level changed from {a.get('assuranceLevel')} to {b.get('assuranceLevel')}")
        ai = {_identifier_key(i): i for i in a.get("identifiers", [])}
        bi = {_identifier_key(i): i for i in b.get("identifiers", [])}
        for k in sorted(set(bi) - set(ai)):
            lines.append(f"  + {name} has a new key {k}, valid from {bi[k].get('validFrom')}")
        for k in sorted(set(ai) - set(bi)):
            lines.append(f"  - {name}'s key {k} was removed")
        for k in sorted(set(ai) & set(bi)):
            if ai[k].get("validUntil") != bi[k].get("validUntil"):
                lines.append(f"  ~ {name}'s key {k} is now valid until {bi[k].get('validUntil') or 'further notice'}")
            if ai[k].get("revokedFrom") != bi[k].get("revokedFrom"):
                lines.append(f"  ! {name}'s key {k} was revoked with effect from {bi[k].get('revokedFrom')}")
            if ai[k].get("verificationMethods") != bi[k].get("verificationMethods") or ai[k].get("didDocument") != bi[k].get("didDocument"):
                lines.append(f"  ~ {name}'s DID document or key list for {k} changed")
        ar = {_role_key(r): r for r in a.get("roles", [])}
        br = {_role_key(r): r for r in b.get("roles", [])}
        for k in sorted(set(br) - set(ar)):
            r = br[k]
            lines.append(f"  + {name} was granted {_short(r.get('role'))} from {r.get('validFrom')}"
                         f"{' until ' + r['validUntil'] if r.get('validUntil') else ''}")
        for k in sorted(set(br)):
            old_r, new_r = ar.get(k, {"history": br[k].get("history", [])[:1], "validUntil": br[k].get("validUntil")}), br[k]
            if old_r.get("validUntil") != new_r.get("validUntil"):
                lines.append(f"  ~ {name}'s {_short(new_r.get('role'))} role now ends at {new_r.get('validUntil') or 'no set time'}")
            for event in new_r.get("history", [])[len(old_r.get("history", [])):]:
                verb = {"suspended": "was suspended", "revoked": "was revoked", "active": "was reinstated"}.get(event.get("status"), "changed")
                lines.append(f"  ! {name}'s {_short(new_r.get('role'))} role {verb} from {event.get('from')}: {event.get('reason')}")
        for k in sorted(set(ar) - set(br)):
            lines.append(f"  - {name}'s {_short(ar[k].get('role'))} role record was removed")
    if len(lines) <= 1:
        lines.append("  no changes to entities, keys or roles")
    return lines
