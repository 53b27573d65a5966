"""Six real-world CRDs on the real server: generate from the cluster, then use the typed clients.

Every test runs on both servers (``cr_cluster``: kube-apiserver 1.20 and the modern 1.36 one)."""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubecodegen.generate import SpecSource, generate, write

CRDS = Path(__file__).resolve().parents[1] / "data" / "crds"


def _for_v1_20(node: Any) -> Any:
    """Adapt a CRD schema to kube-apiserver 1.20, which reads an empty-string ``default``
    as no default: cert-manager's ClusterIssuer uses ``default: ""`` on the key of a
    map-type list, which 1.20 then rejects ("must have a default or be a required
    property"). Such properties become required instead; newer servers need no change."""
    if isinstance(node, list):
        return [_for_v1_20(v) for v in node]
    if not isinstance(node, dict):
        return node
    result = {k: _for_v1_20(v) for k, v in node.items()}
    properties = result.get("properties")
    if isinstance(properties, dict):
        for name, prop in properties.items():
            if isinstance(prop, dict) and prop.get("default") == "":
                del prop["default"]
                result.setdefault("required", [])
                if name not in result["required"]:
                    result["required"].append(name)
    return result


WIDGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList",
                  "shortNames": ["exw", "exwd"], "categories": ["all", "exampled"]},
        "versions": [{
            "name": "v1", "served": True, "storage": True,
            "subresources": {"status": {}},
            "schema": {"openAPIV3Schema": {
                "type": "object",
                "properties": {
                    "spec": {"type": "object", "required": ["size"], "properties": {
                        "size": {"type": "integer"},
                        "parts": {"type": "array", "items": {"type": "object", "properties": {
                            "name": {"type": "string"}, "weight": {"x-kubernetes-int-or-string": True},
                            "tags": {"type": "object", "additionalProperties": {"type": "string"}},
                        }}},
                    }},
                    "status": {"type": "object", "properties": {
                        "ready": {"type": "boolean"},
                        "conditions": {"type": "array", "items": {"type": "object", "properties": {
                            "type": {"type": "string"}, "lastTransitionTime": {"type": "string", "format": "date-time"},
                        }}},
                    }},
                },
            }},
        }],
    },
}


def _install_crds(client: Any) -> None:
    crds = [_for_v1_20(yaml.safe_load(path.read_text())) for path in sorted(CRDS.glob("*.yaml"))]
    for crd in [*crds, WIDGET_CRD]:
        response = client.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=crd)
        assert response.status_code in (201, 409), response.text
    deadline = time.monotonic() + 60
    wanted = {"servicemonitors", "clusterissuers", "kafkanodepools", "cronjobs", "certificates", "prometheusrules",
              "widgets"}
    while time.monotonic() < deadline:
        paths = client.get("/openapi/v2").json()["paths"]
        if all(any(f"/{plural}" in p for p in paths) for plural in wanted):
            return
        time.sleep(1)
    raise AssertionError("CRD schemas never appeared in /openapi/v2")


@pytest.fixture(scope="module")
def crd_package(cr_cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    _install_crds(cr_cluster.admin_client())
    out = tmp_path_factory.mktemp("crdpkg")
    source = SpecSource(from_cluster=True, kubeconfig=str(cr_cluster.admin_kubeconfig))
    generated = generate(source, "kube_crds", groups=["monitoring.coreos.com", "cert-manager.io", "example.com",
                                                      "kafka.strimzi.io", "batch.tutorial.kubebuilder.io"])
    write(generated, out)
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("kube_crds")
    finally:
        sys.path.remove(str(out))
        # The other server's run generates its own kube_crds: forget this one entirely.
        for name in [m for m in sys.modules if m == "kube_crds" or m.startswith("kube_crds.")]:
            del sys.modules[name]


def test_service_monitor_from_typed_classes(crd_package: Any, cr_cluster: Any, cr_namespace: str) -> None:
    sm_models = importlib.import_module("kube_crds.models.monitoring_coreos_com_v1")
    meta = importlib.import_module("kube_crds.models.meta_v1")
    with crd_package.Clientset.from_kubeconfig(str(cr_cluster.admin_kubeconfig)) as cs:
        monitors = cs.monitoring_coreos_com_v1.service_monitors(cr_namespace)
        created = monitors.create(sm_models.ServiceMonitor(
            metadata=meta.ObjectMeta(name="web"),
            spec=sm_models.ServiceMonitorSpec(
                selector=sm_models.ServiceMonitorSpecSelector(match_labels={"app": "web"}),
                endpoints=[sm_models.ServiceMonitorSpecEndpoints(port="metrics", interval="30s")],
            ),
        ))
        got = monitors.get("web")
        assert got.spec.endpoints[0].port == "metrics" and got.metadata.uid == created.metadata.uid
        assert isinstance(got, sm_models.ServiceMonitor)
        raw = cr_cluster.admin_client().get(
            f"/apis/monitoring.coreos.com/v1/namespaces/{cr_namespace}/servicemonitors/web").content
        codec = importlib.import_module("kubecodegen_runtime.codec")
        assert json.loads(codec.encode(got)) == json.loads(raw)  # nothing lost or changed


def test_cluster_scoped_cluster_issuer(crd_package: Any, cr_cluster: Any) -> None:
    models = importlib.import_module("kube_crds.models.cert_manager_io_v1")
    meta = importlib.import_module("kube_crds.models.meta_v1")
    with crd_package.Clientset.from_kubeconfig(str(cr_cluster.admin_kubeconfig)) as cs:
        issuers = cs.cert_manager_io_v1.cluster_issuers()
        issuers.create(models.ClusterIssuer(metadata=meta.ObjectMeta(name="selfsigned"),
                                            spec=models.ClusterIssuerSpec(self_signed=models.ClusterIssuerSpecSelfSigned())))
        assert issuers.get("selfsigned").metadata.namespace is None


@pytest.mark.parametrize("version", ["v1", "v1beta2"])
def test_kafka_node_pool_scale(crd_package: Any, cr_cluster: Any, cr_namespace: str, version: str) -> None:
    models = importlib.import_module(f"kube_crds.models.kafka_strimzi_io_{version}")
    meta = importlib.import_module("kube_crds.models.meta_v1")
    spec_cls = models.KafkaNodePoolSpec
    with crd_package.Clientset.from_kubeconfig(str(cr_cluster.admin_kubeconfig)) as cs:
        pools = getattr(cs, f"kafka_strimzi_io_{version}").kafka_node_pools(cr_namespace)
        name = f"pool-{version}"
        pool = models.KafkaNodePool(
            metadata=meta.ObjectMeta(name=name),
            spec=spec_cls(replicas=1, roles=["broker"],
                          storage=models.KafkaNodePoolSpecStorage(type="ephemeral")))
        if version == "v1beta2":  # the CRD marks it deprecated: the server's Warning surfaces
            warning = importlib.import_module("kubecodegen_runtime.errors").KubernetesWarning
            with pytest.warns(warning, match="v1beta2 of the KafkaNodePool API is deprecated"):
                pools.create(pool)
        else:
            pools.create(pool)
        scale = pools.get_scale(name)
        assert scale.spec.replicas == 1
        scale.spec.replicas = 4
        pools.update_scale(name, scale)
        assert pools.get(name).spec.replicas == 4


def test_widget_crud_and_status(crd_package: Any, cr_cluster: Any, cr_namespace: str) -> None:
    """A CRD made by the test: nested inline types, int-or-string, maps, status subresource."""
    models = importlib.import_module("kube_crds.models.example_com_v1")
    meta = importlib.import_module("kube_crds.models.meta_v1")
    codec = importlib.import_module("kubecodegen_runtime.codec")
    with crd_package.Clientset.from_kubeconfig(str(cr_cluster.admin_kubeconfig)) as cs:
        widgets = cs.example_com_v1.widgets(cr_namespace)
        widget = models.Widget(metadata=meta.ObjectMeta(name="w"), spec=models.WidgetSpec(
            size=3, parts=[models.WidgetSpecParts(name="a", weight="50%", tags={"k": "v"}),
                           models.WidgetSpecParts(name="b", weight=7)]))
        created = widgets.create(widget)
        assert created.spec.parts[0].weight == "50%" and created.spec.parts[1].weight == 7
        # A custom resource's date-time is its text (DateTimeString), kept exactly as stored.
        date_time = importlib.import_module("kubecodegen_runtime.types").DateTimeString
        created.status = models.WidgetStatus(ready=True, conditions=[models.WidgetStatusConditions(
            type="Ready", last_transition_time=date_time.from_datetime(created.metadata.creation_timestamp))])
        updated = widgets.update_status(created)
        assert updated.status.ready is True
        assert updated.status.conditions[0].last_transition_time.to_datetime() == created.metadata.creation_timestamp
        # The status subresource ignores spec changes, the main resource ignores status changes.
        updated.spec.size = 99
        assert widgets.update_status(updated).spec.size == 3
        assert [w.metadata.name for w in widgets.list_all()] == ["w"]
        raw = cr_cluster.admin_client().get(f"/apis/example.com/v1/namespaces/{cr_namespace}/widgets/w").content
        assert json.loads(codec.encode(widgets.get("w"))) == json.loads(raw)
        widgets.delete("w")
        assert widgets.list().items == []


def test_widget_apply_extract_round_trip(crd_package: Any, cr_cluster: Any, cr_namespace: str) -> None:
    """Apply configurations of a custom resource: a spec manager and a status manager;
    extract -> modify -> apply leaves the other's fields and ownership alone. ``parts`` has
    no list type, so it is atomic: its owner owns (and extract returns) the whole list."""
    ac = importlib.import_module("kube_crds.applyconfigurations.example_com_v1")
    acm = importlib.import_module("kube_crds.applyconfigurations.meta_v1")
    codec = importlib.import_module("kubecodegen_runtime.codec")
    owned_fields = importlib.import_module("kubecodegen_runtime.managed_fields").owned_fields

    def fields(obj: Any, manager: str) -> Any:
        entries = json.loads(codec.encode(obj.metadata.managed_fields))
        return [owned_fields(entries, manager, sub) for sub in (None, "status")]

    with crd_package.Clientset.from_kubeconfig(str(cr_cluster.admin_kubeconfig)) as cs:
        widgets = cs.example_com_v1.widgets(cr_namespace)
        widgets.apply(ac.Widget(metadata=acm.ObjectMeta(name="applied"), spec=ac.WidgetSpec(
            size=1, parts=[ac.WidgetSpecParts(name="a", weight="50%")])), field_manager="author")
        before = widgets.apply_status(ac.Widget(metadata=acm.ObjectMeta(name="applied"),
                                                status=ac.WidgetStatus(ready=True)), field_manager="ctl")
        assert before.status.ready is True and before.spec.size == 1
        mine = ac.Widget.extract(before, "author")
        assert json.loads(codec.encode(mine.spec)) == {"size": 1, "parts": [{"name": "a", "weight": "50%"}]}
        assert mine.status is None
        mine.spec.size = 2
        mine.spec.parts.append(ac.WidgetSpecParts(name="b", weight=7))
        after = widgets.apply(mine, field_manager="author")
        assert after.spec.size == 2 and [p.name for p in after.spec.parts] == ["a", "b"]
        assert after.status.ready is True
        assert fields(after, "ctl") == fields(before, "ctl")
        assert fields(after, "author") == fields(before, "author")
        widgets.delete("applied")


def test_cli_from_cluster(crd_package: Any, cr_cluster: Any, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from kubecodegen.cli import main

    runner = CliRunner()
    args = ["--from-cluster", "--kubeconfig", str(cr_cluster.admin_kubeconfig)]
    result = runner.invoke(main, ["inspect", *args, "--group", "example.com", "-o", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)  # stderr has the note naming the documents read
    assert "note: read OpenAPI" in result.stderr
    assert [(r["resource"], r["namespaced"], r["subresources"]) for r in rows] == [
        ("widgets", True, {"status": ["get", "update", "patch", "apply"]})]
    # the table shows what only discovery knows, through the cluster's RESTMapper (as kubectl
    # api-resources does); the JSON above stays the document's own
    table = runner.invoke(main, ["inspect", *args, "--group", "example.com"])
    assert table.exit_code == 0, table.output
    header, line = table.stdout.splitlines()
    assert header.split() == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND", "VERBS",
                              "SUBRESOURCES", "CATEGORIES"]
    assert line.split()[:2] == ["widgets", "exw,exwd"] and line.split()[-1] == "all,exampled"
    result = runner.invoke(main, ["generate", *args, "--group", "example.com", "--package", "widgets",
                                  "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "widgets" / "models" / "example_com_v1.py").is_file()
    bad = runner.invoke(main, ["inspect", "--from-cluster", "--kubeconfig", str(tmp_path / "missing")])
    assert bad.exit_code == 2 and "missing" in bad.output
