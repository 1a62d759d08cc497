"""`perseus verify --bundle`: the chain answer as text, JSON and a graph file; bad bundles and option mixes are
refused with a reason and exit 2, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import chain_builder as cb
import pytest

from perseus.verifier.cli import main as perseus


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> tuple[cb.Parties, Path, Path]:
    """A one-month chain as a folder (with the registry snapshot), and the test PKI's root as a PEM file."""
    p = cb.parties()
    folder = tmp_path_factory.mktemp("bundle")
    for i, credential in enumerate(cb.one_month_chain(p)["verifiableCredential"]):
        (folder / f"{i}.json").write_text(json.dumps(credential))
    (folder / "registry.json").write_bytes(cb.snapshot())
    roots = folder.parent / "ib1-roots.pem"
    roots.write_bytes(p.pki.root_pem)
    return p, folder, roots


def run(folder: Path, roots: Path, *extra: str) -> list[str]:
    return ["verify", "--bundle", str(folder), "--trust-anchor", cb.trust_anchor(), "--ib1-roots", str(roots), *extra]


def test_complete_chain_exits_0_with_text_json_and_graphs(chain: tuple[cb.Parties, Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    _, folder, roots = chain
    # The credentials were made in 2025; the status and registry checks run at the real time (the example
    # snapshot stays current until 2036), so no --now is needed.
    assert perseus(run(folder, roots)) == 0
    assert capsys.readouterr().out.startswith("chain complete:")
    assert perseus(run(folder, roots, "--json")) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["outcome"] == "complete" and answer["findings"] == [] and len(answer["nodes"]) > 3
    dot = tmp_path / "chain.dot"
    assert perseus(run(folder, roots, "--graph", "dot", "-o", str(dot))) == 0
    assert dot.read_text().startswith("digraph chain {")
    assert capsys.readouterr().out.startswith("chain complete:")  # the report is still printed
    assert perseus(run(folder, roots, "--graph", "mermaid")) == 0
    assert capsys.readouterr().out.startswith("flowchart LR")


def test_a_broken_chain_exits_1_and_names_the_link(chain: tuple[cb.Parties, Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    _, folder, roots = chain
    broken = tmp_path / "broken"
    broken.mkdir()
    for file in folder.iterdir():
        if file.name != "1.json":  # the consumption credential the report was derived from
            (broken / file.name).write_bytes(file.read_bytes())
    assert perseus(run(broken, roots)) == 1
    out = capsys.readouterr().out
    assert out.startswith("chain incomplete:") and "missing" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["verify", "--bundle", "/nonexistent/bundle"], "neither a folder"),
        (["verify", "--graph", "dot"], "go with --bundle"),
        (["verify"], "--bundle BUNDLE"),
        (["verify", "--bundle", ".", "--input", "x.json"], "give no FILE"),
    ],
)
def test_bad_use_exits_2_with_a_reason(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert perseus(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_bundle_that_is_not_json_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bundle.json"
    bad.write_text("{ not json")
    assert perseus(["verify", "--bundle", str(bad)]) == 2
    assert "not JSON" in capsys.readouterr().err
