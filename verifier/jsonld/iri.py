"""IRI helpers for JSON-LD processing: keyword forms, absolute-IRI tests and RFC 3986 resolution."""

from __future__ import annotations

import re

KEYWORDS = frozenset(
    {
        "@base", "@container", "@context", "@default", "@direction", "@embed", "@explicit",
        "@first", "@graph", "@id", "@import", "@included", "@index", "@json", "@language",
        "@list", "@nest", "@none", "@omitDefault", "@prefix", "@preserve", "@propagate",
        "@protected", "@requireAll", "@reverse", "@set", "@type", "@value", "@version", "@vocab",
    }
)

_KEYWORD_FORM = re.compile(r"^@[a-zA-Z]+$")
# The test jsonld.js uses for "absolute IRI" (a scheme, a colon, no whitespace); using the same test keeps
# our RDF output identical to theirs for borderline inputs.
_ABSOLUTE_IRI = re.compile(r"^([A-Za-z][A-Za-z0-9+\-.]*|_):[^\s]*$")
GEN_DELIMS = frozenset(":/?#[]@")


def has_keyword_form(value: str) -> bool:
    return value.startswith("@") and _KEYWORD_FORM.match(value) is not None


def is_keyword(value: object) -> bool:
    return isinstance(value, str) and value in KEYWORDS


def is_absolute_iri(value: str) -> bool:
    return _ABSOLUTE_IRI.match(value) is not None


# Characters RFC 3987 never allows in an IRI; an IRI containing one (or a second "#") is not
# well-formed and JSON-LD's RDF serialization skips it.
_ILL_FORMED = re.compile(r'[\x00-\x20<>"{}|\\^`\x7f]')


def is_well_formed_iri(value: str) -> bool:
    """An absolute IRI or blank node identifier that may appear in N-Quads."""
    return is_absolute_iri(value) and _ILL_FORMED.search(value) is None and value.count("#") <= 1


def is_blank_node_id(value: str) -> bool:
    return value.startswith("_:")


# RFC 3986 Appendix B: splits a reference into scheme, authority, path, query and fragment, keeping an
# absent component (None) apart from an empty one ("") as §5.2.2 needs.
_URI_PARTS = re.compile(r"^(?:([^:/?#]+):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$", re.DOTALL)


def _split(value: str) -> tuple[str | None, str | None, str, str | None, str | None]:
    m = _URI_PARTS.match(value)
    assert m is not None  # the pattern matches every string
    return m.group(1), m.group(2), m.group(3), m.group(4), m.group(5)


def _join(scheme: str | None, authority: str | None, path: str, query: str | None, fragment: str | None) -> str:
    out = ""
    if scheme is not None:
        out += scheme + ":"
    if authority is not None:
        out += "//" + authority
    out += path
    if query is not None:
        out += "?" + query
    if fragment is not None:
        out += "#" + fragment
    return out


def resolve(reference: str, base: str | None) -> str:
    """Resolve `reference` against `base` with RFC 3986 §5.2.2 (the basic algorithm, as JSON-LD asks)."""
    if base is None:
        return reference
    r_scheme, r_auth, r_path, r_query, r_frag = _split(reference)
    b_scheme, b_auth, b_path, b_query, _ = _split(base)
    if r_scheme is not None:
        return _join(r_scheme, r_auth, _remove_dot_segments(r_path), r_query, r_frag)
    if r_auth is not None:
        return _join(b_scheme, r_auth, _remove_dot_segments(r_path), r_query, r_frag)
    if r_path == "":
        return _join(b_scheme, b_auth, b_path, r_query if r_query is not None else b_query, r_frag)
    if r_path.startswith("/"):
        path = _remove_dot_segments(r_path)
    elif b_auth is not None and b_path == "":
        path = _remove_dot_segments("/" + r_path)
    else:
        path = _remove_dot_segments(b_path[: b_path.rfind("/") + 1] + r_path)
    return _join(b_scheme, b_auth, path, r_query, r_frag)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4."""
    if "." not in path:
        return path
    output: list[str] = []
    inp = path
    while inp:
        if inp.startswith("../"):
            inp = inp[3:]
        elif inp.startswith("./"):
            inp = inp[2:]
        elif inp.startswith("/./"):
            inp = "/" + inp[3:]
        elif inp == "/.":
            inp = "/"
        elif inp.startswith("/../"):
            inp = "/" + inp[4:]
            if output:
                output.pop()
        elif inp == "/..":
            inp = "/"
            if output:
                output.pop()
        elif inp in (".", ".."):
            inp = ""
        else:
            start = 1 if inp.startswith("/") else 0
            nxt = inp.find("/", start)
            if nxt == -1:
                nxt = len(inp)
            output.append(inp[:nxt])
            inp = inp[nxt:]
    return "".join(output)
