"""The thread shell of the controller: N worker threads over a :class:`RateLimitingQueue`.

Everything a controller decides is in :mod:`.core`; this module blocks. ``run()`` is
meant for a thread of its own (or the main thread); ``stop()`` may be called from any
thread, a reconcile included.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ..cache.informer import SharedInformer
from ..config.text import terminal_safe
from ..workqueue import (
    QueueShutDown,
    RateLimiter,
    RateLimitingQueue,
)
from .core import SYNC_POLL_INTERVAL, ControllerCore, logger
from .types import ObjectKey, Reconcile


class Controller(ControllerCore[SharedInformer[Any], RateLimitingQueue[ObjectKey]]):
    """Reconcile keys of watched objects on ``workers`` threads (client-go's sample
    controller loop, controller-runtime's ``Controller``).

    ``queue`` defaults to a :class:`~..workqueue.RateLimitingQueue` named ``name`` with
    ``rate_limiter`` (default: client-go's controller limiter, per-key exponential
    5 ms -> 1000 s and an overall 10 qps / 100 burst bucket). ``cache_sync_timeout``
    bounds the wait for the informers (:class:`~.core.CacheSyncTimeoutError`);
    ``drain_timeout`` bounds the wait for reconciles in flight at stop (``None``: as
    long as they take).
    """

    def __init__(self, name: str, reconcile: Reconcile, *, workers: int = 1,
                 queue: RateLimitingQueue[ObjectKey] | None = None,
                 rate_limiter: RateLimiter[ObjectKey] | None = None,
                 cache_sync_timeout: float | None = None,
                 drain_timeout: float | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        if queue is not None and rate_limiter is not None:
            raise ValueError("pass either a queue or a rate_limiter, not both")
        if queue is None:
            queue = RateLimitingQueue(rate_limiter,
                                      name=name, clock=clock)
        super().__init__(name, workers=workers, queue=queue,
                         cache_sync_timeout=cache_sync_timeout, drain_timeout=drain_timeout,
                         clock=clock)
        self.reconcile = reconcile
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def stop(self) -> None:
        """Ask :meth:`run` to stop (returns at once; ``run`` returns once drained)."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def run(self, stop: threading.Event | None = None) -> None:
        """Register the handlers, wait for the caches, reconcile until stopped, drain.

        Returns after :meth:`stop` or once ``stop`` is set, when every reconcile in flight
        has finished. Raises :class:`~.core.CacheSyncTimeoutError` if the caches do not
        sync within ``cache_sync_timeout`` (no reconcile ran then). Runs once.
        """
        self._claim_run()
        try:
            self._register()
            if self._wait_for_sync(stop):
                for i in range(self.workers):
                    thread = threading.Thread(target=self._worker, daemon=True,
                                              name=f"controller-{self.name}-worker-{i}")
                    self._threads.append(thread)
                    thread.start()
                self._wait(stop)
        finally:
            self._stopping.set()
            self._unregister()
            drained = self.queue.shutdown_with_drain(self.drain_timeout)
            for thread in self._threads:
                thread.join(None if drained else 0.0)
            if not drained:
                logger.warning("controller %s: reconciles still running after %ss of drain",
                               terminal_safe(self.name), self.drain_timeout)

    def _stop_requested(self, stop: threading.Event | None) -> bool:
        return self._stopping.is_set() or (stop is not None and stop.is_set())

    def _wait(self, stop: threading.Event | None) -> None:
        if stop is None:
            self._stopping.wait()
            return
        while not self._stopping.wait(SYNC_POLL_INTERVAL):
            if stop.is_set():
                return

    def _wait_for_sync(self, stop: threading.Event | None) -> bool:
        started_at = self._clock()
        while not self._stop_requested(stop):
            if self._sync_check(started_at):
                return True
            self._stopping.wait(SYNC_POLL_INTERVAL)
        return False

    def _worker(self) -> None:
        while True:
            try:
                key = self.queue.get()
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
                except Exception as exc:
                    error = exc
                except BaseException:
                    self.stats.abandoned()
                    raise
                self._finish(key, result, error, started_at)
            finally:
                self.queue.done(key)
