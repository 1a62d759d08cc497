"""The Perseus context and vocabulary agree: every term the context defines is described in vocab.ttl.

rdflib is a test-only dependency: it parses the Turtle, and the checks below walk the context file.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import rdflib
from perseus import contexts
from rdflib.namespace import RDF, RDFS

ROOT = Path(__file__).resolve().parents[2]
CONTEXT_FILE = ROOT / "contexts" / "perseus" / "credentials-v1.jsonld"
VOCAB_FILE = ROOT / "contexts" / "perseus" / "vocab.ttl"
CONTEXT_URL = "https://w3id.org/perseus/credentials/v1"
VOCAB = "https://w3id.org/perseus/vocab#"
SCHEMA_DOMAIN = rdflib.URIRef("https://schema.org/domainIncludes")
XSD_PREFIX = "http://www.w3.org/2001/XMLSchema#"

# Properties whose values are energy, volume or money: they must be exact decimals.
DECIMAL_TERMS = {
    "value", "totalKwh", "kwh", "volume", "volumeM3", "consumption", "pencePerKwhExcVat", "pencePerKwhIncVat",
    "pencePerDayExcVat", "pencePerDayIncVat", "vatRate", "locationBasedKgCO2e", "marketBasedKgCO2e", "calorificValue",
    "correctionFactor", "intervalTotal", "registerDelta", "difference", "co2GramsPerKwh",
    "scope1KgCO2e", "scope2LocationBasedKgCO2e", "scope2MarketBasedKgCO2e", "missingIntensityKwh", "calorificValueAsGiven",
}


@pytest.fixture(scope="module")
def context() -> dict[str, Any]:
    return json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))["@context"]


@pytest.fixture(scope="module")
def vocab() -> rdflib.Graph:
    return rdflib.Graph().parse(VOCAB_FILE, format="turtle")


def _definitions(context: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in context.items() if not k.startswith("@")}


def _enumeration_values(context: dict[str, Any]) -> dict[str, str]:
    """Scoped-context terms (the values of @vocab-typed enumerations) → their IRIs."""
    out = {}
    for definition in _definitions(context).values():
        for term, iri in definition.get("@context", {}).items():
            if not term.startswith("@"):
                out[f"{definition['@id']} {term}"] = iri
    return out


def test_the_vocabulary_parses_and_is_not_trivial(vocab: rdflib.Graph) -> None:
    assert len(vocab) > 500
    assert (rdflib.URIRef(VOCAB), RDF.type, rdflib.URIRef("http://www.w3.org/2002/07/owl#Ontology")) in vocab


def test_context_is_protected_and_every_term_is_an_absolute_perseus_iri(context: dict[str, Any]) -> None:
    assert context["@protected"] is True
    assert "@vocab" not in context, "an @vocab would silently accept undefined terms"
    for term, definition in _definitions(context).items():
        assert isinstance(definition, dict) and definition["@id"] == VOCAB + term, term
        assert "@container" not in definition, f"{term}: readings and other values are unordered sets, never @list"
    for where, iri in _enumeration_values(context).items():
        assert iri.startswith(VOCAB), where


def test_every_context_term_is_described(context: dict[str, Any], vocab: rdflib.Graph) -> None:
    problems = []
    for term, definition in _definitions(context).items():
        iri = rdflib.URIRef(definition["@id"])
        if vocab.value(iri, RDFS.label) is None:
            problems.append(f"{term}: no rdfs:label")
        if vocab.value(iri, RDFS.comment) is None:
            problems.append(f"{term}: no rdfs:comment")
        kinds = set(vocab.objects(iri, RDF.type))
        if RDFS.Class in kinds:
            continue
        if RDF.Property not in kinds:
            problems.append(f"{term}: neither an rdfs:Class nor an rdf:Property")
            continue
        if vocab.value(iri, RDFS.domain) is None and vocab.value(iri, SCHEMA_DOMAIN) is None:
            problems.append(f"{term}: no rdfs:domain or schema:domainIncludes")
        if vocab.value(iri, RDFS.range) is None:
            problems.append(f"{term}: no rdfs:range")
    assert problems == []


def test_every_enumeration_value_is_an_individual_of_a_described_class(context: dict[str, Any], vocab: rdflib.Graph) -> None:
    problems = []
    for where, iri in _enumeration_values(context).items():
        node = rdflib.URIRef(iri)
        classes = [c for c in vocab.objects(node, RDF.type)]
        if not classes or not all((c, RDF.type, RDFS.Class) in vocab for c in classes):
            problems.append(f"{where}: not typed with a class the vocabulary defines")
        if vocab.value(node, RDFS.label) is None or vocab.value(node, RDFS.comment) is None:
            problems.append(f"{where}: no label or comment")
    assert problems == []


def test_property_datatypes_in_the_context_match_the_ranges_in_the_vocabulary(context: dict[str, Any], vocab: rdflib.Graph) -> None:
    for term, definition in _definitions(context).items():
        typ = definition.get("@type")
        if typ is None or not typ.startswith(XSD_PREFIX):
            continue
        assert vocab.value(rdflib.URIRef(definition["@id"]), RDFS.range) == rdflib.URIRef(typ), term


def test_energy_and_money_terms_are_exact_decimals(context: dict[str, Any]) -> None:
    for term in DECIMAL_TERMS:
        assert context[term]["@type"] == XSD_PREFIX + "decimal", term


def test_the_context_does_not_redefine_vc_terms(context: dict[str, Any]) -> None:
    vc = contexts.load("https://www.w3.org/ns/credentials/v2")["@context"]
    scoped = vc["VerifiableCredential"]["@context"]
    clashes = set(_definitions(context)) & (set(vc) | set(scoped))
    assert clashes == set(), "redefining a protected VC 2.0 term is an error in JSON-LD"


def test_the_context_is_bundled_and_pinned() -> None:
    entry = contexts.find(CONTEXT_URL)
    assert entry is not None and entry.path == "perseus/credentials-v1.jsonld"
    assert entry.sha256 == hashlib.sha256(CONTEXT_FILE.read_bytes()).hexdigest()
    assert contexts.load(CONTEXT_URL)["@context"]["@protected"] is True


def test_perseus_contexts_lists_it(capsys: pytest.CaptureFixture[str]) -> None:
    from perseus.verifier.cli import main

    assert main(["contexts"]) == 0
    lines = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert [CONTEXT_URL, hashlib.sha256(CONTEXT_FILE.read_bytes()).hexdigest(), "contexts/perseus/credentials-v1.jsonld"] in lines
