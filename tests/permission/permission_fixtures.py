"""Shared pieces of the permission tests: an SME wallet, an EDP, a CAP and a bank, and a month of data.

A uniquely named module (not a conftest.py; see tests/credentials/perseus_credential_helpers.py for why).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from perseus.issuer.credentials.claims import Metadata
from perseus.issuer.credentials.consumption import build_consumption_credential
from perseus.issuer.energy.consumption import build_consumption
from perseus.issuer.energy.model import EnergyUnit, IntervalReading
from perseus.issuer.energy.mpan import supply_point
from perseus.issuer.holder.permissions import PermissionTerms, SupplyPointRef
from perseus.issuer.holder.wallet import Holder
from perseus.issuer.keyfile import KeyFile, generate_key_file
from perseus.issuer.signing import sign_document

MPAN = "1200123456787"
OTHER_MPAN = "1200123456796"
LICENCE = "https://registry.core.trust.ib1.org/scheme/perseus/license/energy-consumption-emissions-edp-cap-fsp/2026-03-12"
OTHER_LICENCE = "https://registry.core.trust.ib1.org/scheme/perseus/license/energy-consumption-edp-cap/2026-03-12"
PROCESS = "https://registry.core.trust.ib1.org/scheme/perseus/process/electricity-emissions-calculation/2026-03-12"
EVIDENCE = "https://edp.example/evidence/meter-ownership/4471"
JANUARY = datetime(2024, 1, 1, tzinfo=UTC)
FEBRUARY = datetime(2024, 2, 1, tzinfo=UTC)
# Status lists are signed at the real time, so permissions are granted and expire around it.
NOW = datetime.now(UTC).replace(microsecond=0)
GRANTED = NOW - timedelta(days=10)
EXPIRES = NOW + timedelta(days=355)


@dataclass
class Parties:
    holder: Holder  # the SME's wallet
    edp: KeyFile
    cap: Holder  # the Carbon Accounting Provider signs and grants onward with a wallet of its own
    bank: KeyFile

    @property
    def sme(self) -> str:
        return self.holder.did

    @property
    def cap_key(self) -> KeyFile:
        return self.cap.keys.signing_key("holder")


def month_of_data(customer: str, edp: KeyFile, *, mpan: str = MPAN, start: datetime = JANUARY, days: int = 31) -> dict[str, Any]:
    """A signed EnergyConsumptionCredential: ``days`` days of half-hourly import for ``customer``."""
    step = timedelta(minutes=30)
    readings = [IntervalReading(start + i * step, start + (i + 1) * step, Decimal(f"0.{(i * 37) % 900 + 100:03d}"), EnergyUnit.KWH, "actual") for i in range(days * 48)]
    data = build_consumption(supply_point(mpan, "electricity", "import", "SE1"), customer, intervals=readings)
    unsigned = build_consumption_credential(
        data, issuer=edp.controller, metadata=Metadata("SmartMeterViaDCC", license=LICENCE), valid_from=start + timedelta(days=days, hours=9), daily_totals=False
    )
    return sign_document(unsigned, edp)


def terms(recipient: str, **changes: Any) -> PermissionTerms:
    values: dict[str, Any] = {
        "recipient": recipient,
        "license": LICENCE,
        "account": "edp-account-4471",
        "supply_points": (SupplyPointRef(MPAN, "import"),),
        "processes": (PROCESS,),
        "data_available_from": datetime(2023, 1, 1, tzinfo=UTC),
        "expires": EXPIRES,
        "last_granted": GRANTED,
        "evidence": EVIDENCE,
    }
    values.update(changes)
    return PermissionTerms(**values)


@pytest.fixture
def parties(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Parties]:
    monkeypatch.delenv("PERSEUS_KEY_PASSPHRASE", raising=False)
    monkeypatch.delenv("PERSEUS_KEY_PASSPHRASE_FILE", raising=False)
    with Holder.init(tmp_path / "wallet") as holder, Holder.init(tmp_path / "cap", status_base="https://cap.example/status/") as cap:
        yield Parties(holder, generate_key_file("Ed25519"), cap, generate_key_file("P-256"))


def emissions_report(parties: Parties, consumption: dict[str, Any]) -> dict[str, Any]:
    """The CAP's signed EmissionsReportCredential computed from ``consumption`` (linked by id and digest)."""
    from perseus.issuer.credentials.emissions import build_emissions_credential

    unsigned = build_emissions_credential([consumption], issuer=parties.cap.did, valid_from=GRANTED + timedelta(days=1), method="desnz-annual")
    return sign_document(unsigned, parties.cap_key)


def request(recipient: str, *, challenge: str = "challenge-1", domain: str = "https://cap.example") -> dict[str, Any]:
    """A Verifiable Presentation Request for a month of consumption and a permission for ``recipient``."""
    return {
        "query": [
            {
                "type": "QueryByExample",
                "credentialQuery": [
                    {"reason": "to compute your emissions", "example": {"type": ["EnergyConsumptionCredential"], "credentialSubject": {"supplyPoint": {"mpan": MPAN}}}},
                    {"reason": "your permission", "example": {"type": ["PermissionCredential"], "credentialSubject": {"recipient": recipient}}},
                ],
            },
            {"type": "DIDAuthentication", "acceptedMethods": [{"method": "key"}]},
        ],
        "challenge": challenge,
        "domain": domain,
    }
