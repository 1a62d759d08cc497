"""Builds a whole meter → EDP → CAP → bank chain for the chain tests and the benchmark.

The EDP's consumption credentials carry IB1 provenance records signed with the throwaway test PKI of
tests/provenance (imported, not copied); the credentials are signed with the four-party example's published
example keys, so the example registry snapshots decide the issuers' roles. Every time is explicit: the IB1
records are signed on 2025-06-01, the consumption credentials on 2025-06-02, the report on 2025-06-10.
"""

from __future__ import annotations

import json
import sys
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "provenance"))

from ib1_pki import CAP_ROLE, EDP_ROLE, SIGNED_AT, Party, Pki, cap_steps, edp_steps, make_pki, own_sign  # noqa: E402

from perseus.issuer.keyfile import KeyFile, read_key_file  # noqa: E402
from perseus.issuer.signing import sign_document  # noqa: E402
from perseus.verifier.digests import credential_digest  # noqa: E402
from perseus.verifier.status import Bitstring  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
MEMBER = "https://directory.core.sandbox.trust.ib1.org/m/"
LONDON = ZoneInfo("Europe/London")
EDP_MADE = datetime(2025, 6, 2, 9, tzinfo=timezone.utc)
REPORT_MADE = datetime(2025, 6, 10, 12, tzinfo=timezone.utc)
NOW = datetime(2025, 7, 1, tzinfo=timezone.utc)


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / "credentials" / f"{name}.json").read_text())


def key(name: str) -> KeyFile:
    return read_key_file(EXAMPLES / "keys" / f"{name}-example-key.json")


@dataclass
class Parties:
    pki: Pki
    edp: Party
    cap: Party
    keys: dict[str, KeyFile] = field(default_factory=dict)


def parties(pki: Pki | None = None) -> Parties:
    """The test PKI with the example EDP and CAP as IB1 members (their registry member URLs)."""
    pki = pki or make_pki()
    edp = pki.leaf("Example Energy Data Ltd", roles=[EDP_ROLE], member=MEMBER + "example-edp")
    cap = pki.leaf("Example Carbon Accounting Ltd", roles=[CAP_ROLE], member=MEMBER + "example-cap")
    return Parties(pki, edp, cap, {n: key(n) for n in ("edp", "cap")})


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1, tzinfo=LONDON)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=LONDON)
    return start, end


def _z(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%MZ")


def consumption(p: Parties, year: int, month: int, *, steps: list[dict[str, Any]] | None = None, record: Any = None,
                signer: Party | None = None, signed_at: datetime = SIGNED_AT, made: datetime = EDP_MADE,
                status_index: int | None = None) -> dict[str, Any]:
    """A half-hourly consumption credential for one month, carrying the IB1 record its API response came with."""
    start, end = month_bounds(year, month)
    credential = example("electricity-halfhourly-2023-10")
    credential.pop("proof")
    credential["id"] = f"urn:uuid:{uuid.uuid4()}"
    credential["validFrom"] = made.strftime("%Y-%m-%dT%H:%M:%SZ")
    subject = credential["credentialSubject"]
    subject["periodStart"], subject["periodEnd"] = start.isoformat(), end.isoformat()
    if record is None:
        record = own_sign(signer or p.edp, steps if steps is not None else edp_steps(period=(_z(start), _z(end))), at=signed_at)
    credential["provenance"] = {"type": "Provenance", "ib1ProvenanceRecord": record}
    if status_index is not None:
        credential["credentialStatus"] = {
            "id": f"{LIST_URL}#{status_index}", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
            "statusListIndex": str(status_index), "statusListCredential": LIST_URL,
        }
    return sign_document(credential, p.keys["edp"], created=made)


LIST_URL = "https://edp.example/status/1"


def status_list(p: Parties, revoked: tuple[int, ...] = (), *, valid_until: str = "2025-08-01T00:00:00Z") -> dict[str, Any]:
    """The EDP's revocation list (signed by the EDP's example key), with `revoked` entries set."""
    bits = Bitstring.zeros(131_072)
    for index in revoked:
        bits.set(index, True)
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"], "id": LIST_URL,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"], "issuer": p.keys["edp"].controller,
        "validFrom": "2025-06-30T00:00:00Z", "validUntil": valid_until,
        "credentialSubject": {"id": LIST_URL + "#list", "type": "BitstringStatusList", "statusPurpose": "revocation", "encodedList": bits.encode()},
    }
    return sign_document(document, p.keys["edp"], created="2025-06-30T00:00:00Z")


def report(p: Parties, inputs: list[dict[str, Any]], *, period: tuple[datetime, datetime], made: datetime = REPORT_MADE,
           record: Any = None) -> dict[str, Any]:
    """The CAP's emissions report over `period`, linking `inputs` by id and digest, with the CAP's own IB1 steps."""
    credential = example("emissions-2023-10")
    credential.pop("proof")
    credential["id"] = f"urn:uuid:{uuid.uuid4()}"
    credential["validFrom"] = made.strftime("%Y-%m-%dT%H:%M:%SZ")
    credential["credentialSubject"]["periodStart"], credential["credentialSubject"]["periodEnd"] = period[0].isoformat(), period[1].isoformat()
    credential["relatedResource"] = [{"id": c["id"], "digestMultibase": credential_digest(c)} for c in inputs]
    if record is None:
        record = own_sign(p.cap, cap_steps(), at=datetime(2025, 6, 5, tzinfo=timezone.utc))
    credential["provenance"] = {"type": "Provenance", "ib1ProvenanceRecord": record}
    return sign_document(credential, p.keys["cap"], created=made)


def tariff() -> dict[str, Any]:
    return example("tariff-weekend-offpeak-fuelmix")


def snapshot(name: str = "snapshot-previous") -> bytes:
    """snapshot-previous.json: every party active (the CAP's 2024 suspension is in snapshot.json)."""
    return (EXAMPLES / "registry" / f"{name}.json").read_bytes()


def trust_anchor() -> str:
    return (EXAMPLES / "registry" / "trust-anchor.txt").read_text().strip()


def one_month_chain(p: Parties, **consumption_options: Any) -> dict[str, Any]:
    """October 2023: one electricity credential with its IB1 record, the report, and the tariff, as a presentation."""
    electricity = consumption(p, 2023, 10, **consumption_options)
    made = report(p, [electricity, tariff()], period=month_bounds(2023, 10))
    return presentation(made, electricity, tariff())


def presentation(*credentials: dict[str, Any]) -> dict[str, Any]:
    return {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"], "verifiableCredential": list(credentials)}


if __name__ == "__main__":  # python tests/chain/chain_builder.py OUT: a one-month example bundle to try the CLI on
    out = Path(sys.argv[1])
    (out / "bundle").mkdir(parents=True, exist_ok=True)
    demo = parties()
    for i, item in enumerate(one_month_chain(demo)["verifiableCredential"]):
        (out / "bundle" / f"{i}.json").write_text(json.dumps(item, indent=1))
    (out / "bundle" / "registry.json").write_bytes(snapshot())
    (out / "ib1-roots.pem").write_bytes(demo.pki.root_pem)
    print(f"perseus verify --bundle {out / 'bundle'} --trust-anchor {trust_anchor()} --ib1-roots {out / 'ib1-roots.pem'}")
