"""The results file, --resume after an interrupted run, and `perseus verify-batch` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from batch_fixtures import credential, make_book, book_inputs, status_list, with_status, write_json
from perseus.issuer.keyfile import KeyFile, generate_key_file
from perseus.verifier.batch import InlineEngine, run_batch
from perseus.verifier.batch.driver import ResultsFileError
from perseus.verifier.cli import main


@pytest.fixture(scope="module")
def key() -> KeyFile:
    return generate_key_file("Ed25519")


@pytest.fixture
def folder(tmp_path: Path, key: KeyFile) -> Path:
    for number in range(6):
        write_json(tmp_path / "in" / f"{number}.json", credential(key, number))
    return tmp_path / "in"


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_resume_skips_answered_inputs_and_drops_a_half_written_line(tmp_path: Path, folder: Path) -> None:
    out = tmp_path / "results.jsonl"
    run_batch([str(folder)], str(out), engine=InlineEngine())
    complete = out.read_bytes().splitlines(keepends=True)
    assert len(complete) == 6
    # An interrupted run: two records written, the third cut off mid-line.
    out.write_bytes(b"".join(complete[:2]) + complete[2][:40])
    kept = [json.loads(line) for line in complete[:2]]
    answered: list[str] = []

    def spy(ref, context):  # type: ignore[no-untyped-def]
        from perseus.verifier.batch import verify_input

        answered.append(ref.name)
        return verify_input(ref, context)

    summary = run_batch([str(folder)], str(out), engine=InlineEngine(), resume=True, verify=spy)
    records = lines(out)
    assert records[:2] == kept  # the earlier records are left as they were
    assert sorted(r["input"] for r in records) == sorted(str(folder / f"{n}.json") for n in range(6))  # each once
    assert sorted(answered) == sorted(r["input"] for r in records[2:])  # only the unanswered were verified
    assert (summary.total, summary.earlier, summary.outcomes["verified"]) == (6, 2, 6)


def test_resume_refuses_a_file_that_is_not_a_results_file(tmp_path: Path, folder: Path) -> None:
    out = tmp_path / "results.jsonl"
    out.write_text('{"input": "a.json", "outcome": "verified"}\n{"something": "else"}\n', encoding="utf-8")
    with pytest.raises(ResultsFileError, match="line 2 is not a verify-batch record"):
        run_batch([str(folder)], str(out), engine=InlineEngine(), resume=True)


def cli(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["verify-batch", *map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_exit_codes_summary_and_results(tmp_path: Path, key: KeyFile, capsys: pytest.CaptureFixture[str]) -> None:
    expected = make_book(tmp_path, key, with_bundles=False)
    out = tmp_path / "results.jsonl"
    code, stdout, stderr = cli(capsys, *book_inputs(tmp_path), "--out", out, "--workers", 1)
    assert code == 1 and stderr == ""  # some inputs fail: exit 1; no progress when stderr is not a terminal
    assert {r["input"]: r["outcome"] for r in lines(out)} == expected
    counts = {o: list(expected.values()).count(o) for o in ("verified", "not-verified", "error")}
    assert stdout.startswith(f"{len(expected)} inputs: {counts['verified']} verified, {counts['not-verified']} not verified, {counts['error']} could not be verified")
    assert "PROOF_VERIFICATION_ERROR" in stdout and "README.txt" in stdout  # by code, and what was skipped
    code, stdout, _ = cli(capsys, *book_inputs(tmp_path), "--out", out, "--workers", 1, "--json")
    summary = json.loads(stdout)
    assert (summary["inputs"], summary["verified"], summary["errors"]) == (len(expected), counts["verified"], counts["error"])
    assert summary["byCode"]["PARSING_ERROR"] == counts["error"]
    code, stdout, stderr = cli(capsys, tmp_path / "book" / "valid-1.json", "--out", out, "--quiet", "--workers", 1)
    assert (code, stdout, stderr) == (0, "", "")


def test_cli_status_lists_are_loaded_for_the_batch(tmp_path: Path, key: KeyFile, capsys: pytest.CaptureFixture[str]) -> None:
    write_json(tmp_path / "list.json", status_list(key, revoked=(3,)))
    write_json(tmp_path / "in" / "revoked.json", with_status(key, 1, 3))
    code, stdout, _ = cli(capsys, tmp_path / "in", "--out", tmp_path / "r.jsonl", "--status-list", tmp_path / "list.json", "--workers", 1)
    assert code == 1 and "CREDENTIAL_REVOKED" in stdout


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["{missing}", "--out", "{out}"], "does not exist"),
        (["{inputs}", "--out", "-", "--resume"], "--resume needs a results file"),
        (["{inputs}", "--out", "{out}", "--status-list", "{missing}"], "status list file"),
        (["{inputs}", "--out", "{out}", "--checks", "proof,nonsense"], "unknown check"),
        (["{inputs}", "--out", "{inputs}"], "is a directory"),
        (["{empty}", "--out", "{out}", "--workers", "1"], "found no input"),
        (["{inputs}", "--out", "{out}", "--workers", "0"], "not a positive number"),
        (["{inputs}", "--out", "{out}", "--dask", "tcp://127.0.0.1:9", "--workers", "2"], "--workers sets the size of a LocalCluster"),
    ],
)
def test_cli_bad_arguments_exit_2_with_one_sentence(tmp_path: Path, folder: Path, capsys: pytest.CaptureFixture[str], argv: list[str], words: str) -> None:
    (tmp_path / "empty").mkdir()
    values = {"missing": tmp_path / "nope.json", "out": tmp_path / "r.jsonl", "inputs": folder, "empty": tmp_path / "empty"}
    code, stdout, stderr = cli(capsys, *(a.format(**values) for a in argv))
    assert code == 2, (stdout, stderr)
    assert words in stderr and "Traceback" not in stderr
    message = [line for line in stderr.splitlines() if "error:" in line]
    assert len(message) == 1


def test_progress_goes_to_a_terminal_stderr_only_and_never_with_json(tmp_path: Path, folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    import perseus.verifier.batch.cli as batch_cli

    monkeypatch.setattr(batch_cli, "_PROGRESS_EVERY", 0.0)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, stdout, stderr = cli(capsys, folder, "--out", tmp_path / "r.jsonl", "--workers", 1)
    assert code == 0 and "6 done" in stderr and "done (" not in stdout
    code, stdout, stderr = cli(capsys, folder, "--out", tmp_path / "r.jsonl", "--workers", 1, "--json")
    assert code == 0 and stderr == "" and json.loads(stdout)["verified"] == 6


def test_a_results_file_among_the_inputs_is_never_read_as_input(tmp_path: Path, folder: Path) -> None:
    out = folder / "results.jsonl"
    run_batch([str(folder)], str(out), engine=InlineEngine())
    summary = run_batch([str(folder)], str(out), engine=InlineEngine(), resume=True)
    assert summary.total == 6 and any("the results file" in s for s in summary.skipped)
    assert len(lines(out)) == 6
