"""Proof sets and proof chains (VC Data Integrity 1.0 §4.2–4.5) against the published vectors."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from perseus.verifier.errors import ProofError
from perseus.verifier.keys import SecretKey
from perseus.verifier.loader import DocumentLoader
from perseus.verifier.proofs import add_proof, proofs_of
from perseus.verifier.suites import EDDSA_RDFC_2022
from perseus.verifier.verify import verify_credential

FOLDER = Path(__file__).resolve().parents[1] / "vectors" / "vc-di-eddsa" / "TestVectors" / "proof-set-chain"


def _json(name: str) -> dict:
    return json.loads((FOLDER / name).read_text(encoding="utf-8"))


KEYS = {name: SecretKey.from_multibase(pair["privateKeyMultibase"]) for name, pair in _json("multiKeyPairs.json").items()}


def _sign(document: dict, config_name: str, key_name: str) -> dict:
    config = _json(config_name)
    return add_proof(
        document,
        suite=EDDSA_RDFC_2022,
        secret_key=KEYS[key_name],
        verification_method=config["verificationMethod"],
        loader=DocumentLoader(),
        created=config["created"],
        proof_purpose=config["proofPurpose"],
        proof_id=config.get("id"),
        previous_proof=config.get("previousProof"),
    )


def test_adding_proofs_reproduces_the_published_proof_set() -> None:
    one = _sign(_json("unsigned.json"), "proofSetConfig1.json", "keyPair1")
    assert one == _json("signedProofSet1.json")
    two = _sign(one, "proofSetConfig2.json", "keyPair2")
    assert two == _json("signedProofSet2.json")


def test_adding_chained_proofs_reproduces_the_published_proof_chain() -> None:
    document = _json("signedProofSet2.json")
    three = _sign(document, "proofChainConfig1.json", "keyPair3")
    assert three == _json("signedProofChain1.json")
    four = _sign(three, "proofChainConfig2.json", "keyPair4")
    assert four == _json("signedProofChain2.json")


@pytest.mark.parametrize("name", ["signedProofSet1.json", "signedProofSet2.json", "signedProofChain1.json", "signedProofChain2.json"])
def test_published_sets_and_chains_verify(name: str) -> None:
    result = verify_credential(_json(name), checks="proof")
    assert result.verified, result.report()
    assert result.checks[-1].details["proofs"] and all(p["verified"] for p in result.checks[-1].details["proofs"])


def test_every_proof_must_verify_not_just_one() -> None:
    """A proof set where one proof is bad is not verified (stock @digitalbazaar/vc 7 gets this wrong)."""
    document = _json("signedProofSet2.json")
    document["proof"][1]["proofValue"] = document["proof"][0]["proofValue"]
    result = verify_credential(document, checks="proof")
    assert not result.verified
    assert len(result.errors) == 1 and result.errors[0].detail.startswith("proof 2")


def test_a_chain_link_signs_over_its_previous_proofs() -> None:
    """Changing a proof that a later proof chains to breaks the later proof too."""
    document = _json("signedProofChain2.json")
    document["proof"][2]["created"] = "2023-02-26T22:06:39Z"  # proof 3, to which proof 4 chains
    result = verify_credential(document, checks="proof")
    failing = sorted(p.detail.split(" ")[1] for p in result.errors)
    assert failing == ["3", "4"]


def test_previous_proof_that_does_not_exist_is_an_error() -> None:
    document = _json("signedProofChain1.json")
    document["proof"][2]["previousProof"] = ["urn:uuid:00000000-0000-0000-0000-000000000000"]
    result = verify_credential(document, checks="proof")
    assert not result.verified
    assert any("no proof with that id" in p.detail for p in result.errors)
    with pytest.raises(ProofError, match="no proof with that id"):
        _sign(_json("signedProofSet1.json"), "proofChainConfig2.json", "keyPair4")


def test_removing_a_proof_from_a_chain_is_detected() -> None:
    document = _json("signedProofChain2.json")
    del document["proof"][2]
    result = verify_credential(document, checks="proof")
    assert not result.verified


def test_single_proof_is_a_set_of_one() -> None:
    document = _json("signedProofSet1.json")
    assert isinstance(document["proof"], dict)
    assert proofs_of(document) == [document["proof"]]
    extended = _sign(copy.deepcopy(document), "proofSetConfig2.json", "keyPair2")
    assert isinstance(extended["proof"], list) and len(extended["proof"]) == 2
