"""Benchmark a year of half-hourly consumption as a Perseus credential: build, shape-validate, sign, verify.

Budget (issue #3): building, validating and signing a one-year half-hourly consumption credential
(17,520 readings) <= 1.5 s on this machine, and verifying it with shape validation <= 1.5 s.

    python bench/bench_credentials.py                       # the breakdown, best of 3 runs
    python bench/bench_credentials.py --compare-validators  # also: jsonschema and pySHACL on the same data

Phases (each timed on its own; "pipeline" rows are the end-to-end calls a user makes):
  parse CSV         examples/inputs/electricity_import_2023_long.csv -> 17,520 IntervalReadings (adapter)
  energy            totals per local day and month, completeness (perseus.issuer.energy.consumption)
  build             the credential dict (perseus.issuer.credentials, checks off)
  shape             perseus.verifier.shapes.validate_shape (JSON Schema via fastjsonschema + extra checks)
  JSON-LD -> RDF    strict expansion and conversion to quads
  canonicalize      RDFC-1.0
  sign              sign_document (JSON-LD -> RDF, RDFC-1.0, SHA-256, Ed25519)
  verify            verify_credential (all checks) + shape_check
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CSV = ROOT / "examples" / "inputs" / "electricity_import_2023_long.csv"
ISSUED = "2024-01-05T09:00:00Z"


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """(best, median, last result) over `repeat` runs, in seconds."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the Perseus consumption credential pipeline on a year of half-hourly data")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--compare-validators", action="store_true", help="also time jsonschema (pure Python) and pySHACL on the same credential")
    args = parser.parse_args()

    from perseus.issuer.adapters import read_long
    from perseus.issuer.credentials import Metadata, build_consumption_credential
    from perseus.issuer.energy.consumption import build_consumption
    from perseus.issuer.energy.mpan import supply_point
    from perseus.issuer.keyfile import generate_key_file
    from perseus.issuer.signing import sign_document
    from perseus.verifier.dates import parse_datetime
    from perseus.verifier.jsonld import to_rdf
    from perseus.verifier.loader import DocumentLoader
    from perseus.verifier.rdfc import canonical_nquads
    from perseus.verifier.shapes import shape_check, validate_shape
    from perseus.verifier.verify import verify_credential

    loader = DocumentLoader()
    key = generate_key_file("Ed25519")
    issued = parse_datetime(ISSUED)
    point = supply_point("1200123456787", "electricity", "import", "SE1")
    text = CSV.read_text(encoding="utf-8")
    rows: list[tuple[str, float, float]] = []

    def row(name: str, best: float, median: float) -> None:
        rows.append((name, best, median))

    b, m, readings = timed(lambda: read_long(text), args.repeat)
    row("parse CSV (adapter)", b, m)
    b, m, data = timed(lambda: build_consumption(point, "did:example:sme", intervals=readings), args.repeat)
    row("energy arithmetic", b, m)
    meta = Metadata("SmartMeterViaDCC")

    def build() -> dict[str, Any]:
        return build_consumption_credential(data, issuer=key.controller, metadata=meta, valid_from=issued, loader=loader, check="none")

    b, m, credential = timed(build, args.repeat)
    row("build credential dict", b, m)
    b, m, problems = timed(lambda: validate_shape(credential), args.repeat)
    assert not problems, problems
    row("shape validation", b, m)
    b, m, quads = timed(lambda: to_rdf(credential, loader), args.repeat)
    row("JSON-LD -> RDF (strict)", b, m)
    b, m, _ = timed(lambda: canonical_nquads(quads), args.repeat)
    row("RDFC-1.0 canonicalize", b, m)
    b, m, signed = timed(lambda: sign_document(credential, key, loader=loader, created=ISSUED), args.repeat)
    row("sign (RDF + RDFC + Ed25519)", b, m)

    def pipeline_build() -> dict[str, Any]:
        checked = build_consumption(point, "did:example:sme", intervals=readings)
        built = build_consumption_credential(checked, issuer=key.controller, metadata=meta, valid_from=issued, loader=loader, check="shape")
        return sign_document(built, key, loader=loader, created=ISSUED)

    b_build, m_build, _ = timed(pipeline_build, args.repeat)

    def pipeline_build_full() -> dict[str, Any]:
        checked = build_consumption(point, "did:example:sme", intervals=readings)
        built = build_consumption_credential(checked, issuer=key.controller, metadata=meta, valid_from=issued, loader=loader, check="full")
        return sign_document(built, key, loader=loader, created=ISSUED)

    b_full, m_full, _ = timed(pipeline_build_full, args.repeat)

    def verify() -> bool:
        result = verify_credential(signed, loader=loader)
        result.add(shape_check(signed))
        return result.verified

    b_verify, m_verify, ok = timed(verify, args.repeat)
    assert ok
    b_vonly, m_vonly, _ = timed(lambda: verify_credential(signed, loader=loader).verified, args.repeat)

    n = len(credential["credentialSubject"]["intervalReadings"])
    print(f"Python {sys.version.split()[0]}; {n} half-hourly readings, {len(quads)} quads; best and median of {args.repeat} runs")
    print(f"{'phase':<38} {'best':>9} {'median':>9}")
    for name, best, median in rows:
        print(f"{name:<38} {best * 1000:>7.0f} ms {median * 1000:>6.0f} ms")
    print(f"{'shape check (within verify)':<38} {(b_verify - b_vonly) * 1000:>7.0f} ms")
    print(f"{'verify_credential (all checks)':<38} {b_vonly * 1000:>7.0f} ms {m_vonly * 1000:>6.0f} ms")
    print()
    print(f"PIPELINE build + shape + sign          {b_build * 1000:>7.0f} ms {m_build * 1000:>6.0f} ms   (budget 1500 ms; energy arithmetic included)")
    print(f"PIPELINE same, builder also runs RDF   {b_full * 1000:>7.0f} ms {m_full * 1000:>6.0f} ms   (check='full', as `perseus build` does)")
    print(f"PIPELINE from the CSV file             {(rows[0][1] + b_build) * 1000:>7.0f} ms            (parse CSV + the row above)")
    print(f"PIPELINE verify + shape validation     {b_verify * 1000:>7.0f} ms {m_verify * 1000:>6.0f} ms   (budget 1500 ms)")

    if args.compare_validators:
        compare_validators(credential, quads, args.repeat)


def compare_validators(credential: dict[str, Any], quads: list[Any], repeat: int) -> None:
    """The same shape rules with other engines: why the shapes are JSON Schema compiled by fastjsonschema."""
    import json
    from importlib.metadata import version

    print()
    print("validator comparison on the same credential (fastjsonschema: the 'shape validation' row above)")
    try:
        import jsonschema
        from perseus.verifier.shapes import SHAPES_BASE_URL, SHAPES_DIR
        from referencing import Registry, Resource

        resources = []
        for path in SHAPES_DIR.glob("*.schema.json"):
            resources.append((SHAPES_BASE_URL + path.name, Resource.from_contents(json.loads(path.read_text()))))
        registry = Registry().with_resources(resources)
        schema = json.loads((SHAPES_DIR / "consumption.schema.json").read_text())
        validator = jsonschema.Draft7Validator(schema, registry=registry)
        b, _m, _ = timed(lambda: list(validator.iter_errors(credential)), repeat)
        print(f"  jsonschema {version('jsonschema')} (pure Python, reports all errors): {b * 1000:.0f} ms")
    except ImportError as exc:
        print(f"  jsonschema not installed ({exc})")
    try:
        import pyshacl
        import rdflib
        from perseus.verifier.rdf import quad_line

        shapes = rdflib.Graph().parse(data=READING_SHACL, format="turtle")
        text = "".join(quad_line(q) for q in quads)
        start = time.perf_counter()
        data = rdflib.Dataset()
        data.parse(data=text, format="nquads")
        graph = rdflib.Graph()
        for s, p, o, _g in data.quads((None, None, None, None)):
            graph.add((s, p, o))
        parsed = time.perf_counter() - start
        start = time.perf_counter()
        conforms, _, _ = pyshacl.validate(graph, shacl_graph=shapes)
        elapsed = time.perf_counter() - start
        print(f"  pySHACL {pyshacl.__version__}: rdflib load {parsed * 1000:.0f} ms, validate readings only {elapsed * 1000:.0f} ms (conforms={conforms})")
    except ImportError as exc:
        print(f"  pySHACL not installed ({exc})")


# SHACL for the readings alone (the part that scales): the same rules as the JSON Schema's "reading".
READING_SHACL = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix p: <https://w3id.org/perseus/vocab#> .
p:ReadingShape a sh:NodeShape ;
  sh:targetObjectsOf p:intervalReadings ;
  sh:property [ sh:path p:start ; sh:datatype xsd:dateTime ; sh:minCount 1 ; sh:maxCount 1 ] ;
  sh:property [ sh:path p:end ; sh:datatype xsd:dateTime ; sh:minCount 1 ; sh:maxCount 1 ] ;
  sh:property [ sh:path p:value ; sh:datatype xsd:decimal ; sh:minCount 1 ; sh:maxCount 1 ] ;
  sh:property [ sh:path p:unit ; sh:in ( p:KWH p:WHR p:MWH p:MTQ p:FTQ p:HH ) ; sh:minCount 1 ; sh:maxCount 1 ] ;
  sh:property [ sh:path p:quality ; sh:in ( p:Actual p:Estimated p:Missing p:Substituted ) ; sh:minCount 1 ; sh:maxCount 1 ] ;
  sh:closed true .
"""


if __name__ == "__main__":
    main()
