"""The verifier's permission check: data is refused unless a permission covers it, and withdrawal cascades.

Each refusal the issue lists has its own test: no permission, another recipient, another licence, another
meter, another period, expired, withdrawn, withdrawal unknown (no status list), and the onward permission
whose parent was withdrawn (the cascade), whose parent is missing, or whose chain is broken.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from perseus.issuer.holder.permissions import SupplyPointRef
from perseus.verifier.permission import permission_check
from perseus.verifier.result import CheckResult
from permission_fixtures import (  # noqa: F401
    FEBRUARY,
    MPAN,
    OTHER_LICENCE,
    OTHER_MPAN,
    Parties,
    emissions_report,
    month_of_data,
    parties,
    terms,
)


@pytest.fixture
def january(parties: Parties) -> dict[str, Any]:
    return month_of_data(parties.sme, parties.edp)


def check(parties: Parties, credentials: list[Any], *, recipient: str | None = None, lists: list[Any] | None = None, inputs: list[Any] = ()) -> CheckResult:  # type: ignore[assignment]
    statuses = parties.holder.status_lists() + parties.cap.status_lists() if lists is None else lists
    return permission_check(credentials, recipient=recipient or parties.cap.did, status_lists=statuses, inputs=inputs)


def codes(result: CheckResult) -> set[str]:
    return {p.code for p in result.problems}


def test_data_covered_by_a_permission_passes(parties: Parties, january: dict[str, Any]) -> None:
    permission = parties.holder.grant(terms(parties.cap.did))
    result = check(parties, [january, permission])
    assert result.outcome == "passed", result.problems
    assert result.details["covered"] == [{"credential": january["id"], "permission": permission["id"]}]


def test_no_data_needs_no_permission(parties: Parties) -> None:
    assert check(parties, [parties.holder.grant(terms(parties.cap.did))]).outcome == "skipped"


def test_data_without_any_permission_is_refused(parties: Parties, january: dict[str, Any]) -> None:
    result = check(parties, [january])
    assert result.outcome == "failed" and codes(result) == {"PERMISSION_MISSING"}
    assert "without any permission" in result.problems[0].detail


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"license": OTHER_LICENCE}, "PERMISSION_WRONG_LICENCE"),
        ({"supply_points": (SupplyPointRef(OTHER_MPAN),)}, "PERMISSION_WRONG_SUPPLY_POINT"),
        ({"period_start": FEBRUARY, "period_end": FEBRUARY + timedelta(days=29)}, "PERMISSION_WRONG_PERIOD"),
        ({"data_available_from": datetime(2024, 1, 2, tzinfo=UTC)}, "PERMISSION_WRONG_PERIOD"),
    ],
)
def test_a_permission_for_other_data_does_not_cover(parties: Parties, january: dict[str, Any], changes: dict[str, Any], code: str) -> None:
    result = check(parties, [january, parties.holder.grant(terms(parties.cap.did, **changes))])
    assert result.outcome == "failed" and code in codes(result), result.problems


def test_a_permission_for_another_recipient_does_not_cover(parties: Parties, january: dict[str, Any]) -> None:
    result = check(parties, [january, parties.holder.grant(terms(parties.bank.controller))])
    assert codes(result) == {"PERMISSION_WRONG_RECIPIENT"}
    assert parties.bank.controller in result.problems[0].detail


def test_an_expired_permission_does_not_cover(parties: Parties, january: dict[str, Any]) -> None:
    permission = parties.holder.grant(terms(parties.cap.did))
    later = datetime.now(UTC) + timedelta(days=400)
    result = permission_check([january, permission], recipient=parties.cap.did, status_lists=parties.holder.status_lists(), now=later)
    assert "PERMISSION_EXPIRED" in codes(result)


def test_a_withdrawn_permission_does_not_cover(parties: Parties, january: dict[str, Any]) -> None:
    permission = parties.holder.grant(terms(parties.cap.did))
    assert check(parties, [january, permission]).outcome == "passed"
    withdrawn = parties.holder.withdraw(permission["id"])
    assert withdrawn.withdrawn
    result = check(parties, [january, permission])
    assert codes(result) == {"PERMISSION_WITHDRAWN"}
    assert "withdrawn" in result.problems[0].detail


def test_without_the_status_list_withdrawal_cannot_be_ruled_out(parties: Parties, january: dict[str, Any]) -> None:
    permission = parties.holder.grant(terms(parties.cap.did))
    result = check(parties, [january, permission], lists=[])
    assert codes(result) == {"PERMISSION_STATUS_UNKNOWN"}


def test_a_permission_the_sme_did_not_sign_is_not_accepted(parties: Parties, january: dict[str, Any]) -> None:
    permission = parties.holder.grant(terms(parties.cap.did))
    forged = {**permission, "credentialSubject": {**permission["credentialSubject"], "recipient": parties.bank.controller}}
    result = check(parties, [january, forged], recipient=parties.bank.controller)
    assert "PERMISSION_NOT_VERIFIED" in codes(result)


def test_a_permission_from_someone_else_than_the_data_owner_does_not_cover(parties: Parties, january: dict[str, Any]) -> None:
    # The CAP cannot grant itself access to the SME's data: only the SME (the data's customer) can.
    from perseus.issuer.holder.permissions import build_permission
    from perseus.issuer.status import attach_status, status_entries
    from perseus.issuer.signing import sign_document

    unsigned = build_permission(parties.cap.did, terms(parties.cap.did))
    reservation = parties.cap.storage.reserve_status("holder", unsigned["id"], purposes=("revocation",))
    own = sign_document(attach_status(unsigned, status_entries(reservation, parties.cap.list_url)), parties.cap_key)
    parties.cap.storage.save_issued(reservation, own)
    result = check(parties, [january, own])
    assert codes(result) == {"PERMISSION_WRONG_GRANTOR"}


# -- onward permissions and the cascade --------------------------------------------------------------------------


@pytest.fixture
def chain(parties: Parties, january: dict[str, Any]) -> dict[str, Any]:
    """SME → CAP (permission), CAP's report, CAP → bank (onward permission naming the SME's)."""
    parent = parties.holder.grant(terms(parties.cap.did))
    report = emissions_report(parties, january)
    onward = parties.cap.grant(terms(parties.bank.controller, parent=parent["id"]))
    return {"parent": parent, "report": report, "onward": onward, "january": january}


def test_an_onward_permission_covers_the_report_for_the_bank(parties: Parties, chain: dict[str, Any]) -> None:
    result = check(parties, [chain["report"], chain["january"], chain["onward"], chain["parent"]], recipient=parties.bank.controller)
    assert result.outcome == "passed", result.problems
    assert {c["permission"] for c in result.details["covered"]} == {chain["onward"]["id"]}


def test_withdrawing_the_smes_permission_cascades_to_the_onward_one(parties: Parties, chain: dict[str, Any]) -> None:
    parties.holder.withdraw(chain["parent"]["id"])
    result = check(parties, [chain["report"], chain["onward"], chain["parent"]], recipient=parties.bank.controller)
    assert "PERMISSION_PARENT_WITHDRAWN" in codes(result), result.problems
    assert "cascades" in next(p.detail for p in result.problems if p.code == "PERMISSION_PARENT_WITHDRAWN")


def test_an_onward_permission_without_its_parent_is_refused(parties: Parties, chain: dict[str, Any]) -> None:
    result = check(parties, [chain["report"], chain["onward"]], recipient=parties.bank.controller)
    assert codes(result) == {"PERMISSION_PARENT_MISSING"}
    # given separately (not in the presentation), the parent counts
    assert check(parties, [chain["report"], chain["onward"]], recipient=parties.bank.controller, inputs=[chain["parent"]]).outcome == "passed"


def test_an_onward_permission_from_a_party_that_was_not_the_recipient_is_refused(parties: Parties, chain: dict[str, Any]) -> None:
    # The SME's permission (for another meter) went to the bank; the CAP cannot grant onward under it.
    parent = parties.holder.grant(terms(parties.bank.controller, supply_points=(SupplyPointRef(OTHER_MPAN),)))
    onward = parties.cap.grant(terms(parties.bank.controller, parent=parent["id"]))
    result = check(parties, [chain["report"], onward, parent], recipient=parties.bank.controller)
    assert "PERMISSION_CHAIN_INVALID" in codes(result)
    assert any("was granted onward by" in p.detail for p in result.problems)


def test_an_onward_permission_wider_than_its_parent_is_refused(parties: Parties, chain: dict[str, Any]) -> None:
    parent = parties.holder.grant(terms(parties.cap.did, supply_points=(SupplyPointRef(OTHER_MPAN),)))
    onward = parties.cap.grant(terms(parties.bank.controller, parent=parent["id"]))
    result = check(parties, [chain["report"], onward, parent], recipient=parties.bank.controller)
    assert any(p.code == "PERMISSION_CHAIN_INVALID" and "cannot be wider" in p.detail for p in result.problems)


# -- the same check from verify_credential and `perseus verify --recipient` -------------------------------------


def test_verify_credential_runs_the_permission_check_on_request(parties: Parties, january: dict[str, Any]) -> None:
    from perseus.verifier.verify import verify_credential

    permission = parties.holder.grant(terms(parties.cap.did))
    lists = parties.holder.status_lists()
    plain = verify_credential(january, status_lists=lists)
    assert plain.verified and "permission" not in {c.check for c in plain.checks}  # not a default check
    asked = verify_credential(january, checks=("proof", "issuer", "permission"), inputs=[permission], status_lists=lists, permission_recipient=parties.cap.did)
    assert asked.verified, asked.report()
    other = verify_credential(january, checks=("proof", "permission"), inputs=[permission], status_lists=lists, permission_recipient=parties.bank.controller)
    assert {p.code for p in other.errors} == {"PERMISSION_WRONG_RECIPIENT"}


def test_perseus_verify_recipient(parties: Parties, january: dict[str, Any], tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from perseus.verifier.cli import main

    permission = parties.holder.grant(terms(parties.cap.did))
    files = {"data": january, "perm": permission}
    for name, doc in files.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(doc))
    (tmp_path / "sl.json").write_text(json.dumps(parties.holder.status_lists()[0]))
    argv = ["verify", str(tmp_path / "data.json"), "--recipient", parties.cap.did, "--input", str(tmp_path / "perm.json"), "--status-list", str(tmp_path / "sl.json")]
    assert main(argv) == 0, capsys.readouterr().out
    assert "[ok  ] permission" in capsys.readouterr().out
    parties.holder.withdraw(permission["id"])
    (tmp_path / "sl.json").write_text(json.dumps(parties.holder.status_lists()[0]))
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "[FAIL] permission" in out and "PERMISSION_WITHDRAWN" in out
