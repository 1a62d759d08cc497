"""Fuzz every `perseus` command in-process: mutated files in, an exit code of 0, 1 or 2 out — and on 2
one line saying why, never a traceback (issue 7 §4).

Exit codes are a contract scripts rely on: 1 means "not verified", so a crash must never come out as
1; 2 means "the input could not be used". The last-resort handler in `perseus` (which answers 2 for a
bug) must not be what answered: its sentence says "this is a bug", and the tests refuse it.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fuzz_mutations import EXAMPLES, HUGE_INT, VECTORS, Mutation, credential_corpus, load, mutations_of, to_json_text, trimmed
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from perseus.issuer import build_cli
from perseus.issuer.keyfile import KeyFile, generate_key_file, write_key_file
from perseus.issuer.signing import sign_document
from perseus.verifier import cli

CORPUS = credential_corpus()
INPUTS = EXAMPLES / "inputs"
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
STATUS_LIST_URL = "https://example.com/credentials/status/3"


def perseus(*argv: object) -> tuple[int, str, str]:
    """`perseus ARGV` in-process (with `build` registered): exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = build_cli.main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def assert_clean_exit(code: int, out: str, err: str, *, allowed: tuple[int, ...] = (0, 1, 2)) -> None:
    assert code in allowed, (code, err[-500:])
    assert "Traceback" not in err and "Traceback" not in out
    assert "this is a bug" not in err, err  # the last-resort handler answered: some function raised
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("perseus ") and "error:" in lines[0], err[-500:]


@functools.cache
def _mutations(name: str, source: str) -> list[Mutation]:
    return mutations_of(_document(name, source))


@functools.cache
def _document(name: str, source: str) -> Any:
    if source == "credential":
        return CORPUS[name]
    return trimmed(load(INPUTS / f"{name}.json"), 4)


def mutated_file(directory: Path, name: str, source: str) -> st.SearchStrategy[tuple[Mutation, Path]]:
    """A strategy writing one mutation of one corpus document to a file (the mutation, the file)."""

    def write(mutation: Mutation) -> tuple[Mutation, Path]:
        path = directory / f"{name}.mutated.json"
        path.write_text(to_json_text(mutation.apply(_document(name, source))), encoding="utf-8")
        return mutation, path

    return st.sampled_from(_mutations(name, source)).map(write)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-fuzz")


@pytest.fixture(scope="module")
def key(work: Path) -> tuple[KeyFile, Path]:
    key = generate_key_file("Ed25519")
    path = work / "key.json"
    write_key_file(key, path)
    return key, path


@pytest.fixture(scope="module")
def status_files(work: Path, key: tuple[KeyFile, Path]) -> tuple[Path, Path]:
    """A credential with a revocation entry, and its signed status list (index 94567 is not set)."""
    signer, _ = key
    status_list = load(VECTORS / "vc-bitstring-status-list/examples/example03.json")
    status_list["issuer"] = signer.controller
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:7b9e64e4-2c1f-4d6e-9d5a-0c4f3e1a9b21",
        "type": ["VerifiableCredential", "ExampleMeterCredential"],
        "issuer": signer.controller,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:sme-42", "name": "Brightwater Studio"},
        "credentialStatus": {
            "id": f"{STATUS_LIST_URL}#94567",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "94567",
            "statusListCredential": STATUS_LIST_URL,
        },
    }
    paths = work / "with-status.json", work / "status-list.json"
    paths[0].write_text(json.dumps(sign_document(credential, signer)), encoding="utf-8")
    paths[1].write_text(json.dumps(sign_document(status_list, signer)), encoding="utf-8")
    return paths


CREDENTIAL_NAMES = sorted(CORPUS)


# -- perseus verify --------------------------------------------------------------------------------------------


@FUZZ
@given(data=st.data(), name=st.sampled_from(CREDENTIAL_NAMES), flags=st.sampled_from([[], ["--json"], ["--shapes"], ["--checks", "proof"]]))
def test_verify_exits_0_1_or_2_for_every_mutated_credential(work: Path, data: st.DataObject, name: str, flags: list[str]) -> None:
    _mutation, path = data.draw(mutated_file(work, name, "credential"))
    code, out, err = perseus("verify", path, *flags)
    assert_clean_exit(code, out, err)
    if code == 1:
        assert "NOT VERIFIED" in out or '"verified": false' in out


@settings(FUZZ, max_examples=25)
@given(data=st.data(), name=st.sampled_from(["electricity-halfhourly-2023-10", "gas-register-m3-2023-10", "tariff-weekend-offpeak-fuelmix"]))
def test_verify_with_a_mutated_linked_input(work: Path, data: st.DataObject, name: str) -> None:
    _mutation, path = data.draw(mutated_file(work, name, "credential"))
    code, out, err = perseus("verify", EXAMPLES / "credentials/emissions-2023-10.json", "--input", path, "--json")
    assert_clean_exit(code, out, err)


@settings(FUZZ, max_examples=25)
@given(data=st.data())
def test_verify_with_a_mutated_status_list(work: Path, status_files: tuple[Path, Path], data: st.DataObject) -> None:
    credential, status_list = status_files
    document = json.loads(status_list.read_text(encoding="utf-8"))
    mutation = data.draw(st.sampled_from(mutations_of(document)))
    mutated = work / "status-list.mutated.json"
    mutated.write_text(to_json_text(mutation.apply(document)), encoding="utf-8")
    code, out, err = perseus("verify", credential, "--status-list", mutated, "--json")
    assert_clean_exit(code, out, err)


def test_the_status_fixture_verifies_unmutated(status_files: tuple[Path, Path]) -> None:
    credential, status_list = status_files
    code, out, err = perseus("verify", credential, "--status-list", status_list)
    assert (code, err) == (0, ""), out  # so the mutated runs above start from a verifying case


# -- perseus sign, keys, contexts ------------------------------------------------------------------------------


@settings(FUZZ, max_examples=30)
@given(data=st.data(), name=st.sampled_from(CREDENTIAL_NAMES))
def test_sign_exits_0_or_2_for_every_mutated_document(work: Path, key: tuple[KeyFile, Path], data: st.DataObject, name: str) -> None:
    _mutation, path = data.draw(mutated_file(work, name, "credential"))
    code, out, err = perseus("sign", path, "--key", key[1], "-o", work / "signed.json")
    assert_clean_exit(code, out, err, allowed=(0, 2))


@settings(FUZZ, max_examples=30)
@given(data=st.data())
def test_sign_with_a_mutated_key_file(work: Path, data: st.DataObject) -> None:
    document = load(EXAMPLES / "keys/edp-example-key.json")
    mutation = data.draw(st.sampled_from(mutations_of(document)))
    path = work / "key.mutated.json"
    path.write_text(to_json_text(mutation.apply(document)), encoding="utf-8")
    code, out, err = perseus("sign", EXAMPLES / "credentials/tariff-economy7.json", "--key", path, "-o", work / "signed.json")
    assert_clean_exit(code, out, err, allowed=(0, 2))


ODD_TEXT = ["", "\u202eevil\u200b", "a\x00b", "x" * 5000, "did:key:z", "../../etc/passwd", "\ud800"]


@settings(FUZZ, max_examples=15)
@given(data=st.data(), value=st.sampled_from(ODD_TEXT))
def test_keys_commands_with_odd_values(work: Path, data: st.DataObject, value: str, monkeypatch_env: None) -> None:
    """keys generate with an odd controller; keys import of a mutated key file under an odd profile name."""
    code, out, err = perseus("keys", "generate", "--type", "Ed25519", "--controller", value, "-o", work / "odd-key.json", "--force")
    assert_clean_exit(code, out, err, allowed=(0, 2))
    document = load(EXAMPLES / "keys/supplier-example-key.json")
    mutation = data.draw(st.sampled_from(mutations_of(document)))
    path = work / "import.mutated.json"
    path.write_text(to_json_text(mutation.apply(document)), encoding="utf-8")
    profile = data.draw(st.sampled_from(["fuzz", value]))
    code, out, err = perseus("keys", "import", path, "--profile", profile, "--data-dir", work / "keys-data")
    assert_clean_exit(code, out, err, allowed=(0, 2))
    code, out, err = perseus("keys", "list", "--json", "--data-dir", work / "keys-data")
    assert_clean_exit(code, out, err, allowed=(0,))


@pytest.fixture(scope="module")
def monkeypatch_env() -> Iterator[None]:
    """A passphrase in the environment, so `keys import` does not write one (module-scoped for hypothesis)."""
    saved = {name: os.environ.pop(name) for name in list(os.environ) if name.startswith("PERSEUS_") and name != "PERSEUS_TEST_POSTGRES_URL"}
    os.environ["PERSEUS_KEY_PASSPHRASE"] = "a fuzzing passphrase, never a real one"
    try:
        yield
    finally:
        del os.environ["PERSEUS_KEY_PASSPHRASE"]
        os.environ.update(saved)


def test_contexts_lists_every_bundled_context() -> None:
    code, out, err = perseus("contexts")
    assert (code, err) == (0, "")
    assert "https://www.w3.org/ns/credentials/v2\t" in out


# -- perseus build ---------------------------------------------------------------------------------------------

ISSUER = "did:key:z6MktzBTwFq7XCfAvS4QLUZDdfHmuosV7kmsL4D7iEYdMf9H"
BUILDS = {
    "gas_register_reads_m3": ["consumption", "--account", "did:example:sme", "--issuer", ISSUER],
    "gas_register_reads_hcf": ["consumption", "--issuer", ISSUER],
    "ib1_consumption_electricity_2023-10": ["consumption", "--mpan", "1200123456787", "--account", "did:example:sme", "--register-digits", "9", "--issuer", ISSUER],
    "tariff_weekend_offpeak_fuelmix": ["tariff", "--issuer", ISSUER],
    "tariff_economy7_octopus": ["tariff", "--issuer", ISSUER],
    "tariff_agile_octopus_2023-10": ["tariff", "--issuer", ISSUER],
    "tariff_export_seg": ["tariff", "--issuer", ISSUER],
    "tariff_export_tou": ["tariff", "--issuer", ISSUER],
}


@settings(FUZZ, max_examples=80)
@given(data=st.data(), name=st.sampled_from(sorted(BUILDS)))
def test_build_consumption_and_tariff_exit_0_or_2_for_every_mutated_input(work: Path, data: st.DataObject, name: str) -> None:
    _mutation, path = data.draw(mutated_file(work, name, "input"))
    command, *options = BUILDS[name]
    code, out, err = perseus("build", command, path, *options, "-o", work / "built.json")
    assert_clean_exit(code, out, err, allowed=(0, 2))
    if code == 0:
        json.loads((work / "built.json").read_text(encoding="utf-8"))  # what was written is JSON


@settings(FUZZ, max_examples=25)
@given(data=st.data(), name=st.sampled_from(["electricity-halfhourly-2023-10", "gas-register-m3-2023-10"]))
def test_build_emissions_exits_0_or_2_for_a_mutated_consumption_credential(work: Path, data: st.DataObject, name: str) -> None:
    _mutation, path = data.draw(mutated_file(work, name, "credential"))
    other = EXAMPLES / "credentials" / ("gas-register-m3-2023-10.json" if name.startswith("electricity") else "electricity-halfhourly-2023-10.json")
    code, out, err = perseus("build", "emissions", "--consumption", path, "--consumption", other, "--issuer", ISSUER, "-o", work / "report.json")
    assert_clean_exit(code, out, err, allowed=(0, 2))


# -- unreadable input: exit 2, one sentence ---------------------------------------------------------------------


def _write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "content, reason",
    [
        ('{"id": ' + "1" * 5000 + "}", "too many digits"),
        ('{"id": "\\ud800"}', "lone surrogate"),
        ('{"validFrom": NaN}', "NaN is not a JSON number"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        (b"\xff\xfe{}", "not UTF-8"),
        ("", "not valid JSON"),
    ],
    ids=["5000-digit-integer", "lone-surrogate", "nan", "deep-nesting", "not-utf8", "empty"],
)
@pytest.mark.parametrize("command", ["verify", "sign"])
def test_unreadable_input_is_exit_2_and_one_sentence(tmp_path: Path, key: tuple[KeyFile, Path], content: str | bytes, reason: str, command: str) -> None:
    path = _write(tmp_path / "input.json", content)
    argv = ["verify", path] if command == "verify" else ["sign", path, "--key", key[1]]
    code, out, err = perseus(*argv)
    assert_clean_exit(code, out, err, allowed=(2,))
    assert reason in err


def test_huge_int_json_text_is_valid_json_for_other_parsers() -> None:
    assert to_json_text({"n": HUGE_INT}).count("1") >= 5000  # what the 5000-digit case above sends


def test_reading_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`perseus verify /dev/zero` (or any file past the limit) stops at the limit with one sentence."""
    monkeypatch.setattr(cli, "MAX_INPUT_CHARS", 1024 * 1024)  # the same code path as 64 MiB, faster
    big = _write(tmp_path / "big.json", '{"a": "' + "x" * (1024 * 1024) + '"}')
    sources = [big] + ([Path("/dev/zero")] if Path("/dev/zero").exists() else [])
    for source in sources:
        code, out, err = perseus("verify", source)
        assert_clean_exit(code, out, err, allowed=(2,))
        assert "larger than 1 MiB" in err
    code, out, err = perseus("build", "tariff", big, "--issuer", ISSUER)
    assert_clean_exit(code, out, err, allowed=(2,))


def test_the_real_limit_holds_a_year_of_readings() -> None:
    assert cli.MAX_INPUT_CHARS >= 32 * 1024 * 1024  # a signed year of half-hourly readings is ~4 MB


@pytest.mark.parametrize("path", ["missing.json", "."], ids=["missing", "directory"])
def test_a_file_that_is_not_there_is_exit_2(path: str, tmp_path: Path) -> None:
    code, out, err = perseus("verify", tmp_path / path)
    assert_clean_exit(code, out, err, allowed=(2,))


def test_a_bug_still_exits_2_with_one_sentence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The last resort: an exception no code path expected is exit 2 (not 1, "not verified"), no traceback."""
    import perseus.verifier.verify as verify_module

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise TypeError("an internal bug")

    monkeypatch.setattr(verify_module, "verify_credential", broken)
    code, out, err = perseus("verify", EXAMPLES / "credentials/tariff-economy7.json")
    assert code == 2 and "Traceback" not in err and "an internal bug" not in err
    assert err.strip().count("\n") == 0 and "this is a bug" in err
