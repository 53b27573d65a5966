"""Rate limiters: the exact delays of each, forget, num_requeues, max-of, and the queue's use."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubecodegen_runtime.workqueue import (
    BucketRateLimiter,
    CountingMetrics,
    ItemExponentialFailureRateLimiter,
    ItemFastSlowRateLimiter,
    MaxOfRateLimiter,
    RateLimitingQueue,
    WithMaxWaitRateLimiter,
    default_controller_rate_limiter,
)


class Clock:
    def __init__(self, now: float = 50.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_exponential_doubles_from_base_to_cap() -> None:
    rl: ItemExponentialFailureRateLimiter[str] = ItemExponentialFailureRateLimiter(0.005, 1000.0)
    delays = [rl.when("a") for _ in range(20)]
    expected = [min(0.005 * 2**n, 1000.0) for n in range(20)]
    assert delays == expected
    assert delays[:4] == [0.005, 0.01, 0.02, 0.04]
    assert delays[-1] == 1000.0 and delays[17] == 655.36
    assert rl.num_requeues("a") == 20


def test_exponential_is_per_item_and_forget_resets() -> None:
    rl: ItemExponentialFailureRateLimiter[str] = ItemExponentialFailureRateLimiter(1.0, 60.0)
    assert [rl.when("a"), rl.when("a"), rl.when("b"), rl.when("a")] == [1.0, 2.0, 1.0, 4.0]
    assert (rl.num_requeues("a"), rl.num_requeues("b"), rl.num_requeues("c")) == (3, 1, 0)
    rl.forget("a")
    assert rl.num_requeues("a") == 0
    assert rl.when("a") == 1.0
    assert rl.when("b") == 2.0  # untouched by forgetting "a"
    rl.forget("never-seen")  # no error


def test_exponential_never_overflows() -> None:
    rl: ItemExponentialFailureRateLimiter[str] = ItemExponentialFailureRateLimiter(0.005, 1000.0)
    for _ in range(1100):  # 2.0**1024 overflows a float
        delay = rl.when("a")
    assert delay == 1000.0
    assert rl.num_requeues("a") == 1100
    huge: ItemExponentialFailureRateLimiter[str] = ItemExponentialFailureRateLimiter(1.0, 1e308)
    for _ in range(1030):
        last = huge.when("a")
    assert last == 1e308


def test_exponential_validates() -> None:
    with pytest.raises(ValueError):
        ItemExponentialFailureRateLimiter(-1.0, 1.0)
    zero: ItemExponentialFailureRateLimiter[str] = ItemExponentialFailureRateLimiter(0.0, 1.0)
    assert [zero.when("a") for _ in range(3)] == [0.0, 0.0, 0.0]


@given(
    base=st.floats(min_value=1e-6, max_value=10.0),
    cap=st.floats(min_value=1e-6, max_value=1e6),
    n=st.integers(min_value=1, max_value=1200),
)
def test_exponential_is_monotonic_and_capped(base: float, cap: float, n: int) -> None:
    rl: ItemExponentialFailureRateLimiter[int] = ItemExponentialFailureRateLimiter(base, cap)
    delays = [rl.when(0) for _ in range(n)]
    assert delays[0] == min(base, cap)
    assert all(d <= cap for d in delays)
    assert all(a <= b for a, b in itertools.pairwise(delays))


def test_fast_slow() -> None:
    rl: ItemFastSlowRateLimiter[str] = ItemFastSlowRateLimiter(0.1, 30.0, 3)
    assert [rl.when("a") for _ in range(5)] == [0.1, 0.1, 0.1, 30.0, 30.0]
    assert rl.when("b") == 0.1
    assert rl.num_requeues("a") == 5
    rl.forget("a")
    assert rl.num_requeues("a") == 0
    assert rl.when("a") == 0.1


def test_bucket_burst_then_qps() -> None:
    clock = Clock()
    rl: BucketRateLimiter[str] = BucketRateLimiter(qps=10.0, burst=100, clock=clock)
    assert [rl.when(str(i)) for i in range(100)] == [0.0] * 100  # starts full
    assert rl.when("x") == pytest.approx(0.1)
    assert rl.when("x") == pytest.approx(0.2)  # reservations queue up
    clock.now += 1.0  # ten tokens back: the balance goes from -2 to 8
    assert [rl.when("y") for _ in range(8)] == [0.0] * 8
    assert rl.when("y") == pytest.approx(0.1)
    assert rl.num_requeues("x") == 0
    rl.forget("x")  # nothing to forget: the bucket is shared
    assert rl.when("z") == pytest.approx(0.2)
    assert (rl.qps, rl.burst) == (10.0, 100)


def test_max_of_takes_the_worst_and_forgets_in_all() -> None:
    clock = Clock()
    exp: ItemExponentialFailureRateLimiter[str] = ItemExponentialFailureRateLimiter(1.0, 100.0)
    fast: ItemFastSlowRateLimiter[str] = ItemFastSlowRateLimiter(5.0, 0.5, 1)
    bucket: BucketRateLimiter[str] = BucketRateLimiter(qps=1.0, burst=1, clock=clock)
    rl = MaxOfRateLimiter(exp, fast, bucket)
    assert rl.when("a") == 5.0  # exp 1, fast 5, bucket 0
    assert rl.when("a") == 2.0  # exp 2, slow 0.5, bucket 1
    assert rl.when("a") == 4.0  # exp 4, bucket 2
    assert rl.num_requeues("a") == 3
    rl.forget("a")
    assert exp.num_requeues("a") == 0 and fast.num_requeues("a") == 0
    assert rl.when("a") == 5.0
    with pytest.raises(ValueError):
        MaxOfRateLimiter()


def test_with_max_wait() -> None:
    inner: ItemExponentialFailureRateLimiter[str] = ItemExponentialFailureRateLimiter(1.0, 100.0)
    rl = WithMaxWaitRateLimiter(inner, 3.0)
    assert [rl.when("a") for _ in range(4)] == [1.0, 2.0, 3.0, 3.0]
    assert rl.num_requeues("a") == 4
    rl.forget("a")
    assert inner.num_requeues("a") == 0


def test_default_controller_rate_limiter() -> None:
    clock = Clock()
    rl = default_controller_rate_limiter(clock=clock)
    # per item 5 ms doubling while the bucket (10 qps, burst 100) has tokens
    assert [rl.when("a") for _ in range(4)] == [0.005, 0.01, 0.02, 0.04]
    for i in range(96):
        assert rl.when(i) == 0.005
    # the bucket is empty now: its delay beats a first failure's 5 ms
    assert rl.when("new") == pytest.approx(0.1)
    assert rl.when("a") == pytest.approx(0.2)  # exp says 0.08, the bucket 0.2
    clock.now += 1000.0
    for _ in range(20):
        rl.when("a")
    assert rl.when("a") == 1000.0  # the per-item cap
    rl.forget("a")
    assert rl.num_requeues("a") == 0


class Fixed:
    """A limiter with scripted delays, to see what the queue does with them."""

    def __init__(self, *delays: float) -> None:
        self.delays = list(delays)
        self.forgotten: list[str] = []
        self.asked: list[str] = []

    def when(self, item: str) -> float:
        self.asked.append(item)
        return self.delays.pop(0)

    def forget(self, item: str) -> None:
        self.forgotten.append(item)

    def num_requeues(self, item: str) -> int:
        return len([a for a in self.asked if a == item])


def test_rate_limiting_queue_uses_its_limiter() -> None:
    metrics = CountingMetrics()
    limiter = Fixed(0.0, 3600.0)
    q: RateLimitingQueue[str] = RateLimitingQueue(limiter, name="rl", metrics=metrics)
    q.add_rate_limited("a")  # delay 0: added at once
    assert len(q) == 1 and q.get(timeout=5) == "a"
    q.done("a")
    q.add_rate_limited("b")  # an hour: waits
    assert len(q) == 0 and q.waiting() == 1
    assert q.num_requeues("a") == 1 and q.num_requeues("b") == 1
    q.forget("a")
    assert limiter.forgotten == ["a"]
    assert metrics.stats("rl").retries == 2  # each add_rate_limited is an add_after
    q.shutdown()
    assert q.waiting() == 0


def test_rate_limiting_queue_default_limiter() -> None:
    q: RateLimitingQueue[str] = RateLimitingQueue()
    q.add_rate_limited("a")
    q.add_rate_limited("a")
    assert q.num_requeues("a") == 2
    q.forget("a")
    assert q.num_requeues("a") == 0
    assert q.get(timeout=30) == "a"  # 5 ms and 10 ms deadlines collapsed into one
    q.done("a")
    q.shutdown()
