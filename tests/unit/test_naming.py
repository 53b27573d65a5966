"""naming.py: every identifier rule, including hostile input."""

from __future__ import annotations

import keyword

import pytest

from kubecodegen import naming


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("podIPs", "pod_ips"),
        ("hostIP", "host_ip"),
        ("hostIPs", "host_ips"),
        ("clusterIPs", "cluster_ips"),
        ("apiVersion", "api_version"),
        ("externalIPs", "external_ips"),
        ("podCIDRs", "pod_cidrs"),
        ("nonResourceURLs", "non_resource_urls"),
        ("serverAddressByClientCIDRs", "server_address_by_client_cidrs"),
        ("readOnlyRootFilesystem", "read_only_root_filesystem"),
        ("hostPID", "host_pid"),
        ("x-kubernetes-int-or-string", "x_kubernetes_int_or_string"),
        ("$ref", "ref"),
        ("$schema", "schema"),
        ("continue", "continue_"),
        ("from", "from_"),
        ("not", "not_"),
        ("match", "match_"),
        ("list", "list_"),
        ("type", "type"),
        ("123abc", "field_123abc"),
        ("", "field"),
        ("__import__('os')", "import_os"),
    ],
)
def test_attribute_name(wire: str, expected: str) -> None:
    assert naming.attribute_name(wire) == expected


def test_attribute_names_are_identifiers_and_unique() -> None:
    wires = ["fooBar", "foo_bar", "foo-bar", "FooBar", "class", "x\ny", "é", "a.b", "a b"]
    names = naming.attribute_names(wires)
    assert len(set(names.values())) == len(wires)
    for name in names.values():
        assert name.isidentifier() and name.isascii() and not keyword.iskeyword(name)
    assert names["fooBar"] == "foo_bar" and names["foo_bar"] == "foo_bar_2"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Pod", "Pod"), ("ObjectMeta_v2", "ObjectMetaV2"), ("9lives", "T9lives"),
     ("Object", "Object_"), ("None", "None_"), ("a\"; import os", "AImportOs")],
)
def test_class_name(raw: str, expected: str) -> None:
    assert naming.class_name(raw) == expected


@pytest.mark.parametrize(
    ("plural", "kind", "expected"),
    [("configmaps", "ConfigMap", "config_maps"), ("networkpolicies", "NetworkPolicy", "network_policies"),
     ("endpoints", "Endpoints", "endpoints"), ("ingressclasses", "IngressClass", "ingress_classes"),
     ("componentstatuses", "ComponentStatus", "component_statuses"),
     ("kafkanodepools", "KafkaNodePool", "kafka_node_pools"), ("foos", "Bar", "foos")],
)
def test_accessor_name(plural: str, kind: str, expected: str) -> None:
    assert naming.accessor_name(plural, kind) == expected


def test_group_names_are_stable_and_collision_free() -> None:
    groups = ["", "apps", "batch", "rbac.authorization.k8s.io", "batch.tutorial.kubebuilder.io",
              "monitoring.coreos.com", "cert-manager.io", "a-b.io", "a.b.io", "meta.k8s.io"]
    names = naming.group_py_names(groups)
    assert names[""] == "core" and names["apps"] == "apps" and names["rbac.authorization.k8s.io"] == "rbac"
    assert names["batch"] == "batch"
    assert names["batch.tutorial.kubebuilder.io"] == "batch_tutorial_kubebuilder_io"
    assert names["monitoring.coreos.com"] == "monitoring_coreos_com"
    assert len(set(names.values())) == len(groups)
    assert names["a-b.io"] != names["a.b.io"]
    assert names["meta.k8s.io"] != "meta"  # reserved for apimachinery's meta/v1 module
    # Stability: adding an unrelated group never renames an existing one.
    assert naming.group_py_names(["monitoring.coreos.com"])["monitoring.coreos.com"] == "monitoring_coreos_com"


def test_version_priority_orders_like_kubernetes() -> None:
    versions = ["v1alpha1", "v1beta1", "v1", "v2", "v2beta2", "v10", "v11alpha2", "foo"]
    assert sorted(versions, key=naming.version_priority) == [
        "v10", "v2", "v1", "v2beta2", "v1beta1", "v11alpha2", "v1alpha1", "foo"]
