"""The worked examples in examples/: each verifies, has its shape, is documented, and rebuilds byte for byte."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from perseus.verifier.verify import verify_credential

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
CREDENTIALS = EXAMPLES / "credentials"
NODE_DIR = ROOT / "bench" / "node"


def _build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("perseus_examples_build", EXAMPLES / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


BUILD = _build_module()
NAMES = [e.name for e in BUILD.EXAMPLES]


def load(name: str) -> dict[str, Any]:
    return json.loads((CREDENTIALS / f"{name}.json").read_text(encoding="utf-8"))


def test_every_kind_of_example_the_issue_asks_for_exists() -> None:
    kinds = {name: load(name) for name in NAMES}
    subjects = {n: c["credentialSubject"] for n, c in kinds.items()}
    assert any("intervalReadings" in s and s["supplyPoint"]["fuel"] == "electricity" for s in subjects.values())
    assert {s.get("registerReads", {}).get("unit") for s in subjects.values()} >= {"MTQ", "HH"}
    assert any("fuelMix" in s and any("daysOfWeek" in r.get("timeOfUse", {}) for r in s["unitRates"]) for s in subjects.values())
    assert any(s.get("direction") == "export" and "exportMeter" in s for s in subjects.values())
    report = kinds["emissions-2023-10"]
    consumption_links = [r for r in report["relatedResource"] if "EnergyConsumptionCredential" in load(_name_of(r["id"]))["type"]]
    assert len(consumption_links) == 2


def _name_of(credential_id: str) -> str:
    return next(n for n in NAMES if BUILD.example_id(n) == credential_id)


@pytest.mark.parametrize("name", NAMES)
def test_example_verifies_and_has_its_shape(name: str) -> None:
    credential = load(name)
    # The examples a credential links to (an emissions report's inputs), for its connectedness check.
    inputs = [load(other) for other in NAMES if other != name]
    result = verify_credential(credential, inputs=inputs, shapes=True)
    assert result.verified, result.report()
    assert any(c.check == "shape" and c.outcome == "passed" for c in result.checks)
    assert credential["id"] == BUILD.example_id(name)


def test_every_example_file_is_small_and_documented() -> None:
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    files = sorted(p.stem for p in CREDENTIALS.glob("*.json"))
    assert files == sorted(NAMES), "examples/credentials holds exactly the examples build.py makes"
    for name in NAMES:
        assert f"{name}.json" in readme, f"examples/README.md does not describe {name}"
        assert (CREDENTIALS / f"{name}.json").stat().st_size < 2_000_000


def test_the_keys_are_labelled_as_example_keys() -> None:
    text = (EXAMPLES / "keys" / "README.md").read_text(encoding="utf-8")
    assert "never" in text.lower() and "production" in text.lower()


def test_the_examples_rebuild_byte_for_byte(tmp_path: Path) -> None:
    BUILD.run(tmp_path, echo=False, verify=False)
    for name in NAMES:
        assert (tmp_path / f"{name}.json").read_bytes() == (CREDENTIALS / f"{name}.json").read_bytes(), name


@pytest.mark.skipif(shutil.which("node") is None or not (NODE_DIR / "node_modules").is_dir(), reason="Node.js or bench/node/node_modules (npm ci) not available")
@pytest.mark.parametrize("name", ["emissions-2023-10", "tariff-weekend-offpeak-fuelmix", "gas-register-hcf-2023"])
def test_digital_bazaar_vc_verifies_the_example(name: str) -> None:
    context = f"https://w3id.org/perseus/credentials/v1={ROOT / 'contexts' / 'perseus' / 'credentials-v1.jsonld'}"
    run = subprocess.run(
        ["node", "verify.mjs", str(CREDENTIALS / f"{name}.json"), "--context", context],
        cwd=NODE_DIR, capture_output=True, text=True, timeout=60, check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert json.loads(run.stdout)["verified"] is True
