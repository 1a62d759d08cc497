"""`perseus demo`: the main job on embedded defaults — make a key, sign a credential, verify it, show the report.

Everything happens in a fresh temporary folder and offline, so it works on a machine that has nothing
but this package installed.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from perseus.verifier.verify import verify_credential

from .keyfile import generate_key_file, write_key_file
from .signing import sign_document


def sample_credential(issuer: str) -> dict[str, Any]:
    """A small credential about half an hour of a meter's consumption (W3C example vocabulary)."""
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:3b1f1a46-8c4e-4d5f-9d36-2f4a7c0e5b21",
        "type": ["VerifiableCredential", "ExampleEnergyConsumptionCredential"],
        "issuer": issuer,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:sme-bakery-42",
            "supplyPoint": "1200023305963",
            "reading": {"start": "2025-01-01T00:00:00Z", "end": "2025-01-01T00:30:00Z", "kWh": "0.412", "quality": "actual"},
        },
    }


def run_demo(workdir: Path, out: Any = sys.stdout) -> bool:
    key = generate_key_file("Ed25519")
    key_path = workdir / "issuer-key.json"
    write_key_file(key, key_path)
    print(f"1. generated an Ed25519 issuer key: {key.controller}\n   (key file {key_path})", file=out)
    signed = sign_document(sample_credential(key.controller), key)
    signed_path = workdir / "signed-credential.json"
    signed_path.write_text(json.dumps(signed, indent=2), encoding="utf-8")
    print(f"2. signed a sample credential with eddsa-rdfc-2022 -> {signed_path}", file=out)
    result = verify_credential(signed)
    print("3. verified it offline:\n", file=out)
    print(result.report(), file=out)
    tampered = json.loads(json.dumps(signed))
    tampered["credentialSubject"]["reading"]["kWh"] = "0.041"
    bad = verify_credential(tampered)
    print("\n4. the same credential with one reading changed:\n", file=out)
    print(bad.report(), file=out)
    return result.verified and not bad.verified


def _cmd_demo(args: Any) -> int:
    with tempfile.TemporaryDirectory(prefix="perseus-demo-") as tmp:
        ok = run_demo(Path(tmp))
    return 0 if ok else 1


def register(commands: Any) -> None:
    demo = commands.add_parser(
        "demo",
        help="sign and verify a sample credential (no setup needed)",
        description="Generate a key, sign a sample credential, verify it offline and print the report.",
    )
    demo.set_defaults(run=_cmd_demo)
