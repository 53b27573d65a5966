"""Create, read, update: metadata the server fills in, resourceVersions, generateName, errors."""

from __future__ import annotations

import datetime
import time
from typing import Any

from kube_v1_20.models import core_v1, meta_v1, rbac_v1

from kubecodegen_runtime import errors

from ..backends import Backend
from .registry import scenario
from .support import (
    WATCH_TIMEOUT,
    configmap,
    deployment,
    event_names,
    names,
    raises,
    read_events,
    rv,
)


@scenario
def scenario_create_fills_metadata(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    created = cms.create(configmap("a", {"k": "v"}))
    m = created.metadata
    assert m.name == "a" and m.namespace == b.namespace
    assert m.uid and m.resource_version and m.creation_timestamp is not None
    assert m.deletion_timestamp is None and m.generation is None
    got = cms.get("a")
    assert got.metadata.uid == m.uid and got.metadata.resource_version == m.resource_version
    assert got.data == {"k": "v"}


@scenario
def scenario_update_keeps_identity_and_bumps_rv(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    first = cms.create(configmap("a", {"k": "1"}))
    first.data = {"k": "2"}
    second = cms.update(first)
    second.data = {"k": "3"}
    third = cms.update(second)
    assert rv(first) < rv(second) < rv(third)
    assert third.metadata.uid == first.metadata.uid
    assert third.metadata.creation_timestamp == first.metadata.creation_timestamp
    assert cms.get("a").data == {"k": "3"}


@scenario
def scenario_noop_update_keeps_rv(b: Backend) -> None:
    """An update that changes nothing is not written: the resourceVersion stays."""
    cms = b.cs.core_v1.config_maps(b.namespace)
    created = cms.create(configmap("a", {"k": "1"}))
    again = cms.update(created)
    assert again.metadata.resource_version == created.metadata.resource_version


@scenario
def scenario_update_with_stale_rv_conflicts(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    created = cms.create(configmap("a", {"k": "1"}))
    fresh = cms.get("a")
    fresh.data = {"k": "2"}
    cms.update(fresh)
    created.data = {"k": "stale"}
    with raises(errors.Conflict, "Conflict") as caught:
        cms.update(created)
    assert caught[0].details is not None and caught[0].details.name == "a"
    assert cms.get("a").data == {"k": "2"}


@scenario
def scenario_update_without_rv_is_unconditional(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    created = cms.create(configmap("a", {"k": "1"}))
    blind = configmap("a", {"k": "blind"})
    updated = cms.update(blind)
    assert updated.data == {"k": "blind"} and rv(updated) > rv(created)


@scenario
def scenario_update_missing_is_not_found(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    with raises(errors.NotFound, "NotFound"):
        cms.update(configmap("missing", {"k": "1"}))
    with raises(errors.NotFound, "NotFound") as caught:
        cms.get("missing")
    details = caught[0].details
    assert details is not None and details.name == "missing" and details.kind == "configmaps"


@scenario
def scenario_generate_name(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    one = cms.create(configmap(generate_name="gen-"))
    two = cms.create(configmap(generate_name="gen-"))
    for made in (one, two):
        assert made.metadata.name.startswith("gen-") and len(made.metadata.name) == len("gen-") + 5
        assert made.metadata.generate_name == "gen-"
    assert one.metadata.name != two.metadata.name
    assert sorted(c.metadata.name for c in cms.list().items) == sorted(
        [one.metadata.name, two.metadata.name])


@scenario
def scenario_already_exists(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    cms.create(configmap("a", {"k": "1"}))
    with raises(errors.AlreadyExists, "AlreadyExists") as caught:
        cms.create(configmap("a", {"k": "2"}))
    details = caught[0].details
    assert details is not None and details.name == "a" and details.kind == "configmaps"
    assert cms.get("a").data == {"k": "1"}


@scenario
def scenario_invalid_name(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    with raises(errors.Invalid, "Invalid") as caught:
        cms.create(configmap("Not_A_Name"))
    details = caught[0].details
    assert details is not None and details.kind == "ConfigMap" and details.name == "Not_A_Name"
    assert [(c.field, c.reason) for c in caught[0].causes] == [("metadata.name", "FieldValueInvalid")]
    with raises(errors.NotFound, "NotFound"):
        cms.get("not-a-name")


@scenario
def scenario_missing_name_is_invalid(b: Backend) -> None:
    """Neither name nor generateName: refused before anything is stored."""
    cms = b.cs.core_v1.config_maps(b.namespace)
    with raises(errors.Invalid, "Invalid") as caught:
        cms.create(configmap(None, {"k": "v"}))
    assert "metadata.name" in {c.field for c in caught[0].causes}
    assert cms.list().items == []


@scenario
def scenario_namespace_must_exist(b: Backend) -> None:
    missing = b.unique("absent")
    with raises(errors.NotFound, "NotFound") as caught:
        b.cs.core_v1.config_maps(missing).create(configmap("a"))
    details = caught[0].details
    assert details is not None and details.kind == "namespaces" and details.name == missing
    from kube_v1_20.applyconfigurations import core_v1 as ac

    from kubecodegen_runtime.applyconfigurations import meta_v1 as acm

    cms = b.cs.core_v1.config_maps(missing)
    with raises(errors.NotFound, "NotFound") as caught:
        cms.apply(ac.ConfigMap(metadata=acm.ObjectMeta(name="a"), data={"k": "1"}),
                  field_manager="m")
    assert caught[0].details is not None and caught[0].details.kind == "namespaces"
    # reads and delete-collection in a namespace that does not exist are merely empty
    assert cms.list().items == [] and cms.delete_collection().items == []
    with raises(errors.NotFound, "NotFound") as caught:
        cms.get("a")
    assert caught[0].details is not None and caught[0].details.kind == "configmaps"


@scenario
def scenario_same_name_in_two_namespaces(b: Backend) -> None:
    other = b.new_namespace("other")
    a = b.cs.core_v1.config_maps(b.namespace).create(configmap("same", {"n": "1"}))
    c = b.cs.core_v1.config_maps(other).create(configmap("same", {"n": "2"}))
    assert a.metadata.uid != c.metadata.uid
    assert b.cs.core_v1.config_maps(other).get("same").data == {"n": "2"}
    everywhere = b.cs.core_v1.all_config_maps().list(field_selector="metadata.name=same")
    mine = [(i.metadata.namespace, i.data["n"]) for i in everywhere.items
            if i.metadata.namespace in (b.namespace, other)]  # earlier runs' namespaces too
    assert sorted(mine) == sorted([(b.namespace, "1"), (other, "2")])


@scenario
def scenario_cluster_scoped_objects(b: Backend) -> None:
    roles = b.cs.rbac_v1.cluster_roles()
    name = b.unique("role")
    made = roles.create(rbac_v1.ClusterRole(metadata=meta_v1.ObjectMeta(name=name), rules=[]))
    assert made.metadata.namespace is None and made.metadata.uid
    assert name in {r.metadata.name for r in roles.list().items}
    with raises(errors.AlreadyExists, "AlreadyExists"):
        roles.create(rbac_v1.ClusterRole(metadata=meta_v1.ObjectMeta(name=name)))
    roles.delete(name)
    with raises(errors.NotFound, "NotFound"):
        roles.get(name)


@scenario
def scenario_namespace_objects(b: Backend) -> None:
    """Namespaces are cluster-scoped objects of their own; the fresh one is Active."""
    ns = b.cs.core_v1.namespaces().get(b.namespace)
    assert ns.metadata.namespace is None and ns.status is not None and ns.status.phase == "Active"
    assert b.namespace in {n.metadata.name for n in b.cs.core_v1.namespaces().list().items}


@scenario
def scenario_generation_tracks_spec_only(b: Backend) -> None:
    deployments = b.cs.apps_v1.deployments(b.namespace)
    made = deployments.create(deployment("web"))
    assert made.metadata.generation == 1
    made.spec.replicas = 2
    spec_changed = deployments.update(made)
    assert spec_changed.metadata.generation == 2
    spec_changed.metadata.labels = {"tier": "front"}
    labels_changed = deployments.update(spec_changed)
    assert labels_changed.metadata.generation == 2
    assert rv(labels_changed) > rv(spec_changed)


@scenario
def scenario_list_rv_not_older_than_items(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    made = [cms.create(configmap(f"c{i}")) for i in range(3)]
    listed = cms.list()
    assert sorted(i.metadata.name for i in listed.items) == ["c0", "c1", "c2"]
    assert rv(listed) >= max(rv(m) for m in made)
    cms.create(configmap("c3"))
    assert rv(cms.list()) > rv(listed)


@scenario
def scenario_secret_data_round_trip(b: Backend) -> None:
    secrets = b.cs.core_v1.secrets(b.namespace)
    payload = bytes(range(256))
    made = secrets.create(core_v1.Secret(metadata=meta_v1.ObjectMeta(name="s"), data={"bin": payload}))
    assert made.data == {"bin": payload}
    assert secrets.get("s").data == {"bin": payload}


@scenario
def scenario_invalid_metadata(b: Backend) -> None:
    """Generic metadata validation: label keys and values, name length, generateName."""
    cms = b.cs.core_v1.config_maps(b.namespace)
    cases = [
        (configmap("a", labels={"bad key!": "v"}), "metadata.labels"),
        (configmap("a", labels={"k": "bad value!"}), "metadata.labels"),
        (configmap("x" * 254), "metadata.name"),
        (configmap(generate_name="Bad_"), "metadata.generateName"),
    ]
    for obj, field in cases:
        with raises(errors.Invalid, "Invalid") as caught:
            cms.create(obj)
        assert field in {c.field for c in caught[0].causes}, (field, caught[0].causes)
    assert cms.list().items == []


@scenario
def scenario_update_cannot_change_identity(b: Backend) -> None:
    """A uid that is not the object's is a failed precondition (Conflict); a changed
    creationTimestamp is put back by the server."""
    cms = b.cs.core_v1.config_maps(b.namespace)
    made = cms.create(configmap("a", {"k": "1"}))
    wrong = cms.get("a")
    wrong.metadata.uid = "00000000-0000-0000-0000-000000000000"
    with raises(errors.Conflict, "Conflict"):
        cms.update(wrong)
    moved = cms.get("a")
    moved.metadata.creation_timestamp = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
    moved.data = {"k": "2"}
    updated = cms.update(moved)
    assert updated.metadata.creation_timestamp == made.metadata.creation_timestamp
    assert updated.data == {"k": "2"} and updated.metadata.uid == made.metadata.uid


@scenario
def scenario_create_with_resource_version_is_refused(b: Backend) -> None:
    """kube-apiserver 1.20 refuses a create that carries a resourceVersion, as a 500."""
    cms = b.cs.core_v1.config_maps(b.namespace)
    with raises(errors.InternalError, "InternalError"):
        cms.create(configmap("a", resource_version="5"))
    with raises(errors.NotFound, "NotFound"):
        cms.get("a")


@scenario
def scenario_terminating_namespace(b: Backend) -> None:
    """Deleting a namespace leaves it Terminating (no namespace controller runs beside a bare
    kube-apiserver); nothing new may be created in it, existing objects stay writable."""
    doomed = b.new_namespace("doomed")
    cms = b.cs.core_v1.config_maps(doomed)
    cms.create(configmap("inside"))
    deleted = b.cs.core_v1.namespaces().delete(doomed)
    assert getattr(deleted, "metadata", None) is not None and deleted.metadata.deletion_timestamp
    ns = b.cs.core_v1.namespaces().get(doomed)
    assert ns.status.phase == "Terminating" and ns.spec.finalizers == ["kubernetes"]
    refusal = _refused_create(cms)
    assert refusal.reason == "Forbidden"
    assert [(c.field, c.reason) for c in refusal.causes] == [
        ("metadata.namespace", "NamespaceTerminating")]
    assert cms.patch("inside", {"data": {"k": "v"}}).data == {"k": "v"}
    assert names(cms.list().items) == ["inside"]


def _refused_create(cms: Any, timeout: float = 10.0) -> errors.Forbidden:
    """The Forbidden answer to a create in a terminating namespace. kube-apiserver's
    NamespaceLifecycle admission reads namespaces from an informer, so for a moment after the
    delete a create may still pass: such an object is deleted again and the create retried."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            cms.create(configmap("late"))
        except errors.Forbidden as exc:
            return exc
        cms.delete("late")
    raise AssertionError("creates in a terminating namespace were never refused")



@scenario
def scenario_noop_writes_change_nothing(b: Backend) -> None:
    """Patches and applies that change nothing are not written: same resourceVersion, and a
    watch sees only the one real change."""
    from kube_v1_20.applyconfigurations import core_v1 as ac

    from kubecodegen_runtime.applyconfigurations import meta_v1 as acm

    cms = b.cs.core_v1.config_maps(b.namespace)
    made = cms.create(configmap("a", {"k": "1"}))
    assert cms.patch("a", {"data": {"k": "1"}}).metadata.resource_version == made.metadata.resource_version
    assert cms.patch("a", [{"op": "replace", "path": "/data/k", "value": "1"}],
                     patch_type="json").metadata.resource_version == made.metadata.resource_version
    applied = cms.apply(ac.ConfigMap(metadata=acm.ObjectMeta(name="b"), data={"k": "1"}),
                        field_manager="m")
    again = cms.apply(ac.ConfigMap(metadata=acm.ObjectMeta(name="b"), data={"k": "1"}),
                      field_manager="m")
    assert again.metadata.resource_version == applied.metadata.resource_version
    cms.patch("a", {"data": {"k": "2"}})
    events = read_events(cms.watch(resource_version=applied.metadata.resource_version,
                                   timeout_seconds=WATCH_TIMEOUT), 1)
    assert event_names(events) == [("MODIFIED", "a")] and events[0].object.data == {"k": "2"}


@scenario
def scenario_name_rules_per_resource(b: Backend) -> None:
    """Names follow their resource's rule: a ConfigMap's may hold dots (DNS subdomain), a
    Namespace's may not (DNS label)."""
    dotted = b.unique("has") + ".dot"
    made = b.cs.core_v1.config_maps(b.namespace).create(configmap(dotted))
    assert made.metadata.name == dotted
    with raises(errors.Invalid, "Invalid") as caught:
        b.cs.core_v1.namespaces().create(core_v1.Namespace(metadata=meta_v1.ObjectMeta(name=dotted)))
    assert [(c.field, c.reason) for c in caught[0].causes] == [("metadata.name", "FieldValueInvalid")]
    details = caught[0].details
    assert details is not None and details.kind == "Namespace"


@scenario
def scenario_cluster_scoped_collection_and_watch(b: Backend) -> None:
    roles = b.cs.rbac_v1.cluster_roles()
    label = b.unique("set")
    for i in range(2):
        roles.create(rbac_v1.ClusterRole(metadata=meta_v1.ObjectMeta(name=f"{label}-{i}",
                                                                     labels={"conf": label})))
    keep = roles.create(rbac_v1.ClusterRole(metadata=meta_v1.ObjectMeta(name=f"{label}-keep")))
    deleted = roles.delete_collection(label_selector=f"conf={label}")
    assert names(deleted.items) == [f"{label}-0", f"{label}-1"]
    assert roles.get(f"{label}-keep").metadata.uid == keep.metadata.uid
    namespaces = b.cs.core_v1.namespaces()
    start = namespaces.get(b.namespace).metadata.resource_version
    namespaces.patch(b.namespace, {"metadata": {"labels": {"touched": "yes"}}})
    events = read_events(namespaces.watch(resource_version=start, timeout_seconds=WATCH_TIMEOUT,
                                          field_selector=f"metadata.name={b.namespace}"), 1)
    assert event_names(events) == [("MODIFIED", b.namespace)]
    assert events[0].object.metadata.labels["touched"] == "yes"
    roles.delete(f"{label}-keep")
