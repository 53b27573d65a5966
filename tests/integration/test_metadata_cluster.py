"""The metadata client and metadata informers on the real kube-apiserver 1.20.

Secrets (a built-in kind with data worth not holding) and a custom resource (the Gizmo
CRD of ``cr_machinery``): what the client receives is checked on the wire, so "metadata
only" means the bytes the server sent hold no ``data`` or ``spec``, not merely that the
struct cannot keep them.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kubecodegen_runtime.cache import DeletedFinalStateUnknown
from kubecodegen_runtime.cache.factory import AsyncSharedInformerFactory, SharedInformerFactory
from kubecodegen_runtime.client import AsyncRESTClient, RESTClient
from kubecodegen_runtime.dynamic import DynamicClient
from kubecodegen_runtime.errors import NotFound, UnsupportedMediaType
from kubecodegen_runtime.meta import GroupVersionResource
from kubecodegen_runtime.metadata import (
    AsyncMetadataClient,
    MetadataClient,
    PartialObjectMetadata,
    PartialObjectMetadataList,
)
from kubecodegen_runtime.rest.request import Request
from kubecodegen_runtime.rest.response import Response
from kubecodegen_runtime.watch import WatchEvent
from tests.harness.cluster import TestCluster

from .cr_machinery import GIZMO_CRD, GROUP, VERSION, install_crd
from .rest_helpers import admin_config

pytestmark = pytest.mark.cluster

SECRETS = GroupVersionResource("", "v1", "secrets")
GIZMOS = GroupVersionResource(GROUP, VERSION, "gizmos")
SECRET_VALUE = "c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1zdGF5LW9uLXRoZS1zZXJ2ZXI="  # base64


class RecordingREST(RESTClient):
    """A RESTClient that keeps every body it received (whole answers and stream chunks)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.received: list[bytes] = []

    def send(self, req: Request) -> Response:
        resp = super().send(req)
        self.received.append(resp.body)
        return resp

    def open(self, req: Request) -> Any:
        stream = super().open(req)
        chunks = stream.iter_chunks
        received = self.received

        def recording() -> Iterator[bytes]:
            for chunk in chunks():
                received.append(chunk)
                yield chunk

        stream.iter_chunks = recording  # type: ignore[method-assign]
        return stream


@pytest.fixture(scope="session")
def gizmo_cluster(cluster: TestCluster) -> TestCluster:
    install_crd(cluster.admin_client(), GIZMO_CRD)
    return cluster


@pytest.fixture
def rest(gizmo_cluster: TestCluster) -> Iterator[RecordingREST]:
    with RecordingREST(admin_config(gizmo_cluster)) as client:
        yield client


def make_secrets(rest: RESTClient, namespace: str, count: int, **labels: str) -> list[str]:
    secrets = DynamicClient(rest).resource(SECRETS).namespace(namespace)
    names = [f"s{i}" for i in range(count)]
    for name in names:
        secrets.create({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                        "metadata": {"name": name, "labels": dict(labels)},
                        "data": {"token": SECRET_VALUE}})
    return names


def no_secret_data(received: list[bytes]) -> None:
    wire = b"".join(received)
    assert wire, "nothing was received"
    assert SECRET_VALUE.encode() not in wire
    assert b'"data"' not in wire and b'"type":"Opaque"' not in wire


def wait_until(condition: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
        time.sleep(0.05)


def test_secrets_get_list_list_all_are_metadata_only(rest: RecordingREST, namespace: str) -> None:
    names = make_secrets(rest, namespace, 5, app="md")
    rest.received.clear()
    secrets = MetadataClient(rest).resource(SECRETS).namespace(namespace)

    one = secrets.get("s0")
    assert (one.api_version, one.kind) == ("meta.k8s.io/v1", "PartialObjectMetadata")
    assert one.metadata.name == "s0" and one.metadata.labels == {"app": "md"}
    assert one.metadata.uid and one.metadata.resource_version

    page = secrets.list(label_selector="app=md", limit=2)
    assert isinstance(page, PartialObjectMetadataList)
    assert page.kind == "PartialObjectMetadataList" and len(page.items) == 2
    assert page.metadata.continue_  # more to come

    every = list(secrets.list_all(label_selector="app=md", page_size=2))  # three pages
    assert sorted(o.metadata.name or "" for o in every) == names
    assert all(o.kind == "PartialObjectMetadata" for o in every)
    across = [o.metadata.name for o in MetadataClient(rest).resource(SECRETS).list_all()
              if o.metadata.namespace == namespace]
    assert sorted(n or "" for n in across) == names
    no_secret_data(rest.received)


def test_secrets_watch_patch_delete(rest: RecordingREST, namespace: str) -> None:
    make_secrets(rest, namespace, 3, app="w")
    secrets = MetadataClient(rest).resource(SECRETS).namespace(namespace)
    start = secrets.list().metadata.resource_version
    rest.received.clear()

    merged = secrets.patch("s0", {"metadata": {"labels": {"patched": "merge"}}})
    assert merged.metadata.labels == {"app": "w", "patched": "merge"}
    jsoned = secrets.patch("s1", [{"op": "add", "path": "/metadata/annotations",
                                   "value": {"note": "json"}}], patch_type="json")
    assert jsoned.metadata.annotations == {"note": "json"}
    strategic = secrets.patch("s2", {"metadata": {"finalizers": ["example.com/keep"]}},
                              patch_type="strategic")
    assert strategic.metadata.finalizers == ["example.com/keep"]
    assert strategic.kind == "PartialObjectMetadata"

    gone = secrets.delete("s0")
    assert not isinstance(gone, PartialObjectMetadata)  # a Status: secrets delete at once
    # blocked by its finalizer, the deleted object comes back: as metadata
    blocked = secrets.delete("s2")
    assert isinstance(blocked, PartialObjectMetadata)
    assert blocked.metadata.deletion_timestamp is not None
    secrets.patch("s2", {"metadata": {"finalizers": None}})

    events: list[tuple[str, str]] = []
    with secrets.watch(resource_version=start, timeout_seconds=5) as stream:
        for event in stream:
            assert isinstance(event, WatchEvent)
            assert isinstance(event.object, PartialObjectMetadata)
            events.append((event.type, event.object.metadata.name or ""))
            if ("DELETED", "s2") in events:
                break
    assert ("MODIFIED", "s0") in events and ("DELETED", "s0") in events
    assert ("MODIFIED", "s1") in events and ("DELETED", "s2") in events

    left = secrets.delete_collection(label_selector="app=w")
    assert isinstance(left, PartialObjectMetadataList)
    assert [o.metadata.name for o in left.items] == ["s1"]
    with pytest.raises(NotFound):
        secrets.get("s1")
    no_secret_data(rest.received)


def test_custom_resources_are_metadata_only(rest: RecordingREST, namespace: str) -> None:
    gizmos = DynamicClient(rest).resource(GIZMOS).namespace(namespace)
    for name in ("g1", "g2"):
        gizmos.create({"apiVersion": f"{GROUP}/{VERSION}", "kind": "Gizmo",
                       "metadata": {"name": name}, "spec": {"replicas": 3, "color": "octarine"}})
    rest.received.clear()
    md = MetadataClient(rest).resource(GIZMOS).namespace(namespace)

    got = md.get("g1")
    assert got.kind == "PartialObjectMetadata" and got.metadata.generation == 1
    assert sorted(o.metadata.name or "" for o in md.list_all(page_size=1)) == ["g1", "g2"]
    patched = md.patch("g1", {"metadata": {"labels": {"l": "v"}}})
    assert patched.metadata.labels == {"l": "v"}
    with pytest.raises(UnsupportedMediaType):  # custom resources take no strategic merge
        md.patch("g1", {"metadata": {"labels": {"l": "w"}}}, patch_type="strategic")
    md.patch("g2", {"metadata": {"finalizers": ["example.com/hold"]}})
    held = md.delete("g2")  # a delete the finalizer holds answers with the object: metadata
    assert isinstance(held, PartialObjectMetadata) and held.metadata.deletion_timestamp
    md.patch("g2", {"metadata": {"finalizers": None}})
    wire = b"".join(rest.received)
    assert b"octarine" not in wire and b'"spec"' not in wire
    assert gizmos.get("g1")["spec"]["color"] == "octarine"  # the object itself is whole
    assert not isinstance(md.delete("g1"), PartialObjectMetadata)  # gone at once: a Status


def test_metadata_informer_syncs_sees_changes_and_lists(rest: RecordingREST,
                                                        namespace: str) -> None:
    make_secrets(rest, namespace, 3, app="inf")
    factory = SharedInformerFactory(rest, namespace=namespace)
    informer = factory.for_metadata(SECRETS)
    typed = factory.for_resource(SECRETS)
    assert informer is not typed
    seen: list[tuple[str, str]] = []
    lock = threading.Lock()

    def record(kind: str) -> Callable[..., None]:
        def handler(*objs: Any) -> None:
            obj = objs[-1]
            if isinstance(obj, DeletedFinalStateUnknown):
                obj = obj.obj
            assert isinstance(obj, PartialObjectMetadata)
            with lock:
                seen.append((kind, obj.metadata.name or ""))
        return handler

    informer.add_event_handler(on_add=record("add"), on_update=record("update"),
                               on_delete=record("delete"))
    factory.start()
    try:
        assert factory.wait_for_cache_sync(timeout=30)
        lister = informer.lister()
        assert sorted(o.metadata.name or "" for o in lister.list()) == ["s0", "s1", "s2"]
        cached = lister.namespace(namespace).get("s1")
        assert isinstance(cached, PartialObjectMetadata) and cached.metadata.labels == {"app": "inf"}
        assert typed.lister().namespace(namespace).get("s1")["data"] == {"token": SECRET_VALUE}

        secrets = MetadataClient(rest).resource(SECRETS).namespace(namespace)
        secrets.patch("s1", {"metadata": {"labels": {"app": "inf", "v": "2"}}})
        secrets.delete("s2")
        DynamicClient(rest).resource(SECRETS).namespace(namespace).create(
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s3"},
             "data": {"token": SECRET_VALUE}})
        wait_until(lambda: {("update", "s1"), ("delete", "s2"), ("add", "s3")} <= set(seen),
                   what="the informer's update, delete and add")
        assert lister.namespace(namespace).get("s1").metadata.labels == {"app": "inf", "v": "2"}
        with pytest.raises(NotFound):
            lister.namespace(namespace).get("s2")
        assert lister.namespace(namespace).get("s3").metadata.name == "s3"
    finally:
        assert factory.shutdown(timeout=30)


def test_async_client_and_informer(gizmo_cluster: TestCluster, namespace: str) -> None:
    with RESTClient(admin_config(gizmo_cluster)) as rest:
        make_secrets(rest, namespace, 2)

    async def run() -> tuple[list[str], list[str], str | None]:
        async with AsyncRESTClient(admin_config(gizmo_cluster)) as arest:
            md = AsyncMetadataClient(arest).resource(SECRETS).namespace(namespace)
            names = [o.metadata.name or "" async for o in md.list_all(page_size=1)]
            factory = AsyncSharedInformerFactory(arest, namespace=namespace)
            informer = await factory.for_metadata(SECRETS)
            factory.start()
            try:
                assert await factory.wait_for_cache_sync(timeout=30)
                cached = sorted(o.metadata.name or "" for o in informer.lister().list())
            finally:
                await factory.shutdown()
            got = await md.get("s0")
            return names, cached, got.kind

    names, cached, kind = asyncio.run(run())
    assert sorted(names) == ["s0", "s1"] and cached == ["s0", "s1"]
    assert kind == "PartialObjectMetadata"


def test_memory_benchmark_smoke(cluster: TestCluster, namespace: str) -> None:
    """The benchmark's whole pipeline on a handful of Secrets (its numbers mean nothing
    at this size; ``python -m benchmarks --only metadata_memory`` is the measurement)."""
    from benchmarks import ROOT
    from benchmarks import metadata_memory as bench

    target = bench.Where(cluster.admin_kubeconfig, namespace)
    names = bench.create_secrets(target, 12, workers=3)
    assert sorted(names) == [f"bench-{i:06d}" for i in range(12)]
    results = bench.measure(target, names, ROOT / "generated", (bench.TYPED, bench.METADATA))
    assert set(results) == {bench.TYPED, bench.METADATA}
    for result in results.values():
        assert result["retained"] > 0 and result["peak"] >= result["retained"]
        assert result["closed"]
    outcome = bench.report(results, len(names), cluster.version, {"smoke": 0.0})
    assert [row[0] for row in outcome.sections[0].rows] == [bench.TYPED, bench.METADATA]
