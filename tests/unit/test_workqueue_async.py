"""The asyncio shells with real tasks: workers hammering, delays, shutdown, drain, cancellation.

Timeouts are generous upper bounds; nothing is timed.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest

from kubecodegen_runtime.workqueue import (
    AsyncDelayingQueue,
    AsyncQueue,
    AsyncRateLimitingQueue,
    CountingMetrics,
    ItemExponentialFailureRateLimiter,
    QueueShutDown,
)
from kubecodegen_runtime.workqueue.queue import MAX_WAIT

WAIT = 30.0  # seconds: an upper bound, never a measurement


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_workers_hammering_never_share_an_item_and_lose_nothing() -> None:
    q: AsyncQueue[int] = AsyncQueue(name="hammer")
    held: set[int] = set()
    version: Counter[int] = Counter()
    seen: dict[int, int] = {}
    violations: list[str] = []

    async def produce(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(1500):
            key = rng.randrange(20)
            version[key] += 1
            q.add(key)
            if rng.random() < 0.2:
                await asyncio.sleep(0)

    async def work(seed: int) -> None:
        rng = random.Random(seed)
        while True:
            try:
                key = await q.get()
            except QueueShutDown:
                return
            try:
                if key in held:
                    violations.append(f"{key} handed to two workers")
                held.add(key)
                seen[key] = version[key]
                for _ in range(rng.randrange(3)):
                    await asyncio.sleep(0)  # let producers and other workers run
                if rng.random() < 0.05 and not q.shutting_down():
                    version[key] += 1  # (adds after the shutdown are dropped, by design)
                    q.add(key)  # re-add while held: dirty, one more round
                held.discard(key)
            finally:
                q.done(key)

    workers = [asyncio.create_task(work(i)) for i in range(8)]
    await asyncio.wait_for(asyncio.gather(*(produce(100 + i) for i in range(4))), WAIT)
    assert await q.shutdown_with_drain(timeout=WAIT)
    await asyncio.wait_for(asyncio.gather(*workers), WAIT)
    assert violations == []
    assert seen == dict(version)
    assert len(q) == 0


async def test_shutdown_wakes_every_waiting_getter() -> None:
    q: AsyncQueue[str] = AsyncQueue()
    getters = [asyncio.create_task(q.get()) for _ in range(5)]
    await asyncio.sleep(0)
    q.shutdown()
    results = await asyncio.wait_for(asyncio.gather(*getters, return_exceptions=True), WAIT)
    assert all(isinstance(r, QueueShutDown) for r in results)


async def test_shutdown_hands_out_remaining_items_first() -> None:
    q: AsyncQueue[str] = AsyncQueue()
    q.add("a")
    q.add("b")
    q.shutdown()
    q.add("c")
    assert [await q.get(), await q.get()] == ["a", "b"]
    with pytest.raises(QueueShutDown):
        await q.get()


async def test_get_timeout() -> None:
    q: AsyncQueue[str] = AsyncQueue()
    with pytest.raises(TimeoutError):
        await q.get(timeout=0.05)
    q.add("a")
    assert await q.get(timeout=0) == "a"


async def test_cancelled_getter_passes_its_wakeup_on() -> None:
    q: AsyncQueue[str] = AsyncQueue()
    first = asyncio.create_task(q.get())
    second = asyncio.create_task(q.get())
    await asyncio.sleep(0)  # both wait
    q.add("a")  # wakes the first waiter...
    first.cancel()  # ...which is cancelled before it runs
    assert await asyncio.wait_for(second, WAIT) == "a"
    with pytest.raises(asyncio.CancelledError):
        await first
    assert q.__len__() == 0


async def test_cancelled_getter_leaves_no_waiter_behind() -> None:
    q: AsyncQueue[str] = AsyncQueue()
    getter = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    getter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await getter
    q.add("a")
    assert await q.get(timeout=WAIT) == "a"


async def test_shutdown_with_drain() -> None:
    q: AsyncQueue[str] = AsyncQueue()
    q.add("a")
    q.add("b")
    assert await q.get() == "a"
    drain = asyncio.create_task(q.shutdown_with_drain())
    await asyncio.sleep(0.05)
    assert not drain.done()  # "a" is held
    assert q.shutting_down()
    q.done("a")
    assert await asyncio.wait_for(drain, WAIT) is True
    assert await q.get() == "b"
    q.done("b")


async def test_shutdown_with_drain_timeout_and_release() -> None:
    q: AsyncQueue[str] = AsyncQueue()
    q.add("a")
    await q.get()
    assert await q.shutdown_with_drain(timeout=0.05) is False
    drain = asyncio.create_task(q.shutdown_with_drain())
    await asyncio.sleep(0)
    q.shutdown()  # releases the drain
    assert await asyncio.wait_for(drain, WAIT) is False
    q.done("a")
    assert await q.shutdown_with_drain() is True


async def test_add_after_with_a_fake_clock() -> None:
    clock = Clock()
    metrics = CountingMetrics()
    q: AsyncDelayingQueue[str] = AsyncDelayingQueue(name="d", metrics=metrics, clock=clock)
    q.add_after("late", 0.3)
    q.add_after("early", 0.1)
    q.add_after("late", 5.0)  # later deadline: ignored
    q.add_after("now", -1)
    assert await q.get(timeout=WAIT) == "now"
    q.done("now")
    with pytest.raises(TimeoutError):  # the fake clock stands still: nothing is due
        await q.get(timeout=0.2)
    clock.now += 0.15
    assert await q.get(timeout=WAIT) == "early"
    q.done("early")
    assert q.waiting() == 1
    clock.now += 1.0
    assert await q.get(timeout=WAIT) == "late"
    q.done("late")
    assert metrics.stats("d").retries == 4
    q.shutdown()


async def test_add_after_fires_in_deadline_order_with_the_real_clock() -> None:
    q: AsyncDelayingQueue[int] = AsyncDelayingQueue()
    delays = [0.3, 0.05, 0.2, 0.1, 0.25, 0.15]
    for i, delay in enumerate(delays):
        q.add_after(i, delay)
    got = []
    for _ in delays:
        item = await q.get(timeout=WAIT)
        got.append(item)
        q.done(item)
    assert got == sorted(range(len(delays)), key=lambda i: delays[i])


async def test_earlier_deadline_rearms_the_timer() -> None:
    q: AsyncDelayingQueue[str] = AsyncDelayingQueue()
    q.add_after("a", 3600)
    q.add_after("b", 3600)
    q.add_after("a", 0.01)  # the timer armed for an hour must move
    # (bounded below MAX_WAIT, the timer's own re-check: only a re-armed timer gets it there)
    assert await q.get(timeout=MAX_WAIT / 2) == "a"
    q.done("a")
    assert q.waiting() == 1
    q.shutdown()  # drops "b" and disarms the timer
    assert q.waiting() == 0
    with pytest.raises(QueueShutDown):
        await q.get()


async def test_rate_limited_retry_loop() -> None:
    q: AsyncRateLimitingQueue[str] = AsyncRateLimitingQueue(
        ItemExponentialFailureRateLimiter(0.001, 0.01), name="retry"
    )
    attempts: Counter[str] = Counter()
    finished = asyncio.Event()

    async def work() -> None:
        while True:
            try:
                key = await q.get()
            except QueueShutDown:
                return
            try:
                attempts[key] += 1
                if q.num_requeues(key) < 2:
                    q.add_rate_limited(key)
                else:
                    q.forget(key)
                if sum(attempts.values()) == 9:
                    finished.set()
            finally:
                q.done(key)

    for key in "abc":
        q.add(key)
    workers = [asyncio.create_task(work()) for _ in range(3)]
    await asyncio.wait_for(finished.wait(), WAIT)
    q.shutdown()
    await asyncio.wait_for(asyncio.gather(*workers), WAIT)
    assert attempts == Counter({"a": 3, "b": 3, "c": 3})
    assert all(q.num_requeues(k) == 0 for k in "abc")


async def test_metrics_and_unfinished_work() -> None:
    clock = Clock()
    metrics = CountingMetrics()
    q: AsyncQueue[str] = AsyncQueue(name="m", metrics=metrics, clock=clock)
    q.add("a")
    clock.now += 2.0
    await q.get()
    clock.now += 3.0
    assert q.unfinished_work() == (3.0, 3.0)
    q.done("a")
    s = metrics.stats("m")
    assert (s.adds, s.depth, s.latency_sum, s.work_sum) == (1, 0, 2.0, 3.0)
    assert q.metrics_errors == 0


def test_plain_methods_work_outside_a_loop() -> None:
    """add / done / shutdown need no running loop (only add_after with a delay does)."""
    q: AsyncDelayingQueue[str] = AsyncDelayingQueue()
    q.add("a")
    q.add_after("b", 0)
    assert len(q) == 2
    with pytest.raises(RuntimeError):
        q.add_after("c", 1.0)  # a timer needs the loop; nothing is recorded
    assert q.waiting() == 0
    q.shutdown()
    assert q.shutting_down()
