"""Helpers for the batch tests: a small mixed "book" of inputs, and a verify function that kills its worker.

A uniquely named module rather than a conftest.py (see tests/credentials/perseus_credential_helpers.py).
Worker processes import it by name (`dying_verify` is pickled by reference), which works because pytest
puts this folder on sys.path before any worker starts, and workers inherit sys.path.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

from perseus.issuer.keyfile import KeyFile, generate_key_file
from perseus.issuer.signing import sign_document
from perseus.verifier.batch import VerificationContext, verify_input
from perseus.verifier.batch.inputs import InputRef
from perseus.verifier.status import Bitstring

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "credentials"
EMISSIONS = "emissions-2023-10.json"
EMISSIONS_INPUTS = ("electricity-halfhourly-2023-10.json", "gas-register-m3-2023-10.json", "tariff-weekend-offpeak-fuelmix.json")
STATUS_URL = "https://issuer.example/status/batch"
POISON = "POISON"  # an input whose name holds this kills the worker verifying it (dying_verify)


def credential(key: KeyFile, number: int, **extra: Any) -> dict[str, Any]:
    """A small signed credential of `key`, unique by `number`."""
    document: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": f"urn:uuid:00000000-0000-4000-8000-{number:012d}",
        "type": ["VerifiableCredential"],
        "issuer": key.controller,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": f"did:example:sme-{number}", "name": f"SME {number}"},
        **extra,
    }
    return sign_document(document, key, created="2025-01-01T00:00:00Z")


def tampered(key: KeyFile, number: int) -> dict[str, Any]:
    document = credential(key, number)
    document["credentialSubject"]["name"] = "Someone Else Ltd"
    return document


def status_list(key: KeyFile, revoked: tuple[int, ...]) -> dict[str, Any]:
    bits = Bitstring.zeros(131_072)
    for index in revoked:
        bits.set(index, True)
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": STATUS_URL,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": key.controller,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": STATUS_URL + "#list", "type": "BitstringStatusList", "statusPurpose": "revocation", "encodedList": bits.encode()},
    }
    return sign_document(document, key, created="2025-01-01T00:00:00Z")


def with_status(key: KeyFile, number: int, index: int) -> dict[str, Any]:
    entry = {"id": f"{STATUS_URL}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": str(index), "statusListCredential": STATUS_URL}
    return credential(key, number, credentialStatus=entry)


def write_json(path: Path, document: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1), encoding="utf-8")


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def make_book(root: Path, key: KeyFile | None = None, *, with_bundles: bool = True) -> dict[str, str]:
    """Write a mixed set of inputs under `root`; return {input name: expected outcome}.

    Input names are relative to the current directory only if `root` is; the tests pass absolute
    paths and compare names as the batch reports them.
    """
    key = key or generate_key_file("Ed25519")
    book = root / "book"
    expected: dict[str, str] = {}

    def add(path: Path, document: Any, outcome: str) -> None:
        write_json(path, document)
        expected[str(path)] = outcome

    for number in (1, 2, 3):
        add(book / f"valid-{number}.json", credential(key, number), "verified")
    add(book / "tampered.json", tampered(key, 4), "not-verified")
    add(book / "expired.json", credential(key, 5, validFrom="2019-01-01T00:00:00Z", validUntil="2020-01-01T00:00:00Z"), "not-verified")
    (book / "malformed.json").write_text('{"@context": ["https://www.w3.org/ns/credentials/v2", ', encoding="utf-8")
    expected[str(book / "malformed.json")] = "error"
    (book / "not-json.json").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    expected[str(book / "not-json.json")] = "error"
    (book / "README.txt").write_text("not an input", encoding="utf-8")
    presentation = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": [credential(key, 6), credential(key, 7)],
    }
    add(book / "presentation.json", presentation, "verified")
    lines = [credential(key, 8), tampered(key, 9)]
    jsonl = root / "export.jsonl"
    text = "\n".join(json.dumps(line) for line in lines) + "\n\n" + "this line is not JSON\n"
    expected[f"{jsonl}:1"] = "verified"
    expected[f"{jsonl}:2"] = "not-verified"
    expected[f"{jsonl}:4"] = "error"
    if with_bundles:
        sme = book / "sme-7"
        sme.mkdir(parents=True)
        shutil.copy(EXAMPLES / EMISSIONS, sme / "credential.json")
        for name in EMISSIONS_INPUTS:
            shutil.copy(EXAMPLES / name, sme / name)
        expected[str(sme) + "/"] = "verified"
        bundle = {"credential": example(EMISSIONS), "inputs": [example(n) for n in EMISSIONS_INPUTS]}
        text += json.dumps(bundle) + "\n"
        expected[f"{jsonl}:5"] = "verified"
    jsonl.write_text(text, encoding="utf-8")
    archive = root / "month.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a/valid.json", json.dumps(credential(key, 10)))
        zf.writestr("a/tampered.json", json.dumps(tampered(key, 11)))
        zf.writestr("a/notes.md", "skipped")
        zf.writestr("lines.jsonl", json.dumps(credential(key, 12)) + "\n" + "[1, 2\n")
    expected[f"{archive}!a/tampered.json"] = "not-verified"
    expected[f"{archive}!a/valid.json"] = "verified"
    expected[f"{archive}!lines.jsonl:1"] = "verified"
    expected[f"{archive}!lines.jsonl:2"] = "error"
    return expected


def book_inputs(root: Path) -> list[str]:
    return [str(root / "book"), str(root / "export.jsonl"), str(root / "month.zip")]


def dying_verify(ref: InputRef, context: VerificationContext) -> dict[str, Any]:
    """`verify_input`, except that the worker process exits abruptly on an input marked POISON."""
    if POISON in ref.name:
        os._exit(17)
    return verify_input(ref, context)
