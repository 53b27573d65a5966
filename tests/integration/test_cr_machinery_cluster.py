"""The runtime's API machinery on custom resources, on BOTH servers: kube-apiserver 1.20 and the
modern 1.36 server (ids ``[kube]`` and ``[modern]``; see tests/harness/plugin.py).

Where the two servers answer differently (field validation, CEL), each test says what each
server does, so a change in either is caught rather than averaged away.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kubecodegen_runtime.cache.informer import SharedInformer
from kubecodegen_runtime.client import RESTClient
from kubecodegen_runtime.dynamic import DynamicClient
from kubecodegen_runtime.errors import (
    AlreadyExists,
    BadRequest,
    Conflict,
    Invalid,
    KubernetesWarning,
    NotFound,
    ResourceExpired,
)
from kubecodegen_runtime.meta import GroupVersionResource
from kubecodegen_runtime.rest.options import PatchType
from kubecodegen_runtime.watch import Bookmark, WatchEvent
from tests.harness.cluster import TestCluster

from .cr_machinery import (
    GIZMO_CRD,
    GROUP,
    RULE_CRD,
    VERSION,
    Gizmo,
    Gizmos,
    GizmoStatus,
    Rule,
    Rules,
    RuleSpec,
    gizmo,
    install_crd,
)
from .rest_helpers import ObjectMeta, ScaleSpec, admin_config


@pytest.fixture(scope="session")
def gizmo_cluster(cr_cluster: TestCluster) -> TestCluster:
    """`cr_cluster` with the Gizmo CRD served (once per server and session)."""
    install_crd(cr_cluster.admin_client(), GIZMO_CRD)
    return cr_cluster


@pytest.fixture
def rest(gizmo_cluster: TestCluster) -> Iterator[RESTClient]:
    with RESTClient(admin_config(gizmo_cluster)) as client:
        yield client


@pytest.fixture
def gizmos(rest: RESTClient, cr_namespace: str) -> Gizmos:
    return Gizmos(rest, cr_namespace)


def wait_until(condition: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
        time.sleep(0.05)


def names(objects: Any) -> list[str]:
    return sorted(str(o.metadata.name) for o in objects)


def rv(obj: Gizmo) -> str:
    assert obj.metadata is not None and obj.metadata.resource_version
    return obj.metadata.resource_version


# --- typed and dynamic CRUD ------------------------------------------------------------------


def test_typed_crud_and_write_conflicts(gizmos: Gizmos) -> None:
    created = gizmos.create(gizmo("g", replicas=2, color="red"))
    assert created.kind == "Gizmo" and created.api_version == f"{GROUP}/{VERSION}"
    assert created.metadata is not None and created.metadata.uid
    got = gizmos.get("g")
    assert got.spec is not None and (got.spec.replicas, got.spec.color) == (2, "red")
    with pytest.raises(AlreadyExists):
        gizmos.create(gizmo("g"))
    assert got.spec is not None
    got.spec.color = "blue"
    updated = gizmos.update(got)
    assert updated.spec is not None and updated.spec.color == "blue" and rv(updated) != rv(created)
    with pytest.raises(Conflict) as stale:
        gizmos.update(created)
    assert stale.value.status == 409
    patched = gizmos.patch("g", {"spec": {"color": "green"}}, patch_type=PatchType.MERGE)
    assert patched.spec is not None and patched.spec.color == "green"
    jsonpatched = gizmos.patch("g", [{"op": "replace", "path": "/spec/replicas", "value": 5}],
                               patch_type=PatchType.JSON)
    assert jsonpatched.spec is not None and jsonpatched.spec.replicas == 5
    assert names(gizmos.list().items) == ["g"]
    gizmos.delete("g")
    with pytest.raises(NotFound):
        gizmos.get("g")


def test_invalid_schema_value_lists_the_field(gizmos: Gizmos) -> None:
    """An OpenAPI ``minimum`` violation is 422 Invalid with the field as cause on both servers."""
    with pytest.raises(Invalid) as info:
        gizmos.create(gizmo("neg", replicas=-1))
    assert info.value.status == 422
    assert "spec.replicas" in {cause.field for cause in info.value.causes}


def test_dynamic_crud(rest: RESTClient, cr_namespace: str) -> None:
    resource = DynamicClient(rest).resource(GroupVersionResource(GROUP, VERSION, "gizmos"))
    here = resource.namespace(cr_namespace)
    body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Gizmo",
            "metadata": {"name": "d", "labels": {"via": "dynamic"}}, "spec": {"replicas": 1}}
    created = here.create(body)
    assert created["metadata"]["namespace"] == cr_namespace
    patched = here.patch("d", {"spec": {"owner": "me"}}, patch_type=PatchType.MERGE)
    assert patched["spec"] == {"replicas": 1, "owner": "me"}
    listed = resource.list(label_selector="via=dynamic")
    assert [item["metadata"]["name"] for item in listed["items"]
            if item["metadata"]["namespace"] == cr_namespace] == ["d"]
    here.delete("d")
    with pytest.raises(NotFound):
        here.get("d")


# --- paging ------------------------------------------------------------------------------------


def test_paging_with_continue_tokens(gizmos: Gizmos) -> None:
    for i in range(23):
        gizmos.create(gizmo(f"p-{i:02}"))
    first = gizmos.list(limit=10)
    assert first.metadata is not None and first.metadata.continue_
    assert len(first.items) == 10 and first.metadata.remaining_item_count == 13
    second = gizmos.list(limit=10, continue_=first.metadata.continue_)
    assert len(second.items) == 10 and not set(names(first.items)) & set(names(second.items))
    assert names(gizmos.list_all(page_size=4)) == [f"p-{i:02}" for i in range(23)]


def test_list_all_falls_back_to_a_full_list_when_its_continue_token_expires(
    cr_private_cluster: TestCluster,
) -> None:
    """Compaction between two pages expires the continue token (410 on both servers, watch
    cache off); list_all then lists once in full and yields only what it had not yielded."""
    install_crd(cr_private_cluster.admin_client(), GIZMO_CRD)
    namespace = cr_private_cluster.create_namespace()
    with RESTClient(admin_config(cr_private_cluster)) as rest:
        here = Gizmos(rest, namespace)
        for i in range(10):
            here.create(gizmo(f"c{i}"))
        pages = here.list_all(page_size=4)
        first = [str(next(pages).metadata.name) for _ in range(4)]  # type: ignore[union-attr]
        page = here.list(limit=4).metadata
        assert page is not None and page.continue_
        here.create(gizmo("late"))
        cr_private_cluster.compact()
        with pytest.raises(ResourceExpired):
            here.list(limit=4, continue_=page.continue_)
        rest_of_them = [str(g.metadata.name) for g in pages if g.metadata]
    assert len(set(first + rest_of_them)) == len(first + rest_of_them)  # nothing twice
    assert set(first + rest_of_them) == {f"c{i}" for i in range(10)} | {"late"}


# --- watch, bookmarks, 410 ---------------------------------------------------------------------


def test_watch_from_a_resource_version(gizmos: Gizmos) -> None:
    start = gizmos.list().metadata
    assert start is not None and start.resource_version
    gizmos.create(gizmo("w", replicas=1))
    gizmos.patch("w", {"spec": {"replicas": 2}}, patch_type=PatchType.MERGE)
    gizmos.delete("w")
    events: list[tuple[str, int | None]] = []
    with gizmos.watch(resource_version=start.resource_version, timeout_seconds=20) as stream:
        for event in stream:
            if isinstance(event, WatchEvent):
                assert isinstance(event.object, Gizmo) and event.object.spec is not None
                events.append((event.type, event.object.spec.replicas))
            if len(events) == 3:
                break
    assert events == [("ADDED", 1), ("MODIFIED", 2), ("DELETED", 2)]


def test_watch_bookmarks(rest: RESTClient, gizmos: Gizmos, gizmo_cluster: TestCluster) -> None:
    """Writes the watch filters out (another namespace) advance the server; its watch cache
    reports that progress with bookmarks, which arrive typed and never as objects."""
    start = gizmos.list().metadata
    assert start is not None and start.resource_version
    elsewhere = Gizmos(rest, gizmo_cluster.create_namespace())
    written: list[int] = []

    def write_elsewhere() -> None:
        for i in range(12):
            written.append(int(rv(elsewhere.create(gizmo(f"progress-{i}")))))
            time.sleep(0.4)

    writer = threading.Thread(target=write_elsewhere)
    writer.start()
    seen: list[Any] = []
    try:
        with gizmos.watch(resource_version=start.resource_version, allow_watch_bookmarks=True,
                          timeout_seconds=6) as stream:
            seen.extend(stream)
    finally:
        writer.join()
    assert seen and all(isinstance(e, Bookmark) for e in seen), seen
    assert int(seen[-1].resource_version) in written


def test_compaction_is_410_and_the_informer_relists(cr_private_cluster: TestCluster) -> None:
    install_crd(cr_private_cluster.admin_client(), GIZMO_CRD)
    namespace = cr_private_cluster.create_namespace()
    with RESTClient(admin_config(cr_private_cluster)) as rest:
        here = Gizmos(rest, namespace)
        old = rv(here.create(gizmo("c0")))
        for i in range(1, 4):
            here.create(gizmo(f"c{i}"))
        cr_private_cluster.compact()
        with pytest.raises(ResourceExpired) as watched:
            for _ in here.watch(resource_version=old, timeout_seconds=10):
                pass
        assert watched.value.status == 410
        with pytest.raises(ResourceExpired):
            here.list(resource_version=old, resource_version_match="Exact")
        # An informer that resumes from a compacted version relists and still converges.
        informer: SharedInformer[Gizmo] = SharedInformer(rest, Gizmos.info, Gizmo, namespace=namespace)
        informer.start()
        try:
            assert informer.wait_for_sync(30)
            cr_private_cluster.stop_apiserver()
            cr_private_cluster.start_apiserver()
            here.delete("c0")
            here.create(gizmo("c-new"))
            cr_private_cluster.compact()
            want = ["c-new", "c1", "c2", "c3"]
            wait_until(lambda: names(informer.lister().list()) == want, timeout=60,
                       what="the informer to relist after compaction")
        finally:
            assert informer.stop()


# --- server-side apply -------------------------------------------------------------------------


def test_server_side_apply_conflict_and_force(gizmos: Gizmos) -> None:
    applied = gizmos.apply(gizmo("ssa", owner="alice"), field_manager="alice")
    assert applied.spec is not None and applied.spec.owner == "alice" and applied.kind == "Gizmo"
    with pytest.raises(Conflict) as info:
        gizmos.apply(gizmo("ssa", owner="bob"), field_manager="bob")
    assert info.value.status == 409
    assert any(cause.field == ".spec.owner" for cause in info.value.causes), info.value.causes
    forced = gizmos.apply(gizmo("ssa", owner="bob"), field_manager="bob", force=True)
    assert forced.spec is not None and forced.spec.owner == "bob"
    assert forced.metadata is not None and forced.metadata.managed_fields is not None
    assert {"alice", "bob"} <= {entry["manager"] for entry in forced.metadata.managed_fields}


# --- field validation --------------------------------------------------------------------------


def _with_unknown_field(name: str) -> dict[str, Any]:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Gizmo", "metadata": {"name": name},
            "spec": {"replicas": 1, "bogus": "x"}}


def test_field_validation(gizmo_cluster: TestCluster, rest: RESTClient, cr_namespace: str) -> None:
    """1.36: Strict refuses an unknown field (400 naming it), Warn stores the object without it
    and says so in a Warning header, surfaced as KubernetesWarning. 1.20 knows no
    fieldValidation parameter: it prunes the unknown field silently, whatever was asked."""
    here = DynamicClient(rest).resource(GroupVersionResource(GROUP, VERSION, "gizmos")).namespace(cr_namespace)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if gizmo_cluster.modern:
            with pytest.raises(BadRequest) as strict:
                here.create(_with_unknown_field("strict"), field_validation="Strict")
            assert strict.value.status == 400 and 'unknown field "spec.bogus"' in str(strict.value)
        else:
            stored = here.create(_with_unknown_field("strict"), field_validation="Strict")
            assert stored["spec"] == {"replicas": 1}
        warned = here.create(_with_unknown_field("warn"), field_validation="Warn")
    assert warned["spec"] == {"replicas": 1}
    texts = [str(w.message) for w in caught if w.category is KubernetesWarning]
    if gizmo_cluster.modern:
        assert any('unknown field "spec.bogus"' in text for text in texts), texts
    else:
        assert texts == []


# --- status and scale subresources -------------------------------------------------------------


def test_status_and_scale_subresources(gizmos: Gizmos) -> None:
    made = gizmos.create(gizmo("sub", replicas=1))
    made.status = GizmoStatus(replicas=1, selector="app=sub", ready=True)
    updated = gizmos.update_status(made)
    assert updated.status == GizmoStatus(replicas=1, selector="app=sub", ready=True)
    # The main resource ignores status, the status subresource ignores spec.
    updated.status = GizmoStatus(ready=False)
    assert updated.spec is not None
    updated.spec.color = "ignored-by-status"
    kept = gizmos.update(updated)
    assert kept.status is not None and kept.status.ready is True
    status_only = gizmos.patch_status("sub", {"spec": {"color": "nope"}, "status": {"ready": False}})
    assert status_only.status is not None and status_only.status.ready is False
    assert status_only.spec is not None and status_only.spec.color == "ignored-by-status"
    scale = gizmos.get_scale("sub")
    assert scale.spec is not None and scale.spec.replicas == 1
    assert scale.status is not None and scale.status.selector == "app=sub"
    scale.spec = ScaleSpec(replicas=4)
    assert gizmos.update_scale("sub", scale).spec == ScaleSpec(replicas=4)
    assert gizmos.patch_scale("sub", {"spec": {"replicas": 6}}).spec == ScaleSpec(replicas=6)
    spec = gizmos.get("sub").spec
    assert spec is not None and spec.replicas == 6


# --- CEL (the modern server only) --------------------------------------------------------------


def test_cel_rule_violations_are_invalid_with_field_causes(
    modern_cluster: TestCluster, modern_namespace: str
) -> None:
    install_crd(modern_cluster.admin_client(), RULE_CRD)
    with RESTClient(admin_config(modern_cluster)) as rest:
        rules = Rules(rest, modern_namespace)

        def rule(object_name: str, /, **spec: Any) -> Rule:
            return Rule(metadata=ObjectMeta(name=object_name), spec=RuleSpec(**spec))

        with pytest.raises(Invalid) as crossed:
            rules.create(rule("r1", low=5, high=1, name="r-x"))
        assert crossed.value.status == 422 and crossed.value.reason == "Invalid"
        causes = {(cause.field, cause.message) for cause in crossed.value.causes}
        assert any(field == "spec.low" and "low must not exceed high" in str(message)
                   for field, message in causes), causes

        with pytest.raises(Invalid) as nested:
            rules.create(rule("r2", low=1, high=2, name="x-bad"))
        assert any(cause.field == "spec.name" and "must start with r-" in str(cause.message)
                   for cause in nested.value.causes), nested.value.causes

        # A transition rule (oldSelf) applies to updates only.
        made = rules.create(rule("r3", low=1, high=2, frozen="a", name="r-ok"))
        assert made.spec is not None
        made.spec.frozen = "b"
        with pytest.raises(Invalid) as moved:
            rules.update(made)
        assert any(cause.field == "spec" and "frozen cannot change" in str(cause.message)
                   for cause in moved.value.causes), moved.value.causes
        assert rules.get("r3").spec == RuleSpec(low=1, high=2, frozen="a", name="r-ok")


# --- informers across a server restart ---------------------------------------------------------


def test_informer_converges_across_a_server_restart(cr_private_cluster: TestCluster) -> None:
    install_crd(cr_private_cluster.admin_client(), GIZMO_CRD)
    namespace = cr_private_cluster.create_namespace()
    with RESTClient(admin_config(cr_private_cluster)) as rest:
        here = Gizmos(rest, namespace)
        for i in range(10):
            here.create(gizmo(f"r-{i}"))
        informer: SharedInformer[Gizmo] = SharedInformer(rest, Gizmos.info, Gizmo, namespace=namespace)
        deletes: list[str] = []
        informer.add_event_handler(on_delete=lambda obj: deletes.append(
            str(getattr(obj, "key", None) or obj.metadata.name)))
        informer.start()
        try:
            assert informer.wait_for_sync(30)
            cr_private_cluster.restart()  # etcd and the API server, same data
            here.create(gizmo("r-after"))
            here.delete("r-0")
            here.patch("r-1", {"spec": {"color": "after"}}, patch_type=PatchType.MERGE)

            def converged() -> bool:
                cached = {o.metadata.name: rv(o) for o in informer.lister().list() if o.metadata}
                return cached == {o.metadata.name: rv(o) for o in here.list_all() if o.metadata}

            wait_until(converged, timeout=90, what="the cache to converge after the restart")
            wait_until(lambda: any(d.endswith("r-0") for d in deletes), what="the delete")
        finally:
            assert informer.stop()
