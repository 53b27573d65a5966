"""Thread shells: :class:`Queue`, :class:`DelayingQueue`, :class:`RateLimitingQueue`.

Each call takes the queue's lock, runs the core method (:mod:`.core` decides everything)
and wakes whom the core names; the only code of its own is waiting: getters and drain
waiters on two conditions of that lock, and, for delayed items, one waiting thread that
sleeps until the earliest deadline (or ``MAX_WAIT``, insurance against a clock that jumps)
and then fires the core. That thread is started by the first ``add_after`` with a
positive delay and ends when nothing is waiting any more, or at shutdown, so a queue
nobody delays items on costs no thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from .core import DelayingCore, QueueCore, QueueShutDown, Wake
from .limiters import RateLimitedAdds, RateLimiter, default_controller_rate_limiter
from .metrics import MetricsProvider, UnfinishedWork

T = TypeVar("T", bound=Hashable)

_log = logging.getLogger("kubecodegen_runtime.workqueue")

MAX_WAIT = 10.0  # seconds; the delay thread re-checks at least this often (client-go's maxWait)

__all__ = ["MAX_WAIT", "DelayingQueue", "Queue", "QueueShutDown", "RateLimitingQueue"]


class Queue(Generic[T]):
    """A thread-safe work queue (client-go ``workqueue.Typed``); see :mod:`.core`.

    Workers loop ``item = q.get()`` ... ``q.done(item)`` (always, in a ``finally``) and end
    on :class:`QueueShutDown`. ``clock`` (monotonic seconds) times metrics and delays.
    """

    _core: QueueCore[T]

    def __init__(
        self,
        *,
        name: str = "",
        metrics: MetricsProvider | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._clock = clock if clock is not None else time.monotonic
        self._lock = threading.Lock()
        self._items = threading.Condition(self._lock)
        self._idle = threading.Condition(self._lock)
        self._core = self._new_core(name, metrics)

    def _new_core(self, name: str, metrics: MetricsProvider | None) -> QueueCore[T]:
        return QueueCore(name=name, metrics=metrics)

    def _wake(self, wake: Wake) -> None:
        if wake & Wake.ALL:
            self._items.notify_all()
        elif wake & Wake.ONE:
            self._items.notify()
        if wake & Wake.IDLE:
            self._idle.notify_all()

    @property
    def name(self) -> str:
        return self._core.name

    @property
    def metrics_errors(self) -> int:
        """Metrics hook calls that raised (each was logged)."""
        with self._lock:
            return self._core.metrics_errors

    def add(self, item: T) -> None:
        """Mark ``item`` as needing processing (ignored after shutdown)."""
        with self._lock:
            self._wake(self._core.add(item, self._clock()))

    def get(self, timeout: float | None = None) -> T:
        """Block until an item is available and hand it out; call :meth:`done` after.

        Raises :class:`QueueShutDown` once the queue is shut down and empty, and
        ``TimeoutError`` if nothing came within ``timeout`` seconds.
        """
        with self._lock:
            if not self._items.wait_for(self._core.can_get, timeout):
                raise TimeoutError(f"workqueue {self.name!r}: nothing to get in {timeout} s")
            return self._core.get(self._clock())

    def done(self, item: T) -> None:
        """End the processing of ``item``; re-queue it if it was added meanwhile."""
        with self._lock:
            self._wake(self._core.done(item, self._clock()))

    def __len__(self) -> int:
        with self._lock:
            return len(self._core)

    def shutdown(self) -> None:
        """Refuse new items; getters drain the queue, then raise :class:`QueueShutDown`."""
        with self._lock:
            self._wake(self._core.shutdown())

    def shutdown_with_drain(self, timeout: float | None = None) -> bool:
        """:meth:`shutdown`, then wait until no item is being processed.

        True once idle; False if ``timeout`` passed first, or :meth:`shutdown` was called
        meanwhile (which releases this wait, as in client-go). Every handed-out item must
        get its :meth:`done`, or this waits for the whole timeout.
        """
        with self._lock:
            self._wake(self._core.begin_drain())
            self._idle.wait_for(self._core.drain_settled, timeout)
            return self._core.idle()

    def shutting_down(self) -> bool:
        with self._lock:
            return self._core.shutting_down()

    def unfinished_work(self) -> UnfinishedWork:
        """Ages of the items being processed (client-go's unfinished-work gauges)."""
        with self._lock:
            return self._core.unfinished_work(self._clock())


class DelayingQueue(Queue[T]):
    """A :class:`Queue` with :meth:`add_after` (client-go ``TypedDelayingInterface``)."""

    _core: DelayingCore[T]

    def __init__(
        self,
        *,
        name: str = "",
        metrics: MetricsProvider | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(name=name, metrics=metrics, clock=clock)
        self._timer = threading.Condition(self._lock)
        self._waiter: threading.Thread | None = None

    def _new_core(self, name: str, metrics: MetricsProvider | None) -> DelayingCore[T]:
        return DelayingCore(name=name, metrics=metrics)

    def _wake(self, wake: Wake) -> None:
        super()._wake(wake)
        if wake & Wake.TIMER:
            if self._waiter is not None:
                self._timer.notify()
            else:
                self._start_waiter()

    def _start_waiter(self) -> None:
        if self._waiter is None and self._core.next_deadline() is not None:
            self._waiter = threading.Thread(
                target=self._wait_loop, name=f"workqueue-delay-{self.name}", daemon=True
            )
            self._waiter.start()

    def _wait_loop(self) -> None:
        with self._lock:
            try:
                while True:
                    self._wake(self._core.fire(self._clock()))
                    deadline = self._core.next_deadline()
                    if deadline is None:  # nothing waits (or shut down); add_after restarts
                        return
                    self._timer.wait(min(max(0.0, deadline - self._clock()), MAX_WAIT))
            except Exception:  # a failing clock: say so; the next add_after starts afresh
                _log.exception("workqueue %r: the delay thread failed", self.name)
            finally:
                self._waiter = None

    def add_after(self, item: T, delay: float) -> None:
        """Add ``item`` once ``delay`` seconds have passed (now if ``delay <= 0``).

        An item already waiting keeps the earlier of its two deadlines.
        """
        with self._lock:
            self._wake(self._core.add_after(item, delay, self._clock()))
            self._start_waiter()  # also after a failed thread left items waiting

    def waiting(self) -> int:
        """Items waiting for their delay to pass."""
        with self._lock:
            return self._core.waiting()


class RateLimitingQueue(DelayingQueue[T], RateLimitedAdds[T]):
    """A :class:`DelayingQueue` with rate-limited re-adds (client-go
    ``TypedRateLimitingInterface``); the default limiter is
    :func:`~.limiters.default_controller_rate_limiter`."""

    def __init__(
        self,
        rate_limiter: RateLimiter[T] | None = None,
        *,
        name: str = "",
        metrics: MetricsProvider | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(name=name, metrics=metrics, clock=clock)
        self.rate_limiter = (
            rate_limiter if rate_limiter is not None else default_controller_rate_limiter(clock)
        )
