"""`perseus registry …` and `perseus verify --registry`: plain-English output, exit codes, one-sentence errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from perseus.verifier.cli import build_parser, main

from registry_helpers import Party, consumption_credential, edp, make_party, operator  # noqa: F401 (fixtures)

EDP_ID = "https://directory.core.trust.ib1.org/m/example-edp"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def registry_dir(tmp_path, capsys, edp: Party) -> Path:
    d = tmp_path / "reg"
    code, out, _ = run(capsys, "registry", "init", "--dir", str(d), "--registry", "https://registry.example/perseus",
                       "--next-update", "3650d", "--actor", "alice")
    assert code == 0 and "--trust-anchor did:key:" in out
    code, out, _ = run(capsys, "registry", "add", EDP_ID, "--dir", str(d), "--name", "Example Energy Ltd", "--did", edp.did,
                       "--key-from", "2023-01-01", "--reason", "onboarding")
    assert code == 0 and "Published registry snapshot #1" in out
    code, out, _ = run(capsys, "registry", "grant", EDP_ID, "energy-data-provider", "--dir", str(d), "--from", "2023-01-01",
                       "--reason", "membership approved")
    assert code == 0 and "now holds the energy-data-provider role from 2023-01-01T00:00:00Z" in out
    return d


def anchor(d: Path) -> str:
    return json.loads((d / "operator-key.json").read_text())["controller"]


def test_verify_with_registry_state_and_rollback(registry_dir: Path, tmp_path, capsys, edp: Party) -> None:
    d = registry_dir
    old = tmp_path / "snap-2.json"
    assert run(capsys, "registry", "snapshot", "--dir", str(d), "-o", str(old))[0] == 0
    credential = tmp_path / "credential.json"
    credential.write_text(json.dumps(consumption_credential(edp, "2024-05-01T00:00:00Z")))
    state = tmp_path / "state.json"
    code, out, _ = run(capsys, "verify", str(credential), "--registry", str(old), "--trust-anchor", anchor(d), "--registry-state", str(state))
    assert code == 0, out
    assert "[ok  ] accreditation: Example Energy Ltd held the energy-data-provider role" in out and "snapshot #2" in out
    assert json.loads(state.read_text())["sequence"] == 2
    assert run(capsys, "registry", "suspend", EDP_ID, "energy-data-provider", "--dir", str(d), "--from", "2024-04-01", "--reason", "audit")[0] == 0
    new = tmp_path / "snap-3.json"
    assert run(capsys, "registry", "snapshot", "--dir", str(d), "-o", str(new))[0] == 0
    code, out, _ = run(capsys, "verify", str(credential), "--registry", str(new), "--trust-anchor", anchor(d), "--registry-state", str(state))
    assert code == 1 and "REGISTRY_ROLE_SUSPENDED" in out and "audit" in out
    code, out, _ = run(capsys, "verify", str(credential), "--registry", str(old), "--trust-anchor", anchor(d), "--registry-state", str(state), "--json")
    body = json.loads(out)
    assert code == 1 and [e["code"] for e in body["errors"]] == ["REGISTRY_SNAPSHOT_ROLLED_BACK"]
    code, out, _ = run(capsys, "registry", "diff", str(old), str(new), "--dir", str(d))
    assert code == 0 and "role was suspended from 2024-04-01T00:00:00Z: audit" in out
    code, out, _ = run(capsys, "registry", "show", "--dir", str(d))
    assert "Example Energy Ltd" in out and "suspended since 2024-04-01T00:00:00Z (audit)" in out
    code, out, _ = run(capsys, "registry", "show", "--snapshot", str(old), "--dir", str(d))
    assert "Registry snapshot #2" in out and "suspended" not in out
    code, out, _ = run(capsys, "registry", "audit", "--dir", str(d))
    assert "suspend https://directory.core.trust.ib1.org/m/example-edp — audit (snapshot #3)" in out


def test_without_registry_the_report_says_not_checked(tmp_path, capsys, edp: Party) -> None:
    credential = tmp_path / "credential.json"
    credential.write_text(json.dumps(consumption_credential(edp, "2024-05-01T00:00:00Z")))
    code, out, _ = run(capsys, "verify", str(credential))
    assert code == 0 and "[skip] accreditation: not checked" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["registry", "grant", "https://x.example/m/none", "energy-data-provider", "--reason", "r"], "no entity"),
        (["registry", "grant", EDP_ID, "no-such-role", "--reason", "r"], "not a role of"),
        (["registry", "grant", EDP_ID, "energy-data-provider", "--from", "2024-02-30", "--reason", "r"], "day is out of range"),
        (["registry", "add", "not-a-url", "--name", "X", "--reason", "r"], "must be a URL or a DID"),
        (["registry", "add", "https://x.example/m/2", "--name", "X", "--did", "did:key:zNope", "--reason", "r"], "not a valid did:key"),
        (["registry", "keys", "retire", EDP_ID, "did:key:z6MkNotThere", "--reason", "r"], "has no key"),
        (["registry", "snapshot", "--sequence", "99"], "no snapshot #99"),
        (["registry", "import-ib1", "missing.json", "--role", "energy-data-provider"], "does not exist"),
        (["registry", "init", "--registry", "https://again.example"], "already holds a registry"),
    ],
)
def test_bad_input_exits_2_with_one_sentence(registry_dir: Path, capsys, argv: list[str], message: str) -> None:
    code, out, err = run(capsys, *argv, "--dir", str(registry_dir))
    assert code == 2
    assert message in err and "Traceback" not in err


def test_verify_registry_options_bad_input(tmp_path, capsys, edp: Party) -> None:
    credential = tmp_path / "credential.json"
    credential.write_text(json.dumps(consumption_credential(edp, "2024-05-01T00:00:00Z")))
    code, _, err = run(capsys, "verify", str(credential), "--registry", str(tmp_path / "missing.json"), "--trust-anchor", edp.did)
    assert code == 2 and "does not exist" in err
    code, _, err = run(capsys, "verify", str(credential), "--trust-anchor", edp.did)
    assert code == 2 and "needs --registry" in err
    (tmp_path / "s.json").write_text("{}")
    code, _, err = run(capsys, "verify", str(credential), "--registry", str(tmp_path / "s.json"), "--trust-anchor", "nonsense")
    assert code == 2 and "trust anchor 'nonsense'" in err
    code, _, err = run(capsys, "verify", str(credential), "--registry", str(tmp_path / "s.json"), "--registry-grace", "soon")
    assert code == 2


def _subcommands(parser) -> list[list[str]]:
    import argparse

    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append([name])
                found += [[name, *rest] for rest in _subcommands(sub)]
    return found


def test_help_everywhere(capsys) -> None:
    registry = next(a for a in build_parser()._actions if hasattr(a, "choices") and a.choices and "registry" in a.choices).choices["registry"]
    paths = [["registry"]] + [["registry", *p] for p in _subcommands(registry)]
    assert len(paths) > 15
    for path in paths:
        with pytest.raises(SystemExit) as exit_info:
            build_parser().parse_args([*path, "--help"])
        assert exit_info.value.code == 0
        assert "usage: perseus " + " ".join(path) in capsys.readouterr().out


def test_import_ib1_from_the_command_line(tmp_path, capsys) -> None:
    d = tmp_path / "reg"
    assert run(capsys, "registry", "init", "--dir", str(d), "--registry", "https://registry.example/s", "--framework", "sandbox")[0] == 0
    data = Path(__file__).parent / "data"
    code, out, _ = run(capsys, "registry", "import-ib1", str(data / "ib1-members-with-role-2025-01.json"), "--dir", str(d),
                       "--role", "energy-data-provider", "--at", "2025-01-15", "--dry-run")
    assert code == 0 and "dry run" in out and "added Brightgrid Data Services Ltd" in out
    assert "0 entities" in run(capsys, "registry", "show", "--dir", str(d))[1]
    assert run(capsys, "registry", "import-ib1", str(data / "ib1-members-with-role-2025-01.json"), "--dir", str(d),
               "--role", "energy-data-provider", "--at", "2025-01-15")[0] == 0
    code, out, _ = run(capsys, "registry", "import-ib1", str(data / "ib1-members-with-role-2025-02.json"), "--dir", str(d),
                       "--role", "energy-data-provider", "--at", "2025-02-15")
    assert "ended energy-data-provider of https://directory.core.sandbox.trust.ib1.org/m/f3n9wd at 2025-02-15T00:00:00Z" in out
    out = run(capsys, "registry", "show", "https://directory.core.sandbox.trust.ib1.org/m/f3n9wd", "--dir", str(d))[1]
    assert "until 2025-02-15T00:00:00Z" in out


def test_trust_anchor_from_the_environment(registry_dir: Path, tmp_path, capsys, monkeypatch, edp: Party) -> None:
    snap = tmp_path / "snap.json"
    assert run(capsys, "registry", "snapshot", "--dir", str(registry_dir), "-o", str(snap))[0] == 0
    credential = tmp_path / "credential.json"
    credential.write_text(json.dumps(consumption_credential(edp, "2024-05-01T00:00:00Z")))
    monkeypatch.setenv("PERSEUS_REGISTRY_TRUST_ANCHOR", anchor(registry_dir))
    code, out, _ = run(capsys, "verify", str(credential), "--registry", str(snap))
    assert code == 0 and "[ok  ] accreditation" in out
