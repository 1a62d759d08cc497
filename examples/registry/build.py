"""Build the four-party trust-registry example: a registry operator, an Energy Data Provider, a Carbon
Accounting Provider and a bank (plus the supplier whose tariff the emissions report uses).

    python examples/registry/build.py              # writes examples/registry/snapshot*.json, trust-anchor.txt
    python examples/registry/build.py --out DIR    # somewhere else

The registry is kept in a throw-away SQLite database with a fixed clock, and every change goes through
the same store as `perseus registry …` (audited, each followed by a signed snapshot), so running this
again reproduces the committed files byte for byte (Ed25519 signatures are deterministic);
``tests/registry/test_registry_example.py`` checks that, and that the bank's checks pass.

The keys are EXAMPLE KEYS with published secrets (``examples/keys/`` and ``examples/registry/keys/``):
this registry exists only to show how the pieces fit. Its snapshots stay current for ten years so the
example keeps verifying; a real registry publishes one a day.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from perseus.registry.operator_key import read_operator_key, trust_anchor_of
from perseus.registry.storage.store import RegistrySettings, RegistryStore

HERE = Path(__file__).resolve().parent
KEYS = HERE.parent / "keys"
SANDBOX = "https://registry.core.sandbox.trust.ib1.org/trust-framework"
ROLE = "https://registry.core.sandbox.trust.ib1.org/scheme/perseus/role/"
MEMBER = "https://directory.core.sandbox.trust.ib1.org/m/"


def _did(path: Path) -> str:
    return str(json.loads(path.read_text(encoding="utf-8"))["controller"])


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Clock:
    """Starts at a fixed time and moves one minute per reading: reproducible snapshot times."""

    def __init__(self, start: str) -> None:
        self.now = _t(start)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


def build(out: Path) -> dict[str, str]:
    out.mkdir(parents=True, exist_ok=True)
    operator = read_operator_key(HERE / "keys" / "operator-example-key.json")
    settings = RegistrySettings("https://registry.example/perseus-sandbox", (SANDBOX,), timedelta(days=3650))
    parties = [
        # (member id, legal name, key file, role, role from)
        (MEMBER + "example-edp", "Example Energy Data Ltd", KEYS / "edp-example-key.json", "energy-data-provider", "2023-01-01T00:00:00Z"),
        (MEMBER + "example-supplier", "Example Supply Ltd", KEYS / "supplier-example-key.json", "energy-data-provider", "2022-06-01T00:00:00Z"),
        (MEMBER + "example-cap", "Example Carbon Accounting Ltd", KEYS / "cap-example-key.json", "carbon-accounting-provider", "2023-06-01T00:00:00Z"),
        (MEMBER + "example-bank", "Example Bank plc", HERE / "keys" / "bank-example-key.json", "financial-service-provider", "2023-01-01T00:00:00Z"),
    ]
    with tempfile.TemporaryDirectory() as work:
        store = RegistryStore(f"sqlite:///{Path(work) / 'registry.db'}", signer=operator, settings=settings, clock=Clock("2026-01-05T09:00:00Z"))
        try:
            store.initialise(settings, actor="registry operator")
            for member, name, key_file, role, start in parties:
                store.add_entity(member, name, assurance_level="Level2", dids=[(_did(key_file), _t(start), None)],
                                 actor="registry operator", reason="membership approved")
                store.grant(member, SANDBOX, ROLE + role, valid_from=_t(start), actor="registry operator", reason="membership approved")
            previous = store.latest_snapshot_text()
            # Months after the emissions report was issued, the CAP is suspended: the report still verifies,
            # because the CAP held its role when it signed (trust is about time).
            store.set_status(MEMBER + "example-cap", SANDBOX, ROLE + "carbon-accounting-provider", "suspended",
                             effective=_t("2024-02-01T00:00:00Z"), actor="registry operator", reason="annual assurance review overdue")
            latest = store.latest_snapshot_text()
        finally:
            store.close()
    assert previous is not None and latest is not None
    files = {
        "snapshot-previous.json": previous[2] + "\n",
        "snapshot.json": latest[2] + "\n",
        "trust-anchor.txt": trust_anchor_of(operator) + "\n",
    }
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="where to write (default: examples/registry)")
    args = parser.parse_args(argv)
    for name in build(args.out):
        sys.stdout.write(f"wrote {args.out / name}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
