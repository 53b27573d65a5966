"""The workqueue state machine (client-go ``util/workqueue``), with no threads and no I/O.

:class:`QueueCore` is the whole of a work queue's behaviour; :class:`DelayingCore` adds
``add_after``. The thread shells (:mod:`.queue`) and asyncio shells (:mod:`.aio`) only
serialize calls into a core (a lock; the event loop) and wait when a method's
precondition does not hold. Every method takes the time ``now`` (monotonic seconds) it
needs, and returns a :class:`Wake` telling its shell whom to wake.

State: ``queue`` (the order items are handed out in), ``dirty`` (the items that need
processing) and ``processing`` (the items handed out by ``get`` and not ``done`` yet).

Invariants, after every method:

1. every queued item is dirty and not being processed, and appears in the queue once;
2. a dirty item is either queued or being processed (then it is queued at ``done``);
3. an item is handed out by ``get`` only while it is not being processed: no two
   workers ever hold the same item;
4. ``depth`` (what ``queue_depth`` reports) is the number of dirty items.

Transitions:

* ``add(item)`` -- ignored once shutting down (client-go drops adds after ``ShutDown``).
  An item that is already dirty is not added again: duplicates collapse, and its place
  in the queue is kept. Otherwise it becomes dirty; it is queued at the back, unless it
  is being processed: then it stays out of the queue, and ``done`` queues it, so an item
  added any number of times while processed is processed exactly once more.
* ``get()`` -- precondition :meth:`QueueCore.can_get` (something is queued, or the queue
  is shutting down); shells wait until it holds. Hands out the front of the queue (FIFO)
  and moves it from dirty to processing. While the queue is shutting down, what is still
  queued is handed out as usual (client-go's ``Get`` reports shutdown only once the queue
  is empty), and only then does ``get`` raise :class:`QueueShutDown`.
* ``done(item)`` -- the item leaves processing; if it was added meanwhile (dirty), it is
  queued at the back. ``done`` of an item that is not being processed raises
  ``ValueError`` (client-go silently re-queues a dirty item then, which would put it in
  the queue twice).
* ``shutdown()`` -- the queue stops accepting adds; getters drain what is queued, then
  get :class:`QueueShutDown`. It also releases a waiting drain (``drain`` off), as
  client-go's ``ShutDown`` after ``ShutDownWithDrain`` does.
* ``begin_drain()`` -- ``shutdown`` that asks its caller to wait until nothing is being
  processed (:meth:`QueueCore.drain_settled`): ``shutdown_with_drain``. As in client-go
  it waits for the items in flight, not for what is still queued (with no worker left
  that would never end); an item re-queued by its own ``done`` is handed out to the
  workers still calling ``get``.

Metrics bookkeeping (see :mod:`.metrics`): the time an item became dirty is kept until
``get`` reports its latency; the time ``get`` handed it out is kept until ``done`` reports
its work duration, and is what :meth:`QueueCore.unfinished_work` adds up.

:class:`DelayingCore` keeps items waiting for a deadline in a heap, at most one entry
per item: adding a waiting item again keeps the earlier deadline (client-go's
``insert``), so ``add_after(x, 1)`` then ``add_after(x, 60)`` makes ``x`` ready after one
second, once. :meth:`DelayingCore.fire` moves every entry whose deadline has come into the
queue through ``add`` (so the rules above apply: it may collapse with a queued copy),
earliest deadline first and, for equal deadlines, in the order those deadlines were set.
``add_after`` with ``delay <= 0`` is ``add``; a NaN delay raises ``ValueError``. Every
``add_after`` before the shutdown counts a retry (``retried``), as client-go's ``AddAfter``
does. After ``shutdown`` waiting entries are dropped: they could only be added to a queue
that ignores adds.
"""

from __future__ import annotations

import enum
import heapq
import itertools
import logging
import math
from collections import deque
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from .metrics import MetricsProvider, NoopMetrics, UnfinishedWork

T = TypeVar("T", bound=Hashable)

_log = logging.getLogger("kubecodegen_runtime.workqueue")


class QueueShutDown(Exception):
    """``get`` on a queue that is shut down and has nothing left to hand out."""


class Wake(enum.Flag):
    """Whom a shell must wake after a core method returned."""

    NONE = 0
    ONE = enum.auto()  # one getter can proceed (an item was queued)
    ALL = enum.auto()  # every getter must re-check (several items queued, or shutdown)
    IDLE = enum.auto()  # drain waiters must re-check (processing emptied, or drain released)
    TIMER = enum.auto()  # the earliest deadline changed: re-arm the delay timer


class _Hooks:
    """Calls a :class:`MetricsProvider`, so that a failing hook never breaks the queue."""

    def __init__(self, name: str, provider: MetricsProvider | None) -> None:
        self.name = name
        self.provider: MetricsProvider = provider if provider is not None else NoopMetrics()
        self.enabled = provider is not None  # no provider: skip the calls altogether
        self.errors = 0
        self._logged: set[str] = set()

    def _call(self, hook: str, call: Callable[[], None]) -> None:
        if not self.enabled:
            return
        try:
            call()
        except Exception:
            self.errors += 1
            # The first failure of each hook with its traceback; later ones only at debug
            # level (a hook runs for every operation), all of them counted.
            if hook not in self._logged:
                self._logged.add(hook)
                _log.exception("workqueue %r: metrics hook %s failed", self.name, hook)
            else:
                _log.debug("workqueue %r: metrics hook %s failed", self.name, hook, exc_info=True)

    def depth(self, depth: int) -> None:
        self._call("queue_depth", lambda: self.provider.queue_depth(self.name, depth))

    def added(self) -> None:
        self._call("added", lambda: self.provider.added(self.name))

    def latency(self, seconds: float) -> None:
        self._call("queue_latency", lambda: self.provider.queue_latency(self.name, seconds))

    def work(self, seconds: float) -> None:
        self._call("work_duration", lambda: self.provider.work_duration(self.name, seconds))

    def retried(self) -> None:
        self._call("retried", lambda: self.provider.retried(self.name))


class QueueCore(Generic[T]):
    """Queue order, dirty set, processing set, shutdown and drain (see the module doc)."""

    def __init__(self, *, name: str = "", metrics: MetricsProvider | None = None) -> None:
        self._queue: deque[T] = deque()
        self._dirty: set[T] = set()
        self._processing: set[T] = set()
        self._shutting_down = False
        self._drain = False
        self._hooks = _Hooks(name, metrics)
        self._added_at: dict[T, float] = {}
        self._started_at: dict[T, float] = {}

    # -- reading ----------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._hooks.name

    @property
    def metrics_errors(self) -> int:
        """How many metrics hook calls raised (each was logged)."""
        return self._hooks.errors

    def __len__(self) -> int:
        """Items queued right now (not those being processed, nor waiting for a delay)."""
        return len(self._queue)

    def queued(self) -> list[T]:
        """The queue, front first (a copy; for tests and debugging)."""
        return list(self._queue)

    def dirty(self) -> frozenset[T]:
        return frozenset(self._dirty)

    def processing(self) -> frozenset[T]:
        return frozenset(self._processing)

    def shutting_down(self) -> bool:
        return self._shutting_down

    def can_get(self) -> bool:
        """``get`` can proceed: it has an item to hand out or :class:`QueueShutDown` to raise."""
        return bool(self._queue) or self._shutting_down

    def idle(self) -> bool:
        """Nothing is being processed."""
        return not self._processing

    def drain_settled(self) -> bool:
        """A ``shutdown_with_drain`` caller may stop waiting (idle, or drain released)."""
        return not self._processing or not self._drain

    def unfinished_work(self, now: float) -> UnfinishedWork:
        ages = [max(0.0, now - started) for started in self._started_at.values()]
        return UnfinishedWork(sum(ages), max(ages, default=0.0))

    # -- transitions ------------------------------------------------------------------

    def add(self, item: T, now: float) -> Wake:
        if self._shutting_down or item in self._dirty:
            return Wake.NONE
        self._dirty.add(item)
        self._added_at[item] = now
        self._hooks.added()
        self._hooks.depth(len(self._dirty))
        if item in self._processing:
            return Wake.NONE
        self._queue.append(item)
        return Wake.ONE

    def get(self, now: float) -> T:
        """Hand out the front item; :class:`QueueShutDown` once shut down and empty."""
        if not self._queue:
            if self._shutting_down:
                raise QueueShutDown(f"workqueue {self.name!r} is shut down")
            raise RuntimeError("get() without can_get(): the shell must wait first")
        item = self._queue.popleft()
        self._dirty.discard(item)
        self._processing.add(item)
        self._started_at[item] = now
        self._hooks.depth(len(self._dirty))
        added = self._added_at.pop(item, None)
        if added is not None:
            self._hooks.latency(max(0.0, now - added))
        return item

    def done(self, item: T, now: float) -> Wake:
        if item not in self._processing:
            raise ValueError(f"done({item!r}): the item is not being processed")
        self._processing.discard(item)
        started = self._started_at.pop(item, None)
        if started is not None:
            self._hooks.work(max(0.0, now - started))
        wake = Wake.NONE
        if item in self._dirty:
            self._queue.append(item)
            wake |= Wake.ONE
        if not self._processing:
            wake |= Wake.IDLE
        return wake

    def shutdown(self) -> Wake:
        self._shutting_down = True
        self._drain = False
        return Wake.ALL | Wake.IDLE

    def begin_drain(self) -> Wake:
        self._shutting_down = True
        self._drain = True
        return Wake.ALL | Wake.IDLE


class _DelayHeap(Generic[T]):
    """Deadlines by item, earliest first, one live entry per item.

    ``heapq`` cannot lower an entry's key in place, so a new earlier deadline pushes a new
    entry and the older one becomes stale: an entry is live only while its deadline is the
    one recorded for its item. The sequence number breaks ties in insertion order and means
    items themselves are never compared.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, T]] = []
        self._deadline: dict[T, float] = {}
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self._deadline)

    def deadline_of(self, item: T) -> float | None:
        return self._deadline.get(item)

    def push(self, item: T, deadline: float) -> bool:
        """Record ``deadline`` unless ``item`` waits for an earlier one; True if the
        earliest deadline of the heap changed."""
        current = self._deadline.get(item)
        if current is not None and current <= deadline:
            return False
        before = self.next_deadline()
        self._deadline[item] = deadline
        heapq.heappush(self._heap, (deadline, next(self._seq), item))
        return before is None or deadline < before

    def next_deadline(self) -> float | None:
        heap = self._heap
        while heap and self._deadline.get(heap[0][2]) != heap[0][0]:
            heapq.heappop(heap)  # stale: its item has an earlier entry, or fired already
        return heap[0][0] if heap else None

    def pop_ready(self, now: float) -> list[T]:
        ready: list[T] = []
        while True:
            deadline = self.next_deadline()
            if deadline is None or deadline > now:
                return ready
            _, _, item = heapq.heappop(self._heap)
            del self._deadline[item]
            ready.append(item)

    def clear(self) -> None:
        self._heap.clear()
        self._deadline.clear()


class DelayingCore(QueueCore[T]):
    """:class:`QueueCore` plus items waiting for a deadline (``add_after``)."""

    def __init__(self, *, name: str = "", metrics: MetricsProvider | None = None) -> None:
        super().__init__(name=name, metrics=metrics)
        self._waiting: _DelayHeap[T] = _DelayHeap()

    def waiting(self) -> int:
        """Items waiting for their deadline."""
        return len(self._waiting)

    def deadline_of(self, item: T) -> float | None:
        return self._waiting.deadline_of(item)

    def next_deadline(self) -> float | None:
        """When :meth:`fire` next has something to do (None: nothing is waiting)."""
        return self._waiting.next_deadline()

    def add_after(self, item: T, delay: float, now: float) -> Wake:
        if math.isnan(delay):
            raise ValueError(f"add_after({item!r}): the delay is NaN")
        if self._shutting_down:
            return Wake.NONE
        self._hooks.retried()
        if delay <= 0:
            return self.add(item, now)
        return Wake.TIMER if self._waiting.push(item, now + delay) else Wake.NONE

    def fire(self, now: float) -> Wake:
        """Add every item whose deadline has come, earliest first."""
        queued = 0
        for item in self._waiting.pop_ready(now):
            if self.add(item, now) & Wake.ONE:
                queued += 1
        if queued == 0:
            return Wake.NONE
        return Wake.ONE if queued == 1 else Wake.ALL

    def shutdown(self) -> Wake:
        self._waiting.clear()
        return super().shutdown() | Wake.TIMER

    def begin_drain(self) -> Wake:
        self._waiting.clear()
        return super().begin_drain() | Wake.TIMER
