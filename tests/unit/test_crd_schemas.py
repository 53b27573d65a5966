"""CRD validation schemas: read from the CRD objects, rendered into ``_fake_api.SCHEMAS``.

The fake server prunes, defaults and validates custom resources from these tables, so the
extraction is checked keyword by keyword (what is kept, what is dropped, v1beta1 and legacy
``preserveUnknownFields``), the rendering against hostile text (a schema is spec text: it must
come back as exactly the data it was, never as code), and the whole path on the conformance
suite's CRD through ``kubecodegen generate``.
"""

from __future__ import annotations

import ast
import copy
import importlib
import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kubecodegen.cli import main
from kubecodegen.generate import SpecSource, load_model
from kubecodegen.render.env import Code, UnsafeInsertion, py_literal
from kubecodegen.render.plan import plan_package
from kubecodegen.render.write import render
from kubecodegen.spec.crd_files import parse_crd_documents
from kubecodegen.spec.crd_schemas import VALIDATION_KEYWORDS, crd_schemas, validation_schema
from kubecodegen.spec.records import CrdSchema

CONFORMANCE_CRDS = Path(__file__).resolve().parents[1] / "conformance" / "crds"
HOSTILE = ['a"b', "back\\slash", "new\nline", '"""', "'''", "{{ x }}", "{% if %}", "__import__('os').system('x')",
           "\x00\x1b\u2028\U0001f600", "#", ""]


def _schemas(text: str) -> dict[tuple[str, str, str], Any]:
    """What ``crd_schemas`` reads from CRD YAML, by key, decoded."""
    crds, _ = parse_crd_documents(text, "test.yaml")
    return {(s.group, s.version, s.resource): json.loads(s.schema) for s in crd_schemas(c.crd for c in crds)}


V1 = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: things.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: things, kind: Thing}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        description: A thing.
        title: Thing
        x-kubernetes-validations: [{rule: "self.spec.count > 0"}]
        properties:
          spec:
            type: object
            example: {count: 1}
            externalDocs: {url: "https://example.com"}
            required: [count]
            properties:
              count: {type: integer, minimum: 1, maximum: 10, default: 3, description: how many}
              mode: {type: string, enum: [fast, slow], default: fast, pattern: "^[a-z]+$"}
              labels:
                type: object
                additionalProperties: {type: string, maxLength: 63, description: a value}
              ports:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name, protocol]
                items:
                  type: object
                  required: [name]
                  properties:
                    name: {type: string}
                    protocol: {type: string, default: TCP}
              config:
                type: object
                default: {b: [1, 2.5, null, true], a: "x"}
                x-kubernetes-preserve-unknown-fields: true
              either:
                x-kubernetes-int-or-string: true
                anyOf: [{type: integer}, {type: string, maxLength: 5}]
  - name: v2
    served: false
    storage: false
    schema:
      openAPIV3Schema: {type: object}
  - name: v3
    served: true
    storage: false
"""


def test_a_v1_crd_keeps_its_served_versions_validation_keywords_only() -> None:
    found = _schemas(V1)
    assert list(found) == [("example.com", "v1", "things")]  # v2 is not served, v3 has no schema
    assert found[("example.com", "v1", "things")] == {
        "type": "object",
        "properties": {"spec": {
            "type": "object",
            "required": ["count"],
            "properties": {
                "count": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3},
                "mode": {"type": "string", "enum": ["fast", "slow"], "default": "fast", "pattern": "^[a-z]+$"},
                "labels": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 63}},
                "ports": {"type": "array", "x-kubernetes-list-type": "map",
                          "x-kubernetes-list-map-keys": ["name", "protocol"],
                          "items": {"type": "object", "required": ["name"], "properties": {
                              "name": {"type": "string"}, "protocol": {"type": "string", "default": "TCP"}}}},
                "config": {"type": "object", "default": {"a": "x", "b": [1, 2.5, None, True]},
                           "x-kubernetes-preserve-unknown-fields": True},
                "either": {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string", "maxLength": 5}]},
            }}},
    }


def test_records_are_canonical_sorted_json() -> None:
    crds, _ = parse_crd_documents(V1, "test.yaml")
    (record,) = crd_schemas(c.crd for c in crds)
    assert record.schema == json.dumps(json.loads(record.schema), sort_keys=True, separators=(",", ":"))
    assert hash(record) == hash(CrdSchema(record.group, record.version, record.resource, record.schema))
    assert crd_schemas([record, *(c.crd for c in crds)]) == (record,)  # records pass through; first wins


V1BETA1 = """
apiVersion: apiextensions.k8s.io/v1beta1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.org}
spec:
  group: example.org
  scope: Cluster
  names: {plural: gadgets, kind: Gadget}
  preserveUnknownFields: false
  versions:
  - {name: v1, served: true, storage: true}
  - {name: v1beta1, served: true, storage: false}
  validation:
    openAPIV3Schema:
      type: object
      properties:
        spec: {type: object, description: dropped, properties: {replicas: {type: integer, format: int32}}}
---
apiVersion: apiextensions.k8s.io/v1beta1
kind: CustomResourceDefinition
metadata: {name: sprockets.example.org}
spec:
  group: example.org
  scope: Namespaced
  version: v1
  names: {plural: sprockets, kind: Sprocket}
  validation:
    openAPIV3Schema:
      type: object
      properties:
        spec: {type: object}
"""


def test_a_v1beta1_crd_shares_its_schema_and_legacy_pruning_keeps_unknown_fields() -> None:
    found = _schemas(V1BETA1)
    shared = {"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "replicas": {"type": "integer", "format": "int32"}}}}}
    assert found[("example.org", "v1", "gadgets")] == shared == found[("example.org", "v1beta1", "gadgets")]
    # preserveUnknownFields defaults to true in v1beta1: the root says it
    assert found[("example.org", "v1", "sprockets")] == {
        "type": "object", "properties": {"spec": {"type": "object"}}, "x-kubernetes-preserve-unknown-fields": True}


def test_what_the_server_omits_is_dropped_and_what_cannot_be_structural_too() -> None:
    """Go's ``omitempty`` drops false booleans and empty lists when a cluster serves a CRD back;
    ``*float64`` bounds come back as ``1``, not ``1.0``: dropped and normalised here too, so
    ``--crd`` and ``--from-cluster`` agree. A list-form ``items`` is not structural: dropped."""
    node = {"type": "array", "nullable": False, "uniqueItems": False, "required": [], "enum": [],
            "exclusiveMinimum": False, "x-kubernetes-embedded-resource": False, "format": "",
            "x-kubernetes-int-or-string": False, "x-kubernetes-preserve-unknown-fields": False,
            "minimum": 1.0, "maximum": 2.5, "multipleOf": 2.0, "items": [{"type": "string"}],
            "$ref": "#/definitions/x", "x-kubernetes-patch-strategy": "merge",
            "properties": {"ok": {"type": "string"}, "bad": "not a schema"}, "additionalProperties": False,
            "allOf": [{"minItems": 1}, "x"], "not": {"maxItems": 0, "description": "d"}}
    assert validation_schema(node) == {
        "type": "array", "x-kubernetes-preserve-unknown-fields": False, "minimum": 1, "maximum": 2.5,
        "multipleOf": 2, "properties": {"ok": {"type": "string"}}, "additionalProperties": False, "allOf": [{"minItems": 1}],
        "not": {"maxItems": 0}}
    assert type(validation_schema(node)["minimum"]) is int
    assert set(validation_schema(node)) <= VALIDATION_KEYWORDS


def test_a_clusters_odd_crds_are_skipped() -> None:
    """``--from-cluster`` reads the CRD objects unvalidated (JSON may even say NaN)."""
    schema = {"openAPIV3Schema": {"type": "object"}}
    good = {"spec": {"group": "g.io", "names": {"plural": "things"}, "versions": [
        {"name": "v1", "served": True, "schema": schema},
        {"name": "v2", "served": True, "schema": {"openAPIV3Schema": {"type": "number", "maximum": math.nan}}},
        {"name": "v3", "served": True, "schema": {"openAPIV3Schema": {"default": math.inf}}},
        {"name": "v4", "served": True, "schema": {"openAPIV3Schema": "object"}},
        {"name": "v5", "served": True, "schema": []},
        {"name": 6, "served": True, "schema": schema}, "v7"]}}
    odd = [None, [], {"spec": []}, {"spec": {"group": 1}}, {"spec": {"group": "g", "names": {}, "versions": []}}]
    assert crd_schemas([*odd, good]) == (CrdSchema("g.io", "v1", "things", '{"type":"object"}'),)


# --- rendering: py_literal ---------------------------------------------------------------------


def _hostile_schema() -> dict[str, Any]:
    return {"type": "object", "properties": {text: {"type": "string", "enum": HOSTILE, "default": text}
                                             for text in HOSTILE},
            "x": {"n": [0, -1, 2**70, 1.5, -0.0, 1e300, 5e-324, True, False, None, [], {}]}}


def test_hostile_text_comes_back_as_exactly_the_data() -> None:
    schema = _hostile_schema()
    literal = py_literal(schema)
    assert isinstance(literal, Code) and literal.isascii() and "\n" not in literal
    assert ast.literal_eval(literal) == schema
    namespace: dict[str, Any] = {}
    exec(compile(f"VALUE = {literal}\n", "m.py", "exec"), {"__builtins__": {}}, namespace)
    assert namespace["VALUE"] == schema
    assert [type(v) for v in namespace["VALUE"]["x"]["n"][7:10]] == [bool, bool, type(None)]
    assert py_literal(schema) == literal  # deterministic


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused_naming_the_place(value: float) -> None:
    with pytest.raises(UnsafeInsertion, match=r"the schema of g/v1/r at /properties/a~1b/maximum: .* no Python"):
        py_literal({"properties": {"a/b": {"maximum": value}}}, "the schema of g/v1/r")


class _Text(str):
    pass


class _Number(int):
    pass


@pytest.mark.parametrize("value", [(1, 2), {1}, b"x", object(), _Text("x"), _Number(1), Code("x"), {1: "a"},
                                   {"k": [1, ("t",)]}])
def test_anything_but_plain_json_values_is_refused(value: object) -> None:
    with pytest.raises(UnsafeInsertion):
        py_literal(value)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20)


@given(_JSON)
@settings(max_examples=300, deadline=None)
def test_every_json_value_is_a_literal_of_itself(value: Any) -> None:
    literal = py_literal(value)
    assert literal.isascii()
    back = ast.literal_eval(literal)
    assert json.dumps(back, sort_keys=True) == json.dumps(value, sort_keys=True)


# --- the whole path ------------------------------------------------------------------------------


def _crd(schema: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "things.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced", "names": {"plural": "things", "kind": "Thing"},
                     "versions": [{"name": "v1", "served": True, "storage": True,
                                   "schema": {"openAPIV3Schema": schema}}]}}


def _fake_api(source: SpecSource) -> bytes:
    _, model = load_model(source)
    planned = [f for f in plan_package(model, "fakepkg", "test", False) if f.path == "_fake_api.py"]
    return render(planned, workers=1)["_fake_api.py"]


def test_a_hostile_schema_renders_to_a_module_holding_exactly_it(tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {"spec": _hostile_schema()}}
    schema["properties"]["spec"].pop("x")
    # raw astral characters (the YAML reader refuses JSON's surrogate pairs), U+2028 escaped (a
    # line break to YAML)
    text = json.dumps(_crd(schema), ensure_ascii=False).replace("\u2028", "\\u2028")
    (tmp_path / "crd.json").write_text(text, encoding="utf-8")
    source = SpecSource(spec="builtin:v1.20", crds=(str(tmp_path / "crd.json"),))
    first = _fake_api(source)
    assert _fake_api(source) == first  # byte-identical
    namespace: dict[str, Any] = {}
    exec(compile(first, "_fake_api.py", "exec"), namespace)
    assert namespace["SCHEMAS"] == {("example.com", "v1", "things"): schema}
    assert "SCHEMAS" in namespace["__all__"]
    assert "__import__('os')" not in first.decode().replace('"__import__(\'os\').system(\'x\')"', "")


def test_the_conformance_crd_schema_reaches_package_api(tmp_path: Path) -> None:
    """``kubecodegen generate`` as the conformance suite runs it; the widgets CRD holds only
    kept keywords, so its schema arrives whole (recursively sorted, which equality ignores)."""
    main(["generate", "--spec", "builtin:v1.20", "--crd", str(CONFORMANCE_CRDS), "--group",
          "conformance.kubecodegen.test", "--package", "schemas_cr_pkg", "--out", str(tmp_path)],
         standalone_mode=False)
    (crd,) = [d for d in yaml.safe_load_all((CONFORMANCE_CRDS / "widgets.yaml").read_text()) if d]
    expected = copy.deepcopy(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"])
    sys.path.insert(0, str(tmp_path))
    try:
        fake = importlib.import_module("schemas_cr_pkg.fake")
        schemas = fake.package_api().schemas
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == "schemas_cr_pkg" or n.startswith("schemas_cr_pkg.")]:
            del sys.modules[name]
    assert schemas == {("conformance.kubecodegen.test", "v1", "widgets"): expected}
    assert validation_schema(expected) == expected
