"""Validated JSON → frozen records: what parse keeps, what it refuses, and that records
alone are enough to build a model (the model never sees raw JSON)."""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from kubecodegen.fixups import document_facts, run_fixups
from kubecodegen.generate import model_of
from kubecodegen.model import build_model
from kubecodegen.model.types import ArrayOf, MapOf, Primitive, StructRef
from kubecodegen.spec import LoadedSpec, SpecError, load_spec, validate_spec
from kubecodegen.spec.crd_files import read_crd_paths
from kubecodegen.spec.crd_publish import merge_crds
from kubecodegen.spec.parse import parse_document
from kubecodegen.spec.records import Document, GroupVersionKind, Operation, Origin, PathItem, Schema

MODEL_DIR = Path(__file__).resolve().parents[2] / "generator" / "kubecodegen" / "model"
_THING = "com.example.v1.Thing"
CRD_YAML = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: things.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: things, singular: thing, kind: Thing, listKind: ThingList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
"""


def _document(definitions: dict[str, Any], paths: dict[str, Any] | None = None,
              parameters: dict[str, Any] | None = None) -> LoadedSpec:
    raw: dict[str, Any] = {"swagger": "2.0", "info": {"title": "T", "version": "v1.30.1"},
                           "paths": paths or {}, "definitions": definitions}
    if parameters is not None:
        raw["parameters"] = parameters
    return LoadedSpec("t.json", raw)


def test_a_schema_keeps_exactly_the_keywords_the_model_reads() -> None:
    spec = _document({_THING: {
        "type": "object", "description": "A thing.", "required": ["a"], "x-kubernetes-map-type": "atomic",
        "x-kubernetes-group-version-kind": [{"group": "example.com", "version": "v1", "kind": "Thing"}],
        "properties": {
            "b": {"allOf": [{"$ref": "#/definitions/com.example.v1.Other"}], "description": "see Other"},
            "a": {"type": "string", "pattern": "^x$", "enum": ["x"], "default": "x", "nullable": True},
            "m": {"type": "object", "additionalProperties": {}},
            "n": {"type": "object", "additionalProperties": {"type": "integer", "format": "int64"}},
            "l": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "map",
                  "x-kubernetes-list-map-keys": ["name"], "x-kubernetes-patch-merge-key": "name",
                  "x-kubernetes-patch-strategy": "merge"},
            "q": {"x-kubernetes-int-or-string": True, "x-kubernetes-preserve-unknown-fields": True,
                  "x-kubernetes-embedded-resource": True, "title": "ignored", "minimum": 1},
        }},
        "com.example.v1.Other": {"type": "object"}})
    validate_spec(spec)
    thing = parse_document(spec).definitions[_THING]
    assert thing.description == "A thing." and thing.required == ("a",) and thing.map_type == "atomic"
    assert thing.group_version_kinds == (GroupVersionKind("example.com", "v1", "Thing"),)
    assert thing.properties is not None and list(thing.properties) == ["b", "a", "m", "n", "l", "q"]
    b, a, m, n, lst, q = thing.properties.values()
    assert (b.ref, b.description, b.pointer) == ("com.example.v1.Other", "see Other", f"/definitions/{_THING}/properties/b")
    assert (a.type, a.pattern, a.enum, a.has_default, a.nullable) == ("string", "^x$", ("x",), True, True)
    assert m.additional_properties is True  # {} means any value
    assert isinstance(n.additional_properties, Schema) and n.additional_properties.format == "int64"
    assert n.additional_properties.pointer == f"/definitions/{_THING}/properties/n/additionalProperties"
    assert lst.items == Schema("", type="string") and lst.items.pointer.endswith("/l/items")
    assert (lst.list_type, lst.list_map_keys, lst.patch_merge_key, lst.patch_strategy) == \
        ("map", ("name",), "name", "merge")
    assert q.int_or_string and q.preserve_unknown_fields and q.embedded_resource
    assert q == Schema("/elsewhere", int_or_string=True, preserve_unknown_fields=True,
                       embedded_resource=True)  # title/minimum are not the model's business
    other = parse_document(spec).definitions["com.example.v1.Other"]
    assert other.properties is None and other.additional_properties is None


def test_records_are_frozen_and_read_only() -> None:
    document = parse_document(load_spec("builtin:v1.20"))
    pod = document.definitions["io.k8s.api.core.v1.Pod"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        pod.type = "string"  # type: ignore[misc]
    with pytest.raises(TypeError):
        document.definitions["x"] = pod  # type: ignore[index]
    assert pod.properties is not None
    with pytest.raises(TypeError):
        pod.properties["x"] = pod  # type: ignore[index]
    with pytest.raises(AttributeError):
        pod.__dict__  # noqa: B018  (slotted: no per-instance dict to smuggle keys into)


def test_operations_resolve_top_level_parameters() -> None:
    ref = {"$ref": "#/definitions/com.example.v1.Other"}
    spec = _document(
        {"com.example.v1.Other": {"type": "object"}},
        paths={"/apis/example.com/v1/things": {
            "parameters": [{"$ref": "#/parameters/pretty"}],
            "get": {"x-kubernetes-action": "list", "consumes": ["*/*"],
                    "x-kubernetes-group-version-kind": {"group": "example.com", "version": "v1", "kind": "Thing"},
                    "parameters": [{"$ref": "#/parameters/watch"}, {"in": "body", "name": "body", "schema": ref}],
                    "responses": {"200": {"description": "OK", "schema": ref}, "401": {"description": "no"}}}}},
        parameters={"watch": {"in": "query", "name": "watch", "type": "boolean"},
                    "pretty": {"in": "query", "name": "pretty", "type": "string"}})
    validate_spec(spec)
    item = parse_document(spec).paths["/apis/example.com/v1/things"]
    assert item.parameter_names == {"pretty"}
    op = item.operations["get"]
    assert (op.method, op.action, op.consumes, op.parameter_names) == ("get", "list", ("*/*",), frozenset({"watch", "body"}))
    assert op.gvk == GroupVersionKind("example.com", "v1", "Thing")
    assert (op.body_ref, dict(op.response_refs)) == ("com.example.v1.Other", {"200": "com.example.v1.Other"})
    assert op.pointer == "/paths/~1apis~1example.com~1v1~1things/get"


@pytest.mark.parametrize(("schema", "pointer", "message"), [
    ({"type": "object", "properties": {"a": {"$ref": "other.json#/X"}}},
     f"/definitions/{_THING}/properties/a/$ref", "only local definition references"),
    ({"allOf": [{"$ref": "#/parameters/x"}]}, f"/definitions/{_THING}/allOf/0/$ref", "only local definition"),
    ({"type": "array"}, f"/definitions/{_THING}", "needs an 'items' schema"),
    ({"type": "object", "properties": {"a": "string"}}, f"/definitions/{_THING}/properties/a",
     "expected a schema object"),
    ({"type": "object", "required": "a"}, f"/definitions/{_THING}/required", "list of property names"),
    ({"type": "object", "x-kubernetes-group-version-kind": {"kind": "X"}},
     f"/definitions/{_THING}/x-kubernetes-group-version-kind", "list of"),
])
def test_what_the_model_cannot_use_is_refused_with_source_and_pointer(
        schema: dict[str, Any], pointer: str, message: str) -> None:
    """Validation refuses these first; parse refuses them too, so no records can hold them."""
    with pytest.raises(SpecError, match=message) as caught:
        parse_document(_document({_THING: schema}))
    assert (caught.value.source, caught.value.pointer) == ("t.json", pointer)


def test_origin_and_crd_file_groups(tmp_path: Path) -> None:
    assert parse_document(load_spec("builtin:v1.35")).origin is Origin.BUILTIN
    hand_made = parse_document(_document({}))
    assert hand_made.origin is Origin.FILE and hand_made.crd_file_groups == frozenset()
    assert (hand_made.title, hand_made.version) == ("T", "v1.30.1")
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(_document({}).document))
    assert load_spec(str(path)).origin is Origin.FILE
    crd = tmp_path / "crd.yaml"
    crd.write_text(CRD_YAML)
    merged = merge_crds(load_spec("builtin:v1.20"), read_crd_paths([str(crd)]))
    document = parse_document(merged)
    assert (document.origin, document.crd_file_groups) == (Origin.BUILTIN, frozenset({"example.com"}))
    assert "com.example.v1.Thing" in document.definitions
    assert not document_facts(document).served_custom_resources  # --crd groups are not the server's


def test_a_model_builds_from_records_made_by_hand() -> None:
    """The model's only input is records: no JSON document is involved here at all."""
    gvk = GroupVersionKind("example.com", "v1", "Thing")
    string = Schema("/s", type="string")
    thing = Schema(
        f"/definitions/{_THING}", type="object", group_version_kinds=(gvk,), required=("size",),
        properties=MappingProxyType({
            "apiVersion": string, "kind": string,
            "metadata": Schema("/m", ref="io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
            "size": Schema("/z", int_or_string=True, pattern=None),
            "labels": Schema("/l", type="object", additional_properties=string),
            "parts": Schema("/p", type="array", items=Schema("/pi", type="object", properties=MappingProxyType(
                {"name": string}), required=("name",))),
        }))
    meta = Schema("/definitions/meta", type="object", properties=MappingProxyType({"name": string}))
    op = Operation("/op", "get", "get", gvk, (), frozenset(), None, MappingProxyType({"200": _THING}))
    path = "/apis/example.com/v1/namespaces/{namespace}/things/{name}"
    document = Document(
        source="by hand", origin=Origin.FILE, title="Hand", version="v1.30.0",
        definitions=MappingProxyType({_THING: thing, "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": meta}),
        paths=MappingProxyType({path: PathItem("/path", path, MappingProxyType({"get": op}), frozenset())}),
        crd_file_groups=frozenset({"example.com"}))
    model = build_model(run_fixups(document))
    (resource,) = model.resources()
    assert (resource.kind, resource.plural, resource.namespaced, resource.verbs) == ("Thing", "things", True, ("get",))
    struct = model.structs[_THING]
    types = {f.wire_name: (f.type, f.required) for f in struct.fields}
    assert types == {
        "apiVersion": (Primitive.STRING, False), "kind": (Primitive.STRING, False),
        "metadata": (StructRef("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"), False),
        "size": (Primitive.INT_OR_STRING, True), "labels": (MapOf(Primitive.STRING), False),
        "parts": (ArrayOf(StructRef(f"{_THING}/parts")), False)}
    assert struct.gvk == gvk and (model.title, model.spec_version) == ("Hand", "v1.30.0")


def test_records_and_json_give_the_same_model() -> None:
    """The same document typed by hand as JSON and parsed gives the model above's shape."""
    spec = _document({_THING: {"type": "object", "properties": {"size": {"x-kubernetes-int-or-string": True}},
                               "required": ["size"]}})
    validate_spec(spec)
    (field,) = model_of(spec).structs[_THING].fields
    assert (field.type, field.required) == (Primitive.INT_OR_STRING, True)


def test_the_model_package_never_reads_raw_json() -> None:
    """model/ imports no JSON machinery and no loader, and never asks whether something is a dict."""
    for path in sorted(MODEL_DIR.glob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert not {a.name for a in node.names} & {"json", "copy"}, path
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
                assert module not in ("json", "copy") and not module.endswith(("spec.load", "spec.validate")), path
                assert "Any" not in {a.name for a in node.names} or module != "typing", path
                assert "LoadedSpec" not in {a.name for a in node.names}, path
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance":
                kinds = node.args[1].elts if isinstance(node.args[1], ast.Tuple) else [node.args[1]]
                names = {k.id for k in kinds if isinstance(k, ast.Name)}
                assert not names & {"dict", "list", "str"}, f"{path}:{node.lineno}"
