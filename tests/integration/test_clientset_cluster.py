"""The generated typed ClientSet (generated/kube_v1_20) against the real v1.20.2 server.

These tests go through the committed reference package exactly as a user would:
``Clientset.from_kubeconfig``, ``cs.core_v1.config_maps(ns)``, typed models, typed errors.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.generated_packages import import_reference

kube = import_reference("kube_v1_20")
from kube_v1_20 import AsyncClientset, Clientset, scheme  # noqa: E402
from kube_v1_20.models import apps_v1, core_v1, meta_v1, policy_v1beta1  # noqa: E402

from kubecodegen_runtime import codec, errors  # noqa: E402


@pytest.fixture
def cs(cluster: Any) -> Any:
    with Clientset.from_kubeconfig(str(cluster.admin_kubeconfig)) as clientset:
        yield clientset


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _same_json(obj: Any, raw: bytes) -> None:
    """Round-trip fidelity: the typed object re-encodes to what the server sent.

    The one difference allowed: an explicit ``null`` the server writes for an unset
    optional field (``template.metadata.creationTimestamp: null``, Go's zero Time) is
    absent after re-encoding; the API treats both the same.
    """
    sent = json.loads(raw)
    ours = json.loads(codec.encode(obj))
    assert ours == _without_nulls(sent)
    assert "null" not in json.dumps(ours)


def test_configmap_crud_list_watch(cs: Any, namespace: str, cluster: Any) -> None:
    cms = cs.core_v1.config_maps(namespace)
    created = cms.create(core_v1.ConfigMap(metadata=meta_v1.ObjectMeta(name="a", labels={"app": "web"}),
                                           data={"k": "v"}))
    assert isinstance(created, core_v1.ConfigMap) and created.metadata.uid
    assert created.kind == "ConfigMap" or created.kind is None
    for i in range(7):
        cms.create(core_v1.ConfigMap(metadata=meta_v1.ObjectMeta(name=f"p{i}", labels={"app": "web"})))
    names = [cm.metadata.name for cm in cms.list_all(label_selector="app=web", page_size=3)]
    assert sorted(names) == sorted(["a"] + [f"p{i}" for i in range(7)])
    rv = cms.list().metadata.resource_version
    cms.patch("a", {"data": {"k": "v2"}})
    with cms.watch(resource_version=rv, timeout_seconds=5) as events:
        event = next(iter(events))
        assert event.type == "MODIFIED" and isinstance(event.object, core_v1.ConfigMap)
        assert event.object.data == {"k": "v2"}
    raw = cluster.admin_client().get(f"/api/v1/namespaces/{namespace}/configmaps/a").content
    _same_json(cms.get("a"), raw)
    _same_json(scheme.decode(raw), raw)
    cms.delete("a")
    with pytest.raises(errors.NotFound):
        cms.get("a")


def test_secret_bytes_round_trip(cs: Any, namespace: str) -> None:
    payload = bytes(range(256))
    secret = cs.core_v1.secrets(namespace).create(
        core_v1.Secret(metadata=meta_v1.ObjectMeta(name="s"), data={"bin": payload}))
    assert cs.core_v1.secrets(namespace).get("s").data["bin"] == payload == secret.data["bin"]


def _deployment(name: str, replicas: int = 1) -> apps_v1.Deployment:
    labels = {"app": name}
    return apps_v1.Deployment(
        metadata=meta_v1.ObjectMeta(name=name),
        spec=apps_v1.DeploymentSpec(
            replicas=replicas,
            selector=meta_v1.LabelSelector(match_labels=labels),
            template=core_v1.PodTemplateSpec(
                metadata=meta_v1.ObjectMeta(labels=labels),
                spec=core_v1.PodSpec(containers=[core_v1.Container(name="c", image="nginx")]),
            ),
        ),
    )


def test_deployment_scale_and_apply(cs: Any, namespace: str, cluster: Any) -> None:
    deployments = cs.apps_v1.deployments(namespace)
    deployments.create(_deployment("web"))
    scale = deployments.get_scale("web")
    assert scale.spec.replicas == 1
    scale.spec.replicas = 3
    assert deployments.update_scale("web", scale).spec.replicas == 3
    assert deployments.get("web").spec.replicas == 3
    # Server-side apply: a second manager conflicts on replicas, and wins with force.
    with pytest.raises(errors.Conflict):
        deployments.apply(_deployment("web", replicas=5), field_manager="other")
    applied = deployments.apply(_deployment("web", replicas=5), field_manager="other", force=True)
    assert applied.spec.replicas == 5
    raw = cluster.admin_client().get(f"/apis/apps/v1/namespaces/{namespace}/deployments/web").content
    _same_json(deployments.get("web"), raw)


def test_cluster_scoped_node_and_errors(cs: Any, cluster: Any, namespace: str) -> None:
    nodes = cs.core_v1.nodes()
    node = nodes.create(core_v1.Node(metadata=meta_v1.ObjectMeta(name=f"n-{namespace}")))
    assert node.metadata.namespace is None
    with pytest.raises(errors.AlreadyExists):
        nodes.create(core_v1.Node(metadata=meta_v1.ObjectMeta(name=f"n-{namespace}")))
    nodes.delete(f"n-{namespace}")
    with pytest.raises(errors.Invalid) as invalid:
        cs.core_v1.config_maps(namespace).create(core_v1.ConfigMap(metadata=meta_v1.ObjectMeta(name="Bad_Name")))
    assert invalid.value.status == 422
    with Clientset.from_kubeconfig(str(cluster.restricted_kubeconfig)) as restricted, \
            pytest.raises(errors.Forbidden):
        restricted.core_v1.secrets(namespace).list()


def test_pod_eviction(cs: Any, namespace: str) -> None:
    pods = cs.core_v1.pods(namespace)
    pods.create(core_v1.Pod(metadata=meta_v1.ObjectMeta(name="p"), spec=core_v1.PodSpec(
        containers=[core_v1.Container(name="c", image="nginx")], automount_service_account_token=False)))
    pods.evict("p", policy_v1beta1.Eviction(metadata=meta_v1.ObjectMeta(name="p", namespace=namespace)))
    # An unscheduled pod has nothing to drain: the eviction deletes it at once.
    with pytest.raises(errors.NotFound):
        pods.get("p")


async def test_async_clientset(cluster: Any, namespace: str) -> None:
    async with AsyncClientset.from_kubeconfig(str(cluster.admin_kubeconfig)) as acs:
        cms = acs.core_v1.config_maps(namespace)
        await cms.create(core_v1.ConfigMap(metadata=meta_v1.ObjectMeta(name="async"), data={"a": "b"}))
        got = await cms.get("async")
        assert got.data == {"a": "b"}


def _kinds(namespace: str) -> list[tuple[str, Any, Any]]:
    """(raw path, typed client, object) for a spread of kinds the tests create."""
    from kube_v1_20.models import rbac_v1

    meta = meta_v1.ObjectMeta
    return [
        ("services", lambda cs: cs.core_v1.services(namespace), core_v1.Service(
            metadata=meta(name="svc"), spec=core_v1.ServiceSpec(
                selector={"app": "web"},
                ports=[core_v1.ServicePort(name="http", port=80, target_port="http")]))),
        ("serviceaccounts", lambda cs: cs.core_v1.service_accounts(namespace),
         core_v1.ServiceAccount(metadata=meta(name="sa"), automount_service_account_token=False)),
        ("pods", lambda cs: cs.core_v1.pods(namespace), core_v1.Pod(
            metadata=meta(name="pod", labels={"app": "web"}),
            spec=core_v1.PodSpec(automount_service_account_token=False, containers=[core_v1.Container(
                name="c", image="nginx", ports=[core_v1.ContainerPort(name="http", container_port=8080)],
                resources=core_v1.ResourceRequirements(limits={"cpu": "500m", "memory": "1Gi"}),
                liveness_probe=core_v1.Probe(http_get=core_v1.HTTPGetAction(path="/", port=8080)),
                env=[core_v1.EnvVar(name="A", value="1")])]))),
        ("roles", lambda cs: cs.rbac_v1.roles(namespace), rbac_v1.Role(
            metadata=meta(name="r"),
            rules=[rbac_v1.PolicyRule(api_groups=[""], resources=["pods"], verbs=["get"])])),
        ("rolebindings", lambda cs: cs.rbac_v1.role_bindings(namespace), rbac_v1.RoleBinding(
            metadata=meta(name="rb"), role_ref=rbac_v1.RoleRef(api_group="rbac.authorization.k8s.io",
                                                               kind="Role", name="r"),
            subjects=[rbac_v1.Subject(kind="ServiceAccount", name="sa", namespace=namespace)])),
    ]


def test_round_trip_fidelity_of_created_kinds(cs: Any, namespace: str, cluster: Any) -> None:
    admin = cluster.admin_client()
    for plural, client_of, obj in _kinds(namespace):
        created = client_of(cs).create(obj)
        group_path = "/apis/rbac.authorization.k8s.io/v1" if plural.startswith("role") else "/api/v1"
        raw = admin.get(f"{group_path}/namespaces/{namespace}/{plural}/{created.metadata.name}").content
        _same_json(client_of(cs).get(created.metadata.name), raw)
        _same_json(scheme.decode(raw), raw)


def test_list_all_falls_back_to_a_full_list_when_its_continue_token_expires(private_cluster: Any) -> None:
    """Compaction between two pages expires the continue token (410); list_all then does one
    full list and yields only what it had not yielded yet, as client-go's pager does."""
    namespace = private_cluster.create_namespace()
    with Clientset.from_kubeconfig(str(private_cluster.admin_kubeconfig)) as pcs:
        cms = pcs.core_v1.config_maps(namespace)
        for i in range(10):
            cms.create(core_v1.ConfigMap(metadata=meta_v1.ObjectMeta(name=f"c{i}")))
        pages = cms.list_all(page_size=4)
        first = [next(pages).metadata.name for _ in range(4)]
        token = cms.list(limit=4).metadata.continue_
        cms.create(core_v1.ConfigMap(metadata=meta_v1.ObjectMeta(name="late")))
        private_cluster.compact()
        with pytest.raises(errors.ResourceExpired):  # tokens from before the compaction are dead
            cms.list(limit=4, continue_=token)
        rest = [cm.metadata.name for cm in pages]
    assert len(set(first + rest)) == len(first + rest)  # nothing yielded twice
    assert set(first + rest) == {f"c{i}" for i in range(10)} | {"late"}
