"""Informers against the real kube-apiserver when things go wrong: objects the typed model
cannot decode, and shutdown while a request is stalled.

Undecodable objects are made the way they appear in real clusters: a typed package is
generated from the cluster for version A of a CRD (``spec.size`` is an integer), then the
CRD's schema on the server is loosened (``x-kubernetes-int-or-string``) and objects with a
string ``size`` are created -- the server serves them, the older typed model cannot read
them. Stalls come from the fault-injecting proxy (tests/harness/proxy.py), which holds a
request before forwarding it, as a hung apiserver or load balancer does.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import httpx
import pytest

from kubecodegen.generate import SpecSource, generate, write
from kubecodegen_runtime.cache.informer import AsyncSharedInformer, SharedInformer
from kubecodegen_runtime.client import AsyncRESTClient, RESTClient
from kubecodegen_runtime.config import load_kubeconfig
from kubecodegen_runtime.errors import Forbidden, ServiceUnavailable
from tests.harness.cluster import TestCluster
from tests.harness.proxy import Fault, FaultProxy

from .rest_helpers import ConfigMap, ConfigMaps

pytestmark = pytest.mark.cluster

GROUP = "faults.example.com"
GADGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"gadgets.{GROUP}"},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget",
                  "listKind": "GadgetList"},
        "versions": [{
            "name": "v1", "served": True, "storage": True,
            "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
            }}},
        }],
    },
}
CRD_PATH = f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.{GROUP}"


def gadgets_path(namespace: str, name: str = "") -> str:
    base = f"/apis/{GROUP}/v1/namespaces/{namespace}/gadgets"
    return f"{base}/{name}" if name else base


def wait_until(condition: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
        time.sleep(0.05)


async def async_wait_until(condition: Callable[[], bool], timeout: float = 30.0,
                           what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
        await asyncio.sleep(0.05)


def _loosen_size(client: httpx.Client) -> None:
    """Version B of the schema: ``size`` may now be a string as well."""
    crd = client.get(CRD_PATH).json()
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    schema["properties"]["spec"]["properties"]["size"] = {"x-kubernetes-int-or-string": True}
    response = client.put(CRD_PATH, json=crd)
    assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def gadget_package(cluster: TestCluster, tmp_path_factory: pytest.TempPathFactory
                   ) -> Iterator[ModuleType]:
    """A package generated from the cluster while ``size`` was an integer; afterwards the
    server's schema accepts strings too."""
    client = cluster.admin_client()
    response = client.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                           json=GADGET_CRD)
    assert response.status_code in (201, 409), response.text
    wait_until(lambda: "com.example.faults.v1.Gadget" in client.get("/openapi/v2").text,
               timeout=60, what="the Gadget schema in /openapi/v2")
    out = tmp_path_factory.mktemp("gadgets")
    write(generate(SpecSource(from_cluster=True, kubeconfig=str(cluster.admin_kubeconfig)),
                   "kube_gadgets", groups=[GROUP]), out)
    _loosen_size(client)
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("kube_gadgets")
    finally:
        sys.path.remove(str(out))


def put_gadget(client: httpx.Client, namespace: str, name: str, size: int | str) -> None:
    """Create (or patch) a gadget through raw HTTP: the typed client could not send a
    string size. Retries while the server still validates with the old schema."""
    body = {"apiVersion": f"{GROUP}/v1", "kind": "Gadget", "metadata": {"name": name},
            "spec": {"size": size}}
    deadline = time.monotonic() + 30
    while True:
        response = client.post(gadgets_path(namespace), json=body)
        if response.status_code == 409:
            response = client.patch(gadgets_path(namespace, name),
                                    content=json.dumps({"spec": {"size": size}}),
                                    headers={"Content-Type": "application/merge-patch+json"})
        if response.status_code in (200, 201):
            return
        assert response.status_code == 422 and time.monotonic() < deadline, response.text
        time.sleep(0.2)  # the CRD update is not in effect yet


class Seen:
    """What an informer reported: errors from the error handler, deletes from a handler."""

    def __init__(self, tolerant: ModuleType) -> None:
        self.undecodable_type: type[BaseException] = tolerant.UndecodableObject
        self.errors: list[BaseException] = []
        self.deleted: list[Any] = []
        self._lock = threading.Lock()

    def on_error(self, error: BaseException) -> None:
        with self._lock:
            self.errors.append(error)

    def on_delete(self, obj: Any) -> None:
        with self._lock:
            self.deleted.append(obj)

    def undecodable(self, key: str, phase: str) -> list[Any]:
        with self._lock:
            return [e for e in self.errors if isinstance(e, self.undecodable_type)
                    and getattr(e, "key", None) == key and getattr(e, "phase", None) == phase]


def sizes(informer: Any) -> dict[str, Any]:
    return {o.metadata.name: o.spec.size for o in informer.lister().list()}


async def bad_objects_scenario(client: httpx.Client, namespace: str, informer: Any, seen: Seen,
                               synced: bool, tombstone: type[Any]) -> None:
    """Shared by the sync and asyncio tests; the informer was started after ``g1``, ``g2``
    (integers) and ``bad`` (a string) were created."""
    assert synced, "one undecodable object kept the informer from syncing"
    assert sizes(informer) == {"g1": 1, "g2": 2}
    [listed] = seen.undecodable(f"{namespace}/bad", "list")
    assert listed.kind == "Gadget" and listed.api_version == f"{GROUP}/v1"
    assert listed.json_path == "$.spec.size" and listed.event_type is None
    assert f"{namespace}/bad" in str(listed) and "$.spec.size" in str(listed)

    # watch: an undecodable ADDED is reported; the stream goes on delivering the rest
    put_gadget(client, namespace, "bad2", "x")
    put_gadget(client, namespace, "g3", 3)
    await async_wait_until(lambda: "g3" in sizes(informer), what="g3 after an undecodable event")
    [added] = seen.undecodable(f"{namespace}/bad2", "watch")
    assert added.event_type == "ADDED" and "bad2" not in sizes(informer)

    # a later version that decodes replaces the bad one
    put_gadget(client, namespace, "bad", 5)
    await async_wait_until(lambda: sizes(informer).get("bad") == 5, what="the repaired object")

    # an object that turns undecodable keeps its last good version in the cache ...
    put_gadget(client, namespace, "g1", "broken")
    await async_wait_until(lambda: bool(seen.undecodable(f"{namespace}/g1", "watch")),
                           what="the MODIFIED error")
    assert sizes(informer)["g1"] == 1
    put_gadget(client, namespace, "g2", 20)  # later events still arrive
    await async_wait_until(lambda: sizes(informer).get("g2") == 20, what="g2's update")
    # ... and its deletion removes it, with a tombstone: its final state was not readable
    assert client.delete(gadgets_path(namespace, "g1")).status_code == 200
    await async_wait_until(lambda: "g1" not in sizes(informer), what="g1's deletion")
    # handlers run after the store was written, on their own thread or task
    await async_wait_until(lambda: bool(seen.deleted), what="the delete handler")
    [gone] = seen.deleted
    assert isinstance(gone, tombstone)
    assert gone.key == f"{namespace}/g1" and gone.obj.spec.size == 1
    assert informer.error is None and informer.has_synced()


def _initial_objects(client: httpx.Client, namespace: str) -> None:
    put_gadget(client, namespace, "g1", 1)
    put_gadget(client, namespace, "g2", 2)
    put_gadget(client, namespace, "bad", "huge")


async def test_sync_informer_survives_undecodable_objects(
        gadget_package: ModuleType, cluster: TestCluster, namespace: str) -> None:
    client = cluster.admin_client()
    _initial_objects(client, namespace)
    pkg = gadget_package
    seen = Seen(importlib.import_module("kubecodegen_runtime.cache.tolerant"))
    tombstone = importlib.import_module("kubecodegen_runtime.cache.keys").DeletedFinalStateUnknown
    with pkg.Clientset.from_kubeconfig(str(cluster.admin_kubeconfig)) as cs:
        factory = pkg.SharedInformerFactory(cs, namespace=namespace)
        accessor = factory.faults_example_com_v1.gadgets()
        informer = accessor.informer()
        informer.set_watch_error_handler(seen.on_error)
        accessor.add_event_handler(on_delete=seen.on_delete)
        factory.start()
        try:
            synced = await asyncio.to_thread(factory.wait_for_cache_sync, 30)
            await bad_objects_scenario(client, namespace, informer, seen, synced, tombstone)
        finally:
            assert factory.shutdown(timeout=10)


async def test_async_informer_survives_undecodable_objects(
        gadget_package: ModuleType, cluster: TestCluster, namespace: str) -> None:
    client = cluster.admin_client()
    _initial_objects(client, namespace)
    pkg = gadget_package
    seen = Seen(importlib.import_module("kubecodegen_runtime.cache.tolerant"))
    tombstone = importlib.import_module("kubecodegen_runtime.cache.keys").DeletedFinalStateUnknown
    async with pkg.AsyncClientset.from_kubeconfig(str(cluster.admin_kubeconfig)) as cs:
        factory = pkg.AsyncSharedInformerFactory(cs, namespace=namespace)
        accessor = factory.faults_example_com_v1.gadgets()
        informer = accessor.informer()
        informer.set_watch_error_handler(seen.on_error)
        accessor.add_event_handler(on_delete=seen.on_delete)
        factory.start()
        try:
            synced = await factory.wait_for_cache_sync(timeout=30)
            await bad_objects_scenario(client, namespace, informer, seen, synced, tombstone)
        finally:
            await factory.shutdown()


# -- shutdown while a request is stalled -------------------------------------------------


@pytest.fixture
def proxy(cluster: TestCluster) -> Iterator[FaultProxy]:
    with FaultProxy(cluster.server, cluster.ca_file) as running:
        yield running


def proxied_config(proxy: FaultProxy, cluster: TestCluster) -> Any:
    loaded = load_kubeconfig(proxy.kubeconfig(cluster.admin_kubeconfig))
    return dataclasses.replace(loaded, qps=0.0)


def informer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("informer-configmaps")]


def configmaps_path(namespace: str) -> str:
    return f"/api/v1/namespaces/{namespace}/configmaps"


def test_sync_shutdown_interrupts_a_stalled_list(proxy: FaultProxy, cluster: TestCluster,
                                                 namespace: str) -> None:
    assert informer_threads() == []
    proxy.inject(Fault.slow(25), method="GET", path=configmaps_path(namespace), times=None)
    with RESTClient(proxied_config(proxy, cluster)) as rest:
        informer: SharedInformer[ConfigMap] = SharedInformer(
            rest, ConfigMaps.info, ConfigMap, namespace=namespace)
        informer.start()
        time.sleep(1.0)  # the LIST is now held by the proxy
        assert not informer.has_synced()
        started = time.monotonic()
        stopped = informer.stop(timeout=10)
        took = time.monotonic() - started
    assert stopped and took < 2.0, f"stop() took {took:.1f}s"
    assert informer_threads() == [] and informer.error is None


def test_sync_shutdown_interrupts_a_stalled_watch(proxy: FaultProxy, cluster: TestCluster,
                                                  namespace: str) -> None:
    with RESTClient(proxied_config(proxy, cluster)) as rest:
        # watches end after 1-2 s, so a new WATCH is soon opened -- into the stall
        informer: SharedInformer[ConfigMap] = SharedInformer(
            rest, ConfigMaps.info, ConfigMap, namespace=namespace, min_watch_timeout=1.0)
        informer.start()
        assert informer.wait_for_sync(30)
        proxy.inject(Fault.slow(25), method="GET", path=configmaps_path(namespace), times=None)
        wait_until(lambda: informer._watcher.state.value == "InitListed", timeout=10,
                   what="a WATCH waiting for its answer")
        time.sleep(0.5)
        started = time.monotonic()
        stopped = informer.stop(timeout=10)
        took = time.monotonic() - started
    assert stopped and took < 2.0, f"stop() took {took:.1f}s"
    assert informer_threads() == [] and informer.error is None


def _own_tasks() -> set[asyncio.Task[Any]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


async def test_async_shutdown_interrupts_a_stalled_list(proxy: FaultProxy, cluster: TestCluster,
                                                        namespace: str) -> None:
    proxy.inject(Fault.slow(25), method="GET", path=configmaps_path(namespace), times=None)
    before = _own_tasks()
    async with AsyncRESTClient(proxied_config(proxy, cluster)) as rest:
        informer: AsyncSharedInformer[ConfigMap] = AsyncSharedInformer(
            rest, ConfigMaps.info, ConfigMap, namespace=namespace)
        informer.start()
        await asyncio.sleep(1.0)
        assert not informer.has_synced()
        started = time.monotonic()
        await asyncio.wait_for(informer.stop(), 10)
        took = time.monotonic() - started
    assert took < 2.0, f"stop() took {took:.1f}s"
    assert _own_tasks() - before == set() and informer.error is None


async def test_async_shutdown_interrupts_a_stalled_watch(proxy: FaultProxy, cluster: TestCluster,
                                                         namespace: str) -> None:
    before = _own_tasks()
    async with AsyncRESTClient(proxied_config(proxy, cluster)) as rest:
        informer: AsyncSharedInformer[ConfigMap] = AsyncSharedInformer(
            rest, ConfigMaps.info, ConfigMap, namespace=namespace, min_watch_timeout=1.0)
        informer.start()
        assert await informer.wait_for_sync(30)
        proxy.inject(Fault.slow(25), method="GET", path=configmaps_path(namespace), times=None)
        await async_wait_until(lambda: informer._watcher.state.value == "InitListed",
                               timeout=10, what="a WATCH waiting for its answer")
        await asyncio.sleep(0.5)
        started = time.monotonic()
        await asyncio.wait_for(informer.stop(), 10)
        took = time.monotonic() - started
    assert took < 2.0, f"stop() took {took:.1f}s"
    assert _own_tasks() - before == set() and informer.error is None



# -- the error handler hears of ordinary failures too --------------------------------------


def test_list_failures_reach_the_error_handler_and_the_informer_recovers(
        proxy: FaultProxy, cluster: TestCluster, namespace: str) -> None:
    proxy.inject(Fault.error(403), method="GET", path=configmaps_path(namespace), times=1)
    errors: list[BaseException] = []
    with RESTClient(proxied_config(proxy, cluster)) as rest:
        informer: SharedInformer[ConfigMap] = SharedInformer(
            rest, ConfigMaps.info, ConfigMap, namespace=namespace)
        informer.set_watch_error_handler(errors.append)
        informer.start()
        try:
            assert informer.wait_for_sync(30)
        finally:
            assert informer.stop(timeout=10)
    assert len(errors) == 1 and isinstance(errors[0], Forbidden), errors
    assert "injected by the test proxy" in str(errors[0])


async def test_async_watch_failures_reach_the_error_handler(
        proxy: FaultProxy, cluster: TestCluster, namespace: str) -> None:
    errors: list[BaseException] = []

    def failing_handler(error: BaseException) -> None:
        errors.append(error)
        raise RuntimeError("a broken error handler must not stop the informer")

    async with AsyncRESTClient(proxied_config(proxy, cluster)) as rest:
        informer: AsyncSharedInformer[ConfigMap] = AsyncSharedInformer(
            rest, ConfigMaps.info, ConfigMap, namespace=namespace, min_watch_timeout=1.0)
        informer.set_watch_error_handler(failing_handler)
        informer.start()
        try:
            assert await informer.wait_for_sync(30)
            # the next WATCH (after 1-2 s) is refused once; plain 503s are retried by the
            # client a few times, so refuse enough of them to reach the watcher
            proxy.inject(Fault.error(503), method="GET", path=configmaps_path(namespace),
                         times=5)
            await async_wait_until(lambda: bool(errors), timeout=30, what="the watch error")
            await async_wait_until(lambda: informer._watcher.state.value == "Watching",
                                   timeout=30, what="the watch to be resumed")
        finally:
            await informer.stop()
    assert isinstance(errors[0], ServiceUnavailable) and informer.error is None
