"""Strict mode: anything JSON-LD would drop or leave relative is an error naming the term and where it is."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from perseus.verifier.errors import DocumentLoaderError, JsonLdError, StrictModeError
from perseus.verifier.jsonld import expand, to_rdf
from perseus.verifier.loader import DocumentLoader

UNSIGNED = json.loads(
    (Path(__file__).resolve().parents[1] / "vectors" / "vc-di-eddsa" / "TestVectors" / "unsigned.json").read_text(encoding="utf-8")
)
V2_ONLY = {**UNSIGNED, "@context": ["https://www.w3.org/ns/credentials/v2"]}


@pytest.fixture()
def credential() -> dict:
    """A VC 2.0 credential using only terms the VC v2 context defines (no @vocab anywhere)."""
    doc = copy.deepcopy(V2_ONLY)
    doc["type"] = ["VerifiableCredential"]
    doc["credentialSubject"] = {"id": "did:example:abcdefgh", "name": "Example Ltd"}
    return doc


def test_a_clean_credential_passes(credential: dict) -> None:
    assert to_rdf(credential, DocumentLoader())


def test_undefined_term_names_the_term_and_its_path(credential: dict) -> None:
    credential["credentialSubject"]["alumniOf"] = "The School of Examples"
    with pytest.raises(StrictModeError) as caught:
        to_rdf(credential, DocumentLoader())
    assert caught.value.term == "alumniOf"
    assert caught.value.path == "/credentialSubject/alumniOf"
    assert "alumniOf" in str(caught.value) and "/credentialSubject/alumniOf" in str(caught.value)


def test_undefined_term_deep_in_an_array_has_its_index(credential: dict) -> None:
    credential["credentialSubject"] = [{"id": "did:example:1", "name": "a"}, {"id": "did:example:2", "nmae": "typo"}]
    with pytest.raises(StrictModeError) as caught:
        to_rdf(credential, DocumentLoader())
    assert caught.value.path == "/credentialSubject/1/nmae"


def test_undefined_type_is_refused(credential: dict) -> None:
    credential["type"] = ["VerifiableCredential", "AlumniCredential"]
    with pytest.raises(StrictModeError) as caught:
        to_rdf(credential, DocumentLoader())
    assert caught.value.term == "AlumniCredential" and caught.value.path == "/type"
    assert caught.value.jsonld_code == "relative @type reference"


def test_relative_id_is_refused(credential: dict) -> None:
    credential["id"] = "credentials/42"
    with pytest.raises(StrictModeError, match="relative reference") as caught:
        to_rdf(credential, DocumentLoader())
    assert caught.value.path == "/id"


def test_relative_issuer_reference_is_refused(credential: dict) -> None:
    credential["issuer"] = "issuers/5678"
    with pytest.raises(StrictModeError, match="not an absolute IRI"):
        to_rdf(credential, DocumentLoader())


def test_unknown_context_url_names_the_url(credential: dict) -> None:
    credential["@context"] = ["https://www.w3.org/ns/credentials/v2", "https://example.com/contexts/mine.jsonld"]
    with pytest.raises(DocumentLoaderError) as caught:
        to_rdf(credential, DocumentLoader())
    assert caught.value.url == "https://example.com/contexts/mine.jsonld"
    assert "https://example.com/contexts/mine.jsonld" in str(caught.value)
    assert "nothing is fetched" in str(caught.value)


def test_protected_term_cannot_be_redefined(credential: dict) -> None:
    credential["@context"] = ["https://www.w3.org/ns/credentials/v2", {"name": "https://example.com/evil#name"}]
    with pytest.raises(JsonLdError) as caught:
        to_rdf(credential, DocumentLoader())
    assert caught.value.jsonld_code == "protected term redefinition"


def test_inline_context_terms_are_defined_terms(credential: dict) -> None:
    credential["@context"] = ["https://www.w3.org/ns/credentials/v2", {"meterSerial": "https://example.com/vocab#meterSerial"}]
    credential["credentialSubject"]["meterSerial"] = "19L3012345"
    quads = to_rdf(credential, DocumentLoader())
    assert any(q[1] == "<https://example.com/vocab#meterSerial>" for q in quads)


def test_base_direction_without_rdf_direction_is_refused(credential: dict) -> None:
    credential["name"] = {"@value": "مثال", "@language": "ar", "@direction": "rtl"}
    with pytest.raises(StrictModeError) as caught:
        to_rdf(credential, DocumentLoader())
    assert caught.value.jsonld_code == "rdfDirection not set"


def test_lenient_mode_drops_what_strict_mode_refuses(credential: dict) -> None:
    """The same document in lenient mode loses the term silently: exactly why strict mode exists."""
    clean = to_rdf(credential, DocumentLoader())
    credential["credentialSubject"]["alumniOf"] = "The School of Examples"
    assert sorted(to_rdf(credential, DocumentLoader(), strict=False)) == sorted(clean)


def test_readings_must_not_be_an_at_list_to_be_fast_but_lists_still_work(credential: dict) -> None:
    credential["@context"] = ["https://www.w3.org/ns/credentials/v2", {"ordered": {"@id": "https://example.com/v#o", "@container": "@list"}}]
    credential["credentialSubject"]["ordered"] = ["a", "b", "c", "d", "e"]
    quads = to_rdf(credential, DocumentLoader())
    assert sum(q[1].endswith("#first>") for q in quads) == 5


def test_expansion_is_a_pure_function_of_its_input(credential: dict) -> None:
    before = copy.deepcopy(credential)
    expand(credential, DocumentLoader())
    assert credential == before


def test_an_embedded_context_wrapped_in_context_is_a_keyword_redefinition() -> None:
    # JSON-LD 1.1 API, Context Processing: only a *remote* context document is unwrapped from its
    # "@context"; an embedded context map is a context definition, whose "@context" key goes to Create
    # Term Definition and is a keyword redefinition. The W3C test suite pins it: expand#ter56, "Invalid
    # redefinition of @context keyword" (input copied here). jsonld.js 9 unwraps it instead; we follow
    # the specification, strict or not — so data-integrity-test-suite-assertion's previousProof*Ok
    # fixtures, which embed {"@context": {...}}, are refused.
    ter56 = {"@context": {"@context": {"p": "ex:p"}}, "@id": "ex:1", "p": "value"}
    for strict in (True, False):
        with pytest.raises(JsonLdError, match="'@context' cannot be redefined"):
            expand(ter56, DocumentLoader(), strict=strict)
    wrapped = {
        "@context": [
            "https://www.w3.org/2018/credentials/v1",
            "https://w3id.org/security/data-integrity/v2",
            {"@context": {"alumniOf": "https://www.example.org/alumniOf"}},
        ],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "issuanceDate": "2023-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
    }
    with pytest.raises(JsonLdError, match="'@context' cannot be redefined"):
        to_rdf(wrapped, DocumentLoader())
    unwrapped = {**wrapped, "@context": wrapped["@context"][:2] + [wrapped["@context"][2]["@context"]]}
    assert to_rdf(unwrapped, DocumentLoader())  # the same terms, embedded as the specification says
