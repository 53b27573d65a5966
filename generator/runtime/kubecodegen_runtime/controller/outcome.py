"""Outcome -> queue action: what the work queue does with a key after its reconcile.

The rules are controller-runtime's (``reconcileHandler``), checked in this order:

====================================  ==========================================  ==================
the reconcile ...                     the queue                                   counted as
====================================  ==========================================  ==================
raised :class:`~.types.TerminalError`  nothing: no retry (the failure count stays)  ``terminal_error``
raised anything else                  ``add_rate_limited(key)``: retry, backed off ``error``
returned a non-Result, non-None       same as an error (a :class:`TypeError`)      ``error``
``Result(requeue_after=t)``, t > 0    ``forget(key)`` then ``add_after(key, t)``   ``requeue_after``
``Result(requeue=True)``              ``add_rate_limited(key)``                    ``requeue``
``None`` or ``Result()``              ``forget(key)``                              ``success``
====================================  ==========================================  ==================

In every case the worker then calls ``queue.done(key)``; the queue re-queues the key once
if it was added again while being reconciled. ``forget`` resets the key's per-item
backoff, so the next failure starts again at the base delay.

:class:`ControllerStats` counts the outcomes (controller-runtime's ``reconcile_total``
by ``result``, ``reconcile_errors_total``, ``terminal_reconcile_errors_total``), mapper
failures, reconcile time and busy workers. It is shared by a controller's workers and
informer handlers, hence its one lock; nothing in here waits for anything else.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol, TypeVar

from .types import Result, TerminalError

K_contra = TypeVar("K_contra", bound=Hashable, contravariant=True)


class Outcome(str, Enum):
    """How one reconcile ended (the ``result`` label of controller-runtime's metrics)."""

    SUCCESS = "success"
    REQUEUE = "requeue"
    REQUEUE_AFTER = "requeue_after"
    ERROR = "error"
    TERMINAL_ERROR = "terminal_error"


@dataclass(frozen=True, slots=True)
class QueueAction:
    """What to do with the key: ``forget`` it, then re-add it after ``after`` seconds or
    ``rate_limited`` (at most one of the two), or neither."""

    outcome: Outcome
    forget: bool = False
    rate_limited: bool = False
    after: float | None = None
    error: BaseException | None = None


def decide(result: object, error: BaseException | None = None) -> QueueAction:
    """The queue action for a reconcile that returned ``result`` or raised ``error``."""
    if error is None and result is not None and not isinstance(result, Result):
        error = TypeError(
            f"reconcile returned {type(result).__name__}; expected Result or None")
    if isinstance(error, TerminalError):
        return QueueAction(Outcome.TERMINAL_ERROR, error=error)
    if error is not None:
        return QueueAction(Outcome.ERROR, rate_limited=True, error=error)
    if isinstance(result, Result):
        if result.requeue_after is not None and result.requeue_after > 0:
            return QueueAction(Outcome.REQUEUE_AFTER, forget=True, after=result.requeue_after)
        if result.requeue:
            return QueueAction(Outcome.REQUEUE, rate_limited=True)
    return QueueAction(Outcome.SUCCESS, forget=True)


class ActionQueue(Protocol[K_contra]):
    """The queue methods an action uses; plain calls on both queue shells."""

    def forget(self, item: K_contra) -> None: ...

    def add_after(self, item: K_contra, delay: float) -> None: ...

    def add_rate_limited(self, item: K_contra) -> None: ...


def apply(action: QueueAction, queue: ActionQueue[K_contra], key: K_contra) -> None:
    """Carry out ``action`` for ``key`` (not ``done``: the worker calls that last)."""
    if action.forget:
        queue.forget(key)
    if action.after is not None:
        queue.add_after(key, action.after)
    elif action.rate_limited:
        queue.add_rate_limited(key)


class ControllerStats:
    """Counters of one controller; read them with :meth:`snapshot` or the attributes."""

    def __init__(self, workers: int = 0) -> None:
        self._lock = threading.Lock()
        self.totals: dict[Outcome, int] = dict.fromkeys(Outcome, 0)
        self.mapping_errors = 0
        self.reconcile_seconds = 0.0
        self.active_workers = 0
        self.max_workers = workers

    @property
    def reconciles(self) -> int:
        return sum(self.totals.values())

    @property
    def errors(self) -> int:
        """Failed reconciles, terminal ones included (``reconcile_errors_total``)."""
        return self.totals[Outcome.ERROR] + self.totals[Outcome.TERMINAL_ERROR]

    def started(self) -> None:
        with self._lock:
            self.active_workers += 1

    def finished(self, outcome: Outcome, seconds: float) -> None:
        with self._lock:
            self.active_workers -= 1
            self.totals[outcome] += 1
            self.reconcile_seconds += max(0.0, seconds)

    def abandoned(self) -> None:
        """A reconcile ended without an outcome (cancelled, or a BaseException)."""
        with self._lock:
            self.active_workers -= 1

    def mapping_failed(self) -> None:
        with self._lock:
            self.mapping_errors += 1

    def snapshot(self) -> dict[str, float]:
        """Every counter by name (outcomes by their metric label)."""
        with self._lock:
            out: dict[str, float] = {o.value: n for o, n in self.totals.items()}
            out.update(mapping_errors=self.mapping_errors,
                       reconcile_seconds=self.reconcile_seconds,
                       active_workers=self.active_workers, max_workers=self.max_workers)
        return out
