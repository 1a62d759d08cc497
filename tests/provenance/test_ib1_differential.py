"""Differential tests against IB1's reference library `ib1-provenance` 0.5.x: same records, same verdicts.

The library signs (with its own `Record.sign` and `SignerInMemory`) under a throwaway P-384 root -> P-256 issuer
-> P-256 leaf PKI; our verifier must accept what it signs, and every tampering, wrong root, expired certificate,
missing role and reordered origin must be refused by both, ours with a reason.
"""

# ruff: noqa: F811  (fixtures imported from ib1_pki are redefined as parameters)

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ib1_pki import cap, edp, pki  # noqa: F401 (fixtures)
from ib1_pki import CAP_ROLE, EDP_ROLE, SIGNED_AT, OwnRecord, Party, Pki, cap_steps, edp_steps, make_pki
from ib1_reference import lib_decoded, lib_sign, lib_verify, meaning
from perseus.verifier.ib1_provenance import verify_ib1_record


@pytest.fixture(scope="module")
def chained(pki: Pki, edp: Party, cap: Party) -> dict[str, Any]:
    """The four-party shape: the EDP's signed record (6 months, 13 steps) inside the CAP's (7 more steps)."""
    inner = lib_sign(edp, pki.root_pem, edp_steps(6), at=SIGNED_AT)
    return lib_sign(cap, pki.root_pem, cap_steps(), at=SIGNED_AT + timedelta(days=2), base=inner)


def test_records_the_library_signs_verify_here_with_the_same_steps(pki: Pki, chained: dict[str, Any]) -> None:
    ours = verify_ib1_record(chained, pki.environment())
    assert ours.verified, [p.to_json() for p in ours.problems]
    theirs = lib_decoded(chained, pki.root_pem)
    assert len(ours.steps) == len(theirs) == 20
    for mine, ref in zip(ours.steps, theirs, strict=True):
        fields = {k: v for k, v in ref.items() if k != "_signature"}
        assert mine.fields == fields
        signer = ref["_signature"]["signed"]
        assert (mine.signature.signer.member, list(mine.signature.signer.roles), mine.signature.signer.application) == (
            signer["member"], signer["roles"], signer["application"],
        )
        assert [s.signer.member for s in mine.included_by] == [s["member"] for s in ref["_signature"]["includedBy"]]


def test_our_signer_and_the_librarys_agree(pki: Pki, edp: Party) -> None:
    # Our test signer (used when the library is absent) makes records the library accepts.
    record = OwnRecord()
    record.add_step({"type": "origin", "sourceType": "x", "origin": "https://www.smartdcc.co.uk/"})
    assert lib_verify(record.sign(edp, SIGNED_AT), pki.root_pem)[0]


def both(record: Any, pki_root: bytes, env: Any, **kw: Any) -> tuple[bool, bool, Any]:
    ours = verify_ib1_record(record, env, **kw)
    theirs, _ = lib_verify(record, pki_root, **kw)
    return ours.verified, theirs, ours


def test_wrong_root_refused_by_both(chained: dict[str, Any]) -> None:
    other = make_pki("Impostor Signing CA")
    mine, theirs, ours = both(chained, other.root_pem, other.environment())
    assert (mine, theirs) == (False, False)
    assert {p.code for p in ours.problems} == {"IB1_CERTIFICATE_UNTRUSTED"}


def test_certificate_expired_at_signing_time_refused_by_both(pki: Pki, edp: Party) -> None:
    record = lib_sign(edp, pki.root_pem, edp_steps(), at=datetime(2026, 2, 1, tzinfo=timezone.utc))
    mine, theirs, ours = both(record, pki.root_pem, pki.environment())
    assert (mine, theirs) == (False, False)
    assert {p.code for p in ours.problems} == {"IB1_CERTIFICATE_EXPIRED"}
    early = lib_sign(edp, pki.root_pem, edp_steps(), at=datetime(2024, 12, 1, tzinfo=timezone.utc))
    assert both(early, pki.root_pem, pki.environment())[:2] == (False, False)


def test_missing_role_refused_by_both(pki: Pki) -> None:
    bare = pki.leaf("Roleless Readings Ltd", with_roles=False)
    record = lib_sign(bare, pki.root_pem, edp_steps(), at=SIGNED_AT)
    mine, theirs, ours = both(record, pki.root_pem, pki.environment())
    assert (mine, theirs) == (False, False)
    assert "IB1_ROLE_MISSING" in {p.code for p in ours.problems}
    # Holding another role: the library leaves the role check to its caller; both refuse when it is required.
    cap_only = pki.leaf("Only A CAP Ltd", roles=[CAP_ROLE])
    record = lib_sign(cap_only, pki.root_pem, edp_steps(), at=SIGNED_AT)
    mine, theirs, ours = both(record, pki.root_pem, pki.environment(), required_roles=[EDP_ROLE])
    assert (mine, theirs) == (False, False)
    assert {p.code for p in ours.problems} == {"IB1_ROLE_MISSING"}


def test_reordered_origins_refused_by_both(pki: Pki, chained: dict[str, Any]) -> None:
    record = copy.deepcopy(chained)
    assert len(record["origins"]) == 8
    record["origins"][0], record["origins"][1] = record["origins"][1], record["origins"][0]
    mine, theirs, ours = both(record, pki.root_pem, pki.environment())
    assert (mine, theirs) == (False, False)
    assert {p.code for p in ours.problems} == {"IB1_ORIGINS_MISMATCH"}


@pytest.fixture(scope="module")
def small(pki: Pki, edp: Party, cap: Party) -> tuple[bytes, dict[str, Any]]:
    """A nested record small enough to tamper with byte by byte (as compact JSON)."""
    inner = lib_sign(edp, pki.root_pem, edp_steps(1), at=SIGNED_AT)
    record = lib_sign(cap, pki.root_pem, cap_steps()[:2], at=SIGNED_AT + timedelta(days=1), base=inner)
    return json.dumps(record, separators=(",", ":")).encode(), record


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.floats(min_value=0, max_value=1, exclude_max=True), byte=st.integers(min_value=0, max_value=255))
def test_every_single_byte_tampering_is_refused_by_both(pki: Pki, small: tuple[bytes, dict[str, Any]], position: float, byte: int) -> None:
    text, original = small
    i = int(position * len(text))
    if text[i] == byte:
        return
    tampered = text[:i] + bytes([byte]) + text[i + 1 :]
    try:
        record = json.loads(tampered)
    except (ValueError, UnicodeDecodeError):
        return  # not JSON any more: neither implementation is even handed a record
    env = pki.environment()
    ours = verify_ib1_record(record, env)
    theirs, reason = lib_verify(record, pki.root_pem)
    if isinstance(record, dict) and meaning(record) == meaning(original):
        # Only an encoding changed (e.g. the unused low bits of a base64 character, or a PEM line break): no
        # signed byte differs. The library decodes leniently and accepts; we refuse non-canonical base64.
        assert not ours.verified or record == original or _pem_only(record, original)
        return
    assert not theirs, f"the library accepted a changed record (byte {i}: {text[i]!r} -> {byte!r})"
    assert not ours.verified, f"we accepted a changed record (byte {i}: {text[i]!r} -> {byte!r}); library: {reason}"
    assert ours.problems and all(p.detail for p in ours.problems)


def _pem_only(record: dict[str, Any], original: dict[str, Any]) -> bool:
    """True when only a certificate's PEM text differs and it still decodes to the same certificate."""
    return {k: v for k, v in record.items() if k != "certificates"} == {k: v for k, v in original.items() if k != "certificates"}


def test_non_canonical_base64_the_library_accepts_is_refused_here(pki: Pki, edp: Party) -> None:
    # A DER ECDSA signature is rarely a multiple of 3 bytes, so its last base64 character has unused low bits;
    # flipping one of them changes the text but not the bytes. Sign until the signature has such a character.
    for attempt in range(64):
        record = lib_sign(edp, pki.root_pem, edp_steps(), at=SIGNED_AT + timedelta(seconds=attempt))
        signature = record["steps"][-1][3]
        if signature.endswith("="):
            break
    body = signature.rstrip("=")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    record["steps"][-1][3] = body[:-1] + alphabet[alphabet.index(body[-1]) ^ 1] + signature[len(body) :]
    assert lib_verify(record, pki.root_pem)[0], "the library decodes base64 leniently"
    ours = verify_ib1_record(record, pki.environment())
    assert {p.code for p in ours.problems} == {"IB1_SIGNATURE_MALFORMED"}


@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300), max_size=6))
def test_roles_extension_reader_agrees_with_the_librarys(roles: list[str]) -> None:
    from ib1.provenance.certificates import CertExtUTF8Sequence
    from perseus.verifier.ib1_provenance import decode_utf8_sequence

    der = CertExtUTF8Sequence(roles).dump()
    assert decode_utf8_sequence(der) == tuple(roles) == tuple(map(str, CertExtUTF8Sequence.load(der)))
