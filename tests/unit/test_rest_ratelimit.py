"""Token bucket arithmetic with a fake clock, and the blocking shell."""

from __future__ import annotations

import pytest

from kubecodegen_runtime.ratelimit import AsyncRateLimiter, RateLimiter, TokenBucket


def test_burst_is_free_then_paced_at_qps() -> None:
    bucket = TokenBucket(5, 10, now=0.0)
    waits = [bucket.reserve(0.0) for _ in range(12)]
    assert waits[:10] == [0.0] * 10
    assert waits[10] == pytest.approx(0.2) and waits[11] == pytest.approx(0.4)


def test_tokens_refill_but_never_beyond_burst() -> None:
    bucket = TokenBucket(2, 3, now=0.0)
    for _ in range(3):
        bucket.reserve(0.0)
    assert bucket.reserve(0.5) == pytest.approx(0.0)  # one token refilled
    assert bucket.reserve(0.5) == pytest.approx(0.5)
    bucket2 = TokenBucket(2, 3, now=0.0)
    waits = [bucket2.reserve(1000.0) for _ in range(4)]  # long idle: still only burst 3
    assert waits[:3] == [0.0, 0.0, 0.0] and waits[3] == pytest.approx(0.5)


def test_qps_zero_disables() -> None:
    bucket = TokenBucket(0, 1)
    assert not bucket.enabled
    assert all(bucket.reserve(0.0) == 0.0 for _ in range(100))


def test_clock_going_backwards_does_not_mint_tokens() -> None:
    bucket = TokenBucket(1, 1, now=10.0)
    assert bucket.reserve(10.0) == 0.0
    assert bucket.reserve(5.0) == pytest.approx(1.0)


def test_blocking_shell_sleeps_the_reserved_delay() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(10, 2, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        limiter.acquire()
    assert slept == pytest.approx([0.1, 0.1, 0.1])


async def test_async_shell_paces() -> None:
    now = [0.0]
    limiter = AsyncRateLimiter(1000, 1, clock=lambda: now[0])
    assert await limiter.acquire() == 0.0
    assert await limiter.acquire() == pytest.approx(0.001)
