"""Fuzzing the spec loader and the path from CRD schemas to a model (bounded in time).

Whatever the input, the generator either produces a result or raises one of its typed
input errors (``SpecError``, ``ModelError``, ``FixupError``) -- the ones the CLI turns into
exit code 2 -- never another exception. Where a model results, its files are planned and
rendered (without black) and every rendered module must parse.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import gzip
import json
import os
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubecodegen.fixups import FixupError
from kubecodegen.generate import model_of
from kubecodegen.model.definitions import ModelError
from kubecodegen.render.env import make_environment
from kubecodegen.render.plan import plan_package
from kubecodegen.spec import LoadedSpec, SpecError, load_spec_bytes, validate_spec

_TYPED = (SpecError, ModelError, FixupError)
# A longer run for investigation: KUBECODEGEN_FUZZ_EXAMPLES=5000.
_FAST = settings(max_examples=int(os.environ.get("KUBECODEGEN_FUZZ_EXAMPLES", "120")),
                 deadline=None, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=12)

_CRD = "io.example.v1.Widget"
_GVK = {"group": "example.io", "version": "v1", "kind": "Widget"}


def _base_document() -> dict[str, Any]:
    """The corpus' minimal valid document plus one custom resource with an inline schema."""
    document: dict[str, Any] = json.loads(
        (Path(__file__).parent / "spec_corpus" / "valid_minimal.json").read_text("utf-8"))
    document["definitions"][_CRD] = {
        "type": "object", "x-kubernetes-group-version-kind": [_GVK],
        "properties": {
            "apiVersion": {"type": "string"}, "kind": {"type": "string"},
            "metadata": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"},
            "spec": {"type": "object", "required": ["size"], "properties": {
                "size": {"type": "integer"},
                "parts": {"type": "array", "items": {"type": "object", "properties": {
                    "name": {"type": "string"}, "when": {"type": "string", "format": "date-time"}}}},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "port": {"x-kubernetes-int-or-string": True}}},
        },
    }
    document["paths"]["/apis/example.io/v1/namespaces/{namespace}/widgets/{name}"] = {"get": {
        "responses": {"200": {"description": "OK", "schema": {"$ref": f"#/definitions/{_CRD}"}}},
        "x-kubernetes-action": "get", "x-kubernetes-group-version-kind": _GVK}}
    return document


BASE = _base_document()


def _pipeline(document: dict[str, Any]) -> None:
    """Validate, model, plan and render like ``generate`` (minus black), or raise a typed error."""
    try:
        spec = LoadedSpec("fuzz.json", document)
        validate_spec(spec)
        model = model_of(spec)
    except _TYPED:
        return
    environment = make_environment()
    for planned in plan_package(model, "fuzzpkg", "fuzz"):
        if planned.template is not None:
            source = environment.get_template(planned.template).render(**planned.context)
            ast.parse(source, planned.path)


def test_the_base_document_goes_all_the_way() -> None:
    validate_spec(LoadedSpec("base.json", BASE))
    model = model_of(LoadedSpec("base.json", BASE))
    assert any(s.name == "WidgetSpecParts" for s in model.structs.values())
    _pipeline(copy.deepcopy(BASE))


# --- the loader ----------------------------------------------------------------------------


@_FAST
@given(st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.builds(lambda prefix, data: prefix + data, st.sampled_from([b"", b"\xef\xbb\xbf", b"\x1f\x8b"]),
              st.binary(max_size=50)),
    json_values.map(lambda value: gzip.compress(json.dumps({"swagger": "2.0", "x": value}).encode())),
))
def test_any_bytes_load_or_raise_a_spec_error(data: bytes) -> None:
    try:
        loaded = load_spec_bytes(data, "fuzz.json")
    except SpecError:
        return
    assert isinstance(loaded.document, dict)
    with contextlib.suppress(SpecError):
        validate_spec(loaded)


# --- mutated documents -----------------------------------------------------------------------


def _nodes(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found.extend(_nodes(child, (*path, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(_nodes(child, (*path, index)))
    return found


_SCHEMA_KEYS = ["type", "items", "properties", "required", "$ref", "additionalProperties", "allOf",
                "format", "nullable", "default", "enum", "x-kubernetes-int-or-string",
                "x-kubernetes-group-version-kind", "x-kubernetes-preserve-unknown-fields",
                "x-kubernetes-action", "consumes", "parameters", "responses"]
_INTERESTING = st.sampled_from([
    "object", "array", "string", "integer", "list", "get", "post", f"#/definitions/{_CRD}",
    "#/definitions/nope", "#/parameters/nope", {"type": "array"}, {"$ref": f"#/definitions/{_CRD}"},
    {"type": "object", "properties": {"z": {}}}, [_GVK, _GVK], {"group": "", "version": "v1", "kind": "X"},
    ["size", "size"], {"200": {"description": "x"}}, 'a"b', "\\", "", [], {}])
mutations = st.lists(st.tuples(
    st.integers(min_value=0), st.sampled_from(["replace", "delete", "add"]),
    st.sampled_from(_SCHEMA_KEYS), st.one_of(_INTERESTING, json_values)), min_size=1, max_size=4)


def _mutate(document: dict[str, Any], steps: list[tuple[int, str, str, Any]]) -> dict[str, Any]:
    document = copy.deepcopy(document)
    for index, operation, key, value in steps:
        paths = _nodes(document)
        path = paths[index % len(paths)]
        parent: Any = document
        for token in path[:-1]:
            parent = parent[token]
        target = parent[path[-1]] if path else document
        if operation == "add" and isinstance(target, dict):
            target[key] = copy.deepcopy(value)
        elif operation == "delete" and path and isinstance(parent, dict):
            del parent[path[-1]]
        elif path:
            parent[path[-1]] = copy.deepcopy(value)
    return document


@_FAST
@given(mutations)
def test_a_mutated_spec_gives_a_model_or_a_typed_error(steps: list[tuple[int, str, str, Any]]) -> None:
    _pipeline(_mutate(BASE, steps))


# --- CRD schemas -------------------------------------------------------------------------------

_REFS = st.sampled_from([f"#/definitions/{_CRD}", "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
                         "#/definitions/missing", "#/parameters/x", "other.json#/a", "#/definitions/a~1b"])
_TYPES = st.sampled_from(["object", "array", "string", "integer", "number", "boolean", "null", "file"])
_FORMATS = st.sampled_from(["int32", "int64", "byte", "date-time", "int-or-string", "quantity", "uuid", ""])
property_names = st.one_of(st.text(max_size=8), st.sampled_from(
    ["apiVersion", "kind", "metadata", "class", "type", "__init__", "a\"b", "x\\y", "\n", "$ref", ""]))


def _schema_with(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={
        "type": _TYPES, "format": _FORMATS, "$ref": _REFS, "nullable": st.booleans(),
        "properties": st.dictionaries(property_names, children, max_size=4),
        "items": children, "additionalProperties": st.one_of(st.booleans(), children),
        "required": st.lists(property_names, max_size=3), "allOf": st.lists(children, max_size=2),
        "default": json_values, "enum": st.lists(json_values, max_size=3),
        "description": st.text(max_size=10), "x-kubernetes-int-or-string": st.booleans(),
        "x-kubernetes-preserve-unknown-fields": st.booleans(),
        "x-kubernetes-embedded-resource": st.booleans(),
    })


crd_schemas = st.recursive(_schema_with(st.just({})), lambda children: _schema_with(
    st.one_of(children, children, children, json_values)), max_leaves=25)


@_FAST
@given(crd_schemas, st.booleans())
def test_any_crd_schema_gives_a_model_or_a_typed_error(schema: dict[str, Any], as_root: bool) -> None:
    """The inline schemas a cluster serves for custom resources, however odd."""
    document = copy.deepcopy(BASE)
    if as_root:
        document["definitions"][_CRD] = {**schema, "x-kubernetes-group-version-kind": [_GVK]}
    else:
        document["definitions"][_CRD]["properties"]["spec"] = schema
    _pipeline(document)
