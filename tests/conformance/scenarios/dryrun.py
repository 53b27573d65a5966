"""dryRun=All on every write: the answer is what would be stored; nothing is stored."""

from __future__ import annotations

from kube_v1_20.applyconfigurations import core_v1 as ac
from kube_v1_20.models import apps_v1

from kubecodegen_runtime import errors
from kubecodegen_runtime.apis.meta_v1 import Status
from kubecodegen_runtime.applyconfigurations import meta_v1 as acm

from ..backends import Backend
from .registry import scenario
from .support import WATCH_TIMEOUT, configmap, deployment, event_names, names, raises, read_events


@scenario
def scenario_dry_run_create(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    result = cms.create(configmap("dry", {"k": "v"}), dry_run=True)
    assert result.metadata.name == "dry" and result.data == {"k": "v"}
    assert result.metadata.uid and result.metadata.creation_timestamp is not None
    assert not result.metadata.resource_version
    with raises(errors.NotFound, "NotFound"):
        cms.get("dry")
    generated = cms.create(configmap(generate_name="dry-"), dry_run=True)
    assert generated.metadata.name.startswith("dry-") and len(generated.metadata.name) == 9
    assert cms.list().items == []


@scenario
def scenario_dry_run_create_still_validates(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    cms.create(configmap("taken"))
    with raises(errors.AlreadyExists, "AlreadyExists"):
        cms.create(configmap("taken"), dry_run=True)
    with raises(errors.Invalid, "Invalid"):
        cms.create(configmap("Bad_Name"), dry_run=True)


@scenario
def scenario_dry_run_update(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    made = cms.create(configmap("u", {"k": "1"}))
    made.data = {"k": "2"}
    result = cms.update(made, dry_run=True)
    assert result.data == {"k": "2"}
    stored = cms.get("u")
    assert stored.data == {"k": "1"}
    assert stored.metadata.resource_version == made.metadata.resource_version


@scenario
def scenario_dry_run_patch(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    made = cms.create(configmap("p", {"k": "1"}))
    result = cms.patch("p", {"data": {"k": "2", "n": "3"}}, dry_run=True)
    assert result.data == {"k": "2", "n": "3"}
    stored = cms.get("p")
    assert stored.data == {"k": "1"} and stored.metadata.resource_version == made.metadata.resource_version
    json_result = cms.patch("p", [{"op": "add", "path": "/data/j", "value": "x"}],
                            patch_type="json", dry_run=True)
    assert json_result.data == {"k": "1", "j": "x"}
    assert cms.get("p").data == {"k": "1"}


@scenario
def scenario_dry_run_delete(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    made = cms.create(configmap("d"))
    result = cms.delete("d", dry_run=True)
    assert isinstance(result, Status) and result.status == "Success"
    assert cms.get("d").metadata.resource_version == made.metadata.resource_version
    deleted = cms.delete_collection(dry_run=True)
    assert not isinstance(deleted, Status) and names(deleted.items) == ["d"]
    assert names(cms.list().items) == ["d"]
    with raises(errors.NotFound, "NotFound"):
        cms.delete("missing", dry_run=True)
    held = cms.create(configmap("held", finalizers=["conformance.kubecodegen.test/hold"]))
    would = cms.delete("held", dry_run=True)
    assert not isinstance(would, Status) and would.metadata.deletion_timestamp is not None
    stored = cms.get("held")
    assert stored.metadata.deletion_timestamp is None
    assert stored.metadata.resource_version == held.metadata.resource_version


@scenario
def scenario_dry_run_apply(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    result = cms.apply(ac.ConfigMap(metadata=acm.ObjectMeta(name="a"), data={"k": "v"}),
                       field_manager="dry", dry_run=True)
    assert result.data == {"k": "v"} and not result.metadata.resource_version
    with raises(errors.NotFound, "NotFound"):
        cms.get("a")


@scenario
def scenario_dry_run_writes_no_events(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    start = cms.create(configmap("e", {"k": "1"})).metadata.resource_version
    cms.create(configmap("e2"), dry_run=True)
    cms.patch("e", {"data": {"k": "2"}}, dry_run=True)
    cms.delete("e", dry_run=True)
    cms.patch("e", {"data": {"k": "real"}})
    events = read_events(cms.watch(resource_version=start, timeout_seconds=WATCH_TIMEOUT), 1)
    assert event_names(events) == [("MODIFIED", "e")] and events[0].object.data == {"k": "real"}


@scenario
def scenario_dry_run_subresources(b: Backend) -> None:
    deployments = b.cs.apps_v1.deployments(b.namespace)
    made = deployments.create(deployment("web", replicas=1))
    made.status = apps_v1.DeploymentStatus(replicas=3)
    assert deployments.update_status(made, dry_run=True).status.replicas == 3
    scale = deployments.get_scale("web")
    scale.spec.replicas = 4
    assert deployments.update_scale("web", scale, dry_run=True).spec.replicas == 4
    stored = deployments.get("web")
    assert stored.spec.replicas == 1 and not (stored.status and stored.status.replicas)
    assert stored.metadata.resource_version == made.metadata.resource_version
