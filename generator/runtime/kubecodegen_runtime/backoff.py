"""Retry pacing: backoffs are iterators of delays (seconds) with a ``reset()``.

A backoff knows nothing about what failed; the caller asks for the next delay after each
failure and sleeps it (``time.sleep`` in the thread driver, ``asyncio.sleep`` in the async
one). Two pieces compose:

* :class:`ExponentialBackoff` -- the n-th delay is drawn uniformly from
  ``[d·(1 - jitter), d]`` with ``d = min(initial · factor**n, max_delay)``. ``max_delay`` is a
  hard ceiling, and the jitter spreads the retries of many clients that lost the same API
  server at the same moment. Defaults: 0.8 s doubling to 30 s, jitter 0.5 -- so the first
  retry waits 0.4–0.8 s and retries at the cap wait 15–30 s.
* :class:`ResetTimerBackoff` -- resets the wrapped backoff when the previous delay ended
  more than ``reset_after`` seconds ago (default 120 s, as client-go's reflector): a watch
  that ran healthily for minutes and then failed starts again from the short delays, while
  a connection that fails every few seconds keeps climbing to the cap.

:func:`default_backoff` builds the combination the informers use.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import Protocol

Clock = Callable[[], float]


class Backoff(Protocol):
    """An endless iterator of delays in seconds that can start over."""

    def __iter__(self) -> Iterator[float]: ...

    def __next__(self) -> float: ...

    def reset(self) -> None:
        """Start over from the shortest delay."""
        ...


class ExponentialBackoff:
    """Jittered exponential delays: ``initial`` growing by ``factor`` up to ``max_delay``."""

    def __init__(
        self,
        initial: float = 0.8,
        max_delay: float = 30.0,
        factor: float = 2.0,
        jitter: float = 0.5,
        rng: random.Random | None = None,
    ) -> None:
        if initial <= 0 or max_delay < initial:
            raise ValueError(f"need 0 < initial <= max_delay, got {initial} and {max_delay}")
        if factor < 1:
            raise ValueError(f"factor must be >= 1, got {factor}")
        if not 0 <= jitter <= 1:
            raise ValueError(f"jitter must be within [0, 1], got {jitter}")
        self.initial = initial
        self.max_delay = max_delay
        self.factor = factor
        self.jitter = jitter
        self._rng = rng if rng is not None else random.Random()
        self._ceiling = initial

    def __iter__(self) -> ExponentialBackoff:
        return self

    def __next__(self) -> float:
        ceiling = self._ceiling
        self._ceiling = min(ceiling * self.factor, self.max_delay)
        return ceiling * (1.0 - self.jitter * self._rng.random())

    def reset(self) -> None:
        self._ceiling = self.initial


class ResetTimerBackoff:
    """Wraps a backoff and resets it after ``reset_after`` seconds without a failure.

    The quiet period is measured from the end of the previous delay (when the retry it
    paced was made), so the sleep itself never counts as healthy time.
    """

    def __init__(self, inner: Backoff, reset_after: float = 120.0,
                 clock: Clock = time.monotonic) -> None:
        self._inner = inner
        self.reset_after = reset_after
        self._clock = clock
        self._retry_at: float | None = None

    def __iter__(self) -> ResetTimerBackoff:
        return self

    def __next__(self) -> float:
        now = self._clock()
        if self._retry_at is not None and now - self._retry_at > self.reset_after:
            self._inner.reset()
        delay = next(self._inner)
        self._retry_at = now + delay
        return delay

    def reset(self) -> None:
        self._inner.reset()
        self._retry_at = None


def default_backoff(rng: random.Random | None = None,
                    clock: Clock = time.monotonic) -> ResetTimerBackoff:
    """0.8 s → 30 s jittered exponential backoff that resets after 120 s without failures."""
    return ResetTimerBackoff(ExponentialBackoff(rng=rng), reset_after=120.0, clock=clock)
