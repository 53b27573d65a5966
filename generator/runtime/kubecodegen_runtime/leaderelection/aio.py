"""The asyncio shell of the leader elector: same rules as the thread shell (:mod:`.elector`),
waiting with asyncio.

``await run()`` stands for the lock, runs ``on_started_leading()`` as a task when it leads
and cancels that task when leadership ends. Cancelling ``run()`` (or setting its ``stop``
event) stops leading: the work task is cancelled and awaited (up to ``renew_deadline``),
the lock released if ``release_on_cancel`` and the work has ended, ``on_stopped_leading``
called, and the cancellation re-raised. A lock operation that would outlive the renew
deadline is cancelled at the deadline.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from .core import Attempt, Create, Get, LockOp, OpResult
from .lock import AsyncResourceLock
from .shell import ElectorBase, logger


@dataclass
class AsyncLeaderCallbacks:
    """What an :class:`AsyncLeaderElector` calls: ``on_started_leading()`` is a coroutine
    run as a task and cancelled when leadership ends; ``on_stopped_leading()`` may be plain
    or async; ``on_new_leader(identity)`` is plain and must be quick."""

    on_started_leading: Callable[[], Awaitable[None]]
    on_stopped_leading: Callable[[], Awaitable[None] | None]
    on_new_leader: Callable[[str], None] | None = None


class AsyncLeaderElector(ElectorBase):
    """client-go's ``LeaderElector`` on asyncio."""

    def __init__(self, lock: AsyncResourceLock, callbacks: AsyncLeaderCallbacks, *,
                 lease_duration: float = 15.0, renew_deadline: float = 10.0,
                 retry_period: float = 2.0, release_on_cancel: bool = False, name: str = "",
                 clock: Callable[[], float] | None = None) -> None:
        if not callable(callbacks.on_started_leading) or not callable(callbacks.on_stopped_leading):
            raise ValueError("on_started_leading and on_stopped_leading are required")
        super().__init__(lock.identity, lock.describe(), callbacks.on_new_leader,
                         lease_duration=lease_duration, renew_deadline=renew_deadline,
                         retry_period=retry_period, release_on_cancel=release_on_cancel,
                         name=name, clock=clock)
        self._lock = lock
        self._callbacks = callbacks

    async def _sleep(self, seconds: float, stop: asyncio.Event | None) -> bool:
        """Wait ``seconds`` or until ``stop`` is set; True when stopped."""
        if stop is None:
            await asyncio.sleep(seconds)
            return False
        if stop.is_set():
            return True
        try:
            await asyncio.wait_for(stop.wait(), seconds)
        except asyncio.TimeoutError:
            return False
        return True

    async def _perform(self, op: LockOp) -> OpResult:
        try:
            if isinstance(op, Get):
                record = await self._lock.get()
                return OpResult(self._clock(), record=record)
            if isinstance(op, Create):
                await self._lock.create(op.record)
            else:
                await self._lock.update(op.record)
            return OpResult(self._clock())
        except Exception as exc:  # a failed operation is a failed attempt, never a crash
            return OpResult(self._clock(), error=exc)

    async def _drive(self, attempt: Attempt, deadline: float | None = None) -> bool:
        try:
            with self._mutex:  # is_leader() may be asked from other threads
                op = next(attempt)
            while True:
                now = self._clock()
                budget = self._core.op_budget(now) if deadline is None else max(0.0, deadline - now)
                try:
                    result = await asyncio.wait_for(self._perform(op), budget)
                except asyncio.TimeoutError:
                    logger.info("leader election %s: abandoned a %s of %s at the deadline",
                                self._label(), type(op).__name__.lower(), self._core.describe)
                    attempt.close()
                    return False
                with self._mutex:
                    op = attempt.send(result)
        except StopIteration as finished:
            return bool(finished.value)

    async def _lead(self) -> None:
        try:
            await self._callbacks.on_started_leading()
        except asyncio.CancelledError:
            raise
        except Exception:
            self._callback_failed("on_started_leading")

    async def _stopped(self) -> None:
        try:
            result = self._callbacks.on_stopped_leading()
            if inspect.isawaitable(result):
                await result
        except Exception:
            self._callback_failed("on_stopped_leading")

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Stand for the lock, lead until leadership is lost, ``stop`` is set or the task is
        cancelled, then return (re-raising a cancellation)."""
        core = self._core
        while True:
            if stop is not None and stop.is_set():
                return
            acquired = await self._drive(core.attempt(self._clock(), self._wall()))
            self._report_new_leader()
            if acquired:
                break
            if await self._sleep(core.acquire_wait(self._clock(), self._random.random), stop):
                return
        self._log_acquired()
        work = asyncio.get_running_loop().create_task(self._lead())
        cancelled: asyncio.CancelledError | None = None
        stopped = False
        try:
            while True:
                if await self._sleep(core.renew_wait(self._clock()), stop):
                    stopped = True
                    break
                if not self.is_leader():
                    break
                await self._drive(core.attempt(self._clock(), self._wall()))
                self._report_new_leader()
                if not self.is_leader():
                    break
        except asyncio.CancelledError as exc:
            cancelled = exc
            stopped = True
        with self._mutex:
            core.step_down()
        if not stopped:
            self._log_lost()
        work.cancel()
        done, _ = await asyncio.wait({work}, timeout=self.timings.renew_deadline)
        if not done:
            logger.warning("leader election %s: on_started_leading did not end within %.3gs "
                           "of its cancellation", self._label(), self.timings.renew_deadline)
        if stopped and self.release_on_cancel:
            if not done:
                logger.warning("leader election %s: not releasing %s while the work still runs",
                               self._label(), core.describe)
            else:
                await self._drive(core.release(self._wall()),
                                  self._clock() + self.timings.renew_deadline)
                self._report_new_leader()
        await self._stopped()
        if cancelled is not None:
            raise cancelled
