"""Validation of swagger documents: the real specs pass, every corpus case fails precisely.

The corpus (``spec_corpus/cases.json``) pairs each malformed file with the stage that must
reject it, the JSON pointer of the problem and fragments of the message, so a regression
in either *where* or *what* is caught.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from kubecodegen.spec import (
    LoadedSpec,
    SpecError,
    SpecErrors,
    load_spec,
    validate_spec,
)
from kubecodegen.spec.errors import MAX_REPORTED_ERRORS

CORPUS = Path(__file__).parent / "spec_corpus"
SPECS = Path(__file__).parents[1] / "data" / "specs"
CASES: list[dict[str, Any]] = json.loads((CORPUS / "cases.json").read_text("utf-8"))
BASE: dict[str, Any] = json.loads((CORPUS / "valid_minimal.json").read_text("utf-8"))


def _flatten(error: SpecError) -> list[SpecError]:
    return list(error.errors) if isinstance(error, SpecErrors) else [error]


def _spec(document: dict[str, Any]) -> LoadedSpec:
    return LoadedSpec("test.json", document)


# --- real specs ---------------------------------------------------------------------

REAL_SPECS = [
    "builtin:v1.35",
    "builtin:v1.20",
    str(SPECS / "kubernetes_v1.30.0.json.gz"),
    str(SPECS / "kubernetes_release-1.36.json.gz"),
    str(SPECS / "kube-apiserver_v1.20.2_served_with-6-crds.json.gz"),
]


@pytest.mark.parametrize("source", REAL_SPECS, ids=lambda s: Path(s).name)
def test_real_spec_validates(source: str) -> None:
    spec = load_spec(source)
    assert len(spec.document["definitions"]) > 500
    validate_spec(spec)


def test_served_spec_with_crds_contains_inline_crd_schemas() -> None:
    """Guards the previous test: the CRD document really exercises nested inline schemas."""
    spec = load_spec(str(SPECS / "kube-apiserver_v1.20.2_served_with-6-crds.json.gz"))
    names = [
        name for name in spec.document["definitions"] if name.startswith("com.coreos.monitoring")
    ]
    assert names
    monitor = spec.document["definitions"]["com.coreos.monitoring.v1.ServiceMonitor"]
    assert "properties" in monitor["properties"]["spec"]


# --- the corpus -----------------------------------------------------------------------


def test_corpus_is_large_enough_and_indexed() -> None:
    listed = {case["file"] for case in CASES}
    on_disk = {p.name for p in CORPUS.iterdir()} - {"cases.json", "valid_minimal.json"}
    assert listed == on_disk
    assert len(CASES) >= 24


def test_corpus_base_is_valid() -> None:
    """Every corpus case is this document plus one defect, so the base itself must pass."""
    validate_spec(load_spec(str(CORPUS / "valid_minimal.json")))


@pytest.mark.parametrize("case", CASES, ids=[case["file"] for case in CASES])
def test_corpus_case(case: dict[str, Any]) -> None:
    path = CORPUS / case["file"]
    with pytest.raises(SpecError) as raised:
        spec = load_spec(str(path))
        assert case["stage"] == "validate", "loading should have failed"
        validate_spec(spec)
    found = _flatten(raised.value)
    assert len(found) == case["count"], [str(e) for e in found]
    assert all(error.source == str(path) for error in found)
    matching = [e for e in found if e.pointer == case["pointer"]]
    assert matching, f"no error at {case['pointer']!r}: {[str(e) for e in found]}"
    for fragment in case["message"]:
        assert any(fragment in e.message for e in matching), (
            fragment,
            [e.message for e in matching],
        )
    # the rendered form leads with source and pointer, with control characters escaped
    text = str(raised.value)
    assert text.startswith(f"{path}: #")
    assert "\n" not in str(matching[0])


# --- semantics that must NOT be errors ------------------------------------------------


def test_same_gvk_listed_on_one_definition_is_fine() -> None:
    """Meta types (DeleteOptions, WatchEvent) list many GVKs; one definition may repeat one."""
    document = copy.deepcopy(BASE)
    meta = document["definitions"]["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]
    meta["x-kubernetes-group-version-kind"] = [
        {"group": "", "version": "v1", "kind": "WatchEvent"},
        {"group": "apps", "version": "v1", "kind": "WatchEvent"},
        {"group": "", "version": "v1", "kind": "WatchEvent"},
    ]
    validate_spec(_spec(document))


def test_recursion_through_a_struct_is_fine() -> None:
    """JSONSchemaProps-style recursion goes through an object with properties: a class, no alias."""
    document = copy.deepcopy(BASE)
    document["definitions"]["io.k8s.example.v1.Props"] = {
        "type": "object",
        "properties": {
            "items": {"$ref": "#/definitions/io.k8s.example.v1.Props"},
            "properties": {
                "type": "object",
                "additionalProperties": {"$ref": "#/definitions/io.k8s.example.v1.Props"},
            },
            "allOf": {"type": "array", "items": {"$ref": "#/definitions/io.k8s.example.v1.List"}},
        },
    }
    document["definitions"]["io.k8s.example.v1.List"] = {
        "type": "array",
        "items": {"$ref": "#/definitions/io.k8s.example.v1.Props"},
    }
    validate_spec(_spec(document))


def test_definition_names_with_tilde_and_slash_escape_in_refs() -> None:
    document = copy.deepcopy(BASE)
    document["definitions"]["io.k8s.example.v1.Plain"] = {"type": "string"}
    document["definitions"]["io.k8s.api.core.v1.ConfigMap"]["properties"]["extra"] = {
        "$ref": "#/definitions/io.k8s.example.v1.Plain"
    }
    validate_spec(_spec(document))


def test_semantic_errors_are_sorted_by_pointer_and_rendered_one_per_line() -> None:
    with pytest.raises(SpecErrors) as raised:
        validate_spec(load_spec(str(CORPUS / "several_problems.json")))
    errors = raised.value.errors
    assert [e.pointer for e in errors] == sorted(e.pointer for e in errors)
    lines = str(raised.value).splitlines()
    assert lines[0].endswith("3 problems found")
    assert len(lines) == 4


def test_many_errors_are_capped() -> None:
    document = copy.deepcopy(BASE)
    props = document["definitions"]["io.k8s.api.core.v1.ConfigMap"]["properties"]
    for index in range(MAX_REPORTED_ERRORS + 25):
        props[f"field{index:03d}"] = {"$ref": f"#/definitions/Missing{index:03d}"}
    with pytest.raises(SpecErrors) as raised:
        validate_spec(_spec(document))
    assert raised.value.total == MAX_REPORTED_ERRORS + 25
    assert len(raised.value.errors) == MAX_REPORTED_ERRORS
    assert f"(showing the first {MAX_REPORTED_ERRORS})" in raised.value.message


def test_structural_errors_are_reported_before_semantic_ones() -> None:
    """A shape error stops the run: semantic checks would only add noise on a broken tree."""
    document = copy.deepcopy(BASE)
    document["definitions"]["io.k8s.api.core.v1.ConfigMap"]["required"] = "data"
    document["definitions"]["io.k8s.api.core.v1.ConfigMap"]["properties"]["metadata"] = {
        "$ref": "#/definitions/Missing"
    }
    with pytest.raises(SpecError) as raised:
        validate_spec(_spec(document))
    assert not isinstance(raised.value, SpecErrors)
    assert raised.value.pointer == "/definitions/io.k8s.api.core.v1.ConfigMap/required"


def test_long_alias_chain_does_not_hit_the_recursion_limit() -> None:
    document = copy.deepcopy(BASE)
    count = 5000
    for index in range(count):
        document["definitions"][f"io.k8s.chain.C{index:05d}"] = {
            "$ref": f"#/definitions/io.k8s.chain.C{(index + 1) % count:05d}"
        }
    with pytest.raises(SpecError) as raised:
        validate_spec(_spec(document))
    assert raised.value.pointer == "/definitions/io.k8s.chain.C00000"
    assert raised.value.message.count("->") == count


def test_swagger_schema_is_a_valid_json_schema() -> None:
    from importlib import resources

    text = resources.files("kubecodegen.spec").joinpath("swagger_schema.json").read_text("utf-8")
    Draft202012Validator.check_schema(json.loads(text))


def test_spec_error_str_shows_pointer_as_fragment() -> None:
    error = SpecError("builtin:v1.35", "/definitions/io.k8s.api.core.v1.Pod", "boom")
    assert str(error) == "builtin:v1.35: #/definitions/io.k8s.api.core.v1.Pod: boom"
    assert str(SpecError("f.json", "", "empty")) == "f.json: #: empty"


# --- Kubernetes' name rules ---------------------------------------------------------------

_CM = "io.k8s.api.core.v1.ConfigMap"
_CM_PATH = "/api/v1/namespaces/{namespace}/configmaps/{name}"
_INJECTED_KIND = 'W"""+str(__import__("os").system("touch /tmp/x"))+"""'


def _with_gvk(key: str, value: str) -> dict[str, Any]:
    document = copy.deepcopy(BASE)
    document["definitions"][_CM]["x-kubernetes-group-version-kind"][0][key] = value
    return document


def _with_operation_gvk(key: str, value: str) -> dict[str, Any]:
    document = copy.deepcopy(BASE)
    document["paths"][_CM_PATH]["get"]["x-kubernetes-group-version-kind"][key] = value
    return document


def _with_path(path: str) -> dict[str, Any]:
    document = copy.deepcopy(BASE)
    document["paths"][path] = document["paths"].pop(_CM_PATH)
    return document


def _with_info(key: str, value: str) -> dict[str, Any]:
    document = copy.deepcopy(BASE)
    document["info"][key] = value
    return document


_GVK_POINTER = f"/definitions/{_CM}/x-kubernetes-group-version-kind/0"
_OP_POINTER = "/paths/~1api~1v1~1namespaces~1{namespace}~1configmaps~1{name}/get/x-kubernetes-group-version-kind"

BAD_NAMES = [
    (_with_gvk("kind", _INJECTED_KIND), _GVK_POINTER + "/kind", "invalid kind"),
    (_with_gvk("kind", "Config Map"), _GVK_POINTER + "/kind", "DNS-1035"),
    (_with_gvk("kind", "9Lives"), _GVK_POINTER + "/kind", "start with a letter"),
    (_with_gvk("kind", "K" * 64), _GVK_POINTER + "/kind", "at most 63"),
    (_with_gvk("version", "v1\nimport os"), _GVK_POINTER + "/version", "invalid version"),
    (_with_gvk("version", "V1"), _GVK_POINTER + "/version", "lowercase"),
    (_with_gvk("group", 'x"""'), _GVK_POINTER + "/group", "DNS-1123 subdomain"),
    (_with_gvk("group", "Example.io"), _GVK_POINTER + "/group", "DNS-1123 subdomain"),
    (_with_gvk("group", "a..b"), _GVK_POINTER + "/group", "DNS-1123 subdomain"),
    (_with_operation_gvk("kind", "Config\"Map"), _OP_POINTER + "/kind", "invalid kind"),
    (_with_operation_gvk("group", "-x.io"), _OP_POINTER + "/group", "invalid group"),
    (_with_path('/apis/ex"ample.io/v1/things'), "/paths/~1apis~1ex\"ample.io~1v1~1things", "invalid group"),
    (_with_path("/apis/example.io/v1\\/things"), "/paths/~1apis~1example.io~1v1\\~1things", "invalid version"),
    (_with_path('/api/v1/namespaces/{namespace}/config"maps'), "/paths/~1api~1v1~1namespaces~1{namespace}~1config\"maps", "invalid resource"),
    (_with_path("/api/v1/namespaces/{namespace}/ConfigMaps/{name}"), "/paths/~1api~1v1~1namespaces~1{namespace}~1ConfigMaps~1{name}", "invalid resource"),
    (_with_path("/api/v1/namespaces/{namespace}/configmaps/{name}/st'atus"), "/paths/~1api~1v1~1namespaces~1{namespace}~1configmaps~1{name}~1st'atus", "invalid subresource"),
    (_with_info("version", 'v1.35"""\n; import os'), "/info/version", "one line"),
    (_with_info("title", "Kubernetes\x1b[2J"), "/info/title", "control characters"),
    (_with_info("title", "K" * 201), "/info/title", "at most 200"),
]


@pytest.mark.parametrize(("document", "pointer", "fragment"), BAD_NAMES)
def test_names_breaking_kubernetes_rules_are_rejected_at_their_pointer(
        document: dict[str, Any], pointer: str, fragment: str) -> None:
    with pytest.raises(SpecError) as info:
        validate_spec(_spec(document))
    errors = _flatten(info.value)
    assert [e.pointer for e in errors] == [pointer], [str(e) for e in errors]
    assert fragment in errors[0].message


@pytest.mark.parametrize("document", [
    _with_gvk("kind", "My-Kind"),  # apiextensions allows '-' in kinds (DNS-1035 once lowercased)
    _with_gvk("kind", "X"),
    _with_gvk("group", "cert-manager.io"),
    _with_gvk("version", "v1alpha1"),
    _with_info("version", 'v1.35 "quoted" \\ and """ triple'),  # inert: escaped where it is used
    _with_info("title", "Kubernetes — ünïcode"),
    _with_path("/apis/example.io/v1beta2/things"),
])
def test_names_following_kubernetes_rules_are_accepted(document: dict[str, Any]) -> None:
    validate_spec(_spec(document))


def test_an_empty_object_reports_each_missing_key_once() -> None:
    with pytest.raises(SpecError) as info:
        validate_spec(_spec({}))
    errors = _flatten(info.value)
    assert len(errors) == 1
    assert errors[0].message == "missing required keys 'swagger', 'definitions', 'paths'"
    document = copy.deepcopy(BASE)
    del document["paths"]
    with pytest.raises(SpecError) as info:
        validate_spec(_spec(document))
    assert [e.message for e in _flatten(info.value)] == ["missing required key 'paths'"]
