"""JSON-LD 1.1 context processing: active contexts, term definitions and IRI expansion.

Follows the JSON-LD 1.1 Processing Algorithms and API (W3C Recommendation 2020-07-16), §4.1 Context
Processing, §4.2 Create Term Definition and §5.2 IRI Expansion; step numbers in comments refer to it.

Why our own processor rather than pyld: pyld 3.3 takes ~0.8 s just to expand a year of half-hourly
readings (and ~48 s to canonicalize it), and has no "safe mode"; the Data Integrity specification
requires an error whenever expansion would drop data. Active contexts here are immutable once built
and every derived context is cached on its parent, so a document with thousands of nodes processes
each distinct context once.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol

from .iri import GEN_DELIMS, KEYWORDS, has_keyword_form, is_absolute_iri, is_blank_node_id, resolve
from ..errors import JsonLdError

MAX_REMOTE_CONTEXTS = 32  # jsonld.js uses 10 for "maxActiveContexts"; a protected cycle needs far fewer


class ContextLoader(Protocol):
    """Returns the parsed JSON of a remote context document, or raises `DocumentLoaderError`."""

    def __call__(self, url: str) -> Any: ...


class _Absent:
    """Marks "no entry" where `None` is a meaningful value (a null language mapping, for instance)."""

    _instance: "_Absent | None" = None

    def __new__(cls) -> "_Absent":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()

_TERM_DEFINITION_KEYS = frozenset(
    {"@id", "@reverse", "@container", "@context", "@direction", "@index", "@language", "@nest", "@prefix", "@protected", "@type"}
)
_CONTAINER_KEYWORDS = frozenset({"@graph", "@id", "@index", "@language", "@list", "@set", "@type"})
_CONTEXT_ENTRY_KEYS = frozenset({"@base", "@direction", "@import", "@language", "@propagate", "@protected", "@version", "@vocab"})


class TermDefinition:
    """One term of an active context (JSON-LD 1.1 API §4.1, "term definition")."""

    __slots__ = (
        "iri", "prefix", "protected", "reverse", "type_mapping", "container", "language", "direction",
        "index", "nest", "context", "base_url",
    )

    def __init__(self) -> None:
        self.iri: str | None = None
        self.prefix = False
        self.protected = False
        self.reverse = False
        self.type_mapping: str | None = None
        self.container: frozenset[str] = frozenset()
        self.language: Any = ABSENT  # ABSENT, None (explicitly no language) or a lower-cased tag
        self.direction: Any = ABSENT  # ABSENT, None, "ltr" or "rtl"
        self.index: str | None = None
        self.nest: str | None = None
        self.context: Any = ABSENT  # the unprocessed scoped context, if any
        self.base_url: str | None = None

    def same_as(self, other: "TermDefinition") -> bool:
        """Equality ignoring `protected`, as the protected-term redefinition check needs (§4.2.2 step 28)."""
        return (
            self.iri == other.iri
            and self.prefix == other.prefix
            and self.reverse == other.reverse
            and self.type_mapping == other.type_mapping
            and self.container == other.container
            and self.language == other.language
            and self.direction == other.direction
            and self.index == other.index
            and self.nest == other.nest
            and _json_equal(self.context, other.context)
        )


def _json_equal(a: Any, b: Any) -> bool:
    if a is b:
        return True
    return type(a) is type(b) and a == b


class ActiveContext:
    """An immutable active context. Derived contexts are cached on the context they derive from."""

    __slots__ = (
        "terms", "base", "original_base", "vocab", "default_language", "default_direction", "previous",
        "_derived", "_vocab_iris", "_has_protected", "_plans", "_vocab_values", "_iri_terms", "_value_problems",
    )

    def __init__(self, base: str | None = None) -> None:
        self.terms: dict[str, TermDefinition | None] = {}
        self.base = base
        self.original_base = base
        self.vocab: str | None = None
        self.default_language: str | None = None
        self.default_direction: str | None = None
        self.previous: ActiveContext | None = None
        self._derived: dict[Any, tuple[Any, ActiveContext]] = {}
        self._vocab_iris: dict[str, str | None] = {}
        self._has_protected: bool | None = None
        self._plans: dict[str, KeyPlan] = {}
        self._vocab_values: dict[str, Any] = {}
        self._iri_terms: dict[str, tuple[str, ...]] | None = None
        self._value_problems: dict[str, str | None] = {}

    def copy(self) -> "ActiveContext":
        new = ActiveContext.__new__(ActiveContext)
        new.terms = dict(self.terms)
        new.base = self.base
        new.original_base = self.original_base
        new.vocab = self.vocab
        new.default_language = self.default_language
        new.default_direction = self.default_direction
        new.previous = self.previous
        new._derived = {}
        new._vocab_iris = {}
        new._has_protected = None
        new._plans = {}
        new._vocab_values = {}
        new._iri_terms = None
        new._value_problems = {}
        return new

    def has_protected_terms(self) -> bool:
        if self._has_protected is None:
            self._has_protected = any(t is not None and t.protected for t in self.terms.values())
        return self._has_protected

    def term(self, name: str) -> TermDefinition | None:
        return self.terms.get(name)

    def expand_vocab(self, value: str) -> str | None:
        """IRI expansion with vocab=true (§5.2.2), cached: the hot path of expansion is keys and types."""
        try:
            return self._vocab_iris[value]
        except KeyError:
            if len(self._vocab_iris) > _CACHE_LIMIT:
                self._vocab_iris.clear()
            result = expand_iri(self, value, vocab=True)
            self._vocab_iris[value] = result
            return result

    def expand_vocab_value(self, value: str) -> Any:
        """IRI expansion of a `@type: @vocab` value (vocab and document-relative), cached."""
        try:
            return self._vocab_values[value]
        except KeyError:
            if len(self._vocab_values) > _CACHE_LIMIT:
                self._vocab_values.clear()
            result = expand_iri(self, value, vocab=True, document_relative=True)
            self._vocab_values[value] = result
            return result

    def terms_for(self, iri: str | None) -> tuple[str, ...]:
        """The terms of this context whose IRI (or keyword, for an alias) is `iri`, built once per context."""
        if self._iri_terms is None:
            by_iri: dict[str, list[str]] = {}
            for name, definition in self.terms.items():
                if definition is not None and definition.iri is not None:
                    by_iri.setdefault(definition.iri, []).append(name)
            self._iri_terms = {iri_: tuple(sorted(names)) for iri_, names in by_iri.items()}
        return self._iri_terms.get(iri, ()) if iri is not None else ()

    def vocab_value_problem(self, value: str) -> str | None:
        """Why the type (or `@type: @vocab` value) `value` is not in plain compacted form, or None; cached.

        A type written as a full or compact IRI for which this context has a term, or a term that shares its
        IRI with another term, names the same RDF class as the plain term but not the same JSON string:
        checks that read JSON (`type == "BitstringStatusListEntry"`) would then misread a signed document.
        """
        try:
            return self._value_problems[value]
        except KeyError:
            if len(self._value_problems) > _CACHE_LIMIT:
                self._value_problems.clear()
            definition = self.terms.get(value)
            if definition is None:
                terms = self.terms_for(expand_iri(self, value, vocab=True, document_relative=True))
                problem = f"{value!r} is written out, but the @context defines the term {terms[0]!r} for it: write {terms[0]!r}" if terms else None
            else:
                others = [t for t in self.terms_for(definition.iri) if t != value]
                problem = _ambiguous(value, others[0], definition.iri) if others else None
            self._value_problems[value] = problem
            return problem

    def plan(self, key: str) -> "KeyPlan":
        """How to expand the entries of `key` in this context; cached, since keys repeat in every node."""
        plan = self._plans.get(key)
        if plan is None:
            if len(self._plans) > _CACHE_LIMIT:
                self._plans.clear()  # contexts are shared across documents: keep what hostile keys can add bounded
            plan = self._plans[key] = KeyPlan(self, key)
        return plan

    def derive(
        self,
        local: Any,
        loader: ContextLoader,
        base_url: str | None,
        *,
        override_protected: bool = False,
        propagate: bool = True,
        remote_contexts: tuple[str, ...] = (),
        validate_scoped: bool = True,
        cache: bool = True,
    ) -> "ActiveContext":
        """Context Processing (§4.1.2), memoised on this context.

        What is memoised must outlive the documents that use it: a context URL (keyed by the identity of the
        document the loader returns for it, so another loader cannot get a stale answer) and the scoped
        contexts of term definitions (objects owned by the context documents). A document's own inline
        context is processed with `cache=False`, so a long-running service does not keep every request's
        context alive.
        """
        flags = (base_url, override_protected, propagate, validate_scoped)
        if isinstance(local, str):
            identity: Any = loader(resolve(local, base_url))
            key: Any = ("url", local, id(identity), *flags)
        else:
            identity = local
            key = (id(local) if isinstance(local, (dict, list)) else local, *flags)
        if cache:
            hit = self._derived.get(key)
            if hit is not None and hit[0] is identity:
                return hit[1]
        result = process_context(
            self,
            local,
            loader,
            base_url,
            remote_contexts=list(remote_contexts),
            override_protected=override_protected,
            propagate=propagate,
            validate_scoped=validate_scoped,
        )
        if cache:
            # The identity object is kept in the entry so that its id() cannot be reused by another object.
            self._derived[key] = (identity, result)
        return result


_CACHE_LIMIT = 4096
_INITIAL_CONTEXTS: dict[str | None, ActiveContext] = {}


def initial_context(base: str | None = None) -> ActiveContext:
    """The empty active context for documents with this base IRI, shared so that derived contexts are reused."""
    context = _INITIAL_CONTEXTS.get(base)
    if context is None:
        if len(_INITIAL_CONTEXTS) > 64:
            _INITIAL_CONTEXTS.clear()
        context = _INITIAL_CONTEXTS[base] = ActiveContext(base)
    return context


class KeyPlan:
    """What a key means in one active context, worked out once per (context, key).

    `simple` marks the common case — a property with no scoped context, no container other than
    @set, not reverse, not @json — whose scalar values can be expanded without the general algorithm.
    """

    __slots__ = ("expanded", "definition", "is_keyword", "valid", "simple", "type_mapping", "language", "direction", "plain_problem")

    def __init__(self, active: "ActiveContext", key: str) -> None:
        expanded = active.expand_vocab(key)
        self.expanded = expanded
        self.definition = definition = active.terms.get(key)
        self.is_keyword = expanded in KEYWORDS
        self.valid = expanded is not None and (self.is_keyword or is_absolute_iri(expanded))
        self.simple = (
            self.valid
            and not self.is_keyword
            and (
                definition is None
                or (
                    definition.context is ABSENT
                    and definition.container <= _SET_ONLY
                    and not definition.reverse
                    and definition.type_mapping != "@json"
                )
            )
        )
        self.type_mapping = definition.type_mapping if definition is not None else None
        language = definition.language if definition is not None else ABSENT
        self.language = active.default_language if language is ABSENT else language
        direction = definition.direction if definition is not None else ABSENT
        self.direction = active.default_direction if direction is ABSENT else direction
        self.plain_problem = _plain_key_problem(active, key, expanded, definition) if self.valid else None


# Keywords that move or regroup statements without a term saying so: the same RDF can be written with a
# node's properties somewhere else in the JSON (in @included, under @nest, from the other end with @reverse,
# in a top-level @graph), where a check that reads the JSON by term name would not look.
_REGROUPING_KEYWORDS = frozenset({"@nest", "@included", "@reverse", "@graph", "@set"})


def _plain_key_problem(active: "ActiveContext", key: str, expanded: str | None, definition: TermDefinition | None) -> str | None:
    """Why `key` is not how a JSON-LD compactor would write this property with this context, or None.

    Plain compacted form is the one form in which reading a JSON key is reading the signed statement: each
    IRI has exactly one key (its term), keywords are written through their aliases, and nothing is
    regrouped. Checked once per (context, key) and enforced by expansion in plain mode.
    """
    if expanded in _REGROUPING_KEYWORDS:
        return f"{key!r} ({expanded}) regroups statements; a signed credential must write each property on its own node"
    if definition is None:
        aliases = active.terms_for(expanded)
        if expanded in ("@id", "@type") and aliases:
            return f"{key!r} is written as a keyword, but the @context defines {aliases[0]!r} for it: write {aliases[0]!r}"
        if aliases and expanded not in KEYWORDS:
            return f"{key!r} is written out, but the @context defines the term {aliases[0]!r} for {expanded}: write {aliases[0]!r}"
        return None
    if definition.reverse:
        return f"the term {key!r} is a reverse property; a signed credential must state properties from their subject"
    others = [t for t in active.terms_for(definition.iri) if t != key]
    if others:
        return _ambiguous(key, others[0], definition.iri)
    return None


def _ambiguous(term: str, other: str, iri: str | None) -> str:
    return (
        f"the @context in force gives {iri} two terms, {term!r} and {other!r}, so the JSON can say one thing "
        "and the signed statements another; a signed credential's contexts must give each IRI one term"
    )


_SET_ONLY = frozenset({"@set"})


def process_context(
    active: ActiveContext,
    local: Any,
    loader: ContextLoader,
    base_url: str | None,
    *,
    remote_contexts: list[str],
    override_protected: bool = False,
    propagate: bool = True,
    validate_scoped: bool = True,
) -> ActiveContext:
    """Context Processing Algorithm (§4.1.2)."""
    result = active.copy()  # step 1
    if isinstance(local, dict) and "@propagate" in local:  # step 2
        propagate = local["@propagate"]
        if not isinstance(propagate, bool):
            raise JsonLdError("@propagate must be true or false", jsonld_code="invalid @propagate value")
    if not propagate and result.previous is None:  # step 3
        result.previous = active
    contexts = local if isinstance(local, list) else [local]  # step 4
    for context in contexts:  # step 5
        if context is None:  # 5.1
            if not override_protected and result.has_protected_terms():
                raise JsonLdError(
                    "a null context would remove protected term definitions", jsonld_code="invalid context nullification"
                )
            previous = result
            result = ActiveContext(active.original_base)
            if not propagate:
                result.previous = previous
            continue
        if isinstance(context, str):  # 5.2
            url = resolve(context, base_url)
            if not validate_scoped and url in remote_contexts:
                continue
            if len(remote_contexts) > MAX_REMOTE_CONTEXTS:
                raise JsonLdError(f"too many nested remote contexts at {url}", jsonld_code="context overflow")
            document = loader(url)
            if not isinstance(document, dict) or "@context" not in document:
                raise JsonLdError(f"the document at {url} has no top-level @context", jsonld_code="invalid remote context")
            result = _derive_remote(result, document["@context"], loader, url, remote_contexts + [url], validate_scoped)
            continue
        if not isinstance(context, dict):  # 5.3
            raise JsonLdError(f"a context must be an object, a string or null, not {type(context).__name__}", jsonld_code="invalid local context")
        _apply_context_definition(result, context, loader, base_url, remote_contexts, override_protected, validate_scoped)
    return result


def _derive_remote(
    active: ActiveContext, context: Any, loader: ContextLoader, url: str, remote_contexts: list[str], validate_scoped: bool
) -> ActiveContext:
    # Remote contexts are immutable (hash-pinned), so their processed form can be cached by URL and by the
    # identity of the loaded document.
    key = ("remote", url, id(context), validate_scoped)
    hit = active._derived.get(key)
    if hit is not None and hit[0] is context:
        return hit[1]
    result = process_context(active, context, loader, url, remote_contexts=remote_contexts, validate_scoped=validate_scoped)
    active._derived[key] = (context, result)
    return result


def _apply_context_definition(
    result: ActiveContext,
    context: dict[str, Any],
    loader: ContextLoader,
    base_url: str | None,
    remote_contexts: list[str],
    override_protected: bool,
    validate_scoped: bool,
) -> None:
    if "@version" in context and context["@version"] != 1.1:  # 5.5
        raise JsonLdError(f"@version must be 1.1, not {context['@version']!r}", jsonld_code="invalid @version value")
    if "@import" in context:  # 5.6
        value = context["@import"]
        if not isinstance(value, str):
            raise JsonLdError("@import must be a string", jsonld_code="invalid @import value")
        url = resolve(value, base_url)
        document = loader(url)
        imported = document.get("@context") if isinstance(document, dict) else None
        if not isinstance(imported, dict):
            raise JsonLdError(f"the document at {url} has no @context object to import", jsonld_code="invalid remote context")
        if "@import" in imported:
            raise JsonLdError(f"the imported context at {url} itself has @import", jsonld_code="invalid context entry")
        context = {**imported, **context}
    if "@base" in context and not remote_contexts:  # 5.7
        value = context["@base"]
        if value is None:
            result.base = None
        elif isinstance(value, str) and is_absolute_iri(value):
            result.base = value
        elif isinstance(value, str) and result.base is not None:
            result.base = resolve(value, result.base)
        else:
            raise JsonLdError(f"@base {value!r} is not an IRI", jsonld_code="invalid base IRI")
    if "@vocab" in context:  # 5.8
        value = context["@vocab"]
        if value is None:
            result.vocab = None
        elif isinstance(value, str):
            vocab = expand_iri(result, value, vocab=True, document_relative=True)
            if vocab is None or not (is_absolute_iri(vocab) or is_blank_node_id(vocab)):
                raise JsonLdError(f"@vocab {value!r} is not an IRI", jsonld_code="invalid vocab mapping")
            result.vocab = vocab
        else:
            raise JsonLdError("@vocab must be a string or null", jsonld_code="invalid vocab mapping")
    if "@language" in context:  # 5.9
        value = context["@language"]
        if value is None:
            result.default_language = None
        elif isinstance(value, str):
            result.default_language = value.lower()  # jsonld.js lower-cases language tags; so do we
        else:
            raise JsonLdError("@language must be a string or null", jsonld_code="invalid default language")
    if "@direction" in context:  # 5.10
        value = context["@direction"]
        if value is None or value in ("ltr", "rtl"):
            result.default_direction = value
        else:
            raise JsonLdError('@direction must be "ltr", "rtl" or null', jsonld_code="invalid base direction")
    if "@propagate" in context and not isinstance(context["@propagate"], bool):  # 5.11
        raise JsonLdError("@propagate must be true or false", jsonld_code="invalid @propagate value")
    protected = context.get("@protected", False)
    if not isinstance(protected, bool):
        raise JsonLdError("@protected must be true or false", jsonld_code="invalid @protected value")
    defined: dict[str, bool] = {}  # 5.12
    for term in context:  # 5.13
        if term in _CONTEXT_ENTRY_KEYS:
            continue
        create_term_definition(
            result, context, term, defined, loader, base_url, protected, override_protected, remote_contexts, validate_scoped
        )
    result._vocab_iris = {}
    result._vocab_values = {}
    result._plans = {}
    result._derived = {}
    result._has_protected = None


def create_term_definition(
    active: ActiveContext,
    local: dict[str, Any],
    term: str,
    defined: dict[str, bool],
    loader: ContextLoader,
    base_url: str | None,
    protected: bool = False,
    override_protected: bool = False,
    remote_contexts: list[str] | None = None,
    validate_scoped: bool = True,
) -> None:
    """Create Term Definition (§4.2.2)."""
    state = defined.get(term)
    if state is True:  # step 1
        return
    if state is False:
        raise JsonLdError(f"the term {term!r} is defined in terms of itself", jsonld_code="cyclic IRI mapping")
    if term == "":  # step 2
        raise JsonLdError("the empty string cannot be a term", jsonld_code="invalid term definition")
    defined[term] = False
    value = local[term]  # step 3
    if term == "@type":  # step 4
        if not (
            isinstance(value, dict)
            and value
            and set(value) <= {"@container", "@protected"}
            and value.get("@container", "@set") == "@set"
        ):
            raise JsonLdError("@type may only be given @container: @set and @protected", jsonld_code="keyword redefinition")
    elif term in KEYWORDS:  # step 5
        raise JsonLdError(f"the keyword {term!r} cannot be redefined", jsonld_code="keyword redefinition")
    elif has_keyword_form(term):
        defined[term] = True  # reserved for future keywords: ignored, as the specification says
        return
    previous = active.terms.pop(term, None)  # step 6
    simple_term = False
    if value is None:  # step 7
        value = {"@id": None}
    elif isinstance(value, str):  # step 8
        value = {"@id": value}
        simple_term = True
    elif not isinstance(value, dict):  # step 9
        raise JsonLdError(f"the definition of {term!r} must be a string, an object or null", jsonld_code="invalid term definition")
    definition = TermDefinition()  # step 10
    if "@protected" in value:  # step 11
        if not isinstance(value["@protected"], bool):
            raise JsonLdError(f"@protected of {term!r} must be true or false", jsonld_code="invalid @protected value")
        definition.protected = value["@protected"]
    else:
        definition.protected = protected
    if "@type" in value:  # step 12
        type_value = value["@type"]
        if not isinstance(type_value, str):
            raise JsonLdError(f"@type of {term!r} must be a string", jsonld_code="invalid type mapping")
        expanded_type = expand_iri(active, type_value, vocab=True, local=local, defined=defined, loader=loader, base_url=base_url)
        if expanded_type not in ("@id", "@vocab", "@json", "@none") and not (
            expanded_type is not None and is_absolute_iri(expanded_type) and not is_blank_node_id(expanded_type)
        ):
            raise JsonLdError(f"@type of {term!r} expands to {expanded_type!r}, which is not an IRI", jsonld_code="invalid type mapping")
        definition.type_mapping = expanded_type
    if "@reverse" in value:  # step 13
        if "@id" in value or "@nest" in value:
            raise JsonLdError(f"{term!r} has @reverse together with @id or @nest", jsonld_code="invalid reverse property")
        reverse = value["@reverse"]
        if not isinstance(reverse, str):
            raise JsonLdError(f"@reverse of {term!r} must be a string", jsonld_code="invalid IRI mapping")
        if has_keyword_form(reverse):
            defined[term] = True
            return
        iri = expand_iri(active, reverse, vocab=True, local=local, defined=defined, loader=loader, base_url=base_url)
        if iri is None or not (is_absolute_iri(iri) or is_blank_node_id(iri)) or iri in KEYWORDS:
            raise JsonLdError(f"@reverse of {term!r} does not expand to an IRI", jsonld_code="invalid IRI mapping")
        definition.iri = iri
        if "@container" in value:
            container = value["@container"]
            if container not in ("@set", "@index", None):
                raise JsonLdError(f"a reverse property's container must be @set or @index ({term!r})", jsonld_code="invalid reverse property")
            definition.container = frozenset([container]) if container else frozenset()
        definition.reverse = True
        _finish(active, term, definition, previous, defined, override_protected)
        return
    if "@id" in value and value["@id"] != term:  # step 15
        id_value = value["@id"]
        if id_value is None:
            definition.iri = None
        else:
            if not isinstance(id_value, str):
                raise JsonLdError(f"@id of {term!r} must be a string", jsonld_code="invalid IRI mapping")
            if id_value not in KEYWORDS and has_keyword_form(id_value):
                defined[term] = True
                return
            iri = expand_iri(active, id_value, vocab=True, local=local, defined=defined, loader=loader, base_url=base_url)
            if iri is None or not (iri in KEYWORDS or is_absolute_iri(iri) or is_blank_node_id(iri)):
                raise JsonLdError(f"@id of {term!r} does not expand to an IRI or keyword", jsonld_code="invalid IRI mapping")
            if iri == "@context":
                raise JsonLdError("@context cannot be aliased", jsonld_code="invalid keyword alias")
            definition.iri = iri
            colon = term.find(":", 1)
            if (0 < colon < len(term) - 1) or "/" in term:
                defined[term] = True
                if expand_iri(active, term, vocab=True, local=local, defined=defined, loader=loader, base_url=base_url) != iri:
                    raise JsonLdError(
                        f"the term {term!r} looks like an IRI but is mapped to a different IRI {iri!r}", jsonld_code="invalid IRI mapping"
                    )
            if ":" not in term and "/" not in term and simple_term and (iri[-1:] in GEN_DELIMS or is_blank_node_id(iri)):
                definition.prefix = True
    elif ":" in term[1:]:  # step 16
        prefix, _, suffix = term.partition(":")
        if prefix in local:
            create_term_definition(active, local, prefix, defined, loader, base_url, protected, override_protected, remote_contexts, validate_scoped)
        prefix_definition = active.terms.get(prefix)
        if prefix_definition is not None and prefix_definition.iri is not None:
            definition.iri = prefix_definition.iri + suffix
        else:
            definition.iri = term
    elif "/" in term:  # step 17
        iri = expand_iri(active, term, vocab=True, local=local, defined=defined, loader=loader, base_url=base_url)
        if iri is None or not is_absolute_iri(iri):
            raise JsonLdError(f"the term {term!r} does not expand to an IRI", jsonld_code="invalid IRI mapping")
        definition.iri = iri
    elif term == "@type":  # step 18
        definition.iri = "@type"
    elif active.vocab is not None:  # step 19
        definition.iri = active.vocab + term
    else:
        raise JsonLdError(f"the term {term!r} has no @id and the context has no @vocab", jsonld_code="invalid IRI mapping")
    if "@container" in value:  # step 20
        definition.container = _container_mapping(term, value["@container"])
        if "@type" in definition.container:
            if definition.type_mapping is None:
                definition.type_mapping = "@id"
            elif definition.type_mapping not in ("@id", "@vocab"):
                raise JsonLdError(f"a @type container needs @type @id or @vocab ({term!r})", jsonld_code="invalid type mapping")
    if "@index" in value:  # step 21
        index = value["@index"]
        if "@index" not in definition.container or not isinstance(index, str) or index.startswith("@"):
            raise JsonLdError(f"@index of {term!r} needs an @index container and a property name", jsonld_code="invalid term definition")
        definition.index = index
    if "@context" in value:  # step 22
        scoped = value["@context"]
        try:
            active.derive(scoped, loader, base_url, override_protected=True, remote_contexts=tuple(remote_contexts or ()), validate_scoped=False)
        except JsonLdError as exc:
            raise JsonLdError(f"the scoped context of {term!r} is invalid: {exc.message}", jsonld_code="invalid scoped context") from exc
        definition.context = scoped
        definition.base_url = base_url
    if "@language" in value and "@type" not in value:  # step 23
        language = value["@language"]
        if language is not None and not isinstance(language, str):
            raise JsonLdError(f"@language of {term!r} must be a string or null", jsonld_code="invalid language mapping")
        definition.language = language.lower() if isinstance(language, str) else None
    if "@direction" in value and "@type" not in value:  # step 24
        direction = value["@direction"]
        if direction not in (None, "ltr", "rtl"):
            raise JsonLdError(f'@direction of {term!r} must be "ltr", "rtl" or null', jsonld_code="invalid base direction")
        definition.direction = direction
    if "@nest" in value:  # step 25
        nest = value["@nest"]
        if not isinstance(nest, str) or (nest in KEYWORDS and nest != "@nest"):
            raise JsonLdError(f"@nest of {term!r} must be a term", jsonld_code="invalid @nest value")
        definition.nest = nest
    if "@prefix" in value:  # step 26
        if ":" in term or "/" in term:
            raise JsonLdError(f"{term!r} cannot be a prefix: it contains ':' or '/'", jsonld_code="invalid term definition")
        if not isinstance(value["@prefix"], bool):
            raise JsonLdError(f"@prefix of {term!r} must be true or false", jsonld_code="invalid @prefix value")
        definition.prefix = value["@prefix"]
        if definition.prefix and definition.iri in KEYWORDS:
            raise JsonLdError(f"the keyword alias {term!r} cannot be a prefix", jsonld_code="invalid term definition")
    extra = set(value) - _TERM_DEFINITION_KEYS  # step 27
    if extra:
        raise JsonLdError(f"the definition of {term!r} has unknown entries {sorted(extra)}", jsonld_code="invalid term definition")
    _finish(active, term, definition, previous, defined, override_protected)


def _finish(
    active: ActiveContext,
    term: str,
    definition: TermDefinition,
    previous: TermDefinition | None,
    defined: dict[str, bool],
    override_protected: bool,
) -> None:
    if not override_protected and previous is not None and previous.protected:  # step 28
        if not definition.same_as(previous):
            raise JsonLdError(
                f"the protected term {term!r} cannot be redefined by a later context", jsonld_code="protected term redefinition"
            )
        definition = previous
    active.terms[term] = definition  # step 29
    defined[term] = True


def _container_mapping(term: str, container: Any) -> frozenset[str]:
    values = container if isinstance(container, list) else [container]
    if not values or not all(isinstance(v, str) and v in _CONTAINER_KEYWORDS for v in values):
        raise JsonLdError(f"invalid @container {container!r} for {term!r}", jsonld_code="invalid container mapping")
    items = frozenset(values)
    if len(values) > 1:
        ok = (
            ("@graph" in items and items <= {"@graph", "@id", "@index", "@set"})
            or ("@set" in items and items <= {"@set", "@index", "@graph", "@id", "@type", "@language"} and "@list" not in items)
        )
        if not ok or ("@list" in items) or len(items) != len(values):
            raise JsonLdError(f"invalid combination of containers {container!r} for {term!r}", jsonld_code="invalid container mapping")
    return items


def expand_iri(
    active: ActiveContext,
    value: Any,
    *,
    document_relative: bool = False,
    vocab: bool = False,
    local: dict[str, Any] | None = None,
    defined: dict[str, bool] | None = None,
    loader: Callable[[str], Any] | None = None,
    base_url: str | None = None,
) -> Any:
    """IRI Expansion (§5.2.2). Returns the IRI, a keyword, a blank node identifier, the value unchanged
    (when it can only be a relative reference) or None (when it is keyword-like and reserved)."""
    if value is None or value in KEYWORDS:  # step 1
        return value
    if has_keyword_form(value):  # step 2
        return None
    if local is not None and value in local and defined is not None and defined.get(value) is not True:  # step 3
        create_term_definition(active, local, value, defined, loader, base_url)  # type: ignore[arg-type]
    definition = active.terms.get(value)
    if definition is not None and definition.iri in KEYWORDS:  # step 4
        return definition.iri
    if vocab and value in active.terms:  # step 5
        return definition.iri if definition is not None else None
    colon = value.find(":", 1)
    if colon > 0:  # step 6
        prefix, suffix = value[:colon], value[colon + 1 :]
        if prefix == "_" or suffix.startswith("//"):
            return value
        if local is not None and prefix in local and defined is not None and defined.get(prefix) is not True:
            create_term_definition(active, local, prefix, defined, loader, base_url)  # type: ignore[arg-type]
        prefix_definition = active.terms.get(prefix)
        if prefix_definition is not None and prefix_definition.iri is not None and prefix_definition.prefix:
            return prefix_definition.iri + suffix
        if is_absolute_iri(value):
            return value
    if vocab and active.vocab is not None:  # step 7
        return active.vocab + value
    if document_relative:  # step 8
        return resolve(value, active.base)
    return value
