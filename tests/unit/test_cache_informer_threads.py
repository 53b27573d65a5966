"""Threads of the sync informer on the fake clientset: which exist, and that stop() ends them.

The resync thread is started only once a registration resyncs (it would only sleep
otherwise); these tests pin that it still starts, late or not, and still resyncs.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from typing import Any

from kubecodegen_runtime.cache.informer import SharedInformer
from tests.generated_packages import import_reference

kube = import_reference("kube_v1_20")
fake = import_reference("kube_v1_20.fake")


def _threads(informer: SharedInformer[Any]) -> list[str]:
    return sorted(t.name.rsplit("-", 1)[-1] if "handler" not in t.name else "handler"
                  for t in informer._threads if t.is_alive())


def _informer(resync_period: float = 0.0) -> tuple[Any, Any, SharedInformer[Any]]:
    cs = fake.Clientset()
    cs.core_v1.config_maps("default").create({"metadata": {"name": "a"}})
    factory = kube.SharedInformerFactory(cs, namespace="default", resync_period=resync_period)
    return cs, factory, factory.core_v1.config_maps().informer()


def test_no_resync_thread_without_a_resyncing_handler() -> None:
    _, factory, informer = _informer()
    heard: queue.Queue[str] = queue.Queue()
    informer.add_event_handler(on_add=lambda o: heard.put(o.metadata.name))
    factory.start()
    assert heard.get(timeout=5) == "a"
    assert _threads(informer) == ["handler", "reflector"]
    assert factory.shutdown(timeout=5)
    assert not any(t.is_alive() for t in informer._threads)


def test_resync_thread_starts_with_the_first_resyncing_handler_and_resyncs() -> None:
    _, factory, informer = _informer()
    informer.add_event_handler(on_add=lambda o: None)
    factory.start()
    assert factory.wait_for_cache_sync(timeout=5)
    assert _threads(informer) == ["handler", "reflector"]
    resynced = threading.Event()

    def on_update(old: Any, new: Any) -> None:
        if old is new:
            resynced.set()

    informer.add_event_handler(on_update=on_update, resync_period=1.0)
    assert _threads(informer) == ["handler", "handler", "reflector", "resync"]
    assert resynced.wait(5)
    assert factory.shutdown(timeout=5)
    assert not any(t.is_alive() for t in informer._threads)


def test_resync_thread_at_start_when_the_informer_resyncs() -> None:
    _, factory, informer = _informer(resync_period=1.0)
    resynced = threading.Event()
    informer.add_event_handler(on_update=lambda old, new: resynced.set() if old is new else None)
    factory.start()
    assert _threads(informer) == ["handler", "reflector", "resync"]
    assert resynced.wait(5)
    assert factory.shutdown(timeout=5)


def test_stop_racing_start_leaves_no_thread() -> None:
    """start() starts its threads after releasing the informer lock; a stop() from another
    thread at that moment still finds (and joins) every one of them."""
    for _ in range(20):
        _, _factory, informer = _informer()
        informer.add_event_handler(on_add=lambda o: None)
        stopper = threading.Thread(target=informer.stop, kwargs={"timeout": 5})
        stopper.start()
        with contextlib.suppress(RuntimeError):  # the stop came first: start() refuses
            informer.start()
        stopper.join(5)
        assert informer.stop(timeout=5)
        assert not any(t.is_alive() for t in informer._threads)
