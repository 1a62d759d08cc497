"""N-Quads 1.1 parsing and serialization, producing the string-term quads of ``rdf.py``.

Why a parser of our own: the canonicalizer and its tests consume N-Quads (the W3C RDFC-1.0 suite is
written in it), and a verifier must not depend on a large RDF library for one line-based format.
Every term comes out in its *canonical* N-Quads text (``rdf.iri`` / ``rdf.literal``), so escapes in
the input (``\\u0041``, ``\\t``, an explicit ``^^xsd:string`` ...) are normalized once, here, and the
rest of the code can compare and hash terms as plain strings.

Grammar: https://www.w3.org/TR/n-quads/#sec-grammar. Each line holds at most one statement,
optionally followed by a ``#`` comment; blank lines and comment-only lines are allowed. Besides the
grammar we refuse what cannot be an RDF term even though it is spelled with escapes: a relative IRI,
an IRI whose ``\\u`` escapes decode to a character IRIs cannot contain (space, ``<``, ``>`` ...), and
an escape that names a surrogate or a code point above U+10FFFF. Every refusal is a
`ParsingError` naming the line (1-based) and the reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .errors import ParsingError
from .rdf import RDF_LANGSTRING, Quad, iri, literal, quad_line

__all__ = ["parse_nquads", "serialize_nquads"]

# --- terminals (the N-Quads 1.1 grammar) --------------------------------------------------------------

_HEX4 = r"[0-9A-Fa-f]{4}"
_HEX8 = r"[0-9A-Fa-f]{8}"
_UCHAR = rf"\\u{_HEX4}|\\U{_HEX8}"
# IRIREF ::= '<' ([^#x00-#x20<>"{}|^`\] | UCHAR)* '>'
_IRIREF = rf"<((?:[^\x00-\x20<>\"{{}}|^`\\]++|{_UCHAR})*+)>"
# STRING_LITERAL_QUOTE ::= '"' ([^#x22#x5C#xA#xD] | ECHAR | UCHAR)* '"'
_STRING = rf"\"((?:[^\"\\\n\r]++|\\[tbnrf\"'\\]|{_UCHAR})*+)\""
_LANGTAG = r"@([a-zA-Z]+(?:-[a-zA-Z0-9]+)*)"
_PN_CHARS_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_PN_CHARS_U = _PN_CHARS_BASE + "_:"
_PN_CHARS = _PN_CHARS_U + r"\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
# BLANK_NODE_LABEL ::= '_:' (PN_CHARS_U | [0-9]) ((PN_CHARS | '.')* PN_CHARS)?
_BNODE = rf"(_:[{_PN_CHARS_U}0-9](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?)"
_WS = r"[ \t]*"

# One whole statement; the fast path. Groups: subject (iri|bnode), predicate, object (iri|bnode|
# string [lang|datatype]), graph (iri|bnode).
_STATEMENT = re.compile(
    rf"{_WS}(?:{_IRIREF}|{_BNODE})"
    rf"{_WS}{_IRIREF}"
    rf"{_WS}(?:{_IRIREF}|{_BNODE}|{_STRING}(?:{_WS}(?:\^\^{_WS}{_IRIREF}|{_LANGTAG}))?)"
    rf"{_WS}(?:{_IRIREF}|{_BNODE})?"
    rf"{_WS}\.{_WS}(?:#.*)?"
)
_EMPTY = re.compile(rf"{_WS}(?:#.*)?")

# Per-token patterns, used only to explain why a line did not match `_STATEMENT`.
_TOKENS = {
    "iri": re.compile(_IRIREF),
    "bnode": re.compile(_BNODE),
    "string": re.compile(_STRING),
    "suffix": re.compile(rf"{_WS}(?:\^\^{_WS}{_IRIREF}|{_LANGTAG})"),
    "ws": re.compile(_WS),
    "end": re.compile(rf"\.{_WS}(?:#.*)?"),
}

_KIND_NAMES = {"iri": "an IRI", "bnode": "a blank node", "string": "a literal"}

_ESCAPE = re.compile(rf"\\(?:u({_HEX4})|U({_HEX8})|(.))", re.DOTALL)
_ECHARS = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
# Characters an IRI may not contain, even when written as a UCHAR (they are excluded from IRIREF's
# character class and from RFC 3987 IRIs).
_IRI_FORBIDDEN = re.compile(r"[\x00-\x20<>\"{}|^`\\]")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_LINE_BREAK = re.compile(r"\r\n?|\n")


class _LineError(Exception):
    """Internal: a reason why the current line is malformed; `parse_nquads` adds the line number."""


def _unescape(text: str) -> str:
    """Decode ECHAR and UCHAR escapes (the grammar guarantees every backslash starts one)."""
    if "\\" not in text:
        return text

    def decode(match: re.Match[str]) -> str:
        hex_digits = match.group(1) or match.group(2)
        if hex_digits is None:
            return _ECHARS[match.group(3)]
        code = int(hex_digits, 16)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise _LineError(f"escape \\{match.group(0)[1:]} is not a Unicode scalar value")
        return chr(code)

    return _ESCAPE.sub(decode, text)


def _checked_iri_term(escaped: str) -> str:
    """The canonical text of an IRIREF's content; refuses what is not an absolute IRI."""
    value = _unescape(escaped)
    if escaped is not value:
        bad = _IRI_FORBIDDEN.search(value)
        if bad:
            raise _LineError(f"IRI <{escaped}> contains U+{ord(bad.group()):04X}, which no IRI may contain")
    if not _SCHEME.match(value):
        raise _LineError(f"IRI <{escaped}> is relative; N-Quads requires absolute IRIs")
    return iri(value)


def _quad_from_match(m: re.Match[str], iris: dict[str, str]) -> Quad:
    """Build a quad from the groups of `_STATEMENT` (see the group order there).

    `iris` memoizes `_iri_term`: a document repeats few distinct IRIs (predicates, types) many times.
    """

    def _iri_term(escaped: str) -> str:
        term = iris.get(escaped)
        if term is None:
            term = iris[escaped] = _checked_iri_term(escaped)
        return term

    (s_iri, s_bnode, p_iri, o_iri, o_bnode, o_string, o_datatype, o_lang, g_iri, g_bnode) = m.groups()
    subject = s_bnode if s_bnode is not None else _iri_term(s_iri)
    predicate = _iri_term(p_iri)
    if o_string is not None:
        lexical = _unescape(o_string)
        if o_lang is not None:
            obj = literal(lexical, language=o_lang)
        elif o_datatype is not None:
            datatype = _iri_term(o_datatype)[1:-1]
            if datatype == RDF_LANGSTRING:
                raise _LineError("a literal typed rdf:langString must have a language tag instead")
            obj = literal(lexical, datatype)
        else:
            obj = literal(lexical)
    elif o_bnode is not None:
        obj = o_bnode
    else:
        obj = _iri_term(o_iri)
    if g_bnode is not None:
        graph = g_bnode
    elif g_iri is not None:
        graph = _iri_term(g_iri)
    else:
        graph = ""
    return (subject, predicate, obj, graph)


def _explain(line: str) -> str:
    """Why `line` is not a statement: walk it token by token and name the first thing that is wrong."""
    tokens = _TOKENS
    pos = tokens["ws"].match(line).end()  # type: ignore[union-attr]

    def column() -> str:
        found = line[pos : pos + 20]
        return f"at column {pos + 1} (found {found!r})" if found else "at the end of the line"

    def term(kinds: tuple[str, ...], role: str) -> None:
        """Consume one term of one of `kinds` (and white space); if `role`, it is required."""
        nonlocal pos
        for kind in kinds:
            m = tokens[kind].match(line, pos)
            if m:
                pos = tokens["ws"].match(line, m.end()).end()  # type: ignore[union-attr]
                if kind == "string":
                    suffix = tokens["suffix"].match(line, m.end())
                    if suffix:
                        pos = tokens["ws"].match(line, suffix.end()).end()  # type: ignore[union-attr]
                return
        if role:
            expected = " or ".join(_KIND_NAMES[kind] for kind in kinds)
            raise _LineError(f"expected {role} ({expected}) {column()}")

    try:
        term(("iri", "bnode"), "a subject")
        term(("iri",), "a predicate")
        term(("iri", "bnode", "string"), "an object")
        term(("iri", "bnode"), "")
        if not tokens["end"].fullmatch(line, pos):
            if line.startswith(".", pos):
                pos = tokens["ws"].match(line, pos + 1).end()  # type: ignore[union-attr]
                raise _LineError(f"unexpected text after the final '.' {column()}")
            raise _LineError(f"expected a graph name or the final '.' {column()}")
    except _LineError as reason:
        return str(reason)
    return "the statement is malformed"  # pragma: no cover - the fast path would have matched


def parse_nquads(text: str) -> list[Quad]:
    """Parse an N-Quads document into quads of canonical term text, in document order.

    Duplicates are kept (an N-Quads document may repeat a statement; the dataset is the set, and
    `rdfc.canonicalize` removes them). Raises `ParsingError` naming the line and the reason.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # only a str built from lone surrogates gets here
        number = len(_LINE_BREAK.split(text[: exc.start]))
        reason = "contains a lone surrogate, which UTF-8 cannot encode"
        raise ParsingError(f"N-Quads line {number}: {reason}") from None
    quads: list[Quad] = []
    append = quads.append
    statement = _STATEMENT.fullmatch
    iris: dict[str, str] = {}
    for number, line in enumerate(_LINE_BREAK.split(text), start=1):
        m = statement(line)
        try:
            if m is not None:
                append(_quad_from_match(m, iris))
                continue
            if _EMPTY.fullmatch(line):
                continue
            raise _LineError(_explain(line))
        except _LineError as reason:
            raise ParsingError(f"N-Quads line {number}: {reason}") from None
    return quads


def serialize_nquads(quads: Iterable[Quad]) -> str:
    """N-Quads text with one line per quad, in the order given (use `rdf.serialize` for sorted output)."""
    return "".join(map(quad_line, quads))
