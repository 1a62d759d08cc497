"""The `perseus` CLI contract that scripts rely on: keys generate, sign, verify, contexts; exit codes 0/1/2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from perseus.verifier.cli import main

VECTORS = Path(__file__).resolve().parent / "vectors"
UNSIGNED = VECTORS / "vc-di-eddsa" / "TestVectors" / "unsigned.json"
SIGNED_VECTOR = VECTORS / "vc-di-eddsa" / "TestVectors" / "eddsa-rdfc-2022" / "signedDataInt.json"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, str]:
    path = tmp_path / "key.json"
    code, out, _ = run(capsys, "keys", "generate", "--type", "Ed25519", "-o", str(path))
    assert code == 0
    return path, out.strip()


@pytest.fixture()
def credential(tmp_path: Path, key: tuple[Path, str]) -> Path:
    document = json.loads(UNSIGNED.read_text())
    document["issuer"] = key[1]
    path = tmp_path / "credential.json"
    path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize("key_type,prefix", [("Ed25519", "did:key:z6Mk"), ("P-256", "did:key:zDn"), ("P-384", "did:key:z82")])
def test_keys_generate_writes_a_key_file_and_prints_the_did_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key_type: str, prefix: str
) -> None:
    path = tmp_path / "k.json"
    code, out, err = run(capsys, "keys", "generate", "--type", key_type, "-o", str(path))
    assert code == 0 and err == ""
    did = out.strip()
    assert did.startswith(prefix)
    data = json.loads(path.read_text())
    assert set(data) >= {"id", "controller", "publicKeyMultibase", "secretKeyMultibase"}
    assert data["controller"] == did and data["id"] == f"{did}#{data['publicKeyMultibase']}"
    assert path.stat().st_mode & 0o777 == 0o600


def test_keys_generate_refuses_to_overwrite(capsys: pytest.CaptureFixture[str], key: tuple[Path, str]) -> None:
    before = key[0].read_text()
    code, _, err = run(capsys, "keys", "generate", "--type", "Ed25519", "-o", str(key[0]))
    assert code == 2 and "already exists" in err and key[0].read_text() == before


def test_sign_then_verify_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str], key: tuple[Path, str], credential: Path) -> None:
    signed = tmp_path / "signed.json"
    assert run(capsys, "sign", str(credential), "--key", str(key[0]), "-o", str(signed))[0] == 0
    code, out, _ = run(capsys, "verify", str(signed))
    assert code == 0 and out.startswith("VERIFIED")
    code, out, _ = run(capsys, "verify", str(signed), "--json")
    assert code == 0 and json.loads(out)["verified"] is True


def test_sign_prints_to_stdout_and_options_reach_the_proof(
    capsys: pytest.CaptureFixture[str], key: tuple[Path, str], credential: Path
) -> None:
    code, out, _ = run(
        capsys, "sign", str(credential), "--key", str(key[0]), "--suite", "eddsa-jcs-2022",
        "--created", "2025-02-03T04:05:06Z", "--proof-id", "urn:uuid:1",
    )
    assert code == 0
    proof = json.loads(out)["proof"]
    assert (proof["cryptosuite"], proof["created"], proof["id"]) == ("eddsa-jcs-2022", "2025-02-03T04:05:06Z", "urn:uuid:1")


def test_signing_a_signed_document_adds_a_proof_and_chains(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: tuple[Path, str], credential: Path
) -> None:
    first = tmp_path / "1.json"
    second = tmp_path / "2.json"
    run(capsys, "sign", str(credential), "--key", str(key[0]), "--proof-id", "urn:uuid:first", "-o", str(first))
    run(capsys, "sign", str(first), "--key", str(key[0]), "--previous-proof", "urn:uuid:first", "-o", str(second))
    proofs = json.loads(second.read_text())["proof"]
    assert len(proofs) == 2 and proofs[1]["previousProof"] == "urn:uuid:first"
    assert run(capsys, "verify", str(second))[0] == 0


def test_verify_exit_1_with_reasons_when_not_verified(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tampered = json.loads(SIGNED_VECTOR.read_text())
    tampered["credentialSubject"]["alumniOf"] = "Another School"
    path = tmp_path / "t.json"
    path.write_text(json.dumps(tampered))
    code, out, _ = run(capsys, "verify", str(path), "--checks", "proof")
    assert code == 1
    assert "NOT VERIFIED" in out and "PROOF_VERIFICATION_ERROR" in out and "altered after signing" in out
    code, out, _ = run(capsys, "verify", str(path), "--checks", "proof", "--json")
    result = json.loads(out)
    assert code == 1 and result["verified"] is False and result["errors"][0]["code"] == "PROOF_VERIFICATION_ERROR"


def test_checks_proof_skips_issuer_binding(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "verify", str(SIGNED_VECTOR))[0] == 1
    assert run(capsys, "verify", str(SIGNED_VECTOR), "--checks", "proof")[0] == 0


def test_contexts_lists_url_sha256_and_path(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "contexts")
    assert code == 0
    rows = [line.split("\t") for line in out.splitlines()]
    assert all(len(r) == 3 for r in rows)
    urls = {r[0] for r in rows}
    assert {"https://www.w3.org/ns/credentials/v2", "https://w3id.org/security/data-integrity/v2", "https://w3id.org/security/multikey/v1"} <= urls
    root = Path(__file__).resolve().parents[1]
    import hashlib

    for url, digest, path in rows:
        assert hashlib.sha256((root / path).read_bytes()).hexdigest() == digest, url


@pytest.mark.parametrize(
    "setup,argv,message",
    [
        (None, ["verify", "{tmp}/missing.json"], "does not exist"),
        ("not json {", ["verify", "{tmp}/input.json"], "is not valid JSON"),
        (None, ["verify", "{tmp}"], "is a directory"),
        ("[]", ["verify", "{tmp}/input.json", "--checks", "proof,speed"], "unknown check"),
        ("{}", ["sign", "{tmp}/input.json", "--key", "{tmp}/missing-key.json"], "missing-key.json"),
        ("{}", ["sign", "{tmp}/input.json", "--key", "{tmp}/input.json"], "input.json"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setup: str | None, argv: list[str], message: str
) -> None:
    if setup is not None:
        (tmp_path / "input.json").write_text(setup)
    code, out, err = run(capsys, *[a.format(tmp=tmp_path) for a in argv])
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_wrong_key_type_for_suite_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], credential: Path) -> None:
    p256 = tmp_path / "p256.json"
    run(capsys, "keys", "generate", "--type", "P-256", "-o", str(p256))
    code, _, err = run(capsys, "sign", str(credential), "--key", str(p256), "--suite", "eddsa-rdfc-2022")
    assert code == 2 and "eddsa-rdfc-2022 needs a key of type Ed25519" in err


def test_malformed_multibase_in_key_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], credential: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"publicKeyMultibase": "z6Mk0OIl", "privateKeyMultibase": "zNOT-BASE58!"}))
    code, _, err = run(capsys, "sign", str(credential), "--key", str(bad))
    assert code == 2 and "bad.json" in err and "Traceback" not in err


def test_w3c_vector_key_file_is_accepted_as_is(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = VECTORS / "vc-di-eddsa" / "TestVectors" / "keyPair.json"
    code, out, _ = run(capsys, "sign", str(UNSIGNED), "--key", str(key), "--created", "2023-02-24T23:36:38Z", "--allow-other-issuer")
    assert code == 0
    assert json.loads(out)["proof"]["proofValue"] == json.loads(SIGNED_VECTOR.read_text())["proof"]["proofValue"]


def test_installed_entry_point_runs_as_a_process(tmp_path: Path) -> None:
    """The `perseus` script itself (not just `main`): exit codes cross the process boundary."""
    done = subprocess.run([sys.executable, "-m", "perseus.verifier.cli", "verify", str(SIGNED_VECTOR), "--checks", "proof", "--json"], capture_output=True, text=True)
    assert done.returncode == 0 and json.loads(done.stdout)["verified"] is True
    done = subprocess.run([sys.executable, "-m", "perseus.verifier.cli", "verify", str(tmp_path / "nope.json")], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.startswith("perseus verify: error:")
