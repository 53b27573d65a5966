"""Informers and listers on top of the clientset (list, then watch from the list's version)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

from kube_v1_20 import AsyncSharedInformerFactory, SharedInformerFactory

from kubecodegen_runtime import errors

from ..backends import Backend, cr_package
from .registry import scenario
from .support import Recorder, configmap, names, raises, widget, widgets


@contextlib.contextmanager
def _factory(client: Any, **options: Any) -> Iterator[Any]:
    factory = SharedInformerFactory(client, **options)
    try:
        yield factory
    finally:
        factory.shutdown(timeout=10)


@scenario
def scenario_informer_lists_then_watches(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    cms.create(configmap("before", {"k": "1"}))
    with _factory(b.cs, namespace=b.namespace) as factory:
        informer = factory.core_v1.config_maps()
        heard = Recorder()
        informer.informer().add_event_handler(on_add=heard.on_add, on_update=heard.on_update,
                                              on_delete=heard.on_delete)
        factory.start()
        assert factory.wait_for_cache_sync(timeout=10)
        assert heard.wait_for(("add", "before")) == [("add", "before")]
        cms.create(configmap("after"))
        assert heard.wait_for(("add", "after")) == [("add", "after")]
        cms.patch("before", {"data": {"k": "2"}})
        assert heard.wait_for(("update", "before")) == [("update", "before")]
        cms.delete("after")
        assert heard.wait_for(("delete", "after")) == [("delete", "after")]
        lister = informer.lister().config_maps(b.namespace)
        assert lister.get("before").data == {"k": "2"}
        assert names(lister.list()) == ["before"]


@scenario
def scenario_lister_selectors_and_not_found(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    cms.create(configmap("web", labels={"app": "web"}))
    cms.create(configmap("db", labels={"app": "db"}))
    with _factory(b.cs, namespace=b.namespace) as factory:
        informer = factory.core_v1.config_maps()
        lister = informer.lister()
        heard = Recorder()
        informer.informer().add_event_handler(on_add=heard.on_add)
        factory.start()
        assert factory.wait_for_cache_sync(timeout=10)
        heard.wait_all({("add", "web"), ("add", "db")})
        assert names(lister.config_maps(b.namespace).list("app=web")) == ["web"]
        assert sorted(names(lister.config_maps(b.namespace).list("app in (web,db)"))) == ["db", "web"]
        with raises(errors.NotFound, "NotFound"):
            lister.config_maps(b.namespace).get("missing")


@scenario
def scenario_informer_label_selector_sees_objects_leave(b: Backend) -> None:
    """A factory filtered by label: an object relabelled out of it is deleted from the cache."""
    cms = b.cs.core_v1.config_maps(b.namespace)
    cms.create(configmap("in", labels={"watch": "yes"}))
    cms.create(configmap("out", labels={"watch": "no"}))
    with _factory(b.cs, namespace=b.namespace, label_selector="watch=yes") as factory:
        informer = factory.core_v1.config_maps()
        heard = Recorder()
        informer.informer().add_event_handler(on_add=heard.on_add, on_update=heard.on_update,
                                              on_delete=heard.on_delete)
        factory.start()
        assert factory.wait_for_cache_sync(timeout=10)
        assert heard.wait_for(("add", "in")) == [("add", "in")]
        cms.patch("in", {"metadata": {"labels": {"watch": "no"}}})
        assert heard.wait_for(("delete", "in")) == [("delete", "in")]
        cms.patch("out", {"metadata": {"labels": {"watch": "yes"}}})
        assert heard.wait_for(("add", "out")) == [("add", "out")]
        assert names(informer.lister().config_maps(b.namespace).list()) == ["out"]


@scenario
def scenario_informer_all_namespaces(b: Backend) -> None:
    other = b.new_namespace("other")
    b.cs.core_v1.config_maps(b.namespace).create(configmap("one", labels={"conf": b.namespace}))
    b.cs.core_v1.config_maps(other).create(configmap("two", labels={"conf": b.namespace}))
    with _factory(b.cs, label_selector=f"conf={b.namespace}") as factory:
        informer = factory.core_v1.config_maps()
        heard = Recorder()
        informer.informer().add_event_handler(on_add=heard.on_add)
        factory.start()
        assert factory.wait_for_cache_sync(timeout=10)
        heard.wait_all({("add", "one"), ("add", "two")})
        lister = informer.lister()
        assert sorted((o.metadata.namespace, o.metadata.name) for o in lister.list()) == sorted(
            [(b.namespace, "one"), (other, "two")])
        assert names(lister.config_maps(other).list()) == ["two"]


@scenario
def scenario_informer_on_custom_resource(b: Backend) -> None:
    ws = widgets(b)
    ws.create(widget("w1", replicas=1))
    factory = cr_package().SharedInformerFactory(b.crs, namespace=b.namespace)
    try:
        informer = factory.conformance_kubecodegen_test_v1.widgets()
        heard = Recorder()
        informer.informer().add_event_handler(on_add=heard.on_add)
        factory.start()
        assert factory.wait_for_cache_sync(timeout=10)
        heard.wait_all({("add", "w1")})
        lister = informer.lister().widgets(b.namespace)
        assert names(lister.list()) == ["w1"]
        ws.create(widget("w2", replicas=2))
        assert heard.wait_for(("add", "w2")) == [("add", "w2")]
        assert lister.get("w2").spec.replicas == 2
    finally:
        factory.shutdown(timeout=10)


@scenario
async def scenario_async_informer(b: Backend) -> None:
    async with b.acs() as acs:
        cms = acs.core_v1.config_maps(b.namespace)
        await cms.create(configmap("a1"))
        factory = AsyncSharedInformerFactory(acs, namespace=b.namespace)
        informer = factory.core_v1.config_maps()
        heard: list[str] = []
        second = asyncio.Event()  # handlers of the asyncio informer run on the event loop

        def on_add(obj: Any, *_: Any) -> None:
            heard.append(obj.metadata.name)
            if obj.metadata.name == "a2":
                second.set()

        informer.informer().add_event_handler(on_add=on_add)
        factory.start()
        try:
            assert await factory.wait_for_cache_sync(timeout=10)
            await cms.create(configmap("a2"))
            await asyncio.wait_for(second.wait(), timeout=10)
            assert heard == ["a1", "a2"]
            lister = informer.lister().config_maps(b.namespace)
            assert sorted(names(lister.list())) == ["a1", "a2"]
        finally:
            await factory.shutdown()


@scenario
def scenario_informer_sees_finalized_deletion(b: Backend) -> None:
    """What a controller with a finalizer sees: the delete arrives as an update carrying
    deletionTimestamp; removing the finalizer then deletes the object."""
    cms = b.cs.core_v1.config_maps(b.namespace)
    cms.create(configmap("held", finalizers=["conformance.kubecodegen.test/hold"]))
    with _factory(b.cs, namespace=b.namespace) as factory:
        informer = factory.core_v1.config_maps()
        heard = Recorder()
        informer.informer().add_event_handler(on_add=heard.on_add, on_update=heard.on_update,
                                              on_delete=heard.on_delete)
        factory.start()
        assert factory.wait_for_cache_sync(timeout=10)
        assert heard.wait_for(("add", "held")) == [("add", "held")]
        cms.delete("held")
        assert heard.wait_for(("update", "held")) == [("update", "held")]
        lister = informer.lister().config_maps(b.namespace)
        assert lister.get("held").metadata.deletion_timestamp is not None
        cms.patch("held", {"metadata": {"finalizers": None}})
        assert heard.wait_for(("delete", "held")) == [("delete", "held")]
        with raises(errors.NotFound, "NotFound"):
            lister.get("held")
