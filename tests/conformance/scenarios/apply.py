"""Server-side apply: creation, ownership, conflicts on scalars, force, list-map keys, two
managers, re-applies that drop fields."""

from __future__ import annotations

from kube_v1_20.applyconfigurations import apps_v1 as aac
from kube_v1_20.applyconfigurations import core_v1 as ac

from kubecodegen_runtime import errors
from kubecodegen_runtime.applyconfigurations import meta_v1 as acm

from ..backends import Backend
from .registry import scenario
from .support import (
    configmap,
    deployment,
    managers,
    owned_fields,
    raises,
    rv,
    widgets,
    widgets_models,
)


def _cm(name: str, data: dict[str, str], **meta_kw: object) -> ac.ConfigMap:
    return ac.ConfigMap(metadata=acm.ObjectMeta(name=name, **meta_kw), data=data)


def _containers(name: str, images: dict[str, str]) -> aac.Deployment:
    return aac.Deployment(
        metadata=acm.ObjectMeta(name=name),
        spec=aac.DeploymentSpec(template=ac.PodTemplateSpec(spec=ac.PodSpec(containers=[
            ac.Container(name=c, image=image) for c, image in images.items()]))),
    )


@scenario
def scenario_apply_creates(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    made = cms.apply(_cm("a", {"k": "v"}, labels={"l": "1"}), field_manager="alice")
    assert made.data == {"k": "v"} and made.metadata.labels == {"l": "1"} and made.metadata.uid
    assert managers(made) == {("alice", "Apply")}
    assert owned_fields(made, "alice") == {"data.k", "metadata.labels.l"}
    assert cms.get("a").data == {"k": "v"}


@scenario
def scenario_apply_same_config_is_noop(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    first = cms.apply(_cm("a", {"k": "v"}), field_manager="alice")
    again = cms.apply(_cm("a", {"k": "v"}), field_manager="alice")
    assert again.metadata.resource_version == first.metadata.resource_version


@scenario
def scenario_apply_conflict_on_scalar(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    cms.apply(_cm("a", {"k": "1"}), field_manager="alice")
    with raises(errors.Conflict, "Conflict") as caught:
        cms.apply(_cm("a", {"k": "2"}), field_manager="bob")
    assert [(c.field, c.reason) for c in caught[0].causes] == [(".data.k", "FieldManagerConflict")]
    assert cms.get("a").data == {"k": "1"}


@scenario
def scenario_apply_force_takes_ownership(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    cms.apply(_cm("a", {"k": "1", "mine": "x"}), field_manager="alice")
    forced = cms.apply(_cm("a", {"k": "2"}), field_manager="bob", force=True)
    assert forced.data == {"k": "2", "mine": "x"}
    assert owned_fields(forced, "bob") == {"data.k"}
    assert owned_fields(forced, "alice") == {"data.mine"}
    # alice no longer owns k: dropping it from her config leaves it alone
    after = cms.apply(_cm("a", {"mine": "x"}), field_manager="alice")
    assert after.data == {"k": "2", "mine": "x"}


@scenario
def scenario_apply_two_managers_disjoint(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    cms.apply(_cm("a", {"x": "1"}), field_manager="alice")
    both = cms.apply(_cm("a", {"y": "2"}), field_manager="bob")
    assert both.data == {"x": "1", "y": "2"}
    assert managers(both) == {("alice", "Apply"), ("bob", "Apply")}
    assert owned_fields(both, "alice") == {"data.x"} and owned_fields(both, "bob") == {"data.y"}


@scenario
def scenario_apply_shared_value_no_conflict(b: Backend) -> None:
    """Applying the value another manager set is no conflict: both own the field."""
    cms = b.cs.core_v1.config_maps(b.namespace)
    cms.apply(_cm("a", {"k": "same", "x": "1"}), field_manager="alice")
    shared = cms.apply(_cm("a", {"k": "same"}), field_manager="bob")
    assert "data.k" in owned_fields(shared, "alice") and owned_fields(shared, "bob") == {"data.k"}
    # alice drops k: bob still owns it, so it stays
    kept = cms.apply(_cm("a", {"x": "1"}), field_manager="alice")
    assert kept.data == {"k": "same", "x": "1"}


@scenario
def scenario_reapply_drops_owned_field(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    first = cms.apply(_cm("a", {"k": "1", "gone": "2"}, labels={"l": "1"}), field_manager="alice")
    second = cms.apply(_cm("a", {"k": "1"}), field_manager="alice")
    assert second.data == {"k": "1"} and not second.metadata.labels
    assert owned_fields(second, "alice") == {"data.k"} and rv(second) > rv(first)


@scenario
def scenario_apply_conflicts_with_update_manager(b: Backend) -> None:
    """A field set by a plain update belongs to that request's manager: applying another
    value conflicts; force takes it, and the updater keeps the rest."""
    cms = b.cs.core_v1.config_maps(b.namespace)
    made = cms.create(configmap("a", {"k": "1", "other": "2"}), field_manager="editor")
    assert managers(made) == {("editor", "Update")}
    assert owned_fields(made, "editor") == {"data.k", "data.other"}
    with raises(errors.Conflict, "Conflict") as caught:
        cms.apply(_cm("a", {"k": "2"}), field_manager="applier")
    assert [c.field for c in caught[0].causes] == [".data.k"]
    forced = cms.apply(_cm("a", {"k": "2"}), field_manager="applier", force=True)
    assert owned_fields(forced, "editor") == {"data.other"}
    assert owned_fields(forced, "applier") == {"data.k"}


@scenario
def scenario_update_records_field_manager(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    cms.create(configmap("a", {"k": "1"}), field_manager="first")
    patched = cms.patch("a", {"data": {"n": "2"}}, field_manager="second")
    assert managers(patched) == {("first", "Update"), ("second", "Update")}
    assert owned_fields(patched, "first") == {"data.k"}
    assert owned_fields(patched, "second") == {"data.n"}


@scenario
def scenario_apply_list_map_containers(b: Backend) -> None:
    """``containers`` is a list-map keyed by name: two managers each own their container."""
    deployments = b.cs.apps_v1.deployments(b.namespace)
    base = deployment("web", containers=("main",))
    base.spec.template.spec.containers[0].image = "example/main:1"
    deployments.apply(base, field_manager="owner")
    sidecar = deployments.apply(_containers("web", {"side": "example/side:1"}), field_manager="mesh")
    assert sorted((c.name, c.image) for c in sidecar.spec.template.spec.containers) == [
        ("main", "example/main:1"), ("side", "example/side:1")]
    with raises(errors.Conflict, "Conflict") as caught:
        deployments.apply(_containers("web", {"main": "example/main:2"}), field_manager="mesh")
    assert [c.field for c in caught[0].causes] == [
        '.spec.template.spec.containers[name="main"].image']
    dropped = deployments.apply(_containers("web", {}), field_manager="mesh")
    assert [c.name for c in dropped.spec.template.spec.containers] == ["main"]


@scenario
def scenario_apply_custom_resource_list_map(b: Backend) -> None:
    """The Widget's ``ports`` are a list-map (x-kubernetes-list-map-keys: [name])."""
    m = widgets_models()
    acw = _widget_apply_configs(b)
    ws = widgets(b)
    ws.apply(acw.Widget(metadata=acm.ObjectMeta(name="w"), spec=acw.WidgetSpec(
        replicas=1, ports=[acw.WidgetSpecPorts(name="http", port=80)])), field_manager="alice")
    both = ws.apply(acw.Widget(metadata=acm.ObjectMeta(name="w"), spec=acw.WidgetSpec(
        ports=[acw.WidgetSpecPorts(name="metrics", port=9090)])), field_manager="bob")
    assert sorted((p.name, p.port) for p in both.spec.ports) == [("http", 80), ("metrics", 9090)]
    assert isinstance(both, m.Widget) and both.spec.replicas == 1
    with raises(errors.Conflict, "Conflict") as caught:
        ws.apply(acw.Widget(metadata=acm.ObjectMeta(name="w"), spec=acw.WidgetSpec(
            ports=[acw.WidgetSpecPorts(name="http", port=8080)])), field_manager="bob")
    assert [c.field for c in caught[0].causes] == ['.spec.ports[name="http"].port']


def _widget_apply_configs(b: Backend) -> object:
    import importlib

    from ..backends import cr_package

    return importlib.import_module(
        f"{cr_package().__name__}.applyconfigurations.conformance_kubecodegen_test_v1")


@scenario
def scenario_apply_set_list_and_scalars_on_custom_resource(b: Backend) -> None:
    acw = _widget_apply_configs(b)
    ws = widgets(b)
    ws.apply(acw.Widget(metadata=acm.ObjectMeta(name="w"), spec=acw.WidgetSpec(
        color="red", tags=["a", "b"])), field_manager="alice")
    merged = ws.apply(acw.Widget(metadata=acm.ObjectMeta(name="w"), spec=acw.WidgetSpec(
        tags=["b", "c"])), field_manager="bob")
    assert sorted(merged.spec.tags) == ["a", "b", "c"] and merged.spec.color == "red"
    with raises(errors.Conflict, "Conflict") as caught:
        ws.apply(acw.Widget(metadata=acm.ObjectMeta(name="w"), spec=acw.WidgetSpec(color="blue")),
                 field_manager="bob")
    assert [c.field for c in caught[0].causes] == [".spec.color"]


@scenario
def scenario_apply_status_kept_apart(b: Backend) -> None:
    """apply_status writes status only. On 1.20 a status apply is still checked for conflicts
    on the whole object: a spec field in it that another manager owns is a Conflict."""
    deployments = b.cs.apps_v1.deployments(b.namespace)
    deployments.create(deployment("web", replicas=1), field_manager="creator")
    with raises(errors.Conflict, "Conflict") as caught:
        deployments.apply_status(
            aac.Deployment(metadata=acm.ObjectMeta(name="web"), spec=aac.DeploymentSpec(replicas=9),
                           status=aac.DeploymentStatus(replicas=2)), field_manager="reporter")
    assert [c.field for c in caught[0].causes] == [".spec.replicas"]
    applied = deployments.apply_status(
        aac.Deployment(metadata=acm.ObjectMeta(name="web"),
                       status=aac.DeploymentStatus(replicas=2, ready_replicas=1)),
        field_manager="reporter")
    assert applied.status.replicas == 2 and applied.status.ready_replicas == 1
    assert applied.spec.replicas == 1 and applied.metadata.generation == 1
    assert owned_fields(applied, "reporter") == {"status.replicas", "status.readyReplicas"}
    assert deployments.get("web").spec.replicas == 1


@scenario
def scenario_update_with_empty_managed_fields_resets(b: Backend) -> None:
    """An update that sends ``managedFields: []`` clears them. The next apply then finds fields
    nobody owns: kube-apiserver gives them to a ``before-first-apply`` manager, so applying
    another value conflicts until forced."""
    cms = b.cs.core_v1.config_maps(b.namespace)
    cms.apply(_cm("a", {"k": "1"}), field_manager="alice")
    current = cms.get("a")
    current.metadata.managed_fields = []
    current.data = {"k": "2"}
    reset = cms.update(current, field_manager="resetter")
    assert reset.data == {"k": "2"} and not reset.metadata.managed_fields
    with raises(errors.Conflict, "Conflict") as caught:
        cms.apply(_cm("a", {"k": "3"}), field_manager="bob")
    assert [c.field for c in caught[0].causes] == [".data.k"]
    taken = cms.apply(_cm("a", {"k": "3"}), field_manager="bob", force=True)
    assert taken.data == {"k": "3"} and owned_fields(taken, "bob") == {"data.k"}
    assert managers(taken) == {("before-first-apply", "Update"), ("bob", "Apply")}
    assert "data.k" not in owned_fields(taken, "before-first-apply")


@scenario
def scenario_scale_does_not_take_apply_ownership(b: Backend) -> None:
    """kube-apiserver 1.20 records no field manager for writes through ``/scale``: the applier
    keeps owning spec.replicas, and its next apply silently scales back (fixed in 1.21)."""
    deployments = b.cs.apps_v1.deployments(b.namespace)
    deployments.apply(deployment("web", replicas=1), field_manager="owner")
    scale = deployments.get_scale("web")
    scale.spec.replicas = 3
    deployments.update_scale("web", scale, field_manager="scaler")
    scaled = deployments.get("web")
    assert scaled.spec.replicas == 3 and managers(scaled) == {("owner", "Apply")}
    assert "spec.replicas" in owned_fields(scaled, "owner")
    again = deployments.apply(deployment("web", replicas=1), field_manager="owner")
    assert again.spec.replicas == 1


@scenario
def scenario_apply_status_on_custom_resource(b: Backend) -> None:
    """A status manager and a spec manager on a Widget: each owns its part, a spec field in a
    status apply conflicts (1.20), and the spec manager's re-apply leaves status alone."""
    acw = _widget_apply_configs(b)
    ws = widgets(b)
    ws.apply(acw.Widget(metadata=acm.ObjectMeta(name="w"), spec=acw.WidgetSpec(replicas=1)),
             field_manager="owner")
    reported = ws.apply_status(acw.Widget(metadata=acm.ObjectMeta(name="w"), status=acw.WidgetStatus(
        phase="Ready", replicas=1)), field_manager="reporter")
    assert reported.status.phase == "Ready" and reported.metadata.generation == 1
    assert owned_fields(reported, "reporter") == {"status.phase", "status.replicas"}
    with raises(errors.Conflict, "Conflict") as caught:
        ws.apply_status(acw.Widget(metadata=acm.ObjectMeta(name="w"), spec=acw.WidgetSpec(replicas=5),
                                   status=acw.WidgetStatus(phase="X")), field_manager="reporter")
    assert [c.field for c in caught[0].causes] == [".spec.replicas"]
    again = ws.apply(acw.Widget(metadata=acm.ObjectMeta(name="w"), spec=acw.WidgetSpec(replicas=1)),
                     field_manager="owner")
    assert again.status.phase == "Ready" and again.spec.replicas == 1
