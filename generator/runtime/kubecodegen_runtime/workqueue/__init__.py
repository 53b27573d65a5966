"""Work queues for controllers, with client-go ``util/workqueue``'s guarantees.

* an item is never handed to two workers at once;
* adding an item that is being processed marks it dirty: it is queued again, once, when
  its worker calls ``done``;
* adding an item that is already waiting does nothing (duplicates collapse); otherwise
  items come out in the order they were added;
* after ``shutdown`` adds are ignored and getters get what is still queued, then
  :class:`QueueShutDown`; ``shutdown_with_drain`` also waits for the items in flight.

Modules, one job each:

* :mod:`.core` -- the pure state machine (its docstring is the specification);
* :mod:`.queue` -- thread shells: :class:`Queue`, :class:`DelayingQueue`,
  :class:`RateLimitingQueue`;
* :mod:`.aio` -- asyncio shells: :class:`AsyncQueue`, :class:`AsyncDelayingQueue`,
  :class:`AsyncRateLimitingQueue`;
* :mod:`.limiters` -- the rate limiters ``add_rate_limited`` asks;
* :mod:`.metrics` -- the metrics hooks, :class:`NoopMetrics`, :class:`CountingMetrics`.
"""

from __future__ import annotations

from .aio import AsyncDelayingQueue, AsyncQueue, AsyncRateLimitingQueue
from .core import DelayingCore, QueueCore, QueueShutDown
from .limiters import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    ItemFastSlowRateLimiter,
    MaxOfRateLimiter,
    RateLimitedAdds,
    RateLimiter,
    WithMaxWaitRateLimiter,
    default_controller_rate_limiter,
)
from .metrics import CountingMetrics, MetricsProvider, NoopMetrics, QueueStats, UnfinishedWork
from .queue import DelayingQueue, Queue, RateLimitingQueue

__all__ = [
    "AsyncDelayingQueue",
    "AsyncQueue",
    "AsyncRateLimitingQueue",
    "BucketRateLimiter",
    "CountingMetrics",
    "DelayingCore",
    "DelayingQueue",
    "ItemExponentialFailureRateLimiter",
    "ItemFastSlowRateLimiter",
    "MaxOfRateLimiter",
    "MetricsProvider",
    "NoopMetrics",
    "Queue",
    "QueueCore",
    "QueueShutDown",
    "QueueStats",
    "RateLimitedAdds",
    "RateLimiter",
    "RateLimitingQueue",
    "UnfinishedWork",
    "WithMaxWaitRateLimiter",
    "default_controller_rate_limiter",
]
