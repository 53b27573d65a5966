"""The fieldsV1 walker (kubecodegen_runtime.managed_fields) and ``extract`` on top of it.

The trees are the shapes kube-apiserver records (f: fields, k: list-map keys, v: set values,
i: indices, "." for the node itself); the integration tests check them against a real server.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest

from kubecodegen_runtime import codec
from kubecodegen_runtime.managed_fields import FieldsV1Error, owned, owned_fields

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "generated"))

from kube_v1_35.applyconfigurations import apps_v1 as ac
from kube_v1_35.applyconfigurations import core_v1 as acc
from kube_v1_35.models import apps_v1, core_v1

POD: dict[str, Any] = {
    "spec": {
        "containers": [
            {"name": "a", "image": "one", "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}],
             "ports": [{"containerPort": 80, "protocol": "TCP"}]},
            {"name": "b", "image": "two"},
        ],
        "restartPolicy": "Always",
    },
}


def test_a_leaf_owns_the_whole_value() -> None:
    assert owned({"a": {"b": 1, "c": [1, 2]}}, {"f:a": {}}) == {"a": {"b": 1, "c": [1, 2]}}


def test_fields_not_owned_are_left_out() -> None:
    assert owned(POD, {"f:spec": {"f:restartPolicy": {}}}) == {"spec": {"restartPolicy": "Always"}}


def test_list_map_items_by_key_with_the_key_fields_kept() -> None:
    tree = {"f:spec": {"f:containers": {
        'k:{"name":"a"}': {".": {}, "f:env": {'k:{"name":"Y"}': {".": {}, "f:value": {}}}},
    }}}
    assert owned(POD, tree) == {"spec": {"containers": [{"name": "a", "env": [{"name": "Y", "value": "2"}]}]}}


def test_multi_field_keys_match_on_every_key() -> None:
    service = {"ports": [{"port": 80, "protocol": "UDP", "name": "u"}, {"port": 80, "protocol": "TCP", "name": "t"}]}
    tree = {"f:ports": {'k:{"port":80,"protocol":"TCP"}': {".": {}, "f:name": {}}}}
    assert owned(service, tree) == {"ports": [{"port": 80, "protocol": "TCP", "name": "t"}]}


def test_set_values_and_indices() -> None:
    value = {"finalizers": ["a", "b", "c"], "args": ["x", "y"]}
    tree = {"f:finalizers": {'v:"c"': {}, 'v:"a"': {}}, "f:args": {"i:1": {}}}
    assert owned(value, tree) == {"finalizers": ["a", "c"], "args": ["y"]}


def test_the_node_itself_only() -> None:
    assert owned({"labels": {"a": "1"}}, {"f:labels": {".": {}}}) == {"labels": {}}
    assert owned(POD, {"f:spec": {"f:containers": {'k:{"name":"b"}': {".": {}}}}}) == \
        {"spec": {"containers": [{"name": "b"}]}}


def test_an_owned_field_the_object_lacks_is_nothing() -> None:
    assert owned({"a": 1}, {"f:b": {}, "f:a": {}}) == {"a": 1}


@pytest.mark.parametrize("tree", [
    {"f:spec": {"f:restartPolicy": {"f:deeper": {}}}},  # children below a scalar
    {"f:spec": {'k:{"name":"a"}': {}}},  # a list key in an object
    {"f:spec": {"f:containers": {"f:name": {}}}},  # a field key in a list
    {"f:spec": {"f:containers": {"k:not json": {}}}},
    {"f:spec": {"f:containers": {"k:[1]": {}}}},
])
def test_a_tree_that_does_not_fit_fails_loudly(tree: dict[str, Any]) -> None:
    with pytest.raises(FieldsV1Error):
        owned(POD, tree)


def test_owned_fields_selects_apply_entries_of_the_manager_and_subresource() -> None:
    entries = [
        {"manager": "me", "operation": "Apply", "fieldsV1": {"f:a": {}}},
        {"manager": "me", "operation": "Update", "fieldsV1": {"f:b": {}}},
        {"manager": "me", "operation": "Apply", "subresource": "status", "fieldsV1": {"f:status": {}}},
        {"manager": "other", "operation": "Apply", "fieldsV1": {"f:c": {}}},
        {"manager": "me", "operation": "Apply", "subresource": "", "fieldsV1": {"f:d": {"f:e": {}}}},
    ]
    assert owned_fields(entries, "me") == {"f:a": {}, "f:d": {"f:e": {}}}
    assert owned_fields(entries, "me", "status") == {"f:status": {}}
    assert owned_fields(entries, "nobody") is None


def _deployment(managed: list[dict[str, Any]]) -> apps_v1.Deployment:
    return codec.convert({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "ns", "uid": "u", "managedFields": managed},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "c", "image": "nginx"}]}}},
        "status": {"replicas": 3},
    }, apps_v1.Deployment)


def test_extract_returns_the_typed_configuration_of_what_the_manager_owns() -> None:
    obj = _deployment([
        {"manager": "scaler", "operation": "Apply", "apiVersion": "apps/v1", "fieldsType": "FieldsV1",
         "fieldsV1": {"f:spec": {"f:replicas": {}}}},
        {"manager": "author", "operation": "Apply", "apiVersion": "apps/v1", "fieldsType": "FieldsV1",
         "fieldsV1": {"f:spec": {"f:selector": {}, "f:template": {"f:spec": {"f:containers": {
             'k:{"name":"c"}': {".": {}, "f:image": {}, "f:name": {}}}}}}}},
    ])
    mine = ac.Deployment.extract(obj, "scaler")
    assert isinstance(mine, ac.Deployment)
    assert json.loads(codec.encode(mine)) == {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "ns"}, "spec": {"replicas": 3}}
    theirs = ac.Deployment.extract(obj, "author")
    assert theirs.spec is not None and theirs.spec.replicas is None
    assert theirs.spec.template is not None and theirs.spec.template.spec is not None
    assert theirs.spec.template.spec.containers == [acc.Container(name="c", image="nginx")]
    assert json.loads(codec.encode(ac.Deployment.extract(obj, "nobody"))) == {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "ns"}}


def test_extract_reads_fields_v1_kept_as_raw_json() -> None:
    obj = _deployment([{"manager": "scaler", "operation": "Apply", "fieldsType": "FieldsV1",
                        "fieldsV1": {"f:spec": {"f:replicas": {}}}}])
    entry = obj.metadata.managed_fields[0] if obj.metadata and obj.metadata.managed_fields else None
    assert entry is not None and isinstance(entry.fields_v1, msgspec.Raw)
    spec = ac.Deployment.extract(obj, "scaler").spec
    assert spec is not None and spec.replicas == 3


def test_extract_of_the_status_subresource() -> None:
    obj = _deployment([{"manager": "ctl", "operation": "Apply", "subresource": "status",
                        "fieldsV1": {"f:status": {"f:replicas": {}}}}])
    status = ac.Deployment.extract(obj, "ctl", subresource="status").status
    assert status is not None and status.replicas == 3
    assert ac.Deployment.extract(obj, "ctl").status is None


def test_extract_of_a_config_map() -> None:
    cm = codec.convert({"metadata": {"name": "c", "managedFields": [
        {"manager": "m", "operation": "Apply", "fieldsV1": {"f:data": {"f:b": {}}}}]},
        "data": {"a": "1", "b": "2"}}, core_v1.ConfigMap)
    assert acc.ConfigMap.extract(cm, "m").data == {"b": "2"}
