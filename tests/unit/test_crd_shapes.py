"""Generated CRD code a person would write: names, collisions, quantities and long class names,
measured on the real CRDs in tests/data/crds and on schemas shaped like cluster-api's and Istio's."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubecodegen import naming
from kubecodegen.fixups.special import QUANTITY_PATTERN
from kubecodegen.generate import model_of as model_of_spec
from kubecodegen.model import ApiModel
from kubecodegen.model.types import ArrayOf, MapOf, Primitive, StructRef, StructType
from kubecodegen.spec import LoadedSpec
from tests.crd_schemas import generate_package, spec_from_crds

CRDS = Path(__file__).resolve().parents[1] / "data" / "crds"
CRD_FILES = sorted(p.name for p in CRDS.glob("*.yaml"))


@cache
def crd_file(name: str) -> tuple[dict[str, Any], ...]:
    docs = yaml.safe_load_all((CRDS / name).read_text())
    return tuple(d for d in docs if isinstance(d, dict) and d.get("kind") == "CustomResourceDefinition")


def model_of(crds: list[dict[str, Any]]) -> ApiModel:
    return model_of_spec(LoadedSpec("crds.json", spec_from_crds(copy.deepcopy(crds))))


def crd(group: str, kind: str, spec_properties: dict[str, Any], version: str = "v1") -> dict[str, Any]:
    plural = kind.lower() + "s"
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {"group": group, "scope": "Namespaced",
                 "names": {"plural": plural, "singular": kind.lower(), "kind": kind, "listKind": kind + "List"},
                 "versions": [{"name": version, "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                     "type": "object", "properties": {
                         "apiVersion": {"type": "string"}, "kind": {"type": "string"},
                         "metadata": {"type": "object"},
                         "spec": {"type": "object", "properties": spec_properties}}}}}]},
    }


def struct(model: ApiModel, module: str, name: str) -> StructType:
    found = [s for s in model.structs.values() if (s.module, s.name) == (module, name)]
    assert len(found) == 1, (module, name, sorted(s.name for s in model.structs.values() if s.module == module))
    return found[0]


def py_names(s: StructType) -> dict[str, str]:
    return {f.wire_name: f.py_name for f in s.fields}


# -- (a) names with digits -------------------------------------------------------------

def test_cluster_api_and_istio_shaped_names() -> None:
    machine = crd("cluster.x-k8s.io", "Machine", {
        "addK8sUIDAttributes": {"type": "boolean"},
        "consecutive5xxErrors": {"type": "integer"},
        "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        "x509": {"type": "object", "properties": {"caBundle": {"type": "string"}}},
        "ipv4Pool": {"type": "string"}, "http2MaxRequests": {"type": "integer"},
        "s3": {"type": "object", "properties": {"bucket": {"type": "string"}}},
        "k8sVersion": {"type": "object", "properties": {"minor": {"type": "string"}}},
    }, version="v1beta1")
    model = model_of([machine])
    module = "cluster_x_k8s_io_v1beta1"
    spec = struct(model, module, "MachineSpec")
    assert py_names(spec) == {
        "addK8sUIDAttributes": "add_k8s_uid_attributes", "consecutive5xxErrors": "consecutive_5xx_errors",
        "openAPIV3Schema": "open_api_v3_schema", "x509": "x509", "ipv4Pool": "ipv4_pool",
        "http2MaxRequests": "http2_max_requests", "s3": "s3", "k8sVersion": "k8s_version"}
    for name in ("MachineSpecX509", "MachineSpecS3", "MachineSpecK8sVersion"):
        struct(model, module, name)


def test_builtin_names_that_contain_digits_or_acronyms_are_unchanged() -> None:
    """The rule for digits changed one built-in attribute (``open_api_v3_schema``); these,
    which a rule for digits could easily break, must stay what they are."""
    expected = {"podIPs": "pod_ips", "hostIP": "host_ip", "apiVersion": "api_version", "fieldsV1": "fields_v1",
                "clusterIPs": "cluster_ips", "targetWWNs": "target_wwns", "nodeUID": "node_uid",
                "hostIPC": "host_ipc", "downwardAPI": "downward_api", "scaleIO": "scale_io",
                "setHostnameAsFQDN": "set_hostname_as_fqdn", "currentCPUUtilizationPercentage":
                "current_cpu_utilization_percentage", "http01": "http01", "dns01": "dns01",
                "route53": "route53", "rfc2136": "rfc2136", "pkcs12": "pkcs12", "enableHttp2": "enable_http2",
                "utf8Value": "utf8_value", "oauth2": "oauth2", "gatewayHTTPRoute": "gateway_http_route"}
    assert {wire: naming.attribute_name(wire) for wire in expected} == expected


# -- (b) collisions ----------------------------------------------------------------------

@pytest.mark.parametrize("reverse", [False, True])
def test_literal_snake_case_wire_name_keeps_its_name(reverse: bool) -> None:
    """Istio's VirtualService ``http[]`` has ``mirrorPercent`` and ``mirror_percent``."""
    properties = {"mirrorPercent": {"type": "integer"}, "mirror_percent": {"type": "integer"},
                  "mirrorPercentage": {"type": "object", "properties": {"value": {"type": "number"}}}}
    if reverse:
        properties = dict(reversed(properties.items()))
    vs = crd("networking.istio.io", "VirtualService", {
        "http": {"type": "array", "items": {"type": "object", "properties": properties}}}, version="v1beta1")
    http = struct(model_of([vs]), "networking_istio_io_v1beta1", "VirtualServiceSpecHttp")
    assert py_names(http) == {"mirror_percent": "mirror_percent", "mirrorPercent": "mirror_percent_2",
                              "mirrorPercentage": "mirror_percentage"}


# -- (c) quantities ------------------------------------------------------------------------

def _int_or_string(pattern: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"anyOf": [{"type": "integer"}, {"type": "string"}],
                              "x-kubernetes-int-or-string": True}
    if pattern is not None:
        schema["pattern"] = pattern
    return schema


def _map_of(value: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": value}


def test_quantity_rule() -> None:
    job = crd("batch.example.com", "Job", {
        "resources": {"type": "object", "properties": {
            "limits": _map_of(_int_or_string(QUANTITY_PATTERN)),  # controller-gen's ResourceList
            "requests": _map_of(_int_or_string()),  # hand-written: no pattern, named like one
            "claims": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}}}},
        "capacity": _map_of(_int_or_string()),
        "overhead": _map_of(_int_or_string()),
        "resourcesByTier": _map_of(_map_of(_int_or_string())),  # a map of maps: not a ResourceList
        "minBucketFactor": _int_or_string(QUANTITY_PATTERN),  # a single resource.Quantity
        "targetPort": _int_or_string(),
        "maxUnavailable": _int_or_string("^[0-9]+%?$"),
        "labels": _map_of(_int_or_string()),
        "limits": _map_of({"type": "string"}),  # plain strings stay strings
    })
    model = model_of([job])
    spec = {f.wire_name: f.type for f in struct(model, "batch_example_com_v1", "JobSpec").fields}
    resources = {f.wire_name: f.type for f in struct(model, "batch_example_com_v1", "JobSpecResources").fields}
    assert resources["limits"] == MapOf(Primitive.QUANTITY)
    assert resources["requests"] == MapOf(Primitive.QUANTITY)
    assert spec["capacity"] == MapOf(Primitive.QUANTITY) and spec["overhead"] == MapOf(Primitive.QUANTITY)
    assert spec["resourcesByTier"] == MapOf(MapOf(Primitive.INT_OR_STRING))
    assert spec["minBucketFactor"] is Primitive.QUANTITY
    assert spec["targetPort"] is Primitive.INT_OR_STRING
    assert spec["maxUnavailable"] is Primitive.INT_OR_STRING
    assert spec["labels"] == MapOf(Primitive.INT_OR_STRING)
    assert spec["limits"] == MapOf(Primitive.STRING)


def test_real_crds_resource_lists_are_quantities() -> None:
    model = model_of([*crd_file("strimzi__045-Crd-kafkanodepool.yaml"),
                      *crd_file("prometheus-operator__monitoring.coreos.com_servicemonitors.yaml")])
    for module in ("kafka_strimzi_io_v1beta2",):
        resources = {f.wire_name: f.type for f in struct(model, module, "KafkaNodePoolSpecResources").fields}
        assert resources["limits"] == MapOf(Primitive.QUANTITY) == resources["requests"]
    sm = {f.wire_name: f.type for f in struct(model, "monitoring_coreos_com_v1", "ServiceMonitorSpec").fields}
    assert sm["nativeHistogramMinBucketFactor"] is Primitive.QUANTITY
    endpoints = {f.wire_name: f.type for f in struct(model, "monitoring_coreos_com_v1",
                                                       "ServiceMonitorSpecEndpoints").fields}
    assert endpoints["targetPort"] is Primitive.INT_OR_STRING


def test_quantities_in_a_generated_package_decode_numbers_and_strings(tmp_path: Path) -> None:
    job = crd("batch.example.com", "Job", {"resources": {"type": "object", "properties": {
        "limits": _map_of(_int_or_string(QUANTITY_PATTERN))}}})
    package = generate_package(spec_from_crds([job]), "quantity_crd", tmp_path)
    models = __import__("quantity_crd.models.batch_example_com_v1", fromlist=["Job"])
    decoded = package.scheme.decode(
        b'{"apiVersion": "batch.example.com/v1", "kind": "Job", "metadata": {"name": "j"},'
        b' "spec": {"resources": {"limits": {"cpu": 2, "memory": "1536Mi"}}}}')
    assert isinstance(decoded, models.Job)
    limits = decoded.spec.resources.limits
    assert limits["memory"] + limits["memory"] == "3Gi"
    assert limits["cpu"].milli_value() == 2000
    # the server keeps a custom resource's JSON as sent: a number goes back as the number
    assert json.loads(package.scheme.encode(decoded))["spec"]["resources"]["limits"] == {
        "cpu": 2, "memory": "1536Mi"}


# -- (d) long class names ---------------------------------------------------------------

def _inline_names(model: ApiModel) -> dict[str, str]:
    return {s.struct_id: s.name for s in model.structs.values() if "/" in s.struct_id}


def test_class_names_fit_in_80_characters_on_real_crds() -> None:
    crds = [c for name in CRD_FILES for c in crd_file(name)]
    names = _inline_names(model_of(crds))
    assert names
    too_long = {i: n for i, n in names.items() if len(n) > naming.MAX_CLASS_NAME}
    assert too_long == {}
    # the cert-manager ClusterIssuer had names of up to 183 characters; they keep the
    # kind and the innermost segments
    assert names["io.cert-manager.v1.ClusterIssuer/spec/acme/solvers/http01/gatewayHTTPRoute/podTemplate/"
                 "spec/affinity/nodeAffinity/preferredDuringSchedulingIgnoredDuringExecution/"
                 "preference/matchExpressions"] == "ClusterIssuerPreferenceMatchExpressions"
    # short names are not touched
    assert names["com.coreos.monitoring.v1.ServiceMonitor/spec/endpoints/tlsConfig"] == \
        "ServiceMonitorSpecEndpointsTlsConfig"


@pytest.mark.parametrize("name", CRD_FILES)
def test_class_names_do_not_depend_on_other_crds(name: str) -> None:
    """A CRD's class names are the same generated alone, with all the others, and with the
    others in reverse order (adding or removing a CRD renames nothing of another)."""
    alone = _inline_names(model_of(list(crd_file(name))))
    others = [c for other in CRD_FILES if other != name for c in crd_file(other)]
    together = _inline_names(model_of([*others, *crd_file(name)]))
    reverse = _inline_names(model_of([*crd_file(name), *reversed(others)]))
    assert alone
    assert {i: together[i] for i in alone} == alone
    assert {i: reverse[i] for i in alone} == alone


def test_sibling_kind_in_the_same_group_renames_nothing() -> None:
    """Certificate and ClusterIssuer share cert_manager_io_v1; a third kind in that group
    (with long nested paths of its own) leaves both alone."""
    base = [*crd_file("cert-manager__cert-manager.io_certificates.yaml"),
            *crd_file("cert-manager__cert-manager.io_clusterissuers.yaml")]
    deep: dict[str, Any] = {"type": "string"}
    for segment in reversed(("solvers", "http01", "gatewayHTTPRoute", "podTemplate", "spec", "affinity",
                             "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution")):
        deep = {"type": "object", "properties": {segment: deep}}
    issuer = crd("cert-manager.io", "Issuer", {"acme": deep})
    before = _inline_names(model_of(base))
    after = _inline_names(model_of([*base, issuer]))
    assert {i: after[i] for i in before} == before
    assert all(len(n) <= naming.MAX_CLASS_NAME for n in after.values())


def test_array_items_and_map_values_keep_their_path_names() -> None:
    model = model_of([crd("example.com", "Widget", {
        "parts": {"type": "array", "items": {"type": "object", "properties": {"x": {"type": "string"}}}},
        "byName": _map_of({"type": "object", "properties": {"y": {"type": "string"}}})})])
    spec = {f.wire_name: f.type for f in struct(model, "example_com_v1", "WidgetSpec").fields}
    assert isinstance(spec["parts"], ArrayOf) and isinstance(spec["byName"], MapOf)
    struct(model, "example_com_v1", "WidgetSpecParts")
    struct(model, "example_com_v1", "WidgetSpecByNameValue")


# -- (e) identical shapes share a class ----------------------------------------------------

def _refs(model: ApiModel, struct_id: str) -> dict[str, str]:
    """wire name -> struct id of each struct-typed field (through lists and maps)."""
    out = {}
    for f in model.structs[struct_id].fields:
        ref = f.type
        while isinstance(ref, (ArrayOf, MapOf)):
            ref = ref.item if isinstance(ref, ArrayOf) else ref.value
        if isinstance(ref, StructRef):
            out[f.wire_name] = ref.struct_id
    return out


def test_identical_shapes_within_a_crd_share_the_class_of_their_first_occurrence() -> None:
    selector: dict[str, Any] = {"type": "object", "required": ["key"], "properties": {
        "key": {"type": "string", "description": "The key to select."},
        "name": {"type": "string"}, "optional": {"type": "boolean"}}}
    other = copy.deepcopy(selector)
    other["properties"]["key"]["description"] = "Another key."
    app = crd("example.com", "App", {
        "env": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string"},
            "valueFrom": {"type": "object", "properties": {"secretKeyRef": selector,
                                                            "configMapKeyRef": copy.deepcopy(selector)}}}}},
        "auth": {"type": "object", "description": "a different docstring", "properties": {
            "password": copy.deepcopy(selector), "token": other}}})
    model = model_of([app])
    root = "com.example.v1.App/spec"
    auth = _refs(model, f"{root}/auth")
    value_from = _refs(model, f"{root}/env/valueFrom")
    # the walk is depth-first by property name: auth.password comes first
    assert auth["password"] == f"{root}/auth/password"
    assert value_from == {"configMapKeyRef": auth["password"], "secretKeyRef": auth["password"]}
    assert auth["token"] == f"{root}/auth/token"  # a different description: its own class
    assert model.structs[auth["password"]].name == "AppSpecAuthPassword"
    assert f"{root}/env/valueFrom/secretKeyRef" not in model.structs


def test_real_crds_share_repeated_types_but_never_across_definitions() -> None:
    crds = [c for name in CRD_FILES for c in crd_file(name)]
    model = model_of(crds)
    issuer = "io.cert-manager.v1.ClusterIssuer/spec/acme/solvers/http01/gatewayHTTPRoute/podTemplate/spec/affinity"
    def follow(struct_id: str, *path: str) -> str:
        for wire in path:
            struct_id = _refs(model, struct_id)[wire]
        return struct_id

    preferred = ("preferredDuringSchedulingIgnoredDuringExecution", "podAffinityTerm")
    affinity = follow(f"{issuer}", "podAffinity", *preferred)
    anti = follow(f"{issuer}", "podAntiAffinity", *preferred)
    assert affinity == anti == f"{issuer}/podAffinity/{'/'.join(preferred)}"  # one PodAffinityTerm
    assert follow(affinity, "labelSelector") == follow(affinity, "namespaceSelector")  # one LabelSelector
    assert follow(issuer, "podAffinity") != follow(issuer, "podAntiAffinity")  # different descriptions
    for struct_id in model.structs:
        for target in _refs(model, struct_id).values():
            if "/" in target:
                assert target.split("/")[0] == struct_id.split("/")[0], (struct_id, target)
    inline = [s for s in model.structs if "/" in s]
    assert len(inline) < 400  # 736 classes before sharing (317 after)


def _reverse_properties(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _reverse_properties(v) for k, v in node.items()}
        if isinstance(node.get("properties"), dict):
            out["properties"] = {k: _reverse_properties(v) for k, v in reversed(node["properties"].items())}
        return out
    if isinstance(node, list):
        return [_reverse_properties(v) for v in node]
    return node


@pytest.mark.parametrize("name", CRD_FILES)
def test_names_and_sharing_do_not_depend_on_property_order(name: str) -> None:
    """A CRD file lists properties in any order; a server serves them sorted."""
    crds = list(crd_file(name))
    forward, backward = model_of(crds), model_of([_reverse_properties(c) for c in crds])
    assert {i: s.name for i, s in forward.structs.items()} == {i: s.name for i, s in backward.structs.items()}
    for struct_id in forward.structs:
        assert sorted(_refs(forward, struct_id).items()) == sorted(_refs(backward, struct_id).items())


# -- (f) one file per kind for custom resources --------------------------------------------

SERVED = Path(__file__).resolve().parents[1] / "data" / "specs" / "kube-apiserver_v1.20.2_served_with-6-crds.json.gz"

LAZY_PROBE = """
import sys
before = set(sys.modules)
import served6.models.cert_manager_io_v1 as cm
loaded = lambda: sorted(m for m in set(sys.modules) - before if m.startswith("served6.models._"))
assert loaded() == [], loaded()
from served6.models.cert_manager_io_v1 import Certificate, CertificateList
assert loaded() == ["served6.models._cert_manager_io_v1_certificate"], loaded()
assert CertificateList.__module__ == Certificate.__module__
assert "ClusterIssuerSpec" in dir(cm) and "ClusterIssuerSpec" in cm.__all__
from served6 import scheme
issuer = scheme.decode(b'{"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",'
                       b' "metadata": {"name": "x"}, "spec": {"selfSigned": {}}}')
assert type(issuer) is cm.ClusterIssuer and type(issuer.spec) is cm.ClusterIssuerSpec
assert loaded() == ["served6.models._cert_manager_io_v1_certificate",
                    "served6.models._cert_manager_io_v1_cluster_issuer"], loaded()
try:
    cm.NoSuchClass
except AttributeError:
    pass
else:
    raise AssertionError("no AttributeError")
from served6 import Clientset
assert "served6.models._monitoring_coreos_com_v1_service_monitor" not in sys.modules
print("ok")
"""


def test_custom_resource_modules_import_one_kind_at_a_time(tmp_path: Path) -> None:
    import subprocess
    import sys

    from kubecodegen.generate import generate, write

    write(generate(str(SERVED), "served6"), tmp_path)
    models = sorted(p.name for p in (tmp_path / "served6" / "models").glob("_*.py"))
    assert models == ["__init__.py", "_cert_manager_io_v1_certificate.py", "_cert_manager_io_v1_cluster_issuer.py",
                      "_monitoring_coreos_com_v1_prometheus_rule.py", "_monitoring_coreos_com_v1_service_monitor.py"]
    result = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(tmp_path)!r})\n"
                             + LAZY_PROBE], capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_built_in_modules_and_single_kind_groups_are_not_split() -> None:
    from kubecodegen.render.plan import kind_files
    from kubecodegen.spec import load_spec

    model = model_of_spec(load_spec(str(SERVED)))
    split = {m for m in model.modules if kind_files(model, m) is not None}
    assert split == {"cert_manager_io_v1", "monitoring_coreos_com_v1"}
    files = kind_files(model, "monitoring_coreos_com_v1")
    assert files is not None
    by_file = {f: {model.structs[i].name for i in ids} for f, ids in files.items()}
    assert {"ServiceMonitor", "ServiceMonitorList", "ServiceMonitorSpec"} <= by_file[
        "_monitoring_coreos_com_v1_service_monitor"]
    assert not any(n.startswith("ServiceMonitor") for n in by_file["_monitoring_coreos_com_v1_prometheus_rule"])
    assert sorted(i for ids in files.values() for i in ids) == sorted(model.modules["monitoring_coreos_com_v1"])
