"""The controller's pure core: owner-reference accessors, event -> keys mapping (primary,
owned, mapped; tombstones; updates with an owner change; non-controller references) and
the outcome -> queue action rules."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubecodegen_runtime.cache.keys import (
    DeletedFinalStateUnknown,
    KeyFuncError,
    OwnerRef,
    controller_of,
    get_owner_references,
)
from kubecodegen_runtime.controller import (
    ControllerStats,
    EnqueueHandler,
    ObjectKey,
    Outcome,
    OwnerMapper,
    Predicate,
    QueueAction,
    Result,
    TerminalError,
    apply,
    decide,
    generation_changed,
    primary_keys,
    resource_version_changed,
)
from kubecodegen_runtime.meta import GroupVersionKind
from kubecodegen_runtime.workqueue import ItemExponentialFailureRateLimiter, RateLimitingQueue

GENERATED = Path(__file__).resolve().parents[2] / "generated"
sys.path.insert(0, str(GENERATED))

from kube_v1_35.clientset.apps_v1 import DEPLOYMENTS, REPLICA_SETS  # noqa: E402
from kube_v1_35.clientset.core_v1 import CONFIG_MAPS  # noqa: E402
from kube_v1_35.clientset.rbac_v1 import CLUSTER_ROLES  # noqa: E402
from kube_v1_35.models import apps_v1, core_v1  # noqa: E402
from kube_v1_35.models.meta_v1 import ObjectMeta, OwnerReference  # noqa: E402


def ref(kind: str = "Deployment", name: str = "web", api_version: str = "apps/v1",
        controller: bool | None = True) -> dict[str, Any]:
    out: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "name": name, "uid": f"u-{name}"}
    if controller is not None:
        out["controller"] = controller
    return out


def rs_dict(name: str = "web-1", namespace: str = "ns", *refs: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if refs:
        meta["ownerReferences"] = list(refs)
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta}


def rs_typed(name: str = "web-1", namespace: str = "ns", *refs: dict[str, Any]) -> apps_v1.ReplicaSet:
    owners = [OwnerReference(api_version=r["apiVersion"], kind=r["kind"], name=r["name"],
                             uid=r["uid"], controller=r.get("controller")) for r in refs]
    return apps_v1.ReplicaSet(metadata=ObjectMeta(name=name, namespace=namespace,
                                                  owner_references=owners or None))


SHAPES = pytest.mark.parametrize("make", [rs_dict, rs_typed], ids=["dict", "typed"])


# -- owner-reference accessors ---------------------------------------------------------------


@SHAPES
def test_owner_references_read_the_same_from_dicts_and_structs(make: Any) -> None:
    obj = make("web-1", "ns", ref("Deployment", "web"), ref("ConfigMap", "cfg", "v1", controller=None))
    refs = get_owner_references(obj)
    assert refs == (OwnerRef("apps/v1", "Deployment", "web", "u-web", True, False),
                    OwnerRef("v1", "ConfigMap", "cfg", "u-cfg", False, False))
    assert refs[0].group == "apps" and refs[1].group == ""
    assert controller_of(obj) == refs[0]
    assert get_owner_references(make("lonely", "ns")) == ()
    assert controller_of(make("lonely", "ns")) is None


def test_malformed_owner_entries_of_a_dict_are_skipped() -> None:
    obj = rs_dict("x", "ns", {"kind": "Deployment"}, {"apiVersion": 3, "kind": "K", "name": "n"},
                  ref("Deployment", "ok"))
    assert [r.name for r in get_owner_references(obj)] == ["ok"]
    assert get_owner_references({"metadata": {"ownerReferences": "nonsense"}}) == ()
    assert get_owner_references({"metadata": None}) == ()


def test_controller_of_is_the_first_controller_reference() -> None:
    obj = rs_dict("x", "ns", ref("A", "a", controller=False), ref("B", "b"), ref("C", "c"))
    found = controller_of(obj)
    assert found is not None and found.kind == "B"


# -- keys ------------------------------------------------------------------------------------


def test_object_key_of_typed_dict_and_tombstone() -> None:
    cm = core_v1.ConfigMap(metadata=ObjectMeta(name="a", namespace="ns"))
    assert ObjectKey.of(cm) == ObjectKey("ns", "a") and str(ObjectKey.of(cm)) == "ns/a"
    assert ObjectKey.of({"metadata": {"name": "node-1"}}) == ObjectKey("", "node-1")
    assert str(ObjectKey("", "node-1")) == "node-1"
    assert ObjectKey.of(DeletedFinalStateUnknown("ns/gone", cm)) == ObjectKey("ns", "gone")
    assert ObjectKey.parse("ns/a") == ("ns", "a")
    with pytest.raises(KeyFuncError):
        ObjectKey.of({"metadata": {}})


# -- mapping ---------------------------------------------------------------------------------


class Sink:
    def __init__(self) -> None:
        self.keys: list[ObjectKey] = []
        self.errors: list[tuple[BaseException, object]] = []

    def handler(self, mapper: Any) -> EnqueueHandler[Any]:
        return EnqueueHandler(mapper, self.keys.append,
                              lambda exc, obj: self.errors.append((exc, obj)))


def test_primary_watch_maps_every_event_to_the_object_key() -> None:
    sink = Sink()
    handler = sink.handler(primary_keys)
    cm = core_v1.ConfigMap(metadata=ObjectMeta(name="a", namespace="ns"))
    handler.on_add(cm, True)
    handler.on_update(cm, cm)  # a resync
    handler.on_delete(cm)
    handler.on_delete(DeletedFinalStateUnknown("ns/a", cm))
    assert sink.keys == [ObjectKey("ns", "a")] * 4 and not sink.errors


@SHAPES
def test_owned_watch_maps_to_the_controller_owner_in_the_objects_namespace(make: Any) -> None:
    sink = Sink()
    handler = sink.handler(OwnerMapper(DEPLOYMENTS))
    handler.on_add(make("web-1", "ns", ref("Deployment", "web")), False)
    # the version in apiVersion does not matter, only the group and kind
    handler.on_add(make("web-2", "ns", ref("Deployment", "web2", "apps/v1beta2")), False)
    assert sink.keys == [ObjectKey("ns", "web"), ObjectKey("ns", "web2")]


@SHAPES
def test_non_controller_and_other_type_references_are_ignored(make: Any) -> None:
    sink = Sink()
    handler = sink.handler(OwnerMapper(DEPLOYMENTS))
    handler.on_add(make("a", "ns", ref("Deployment", "web", controller=False)), False)
    handler.on_add(make("b", "ns", ref("Deployment", "web", controller=None)), False)
    handler.on_add(make("c", "ns", ref("Deployment", "web", "extensions/v1beta1")), False)  # other group
    handler.on_add(make("d", "ns", ref("StatefulSet", "web")), False)  # other kind
    handler.on_add(make("e", "ns"), False)  # no owners
    # a non-controller Deployment ref next to a controller ref of another type: nothing
    handler.on_add(make("f", "ns", ref("Deployment", "web", controller=False),
                        ref("ReplicaSet", "rs")), False)
    assert sink.keys == [] and not sink.errors


def test_update_with_an_owner_change_asks_for_both_owners() -> None:
    sink = Sink()
    handler = sink.handler(OwnerMapper(DEPLOYMENTS))
    old = rs_typed("web-1", "ns", ref("Deployment", "old-owner"))
    new = rs_typed("web-1", "ns", ref("Deployment", "new-owner"))
    handler.on_update(old, new)
    assert sink.keys == [ObjectKey("ns", "old-owner"), ObjectKey("ns", "new-owner")]
    sink.keys.clear()
    handler.on_update(new, rs_typed("web-1", "ns", ref("Deployment", "new-owner")))
    assert sink.keys == [ObjectKey("ns", "new-owner")]  # once, not twice
    sink.keys.clear()
    released = rs_typed("web-1", "ns", ref("Deployment", "new-owner", controller=False))
    handler.on_update(new, released)  # the owner let go: it still hears of it
    assert sink.keys == [ObjectKey("ns", "new-owner")]


def test_tombstones_are_unwrapped_for_owned_and_mapped_watches() -> None:
    sink = Sink()
    last_state = rs_dict("web-1", "ns", ref("Deployment", "web"))
    sink.handler(OwnerMapper(DEPLOYMENTS)).on_delete(DeletedFinalStateUnknown("ns/web-1", last_state))
    seen: list[object] = []

    def mapper(obj: object) -> list[ObjectKey]:
        seen.append(obj)
        return [ObjectKey("elsewhere", "x")]

    sink.handler(mapper).on_delete(DeletedFinalStateUnknown("ns/web-1", last_state))
    assert sink.keys == [ObjectKey("ns", "web"), ObjectKey("elsewhere", "x")]
    assert seen == [last_state]


def test_owner_scope_cluster_scoped_and_namespaced() -> None:
    owned_by_role = rs_dict("x", "ns", ref("ClusterRole", "admin", "rbac.authorization.k8s.io/v1"))
    # a ResourceInfo knows ClusterRoles are cluster-scoped: the key has no namespace
    assert OwnerMapper(CLUSTER_ROLES)(owned_by_role) == [ObjectKey("", "admin")]
    pair = ("rbac.authorization.k8s.io", "ClusterRole")
    assert OwnerMapper(pair, namespaced=False)(owned_by_role) == [ObjectKey("", "admin")]
    assert OwnerMapper(pair)(owned_by_role) == [ObjectKey("ns", "admin")]  # unknown: assumed namespaced
    # a cluster-scoped dependent cannot have a namespaced owner
    cluster_dependent = {"metadata": {"name": "pv", "ownerReferences": [ref("Deployment", "web")]}}
    assert OwnerMapper(DEPLOYMENTS)(cluster_dependent) == []
    gvk = GroupVersionKind("apps", "v1", "Deployment")
    assert OwnerMapper(gvk)(cluster_dependent) == [ObjectKey("", "web")]


def test_owner_pairs_that_look_like_api_versions_are_refused() -> None:
    with pytest.raises(ValueError, match="group, kind"):
        OwnerMapper(("apps/v1", "Deployment"))
    with pytest.raises(ValueError, match="group, kind"):
        OwnerMapper(("v1", "ConfigMap"))
    assert OwnerMapper(("", "ConfigMap"))(rs_dict("x", "ns", ref("ConfigMap", "c", "v1"))) == \
        [ObjectKey("ns", "c")]


def test_a_failing_mapper_is_reported_and_other_objects_still_map() -> None:
    sink = Sink()

    def mapper(obj: Any) -> list[ObjectKey]:
        if obj["metadata"]["name"] == "bad":
            raise RuntimeError("boom")
        return [ObjectKey("ns", obj["metadata"]["name"]), ObjectKey("ns", obj["metadata"]["name"])]

    handler = sink.handler(mapper)
    bad, good = rs_dict("bad"), rs_dict("good")
    handler.on_update(bad, good)
    assert sink.keys == [ObjectKey("ns", "good")]  # deduplicated
    assert len(sink.errors) == 1 and sink.errors[0][1] is bad
    # tuples from a mapper become ObjectKeys
    sink.handler(lambda obj: [("a", "b")]).on_add(good, False)
    assert type(sink.keys[-1]) is ObjectKey


owner_refs = st.lists(st.fixed_dictionaries({
    "apiVersion": st.sampled_from(["apps/v1", "apps/v1beta1", "v1", "example.com/v1"]),
    "kind": st.sampled_from(["Deployment", "ConfigMap", "Foo"]),
    "name": st.sampled_from(["a", "b", "c"]),
    "uid": st.just("u"),
    "controller": st.sampled_from([True, False, None]),
}), max_size=4)


@given(owner_refs, owner_refs, st.booleans())
def test_owned_update_keys_are_the_controller_owners_of_old_and_new(
        old_refs: list[dict[str, Any]], new_refs: list[dict[str, Any]], typed: bool) -> None:
    make = rs_typed if typed else rs_dict
    sink = Sink()
    sink.handler(OwnerMapper(DEPLOYMENTS)).on_update(make("x", "ns", *old_refs), make("x", "ns", *new_refs))

    def expected(refs: list[dict[str, Any]]) -> list[ObjectKey]:
        controllers = [r for r in refs if r["controller"] is True]
        if not controllers:
            return []
        first = controllers[0]
        ok = first["kind"] == "Deployment" and first["apiVersion"].startswith("apps/")
        return [ObjectKey("ns", first["name"])] if ok else []

    want = list(dict.fromkeys(expected(old_refs) + expected(new_refs)))
    assert sink.keys == want


def test_replica_set_informer_info_is_not_an_owner_of_deployments() -> None:
    # ResourceInfo of another kind in the same group maps nothing
    assert OwnerMapper(REPLICA_SETS)(rs_dict("x", "ns", ref("Deployment", "web"))) == []
    assert OwnerMapper(CONFIG_MAPS).namespaced is True


def deployment(generation: int, rv: str) -> apps_v1.Deployment:
    return apps_v1.Deployment(metadata=ObjectMeta(name="web", namespace="ns",
                                                  generation=generation, resource_version=rv))


def test_predicates_filter_before_mapping() -> None:
    sink = Sink()
    handler = sink.handler(primary_keys)
    handler.predicate = generation_changed()
    v1, v1_status, v2 = deployment(1, "10"), deployment(1, "11"), deployment(2, "12")
    handler.on_add(v1, True)  # adds and deletes pass: only on_update is set
    handler.on_update(v1, v1_status)  # a status write: same generation
    handler.on_update(v1_status, v1_status)  # a resync
    assert sink.keys == [ObjectKey("ns", "web")]
    handler.on_update(v1_status, v2)
    handler.on_delete(DeletedFinalStateUnknown("ns/web", v2))
    assert len(sink.keys) == 3
    # dicts read the same way
    sink.keys.clear()
    handler.on_update({"metadata": {"name": "d", "generation": 1}},
                      {"metadata": {"name": "d", "generation": 1}})
    assert sink.keys == []

    resync_filter = sink.handler(primary_keys)
    resync_filter.predicate = resource_version_changed()
    resync_filter.on_update(v1, v1)
    resync_filter.on_update(v1, deployment(1, "10"))  # same resourceVersion: nothing new
    assert sink.keys == []
    resync_filter.on_update(v1, v1_status)
    assert sink.keys == [ObjectKey("ns", "web")]


def test_a_failing_predicate_is_reported_and_lets_the_event_through() -> None:
    sink = Sink()
    handler = sink.handler(primary_keys)
    seen_deleted: list[object] = []

    def explode(obj: object) -> bool:
        raise RuntimeError("predicate bug")

    def record(obj: object) -> bool:
        seen_deleted.append(obj)
        return False

    handler.predicate = Predicate(on_add=explode, on_delete=record)
    cm = core_v1.ConfigMap(metadata=ObjectMeta(name="a", namespace="ns"))
    handler.on_add(cm, False)
    assert sink.keys == [ObjectKey("ns", "a")] and len(sink.errors) == 1
    handler.on_delete(DeletedFinalStateUnknown("ns/a", cm))
    assert seen_deleted == [cm] and len(sink.keys) == 1  # unwrapped, and refused


# -- outcome rules ---------------------------------------------------------------------------


def test_outcome_rules() -> None:
    assert decide(None) == QueueAction(Outcome.SUCCESS, forget=True)
    assert decide(Result()) == QueueAction(Outcome.SUCCESS, forget=True)
    assert decide(Result(requeue=True)) == QueueAction(Outcome.REQUEUE, rate_limited=True)
    assert decide(Result(requeue_after=5)) == QueueAction(Outcome.REQUEUE_AFTER, forget=True, after=5)
    # requeue_after wins over requeue; a zero or negative delay is no delay
    assert decide(Result(requeue=True, requeue_after=2)).outcome is Outcome.REQUEUE_AFTER
    assert decide(Result(requeue_after=0)).outcome is Outcome.SUCCESS
    assert decide(Result(requeue=True, requeue_after=-1)).outcome is Outcome.REQUEUE
    boom = RuntimeError("boom")
    assert decide(None, boom) == QueueAction(Outcome.ERROR, rate_limited=True, error=boom)
    terminal = TerminalError("invalid spec")
    assert decide(None, terminal) == QueueAction(Outcome.TERMINAL_ERROR, error=terminal)
    wrong = decide("done")
    assert wrong.outcome is Outcome.ERROR and isinstance(wrong.error, TypeError)


def test_actions_on_a_real_rate_limiting_queue() -> None:
    now = [100.0]
    queue: RateLimitingQueue[ObjectKey] = RateLimitingQueue(
        ItemExponentialFailureRateLimiter(1.0, 60.0), clock=lambda: now[0])
    key = ObjectKey("ns", "a")
    apply(decide(None, RuntimeError()), queue, key)
    apply(decide(Result(requeue=True)), queue, key)
    assert queue.num_requeues(key) == 2
    apply(decide(None, TerminalError()), queue, key)
    assert queue.num_requeues(key) == 2  # terminal: neither retried nor forgotten
    apply(decide(Result(requeue_after=30)), queue, key)
    assert queue.num_requeues(key) == 0  # forgotten, and waiting 30 s
    apply(decide(None), queue, key)
    assert queue.num_requeues(key) == 0
    assert len(queue) == 0  # nothing is ready yet at t=100


def test_stats_count_outcomes() -> None:
    stats = ControllerStats(workers=2)
    stats.started()
    assert stats.active_workers == 1
    stats.finished(Outcome.ERROR, 0.5)
    stats.started()
    stats.finished(Outcome.TERMINAL_ERROR, 0.25)
    stats.mapping_failed()
    snap = stats.snapshot()
    assert snap["error"] == 1 and snap["terminal_error"] == 1 and snap["success"] == 0
    assert stats.errors == 2 and stats.reconciles == 2 and snap["mapping_errors"] == 1
    assert snap["reconcile_seconds"] == 0.75 and snap["active_workers"] == 0


def test_logger_name() -> None:
    from kubecodegen_runtime.controller import core

    assert core.logger is logging.getLogger("kubecodegen_runtime.controller")
