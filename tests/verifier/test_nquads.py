"""N-Quads parsing and serialization: the grammar, canonical term text, and errors naming the line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perseus.verifier.errors import ParsingError
from perseus.verifier.nquads import parse_nquads, serialize_nquads
from perseus.verifier.rdf import RDF_LANGSTRING, XSD, Quad, iri, literal, serialize

S, P, O, G = (f"<http://example.org/{name}>" for name in "spog")


def one(text: str) -> Quad:
    quads = parse_nquads(text)
    assert len(quads) == 1
    return quads[0]


# --- the grammar -----------------------------------------------------------------------------------------


def test_terms_of_every_kind() -> None:
    assert one(f"{S} {P} {O} .") == (S, P, O, "")
    assert one(f"{S} {P} {O} {G} .") == (S, P, O, G)
    assert one(f"_:s {P} _:o _:g .") == ("_:s", P, "_:o", "_:g")
    assert one(f'{S} {P} "v" .') == (S, P, '"v"', "")
    assert one(f'{S} {P} "v"@en-GB .') == (S, P, '"v"@en-GB', "")
    assert one(f'{S} {P} "1"^^<{XSD}integer> {G} .') == (S, P, f'"1"^^<{XSD}integer>', G)


def test_layout_comments_blank_lines_and_line_ends() -> None:
    text = (
        "# a comment\n"
        "\n"
        f"  {S}\t{P}   {O}  .  # trailing comment\r\n"
        "   \t \r"
        f"{S}{P}{O}.\n"  # white space between terms is optional where unambiguous
        f'_:b0{P}"x"^^<{XSD}integer>{G}.\n'
        f"{S} {P} <http://example.org/#not-a-comment> .#comment"
    )
    assert parse_nquads(text) == [
        (S, P, O, ""),
        (S, P, O, ""),
        ("_:b0", P, f'"x"^^<{XSD}integer>', G),
        (S, P, "<http://example.org/#not-a-comment>", ""),
    ]
    assert parse_nquads("") == [] and parse_nquads("\n\n# only comments\n") == []


def test_blank_node_labels() -> None:
    assert one(f"_:a.b-c_d {P} _:0x .") == ("_:a.b-c_d", P, "_:0x", "")
    assert one(f"_:x {P} _:y.") == ("_:x", P, "_:y", "")  # a label cannot end with '.'
    assert one(f"_:é·‿ {P} _:日本 .") == ("_:é·‿", P, "_:日本", "")


def test_literal_escapes_are_normalized() -> None:
    """ECHAR and UCHAR are decoded, then written back in canonical form (rdf.literal)."""
    assert one(f'{S} {P} "\\u0041\\U0001F600\\t\\b\\n\\r\\f\\"\\\'\\\\" .')[2] == literal("A😀\t\b\n\r\f\"'\\")
    assert one(f'{S} {P} "\\u0000\\u001f\\u007F\\u00e9" .')[2] == '"\\u0000\\u001F\\u007Fé"'
    assert one(f'{S} {P} "tab\there" .')[2] == '"tab\\there"'  # a raw tab is allowed, written as \t


def test_xsd_string_is_implicit() -> None:
    assert one(f'{S} {P} "v"^^<{XSD}string> .')[2] == '"v"'
    assert one(f'{S} {P} "v"^^<http://www.w3.org/2001/XMLSchema\\u0023string> .')[2] == '"v"'


def test_iri_escapes_are_decoded() -> None:
    assert one(f"<urn:ex:\\u0065\\u0078> {P} <urn:ex:\\U0001F303> .") == ("<urn:ex:ex>", P, "<urn:ex:🌃>", "")


def test_duplicates_are_kept_in_document_order() -> None:
    assert parse_nquads(f"{S} {P} {O} .\n{S} {P} {O} .\n") == [(S, P, O, "")] * 2


def test_w3c_inputs_and_outputs_parse(vectors: Path) -> None:
    """Every rdf-canon file parses; every expected output is already in canonical form."""
    for path in sorted((vectors / "rdf-canon/tests/rdfc10").glob("*.nq")):
        text = path.read_text(encoding="utf-8")
        quads = parse_nquads(text)
        assert parse_nquads(serialize_nquads(quads)) == quads
        if path.name.endswith("-rdfc10.nq"):
            assert serialize(quads) == text, path.name


# --- errors ----------------------------------------------------------------------------------------------

BAD = [
    (f"{S} {P} {O}", "expected a graph name or the final '.'"),
    (f"{S} {P} .", "expected an object"),
    (f'"s" {P} {O} .', "expected a subject"),
    (f"{S} _:p {O} .", "expected a predicate"),
    (f'{S} "p" {O} .', "expected a predicate"),
    (f"{S} {P} {O} {G} {G} .", "expected a graph name or the final '.'"),
    (f'{S} {P} {O} "g" .', "expected a graph name or the final '.'"),
    (f'{S} {P} "unterminated .', "expected an object"),
    (f'{S} {P} "bad \\escape" .', "expected an object"),
    (f'{S} {P} "x"@ .', "expected a graph name or the final '.'"),
    (f'{S} {P} "x"@en-- .', "expected a graph name or the final '.'"),
    (f"{S} {P} <http://example.org/a b> .", "expected an object"),
    (f"{S} {P} <relative> .", "IRI <relative> is relative"),
    (f"{S} {P} <http://example.org/\\u0020> .", "contains U+0020"),
    (f"{S} {P} <http://example.org/\\u003E> .", "contains U+003E"),
    (f'{S} {P} "\\uD800" .', "not a Unicode scalar value"),
    (f'{S} {P} "\\U00110000" .', "not a Unicode scalar value"),
    (f'{S} {P} "x"^^<{RDF_LANGSTRING}> .', "must have a language tag"),
    (f"_:a. {P} {O} .", "expected a predicate"),
    (f"_:-a {P} {O} .", "expected a subject"),
    (f"{S} {P} {O} . {S} {P} {O} .", "unexpected text after the final '.' at column 72"),
]


@pytest.mark.parametrize(("line", "reason"), BAD, ids=[reason for _, reason in BAD])
def test_malformed_line_names_line_and_reason(line: str, reason: str) -> None:
    text = f"# header\n{S} {P} {O} .\n\n{line}\n{S} {P} {O} .\n"
    with pytest.raises(ParsingError) as error:
        parse_nquads(text)
    assert str(error.value).startswith("N-Quads line 4: ")
    assert reason in str(error.value)
    assert error.value.code == "PARSING_ERROR"


def test_line_numbers_count_cr_and_crlf() -> None:
    with pytest.raises(ParsingError, match="^N-Quads line 3: "):
        parse_nquads(f"{S} {P} {O} .\r\n{S} {P} {O} .\rbad\n")


def test_lone_surrogate_in_text() -> None:
    with pytest.raises(ParsingError, match="line 2: contains a lone surrogate"):
        parse_nquads(f'{S} {P} {O} .\n{S} {P} "\ud800" .\n')


# --- round trip ------------------------------------------------------------------------------------------

IRI_CHARACTERS = st.characters(
    blacklist_characters='<>"{}|^`\\', blacklist_categories=("Cs",), min_codepoint=0x21
)
IRI_TEXT = st.text(IRI_CHARACTERS, max_size=8)
iris = IRI_TEXT.map(lambda rest: iri("urn:x:" + rest))
blanks = st.from_regex(r"_:[A-Za-z0-9_]([A-Za-z0-9_.\-]*[A-Za-z0-9_\-])?", fullmatch=True)
literals = st.one_of(
    st.text().map(literal),
    st.tuples(st.text(), st.from_regex(r"[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8}){0,2}", fullmatch=True)).map(
        lambda pair: literal(pair[0], language=pair[1])
    ),
    st.tuples(st.text(), iris).map(lambda pair: literal(pair[0], pair[1][1:-1])),
)
quads = st.tuples(
    iris | blanks,
    iris,
    iris | blanks | literals,
    st.just("") | iris | blanks,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(quads, max_size=8))
def test_parse_serialize_round_trip(dataset: list[Quad]) -> None:
    """Any text (control characters, quotes, backslashes, astral planes) survives the round trip."""
    assert parse_nquads(serialize_nquads(dataset)) == dataset


@settings(max_examples=100, deadline=None)
@given(st.text())
def test_arbitrary_text_parses_or_raises_parsing_error(text: str) -> None:
    try:
        parse_nquads(text)
    except ParsingError as error:
        assert str(error).startswith("N-Quads line ")
