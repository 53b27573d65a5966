"""Informers, factories and listers against the real kube-apiserver of the test harness.

The typed objects are the hand-written ConfigMap structs of ``rest_helpers`` (shaped like
generated models). Waits poll with deadlines: informers are asynchronous by nature, and a
test that waited a fixed time would either be slow or flaky.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kubecodegen_runtime.cache import DeletedFinalStateUnknown, strip_managed_fields
from kubecodegen_runtime.cache.factory import AsyncSharedInformerFactory, SharedInformerFactory
from kubecodegen_runtime.cache.informer import AsyncSharedInformer, SharedInformer
from kubecodegen_runtime.cache.reflector import ListWatchError
from kubecodegen_runtime.cache.watcher import FailureKind
from kubecodegen_runtime.client import AsyncRESTClient, RESTClient
from kubecodegen_runtime.config import ClientConfig, load_kubeconfig
from kubecodegen_runtime.discovery import ResourceNotFound
from kubecodegen_runtime.errors import NotFound
from kubecodegen_runtime.meta import GroupVersionResource
from tests.harness.cluster import TestCluster

from .rest_helpers import ConfigMap, ConfigMaps, ObjectMeta

pytestmark = pytest.mark.cluster


def config_of(cluster: TestCluster) -> ClientConfig:
    # Rate limiting off: the tests mutate in bulk and should wait only for the server.
    return dataclasses.replace(load_kubeconfig(cluster.admin_kubeconfig), qps=0.0)


@pytest.fixture
def rest(cluster: TestCluster) -> Iterator[RESTClient]:
    with RESTClient(config_of(cluster)) as client:
        yield client


@pytest.fixture
def cr_rest(cr_cluster: TestCluster) -> Iterator[RESTClient]:
    """For custom-resource tests that run on both servers (1.20 and the modern 1.36)."""
    with RESTClient(config_of(cr_cluster)) as client:
        yield client


def cm(name: str, labels: dict[str, str] | None = None, **data: str) -> ConfigMap:
    return ConfigMap(metadata=ObjectMeta(name=name, labels=labels), data=data or None)


def name_of(obj: Any) -> str:
    if isinstance(obj, DeletedFinalStateUnknown):
        obj = obj.obj
    if isinstance(obj, dict):
        return str(obj["metadata"]["name"])
    return str(obj.metadata.name)


def meta(obj: ConfigMap) -> ObjectMeta:
    assert obj.metadata is not None
    return obj.metadata


def rv_of(obj: Any) -> str:
    return str(obj.metadata.resource_version)


def wait_until(condition: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
        time.sleep(0.05)


def cached(informer: SharedInformer[ConfigMap]) -> dict[str, str]:
    return {name_of(o): rv_of(o) for o in informer.lister().list()}


def listed(cms: ConfigMaps, **kwargs: Any) -> dict[str, str]:
    return {name_of(o): rv_of(o) for o in cms.list_all(**kwargs)}


class Recorder:
    """A handler that records every call, in order, from its delivery thread."""

    def __init__(self, informer: SharedInformer[ConfigMap] | None = None) -> None:
        self.events: list[tuple[str, str, Any]] = []
        self.threads: set[str] = set()
        self.stale_reads = 0
        self.gone_reads = 0
        self._informer = informer
        self._lock = threading.Lock()

    def _record(self, kind: str, obj: Any) -> None:
        with self._lock:
            self.events.append((kind, name_of(obj), obj))
            self.threads.add(threading.current_thread().name)

    def _check_store(self, obj: ConfigMap) -> None:
        # The store is written before handlers are called: it is at least this new.
        if self._informer is None or obj.metadata is None:
            return
        try:
            current = self._informer.lister().namespace(str(obj.metadata.namespace)).get(
                str(obj.metadata.name))
        except NotFound:
            self.gone_reads += 1  # legitimately deleted since: the handler runs behind
            return
        if int(rv_of(current)) < int(rv_of(obj)):
            self.stale_reads += 1

    def on_add(self, obj: ConfigMap, is_in_initial_list: bool) -> None:
        self._check_store(obj)
        self._record("add", obj)

    def on_update(self, old: ConfigMap, new: ConfigMap) -> None:
        self._check_store(new)
        self._record("update", new)

    def on_delete(self, obj: ConfigMap | DeletedFinalStateUnknown[ConfigMap]) -> None:
        self._record("delete", obj)

    def kinds(self, name: str) -> list[str]:
        with self._lock:
            return [k for k, n, _ in self.events if n == name]

    def model(self) -> dict[str, str]:
        """The state a controller would rebuild from the events alone."""
        state: dict[str, str] = {}
        with self._lock:
            for kind, name, obj in self.events:
                if kind == "delete":
                    state.pop(name, None)
                else:
                    state[name] = rv_of(obj)
        return state


class GatedBackoff:
    """A backoff whose delays block until the test opens the gate (then are 0).

    It makes "the informer is disconnected now" a state the test controls: once the
    watch breaks, the reflector waits inside ``next()`` until ``open()``.
    """

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.gate.set()
        self.calls = 0

    def __iter__(self) -> GatedBackoff:
        return self

    def __next__(self) -> float:
        self.calls += 1
        self.gate.wait(120)
        return 0.0

    def reset(self) -> None:
        pass


# --- sync of many objects, handlers ---------------------------------------------------------


def test_sync_of_many_objects_in_pages(rest: RESTClient, namespace: str) -> None:
    cms = ConfigMaps(rest, namespace)
    for i in range(300):
        cms.create(cm(f"many-{i:03}", labels={"n": str(i % 3)}))
    factory = SharedInformerFactory(rest, namespace=namespace, page_size=70)
    informer = factory.informer_for(ConfigMaps)
    assert factory.informer_for(ConfigMaps) is informer  # shared
    recorder = Recorder()
    reg = informer.add_event_handler(recorder)
    factory.start()
    try:
        assert factory.wait_for_cache_sync(timeout=60)
        assert informer.has_synced()
        assert cached(informer) == listed(cms)
        assert len(cached(informer)) == 300
        wait_until(reg.has_synced, what="the handler to get the initial list")
        assert sorted(n for k, n, _ in recorder.events if k == "add") == sorted(cached(informer))
        assert all(isinstance(o, ConfigMap) for o in informer.lister().list())
        # The namespace index and label selection through the lister.
        assert len(informer.indexer.by_index("namespace", namespace)) == 300
        assert len(informer.lister().namespace(namespace).list("n=1")) == 100
        assert len(informer.lister().namespace(namespace).list("n in (0,2)")) == 200
        got = informer.lister().namespace(namespace).get("many-007")
        assert got.metadata is not None and got.metadata.labels == {"n": "1"}
        with pytest.raises(NotFound):
            informer.lister().namespace(namespace).get("absent")
    finally:
        assert factory.shutdown(timeout=30)


def test_watch_list_informer_falls_back_to_pages_on_a_server_without_it(
        rest: RESTClient, namespace: str) -> None:
    """kube-apiserver 1.20 refuses ``sendInitialEvents`` watches (422 Invalid): the informer
    says so once through the error handler, lists in pages instead, and then watches."""
    cms = ConfigMaps(rest, namespace)
    for i in range(5):
        cms.create(cm(f"wl-{i}"))
    informer: SharedInformer[ConfigMap] = SharedInformer(
        rest, ConfigMaps.info, ConfigMap, namespace=namespace, watch_list=True, page_size=2)
    errors: list[BaseException] = []
    informer.set_watch_error_handler(errors.append)
    informer.start()
    try:
        assert informer.wait_for_sync(30)
        assert cached(informer) == listed(cms)
        cms.create(cm("wl-late"))
        wait_until(lambda: "wl-late" in cached(informer), what="a watch event after the fallback")
        assert len(errors) == 1, errors
        (refused,) = errors
        assert isinstance(refused, ListWatchError)
        assert refused.failure.kind is FailureKind.WATCH_LIST_UNSUPPORTED
        assert refused.failure.code == 422
    finally:
        assert informer.stop(30)


def test_handlers_see_add_update_delete_in_order(rest: RESTClient, namespace: str) -> None:
    cms = ConfigMaps(rest, namespace)
    factory = SharedInformerFactory(rest, namespace=namespace)
    informer = factory.informer_for(ConfigMaps)
    first, second = Recorder(informer), Recorder(informer)
    informer.add_event_handler(first)
    informer.add_event_handler(on_add=lambda o: second._record("add", o),
                               on_update=lambda old, new: second._record("update", new),
                               on_delete=lambda o: second._record("delete", o))
    factory.start()
    try:
        assert factory.wait_for_cache_sync(timeout=30)
        cms.create(cm("ordered", v="1"))
        cms.patch("ordered", {"data": {"v": "2"}})
        cms.patch("ordered", {"data": {"v": "3"}})
        cms.delete("ordered")
        for recorder in (first, second):
            wait_until(lambda r=recorder: len(r.kinds("ordered")) == 4,  # type: ignore[misc]
                       what="four events")
            assert recorder.kinds("ordered") == ["add", "update", "update", "delete"]
            values = [o.data["v"] for k, _, o in recorder.events if k != "delete"]
            assert values == ["1", "2", "3"]
        assert first.stale_reads == 0  # never older than the notification
        assert first.gone_reads <= 3  # only reads racing with the delete find nothing
        assert len(first.threads) == 1 and len(second.threads) == 1
        assert first.threads != second.threads  # each handler on its own thread
        deleted = first.events[-1][2]
        assert not isinstance(deleted, DeletedFinalStateUnknown)  # observed: a real delete
        assert cached(informer) == {}
    finally:
        assert factory.shutdown()


def test_handler_added_late_gets_synthetic_adds(rest: RESTClient, namespace: str) -> None:
    cms = ConfigMaps(rest, namespace)
    for i in range(25):
        cms.create(cm(f"late-{i}"))
    informer: SharedInformer[ConfigMap] = SharedInformer(rest, ConfigMaps.info, ConfigMap,
                                                         namespace=namespace)
    informer.start()
    try:
        assert informer.wait_for_sync(30)
        late = Recorder()
        reg = informer.add_event_handler(late)
        wait_until(reg.has_synced, what="synthetic adds delivered")
        assert sorted(n for k, n, _ in late.events) == sorted(f"late-{i}" for i in range(25))
        assert {k for k, _, _ in late.events} == {"add"}
        cms.create(cm("late-after"))
        wait_until(lambda: late.kinds("late-after") == ["add"], what="a live add after")
        # Removal: nothing more arrives.
        assert informer.remove_event_handler(reg)
        assert not informer.remove_event_handler(reg)
        cms.create(cm("late-removed"))
        wait_until(lambda: "late-removed" in cached(informer), what="the cache")
        time.sleep(0.3)
        assert late.kinds("late-removed") == []
    finally:
        assert informer.stop()


def test_label_and_namespace_filtered_informers(rest: RESTClient, namespace: str,
                                                cluster: TestCluster) -> None:
    other = cluster.create_namespace()
    here, there = ConfigMaps(rest, namespace), ConfigMaps(rest, other)
    for i in range(4):
        here.create(cm(f"web-{i}", labels={"app": "web"}))
        there.create(cm(f"web-{i}", labels={"app": "web"}))
    here.create(cm("db", labels={"app": "db"}))
    factory = SharedInformerFactory(rest, namespace=namespace, label_selector="app in (web)")
    informer = factory.informer_for(ConfigMaps)
    recorder = Recorder()
    informer.add_event_handler(recorder)
    factory.start()
    try:
        assert factory.wait_for_cache_sync(timeout=30)
        assert sorted(cached(informer)) == [f"web-{i}" for i in range(4)]
        assert {meta(o).namespace for o in informer.lister().list()} == {namespace}
        assert listed(here, label_selector="app=web") == cached(informer)
        # Relabelling takes an object out of the selection: the watch reports a delete.
        here.patch("web-0", {"metadata": {"labels": {"app": "other"}}})
        here.patch("db", {"metadata": {"labels": {"app": "web"}}})
        there.create(cm("web-new", labels={"app": "web"}))
        wait_until(lambda: sorted(cached(informer)) == ["db", "web-1", "web-2", "web-3"],
                   what="relabelled objects to move in and out")
        # Handlers run behind the store: wait for them, then check what they saw.
        wait_until(lambda: recorder.model() == cached(informer), what="the handler")
        assert recorder.kinds("web-0")[-1] == "delete"
        assert recorder.kinds("db") == ["add"]
        assert recorder.kinds("web-new") == []
    finally:
        assert factory.shutdown()


def test_field_selected_cluster_wide_informer(rest: RESTClient, namespace: str) -> None:
    ConfigMaps(rest, namespace).create(cm("field-target", k="v"))  # data: a managed field
    informer: SharedInformer[ConfigMap] = SharedInformer(
        rest, ConfigMaps.info, ConfigMap, field_selector="metadata.name=field-target",
        transform=strip_managed_fields)
    informer.start()
    try:
        assert informer.wait_for_sync(30)
        objs = informer.lister().list()
        assert [(meta(o).namespace, name_of(o)) for o in objs] == [(namespace, "field-target")]
        assert meta(objs[0]).managed_fields is None
        assert meta(ConfigMaps(rest, namespace).get("field-target")).managed_fields
    finally:
        assert informer.stop()


def test_indexers_added_after_data_exists(rest: RESTClient, namespace: str) -> None:
    cms = ConfigMaps(rest, namespace)
    for i in range(6):
        cms.create(cm(f"ix-{i}", labels={"team": "a" if i % 2 else "b"}))
    informer: SharedInformer[ConfigMap] = SharedInformer(rest, ConfigMaps.info, ConfigMap,
                                                         namespace=namespace)
    informer.start()
    try:
        assert informer.wait_for_sync(30)
        informer.add_indexers({"by_team": lambda o: [(meta(o).labels or {})["team"]]})
        assert sorted(map(name_of, informer.indexer.by_index("by_team", "a"))) == [
            "ix-1", "ix-3", "ix-5"]
        cms.create(cm("ix-new", labels={"team": "c"}))
        wait_until(lambda: len(informer.indexer.by_index("by_team", "c")) == 1, what="index")
        assert sorted(informer.indexer.list_index_func_values("by_team")) == ["a", "b", "c"]
    finally:
        assert informer.stop()


# --- disconnects, compaction, restart -----------------------------------------------------


def test_apiserver_restart_mid_watch_converges(private_cluster: TestCluster) -> None:
    namespace = private_cluster.create_namespace()
    with RESTClient(config_of(private_cluster)) as rest:
        cms = ConfigMaps(rest, namespace)
        for i in range(10):
            cms.create(cm(f"r-{i}"))
        informer: SharedInformer[ConfigMap] = SharedInformer(rest, ConfigMaps.info, ConfigMap,
                                                             namespace=namespace)
        recorder = Recorder()
        informer.add_event_handler(recorder)
        informer.start()
        try:
            assert informer.wait_for_sync(30)
            private_cluster.restart()
            cms.create(cm("r-after"))
            cms.delete("r-0")
            cms.patch("r-1", {"data": {"x": "y"}})
            wait_until(lambda: cached(informer) == listed(cms), timeout=90,
                       what="the cache to converge after the restart")
            wait_until(lambda: recorder.model() == cached(informer), what="the handler")
            assert recorder.kinds("r-0")[-1] == "delete"
        finally:
            assert informer.stop()


def test_compaction_forces_relist_and_missed_deletes_arrive_as_tombstones(
    private_cluster: TestCluster, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="kubecodegen_runtime.cache")
    namespace = private_cluster.create_namespace()
    with RESTClient(config_of(private_cluster)) as rest:
        cms = ConfigMaps(rest, namespace)
        for i in range(8):
            cms.create(cm(f"t-{i}"))
        backoff = GatedBackoff()
        informer: SharedInformer[ConfigMap] = SharedInformer(
            rest, ConfigMaps.info, ConfigMap, namespace=namespace, backoff=backoff)
        recorder = Recorder()
        informer.add_event_handler(recorder)
        informer.start()
        try:
            assert informer.wait_for_sync(30)
            before = cached(informer)
            last_seen = informer.last_sync_resource_version
            # Disconnect: the watch breaks and the reflector waits in the (closed) backoff.
            backoff.gate.clear()
            private_cluster.stop_apiserver()
            wait_until(lambda: backoff.calls >= 1, what="the watch to notice the outage")
            private_cluster.start_apiserver()
            # While the informer is away: deletions, changes, creations, then compaction of
            # all history, so resuming from the last seen version must fail with 410.
            for i in range(3):
                cms.delete(f"t-{i}")
            cms.patch("t-5", {"data": {"changed": "yes"}})
            cms.create(cm("t-new"))
            private_cluster.compact()
            assert informer.last_sync_resource_version == last_seen
            backoff.gate.set()
            wait_until(lambda: cached(informer) == listed(cms), timeout=60,
                       what="the relist to bring the cache up to date")
            wait_until(lambda: recorder.model() == cached(informer), what="the handler")
        finally:
            backoff.gate.set()
            assert informer.stop()
    assert set(before) - set(cached(informer)) == {"t-0", "t-1", "t-2"}
    for i in range(3):
        kind, _, obj = [e for e in recorder.events if e[1] == f"t-{i}"][-1]
        assert kind == "delete"
        assert isinstance(obj, DeletedFinalStateUnknown)  # inferred by the relist
        assert obj.key == f"{namespace}/t-{i}" and rv_of(obj.obj) == before[f"t-{i}"]
    assert recorder.kinds("t-new") == ["add"]
    assert recorder.kinds("t-5")[-1] == "update"
    assert recorder.model() == cached(informer)
    assert any("expired" in r.getMessage() for r in caplog.records), [
        r.getMessage() for r in caplog.records]


def test_thousands_of_mutations_while_watching(rest: RESTClient, namespace: str) -> None:
    cms = ConfigMaps(rest, namespace)
    factory = SharedInformerFactory(rest, namespace=namespace)
    informer = factory.informer_for(ConfigMaps)
    recorder = Recorder(informer)
    informer.add_event_handler(recorder)
    factory.start()
    rng = random.Random(5)
    alive: set[str] = set()
    counter = 0
    try:
        assert factory.wait_for_cache_sync(timeout=30)
        for _ in range(2000):
            roll = rng.random()
            if not alive or roll < 0.4:
                counter += 1
                name = f"m-{counter}"
                cms.create(cm(name, v="0"))
                alive.add(name)
            elif roll < 0.8:
                cms.patch(rng.choice(sorted(alive)), {"data": {"v": str(rng.random())}})
            else:
                name = rng.choice(sorted(alive))
                cms.delete(name)
                alive.discard(name)
        fresh = listed(cms)
        assert set(fresh) == alive
        wait_until(lambda: cached(informer) == fresh, timeout=60,
                   what="the cache to equal a fresh LIST")
        wait_until(lambda: recorder.model() == fresh, timeout=30,
                   what="the handler's view to equal a fresh LIST")
        assert recorder.stale_reads == 0  # the store was always written first
    finally:
        assert factory.shutdown()


# --- lifecycle, async, dynamic ------------------------------------------------------------


def test_shutdown_leaves_no_threads(rest: RESTClient, namespace: str) -> None:
    before = set(threading.enumerate())
    factory = SharedInformerFactory(rest, namespace=namespace, resync_period=1.0)
    typed = factory.informer_for(ConfigMaps)
    dynamic = factory.for_resource(GroupVersionResource("", "v1", "configmaps"))
    typed.add_event_handler(Recorder())
    dynamic.add_event_handler(on_add=lambda o: None)
    factory.start()
    assert factory.wait_for_cache_sync(timeout=30)
    typed.add_event_handler(Recorder())  # a late one, with its own thread
    started = time.monotonic()
    assert factory.shutdown(timeout=20)
    # Open watches are interrupted, not waited out (their timeout is minutes).
    assert time.monotonic() - started < 10
    leftover = [t for t in set(threading.enumerate()) - before if t.is_alive()]
    assert leftover == []
    with pytest.raises(RuntimeError):
        factory.informer_for(ConfigMaps)


def test_resync_replays_the_cache_without_requests(rest: RESTClient, namespace: str) -> None:
    cms = ConfigMaps(rest, namespace)
    cms.create(cm("rs"))
    informer: SharedInformer[ConfigMap] = SharedInformer(rest, ConfigMaps.info, ConfigMap,
                                                         namespace=namespace, resync_period=1.0)
    updates: list[tuple[Any, Any]] = []
    informer.add_event_handler(on_update=lambda old, new: updates.append((old, new)))
    quiet = Recorder()
    informer.add_event_handler(quiet, resync_period=0)
    informer.start()
    try:
        assert informer.wait_for_sync(30)
        version = informer.last_sync_resource_version
        wait_until(lambda: len(updates) >= 2, timeout=10, what="two resyncs")
        assert all(old is new for old, new in updates)  # a replay, not a change
        assert quiet.kinds("rs") == ["add"]
        assert informer.last_sync_resource_version == version
    finally:
        assert informer.stop()


def test_dynamic_informer_for_a_gvr(rest: RESTClient, namespace: str) -> None:
    cms = ConfigMaps(rest, namespace)
    cms.create(cm("dyn-1", labels={"k": "v"}, a="b"))
    factory = SharedInformerFactory(rest, namespace=namespace)
    informer = factory.for_resource(GroupVersionResource("", "v1", "configmaps"))
    assert factory.for_resource(GroupVersionResource("", "v1", "configmaps")) is informer
    typed: Any = factory.informer_for(ConfigMaps)
    assert informer is not typed  # a different object type: a different informer
    seen: list[str] = []
    informer.add_event_handler(on_add=lambda o: seen.append(o["metadata"]["name"]))
    factory.start()
    try:
        assert factory.wait_for_cache_sync(timeout=30)
        obj = informer.lister().namespace(namespace).get("dyn-1")
        assert isinstance(obj, dict) and obj["data"] == {"a": "b"}
        assert [name_of(o) for o in informer.lister().list("k=v")] == ["dyn-1"]
        cms.create(cm("dyn-2"))
        wait_until(lambda: seen == ["dyn-1", "dyn-2"], what="dynamic adds")
    finally:
        assert factory.shutdown()
    with pytest.raises(ResourceNotFound):
        SharedInformerFactory(rest).for_resource(GroupVersionResource("", "v1", "nosuchthings"))


async def test_async_factory(cluster: TestCluster, namespace: str) -> None:
    async with AsyncRESTClient(config_of(cluster)) as arest:
        with RESTClient(config_of(cluster)) as rest:
            cms = ConfigMaps(rest, namespace)
            for i in range(20):
                cms.create(cm(f"a-{i}"))
            factory = AsyncSharedInformerFactory(arest, namespace=namespace,
                                                 strip_managed_fields=True)
            informer = factory.informer_for(ConfigMaps)
            dynamic = await factory.for_resource(GroupVersionResource("", "v1", "configmaps"))
            events: list[tuple[str, str]] = []

            async def on_add(obj: ConfigMap) -> None:
                await asyncio.sleep(0)
                events.append(("add", name_of(obj)))

            def on_delete(obj: Any) -> None:
                events.append(("delete", name_of(obj)))

            reg = informer.add_event_handler(
                on_add=on_add, on_update=lambda o, n: events.append(("update", name_of(n))),
                on_delete=on_delete)
            factory.start()
            assert await factory.wait_for_cache_sync(timeout=30)
            assert len(informer.lister().list()) == 20 == len(dynamic.lister().list())
            assert all(meta(o).managed_fields is None for o in informer.lister().list())

            async def until(cond: Callable[[], bool], what: str) -> None:
                deadline = time.monotonic() + 30
                while not cond():
                    assert time.monotonic() < deadline, f"timed out waiting for {what}"
                    await asyncio.sleep(0.05)

            await until(reg.has_synced, "initial adds")
            await asyncio.to_thread(cms.create, cm("a-new"))
            await asyncio.to_thread(cms.patch, "a-new", {"data": {"x": "1"}})
            await asyncio.to_thread(cms.delete, "a-new")
            await until(lambda: [e for e in events if e[1] == "a-new"] == [
                ("add", "a-new"), ("update", "a-new"), ("delete", "a-new")], "a-new events")
            late: list[str] = []
            late_reg = informer.add_event_handler(on_add=lambda o: late.append(name_of(o)))
            await until(late_reg.has_synced, "late synthetic adds")
            assert sorted(late) == sorted(f"a-{i}" for i in range(20))
            mine = asyncio.current_task()
            await factory.shutdown()
            assert [t for t in asyncio.all_tasks() if t is not mine] == []


def test_crd_informer_through_discovery(cr_rest: RESTClient, cr_namespace: str) -> None:
    rest, namespace = cr_rest, cr_namespace
    group = f"{namespace[-8:]}.informers.example.com"
    plural = "widgets"
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": plural, "singular": "widget", "kind": "Widget"},
            "versions": [{
                "name": "v1", "served": True, "storage": True,
                "schema": {"openAPIV3Schema": {
                    "type": "object", "x-kubernetes-preserve-unknown-fields": True}},
            }],
        },
    }
    crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    rest.post(crds, json.dumps(crd).encode())

    def served() -> bool:
        try:
            return any(r["name"] == plural for r in rest.get(f"/apis/{group}/v1")["resources"])
        except NotFound:
            return False

    wait_until(served, what="the CRD to be served")
    path = f"/apis/{group}/v1/namespaces/{namespace}/{plural}"

    def create(name: str, size: int) -> None:
        body = {"apiVersion": f"{group}/v1", "kind": "Widget",
                "metadata": {"name": name, "labels": {"size": str(size)}}, "spec": {"size": size}}
        wait_until(lambda: _try_post(rest, path, body), what=f"creating {name}")

    create("w1", 1)
    factory = SharedInformerFactory(rest, namespace=namespace, strip_managed_fields=True)
    informer = factory.for_resource(GroupVersionResource(group, "v1", plural))
    assert informer.info.kind == "Widget" and informer.info.namespaced
    kinds: list[tuple[str, str]] = []
    informer.add_event_handler(on_add=lambda o: kinds.append(("add", name_of(o))),
                               on_delete=lambda o: kinds.append(("delete", name_of(o))))
    factory.start()
    try:
        assert factory.wait_for_cache_sync(timeout=30)
        assert informer.lister().namespace(namespace).get("w1")["spec"] == {"size": 1}
        create("w2", 2)
        rest.delete(f"{path}/w1")
        wait_until(lambda: [name_of(o) for o in informer.lister().list()] == ["w2"],
                   what="the CR cache to follow")
        wait_until(lambda: kinds == [("add", "w1"), ("add", "w2"), ("delete", "w1")],
                   what="the handler to follow the cache")
        assert [name_of(o) for o in informer.lister().list("size>1")] == ["w2"]
        assert "managedFields" not in informer.lister().list()[0]["metadata"]
    finally:
        assert factory.shutdown()
        rest.delete(f"{crds}/{plural}.{group}")


def _try_post(rest: RESTClient, path: str, body: dict[str, Any]) -> bool:
    """Create a custom object; False while the new CRD's storage is not ready yet."""
    try:
        rest.post(path, json.dumps(body).encode())
    except NotFound:
        return False
    return True


async def test_async_informer_survives_an_apiserver_outage(private_cluster: TestCluster) -> None:
    namespace = private_cluster.create_namespace()
    with RESTClient(config_of(private_cluster)) as rest:
        cms = ConfigMaps(rest, namespace)
        for i in range(5):
            cms.create(cm(f"o-{i}"))
        async with AsyncRESTClient(config_of(private_cluster)) as arest:
            informer: AsyncSharedInformer[ConfigMap] = AsyncSharedInformer(
                arest, ConfigMaps.info, ConfigMap, namespace=namespace)
            deleted: list[Any] = []
            informer.add_event_handler(on_delete=deleted.append)
            informer.start()
            try:
                assert await informer.wait_for_sync(30)
                await asyncio.to_thread(private_cluster.stop_apiserver)
                await asyncio.sleep(1)  # the watch breaks; reconnects fail and back off
                await asyncio.to_thread(private_cluster.start_apiserver)
                await asyncio.to_thread(cms.delete, "o-0")
                await asyncio.to_thread(cms.create, cm("o-new"))
                deadline = time.monotonic() + 90
                while {name_of(o): rv_of(o) for o in informer.lister().list()} != listed(cms):
                    assert time.monotonic() < deadline, "the cache did not converge"
                    await asyncio.sleep(0.1)
                while not deleted:
                    assert time.monotonic() < deadline, "no delete delivered"
                    await asyncio.sleep(0.05)
                assert [name_of(o) for o in deleted] == ["o-0"]
            finally:
                await informer.stop()
            assert informer.error is None


# --- bounded handler queues ---------------------------------------------------------------

SLOW_EVENTS = 120
BOUND = 8
HANDLER_TIME = 0.05  # slower than the creations: without a bound the queue would grow


def _burst(rest: RESTClient, namespace: str, prefix: str) -> None:
    cms = ConfigMaps(rest, namespace)
    for i in range(SLOW_EVENTS):
        cms.create(cm(f"{prefix}-{i:03}"))


def test_a_bounded_slow_handler_holds_the_watch_back_and_misses_nothing(
        rest: RESTClient, namespace: str) -> None:
    informer: SharedInformer[ConfigMap] = SharedInformer(rest, ConfigMaps.info, ConfigMap,
                                                         namespace=namespace)
    seen: list[str] = []
    fast_seen: list[str] = []

    def slow_add(obj: ConfigMap) -> None:
        time.sleep(HANDLER_TIME)
        seen.append(name_of(obj))

    slow = informer.add_event_handler(on_add=slow_add, max_pending=BOUND)
    fast = informer.add_event_handler(on_add=lambda o: fast_seen.append(name_of(o)))
    informer.start()
    try:
        assert informer.wait_for_sync(30)
        _burst(rest, namespace, "slow")
        wait_until(lambda: len(seen) == SLOW_EVENTS, timeout=60, what="every add, in order")
        assert seen == sorted(seen) == fast_seen  # lossless and in order for both
        # the bounded queue filled up to its bound and never grew past it
        assert slow.peak_pending == BOUND and slow.max_pending == BOUND
        assert fast.max_pending is None and slow.pending() == fast.pending() == 0
    finally:
        assert informer.stop(timeout=10)


async def test_a_bounded_slow_async_handler_holds_the_watch_back_and_misses_nothing(
        cluster: TestCluster, namespace: str) -> None:
    seen: list[str] = []

    async def slow_add(obj: ConfigMap) -> None:
        await asyncio.sleep(HANDLER_TIME)
        seen.append(name_of(obj))

    async with AsyncRESTClient(config_of(cluster)) as arest:
        informer: AsyncSharedInformer[ConfigMap] = AsyncSharedInformer(
            arest, ConfigMaps.info, ConfigMap, namespace=namespace)
        reg = informer.add_event_handler(on_add=slow_add, max_pending=BOUND)
        informer.start()
        try:
            assert await informer.wait_for_sync(30)
            with RESTClient(config_of(cluster)) as rest:
                await asyncio.to_thread(_burst, rest, namespace, "aslow")
            deadline = time.monotonic() + 60
            while len(seen) < SLOW_EVENTS:
                assert time.monotonic() < deadline, f"only {len(seen)} adds arrived"
                await asyncio.sleep(0.05)
            assert seen == sorted(seen)
            assert reg.peak_pending == BOUND and reg.pending() == 0
        finally:
            await informer.stop()
