"""Server-side apply with apply configurations and ``extract``, against the real v1.20.2 server
(generated/kube_v1_20, as a user would use it).

The loop under test is client-go's: build (or ``extract``) the configuration of the fields
you own, change it, apply it; other managers' fields and ownership stay as they were.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.generated_packages import import_reference

kube = import_reference("kube_v1_20")
from kube_v1_20 import Clientset  # noqa: E402
from kube_v1_20.applyconfigurations import apps_v1 as ac  # noqa: E402
from kube_v1_20.applyconfigurations import core_v1 as acc  # noqa: E402
from kube_v1_20.applyconfigurations import meta_v1 as acm  # noqa: E402

from kubecodegen_runtime import codec, errors  # noqa: E402
from kubecodegen_runtime.managed_fields import owned_fields  # noqa: E402


@pytest.fixture
def cs(cluster: Any) -> Any:
    with Clientset.from_kubeconfig(str(cluster.admin_kubeconfig)) as clientset:
        yield clientset


def _template() -> Any:
    return acc.PodTemplateSpec(
        metadata=acm.ObjectMeta(labels={"app": "web"}),
        spec=acc.PodSpec(containers=[acc.Container(name="web", image="nginx:1")]))


def _full_deployment(namespace: str, replicas: int = 1) -> Any:
    return ac.Deployment(
        metadata=acm.ObjectMeta(name="web", namespace=namespace),
        spec=ac.DeploymentSpec(replicas=replicas, selector=acm.LabelSelector(match_labels={"app": "web"}),
                               template=_template()))


def _fields(obj: Any, manager: str, subresource: str | None = None) -> dict[str, Any] | None:
    entries = json.loads(codec.encode(obj.metadata.managed_fields or []))
    return owned_fields(entries, manager, subresource)


def _managed(obj: Any) -> list[tuple[str, str, Any]]:
    """Each entry's manager, operation and fields (not the timestamps, which an apply updates)."""
    entries = json.loads(codec.encode(obj.metadata.managed_fields or []))
    return sorted((e["manager"], e["operation"], json.dumps(e.get("fieldsV1"), sort_keys=True))
                  for e in entries)


def test_the_canonical_apply_sets_replicas_without_owning_the_template(cs: Any, namespace: str) -> None:
    deployments = cs.apps_v1.deployments(namespace)
    deployments.apply(_full_deployment(namespace), field_manager="author")
    scaled = deployments.apply(
        ac.Deployment(metadata=acm.ObjectMeta(name="web", namespace=namespace),
                      spec=ac.DeploymentSpec(replicas=3)),
        field_manager="autoscaler", force=True)
    assert scaled.spec.replicas == 3
    assert scaled.spec.template.spec.containers[0].image == "nginx:1"
    assert _fields(scaled, "autoscaler") == {"f:spec": {"f:replicas": {}}}
    author = _fields(scaled, "author")
    assert author is not None and "f:template" in author["f:spec"] and "f:replicas" not in author["f:spec"]


def test_two_managers_conflict_on_one_field_and_force_takes_it(cs: Any, namespace: str) -> None:
    deployments = cs.apps_v1.deployments(namespace)
    deployments.apply(_full_deployment(namespace), field_manager="author")
    with pytest.raises(errors.Conflict) as info:
        deployments.apply(ac.Deployment(metadata=acm.ObjectMeta(name="web"),
                                        spec=ac.DeploymentSpec(replicas=4)), field_manager="other")
    assert [cause.field for cause in info.value.causes] == [".spec.replicas"]
    taken = deployments.apply(ac.Deployment(metadata=acm.ObjectMeta(name="web"),
                                            spec=ac.DeploymentSpec(replicas=4)),
                              field_manager="other", force=True)
    assert taken.spec.replicas == 4
    assert _fields(taken, "other") == {"f:spec": {"f:replicas": {}}}
    assert "f:replicas" not in (_fields(taken, "author") or {})["f:spec"]


def test_extract_modify_apply_deployment_leaves_other_managers_alone(cs: Any, namespace: str) -> None:
    deployments = cs.apps_v1.deployments(namespace)
    deployments.apply(_full_deployment(namespace), field_manager="author")
    before = deployments.apply(ac.Deployment(metadata=acm.ObjectMeta(name="web"),
                                             spec=ac.DeploymentSpec(replicas=2)),
                               field_manager="scaler", force=True)
    mine = ac.Deployment.extract(before, "author")
    assert mine.spec.replicas is None  # no longer the author's
    assert mine.spec.template.spec.containers == [acc.Container(name="web", image="nginx:1")]
    mine.spec.template.spec.containers[0].image = "nginx:2"
    after = deployments.apply(mine, field_manager="author")  # no force: nothing of another manager's
    assert after.spec.template.spec.containers[0].image == "nginx:2"
    assert after.spec.replicas == 2
    assert _fields(after, "scaler") == _fields(before, "scaler")
    assert _fields(after, "author") == _fields(before, "author")
    unchanged = deployments.apply(ac.Deployment.extract(after, "author"), field_manager="author")
    assert _managed(unchanged) == _managed(after)  # extract -> apply is a no-op


def test_extract_service_ports_keyed_by_port_and_protocol(cs: Any, namespace: str) -> None:
    services = cs.core_v1.services(namespace)
    services.apply(acc.Service(metadata=acm.ObjectMeta(name="svc"), spec=acc.ServiceSpec(
        selector={"app": "web"},
        ports=[acc.ServicePort(name="dns-tcp", port=53, protocol="TCP"),
               acc.ServicePort(name="dns-udp", port=53, protocol="UDP")])), field_manager="author")
    before = services.apply(acc.Service(metadata=acm.ObjectMeta(name="svc"), spec=acc.ServiceSpec(
        ports=[acc.ServicePort(name="web", port=80, protocol="TCP")])), field_manager="web")
    ports = (_fields(before, "web") or {})["f:spec"]["f:ports"]
    assert set(ports) - {"."} == {'k:{"port":80,"protocol":"TCP"}'}
    mine = acc.Service.extract(before, "web")
    assert [(p.port, p.protocol, p.name) for p in mine.spec.ports] == [(80, "TCP", "web")]
    mine.spec.ports[0].target_port = 8080
    after = services.apply(mine, field_manager="web")
    by_name = {p.name: p for p in after.spec.ports}
    assert set(by_name) == {"dns-tcp", "dns-udp", "web"} and by_name["web"].target_port == 8080
    assert _fields(after, "author") == _fields(before, "author")


def test_extract_pod_containers_keyed_by_name_with_env_inside(cs: Any, namespace: str) -> None:
    pods = cs.core_v1.pods(namespace)
    pods.apply(acc.Pod(metadata=acm.ObjectMeta(name="p"), spec=acc.PodSpec(
        automount_service_account_token=False,  # no controller-manager mints tokens here
        containers=[
        acc.Container(name="a", image="busybox", env=[acc.EnvVar(name="X", value="1")]),
        acc.Container(name="b", image="busybox")])), field_manager="author")
    before = pods.apply(acc.Pod(metadata=acm.ObjectMeta(name="p", labels={"team": "t"})),
                        field_manager="labeller")
    mine = acc.Pod.extract(before, "author")
    assert [c.name for c in mine.spec.containers] == ["a", "b"]
    assert mine.spec.containers[0].env == [acc.EnvVar(name="X", value="1")]
    assert mine.metadata.labels is None  # the labeller's
    mine.spec.containers[0].image = "busybox:1.36"  # a pod's image may change in place
    after = pods.apply(mine, field_manager="author")
    assert after.spec.containers[0].image == "busybox:1.36"
    assert after.metadata.labels == {"team": "t"}
    assert _fields(after, "labeller") == _fields(before, "labeller")
    assert _fields(after, "author") == _fields(before, "author")


def test_extract_config_map_and_apply_of_one_key(cs: Any, namespace: str) -> None:
    cms = cs.core_v1.config_maps(namespace)
    cms.apply(acc.ConfigMap(metadata=acm.ObjectMeta(name="c"), data={"a": "1", "b": "2"}),
              field_manager="author")
    before = cms.apply(acc.ConfigMap(metadata=acm.ObjectMeta(name="c"), data={"c": "3"}),
                       field_manager="other")
    assert before.data == {"a": "1", "b": "2", "c": "3"}
    mine = acc.ConfigMap.extract(before, "author")
    assert mine.data == {"a": "1", "b": "2"}
    mine.data["a"] = "10"
    after = cms.apply(mine, field_manager="author")
    assert after.data == {"a": "10", "b": "2", "c": "3"}
    assert _fields(after, "other") == _fields(before, "other")
    dropped = cms.apply(acc.ConfigMap(metadata=acm.ObjectMeta(name="c"), data={"b": "2"}),
                        field_manager="author")  # applying without a field gives it up
    assert dropped.data == {"b": "2", "c": "3"}


def test_apply_of_a_list_map_item_only_touches_that_item(cs: Any, namespace: str) -> None:
    deployments = cs.apps_v1.deployments(namespace)
    deployments.apply(_full_deployment(namespace), field_manager="author")
    sidecar = ac.Deployment(metadata=acm.ObjectMeta(name="web"), spec=ac.DeploymentSpec(
        template=acc.PodTemplateSpec(spec=acc.PodSpec(containers=[
            acc.Container(name="sidecar", image="busybox")]))))
    after = deployments.apply(sidecar, field_manager="sidecar-injector")
    containers = {c.name: c.image for c in after.spec.template.spec.containers}
    assert containers == {"web": "nginx:1", "sidecar": "busybox"}
    owned = (_fields(after, "sidecar-injector") or {})["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert set(owned) == {'k:{"name":"sidecar"}'}
    extracted = ac.Deployment.extract(after, "sidecar-injector")
    assert [c.name for c in extracted.spec.template.spec.containers] == ["sidecar"]


def test_extract_of_the_status_subresource(cs: Any, namespace: str) -> None:
    deployments = cs.apps_v1.deployments(namespace)
    deployments.apply(_full_deployment(namespace), field_manager="author")
    status = ac.Deployment(metadata=acm.ObjectMeta(name="web"), status=ac.DeploymentStatus(
        observed_generation=7, conditions=[ac.DeploymentCondition(type="Progressing", status="True",
                                                                  reason="Tested")]))
    after = deployments.apply_status(status, field_manager="status-writer", force=True)
    assert after.status.observed_generation == 7
    subresource = _status_subresource(after)
    assert subresource is None  # kube-apiserver 1.20 files it with the main resource's entries
    mine = ac.Deployment.extract(after, "status-writer", subresource=subresource)
    assert mine.spec is None and mine.status.observed_generation == 7
    assert [(c.type, c.reason) for c in mine.status.conditions] == [("Progressing", "Tested")]
    again = deployments.apply_status(mine, field_manager="status-writer", force=True)
    assert _fields(again, "author") == _fields(after, "author")


def _status_subresource(obj: Any) -> str | None:
    """Where a status apply's ownership is recorded: servers before 1.22 name no
    ``subresource`` in managedFields, so theirs is filed with the main resource's."""
    entries = json.loads(codec.encode(obj.metadata.managed_fields or []))
    return next(e.get("subresource") for e in entries if e["manager"] == "status-writer")
