"""The controller loop (threads and asyncio) on the fake clientset of generated/kube_v1_35:
a ConfigMap primary owning Secrets, read through the generated typed listers.

What is checked: workers start only once every handler has been given its informer's
listing; owned objects reach their owner's key; no key is ever reconciled twice at
once; errors are retried with backoff, logged and counted; requeue_after; terminal
errors; stop drains in-flight reconciles and takes no new key; the sync timeout."""

from __future__ import annotations

import asyncio
import itertools
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kubecodegen_runtime.controller import (
    AsyncController,
    CacheSyncTimeoutError,
    Controller,
    EnqueueHandler,
    ObjectKey,
    Outcome,
    Predicate,
    Result,
    TerminalError,
)
from kubecodegen_runtime.errors import NotFound
from kubecodegen_runtime.workqueue import ItemExponentialFailureRateLimiter

GENERATED = Path(__file__).resolve().parents[2] / "generated"
sys.path.insert(0, str(GENERATED))

from kube_v1_35 import AsyncSharedInformerFactory, SharedInformerFactory  # noqa: E402
from kube_v1_35.clientset.core_v1 import SECRETS  # noqa: E402
from kube_v1_35.fake import AsyncClientset, Clientset  # noqa: E402
from kube_v1_35.models.core_v1 import ConfigMap, Secret  # noqa: E402
from kube_v1_35.models.meta_v1 import ObjectMeta, OwnerReference  # noqa: E402

NS = "default"
LOG = "kubecodegen_runtime.controller"


def config_map(name: str, data: dict[str, str] | None = None) -> ConfigMap:
    return ConfigMap(metadata=ObjectMeta(name=name, namespace=NS), data=data or {"k": "v"})


def secret(name: str, owner: str | None, controller: bool = True) -> Secret:
    refs = None
    if owner is not None:
        refs = [OwnerReference(api_version="v1", kind="ConfigMap", name=owner, uid=f"uid-{owner}",
                               controller=controller)]
    return Secret(metadata=ObjectMeta(name=name, namespace=NS, owner_references=refs))


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


class Recorder:
    """A reconcile function's log, with per-key and overall concurrency tracking."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[ObjectKey] = []
        self.in_flight: dict[ObjectKey, int] = {}
        self.max_per_key = 0
        self.max_total = 0

    def enter(self, key: ObjectKey) -> None:
        with self.lock:
            self.calls.append(key)
            self.in_flight[key] = self.in_flight.get(key, 0) + 1
            self.max_per_key = max(self.max_per_key, self.in_flight[key])
            self.max_total = max(self.max_total, sum(self.in_flight.values()))

    def leave(self, key: ObjectKey) -> None:
        with self.lock:
            self.in_flight[key] -= 1

    def count(self, key: ObjectKey) -> int:
        with self.lock:
            return self.calls.count(key)


class Running:
    """A thread controller over a fake clientset's informers, run on its own thread."""

    def __init__(self, cs: Clientset, reconcile: Any, **options: Any) -> None:
        self.factory = SharedInformerFactory(cs)
        self.config_maps = self.factory.core_v1.config_maps()
        self.secrets = self.factory.core_v1.secrets()
        self.controller = (Controller("cm-secrets", reconcile, **options)
                           .watch_primary(self.config_maps.informer())
                           .watch_owned(self.secrets.informer()))
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.controller.run()
        except BaseException as exc:
            self.error = exc

    def start(self) -> Running:
        self.factory.start()
        self.thread.start()
        return self

    def close(self) -> None:
        self.controller.stop()
        self.thread.join(20)
        assert not self.thread.is_alive()
        assert self.factory.shutdown()


@pytest.fixture
def running() -> Iterator[Callable[..., Running]]:
    made: list[Running] = []

    def make(cs: Clientset, reconcile: Any, **options: Any) -> Running:
        made.append(Running(cs, reconcile, **options).start())
        return made[-1]

    yield make
    for each in made:
        if each.thread.is_alive():
            each.close()


def fast_retries() -> ItemExponentialFailureRateLimiter[ObjectKey]:
    return ItemExponentialFailureRateLimiter(0.01, 0.05)


def test_existing_objects_are_reconciled_after_sync_through_typed_listers(running: Any) -> None:
    cs = Clientset(config_map("a", {"x": "1"}), config_map("b"), secret("a-secret", "a"))
    seen: dict[ObjectKey, dict[str, str] | None] = {}
    unsynced_at_first_call: list[list[str]] = []
    box: list[Running] = []

    def reconcile(key: ObjectKey) -> None:
        if not unsynced_at_first_call:
            unsynced_at_first_call.append(box[0].controller.unsynced())
        cm: ConfigMap = box[0].config_maps.lister().config_maps(key.namespace).get(key.name)
        seen[key] = cm.data  # a typed read: ConfigMap.data

    run = Running(cs, reconcile, workers=2)
    box.append(run)
    run.start()
    wait_until(lambda: len(seen) == 2)
    assert seen == {ObjectKey(NS, "a"): {"x": "1"}, ObjectKey(NS, "b"): {"k": "v"}}
    assert unsynced_at_first_call == [[]]  # workers started only once every watch had synced
    assert run.controller.stats.totals[Outcome.SUCCESS] >= 2
    run.close()
    assert run.error is None


def test_owned_objects_bring_their_controller_owner_back(running: Any) -> None:
    cs = Clientset(config_map("owner"))
    rec = Recorder()

    def reconcile(key: ObjectKey) -> None:
        rec.enter(key)
        rec.leave(key)

    run = running(cs, reconcile)
    owner = ObjectKey(NS, "owner")
    wait_until(lambda: rec.count(owner) == 1)
    secrets = cs.core_v1.secrets(NS)
    secrets.create(secret("owned", "owner"))
    wait_until(lambda: rec.count(owner) == 2)
    secrets.delete("owned")  # deleting an owned object re-triggers the owner
    wait_until(lambda: rec.count(owner) == 3)
    secrets.create(secret("not-controlled", "owner", controller=False))
    secrets.create(secret("orphan", None))
    cs.core_v1.config_maps(NS).create(config_map("marker"))
    wait_until(lambda: rec.count(ObjectKey(NS, "marker")) == 1)
    assert rec.count(owner) == 3  # non-controller references and orphans map to nothing
    assert ObjectKey(NS, "not-controlled") not in rec.calls
    run.close()


def test_a_key_is_never_reconciled_twice_at_once(running: Any) -> None:
    names = [f"cm-{i}" for i in range(4)]
    cs = Clientset(*(config_map(n) for n in names))
    rec = Recorder()
    last_round: dict[str, str] = {}
    box: list[Running] = []

    def reconcile(key: ObjectKey) -> None:
        rec.enter(key)
        time.sleep(0.02)
        cm = box[0].config_maps.lister().config_maps(key.namespace).get(key.name)
        last_round[key.name] = (cm.data or {}).get("round", "")
        rec.leave(key)

    run = Running(cs, reconcile, workers=4)
    box.append(run)
    run.start()
    wait_until(lambda: len(set(rec.calls)) == 4)
    api = cs.core_v1.config_maps(NS)
    for round_ in range(15):
        for name in names:
            api.patch(name, {"data": {"round": str(round_)}})
    # level-based: however the events collapsed, every key was last seen at its last state
    wait_until(lambda: last_round == dict.fromkeys(names, "14"))
    assert rec.max_per_key == 1, "a key was reconciled by two workers at once"
    assert rec.max_total > 1, "workers never overlapped: the test would prove nothing"
    run.close()


def test_errors_are_retried_with_backoff_logged_and_counted(
        running: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger=LOG)
    cs = Clientset(config_map("flaky"))
    attempts: list[float] = []

    def reconcile(key: ObjectKey) -> None:
        attempts.append(time.monotonic())
        if len(attempts) <= 3:
            raise RuntimeError(f"attempt {len(attempts)} failed")

    run = running(cs, reconcile, rate_limiter=fast_retries())
    wait_until(lambda: len(attempts) == 4)
    stats = run.controller.stats
    wait_until(lambda: stats.totals[Outcome.SUCCESS] == 1)
    assert stats.totals[Outcome.ERROR] == 3 and stats.errors == 3
    assert run.controller.queue.num_requeues(ObjectKey(NS, "flaky")) == 0  # forgotten on success
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert all(gap >= 0.009 for gap in gaps), gaps  # 10 ms, 20 ms, 40 ms backoff
    failures = [r for r in caplog.records if r.name == LOG]
    assert len(failures) == 3 and "default/flaky" in failures[0].getMessage()
    assert "retry 1" in failures[0].getMessage() and failures[0].exc_info is not None
    time.sleep(0.2)
    assert len(attempts) == 4  # no retry after the success
    run.close()


def test_requeue_after_and_requeue_and_terminal_errors(running: Any) -> None:
    cs = Clientset(config_map("later"), config_map("again"), config_map("broken"))
    rec = Recorder()

    def reconcile(key: ObjectKey) -> Result | None:
        rec.enter(key)
        rec.leave(key)
        n = rec.count(key)
        if key.name == "later" and n == 1:
            return Result(requeue_after=0.2)
        if key.name == "again" and n <= 2:
            return Result(requeue=True)
        if key.name == "broken":
            raise TerminalError("spec is invalid")
        return None

    started = time.monotonic()
    run = running(cs, reconcile, rate_limiter=fast_retries())
    wait_until(lambda: rec.count(ObjectKey(NS, "later")) == 2)
    assert time.monotonic() - started >= 0.2
    wait_until(lambda: rec.count(ObjectKey(NS, "again")) == 3)
    time.sleep(0.2)
    assert rec.count(ObjectKey(NS, "broken")) == 1  # terminal: not retried
    assert rec.count(ObjectKey(NS, "later")) == 2 and rec.count(ObjectKey(NS, "again")) == 3
    totals = run.controller.stats.totals
    assert totals[Outcome.REQUEUE_AFTER] == 1 and totals[Outcome.REQUEUE] == 2
    assert totals[Outcome.TERMINAL_ERROR] == 1
    cs.core_v1.config_maps(NS).patch("broken", {"data": {"fixed": "yes"}})
    wait_until(lambda: rec.count(ObjectKey(NS, "broken")) == 2)  # an event brings it back
    run.close()


def test_stop_lets_the_reconcile_in_flight_finish_and_takes_no_new_key(running: Any) -> None:
    cs = Clientset(config_map("slow"))
    entered, release = threading.Event(), threading.Event()
    finished: list[ObjectKey] = []
    calls: list[ObjectKey] = []

    def reconcile(key: ObjectKey) -> None:
        calls.append(key)
        if key.name == "slow":
            entered.set()
            assert release.wait(20)
        finished.append(key)

    run = running(cs, reconcile, workers=1)
    assert entered.wait(20)
    api = cs.core_v1.config_maps(NS)
    for i in range(3):
        api.create(config_map(f"queued-{i}"))
    wait_until(lambda: len(run.controller.queue) == 3)
    run.controller.stop()
    time.sleep(0.1)
    assert run.thread.is_alive(), "run() returned while a reconcile was in flight"
    release.set()
    run.thread.join(20)
    assert not run.thread.is_alive() and run.error is None
    assert finished == [ObjectKey(NS, "slow")] and calls == finished  # the queued keys were not taken
    assert run.controller.queue.shutting_down()
    assert run.factory.shutdown()


def test_a_failing_mapper_is_logged_counted_and_the_loop_goes_on(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger=LOG)
    cs = Clientset(config_map("a"), config_map("bad"))
    factory = SharedInformerFactory(cs)
    config_maps = factory.core_v1.config_maps()
    done: list[ObjectKey] = []

    def mapper(cm: ConfigMap) -> list[ObjectKey]:
        if cm.metadata is not None and cm.metadata.name == "bad":
            raise ValueError("cannot map")
        return [ObjectKey("elsewhere", f"for-{cm.metadata.name if cm.metadata else ''}")]

    controller = Controller("mapped", done.append).watch(
        config_maps.informer(), mapper)
    thread = threading.Thread(target=controller.run, daemon=True)
    factory.start()
    thread.start()
    wait_until(lambda: ObjectKey("elsewhere", "for-a") in done)
    assert controller.stats.mapping_errors == 1
    assert any("mapping a ConfigMap to keys failed" in r.getMessage() for r in caplog.records)
    controller.stop()
    thread.join(20)
    assert factory.shutdown()


def test_cache_sync_timeout_names_the_informer_that_did_not_sync() -> None:
    cs = Clientset(config_map("a"))
    factory = SharedInformerFactory(cs)
    calls: list[ObjectKey] = []
    controller = Controller("never-synced", calls.append, cache_sync_timeout=0.3).watch_primary(
        factory.core_v1.config_maps().informer())
    with pytest.raises(CacheSyncTimeoutError, match=r"configmaps \(primary, informer not started\)"):
        controller.run()  # the factory was never started
    assert calls == [] and controller.queue.shutting_down()
    with pytest.raises(RuntimeError, match="already ran"):
        controller.run()


def test_stop_event_and_declaration_errors() -> None:
    cs = Clientset(config_map("a"))
    factory = SharedInformerFactory(cs)
    informer = factory.core_v1.config_maps().informer()
    with pytest.raises(ValueError, match="at least one worker"):
        Controller("c", lambda key: None, workers=0)
    with pytest.raises(ValueError, match="primary watch first"):
        Controller("c", lambda key: None).watch_owned(informer)
    with pytest.raises(ValueError, match="watches nothing"):
        Controller("c", lambda key: None).run()
    with pytest.raises(ValueError, match="already has a primary"):
        Controller("c", lambda key: None).watch_primary(informer).watch_primary(informer)
    done: list[ObjectKey] = []
    controller = Controller("c", done.append).watch_primary(informer)
    stop = threading.Event()
    thread = threading.Thread(target=controller.run, args=(stop,), daemon=True)
    factory.start()
    thread.start()
    wait_until(lambda: done == [ObjectKey(NS, "a")])
    stop.set()
    thread.join(20)
    assert not thread.is_alive()
    # handlers were removed: later changes reach no queue
    assert all(watch.registration is None for watch in controller.watches)
    assert not any(isinstance(reg.handler, EnqueueHandler)
                   for reg in informer._processor.registrations)
    assert factory.shutdown()


def test_reconcile_returning_garbage_counts_as_an_error(running: Any) -> None:
    cs = Clientset(config_map("a"))
    calls: list[ObjectKey] = []

    def reconcile(key: ObjectKey) -> Any:
        calls.append(key)
        return "ok" if len(calls) == 1 else None

    run = running(cs, reconcile, rate_limiter=fast_retries())
    wait_until(lambda: len(calls) == 2)
    assert run.controller.stats.totals[Outcome.ERROR] == 1
    run.close()


# -- asyncio -------------------------------------------------------------------------------


async def _wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


async def test_async_controller_owned_errors_requeue_and_cancel_drains() -> None:
    cs = AsyncClientset(config_map("owner"), config_map("flaky"))
    factory = AsyncSharedInformerFactory(cs)
    config_maps, secrets = factory.core_v1.config_maps(), factory.core_v1.secrets()
    calls: list[ObjectKey] = []
    in_flight: dict[ObjectKey, int] = {}
    overlap: list[ObjectKey] = []
    release = asyncio.Event()

    async def reconcile(key: ObjectKey) -> Result | None:
        calls.append(key)
        in_flight[key] = in_flight.get(key, 0) + 1
        if in_flight[key] > 1:
            overlap.append(key)
        try:
            config_maps.lister().config_maps(key.namespace).get(key.name)
        except NotFound:
            return None
        try:
            if key.name == "flaky" and calls.count(key) <= 2:
                raise RuntimeError("not yet")
            if key.name == "slow":
                await release.wait()
            await asyncio.sleep(0.005)
            return Result(requeue_after=0.1) if key.name == "owner" and calls.count(key) == 1 else None
        finally:
            in_flight[key] -= 1

    controller = (AsyncController("async-cm", reconcile, workers=3, rate_limiter=fast_retries())
                  .watch_primary(config_maps.informer())
                  .watch_owned(secrets.informer()))
    factory.start()
    task = asyncio.get_running_loop().create_task(controller.run())
    owner, flaky = ObjectKey(NS, "owner"), ObjectKey(NS, "flaky")
    await _wait_until(lambda: calls.count(owner) == 2)  # the initial one, then requeue_after
    await _wait_until(lambda: calls.count(flaky) == 3)  # two errors, then success
    assert controller.stats.totals[Outcome.ERROR] == 2
    await cs.core_v1.secrets(NS).create(secret("s", "owner"))
    await _wait_until(lambda: calls.count(owner) == 3)
    for i in range(10):
        await cs.core_v1.config_maps(NS).patch("owner", {"data": {"i": str(i)}})
    await cs.core_v1.config_maps(NS).create(config_map("slow"))
    await _wait_until(lambda: ObjectKey(NS, "slow") in calls)
    task.cancel()  # cancelling run() stops the controller, draining the reconcile in flight
    await asyncio.sleep(0.05)
    assert not task.done()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert in_flight[ObjectKey(NS, "slow")] == 0 and not overlap
    assert controller.queue.shutting_down()
    await factory.shutdown()


async def test_async_stop_and_sync_timeout() -> None:
    cs = AsyncClientset(config_map("a"))
    factory = AsyncSharedInformerFactory(cs)
    informer = factory.core_v1.config_maps().informer()

    async def nothing(key: ObjectKey) -> None:
        return None

    with pytest.raises(CacheSyncTimeoutError, match="informer not started"):
        await AsyncController("t", nothing, cache_sync_timeout=0.2).watch_primary(informer).run()
    done: list[ObjectKey] = []

    async def record(key: ObjectKey) -> None:
        done.append(key)

    controller = AsyncController("s", record).watch_primary(informer)
    factory.start()
    stop = asyncio.Event()
    task = asyncio.get_running_loop().create_task(controller.run(stop))
    await _wait_until(lambda: done == [ObjectKey(NS, "a")])
    stop.set()
    await asyncio.wait_for(task, 20)
    await factory.shutdown()


def test_drain_timeout_bounds_the_wait_for_a_stuck_reconcile(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger=LOG)
    cs = Clientset(config_map("stuck"))
    factory = SharedInformerFactory(cs)
    entered, release = threading.Event(), threading.Event()

    def reconcile(key: ObjectKey) -> None:
        entered.set()
        release.wait(20)

    controller = Controller("stuck", reconcile, drain_timeout=0.2).watch_primary(
        factory.core_v1.config_maps().informer())
    thread = threading.Thread(target=controller.run, daemon=True)
    factory.start()
    thread.start()
    assert entered.wait(20)
    controller.stop()
    thread.join(20)
    assert not thread.is_alive()  # returned although the reconcile is still running
    assert controller.stats.active_workers == 1
    assert any("still running" in r.getMessage() for r in caplog.records)
    release.set()
    wait_until(lambda: controller.stats.active_workers == 0)
    assert factory.shutdown()


async def test_async_drain_timeout_cancels_a_stuck_reconcile() -> None:
    cs = AsyncClientset(config_map("stuck"))
    factory = AsyncSharedInformerFactory(cs)
    entered = asyncio.Event()

    async def reconcile(key: ObjectKey) -> None:
        entered.set()
        await asyncio.sleep(60)

    controller = AsyncController("stuck", reconcile, drain_timeout=0.2).watch_primary(
        factory.core_v1.config_maps().informer())
    factory.start()
    task = asyncio.get_running_loop().create_task(controller.run())
    await asyncio.wait_for(entered.wait(), 20)
    controller.stop()
    await asyncio.wait_for(task, 20)
    assert controller.stats.active_workers == 0 and controller.stats.reconciles == 0
    await factory.shutdown()


def test_owned_watch_over_a_dynamic_dict_informer_and_stop_before_run() -> None:
    cs = Clientset(config_map("owner"), secret("s1", "owner"))
    factory = SharedInformerFactory(cs)
    config_maps = factory.core_v1.config_maps()
    dynamic_secrets = factory.for_resource(SECRETS)  # dict objects, wire field names
    calls: list[ObjectKey] = []
    controller = (Controller("dyn", calls.append)
                  .watch_primary(config_maps.informer())
                  .watch_owned(dynamic_secrets))
    thread = threading.Thread(target=controller.run, daemon=True)
    factory.start()
    thread.start()
    # the ConfigMap's and the Secret's initial adds are both queued before the workers
    # start: one key, one reconcile
    wait_until(lambda: calls == [ObjectKey(NS, "owner")])
    time.sleep(0.1)
    assert calls == [ObjectKey(NS, "owner")]
    cs.core_v1.secrets(NS).delete("s1")
    wait_until(lambda: len(calls) >= 2)
    assert set(calls) == {ObjectKey(NS, "owner")}
    controller.stop()
    thread.join(20)
    assert not thread.is_alive()

    stopped_first = Controller("early", calls.append).watch_primary(
        config_maps.informer())
    stopped_first.stop()
    stopped_first.run()  # returns at once: no reconcile, queue shut down
    assert stopped_first.stats.reconciles == 0 and stopped_first.queue.shutting_down()
    assert factory.shutdown()


def test_watch_predicate_filters_notifications() -> None:
    cs = Clientset(config_map("keep"), config_map("skip"))
    factory = SharedInformerFactory(cs)
    calls: list[ObjectKey] = []
    not_skipped = Predicate(on_add=lambda cm: cm.metadata.name != "skip")
    controller = Controller("filtered", calls.append).watch_primary(
        factory.core_v1.config_maps().informer(), predicate=not_skipped)
    thread = threading.Thread(target=controller.run, daemon=True)
    factory.start()
    thread.start()
    wait_until(lambda: calls == [ObjectKey(NS, "keep")])
    cs.core_v1.config_maps(NS).patch("skip", {"data": {"now": "updated"}})  # updates pass
    wait_until(lambda: ObjectKey(NS, "skip") in calls)
    controller.stop()
    thread.join(20)
    assert calls == [ObjectKey(NS, "keep"), ObjectKey(NS, "skip")]
    assert factory.shutdown()


class BrokenLimiter:
    """A rate limiter with a bug: the controller must log it and keep its worker."""

    def when(self, item: ObjectKey) -> float:
        raise ZeroDivisionError("limiter bug")

    def forget(self, item: ObjectKey) -> None:
        return None

    def num_requeues(self, item: ObjectKey) -> int:
        return 0


def test_a_failing_queue_action_is_logged_and_the_worker_survives(
        running: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger=LOG)
    cs = Clientset(config_map("fails"))
    calls: list[ObjectKey] = []

    def reconcile(key: ObjectKey) -> None:
        calls.append(key)
        if key.name == "fails":
            raise RuntimeError("needs a retry")

    run = running(cs, reconcile, workers=1, rate_limiter=BrokenLimiter())
    wait_until(lambda: calls == [ObjectKey(NS, "fails")])
    cs.core_v1.config_maps(NS).create(config_map("next"))
    wait_until(lambda: ObjectKey(NS, "next") in calls)  # the single worker is still alive
    assert any("queue action error" in r.getMessage() for r in caplog.records)
    run.close()
