"""Backoff iterators: bounds of the jittered sequence, reset, reset after a quiet period."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubecodegen_runtime.backoff import ExponentialBackoff, ResetTimerBackoff, default_backoff


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def ceilings(initial: float, factor: float, cap: float, n: int) -> list[float]:
    return [min(initial * factor**i, cap) for i in range(n)]


@given(seed=st.integers(0, 2**32), jitter=st.floats(0, 1))
def test_each_delay_lies_within_its_jitter_band(seed: int, jitter: float) -> None:
    backoff = ExponentialBackoff(0.8, 30.0, 2.0, jitter, rng=random.Random(seed))
    delays = list(itertools.islice(backoff, 12))
    for delay, ceiling in zip(delays, ceilings(0.8, 2.0, 30.0, 12), strict=True):
        assert ceiling * (1 - jitter) <= delay <= ceiling


def test_default_sequence_grows_to_the_cap_and_stays_there() -> None:
    backoff = ExponentialBackoff(rng=random.Random(7))
    delays = list(itertools.islice(backoff, 40))
    assert 0.4 <= delays[0] <= 0.8
    assert max(delays) <= 30.0
    # from the 7th delay on the ceiling is the cap: delays are spread over [15, 30]
    tail = delays[6:]
    assert all(15.0 <= d <= 30.0 for d in tail)
    assert len(set(tail)) == len(tail), "jitter must spread delays at the cap"


def test_same_seed_same_sequence_and_no_jitter_is_exact() -> None:
    a = list(itertools.islice(ExponentialBackoff(rng=random.Random(3)), 10))
    b = list(itertools.islice(ExponentialBackoff(rng=random.Random(3)), 10))
    assert a == b
    exact = list(itertools.islice(ExponentialBackoff(1.0, 10.0, 3.0, jitter=0.0), 5))
    assert exact == [1.0, 3.0, 9.0, 10.0, 10.0]


def test_reset_starts_over() -> None:
    backoff = ExponentialBackoff(1.0, 10.0, 2.0, jitter=0.0)
    assert [next(backoff) for _ in range(3)] == [1.0, 2.0, 4.0]
    backoff.reset()
    assert next(backoff) == 1.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"initial": 0}, "need 0 < initial <= max_delay"),
        ({"initial": 5, "max_delay": 1}, "need 0 < initial <= max_delay"),
        ({"factor": 0.5}, "factor must be >= 1"),
        ({"jitter": 1.5}, "jitter must be within"),
    ],
)
def test_rejects_bad_parameters(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ExponentialBackoff(**kwargs)  # type: ignore[arg-type]


def test_reset_timer_resets_only_after_a_quiet_period() -> None:
    clock = FakeClock()
    backoff = ResetTimerBackoff(ExponentialBackoff(1.0, 60.0, 2.0, jitter=0.0),
                                reset_after=120.0, clock=clock)
    assert next(backoff) == 1.0
    clock.now += 1.0 + 50.0  # slept 1 s, then failed again after 50 s of health
    assert next(backoff) == 2.0
    clock.now += 2.0 + 120.0  # exactly the threshold: not yet "more than"
    assert next(backoff) == 4.0
    clock.now += 4.0 + 120.5  # healthy for longer than reset_after
    assert next(backoff) == 1.0


def test_reset_timer_does_not_count_the_sleep_as_healthy_time() -> None:
    clock = FakeClock()
    backoff = ResetTimerBackoff(ExponentialBackoff(100.0, 400.0, 2.0, jitter=0.0),
                                reset_after=120.0, clock=clock)
    assert next(backoff) == 100.0
    clock.now += 200.0  # slept 100 s, then 100 s of health: under the threshold
    assert next(backoff) == 200.0
    backoff.reset()
    assert next(backoff) == 100.0


def test_default_backoff_composition() -> None:
    clock = FakeClock()
    backoff = default_backoff(rng=random.Random(1), clock=clock)
    delays = [next(backoff) for _ in range(10)]
    assert all(0.4 <= d <= 30.0 for d in delays)
    assert delays[-1] >= 15.0
    clock.now += 30.0 + 121.0
    assert next(backoff) <= 0.8
