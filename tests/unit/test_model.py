"""The GVR/GVK model built from real specs: scope, verbs, subresources, kinds, types."""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from kubecodegen.model import ApiModel
from kubecodegen.model.resources import split_path
from kubecodegen.model.types import ArrayOf, MapOf, Primitive, Resource, StructRef, UnionOf
from kubecodegen.pipeline import model_of as model_of_spec
from kubecodegen.spec import LoadedSpec, load_spec

DATA = Path(__file__).resolve().parents[1] / "data" / "specs"
ALL_SPECS = ["builtin:v1.35", "builtin:v1.20", str(DATA / "kubernetes_v1.30.0.json.gz"),
             str(DATA / "kubernetes_release-1.36.json.gz"),
             str(DATA / "kube-apiserver_v1.20.2_served_with-6-crds.json.gz")]


@cache
def model_of(source: str) -> ApiModel:
    return model_of_spec(load_spec(source))


def resource(model: ApiModel, group: str, version: str, plural: str) -> Resource:
    for r in model.resources():
        if (r.group, r.version, r.plural) == (group, version, plural):
            return r
    raise AssertionError(f"{group}/{version} {plural} not in model")


def test_pods_v1_20() -> None:
    pods = resource(model_of("builtin:v1.20"), "", "v1", "pods")
    assert pods.namespaced and pods.kind == "Pod"
    assert pods.verbs == ("get", "list", "watch", "create", "update", "patch", "apply", "delete",
                          "deletecollection")
    subs = {s.name: s for s in pods.subresources}
    assert set(subs) == {"attach", "binding", "eviction", "exec", "log", "portforward", "proxy", "status"}
    assert subs["status"].verbs == ("get", "update", "patch", "apply")
    assert subs["eviction"].verbs == ("create",)
    assert subs["eviction"].request_type == "io.k8s.api.policy.v1beta1.Eviction"
    assert subs["binding"].request_type == "io.k8s.api.core.v1.Binding"
    assert subs["log"].verbs == ("get",) and not subs["log"].connect
    assert all(subs[n].connect for n in ("exec", "attach", "portforward", "proxy"))
    assert pods.struct_id == "io.k8s.api.core.v1.Pod"
    assert pods.list_struct_id == "io.k8s.api.core.v1.PodList"


def test_scope_and_subresources_v1_20() -> None:
    model = model_of("builtin:v1.20")
    assert not resource(model, "", "v1", "nodes").namespaced
    assert not resource(model, "", "v1", "namespaces").namespaced
    ns_subs = {s.name: s.verbs for s in resource(model, "", "v1", "namespaces").subresources}
    assert ns_subs["finalize"] == ("update",)
    scale = {s.name: s for s in resource(model, "apps", "v1", "deployments").subresources}["scale"]
    assert scale.verbs == ("get", "update", "patch", "apply")
    assert scale.response_type == "io.k8s.api.autoscaling.v1.Scale"
    csr = resource(model, "certificates.k8s.io", "v1", "certificatesigningrequests")
    assert not csr.namespaced and "approval" in {s.name for s in csr.subresources}
    token = {s.name: s for s in resource(model, "", "v1", "serviceaccounts").subresources}["token"]
    assert token.request_type == "io.k8s.api.authentication.v1.TokenRequest"
    assert resource(model, "", "v1", "bindings").verbs == ("create",)
    assert resource(model, "", "v1", "services").namespaced
    assert "deletecollection" not in resource(model, "", "v1", "services").verbs


def test_watch_paths_are_not_resources() -> None:
    document = load_spec("builtin:v1.20").document
    expected = set()
    for path in document["paths"]:
        parsed = split_path(path)
        if parsed is None or not parsed[2] or parsed[2][0] == "watch":
            continue
        group, version, segments = parsed
        if segments[:1] == ["namespaces"] and len(segments) >= 3 and segments[1] == "{namespace}":
            segments = segments[2:]
        expected.add((group, version, segments[0]))
    got = {(r.group, r.version, r.plural) for r in model_of("builtin:v1.20").resources()}
    assert got == expected
    assert all(r.plural != "watch" for r in model_of("builtin:v1.20").resources())


def test_preferred_versions() -> None:
    groups = {g.name: g for g in model_of("builtin:v1.35").groups}
    assert groups["autoscaling"].preferred_version == "v2"
    assert groups["apps"].preferred_version == "v1"
    assert groups["resource.k8s.io"].preferred_version == "v1"
    v120 = {g.name: g for g in model_of("builtin:v1.20").groups}
    assert v120["batch"].preferred_version == "v1"
    assert [gv.version for gv in v120["autoscaling"].versions] == ["v1", "v2beta2", "v2beta1"]


def test_group_python_names_for_crds() -> None:
    model = model_of(str(DATA / "kube-apiserver_v1.20.2_served_with-6-crds.json.gz"))
    names = {gv.group: gv.py_name for gv in model.group_versions()}
    assert names["batch"] == "batch_v1" or names["batch"].startswith("batch_v")
    assert names["batch.tutorial.kubebuilder.io"] == "batch_tutorial_kubebuilder_io_v1"
    assert names["monitoring.coreos.com"] == "monitoring_coreos_com_v1"
    py_names = [gv.py_name for gv in model.group_versions()]
    assert len(py_names) == len(set(py_names))


def field_type(model: ApiModel, struct_id: str, py_name: str) -> Any:
    struct = model.structs[struct_id]
    return next(f for f in struct.fields if f.py_name == py_name)


def test_special_types_and_field_names() -> None:
    model = model_of("builtin:v1.35")
    status = "io.k8s.api.core.v1.PodStatus"
    assert field_type(model, status, "pod_ips").wire_name == "podIPs"
    assert field_type(model, status, "host_ip").wire_name == "hostIP"
    assert field_type(model, "io.k8s.api.core.v1.ServiceSpec", "cluster_ips").wire_name == "clusterIPs"
    limits = field_type(model, "io.k8s.api.core.v1.ResourceRequirements", "limits").type
    assert limits == MapOf(Primitive.QUANTITY)
    port = field_type(model, "io.k8s.api.core.v1.HTTPGetAction", "port")
    assert port.type is Primitive.INT_OR_STRING and port.required
    meta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    assert field_type(model, meta, "creation_timestamp").type is Primitive.TIME
    assert field_type(model, "io.k8s.api.core.v1.Secret", "data").type == MapOf(Primitive.BYTES)
    assert field_type(model, "io.k8s.api.events.v1.Event", "event_time").type is Primitive.MICRO_TIME
    managed = field_type(model, "io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry", "fields_v1")
    assert managed.type is Primitive.RAW
    props = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps"
    assert field_type(model, props, "ref").wire_name == "$ref"
    assert field_type(model, props, "schema").wire_name == "$schema"
    assert field_type(model, props, "not_").wire_name == "not"
    additional = field_type(model, props, "additional_properties").type
    assert additional == UnionOf((StructRef(props), Primitive.BOOLEAN))
    assert field_type(model, props, "items").type == UnionOf((StructRef(props), ArrayOf(StructRef(props))))
    assert field_type(model, props, "default").type is Primitive.ANY
    pod = model.structs["io.k8s.api.core.v1.Pod"]
    assert pod.gvk is not None and (pod.gvk.group, pod.gvk.version, pod.gvk.kind) == ("", "v1", "Pod")
    assert [f.py_name for f in pod.fields[:3]] == ["api_version", "kind", "metadata"]
    assert model.structs["io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"].gvk is None


def test_crd_inline_types_are_named_by_path() -> None:
    model = model_of(str(DATA / "kube-apiserver_v1.20.2_served_with-6-crds.json.gz"))
    by_name = {(s.module, s.name): s for s in model.structs.values()}
    module = "monitoring_coreos_com_v1"
    for name in ("ServiceMonitor", "ServiceMonitorList", "ServiceMonitorSpec", "ServiceMonitorSpecEndpoints",
                 "ServiceMonitorSpecEndpointsTlsConfig"):
        assert (module, name) in by_name, name
    spec = by_name[(module, "ServiceMonitorSpec")]
    endpoints = next(f for f in spec.fields if f.wire_name == "endpoints")
    assert endpoints.type == ArrayOf(StructRef("com.coreos.monitoring.v1.ServiceMonitor/spec/endpoints"))
    # ObjectMeta_v2 is folded into ObjectMeta by the served_crd_schema_copies fixup.
    sm = by_name[(module, "ServiceMonitor")]
    meta = next(f for f in sm.fields if f.wire_name == "metadata")
    assert meta.type == StructRef("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
    assert "served_crd_schema_copies" in model.fixups_applied
    kafka = resource(model, "kafka.strimzi.io", "v1beta2", "kafkanodepools")
    scale = {s.name: s for s in kafka.subresources}["scale"]
    assert scale.response_type == "io.k8s.api.autoscaling.v1.Scale"


@pytest.mark.parametrize("source", ALL_SPECS)
def test_every_definition_is_accounted_for(source: str) -> None:
    model = model_of(source)
    document = load_spec(source).document
    struct_defs = {s for s in model.structs if "/" not in s}
    skipped = {s.definition for s in model.skipped}
    folded = {d for d in document["definitions"] if d.endswith("_v2")}
    assert struct_defs | skipped | folded == set(document["definitions"])
    assert not struct_defs & skipped
    # Without --group nothing may be dropped as unused: only runtime types and aliases.
    assert all(s.reason.startswith(("runtime type", "inlined as")) for s in model.skipped)


def test_model_does_not_modify_its_input() -> None:
    with gzip.open(DATA / "kube-apiserver_v1.20.2_served_with-6-crds.json.gz") as stream:
        document: dict[str, Any] = json.loads(stream.read())
    before = json.dumps(document, sort_keys=True)
    model_of_spec(LoadedSpec("served.json", document))
    assert json.dumps(document, sort_keys=True) == before


def test_group_filter_keeps_only_needed_types() -> None:
    spec = load_spec(str(DATA / "kube-apiserver_v1.20.2_served_with-6-crds.json.gz"))
    model = model_of_spec(spec, groups=["monitoring.coreos.com", "core"])
    assert {g.name for g in model.groups} == {"", "monitoring.coreos.com"}
    # Subresource bodies come along: Eviction, TokenRequest, Scale (replicationcontrollers/scale).
    assert set(model.modules) == {"core_v1", "meta_v1", "monitoring_coreos_com_v1", "policy_v1beta1",
                                  "authentication_v1", "autoscaling_v1"}
    assert "io.k8s.api.apps.v1.Deployment" not in model.structs
    assert any(s.reason == "not used by the selected groups" for s in model.skipped)


def test_group_filter_rejects_unknown_groups() -> None:
    from kubecodegen.model.definitions import ModelError

    with pytest.raises(ModelError, match=r"no such API group.*nope.*known: .*apps"):
        model_of_spec(load_spec("builtin:v1.20"), groups=["nope"])


def test_watch_verb_quirk() -> None:
    """List operations all declare ?watch; /watch/ paths decide where a group-version has them."""
    assert resource(model_of("builtin:v1.20"), "", "v1", "componentstatuses").verbs == ("get", "list")
    crds = model_of(str(DATA / "kube-apiserver_v1.20.2_served_with-6-crds.json.gz"))
    assert "watch" in resource(crds, "monitoring.coreos.com", "v1", "servicemonitors").verbs
    assert "watch" in resource(crds, "", "v1", "pods").verbs
