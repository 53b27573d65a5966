"""Status and scale subresources are kept apart from the main resource (built-ins and the CRD)."""

from __future__ import annotations

from kube_v1_20.models import apps_v1

from kubecodegen_runtime import errors

from ..backends import Backend
from .registry import scenario
from .support import deployment, raises, rv, widget, widgets, widgets_models


@scenario
def scenario_status_update_ignores_spec(b: Backend) -> None:
    deployments = b.cs.apps_v1.deployments(b.namespace)
    made = deployments.create(deployment("web", replicas=1))
    made.spec.replicas = 7
    made.status = apps_v1.DeploymentStatus(replicas=1, observed_generation=1)
    result = deployments.update_status(made)
    assert result.status.replicas == 1 and result.status.observed_generation == 1
    assert result.spec.replicas == 1 and result.metadata.generation == 1
    stored = deployments.get("web")
    assert stored.spec.replicas == 1 and stored.status.replicas == 1
    assert rv(stored) > rv(made)


@scenario
def scenario_main_update_ignores_status(b: Backend) -> None:
    deployments = b.cs.apps_v1.deployments(b.namespace)
    made = deployments.create(deployment("web", replicas=1))
    made.status = apps_v1.DeploymentStatus(replicas=5)
    made.spec.replicas = 2
    result = deployments.update(made)
    assert result.spec.replicas == 2 and result.metadata.generation == 2
    assert not result.status or not result.status.replicas
    patched = deployments.patch("web", {"status": {"replicas": 9}})
    assert not patched.status or not patched.status.replicas


@scenario
def scenario_status_patch_and_conflict(b: Backend) -> None:
    deployments = b.cs.apps_v1.deployments(b.namespace)
    made = deployments.create(deployment("web"))
    patched = deployments.patch_status("web", {"status": {"replicas": 3, "readyReplicas": 2}})
    assert patched.status.replicas == 3 and patched.status.ready_replicas == 2
    assert patched.metadata.generation == made.metadata.generation
    got = deployments.get_status("web")
    assert got.status.ready_replicas == 2 and got.spec.replicas == 1
    made.status = apps_v1.DeploymentStatus(replicas=4)
    with raises(errors.Conflict, "Conflict"):
        deployments.update_status(made)  # made's resourceVersion is stale now


@scenario
def scenario_status_of_missing_is_not_found(b: Backend) -> None:
    deployments = b.cs.apps_v1.deployments(b.namespace)
    with raises(errors.NotFound, "NotFound"):
        deployments.get_status("missing")
    with raises(errors.NotFound, "NotFound"):
        deployments.patch_status("missing", {"status": {"replicas": 1}})


@scenario
def scenario_deployment_scale(b: Backend) -> None:
    deployments = b.cs.apps_v1.deployments(b.namespace)
    made = deployments.create(deployment("web", replicas=2))
    scale = deployments.get_scale("web")
    assert scale.kind == "Scale" and scale.metadata.name == "web"
    assert scale.metadata.uid == made.metadata.uid and scale.spec.replicas == 2
    assert scale.status.replicas == 0 and scale.status.selector == "app=web"
    scale.spec.replicas = 5
    updated = deployments.update_scale("web", scale)
    assert updated.spec.replicas == 5
    stored = deployments.get("web")
    assert stored.spec.replicas == 5 and stored.metadata.generation == 2
    patched = deployments.patch_scale("web", {"spec": {"replicas": 1}})
    assert patched.spec.replicas == 1 and deployments.get("web").spec.replicas == 1


@scenario
def scenario_scale_with_stale_rv_conflicts(b: Backend) -> None:
    deployments = b.cs.apps_v1.deployments(b.namespace)
    deployments.create(deployment("web", replicas=1))
    scale = deployments.get_scale("web")
    deployments.patch("web", {"spec": {"replicas": 2}})
    scale.spec.replicas = 3
    with raises(errors.Conflict, "Conflict"):
        deployments.update_scale("web", scale)
    assert deployments.get("web").spec.replicas == 2


@scenario
def scenario_custom_resource_generation(b: Backend) -> None:
    ws = widgets(b)
    made = ws.create(widget("w", replicas=1, color="red"))
    assert made.metadata.generation == 1
    assert ws.patch("w", {"spec": {"color": "blue"}}).metadata.generation == 2
    assert ws.patch("w", {"metadata": {"labels": {"l": "1"}}}).metadata.generation == 2
    assert ws.patch_status("w", {"status": {"phase": "Ready"}}).metadata.generation == 2


@scenario
def scenario_custom_resource_status_kept_apart(b: Backend) -> None:
    m = widgets_models()
    ws = widgets(b)
    made = ws.create(widget("w", replicas=1))
    assert made.status is None
    made.status = m.WidgetStatus(phase="Ignored")
    made.spec.color = "red"
    updated = ws.update(made)
    assert updated.status is None and updated.spec.color == "red"
    updated.status = m.WidgetStatus(phase="Ready", replicas=1)
    updated.spec.color = "ignored"
    status = ws.update_status(updated)
    assert status.status.phase == "Ready" and status.spec.color == "red"
    assert ws.patch("w", {"status": {"phase": "Nope"}}).status.phase == "Ready"
    assert ws.get("w").status.phase == "Ready"


@scenario
def scenario_custom_resource_scale(b: Backend) -> None:
    ws = widgets(b)
    made = ws.create(widget("w", replicas=2))
    ws.patch_status("w", {"status": {"replicas": 2, "selector": "app=w"}})
    scale = ws.get_scale("w")
    assert scale.api_version == "autoscaling/v1" and scale.kind == "Scale"
    assert scale.metadata.uid == made.metadata.uid
    assert scale.spec.replicas == 2
    assert scale.status.replicas == 2 and scale.status.selector == "app=w"
    scale.spec.replicas = 4
    assert ws.update_scale("w", scale).spec.replicas == 4
    stored = ws.get("w")
    assert stored.spec.replicas == 4 and stored.status.replicas == 2
    assert stored.metadata.generation == 2
    # Scale's spec.replicas is omitempty in Go: a scale to zero answers without it
    assert ws.patch_scale("w", {"spec": {"replicas": 0}}).spec.replicas is None
    assert ws.get("w").spec.replicas == 0


@scenario
def scenario_custom_resource_status_ignores_metadata(b: Backend) -> None:
    """Through a custom resource's status subresource only status changes: labels,
    annotations and finalizers in the request are dropped (update and patch alike)."""
    m = widgets_models()
    ws = widgets(b)
    made = ws.create(widget("w"))
    made.metadata.labels = {"new": "1"}
    made.metadata.annotations = {"a": "1"}
    made.metadata.finalizers = ["conformance.kubecodegen.test/hold"]
    made.status = m.WidgetStatus(phase="P")
    updated = ws.update_status(made)
    assert updated.status.phase == "P"
    assert (updated.metadata.labels, updated.metadata.annotations, updated.metadata.finalizers) == (
        None, None, None)
    patched = ws.patch_status("w", {"metadata": {"labels": {"p": "1"}, "annotations": {"b": "2"}},
                                    "status": {"phase": "Q"}})
    assert patched.status.phase == "Q"
    assert (patched.metadata.labels, patched.metadata.annotations) == (None, None)
