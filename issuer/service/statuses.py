"""``POST /credentials/status``: revoke, suspend or unsuspend an issued credential.

Two request shapes, both answered 200 with what changed:

* the VC API's: ``{"credentialId": ID, "credentialStatus": {"type": "BitstringStatusListEntry",
  "statusPurpose": "revocation"}, "status": true}`` — ``credentialStatus`` may also be a list, and an
  entry may carry its own ``status``; without any ``status`` the bit is *set* (what the Bitstring
  Status List test suite sends);
* a shorthand: ``{"credentialId": ID, "action": "revoke" | "suspend" | "unsuspend"}``.

Revocation is final (the storage layer refuses to clear it: 409). After a change the list's status
list credential is re-signed at once, so the next ``GET /status/{list}`` serves the new bits without
waiting for a cache to expire.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from perseus.verifier.status import STATUS_ENTRY_TYPE

from ..status import STATUS_ACTIONS
from .problems import ServiceError
from .settings import TokenGrant
from .state import ServiceState

__all__ = ["MAX_STATUS_ENTRIES", "StatusUpdate", "apply_status_update", "parse_status_update"]

_FIELDS = {"credentialId", "credentialStatus", "status", "action", "indexAllocator"}
# A credential has one entry per status purpose (two today); a few more leave room for new purposes
# and repeats. Without a cap one request could queue thousands of changes (issue 7: 20,000 took 31 s).
MAX_STATUS_ENTRIES = 16


def _shown(value: Any) -> str:
    """A sent value as an error message may quote it: short, whatever its type."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True)
class StatusUpdate:
    credential_id: str
    changes: tuple[tuple[str, bool, dict[str, Any]], ...]  # (purpose, value, the entry as sent)


def _bad(message: str) -> ServiceError:
    return ServiceError(400, "PARSING_ERROR", message)


def parse_status_update(body: Any) -> StatusUpdate:
    if not isinstance(body, dict):
        raise _bad('the request body must be a JSON object {"credentialId": ..., "credentialStatus": {...}, "status": true}')
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise _bad(f"unknown field(s) {', '.join(unknown)}; expected credentialId with credentialStatus (and status) or action")
    credential_id = body.get("credentialId")
    if not isinstance(credential_id, str) or not credential_id:
        raise _bad("credentialId must be the id of a credential this service issued")
    if "action" in body:
        if "credentialStatus" in body:
            raise _bad("give either action or credentialStatus, not both")
        action = body["action"]
        if not isinstance(action, str) or action not in STATUS_ACTIONS:
            raise _bad(f"action must be one of {', '.join(STATUS_ACTIONS)} (a string), not {_shown(action)}")
        purpose, value = STATUS_ACTIONS[action]
        return StatusUpdate(credential_id, ((purpose, value, {}),))
    if "credentialStatus" not in body:
        raise _bad("give credentialStatus (which status entry to change) or action (revoke, suspend, unsuspend)")
    default = body.get("status", True)
    if not isinstance(default, bool):
        raise _bad("status must be true (set: revoked / suspended) or false (clear)")
    raw = body["credentialStatus"]
    entries = raw if isinstance(raw, list) else [raw]
    if not entries:
        raise _bad("credentialStatus is an empty list; name at least one status entry")
    if len(entries) > MAX_STATUS_ENTRIES:
        raise ServiceError(
            413,
            "REQUEST_TOO_LARGE",
            f"credentialStatus has {len(entries)} entries; one request changes at most {MAX_STATUS_ENTRIES} "
            "(a credential has one entry per status purpose)",
        )
    changes = []
    for position, entry in enumerate(entries):
        where = f"credentialStatus[{position}]" if isinstance(raw, list) else "credentialStatus"
        if not isinstance(entry, dict):
            raise _bad(f"{where} must be an object with type and statusPurpose")
        if entry.get("type") != STATUS_ENTRY_TYPE:
            raise _bad(f"{where}.type must be {STATUS_ENTRY_TYPE!r}, not {_shown(entry.get('type'))}")
        purpose = entry.get("statusPurpose")
        if not isinstance(purpose, str) or not purpose:
            raise _bad(f"{where}.statusPurpose must be a string such as 'revocation' or 'suspension'")
        value = entry.get("status", default)
        if not isinstance(value, bool):
            raise _bad(f"{where}.status must be true or false")
        changes.append((purpose, value, entry))
    return StatusUpdate(credential_id, tuple(changes))


def apply_status_update(state: ServiceState, update: StatusUpdate, grant: TokenGrant) -> dict[str, Any]:
    """Apply the changes (in order, in one transaction); the response body. Blocking."""
    issued = state.storage.get_issued(update.credential_id)  # CredentialNotFoundError → 404
    if not grant.allows(issued.profile_id):
        raise ServiceError(403, "FORBIDDEN", f"this API token may not change the status of credentials of profile {issued.profile_id!r}")
    entries = {e.purpose: e for e in issued.entries}
    for purpose, _value, sent in update.changes:
        entry = entries.get(purpose)
        if entry is None:
            raise ServiceError(
                400, "PARSING_ERROR", f"credential {update.credential_id} has no {purpose} status entry (it has {', '.join(sorted(entries)) or 'none'})"
            )
        url = state.list_url(entry.list_id)
        if "statusListCredential" in sent and sent["statusListCredential"] != url:
            raise _bad(f"credential {update.credential_id}'s {purpose} entry is in {url}, not {_shown(sent['statusListCredential'])}")
        if "statusListIndex" in sent and sent["statusListIndex"] != str(entry.index):
            raise _bad(f"credentialStatus.statusListIndex {_shown(sent['statusListIndex'])} is not the {purpose} index of credential {update.credential_id}")
    results = []
    republish = set()
    # One transaction for all the changes: every one is made, or (a 409) none.
    changes = state.storage.set_statuses(update.credential_id, [(purpose, value) for purpose, value, _sent in update.changes])
    for (purpose, value, _sent), change in zip(update.changes, changes):
        if change.changed:
            republish.add(change.list_id)
        results.append(
            {
                "statusPurpose": purpose,
                "status": value,
                "changed": change.changed,
                "statusListCredential": state.list_url(change.list_id),
                "statusListIndex": str(change.index),
            }
        )
    for list_id in sorted(republish):
        state.publisher.publish(list_id)
    current = state.storage.get_issued(update.credential_id).status
    return {"credentialId": update.credential_id, "changes": results, "status": current}
