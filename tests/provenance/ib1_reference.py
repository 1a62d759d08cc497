"""IB1's reference library `ib1-provenance` 0.5.x, driven the way an IB1 member uses it (for differential tests).

`python3 run.py test` installs it (without its cryptography<44 pin); when it is absent the differential tests
are skipped with the reason shown, and the other tests use our own signer (`ib1_pki.OwnRecord`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Collection, Sequence
from datetime import datetime, timezone
from typing import Any

import pytest

provenance = pytest.importorskip("ib1.provenance", reason="ib1-provenance (IB1's reference library) is not installed")

from ib1.provenance import Record  # noqa: E402
from ib1.provenance.certificates import CertificatesProviderSelfContainedRecord  # noqa: E402
from ib1.provenance.signing import SignerInMemory  # noqa: E402

from ib1_pki import TF, Party  # noqa: E402


class TimedRecord(Record):
    """The library's Record with the signing time fixed (it otherwise signs at the current time)."""

    sign_time = "2025-06-01T12:00:00Z"

    def _timestamp_now_iso8601(self) -> str:
        return self.sign_time


def lib_sign(
    party: Party,
    root_pem: bytes,
    steps: Sequence[dict[str, Any]],
    *,
    at: datetime,
    base: dict[str, Any] | None = None,
    include: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """Steps (and earlier records) signed by `party` at `at` with ib1-provenance; the encoded record."""
    record = TimedRecord(TF, base) if base is not None else TimedRecord(TF)
    record.sign_time = at.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    for other in include:
        record.add_record(Record(TF, other))
    ids: dict[str, str] = {}
    for step in steps:
        step = dict(step)
        for key, value in list(step.items()):  # "@name" placeholders refer to earlier steps' ids
            if isinstance(value, str) and value.startswith("@"):
                step[key] = ids[value[1:]]
            elif isinstance(value, list):
                step[key] = [ids[v[1:]] if isinstance(v, str) and v.startswith("@") else v for v in value]
        name = step.pop("name", None)
        new_id = record.add_step(step)
        if name:
            ids[name] = new_id
    provider = CertificatesProviderSelfContainedRecord(root_pem)
    signer = SignerInMemory(provider, [party.certificate, party.issuer], party.key)
    return record.sign(signer).encoded()


def lib_verify(record: Any, root_pem: bytes, *, required_roles: Collection[str] = ()) -> tuple[bool, str]:
    """(accepted, reason) from the library, with the role check its README leaves to the caller."""
    try:
        if isinstance(record, (str, bytes)):
            record = json.loads(record)
        loaded = Record(TF, record)
        loaded.verify(CertificatesProviderSelfContainedRecord(root_pem))
        steps = loaded.decoded()
    except Exception as exc:  # the library raises bare exceptions of many kinds
        return False, f"{type(exc).__name__}: {exc}"
    if required_roles:
        for step in steps:
            for signer in [step["_signature"]["signed"], *step["_signature"]["includedBy"]]:
                if not set(signer["roles"]) & set(required_roles):
                    return False, f"role missing: {signer['member']} has {signer['roles']}"
    return True, "verified"


def lib_decoded(record: dict[str, Any], root_pem: bytes) -> list[dict[str, Any]]:
    loaded = Record(TF, record)
    loaded.verify(CertificatesProviderSelfContainedRecord(root_pem))
    return loaded.decoded()


def meaning(record: Any) -> Any:
    """What a record says once every encoding is undone (lenient base64, certificates as DER).

    Two records with one meaning differ only in how bytes were written (for example unused bits in the last
    base64 character), so neither changes anything a signature covers.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    def undo(node: Any) -> Any:
        if isinstance(node, str):
            try:
                return ("b64", base64.urlsafe_b64decode(node))
            except Exception:
                return ("text", node)
        if isinstance(node, list):
            return [undo(n) for n in node]
        return node

    certs = {}
    for serial, entry in (record.get("certificates") or {}).items():
        try:
            der = x509.load_pem_x509_certificate(entry[0].encode()).public_bytes(serialization.Encoding.DER)
        except Exception:
            der = entry[0]
        certs[serial] = [der, *entry[1:]]
    return (record.get("ib1:provenance"), record.get("origins"), undo(record.get("steps")), certs, sorted(record))
