"""Bundled contexts are the published files, pinned; the loader serves only them and local DIDs."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

import perseus.contexts as contexts
from perseus.verifier.errors import DidResolutionError, DocumentLoaderError
from perseus.verifier.loader import DocumentLoader

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
REQUIRED = {
    "https://www.w3.org/ns/credentials/v2",
    "https://www.w3.org/2018/credentials/v1",
    "https://w3id.org/security/data-integrity/v2",
    "https://w3id.org/security/multikey/v1",
    "https://www.w3.org/ns/credentials/status/v1",
    "https://www.w3.org/ns/credentials/examples/v2",
}


def test_every_required_context_is_bundled() -> None:
    assert REQUIRED <= {c.url for c in contexts.bundled_contexts()}


@pytest.mark.parametrize("entry", contexts.bundled_contexts(), ids=lambda c: c.url)
def test_pins_match_the_files(entry: contexts.BundledContext) -> None:
    assert hashlib.sha256(entry.file.read_bytes()).hexdigest() == entry.sha256
    assert "@context" in json.loads(entry.file.read_text(encoding="utf-8"))


def test_every_bundled_context_names_its_source() -> None:
    manifest = json.loads(contexts.MANIFEST_PATH.read_text(encoding="utf-8"))
    assert all(entry.get("source") for entry in manifest["contexts"])


def test_bitstring_status_list_context_is_byte_identical_to_the_w3c_repository_copy() -> None:
    published = VECTORS / "vc-bitstring-status-list" / "contexts" / "v1.jsonld"
    assert contexts.find("https://www.w3.org/ns/credentials/status/v1").file.read_bytes() == published.read_bytes()


def test_a_tampered_context_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "contexts"
    shutil.copytree(contexts.CONTEXTS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    target = copy / "w3c" / "credentials-v2.jsonld"
    target.write_text(target.read_text().replace("https://schema.org/name", "https://evil.example/name"))
    monkeypatch.setattr(contexts, "CONTEXTS_DIR", copy)
    monkeypatch.setattr(contexts, "MANIFEST_PATH", copy / "manifest.json")
    for cached in (contexts.bundled_contexts, contexts._by_url, contexts.load):
        cached.cache_clear()
    try:
        with pytest.raises(contexts.ContextIntegrityError, match="altered"):
            contexts.load("https://www.w3.org/ns/credentials/v2")
    finally:
        for cached in (contexts.bundled_contexts, contexts._by_url, contexts.load):
            cached.cache_clear()


def test_loader_serves_bundled_contexts_and_refuses_anything_else() -> None:
    loader = DocumentLoader()
    assert "@context" in loader("https://www.w3.org/ns/credentials/v2")
    for url in ("https://www.w3.org/ns/credentials/v3", "https://w3id.org/security/v2", "http://www.w3.org/ns/credentials/v2"):
        with pytest.raises(DocumentLoaderError) as caught:
            loader(url)
        assert caught.value.url == url and url in str(caught.value)


def test_extra_contexts_are_explicit() -> None:
    extra = {"https://example.com/ctx": {"@context": {"x": "https://example.com/x"}}}
    assert DocumentLoader(extra)("https://example.com/ctx") == extra["https://example.com/ctx"]
    with pytest.raises(DocumentLoaderError):
        DocumentLoader()("https://example.com/ctx")


def test_did_key_resolves_offline_and_other_methods_do_not() -> None:
    loader = DocumentLoader()
    vm = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
    method = loader.verification_method(vm)
    assert method["publicKeyMultibase"] == "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
    with pytest.raises(DidResolutionError, match="did:web.*cannot be resolved offline"):
        loader.verification_method("did:web:example.com#key-1")
    with pytest.raises(DidResolutionError):
        loader.verification_method("https://example.com/keys/1")


def test_a_did_resolver_can_be_added_for_registry_snapshots() -> None:
    document = {"id": "did:web:edp.example", "assertionMethod": [{"id": "did:web:edp.example#k1", "type": "Multikey", "controller": "did:web:edp.example", "publicKeyMultibase": "z6Mkx"}]}
    loader = DocumentLoader().with_did_resolver("web", lambda did: document)
    assert loader.verification_method("did:web:edp.example#k1")["id"] == "did:web:edp.example#k1"
    with pytest.raises(DidResolutionError, match="no verification method"):
        loader.verification_method("did:web:edp.example#k2")
