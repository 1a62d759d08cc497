"""Interoperability with an independent implementation: @digitalbazaar/vc 7 (jsonld.js 9, rdf-canonize 5).

Credentials we sign verify there (safe mode, our bundled contexts as its only contexts), and credentials
it signs verify here — for every cryptosuite and key type. Skipped, with the reason, where Node.js or the
harness (`cd bench/node && npm ci`; `python3 run.py test` does it) is not installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from perseus.issuer.keyfile import generate_key_file, write_key_file
from perseus.issuer.signing import sign_document
from perseus.verifier.verify import verify_credential

NODE_DIR = Path(__file__).resolve().parents[2] / "bench" / "node"
pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (NODE_DIR / "node_modules" / "@digitalbazaar" / "vc").is_dir(),
    reason="Node.js or bench/node/node_modules (npm ci) not available",
)

SUITES = [
    ("Ed25519", "eddsa-rdfc-2022"),
    ("Ed25519", "eddsa-jcs-2022"),
    ("P-256", "ecdsa-rdfc-2019"),
    ("P-384", "ecdsa-rdfc-2019"),
    ("P-256", "ecdsa-jcs-2019"),
    ("P-384", "ecdsa-jcs-2019"),
]


def _credential(issuer: str) -> dict:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:5b4d2f0c-7c1a-4f5e-8a0b-3e9d1c2b4a6f",
        "type": ["VerifiableCredential", "ExampleMeterCredential"],
        "issuer": issuer,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:sme-42",
            "reading": [{"start": "2025-01-01T00:00:00Z", "kwh": "0.412"}, {"start": "2025-01-01T00:30:00Z", "kwh": "0.398"}],
            "note": "tab\there, quote \" and é",
        },
        "name": {"@value": "شهادة الطاقة", "@language": "ar", "@direction": "rtl"},
    }


def _node(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["node", *args], cwd=NODE_DIR, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("key_type,suite", SUITES, ids=lambda v: v)
def test_what_we_sign_verifies_in_digitalbazaar_vc(tmp_path: Path, key_type: str, suite: str) -> None:
    key = generate_key_file(key_type)
    path = tmp_path / "signed.json"
    path.write_text(json.dumps(sign_document(_credential(key.controller), key, suite=suite)))
    done = _node("verify.mjs", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["verified"] is True


@pytest.mark.parametrize("key_type,suite", SUITES, ids=lambda v: v)
def test_what_digitalbazaar_vc_signs_verifies_here(tmp_path: Path, key_type: str, suite: str) -> None:
    key = generate_key_file(key_type)
    key_path = tmp_path / "key.json"
    write_key_file(key, key_path)
    unsigned = tmp_path / "unsigned.json"
    unsigned.write_text(json.dumps(_credential(key.controller)))
    done = _node("sign.mjs", str(unsigned), "--key", str(key_path), "--suite", suite)
    assert done.returncode == 0, done.stderr
    signed = json.loads(done.stdout)
    result = verify_credential(signed)
    assert result.verified, result.report()
    tampered = json.loads(done.stdout)
    tampered["credentialSubject"]["reading"][0]["kwh"] = "4.12"
    assert not verify_credential(tampered).verified


def test_a_year_of_readings_interoperates(tmp_path: Path) -> None:
    """The shape the benchmark uses (17,520 unordered reading nodes) in both directions, at a month's size."""
    import sys

    sys.path.insert(0, str(NODE_DIR.parent))
    from bench_trust_core import credential  # noqa: E402

    key = generate_key_file("Ed25519")
    path = tmp_path / "month.json"
    path.write_text(json.dumps(sign_document(credential(key.controller, 1488), key)))
    done = _node("verify.mjs", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
