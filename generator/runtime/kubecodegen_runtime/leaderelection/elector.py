"""The thread shell of the leader elector: it performs the core's lock operations and waits.

``run()`` blocks the calling thread: it stands for the lock (an attempt every jittered
retry period), and once it leads starts ``on_started_leading(stop_event)`` in a thread of
its own and renews every retry period. When leadership ends -- the renew deadline passed,
another holder was observed, or ``stop`` was set -- the event is set, the work thread is
given up to ``renew_deadline`` to return, the lock is released if ``release_on_cancel``
and the leadership was stopped (not lost; and only once the work has returned, so the next
leader never overlaps it), ``on_stopped_leading()`` is called and ``run()`` returns.

Each lock operation runs in a short-lived daemon thread so that the elector itself never
blocks past its deadline: a request that hangs (a dead apiserver behind a live socket,
client retries) is abandoned when the deadline comes and leadership is given up on time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from .core import Attempt, Create, Get, LockOp, OpResult
from .lock import ResourceLock
from .shell import ElectorBase, logger

_POLL = 0.05  # how often a candidate waiting on a lock operation looks at its stop event


@dataclass
class LeaderCallbacks:
    """What a :class:`LeaderElector` calls.

    ``on_started_leading(stop)`` runs in its own thread when we start leading; ``stop`` is
    set when leadership ends, and the work must then stop. ``on_stopped_leading()`` is
    called (in the elector's thread) after every leadership, once the work was told to
    stop. ``on_new_leader(identity)`` is called in the elector's thread on each change of
    the observed holder (``""``: the lock was released); keep it quick.
    """

    on_started_leading: Callable[[threading.Event], None]
    on_stopped_leading: Callable[[], None]
    on_new_leader: Callable[[str], None] | None = None


class LeaderElector(ElectorBase):
    """client-go's ``LeaderElector`` on threads; see the module docstring."""

    def __init__(self, lock: ResourceLock, callbacks: LeaderCallbacks, *,
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
        self._stop = threading.Event()

    def stop(self) -> None:
        """Make a running (or the next) ``run()`` stop as if its ``stop`` event were set."""
        self._stop.set()

    def _stopping(self, stop: threading.Event | None) -> bool:
        return self._stop.is_set() or (stop is not None and stop.is_set())

    def _sleep(self, seconds: float, stop: threading.Event | None) -> bool:
        """Wait ``seconds`` or until stopped; True when stopped."""
        until = self._clock() + seconds
        while not self._stopping(stop):
            left = until - self._clock()
            if left <= 0:
                return False
            (stop or self._stop).wait(min(left, _POLL) if stop is not None else left)
        return True

    # --- lock operations ----------------------------------------------------------------

    def _perform(self, op: LockOp) -> OpResult:
        try:
            if isinstance(op, Get):
                record = self._lock.get()
                return OpResult(self._clock(), record=record)
            if isinstance(op, Create):
                self._lock.create(op.record)
            else:
                self._lock.update(op.record)
            return OpResult(self._clock())
        except Exception as exc:  # a failed operation is a failed attempt, never a crash
            return OpResult(self._clock(), error=exc)

    def _bounded(self, op: LockOp, stop: threading.Event | None,
                 deadline: float | None) -> OpResult | None:
        """Run ``op``; None when abandoned (the deadline passed, or a candidate stopped)."""
        box: list[OpResult] = []
        done = threading.Event()

        def work() -> None:
            box.append(self._perform(op))
            done.set()

        threading.Thread(target=work, name=f"leaderelection-{self._label()}-op",
                         daemon=True).start()
        while not done.is_set():
            now = self._clock()
            if deadline is None:
                with self._mutex:
                    budget = self._core.op_budget(now)
            else:
                budget = max(0.0, deadline - now)
            if budget is not None and budget <= 0:
                logger.info("leader election %s: abandoned a %s of %s at the deadline",
                            self._label(), type(op).__name__.lower(), self._core.describe)
                return None
            if budget is None and self._stopping(stop):
                return None
            done.wait(_POLL if budget is None else min(budget, _POLL))
        return box[0]

    def _drive(self, attempt: Attempt, stop: threading.Event | None,
               deadline: float | None = None) -> bool:
        try:
            with self._mutex:
                op = next(attempt)
            while True:
                result = self._bounded(op, stop, deadline)
                if result is None:
                    attempt.close()
                    return False
                with self._mutex:
                    op = attempt.send(result)
        except StopIteration as finished:
            return bool(finished.value)

    # --- the election ---------------------------------------------------------------------

    def _lead(self, stop: threading.Event) -> None:
        try:
            self._callbacks.on_started_leading(stop)
        except Exception:
            self._callback_failed("on_started_leading")

    def run(self, stop: threading.Event | None = None) -> None:
        """Stand for the lock, lead until leadership is lost or ``stop`` is set, return."""
        core = self._core
        acquired = False
        while not self._stopping(stop):
            acquired = self._drive(core.attempt(self._clock(), self._wall()), stop)
            self._report_new_leader()
            if acquired:
                break
            with self._mutex:
                wait = core.acquire_wait(self._clock(), self._random.random)
            if self._sleep(wait, stop):
                break
        if not acquired:
            return
        self._log_acquired()
        work_stop = threading.Event()
        worker = threading.Thread(target=self._lead, args=(work_stop,),
                                  name=f"leaderelection-{self._label()}-leading", daemon=True)
        worker.start()
        cancelled = False
        while True:
            with self._mutex:
                wait = core.renew_wait(self._clock())
            if self._sleep(wait, stop):
                cancelled = True
                break
            if not self.is_leader():
                break
            self._drive(core.attempt(self._clock(), self._wall()), stop)
            self._report_new_leader()
            if not self.is_leader():
                break
        with self._mutex:
            core.step_down()
        if not cancelled:
            self._log_lost()
        work_stop.set()
        worker.join(self.timings.renew_deadline)
        if worker.is_alive():
            logger.warning("leader election %s: on_started_leading did not return within %.3gs "
                           "of losing the lease", self._label(), self.timings.renew_deadline)
        if cancelled and self.release_on_cancel:
            if worker.is_alive():
                logger.warning("leader election %s: not releasing %s while the work still runs",
                               self._label(), core.describe)
            else:
                self._drive(core.release(self._wall()), None,
                            self._clock() + self.timings.renew_deadline)
                self._report_new_leader()
        try:
            self._callbacks.on_stopped_leading()
        except Exception:
            self._callback_failed("on_stopped_leading")
