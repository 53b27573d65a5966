"""asyncio shells: :class:`AsyncQueue`, :class:`AsyncDelayingQueue`, :class:`AsyncRateLimitingQueue`.

The event loop serializes the calls into the core (:mod:`.core`), so ``add``, ``done``,
``add_after``, ``forget`` and ``shutdown`` are plain methods, callable from callbacks and
tasks of the queue's loop; only ``get`` and ``shutdown_with_drain`` wait. A queue belongs
to one loop and is not thread-safe: from another thread, go through
``loop.call_soon_threadsafe``.

Waiting is a list of futures (:class:`_Signal`), because ``asyncio.Condition.notify`` needs
its lock and so an ``await`` in the plain methods. A getter cancelled after it was woken
passes the wake-up on, so no item is left queued while another getter sleeps. Delayed
items use one loop timer (``call_later``) armed for the earliest deadline; it is
re-armed when an earlier deadline arrives and after each firing, and capped at
``MAX_WAIT`` like the thread shell's waiting thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from .core import DelayingCore, QueueCore, QueueShutDown, Wake
from .limiters import RateLimitedAdds, RateLimiter, default_controller_rate_limiter
from .metrics import MetricsProvider, UnfinishedWork
from .queue import MAX_WAIT

T = TypeVar("T", bound=Hashable)

__all__ = ["AsyncDelayingQueue", "AsyncQueue", "AsyncRateLimitingQueue", "QueueShutDown"]


def _release(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class _Signal:
    """Futures of waiting tasks, woken one or all at a time (a lock-free condition)."""

    def __init__(self) -> None:
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def wait(self, timeout: float | None) -> None:
        """Return when notified, or after ``timeout`` seconds; the caller re-checks."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._waiters.append(fut)
        timer = loop.call_later(timeout, _release, fut) if timeout is not None else None
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.notify()  # woken, then cancelled: hand the wake-up to another waiter
            raise
        finally:
            if timer is not None:
                timer.cancel()
            with contextlib.suppress(ValueError):  # notify may have taken it off already
                self._waiters.remove(fut)

    def notify(self) -> None:
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                return

    def notify_all(self) -> None:
        while self._waiters:
            _release(self._waiters.popleft())


async def _wait_until(signal: _Signal, ready: Callable[[], bool], timeout: float | None) -> bool:
    """Wait on ``signal`` until ``ready()``; False if ``timeout`` passed first."""
    if ready():
        return True
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    while not ready():
        remaining = None if deadline is None else deadline - loop.time()
        if remaining is not None and remaining <= 0:
            return False
        await signal.wait(remaining)
    return True


class AsyncQueue(Generic[T]):
    """The asyncio work queue; same semantics as :class:`~.queue.Queue` (see :mod:`.core`)."""

    _core: QueueCore[T]

    def __init__(
        self,
        *,
        name: str = "",
        metrics: MetricsProvider | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._clock = clock if clock is not None else time.monotonic
        self._items = _Signal()
        self._idle = _Signal()
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
        return self._core.metrics_errors

    def add(self, item: T) -> None:
        self._wake(self._core.add(item, self._clock()))

    async def get(self, timeout: float | None = None) -> T:
        """Wait for an item and hand it out; :class:`QueueShutDown`, ``TimeoutError``."""
        if not await _wait_until(self._items, self._core.can_get, timeout):
            raise TimeoutError(f"workqueue {self.name!r}: nothing to get in {timeout} s")
        return self._core.get(self._clock())

    def done(self, item: T) -> None:
        self._wake(self._core.done(item, self._clock()))

    def __len__(self) -> int:
        return len(self._core)

    def shutdown(self) -> None:
        self._wake(self._core.shutdown())

    async def shutdown_with_drain(self, timeout: float | None = None) -> bool:
        """Shut down, then wait until no item is being processed (see the thread shell)."""
        self._wake(self._core.begin_drain())
        await _wait_until(self._idle, self._core.drain_settled, timeout)
        return self._core.idle()

    def shutting_down(self) -> bool:
        return self._core.shutting_down()

    def unfinished_work(self) -> UnfinishedWork:
        return self._core.unfinished_work(self._clock())


class AsyncDelayingQueue(AsyncQueue[T]):
    """:class:`AsyncQueue` with :meth:`add_after` (call it from the queue's loop)."""

    _core: DelayingCore[T]

    def __init__(
        self,
        *,
        name: str = "",
        metrics: MetricsProvider | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(name=name, metrics=metrics, clock=clock)
        self._timer: asyncio.TimerHandle | None = None

    def _new_core(self, name: str, metrics: MetricsProvider | None) -> DelayingCore[T]:
        return DelayingCore(name=name, metrics=metrics)

    def _wake(self, wake: Wake) -> None:
        super()._wake(wake)
        if wake & Wake.TIMER:
            self._arm()

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        deadline = self._core.next_deadline()
        if deadline is not None:
            delay = min(max(0.0, deadline - self._clock()), MAX_WAIT)
            self._timer = asyncio.get_running_loop().call_later(delay, self._fire)

    def _fire(self) -> None:
        self._timer = None
        self._wake(self._core.fire(self._clock()))
        self._arm()

    def add_after(self, item: T, delay: float) -> None:
        """Add ``item`` after ``delay`` seconds (now if ``<= 0``); the earlier deadline wins.

        A positive delay needs the queue's running loop (for its timer): called from
        elsewhere it raises ``RuntimeError`` before anything changes.
        """
        if delay > 0 and not self._core.shutting_down():
            asyncio.get_running_loop()
        self._wake(self._core.add_after(item, delay, self._clock()))
        if self._timer is None and self._core.next_deadline() is not None:
            self._arm()  # also after a failed firing left items waiting

    def waiting(self) -> int:
        return self._core.waiting()


class AsyncRateLimitingQueue(AsyncDelayingQueue[T], RateLimitedAdds[T]):
    """:class:`AsyncDelayingQueue` with ``add_rate_limited`` / ``forget`` / ``num_requeues``."""

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
