"""Client-side rate limiting: a token bucket with client-go's defaults (5 QPS, burst 10).

:class:`TokenBucket` is the pure arithmetic with the clock passed in, so tests drive it
with a fake clock. :class:`RateLimiter` and :class:`AsyncRateLimiter` are the shells
that sleep. ``qps <= 0`` disables limiting, as in client-go.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable


class TokenBucket:
    """Holds up to ``burst`` tokens, refilled at ``qps`` per second; starts full.

    :meth:`reserve` always takes a token, letting the balance go negative, and returns
    how long the caller must wait before using it. Reserving first and sleeping after
    keeps waiters in arrival order without any queue.
    """

    def __init__(self, qps: float, burst: int, *, now: float = 0.0) -> None:
        self.qps = float(qps)
        self.burst = max(1, int(burst))
        self._tokens = float(self.burst)
        self._last = now

    @property
    def enabled(self) -> bool:
        return self.qps > 0

    def try_take(self, now: float) -> bool:
        """Take a token at time ``now`` only if one is available (client-go's ``TryAccept``).

        Unlike :meth:`reserve`, a refusal costs nothing: a caller that is refused does not
        push later callers further back.
        """
        if not self.enabled:
            return True
        elapsed = max(0.0, now - self._last)
        self._last = max(self._last, now)
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.qps)
        if self._tokens < 1.0 - 1e-9:  # refills summed in small steps fall short of 1.0
            return False
        self._tokens -= 1.0
        return True

    def reserve(self, now: float) -> float:
        """Take one token at time ``now``; return the seconds to wait (0 if available)."""
        if not self.enabled:
            return 0.0
        elapsed = max(0.0, now - self._last)
        self._last = max(self._last, now)
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.qps)
        self._tokens -= 1.0
        if self._tokens >= 0:
            return 0.0
        return -self._tokens / self.qps


class RateLimiter:
    """Thread-safe blocking shell over :class:`TokenBucket`."""

    def __init__(
        self,
        qps: float = 5.0,
        burst: int = 10,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._bucket = TokenBucket(qps, burst, now=clock())
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait for a token; return the time waited."""
        if not self._bucket.enabled:
            return 0.0  # no limit (qps <= 0): no lock, no clock
        with self._lock:
            delay = self._bucket.reserve(self._clock())
        if delay > 0:
            self._sleep(delay)
        return delay


class AsyncRateLimiter:
    """Event-loop shell over :class:`TokenBucket` (reserve is atomic between awaits)."""

    def __init__(
        self,
        qps: float = 5.0,
        burst: int = 10,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._bucket = TokenBucket(qps, burst, now=clock())

    async def acquire(self) -> float:
        delay = self._bucket.reserve(self._clock())
        if delay > 0:
            await asyncio.sleep(delay)
        return delay
