"""When to retry a request, and how long to wait first: a pure policy.

Rules (after client-go's ``rest/with_retry.go`` and ``checkWait``, tightened where
client-go relies on its own defaults):

1. **The server asked** -- a 429 or 5xx carrying ``Retry-After``: retried for *any*
   verb, as client-go does. API Priority and Fairness rejects with 429 + Retry-After
   before running the request, and the apiserver only sends Retry-After when a repeat
   is safe.
2. **Idempotent reads** (GET, HEAD) also retry 429, 500, 502, 503 and 504 without a
   Retry-After, and connection failures of any kind (reset, EOF, read timeout).
3. **Connect failures** (nothing was sent) are retried for every verb.
4. **A request that ran out of its total deadline** is not retried: the deadline is the
   time budget of the call (client-go's ``Timeout``), and repeating it would multiply it.
5. Anything else -- a POST/PUT/PATCH/DELETE whose outcome is unknown -- is not retried:
   repeating a non-idempotent write could apply it twice.

Waits are ``Retry-After`` when given (capped at ``max_delay``), else exponential
backoff ``base_delay * 2**(attempt-1)`` capped at ``max_delay``, with +-``jitter``
proportional randomisation. ``max_attempts`` bounds the tries (first one included) and
``max_total`` the summed waiting time.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from .errors import DeadlineExceeded, TransportError

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class Failure(Enum):
    """What kind of transport failure happened, for retry purposes."""

    CONNECT = "connect"  # the request never left: safe to repeat for any verb
    OTHER = "other"  # sent, outcome unknown: only idempotent verbs repeat
    DEADLINE = "deadline"  # the total time budget is spent: never repeated


@dataclass(frozen=True)
class RetryPolicy:
    """The retry decision; ``max_attempts=1`` turns retries off."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_total: float = 60.0
    jitter: float = 0.2
    random: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def backoff(self, attempt: int) -> float:
        """The jittered exponential wait after failed attempt number ``attempt`` (1-based)."""
        delay = min(self.max_delay, self.base_delay * (2.0 ** max(0, attempt - 1)))
        spread = delay * self.jitter
        return max(0.0, delay - spread + 2 * spread * self.random())

    def delay(
        self,
        *,
        attempt: int,
        method: str,
        waited: float = 0.0,
        status: int | None = None,
        retry_after: float | None = None,
        failure: Failure | None = None,
    ) -> float | None:
        """Seconds to wait before the next attempt, or ``None`` to give up.

        ``attempt`` is the number of the attempt that just failed (1 for the first);
        ``waited`` is the time already spent waiting between attempts.
        """
        if attempt >= self.max_attempts:
            return None
        method = method.upper()
        idempotent = method in IDEMPOTENT_METHODS
        wait: float
        if failure is Failure.DEADLINE:
            return None
        if failure is not None:
            if failure is Failure.CONNECT or idempotent:
                wait = self.backoff(attempt)
            else:
                return None
        elif status is None:
            return None
        elif retry_after is not None and (status == 429 or status >= 500):
            wait = min(self.max_delay, max(0.0, retry_after))
        elif idempotent and status in RETRYABLE_STATUS:
            wait = self.backoff(attempt)
        else:
            return None
        if waited + wait > self.max_total:
            return None
        return wait


def failure_kind(error: TransportError) -> Failure:
    """How a transport failure counts for retries: never sent, out of time, or other."""
    if isinstance(error, DeadlineExceeded):
        return Failure.DEADLINE
    return Failure.OTHER if error.sent else Failure.CONNECT


#: A policy that never retries.
NO_RETRY = RetryPolicy(max_attempts=1)
