"""JSON-LD 1.1 expansion (§5.1 of the Processing Algorithms and API) with a strict ("safe") mode.

The control flow follows jsonld.js 9 (Digital Bazaar), the implementation most verifiers interoperate
with, including its few deliberate deviations from the letter of the specification (when a type-scoped
context is reverted; dropping node references under `@graph` containers), so that the RDF we sign is
the RDF they verify.

Strict mode turns every place where expansion would silently drop or leave relative some data into a
`StrictModeError` naming the term and its JSON path. These are the conditions jsonld.js's `safe` mode
rejects (its "not safe" event codes), which the VC Data Integrity specification requires a conforming
processor to treat as errors: data that does not reach the canonical RDF is not covered by the
signature and could be changed without anyone noticing.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import NOT_PLAIN, JsonLdError, StrictModeError
from .context import ABSENT, ActiveContext, ContextLoader
from .iri import KEYWORDS, has_keyword_form, is_absolute_iri, is_blank_node_id
from .context import expand_iri

_BCP47 = re.compile(r"^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$")
_EMPTY: frozenset[str] = frozenset()
_SCALARS = frozenset({str, int, float, bool})
Path = tuple[Any, ...]


def json_pointer(path: Path) -> str:
    """RFC 6901 pointer for a path of keys and indices, used in error messages."""
    if not path:
        return "/"
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _is_value(item: Any) -> bool:
    return isinstance(item, dict) and "@value" in item


def _is_list(item: Any) -> bool:
    return isinstance(item, dict) and "@list" in item


def _is_graph(item: Any) -> bool:
    return isinstance(item, dict) and "@graph" in item and set(item) <= {"@graph", "@id", "@index"}


def _is_node(item: Any) -> bool:
    return isinstance(item, dict) and not ("@value" in item or "@list" in item or "@set" in item)


def _add_value(target: dict[str, Any], key: str, value: Any) -> None:
    """Append to the array at `key`, flattening arrays (jsonld.js `addValue` with propertyIsArray)."""
    existing = target.get(key)
    if existing is None:
        existing = target[key] = []
    if isinstance(value, list):
        existing.extend(value)
    else:
        existing.append(value)


class LazyNodes:
    """The expansion of a long array of node objects (a year of readings), produced as it is read.

    Expanding 17,520 readings into ~150,000 dicts and lists before converting any of them to RDF keeps
    all of them in memory at once; the CPU caches then miss on every one (measured: the per-reading cost
    rose ~25% from 1,440 to 17,520 readings). Expanded one at a time as the RDF writer iterates, each
    reading's expansion is used while it is still in the cache and then freed, and its memory is reused
    by the next. Expansion is the same algorithm item by item (§5.1.2 step 5 expands array items
    independently); strict-mode errors surface while iterating, with the same paths. Iterable once.
    """

    MINIMUM = 256

    __slots__ = ("_expander", "_active", "_property", "_items", "_path")

    def __init__(self, expander: "Expander", active: ActiveContext, active_property: str, items: list[Any], path: Path) -> None:
        self._expander = expander
        self._active = active
        self._property = active_property
        self._items = items
        self._path = path

    def __iter__(self) -> Any:
        expand, active, prop, path = self._expander.expand, self._active, self._property, self._path
        for i, item in enumerate(self._items):
            expanded = expand(active, prop, item, path + (i,))
            if expanded is None:
                continue
            if isinstance(expanded, list):
                yield from expanded
            else:
                yield expanded


class Expander:
    """One expansion run: holds the loader, the strictness and the document's base IRI."""

    # When a list: every (JSON object, its expanded node object) pair is appended, so selective disclosure
    # (``selective_disclosure.py``) can give each node of the compact document the IRI its skolemization chose.
    node_sink: list[tuple[dict[str, Any], dict[str, Any]]] | None = None

    def __init__(
        self,
        loader: ContextLoader,
        *,
        strict: bool = True,
        base: str | None = None,
        lazy: bool = False,
        plain: bool | None = None,
        max_contexts: int | None = None,
    ) -> None:
        self.loader = loader
        self.strict = strict
        # `max_contexts`: the work budget of expansion itself (verifier/limits.py). Nested scoped contexts can
        # multiply active contexts with every path (a 156 KB tree made 8,191 of them); count the distinct ones.
        self.max_contexts = max_contexts
        self._last_context: ActiveContext | None = None
        self._contexts: dict[int, ActiveContext] = {}  # kept alive so that their ids are not reused
        # `plain` (on with strict unless asked otherwise): refuse JSON that is not in the contexts' plain
        # compacted form (see `_plain_key_problem`), because the verifier's checks read JSON by term name.
        self.plain = strict if plain is None else plain
        self.base = base
        # `lazy`: long arrays of node objects are expanded item by item as the consumer iterates them
        # (see `LazyNodes`); only for a consumer that reads the result once, as RDF conversion does.
        self.lazy = lazy

    # -- errors -------------------------------------------------------------------------------------

    def _unsafe(self, code: str, message: str, term: str, path: Path) -> None:
        """Raise in strict mode; otherwise the caller drops the data, as JSON-LD does."""
        if self.strict:
            raise StrictModeError(message, term=term, path=json_pointer(path), jsonld_code=code)

    def _not_plain(self, message: str, term: str, path: Path) -> None:
        if self.plain:
            raise StrictModeError(
                message + " (the same statements have one plain JSON form, and only that form is accepted for signing and verifying)",
                term=term,
                path=json_pointer(path),
                jsonld_code=NOT_PLAIN,
            )

    @staticmethod
    def _error(code: str, message: str, path: Path) -> JsonLdError:
        return JsonLdError(message, jsonld_code=code, path=json_pointer(path))

    # -- entry point ----------------------------------------------------------------------------------

    def expand_document(self, document: Any, active: ActiveContext) -> list[Any]:
        result = self.expand(active, None, document, ())
        if isinstance(result, dict) and set(result) == {"@graph"}:
            result = result["@graph"]
        if result is None:
            return []
        return result if isinstance(result, list) else [result]

    # -- §5.1.2 -----------------------------------------------------------------------------------------

    def expand(
        self,
        active: ActiveContext,
        active_property: str | None,
        element: Any,
        path: Path,
        inside_list: bool = False,
        inside_index: bool = False,
        type_scoped: ActiveContext | None = None,
    ) -> Any:
        if element is None:
            return None
        if active is not self._last_context and self.max_contexts is not None:
            self._count_context(active, path)
        if isinstance(element, list):
            definition = active.terms.get(active_property) if active_property is not None else None
            inside_list = inside_list or (definition is not None and "@list" in definition.container)
            result: list[Any] = []
            for i, item in enumerate(element):
                expanded = self.expand(active, active_property, item, path + (i,), inside_list, inside_index, type_scoped)
                if inside_list and isinstance(expanded, list):
                    expanded = {"@list": expanded}
                if expanded is None:
                    continue
                if isinstance(expanded, list):
                    result.extend(expanded)
                else:
                    result.append(expanded)
            return result
        if not isinstance(element, dict):
            if not inside_list and (active_property is None or active.expand_vocab(active_property) == "@graph"):
                self._unsafe(
                    "free-floating scalar",
                    f"the value {element!r} is not the value of any property, so JSON-LD would drop it",
                    str(element),
                    path,
                )
                return None
            return self.expand_value(active, active_property, element, path)
        return self._expand_map(active, active_property, element, path, inside_list, inside_index, type_scoped)

    def _count_context(self, active: ActiveContext, path: Path) -> None:
        self._last_context = active
        if id(active) not in self._contexts:
            self._contexts[id(active)] = active
            if self.max_contexts is not None and len(self._contexts) > self.max_contexts:
                from ..limits import DocumentLimits, too_many_contexts

                raise too_many_contexts(DocumentLimits(max_contexts=self.max_contexts), path)

    def _expand_map(
        self,
        active: ActiveContext,
        active_property: str | None,
        element: dict[str, Any],
        path: Path,
        inside_list: bool,
        inside_index: bool,
        type_scoped: ActiveContext | None,
    ) -> Any:
        loader = self.loader
        incoming = active
        expanded_active_property = active.expand_vocab(active_property) if active_property is not None else None
        property_definition = active.terms.get(active_property) if active_property is not None else None
        if type_scoped is None and active.previous is not None:
            type_scoped = active
        keys = sorted(element)
        # Revert a type-scoped context unless this is a value object or a node reference (§5.1.2 step 7).
        must_revert = not inside_index
        if must_revert and type_scoped is not None and len(keys) <= 2 and "@context" not in element:
            for key in keys:
                expanded_key = type_scoped.expand_vocab(key)
                if expanded_key == "@value":
                    must_revert = False
                    active = type_scoped
                    break
                if expanded_key == "@id" and len(keys) == 1:
                    must_revert = False
                    break
        if must_revert and active.previous is not None:
            active = active.previous
        if property_definition is not None and property_definition.context is not ABSENT:  # step 8
            active = active.derive(property_definition.context, loader, property_definition.base_url, override_protected=True)
        if "@context" in element:  # step 9
            active = self._apply_local_context(active, element["@context"])
        type_scoped = active  # step 10
        type_key = None
        for key in keys:  # step 11: type-scoped contexts, in lexicographic order of the types
            if active.expand_vocab(key) != "@type":
                continue
            type_key = type_key or key
            value = element[key]
            types = value if isinstance(value, list) else [value]
            if not all(isinstance(t, str) for t in types):
                raise self._error("invalid type value", '"@type" must be a string or an array of strings', path + (key,))
            for t in sorted(types) if len(types) > 1 else types:
                definition = type_scoped.terms.get(t)
                if definition is not None and definition.context is not ABSENT:
                    active = active.derive(definition.context, loader, definition.base_url, propagate=False)
        result: dict[str, Any] = {}
        self._expand_entries(active, active_property, expanded_active_property, element, keys, result, path, inside_list, type_key, type_scoped)
        finished = self._finish_map(active, active_property, expanded_active_property, result, path, inside_list)
        if self.plain and active_property is not None and len(element) <= 2 and isinstance(finished, dict):
            self._refuse_redundant_wrapper(incoming, active_property, element, finished, path)
        if self.node_sink is not None and _is_node(finished):
            self.node_sink.append((element, finished))
        return finished

    def _refuse_redundant_wrapper(
        self, active: ActiveContext, active_property: str, element: dict[str, Any], expanded: dict[str, Any], path: Path
    ) -> None:
        """Refuse `{"@value": v}` where the bare `v` would mean exactly the same.

        A compactor writes such a value bare; a wrapped one expands to the same statement but is not the
        string a JSON reader expects (`validUntil` as an object instead of a date), so it is refused. (An
        object holding only an `id` is left alone: the VC data model gives `issuer`, `credentialSubject` and
        others that object form, and the readers of URL-valued terms refuse what is not a string.)
        """
        if "@value" not in expanded or not set(expanded) <= {"@value", "@type"}:
            return
        bare: Any = expanded["@value"]
        if bare is None or isinstance(bare, (dict, list)):
            return
        if self.expand_value(active, active_property, bare, path) == expanded:
            shown = json_pointer(path)
            self._not_plain(f"the value at {shown} is wrapped in an object, but written bare it means the same: write {bare!r}", active_property, path)

    def _apply_local_context(self, active: ActiveContext, local: Any) -> ActiveContext:
        """A document's own @context: URLs one by one (their processing is shared across documents),
        inline objects without caching (they belong to this document only)."""
        for item in local if isinstance(local, list) else [local]:
            active = active.derive(item, self.loader, self.base, cache=not isinstance(item, (dict, list)))
        return active

    def _finish_map(
        self,
        active: ActiveContext,
        active_property: str | None,
        expanded_active_property: str | None,
        result: dict[str, Any],
        path: Path,
        inside_list: bool,
    ) -> Any:
        count = len(result)
        if "@value" in result:  # step 15
            if "@type" in result and ("@language" in result or "@direction" in result):
                raise self._error("invalid value object", "a value object cannot have both @type and @language or @direction", path)
            if set(result) - {"@value", "@type", "@index", "@language", "@direction"}:
                raise self._error(
                    "invalid value object", "a value object may only have @type, @language, @direction and @index besides @value", path
                )
            types = result.get("@type", [])
            if len(types) > 1:
                raise self._error("invalid typed value", "a value object can have only one @type", path)
            if types:
                result["@type"] = types[0]
            value = result["@value"]
            if types == ["@json"]:
                pass
            elif value is None:
                self._unsafe("null @value value", "a value object whose @value is null would be dropped", "@value", path)
                return None
            elif "@language" in result and not isinstance(value, str):
                raise self._error("invalid language-tagged value", "only strings can carry a @language", path)
            elif types and not (is_absolute_iri(types[0]) and not is_blank_node_id(types[0])):
                raise self._error("invalid typed value", f"the datatype {types[0]!r} of a value is not an absolute IRI", path)
        elif "@set" in result or "@list" in result:  # step 17
            if count > 1 and not (count == 2 and "@index" in result):
                raise self._error("invalid set or list object", "an object with @set or @list can only have @index besides it", path)
            if "@set" in result:
                return result["@set"]
        elif count == 1 and "@language" in result:  # step 18
            self._unsafe("object with only @language", "an object with only @language would be dropped", "@language", path)
            return None
        if not inside_list:
            container = _EMPTY
            if active_property is not None:
                definition = active.terms.get(active_property)
                container = definition.container if definition is not None else _EMPTY
            if active_property is None or expanded_active_property == "@graph" or "@graph" in container:
                return self._drop_unsafe_object(result, path)
        return result

    def _drop_unsafe_object(self, value: dict[str, Any], path: Path) -> dict[str, Any] | None:
        """Top-level (and graph-level) objects that JSON-LD drops: empty, bare values or lists, bare @id."""
        count = len(value)
        if count == 0:
            code, what = "empty object", "an empty object"
        elif "@value" in value:
            code, what = "object with only @value", "a value that is not the value of any property"
        elif "@list" in value:
            code, what = "object with only @list", "a list that is not the value of any property"
        elif count == 1 and "@id" in value:
            code, what = "object with only @id", f"a node reference {value['@id']!r} with no properties"
        else:
            return value
        self._unsafe(code, f"{what} at the top level of a graph would be dropped by JSON-LD", code, path)
        return None

    def _expand_entries(
        self,
        active: ActiveContext,
        active_property: str | None,
        expanded_active_property: str | None,
        element: dict[str, Any],
        keys: list[str],
        result: dict[str, Any],
        path: Path,
        inside_list: bool,
        type_key: str | None,
        type_scoped: ActiveContext,
    ) -> None:
        loader = self.loader
        nests: list[str] = []
        unexpanded_value: Any = None
        is_json_type = False
        if type_key is not None and element.get(type_key):
            first = element[type_key]
            first = first[0] if isinstance(first, list) else first
            is_json_type = isinstance(first, str) and active.expand_vocab(first) == "@json"
        for key in keys:
            if key == "@context":
                continue
            value = element[key]
            plan = active.plan(key)
            expanded_property = plan.expanded
            if plan.plain_problem is not None and self.plain and not (
                expanded_property == "@type" and any(active.expand_vocab(k) == "@value" for k in keys)
            ):
                self._not_plain(plan.plain_problem, key, path + (key,))
            if plan.simple:
                # Fast path for the common case (a plain property with scalar values): a year of readings
                # is ~70,000 of these, and the general algorithm below would reach the same result.
                cls = value.__class__
                if cls in _SCALARS:
                    expanded_scalar = self._simple_scalar(active, plan, value, path, key)
                    existing = result.get(expanded_property)
                    if existing is None:
                        result[expanded_property] = [expanded_scalar]
                    else:
                        existing.append(expanded_scalar)
                    continue
                if cls is list and all(item.__class__ in _SCALARS for item in value):
                    existing = result.setdefault(expanded_property, [])
                    for item in value:
                        existing.append(self._simple_scalar(active, plan, item, path, key))
                    continue
            if not plan.valid:
                self._unsafe(
                    "invalid property",
                    f"the term {key!r} is not defined by the @context in force here, so JSON-LD expansion would drop it; "
                    "define it in a context or remove it",
                    key,
                    path + (key,),
                )
                continue
            if plan.is_keyword:
                if expanded_active_property == "@reverse":
                    raise self._error("invalid reverse property map", "a keyword cannot be a @reverse property", path + (key,))
                if expanded_property in result and expanded_property not in ("@included", "@type"):
                    raise self._error("colliding keywords", f"{expanded_property} appears twice (through aliases)", path + (key,))
                if expanded_property == "@id":
                    if not isinstance(value, str):
                        raise self._error("invalid @id value", '"@id" must be a string', path + (key,))
                    expanded_id = expand_iri(active, value, document_relative=True)
                    if expanded_id is None:
                        self._unsafe("reserved @id value", f"the @id {value!r} looks like a keyword and would be dropped", value, path + (key,))
                    elif not is_absolute_iri(expanded_id):
                        self._unsafe(
                            "relative @id reference",
                            f"the @id {value!r} is a relative reference; identifiers in a signed document must be absolute IRIs",
                            value,
                            path + (key,),
                        )
                    result["@id"] = expanded_id
                    continue
                if expanded_property == "@type":
                    types = value if isinstance(value, list) else [value]
                    if not all(isinstance(t, str) for t in types):
                        raise self._error("invalid type value", '"@type" must be a string or an array of strings', path + (key,))
                    expanded_types = result.setdefault("@type", [])
                    for t in types:
                        if self.plain and type_scoped.vocab_value_problem(t) is not None:
                            self._not_plain(type_scoped.vocab_value_problem(t) or "", t, path + (key,))
                        expanded_type = expand_iri(type_scoped, t, vocab=True, document_relative=True)
                        if expanded_type != "@json" and (expanded_type is None or not is_absolute_iri(expanded_type)):
                            self._unsafe(
                                "relative @type reference",
                                f"the type {t!r} is not defined by the @context in force here, so it would not be an IRI",
                                t,
                                path + (key,),
                            )
                        expanded_types.append(expanded_type)
                    continue
                if expanded_property == "@included":
                    included = self.expand(active, active_property, value, path + (key,))
                    included = included if isinstance(included, list) else [included]
                    if not all(_is_node(v) for v in included):
                        raise self._error("invalid @included value", "@included must contain node objects", path + (key,))
                    _add_value(result, "@included", included)
                    continue
                if expanded_property == "@graph" and not isinstance(value, (dict, list)):
                    raise self._error("invalid @graph value", '"@graph" must be an object or an array', path + (key,))
                if expanded_property == "@value":
                    unexpanded_value = value
                    result["@value"] = value
                    continue
                if expanded_property == "@language":
                    if value is None:
                        continue
                    if not isinstance(value, str):
                        raise self._error("invalid language-tagged string", '"@language" must be a string', path + (key,))
                    if not _BCP47.match(value):
                        self._unsafe("invalid @language value", f"{value!r} is not a BCP 47 language tag", value, path + (key,))
                    result["@language"] = value.lower()
                    continue
                if expanded_property == "@direction":
                    if value not in ("ltr", "rtl"):
                        raise self._error("invalid base direction", '"@direction" must be "ltr" or "rtl"', path + (key,))
                    result["@direction"] = value
                    continue
                if expanded_property == "@index":
                    if not isinstance(value, str):
                        raise self._error("invalid @index value", '"@index" must be a string', path + (key,))
                    result["@index"] = value
                    continue
                if expanded_property == "@reverse":
                    self._expand_reverse(active, value, result, path + (key,))
                    continue
                if expanded_property == "@nest":
                    nests.append(key)
                    continue
            # A property (or @graph / @list / @set): expand its value, honouring the term's container.
            definition = active.terms.get(key)
            term_active = active
            if definition is not None and definition.context is not ABSENT:
                term_active = active.derive(definition.context, loader, definition.base_url, override_protected=True)
            container = definition.container if definition is not None else _EMPTY
            value_path = path + (key,)
            if container and isinstance(value, dict) and ("@language" in container or "@index" in container or "@id" in container or "@type" in container):
                if "@language" in container:
                    term = term_active.terms.get(key)
                    direction = term.direction if term is not None and term.direction is not ABSENT else term_active.default_direction
                    expanded_value: Any = self._expand_language_map(term_active, value, direction, value_path)
                elif "@index" in container:
                    index_key = (term_active.terms.get(key).index if term_active.terms.get(key) else None) or "@index"  # type: ignore[union-attr]
                    property_index = active.expand_vocab(index_key) if index_key != "@index" else None
                    expanded_value = self._expand_index_map(term_active, key, value, "@graph" in container, index_key, property_index, value_path)
                elif "@id" in container:
                    expanded_value = self._expand_index_map(term_active, key, value, "@graph" in container, "@id", None, value_path)
                else:
                    reverted = term_active.previous if term_active.previous is not None else term_active
                    expanded_value = self._expand_index_map(reverted, key, value, False, "@type", None, value_path)
            elif expanded_property in ("@list", "@set"):
                next_property = active_property
                if expanded_property == "@list" and expanded_active_property == "@graph":
                    next_property = None
                expanded_value = self.expand(term_active, next_property, value, value_path, inside_list=expanded_property == "@list")
            elif definition is not None and definition.type_mapping == "@json":
                expanded_value = {"@type": "@json", "@value": value}
            elif (
                self.lazy
                and plan.simple
                and value.__class__ is list
                and len(value) >= LazyNodes.MINIMUM
                and expanded_property not in result
                and all(item.__class__ is dict for item in value)
            ):
                result[expanded_property] = LazyNodes(self, term_active, key, value, value_path)
                continue
            else:
                expanded_value = self.expand(term_active, key, value, value_path)
            if expanded_value is None:
                continue
            if "@list" in container and expanded_property != "@list" and not _is_list(expanded_value):
                expanded_value = {"@list": expanded_value if isinstance(expanded_value, list) else [expanded_value]}
            if "@graph" in container and "@id" not in container and "@index" not in container:
                items = expanded_value if isinstance(expanded_value, list) else [expanded_value]
                kept = []
                for item in items:
                    if self._drop_unsafe_object(item, value_path) is not None:
                        kept.append(item)
                if not kept:
                    continue
                expanded_value = [{"@graph": item if isinstance(item, list) else [item]} for item in kept]
            term = term_active.terms.get(key)
            if term is not None and term.reverse:
                reverse_map = result.setdefault("@reverse", {})
                for item in expanded_value if isinstance(expanded_value, list) else [expanded_value]:
                    if _is_value(item) or _is_list(item):
                        raise self._error("invalid reverse property value", "a reverse property's value must be a node", value_path)
                    _add_value(reverse_map, expanded_property, item)
                continue
            _add_value(result, expanded_property, expanded_value)
        if "@value" in result and not (is_json_type and "@type" in result) and isinstance(unexpanded_value, (dict, list)):
            raise self._error("invalid value object value", '"@value" must not be an object or an array', path)
        for nest_key in nests:
            nested_values = element[nest_key] if isinstance(element[nest_key], list) else [element[nest_key]]
            nest_definition = active.terms.get(nest_key)
            nest_active = active
            if nest_definition is not None and nest_definition.context is not ABSENT:  # §5.1.2 step 14.2.2 repeats step 8
                nest_active = active.derive(nest_definition.context, loader, nest_definition.base_url, override_protected=True)
            for nested in nested_values:
                if not isinstance(nested, dict) or any(nest_active.expand_vocab(k) == "@value" for k in nested):
                    raise self._error("invalid @nest value", "a nested value must be a node object", path + (nest_key,))
                self._expand_entries(
                    nest_active, active_property, expanded_active_property, nested, sorted(nested), result, path + (nest_key,), inside_list, type_key, type_scoped
                )

    def _expand_reverse(self, active: ActiveContext, value: Any, result: dict[str, Any], path: Path) -> None:
        if not isinstance(value, dict):
            raise self._error("invalid @reverse value", '"@reverse" must be an object', path)
        expanded = self.expand(active, "@reverse", value, path)
        if not isinstance(expanded, dict):
            return
        for prop, items in expanded.get("@reverse", {}).items():
            _add_value(result, prop, items)
        for prop, items in expanded.items():
            if prop == "@reverse":
                continue
            reverse_map = result.setdefault("@reverse", {})
            reverse_map.setdefault(prop, [])
            for item in items:
                if _is_value(item) or _is_list(item):
                    raise self._error("invalid reverse property value", "a reverse property's value must be a node", path)
                _add_value(reverse_map, prop, item)

    def _expand_language_map(self, active: ActiveContext, value: dict[str, Any], direction: str | None, path: Path) -> list[dict[str, Any]]:
        out = []
        for key in sorted(value):
            expanded_key = active.expand_vocab(key)
            items = value[key] if isinstance(value[key], list) else [value[key]]
            for item in items:
                if item is None:
                    continue
                if not isinstance(item, str):
                    raise self._error("invalid language map value", "the values of a language map must be strings", path + (key,))
                entry: dict[str, Any] = {"@value": item}
                if expanded_key != "@none":
                    if not _BCP47.match(key):
                        self._unsafe("invalid @language value", f"{key!r} is not a BCP 47 language tag", key, path + (key,))
                    entry["@language"] = key.lower()
                if direction:
                    entry["@direction"] = direction
                out.append(entry)
        return out

    def _expand_index_map(
        self,
        active: ActiveContext,
        active_property: str,
        value: dict[str, Any],
        as_graph: bool,
        index_key: str,
        property_index: str | None,
        path: Path,
    ) -> list[Any]:
        out: list[Any] = []
        is_type_index = index_key == "@type"
        for key in sorted(value):
            if is_type_index:
                definition = active.terms.get(key)
                if definition is not None and definition.context is not ABSENT:
                    active = active.derive(definition.context, self.loader, definition.base_url, propagate=False)
            items = value[key] if isinstance(value[key], list) else [value[key]]
            expanded_items = self.expand(active, active_property, items, path + (key,), inside_index=True)
            if property_index:
                expanded_key: Any = "@none" if key == "@none" else self.expand_value(active, index_key, key, path + (key,))
            else:
                expanded_key = active.expand_vocab(key)
            if index_key == "@id":
                key = expand_iri(active, key, document_relative=True)
            elif is_type_index:
                key = expanded_key
            for item in expanded_items:
                if as_graph and not _is_graph(item):
                    item = {"@graph": [item]}
                if is_type_index:
                    if expanded_key != "@none":
                        item["@type"] = [key] + item.get("@type", [])
                elif _is_value(item) and index_key not in ("@language", "@type", "@index"):
                    raise self._error("invalid value object", f"cannot add {index_key} to a value object", path + (key,))
                elif property_index:
                    if expanded_key != "@none":
                        item[property_index] = [expanded_key] + item.get(property_index, [])
                elif expanded_key != "@none" and index_key not in item:
                    item[index_key] = key
                out.append(item)
        return out

    def _simple_scalar(self, active: ActiveContext, plan: Any, value: Any, path: Path, key: str) -> dict[str, Any]:
        """Value Expansion (§5.3.2) specialised for a `KeyPlan.simple` term; same result as `expand_value`."""
        type_mapping = plan.type_mapping
        if value.__class__ is str:
            if type_mapping == "@id":
                expanded = expand_iri(active, value, document_relative=True)
                if expanded is None and has_keyword_form(value):
                    self._unsafe("reserved @id value", f"the identifier {value!r} looks like a keyword and would be dropped", value, path + (key,))
                return {"@id": expanded}
            if type_mapping == "@vocab":
                if self.plain and active.vocab_value_problem(value) is not None:
                    self._not_plain(active.vocab_value_problem(value) or "", value, path + (key,))
                return {"@id": active.expand_vocab_value(value)}
        if type_mapping is not None and type_mapping not in ("@id", "@vocab", "@none"):
            return {"@type": type_mapping, "@value": value}
        if value.__class__ is str:
            result: dict[str, Any] = {}
            if plan.language is not None:
                result["@language"] = plan.language
            if plan.direction is not None:
                result["@direction"] = plan.direction
            result["@value"] = value
            return result
        return {"@value": value}

    # -- §5.3.2 Value Expansion ----------------------------------------------------------------------------

    def expand_value(self, active: ActiveContext, active_property: str | None, value: Any, path: Path) -> Any:
        if value is None:
            return None
        expanded_property = active.expand_vocab(active_property) if active_property is not None else None
        if expanded_property == "@id":
            return expand_iri(active, value, document_relative=True)
        if expanded_property == "@type":
            return expand_iri(active, value, vocab=True, document_relative=True)
        definition = active.terms.get(active_property) if active_property is not None else None
        type_mapping = definition.type_mapping if definition is not None else None
        if isinstance(value, str):
            if type_mapping == "@id" or expanded_property == "@graph":
                expanded = expand_iri(active, value, document_relative=True)
                if expanded is None and has_keyword_form(value):
                    self._unsafe("reserved @id value", f"the identifier {value!r} looks like a keyword and would be dropped", value, path)
                return {"@id": expanded}
            if type_mapping == "@vocab":
                if self.plain and active.vocab_value_problem(value) is not None:
                    self._not_plain(active.vocab_value_problem(value) or "", value, path)
                return {"@id": expand_iri(active, value, vocab=True, document_relative=True)}
        if expanded_property in KEYWORDS:
            return value
        result: dict[str, Any] = {}
        if type_mapping is not None and type_mapping not in ("@id", "@vocab", "@none"):
            result["@type"] = type_mapping
        elif isinstance(value, str):
            language = definition.language if definition is not None and definition.language is not ABSENT else active.default_language
            if language is not None:
                result["@language"] = language
            direction = definition.direction if definition is not None and definition.direction is not ABSENT else active.default_direction
            if direction is not None:
                result["@direction"] = direction
        result["@value"] = value
        return result
