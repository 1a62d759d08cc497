"""`verify_ib1_record` on its own: structured results, one code and a sentence per failure, never a traceback.

Records here are made by our own signer, which follows ib1-provenance 0.5.x's code (`ib1_pki.OwnRecord`);
test_ib1_differential.py checks the same verdicts against the library itself.
"""

# ruff: noqa: F811  (fixtures imported from ib1_pki are redefined as parameters)

from __future__ import annotations

import base64
import copy
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ib1_pki import cap, edp, pki  # noqa: F401 (fixtures)
from ib1_pki import CAP_ROLE, EDP_ROLE, SIGNED_AT, TF, Party, Pki, cap_steps, der_roles, edp_steps, make_pki, OwnRecord, own_sign
from perseus.verifier.ib1_environments import ENVIRONMENT_NAMES, ib1_environment
from perseus.verifier.ib1_provenance import decode_utf8_sequence, signed_string, verify_ib1_record


def codes(result: Any) -> set[str]:
    return {p.code for p in result.problems}


def test_a_signed_record_verifies_with_each_signer_identity(pki: Pki, edp: Party, cap: Party) -> None:
    inner = own_sign(edp, edp_steps(2), at=SIGNED_AT)
    record = own_sign(cap, cap_steps(), at=SIGNED_AT + timedelta(days=1), base=inner)
    result = verify_ib1_record(record, pki.environment())
    assert result.verified, [p.to_json() for p in result.problems]
    assert len(result.steps) == 5 + 7 and len(result.signatures) == 2
    outer, nested = result.signatures
    assert outer.signer.member == cap.certificate.subject.rfc4514_string().split("CN=")[1].split(",")[0]
    assert outer.signer.roles == (CAP_ROLE,) and nested.signer.roles == (EDP_ROLE,)
    assert nested.signer.serial == edp.serial and nested.signer.application.startswith("https://directory.core.trust.ib1.org/application/")
    edp_origin = next(s for s in result.steps if s.type == "origin")
    assert edp_origin.signature is nested and edp_origin.included_by == (outer,)
    assert edp_origin.timestamp == datetime(2025, 6, 1, 12, tzinfo=timezone.utc)  # OwnRecord's default step time
    assert result.origins == [s.id for s in result.steps if s.type == "origin"]
    as_json = result.to_json()
    assert as_json["verified"] is True and as_json["steps"][0]["signedBy"]["serial"]
    json.dumps(as_json)  # serialisable as it is


def test_signed_string_is_the_reference_librarys(pki: Pki) -> None:
    # ib1-provenance 0.5.x: TF, elements, nested lists in % ... & with their own signature block, then 0, serial, ts.
    nested = ["c", [0, "5", "T1", "sig="]]
    assert signed_string("TF", ["a", nested, "b"], 0, "12", "T2") == "TF.a.%.c.%.0.5.T1.sig=.&.&.b.0.12.T2"


def test_the_signing_time_not_now_decides_certificate_validity(pki: Pki, edp: Party) -> None:
    # The leaf is valid for 2025; a record signed in June 2025 still verifies long after the certificate expired.
    record = own_sign(edp, edp_steps(), at=SIGNED_AT)
    assert verify_ib1_record(record, pki.environment()).verified
    late = own_sign(edp, edp_steps(), at=datetime(2026, 3, 1, tzinfo=timezone.utc))
    result = verify_ib1_record(late, pki.environment())
    assert not result.verified and "IB1_CERTIFICATE_EXPIRED" in codes(result)
    problem = next(p for p in result.problems if p.code == "IB1_CERTIFICATE_EXPIRED")
    assert "2026-03-01T00:00:00Z" in problem.detail and "valid from" in problem.detail


def test_wrong_root_is_refused(edp: Party) -> None:
    other = make_pki("Another Signing CA")
    result = verify_ib1_record(own_sign(edp, edp_steps(), at=SIGNED_AT), other.environment())
    assert codes(result) == {"IB1_CERTIFICATE_UNTRUSTED"}


def test_no_roots_configured_is_refused_with_how_to_fix(edp: Party) -> None:
    result = verify_ib1_record(own_sign(edp, edp_steps(), at=SIGNED_AT), ib1_environment("core"))
    assert not result.verified and "IB1_NO_TRUST_ANCHORS" in codes(result)
    assert any("--ib1-roots" in p.detail for p in result.problems)


def test_roles_missing_or_not_the_required_one(pki: Pki) -> None:
    bare = pki.leaf("No Roles Ltd", with_roles=False)
    result = verify_ib1_record(own_sign(bare, edp_steps(), at=SIGNED_AT), pki.environment())
    assert "IB1_ROLE_MISSING" in codes(result)
    cap = pki.leaf("A CAP", roles=[CAP_ROLE])
    record = own_sign(cap, edp_steps(), at=SIGNED_AT)
    assert verify_ib1_record(record, pki.environment()).verified  # no role required
    env = pki.environment()
    result = verify_ib1_record(record, env, required_roles=env.role_urls("energy-data-provider"))
    assert codes(result) == {"IB1_ROLE_MISSING"}
    assert CAP_ROLE in result.problems[0].detail


def test_reordered_origins_are_refused(pki: Pki, edp: Party) -> None:
    record = own_sign(edp, edp_steps(2), at=SIGNED_AT)
    assert len(record["origins"]) == 2
    record["origins"].reverse()
    result = verify_ib1_record(record, pki.environment())
    assert codes(result) == {"IB1_ORIGINS_MISMATCH"}
    assert "in order" in result.problems[0].detail


def test_a_changed_step_breaks_the_signature_and_names_it(pki: Pki, edp: Party) -> None:
    record = own_sign(edp, edp_steps(), at=SIGNED_AT)
    step = json.loads(base64.urlsafe_b64decode(record["steps"][0]))
    step["account"] = "someone-else"
    record["steps"][0] = base64.urlsafe_b64encode(json.dumps(step, separators=(",", ":")).encode()).decode()
    result = verify_ib1_record(record, pki.environment())
    assert codes(result) == {"IB1_SIGNATURE_INVALID"}
    assert result.problems[0].where == "$.steps[3][3]"
    assert not any(s.verified for s in result.steps)


def _mutate(record: dict[str, Any], how: str, pki: Pki) -> Any:
    r = copy.deepcopy(record)
    block = r["steps"][-1]
    if how == "not-object":
        return ["steps"]
    if how == "no-steps":
        del r["steps"]
    elif how == "framework":
        r["ib1:provenance"] = "https://registry.core.sandbox.trust.ib1.org/trust-framework"
    elif how == "version":
        block[0] = 1
    elif how == "serial":
        block[1] = "0012"
    elif how == "timestamp":
        block[2] = "2025-06-01 12:00"
    elif how == "signature-encoding":
        block[3] = "+/" + block[3][2:]  # standard base64, not base64url
    elif how == "certificate-missing":
        del r["certificates"][block[1]]
    elif how == "certificate-garbage":
        r["certificates"][block[1]][0] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    elif how == "step-not-base64":
        r["steps"][0] = "not base64!"
    elif how == "empty-list":
        r["steps"] = []
    elif how == "json-text":
        return "{not json"
    return r


@pytest.mark.parametrize(
    ("how", "code"),
    [
        ("not-object", "IB1_RECORD_MALFORMED"),
        ("no-steps", "IB1_RECORD_MALFORMED"),
        ("json-text", "IB1_RECORD_MALFORMED"),
        ("framework", "IB1_TRUST_FRAMEWORK_MISMATCH"),
        ("version", "IB1_CONTAINER_VERSION"),
        ("serial", "IB1_SERIAL_MALFORMED"),
        ("timestamp", "IB1_TIMESTAMP_MALFORMED"),
        ("signature-encoding", "IB1_SIGNATURE_MALFORMED"),
        ("certificate-missing", "IB1_CERTIFICATE_NOT_FOUND"),
        ("certificate-garbage", "IB1_CERTIFICATE_MALFORMED"),
        ("step-not-base64", "IB1_STEP_MALFORMED"),
        ("empty-list", "IB1_CONTAINER_MALFORMED"),
    ],
)
def test_each_failure_has_its_own_code_and_a_sentence(pki: Pki, edp: Party, how: str, code: str) -> None:
    record = own_sign(edp, edp_steps(), at=SIGNED_AT)
    result = verify_ib1_record(_mutate(record, how, pki), pki.environment())
    assert not result.verified
    assert code in codes(result)
    for problem in result.problems:
        assert len(problem.detail.split()) >= 5, problem


def test_a_p384_signing_key_is_not_ib1(pki: Pki) -> None:
    party = pki.leaf("Wrong Curve Ltd", curve=ec.SECP384R1())
    result = verify_ib1_record(own_sign(party, edp_steps(), at=SIGNED_AT), pki.environment())
    assert "IB1_UNSUPPORTED_KEY" in codes(result)


def test_duplicate_step_ids_are_refused(pki: Pki, edp: Party, cap: Party) -> None:
    # The same signed list included twice: every signature verifies, but step ids no longer name one step.
    inner = own_sign(edp, edp_steps(), at=SIGNED_AT)
    record = OwnRecord(record=inner)
    record.add_record(inner)
    result = verify_ib1_record(record.sign(cap, SIGNED_AT), pki.environment())
    assert "IB1_STEP_MALFORMED" in codes(result)
    assert any("is also used at" in p.detail for p in result.problems)


def test_license_and_licence_are_read_alike(pki: Pki, edp: Party) -> None:
    result = verify_ib1_record(own_sign(edp, edp_steps(), at=SIGNED_AT), pki.environment())
    transfer = next(s for s in result.steps if s.type == "transfer")
    assert "licence" in transfer.fields and transfer.get("license") == transfer.fields["licence"]
    origin = next(s for s in result.steps if s.type == "origin")
    assert origin.get("originLicence") == origin.fields["originLicense"]


def test_environments_are_configuration() -> None:
    for name in ENVIRONMENT_NAMES:
        env = ib1_environment(name)
        assert env.trust_framework.endswith("/trust-framework") and env.roots == ()
        assert any(url.endswith("/role/energy-data-provider") for url in env.role_urls("energy-data-provider"))
    assert ib1_environment("core").trust_framework == TF


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_values, steps=json_values)
def test_arbitrary_json_is_refused_never_raised(pki: Pki, body: Any, steps: Any) -> None:
    record = body if not isinstance(body, dict) else {**body, "ib1:provenance": TF, "steps": steps, "origins": []}
    result = verify_ib1_record(record, pki.environment())
    assert not result.verified and result.problems
    json.dumps(result.to_json())


@given(st.lists(st.text(max_size=200), max_size=8))
def test_roles_extension_decoder_round_trips(roles: list[str]) -> None:
    assert decode_utf8_sequence(der_roles(roles)) == tuple(roles)


@given(st.binary(max_size=64))
def test_roles_extension_decoder_refuses_garbage_with_value_error(data: bytes) -> None:
    try:
        decode_utf8_sequence(data)
    except (ValueError, UnicodeDecodeError):
        pass


def test_each_step_carries_the_reasons_it_cannot_be_trusted(pki: Pki, edp: Party, cap: Party) -> None:
    # The EDP's list is intact, the CAP's outer signature is broken: the EDP's steps are still signed by the EDP,
    # but every step reports the outer block's problem, since the CAP's inclusion of them is unproven.
    inner = own_sign(edp, edp_steps(), at=SIGNED_AT)
    record = own_sign(cap, cap_steps()[:1], at=SIGNED_AT, base=inner)
    record["steps"][-1][2] = "2025-06-01T12:00:01Z"
    result = verify_ib1_record(record, pki.environment())
    edp_step = result.step(result.origins[0])
    assert edp_step is not None and edp_step.signature.verified and not edp_step.verified
    assert [p.code for p in edp_step.all_problems] == ["IB1_SIGNATURE_INVALID"]
    assert edp_step.to_json()["problems"][0]["where"] == "$.steps[2][3]"
    assert result.step("no-such-step") is None


def test_roots_can_be_given_as_pem_text(pki: Pki, edp: Party) -> None:
    env = ib1_environment("core").with_roots(pki.root_pem.decode())
    assert verify_ib1_record(own_sign(edp, edp_steps(), at=SIGNED_AT), env).verified
