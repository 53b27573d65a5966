"""The controller loop against kube-apiserver: a ConfigMap primary that owns a Secret.

The reconcile reads the ConfigMap through the generated typed lister and makes sure a
Secret ``<name>-copy`` exists, controlled by it (ownerReference with ``controller:
true``), holding its data. Checked on the real server: existing objects converge after
the caches sync; deleting the owned Secret re-triggers the owner's reconcile, which
recreates it; ``requeue_after`` brings a key back with no event; errors are retried with
backoff and counted; stop lets the reconcile in flight finish. A shorter asyncio run
checks the same owner mapping with ``AsyncController``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

from tests.generated_packages import import_reference

import_reference("kube_v1_20")
from kube_v1_20 import (  # noqa: E402
    AsyncClientset,
    AsyncSharedInformerFactory,
    Clientset,
    SharedInformerFactory,
)
from kube_v1_20.models import core_v1, meta_v1  # noqa: E402

from kubecodegen_runtime import errors  # noqa: E402
from kubecodegen_runtime.controller import (  # noqa: E402
    AsyncController,
    Controller,
    ObjectKey,
    Outcome,
    Result,
)
from kubecodegen_runtime.workqueue import ItemExponentialFailureRateLimiter  # noqa: E402


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def owned_copy(cm: core_v1.ConfigMap) -> core_v1.Secret:
    meta = cm.metadata
    assert meta is not None and meta.name and meta.uid
    return core_v1.Secret(
        metadata=meta_v1.ObjectMeta(
            name=f"{meta.name}-copy", namespace=meta.namespace,
            owner_references=[meta_v1.OwnerReference(
                api_version="v1", kind="ConfigMap", name=meta.name, uid=meta.uid,
                controller=True, block_owner_deletion=True)]),
        data={k: v.encode() for k, v in (cm.data or {}).items()})


def test_configmap_owning_a_secret_converges_retries_requeues_and_drains(
        cluster: Any, namespace: str) -> None:
    with Clientset.from_kubeconfig(str(cluster.admin_kubeconfig)) as cs:
        cms, secrets = cs.core_v1.config_maps(namespace), cs.core_v1.secrets(namespace)
        cms.create(core_v1.ConfigMap(metadata=meta_v1.ObjectMeta(name="app"), data={"k": "v1"}))
        cms.create(core_v1.ConfigMap(metadata=meta_v1.ObjectMeta(name="flaky"), data={"k": "f"}))
        cms.create(core_v1.ConfigMap(metadata=meta_v1.ObjectMeta(name="timer")))
        factory = SharedInformerFactory(cs, namespace=namespace, strip_managed_fields=True)
        config_maps, secret_informer = factory.core_v1.config_maps(), factory.core_v1.secrets()
        lock = threading.Lock()
        calls: list[tuple[ObjectKey, float]] = []
        slow_entered, slow_release = threading.Event(), threading.Event()

        def count(name: str) -> int:
            with lock:
                return sum(1 for key, _ in calls if key.name == name)

        def reconcile(key: ObjectKey) -> Result | None:
            with lock:
                calls.append((key, time.monotonic()))
            try:
                cm = config_maps.lister().config_maps(key.namespace).get(key.name)
            except errors.NotFound:
                return None  # deleted: the garbage collector would remove its Secret
            name = cm.metadata.name if cm.metadata else ""
            if name == "flaky" and count("flaky") <= 2:
                raise RuntimeError("transient failure")
            if name == "timer":  # owns nothing: only requeue_after brings it back
                return Result(requeue_after=0.3) if count("timer") == 1 else None
            if name == "slow":
                slow_entered.set()
                assert slow_release.wait(30)
            try:
                current = secret_informer.lister().secrets(key.namespace).get(f"{name}-copy")
            except errors.NotFound:
                # AlreadyExists: the cache is behind our own create; the next event settles it
                with contextlib.suppress(errors.AlreadyExists):
                    secrets.create(owned_copy(cm))
            else:
                wanted = owned_copy(cm)
                if current.data != wanted.data:
                    secrets.update(wanted)
            return None

        controller = (Controller("cm-copy", reconcile, workers=2, cache_sync_timeout=30,
                                 rate_limiter=ItemExponentialFailureRateLimiter(0.05, 1.0))
                      .watch_primary(config_maps.informer())
                      .watch_owned(secret_informer.informer()))
        failure: list[BaseException] = []

        def run() -> None:
            try:
                controller.run()
            except BaseException as exc:
                failure.append(exc)

        thread = threading.Thread(target=run, daemon=True)
        factory.start()
        thread.start()
        try:
            wait_until(lambda: {s.metadata.name for s in secrets.list().items if s.metadata}
                       >= {"app-copy", "flaky-copy"})
            # requeue_after: "timer" came back by itself, 0.3 s after its first reconcile
            wait_until(lambda: count("timer") == 2)
            with lock:
                timer_times = [t for key, t in calls if key.name == "timer"]
                flaky_times = [t for key, t in calls if key.name == "flaky"]
            assert timer_times[1] - timer_times[0] >= 0.3
            # errors: two failures, retried with backoff (50 ms, then 100 ms), then success
            assert len(flaky_times) >= 3
            assert flaky_times[1] - flaky_times[0] >= 0.05
            assert flaky_times[2] - flaky_times[1] >= 0.1
            assert controller.stats.totals[Outcome.ERROR] == 2

            # deleting the owned Secret brings the owner back, and it recreates its copy
            before = count("app")
            old_uid = _uid(secrets, "app-copy")
            assert old_uid is not None
            secrets.delete("app-copy")
            wait_until(lambda: count("app") > before)
            wait_until(lambda: _uid(secrets, "app-copy") not in (None, old_uid))
            # a change of the primary is followed
            cms.patch("app", {"data": {"k": "v2"}})
            wait_until(lambda: (secrets.get("app-copy").data or {}).get("k") == b"v2")

            # stop while a reconcile is in flight: run() returns only after it finished
            cms.create(core_v1.ConfigMap(metadata=meta_v1.ObjectMeta(name="slow"), data={"k": "s"}))
            assert slow_entered.wait(30)
            controller.stop()
            time.sleep(0.2)
            assert thread.is_alive()
            slow_release.set()
            thread.join(30)
            assert not thread.is_alive() and not failure
            assert secrets.get("slow-copy").data == {"k": b"s"}  # the in-flight reconcile finished
            assert count("timer") == 2 and controller.stats.totals[Outcome.REQUEUE_AFTER] == 1
        finally:
            slow_release.set()
            controller.stop()
            thread.join(30)
            assert factory.shutdown()


def test_owned_watch_over_a_metadata_informer(cluster: Any, namespace: str) -> None:
    """Owned Secrets watched metadata-only (``factory.for_metadata``): the owner mapping
    reads ``PartialObjectMetadata.metadata.owner_references``, no Secret data is cached."""
    from kube_v1_20.clientset.core_v1 import SECRETS

    with Clientset.from_kubeconfig(str(cluster.admin_kubeconfig)) as cs:
        owner = cs.core_v1.config_maps(namespace).create(
            core_v1.ConfigMap(metadata=meta_v1.ObjectMeta(name="owner")))
        cs.core_v1.secrets(namespace).create(owned_copy(owner))
        factory = SharedInformerFactory(cs, namespace=namespace)
        config_maps = factory.core_v1.config_maps()
        secret_metadata = factory.for_metadata(SECRETS)
        lock = threading.Lock()
        calls: list[ObjectKey] = []

        def reconcile(key: ObjectKey) -> None:
            with lock:
                calls.append(key)

        controller = (Controller("md-owner", reconcile, cache_sync_timeout=30)
                      .watch_primary(config_maps.informer())
                      .watch_owned(secret_metadata))
        thread = threading.Thread(target=controller.run, daemon=True)
        factory.start()
        thread.start()
        key = ObjectKey(namespace, "owner")
        try:
            wait_until(lambda: calls.count(key) == 1)  # both initial adds: one key
            cached = secret_metadata.lister().namespace(namespace).get("owner-copy")
            assert not hasattr(cached, "data")
            cs.core_v1.secrets(namespace).delete("owner-copy")
            wait_until(lambda: calls.count(key) == 2)
        finally:
            controller.stop()
            thread.join(30)
            assert factory.shutdown()


def _uid(secrets: Any, name: str) -> str | None:
    try:
        meta = secrets.get(name).metadata
    except errors.NotFound:
        return None
    return meta.uid if meta else None


async def test_async_controller_owner_mapping_on_the_server(cluster: Any, namespace: str) -> None:
    async with AsyncClientset.from_kubeconfig(str(cluster.admin_kubeconfig)) as acs:
        cms, secrets = acs.core_v1.config_maps(namespace), acs.core_v1.secrets(namespace)
        owner = await cms.create(core_v1.ConfigMap(metadata=meta_v1.ObjectMeta(name="owner")))
        factory = AsyncSharedInformerFactory(acs, namespace=namespace)
        config_maps, secret_informer = factory.core_v1.config_maps(), factory.core_v1.secrets()
        calls: list[ObjectKey] = []

        async def reconcile(key: ObjectKey) -> None:
            calls.append(key)

        controller = (AsyncController("async-owner", reconcile, workers=2)
                      .watch_primary(config_maps.informer())
                      .watch_owned(secret_informer.informer()))
        factory.start()
        task = asyncio.get_running_loop().create_task(controller.run())
        key = ObjectKey(namespace, "owner")
        try:
            await _async_wait(lambda: calls.count(key) == 1)
            await secrets.create(owned_copy(owner))
            await _async_wait(lambda: calls.count(key) == 2)
            await secrets.delete("owner-copy")
            await _async_wait(lambda: calls.count(key) == 3)
        finally:
            controller.stop()
            await asyncio.wait_for(task, 30)
            await factory.shutdown()


async def _async_wait(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)
