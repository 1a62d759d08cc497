"""A throwaway IB1-shaped PKI for tests: P-384 Signing CA root -> P-256 Signing Issuer -> P-256 member leaves.

Made fresh in memory (no key is stored in the repository). The leaves follow IB1's certificate profile as the
`ib1-provenance` scripts make them (scripts/certmaker.sh, roles.cnf): subject CN and SAN URI, the roles
extension 1.3.6.1.4.1.62329.1.1 (SEQUENCE OF UTF8String) and the member extension 1.3.6.1.4.1.62329.1.3
(UTF8String), 12 months' validity.
"""

from __future__ import annotations

import base64
import copy
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from perseus.verifier.ib1_environments import Ib1Environment, ib1_environment

TF = "https://registry.core.trust.ib1.org/trust-framework"
SCHEME = "https://registry.core.trust.ib1.org/scheme/perseus"
EDP_ROLE = f"{SCHEME}/role/energy-data-provider"
CAP_ROLE = f"{SCHEME}/role/carbon-accounting-provider"
START = datetime(2025, 1, 1, tzinfo=timezone.utc)


def _utf8(text: str) -> bytes:
    raw = text.encode("utf-8")
    return bytes([0x0C]) + _length(len(raw)) + raw


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def der_roles(roles: list[str]) -> bytes:
    body = b"".join(_utf8(r) for r in roles)
    return bytes([0x30]) + _length(len(body)) + body


def der_member(member: str) -> bytes:
    return _utf8(member)


@dataclass
class Party:
    """A member's signing certificate and key, with the issuer certificate that goes with it."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    issuer: x509.Certificate

    @property
    def serial(self) -> str:
        return str(self.certificate.serial_number)


@dataclass
class Pki:
    root: x509.Certificate
    root_key: ec.EllipticCurvePrivateKey
    issuer: x509.Certificate
    issuer_key: ec.EllipticCurvePrivateKey
    parties: dict[str, Party] = field(default_factory=dict)

    @property
    def root_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)

    def environment(self) -> Ib1Environment:
        return ib1_environment("core").with_roots([self.root])

    def leaf(
        self,
        name: str,
        *,
        roles: list[str] | None = None,
        member: str | None = None,
        not_before: datetime = START,
        days: int = 365,
        with_roles: bool = True,
        curve: ec.EllipticCurve | None = None,
    ) -> Party:
        key = ec.generate_private_key(curve or ec.SECP256R1())
        serial = x509.random_serial_number()
        member = member or f"https://directory.core.trust.ib1.org/member/{serial % 10_000_000}"
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, name), x509.NameAttribute(NameOID.COMMON_NAME, member)]))
            .issuer_name(self.issuer.subject)
            .public_key(key.public_key())
            .serial_number(serial)
            .not_valid_before(not_before)
            .not_valid_after(not_before + timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(f"https://directory.core.trust.ib1.org/application/{serial % 100_000}")]), critical=False)
            .add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.62329.1.3"), der_member(member)), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.issuer_key.public_key()), critical=False)
        )
        if with_roles:
            builder = builder.add_extension(
                x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.62329.1.1"), der_roles(roles if roles is not None else [EDP_ROLE])), critical=False
            )
        cert = builder.sign(self.issuer_key, hashes.SHA256())
        party = Party(cert, key, self.issuer)
        self.parties[name] = party
        return party


def _ca(name: str, key: ec.EllipticCurvePrivateKey, signer_key: ec.EllipticCurvePrivateKey, issuer_name: x509.Name | None, path_length: int | None, years: int, hash_: hashes.HashAlgorithm) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Trust Framework"), x509.NameAttribute(NameOID.COMMON_NAME, name)])
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name or subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(START - timedelta(days=30))
        .not_valid_after(START + timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()), critical=False)
        .sign(signer_key, hash_)
    )


def make_pki(name: str = "Test Signing CA") -> Pki:
    """A fresh root (P-384, ten years) and issuer (P-256, five years)."""
    root_key = ec.generate_private_key(ec.SECP384R1())
    root = _ca(name, root_key, root_key, None, None, 10, hashes.SHA384())
    issuer_key = ec.generate_private_key(ec.SECP256R1())
    issuer = _ca(f"{name} Issuer", issuer_key, root_key, root.subject, 0, 5, hashes.SHA384())
    return Pki(root, root_key, issuer, issuer_key)


# -- our own signer, following ib1-provenance 0.5.x record.py (used when the library is not installed) --------


def _encode_step(step: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(step, separators=(",", ":")).encode("utf-8")).decode("utf-8")


def _gather(data: list[Any], root: str | None) -> str:
    out = [root] if root is not None else []
    for e in data:
        if isinstance(e, str):
            out.append(e)
        elif isinstance(e, int):
            out.append(str(e))
        else:
            out.extend(("%", _gather(e, None), "&"))
    return ".".join(out)


def _origins(container: list[Any], out: list[str]) -> None:
    *data, _ = container
    for e in data:
        if isinstance(e, str):
            step = json.loads(base64.urlsafe_b64decode(e))
            if step["type"] == "origin":
                out.append(step["id"])
        else:
            _origins(e, out)


class OwnRecord:
    """A record built and signed the way ib1-provenance's `Record` does, with an explicit signing time."""

    def __init__(self, trust_framework: str = TF, record: dict[str, Any] | None = None) -> None:
        self.trust_framework = trust_framework
        self.record = record
        self.steps: list[dict[str, Any]] = []
        self.records: list[dict[str, Any]] = []

    def add_record(self, record: dict[str, Any]) -> None:
        self.records.append(record)

    def add_step(self, step: dict[str, Any]) -> str:
        step = copy.deepcopy(step)
        step_id = secrets.token_urlsafe(15)
        timestamp = step.pop("timestamp", None) or "2025-06-01T12:00:00Z"
        kind = step.pop("type")
        self.steps.append({"id": step_id, "timestamp": timestamp, "type": kind, **step})
        return step_id

    def sign(self, party: Party, at: datetime) -> dict[str, Any]:
        output: list[Any] = []
        certificates: dict[str, list[str]] = {}
        for r in ([self.record] if self.record else []) + self.records:
            certificates.update(r.get("certificates", {}))
            output.append(r["steps"])
        output.extend(_encode_step(s) for s in self.steps)
        timestamp = at.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        data = _gather(output + ["0", party.serial, timestamp], self.trust_framework)
        signature = party.key.sign(data.encode("utf-8"), ec.ECDSA(hashes.SHA256()))
        output.append([0, party.serial, timestamp, base64.urlsafe_b64encode(signature).decode("utf-8")])
        if party.serial not in certificates:
            certificates[party.serial] = [party.certificate.public_bytes(serialization.Encoding.PEM).decode(), str(party.issuer.serial_number)]
            certificates[str(party.issuer.serial_number)] = [party.issuer.public_bytes(serialization.Encoding.PEM).decode()]
        origins: list[str] = []
        _origins(output, origins)
        return {"ib1:provenance": self.trust_framework, "origins": origins, "steps": output, "certificates": certificates}


# -- realistic records ---------------------------------------------------------------------------------------

MISSING = f"{SCHEME}/assurance/missing-data/"


def edp_steps(months: int = 1, *, missing: str = "Complete", period: tuple[str, str] = ("2023-09-30T23:00Z", "2023-11-01T00:00Z"), measure: str = "import") -> list[dict[str, Any]]:
    """What the IB1 demo EDP signs for a consumption API response: permission, origin(s) and transfer(s)."""
    steps: list[dict[str, Any]] = [
        {
            "name": "perm", "type": "permission", "scheme": SCHEME, "timestamp": "2025-05-01T09:00:00Z",
            "account": "acct-0001", "allows": {"licenses": [f"{SCHEME}/licence/energy-consumption-edp-cap/2026-03-12"]},
            "expires": "2026-05-01T09:00:00Z",
        }
    ]
    for m in range(months):
        steps.append(
            {
                "name": f"origin{m}", "type": "origin", "scheme": SCHEME, "sourceType": f"{SCHEME}/source-type/Meter",
                "origin": "https://www.smartdcc.co.uk/", "originLicense": "https://smartenergycodecompany.co.uk/documents/sec/consolidated-sec/",
                "external": True, "permissions": ["@perm"],
                "perseus:scheme": {"meteringPeriod": {"from": period[0], "to": period[1]}},
                "perseus:assurance": {"missingData": MISSING + missing, "originMethod": f"{SCHEME}/assurance/origin-method/SmartDCCOtherUser"},
            }
        )
        steps.append(
            {
                "name": f"transfer{m}", "type": "transfer", "scheme": SCHEME, "of": f"@origin{m}",
                "to": "https://directory.core.trust.ib1.org/member/81524",
                "standard": f"{SCHEME}/standard/energy-consumption-data/2026-03-12",
                "licence": f"{SCHEME}/licence/energy-consumption-edp-cap/2026-03-12",
                "service": "https://api.edp.example/", "path": f"/datasources/ds-1/{measure}",
                "parameters": {"measure": measure, "from": period[0], "to": period[1]}, "permissions": ["@perm"],
            }
        )
    return steps


def cap_steps() -> list[dict[str, Any]]:
    """What a CAP adds after receiving the EDP's data: 7 steps (20 in all with a 6-month EDP record)."""
    return [
        {"name": "perm", "type": "permission", "scheme": SCHEME, "account": "acct-0001", "allows": {"licenses": [f"{SCHEME}/licence/emissions-cap-fsp/2026-03-12"]}, "expires": "2026-06-01T00:00:00Z"},
        {"name": "receipt", "type": "receipt", "scheme": SCHEME, "transfer": "edp-transfer"},
        {"name": "grid", "type": "origin", "scheme": SCHEME, "sourceType": f"{SCHEME}/source-type/GridCarbonIntensity", "origin": "https://api.carbonintensity.org.uk/", "external": True},
        {"name": "gas", "type": "origin", "scheme": SCHEME, "sourceType": f"{SCHEME}/source-type/GasGreenhouseGasFactor", "origin": "https://www.gov.uk/government/collections/government-conversion-factors-for-company-reporting", "external": True},
        {"name": "process", "type": "process", "scheme": SCHEME, "inputs": ["@receipt", "@grid", "@gas"], "process": f"{SCHEME}/process/emissions-calculation", "permissions": ["@perm"]},
        {"name": "transfer", "type": "transfer", "scheme": SCHEME, "of": "@process", "to": "https://directory.core.trust.ib1.org/member/71212388", "license": f"{SCHEME}/licence/emissions-cap-fsp/2026-03-12", "permissions": ["@perm"]},
        {"name": "receipt2", "type": "receipt", "scheme": SCHEME, "transfer": "@transfer"},
    ]


def own_sign(party: Party, steps: list[dict[str, Any]], *, at: datetime, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """`steps` (with "@name" references, as `ib1_reference.lib_sign` takes them) signed by our own signer."""
    record = OwnRecord(record=base)
    ids: dict[str, str] = {}
    for step in steps:
        step = dict(step)
        for key, value in list(step.items()):
            if isinstance(value, str) and value.startswith("@"):
                step[key] = ids[value[1:]]
            elif isinstance(value, list):
                step[key] = [ids[v[1:]] if isinstance(v, str) and v.startswith("@") else v for v in value]
        name = step.pop("name", None)
        new_id = record.add_step(step)
        if name:
            ids[name] = new_id
    return record.sign(party, at)


SIGNED_AT = datetime(2025, 6, 1, 12, tzinfo=timezone.utc)


# -- pytest fixtures (imported by the test modules: a conftest.py here would shadow tests/conftest.py) --------

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def pki() -> Pki:
    return make_pki()


@pytest.fixture(scope="session")
def edp(pki: Pki) -> Party:
    return pki.leaf("Honest Dave's Accurate Meter Reading Co")


@pytest.fixture(scope="session")
def cap(pki: Pki) -> Party:
    return pki.leaf("Emission Calculations 4 U", roles=[CAP_ROLE])
