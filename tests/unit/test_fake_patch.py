"""The fake server's patch engines, on tables modelled on upstream's cases (RFC 6902
appendix A, RFC 7386 appendix A, apimachinery's strategicpatch tests) plus the
kube-apiserver quirks measured on the real server (tests/integration/
test_fake_patch_vs_server.py checks the same engines against it)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubecodegen_runtime.fake.patch import (
    PatchError,
    json_patch,
    merge_patch,
    strategic_merge_patch,
)
from kubecodegen_runtime.fake.schema import Field, PackageApi
from kubecodegen_runtime.scheme import Scheme
from tests.generated_packages import import_reference

# --- RFC 6902 ---------------------------------------------------------------------------

JSON_PATCH_CASES: list[tuple[str, Any, list[Any], Any]] = [
    ("A.1 add an object member", {"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux"}],
     {"baz": "qux", "foo": "bar"}),
    ("A.2 add an array element", {"foo": ["bar", "baz"]},
     [{"op": "add", "path": "/foo/1", "value": "qux"}], {"foo": ["bar", "qux", "baz"]}),
    ("A.3 remove an object member", {"baz": "qux", "foo": "bar"}, [{"op": "remove", "path": "/baz"}],
     {"foo": "bar"}),
    ("A.4 remove an array element", {"foo": ["bar", "qux", "baz"]},
     [{"op": "remove", "path": "/foo/1"}], {"foo": ["bar", "baz"]}),
    ("A.5 replace a value", {"baz": "qux", "foo": "bar"},
     [{"op": "replace", "path": "/baz", "value": "boo"}], {"baz": "boo", "foo": "bar"}),
    ("A.6 move a value", {"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
     [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
     {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}}),
    ("A.7 move an array element", {"foo": ["all", "grass", "cows", "eat"]},
     [{"op": "move", "from": "/foo/1", "path": "/foo/3"}], {"foo": ["all", "cows", "eat", "grass"]}),
    ("A.8 test succeeds", {"baz": "qux", "foo": ["a", 2, "c"]},
     [{"op": "test", "path": "/baz", "value": "qux"}, {"op": "test", "path": "/foo/1", "value": 2}],
     {"baz": "qux", "foo": ["a", 2, "c"]}),
    ("A.10 add a nested member object", {"foo": "bar"},
     [{"op": "add", "path": "/child", "value": {"grandchild": {}}}],
     {"foo": "bar", "child": {"grandchild": {}}}),
    ("A.11 unknown members of an operation are ignored", {"foo": "bar"},
     [{"op": "add", "path": "/baz", "value": "qux", "xyz": 123}], {"foo": "bar", "baz": "qux"}),
    ("A.14 ~0 and ~1 escapes", {"/": 9, "~1": 10},
     [{"op": "test", "path": "/~01", "value": 10}, {"op": "add", "path": "/a~1b", "value": 1}],
     {"/": 9, "~1": 10, "a/b": 1}),
    ("A.16 add an array value", {"foo": ["bar"]},
     [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}], {"foo": ["bar", ["abc", "def"]]}),
    ("copy shares nothing with later writes", {"a": {"b": 1}},
     [{"op": "copy", "from": "/a", "path": "/c"}, {"op": "replace", "path": "/c/b", "value": 2}],
     {"a": {"b": 1}, "c": {"b": 2}}),
    ("add at the array's end by index", {"l": [1]}, [{"op": "add", "path": "/l/1", "value": 2}],
     {"l": [1, 2]}),
    # kube-apiserver's library (evanphx/json-patch v4), measured on the 1.20 server
    ("replace of a missing member adds it", {"data": {"a": "1"}},
     [{"op": "replace", "path": "/data/zz", "value": "v"}], {"data": {"a": "1", "zz": "v"}}),
    ("test of a missing member against null succeeds", {"data": {}},
     [{"op": "test", "path": "/data/zz", "value": None}], {"data": {}}),
    ("negative index counts from the end (add -1 appends)", {"l": ["a", "b"]},
     [{"op": "add", "path": "/l/-1", "value": "c"}], {"l": ["a", "b", "c"]}),
    ("negative index removes from the end", {"l": ["a", "b"]}, [{"op": "remove", "path": "/l/-1"}],
     {"l": ["a"]}),
    ("add without value adds null", {"data": {}}, [{"op": "add", "path": "/data/q"}],
     {"data": {"q": None}}),
]


@pytest.mark.parametrize(("doc", "ops", "expected"), [c[1:] for c in JSON_PATCH_CASES],
                         ids=[c[0] for c in JSON_PATCH_CASES])
def test_json_patch(doc: Any, ops: list[Any], expected: Any) -> None:
    before, ops_before = copy.deepcopy(doc), copy.deepcopy(ops)
    assert json_patch(doc, ops) == expected
    assert doc == before and ops == ops_before, "inputs must not change"


JSON_PATCH_ERRORS: list[tuple[str, Any, Any]] = [
    ("A.9 test fails", {"baz": "qux"}, [{"op": "test", "path": "/baz", "value": "bar"}]),
    ("A.12 add to a nonexistent target", {"foo": "bar"},
     [{"op": "add", "path": "/baz/bat", "value": "qux"}]),
    ("A.15 test a string against a number", {"/": 9, "~1": 10},
     [{"op": "test", "path": "/~01", "value": "10"}]),
    ("remove a missing member", {"data": {}}, [{"op": "remove", "path": "/data/zz"}]),
    ("add past the array's end", {"l": [1]}, [{"op": "add", "path": "/l/5", "value": 2}]),
    ("an index that is no number", {"l": [1]}, [{"op": "add", "path": "/l/x", "value": 2}]),
    ("remove past the end", {"l": [1]}, [{"op": "remove", "path": "/l/7"}]),
    ("unknown op", {"a": 1}, [{"op": "foo", "path": "/a"}]),
    ("op without path", {"a": 1}, [{"op": "add", "value": "x"}]),
    ("move from a missing member", {"a": {}}, [{"op": "move", "from": "/a/zz", "path": "/a/q"}]),
    ("test true against 1", {"a": 1}, [{"op": "test", "path": "/a", "value": True}]),
    ("the whole document, before 1.23", {"a": 1}, [{"op": "replace", "path": "", "value": {}}]),
]


@pytest.mark.parametrize(("doc", "ops"), [c[1:] for c in JSON_PATCH_ERRORS],
                         ids=[c[0] for c in JSON_PATCH_ERRORS])
def test_json_patch_that_does_not_apply_is_the_servers_generic_422(doc: Any, ops: Any) -> None:
    with pytest.raises(PatchError) as info:
        json_patch(doc, ops, kubernetes_version="v1.20.2")
    assert (info.value.status, info.value.reason) == (422, "Invalid")
    assert info.value.message == "the server rejected our request due to an error in our request"
    assert info.value.details == {}


def test_json_patch_whole_document_and_negative_reads_from_1_23() -> None:
    assert json_patch({"a": 1}, [{"op": "replace", "path": "", "value": {"b": 2}}]) == {"b": 2}
    assert json_patch({"a": 1}, [{"op": "test", "path": "", "value": {"a": 1}}]) == {"a": 1}
    assert json_patch({"l": [1, 2]}, [{"op": "replace", "path": "/l/-1", "value": 3}]) == {"l": [1, 3]}
    with pytest.raises(PatchError):
        json_patch({"l": [1, 2]}, [{"op": "replace", "path": "/l/-1", "value": 3}],
                   kubernetes_version="v1.20.2")


@pytest.mark.parametrize(("body", "version", "message"), [
    ({"op": "add"}, "v1.20.2", "json: cannot unmarshal object into Go value of type jsonpatch.Patch"),
    ("x", "v1.20.2", "json: cannot unmarshal string into Go value of type jsonpatch.Patch"),
    ([1], "v1.20.2", "json: cannot unmarshal number into Go value of type jsonpatch.Operation"),
    # from 1.25 the server decodes the body first (measured on 1.36 for the first)
    ({"op": "add"}, "v1.36.4",
     "error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp"),
    ([1], "v1.36.4", "error decoding patch: json: cannot unmarshal number into Go value of type handlers.jsonPatchOp"),
    ([{"op": 1}], "v1.36.4",
     "error decoding patch: json: cannot unmarshal number into Go struct field jsonPatchOp.op of type string"),
])
def test_json_patch_body_that_is_no_patch_is_a_bad_request(body: Any, version: str, message: str) -> None:
    with pytest.raises(PatchError) as info:
        json_patch({}, body, kubernetes_version=version)
    assert (info.value.status, info.value.reason, info.value.message) == (400, "BadRequest", message)


def test_field_validation_ignore_skips_the_first_decoding() -> None:
    with pytest.raises(PatchError) as info:
        json_patch({}, [{"op": 1}], kubernetes_version="v1.36.4", field_validation="Ignore")
    assert info.value.status == 422
    with pytest.raises(PatchError) as merge:
        merge_patch({}, 5, kubernetes_version="v1.36.4", field_validation="Ignore")
    assert (merge.value.status, merge.value.message) == (400, "Invalid JSON Patch")


def test_json_patch_of_more_than_10000_operations_is_too_large() -> None:
    test = {"op": "test", "path": "/a", "value": 1}
    assert json_patch({"a": 1}, [test] * 10000) == {"a": 1}
    with pytest.raises(PatchError) as info:
        json_patch({"a": 1}, [test] * 10001)
    assert (info.value.status, info.value.reason) == (413, "RequestEntityTooLarge")
    assert info.value.message.endswith("is 10000, got 10001")


def test_json_patch_is_copy_on_write() -> None:
    doc = {"big": {"x": list(range(100))}, "small": {"a": 1}}
    out = json_patch(doc, [{"op": "replace", "path": "/small/a", "value": 2}])
    assert out["big"] is doc["big"], "untouched subtrees are shared, not copied"
    assert doc["small"] == {"a": 1}


def test_failed_json_patch_changes_nothing() -> None:
    doc = {"a": {"b": 1}}
    with pytest.raises(PatchError):
        json_patch(doc, [{"op": "add", "path": "/a/c", "value": 2}, {"op": "remove", "path": "/zz"}])
    assert doc == {"a": {"b": 1}}


# --- RFC 7386 ---------------------------------------------------------------------------

MERGE_CASES: list[tuple[Any, Any, Any]] = [  # RFC 7386 appendix A (object patches)
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    # the library prunes nulls in objects inside arrays it adds (not the RFC; measured)
    ({}, {"a": [{"b": None, "c": 1}, None]}, {"a": [{"c": 1}, None]}),
    ({"data": {"a": "1", "b": "2"}}, {"data": {"a": None, "c": "3"}}, {"data": {"b": "2", "c": "3"}}),
]


@pytest.mark.parametrize(("doc", "patch", "expected"), MERGE_CASES)
def test_merge_patch(doc: Any, patch: Any, expected: Any) -> None:
    before, patch_before = copy.deepcopy(doc), copy.deepcopy(patch)
    assert merge_patch(doc, patch) == expected
    assert doc == before and patch == patch_before


def test_merge_patch_before_1_22_drops_null_array_items_too() -> None:
    assert merge_patch({}, {"a": [{"b": None, "c": 1}, None]}, kubernetes_version="v1.21.0") == {"a": [{"c": 1}]}
    assert merge_patch({}, {"a": [None]}, kubernetes_version="v1.22.0") == {"a": [None]}


@pytest.mark.parametrize("patch", [None, "x", 5, True])
def test_merge_patch_that_is_no_object_is_the_servers_500_before_1_23(patch: Any) -> None:
    with pytest.raises(PatchError) as info:
        merge_patch({"a": 1}, patch, kubernetes_version="v1.20.2")
    assert (info.value.status, info.value.reason, info.value.message) == (500, "", "Invalid JSON Patch")


def test_merge_patch_array_is_refused_as_no_object_before_1_25() -> None:
    with pytest.raises(PatchError) as info:
        merge_patch({"a": 1}, [1], kubernetes_version="v1.20.2")
    assert (info.value.status, info.value.reason) == (422, "Invalid")
    assert info.value.details is not None and info.value.details["causes"][0]["field"] == "patch"


@pytest.mark.parametrize(("patch", "message"), [  # measured on 1.36
    (None, "Invalid JSON Patch"),
    (5, "error decoding patch: json: cannot unmarshal number into Go value of type map[string]interface {}"),
    ([1], "error decoding patch: json: cannot unmarshal array into Go value of type map[string]interface {}"),
])
def test_merge_patch_that_is_no_object_is_a_bad_request_from_1_25(patch: Any, message: str) -> None:
    with pytest.raises(PatchError) as info:
        merge_patch({"a": 1}, patch)
    assert (info.value.status, info.value.reason, info.value.message) == (400, "BadRequest", message)


# --- strategic merge patch ----------------------------------------------------------------


def _api(version: str = "") -> PackageApi:
    merge_by_name = {"container": "list", "patch_strategy": "merge", "patch_merge_key": "name"}
    return PackageApi(
        resources=(), roots={("apps", "v1", "Deployment"): "Deployment"},
        scheme=Scheme("test", {}), kubernetes_version=version,
        types={
            "Deployment": {"metadata": Field(type="ObjectMeta"), "spec": Field(type="DeploymentSpec")},
            "ObjectMeta": {
                "labels": Field(container="map"), "annotations": Field(container="map"),
                "finalizers": Field(container="list", patch_strategy="merge"),
                "ownerReferences": Field(type="OwnerReference", container="list",
                                         patch_strategy="merge", patch_merge_key="uid"),
            },
            "DeploymentSpec": {
                "template": Field(type="PodTemplateSpec"),
                "strategy": Field(type="DeploymentStrategy", patch_strategy="retainKeys"),
                "selector": Field(type="LabelSelector", patch_strategy="replace"),
            },
            "DeploymentStrategy": {"rollingUpdate": Field(type="RollingUpdate")},
            "PodTemplateSpec": {"metadata": Field(type="ObjectMeta"), "spec": Field(type="PodSpec")},
            "PodSpec": {
                "containers": Field(type="Container", **merge_by_name),  # type: ignore[arg-type]
                "volumes": Field(type="Volume", container="list", patch_strategy="merge,retainKeys",
                                 patch_merge_key="name"),
                "tolerations": Field(type="Toleration", container="list"),
                "nodeSelector": Field(container="map"),
                "overhead": Field(type="Quantity", container="map"),
            },
            "Container": {
                "env": Field(type="EnvVar", **merge_by_name),  # type: ignore[arg-type]
                "ports": Field(type="ContainerPort", container="list", patch_strategy="merge",
                               patch_merge_key="containerPort"),
                "args": Field(container="list"),
                "resources": Field(type="ResourceRequirements"),
                "scalarsNoKey": Field(type="Thing", container="list", patch_strategy="merge"),
            },
            "ResourceRequirements": {"limits": Field(container="map")},
            "Volume": {"configMap": Field(type="ConfigMapVolumeSource"),
                       "emptyDir": Field(type="EmptyDirVolumeSource")},
        })


API = _api()
LEGACY = _api("v1.20.2")


def _pod(**spec: Any) -> dict[str, Any]:
    return {"spec": {"template": {"spec": spec}}}


def _containers(out: dict[str, Any]) -> list[Any]:
    containers: list[Any] = out["spec"]["template"]["spec"]["containers"]
    return containers


def _names(items: list[Any], key: str = "name") -> list[Any]:
    return [item[key] for item in items]


SMP_CASES: list[tuple[str, Any, Any, Any]] = [
    ("maps merge, null deletes", {"metadata": {"labels": {"a": "1", "b": "2"}}},
     {"metadata": {"labels": {"a": None, "c": "3"}}}, {"metadata": {"labels": {"b": "2", "c": "3"}}}),
    ("null for a missing key does nothing", {"metadata": {}}, {"metadata": {"labels": None}},
     {"metadata": {}}),
    ("a new map drops its null members", {"metadata": {}}, {"metadata": {"labels": {"k": None, "j": "1"}}},
     {"metadata": {"labels": {"j": "1"}}}),
    ("$patch: replace in a map", {"metadata": {"labels": {"a": "1"}}},
     {"metadata": {"labels": {"$patch": "replace", "b": "2"}}}, {"metadata": {"labels": {"b": "2"}}}),
    ("$patch: delete in a map", {"metadata": {"labels": {"a": "1"}}},
     {"metadata": {"labels": {"$patch": "delete"}}}, {"metadata": {"labels": {}}}),
    ("a new value carrying $patch is not stored", {"metadata": {}},
     {"metadata": {"annotations": {"$patch": "replace", "q": "1"}}}, {"metadata": {}}),
    ("replace strategy on a map", {"spec": {"selector": {"matchLabels": {"a": "1"}}}},
     {"spec": {"selector": {"matchExpressions": []}}}, {"spec": {"selector": {"matchExpressions": []}}}),
    ("merge list of maps: new item first, live items after (measured)",
     _pod(containers=[{"name": "a", "image": "x/a:1"}, {"name": "b", "image": "x/b:1"}]),
     _pod(containers=[{"name": "c", "image": "x/c:1"}]),
     _pod(containers=[{"name": "c", "image": "x/c:1"}, {"name": "a", "image": "x/a:1"},
                      {"name": "b", "image": "x/b:1"}])),
    ("merge list of maps: matched item merges in place",
     _pod(containers=[{"name": "a", "image": "x/a:1", "args": ["x"]}, {"name": "b"}]),
     _pod(containers=[{"name": "a", "image": "x/a:2", "args": None}]),
     _pod(containers=[{"name": "a", "image": "x/a:2"}, {"name": "b"}])),
    ("$patch: delete an item by merge key",
     _pod(containers=[{"name": "a"}, {"name": "b"}]), _pod(containers=[{"name": "b", "$patch": "delete"}]),
     _pod(containers=[{"name": "a"}])),
    ("delete a missing item does nothing",
     _pod(containers=[{"name": "a"}]), _pod(containers=[{"name": "z", "$patch": "delete"}]),
     _pod(containers=[{"name": "a"}])),
    ("$patch: replace an item list",
     _pod(containers=[{"name": "a"}, {"name": "b"}]),
     _pod(containers=[{"name": "z", "image": "x/z:1"}, {"$patch": "replace"}]),
     _pod(containers=[{"name": "z", "image": "x/z:1"}])),
    ("nested merging list (env in a container)",
     _pod(containers=[{"name": "a", "env": [{"name": "E1", "value": "1"}, {"name": "E2", "value": "2"}]}]),
     _pod(containers=[{"name": "a", "env": [{"name": "E3", "value": "3"}]}]),
     _pod(containers=[{"name": "a", "env": [{"name": "E3", "value": "3"}, {"name": "E1", "value": "1"},
                                            {"name": "E2", "value": "2"}]}])),
    ("integer merge key (ports by containerPort)",
     _pod(containers=[{"name": "a", "ports": [{"containerPort": 80, "name": "http"}]}]),
     _pod(containers=[{"name": "a", "ports": [{"containerPort": 80, "protocol": "TCP"}]}]),
     _pod(containers=[{"name": "a", "ports": [{"containerPort": 80, "name": "http", "protocol": "TCP"}]}])),
    ("list without strategy is replaced",
     _pod(tolerations=[{"key": "a"}, {"key": "b"}]), _pod(tolerations=[{"key": "k", "operator": "Exists"}]),
     _pod(tolerations=[{"key": "k", "operator": "Exists"}])),
    ("primitive list with merge strategy merges as a set, new items first (measured)",
     {"metadata": {"finalizers": ["a.io/x", "b.io/y"]}}, {"metadata": {"finalizers": ["c.io/z"]}},
     {"metadata": {"finalizers": ["c.io/z", "a.io/x", "b.io/y"]}}),
    ("primitive set merge keeps the live order where it orders both",
     {"metadata": {"finalizers": ["1", "2"]}}, {"metadata": {"finalizers": ["2", "3"]}},
     {"metadata": {"finalizers": ["1", "2", "3"]}}),
    ("$deleteFromPrimitiveList", {"metadata": {"finalizers": ["a", "b", "a"]}},
     {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}, {"metadata": {"finalizers": ["b"]}}),
    ("$deleteFromPrimitiveList on a missing list does nothing (1.23+)", {"metadata": {}},
     {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}, {"metadata": {}}),
    ("$deleteFromPrimitiveList on a list without strategy deletes (1.28+)",
     _pod(containers=[{"name": "a", "args": ["x", "y"]}]),
     _pod(containers=[{"name": "a", "$deleteFromPrimitiveList/args": ["y"]}]),
     _pod(containers=[{"name": "a", "args": ["x"]}])),
    ("$setElementOrder of a primitive list", {"metadata": {"finalizers": ["a", "b"]}},
     {"metadata": {"$setElementOrder/finalizers": ["b", "a"]}}, {"metadata": {"finalizers": ["b", "a"]}}),
    ("$setElementOrder with an added and a deleted item (upstream case)",
     {"l": None, "spec": {"template": {"spec": {"containers": [
         {"name": "1", "other": "a"}, {"name": "2", "value": "2", "other": "b"}, {"name": "3", "value": "3"}]}}}},
     _pod(**{"$setElementOrder/containers": [{"name": "4"}, {"name": "2"}, {"name": "1"}],
             "containers": [{"name": "4", "value": "4"}, {"name": "3", "$patch": "delete"}]}),
     {"l": None, "spec": {"template": {"spec": {"containers": [
         {"name": "4", "value": "4"}, {"name": "2", "value": "2", "other": "b"}, {"name": "1", "other": "a"}]}}}}),
    ("$setElementOrder keeps a server-only item next to its neighbour (upstream case)",
     _pod(containers=[{"name": "1", "other": "a"}, {"name": "2"}, {"name": "9"}, {"name": "3"},
                      {"name": "4"}]),
     _pod(**{"$setElementOrder/containers": [{"name": "2"}, {"name": "1"}, {"name": "4"}, {"name": "3"}]}),
     _pod(containers=[{"name": "2"}, {"name": "1", "other": "a"}, {"name": "9"}, {"name": "4"},
                      {"name": "3"}])),
    ("$retainKeys clears the fields it does not list",
     {"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}}}},
     {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}},
     {"spec": {"strategy": {"type": "Recreate"}}}),
    ("$retainKeys in a merging list item (volumes)",
     _pod(volumes=[{"name": "v", "emptyDir": {}}]),
     _pod(volumes=[{"name": "v", "$retainKeys": ["configMap", "name"], "configMap": {"name": "cm"}}]),
     _pod(volumes=[{"name": "v", "configMap": {"name": "cm"}}])),
    ("map of objects merges values without metadata",
     _pod(overhead={"cpu": "1", "memory": "1Gi"}), _pod(overhead={"cpu": "2"}),
     _pod(overhead={"cpu": "2", "memory": "1Gi"})),
    ("unknown type: JSON-merge-like (objects merge, lists replace)",
     {"x": {"a": 1, "l": [1, 2]}}, {"x": {"b": 2, "l": [3]}}, {"x": {"a": 1, "b": 2, "l": [3]}}),
    ("a new item in a merging list drops nulls and directive keys",
     _pod(containers=[{"name": "a"}]),
     _pod(containers=[{"name": "c", "env": [{"name": "Q", "value": None}], "$setElementOrder/env": [
         {"name": "Q"}]}]),
     _pod(containers=[{"name": "c", "env": [{"name": "Q"}]}, {"name": "a"}])),
    ("type change replaces", {"metadata": {"labels": {"a": "1"}}}, {"metadata": {"labels": "x"}},
     {"metadata": {"labels": "x"}}),
    ("a null patch changes nothing", {"a": 1}, None, {"a": 1}),
]


@pytest.mark.parametrize(("doc", "patch", "expected"), [c[1:] for c in SMP_CASES],
                         ids=[c[0] for c in SMP_CASES])
def test_strategic_merge_patch(doc: Any, patch: Any, expected: Any) -> None:
    before, patch_before = copy.deepcopy(doc), copy.deepcopy(patch)
    assert strategic_merge_patch(doc, patch, API, "Deployment") == expected
    assert doc == before and patch == patch_before, "inputs must not change"


def test_strategic_merge_patch_shares_untouched_subtrees() -> None:
    doc = {"metadata": {"labels": {"a": "1"}}, "spec": {"template": {"spec": {"containers": [{"name": "a"}]}}}}
    out = strategic_merge_patch(doc, {"metadata": {"labels": {"b": "2"}}}, API, "Deployment")
    assert out["spec"] is doc["spec"]


SMP_ERRORS: list[tuple[str, Any, Any, int, str, str]] = [
    ("unknown $patch in a map", {"metadata": {"labels": {}}}, {"metadata": {"labels": {"$patch": "foo"}}},
     500, "", "unknown patch type: foo in map: map[$patch:foo]"),
    ("$patch: merge in a list", _pod(containers=[{"name": "b"}]),
     _pod(containers=[{"name": "b", "$patch": "merge"}]),
     500, "", "merging lists cannot yet be specified in the patch"),
    ("unknown $patch in a list item", _pod(containers=[{"name": "b"}]),
     _pod(containers=[{"name": "b", "$patch": "bogus"}]),
     500, "", "unknown patch type: bogus in map: map[$patch:bogus name:b]"),
    ("item without its merge key", _pod(containers=[{"name": "b"}]), _pod(containers=[{"image": "x/q:1"}]),
     500, "", "map: map[image:x/q:1] does not contain declared merge key: name"),
    ("$retainKeys that is no list", {"spec": {"strategy": {}}}, {"spec": {"strategy": {"$retainKeys": "x"}}},
     400, "BadRequest", "invalid patch format of retainKeys"),
    ("$retainKeys not listing a field the patch sets", {"spec": {"strategy": {}}},
     {"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {"maxSurge": 1}}}},
     400, "BadRequest", "invalid patch format of retainKeys"),
    ("$setElementOrder that is no list", {"metadata": {"finalizers": ["a"]}},
     {"metadata": {"$setElementOrder/finalizers": "x"}},
     500, "", "expected a []interface {}, but received a string"),
    ("$deleteFromPrimitiveList without a field", {"metadata": {}},
     {"metadata": {"$deleteFromPrimitiveList": ["x"]}}, 400, "BadRequest", "invalid patch format of primitive list"),
    ("$setElementOrder without a field", {"metadata": {}},
     {"metadata": {"$setElementOrder": ["x"]}}, 400, "BadRequest", "invalid patch format of setElementOrder list"),
    ("$setElementOrder that contradicts the patch", {"metadata": {"finalizers": ["a", "b"]}},
     {"metadata": {"finalizers": ["b"], "$setElementOrder/finalizers": ["a"]}},
     500, "", "The order in patch list:\n[b]\n doesn't match $setElementOrder list:\n[a]\n"),
    ("mixed item types", {"metadata": {"finalizers": ["a"]}}, {"metadata": {"finalizers": [{"a": 1}]}},
     500, "", "list element types are not identical: [[a] [map[a:1]]]"),
    ("merge strategy without merge key on a list of maps", _pod(containers=[{"name": "a", "scalarsNoKey": [{}]}]),
     _pod(containers=[{"name": "a", "scalarsNoKey": [{"x": 1}]}]),
     500, "", "cannot merge lists without merge key for Thing"),
    ("a patch that is no object", {}, [1], 400, "BadRequest",
     "json: cannot unmarshal array into Go value of type map[string]interface {}"),
]


@pytest.mark.parametrize(("doc", "patch", "status", "reason", "message"), [c[1:] for c in SMP_ERRORS],
                         ids=[c[0] for c in SMP_ERRORS])
def test_strategic_merge_patch_errors(doc: Any, patch: Any, status: int, reason: str, message: str) -> None:
    with pytest.raises(PatchError) as info:
        strategic_merge_patch(doc, patch, API, "Deployment")
    assert (info.value.status, info.value.reason, info.value.message) == (status, reason, message)


def test_legacy_servers_keep_their_deletion_list_bugs() -> None:
    # before 1.23 a deletion list for a missing list becomes the list (measured on 1.20:
    # the server then fails to decode ownerReferences made of strings)
    missing = strategic_merge_patch({"metadata": {}}, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}},
                                    LEGACY, "Deployment")
    assert missing == {"metadata": {"finalizers": ["a"]}}
    # before 1.28 a deletion list on a list without merge strategy replaces it (measured)
    replaced = strategic_merge_patch(
        _pod(containers=[{"name": "a", "args": ["x"]}]),
        _pod(containers=[{"name": "a", "args": ["x"], "$deleteFromPrimitiveList/args": ["y"]}]),
        LEGACY, "Deployment")
    assert _containers(replaced)[0]["args"] == ["y"]


def test_set_element_order_for_a_list_the_patch_adds() -> None:
    out = strategic_merge_patch(
        {"metadata": {}},
        {"metadata": {"finalizers": ["a", "c"], "$setElementOrder/finalizers": ["a", "b", "c"]}}, API, "Deployment")
    assert out == {"metadata": {"finalizers": ["a", "c"]}}
    with pytest.raises(PatchError):  # the patch's order must agree with the directive's
        strategic_merge_patch({"metadata": {}}, {"metadata": {
            "finalizers": ["c", "a"], "$setElementOrder/finalizers": ["a", "b", "c"]}}, API, "Deployment")


def test_json_values_round_trip_through_json() -> None:
    # the engines only ever produce JSON values
    doc = {"metadata": {"finalizers": ["a"]}, "spec": {"template": {"spec": {"containers": [{"name": "a"}]}}}}
    out = strategic_merge_patch(doc, {"metadata": {"finalizers": ["b"]}}, API, "Deployment")
    assert json.loads(json.dumps(out)) == out


def test_a_generated_packages_tables_drive_the_merge() -> None:
    """kube_v1_35's own tables (``_fake_api.py``) and its version's semantics (1.28+:
    a deletion list deletes from a list without merge strategy)."""
    import_reference("kube_v1_35")
    from kube_v1_35.fake import package_api

    api = package_api()
    key = api.type_of("apps", "v1", "Deployment")
    live = {"metadata": {"name": "web", "finalizers": ["a"]}, "spec": {
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
        "template": {"spec": {
            "containers": [{"name": "a", "args": ["--x", "--y"], "env": [{"name": "E1", "value": "1"}]},
                           {"name": "b", "ports": [{"containerPort": 80, "protocol": "TCP"}]}],
            "volumes": [{"name": "v1", "emptyDir": {}}, {"name": "v2", "emptyDir": {}}],
            "tolerations": [{"key": "k1"}]}}}}
    patch = {"metadata": {"finalizers": ["b"]}, "spec": {
        "strategy": {"$retainKeys": ["type"], "type": "Recreate"},
        "template": {"spec": {
            "containers": [{"name": "c", "image": "c:1"},
                           {"name": "a", "env": [{"name": "E2", "value": "2"}],
                            "$deleteFromPrimitiveList/args": ["--y"]},
                           {"name": "b", "ports": [{"containerPort": 81, "protocol": "TCP"}]}],
            "volumes": [{"name": "v1", "$patch": "delete"}],
            "tolerations": [{"key": "k2"}]}}}}
    out = strategic_merge_patch(live, patch, api, key)
    assert out == {"metadata": {"name": "web", "finalizers": ["b", "a"]}, "spec": {
        "strategy": {"type": "Recreate"},
        "template": {"spec": {
            "containers": [{"name": "c", "image": "c:1"},
                           {"name": "a", "args": ["--x"],
                            "env": [{"name": "E2", "value": "2"}, {"name": "E1", "value": "1"}]},
                           {"name": "b", "ports": [{"containerPort": 81, "protocol": "TCP"},
                                                   {"containerPort": 80, "protocol": "TCP"}]}],
            "volumes": [{"name": "v2", "emptyDir": {}}],
            "tolerations": [{"key": "k2"}]}}}}


RAW_CASES: list[tuple[str, Any, Any, Any, Any]] = [
    # (name, live, patch, result on 1.20, result on 1.28+), measured on 1.20 where marked
    ("null in a new map of strings is \"\" before 1.24 (measured)", {"metadata": {}},
     {"metadata": {"labels": {"k": None, "j": "1"}}},
     {"metadata": {"labels": {"k": "", "j": "1"}}}, {"metadata": {"labels": {"j": "1"}}}),
    ("$patch: replace keeps a null member as \"\" everywhere (measured)", {"metadata": {"labels": {"a": "1"}}},
     {"metadata": {"labels": {"$patch": "replace", "b": None, "c": "3"}}},
     {"metadata": {"labels": {"b": "", "c": "3"}}}, {"metadata": {"labels": {"b": "", "c": "3"}}}),
    ("a $patch key in a new map of strings stays a key before 1.28 (measured: then refused)", {"spec": {}},
     {"spec": {"template": {"spec": {"nodeSelector": {"$patch": "delete"}}}}},
     {"spec": {"template": {"spec": {"nodeSelector": {"$patch": "delete"}}}}}, {"spec": {"template": {"spec": {}}}}),
    ("an appended item is stored raw: its $patch item stays (measured)", _pod(containers=[{"name": "a"}]),
     _pod(containers=[{"name": "c", "args": [None, "q"], "env": [{"name": "X", "$patch": "delete"}]}]),
     _pod(containers=[{"name": "c", "args": ["", "q"], "env": [{"name": "X"}]}, {"name": "a"}]),
     _pod(containers=[{"name": "c", "args": ["", "q"], "env": [{"name": "X"}]}, {"name": "a"}])),
    ("a new object's $patch member is dropped only from 1.28", {"spec": {}},
     {"spec": {"template": {"spec": {"containers": [{"name": "c", "resources": {"$patch": "delete"}}]}}}},
     _pod(containers=[{"name": "c", "resources": {}}]), _pod(containers=[{"name": "c"}])),
]


@pytest.mark.parametrize(("live", "patch", "legacy", "modern"), [c[1:] for c in RAW_CASES],
                         ids=[c[0] for c in RAW_CASES])
def test_values_taken_raw_come_out_as_the_typed_round_trip_gives_them(
        live: Any, patch: Any, legacy: Any, modern: Any) -> None:
    assert strategic_merge_patch(live, patch, LEGACY, "Deployment") == legacy
    assert strategic_merge_patch(live, patch, API, "Deployment") == modern


# --- merge and JSON patch results are trees of their own (the server skips copying them) --

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["a", "b", ""]),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["a", "b", "c"]), inner, max_size=3),
    max_leaves=12)
_OBJECTS = st.dictionaries(st.sampled_from(["a", "b", "c"]), _JSON, max_size=3)


def _container_ids(value: Any, seen: list[int]) -> None:
    if isinstance(value, (dict, list)):
        seen.append(id(value))
        for item in value.values() if isinstance(value, dict) else value:
            _container_ids(item, seen)


@settings(max_examples=300, deadline=None)
@given(_OBJECTS, _OBJECTS, st.sampled_from(["v1.20.2", "v1.35.0"]))
def test_merge_patch_result_shares_no_container_twice(doc: Any, patch: Any,
                                                      version: str) -> None:
    """writes._patched stores a merge patch's result of a private document and a freshly
    decoded patch without copying it: that is only sound if no dict or list appears twice
    in the result (an in-place change of one place would show at the other) and the
    result is what a copy would be."""
    doc, patch = json.loads(json.dumps(doc)), json.loads(json.dumps(patch))
    result = merge_patch(doc, patch, kubernetes_version=version)
    seen: list[int] = []
    _container_ids(result, seen)
    assert len(seen) == len(set(seen))
    assert json.loads(json.dumps(result)) == result


_POINTERS = st.sampled_from(["", "/a", "/b", "/a/b", "/a/0", "/a/-", "/b/a", "/a/b/c", "/c/0"])
_OPERATIONS = st.lists(st.fixed_dictionaries(
    {"op": st.sampled_from(["add", "remove", "replace", "move", "copy", "test"]),
     "path": _POINTERS},
    optional={"from": _POINTERS, "value": _JSON}), max_size=5)


@settings(max_examples=500, deadline=None)
@given(_OBJECTS, _OPERATIONS, st.sampled_from(["v1.20.2", "v1.35.0"]))
def test_json_patch_result_shares_no_container_twice(doc: Any, operations: Any,
                                                     version: str) -> None:
    """As for the merge patch: a JSON patch's result of a private document and freshly
    decoded operations holds no dict or list twice (``copy`` copies, ``move`` moves)."""
    doc, operations = json.loads(json.dumps(doc)), json.loads(json.dumps(operations))
    try:
        result = json_patch(doc, operations, kubernetes_version=version)
    except PatchError:
        return
    seen: list[int] = []
    _container_ids(result, seen)
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize("operations", [
    [{"op": "copy", "from": "/a", "path": "/b"}],
    [{"op": "copy", "from": "/a", "path": "/a/c"}],
    [{"op": "move", "from": "/a", "path": "/b"}],
    [{"op": "add", "path": "/b", "value": {"x": [1]}}, {"op": "copy", "from": "/b", "path": "/c"},
     {"op": "move", "from": "/c", "path": "/a/d"}, {"op": "add", "path": "/a/d/x/-", "value": 2}],
])
def test_json_patch_copies_and_moves_share_no_container(operations: list[Any]) -> None:
    result = json_patch({"a": {"k": {"v": [1]}}}, operations)
    seen: list[int] = []
    _container_ids(result, seen)
    assert len(seen) == len(set(seen))


_NAMES = st.sampled_from(["a", "b", "c"])
_SCALARS = st.none() | st.sampled_from(["a", "b", "x"]) | st.integers(0, 2)
_CONTAINER = st.fixed_dictionaries({"name": _NAMES}, optional={
    "image": _SCALARS, "args": st.lists(_SCALARS, max_size=3),
    "env": st.lists(st.fixed_dictionaries({"name": _NAMES}, optional={"value": _SCALARS}),
                    max_size=3),
    "$patch": st.sampled_from(["delete", "replace"]),
    "$deleteFromPrimitiveList/args": st.lists(_SCALARS, max_size=2),
    "resources": st.dictionaries(st.sampled_from(["limits", "$patch"]),
                                 st.dictionaries(_NAMES, _SCALARS, max_size=2)
                                 | st.sampled_from(["replace", "delete"]), max_size=2)})
_POD_SPEC = st.fixed_dictionaries({}, optional={
    "containers": st.lists(_CONTAINER, max_size=3),
    "$setElementOrder/containers": st.lists(st.fixed_dictionaries({"name": _NAMES}), max_size=3),
    "nodeSelector": st.dictionaries(_NAMES, _SCALARS, max_size=2),
    "tolerations": st.lists(st.dictionaries(_NAMES, _SCALARS, max_size=2), max_size=2)})
_DEPLOYMENT = st.fixed_dictionaries({}, optional={
    "metadata": st.fixed_dictionaries({}, optional={
        "finalizers": st.lists(_SCALARS, max_size=3),
        "$deleteFromPrimitiveList/finalizers": st.lists(_SCALARS, max_size=2),
        "$setElementOrder/finalizers": st.lists(_SCALARS, max_size=3),
        "labels": st.dictionaries(_NAMES, _SCALARS, max_size=2)}),
    "spec": st.fixed_dictionaries({}, optional={
        "template": st.fixed_dictionaries({}, optional={"spec": _POD_SPEC}),
        "strategy": st.fixed_dictionaries({}, optional={
            "type": _SCALARS, "rollingUpdate": st.dictionaries(_NAMES, _SCALARS, max_size=2),
            "$retainKeys": st.lists(st.sampled_from(["type", "rollingUpdate"]), max_size=2)}),
        "selector": st.dictionaries(_NAMES, _SCALARS, max_size=2)})})


@settings(max_examples=500, deadline=None)
@given(_DEPLOYMENT, _DEPLOYMENT, st.sampled_from([API, LEGACY]))
def test_strategic_merge_result_shares_no_container_twice(doc: Any, patch: Any,
                                                          api: PackageApi) -> None:
    """As for the merge patch: a strategic merge's result of a private document and a
    freshly decoded patch holds no dict or list twice."""
    doc, patch = json.loads(json.dumps(doc)), json.loads(json.dumps(patch))
    try:
        result = strategic_merge_patch(doc, patch, api, "Deployment")
    except PatchError:
        return
    seen: list[int] = []
    _container_ids(result, seen)
    assert len(seen) == len(set(seen))
