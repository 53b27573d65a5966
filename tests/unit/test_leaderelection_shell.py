"""The thread and asyncio shells: callbacks, stopping the work, deadlines, release.

The shells are checked over an in-memory lock (the ``ResourceLock`` protocol: one record,
a version, Conflict on a stale write), so what is tested here is the waiting and the
callback order; the Lease lock itself is tested on the real server
(tests/integration/test_leaderelection_cluster.py). Waits are generous upper bounds.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import datetime, timezone

import pytest

from kubecodegen_runtime.errors import Conflict, NotFound
from kubecodegen_runtime.leaderelection import (
    AsyncLeaderCallbacks,
    AsyncLeaderElector,
    LeaderCallbacks,
    LeaderElectionRecord,
    LeaderElector,
)

LEASE, RENEW, RETRY = 0.6, 0.4, 0.1
TIMINGS = {"lease_duration": LEASE, "renew_deadline": RENEW, "retry_period": RETRY}


class MemoryStore:
    def __init__(self) -> None:
        self.record: LeaderElectionRecord | None = None
        self.version = 0
        self.hang = threading.Event()  # while set, writes block (a hung connection)
        self.released = threading.Event()
        self.mutex = threading.Lock()


class MemoryLock:
    def __init__(self, store: MemoryStore, identity: str) -> None:
        self.store, self.identity, self.read = store, identity, -1

    def describe(self) -> str:
        return "memory/lock"

    def get(self) -> LeaderElectionRecord:
        with self.store.mutex:
            if self.store.record is None:
                raise NotFound(404, "NotFound", "no lock")
            self.read = self.store.version
            return self.store.record

    def create(self, record: LeaderElectionRecord) -> None:
        self.update(record, create=True)

    def update(self, record: LeaderElectionRecord, create: bool = False) -> None:
        while self.store.hang.is_set():
            time.sleep(0.01)
        with self.store.mutex:
            if not create and self.read != self.store.version:
                raise Conflict(409, "Conflict", "modified")
            self.store.record, self.store.version = record, self.store.version + 1
            self.read = self.store.version
            if not record.holder_identity:
                self.store.released.set()


class AsyncMemoryLock:
    def __init__(self, store: MemoryStore, identity: str) -> None:
        self.inner = MemoryLock(store, identity)
        self.identity = identity

    def describe(self) -> str:
        return self.inner.describe()

    async def get(self) -> LeaderElectionRecord:
        return self.inner.get()

    async def create(self, record: LeaderElectionRecord) -> None:
        await self.update(record, create=True)

    async def update(self, record: LeaderElectionRecord, create: bool = False) -> None:
        while self.inner.store.hang.is_set():
            await asyncio.sleep(0.01)
        self.inner.update(record, create=create)


def usurp(store: MemoryStore, holder: str = "usurper") -> None:
    now = datetime.now(timezone.utc)
    with store.mutex:
        store.record = LeaderElectionRecord(holder, 1, now, now, 99)
        store.version += 1


class Recorder:
    """Callbacks that record their order; the work waits for its stop event."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.leading = threading.Event()
        self.stopped = threading.Event()

    def callbacks(self, fail: bool = False) -> LeaderCallbacks:
        def started(stop: threading.Event) -> None:
            self.events.append("started")
            self.leading.set()
            stop.wait()
            self.events.append("work-ended")
            if fail:
                raise RuntimeError("work failed")

        def stopped() -> None:
            self.events.append("stopped")
            self.stopped.set()
            if fail:
                raise RuntimeError("stop failed")

        return LeaderCallbacks(started, stopped, lambda who: self.events.append(f"new:{who}"))


def run_in_thread(elector: LeaderElector, stop: threading.Event | None = None) -> threading.Thread:
    thread = threading.Thread(target=elector.run, args=(stop,), daemon=True)
    thread.start()
    return thread


def test_leads_renews_and_steps_down_when_another_holder_appears() -> None:
    store, rec = MemoryStore(), Recorder()
    elector = LeaderElector(MemoryLock(store, "me"), rec.callbacks(), **TIMINGS)
    thread = run_in_thread(elector)
    assert rec.leading.wait(5)
    assert elector.is_leader() and elector.get_leader() == "me"
    first = store.version
    time.sleep(LEASE)  # renewals keep it
    assert elector.is_leader() and store.version > first
    usurp(store)
    thread.join(5)
    assert not thread.is_alive() and not elector.is_leader()
    assert elector.get_leader() == "usurper"
    assert rec.events == ["new:me", "started", "new:usurper", "work-ended", "stopped"]


def test_a_hung_renewal_loses_leadership_at_the_deadline() -> None:
    store, rec = MemoryStore(), Recorder()
    elector = LeaderElector(MemoryLock(store, "me"), rec.callbacks(), **TIMINGS)
    thread = run_in_thread(elector)
    assert rec.leading.wait(5)
    store.hang.set()  # every write from now on blocks
    hung_at = time.monotonic()
    assert rec.stopped.wait(5)
    # the last successful attempt began before hung_at, so the deadline came by RENEW
    assert not elector.is_leader()
    assert time.monotonic() - hung_at < RENEW + 1.0
    thread.join(5)
    assert not thread.is_alive()
    assert rec.events[-2:] == ["work-ended", "stopped"]
    store.hang.clear()


def test_release_on_cancel_stops_the_work_before_releasing() -> None:
    store, rec = MemoryStore(), Recorder()
    stop = threading.Event()
    elector = LeaderElector(MemoryLock(store, "me"), rec.callbacks(), release_on_cancel=True,
                            **TIMINGS)
    thread = run_in_thread(elector, stop)
    assert rec.leading.wait(5)
    stop.set()
    thread.join(5)
    assert store.released.is_set() and store.record is not None
    assert store.record.holder_identity == "" and store.record.leader_transitions == 0
    assert rec.events == ["new:me", "started", "work-ended", "new:", "stopped"]
    # a candidate takes the released lock at its first attempt
    other = Recorder()
    nxt = LeaderElector(MemoryLock(store, "next"), other.callbacks(), **TIMINGS)
    started = time.monotonic()
    run_in_thread(nxt)
    assert other.leading.wait(5) and time.monotonic() - started < LEASE
    assert store.record.holder_identity == "next" and store.record.leader_transitions == 1
    nxt.stop()


def test_without_release_the_lock_stays_held_until_it_expires() -> None:
    store, rec = MemoryStore(), Recorder()
    elector = LeaderElector(MemoryLock(store, "me"), rec.callbacks(), **TIMINGS)
    thread = run_in_thread(elector)
    assert rec.leading.wait(5)
    elector.stop()
    thread.join(5)
    assert store.record is not None and store.record.holder_identity == "me"
    assert not store.released.is_set()


def test_callback_errors_are_logged_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    store, rec = MemoryStore(), Recorder()
    elector = LeaderElector(MemoryLock(store, "me"), rec.callbacks(fail=True), **TIMINGS)
    with caplog.at_level(logging.ERROR, logger="kubecodegen_runtime.leaderelection"):
        thread = run_in_thread(elector)
        assert rec.leading.wait(5)
        usurp(store)
        thread.join(5)
    assert elector.callback_errors == 2
    raised = [r.getMessage() for r in caplog.records]
    assert any("on_started_leading raised" in m for m in raised)
    assert any("on_stopped_leading raised" in m for m in raised)


def test_elector_validates_like_client_go() -> None:
    lock = MemoryLock(MemoryStore(), "me")
    with pytest.raises(ValueError, match="greater than renew_deadline"):
        LeaderElector(lock, Recorder().callbacks(), lease_duration=5, renew_deadline=5)
    with pytest.raises(ValueError, match="retry_period"):
        LeaderElector(lock, Recorder().callbacks(), renew_deadline=2, retry_period=2)
    with pytest.raises(ValueError, match="identity"):
        LeaderElector(MemoryLock(MemoryStore(), ""), Recorder().callbacks())


# --- asyncio ---------------------------------------------------------------------------------


def test_async_work_task_is_cancelled_when_leadership_is_lost() -> None:
    async def scenario() -> list[str]:
        store, events = MemoryStore(), []
        leading = asyncio.Event()

        async def started() -> None:
            events.append("started")
            leading.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                events.append("work-cancelled")
                raise

        elector = AsyncLeaderElector(
            AsyncMemoryLock(store, "me"),
            AsyncLeaderCallbacks(started, lambda: events.append("stopped"),
                                 lambda who: events.append(f"new:{who}")),
            **TIMINGS)
        run = asyncio.ensure_future(elector.run())
        await asyncio.wait_for(leading.wait(), 5)
        assert elector.is_leader()
        store.hang.set()  # renewals hang: cancelled at the deadline
        await asyncio.wait_for(run, 5)
        assert not elector.is_leader()
        return events

    assert asyncio.run(scenario()) == ["new:me", "started", "work-cancelled", "stopped"]


def test_async_cancel_releases_and_reraises() -> None:
    async def scenario() -> tuple[list[str], MemoryStore]:
        store, events = MemoryStore(), []
        leading = asyncio.Event()

        async def started() -> None:
            leading.set()
            try:
                await asyncio.Event().wait()
            finally:
                events.append("work-ended")

        async def stopped() -> None:
            events.append("stopped")

        elector = AsyncLeaderElector(AsyncMemoryLock(store, "me"),
                                     AsyncLeaderCallbacks(started, stopped),
                                     release_on_cancel=True, **TIMINGS)
        run = asyncio.ensure_future(elector.run())
        await asyncio.wait_for(leading.wait(), 5)
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run
        return events, store

    events, store = asyncio.run(scenario())
    assert events == ["work-ended", "stopped"]
    assert store.released.is_set() and store.record is not None
    assert store.record.holder_identity == ""
