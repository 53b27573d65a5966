"""Check that a loaded document is a Swagger 2.0 spec the generator can turn into code.

Three passes, each stopping the run if it finds anything, because later passes assume
what earlier ones proved:

1. *version*: a Swagger 2.0 document at all (an OpenAPI v3 document gets its own hint);
2. *structure*: JSON Schema validation against ``swagger_schema.json`` (shapes and
   types of the keys the generator reads);
3. *semantics*: what a schema cannot express well -- every ``$ref`` resolves locally,
   definition names and path templates are sane, no GVK is claimed by two definitions,
   types and formats are ones the generator maps, arrays say what they hold, and no
   reference cycle would need a recursive type alias.

All problems of the failing pass are reported together (see :class:`SpecErrors`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from . import k8s_names
from .errors import SpecError, make_pointer, raise_collected, unescape_pointer_token
from .load import LoadedSpec, describe_json_type
from .paths import parse_resource_path

#: Schema ``type`` values the generator maps to Python types.
SUPPORTED_TYPES = frozenset({"object", "array", "string", "integer", "number", "boolean"})

#: Formats accepted per schema type.  The string formats are the ones the apiextensions
#: server accepts for CRDs plus the Swagger 2.0 ones; all but byte, date-time and
#: int-or-string are carried as plain ``str``.
SUPPORTED_FORMATS: dict[str, frozenset[str]] = {
    "integer": frozenset({"int32", "int64"}),
    "number": frozenset({"float", "double", "int32", "int64"}),
    "string": frozenset(
        {
            "byte",
            "binary",
            "password",
            "date",
            "date-time",
            "datetime",
            "duration",
            "int-or-string",
            "uri",
            "email",
            "hostname",
            "ipv4",
            "ipv6",
            "cidr",
            "mac",
            "uuid",
            "uuid3",
            "uuid4",
            "uuid5",
            "isbn",
            "isbn10",
            "isbn13",
            "creditcard",
            "ssn",
            "hexcolor",
            "rgbcolor",
            "bsonobjectid",
        }
    ),
}
_ANY_TYPE_FORMATS = frozenset().union(*SUPPORTED_FORMATS.values())

#: Definition names become module paths and class names, so only a tame alphabet is allowed.
DEFINITION_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")
_PATH_TEMPLATE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.-]*)\}")
_HTTP_METHODS = ("get", "put", "post", "patch", "delete", "head", "options")
_MAX_SHOWN = 80

Tokens = tuple[str | int, ...]


def validate_spec(spec: LoadedSpec) -> None:
    """Raise :class:`SpecError` (one problem) or :class:`SpecErrors` (several) if ``spec`` is unusable."""
    _check_version(spec)
    structural = list(_structural_errors(spec))
    raise_collected(spec.source, structural)
    raise_collected(spec.source, _SemanticChecker(spec).run())


# --- pass 1: version ------------------------------------------------------------------


def _check_version(spec: LoadedSpec) -> None:
    document = spec.document
    if "openapi" in document:
        raise SpecError(
            spec.source,
            "/openapi",
            f"this is an OpenAPI v3 document (openapi: {_show(document['openapi'])}); "
            "OpenAPI v3 is not supported by validate_spec, which checks Swagger 2.0 "
            "(what the API server serves at /openapi/v2): read a v3 document or folder with "
            "kubecodegen.spec.openapi_v3.load_any_spec, as --spec does",
        )
    version = document.get("swagger")
    if isinstance(version, str) and version != "2.0":
        raise SpecError(
            spec.source,
            "/swagger",
            f'unsupported swagger version {_show(version)}: expected "2.0"',
        )
    if version is not None and not isinstance(version, str):
        raise SpecError(
            spec.source,
            "/swagger",
            f'expected the string "2.0", got {describe_json_type(version)} ({_show(version)})',
        )


# --- pass 2: structure ----------------------------------------------------------------


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    text = resources.files(__package__).joinpath("swagger_schema.json").read_text("utf-8")
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _structural_errors(spec: LoadedSpec) -> Iterator[SpecError]:
    """One error per problem: jsonschema reports a ``required`` failure once per missing
    key, all with the same instance, so those are merged into one sentence per object."""
    seen: set[tuple[str, str]] = set()
    for error in _validator().iter_errors(spec.document):
        found = SpecError(spec.source, make_pointer(error.absolute_path), _describe(error))
        if (found.pointer, found.message) not in seen:
            seen.add((found.pointer, found.message))
            yield found


def _describe(error: ValidationError) -> str:
    """Turn a jsonschema error into a sentence saying what was expected at that spot."""
    keyword = error.validator
    expected: Any = error.validator_value
    instance: Any = error.instance
    if keyword == "type":
        wanted = [expected] if isinstance(expected, str) else list(expected)
        names = " or ".join(_TYPE_NAMES.get(name, name) for name in wanted)
        return f"expected {names}, got {describe_json_type(instance)}"
    if keyword == "required" and isinstance(instance, dict):
        missing = [key for key in expected if key not in instance]
        if len(missing) == 1:
            return f"missing required key {_show(missing[0])}"
        return f"missing required keys {', '.join(_show(key) for key in missing) or '?'}"
    if keyword == "const":
        return f"expected {_show(expected)}, got {_show(instance)}"
    if keyword == "enum":
        return f"expected one of {', '.join(_show(value) for value in expected)}; got {_show(instance)}"
    if keyword == "additionalProperties" and isinstance(instance, dict):
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        unexpected = ", ".join(_show(key) for key in _unexpected_keys(schema, instance))
        allowed = sorted(schema.get("properties", {}))
        patterns = schema.get("patternProperties", {})
        if allowed:
            extensions = " or x-* extensions" if "^x-" in patterns else ""
            return f"unexpected key {unexpected} (allowed: {', '.join(allowed)}{extensions})"
        if patterns:
            return f"unexpected key {unexpected} (allowed: HTTP status codes, default or x-* extensions)"
        return f"unexpected key {unexpected}"
    if keyword == "minLength" and expected == 1:
        return "expected a non-empty string"
    if keyword == "minimum":
        return f"expected a number >= {expected}, got {_show(instance)}"
    return _truncate(error.message)


_TYPE_NAMES = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
}


def _unexpected_keys(schema: Mapping[str, Any], instance: dict[str, Any]) -> list[str]:
    known = set(schema.get("properties", {}))
    patterns = [re.compile(pattern) for pattern in schema.get("patternProperties", {})]
    return sorted(
        key
        for key in instance
        if key not in known and not any(pattern.search(key) for pattern in patterns)
    )


# --- pass 3: semantics ----------------------------------------------------------------


@dataclass(frozen=True)
class _AliasEdge:
    """A reference met before the walk reached an object with properties (a struct)."""

    target: str
    pointer: str


class _SemanticChecker:
    """Walks a structurally valid document once and collects every semantic problem."""

    def __init__(self, spec: LoadedSpec) -> None:
        self.source = spec.source
        self.document = spec.document
        self.definitions: dict[str, Any] = spec.document["definitions"]
        self.parameters: dict[str, Any] = spec.document.get("parameters", {})
        self.errors: list[SpecError] = []
        self.alias_edges: dict[str, list[_AliasEdge]] = {}

    def run(self) -> list[SpecError]:
        self._check_info()
        for name, schema in self.definitions.items():
            self._check_definition_name(name)
            self.alias_edges[name] = []
            self._walk_schema(schema, ("definitions", name), owner=name)
        self._check_gvk_claims()
        self._check_alias_cycles()
        for name, parameter in self.parameters.items():
            self._walk_parameter(parameter, ("parameters", name))
        for path, item in self.document["paths"].items():
            self._check_path(path)
            self._walk_path_item(item, ("paths", path))
        return self.errors

    def _error(self, tokens: Tokens, message: str) -> None:
        self.errors.append(SpecError(self.source, make_pointer(tokens), message))

    # names and paths

    def _check_info(self) -> None:
        info = self.document.get("info", {})
        for key in ("title", "version"):
            value = info.get(key)
            if isinstance(value, str):
                problem = k8s_names.info_text_problem(value)
                if problem:
                    self._error(("info", key), f"info.{key} {_show(value)} {problem}")

    def _check_gvk(self, gvk: Mapping[str, Any], here: Tokens) -> None:
        """The group, version and kind of a GVK follow Kubernetes' name rules."""
        checks = (("group", k8s_names.group_problem), ("version", k8s_names.version_problem),
                  ("kind", k8s_names.kind_problem))
        for key, rule in checks:
            value = gvk.get(key)
            if isinstance(value, str):
                problem = rule(value)
                if problem:
                    self._error((*here, key), f"invalid {key} {_show(value)}: {problem}")

    def _check_path_names(self, path: str, tokens: Tokens) -> None:
        """The group, version, resource and subresource a resource path names."""
        parsed = parse_resource_path(path)
        if parsed is None:
            return
        checks = [("group", parsed.group, k8s_names.group_problem),
                  ("version", parsed.version, k8s_names.version_problem),
                  ("resource", parsed.plural, k8s_names.resource_problem)]
        if parsed.subresource is not None:
            checks.append(("subresource", parsed.subresource, k8s_names.subresource_problem))
        for what, value, rule in checks:
            problem = rule(value)
            if problem:
                self._error(tokens, f"path {_show(path)}: invalid {what} {_show(value)}: {problem}")

    def _check_definition_name(self, name: str) -> None:
        if not DEFINITION_NAME.fullmatch(name) or not name.isascii():
            self._error(
                ("definitions", name),
                f"invalid definition name {_show(name)}: names may contain only ASCII letters, "
                "digits, '.', '_' and '-' (and may not start with '.' or '-')",
            )

    def _check_path(self, path: str) -> None:
        tokens: Tokens = ("paths", path)
        if not path.startswith("/"):
            self._error(tokens, f"path {_show(path)} must start with '/'")
        if any(ch.isspace() or ch in "?#" for ch in path) or not path.isprintable():
            self._error(
                tokens, f"path {_show(path)} contains whitespace, '?', '#' or control characters"
            )
        leftover = _PATH_TEMPLATE.sub("", path)
        if "{" in leftover or "}" in leftover:
            self._error(
                tokens,
                f"path {_show(path)} has an unbalanced or malformed template: each parameter "
                "must be written '{name}' with a name of letters, digits, '_', '.' or '-'",
            )
            return
        self._check_path_names(path, tokens)
        seen: set[str] = set()
        for name in _PATH_TEMPLATE.findall(path):
            if name in seen:
                self._error(tokens, f"path {_show(path)} uses the parameter {{{name}}} twice")
            seen.add(name)

    # references

    def _resolve(self, ref: str, tokens: Tokens, section: str) -> str | None:
        """Return the name ``ref`` points to in ``#/<section>/``, or record why it does not."""
        where = (*tokens, "$ref")
        prefix = f"#/{section}/"
        if not ref.startswith("#"):
            self._error(
                where,
                f"non-local reference {_show(ref)}: only references into this document "
                f"({prefix}...) are supported",
            )
            return None
        if not ref.startswith(prefix) or "/" in ref[len(prefix) :]:
            self._error(where, f"reference {_show(ref)} must point to an entry of {prefix}")
            return None
        name = unescape_pointer_token(ref[len(prefix) :])
        table = self.definitions if section == "definitions" else self.parameters
        if name not in table:
            self._error(where, f"dangling reference: {_show(ref)} does not exist")
            return None
        return name

    # schemas

    def _walk_schema(self, root: dict[str, Any], tokens: Tokens, owner: str | None) -> None:
        """Check every schema node under ``root`` (iteratively: CRD schemas nest deeply).

        ``owner`` is the definition being walked; references reached before passing
        through an object with ``properties`` are recorded as alias edges of it.
        """
        stack: list[tuple[Any, Tokens, bool]] = [(root, tokens, owner is not None)]
        while stack:
            node, here, aliasing = stack.pop()
            if not isinstance(node, dict):  # additionalProperties: true/false
                continue
            ref = node.get("$ref")
            if ref is not None:
                target = self._resolve(ref, here, "definitions")
                if target is not None and aliasing and owner is not None:
                    self.alias_edges[owner].append(
                        _AliasEdge(target, make_pointer((*here, "$ref")))
                    )
            self._check_type_and_format(node, here)
            properties = node.get("properties")
            inner = aliasing and properties is None
            if properties is not None:
                for key, child in properties.items():
                    stack.append((child, (*here, "properties", key), False))
            if "items" in node:
                stack.append((node["items"], (*here, "items"), inner))
            if "additionalProperties" in node:
                stack.append((node["additionalProperties"], (*here, "additionalProperties"), inner))
            for keyword in ("allOf", "anyOf", "oneOf"):
                for index, child in enumerate(node.get(keyword, ())):
                    stack.append((child, (*here, keyword, index), inner))
            if "not" in node:
                stack.append((node["not"], (*here, "not"), False))

    def _check_type_and_format(self, node: dict[str, Any], here: Tokens) -> None:
        kind = node.get("type")
        if kind is not None and kind not in SUPPORTED_TYPES:
            self._error(
                (*here, "type"),
                f"unsupported type {_show(kind)}: expected one of {', '.join(sorted(SUPPORTED_TYPES))}",
            )
            return
        if kind == "array" and "items" not in node:
            self._error(here, "array schema has no 'items', so its element type is unknown")
        fmt = node.get("format")
        if fmt is None:
            return
        allowed = _ANY_TYPE_FORMATS if kind is None else SUPPORTED_FORMATS.get(kind, frozenset())
        if fmt not in allowed:
            for_type = "" if kind is None else f" for type {_show(kind)}"
            choices = ", ".join(sorted(allowed)) if allowed else "none"
            self._error(
                (*here, "format"),
                f"unsupported format {_show(fmt)}{for_type} (supported: {choices})",
            )

    # parameters and operations

    def _walk_parameter(self, parameter: dict[str, Any], here: Tokens) -> None:
        ref = parameter.get("$ref")
        if ref is not None:
            self._resolve(ref, here, "parameters")
            return
        if "schema" in parameter:
            self._walk_schema(parameter["schema"], (*here, "schema"), owner=None)
        if parameter.get("type") == "array" and "items" not in parameter:
            self._error(here, "array parameter has no 'items', so its element type is unknown")

    def _walk_path_item(self, item: dict[str, Any], here: Tokens) -> None:
        for index, parameter in enumerate(item.get("parameters", ())):
            self._walk_parameter(parameter, (*here, "parameters", index))
        for method in _HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            at: Tokens = (*here, method)
            gvk = operation.get("x-kubernetes-group-version-kind")
            if isinstance(gvk, dict):
                self._check_gvk(gvk, (*at, "x-kubernetes-group-version-kind"))
            for index, parameter in enumerate(operation.get("parameters", ())):
                self._walk_parameter(parameter, (*at, "parameters", index))
            for code, response in operation["responses"].items():
                if isinstance(response, dict) and "schema" in response:
                    self._walk_schema(
                        response["schema"], (*at, "responses", code, "schema"), owner=None
                    )

    # cross-definition checks

    def _check_gvk_claims(self) -> None:
        claims: dict[tuple[str, str, str], tuple[str, Tokens]] = {}
        for name, schema in self.definitions.items():
            for index, gvk in enumerate(schema.get("x-kubernetes-group-version-kind", ())):
                key = (gvk["group"], gvk["version"], gvk["kind"])
                here: Tokens = ("definitions", name, "x-kubernetes-group-version-kind", index)
                self._check_gvk(gvk, here)
                first = claims.setdefault(key, (name, here))
                if first[0] != name:
                    group, version, kind = key
                    api_version = f"{group}/{version}" if group else version
                    self._error(
                        here,
                        f"GVK {api_version}, Kind={kind} is claimed by two definitions: "
                        f"{_show(first[0])} and {_show(name)}",
                    )

    def _check_alias_cycles(self) -> None:
        for component in _strongly_connected(self.alias_edges):
            start = min(component)
            is_loop = len(component) > 1 or any(e.target == start for e in self.alias_edges[start])
            if not is_loop:
                continue
            cycle = _find_cycle(self.alias_edges, start, set(component))
            self._error(
                ("definitions", start),
                "reference cycle that never passes through an object with properties: "
                + " -> ".join(cycle)
                + " (it would need a recursive type alias; give one of them properties)",
            )


def _strongly_connected(graph: dict[str, list[_AliasEdge]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative so that long reference chains cannot hit the recursion limit."""
    index_of: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index_of:
            continue
        work: list[tuple[str, Iterator[_AliasEdge]]] = [(root, iter(graph[root]))]
        index_of[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            advanced = False
            for edge in edges:
                target = edge.target
                if target not in index_of:
                    index_of[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(graph.get(target, ()))))
                    advanced = True
                    break
                if target in on_stack:
                    low[node] = min(low[node], index_of[target])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index_of[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
    return components


def _find_cycle(graph: dict[str, list[_AliasEdge]], start: str, members: set[str]) -> list[str]:
    """A shortest cycle from ``start`` back to itself inside one strongly connected component."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for target in sorted({edge.target for edge in graph.get(node, ())}):
                if target == start:
                    chain = [node]
                    while chain[-1] != start:
                        chain.append(previous[chain[-1]])
                    return [*reversed(chain), start]
                if target in members and target not in previous:
                    previous[target] = node
                    following.append(target)
        frontier = following
    return [start, start]


def _show(value: object) -> str:
    """Quote a value from the document for a message, shortened and with control characters escaped."""
    text = json.dumps(value, ensure_ascii=True) if not isinstance(value, str) else repr(value)
    return _truncate(text)


def _truncate(text: str) -> str:
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."
