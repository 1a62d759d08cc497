"""Every published W3C test vector for the four cryptosuites, used exactly as published.

For each vector: our canonical document and canonical proof configuration equal the published ones
byte for byte, so do both hashes; signing the unsigned credential with the vector's key and proof
options reproduces the published proofValue (Ed25519 is deterministic, and we sign ECDSA with RFC 6979);
and the published signed credential verifies.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from perseus.issuer.keyfile import read_key_file
from perseus.verifier.loader import DocumentLoader
from perseus.verifier.multibase import encode_base58btc
from perseus.verifier.proofs import add_proof
from perseus.verifier.suites import get_suite
from perseus.verifier.verify import verify_credential

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
EDDSA = VECTORS / "vc-di-eddsa" / "TestVectors"
ECDSA = VECTORS / "vc-di-ecdsa" / "TestVectors"


@dataclass(frozen=True)
class Vector:
    name: str
    folder: Path
    suffix: str  # the vector's file-name suffix, e.g. "DataInt", "JCSECDSAP256"
    key: Path
    unsigned: Path

    def file(self, stem: str, ext: str = "txt") -> Path:
        return self.folder / f"{stem}{self.suffix}.{ext}"

    def text(self, stem: str) -> str:
        return self.file(stem).read_text(encoding="utf-8")

    def json(self, stem: str) -> dict:
        return json.loads(self.file(stem, "json").read_text(encoding="utf-8"))


VECTORS_LIST = [
    Vector("eddsa-rdfc-2022", EDDSA / "eddsa-rdfc-2022", "DataInt", EDDSA / "keyPair.json", EDDSA / "unsigned.json"),
    Vector("eddsa-rdfc-2022/employ", EDDSA / "eddsa-rdfc-2022" / "employ", "DataInt", EDDSA / "keyPair.json", EDDSA / "employmentAuth.json"),
    Vector("eddsa-jcs-2022", EDDSA / "eddsa-jcs-2022", "JCS", EDDSA / "keyPair.json", EDDSA / "unsigned.json"),
    Vector("ecdsa-rdfc-2019-p256", ECDSA / "ecdsa-rdfc-2019-p256", "ECDSAP256", ECDSA / "p256KeyPair.json", ECDSA / "unsigned.json"),
    Vector("ecdsa-rdfc-2019-p256/employ", ECDSA / "ecdsa-rdfc-2019-p256" / "employ", "ECDSAP256", ECDSA / "p256KeyPair.json", ECDSA / "employmentAuth.json"),
    Vector("ecdsa-rdfc-2019-p384", ECDSA / "ecdsa-rdfc-2019-p384", "ECDSAP384", ECDSA / "p384KeyPair.json", ECDSA / "unsigned.json"),
    Vector("ecdsa-rdfc-2019-p384/employ", ECDSA / "ecdsa-rdfc-2019-p384" / "employ", "ECDSAP384", ECDSA / "p384KeyPair.json", ECDSA / "employmentAuth.json"),
    Vector("ecdsa-jcs-2019-p256", ECDSA / "ecdsa-jcs-2019-p256", "JCSECDSAP256", ECDSA / "p256KeyPair.json", ECDSA / "unsigned.json"),
    Vector("ecdsa-jcs-2019-p384", ECDSA / "ecdsa-jcs-2019-p384", "JCSECDSAP384", ECDSA / "p384KeyPair.json", ECDSA / "unsigned.json"),
]


@pytest.fixture(scope="module")
def loader() -> DocumentLoader:
    """The bundled contexts plus the citizenship context that the `employ` vectors use (test data only)."""
    citizenship = json.loads((VECTORS / "contexts" / "citizenship-v4rc1.jsonld").read_text(encoding="utf-8"))
    return DocumentLoader({"https://w3id.org/citizenship/v4rc1": citizenship})


def _hash(data: bytes, key_type: str) -> str:
    return hashlib.new("sha384" if key_type == "P-384" else "sha256", data).hexdigest()


def _published(text: str) -> str:
    """The vector files are the canonical form with or without a final newline; RDFC output ends with one."""
    return text if text.endswith("\n") or text.startswith("{") else text + "\n"


@pytest.mark.parametrize("vector", VECTORS_LIST, ids=lambda v: v.name)
def test_canonical_forms_and_hashes_match(vector: Vector, loader: DocumentLoader) -> None:
    key = read_key_file(vector.key).secret_key
    suite = get_suite(vector.json("proofConfig")["cryptosuite"])
    unsigned = json.loads(vector.unsigned.read_text(encoding="utf-8"))
    config = vector.json("proofConfig")

    canonical_document = suite.canonicalize(unsigned, loader, key.key_type)
    canonical_config = suite.canonicalize(config, loader, key.key_type)

    assert canonical_document.decode("utf-8") == _published(vector.text("canonDoc"))
    assert canonical_config.decode("utf-8") == _published(vector.text("proofCanon"))
    assert _hash(canonical_document, key.key_type) == vector.text("docHash").strip()
    assert _hash(canonical_config, key.key_type) == vector.text("proofHash").strip()
    assert suite.hash_data(canonical_config, canonical_document, key.key_type).hex() == vector.text("combinedHash").strip()


@pytest.mark.parametrize("vector", VECTORS_LIST, ids=lambda v: v.name)
def test_signing_reproduces_the_published_proof(vector: Vector, loader: DocumentLoader) -> None:
    keyfile = read_key_file(vector.key)
    config = vector.json("proofConfig")
    unsigned = json.loads(vector.unsigned.read_text(encoding="utf-8"))
    signed = add_proof(
        unsigned,
        suite=get_suite(config["cryptosuite"]),
        secret_key=keyfile.secret_key,
        verification_method=config["verificationMethod"],
        loader=loader,
        created=config["created"],
        proof_purpose=config["proofPurpose"],
    )
    published = vector.json("signed")
    assert signed["proof"]["proofValue"] == published["proof"]["proofValue"] == vector.text("sigBTC58").strip()
    assert signed == published
    assert encode_base58btc(bytes.fromhex(vector.text("sigHex").strip())) == published["proof"]["proofValue"]


@pytest.mark.parametrize("vector", VECTORS_LIST, ids=lambda v: v.name)
def test_published_signed_credential_verifies(vector: Vector, loader: DocumentLoader) -> None:
    result = verify_credential(vector.json("signed"), loader=loader, checks="proof")
    assert result.verified, result.report()


@pytest.mark.parametrize("vector", VECTORS_LIST, ids=lambda v: v.name)
def test_issuer_binding_fails_for_vectors_signed_by_another_key(vector: Vector, loader: DocumentLoader) -> None:
    """The vectors name an https issuer but are signed by a did:key: full checks must say so."""
    result = verify_credential(vector.json("signed"), loader=loader)
    assert not result.verified
    failed = [c.check for c in result.checks if c.outcome == "failed"]
    assert failed == ["issuer"]
    assert result.errors[0].code == "ISSUER_MISMATCH"
