"""Carrying an IB1 provenance record in a credential, unchanged, and refusing one that contradicts the credential.

The consumption API response comes with the EDP's signed IB1 provenance record. The credential carries it as a
JSON literal (``provenance.ib1ProvenanceRecord``, ``@type: @json``) rather than as an evidence entry with a
digest: the record's signatures cover the base64url text of its steps, which a JSON literal keeps character for
character (RDF canonicalizes a literal with JCS, which never touches string contents), so any recipient re-verifies
IB1's own signatures from the credential alone, offline, and the credential's proof covers the record too. A
digest would only prove the record existed somewhere; the recipient would still need the file.

Before carrying it, the record is read (its steps decoded, not yet trusted: the issuer may not hold the IB1 roots;
recipients verify) and compared with what the credential claims. A record saying ``missingData`` Missing beside a
credential claiming Complete, a credential period outside the record's metering period, or another measure or
meter: each is refused, unless the issuer overrides on purpose — then the credential states each difference
(``ib1RecordDiscrepancy``) next to the record, so no recipient is misled.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from perseus.issuer.energy.errors import InputDataError
from perseus.issuer.energy.model import ConsumptionData
from perseus.verifier.ib1_record_claims import RecordClaims, discrepancies, record_claims

__all__ = ["RecordClaims", "carry_ib1_record", "decode_record_steps", "is_encoded_record", "record_claims", "record_discrepancies"]


def is_encoded_record(document: Any) -> bool:
    """An IB1 provenance record as IB1 publishes it: ``ib1:provenance``, ``origins`` and signed ``steps``."""
    return isinstance(document, dict) and isinstance(document.get("ib1:provenance"), str) and isinstance(document.get("steps"), list)


def decode_record_steps(record: Mapping[str, Any], *, where: str = "provenance") -> list[dict[str, Any]]:
    """Every step of the record, decoded from base64url JSON, in record order (signatures are not checked here)."""
    out: list[dict[str, Any]] = []
    for path, text in _encoded_steps(record.get("steps"), f"{where}.steps", depth=0):
        try:
            step = json.loads(base64.urlsafe_b64decode(text.encode("ascii")))
        except (ValueError, binascii.Error, UnicodeError) as exc:
            raise InputDataError(f"a step of the IB1 provenance record is not base64url JSON ({exc})", location=path) from None
        if not isinstance(step, dict):
            raise InputDataError("a step of the IB1 provenance record must be a JSON object", location=path)
        out.append(step)
    return out


def _encoded_steps(container: Any, where: str, depth: int) -> Iterator[tuple[str, str]]:
    if depth > 32 or not isinstance(container, list) or not container:
        raise InputDataError("a signed step list must be a non-empty list ending in its signature block", location=where)
    for i, element in enumerate(container[:-1]):
        if isinstance(element, str):
            yield f"{where}[{i}]", element
        else:
            yield from _encoded_steps(element, f"{where}[{i}]", depth + 1)


def record_discrepancies(claims: RecordClaims, data: ConsumptionData, missing_data: str) -> list[str]:
    """Each way the credential's own claims go beyond or against the record, as a sentence (empty: none)."""
    point = data.supply_point
    return discrepancies(
        claims,
        missing_data=missing_data,
        period_start=data.period_start,
        period_end=data.period_end,
        measure=point.measure,
        meter=point.identifier,
        scheme=point.scheme,
    )


def carry_ib1_record(provenance: Any, data: ConsumptionData, missing_data: str) -> Any:
    """`provenance` ready to carry its IB1 record: refused (InputDataError) if the record contradicts the
    credential, unless ``provenance.accept_discrepancies`` — then with each difference stated."""
    record = getattr(provenance, "ib1_record", None)
    if record is None:
        return provenance
    if not is_encoded_record(record):
        raise InputDataError("an IB1 provenance record must be the encoded object IB1 publishes: ib1:provenance, origins, steps", location="provenance")
    found = record_discrepancies(record_claims(decode_record_steps(record)), data, missing_data)
    if found and not provenance.accept_discrepancies:
        raise InputDataError(
            f"{found[0]}{f' (and {len(found) - 1} more)' if len(found) > 1 else ''}; correct the input, or state the "
            "difference in the credential on purpose (--accept-ib1-discrepancy)",
            location="provenance",
        )
    return replace(provenance, discrepancies=tuple(found))
