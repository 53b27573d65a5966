"""The asyncio shell of the controller: N worker tasks over an
:class:`AsyncRateLimitingQueue`.

Everything a controller decides is in :mod:`.core`; this module awaits. Its methods must
be called on the event loop's thread (from another thread:
``loop.call_soon_threadsafe(controller.stop)``).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Callable
from typing import Any

from ..cache.informer import AsyncSharedInformer
from ..config.text import terminal_safe
from ..workqueue import (
    AsyncRateLimitingQueue,
    QueueShutDown,
    RateLimiter,
)
from .core import SYNC_POLL_INTERVAL, ControllerCore, logger
from .types import AsyncReconcile, ObjectKey


class AsyncController(ControllerCore[AsyncSharedInformer[Any], AsyncRateLimitingQueue[ObjectKey]]):
    """Reconcile keys of watched objects on ``workers`` tasks; see
    :class:`~.controller.Controller` for the options. ``reconcile`` is a coroutine
    function (a plain function returning a Result is accepted too, but blocks the loop).
    """

    def __init__(self, name: str, reconcile: AsyncReconcile, *, workers: int = 1,
                 queue: AsyncRateLimitingQueue[ObjectKey] | None = None,
                 rate_limiter: RateLimiter[ObjectKey] | None = None,
                 cache_sync_timeout: float | None = None,
                 drain_timeout: float | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        if queue is not None and rate_limiter is not None:
            raise ValueError("pass either a queue or a rate_limiter, not both")
        if queue is None:
            queue = AsyncRateLimitingQueue(rate_limiter,
                                           name=name, clock=clock)
        super().__init__(name, workers=workers, queue=queue,
                         cache_sync_timeout=cache_sync_timeout, drain_timeout=drain_timeout,
                         clock=clock)
        self.reconcile = reconcile
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def stop(self) -> None:
        """Ask :meth:`run` to stop (returns at once; ``run`` returns once drained)."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Register the handlers, wait for the caches, reconcile until stopped, drain.

        Returns after :meth:`stop` or once ``stop`` is set; cancelling the task that runs
        it stops the controller the same way (in-flight reconciles finish, then the
        cancellation goes on). Raises :class:`~.core.CacheSyncTimeoutError` like the
        thread controller. Runs once.
        """
        self._claim_run()
        try:
            self._register()
            if await self._wait_for_sync(stop):
                loop = asyncio.get_running_loop()
                self._tasks = [loop.create_task(self._worker(), name=f"controller-{self.name}-{i}")
                               for i in range(self.workers)]
                await self._wait(stop)
        finally:
            self._stopping.set()
            self._unregister()
            drained = await self.queue.shutdown_with_drain(self.drain_timeout)
            if not drained:
                logger.warning("controller %s: reconciles still running after %ss of drain; "
                               "cancelling them", terminal_safe(self.name), self.drain_timeout)
                for task in self._tasks:
                    task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _stop_requested(self, stop: asyncio.Event | None) -> bool:
        return self._stopping.is_set() or (stop is not None and stop.is_set())

    async def _wait(self, stop: asyncio.Event | None) -> None:
        if stop is None:
            await self._stopping.wait()
            return
        waiters = [asyncio.ensure_future(self._stopping.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _wait_for_sync(self, stop: asyncio.Event | None) -> bool:
        started_at = self._clock()
        while not self._stop_requested(stop):
            if self._sync_check(started_at):
                return True
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), SYNC_POLL_INTERVAL)
        return False

    async def _worker(self) -> None:
        while True:
            try:
                key = await self.queue.get()
            except QueueShutDown:
                return
            if self._stopping.is_set():
                # a shut-down queue still hands out what it holds (client-go); a
                # stopping controller takes no new key
                self.queue.done(key)
                return
            try:
                started_at = self._begin()
                result: object = None
                error: BaseException | None = None
                try:
                    result = self.reconcile(key)
                    if inspect.isawaitable(result):
                        result = await result
                except asyncio.CancelledError:
                    self.stats.abandoned()
                    raise
                except Exception as exc:
                    error = exc
                self._finish(key, result, error, started_at)
            finally:
                self.queue.done(key)
