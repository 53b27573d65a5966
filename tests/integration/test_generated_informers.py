"""Generated informers and listers (generated/kube_v1_20) against the real server."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from tests.generated_packages import import_reference

import_reference("kube_v1_20")
from kube_v1_20 import AsyncClientset, AsyncSharedInformerFactory, Clientset, SharedInformerFactory  # noqa: E402
from kube_v1_20.models import core_v1, meta_v1  # noqa: E402

from kubecodegen_runtime import errors  # noqa: E402


def _wait_until(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def _pod(name: str, node: str, app: str = "web") -> core_v1.Pod:
    return core_v1.Pod(
        metadata=meta_v1.ObjectMeta(name=name, labels={"app": app}),
        spec=core_v1.PodSpec(node_name=node, automount_service_account_token=False,
                             containers=[core_v1.Container(name="c", image="nginx")]))


def test_pod_informer_lister_indexer_and_handlers(cluster: Any, namespace: str) -> None:
    threads_before = set(threading.enumerate())
    with Clientset.from_kubeconfig(str(cluster.admin_kubeconfig)) as cs:
        pods_api = cs.core_v1.pods(namespace)
        for i in range(20):
            pods_api.create(_pod(f"web-{i}", node=f"node-{i % 3}", app="web" if i < 15 else "db"))
        factory = SharedInformerFactory(cs, namespace=namespace, strip_managed_fields=True)
        pods = factory.core_v1.pods()
        events: list[tuple[str, str]] = []
        lock = threading.Lock()

        def record(kind: str) -> Any:
            def handler(*objs: Any) -> None:
                obj = objs[-1]
                name = obj.metadata.name if hasattr(obj, "metadata") else obj.key
                with lock:
                    events.append((kind, name))
            return handler

        pods.add_event_handler(on_add=record("add"), on_update=record("update"), on_delete=record("delete"))
        pods.informer().add_indexers({"by_node": lambda p: [p.spec.node_name] if p.spec and p.spec.node_name else []})
        factory.start()
        assert factory.wait_for_cache_sync(timeout=30)
        lister = pods.lister()
        assert len(lister.pods(namespace).list("app=web")) == 15
        assert len(lister.pods(namespace).list("app in (db)")) == 5
        assert lister.pods(namespace).get("web-3").spec.node_name == "node-0"
        assert all(p.metadata.managed_fields is None for p in lister.list())
        with pytest.raises(errors.NotFound):
            lister.pods(namespace).get("nope")
        assert {p.metadata.name for p in pods.informer().indexer.by_index("by_node", "node-1")} == \
            {f"web-{i}" for i in range(20) if i % 3 == 1}
        _wait_until(lambda: sum(1 for e in events if e[0] == "add") == 20)
        # A handler added late gets synthetic adds for everything cached.
        late: list[str] = []
        registration = pods.add_event_handler(on_add=lambda p: late.append(p.metadata.name))
        _wait_until(lambda: len(late) == 20 and registration.has_synced())
        pods_api.patch("web-0", {"metadata": {"labels": {"extra": "1"}}})
        pods_api.delete("web-1", grace_period_seconds=0)
        _wait_until(lambda: ("update", "web-0") in events and ("delete", "web-1") in events)
        assert lister.pods(namespace).get("web-0").metadata.labels["extra"] == "1"
        with pytest.raises(errors.NotFound):
            lister.pods(namespace).get("web-1")
        assert factory.shutdown()
    leftover = {t for t in threading.enumerate() if t not in threads_before and t.is_alive()}
    assert not leftover, leftover


async def test_async_factory_and_cluster_scoped_lister(cluster: Any, namespace: str) -> None:
    async with AsyncClientset.from_kubeconfig(str(cluster.admin_kubeconfig)) as acs:
        await acs.core_v1.config_maps(namespace).create(
            core_v1.ConfigMap(metadata=meta_v1.ObjectMeta(name="a", labels={"x": "1"})))
        factory = AsyncSharedInformerFactory(acs)
        namespaces = factory.core_v1.namespaces()
        config_maps = factory.core_v1.config_maps()
        factory.start()
        assert await factory.wait_for_cache_sync(timeout=30)
        assert namespaces.lister().get(namespace).metadata.name == namespace
        assert [cm.metadata.name for cm in config_maps.lister().config_maps(namespace).list({"x": "1"})] == ["a"]
        await factory.shutdown()
