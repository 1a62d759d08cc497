"""Whole chains (issue 9, "Check whole chains"): the complete four-party chain, and each reason a chain breaks,
named at the link where it breaks."""

from __future__ import annotations

import base64
import copy
import json
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import chain_builder as cb
import pytest
from ib1_pki import CAP_ROLE, SIGNED_AT, edp_steps, make_pki, own_sign

from perseus.issuer.signing import sign_document
from perseus.verifier.chain import BundleError, ChainReport, load_bundle, verify_bundle
from perseus.verifier.provenance_check import Ib1Options
from perseus.verifier.registry_snapshot import TrustAnchor


@pytest.fixture(scope="module")
def p() -> cb.Parties:
    return cb.parties()


def check(p: cb.Parties, bundle: Any, snapshot: str = "snapshot-previous", **options: Any) -> ChainReport:
    if isinstance(bundle, dict) and snapshot:
        bundle = copy.deepcopy(bundle)
        bundle["verifiableCredential"].append(json.loads(cb.snapshot(snapshot)))
    options.setdefault("trust_anchor", TrustAnchor.parse([cb.trust_anchor()]))
    options.setdefault("ib1", Ib1Options(roots=[p.pki.root]))
    return verify_bundle(bundle, now=cb.NOW, **options)


def parts(vp: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    report, electricity, tariff = vp["verifiableCredential"]
    return report, electricity, tariff


def resign_edp(p: cb.Parties, credential: dict[str, Any]) -> dict[str, Any]:
    credential = copy.deepcopy(credential)
    created = credential.pop("proof")["created"]
    return sign_document(credential, p.keys["edp"], created=created)


# -- complete ---------------------------------------------------------------------------------------------


def test_the_four_party_chain_is_complete(p: cb.Parties) -> None:
    vp = cb.one_month_chain(p)
    result = check(p, vp)
    assert result.outcome == "complete", result.report()
    kinds = {n["kind"] for n in result.nodes.values()}
    assert kinds == {"credential", "ib1-step"}
    # the report's two inputs, and the EDP's transfer of its origin, are edges of the graph
    report, electricity, _ = parts(vp)
    assert {"from": report["id"], "to": electricity["id"], "kind": "input", "ok": True} in result.edges
    assert any(e["kind"] == "of" for e in result.edges) and any(e["kind"] == "permissions" for e in result.edges)
    assert result.report().startswith("chain complete:")
    assert result.to_json()["complete"] is True


def test_a_folder_and_a_zip_hold_the_same_chain(p: cb.Parties, tmp_path: Path) -> None:
    vp = cb.one_month_chain(p)
    folder = tmp_path / "bundle"
    folder.mkdir()
    for i, credential in enumerate(vp["verifiableCredential"]):
        (folder / f"credential-{i}.json").write_text(json.dumps(credential))
    (folder / "registry.json").write_bytes(cb.snapshot())
    (folder / "README.txt").write_text("not part of the chain")
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for file in folder.iterdir():
            z.write(file, f"inner/{file.name}")
    for source in (folder, archive):
        result = check(p, str(source), snapshot="")
        assert result.outcome == "complete", result.report()
        assert sum(1 for n in result.nodes.values() if n["kind"] == "credential") == 3


def test_the_bundles_own_snapshot_counts_only_under_a_trust_anchor(p: cb.Parties) -> None:
    result = check(p, cb.one_month_chain(p), trust_anchor=None)
    assert result.outcome == "broken" and "REGISTRY_TRUST_ANCHOR_MISSING" in result.codes()
    wrong = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    assert "REGISTRY_SNAPSHOT_INVALID" in check(p, cb.one_month_chain(p), trust_anchor=TrustAnchor.parse([wrong])).codes()


def test_without_a_registry_roles_are_not_checked_and_it_says_so(p: cb.Parties) -> None:
    result = check(p, cb.one_month_chain(p), snapshot="")
    assert result.outcome == "complete"
    assert any("roles were not checked" in n for n in result.notes)


# -- each reason a chain breaks ---------------------------------------------------------------------------


def test_changed_digest(p: cb.Parties) -> None:
    vp = cb.one_month_chain(p)
    report, electricity, tariff = parts(vp)
    changed = copy.deepcopy(electricity)
    changed["credentialSubject"]["totalKwh"] = "1.000"
    vp["verifiableCredential"][1] = resign_edp(p, changed)  # a valid proof, but not the credential the report used
    result = check(p, vp)
    assert result.outcome == "broken"
    finding = next(f for f in result.findings if f.code == "DIGEST_MISMATCH")
    assert finding.link == f"{report['id']} -> {electricity['id']}"
    assert "broken at link" in finding.sentence()


def test_missing_input(p: cb.Parties) -> None:
    vp = cb.one_month_chain(p)
    _, electricity, _ = parts(vp)
    del vp["verifiableCredential"][1]
    result = check(p, vp)
    assert result.outcome == "incomplete"
    assert [f.link for f in result.findings if f.code == "INPUT_MISSING"] == [electricity["id"]]
    assert f"input {electricity['id']} missing" in result.report()


def test_revoked_input(p: cb.Parties) -> None:
    electricity = cb.consumption(p, 2023, 10, status_index=42)
    vp = cb.presentation(cb.report(p, [electricity], period=cb.month_bounds(2023, 10)), electricity, cb.status_list(p, revoked=(42,)))
    result = check(p, vp)
    assert result.outcome == "broken"
    assert any(f.link == electricity["id"] and f.code == "CREDENTIAL_REVOKED" for f in result.findings), result.report()
    # the same chain with the entry clear is complete; with a stale list it is not
    vp["verifiableCredential"][2] = cb.status_list(p)
    assert check(p, vp).outcome == "complete"
    vp["verifiableCredential"][2] = cb.status_list(p, valid_until="2025-06-30T12:00:00Z")
    assert check(p, vp).outcome != "complete"


def test_unaccredited_cap(p: cb.Parties) -> None:
    # snapshot.json: the CAP's role is suspended from 2024-02-01; its report was signed on 2025-06-10.
    vp = cb.one_month_chain(p)
    report, _, _ = parts(vp)
    result = check(p, vp, snapshot="snapshot")
    assert any(f.link == report["id"] and f.code == "REGISTRY_ROLE_SUSPENDED" for f in result.findings), result.report()
    # the CAP's IB1 signature (its member URL is in the registry) is refused for the same reason
    assert any(f.code == "REGISTRY_ROLE_SUSPENDED" and "ib1ProvenanceRecord" in f.link and "IB1 signature" in f.reason for f in result.findings)


def test_tampered_ib1_step(p: cb.Parties) -> None:
    record = own_sign(p.edp, edp_steps(period=("2023-09-30T23:00Z", "2023-11-01T00:00Z")), at=SIGNED_AT)
    step = json.loads(base64.urlsafe_b64decode(record["steps"][1]))
    step["origin"] = "https://meters.example/"
    record["steps"][1] = base64.urlsafe_b64encode(json.dumps(step, separators=(",", ":")).encode()).decode()
    result = check(p, cb.one_month_chain(p, record=record))
    assert result.outcome == "broken"
    assert any(f.code == "IB1_SIGNATURE_INVALID" and "ib1ProvenanceRecord" in f.link for f in result.findings), result.report()


def test_certificate_expired_at_signing(p: cb.Parties) -> None:
    short = p.pki.leaf("Example Energy Data Ltd (old)", member=cb.MEMBER + "example-edp", days=30)
    result = check(p, cb.one_month_chain(p, signer=short))
    assert any(f.code == "IB1_CERTIFICATE_EXPIRED" and "not valid when" in f.reason for f in result.findings), result.report()


def test_chain_to_a_wrong_root(p: cb.Parties) -> None:
    stranger = make_pki("Someone Else's CA").leaf("Example Energy Data Ltd", member=cb.MEMBER + "example-edp")
    result = check(p, cb.one_month_chain(p, signer=stranger))
    assert result.outcome == "broken"
    assert any(f.code.startswith("IB1_") and "root" in f.reason.lower() for f in result.findings), result.report()


def test_role_missing_from_the_certificate(p: cb.Parties) -> None:
    roleless = p.pki.leaf("Example Energy Data Ltd (no roles)", member=cb.MEMBER + "example-edp", with_roles=False)
    result = check(p, cb.one_month_chain(p, signer=roleless))
    assert result.outcome == "broken"
    assert any(f.code == "IB1_ROLE_MISSING" and "ib1ProvenanceRecord" in f.link for f in result.findings), result.report()


def test_an_ib1_signer_must_hold_its_certificates_role_in_the_registry(p: cb.Parties) -> None:
    # The EDP's member URL is in the registry as an energy data provider; a certificate naming it a
    # carbon accounting provider is a role the registry never gave it.
    wrong_role = p.pki.leaf("Example Energy Data Ltd (CAP role)", roles=[CAP_ROLE], member=cb.MEMBER + "example-edp")
    result = check(p, cb.one_month_chain(p, signer=wrong_role))
    assert [f.code for f in result.findings] == ["REGISTRY_ROLE_NEVER_HELD"], result.report()
    assert "ib1ProvenanceRecord" in result.findings[0].link
    assert check(p, cb.one_month_chain(p, signer=wrong_role), snapshot="").outcome == "complete"  # no registry: not checked


def _edp_steps(**changes: Any) -> list[dict[str, Any]]:
    steps = edp_steps(period=("2023-09-30T23:00Z", "2023-11-01T00:00Z"))
    steps[0].update(changes)
    return steps


def test_permission_expired_before_the_transfer(p: cb.Parties) -> None:
    result = check(p, cb.one_month_chain(p, steps=_edp_steps(expires="2025-05-15T00:00:00Z")))
    assert result.outcome == "broken"
    found = [f for f in result.findings if f.code == "IB1_PERMISSION_EXPIRED"]
    assert any(f.link.startswith("transfer ") for f in found), result.report()


def test_permission_granted_after_the_transfer_or_for_another_licence(p: cb.Parties) -> None:
    late = check(p, cb.one_month_chain(p, steps=_edp_steps(timestamp="2025-06-01T12:30:00Z")))
    assert "IB1_PERMISSION_NOT_YET_GRANTED" in late.codes(), late.report()
    other = check(p, cb.one_month_chain(p, steps=_edp_steps(allows={"licenses": ["https://example.org/licence/other"]})))
    assert "IB1_PERMISSION_SCOPE" in other.codes(), other.report()
    narrow = check(p, cb.one_month_chain(p, steps=_edp_steps(allows={"period": {"from": "2023-10-05T00:00Z", "to": "2023-11-01T00:00Z"}})))
    assert "IB1_PERMISSION_SCOPE" in narrow.codes(), narrow.report()


def test_input_made_after_the_report(p: cb.Parties) -> None:
    vp = cb.one_month_chain(p, made=cb.REPORT_MADE + timedelta(days=1))
    report, electricity, _ = parts(vp)
    result = check(p, vp)
    assert [f.link for f in result.findings if f.code == "CHAIN_TIME_ORDER"] == [f"{report['id']} -> {electricity['id']}"], result.report()


def test_a_month_not_covered(p: cb.Parties) -> None:
    october, december = cb.consumption(p, 2023, 10), cb.consumption(p, 2023, 12)
    start, _ = cb.month_bounds(2023, 10)
    _, end = cb.month_bounds(2023, 12)
    vp = cb.presentation(cb.report(p, [october, december], period=(start, end)), october, december)
    result = check(p, vp)
    gaps = [f for f in result.findings if f.code == "COVERAGE_GAP"]
    assert len(gaps) == 1 and "2023-11" in gaps[0].reason and "2023-10" not in gaps[0].reason, result.report()


# -- graph exports and bad bundles --------------------------------------------------------------------------


def test_graph_exports_mark_the_broken_link(p: cb.Parties) -> None:
    vp = cb.one_month_chain(p)
    del vp["verifiableCredential"][1]
    result = check(p, vp)
    dot = result.to_dot()
    assert dot.startswith("digraph chain {") and dot.rstrip().endswith("}")
    assert "color=red" in dot and dot.count("->") == len(result.edges)
    mermaid = result.to_mermaid()
    assert mermaid.startswith("flowchart LR") and "class " in mermaid and "broken" in mermaid


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b'"text"'])
def test_a_bad_bundle_is_refused_or_reported_with_a_reason(tmp_path: Path, content: bytes, p: cb.Parties) -> None:
    path = tmp_path / "bundle.json"
    path.write_bytes(content)
    if content.startswith(b"{"):
        with pytest.raises(BundleError, match="not JSON"):
            load_bundle(path)
    else:
        result = check(p, str(path), snapshot="")
        assert result.complete and result.notes  # nothing to check, and it says what it skipped
    with pytest.raises(BundleError, match="neither a folder"):
        load_bundle(tmp_path / "absent")


def test_two_credentials_with_one_id_break_the_chain(p: cb.Parties) -> None:
    vp = cb.one_month_chain(p)
    _, electricity, _ = parts(vp)
    other = copy.deepcopy(electricity)
    other["credentialSubject"]["totalKwh"] = "2.000"
    vp["verifiableCredential"].append(resign_edp(p, other))
    result = check(p, vp)
    assert any(f.code == "DUPLICATE_ID" and f.link == electricity["id"] for f in result.findings), result.report()
