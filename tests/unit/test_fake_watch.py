"""The fake API server's watch core: history, filtering with transitions, bookmarks, waiting."""

from __future__ import annotations

import asyncio
import gc
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import event as note
from hypothesis import given, settings
from hypothesis import strategies as st

from kubecodegen_runtime.fake.watch import EventLog, Subscription, TooOldResourceVersion, WatchEvent
from kubecodegen_runtime.watch import INITIAL_EVENTS_END

PODS = ("", "pods")
SECRETS = ("", "secrets")

Obj = dict[str, Any]


def pod(name: str, rv: int, ns: str = "default", app: str | None = None) -> Obj:
    meta: Obj = {"name": name, "namespace": ns, "resourceVersion": str(rv)}
    if app is not None:
        meta["labels"] = {"app": app}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta}


def bookmark(rv: int, end: bool) -> Obj:
    meta: Obj = {"resourceVersion": str(rv)}
    if end:
        meta["annotations"] = {INITIAL_EVENTS_END: "true"}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta}


def app_is(value: str) -> Callable[[Obj], bool]:
    return lambda obj: obj["metadata"].get("labels", {}).get("app") == value


def everything(obj: Obj) -> bool:
    return True


class Writes:
    """A minimal object tracker: one version counter, the current objects, every write
    published the way the real tracker does."""

    def __init__(self, log: EventLog, resource: tuple[str, str] = PODS) -> None:
        self.log = log
        self.resource = resource
        self.objects: dict[tuple[str, str], Obj] = {}

    def _next_rv(self) -> int:
        return self.log.current_rv + 1

    def put(self, name: str, ns: str = "default", app: str | None = None) -> Obj:
        rv = self._next_rv()
        new = pod(name, rv, ns, app)
        old = self.objects.get((ns, name))
        self.objects[(ns, name)] = new
        self.log.publish(self.resource, "ADDED" if old is None else "MODIFIED", old, new, rv)
        return new

    def delete(self, name: str, ns: str = "default") -> Obj:
        rv = self._next_rv()
        old = self.objects.pop((ns, name))
        final = {**old, "metadata": {**old["metadata"], "resourceVersion": str(rv)}}
        self.log.publish(self.resource, "DELETED", old, final, rv)
        return final


def watch(log: EventLog, resource: tuple[str, str] = PODS, **kwargs: Any) -> Subscription:
    args: dict[str, Any] = {"namespace": None, "since": None, "initial": (),
                            "matches": everything, "current_rv": log.current_rv,
                            "bookmarks": False, "bookmark_object": bookmark}
    args.update(kwargs)
    return log.subscribe(resource, **args)


def seen(event: WatchEvent) -> tuple[str, str, str]:
    meta = event.object["metadata"]
    return (event.type, meta.get("name", ""), meta["resourceVersion"])


def drain(sub: Subscription) -> list[tuple[str, str, str]]:
    """Everything available now, without waiting."""
    out = []
    while (event := sub.next(timeout=0)) is not None:
        out.append(seen(event))
    return out


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# -- history ------------------------------------------------------------------------------


def test_no_since_starts_with_the_initial_objects_then_follows() -> None:
    log = EventLog()
    w = Writes(log)
    a, b = w.put("a"), w.put("b")
    sub = watch(log, initial=[a, b], current_rv=2)
    w.put("c")
    w.put("a")
    assert drain(sub) == [("ADDED", "a", "1"), ("ADDED", "b", "2"), ("ADDED", "c", "3"),
                          ("MODIFIED", "a", "4")]
    assert sub.resource_version == 4
    assert not sub.ended


def test_a_write_racing_the_snapshot_is_replayed_once() -> None:
    # The caller took its snapshot at rv 1; a write at rv 2 was published before it
    # subscribed: the log delivers it, and nothing twice.
    log = EventLog()
    w = Writes(log)
    a = w.put("a")
    w.put("b")
    sub = watch(log, initial=[a], current_rv=1)
    assert drain(sub) == [("ADDED", "a", "1"), ("ADDED", "b", "2")]


def test_since_replays_only_later_events_in_order() -> None:
    log = EventLog()
    w = Writes(log)
    for name in "abcde":
        w.put(name)
    w.delete("b")
    sub = watch(log, since=3)
    assert drain(sub) == [("ADDED", "d", "4"), ("ADDED", "e", "5"), ("DELETED", "b", "6")]


def test_since_the_current_version_delivers_only_new_writes() -> None:
    log = EventLog()
    w = Writes(log)
    w.put("a")
    sub = watch(log, since=1)
    assert drain(sub) == []
    w.put("b")
    assert drain(sub) == [("ADDED", "b", "2")]


def test_since_ahead_of_every_event_skips_events_up_to_it() -> None:
    # kube-apiserver 1.20's cacher: a future version is accepted and events at or below
    # it are not sent.
    log = EventLog()
    w = Writes(log)
    w.put("a")
    sub = watch(log, since=3)
    w.put("b")
    w.put("c")
    w.put("d")
    assert drain(sub) == [("ADDED", "d", "4")]


def test_window_eviction_makes_old_versions_too_old_with_the_cacher_rule() -> None:
    log = EventLog(window=3)
    w = Writes(log)
    for name in "abcde":
        w.put(name)  # rv 1..5; 3, 4, 5 retained
    assert log.oldest_rv(PODS) == 3
    assert log.floor(PODS) == 2  # oldest - 1
    assert drain(watch(log, since=2)) == [("ADDED", "c", "3"), ("ADDED", "d", "4"),
                                          ("ADDED", "e", "5")]
    with pytest.raises(TooOldResourceVersion) as info:
        watch(log, since=1)
    assert info.value.requested == 1 and info.value.floor == 2
    assert (info.value.code, info.value.reason, info.value.message) == (
        410, "Expired", "too old resource version: 1 (2)")


def test_the_window_is_per_resource() -> None:
    log = EventLog(window=2)
    pods, secrets = Writes(log, PODS), Writes(log, SECRETS)
    pods.put("p")  # rv 1
    for name in "abc":
        secrets.put(name)  # rv 2..4
    assert drain(watch(log, PODS, since=0)) == [("ADDED", "p", "1")]
    with pytest.raises(TooOldResourceVersion):
        watch(log, SECRETS, since=0)


def test_compact_forgets_everything_by_default() -> None:
    log = EventLog()
    w = Writes(log)
    w.put("a")
    w.put("b")
    log.compact()
    assert log.oldest_rv(PODS) is None
    with pytest.raises(TooOldResourceVersion):
        watch(log, since=1)
    sub = watch(log, since=2)
    w.put("c")
    assert drain(sub) == [("ADDED", "c", "3")]


def test_compact_up_to_a_version() -> None:
    log = EventLog()
    w = Writes(log)
    for name in "abcd":
        w.put(name)
    log.compact(2)
    assert log.floor(PODS) == 2
    assert log.oldest_rv(PODS) == 3
    assert drain(watch(log, since=2)) == [("ADDED", "c", "3"), ("ADDED", "d", "4")]
    with pytest.raises(TooOldResourceVersion):
        watch(log, since=1)
    log.compact(99)  # never beyond the current version
    assert log.floor(PODS) == 4 and log.current_rv == 4


def test_compact_covers_resources_without_events_yet() -> None:
    log = EventLog()
    Writes(log, PODS).put("a")
    Writes(log, PODS).put("b")
    log.compact()
    with pytest.raises(TooOldResourceVersion):
        watch(log, SECRETS, since=1)


def test_compact_does_not_cut_a_live_subscriber_short() -> None:
    log = EventLog()
    w = Writes(log)
    sub = watch(log, since=0)
    w.put("a")
    w.put("b")
    log.compact()
    assert drain(sub) == [("ADDED", "a", "1"), ("ADDED", "b", "2")]
    w.put("c")  # the compacted events are dropped once nobody needs them
    assert log.oldest_rv(PODS) == 3
    assert drain(sub) == [("ADDED", "c", "3")]


def test_a_subscriber_a_window_behind_is_ended_and_cannot_resume() -> None:
    log = EventLog(window=3)
    w = Writes(log)
    slow = watch(log, since=0)
    w.put("a")
    assert drain(slow) == [("ADDED", "a", "1")]
    for name in "bcde":
        w.put(name)  # rv 2 (slow's next event) leaves the window
    assert slow.next(timeout=0) is None
    assert slow.ended and slow.end_reason == "lagged"
    with pytest.raises(TooOldResourceVersion):  # the client's resume: then it relists
        watch(log, since=slow.resource_version)


def test_publish_refuses_out_of_order_versions_and_other_types() -> None:
    log = EventLog()
    log.publish(PODS, "ADDED", None, pod("a", 5), 5)
    with pytest.raises(ValueError, match="order"):
        log.publish(SECRETS, "ADDED", None, pod("b", 5), 5)
    with pytest.raises(ValueError, match="BOOKMARK"):
        log.publish(PODS, "BOOKMARK", None, pod("b", 6), 6)
    with pytest.raises(ValueError):
        EventLog(window=0)


# -- filtering ------------------------------------------------------------------------------


def test_namespace_filter() -> None:
    log = EventLog()
    w = Writes(log)
    sub = watch(log, since=0, namespace="a")
    w.put("x", ns="a")
    w.put("x", ns="b")
    w.delete("x", ns="b")
    w.delete("x", ns="a")
    assert drain(sub) == [("ADDED", "x", "1"), ("DELETED", "x", "4")]


def test_selector_transitions_are_added_modified_and_deleted() -> None:
    log = EventLog()
    w = Writes(log)
    sub = watch(log, since=0, matches=app_is("web"))
    w.put("p", app="db")       # 1: never matched: nothing
    w.put("p", app="web")      # 2: enters: ADDED
    w.put("p", app="web")      # 3: stays: MODIFIED
    w.put("p", app="db")       # 4: leaves: DELETED
    w.put("p", app="cache")    # 5: still out: nothing
    w.put("p", app="web")      # 6: enters again
    assert drain(sub) == [("ADDED", "p", "2"), ("MODIFIED", "p", "3"), ("DELETED", "p", "4"),
                          ("ADDED", "p", "6")]


def test_leaving_the_selector_sends_the_previous_content_at_the_new_version() -> None:
    log = EventLog()
    w = Writes(log)
    w.put("p", app="web")
    subs = [watch(log, since=1, matches=app_is("web")) for _ in range(2)]
    old = w.objects[("default", "p")]
    w.put("p", app="db")
    events = [sub.next(timeout=0) for sub in subs]
    assert events[0] is not None and events[1] is not None
    assert events[0].type == "DELETED"
    assert events[0].object["metadata"]["labels"] == {"app": "web"}
    assert events[0].object["metadata"]["resourceVersion"] == "2"
    assert events[0].object is events[1].object  # built once, shared
    assert old["metadata"]["resourceVersion"] == "1"  # the stored state is untouched


def test_deletions_are_judged_by_the_previous_state() -> None:
    log = EventLog()
    w = Writes(log)
    w.put("in", app="web")
    w.put("out", app="db")
    sub = watch(log, since=2, matches=app_is("web"))
    final = w.delete("in")
    w.delete("out")
    # A DELETED without old is judged by its final state.
    log.publish(PODS, "DELETED", None, pod("bare", 5, app="web"), 5)
    first = sub.next(timeout=0)
    assert first is not None and first.object is final  # the publisher's dict itself
    assert drain(sub) == [("DELETED", "bare", "5")]


def test_initial_objects_are_filtered_too() -> None:
    log = EventLog()
    w = Writes(log)
    objs = [w.put("a", app="web"), w.put("b", app="db"), w.put("c", ns="other", app="web")]
    sub = watch(log, initial=objs, current_rv=3, namespace="default", matches=app_is("web"))
    assert drain(sub) == [("ADDED", "a", "1")]


# -- watch-list and bookmarks ---------------------------------------------------------------


def test_watch_list_ends_its_initial_events_with_the_annotated_bookmark() -> None:
    log = EventLog()
    w = Writes(log)
    objs = [w.put("a"), w.put("b")]
    # since is a "not older than" bound here, not a replay point; no bookmarks asked.
    sub = watch(log, since=1, initial=objs, current_rv=2, send_initial_events=True)
    w.put("c")
    events = []
    while (event := sub.next(timeout=0)) is not None:
        events.append(event)
    assert [e.type for e in events] == ["ADDED", "ADDED", "BOOKMARK", "ADDED"]
    assert events[2].object == bookmark(2, True)
    assert events[3].object["metadata"]["name"] == "c"


def test_bookmark_after_the_pending_events_are_drained() -> None:
    log = EventLog()
    w = Writes(log)
    sub = watch(log, since=0, bookmarks=True)
    assert drain(sub) == []  # nothing delivered yet: no bookmark
    w.put("a")
    w.put("b")
    assert drain(sub) == [("ADDED", "a", "1"), ("ADDED", "b", "2"), ("BOOKMARK", "", "2")]
    assert drain(sub) == []  # one bookmark per burst
    w.put("c")
    assert drain(sub) == [("ADDED", "c", "3"), ("BOOKMARK", "", "3")]


def test_a_bookmark_carries_the_logs_version_and_follows_skipped_events() -> None:
    log = EventLog()
    pods, secrets = Writes(log, PODS), Writes(log, SECRETS)
    sub = watch(log, since=0, bookmarks=True, namespace="mine")
    pods.put("x", ns="elsewhere")  # rv 1: filtered out, yet progress
    secrets.put("s")               # rv 2: another resource
    assert drain(sub) == [("BOOKMARK", "", "2")]
    assert sub.resource_version == 2


def test_watch_list_with_bookmarks_sends_no_extra_bookmark() -> None:
    log = EventLog()
    w = Writes(log)
    a = w.put("a")
    sub = watch(log, initial=[a], current_rv=1, send_initial_events=True, bookmarks=True)
    assert drain(sub) == [("ADDED", "a", "1"), ("BOOKMARK", "", "1")]
    w.put("b")
    assert drain(sub) == [("ADDED", "b", "2"), ("BOOKMARK", "", "2")]


def test_no_bookmarks_unless_asked() -> None:
    log = EventLog()
    w = Writes(log)
    a = w.put("a")
    sub = watch(log, initial=[a], current_rv=1)
    w.put("b")
    assert [t for t, _, _ in drain(sub)] == ["ADDED", "ADDED"]


# -- ending: timeouts and close -------------------------------------------------------------


def test_the_stream_ends_at_its_timeout_on_the_logs_clock() -> None:
    clock = FakeClock()
    log = EventLog(clock=clock)
    w = Writes(log)
    sub = watch(log, since=0, timeout=30)
    w.put("a")
    clock.now += 10
    assert drain(sub) == [("ADDED", "a", "1")]
    w.put("b")
    clock.now += 20  # the deadline passes with an event pending: it is not sent
    assert sub.next(timeout=0) is None
    assert sub.ended and sub.end_reason == "timeout"


def test_a_blocking_reader_returns_at_the_streams_timeout() -> None:
    log = EventLog()
    sub = watch(log, since=0, timeout=0.1)
    started = time.monotonic()
    assert sub.next() is None
    assert 0.08 <= time.monotonic() - started < 2
    assert sub.end_reason == "timeout"


def test_a_call_timeout_returns_none_and_the_stream_goes_on() -> None:
    log = EventLog()
    w = Writes(log)
    sub = watch(log, since=0)
    assert sub.next(timeout=0.02) is None
    assert not sub.ended
    assert not log._logs[PODS].waiting  # a reader that stopped waiting is not woken
    w.put("a")
    event = sub.next(timeout=0.02)
    assert event is not None and seen(event) == ("ADDED", "a", "1")


def test_close_wakes_a_blocked_thread_and_is_idempotent() -> None:
    log = EventLog()
    sub = watch(log, since=0)
    got: list[WatchEvent | None] = []
    reader = threading.Thread(target=lambda: got.append(sub.next()))
    reader.start()
    time.sleep(0.05)
    assert reader.is_alive()
    sub.close()
    reader.join(2)
    assert not reader.is_alive() and got == [None]
    sub.close()
    assert sub.end_reason == "closed"
    Writes(log).put("a")
    assert sub.next(timeout=0) is None


def test_ended_subscriptions_leave_the_log() -> None:
    log = EventLog()
    Writes(log).put("a")
    subs = [watch(log, since=1) for _ in range(3)]
    logs = log._logs[PODS]
    assert len(logs.subscribers) == 3
    subs[0].close()
    assert len(logs.subscribers) == 2
    del subs
    gc.collect()
    assert len(logs.subscribers) == 0  # an abandoned subscription is not kept alive


def test_batches_take_everything_available() -> None:
    log = EventLog()
    w = Writes(log)
    sub = watch(log, since=0, timeout=60, bookmarks=True)
    assert sub.next_batch(timeout=0) == []
    for name in "abc":
        w.put(name)
    batch = sub.next_batch(timeout=0, limit=2)
    assert batch is not None and [seen(e) for e in batch] == [("ADDED", "a", "1"),
                                                              ("ADDED", "b", "2")]
    batch = sub.next_batch(timeout=0)
    assert batch is not None and [seen(e) for e in batch] == [("ADDED", "c", "3"),
                                                              ("BOOKMARK", "", "3")]
    sub.close()
    assert sub.next_batch(timeout=0) is None


async def test_async_batches() -> None:
    log = EventLog()
    w = Writes(log)
    sub = watch(log, since=0)
    assert await sub.anext_batch(timeout=0.01) == []
    threading.Timer(0.02, lambda: [w.put("a"), w.put("b")]).start()
    batch = await asyncio.wait_for(sub.anext_batch(), 5)
    assert batch is not None and batch[0].object["metadata"]["name"] == "a"
    rest = batch[1:] or await sub.anext_batch(timeout=1) or []
    assert [e.object["metadata"]["name"] for e in rest] == ["b"]
    sub.close()
    assert await sub.anext_batch() is None


# -- threads ------------------------------------------------------------------------------


def test_a_thread_publisher_and_blocking_readers() -> None:
    log = EventLog()
    w = Writes(log)
    subs = [watch(log, since=0, bookmarks=True) for _ in range(40)]
    results: list[list[tuple[str, str, str]]] = [[] for _ in subs]

    def read(i: int) -> None:
        while (event := subs[i].next(timeout=5)) is not None:
            if event.type != "BOOKMARK":
                results[i].append(seen(event))
            if subs[i].resource_version == 200 and event.type == "BOOKMARK":
                return

    readers = [threading.Thread(target=read, args=(i,)) for i in range(len(subs))]
    for t in readers:
        t.start()

    def write() -> None:
        for i in range(200):
            w.put(f"p{i % 7}")

    writer = threading.Thread(target=write)
    writer.start()
    writer.join(10)
    for t in readers:
        t.join(10)
    expected = [("ADDED" if i < 7 else "MODIFIED", f"p{i % 7}", str(i + 1)) for i in range(200)]
    assert all(r == expected for r in results)


def test_concurrent_publishers_keep_every_reader_in_version_order() -> None:
    log = EventLog()
    lock = threading.Lock()  # the tracker's lock: versions are allocated and published under it
    counter = [0]

    def write(resource: tuple[str, str], n: int) -> None:
        for i in range(n):
            with lock:
                counter[0] += 1
                log.publish(resource, "ADDED", None, pod(f"x{i}", counter[0]), counter[0])

    sub = watch(log, since=0)
    writers = [threading.Thread(target=write, args=(PODS, 100)),
               threading.Thread(target=write, args=(PODS, 100)),
               threading.Thread(target=write, args=(SECRETS, 100))]
    for t in writers:
        t.start()
    got: list[int] = []
    while len(got) < 200 and (event := sub.next(timeout=5)) is not None:
        got.append(int(event.object["metadata"]["resourceVersion"]))
    for t in writers:
        t.join(10)
    assert len(got) == 200 and got == sorted(got)


# -- asyncio --------------------------------------------------------------------------------


async def test_anext_is_woken_by_a_publisher_thread() -> None:
    log = EventLog()
    w = Writes(log)
    sub = watch(log, since=0)
    timer = threading.Timer(0.05, lambda: w.put("a"))
    timer.start()
    event = await asyncio.wait_for(sub.anext(), 5)
    timer.join()
    assert event is not None and seen(event) == ("ADDED", "a", "1")


async def test_anext_is_woken_by_a_publish_on_the_loop() -> None:
    log = EventLog()
    w = Writes(log)
    sub = watch(log, since=0)
    task = asyncio.ensure_future(sub.anext())
    await asyncio.sleep(0.01)
    assert not task.done()
    w.put("a")
    event = await asyncio.wait_for(task, 5)
    assert event is not None and seen(event) == ("ADDED", "a", "1")


async def test_close_from_a_thread_wakes_anext() -> None:
    log = EventLog()
    sub = watch(log, since=0)
    timer = threading.Timer(0.05, sub.close)
    timer.start()
    assert await asyncio.wait_for(sub.anext(), 5) is None
    timer.join()
    assert sub.end_reason == "closed"


async def test_anext_timeouts_and_async_iteration() -> None:
    log = EventLog()
    w = Writes(log)
    sub = watch(log, since=0, timeout=0.3)
    assert await sub.anext(timeout=0.01) is None
    assert not sub.ended
    w.put("a")
    w.put("b")
    got = [seen(event) async for event in sub]  # until the stream's timeout
    assert got == [("ADDED", "a", "1"), ("ADDED", "b", "2")]
    assert sub.end_reason == "timeout"


async def test_many_async_subscribers_and_a_cancelled_reader() -> None:
    log = EventLog()
    w = Writes(log)
    subs = [watch(log, since=0) for _ in range(30)]
    cancelled = asyncio.ensure_future(subs[0].anext())
    await asyncio.sleep(0.01)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    readers = [asyncio.ensure_future(sub.anext()) for sub in subs]
    await asyncio.sleep(0.01)
    threading.Thread(target=lambda: w.put("a")).start()
    events = await asyncio.wait_for(asyncio.gather(*readers), 5)
    assert all(e is not None and seen(e) == ("ADDED", "a", "1") for e in events)


# -- the property: any interleaving converges on the state the writes produce ---------------

NAMES = ("a", "b", "c")
SPACES = ("n1", "n2")
write_ops = st.tuples(st.sampled_from(["put", "delete"]), st.sampled_from(NAMES),
                      st.sampled_from(SPACES), st.sampled_from(["web", "db"]),
                      st.sampled_from([0, 0, 0, 1, 2, 5]))  # reads after the write


def visible(state: dict[tuple[str, str], Obj], namespace: str | None) -> dict[tuple[str, str], str]:
    return {key: obj["metadata"]["resourceVersion"] for key, obj in state.items()
            if app_is("web")(obj) and (namespace is None or key[0] == namespace)}


class Client:
    """An informer in miniature over ``app=web`` objects: resume from the last version,
    relist on 410, and check every event against what it holds."""

    def __init__(self, log: EventLog, writes: Writes, namespace: str | None, bookmarks: bool,
                 lock: threading.Lock | None = None) -> None:
        self.log, self.writes, self.namespace, self.bookmarks = log, writes, namespace, bookmarks
        self.lock = lock if lock is not None else threading.Lock()
        self.view: dict[tuple[str, str], str] = {}
        self.last_rv = 0
        self.sub: Subscription | None = None
        self.lagged = self.relisted = 0

    def relist(self) -> None:
        with self.lock:  # the tracker's snapshot: objects and version together
            initial, rv = list(self.writes.objects.values()), self.log.current_rv
        self.view = {}
        self.last_rv = rv
        self.sub = watch(self.log, namespace=self.namespace, initial=initial, current_rv=rv,
                         matches=app_is("web"), bookmarks=self.bookmarks)

    def resume(self) -> None:
        try:
            self.sub = watch(self.log, namespace=self.namespace, since=self.last_rv,
                             matches=app_is("web"), bookmarks=self.bookmarks)
        except TooOldResourceVersion:
            assert self.last_rv < self.log.floor(PODS)
            self.relisted += 1
            self.relist()

    def read(self, n: int | None, wait: float = 0) -> None:
        """Up to ``n`` events (all available if ``None``)."""
        count = 0
        while n is None or count < n:
            assert self.sub is not None
            event = self.sub.next(timeout=wait)
            if event is None:
                if not self.sub.ended:
                    return
                assert self.sub.end_reason == "lagged"
                self.lagged += 1
                self.resume()
                continue
            count += 1
            self.apply(event)

    def apply(self, event: WatchEvent) -> None:
        meta = event.object["metadata"]
        rv = int(meta["resourceVersion"])
        if event.type == "BOOKMARK":
            assert rv >= self.last_rv
            self.last_rv = rv
            return
        key = (meta["namespace"], meta["name"])
        assert app_is("web")(event.object)
        assert self.namespace is None or key[0] == self.namespace
        if event.type == "DELETED":
            assert key in self.view
            del self.view[key]
        else:
            assert (key in self.view) == (event.type == "MODIFIED")
            self.view[key] = meta["resourceVersion"]
        if rv <= self.last_rv:
            assert event.type == "ADDED"  # an initial object carries its own version
        self.last_rv = max(self.last_rv, rv)


@settings(max_examples=150, deadline=None)
@given(ops=st.lists(write_ops, max_size=30), open_at=st.integers(0, 30),
       since_back=st.integers(0, 30), use_since=st.booleans(), window=st.integers(1, 8),
       namespace=st.sampled_from([None, "n1"]), bookmarks=st.booleans())
def test_any_interleaving_yields_the_state_the_writes_produce(
        ops: list[tuple[str, str, str, str, int]], open_at: int, since_back: int,
        use_since: bool, window: int, namespace: str | None, bookmarks: bool) -> None:
    log = EventLog(window=window)
    w = Writes(log)
    history: list[dict[tuple[str, str], Obj]] = [{}]  # the state after each version

    def apply(op: tuple[str, str, str, str, int]) -> None:
        kind, name, ns, app, _ = op
        if kind == "delete" and (ns, name) in w.objects:
            w.delete(name, ns)
        elif kind == "put":
            w.put(name, ns, app)
        else:
            return
        history.append(dict(w.objects))

    open_at = min(open_at, len(ops))
    for op in ops[:open_at]:
        apply(op)
    client = Client(log, w, namespace, bookmarks)
    if use_since:  # a client that held the state of some earlier version
        client.last_rv = max(0, log.current_rv - since_back)
        client.view = visible(history[client.last_rv], namespace)
        client.resume()
    else:
        client.relist()
    for op in ops[open_at:]:
        apply(op)
        client.read(op[4])
    client.read(None)
    assert client.view == visible(w.objects, namespace)
    if client.lagged:
        note("fell a window behind")
    if client.relisted:
        note("resumed too late: relisted")


def test_concurrent_writers_and_a_lagging_reader_converge() -> None:
    log = EventLog(window=8)
    w = Writes(log)
    lock = threading.Lock()
    client = Client(log, w, None, bookmarks=True, lock=lock)
    client.relist()

    def write(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(300):
            with lock:
                name, ns = rng.choice(NAMES), rng.choice(SPACES)
                if rng.random() < 0.3 and (ns, name) in w.objects:
                    w.delete(name, ns)
                else:
                    w.put(name, ns, rng.choice(["web", "db"]))

    writers = [threading.Thread(target=write, args=(seed,)) for seed in range(3)]
    for t in writers:
        t.start()
    while any(t.is_alive() for t in writers):
        client.read(3, wait=0.001)
        time.sleep(0.0005)  # slower than the writers: it falls behind and relists
    for t in writers:
        t.join()
    client.read(None)
    assert client.view == visible(w.objects, None)
