"""The thread shells with real threads: workers hammering, delays, shutdown and drain.

Timeouts are generous upper bounds (the machine may be loaded); nothing is timed.
"""

from __future__ import annotations

import random
import threading
from collections import Counter

import pytest

from kubecodegen_runtime.workqueue import (
    CountingMetrics,
    DelayingQueue,
    Queue,
    QueueShutDown,
    RateLimitingQueue,
)
from kubecodegen_runtime.workqueue.queue import MAX_WAIT

JOIN = 30.0  # seconds: an upper bound for a thread to finish, never a measurement


class Clock:
    """A settable clock, shared by the queue and the test."""

    def __init__(self) -> None:
        self.now = 1000.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


def start(target: object, *args: object) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
    thread.start()
    return thread


def join_all(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join(JOIN)
        assert not thread.is_alive(), f"{thread.name} did not finish"


def test_workers_hammering_never_share_an_item_and_lose_nothing() -> None:
    """8 workers, 4 producers, 20 keys: no item held twice; each item's last processing
    starts after its last add (the version it saw is the final one)."""
    q: Queue[int] = Queue(name="hammer", metrics=CountingMetrics())
    lock = threading.Lock()
    held: set[int] = set()
    version: Counter[int] = Counter()
    seen: dict[int, int] = {}
    violations: list[str] = []
    processed = Counter[int]()
    producing = threading.Event()  # the workers re-add too, until the shutdown
    producing.set()

    def produce(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(1500):
            key = rng.randrange(20)
            with lock:
                version[key] += 1
            q.add(key)

    def work(seed: int) -> None:
        rng = random.Random(seed)
        while True:
            try:
                key = q.get()
            except QueueShutDown:
                return
            try:
                with lock:
                    if key in held:
                        violations.append(f"{key} handed to two workers")
                    held.add(key)
                    seen[key] = version[key]
                    processed[key] += 1
                if rng.random() < 0.3:
                    threading.Event().wait(0.0005)  # let others run meanwhile
                if rng.random() < 0.05:
                    with lock:
                        if producing.is_set():  # adds after the shutdown are dropped, by design
                            version[key] += 1
                            q.add(key)  # re-add while held: dirty, one more round
                with lock:
                    held.discard(key)
            finally:
                q.done(key)

    workers = [start(work, i) for i in range(8)]
    producers = [start(produce, 100 + i) for i in range(4)]
    join_all(producers)
    with lock:
        producing.clear()
    assert q.shutdown_with_drain(timeout=JOIN)
    join_all(workers)
    assert violations == []
    assert seen == dict(version), "an add after the start of the last processing was lost"
    assert len(q) == 0
    assert q.unfinished_work() == (0.0, 0.0)
    assert set(processed) == set(version)


def test_shutdown_wakes_every_blocked_getter() -> None:
    q: Queue[str] = Queue()
    results: list[str] = []

    def getter() -> None:
        try:
            q.get()
        except QueueShutDown:
            results.append("shutdown")

    threads = [start(getter) for _ in range(5)]
    q.shutdown()
    join_all(threads)
    assert results == ["shutdown"] * 5


def test_get_timeout() -> None:
    q: Queue[str] = Queue()
    with pytest.raises(TimeoutError):
        q.get(timeout=0.05)
    q.add("a")
    assert q.get(timeout=0) == "a"


def test_shutdown_with_drain_waits_for_items_in_flight() -> None:
    q: Queue[str] = Queue()
    q.add("a")
    q.add("b")
    assert q.get() == "a"
    release = threading.Event()
    drained: list[bool] = []

    def worker() -> None:
        release.wait(JOIN)
        q.done("a")

    w = start(worker)
    d = start(lambda: drained.append(q.shutdown_with_drain()))
    # the drain cannot end while "a" is held: a short bounded wait proves it is waiting
    d.join(0.2)
    assert d.is_alive() and drained == []
    assert q.shutting_down()
    q.add("c")  # ignored
    release.set()
    join_all([w, d])
    assert drained == [True]
    assert q.get() == "b"  # still queued items are handed out after a drain
    q.done("b")
    with pytest.raises(QueueShutDown):
        q.get()


def test_shutdown_with_drain_timeout_and_release() -> None:
    q: Queue[str] = Queue()
    q.add("a")
    q.get()
    assert q.shutdown_with_drain(timeout=0.05) is False
    results: list[bool] = []
    d = start(lambda: results.append(q.shutdown_with_drain()))
    d.join(0.1)
    assert d.is_alive()
    q.shutdown()  # releases the drain, as client-go's ShutDown after ShutDownWithDrain
    join_all([d])
    assert results == [False]
    q.done("a")
    assert q.shutdown_with_drain(timeout=JOIN) is True


def test_add_after_with_a_fake_clock() -> None:
    clock = Clock()
    metrics = CountingMetrics()
    q: DelayingQueue[str] = DelayingQueue(name="d", metrics=metrics, clock=clock)
    q.add_after("late", 0.3)
    q.add_after("early", 0.1)
    q.add_after("late", 5.0)  # later deadline: ignored
    q.add_after("now", 0)
    assert q.get(timeout=JOIN) == "now"
    q.done("now")
    assert q.waiting() == 2
    with pytest.raises(TimeoutError):  # the fake clock stands still: nothing is due
        q.get(timeout=0.2)
    clock.advance(0.15)
    assert q.get(timeout=JOIN) == "early"
    q.done("early")
    assert q.waiting() == 1
    clock.advance(1.0)
    assert q.get(timeout=JOIN) == "late"
    q.done("late")
    assert q.waiting() == 0
    assert metrics.stats("d").retries == 4
    assert metrics.stats("d").latency_count == 3
    q.shutdown()


def test_add_after_fires_in_deadline_order_with_the_real_clock() -> None:
    q: DelayingQueue[int] = DelayingQueue()
    delays = [0.3, 0.05, 0.2, 0.1, 0.25, 0.15]
    for i, delay in enumerate(delays):
        q.add_after(i, delay)
    got = []
    for _ in delays:
        item = q.get(timeout=JOIN)
        got.append(item)
        q.done(item)
    # late or not, the waiting thread adds due items earliest deadline first
    assert got == sorted(range(len(delays)), key=lambda i: delays[i])
    q.shutdown()


def delay_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("workqueue-delay-dq")]


def test_delay_thread_only_while_something_waits() -> None:
    q: DelayingQueue[str] = DelayingQueue(name="dq")
    q.add("a")
    q.add_after("b", 0)
    assert delay_threads() == []
    q.add_after("c", 0.05)
    assert len(delay_threads()) == 1
    seen = {q.get(timeout=JOIN) for _ in range(3)}
    assert seen == {"a", "b", "c"}
    for t in delay_threads():
        t.join(JOIN)
    assert delay_threads() == []
    q.add_after("d", 3600)
    assert len(delay_threads()) == 1
    q.shutdown()  # drops the waiting item and ends the thread
    for t in delay_threads():
        t.join(JOIN)
    assert delay_threads() == []
    assert q.waiting() == 0


def test_earlier_deadline_wakes_the_delay_thread() -> None:
    q: DelayingQueue[str] = DelayingQueue()
    q.add_after("a", 3600)
    q.add_after("b", 3600)
    threading.Event().wait(0.2)  # let the delay thread start its (capped) hour of sleep
    q.add_after("a", 0.01)  # it must wake up for the earlier deadline
    # (bounded below MAX_WAIT, the thread's own re-check: only a wake-up gets it there)
    assert q.get(timeout=MAX_WAIT / 2) == "a"
    q.done("a")
    assert q.waiting() == 1
    q.shutdown()
    assert q.waiting() == 0


def test_delayed_item_added_while_held_is_processed_once_more() -> None:
    q: DelayingQueue[str] = DelayingQueue()
    q.add("a")
    assert q.get() == "a"
    q.add_after("a", 0.05)
    q.add_after("a", 0.01)
    with pytest.raises(TimeoutError):
        q.get(timeout=0.2)  # "a" became due, but it is held: nobody else gets it
    q.done("a")
    assert q.get(timeout=JOIN) == "a"
    q.done("a")
    with pytest.raises(TimeoutError):
        q.get(timeout=0.1)
    q.shutdown()


def test_rate_limited_retry_loop() -> None:
    """A worker failing each item twice: two rate-limited retries, then forget."""
    q: RateLimitingQueue[str] = RateLimitingQueue(name="retry", metrics=CountingMetrics())
    attempts: Counter[str] = Counter()

    def work() -> None:
        while True:
            try:
                key = q.get()
            except QueueShutDown:
                return
            try:
                attempts[key] += 1
                if q.num_requeues(key) < 2:
                    q.add_rate_limited(key)
                else:
                    q.forget(key)
            finally:
                q.done(key)

    for key in "abc":
        q.add(key)
    workers = [start(work) for _ in range(3)]
    for _ in range(3000):
        if sum(attempts.values()) == 9:
            break
        threading.Event().wait(0.01)
    q.shutdown()
    join_all(workers)
    assert attempts == Counter({"a": 3, "b": 3, "c": 3})
    assert all(q.num_requeues(k) == 0 for k in "abc")


def test_metrics_hooks_through_the_thread_shell() -> None:
    clock = Clock()
    metrics = CountingMetrics()
    q: Queue[str] = Queue(name="m", metrics=metrics, clock=clock)
    q.add("a")
    clock.advance(2.0)
    q.get()
    clock.advance(3.0)
    assert q.unfinished_work() == (3.0, 3.0)
    q.done("a")
    s = metrics.stats("m")
    assert (s.adds, s.depth, s.latency_sum, s.work_sum) == (1, 0, 2.0, 3.0)
    assert q.metrics_errors == 0
    assert q.name == "m"


def test_a_failing_clock_is_logged_and_the_delay_thread_restarts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    broken = [False]

    def flaky() -> float:
        if broken[0]:
            raise OSError("clock gone")
        return clock()

    q: DelayingQueue[str] = DelayingQueue(name="flaky", clock=flaky)
    broken[0] = True
    with caplog.at_level("ERROR", logger="kubecodegen_runtime.workqueue"):
        broken[0] = False
        q.add_after("a", 0.05)
        broken[0] = True  # the delay thread's next reading fails
        for t in [t for t in threading.enumerate() if t.name == "workqueue-delay-flaky"]:
            t.join(JOIN)
    assert any("delay thread failed" in r.getMessage() for r in caplog.records)
    broken[0] = False
    clock.advance(1.0)
    q.add_after("b", 0.5)  # a new thread, which also fires the item left waiting
    clock.advance(1.0)
    assert {q.get(timeout=JOIN), q.get(timeout=JOIN)} == {"a", "b"}
    q.shutdown()
