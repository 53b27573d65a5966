"""OpenAPI v3 input without a server: conversion to the same records, errors naming the v3
document and pointer, and the rule that only custom resources' enums become ``Literal`` types.

(The real server's documents are read in tests/integration/test_openapi_v3_cluster.py.)
"""

from __future__ import annotations

import copy
import importlib
import json
import sys
import typing
from pathlib import Path
from typing import Any

import msgspec
import pytest
from click.testing import CliRunner

from kubecodegen.cli import main
from kubecodegen.generate import SpecSource, generate, write
from kubecodegen.inspect import resource_rows
from kubecodegen.model.definitions import enforced_enum
from kubecodegen.model.types import ArrayOf, LiteralOf, Primitive
from kubecodegen.pipeline import model_of
from kubecodegen.render.env import UnsafeInsertion, py_string, type_expression
from kubecodegen.spec import SpecError, load_spec, validate_spec
from kubecodegen.spec.openapi_v3 import CRD_DOCUMENT_TITLE, load_any_spec
from kubecodegen.spec.parse import parse_document
from kubecodegen.spec.records import GroupVersionKind, Schema

CORPUS = Path(__file__).parent / "spec_corpus"
MINIMAL: dict[str, Any] = json.loads((CORPUS / "valid_minimal.json").read_text("utf-8"))


def _v3_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: (v.replace("#/definitions/", "#/components/schemas/").replace(
                    "#/parameters/", "#/components/parameters/") if k == "$ref" else _v3_refs(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_v3_refs(v) for v in node]
    return node


def _v3_parameter(param: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in param:
        return param
    outer = {k: v for k, v in param.items() if k in ("name", "in", "required", "description")}
    schema = {k: v for k, v in param.items() if k not in outer}
    return {**outer, "schema": schema} if schema else outer


def as_v3(v2: dict[str, Any]) -> dict[str, Any]:
    """The test's own v2 → v3 rewriting (the reverse of what the reader does), as the
    server writes v3: body parameters become request bodies, schemas move into content."""
    doc = _v3_refs(copy.deepcopy(v2))
    paths: dict[str, Any] = {}
    for path, item in doc["paths"].items():
        out_item: dict[str, Any] = {}
        for method, op in item.items():
            if method == "parameters":
                out_item["parameters"] = [_v3_parameter(p) for p in op]
                continue
            op = dict(op)
            consumes = op.pop("consumes", None) or ["application/json"]
            op.pop("produces", None)
            params = op.pop("parameters", [])
            body = [p for p in params if p.get("in") == "body"]
            if params:
                op["parameters"] = [_v3_parameter(p) for p in params if p.get("in") != "body"]
            if body:
                op["requestBody"] = {"content": {c: {"schema": body[0]["schema"]} for c in consumes},
                                     "required": body[0].get("required", False)}
            op["responses"] = {code: {"description": r.get("description", ""),
                                      **({"content": {"application/json": {"schema": r["schema"]}}}
                                         if "schema" in r else {})}
                               for code, r in op["responses"].items()}
            out_item[method] = op
        paths[path] = out_item
    return {"openapi": "3.0.0", "info": doc["info"], "paths": paths,
            "components": {"schemas": doc["definitions"],
                           "parameters": {k: _v3_parameter(v) for k, v in doc.get("parameters", {}).items()}}}


def _write(tmp_path: Path, name: str, document: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def test_a_v3_document_gives_the_records_of_its_v2_twin(tmp_path: Path) -> None:
    v2 = load_spec(str(_write(tmp_path, "v2.json", MINIMAL)))
    v3 = load_any_spec(str(_write(tmp_path, "v3.json", as_v3(MINIMAL))))
    validate_spec(v3)
    assert v3.openapi_documents == (str(tmp_path / "v3.json"),)
    from_v2, from_v3 = parse_document(v2), parse_document(v3)
    assert dict(from_v3.definitions) == dict(from_v2.definitions)
    assert list(from_v3.paths) == list(from_v2.paths)
    for path, item in from_v2.paths.items():
        assert from_v3.paths[path].parameter_names == item.parameter_names
        for method, op in item.operations.items():
            other = from_v3.paths[path].operations[method]
            assert (other.gvk, other.action, other.body_ref, dict(other.response_refs), other.parameter_names) \
                == (op.gvk, op.action, op.body_ref, dict(op.response_refs), op.parameter_names)
    assert resource_rows(model_of(v3)) == resource_rows(model_of(v2))


def test_a_folder_of_v3_documents_is_merged_and_the_index_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "v3"
    folder.mkdir()
    document = as_v3(MINIMAL)
    first, second = copy.deepcopy(document), copy.deepcopy(document)
    paths = list(document["paths"])
    first["paths"] = {p: document["paths"][p] for p in paths[:1]}
    second["paths"] = {p: document["paths"][p] for p in paths[1:]}
    _write(folder, "a.json", first)
    _write(folder, "b.json", second)
    _write(folder, "index.json", {"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=X"}}})
    merged = load_any_spec(str(folder))
    assert merged.openapi_documents == (str(folder / "a.json"), str(folder / "b.json"))
    assert list(parse_document(merged).paths) == list(parse_document(load_any_spec(
        str(_write(tmp_path, "whole.json", document)))).paths)


def _error(source: Path) -> SpecError:
    with pytest.raises(SpecError) as caught:
        load_any_spec(str(source))
    return caught.value


def test_bad_v3_documents_name_the_document_and_the_v3_pointer(tmp_path: Path) -> None:
    document = as_v3(MINIMAL)
    name = next(iter(document["components"]["schemas"]))
    remote = copy.deepcopy(document)
    remote["components"]["schemas"][name]["properties"]["data"] = {"$ref": "other.json#/X"}
    error = _error(_write(tmp_path, "remote.json", remote))
    assert error.source.endswith("remote.json")
    assert error.pointer == f"/components/schemas/{name}/properties/data/$ref"
    dangling = copy.deepcopy(document)
    dangling["components"]["schemas"][name]["properties"]["data"] = {"$ref": "#/components/schemas/Nope"}
    error = _error(_write(tmp_path, "dangling.json", dangling))
    assert error.source.endswith("dangling.json") and "Nope" in str(error)
    assert f"/components/schemas/{name}/properties/data/$ref" in str(error)
    wrong = {**document, "paths": []}
    error = _error(_write(tmp_path, "paths.json", wrong))
    assert (error.pointer, error.source.endswith("paths.json")) == ("/paths", True)
    error = _error(_write(tmp_path, "index.json", {"paths": {"api/v1": {"serverRelativeURL": "/x"}}}))
    assert "index" in error.message and "folder" in error.message
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no OpenAPI v3 document" in _error(empty).message


def test_the_cli_exits_2_on_bad_v3_input_and_refuses_openapi_with_spec(tmp_path: Path) -> None:
    document = as_v3(MINIMAL)
    document["components"]["schemas"] = []
    path = _write(tmp_path, "bad.json", document)
    result = CliRunner().invoke(main, ["validate", "--spec", str(path)])
    assert result.exit_code == 2
    assert "bad.json" in result.stderr and "#/components/schemas" in result.stderr
    result = CliRunner().invoke(main, ["inspect", "--spec", str(_write(tmp_path, "ok.json", as_v3(MINIMAL))),
                                       "--openapi", "v3"])
    assert result.exit_code == 2 and "--openapi" in result.stderr


def test_only_an_enforced_enum_is_a_literal() -> None:
    """The one rule (``enforced_enum``): custom resources' enums, plain strings or integers only."""
    strings = Schema(pointer="", type="string", enum=("a", "b"), enum_literals=("a", "b"))
    assert enforced_enum(strings, custom_resource=True) == LiteralOf(("a", "b"))
    assert enforced_enum(strings, custom_resource=False) is None
    dated = Schema(pointer="", type="string", format="date-time", enum=("x",), enum_literals=("x",))
    assert enforced_enum(dated, custom_resource=True) is None
    mixed = Schema(pointer="", type="string", enum=("a", None), enum_literals=None)
    assert enforced_enum(mixed, custom_resource=True) is None


def _kind_definition(document: dict[str, Any]) -> str:
    return next(str(name) for name, schema in document["components"]["schemas"].items()
                if schema.get("x-kubernetes-group-version-kind") and "properties" in schema)


def test_built_in_enums_stay_plain_types_so_a_newer_value_decodes(tmp_path: Path) -> None:
    """A built-in type's enum (from a Go marker; it grows between releases: a package made
    from 1.35 must decode the value a 1.36 server adds) stays ``str``; the same schema in a
    CRD group-version's document is a ``Literal``."""
    document = as_v3(MINIMAL)
    name, prop = _kind_definition(document), "mode"
    document["components"]["schemas"][name]["properties"][prop] = {"type": "string", "enum": ["One", "Two"]}

    def field_type(doc: dict[str, Any], file: str) -> Any:
        model = model_of(load_any_spec(str(_write(tmp_path, file, doc))))
        return next(f.type for f in model.structs[name].fields if f.wire_name == prop)

    assert field_type(document, "builtin.json") is Primitive.STRING
    document["info"]["title"] = CRD_DOCUMENT_TITLE
    assert field_type(document, "crd.json") == LiteralOf(("One", "Two"))


def _crd(enum: list[Any]) -> dict[str, Any]:
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "toys.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced",
                     "names": {"plural": "toys", "singular": "toy", "kind": "Toy", "listKind": "ToyList"},
                     "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                         "type": "object", "properties": {"spec": {"type": "object", "properties": {
                             "colour": {"type": "string", "enum": enum},
                             "sizes": {"type": "array", "items": {"type": "integer", "enum": [1, 2]}},
                             "free": {"type": "string"}}}}}}}]}}


def test_a_crd_file_enum_is_a_literal_with_hostile_values_escaped(tmp_path: Path) -> None:
    hostile = 'red"]\nimport os  # \\'
    path = _write(tmp_path, "toy.json", _crd(["blue", hostile]))
    generated = generate(SpecSource(crds=(str(path),)), "toys")
    spec = next(s for s in generated.model.structs.values() if s.name == "ToySpec")
    types = {f.wire_name: f.type for f in spec.fields}
    assert types["colour"] == LiteralOf(("blue", hostile))
    assert types["sizes"] == ArrayOf(LiteralOf((1, 2)))
    assert types["free"] is Primitive.STRING
    source = generated.files["models/example_com_v1.py"].decode()
    assert "\nimport os" not in source  # the value's newline is escaped, never a line of code
    write(generated, tmp_path)
    sys.path.insert(0, str(tmp_path))
    try:
        models = importlib.import_module("toys.models.example_com_v1")
    finally:
        sys.path.remove(str(tmp_path))
    hints = typing.get_type_hints(models.ToySpec)
    assert set(typing.get_args(typing.get_args(hints["colour"])[0])) == {"blue", hostile}
    decoded = msgspec.json.decode(json.dumps({"colour": hostile, "sizes": [2]}), type=models.ToySpec)
    assert (decoded.colour, decoded.sizes) == (hostile, [2])
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"colour": "green"}', type=models.ToySpec)


def test_type_expression_takes_literals_only_as_escaped_strings() -> None:
    quoted = py_string('a"b')
    assert type_expression("Literal[" + quoted + ", -1] | None") == 'Literal["a\\"b", -1] | None'
    for text in ('Literal["a"]; import os', 'Literal["a"] or exec("x")', "Literal['a']", 'list["x"]', 'fooLiteral["x"]',
                 'Literal["a\n"]', 'Literal["a]'):
        with pytest.raises(UnsafeInsertion):
            type_expression(text)


def test_crd_documents_are_recognised_by_their_title(tmp_path: Path) -> None:
    """A saved v3 document of a CRD group-version says so in its title: its kinds are
    custom resources, so their enums are Literal from the file too."""
    document = as_v3(MINIMAL)
    assert load_any_spec(str(_write(tmp_path, "builtin.json", document))).custom_resource_kinds == frozenset()
    document["info"]["title"] = CRD_DOCUMENT_TITLE
    kinds = load_any_spec(str(_write(tmp_path, "crd.json", document))).custom_resource_kinds
    assert GroupVersionKind("", "v1", "ConfigMap") in kinds
