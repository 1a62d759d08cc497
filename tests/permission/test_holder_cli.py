"""`perseus holder`, `perseus permission` and `perseus present` through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from perseus.verifier.cli import main
from perseus.verifier.presentation import verify_presentation
from permission_fixtures import MPAN, month_of_data, request  # noqa: F401
from perseus.issuer.keyfile import generate_key_file


@pytest.fixture
def wallet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("PERSEUS_KEY_PASSPHRASE", raising=False)
    monkeypatch.setenv("PERSEUS_WALLET", str(tmp_path / "wallet"))
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_whole_wallet_from_the_command_line(wallet: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "holder", "init")
    assert code == 0 and "did:key:z6Mk" in out
    did = out.split("(DID) is ")[1].split()[0]
    cap = generate_key_file("Ed25519")
    code, out, _ = run(capsys, "permission", "grant", "--to", cap.controller, "--account", "acct-1", "--supply-point", MPAN, "--expires", "2099-01-01", "--data-from", "2023-01-01", "-o", str(wallet / "p.json"))
    assert code == 0
    assert out.startswith("You are sharing the energy data of account acct-1 (MPAN 1200123456787 (import))")
    assert f"with {cap.controller}" in out and "until 1 January 2099" in out
    permission = json.loads((wallet / "p.json").read_text())
    edp = generate_key_file("Ed25519")
    (wallet / "c.json").write_text(json.dumps(month_of_data(did, edp, days=1)))
    code, out, _ = run(capsys, "holder", "store", str(wallet / "c.json"))
    assert code == 0 and "EnergyConsumptionCredential" in out
    code, out, _ = run(capsys, "holder", "list")
    assert "EnergyConsumptionCredential" in out
    (wallet / "req.json").write_text(json.dumps({"verifiablePresentationRequest": request(cap.controller)}))
    code, _, err = run(capsys, "present", str(wallet / "req.json"), "--domain", "https://cap.example", "-o", str(wallet / "vp.json"))
    assert code == 0 and "shares 2 credential(s)" in err
    vp = json.loads((wallet / "vp.json").read_text())
    assert verify_presentation(vp, challenge="challenge-1", domain="https://cap.example", recipient=cap.controller).verified
    code, _, _ = run(capsys, "present", str(wallet / "req.json"), "--encrypt-to", cap.controller, "-o", str(wallet / "vp.jwe"))
    assert code == 0
    from perseus.verifier.encryption import decrypt

    opened = decrypt((wallet / "vp.jwe").read_text(), cap.secret_key)
    assert opened["holder"] == did and len(opened["verifiableCredential"]) == 3
    code, out, _ = run(capsys, "permission", "withdraw", permission["id"], "--status-list", str(wallet / "sl.json"))
    assert code == 0 and "may no longer receive" in out
    withdrawn = verify_presentation(vp, challenge="challenge-1", domain="https://cap.example", recipient=cap.controller, status_lists=[json.loads((wallet / "sl.json").read_text())])
    assert "PERMISSION_WITHDRAWN" in {p.code for p in withdrawn.errors}
    code, out, _ = run(capsys, "permission", "list")
    assert "[WITHDRAWN]" in out and "You shared" in out


def test_bad_input_is_one_sentence_and_exit_2(wallet: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "permission", "list")
    assert code == 2 and "holder init" in err
    run(capsys, "holder", "init")
    for argv, expected in [
        (("permission", "grant", "--to", "did:web:x", "--account", "a", "--supply-point", "1200123456780"), "check digit"),
        (("permission", "grant", "--to", "did:web:x", "--account", "a"), "--supply-point"),
        (("permission", "grant", "--to", "did:web:x", "--account", "a", "--supply-point", MPAN, "--expires", "soon"), "--expires"),
        (("permission", "withdraw", "urn:uuid:00000000-0000-4000-8000-000000000000"), "granted no permission"),
        (("holder", "show", "urn:x"), "no credential"),
        (("present", str(wallet / "missing.json")), "does not exist"),
        (("permission", "status-list"), "no status list yet"),
    ]:
        code, _, err = run(capsys, *argv)
        assert code == 2 and expected in err and "Traceback" not in err, (argv, err)
    (wallet / "req.json").write_text(json.dumps({"query": [], "challenge": "c", "domain": "https://evil.example"}))
    code, _, err = run(capsys, "present", str(wallet / "req.json"), "--domain", "https://cap.example")
    assert code == 2 and "relayed" in err
