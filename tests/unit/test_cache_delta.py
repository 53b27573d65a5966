"""Delta processing, alone and driven by the watcher against a simulated API server."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubecodegen_runtime.cache import (
    AddNotification,
    Apply,
    Delete,
    DeletedFinalStateUnknown,
    DeleteNotification,
    Delta,
    DeltaProcessor,
    DeltaType,
    Init,
    InitApply,
    InitDone,
    ListRequest,
    Notification,
    Step,
    ThreadSafeStore,
    UpdateNotification,
    Watcher,
    WatcherConfig,
    WatchRequest,
    get_resource_version,
    meta_namespace_key,
    new_indexer,
    strip_managed_fields,
)
from kubecodegen_runtime.errors import ApiError, ResourceExpired
from kubecodegen_runtime.watch import INITIAL_EVENTS_END, Bookmark, WatchEvent

from .cache_objects import Pod, pod, pod_dict


def expired() -> ApiError:
    """What the client raises when the server says the resourceVersion is gone."""
    return ResourceExpired(410, "Expired", "too old resource version")


def processor(**kwargs: Any) -> tuple[DeltaProcessor[Any], ThreadSafeStore[Any]]:
    store: ThreadSafeStore[Any] = new_indexer()
    return DeltaProcessor(store, **kwargs), store


def initial(proc: DeltaProcessor[Any], *objs: Any, rv: str = "10") -> list[Notification[Any]]:
    return proc.handle_all([Init(), *(InitApply(o) for o in objs), InitDone(rv)])


def test_initial_listing_adds_with_is_in_initial_list_and_syncs() -> None:
    proc, store = processor()
    a, b = pod("a"), pod("b")
    assert not proc.has_synced()
    notes = proc.handle_all([Init(), InitApply(a), InitApply(b)])
    assert notes == [AddNotification(a, True), AddNotification(b, True)]
    assert not proc.has_synced()  # not until the listing is complete
    assert proc.handle(InitDone("10")) == []
    assert proc.has_synced()
    assert sorted(store.list_keys()) == ["default/a", "default/b"]


def test_watch_events_after_sync() -> None:
    proc, store = processor()
    a1 = pod("a", rv="1")
    initial(proc, a1)
    b = pod("b", rv="11")
    assert proc.handle(Apply(b)) == [AddNotification(b, False)]
    a2 = pod("a", rv="12")
    assert proc.handle(Apply(a2)) == [UpdateNotification(a1, a2)]
    assert store.get_by_key("default/a") is a2
    a_final = pod("a", rv="13")
    assert proc.handle(Delete(a_final)) == [DeleteNotification(a_final)]
    assert store.get_by_key("default/a") is None
    # a delete for something never cached is dropped: nobody was told it existed
    assert proc.handle(Delete(pod("ghost", rv="14"))) == []


def test_relist_turns_vanished_objects_into_tombstones_with_last_known_state() -> None:
    proc, store = processor()
    keep1, gone1, gone2 = pod("keep", rv="1"), pod("gone", rv="2"), pod("gone2", "other", rv="3")
    initial(proc, keep1, gone1, gone2)
    keep2, new = pod("keep", rv="20"), pod("new", rv="21")
    notes = proc.handle_all([Init(), InitApply(keep2), InitApply(new), InitDone("22")])
    assert notes[:2] == [UpdateNotification(keep1, keep2), AddNotification(new, False)]
    tombstones = {n.obj.key: n.obj for n in notes[2:]
                  if isinstance(n, DeleteNotification)
                  and isinstance(n.obj, DeletedFinalStateUnknown)}
    assert len(notes) == 4 and set(tombstones) == {"default/gone", "other/gone2"}
    assert tombstones["default/gone"].obj is gone1
    assert tombstones["other/gone2"].obj is gone2
    assert sorted(store.list_keys()) == ["default/keep", "default/new"]


def test_replace_deltas_names_every_change() -> None:
    proc, _ = processor()
    old = pod("old")
    initial(proc, old)
    fresh = pod("fresh")
    deltas = proc.replace_deltas([fresh])
    expected: list[Delta[Any]] = [
        Delta(DeltaType.REPLACED, fresh),
        Delta(DeltaType.DELETED, DeletedFinalStateUnknown("default/old", old)),
    ]
    assert deltas == expected
    notes: list[Notification[Any]] = [
        AddNotification(fresh, False),
        DeleteNotification(DeletedFinalStateUnknown("default/old", old)),
    ]
    assert proc.apply(deltas) == notes


def test_interrupted_listing_deletes_nothing_and_the_next_one_settles() -> None:
    proc, store = processor()
    initial(proc, pod("a"), pod("b"))
    page1 = pod("a", rv="30")
    proc.handle_all([Init(), InitApply(page1)])  # listing breaks off after page 1
    assert sorted(store.list_keys()) == ["default/a", "default/b"]
    notes = proc.handle_all([Init(), InitApply(page1), InitDone("40")])
    assert [type(n) for n in notes] == [UpdateNotification, DeleteNotification]
    assert store.list_keys() == ["default/a"]


def test_resync_replays_the_cache_without_changing_it() -> None:
    proc, store = processor()
    a, b = pod("a"), pod("b")
    initial(proc, a, b)
    assert proc.resync_deltas() == [Delta(DeltaType.SYNC, a), Delta(DeltaType.SYNC, b)]
    notes = proc.resync()
    assert notes == [UpdateNotification(a, a, is_resync=True),
                     UpdateNotification(b, b, is_resync=True)]
    assert store.get_by_key("default/a") is a and len(store) == 2


def test_transform_runs_before_caching() -> None:
    proc, store = processor(transform=strip_managed_fields)
    listed, applied, deleted = pod("a", managed=True), pod("b", managed=True), pod("a",
                                                                                  managed=True)
    initial(proc, listed)
    proc.handle(Apply(applied))
    cached = [store.get_by_key("default/a"), store.get_by_key("default/b")]
    [note] = proc.handle(Delete(deleted))
    assert isinstance(note, DeleteNotification)
    for obj in (*cached, note.obj):
        assert isinstance(obj, Pod) and obj.metadata is not None
        assert obj.metadata.managed_fields is None
    assert listed.metadata is not None
    assert listed.metadata.managed_fields is not None  # the input object was not modified


def test_dict_objects() -> None:
    proc, store = processor()
    initial(proc, pod_dict("a", "x"), pod_dict("node", None))
    assert sorted(store.list_keys()) == ["node", "x/a"]
    [note] = proc.handle(Apply(pod_dict("node", None, rv="2")))
    assert isinstance(note, UpdateNotification)
    assert note.old["metadata"]["resourceVersion"] == "1"


def test_rejects_non_events() -> None:
    proc, _ = processor()
    with pytest.raises(TypeError, match="not a watcher event: str"):
        proc.deltas("ADDED")  # type: ignore[arg-type]


# -- the watcher and delta processing against a simulated API server ------------------------


class Gone(Exception):
    pass


class FakeServer:
    """Objects, a global resourceVersion, an event log and compaction; answers requests."""

    def __init__(self) -> None:
        self.rv = 1
        self.objects: dict[str, dict[str, Any]] = {}
        self.log: list[tuple[int, str, dict[str, Any]]] = []
        self.compacted = 0
        self.snapshots: dict[str, tuple[int, list[dict[str, Any]]]] = {}

    def mutate(self, name: str, delete: bool | None = None) -> None:
        self.rv += 1
        key = f"ns/{name}"
        if delete is None:
            delete = self.rv % 3 == 0
        if key in self.objects and delete:
            obj = dict(self.objects.pop(key))
            obj["metadata"] = {**obj["metadata"], "resourceVersion": str(self.rv)}
            self.log.append((self.rv, "DELETED", obj))
        else:
            kind = "MODIFIED" if key in self.objects else "ADDED"
            obj = pod_dict(name, "ns", rv=str(self.rv))
            self.objects[key] = obj
            self.log.append((self.rv, kind, obj))

    def list_page(self, req: ListRequest) -> tuple[list[dict[str, Any]], str, str | None]:
        if req.continue_token:
            snap_rv, items = self.snapshots[req.continue_token]
            if snap_rv < self.compacted:
                raise Gone("continue token expired")
        else:
            if req.resource_version not in ("", "0") and req.limit is not None and int(
                    req.resource_version) < self.compacted:
                raise Gone("exact version compacted")
            snap_rv, items = self.rv, [self.objects[k] for k in sorted(self.objects)]
        limit = req.limit or len(items) or 1
        page, rest = items[:limit], items[limit:]
        token = None
        if rest:
            token = f"t{len(self.snapshots)}"
            self.snapshots[token] = (snap_rv, rest)
        return page, str(snap_rv), token

    def events_after(self, rv: int) -> list[tuple[int, str, dict[str, Any]]]:
        if rv < self.compacted:
            raise Gone("too old resource version")
        return [e for e in self.log if e[0] > rv]


class Driver:
    """A synchronous stand-in for the real drivers: requests go to the FakeServer."""

    def __init__(self, server: FakeServer, page_size: int, watch_list: bool = False) -> None:
        self.server = server
        self.watcher: Watcher[Any] = Watcher(
            WatcherConfig(page_size=page_size, watch_list=watch_list),
            rng=random.Random(0), clock=lambda: 0.0)
        # a watch-list stream's initial events not delivered yet (the state when it opened)
        self.initial: list[WatchEvent[Any] | Bookmark] = []
        self.store: ThreadSafeStore[Any] = new_indexer()
        self.deltas = DeltaProcessor(self.store)
        self.seen_by_handler: dict[str, Any] = {}
        self.notes: list[Notification[Any]] = []
        self.cursor: int | None = None  # watch position while a watch is open
        self.pending: Step[Any] = self.watcher.start()

    def _consume(self, step: Step[Any]) -> None:
        for note in self.deltas.handle_all(step.events):
            self.notes.append(note)
            if isinstance(note, AddNotification):
                self.seen_by_handler[meta_namespace_key(note.obj)] = note.obj
            elif isinstance(note, UpdateNotification):
                self.seen_by_handler[meta_namespace_key(note.new)] = note.new
            else:
                del self.seen_by_handler[meta_namespace_key(note.obj)]
        if step.request is not None:
            self.cursor = None
            self.initial = []
            self.pending = step

    def serve(self) -> None:
        """Answer the outstanding request (a list page, or opening the watch)."""
        request = self.pending.request
        if request is None:
            return
        self.pending = Step()
        if isinstance(request, ListRequest):
            try:
                items, rv, token = self.server.list_page(request)
            except Gone:
                self._consume(self.watcher.on_list_error(expired()))
                return
            self._consume(self.watcher.on_list_page(items, rv, token))
        else:
            assert isinstance(request, WatchRequest)
            if request.send_initial_events:
                self._open_watch_list(request)
                return
            try:
                self.server.events_after(int(request.resource_version))
            except Gone:
                self._consume(self.watcher.on_watch_error(expired()))
                return
            self.watcher.on_watch_opened()
            self.cursor = int(request.resource_version)

    def _open_watch_list(self, request: WatchRequest) -> None:
        """The server's side of a watch-list: the current state as ADDED events, then the
        initial-events-end bookmark, then the changes after that state."""
        if request.resource_version and int(request.resource_version) < self.server.compacted:
            self._consume(self.watcher.on_watch_error(expired()))
            return
        self.watcher.on_watch_opened()
        self.initial = [WatchEvent("ADDED", self.server.objects[k])
                        for k in sorted(self.server.objects)]
        self.initial.append(Bookmark(str(self.server.rv), {INITIAL_EVENTS_END: "true"}))
        self.cursor = self.server.rv

    def deliver(self) -> None:
        if self.initial:
            self._consume(self.watcher.on_watch_event(self.initial.pop(0)))
            return
        if self.cursor is None:
            return
        try:
            events = self.server.events_after(self.cursor)
        except Gone:
            self._consume(self.watcher.on_watch_error(expired()))
            return
        if events:
            rv, kind, obj = events[0]
            self.cursor = rv
            self._consume(self.watcher.on_watch_event(WatchEvent(kind, obj)))

    def bookmark(self) -> None:
        if self.cursor is None or self.cursor < self.server.compacted:
            return  # a compacted cursor gets the 410 ERROR event (deliver), not a bookmark
        if not self.server.events_after(self.cursor):
            self.cursor = self.server.rv
            self._consume(self.watcher.on_watch_event(Bookmark(str(self.server.rv))))

    def disconnect(self) -> None:
        if self.cursor is not None:
            self._consume(self.watcher.on_watch_error(ConnectionResetError("reset")))

    def close(self) -> None:
        if self.cursor is not None:
            self._consume(self.watcher.on_watch_closed())

    def settle(self) -> None:
        for _ in range(10_000):
            if self.pending.request is not None:
                self.serve()
            elif self.initial:
                self.deliver()
            elif self.cursor is not None and self.cursor < self.server.rv:
                if self.cursor < self.server.compacted or self.server.events_after(self.cursor):
                    self.deliver()  # an event, or the 410 ERROR event for a compacted cursor
                else:
                    self.bookmark()  # versions without events for us: a bookmark moves on
            else:
                return
        raise AssertionError("driver did not settle")


_actions = st.lists(st.one_of(
    st.tuples(st.just("mutate"), st.sampled_from("abcdefgh")),
    st.tuples(st.sampled_from(["serve", "deliver", "deliver", "bookmark", "disconnect",
                               "close", "compact"]), st.just("")),
), max_size=80)


@settings(max_examples=150, deadline=None)
@given(_actions, st.sampled_from([1, 2, 500]), st.booleans())
def test_cache_converges_to_the_server_state(actions: list[tuple[str, str]],
                                             page_size: int, watch_list: bool) -> None:
    """Paged LISTs or watch-lists, with events, disconnects, closes and compactions in any
    order (also in the middle of a listing): the cache ends equal to the server."""
    server = FakeServer()
    for name in "abc":
        server.mutate(name)
    driver = Driver(server, page_size, watch_list)
    for action, name in actions:
        if action == "mutate":
            server.mutate(name)
        elif action == "compact":
            server.compacted = server.rv
        else:
            getattr(driver, action)()
    driver.settle()
    expected = {k: get_resource_version(v) for k, v in server.objects.items()}
    cached = {k: get_resource_version(driver.store.get_by_key(k)) for k in driver.store.list_keys()}
    assert cached == expected
    # handlers saw exactly the same history: nothing lost, nothing extra
    assert {k: get_resource_version(v) for k, v in driver.seen_by_handler.items()} == expected
    assert driver.deltas.has_synced()


def test_objects_deleted_while_disconnected_arrive_as_tombstones() -> None:
    server = FakeServer()
    for name in "abc":
        server.mutate(name)
    driver = Driver(server, page_size=2)
    driver.settle()
    before = driver.store.get_by_key("ns/b")
    assert before is not None
    driver.disconnect()
    # while disconnected: b is deleted and history is compacted past our version
    server.mutate("b", delete=True)
    server.mutate("d")
    server.compacted = server.rv
    driver.notes.clear()
    driver.settle()
    tombstones = [n.obj for n in driver.notes if isinstance(n, DeleteNotification)]
    assert tombstones == [DeletedFinalStateUnknown("ns/b", before)]
    assert tombstones[0].obj is before  # the last state the cache knew
    assert sorted(driver.store.list_keys()) == ["ns/a", "ns/c", "ns/d"]


def test_struct_objects_round_trip_through_the_pipeline() -> None:
    proc, store = processor()
    objs = [pod(f"p{i}", rv=str(i)) for i in range(3)]
    initial(proc, *objs)
    assert all(isinstance(o, Pod) for o in store.list())
