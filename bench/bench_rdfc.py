"""Benchmark RDFC-1.0 canonicalization on meter-reading datasets of realistic size.

A credential carrying a year of half-hourly readings is ~17,520 blank nodes and ~87,600 quads, and
the whole verification (JSON-LD -> RDF -> canonicalize -> hash -> signature) has a one-second budget,
so canonicalization should stay well under 0.25 s there. Each reading here is a blank node with a
start and end xsd:dateTime, an xsd:decimal value and a quality IRI, linked from the subject IRI:
every reading has a unique first-degree hash, as real readings do.

Quads come in document order (each reading's quads together, as JSON-LD to RDF emits them); the
last column times the same quads shuffled, which costs more only through poorer memory locality.

Run: ``python bench/bench_rdfc.py`` (prints timings; asserts nothing).
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone

from perseus.verifier.nquads import parse_nquads, serialize_nquads
from perseus.verifier.rdf import XSD, Quad, iri, literal
from perseus.verifier.rdfc import canonicalize

EX = "https://w3id.org/perseus/energy#"
SUBJECT = iri("urn:uuid:7f1c4e5e-9d3b-4d7e-8c55-0a1b2c3d4e5f")
READING = iri(EX + "reading")
START = iri(EX + "start")
END = iri(EX + "end")
VALUE = iri(EX + "value")
QUALITY = iri(EX + "quality")
QUALITIES = [iri(EX + q) for q in ("Actual", "Estimated", "Missing")]


def readings_dataset(n: int, *, seed: int = 1, shuffle: bool = False) -> list[Quad]:
    """`n` half-hourly readings as quads, blank nodes labelled in a shuffled order."""
    rng = random.Random(seed)
    labels = [f"_:b{i}" for i in range(n)]
    rng.shuffle(labels)  # input labels need not follow document order
    t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
    half_hour = timedelta(minutes=30)
    quads: list[Quad] = []
    for i, node in enumerate(labels):
        start = t0 + i * half_hour
        quads += [
            (SUBJECT, READING, node, ""),
            (node, START, literal(start.strftime("%Y-%m-%dT%H:%M:%SZ"), XSD + "dateTime"), ""),
            (node, END, literal((start + half_hour).strftime("%Y-%m-%dT%H:%M:%SZ"), XSD + "dateTime"), ""),
            (node, VALUE, literal(f"{rng.uniform(0, 2):.3f}", XSD + "decimal"), ""),
            (node, QUALITY, rng.choice(QUALITIES), ""),
        ]
    if shuffle:
        rng.shuffle(quads)
    return quads


def best_of(fn, repeat: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times)


def main() -> None:
    print(f"Python {sys.version.split()[0]}; best (median) of several runs")
    print(f"{'readings':>9} {'quads':>7} {'canonicalize':>20} {'shuffled input':>15} {'parse N-Quads':>14}")
    for n in (1, 48, 1440, 17520):
        quads = readings_dataset(n)
        shuffled = readings_dataset(n, shuffle=True)
        text = serialize_nquads(quads)
        repeat = 20 if n < 10_000 else 7
        best, median = best_of(lambda: canonicalize(quads), repeat)
        mixed, _ = best_of(lambda: canonicalize(shuffled), repeat)
        parse, _ = best_of(lambda: parse_nquads(text), 3)
        print(
            f"{n:>9} {len(quads):>7} {best * 1000:>9.2f} ms ({median * 1000:.1f})"
            f" {mixed * 1000:>12.2f} ms {parse * 1000:>11.1f} ms"
        )


if __name__ == "__main__":
    main()
