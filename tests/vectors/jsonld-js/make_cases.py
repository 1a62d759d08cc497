"""Writes cases.json: JSON-LD documents whose canonical N-Quads jsonld.js 9 computes (canonical-cases.json).

Regenerate:  python tests/vectors/jsonld-js/make_cases.py &&
             node bench/node/canonize.mjs tests/vectors/jsonld-js/cases.json > tests/vectors/jsonld-js/canonical-cases.json
"""
import json
from pathlib import Path
V = "http://example.org/v#"
ctx = {"@version": 1.1, "v": V, "num": {"@id": V+"num"}, "dbl": {"@id": V+"num", "@type": "http://www.w3.org/2001/XMLSchema#double"},
       "dec": {"@id": V+"dec", "@type": "http://www.w3.org/2001/XMLSchema#decimal"},
       "str": {"@id": V+"str"}, "lang": {"@id": V+"lang", "@language": "en-GB"}, "json": {"@id": V+"json", "@type": "@json"},
       "list": {"@id": V+"list", "@container": "@list"}, "ref": {"@id": V+"ref", "@type": "@id"}, "enum": {"@id": V+"enum", "@type": "@vocab"},
       "g": {"@id": V+"g", "@container": "@graph"}, "langmap": {"@id": V+"lm", "@container": "@language"},
       "rev": {"@reverse": V+"child"}, "Thing": V+"Thing", "a": V+"a", "b": V+"b",
       "typed": {"@id": V+"typed", "@type": V+"Custom"}, "idx": {"@id": V+"idx", "@container": "@index"}}
def doc(**kw):
    d = {"@context": ctx, "@id": "http://example.org/s", "@type": "Thing"}; d.update(kw); return d
numbers = [0, -0.0, 5, 5.0, 1.5, -1.5, 0.1, 1e-7, 1.5e-7, 1e-6, 0.000001234, 1e20, 1e21, 1.7976931348623157e308, 123456789012345678901,
           9007199254740993, 2.5e-324, 3.141592653589793, 100.0, 1e300, -123.456e10, 0.1+0.2]
cases = []
for i, n in enumerate(numbers):
    cases.append({"name": f"number {n!r}", "document": doc(num=n)})
    cases.append({"name": f"double-typed {n!r}", "document": doc(dbl=n)})
    cases.append({"name": f"decimal-typed {n!r}", "document": doc(dec=n)})
cases += [
  {"name": "booleans", "document": doc(num=[True, False], dec=True)},
  {"name": "control chars", "document": doc(str="a\u0000b\u0001c\u0008d\u0009e\u000af\u000bg\u000ch\u000di\u001fj\u007fk\"l\\m\u0080n\u2028o")},
  {"name": "unicode", "document": doc(str=["é", "日本語", "😀", "\ud7ff"])},
  {"name": "language", "document": doc(lang="colour", str={"@value": "x", "@language": "EN-us"})},
  {"name": "language map", "document": doc(langmap={"en": "hello", "FR": ["bonjour", "salut"], "@none": "hi"})},
  {"name": "json literal", "document": doc(json={"b": [1, 2.5, "x", None, True], "a": {"z": 1e21, "y": 0.1}})},
  {"name": "list", "document": doc(list=["a", 1, {"@id": "http://example.org/o"}, {"str": "nested"}])},
  {"name": "empty list", "document": doc(list=[])},
  {"name": "list of lists", "document": doc(list=[{"@list": ["a"]}, {"@list": []}])},
  {"name": "graph container", "document": doc(g={"@id": "http://example.org/inner", "str": "in graph"})},
  {"name": "graph container blank", "document": doc(g=[{"str": "one"}, {"str": "two"}])},
  {"name": "reverse", "document": doc(rev={"@id": "http://example.org/parent", "str": "p"})},
  {"name": "blank node ids", "document": doc(a={"@id": "_:x", "b": {"@id": "_:y", "a": {"@id": "_:x"}}})},
  {"name": "refs and enums", "document": doc(ref=["http://example.org/r1", "_:b9"], enum=["Thing", "a", "v:c"])},
  {"name": "custom datatype", "document": doc(typed="abc")},
  {"name": "index container", "document": doc(idx={"k1": {"str": "one"}, "k2": "two"})},
  {"name": "top-level graph", "document": {"@context": ctx, "@graph": [{"@id": "http://example.org/1", "str": "a"}, {"@id": "http://example.org/2", "str": "b"}]}},
  {"name": "named graph", "document": {"@context": ctx, "@id": "http://example.org/graph", "@graph": [{"@id": "http://example.org/1", "str": "a"}]}},
  {"name": "included", "document": doc(**{"@included": [{"@id": "http://example.org/i", "str": "inc"}]})},
  {"name": "duplicates", "document": doc(str=["same", "same"], a=[{"@id": "http://example.org/x"}, {"@id": "http://example.org/x"}])},
  {"name": "iri with escapes", "document": doc(ref="http://example.org/a%20b?q=1#frag")},
  {"name": "vocab value", "document": {"@context": {"@vocab": V, "enum2": {"@id": V+"e2", "@type": "@vocab"}}, "@id": "http://example.org/s", "enum2": "Term", "free": 1}},
  {"name": "scoped contexts", "document": {"@context": {"@version": 1.1, "v": V, "T": {"@id": V+"T", "@context": {"p": {"@id": V+"typescoped"}}}, "q": {"@id": V+"q", "@context": {"p": {"@id": V+"propscoped"}}}, "p": V+"plain"}, "@id": "http://example.org/s", "@type": "T", "p": "x", "q": {"p": "y", "@type": "T"}}},
  {"name": "protected", "document": {"@context": [{"@protected": True, "@version": 1.1, "p": {"@id": V+"p"}}, {"p": {"@id": V+"p"}}], "@id": "http://example.org/s", "p": "x"}},
  {"name": "nest", "document": {"@context": {"@version": 1.1, "v": V, "n": "@nest", "p": {"@id": V+"p", "@nest": "n"}}, "@id": "http://example.org/s", "n": {"p": "nested"}}},
]
# base direction, as the Data Integrity cryptosuites canonicalize it (rdfDirection: i18n-datatype)
cases += [
  {"name": "direction i18n rtl with language", "rdfDirection": "i18n-datatype", "document": doc(str={"@value": "مثال", "@language": "AR", "@direction": "rtl"})},
  {"name": "direction i18n ltr without language", "rdfDirection": "i18n-datatype", "document": doc(str={"@value": "x", "@direction": "ltr"})},
  {"name": "direction i18n from context", "rdfDirection": "i18n-datatype", "document": {"@context": {"@version": 1.1, "@direction": "rtl", "@language": "he", "t": "http://example.org/v#t"}, "@id": "http://example.org/s", "t": "שלום"}},
]
# unsafe ones (jsonld.js safe mode refuses these)
cases += [
  {"name": "UNSAFE undefined term", "document": doc(undefinedTerm="x")},
  {"name": "UNSAFE relative type", "document": doc(**{"@type": "Unknown"})},
  {"name": "UNSAFE relative id", "document": doc(**{"@id": "relative/id"})},
  {"name": "UNSAFE null value", "document": doc(str={"@value": None})},
  {"name": "UNSAFE direction", "document": doc(str={"@value": "x", "@direction": "rtl"})},
  {"name": "UNSAFE only language", "document": doc(str={"@language": "en"})},
  {"name": "UNSAFE relative ref", "document": doc(ref="not-absolute")},
  {"name": "UNSAFE free-floating", "document": {"@context": ctx, "@graph": ["scalar"]}},
  {"name": "UNSAFE bad language", "document": doc(str={"@value": "x", "@language": "not a tag"})},
]
json.dump(cases, open(Path(__file__).with_name("cases.json"), "w"), indent=1)
print(len(cases))
