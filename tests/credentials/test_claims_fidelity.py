"""Claims every credential makes: no assumed assurance level, PCAF as PCAF defines it, standards claimed only when
followed, role URLs from configuration."""

# ruff: noqa: F811  (pytest fixtures imported from perseus_credential_helpers are redefined as parameters)

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from perseus.issuer.credentials import Assurance, Metadata, build_consumption_credential
from perseus.issuer.credentials.claims import pcaf_for
from perseus.issuer.credentials.ib1 import pcaf_wording, role_url
from perseus.issuer.energy.errors import InputDataError
from perseus.verifier.shapes import validate_shape
from perseus_credential_helpers import EXAMPLES, INPUTS, ISSUED, january_electricity, perseus_cli  # noqa: F401

Run = Callable[..., Any]
IB1_CONSUMPTION = "https://registry.core.trust.ib1.org/scheme/perseus/standard/energy-consumption-data/2026-03-12"


def test_no_dataset_assurance_level_is_stated_unless_configured() -> None:
    data = january_electricity()
    plain = build_consumption_credential(data, issuer="did:example:edp", metadata=Metadata("SmartMeterViaDCC"), valid_from=ISSUED)
    assert "datasetAssuranceLevel" not in plain["assurance"] and validate_shape(plain) == []
    configured = build_consumption_credential(
        data, issuer="did:example:edp", metadata=Metadata("SmartMeterViaDCC"), valid_from=ISSUED, assurance=Assurance(dataset_assurance_level=3)
    )
    assert configured["assurance"]["datasetAssuranceLevel"] == "https://registry.trust.ib1.org/dataset-assurance-level/Level3"


def test_pcaf_wording_and_the_lowered_score_is_called_our_policy() -> None:
    assert "production-based activity data" in pcaf_wording(3)
    assert "revenue" in pcaf_wording(4) and "sector" in pcaf_wording(4)
    assert "asset" in pcaf_wording(5) and "asset-turnover" in pcaf_wording(5)
    assert "estimated energy data is still option 2a" in pcaf_wording(2)
    score, reason = pcaf_for("Substituted", "12 estimated half-hours")
    assert score == 3 and "this issuer's policy, not a PCAF rule" in reason and "option 2a" in reason
    assert pcaf_for("Complete", "all actual")[0] == 2


def test_a_consumption_credential_never_claims_the_ib1_consumption_standard() -> None:
    data = january_electricity()
    plain = build_consumption_credential(data, issuer="did:example:edp", metadata=Metadata("SmartMeterViaDCC"), valid_from=ISSUED)
    assert "standard" not in plain["metadata"], "our readings are not the IB1 2026-03-12 Reading shape"
    with pytest.raises(InputDataError, match="cannot claim the IB1 consumption standard"):
        build_consumption_credential(data, issuer="did:example:edp", metadata=Metadata("SmartMeterViaDCC", standard=IB1_CONSUMPTION), valid_from=ISSUED)
    for name in ("gas-register-m3-2023-10", "electricity-halfhourly-2023-10"):
        example = json.loads((EXAMPLES / "credentials" / f"{name}.json").read_text(encoding="utf-8"))
        assert "standard" not in example["metadata"], name


def test_role_urls_come_from_the_trust_framework_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert role_url("energy-data-provider") == "https://registry.core.trust.ib1.org/scheme/perseus/role/energy-data-provider"
    assert role_url("energy-data-provider", "sandbox").startswith("https://registry.core.sandbox.trust.ib1.org/")
    monkeypatch.setenv("PERSEUS_TRUST_FRAMEWORK", "pilot")
    assert role_url("carbon-accounting-provider").startswith("https://registry.core.pilot.trust.ib1.org/")
    data = january_electricity()
    credential = build_consumption_credential(data, issuer="did:example:edp", metadata=Metadata("SmartMeterViaDCC"), valid_from=ISSUED)
    assert "registry.core.pilot.trust.ib1.org/scheme/perseus/role/energy-data-provider" in credential["assurance"]["connectedness"]["checkMethod"]
    monkeypatch.setenv("PERSEUS_TRUST_FRAMEWORK", "staging")
    with pytest.raises(ValueError, match="PERSEUS_TRUST_FRAMEWORK must be one of core, sandbox, pilot"):
        role_url("energy-data-provider")


def test_the_cli_states_an_accepted_non_conforming_ib1_response(perseus_cli: Run, tmp_path: Path) -> None:
    doc = json.loads((INPUTS / "ib1_consumption_electricity_2023-10.json").read_text(encoding="utf-8"))
    doc["data"][5]["takenAt"] = doc["data"][5]["from"]
    path = tmp_path / "ib1.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    args = ("build", "consumption", path, "--mpan", "1200123456787", "--account", "did:example:sme", "--issuer", "did:example:edp")
    refused = perseus_cli(*args)
    assert refused.code == 2 and "data[5].takenAt" in refused.err
    accepted = perseus_cli(*args, "--accept-nonconforming")
    assert accepted.code == 0, accepted.err
    method = json.loads(accepted.out)["metadata"]["collectionMethod"]
    assert "does not conform to the IB1 2026-03-12 consumption schema (1 deviation, first: data[5].takenAt" in method
