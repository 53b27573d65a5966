"""Workqueue metrics: the hooks a queue calls, a no-op default and an in-memory provider.

client-go's ``util/workqueue`` reports seven series per named queue; the hooks here are
the same series as plain callbacks, so any metrics library (prometheus_client, OpenTelemetry,
statsd) can be attached with a few lines and the runtime depends on none of them:

* ``queue_depth(name, depth)`` -- items waiting to be handed out: those queued plus those
  marked dirty while being processed (they will be queued again at ``done``). client-go's
  ``depth`` gauge counts exactly these (``+1`` per new dirty item, ``-1`` per ``get``);
  the hook reports the new value after each change instead of the increments.
* ``added(name)`` -- one per add that marked an item dirty (duplicates that collapse do
  not count), client-go's ``adds`` counter.
* ``queue_latency(name, seconds)`` -- from the first add that made the item dirty to the
  ``get`` that handed it out (``queue_duration_seconds``).
* ``work_duration(name, seconds)`` -- from ``get`` to ``done`` (``work_duration_seconds``).
* ``retried(name)`` -- one per ``add_after`` of a delaying queue, which
  ``add_rate_limited`` goes through (``retries``; client-go counts every ``AddAfter``).

client-go's two remaining gauges, ``unfinished_work_seconds`` (total age of the items
being processed) and ``longest_running_processor_seconds``, are state rather than
events: a queue computes them on demand with ``unfinished_work()`` (an
:class:`UnfinishedWork`), so an exporter polls them at scrape time instead of a ticker
thread updating them every 500 ms as client-go does.

A queue given a provider calls it whatever its name, ``""`` included (client-go skips
unnamed queues because its provider is process-global; here it is passed per queue).
Hooks are called with the queue's lock held (the order of the calls is the order of the
operations) and must be quick and must not call back into the queue. A hook that raises
is logged (logger ``kubecodegen_runtime.workqueue``) and counted in the queue's
``metrics_errors``; the queue operation itself always completes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import NamedTuple, Protocol


class MetricsProvider(Protocol):
    """Callbacks for one or more queues, told apart by the queue's ``name``."""

    def queue_depth(self, name: str, depth: int) -> None: ...

    def added(self, name: str) -> None: ...

    def queue_latency(self, name: str, seconds: float) -> None: ...

    def work_duration(self, name: str, seconds: float) -> None: ...

    def retried(self, name: str) -> None: ...


class UnfinishedWork(NamedTuple):
    """How long the items being processed right now have been at it (seconds)."""

    unfinished_work_seconds: float  # sum over the items being processed
    longest_running_processor_seconds: float  # the oldest of them; 0 when none


class NoopMetrics:
    """The default provider: records nothing."""

    def queue_depth(self, name: str, depth: int) -> None:
        pass

    def added(self, name: str) -> None:
        pass

    def queue_latency(self, name: str, seconds: float) -> None:
        pass

    def work_duration(self, name: str, seconds: float) -> None:
        pass

    def retried(self, name: str) -> None:
        pass


@dataclass
class QueueStats:
    """What :class:`CountingMetrics` saw for one queue name.

    Durations are kept as count / sum / max rather than every observation, so a
    long-running process does not accumulate memory.
    """

    depth: int = 0
    adds: int = 0
    retries: int = 0
    latency_count: int = 0
    latency_sum: float = 0.0
    latency_max: float = 0.0
    work_count: int = 0
    work_sum: float = 0.0
    work_max: float = 0.0


class CountingMetrics:
    """An in-memory provider: counters and duration summaries per queue name.

    Safe to share between queues and threads (it has its own lock). Read it with
    :meth:`stats` (a copy) or :meth:`names`.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stats: dict[str, QueueStats] = {}

    def _of(self, name: str) -> QueueStats:
        stats = self._stats.get(name)
        if stats is None:
            stats = self._stats[name] = QueueStats()
        return stats

    def stats(self, name: str = "") -> QueueStats:
        """A snapshot of what queue ``name`` reported (all zero if nothing yet)."""
        with self._lock:
            return replace(self._stats.get(name) or QueueStats())

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._stats)

    def queue_depth(self, name: str, depth: int) -> None:
        with self._lock:
            self._of(name).depth = depth

    def added(self, name: str) -> None:
        with self._lock:
            self._of(name).adds += 1

    def queue_latency(self, name: str, seconds: float) -> None:
        with self._lock:
            stats = self._of(name)
            stats.latency_count += 1
            stats.latency_sum += seconds
            stats.latency_max = max(stats.latency_max, seconds)

    def work_duration(self, name: str, seconds: float) -> None:
        with self._lock:
            stats = self._of(name)
            stats.work_count += 1
            stats.work_sum += seconds
            stats.work_max = max(stats.work_max, seconds)

    def retried(self, name: str) -> None:
        with self._lock:
            self._of(name).retries += 1
