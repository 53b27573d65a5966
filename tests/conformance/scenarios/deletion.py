"""Delete: finalizers, propagation policies (no garbage collector runs: kube-apiserver alone),
preconditions, delete-collection, and what a delete returns."""

from __future__ import annotations

from kubecodegen_runtime import errors
from kubecodegen_runtime.apis.meta_v1 import Preconditions, Status

from ..backends import Backend
from .registry import scenario
from .support import (
    WATCH_TIMEOUT,
    configmap,
    event_names,
    names,
    raises,
    read_events,
    rv,
    widget,
    widgets,
)

FINALIZER = "conformance.kubecodegen.test/hold"


@scenario
def scenario_delete_returns_success_status(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    made = cms.create(configmap("a"))
    result = cms.delete("a")
    assert isinstance(result, Status) and result.status == "Success"
    assert result.details is not None
    assert (result.details.name, result.details.kind, result.details.uid) == (
        "a", "configmaps", made.metadata.uid)
    with raises(errors.NotFound, "NotFound"):
        cms.get("a")
    with raises(errors.NotFound, "NotFound"):
        cms.delete("a")


@scenario
def scenario_delete_with_finalizer_keeps_object(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    made = cms.create(configmap("f", {"k": "v"}, finalizers=[FINALIZER]))
    result = cms.delete("f")
    assert not isinstance(result, Status)
    assert result.metadata.deletion_timestamp is not None
    assert result.metadata.deletion_grace_period_seconds == 0
    assert result.metadata.finalizers == [FINALIZER] and rv(result) > rv(made)
    kept = cms.get("f")
    assert kept.metadata.deletion_timestamp == result.metadata.deletion_timestamp
    assert names(cms.list().items) == ["f"]
    again = cms.delete("f")  # a second delete changes nothing
    assert not isinstance(again, Status) and again.metadata.resource_version == kept.metadata.resource_version
    events = read_events(cms.watch(resource_version=made.metadata.resource_version,
                                   timeout_seconds=WATCH_TIMEOUT), 1)
    assert event_names(events) == [("MODIFIED", "f")]
    assert events[0].object.metadata.deletion_timestamp is not None


@scenario
def scenario_removing_last_finalizer_deletes(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    cms.create(configmap("f", finalizers=[FINALIZER, "other.example/x"]))
    cms.delete("f")
    start = cms.get("f").metadata.resource_version
    cms.patch("f", [{"op": "remove", "path": "/metadata/finalizers/0"}], patch_type="json")
    assert cms.get("f").metadata.finalizers == ["other.example/x"]
    cms.patch("f", {"metadata": {"finalizers": None}})
    with raises(errors.NotFound, "NotFound"):
        cms.get("f")
    events = read_events(cms.watch(resource_version=start, timeout_seconds=WATCH_TIMEOUT), 2)
    assert event_names(events) == [("MODIFIED", "f"), ("DELETED", "f")]


@scenario
def scenario_no_new_finalizers_while_deleting(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    cms.create(configmap("f", finalizers=[FINALIZER]))
    cms.delete("f")
    current = cms.get("f")
    current.metadata.finalizers = [FINALIZER, "late.example/x"]
    with raises(errors.Invalid, "Invalid") as caught:
        cms.update(current)
    assert {(c.field, c.reason) for c in caught[0].causes} == {
        ("metadata.finalizers", "FieldValueForbidden")}
    current.metadata.finalizers = [FINALIZER]
    current.data = {"still": "writable"}
    assert cms.update(current).data == {"still": "writable"}


@scenario
def scenario_propagation_orphan_and_foreground(b: Backend) -> None:
    """Without a garbage collector, Orphan and Foreground deletions wait on the finalizer the
    server adds (``orphan``, ``foregroundDeletion``); Background deletes at once."""
    cms = b.cs.core_v1.config_maps(b.namespace)
    for name in ("orphan", "foreground", "background"):
        cms.create(configmap(name))
    orphaned = cms.delete("orphan", propagation_policy="Orphan")
    assert not isinstance(orphaned, Status) and orphaned.metadata.finalizers == ["orphan"]
    foreground = cms.delete("foreground", propagation_policy="Foreground")
    assert not isinstance(foreground, Status)
    assert foreground.metadata.finalizers == ["foregroundDeletion"]
    assert foreground.metadata.deletion_timestamp is not None
    assert isinstance(cms.delete("background", propagation_policy="Background"), Status)
    assert names(cms.list().items) == ["foreground", "orphan"]


@scenario
def scenario_delete_preconditions(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    made = cms.create(configmap("p", {"k": "1"}))
    with raises(errors.Conflict, "Conflict"):
        cms.delete("p", preconditions=Preconditions(uid="00000000-0000-0000-0000-000000000000"))
    cms.patch("p", {"data": {"k": "2"}})
    with raises(errors.Conflict, "Conflict"):
        cms.delete("p", preconditions=Preconditions(resource_version=made.metadata.resource_version))
    assert cms.get("p").data == {"k": "2"}
    current = cms.get("p")
    result = cms.delete("p", preconditions=Preconditions(
        uid=current.metadata.uid, resource_version=current.metadata.resource_version))
    assert isinstance(result, Status) and result.status == "Success"
    with raises(errors.NotFound, "NotFound"):
        cms.get("p")


@scenario
def scenario_uid_precondition_across_recreation(b: Backend) -> None:
    """A uid precondition protects against deleting a newer object of the same name."""
    cms = b.cs.core_v1.config_maps(b.namespace)
    first = cms.create(configmap("r"))
    cms.delete("r")
    second = cms.create(configmap("r"))
    assert second.metadata.uid != first.metadata.uid
    with raises(errors.Conflict, "Conflict"):
        cms.delete("r", preconditions=Preconditions(uid=first.metadata.uid))
    assert cms.get("r").metadata.uid == second.metadata.uid


@scenario
def scenario_delete_collection_by_label(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    for i in range(4):
        cms.create(configmap(f"dc{i}", labels={"group": "a" if i < 3 else "b"}))
    cms.create(configmap("held", labels={"group": "a"}, finalizers=[FINALIZER]))
    by_name = cms.delete_collection(field_selector="metadata.name=dc3")
    assert not isinstance(by_name, Status) and names(by_name.items) == ["dc3"]
    cms.create(configmap("dc3", labels={"group": "b"}))
    deleted = cms.delete_collection(label_selector="group=a")
    assert not isinstance(deleted, Status)
    assert names(deleted.items) == ["dc0", "dc1", "dc2", "held"]
    remaining = cms.list().items
    assert names(remaining) == ["dc3", "held"]
    assert remaining[1].metadata.deletion_timestamp is not None


@scenario
def scenario_delete_collection_all(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    for i in range(3):
        cms.create(configmap(f"all{i}"))
    other = b.new_namespace("other")
    b.cs.core_v1.config_maps(other).create(configmap("untouched"))
    start = cms.list().metadata.resource_version
    deleted = cms.delete_collection()
    assert not isinstance(deleted, Status) and names(deleted.items) == ["all0", "all1", "all2"]
    assert cms.list().items == []
    events = read_events(cms.watch(resource_version=start, timeout_seconds=WATCH_TIMEOUT), 3)
    assert event_names(events) == [("DELETED", "all0"), ("DELETED", "all1"), ("DELETED", "all2")]
    assert names(b.cs.core_v1.config_maps(other).list().items) == ["untouched"]


@scenario
def scenario_delete_collection_not_allowed(b: Backend) -> None:
    """Services have no delete-collection in 1.20: 405 MethodNotAllowed."""
    from kubecodegen_runtime.meta import GroupVersionResource

    services = b.cs.dynamic.resource(GroupVersionResource("", "v1", "services"))
    with raises(errors.MethodNotAllowed, "MethodNotAllowed"):
        services.namespace(b.namespace).delete_collection(label_selector="x=y")
    namespaces = b.cs.dynamic.resource(GroupVersionResource("", "v1", "namespaces"))
    with raises(errors.MethodNotAllowed, "MethodNotAllowed"):
        namespaces.delete_collection(label_selector="x=y")


@scenario
def scenario_custom_resource_finalizers(b: Backend) -> None:
    """On a custom resource, setting deletionTimestamp bumps metadata.generation; a second
    delete asking for Orphan adds the ``orphan`` finalizer; removing the finalizers deletes
    it, and the answer to that patch is the object's final state."""
    ws = widgets(b)
    made = ws.create(widget("w", finalizers=[FINALIZER]))
    assert made.metadata.generation == 1
    deleting = ws.delete("w")
    assert not isinstance(deleting, Status)
    assert deleting.metadata.deletion_timestamp is not None and deleting.metadata.generation == 2
    orphaning = ws.delete("w", propagation_policy="Orphan")
    assert not isinstance(orphaning, Status)
    assert orphaning.metadata.finalizers == [FINALIZER, "orphan"]
    final = ws.patch("w", {"metadata": {"finalizers": None}})
    assert final.metadata.deletion_timestamp is not None and not final.metadata.finalizers
    with raises(errors.NotFound, "NotFound"):
        ws.get("w")
    events = read_events(ws.watch(resource_version=made.metadata.resource_version,
                                  timeout_seconds=WATCH_TIMEOUT), 3)
    assert event_names(events) == [("MODIFIED", "w"), ("MODIFIED", "w"), ("DELETED", "w")]


@scenario
def scenario_delete_options_validated(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    cms.create(configmap("a"))
    with raises(errors.Invalid, "Invalid") as caught:
        cms.delete("a", propagation_policy="Sideways")
    assert [(c.field, c.reason) for c in caught[0].causes] == [
        ("propagationPolicy", "FieldValueNotSupported")]
    assert names(cms.list().items) == ["a"]
