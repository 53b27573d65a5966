"""Handler fan-out: per-handler order, late handlers, has_synced, removal, resync schedule."""

from __future__ import annotations

from typing import Any

import pytest

from kubecodegen_runtime.cache import (
    AddNotification,
    Apply,
    DeletedFinalStateUnknown,
    DeleteNotification,
    DeltaProcessor,
    FilteringResourceEventHandler,
    HandlerRegistration,
    Init,
    InitApply,
    InitDone,
    Notification,
    ResourceEventHandlerFuncs,
    SharedProcessor,
    ThreadSafeStore,
    UpdateNotification,
    dispatch,
    meta_namespace_key,
    new_indexer,
)
from kubecodegen_runtime.cache.processor import MINIMUM_RESYNC_PERIOD, determine_resync_period

from .cache_objects import Pod, pod


class Recorder:
    """A full handler that records calls as tuples."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def on_add(self, obj: Pod, is_in_initial_list: bool) -> None:
        self.calls.append(("add", meta_namespace_key(obj), is_in_initial_list))

    def on_update(self, old: Pod, new: Pod) -> None:
        self.calls.append(("update", meta_namespace_key(new)))

    def on_delete(self, obj: Pod | DeletedFinalStateUnknown[Pod]) -> None:
        self.calls.append(("delete", meta_namespace_key(obj)))


def drain(reg: HandlerRegistration[Pod]) -> None:
    """What a driver's consumer does: pop, dispatch, done, until empty."""
    while (note := reg.pop()) is not None:
        dispatch(reg.handler, note)
        reg.done(note)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_each_handler_gets_every_notification_in_order_independently() -> None:
    proc: SharedProcessor[Pod] = SharedProcessor()
    fast, slow = Recorder(), Recorder()
    r_fast, r_slow = proc.add_handler(fast), proc.add_handler(slow)
    a, b = pod("a"), pod("b")
    notes: list[Notification[Pod]] = [AddNotification(a), AddNotification(b),
                                      UpdateNotification(a, a), DeleteNotification(b)]
    for i, note in enumerate(notes):
        woken = proc.distribute(note)
        assert woken == [r_fast, r_slow]
        if i == 1:
            drain(r_fast)  # the fast handler keeps up, the slow one lags behind
    drain(r_fast)
    assert len(r_slow) == 4 and slow.calls == []
    drain(r_slow)
    expected = [("add", "default/a", False), ("add", "default/b", False),
                ("update", "default/a"), ("delete", "default/b")]
    assert fast.calls == expected and slow.calls == expected


def test_has_synced_waits_for_the_informer_and_for_delivery_of_the_initial_list() -> None:
    proc: SharedProcessor[Pod] = SharedProcessor()
    rec = Recorder()
    reg = proc.add_handler(rec)
    assert not reg.has_synced()
    proc.distribute(AddNotification(pod("a"), True))
    proc.distribute(AddNotification(pod("b"), True))
    proc.mark_synced()
    assert not reg.has_synced() and not proc.has_synced()  # two adds still queued
    note = reg.pop()
    assert note is not None
    dispatch(reg.handler, note)
    reg.done(note)
    assert not reg.has_synced()
    drain(reg)
    assert reg.has_synced() and proc.has_synced()
    # later (non-initial) traffic does not un-sync
    proc.distribute(AddNotification(pod("c")))
    assert reg.has_synced()


def test_late_handler_gets_synthetic_adds_for_the_cache() -> None:
    store: ThreadSafeStore[Pod] = new_indexer()
    deltas: DeltaProcessor[Pod] = DeltaProcessor(store)
    proc: SharedProcessor[Pod] = SharedProcessor()
    early = Recorder()
    r_early = proc.add_handler(early)
    for note in deltas.handle_all([Init(), InitApply(pod("a")), InitApply(pod("b")),
                                   InitDone("5")]):
        proc.distribute(note)
    proc.mark_synced()
    drain(r_early)
    late = Recorder()
    r_late = proc.add_handler(late, cached=store.list())
    assert not r_late.has_synced()
    for note in deltas.handle_all([Apply(pod("c", rv="6"))]):  # a later change
        proc.distribute(note)
    drain(r_late)
    assert sorted(late.calls[:2]) == [("add", "default/a", True), ("add", "default/b", True)]
    assert late.calls[2] == ("add", "default/c", False)  # after the snapshot, no gap
    assert r_late.has_synced()
    assert early.calls[:2] == [("add", "default/a", True), ("add", "default/b", True)]


def test_handler_added_before_sync_tracks_the_informer() -> None:
    proc: SharedProcessor[Pod] = SharedProcessor()
    reg = proc.add_handler(Recorder(), cached=[pod("partial")])  # informer mid-list
    drain(reg)
    assert not reg.has_synced()
    proc.mark_synced()
    assert reg.has_synced()


def test_removed_handler_gets_nothing_more() -> None:
    proc: SharedProcessor[Pod] = SharedProcessor()
    keep, gone = Recorder(), Recorder()
    proc.add_handler(keep)
    reg = proc.add_handler(gone)
    proc.distribute(AddNotification(pod("a")))
    assert proc.remove_handler(reg)
    assert reg.removed and len(reg) == 0 and reg.pop() is None
    assert proc.distribute(AddNotification(pod("b"))) == list(proc.registrations)
    assert reg not in proc.registrations
    assert not proc.remove_handler(reg)


def test_resync_goes_only_to_due_handlers_and_reschedules() -> None:
    clock = Clock()
    proc: SharedProcessor[Pod] = SharedProcessor(clock=clock)
    never, every10, every30 = Recorder(), Recorder(), Recorder()
    r_never = proc.add_handler(never)
    r10 = proc.add_handler(every10, resync_period=10)
    r30 = proc.add_handler(every30, resync_period=30)
    assert proc.next_resync_at() == 110.0
    a = pod("a")
    resync = UpdateNotification(a, a, is_resync=True)

    clock.now = 105
    assert not proc.should_resync()
    clock.now = 110
    assert proc.should_resync()
    assert proc.distribute(resync) == [r10]
    assert r10.next_resync == 120.0 and proc.next_resync_at() == 120.0
    # ordinary notifications still reach everyone between resyncs
    assert proc.distribute(AddNotification(pod("b"))) == [r_never, r10, r30]
    clock.now = 130
    assert proc.should_resync(clock.now)
    assert proc.distribute(resync) == [r10, r30]
    assert (r10.next_resync, r30.next_resync) == (140.0, 160.0)
    for reg in (r_never, r10, r30):
        drain(reg)
    assert [c[0] for c in every10.calls] == ["update", "add", "update"]
    assert [c[0] for c in every30.calls] == ["add", "update"]
    assert [c[0] for c in never.calls] == ["add"]


def test_resync_period_rules() -> None:
    assert determine_resync_period(0) == 0
    assert determine_resync_period(0.01) == MINIMUM_RESYNC_PERIOD
    assert determine_resync_period(60) == 60
    with pytest.raises(ValueError, match="resync period must be >= 0"):
        determine_resync_period(-1)
    proc: SharedProcessor[Pod] = SharedProcessor()
    assert proc.next_resync_at() is None
    assert proc.add_handler(Recorder(), resync_period=0.2).resync_period == MINIMUM_RESYNC_PERIOD


def test_funcs_adapter_and_filtering_decorator() -> None:
    seen: list[tuple[str, str]] = []
    funcs: ResourceEventHandlerFuncs[Pod] = ResourceEventHandlerFuncs(
        on_add=lambda o: seen.append(("add", meta_namespace_key(o))),
        on_delete=lambda o: seen.append(("delete", meta_namespace_key(o))),
    )
    labelled = FilteringResourceEventHandler(
        lambda p: bool(p.metadata and p.metadata.labels and p.metadata.labels.get("app")),
        funcs,
    )
    web, plain = pod("w", labels={"app": "web"}), pod("p")
    dispatch(labelled, AddNotification(web))
    dispatch(labelled, AddNotification(plain))
    dispatch(labelled, UpdateNotification(web, web))  # on_update missing: nothing happens
    dispatch(labelled, UpdateNotification(plain, pod("p", labels={"app": "x"})))  # starts passing
    dispatch(labelled, UpdateNotification(web, pod("w")))  # stops passing
    dispatch(labelled, DeleteNotification(DeletedFinalStateUnknown("default/w", web)))
    dispatch(labelled, DeleteNotification(plain))
    assert seen == [("add", "default/w"), ("add", "default/p"), ("delete", "default/w"),
                    ("delete", "default/w")]


# -- queue depth and the optional bound ---------------------------------------------------


def test_pending_and_peak_track_the_queue_depth() -> None:
    proc: SharedProcessor[Pod] = SharedProcessor()
    reg = proc.add_handler(Recorder(), cached=[pod("a"), pod("b")])
    assert (reg.pending(), reg.peak_pending) == (2, 2)
    for i in range(3):
        proc.distribute(AddNotification(pod(f"n{i}")))
    assert (reg.pending(), reg.peak_pending) == (5, 5)
    while (note := reg.pop()) is not None:
        reg.done(note)
    assert (reg.pending(), reg.peak_pending) == (0, 5)
    assert "pending=0" in repr(reg)


def test_unbounded_registrations_never_fill() -> None:
    proc: SharedProcessor[Pod] = SharedProcessor()
    reg = proc.add_handler(Recorder())
    for i in range(10_000):
        proc.distribute(AddNotification(pod(f"n{i}")))
    assert not reg.is_full() and proc.has_room() and reg.pending() == 10_000


def test_a_bounded_registration_blocks_the_informer_until_it_drains() -> None:
    proc: SharedProcessor[Pod] = SharedProcessor()
    fast = proc.add_handler(Recorder())
    slow = proc.add_handler(Recorder(), max_pending=3)
    assert "pending=0/3" in repr(slow)
    for i in range(2):
        proc.distribute(AddNotification(pod(f"n{i}")))
    assert proc.has_room() and not slow.is_full()
    proc.distribute(AddNotification(pod("n2")))
    assert slow.is_full() and not proc.has_room()
    # the unbounded one draining does not help; nothing was dropped from either
    while (note := fast.pop()) is not None:
        fast.done(note)
    assert not proc.has_room() and slow.pending() == 3
    # distributing past the bound (one batch) still queues: the bound is soft, lossless
    proc.distribute(AddNotification(pod("n3")))
    assert slow.pending() == 4 and slow.peak_pending == 4
    for _ in range(2):
        note = slow.pop()
        assert note is not None
        slow.done(note)
    assert slow.pending() == 2 and proc.has_room()
    rest = [slow.pop(), slow.pop()]
    assert [meta_namespace_key(n.obj) for n in rest if isinstance(n, AddNotification)] == [
        "default/n2", "default/n3"]


def test_removing_a_full_registration_gives_room() -> None:
    proc: SharedProcessor[Pod] = SharedProcessor()
    reg = proc.add_handler(Recorder(), max_pending=1)
    proc.distribute(AddNotification(pod("a")))
    assert not proc.has_room()
    proc.remove_handler(reg)
    assert proc.has_room() and reg.pending() == 0


@pytest.mark.parametrize("bound", [0, -1])
def test_max_pending_must_be_positive(bound: int) -> None:
    proc: SharedProcessor[Pod] = SharedProcessor()
    with pytest.raises(ValueError, match="max_pending"):
        proc.add_handler(Recorder(), max_pending=bound)
