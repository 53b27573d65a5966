"""naming.py: every identifier rule, including hostile input."""

from __future__ import annotations

import keyword
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    # The wire name that is already snake_case keeps its name; the other one is numbered.
    assert names["foo_bar"] == "foo_bar" and names["fooBar"] == "foo_bar_2"
    assert names["foo-bar"] == "foo_bar_3" and names["FooBar"] == "foo_bar_4"


@pytest.mark.parametrize("order", [["mirrorPercent", "mirror_percent", "mirrorPercentage"],
                                   ["mirror_percent", "mirrorPercentage", "mirrorPercent"],
                                   ["mirrorPercentage", "mirrorPercent", "mirror_percent"]])
def test_exact_snake_case_wire_name_wins_a_collision(order: list[str]) -> None:
    """Istio's HTTPRoute has both ``mirrorPercent`` and ``mirror_percent``: whatever the
    property order, the literal ``mirror_percent`` is ``mirror_percent``."""
    names = naming.attribute_names(order)
    assert names["mirror_percent"] == "mirror_percent"
    assert names["mirrorPercent"] == "mirror_percent_2"
    assert names["mirrorPercentage"] == "mirror_percentage"
    assert list(names) == order


def test_collision_numbering_is_deterministic_and_in_wire_order() -> None:
    first = naming.attribute_names(["aB", "a-b", "a_b", "A_B"])
    assert first == naming.attribute_names(["aB", "a-b", "a_b", "A_B"])
    assert first == {"aB": "a_b_2", "a-b": "a_b_3", "a_b": "a_b", "A_B": "a_b_4"}


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        # digits glued to letters stay in their word
        ("addK8sUIDAttributes", "add_k8s_uid_attributes"),
        ("k8sVersion", "k8s_version"),
        ("v1beta1", "v1beta1"),
        ("x509", "x509"), ("x509Subject", "x509_subject"),
        ("ipv4", "ipv4"), ("IPv6Address", "ipv6_address"),
        ("http2", "http2"), ("enableHttp2", "enable_http2"), ("http2MaxRequests", "http2_max_requests"),
        ("s3", "s3"), ("s3Bucket", "s3_bucket"),
        ("utf8Value", "utf8_value"), ("route53", "route53"), ("pkcs12", "pkcs12"), ("dns01", "dns01"),
        ("oauth2", "oauth2"), ("e2eTests", "e2e_tests"), ("h2cUpgrade", "h2c_upgrade"),
        ("fieldsV1", "fields_v1"),
        # digits with letters after a word start a word of their own
        ("consecutive5xxErrors", "consecutive_5xx_errors"),
        ("consecutiveGatewayErrors", "consecutive_gateway_errors"),
        ("status2xx", "status_2xx"),
        # a version word after an acronym
        ("openAPIV3Schema", "open_api_v3_schema"),
        # names that must not change
        ("podIPs", "pod_ips"), ("hostIP", "host_ip"), ("apiVersion", "api_version"),
        ("targetWWNs", "target_wwns"), ("nodeUID", "node_uid"),
    ],
)
def test_digits_stay_with_their_word(wire: str, expected: str) -> None:
    assert naming.attribute_name(wire) == expected


def test_k8s_stays_one_word_in_group_module_and_class_names() -> None:
    assert naming.group_py_name("cluster.x-k8s.io") == "cluster_x_k8s_io"
    assert naming.module_name(naming.group_py_name("cluster.x-k8s.io"), "v1beta1") == "cluster_x_k8s_io_v1beta1"
    assert naming.class_name("k8sVersion") == "K8sVersion"
    assert naming.class_name("openAPIV3Schema") == "OpenAPIV3Schema"


def test_long_inline_class_names_drop_outer_path_segments() -> None:
    kind = "Workflow"
    path = ("Spec", "Templates", "Steps", "Inline", "Outputs", "Artifacts", "S3", "CreateBucketIfNotPresent")
    name = kind
    names = []
    for depth in range(1, len(path) + 1):
        name = naming.inline_class_name(name, (kind, *path[:depth]))
        names.append(name)
    assert names[0] == "WorkflowSpec"
    assert all(len(n) <= naming.MAX_CLASS_NAME for n in names)
    assert names[-2] == "WorkflowSpecTemplatesStepsInlineOutputsArtifactsS3"  # fits: unchanged
    long_path = (*path[:-1], "X" * 20, "Y" * 20, "Z" * 20)
    short = naming.inline_class_name(kind + "".join(long_path[:-1]), (kind, *long_path))
    assert short.startswith(kind) and short.endswith("X" * 20 + "Y" * 20 + "Z" * 20)
    assert len(short) <= naming.MAX_CLASS_NAME
    # the kind and the last segment stay even when they alone are too long
    huge = naming.inline_class_name(kind + "A" * 90, (kind, "A" * 90, "B" * 90))
    assert huge == kind + "B" * 90


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


# --- identifiers that cannot depend on the Python running the generator --------------


def test_fixed_keyword_lists_cover_the_running_python() -> None:
    """The escape lists are written out; this Python must add no keyword they miss."""
    assert set(keyword.kwlist) <= naming.PYTHON_KEYWORDS
    assert set(keyword.softkwlist) <= naming.ESCAPED_SOFT_KEYWORDS | naming.UNESCAPED_SOFT_KEYWORDS


def test_keyword_escaping_does_not_consult_the_keyword_module(monkeypatch: pytest.MonkeyPatch) -> None:
    """Python 3.12 made ``type`` a soft keyword; the names must not change with it."""
    monkeypatch.setattr(keyword, "softkwlist", [*keyword.softkwlist, "type", "lazy"])
    monkeypatch.setattr(keyword, "issoftkeyword", lambda name: name in keyword.softkwlist)
    monkeypatch.setattr(keyword, "iskeyword", lambda name: True)
    assert naming.attribute_name("type") == "type"
    assert naming.attribute_name("lazy") == "lazy"
    assert naming.attribute_name("match") == "match_"
    assert naming.attribute_name("name") == "name"
    assert naming.group_py_name("type.example.io") == "type_example_io"


@pytest.mark.parametrize("text", ["class", "None", "__debug__", "a-b", "", "1a", "é", "a b", "x\n"])
def test_identifier_refuses_what_cannot_be_bound(text: str) -> None:
    with pytest.raises(naming.NamingError):
        naming.Identifier(text)


@given(st.text())
@settings(max_examples=300, deadline=None)
def test_every_naming_function_gives_a_safe_identifier(text: str) -> None:
    for name in (naming.attribute_name(text), naming.class_name(text), naming.group_py_name(text),
                 naming.module_name(naming.group_py_name(text), text),
                 naming.accessor_name(text, text)):
        assert isinstance(name, naming.Identifier) and naming.is_safe_identifier(name)


# --- stable group names ------------------------------------------------------------------


def test_a_crd_group_sharing_a_builtin_first_label_renames_nothing() -> None:
    """VPA's autoscaling.k8s.io and network-policy-api's policy.networking.k8s.io."""
    groups = ["", "autoscaling", "autoscaling.k8s.io", "policy", "policy.networking.k8s.io",
              "networking.k8s.io", "gateway.networking.k8s.io"]
    names = naming.group_py_names(groups)
    assert names["autoscaling"] == "autoscaling" and names["policy"] == "policy"
    assert names["networking.k8s.io"] == "networking"
    assert names["autoscaling.k8s.io"] == "autoscaling_k8s_io"
    assert names["policy.networking.k8s.io"] == "policy_networking_k8s_io"
    assert names["gateway.networking.k8s.io"] == "gateway_networking_k8s_io"
    # Every name is the one the group gets alone: nothing depends on the other groups.
    for group in groups:
        assert naming.group_py_names([group])[group] == names[group]


def test_a_newcomer_clashing_with_a_builtin_short_name_is_the_one_hashed() -> None:
    names = naming.group_py_names(["rbac", "rbac.authorization.k8s.io", "core"])
    assert names["rbac.authorization.k8s.io"] == "rbac"
    assert names["rbac"].startswith("rbac_") and names["core"].startswith("core_")
    # Ambiguous spellings: the canonical (dotted) group keeps the plain name.
    names = naming.group_py_names(["cert-manager.io", "cert.manager.io"])
    assert names["cert.manager.io"] == "cert_manager_io"
    assert names["cert-manager.io"].startswith("cert_manager_io_")
    assert naming.group_py_names(["cert-manager.io"])["cert-manager.io"] == "cert_manager_io"
    # A group being generated claims before one that is not (``--group``).
    names = naming.group_py_names(["cert-manager.io", "cert_manager.io"], preferred=["cert_manager.io"])
    assert names["cert_manager.io"] == "cert_manager_io"


def _other_interpreters() -> list[str]:
    """Supported Pythons (3.10+) on this machine other than the one running the tests."""
    import glob
    import shutil
    import sys

    found: dict[str, str] = {}
    candidates = [shutil.which(f"python3.{minor}") for minor in range(10, 16)]
    candidates += sorted(glob.glob(str(Path.home() / ".pyenv" / "versions" / "3.1*" / "bin" / "python3")))
    for path in filter(None, candidates):
        version = subprocess.run([path, "-c", "import sys; print(sys.version_info[:2] >= (3, 10), "
                                  "'%d.%d' % sys.version_info[:2])"], capture_output=True, text=True,
                                 check=False).stdout.split()
        current = f"{sys.version_info[0]}.{sys.version_info[1]}"
        if version and version[0] == "True" and version[1] != current:
            found.setdefault(version[1], path)
    return sorted(found.values())


_NAMES_UNDER = """
import importlib.util, json, keyword, sys
spec = importlib.util.spec_from_file_location("naming", sys.argv[1])
naming = importlib.util.module_from_spec(spec)
spec.loader.exec_module(naming)
assert set(keyword.kwlist) <= naming.PYTHON_KEYWORDS, sorted(set(keyword.kwlist) - naming.PYTHON_KEYWORDS)
soft = naming.ESCAPED_SOFT_KEYWORDS | naming.UNESCAPED_SOFT_KEYWORDS
assert set(keyword.softkwlist) <= soft, sorted(set(keyword.softkwlist) - soft)
words = json.load(sys.stdin)
print(json.dumps([[naming.attribute_name(w), naming.class_name(w), naming.group_py_name(w)] for w in words]))
"""


def test_names_are_the_same_under_every_available_python() -> None:
    """Python 3.12 made ``type`` a soft keyword: every property name of the v1.35 spec (and the
    keywords themselves) must map to the same identifiers under 3.10, 3.12, 3.13, ..."""
    import json
    import sys

    from kubecodegen.spec import load_spec

    interpreters = _other_interpreters()
    if not interpreters:
        pytest.skip("no other Python 3.10+ on this machine; the fixed-list test is the proof")
    document = load_spec("builtin:v1.35").document
    words = sorted({name for schema in document["definitions"].values()
                    for name in schema.get("properties", {})} | set(keyword.kwlist)
                   | {"type", "match", "case", "_", "lazy", "print", "exec"})
    assert "type" in words and len(words) > 500
    expected = subprocess.run([sys.executable, "-c", _NAMES_UNDER, naming.__file__], input=json.dumps(words),
                              capture_output=True, text=True, check=True).stdout
    for python in interpreters:
        result = subprocess.run([python, "-I", "-c", _NAMES_UNDER, naming.__file__], input=json.dumps(words),
                                capture_output=True, text=True, check=False)
        assert result.returncode == 0, (python, result.stderr)
        assert result.stdout == expected, python


@pytest.mark.parametrize(("py_name", "expected"), [
    ("storage_v1beta1", "StorageV1Beta1"), ("autoscaling_v2beta2", "AutoscalingV2Beta2"),
    ("resource_v1alpha3", "ResourceV1Alpha3"), ("core_v1", "CoreV1"),
    ("cluster_x_k8s_io_v1beta1", "ClusterXK8sIoV1Beta1"), ("monitoring_coreos_com_v1", "MonitoringCoreosComV1")])
def test_group_version_class_keeps_published_spelling(py_name: str, expected: str) -> None:
    """``StorageV1Beta1Client`` is published API: the digit rule of attribute names does
    not turn it into ``StorageV1beta1Client``."""
    assert naming.group_version_class(py_name) == expected
