"""Rate limiters for ``add_rate_limited``: how long an item waits before it is re-added.

client-go's ``default_rate_limiters.go``, as plain objects shared by the thread and asyncio
queues (they never wait themselves; the queue's ``add_after`` does):

* :class:`ItemExponentialFailureRateLimiter` -- per item, ``base_delay * 2**failures``
  (failures counted before this call), capped at ``max_delay``; a count so high that the
  power overflows gives ``max_delay``.
* :class:`ItemFastSlowRateLimiter` -- per item, ``fast_delay`` for the first
  ``max_fast_attempts`` calls, ``slow_delay`` after.
* :class:`BucketRateLimiter` -- one token bucket for all items (the runtime's
  :class:`~..ratelimit.TokenBucket`): the delay of the reservation, so a burst of failures
  is spread at ``qps``. It keeps no per-item state (``num_requeues`` is 0).
* :class:`MaxOfRateLimiter` -- the longest delay of several; ``forget`` forgets in all,
  ``num_requeues`` is the highest.
* :class:`WithMaxWaitRateLimiter` -- another limiter's delay, capped.
* :func:`default_controller_rate_limiter` -- client-go's
  ``DefaultTypedControllerRateLimiter``: max of exponential 5 ms .. 1000 s and a bucket of
  10 qps, burst 100.

``when`` counts a failure (it is called once per ``add_rate_limited``); ``forget`` ends the
item's tracking, to call when it was processed successfully: without it, counts of
items that failed once stay for the life of the limiter. Each limiter has a lock, so one
can be shared between queues and threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, Generic, Protocol, TypeVar

from ..ratelimit import TokenBucket

T = TypeVar("T", bound=Hashable)
T_contra = TypeVar("T_contra", bound=Hashable, contravariant=True)


class RateLimiter(Protocol[T_contra]):
    def when(self, item: T_contra) -> float:
        """Seconds to wait before re-adding ``item`` (counts one failure)."""
        ...

    def forget(self, item: T_contra) -> None:
        """Stop tracking ``item`` (it succeeded, or is given up)."""
        ...

    def num_requeues(self, item: T_contra) -> int:
        """How many failures ``item`` has had since it was last forgotten."""
        ...


class _PerItem(Generic[T]):
    """Failure counts per item, under a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[T, int] = {}

    def _count(self, item: T) -> int:
        """Record one more failure; return the count before it."""
        with self._lock:
            before = self._failures.get(item, 0)
            self._failures[item] = before + 1
            return before

    def forget(self, item: T) -> None:
        with self._lock:
            self._failures.pop(item, None)

    def num_requeues(self, item: T) -> int:
        with self._lock:
            return self._failures.get(item, 0)


class ItemExponentialFailureRateLimiter(_PerItem[T]):
    """``base_delay * 2**n`` for the item's n-th failure (from 0), at most ``max_delay``."""

    def __init__(self, base_delay: float = 0.005, max_delay: float = 1000.0) -> None:
        if base_delay < 0 or max_delay < 0:
            raise ValueError(f"delays must be >= 0, got {base_delay} and {max_delay}")
        super().__init__()
        self.base_delay = float(base_delay)
        self.max_delay = float(max_delay)

    def when(self, item: T) -> float:
        exp = self._count(item)
        if self.base_delay == 0:
            return 0.0
        try:
            backoff = self.base_delay * 2.0**exp
        except OverflowError:  # 2.0**exp beyond float range: far past any cap
            return self.max_delay
        return min(backoff, self.max_delay)


class ItemFastSlowRateLimiter(_PerItem[T]):
    """``fast_delay`` for an item's first ``max_fast_attempts`` failures, then ``slow_delay``."""

    def __init__(self, fast_delay: float, slow_delay: float, max_fast_attempts: int) -> None:
        super().__init__()
        self.fast_delay = float(fast_delay)
        self.slow_delay = float(slow_delay)
        self.max_fast_attempts = int(max_fast_attempts)

    def when(self, item: T) -> float:
        attempt = self._count(item) + 1
        return self.fast_delay if attempt <= self.max_fast_attempts else self.slow_delay


class BucketRateLimiter(Generic[T]):
    """One token bucket (``qps``, ``burst``, starts full) for every item."""

    def __init__(
        self, qps: float = 10.0, burst: int = 100, clock: Callable[[], float] | None = None
    ) -> None:
        self._clock = clock if clock is not None else time.monotonic
        self._lock = threading.Lock()
        self._bucket = TokenBucket(qps, burst, now=self._clock())

    @property
    def qps(self) -> float:
        return self._bucket.qps

    @property
    def burst(self) -> int:
        return self._bucket.burst

    def when(self, item: T) -> float:
        with self._lock:
            return self._bucket.reserve(self._clock())

    def forget(self, item: T) -> None:
        pass

    def num_requeues(self, item: T) -> int:
        return 0


class MaxOfRateLimiter(Generic[T]):
    """The worst case of several limiters (each one's ``when`` is called every time).

    As client-go notes, with a bucket among them the burst can appear exceeded: items that
    another limiter delayed longer do not use their bucket slot at the time it was reserved.
    """

    def __init__(self, *limiters: RateLimiter[T]) -> None:
        if not limiters:
            raise ValueError("MaxOfRateLimiter needs at least one limiter")
        self.limiters: tuple[RateLimiter[T], ...] = limiters

    def when(self, item: T) -> float:
        return max(limiter.when(item) for limiter in self.limiters)

    def forget(self, item: T) -> None:
        for limiter in self.limiters:
            limiter.forget(item)

    def num_requeues(self, item: T) -> int:
        return max(limiter.num_requeues(item) for limiter in self.limiters)


class WithMaxWaitRateLimiter(Generic[T]):
    """Another limiter's delays, never longer than ``max_delay``."""

    def __init__(self, limiter: RateLimiter[T], max_delay: float) -> None:
        self.limiter = limiter
        self.max_delay = float(max_delay)

    def when(self, item: T) -> float:
        return min(self.limiter.when(item), self.max_delay)

    def forget(self, item: T) -> None:
        self.limiter.forget(item)

    def num_requeues(self, item: T) -> int:
        return self.limiter.num_requeues(item)


class RateLimitedAdds(Generic[T]):
    """``add_rate_limited`` / ``forget`` / ``num_requeues`` over a queue's ``add_after``.

    Mixed in after the shell class (thread or asyncio), whose ``add_after`` it uses.
    """

    rate_limiter: RateLimiter[T]

    def add_after(self, item: T, delay: float) -> None:
        raise NotImplementedError

    def add_rate_limited(self, item: T) -> None:
        """Re-add ``item`` after the delay the rate limiter gives it (counts a failure)."""
        self.add_after(item, self.rate_limiter.when(item))

    def forget(self, item: T) -> None:
        """Reset ``item``'s failure count (call after it was processed successfully)."""
        self.rate_limiter.forget(item)

    def num_requeues(self, item: T) -> int:
        return self.rate_limiter.num_requeues(item)


def default_controller_rate_limiter(
    clock: Callable[[], float] | None = None,
) -> MaxOfRateLimiter[Any]:
    """client-go's default: per item 5 ms doubling to 1000 s, overall 10 qps with burst 100."""
    return MaxOfRateLimiter(
        ItemExponentialFailureRateLimiter(0.005, 1000.0),
        BucketRateLimiter(qps=10.0, burst=100, clock=clock),
    )
