"""The fake API server's watch core: an event log per resource and the subscriptions that read it.

The object tracker hands every write to :meth:`EventLog.publish` (under its own lock,
in resourceVersion order); the fake transport turns a :class:`Subscription` into a watch
stream. Nothing here does I/O or knows about HTTP: the caller maps query parameters to
:meth:`EventLog.subscribe` arguments and :class:`TooOldResourceVersion` to the answer a
real server gives. The rules are kube-apiserver's watch cache
(``k8s.io/apiserver/pkg/storage/cacher``):

* **History.** Each ``(group, resource)`` keeps its last ``window`` events (the watch
  cache's capacity). A watch from resourceVersion ``N`` (``since=N``) replays the
  retained events with ``rv > N`` and then follows. ``N`` is too old when it is below the
  resource's *floor*: ``oldest retained rv - 1`` once an event has been evicted (the
  cacher's ``oldest-1`` rule), or the version given to :meth:`EventLog.compact`; then
  :class:`TooOldResourceVersion` (410 Gone, reason ``Expired``, message ``too old resource
  version: N (floor)``). A real server that has parsed the request answers that as HTTP
  200 with one ``ERROR`` event carrying the Status, not as a 410 response. An ``N`` ahead
  of every event is accepted and delivers only events with ``rv > N`` (kube-apiserver 1.20;
  the caller maps ``""`` and ``"0"`` to ``since=None``).
* **Initial state.** ``since=None`` starts with ``initial`` (the current objects at
  ``current_rv``, in the caller's order) as ``ADDED`` events, then every event with
  ``rv > current_rv`` -- from the log, so a write that raced the caller's snapshot is
  neither lost nor doubled. ``send_initial_events=True`` (a watch-list, KEP-3157) does the
  same whatever ``since`` is (then a "not older than" bound the caller checks), and ends
  the initial events with a ``BOOKMARK`` whose object is ``bookmark_object(current_rv,
  True)`` (annotated ``k8s.io/initial-events-end: "true"``), sent even without
  ``bookmarks`` (the real server requires them for watch-lists).
* **Filtering with transitions** (the cacher's ``convertToWatchEvent``). An event is
  judged by its new state (never for ``DELETED``) and its old state, each through the
  namespace and ``matches``: passes now and before -> ``MODIFIED`` (new state); now only ->
  ``ADDED`` (new state); before only -> ``DELETED`` with the *previous* content carrying the
  event's resourceVersion (what the real server sends for an object leaving the
  selector, and for a deletion: ``new`` is that state). A ``DELETED`` without ``old`` is
  judged by ``new``. Initial objects are filtered too.
* **Order.** Events reach every subscriber in resourceVersion order; :meth:`EventLog.publish`
  refuses a version that is not above every version published before.
* **Bookmarks** (``bookmarks=True``): when a subscriber has drained everything pending
  and has moved past an event since its last bookmark (delivered it, or skipped it as
  filtered), the next read is a ``BOOKMARK`` whose object is ``bookmark_object(rv, False)``
  at the log's current resourceVersion. Real servers send bookmarks on a timer (about a
  minute, or shortly before the watch times out); an immediate one keeps tests fast and
  keeps informers correct: a selective watcher that saw nothing still resumes from a
  recent version instead of hitting 410 once its last event leaves the window, which is
  why bookmarks exist. Skipped events count for that reason.
* **A slow subscriber** needs no buffer of its own: it reads the log through a cursor.
  One that falls a whole ``window`` behind (its next event was evicted) has its stream
  ended, as the cacher ends a watcher whose buffer stays full; the client resumes from its
  last version and, that being too old by then, gets 410 and relists -- the real chain.
  :meth:`EventLog.compact` does not cut live subscribers short: it forgets history for
  *new* watches; events a live subscriber has not read yet are dropped once it passes them.
* **Timeouts.** A stream ends ``timeout`` seconds after :meth:`EventLog.subscribe`
  (``timeoutSeconds``), measured on the log's clock (monotonic, injectable), even with
  events pending: the client resumes from its last version as after any real timeout.
  :meth:`Subscription.close` ends it from any thread and wakes a blocked reader.

Concurrency: one lock per log guards all state; :meth:`EventLog.publish` appends and
wakes only the blocked subscribers of that resource (O(waiting subscribers)); filters,
copies and ``bookmark_object`` run in the reader, outside the lock. A subscription has one reader.
:meth:`Subscription.next` (threads) and :meth:`Subscription.anext` (asyncio: the wake-up is
``loop.call_soon_threadsafe``) are thin shells over one core (``_step`` under the lock,
``_finish`` outside it); :meth:`Subscription.next_batch` / :meth:`Subscription.anext_batch`
add whatever else is ready, for a transport writing chunks. Objects are never changed:
publishers hand over dicts nobody mutates afterwards and subscribers receive those very
dicts; the one derived object, a leaving object's ``DELETED`` state, is a shallow copy
built once per event and shared.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "EventLog",
    "Subscription",
    "TooOldResourceVersion",
    "WatchEvent",
]

Resource = tuple[str, str]
"""``(group, resource)``: ``("", "pods")``, ``("apps", "deployments")``."""

_WRITE_TYPES = frozenset({"ADDED", "MODIFIED", "DELETED"})


@dataclass(frozen=True, slots=True)
class WatchEvent:
    """One event of a watch stream, as the transport encodes it (``{"type", "object"}``)."""

    type: str
    """``ADDED``, ``MODIFIED``, ``DELETED``, ``BOOKMARK`` (or ``ERROR``, from callers)."""
    object: dict[str, Any]
    """JSON-ready; shared, never mutated."""


class TooOldResourceVersion(Exception):
    """A watch asked to resume from a version older than the history kept.

    The caller answers with the Status ``code`` / ``reason`` / ``message`` below (an open
    watch's ``ERROR`` event, as the real server does).
    """

    code = 410
    reason = "Expired"

    def __init__(self, requested: int, floor: int) -> None:
        self.requested = requested
        self.floor = floor
        """The oldest version a watch can still resume from."""
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The real server's Status message."""
        return f"too old resource version: {self.requested} ({self.floor})"


class _Entry:
    """One published write; ``leaving`` caches the DELETED object sent to subscribers
    the object leaves (the old content at this event's version), built on first need."""

    __slots__ = ("leaving", "new", "old", "rv", "type")

    def __init__(self, event_type: str, old: dict[str, Any] | None, new: dict[str, Any],
                 rv: int) -> None:
        self.type = event_type
        self.old = old
        self.new = new
        self.rv = rv
        self.leaving: dict[str, Any] | None = None


class _ResourceLog:
    """The retained events of one resource: ``events[i]`` has sequence ``base + i``."""

    __slots__ = ("base", "events", "floor", "subscribers", "waiting")

    def __init__(self) -> None:
        self.events: deque[_Entry] = deque()
        self.base = 0
        self.floor = 0
        #: The live subscriptions (``None`` until the first: most resources of a fresh
        #: fake are never watched, and a WeakSet costs more to make than the rest).
        self.subscribers: weakref.WeakSet[Subscription] | None = None
        self.waiting: set[Subscription] = set()
        """The subscribers blocked right now: the only ones a publish wakes."""

    @property
    def end(self) -> int:
        return self.base + len(self.events)

    def first_after(self, rv: int) -> int:
        """The sequence of the first retained event with a version above ``rv``."""
        seq = self.end
        for entry in reversed(self.events):  # resumes are nearly always recent
            if entry.rv <= rv:
                break
            seq -= 1
        return seq

    def trim(self) -> None:
        """Drop compacted events (``rv <= floor``) that no live subscriber still needs."""
        if not self.events or self.events[0].rv > self.floor:
            return
        needed = min((s._cursor for s in self.subscribers or () if not s._ended),
                     default=self.end)
        while self.events and self.events[0].rv <= self.floor and self.base < needed:
            self.events.popleft()
            self.base += 1


class EventLog:
    """Every write of a fake server, kept per resource for watches (see the module docstring).

    ``window``: events kept per resource. ``clock``: monotonic seconds, for watch timeouts.
    """

    def __init__(self, *, window: int = 1000, clock: Callable[[], float] = time.monotonic) -> None:
        if window < 1:
            raise ValueError(f"window must be at least 1, got {window}")
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._logs: dict[Resource, _ResourceLog] = {}
        self._current_rv = 0
        self._compacted_to = 0

    @property
    def current_rv(self) -> int:
        """The highest version published or compacted to (0 before any)."""
        return self._current_rv

    def oldest_rv(self, resource: Resource) -> int | None:
        """The version of the oldest event retained for ``resource`` (``None``: none)."""
        with self._lock:
            log = self._logs.get(resource)
            if log is None:
                return None
            live = [e.rv for e in log.events if e.rv > log.floor]
            return live[0] if live else None

    def floor(self, resource: Resource) -> int:
        """The oldest ``since`` a watch of ``resource`` can resume from."""
        with self._lock:
            log = self._logs.get(resource)
            return log.floor if log is not None else 0

    def _log(self, resource: Resource) -> _ResourceLog:
        log = self._logs.get(resource)
        if log is None:
            log = self._logs[resource] = _ResourceLog()
            log.floor = self._compacted_to
        return log

    def publish(self, resource: Resource, event_type: str, old: dict[str, Any] | None,
                new: dict[str, Any], rv: int) -> None:
        """Record a write at version ``rv`` and wake the subscribers of ``resource``.

        ``old`` is the state before (``None`` for ``ADDED``); for ``DELETED``, ``new`` is
        the final state carrying the deletion's version. The dicts are kept and shared:
        the caller hands over a copy it never changes.
        """
        if event_type not in _WRITE_TYPES:
            raise ValueError(f"cannot publish a {event_type!r} event")
        with self._lock:
            if rv <= self._current_rv:
                raise ValueError(f"resourceVersion {rv} published after {self._current_rv}: "
                                 "events must be published in resourceVersion order")
            self._current_rv = rv
            log = self._logs.get(resource) or self._log(resource)
            events = log.events
            events.append(_Entry(event_type, old, new, rv))
            if len(events) > self.window:
                events.popleft()
                log.base += 1
                log.floor = max(log.floor, events[0].rv - 1)
            if events[0].rv <= log.floor:  # trim's own first test, saving the call
                log.trim()
            if log.waiting:  # nobody blocked (the usual case): no new set to make
                waiting, log.waiting = log.waiting, set()
                for sub in waiting:
                    sub._wake()

    def compact(self, rv: int | None = None) -> None:
        """Forget every event at or before ``rv`` (default: all; at most the current
        version) for new watches, as an etcd compaction does: a watch from an older
        version gets 410, whatever resource it is for."""
        with self._lock:
            target = self._current_rv if rv is None else min(rv, self._current_rv)
            self._compacted_to = max(self._compacted_to, target)
            for log in self._logs.values():
                log.floor = max(log.floor, target)
                log.trim()

    def subscribe(self, resource: Resource, *, namespace: str | None, since: int | None,
                  initial: Sequence[dict[str, Any]], matches: Callable[[dict[str, Any]], bool],
                  current_rv: int, bookmarks: bool,
                  bookmark_object: Callable[[int, bool], dict[str, Any]],
                  send_initial_events: bool = False,
                  timeout: float | None = None) -> Subscription:
        """Open a watch of ``resource`` (see the module docstring for every argument's rule).

        ``initial`` and ``current_rv`` are the caller's snapshot (used when ``since`` is
        ``None`` or ``send_initial_events``); ``namespace`` ``None`` watches all of them.
        Raises :class:`TooOldResourceVersion`.
        """
        sub = Subscription(self, resource, namespace, matches, bookmarks, bookmark_object)
        snapshot = since is None or send_initial_events
        start = current_rv if snapshot else since
        assert start is not None
        if snapshot:
            sub._pending.extend(WatchEvent("ADDED", obj) for obj in initial if sub._passes(obj))
            if send_initial_events:
                sub._pending.append(WatchEvent("BOOKMARK", bookmark_object(current_rv, True)))
            sub._progressed = bool(sub._pending) and not send_initial_events
        with self._lock:
            log = self._log(resource)
            if start < log.floor:
                raise TooOldResourceVersion(start, log.floor)
            sub._cursor = log.first_after(start)
            sub._rv = sub._after = start
            sub._deadline = None if timeout is None else self._clock() + timeout
            if log.subscribers is None:
                log.subscribers = weakref.WeakSet()
            log.subscribers.add(sub)
            return sub


_WAIT = object()
_END = object()


class Subscription:
    """One watch stream over an :class:`EventLog`; made by :meth:`EventLog.subscribe`.

    :meth:`next` and :meth:`anext` return the next event, or ``None`` when the stream
    has ended (timeout, :meth:`close`, fell behind: see :attr:`end_reason`) or their own
    ``timeout`` passed first (then :attr:`ended` is still false). One reader at a time.
    """

    def __init__(self, log: EventLog, resource: Resource, namespace: str | None,
                 matches: Callable[[dict[str, Any]], bool], bookmarks: bool,
                 bookmark_object: Callable[[int, bool], dict[str, Any]]) -> None:
        self._log = log
        self.resource = resource
        self._namespace = namespace
        self._matches = matches
        self._bookmarks = bookmarks
        self._bookmark_object = bookmark_object
        self._pending: deque[WatchEvent] = deque()
        self._cursor = 0
        self._after = 0
        self._rv = 0
        self._progressed = False
        self._deadline: float | None = None
        self._ended = False
        self.end_reason: str | None = None
        """``"closed"``, ``"timeout"`` or ``"lagged"`` once the stream has ended."""
        self._cond = threading.Condition(log._lock)
        self._sync_waiting = False
        self._async_waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[None]] | None = None

    @property
    def ended(self) -> bool:
        return self._ended

    @property
    def resource_version(self) -> int:
        """The version this stream has reached (its start, then each event it moved past)."""
        return self._rv

    # -- the core: one step under the lock, the rest outside it -------------------------------

    def _passes(self, obj: dict[str, Any]) -> bool:
        if self._namespace is not None:
            meta = obj.get("metadata")
            if not isinstance(meta, dict) or meta.get("namespace") != self._namespace:
                return False
        return self._matches(obj)

    def _end(self, reason: str) -> object:
        """Mark the stream over (lock held); idempotent, the first reason stays."""
        if not self._ended:
            self._ended = True
            self.end_reason = reason
            log = self._log._logs.get(self.resource)
            if log is not None and log.subscribers is not None:
                log.subscribers.discard(self)
                log.trim()
            self._wake()
        return _END

    def _step(self) -> object:
        """With the lock held: what the reader gets next -- a ready :class:`WatchEvent`, an
        ``_Entry`` to filter, a bookmark version (``int``), ``_WAIT`` or ``_END``."""
        if self._ended:
            return _END
        if self._deadline is not None and self._log._clock() >= self._deadline:
            return self._end("timeout")
        if self._pending:
            return self._pending.popleft()
        log = self._log._logs[self.resource]
        if self._cursor < log.base:
            return self._end("lagged")
        while self._cursor < log.end:
            entry = log.events[self._cursor - log.base]
            self._cursor += 1
            if entry.rv <= self._after:
                continue  # a watch from a version ahead of the log when it started
            self._rv = entry.rv
            self._progressed = True
            return entry
        if self._bookmarks and self._progressed:
            self._progressed = False
            self._rv = max(self._rv, self._log._current_rv)
            return self._rv
        return _WAIT

    def _finish(self, step: object) -> WatchEvent | None:
        """Outside the lock: the event a step yields, ``None`` if it yields none (filtered)."""
        if isinstance(step, WatchEvent):
            return step
        if isinstance(step, int):
            return WatchEvent("BOOKMARK", self._bookmark_object(step, False))
        assert isinstance(step, _Entry)
        now = step.type != "DELETED" and self._passes(step.new)
        previous = step.old
        if previous is None and step.type == "DELETED":
            previous = step.new
        before = previous is not None and self._passes(previous)
        if now:
            return WatchEvent("MODIFIED" if before else "ADDED", step.new)
        if not before:
            return None
        if step.type == "DELETED":
            return WatchEvent("DELETED", step.new)
        if step.leaving is None:
            assert step.old is not None
            step.leaving = _at_version(step.old, step.rv)
        return WatchEvent("DELETED", step.leaving)

    def _wake(self) -> None:
        """With the lock held: wake the reader, whichever way it waits."""
        if self._sync_waiting:
            self._cond.notify()
        waiter, self._async_waiter = self._async_waiter, None
        if waiter is not None:
            loop, future = waiter
            # a closed loop raises RuntimeError: nobody is waiting there any more
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_resolve, future)

    def _wait_for(self, call_deadline: float | None) -> float | None:
        """Seconds to wait (lock held): until the stream's or the call's deadline."""
        waits = []
        if self._deadline is not None:
            waits.append(self._deadline - self._log._clock())
        if call_deadline is not None:
            waits.append(call_deadline - time.monotonic())
        return max(0.0, min(waits)) if waits else None

    # -- the shells ----------------------------------------------------------------------------

    def next(self, timeout: float | None = None) -> WatchEvent | None:
        """Block until the next event (``None``: ended, or ``timeout`` seconds passed)."""
        call_deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._cond:
                step = self._step()
                if step is _WAIT:
                    if call_deadline is not None and time.monotonic() >= call_deadline:
                        return None
                    self._sync_waiting = True
                    waiting = self._log._logs[self.resource].waiting
                    waiting.add(self)
                    try:
                        self._cond.wait(self._wait_for(call_deadline))
                    finally:
                        self._sync_waiting = False
                        waiting.discard(self)
                    continue
            if step is _END:
                return None
            event = self._finish(step)
            if event is not None:
                return event

    async def anext(self, timeout: float | None = None) -> WatchEvent | None:
        """:meth:`next` for asyncio: waits without blocking the event loop."""
        loop = asyncio.get_running_loop()
        call_deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._log._lock:
                step = self._step()
                if step is _WAIT:
                    if call_deadline is not None and time.monotonic() >= call_deadline:
                        return None
                    future: asyncio.Future[None] = loop.create_future()
                    self._async_waiter = (loop, future)
                    waiting = self._log._logs[self.resource].waiting
                    waiting.add(self)
                    wait = self._wait_for(call_deadline)
            if step is _WAIT:
                try:
                    await asyncio.wait((future,), timeout=wait)
                finally:
                    with self._log._lock:
                        waiting.discard(self)
                        if self._async_waiter is not None and self._async_waiter[1] is future:
                            self._async_waiter = None
                continue
            if step is _END:
                return None
            event = self._finish(step)
            if event is not None:
                return event

    def next_batch(self, timeout: float | None = None, *,
                   limit: int = 500) -> list[WatchEvent] | None:
        """Every event available (up to ``limit``), waiting up to ``timeout`` seconds for
        the first: ``[]`` if none came in time, ``None`` once the stream has ended. What a
        transport writes as one chunk."""
        first = self.next(timeout)
        return self._batch(first, limit)

    async def anext_batch(self, timeout: float | None = None, *,
                          limit: int = 500) -> list[WatchEvent] | None:
        """:meth:`next_batch` for asyncio."""
        first = await self.anext(timeout)
        return self._batch(first, limit)

    def _batch(self, first: WatchEvent | None, limit: int) -> list[WatchEvent] | None:
        if first is None:
            return None if self._ended else []
        batch = [first]
        while len(batch) < limit and (event := self.next(timeout=0)) is not None:
            batch.append(event)
        return batch

    def close(self) -> None:
        """End the stream (from any thread); wakes a blocked reader. Idempotent."""
        with self._log._lock:
            self._end("closed")

    def __iter__(self) -> Iterator[WatchEvent]:
        """Every event until the stream ends."""
        while (event := self.next()) is not None:
            yield event

    async def __aiter__(self) -> AsyncIterator[WatchEvent]:
        while (event := await self.anext()) is not None:
            yield event


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _at_version(obj: dict[str, Any], rv: int) -> dict[str, Any]:
    """``obj`` with ``metadata.resourceVersion`` set to ``rv``: a new top level and
    metadata, everything else shared (nothing is ever mutated)."""
    meta = obj.get("metadata")
    out = dict(obj)
    out["metadata"] = {**(meta if isinstance(meta, dict) else {}), "resourceVersion": str(rv)}
    return out
