"""Permission credentials: their shape, and the mapping to and from IB1 permission records (both ways)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from perseus.issuer.holder.permissions import (
    PermissionInputError,
    PermissionTerms,
    SupplyPointRef,
    build_permission,
    from_ib1_record,
    terms_of,
    to_ib1_record,
    to_permission_step,
)
from perseus.verifier.meters import mpan_check_digit
from perseus.verifier.permission import PermissionError_, read_permission
from perseus.verifier.shapes import validate_shape
from perseus.verifier.verify import verify_credential
from permission_fixtures import EVIDENCE, LICENCE, MPAN, NOW, PROCESS, Parties, parties, terms  # noqa: F401

SME = "did:example:sme"
CAP = "did:web:cap.example"


def test_a_granted_permission_has_its_shape_and_verifies(parties: Parties) -> None:
    signed = parties.holder.grant(terms(parties.cap.did))
    assert validate_shape(signed) == []
    result = verify_credential(signed, shapes=True, status_lists=parties.holder.status_lists())
    assert result.verified, result.report()
    subject = signed["credentialSubject"]
    assert subject["recipient"] == parties.cap.did and subject["supplyPoint"][0]["mpan"] == MPAN
    assert signed["credentialStatus"][0]["statusPurpose"] == "revocation"
    assert signed["validUntil"] == subject["permissionExpires"]


def test_the_shape_refuses_a_permission_without_status_or_with_a_bad_meter() -> None:
    credential = build_permission(SME, terms(CAP))
    problems = validate_shape(credential)
    assert problems and "credentialStatus" in problems[0].detail
    credential["credentialStatus"] = {"id": "https://s.example/1#5", "type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": "5", "statusListCredential": "https://s.example/1"}
    assert validate_shape(credential) == []
    credential["credentialSubject"]["supplyPoint"][0]["mpan"] = MPAN[:-1] + str((int(MPAN[-1]) + 1) % 10)
    assert "check digit" in validate_shape(credential)[0].detail
    credential["credentialSubject"]["supplyPoint"][0]["mpan"] = MPAN
    credential["credentialSubject"]["permittedMeasure"] = ["export"]
    assert "not among the permitted measures" in validate_shape(credential)[0].detail


def test_bad_terms_are_refused_with_the_field_named() -> None:
    with pytest.raises(PermissionInputError, match="check digit"):
        SupplyPointRef("1200123456780")
    with pytest.raises(PermissionInputError, match="import"):
        SupplyPointRef("1234567", "export")
    with pytest.raises(PermissionInputError, match="expire before"):
        terms(CAP, expires=NOW - timedelta(days=400))
    with pytest.raises(PermissionInputError, match="absolute IRI"):
        terms("cap")
    with pytest.raises(PermissionInputError, match="timezone"):
        terms(CAP, data_available_from=datetime(2024, 1, 1))
    with pytest.raises(PermissionError_, match="supply point"):
        bad = build_permission(SME, terms(CAP))
        bad["credentialSubject"]["supplyPoint"] = []
        read_permission(bad)


def test_an_ib1_record_from_a_data_provider_becomes_a_permission() -> None:
    record = {  # the shape of the permission endpoint's answer (IB1 permission records 1.0), "licence" spelling
        "permission": {
            "oauthIssuer": "https://auth.edp.example",
            "client": CAP,
            "licence": LICENCE,
            "account": "edp-account-4471",
            "lastGranted": "2026-01-10T12:00:00Z",
            "expires": "2027-01-10T12:00:00Z",
            "evidence": EVIDENCE,
            "dataAvailableFrom": "2025-01-10T00:00:00Z",
            "tokenIssuedAt": "2026-01-10T12:00:00Z",
            "tokenExpires": "2026-01-10T13:00:00Z",
        }
    }
    with pytest.raises(PermissionInputError, match="supply points"):
        from_ib1_record(record)
    got = from_ib1_record(record, supply_points=[SupplyPointRef(MPAN)], processes=[PROCESS])
    assert got.recipient == CAP and got.license == LICENCE and got.oauth_issuer == "https://auth.edp.example"
    credential = build_permission(SME, got)
    back = to_ib1_record(credential)
    for name in ("oauthIssuer", "client", "account", "lastGranted", "expires", "evidence", "dataAvailableFrom"):
        assert back[name] == record["permission"][name], name
    assert back["license"] == LICENCE and "revoked" not in back


def test_a_withdrawn_permission_maps_to_a_revoked_record_and_a_revoked_record_is_not_granted_again() -> None:
    credential = build_permission(SME, terms(CAP))
    record = to_ib1_record(credential, withdrawn_at=datetime(2026, 3, 1, tzinfo=UTC))
    assert record["revoked"] == "2026-03-01T00:00:00Z"
    with pytest.raises(PermissionInputError, match="revoked"):
        from_ib1_record(record)


def _valid_mpan(digits: str) -> str:
    return digits + str(mpan_check_digit(digits))


moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)).map(lambda d: d.replace(microsecond=0))
points = st.one_of(
    st.builds(SupplyPointRef, st.text("0123456789", min_size=12, max_size=12).map(_valid_mpan), st.sampled_from(["import", "export"])),
    st.builds(SupplyPointRef, st.text("0123456789", min_size=6, max_size=10).filter(lambda s: len(s) != 13), st.just("import")),
)
iris = st.from_regex(r"https://[a-z]{1,10}\.example/[a-z0-9/]{0,20}", fullmatch=True)


@st.composite
def all_terms(draw: st.DrawFn) -> PermissionTerms:
    granted = draw(moments)
    start = draw(st.none() | moments)
    return PermissionTerms(
        recipient=draw(st.sampled_from([CAP, "did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH"])),
        license=draw(iris),
        account=draw(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=20)),
        supply_points=tuple(draw(st.lists(points, min_size=1, max_size=3, unique_by=lambda p: p.id))),
        processes=tuple(draw(st.lists(iris, min_size=1, max_size=3, unique=True))),
        data_available_from=draw(moments),
        expires=granted + timedelta(seconds=draw(st.integers(1, 10**8))),
        last_granted=granted,
        period_start=start,
        period_end=None if start is None else start + timedelta(days=draw(st.integers(1, 400))),
        evidence=draw(st.none() | iris),
        oauth_issuer=draw(st.none() | iris),
        parent=draw(st.none() | st.uuids().map(lambda u: f"urn:uuid:{u}")),
    )


@settings(max_examples=60, deadline=None)
@given(all_terms())
def test_terms_survive_credential_and_ib1_record_round_trips(original: PermissionTerms) -> None:
    credential = build_permission(SME, original)
    assert terms_of(credential) == original
    assert from_ib1_record(to_ib1_record(credential)) == original


def test_a_permission_becomes_an_ib1_provenance_permission_step() -> None:
    credential = build_permission(SME, terms(CAP))
    step = to_permission_step(credential)
    assert step == {
        "id": credential["id"],
        "type": "permission",
        "timestamp": credential["credentialSubject"]["lastGranted"],
        "account": "edp-account-4471",
        "allows": {"licenses": [LICENCE], "processes": [PROCESS]},
        "expires": credential["credentialSubject"]["permissionExpires"],
    }
