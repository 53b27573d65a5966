"""Handler fan-out: per-handler ordered queues, late handlers, has_synced, resync schedule.

Vocabulary:

* *notification* -- what a handler is told: :class:`AddNotification`,
  :class:`UpdateNotification` or :class:`DeleteNotification`. Notifications are produced
  after the store was updated (see :mod:`.delta`), so a handler that reads the cache sees a
  state at least as new as the notification.
* *registration* -- one handler added to an informer (:class:`HandlerRegistration`). Each
  has its own FIFO queue: a slow handler never delays another, and each handler sees the
  notifications in the order the store applied them.
* *resync* -- replaying the cache (not a relist, no request is made): every cached object
  is delivered again as an update with ``old is new`` content, to the registrations whose
  resync period has elapsed. It lets level-based controllers re-check everything now and
  then.

* *pending* -- notifications queued for a registration and not yet handed to its
  handler (:meth:`HandlerRegistration.pending`; ``peak_pending`` is the highest it has
  been). Queues are unbounded by default, as in client-go: a handler slower than the
  event rate makes its queue (and memory) grow. A registration made with
  ``max_pending=N`` is *full* at N; while any registration is full,
  :meth:`SharedProcessor.has_room` is false and the informer's reflector stops reading
  from the server until it drains (see :mod:`.informer`). That policy is lossless --
  nothing is dropped or merged, every handler still sees every change in order -- at the
  price of delaying the whole informer behind its slowest bounded handler; dropping
  notifications instead would silently hide deletions from a controller. The bound is
  checked after every watch event but only between LIST pages, so during a LIST a queue
  can exceed it by one page (``page_size`` objects); resync replays and the synthetic
  adds of a late handler are queued without waiting.

This module is bookkeeping only: no threads, no event loop, no locks. A driver owns the
consumers: for each registration it waits until the queue is non-empty, then
``n = reg.pop()``, :func:`dispatch` ``(reg.handler, n)``, ``reg.done(n)``. The driver
serializes calls into one :class:`SharedProcessor` and its registrations (one lock or
condition in the thread driver; the event loop in the asyncio driver), and calls
:meth:`SharedProcessor.add_handler` under the same exclusion as delta processing so the
snapshot of cached objects a late handler gets and the notifications that follow it fit
together without gaps or duplicates.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from .keys import DeletedFinalStateUnknown

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)

MINIMUM_RESYNC_PERIOD = 1.0
"""Shortest honoured resync period in seconds; shorter non-zero periods are raised to it."""


@dataclass(frozen=True, slots=True)
class AddNotification(Generic[T]):
    """``obj`` entered the cache. ``is_in_initial_list``: it came with the first full list
    (or is a synthetic add for a handler registered after objects were cached)."""

    obj: T
    is_in_initial_list: bool = False


@dataclass(frozen=True, slots=True)
class UpdateNotification(Generic[T]):
    """``old`` was replaced by ``new``; ``is_resync`` marks a cache replay."""

    old: T
    new: T
    is_resync: bool = False


@dataclass(frozen=True, slots=True)
class DeleteNotification(Generic[T]):
    """``obj`` left the cache: its final state, or a tombstone when the deletion was missed."""

    obj: T | DeletedFinalStateUnknown[T]


Notification = AddNotification[T] | UpdateNotification[T] | DeleteNotification[T]


class ResourceEventHandler(Protocol[T_contra]):
    """What an informer calls. Handlers must not mutate the objects they receive."""

    def on_add(self, obj: T_contra, is_in_initial_list: bool) -> None: ...

    def on_update(self, old: T_contra, new: T_contra) -> None: ...

    def on_delete(self, obj: T_contra | DeletedFinalStateUnknown[T_contra]) -> None: ...


class ResourceEventHandlerFuncs(Generic[T]):
    """Adapter: a handler built from optional plain callables (missing ones do nothing).

    ``on_add`` takes just the object; use a full :class:`ResourceEventHandler` to see
    ``is_in_initial_list``.
    """

    __slots__ = ("_add", "_delete", "_update")

    def __init__(
        self,
        on_add: Callable[[T], object] | None = None,
        on_update: Callable[[T, T], object] | None = None,
        on_delete: Callable[[T | DeletedFinalStateUnknown[T]], object] | None = None,
    ) -> None:
        self._add = on_add
        self._update = on_update
        self._delete = on_delete

    def on_add(self, obj: T, is_in_initial_list: bool) -> None:
        if self._add is not None:
            self._add(obj)

    def on_update(self, old: T, new: T) -> None:
        if self._update is not None:
            self._update(old, new)

    def on_delete(self, obj: T | DeletedFinalStateUnknown[T]) -> None:
        if self._delete is not None:
            self._delete(obj)


class FilteringResourceEventHandler(Generic[T]):
    """Decorator: passes on only objects accepted by ``filter_func``.

    An update whose object starts or stops passing the filter becomes an add or a delete,
    so the wrapped handler sees a consistent subset of the cache.
    """

    __slots__ = ("filter_func", "handler")

    def __init__(self, filter_func: Callable[[T], bool], handler: ResourceEventHandler[T]) -> None:
        self.filter_func = filter_func
        self.handler = handler

    def on_add(self, obj: T, is_in_initial_list: bool) -> None:
        if self.filter_func(obj):
            self.handler.on_add(obj, is_in_initial_list)

    def on_update(self, old: T, new: T) -> None:
        was, now = self.filter_func(old), self.filter_func(new)
        if was and now:
            self.handler.on_update(old, new)
        elif now:
            self.handler.on_add(new, False)
        elif was:
            self.handler.on_delete(old)

    def on_delete(self, obj: T | DeletedFinalStateUnknown[T]) -> None:
        inner = obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj
        if self.filter_func(inner):
            self.handler.on_delete(obj)


def dispatch(handler: ResourceEventHandler[T], notification: Notification[T]) -> None:
    """Call the handler method that matches ``notification``."""
    if isinstance(notification, UpdateNotification):
        handler.on_update(notification.old, notification.new)
    elif isinstance(notification, AddNotification):
        handler.on_add(notification.obj, notification.is_in_initial_list)
    else:
        handler.on_delete(notification.obj)


def determine_resync_period(desired: float) -> float:
    """``0`` disables resync; other values are raised to :data:`MINIMUM_RESYNC_PERIOD`."""
    if desired < 0:
        raise ValueError(f"resync period must be >= 0, got {desired}")
    if desired == 0:
        return 0.0
    return max(desired, MINIMUM_RESYNC_PERIOD)


_ids = itertools.count(1)


class HandlerRegistration(Generic[T]):
    """One handler's queue and sync tracking; returned by ``add_handler``, used to remove it.

    ``has_synced()`` is true once the informer finished its first list *and* every
    notification that belongs to that initial state (initial adds, or synthetic adds for
    a late handler) has been delivered to this handler (:meth:`done` was called for it).
    """

    __slots__ = (
        "_initial_pending",
        "_queue",
        "_upstream_synced",
        "handler",
        "id",
        "max_pending",
        "next_resync",
        "peak_pending",
        "removed",
        "resync_period",
    )

    def __init__(self, handler: ResourceEventHandler[T], resync_period: float,
                 upstream_synced: bool, max_pending: int | None = None) -> None:
        if max_pending is not None and max_pending < 1:
            raise ValueError(f"max_pending must be >= 1 or None, got {max_pending}")
        self.id = next(_ids)
        self.handler = handler
        self.resync_period = resync_period
        self.max_pending = max_pending
        self.next_resync: float | None = None
        self.removed = False
        self.peak_pending = 0
        self._queue: deque[Notification[T]] = deque()
        self._initial_pending = 0
        self._upstream_synced = upstream_synced

    def has_synced(self) -> bool:
        return self._upstream_synced and self._initial_pending == 0

    def pending(self) -> int:
        """Notifications queued for this handler and not yet handed to it."""
        return len(self._queue)

    def is_full(self) -> bool:
        """At or above ``max_pending`` (never, without a bound)."""
        return self.max_pending is not None and len(self._queue) >= self.max_pending

    def push(self, notification: Notification[T]) -> None:
        if isinstance(notification, AddNotification) and notification.is_in_initial_list:
            self._initial_pending += 1
        self._queue.append(notification)
        if len(self._queue) > self.peak_pending:
            self.peak_pending = len(self._queue)

    def pop(self) -> Notification[T] | None:
        """The oldest undelivered notification, or ``None`` if the queue is empty."""
        return self._queue.popleft() if self._queue else None

    def done(self, notification: Notification[T]) -> None:
        """Record that ``notification`` (from :meth:`pop`) was handed to the handler."""
        if isinstance(notification, AddNotification) and notification.is_in_initial_list:
            self._initial_pending -= 1

    def __len__(self) -> int:
        return len(self._queue)

    def __repr__(self) -> str:
        bound = "" if self.max_pending is None else f"/{self.max_pending}"
        return (f"HandlerRegistration(id={self.id}, pending={len(self._queue)}{bound}, "
                f"synced={self.has_synced()}, removed={self.removed})")


class SharedProcessor(Generic[T]):
    """Fans notifications out to every registration of one informer."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._registrations: list[HandlerRegistration[T]] = []
        self._syncing: list[HandlerRegistration[T]] = []
        self._bounded: list[HandlerRegistration[T]] = []
        self.synced = False

    @property
    def registrations(self) -> tuple[HandlerRegistration[T], ...]:
        return tuple(self._registrations)

    def add_handler(self, handler: ResourceEventHandler[T], *, resync_period: float = 0.0,
                    cached: Iterable[T] = (),
                    max_pending: int | None = None) -> HandlerRegistration[T]:
        """Register ``handler``; ``cached`` (the store's current objects) become synthetic adds.

        The synthetic adds are marked ``is_in_initial_list`` and count towards the new
        registration's ``has_synced``. ``max_pending`` bounds its queue (module doc).
        """
        period = determine_resync_period(resync_period)
        reg: HandlerRegistration[T] = HandlerRegistration(handler, period, self.synced,
                                                          max_pending)
        for obj in cached:
            reg.push(AddNotification(obj, True))
        if period:
            reg.next_resync = self._clock() + period
        self._registrations.append(reg)
        if max_pending is not None:
            self._bounded.append(reg)
        return reg

    def remove_handler(self, registration: HandlerRegistration[T]) -> bool:
        """Unregister; undelivered notifications are dropped. False if it was not registered."""
        if registration not in self._registrations:
            return False
        self._registrations.remove(registration)
        if registration in self._syncing:
            self._syncing.remove(registration)
        if registration in self._bounded:
            self._bounded.remove(registration)
        registration.removed = True
        registration._queue.clear()
        return True

    def distribute(self, notification: Notification[T]) -> list[HandlerRegistration[T]]:
        """Queue ``notification``; returns the registrations that got it (to wake them).

        Resync updates go only to the registrations chosen by the last :meth:`should_resync`.
        """
        is_resync = isinstance(notification, UpdateNotification) and notification.is_resync
        targets = self._syncing if is_resync else self._registrations
        for reg in targets:
            reg.push(notification)
        return list(targets)

    @property
    def bounded(self) -> bool:
        """Some registration has a ``max_pending`` (else :meth:`has_room` is always true)."""
        return bool(self._bounded)

    def has_room(self) -> bool:
        """No registration is full: the informer may read more from the server."""
        return not any(reg.is_full() for reg in self._bounded)

    def mark_synced(self) -> None:
        """The informer's first full list has been applied to the store."""
        self.synced = True
        for reg in self._registrations:
            reg._upstream_synced = True

    def should_resync(self, now: float | None = None) -> bool:
        """Pick the registrations whose resync is due at ``now`` and schedule their next one.

        True when at least one is due; the driver then replays the cache (delta
        processing's ``resync``) and distributes the resulting updates.
        """
        at = self._clock() if now is None else now
        due = [r for r in self._registrations
               if r.resync_period and r.next_resync is not None and at >= r.next_resync]
        for reg in due:
            reg.next_resync = at + reg.resync_period
        self._syncing = due
        return bool(due)

    def next_resync_at(self) -> float | None:
        """Clock time of the earliest scheduled resync (``None``: no handler resyncs)."""
        times = [r.next_resync for r in self._registrations if r.next_resync is not None]
        return min(times) if times else None

    def has_synced(self) -> bool:
        """Every registration has synced (vacuously true only after the informer synced)."""
        return self.synced and all(r.has_synced() for r in self._registrations)
