"""The fake transports: watch streams as a real server writes them, the async shell, and
informers (sync and async) running unchanged on the fake."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import pytest

from kubecodegen_runtime import errors
from kubecodegen_runtime.fake.clients import fake_config
from kubecodegen_runtime.fake.transport import AsyncFakeTransport, FakeTransport
from kubecodegen_runtime.rest.request import Request, raw
from tests.generated_packages import import_reference

from .fake_core_support import CMS, body, cm, kube_api, send, server

import_reference("kube_v1_20")

fake20 = pytest.importorskip("kube_v1_20.fake")
core = pytest.importorskip("kube_v1_20.models.core_v1")
meta_v1 = pytest.importorskip("kube_v1_20.models.meta_v1")
factories = pytest.importorskip("kube_v1_20.informer_factory")


def watch(params: tuple[tuple[str, str], ...] = ()) -> Request:
    return raw("GET", CMS, params=(("watch", "true"), *params), stream=True)


def lines(stream: Any, count: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    buffer = b""
    for chunk in stream.iter_chunks():
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            out.append(json.loads(line))
        if len(out) >= count:
            break
    return out


def configmap(name: str, **labels: str) -> Any:
    return core.ConfigMap(metadata=meta_v1.ObjectMeta(name=name, labels=labels or None))


def wait_until(predicate: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return predicate()


# --- watch streams ---------------------------------------------------------------------


def test_watch_stream_is_json_lines() -> None:
    srv = server()
    start = body(send(srv, "POST", CMS, cm("a")))["metadata"]["resourceVersion"]
    transport = FakeTransport(srv, fake_config())
    stream = transport.open(watch((("resourceVersion", start),)))
    assert stream.status_code == 200 and ("content-type", "application/json") in stream.headers
    send(srv, "POST", CMS, cm("b"))
    send(srv, "DELETE", f"{CMS}/a")
    events = lines(stream, 2)
    stream.close()
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == \
        [("ADDED", "b"), ("DELETED", "a")]
    assert events[0]["object"]["kind"] == "ConfigMap"


def test_watch_without_resource_version_starts_with_the_current_state() -> None:
    srv = server()
    send(srv, "POST", CMS, cm("a", labels={"x": "1"}))
    send(srv, "POST", CMS, cm("b"))
    stream = FakeTransport(srv, fake_config()).open(watch((("labelSelector", "x=1"),)))
    assert [e["object"]["metadata"]["name"] for e in lines(stream, 1)] == ["a"]
    stream.close()


def test_too_old_resource_version_is_an_error_event() -> None:
    srv = server()
    for i in range(3):
        send(srv, "POST", CMS, cm(f"c{i}"))
    srv.tracker.compact()
    stream = FakeTransport(srv, fake_config()).open(watch((("resourceVersion", "1"),)))
    assert stream.status_code == 200
    (event,) = lines(stream, 1)
    assert event["type"] == "ERROR" and event["object"]["code"] == 410
    assert event["object"]["reason"] == "Expired"


def test_typed_watch_raises_the_expired_error() -> None:
    cs = fake20.Clientset()
    cms = cs.core_v1.config_maps("default")
    for i in range(3):
        cms.create(configmap(f"c{i}"))
    cs.tracker.compact()
    with pytest.raises(errors.ResourceExpired), \
            cms.watch(resource_version="1", timeout_seconds=5) as events:
        for _ in events:
            pass


def test_watch_timeout_ends_the_stream() -> None:
    cs = fake20.Clientset()
    started = time.monotonic()
    with cs.core_v1.config_maps("default").watch(timeout_seconds=1) as events:
        assert list(events) == []
    assert 0.9 < time.monotonic() - started < 3


def test_watch_reactor_streams_its_events() -> None:
    srv = server()
    srv.prepend_watch_reactor("configmaps", lambda a: [{"type": "ADDED", "object": cm("canned", "default")}])
    stream = FakeTransport(srv, fake_config()).open(watch())
    assert stream.read().count(b"\n") == 1
    assert srv.actions()[-1].verb == "watch"


def test_watch_lists_are_refused_by_1_20_and_served_by_1_35() -> None:
    old = server()
    refused = FakeTransport(old, fake_config()).open(watch((
        ("sendInitialEvents", "true"), ("resourceVersionMatch", "NotOlderThan"),
        ("allowWatchBookmarks", "true"))))
    assert refused.status_code == 422
    new = server(api=kube_api("kube_v1_35"))
    send(new, "POST", CMS, cm("a"))
    stream = FakeTransport(new, fake_config()).open(watch((
        ("sendInitialEvents", "true"), ("resourceVersionMatch", "NotOlderThan"),
        ("allowWatchBookmarks", "true"))))
    added, bookmark = lines(stream, 2)
    stream.close()
    assert added["type"] == "ADDED" and bookmark["type"] == "BOOKMARK"
    assert bookmark["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_cut_transport_ends_streams_and_refuses_requests() -> None:
    srv = server()
    transport = FakeTransport(srv, fake_config()).fork()
    stream = transport.open(watch((("resourceVersion", srv.tracker.resource_version),)))
    done = threading.Event()

    def read() -> None:
        for _ in stream.iter_chunks():
            pass
        done.set()

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(0.05)
    transport.cut()
    assert done.wait(2)
    reader.join()
    with pytest.raises(errors.TransportError) as caught:
        transport.send(raw("GET", CMS))
    assert caught.value.sent is False


# --- async -------------------------------------------------------------------------------


def test_async_transport_and_clientset() -> None:
    async def main() -> None:
        srv = server()
        transport = AsyncFakeTransport(srv, fake_config())
        resp = await transport.send(raw("POST", CMS, body=json.dumps(cm("a")).encode()))
        assert resp.status_code == 201
        stream = await transport.open(watch())
        got = [chunk async for chunk in _first(stream.iter_chunks())]
        assert json.loads(got[0])["object"]["metadata"]["name"] == "a"
        await stream.aclose()

        acs = fake20.AsyncClientset(configmap("seed"))
        cms = acs.core_v1.config_maps("default")
        assert (await cms.get("seed")).metadata.name == "seed"
        with pytest.raises(errors.NotFound):
            await cms.get("missing")
        sync = fake20.Clientset(tracker=acs.tracker)
        assert sync.core_v1.config_maps("default").get("seed").metadata.uid == \
            (await cms.get("seed")).metadata.uid

    asyncio.run(main())


async def _first(chunks: Any) -> Any:
    async for chunk in chunks:
        yield chunk
        return


# --- informers -------------------------------------------------------------------------


def _recorder() -> tuple[list[tuple[str, str]], dict[str, Any]]:
    seen: list[tuple[str, str]] = []

    def name(obj: Any) -> str:
        return obj.metadata.name if hasattr(obj, "metadata") else obj.key.split("/")[-1]

    handlers = {"on_add": lambda o: seen.append(("add", name(o))),
                "on_update": lambda old, new: seen.append(("update", name(new))),
                "on_delete": lambda o: seen.append(("delete", name(o)))}
    return seen, handlers


def test_sync_informer_sees_adds_updates_deletes_and_stops() -> None:
    cs = fake20.Clientset(configmap("a"))
    factory = factories.SharedInformerFactory(cs)
    accessor = factory.core_v1.config_maps()
    seen, handlers = _recorder()
    accessor.add_event_handler(**handlers)
    factory.start()
    try:
        assert factory.wait_for_cache_sync(5)
        cms = cs.core_v1.config_maps("default")
        cms.create(configmap("b"))
        b = cms.get("b")
        b.data = {"x": "y"}
        cms.update(b)
        cms.delete("a")
        assert wait_until(lambda: len(seen) >= 4)
        assert seen == [("add", "a"), ("add", "b"), ("update", "b"), ("delete", "a")]
        assert [c.metadata.name for c in accessor.lister().list()] == ["b"]
    finally:
        started = time.monotonic()
        assert factory.shutdown(timeout=5)
        assert time.monotonic() - started < 2


def test_async_informer_sees_adds_updates_deletes() -> None:
    async def main() -> None:
        acs = fake20.AsyncClientset(configmap("a"))
        factory = factories.AsyncSharedInformerFactory(acs)
        accessor = factory.core_v1.config_maps()
        seen, handlers = _recorder()
        accessor.add_event_handler(**handlers)
        factory.start()
        try:
            assert await factory.wait_for_cache_sync(timeout=5)
            cms = acs.core_v1.config_maps("default")
            await cms.create(configmap("b"))
            b = await cms.get("b")
            b.data = {"x": "y"}
            await cms.update(b)
            await cms.delete("a")
            for _ in range(500):
                if len(seen) >= 4:
                    break
                await asyncio.sleep(0.005)
            assert seen == [("add", "a"), ("add", "b"), ("update", "b"), ("delete", "a")]
        finally:
            await factory.shutdown()

    asyncio.run(main())


def test_a_watch_from_before_the_store_began_is_too_old() -> None:
    srv = server()
    stream = FakeTransport(srv, fake_config()).open(watch((("resourceVersion", "1"),)))
    (event,) = lines(stream, 1)
    assert event["type"] == "ERROR" and event["object"]["message"].startswith("too old resource version: 1 ")
