"""The workqueue state machine: queue order, dirty/processing, shutdown, drain, delays, metrics.

Example tests pin each rule of :mod:`kubecodegen_runtime.workqueue.core`; the hypothesis
state machine checks the guarantees over random interleavings against a deliberately
naive model (a list of pending items and a set of held ones).
"""

from __future__ import annotations

import logging

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
)

from kubecodegen_runtime.workqueue import (
    CountingMetrics,
    DelayingCore,
    QueueCore,
    QueueShutDown,
)
from kubecodegen_runtime.workqueue.core import Wake


def take(core: QueueCore[str], now: float = 0.0) -> str:
    assert core.can_get()
    return core.get(now)


# -- queue order, duplicates, dirty re-queue ----------------------------------------------


def test_fifo_and_duplicates_collapse() -> None:
    core: QueueCore[str] = QueueCore()
    for item in ["a", "b", "a", "c", "b"]:
        core.add(item, 0.0)
    assert core.queued() == ["a", "b", "c"]
    assert [take(core), take(core), take(core)] == ["a", "b", "c"]
    assert not core.can_get()


def test_duplicate_keeps_its_place() -> None:
    core: QueueCore[str] = QueueCore()
    core.add("a", 0.0)
    core.add("b", 0.0)
    core.add("a", 0.0)
    assert core.queued() == ["a", "b"]


def test_add_while_processing_requeues_once_at_done() -> None:
    core: QueueCore[str] = QueueCore()
    core.add("a", 0.0)
    core.add("b", 0.0)
    assert take(core) == "a"
    for _ in range(3):
        assert core.add("a", 0.0) == Wake.NONE  # held: not queued, no getter woken
    assert core.queued() == ["b"]
    assert core.dirty() == {"a", "b"}
    assert core.done("a", 0.0) & Wake.ONE
    assert core.queued() == ["b", "a"]
    assert core.processing() == set()
    assert [take(core), take(core)] == ["b", "a"]
    core.done("b", 0.0)
    core.done("a", 0.0)
    assert not core.can_get()  # the three adds made one more round, not three


def test_item_never_handed_out_while_processed() -> None:
    core: QueueCore[str] = QueueCore()
    core.add("a", 0.0)
    take(core)
    core.add("a", 0.0)
    assert not core.can_get()  # "a" is dirty but held; nobody else may get it
    with pytest.raises(RuntimeError):
        core.get(0.0)


def test_done_without_get_is_an_error() -> None:
    core: QueueCore[str] = QueueCore()
    core.add("a", 0.0)
    with pytest.raises(ValueError, match="not being processed"):
        core.done("a", 0.0)
    assert core.queued() == ["a"]  # untouched: no second copy


def test_done_wakes_drainers_when_idle() -> None:
    core: QueueCore[str] = QueueCore()
    core.add("a", 0.0)
    core.add("b", 0.0)
    take(core)
    take(core)
    assert core.done("a", 0.0) == Wake.NONE
    assert core.done("b", 0.0) == Wake.IDLE


# -- shutdown and drain -------------------------------------------------------------------


def test_shutdown_hands_out_what_is_queued_then_raises() -> None:
    core: QueueCore[str] = QueueCore(name="q")
    core.add("a", 0.0)
    core.add("b", 0.0)
    assert core.shutdown() == Wake.ALL | Wake.IDLE
    assert core.add("c", 0.0) == Wake.NONE  # ignored
    assert [take(core), take(core)] == ["a", "b"]
    assert core.can_get()
    with pytest.raises(QueueShutDown, match="'q'"):
        core.get(0.0)


def test_dirty_item_is_requeued_after_shutdown() -> None:
    core: QueueCore[str] = QueueCore()
    core.add("a", 0.0)
    take(core)
    core.add("a", 0.0)  # dirty before the shutdown: still owed a round
    core.shutdown()
    core.add("b", 0.0)
    assert core.done("a", 0.0) & Wake.ONE
    assert take(core) == "a"
    core.done("a", 0.0)
    with pytest.raises(QueueShutDown):
        core.get(0.0)


def test_drain_settles_when_idle_or_released() -> None:
    core: QueueCore[str] = QueueCore()
    core.add("a", 0.0)
    take(core)
    core.begin_drain()
    assert core.shutting_down()
    assert not core.drain_settled()
    core.done("a", 0.0)
    assert core.drain_settled() and core.idle()

    core2: QueueCore[str] = QueueCore()
    core2.add("a", 0.0)
    take(core2)
    core2.begin_drain()
    core2.shutdown()  # ShutDown after ShutDownWithDrain releases the wait
    assert core2.drain_settled()
    assert not core2.idle()


def test_drain_of_an_idle_queue_settles_at_once() -> None:
    core: QueueCore[str] = QueueCore()
    core.add("a", 0.0)
    core.begin_drain()
    assert core.drain_settled()  # waits for items in flight, not for queued ones
    assert take(core) == "a"


# -- metrics bookkeeping ------------------------------------------------------------------


def test_metrics_depth_adds_latency_work() -> None:
    m = CountingMetrics()
    core: QueueCore[str] = QueueCore(name="q", metrics=m)
    core.add("a", 1.0)
    core.add("a", 2.0)  # collapses: no add, latency measured from the first
    core.add("b", 3.0)
    s = m.stats("q")
    assert (s.adds, s.depth) == (2, 2)
    assert core.get(5.0) == "a"
    s = m.stats("q")
    assert (s.depth, s.latency_count, s.latency_sum) == (1, 1, 4.0)
    core.add("a", 6.0)  # dirty while processed: counts as an add, depth includes it
    assert m.stats("q").depth == 2
    assert m.stats("q").adds == 3
    core.done("a", 9.0)
    s = m.stats("q")
    assert (s.work_count, s.work_sum, s.work_max) == (1, 4.0, 4.0)
    assert core.get(10.0) == "b"
    assert core.get(10.5) == "a"  # latency of the re-add: 10.5 - 6
    s = m.stats("q")
    assert s.depth == 0
    assert (s.latency_count, s.latency_sum, s.latency_max) == (3, 4.0 + 7.0 + 4.5, 7.0)
    assert m.names() == ["q"]


def test_unfinished_work() -> None:
    core: QueueCore[str] = QueueCore()
    assert core.unfinished_work(0.0) == (0.0, 0.0)
    core.add("a", 0.0)
    core.add("b", 0.0)
    core.get(1.0)
    core.get(3.0)
    work = core.unfinished_work(6.0)
    assert work.unfinished_work_seconds == 5.0 + 3.0
    assert work.longest_running_processor_seconds == 5.0
    core.done("a", 7.0)
    assert core.unfinished_work(7.0) == (4.0, 4.0)


class Exploding:
    def queue_depth(self, name: str, depth: int) -> None:
        raise RuntimeError("depth")

    def added(self, name: str) -> None:
        raise RuntimeError("added")

    def queue_latency(self, name: str, seconds: float) -> None:
        raise RuntimeError("latency")

    def work_duration(self, name: str, seconds: float) -> None:
        raise RuntimeError("work")

    def retried(self, name: str) -> None:
        raise RuntimeError("retried")


def test_failing_metrics_hook_is_logged_counted_and_harmless(
    caplog: pytest.LogCaptureFixture,
) -> None:
    core: DelayingCore[str] = DelayingCore(name="q", metrics=Exploding())
    with caplog.at_level(logging.DEBUG, logger="kubecodegen_runtime.workqueue"):
        core.add_after("a", 0, 0.0)  # retried, added, depth
        assert core.get(1.0) == "a"  # depth, latency
        core.done("a", 2.0)  # work
        core.add("b", 2.0)  # added, depth again: logged at debug only
    assert core.metrics_errors == 8
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert sorted(r.getMessage().split()[-2] for r in errors) == [
        "added",
        "queue_depth",
        "queue_latency",
        "retried",
        "work_duration",
    ]
    assert all(r.exc_info for r in errors)
    assert core.queued() == ["b"]


# -- delays -------------------------------------------------------------------------------


def test_add_after_fires_in_deadline_order() -> None:
    core: DelayingCore[str] = DelayingCore()
    assert core.add_after("c", 3.0, 0.0) == Wake.TIMER
    assert core.add_after("a", 1.0, 0.0) == Wake.TIMER  # earlier: re-arm
    assert core.add_after("b", 2.0, 0.0) == Wake.NONE  # not the earliest
    assert core.next_deadline() == 1.0
    assert core.fire(0.5) == Wake.NONE
    assert len(core) == 0
    assert core.fire(2.0) == Wake.ALL  # two queued at once
    assert core.queued() == ["a", "b"]
    assert core.fire(3.0) == Wake.ONE
    assert core.queued() == ["a", "b", "c"]
    assert core.next_deadline() is None
    assert core.waiting() == 0


def test_equal_deadlines_keep_insertion_order() -> None:
    core: DelayingCore[int] = DelayingCore()
    for i in [5, 3, 9, 1]:
        core.add_after(i, 1.0, 0.0)
    core.fire(1.0)
    assert core.queued() == [5, 3, 9, 1]


def test_earliest_deadline_wins() -> None:
    core: DelayingCore[str] = DelayingCore()
    core.add_after("x", 10.0, 0.0)
    assert core.add_after("x", 60.0, 0.0) == Wake.NONE  # later: ignored
    assert core.deadline_of("x") == 10.0
    assert core.add_after("x", 2.0, 0.0) == Wake.TIMER  # earlier: wins
    assert core.deadline_of("x") == 2.0
    assert core.waiting() == 1
    core.fire(2.0)
    assert core.queued() == ["x"]
    core.fire(100.0)  # the stale 10 s and the ignored 60 s entries fire nothing
    assert core.queued() == ["x"]
    assert core.next_deadline() is None


def test_add_after_nonpositive_adds_now() -> None:
    core: DelayingCore[str] = DelayingCore()
    assert core.add_after("a", 0.0, 0.0) == Wake.ONE
    assert core.add_after("b", -1.0, 0.0) == Wake.ONE
    assert core.queued() == ["a", "b"]
    assert core.waiting() == 0


def test_nan_delay_is_refused() -> None:
    core: DelayingCore[str] = DelayingCore()
    with pytest.raises(ValueError, match="NaN"):
        core.add_after("a", float("nan"), 0.0)
    assert core.waiting() == 0 and core.queued() == []


def test_fired_item_collapses_with_queued_copy() -> None:
    m = CountingMetrics()
    core: DelayingCore[str] = DelayingCore(name="q", metrics=m)
    core.add("a", 0.0)
    core.add_after("a", 1.0, 0.0)
    assert core.fire(1.0) == Wake.NONE
    assert core.queued() == ["a"]
    s = m.stats("q")
    assert (s.adds, s.retries) == (1, 1)


def test_shutdown_drops_waiting_items() -> None:
    core: DelayingCore[str] = DelayingCore()
    core.add_after("a", 1.0, 0.0)
    assert core.shutdown() & Wake.TIMER
    assert core.next_deadline() is None
    assert core.add_after("b", 1.0, 0.0) == Wake.NONE
    assert core.add_after("c", 0.0, 0.0) == Wake.NONE
    core.fire(10.0)
    assert core.queued() == []


def test_retried_counts_every_add_after() -> None:
    m = CountingMetrics()
    core: DelayingCore[str] = DelayingCore(name="q", metrics=m)
    core.add_after("a", 0.0, 0.0)
    core.add_after("a", 5.0, 0.0)
    core.add_after("b", 5.0, 0.0)
    assert m.stats("q").retries == 3
    core.shutdown()
    core.add_after("c", 1.0, 0.0)
    assert m.stats("q").retries == 3  # ignored after shutdown, not counted


# -- the guarantees, over random interleavings --------------------------------------------

ITEMS = st.sampled_from("abcde")


class QueueMachine(RuleBasedStateMachine):
    """Random add / add_after / get / done / shutdown / drain / time steps on a
    :class:`DelayingCore`, checked against a naive model.

    The model: ``pending`` (list, order of first add since last hand-out), ``held`` (set),
    ``owed`` (held items added again since their hand-out), ``timers`` (item -> its
    earliest deadline and when that deadline was set).
    """

    def __init__(self) -> None:
        super().__init__()
        self.metrics = CountingMetrics()
        self.core: DelayingCore[str] = DelayingCore(name="m", metrics=self.metrics)
        self.now = 0.0
        self.pending: list[str] = []
        self.held: set[str] = set()
        self.owed: set[str] = set()
        self.timers: dict[str, tuple[float, int]] = {}  # item -> (deadline, order set)
        self.seq = 0
        self.closed = False
        self.handed_out = 0
        self.accepted_adds = 0

    def model_add(self, item: str) -> None:
        if self.closed:
            return
        if item in self.held:
            if item not in self.owed:
                self.owed.add(item)
                self.accepted_adds += 1
        elif item not in self.pending:
            self.pending.append(item)
            self.accepted_adds += 1

    @rule(item=ITEMS)
    def add(self, item: str) -> None:
        wake = self.core.add(item, self.now)
        queued_before = item in self.pending
        self.model_add(item)
        assert bool(wake & Wake.ONE) == (
            not self.closed and not queued_before and item not in self.held
        )

    @rule(item=ITEMS, delay=st.sampled_from([-1.0, 0.0, 0.5, 1.0, 2.5]))
    def add_after(self, item: str, delay: float) -> None:
        self.core.add_after(item, delay, self.now)
        if self.closed:
            return
        if delay <= 0:
            self.model_add(item)
            return
        deadline = self.now + delay
        if item not in self.timers or deadline < self.timers[item][0]:
            self.timers[item] = (deadline, self.seq)
            self.seq += 1

    @rule(step=st.sampled_from([0.25, 0.5, 1.0, 3.0]))
    def advance(self, step: float) -> None:
        self.now += step
        wake = self.core.fire(self.now)
        due = sorted((when, item) for item, when in self.timers.items() if when[0] <= self.now)
        before = len(self.pending)
        for _, item in due:  # earliest deadline first, ties in the order they were set
            del self.timers[item]
            self.model_add(item)
        queued = len(self.pending) - before
        assert wake == (Wake.NONE if queued == 0 else Wake.ONE if queued == 1 else Wake.ALL)

    @precondition(lambda self: self.core.can_get())
    @rule()
    def get(self) -> None:
        if not self.pending:
            assert self.closed
            with pytest.raises(QueueShutDown):
                self.core.get(self.now)
            return
        item = self.core.get(self.now)
        assert item == self.pending.pop(0)
        assert item not in self.held  # never two holders
        self.held.add(item)
        self.handed_out += 1

    @precondition(lambda self: bool(self.held))
    @rule(data=st.data())
    def done(self, data: st.DataObject) -> None:
        item = data.draw(st.sampled_from(sorted(self.held)))
        wake = self.core.done(item, self.now)
        self.held.discard(item)
        if item in self.owed:
            self.owed.discard(item)
            self.pending.append(item)  # re-queued exactly once
            assert wake & Wake.ONE
        assert bool(wake & Wake.IDLE) == (not self.held)

    @rule(item=ITEMS)
    def done_of_unheld_item_is_refused(self, item: str) -> None:
        if item in self.held:
            return
        before = self.core.queued()
        with pytest.raises(ValueError):
            self.core.done(item, self.now)
        assert self.core.queued() == before

    @rule()
    def shutdown(self) -> None:
        self.core.shutdown()
        self.closed = True
        self.timers.clear()

    @rule()
    def begin_drain(self) -> None:
        self.core.begin_drain()
        self.closed = True
        self.timers.clear()
        assert self.core.drain_settled() == (not self.held)

    @invariant()
    def matches_model(self) -> None:
        core = self.core
        queued = core.queued()
        assert queued == self.pending
        assert len(set(queued)) == len(queued)
        assert core.processing() == self.held
        assert core.dirty() == set(self.pending) | self.owed
        assert set(queued).isdisjoint(core.processing())
        assert core.shutting_down() == self.closed
        assert core.can_get() == (bool(self.pending) or self.closed)
        assert core.waiting() == len(self.timers)
        for item, (deadline, _) in self.timers.items():
            assert core.deadline_of(item) == deadline
        stats = self.metrics.stats("m")
        assert stats.depth == len(core.dirty())
        assert stats.adds == self.accepted_adds
        assert stats.latency_count == self.handed_out

    def teardown(self) -> None:
        # No loss: whatever is owed comes out once the holders are done, even after a
        # shutdown; then nothing more.
        core = self.core
        holders = sorted(self.held)
        for item in holders:
            core.done(item, self.now)
        expected = self.pending + [item for item in holders if item in self.owed]
        got = []
        while core.queued():
            item = core.get(self.now)
            got.append(item)
            core.done(item, self.now)
        assert got == expected
        assert core.idle()


QueueMachine.TestCase.settings = settings(max_examples=300, stateful_step_count=40, deadline=None)
test_queue_machine = QueueMachine.TestCase
