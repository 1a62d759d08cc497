"""Offline status checking: every outcome and every error code, with the freshness window stated."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from perseus.issuer.keyfile import KeyFile, generate_key_file
from perseus.issuer.signing import sign_document
from perseus.verifier.status import STATUS_LIST_CLOCK_SKEW, Bitstring, status_check
from perseus_status_fixtures import issuer_key, make_credential, make_list, status_entry, status_storage  # noqa: F401 - fixtures

NOW = datetime(2025, 1, 1, 6, 0, 0, tzinfo=timezone.utc)  # six hours after the lists' validFrom
URL = "https://issuer.example/status/3"
SUSPENSIONS = "https://issuer.example/status/4"

Maker = Callable[..., dict[str, Any]]


def codes(check: Any) -> list[str]:
    return [p.code for p in check.problems]


def test_a_clear_bit_passes_and_states_the_window(make_list: Maker, make_credential: Maker, status_entry: Maker) -> None:
    credential = make_credential(status_entry(94567), status_entry(23452, "suspension", SUSPENSIONS))
    lists = [make_list((94566, 94568)), make_list((1,), purpose="suspension", url=SUSPENSIONS)]
    check = status_check(credential, lists, now=NOW)
    assert (check.check, check.outcome, check.problems) == ("status", "passed", [])
    assert check.summary == "not revoked, not suspended (as of 2025-01-01T00:00:00Z, 6 hours old, valid until 2025-01-02T00:00:00Z)"
    first = check.details["entries"][0]
    assert first["status"] == 0 and first["valid"] is True
    assert (first["validFrom"], first["validUntil"], first["ageSeconds"], first["ttlMilliseconds"], first["refreshDue"]) == (
        "2025-01-01T00:00:00Z",
        "2025-01-02T00:00:00Z",
        6 * 3600,
        300_000,
        True,  # the 5-minute ttl has passed: an online verifier would refetch
    )
    json.dumps(check.to_json())  # serialisable as it is


def test_a_set_revocation_bit_fails_with_credential_revoked(make_list: Maker, make_credential: Maker, status_entry: Maker) -> None:
    credential = make_credential(status_entry(94567))
    check = status_check(credential, {URL: make_list((94567,))}, now=NOW)
    assert (check.outcome, codes(check)) == ("failed", ["CREDENTIAL_REVOKED"])
    assert check.summary.startswith("revoked (as of 2025-01-01T00:00:00Z")
    assert "94567" in check.problems[0].detail and URL in check.problems[0].detail


def test_a_set_suspension_bit_fails_with_credential_suspended(make_list: Maker, make_credential: Maker, status_entry: Maker) -> None:
    credential = make_credential(status_entry(0, "revocation"), status_entry(131_071, "suspension", SUSPENSIONS))
    lists = [make_list(()), make_list((131_071,), purpose="suspension", url=SUSPENSIONS)]
    check = status_check(credential, lists, now=NOW)
    assert codes(check) == ["CREDENTIAL_SUSPENDED"]
    assert check.summary.startswith("suspended")


def test_one_list_can_serve_both_purposes(make_list: Maker, make_credential: Maker, status_entry: Maker) -> None:
    """Example 7's layout: both entries in one list whose statusPurpose names both."""
    credential = make_credential(status_entry(94567), status_entry(12345, "suspension"))
    check = status_check(credential, [make_list((12345,), purpose=["revocation", "suspension"])], now=NOW)
    assert codes(check) == ["CREDENTIAL_SUSPENDED"]


def test_a_list_that_was_not_supplied_is_a_retrieval_error(make_credential: Maker, status_entry: Maker) -> None:
    check = status_check(make_credential(status_entry(5)), [], now=NOW)
    assert codes(check) == ["STATUS_RETRIEVAL_ERROR"]
    assert URL in check.problems[0].detail and "--status-list" in check.problems[0].detail


def test_the_specification_example_list_is_unsigned_so_it_cannot_vouch(vectors: Path) -> None:
    folder = vectors / "vc-bitstring-status-list/examples"
    credential = json.loads((folder / "example04.json").read_text())
    status_list = json.loads((folder / "example05.json").read_text())
    check = status_check(credential, [status_list], now=NOW)
    assert codes(check) == ["STATUS_VERIFICATION_ERROR"]
    assert "CRYPTOGRAPHIC_SECURITY_ERROR" in check.problems[0].detail  # "no proof"


def test_a_list_altered_after_signing_is_refused(make_list: Maker, make_credential: Maker, status_entry: Maker) -> None:
    revoked = make_list((94567,))
    forged = copy.deepcopy(revoked)
    forged["credentialSubject"]["encodedList"] = Bitstring.zeros(131_072).encode()  # "unrevoke" it
    check = status_check(make_credential(status_entry(94567)), [forged], now=NOW)
    assert codes(check) == ["STATUS_VERIFICATION_ERROR"]
    assert "PROOF_VERIFICATION_ERROR" in check.problems[0].detail


def test_a_list_signed_by_someone_else_is_refused(make_list: Maker, make_credential: Maker, status_entry: Maker) -> None:
    stranger: KeyFile = generate_key_file("Ed25519")
    check = status_check(make_credential(status_entry(1)), [make_list((), key=stranger)], now=NOW)
    assert codes(check) == ["STATUS_VERIFICATION_ERROR"]
    assert stranger.controller in check.problems[0].detail and "only the credential's issuer" in check.problems[0].detail


def test_a_short_list_is_a_length_error(make_list: Maker, make_credential: Maker, status_entry: Maker) -> None:
    check = status_check(make_credential(status_entry(3)), [make_list((), length=131_064)], now=NOW)
    assert codes(check) == ["STATUS_LIST_LENGTH_ERROR"]
    assert "131064 entries" in check.problems[0].detail
    relaxed = status_check(make_credential(status_entry(3)), [make_list((3,), length=1024)], now=NOW, minimum_entries=1024)
    assert codes(relaxed) == ["CREDENTIAL_REVOKED"]


def test_an_index_past_the_end_is_a_range_error(make_list: Maker, make_credential: Maker, status_entry: Maker) -> None:
    check = status_check(make_credential(status_entry(131_072)), [make_list(())], now=NOW)
    assert codes(check) == ["RANGE_ERROR"]
    assert status_check(make_credential(status_entry(131_071)), [make_list(())], now=NOW).outcome == "passed"


def test_a_list_for_another_purpose_is_refused(make_list: Maker, make_credential: Maker, status_entry: Maker) -> None:
    check = status_check(make_credential(status_entry(3, "suspension")), [make_list(())], now=NOW)
    assert codes(check) == ["STATUS_VERIFICATION_ERROR"]
    assert "'suspension'" in check.problems[0].detail


def test_a_list_handed_in_under_another_url_is_refused(make_list: Maker, make_credential: Maker, status_entry: Maker) -> None:
    check = status_check(make_credential(status_entry(3)), {URL: make_list((), url="https://issuer.example/status/9")}, now=NOW)
    assert codes(check) == ["STATUS_VERIFICATION_ERROR"]


def test_an_expired_or_not_yet_valid_list_is_refused(make_list: Maker, make_credential: Maker, status_entry: Maker) -> None:
    credential = make_credential(status_entry(3))
    expired = status_check(credential, [make_list(())], now=NOW + timedelta(days=2))
    assert codes(expired) == ["STATUS_VERIFICATION_ERROR"]
    assert "expired at 2025-01-02T00:00:00Z" in expired.problems[0].detail
    early = status_check(credential, [make_list(())], now=datetime(2024, 12, 31, tzinfo=timezone.utc))
    assert codes(early) == ["STATUS_VERIFICATION_ERROR"] and "valid only from" in early.problems[0].detail


def test_a_list_signed_by_a_clock_slightly_ahead_is_used(make_list: Maker, make_credential: Maker, status_entry: Maker) -> None:
    # The list's validFrom comes from the issuer's clock; a verifier a few minutes behind must still use it.
    credential = make_credential(status_entry(3))
    valid_from = datetime(2025, 1, 1, tzinfo=timezone.utc)
    assert STATUS_LIST_CLOCK_SKEW == timedelta(minutes=5)
    slightly_behind = status_check(credential, [make_list(())], now=valid_from - timedelta(minutes=4, seconds=59))
    assert slightly_behind.outcome == "passed", slightly_behind.problems
    revoked = status_check(credential, [make_list((3,))], now=valid_from - timedelta(minutes=4))
    assert codes(revoked) == ["CREDENTIAL_REVOKED"]  # the tolerated list is read, bits and all
    too_far = status_check(credential, [make_list(())], now=valid_from - STATUS_LIST_CLOCK_SKEW - timedelta(seconds=1))
    assert codes(too_far) == ["STATUS_VERIFICATION_ERROR"] and "5 minutes of clock difference" in too_far.problems[0].detail


def test_a_maximum_age_makes_an_old_list_fail(make_list: Maker, make_credential: Maker, status_entry: Maker) -> None:
    credential = make_credential(status_entry(3))
    fresh_enough = status_check(credential, [make_list(())], now=NOW, max_age=timedelta(hours=7))
    assert fresh_enough.outcome == "passed" and fresh_enough.details["entries"][0]["maxAgeSeconds"] == 7 * 3600
    too_old = status_check(credential, [make_list(())], now=NOW, max_age=timedelta(hours=1))
    assert codes(too_old) == ["STATUS_VERIFICATION_ERROR"]
    assert "older than the maximum age of 1 hour" in too_old.problems[0].detail
    undated = status_check(credential, [make_list((), valid_from=None, valid_until=None)], now=NOW, max_age=timedelta(hours=1))
    assert "no validFrom" in undated.problems[0].detail


def test_a_list_without_dates_says_so(make_list: Maker, make_credential: Maker, status_entry: Maker) -> None:
    check = status_check(make_credential(status_entry(3)), [make_list((), valid_from=None, valid_until=None, ttl=None)], now=NOW)
    assert check.outcome == "passed"
    assert check.summary == "not revoked (status lists carry no validity period)"


def test_a_malformed_entry_or_list_is_reported_not_raised(
    make_list: Maker, make_credential: Maker, status_entry: Maker, issuer_key: KeyFile
) -> None:
    bad_entry = status_check(make_credential(status_entry(3, statusListIndex="three")), [make_list(())], now=NOW)
    assert codes(bad_entry) == ["MALFORMED_VALUE_ERROR"] and "statusListIndex" in bad_entry.problems[0].detail
    unsigned = make_list((), sign=False)
    unsigned["credentialSubject"]["encodedList"] = "uAAAA"  # base64url, but not GZIP
    garbled = sign_document(unsigned, issuer_key)  # properly signed by the issuer, yet unusable
    check = status_check(make_credential(status_entry(3)), [garbled], now=NOW)
    assert codes(check) == ["MALFORMED_VALUE_ERROR"]
    assert "encodedList" in check.problems[0].detail and URL in check.problems[0].detail
    assert status_check("not a credential", [], now=NOW).outcome == "failed"


def test_no_status_is_skipped_but_a_kind_the_verifier_cannot_check_fails_closed(make_credential: Maker) -> None:
    assert status_check(make_credential(), [], now=NOW).outcome == "skipped"
    kind = "https://example.org/examples#CredentialStatusList2017"  # the VC 2.0 test suite's kind
    credential = make_credential({"id": "https://example.org/status/1", "type": kind})
    check = status_check(credential, [], now=NOW)
    assert (check.outcome, check.details["uncheckedTypes"]) == ("failed", [kind])
    assert codes(check) == ["STATUS_VERIFICATION_ERROR"]


def test_a_status_type_written_as_a_one_item_array_is_still_checked(make_list: Maker, make_credential: Maker, status_entry: Maker) -> None:
    entry = status_entry(3)
    entry["type"] = [entry["type"]]
    check = status_check(make_credential(entry), [make_list((3,))], now=NOW)
    assert codes(check) == ["CREDENTIAL_REVOKED"]


def test_message_entries_report_their_message(make_list: Maker, make_credential: Maker, status_entry: Maker) -> None:
    messages = [{"status": f"0x{n:x}", "message": m} for n, m in enumerate(["pending_review", "accepted", "rejected", "undefined"])]
    entry = status_entry(10, "message", statusSize=2, statusMessage=messages)
    # entry 10 of size 2 is bits 20 and 21; "0x2" (binary 10) sets bit 20 only
    check = status_check(make_credential(entry), [make_list((20,), purpose="message", length=262_144)], now=NOW)
    assert check.outcome == "passed"  # a message is information, not a failure
    assert (check.details["entries"][0]["status"], check.details["entries"][0]["message"]) == (2, "rejected")
    assert check.summary.startswith("message status 2")


def test_the_same_list_is_verified_once_for_several_entries(make_list: Maker, make_credential: Maker, status_entry: Maker, monkeypatch: pytest.MonkeyPatch) -> None:
    import perseus.verifier.verify as verify_module

    calls = []
    real = verify_module.verify_credential
    monkeypatch.setattr(verify_module, "verify_credential", lambda *a, **k: calls.append(1) or real(*a, **k))
    credential = make_credential(status_entry(1), status_entry(2, "suspension"))
    status_check(credential, [make_list((), purpose=["revocation", "suspension"])], now=NOW)
    assert len(calls) == 1
