"""One input → one plain record, in this process: every kind of input and every way it can be bad."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from batch_fixtures import EMISSIONS, EMISSIONS_INPUTS, book_inputs, credential, example, make_book, status_list, with_status, write_json
from perseus.issuer.keyfile import KeyFile, generate_key_file
from perseus.verifier.batch import BatchOptions, InlineEngine, VerificationContext, discover, verify_input, verify_many
from perseus.verifier.batch.inputs import InputRef


@pytest.fixture(scope="module")
def key() -> KeyFile:
    return generate_key_file("Ed25519")


@pytest.fixture(scope="module")
def context() -> VerificationContext:
    return VerificationContext(BatchOptions.create())


def record_for(path: Path, context: VerificationContext) -> dict:
    (ref,) = discover([str(path)])
    record = verify_input(ref, context)
    assert json.loads(json.dumps(record)) == record  # plain JSON, nothing else
    return record


def test_every_input_of_a_mixed_book_gets_its_expected_outcome(tmp_path: Path, key: KeyFile) -> None:
    expected = make_book(tmp_path, key)
    records = list(verify_many(book_inputs(tmp_path), engine=InlineEngine()))
    assert sorted(r["input"] for r in records) == sorted(expected)  # one record per input, none twice
    assert {r["input"]: r["outcome"] for r in records} == expected
    by_name = {r["input"]: r for r in records}
    assert by_name[str(tmp_path / "book" / "tampered.json")]["checks"]["proof"] == {"outcome": "failed", "codes": ["PROOF_VERIFICATION_ERROR"]}
    assert by_name[str(tmp_path / "book" / "expired.json")]["checks"]["validity"]["codes"] == ["CREDENTIAL_EXPIRED"]
    assert by_name[str(tmp_path / "book" / "malformed.json")]["problems"][0]["code"] == "PARSING_ERROR"
    assert "not UTF-8" in by_name[str(tmp_path / "book" / "not-json.json")]["problems"][0]["detail"]
    bundle = by_name[str(tmp_path / "book" / "sme-7") + "/"]
    assert bundle["kind"] == "bundle" and bundle["inputs"] == 3 and bundle["checks"]["connectedness"]["outcome"] == "passed"
    presentation = by_name[str(tmp_path / "book" / "presentation.json")]
    assert presentation["kind"] == "presentation" and [c["verified"] for c in presentation["credentials"]] == [True, True]


def test_an_emissions_report_without_its_inputs_is_not_verified_and_with_them_is(tmp_path: Path, context: VerificationContext) -> None:
    write_json(tmp_path / "alone.json", example(EMISSIONS))
    alone = record_for(tmp_path / "alone.json", context)
    assert alone["outcome"] == "not-verified" and alone["checks"]["connectedness"]["outcome"] == "failed"
    write_json(tmp_path / "bundle.json", {"credential": example(EMISSIONS), "inputs": [example(n) for n in EMISSIONS_INPUTS]})
    assert record_for(tmp_path / "bundle.json", context)["outcome"] == "verified"


def test_a_tampered_credential_inside_a_presentation_fails_the_presentation(tmp_path: Path, key: KeyFile, context: VerificationContext) -> None:
    bad = credential(key, 2)
    bad["credentialSubject"]["name"] = "changed"
    write_json(tmp_path / "vp.json", {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"], "verifiableCredential": [credential(key, 1), bad]})
    record = record_for(tmp_path / "vp.json", context)
    assert record["outcome"] == "not-verified"
    assert [c["verified"] for c in record["credentials"]] == [True, False]
    assert record["problems"][0]["detail"].startswith("verifiableCredential[1]: ")


@pytest.mark.parametrize(
    ("document", "code", "words"),
    [
        ({"credential": {}, "extra": 1}, "PARSING_ERROR", "not 'extra'"),
        ({"credential": {}, "inputs": {}}, "PARSING_ERROR", "must be arrays"),
    ],
)
def test_a_malformed_bundle_is_an_error_record_naming_the_problem(tmp_path: Path, context: VerificationContext, document: dict, code: str, words: str) -> None:
    write_json(tmp_path / "b.json", document)
    record = record_for(tmp_path / "b.json", context)
    assert record["outcome"] == "error" and record["problems"][0]["code"] == code and words in record["problems"][0]["detail"]


def test_a_vanished_file_is_an_error_record_not_an_exception(tmp_path: Path, context: VerificationContext) -> None:
    record = verify_input(InputRef(name="gone.json", path=str(tmp_path / "gone.json")), context)
    assert record["outcome"] == "error" and "cannot be read" in record["problems"][0]["detail"]


def test_json_that_is_not_an_object_is_not_verified(tmp_path: Path, context: VerificationContext) -> None:
    (tmp_path / "list.json").write_text("[1, 2, 3]", encoding="utf-8")
    record = record_for(tmp_path / "list.json", context)
    assert record["outcome"] == "not-verified" and record["checks"]["format"]["outcome"] == "failed"


def test_status_lists_given_once_apply_to_every_input(tmp_path: Path, key: KeyFile) -> None:
    write_json(tmp_path / "list.json", status_list(key, revoked=(7,)))
    write_json(tmp_path / "in" / "revoked.json", with_status(key, 1, 7))
    write_json(tmp_path / "in" / "fine.json", with_status(key, 2, 8))
    options = BatchOptions.create(status_lists=[tmp_path / "list.json"])
    records = {Path(r["input"]).name: r for r in verify_many([str(tmp_path / "in")], options=options, engine=InlineEngine())}
    assert records["fine.json"]["outcome"] == "verified" and records["fine.json"]["checks"]["status"]["outcome"] == "passed"
    assert records["revoked.json"]["checks"]["status"]["codes"] == ["CREDENTIAL_REVOKED"]
    # Without the list, the status cannot be known: not verified, and saying why.
    plain = {Path(r["input"]).name: r for r in verify_many([str(tmp_path / "in")], engine=InlineEngine())}
    assert plain["fine.json"]["checks"]["status"]["codes"] == ["STATUS_RETRIEVAL_ERROR"]
