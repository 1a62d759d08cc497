"""The IB1 adapter refuses what the 2026-03-12 consumption schema forbids, or says it accepted it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from perseus.issuer.adapters import parse_ib1_consumption
from perseus.issuer.energy.errors import InputDataError


def reading(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": "Electricity",
        "from": "2024-01-01T00:00:00Z",
        "to": "2024-01-01T00:30:00Z",
        "takenAt": "2024-01-01T00:30:00Z",
        "energy": {"value": "0.5", "unitCode": "KWH"},
        "cumulative": {"value": "100.5", "unitCode": "KWH"},
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def test_a_conforming_response_is_read_without_remarks() -> None:
    response = parse_ib1_consumption(json.dumps({"data": [reading()]}))
    assert response.nonconforming == () and response.extensions == ()


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"takenAt": "2024-01-01T00:29:59Z"}, "takenAt 2024-01-01T00:29:59Z is before the end of the interval"),
        ({"takenAt": None}, "the reading has no takenAt"),
        ({"cumulative": None}, "the reading has no cumulative register value"),
    ],
)
def test_what_the_schema_forbids_is_refused_or_accepted_and_listed(changes: dict[str, Any], reason: str) -> None:
    doc = json.dumps({"data": [reading(**changes)]})
    with pytest.raises(InputDataError, match=reason) as raised:
        parse_ib1_consumption(doc)
    assert "accept a non-conforming response" in raised.value.message
    accepted = parse_ib1_consumption(doc, accept_nonconforming=True)
    assert len(accepted.nonconforming) == 1 and reason in accepted.nonconforming[0]


def test_gas_and_mtq_are_read_as_our_extension() -> None:
    doc = json.dumps({"data": [reading(type="Gas", energy={"value": "0.1", "unitCode": "MTQ"}, cumulative={"value": "7.1", "unitCode": "MTQ"})]})
    response = parse_ib1_consumption(doc)
    assert response.fuel == "gas" and any("MTQ" in e for e in response.extensions) and any("gas" in e for e in response.extensions)
