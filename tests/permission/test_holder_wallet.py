"""The SME's wallet: its key and received credentials are encrypted at rest, and it answers requests safely."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from perseus.issuer.holder.wallet import Holder, HolderError
from perseus.verifier.presentation import verify_presentation
from permission_fixtures import MPAN, Parties, month_of_data, parties, request, terms  # noqa: F401


def test_init_makes_a_did_key_whose_secret_is_not_stored_in_clear(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PERSEUS_KEY_PASSPHRASE", raising=False)
    with Holder.init(tmp_path / "w") as holder:
        did = holder.did
        secret = holder.keys.signing_key("holder").secret_key.multibase()
    assert did.startswith("did:key:z6Mk")
    assert secret.encode() not in (tmp_path / "w" / "holder.sqlite").read_bytes()
    assert (tmp_path / "w" / "passphrase").stat().st_mode & 0o077 == 0
    with Holder.open(tmp_path / "w") as again:
        assert again.did == did  # opening does not make a new identity
    with pytest.raises(HolderError, match="holder init"):
        Holder.open(tmp_path / "nothing-here")


def test_the_wrong_passphrase_opens_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PERSEUS_KEY_PASSPHRASE", raising=False)
    Holder.init(tmp_path / "w").close()
    monkeypatch.setenv("PERSEUS_KEY_PASSPHRASE", "another passphrase entirely")
    with Holder.open(tmp_path / "w") as holder, pytest.raises(Exception, match="passphrase"):
        holder.keys.signing_key("holder")


def test_received_credentials_are_encrypted_and_bound_to_their_id(parties: Parties) -> None:
    credential = month_of_data(parties.sme, parties.edp, days=1)
    parties.holder.store(credential)
    assert parties.holder.show(credential["id"]) == credential
    assert [c["id"] for c in parties.holder.received()] == [credential["id"]]
    raw = (parties.holder.directory / "received.sqlite").read_bytes()
    assert MPAN.encode() not in raw and b"EnergyConsumptionCredential" not in raw
    # a row moved onto another id does not decrypt
    with sqlite3.connect(parties.holder.directory / "received.sqlite") as db:
        db.execute("UPDATE received SET id = 'urn:uuid:00000000-0000-4000-8000-000000000000'")
    with pytest.raises(HolderError, match="does not decrypt"):
        parties.holder.show("urn:uuid:00000000-0000-4000-8000-000000000000")
    with pytest.raises(HolderError, match="no credential"):
        parties.holder.show(credential["id"])


def test_store_refuses_what_is_not_a_credential(parties: Parties) -> None:
    for bad in ({}, {"id": 5, "type": "x"}, [1, 2], "text"):
        with pytest.raises(HolderError):
            parties.holder.store(bad)


def test_grant_list_and_withdraw_in_plain_english(parties: Parties) -> None:
    permission = parties.holder.grant(terms(parties.cap.did))
    [granted] = parties.holder.permissions()
    text = granted.describe()
    assert "[active]" in text and f"with {parties.cap.did}" in text and "electricity-emissions-calculation" in text and "until" in text
    parties.holder.withdraw(permission["id"])
    assert "[WITHDRAWN]" in parties.holder.permissions()[0].describe()
    with pytest.raises(HolderError, match="granted no permission"):
        parties.holder.withdraw("urn:uuid:00000000-0000-4000-8000-000000000000")


def test_present_answers_the_request_with_the_matching_credentials(parties: Parties) -> None:
    consumption = month_of_data(parties.sme, parties.edp, days=1)
    parties.holder.store(consumption)
    parties.holder.store(month_of_data(parties.sme, parties.edp, days=1, mpan="1200123456796"))  # another meter: not asked for
    permission = parties.holder.grant(terms(parties.cap.did))
    parties.holder.grant(terms(parties.bank.controller))  # for someone else: not presented
    vp = parties.holder.present(request(parties.cap.did))
    ids = [c["id"] for c in vp["verifiableCredential"]]
    assert consumption["id"] in ids and permission["id"] in ids and len(ids) == 3  # + the stapled status list
    assert vp["proof"]["proofPurpose"] == "authentication"
    assert (vp["proof"]["challenge"], vp["proof"]["domain"]) == ("challenge-1", "https://cap.example")
    assert verify_presentation(vp, challenge="challenge-1", domain="https://cap.example", recipient=parties.cap.did).verified


def test_present_refuses_requests_that_could_be_replayed_or_relayed(parties: Parties) -> None:
    good = request(parties.cap.did)
    for missing in ("challenge", "domain"):
        with pytest.raises(HolderError, match="challenge or no domain"):
            parties.holder.present({k: v for k, v in good.items() if k != missing})
    with pytest.raises(HolderError, match="relayed"):
        parties.holder.present(good, expected_domain="https://evil.example")


def test_a_withdrawn_permission_is_not_presented(parties: Parties) -> None:
    permission = parties.holder.grant(terms(parties.cap.did))
    parties.holder.withdraw(permission["id"])
    vp = parties.holder.present(request(parties.cap.did), credentials=[])
    assert vp["verifiableCredential"] == []


def _presented(parties: Parties) -> dict[str, Any]:
    parties.holder.store(month_of_data(parties.sme, parties.edp, days=1))
    parties.holder.grant(terms(parties.cap.did))
    return parties.holder.present(request(parties.cap.did))


def test_the_recipient_refuses_a_replayed_challenge_a_wrong_domain_and_another_signer(parties: Parties) -> None:
    from perseus.issuer.signing import sign_document

    vp = _presented(parties)
    wrong_challenge = verify_presentation(vp, challenge="challenge-2", domain="https://cap.example", recipient=parties.cap.did)
    assert "INVALID_CHALLENGE_ERROR" in {p.code for p in wrong_challenge.errors}
    wrong_domain = verify_presentation(vp, challenge="challenge-1", domain="https://other.example", recipient=parties.cap.did)
    assert "INVALID_DOMAIN_ERROR" in {p.code for p in wrong_domain.errors}
    unsigned = {k: v for k, v in vp.items() if k != "proof"}
    by_someone_else = sign_document(unsigned, parties.edp, proof_purpose="authentication", challenge="challenge-1", domain="https://cap.example")
    stranger = verify_presentation(by_someone_else, challenge="challenge-1", domain="https://cap.example", recipient=parties.cap.did)
    assert {p.code for p in stranger.errors} == {"HOLDER_MISMATCH"}
    assert verify_presentation(unsigned, challenge="challenge-1", domain="https://cap.example").errors[0].code == "CRYPTOGRAPHIC_SECURITY_ERROR"


def test_the_recipient_refuses_someone_elses_data(parties: Parties) -> None:
    # The CAP holds the SME's consumption and presents it as its own: holder binding fails.
    from perseus.issuer.signing import sign_document

    consumption = month_of_data(parties.sme, parties.edp, days=1)
    vp = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"], "holder": parties.cap.did, "verifiableCredential": [consumption]}
    signed = sign_document(vp, parties.cap_key, proof_purpose="authentication", challenge="c", domain="https://bank.example")
    result = verify_presentation(signed, challenge="c", domain="https://bank.example", recipient=parties.bank.controller)
    codes = {p.code for p in result.errors}
    assert "HOLDER_MISMATCH" in codes and "PERMISSION_MISSING" in codes
